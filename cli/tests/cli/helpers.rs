//! What every test here uses

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A scratch folder, removed when dropped
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zorg-pdp-cli-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn zorg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zorg-pdp"))
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs zorg-pdp with `args` and `stdout` (stderr piped), and fails the
/// test when it has not ended within `limit` (it is killed first)
pub(crate) fn zorg_within(args: &[&str], stdout: Stdio, limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zorg-pdp"))
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`zorg-pdp {}` did not end within {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The scenario of SPEC.md §5 (plus the own dossier of `kz-oost` on the
/// dashboard): one `[[expect]]` and one `[[expect_dashboard]]`, with the
/// expectation's `category` and the categories of `vp-noord` as given
pub(crate) fn kraamzorg(category: &str, visible: &str) -> String {
    format!(
        r#"name = "kraamverzorgende sees no lab results"

[[organisations]]
id = "vp-noord"
[[organisations]]
id = "kz-oost"

[[practitioners]]
id = "anna"
organisation = "kz-oost"
role = "kraamverzorgende"

[[patients]]
id = "client-1"

[[events]]
at = "2026-01-10T09:00:00Z"
type = "treatment_started"
patient = "client-1"
organisation = "kz-oost"

[[events]]
at = "2026-01-10T09:00:00Z"
type = "dossier_consent_given"
patient = "client-1"
holder = "vp-noord"

[[events]]
at = "2026-01-11T08:00:00Z"
type = "access_requested"
practitioner = "anna"
patient = "client-1"

[[expect]]
at = "2026-02-01T00:00:00Z"
principal = {{ practitioner = "anna" }}
action = "view"
patient = "client-1"
holder = "vp-noord"
category = "{category}"
decision = "deny"

[[expect_dashboard]]
at = "2026-02-01T00:00:00Z"
principal = {{ practitioner = "anna" }}
patient = "client-1"
[expect_dashboard.visible]
vp-noord = [{visible}]
kz-oost = [{VISIBLE}]
"#
    )
}

/// The visible categories of the scenario's dashboard, as they are
pub(crate) const VISIBLE: &str =
    r#""basis", "zwangerschap", "bevalling", "kraambed", "kind", "medicatie""#;

/// The 1-based line of the first line of `text` that starts with `start`
pub(crate) fn line_of(text: &str, start: &str) -> usize {
    text.lines().position(|l| l.starts_with(start)).unwrap() + 1
}
