//! The command line end to end: `test` (walking folders, vocabulary typos),
//! `test --audit-log`, `audit verify` and `audit overview` (also on a
//! tampered log), and output cut by a closed pipe, run as a user would run
//! them, checked by exit code, output and what they leave behind.

/// What every test here uses
#[cfg(test)]
mod helpers {
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
}

/// `zorg-pdp test DIR`: every scenario file once, whatever links the folder holds
#[cfg(test)]
mod walk {
    use std::fs;
    use std::process::Stdio;
    use std::time::Duration;

    use super::helpers::{TempDir, VISIBLE, kraamzorg, path, stderr, stdout, zorg, zorg_within};

    #[cfg(unix)]
    #[test]
    fn links_back_up_end_the_walk_and_each_file_runs_once() {
        use std::os::unix::fs::symlink;
        let dir = TempDir::new("links");
        let root = dir.0.join("tests");
        fs::create_dir_all(root.join("sub")).unwrap();
        let scenario = kraamzorg("labuitslagen", VISIBLE);
        fs::write(root.join("kraam.toml"), &scenario).unwrap();
        fs::write(root.join("sub/kraam-too.toml"), &scenario).unwrap();
        // Two links to the folder itself, one to its parent, one to a file
        symlink(".", root.join("self-a")).unwrap();
        symlink(&root, root.join("self-b")).unwrap();
        symlink("..", root.join("sub/up")).unwrap();
        symlink("kraam.toml", root.join("again.toml")).unwrap();

        let out = zorg_within(
            &["test", path(&root)],
            Stdio::piped(),
            Duration::from_secs(120),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        // Two files of two expectations each, each file once
        assert_eq!(
            stdout(&out).trim(),
            "4 passed, 0 failed",
            "{}",
            stderr(&out)
        );
        // Named by their own paths, not through a link: a failure says where
        let failing = kraamzorg("labuitslagen", r#""basis""#);
        fs::write(root.join("kraam.toml"), &failing).unwrap();
        let out = zorg(&["test", path(&root)]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let said = stdout(&out);
        assert!(said.contains("/tests/kraam.toml:"), "{said}");
        assert!(!said.contains("again.toml"), "{said}");
        assert!(said.ends_with("3 passed, 1 failed\n"), "{said}");
        fs::write(root.join("kraam.toml"), &scenario).unwrap();

        // A file named beside its folder, or a folder named through a link, still runs once
        let out = zorg(&[
            "test",
            path(&root),
            path(&root.join("kraam.toml")),
            path(&root.join("self-a")),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "4 passed, 0 failed");
    }

    #[test]
    fn a_folder_without_scenario_files_is_an_error() {
        let dir = TempDir::new("empty");
        fs::write(dir.0.join("README.md"), "no scenarios here\n").unwrap();
        let out = zorg(&["test", path(&dir.0)]);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        let said = stderr(&out);
        assert!(said.contains(path(&dir.0)), "{said}");
        assert!(said.contains("no scenario file"), "{said}");
    }
}

/// A scenario or world file is read up to its limit and no further
#[cfg(test)]
mod limits {
    use std::process::Stdio;
    use std::time::Duration;

    use super::helpers::{stderr, zorg_within};

    /// An endless world file (`/dev/zero` claims no size) is refused once
    /// the limit is passed, not read until memory runs out
    #[cfg(unix)]
    #[test]
    fn an_endless_world_file_is_refused_at_the_limit() {
        let out = zorg_within(
            &["decide", "--world", "/dev/zero", "--request", "{}"],
            Stdio::piped(),
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(2));
        let said = stderr(&out);
        assert!(
            said.contains("/dev/zero: more than the limit of 4194304 bytes"),
            "{said}"
        );
    }
}

/// A category or module the policies do not know is a typo: exit 2, naming
/// file, line and field, never a silent deny
#[cfg(test)]
mod vocabulary {
    use std::fs;

    use super::helpers::{TempDir, VISIBLE, kraamzorg, line_of, path, stderr, stdout, zorg};

    #[test]
    fn a_typo_in_an_expectation_is_an_error_naming_file_line_and_field() {
        let dir = TempDir::new("typo");
        let file = dir.0.join("typo.toml");
        let modules = "[expect_dashboard.modules]\nDN = false\n";
        // (scenario, the typo's line starts with, label, field, value)
        let cases = [
            (
                kraamzorg("labuitslag", VISIBLE),
                "category = ",
                "expect #1",
                "category",
                "labuitslag",
            ),
            (
                kraamzorg("labuitslagen", r#""basis", "kraambedd""#),
                "vp-noord = [",
                "expect_dashboard #1",
                "visible.vp-noord",
                "kraambedd",
            ),
            (
                kraamzorg("labuitslagen", VISIBLE) + modules,
                "DN = ",
                "expect_dashboard #1",
                "modules",
                "DN",
            ),
        ];
        for (text, start, label, field, value) in cases {
            fs::write(&file, &text).unwrap();
            let out = zorg(&["test", path(&file)]);
            assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
            let said = stderr(&out);
            let line = line_of(&text, start);
            let at = format!("{}:{line}: {label}: ", path(&file));
            assert!(said.contains(&at), "{at} not in {said}");
            assert!(said.contains(&format!("field `{field}`")), "{said}");
            assert!(said.contains(&format!("`{value}`")), "{said}");
        }

        // The same file with the category spelt right passes
        fs::write(&file, kraamzorg("labuitslagen", VISIBLE)).unwrap();
        let out = zorg(&["test", path(&file)]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }

    #[test]
    fn decide_rejects_a_request_naming_an_unknown_category_or_module() {
        let dir = TempDir::new("decide");
        let world = dir.0.join("world.toml");
        fs::write(&world, kraamzorg("labuitslagen", VISIBLE)).unwrap();
        let request = |field: &str| {
            format!(
                r#"{{"principal":{{"practitioner":"anna"}},"patient":"client-1","at":"2026-02-01T00:00:00Z","mfa":true,{field}}}"#
            )
        };
        let decide = |json: &str| zorg(&["decide", "--world", path(&world), "--request", json]);

        let out = decide(&request(
            r#""action":"view","holder":"vp-noord","category":"medicatie""#,
        ));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(r#""decision": "allow""#),
            "{}",
            stdout(&out)
        );

        for (fields, field, value) in [
            (
                r#""action":"view","holder":"vp-noord","category":"medicatie-x""#,
                "category",
                "medicatie-x",
            ),
            (r#""action":"contribute","module":"DN""#, "module", "DN"),
        ] {
            let out = decide(&request(fields));
            assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
            let said = stderr(&out);
            assert!(said.contains(&format!("field `{field}`")), "{said}");
            assert!(said.contains(&format!("unknown `{value}`")), "{said}");
            assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        }
    }
}

/// `test --coverage`: which policies determined the expectations
#[cfg(test)]
mod coverage {
    use std::fs;

    use super::helpers::{TempDir, VISIBLE, kraamzorg, path, stderr, stdout, zorg};

    /// A dashboard counts in policy coverage with the policies of the views it
    /// summarises, each once
    #[test]
    fn a_dashboard_counts_in_policy_coverage() {
        let dir = TempDir::new("coverage");
        let file = dir.0.join("dashboard.toml");
        let text = kraamzorg("labuitslagen", VISIBLE);
        let only_dashboard = format!(
            "{}{}",
            &text[..text.find("[[expect]]").unwrap()],
            &text[text.find("[[expect_dashboard]]").unwrap()..]
        );
        fs::write(&file, only_dashboard).unwrap();
        let out = zorg(&["test", "--coverage", path(&file)]);
        // Most shipped policies are not reached by one dashboard
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let said = stdout(&out);
        let count = |id: &str| {
            said.lines()
                .find(|l| l.trim_end().ends_with(&format!("  {id}")))
                .and_then(|l| l.split_whitespace().next())
                .map(str::to_owned)
        };
        // vp-noord's categories through the shared dossier, kz-oost's own
        // dossier, and the role matrix behind the hidden ones
        assert_eq!(
            count("permit-view-shared-dossier").as_deref(),
            Some("1"),
            "{said}"
        );
        assert_eq!(
            count("permit-view-own-dossier").as_deref(),
            Some("1"),
            "{said}"
        );
        assert_eq!(
            count("forbid-category-not-in-role-matrix").as_deref(),
            Some("1"),
            "{said}"
        );
        assert_eq!(
            count("permit-view-in-emergency").as_deref(),
            Some("0"),
            "{said}"
        );
        assert!(said.ends_with("1 passed, 0 failed\n"), "{said}");
    }
}

/// Output cut short by a closed pipe (`| head`) ends quietly, with the exit
/// code the command would have had
#[cfg(test)]
mod pipe {
    use std::fmt::Write as _;
    use std::fs;
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Output, Stdio};

    use super::helpers::{TempDir, VISIBLE, kraamzorg, path, stderr};

    /// Runs zorg-pdp with stdout a pipe whose reader reads the first line
    /// and closes; the first line and what the command left
    fn cut_after_first_line(args: &[&str]) -> (String, Output) {
        let (reader, writer) = std::io::pipe().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_zorg-pdp"))
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `Command` handed its copy of the writer to the child and dropped it
        let mut first = String::new();
        BufReader::new(reader).read_line(&mut first).unwrap();
        (first, child.wait_with_output().unwrap())
    }

    /// Runs zorg-pdp with stdout a pipe whose reader closed before it started
    fn into_closed_pipe(args: &[&str]) -> Output {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Command::new(env!("CARGO_BIN_EXE_zorg-pdp"))
            .args(args)
            .stdout(writer)
            .output()
            .unwrap()
    }

    fn assert_quiet(out: &Output) {
        let said = stderr(out);
        assert!(!said.contains("panicked"), "{said}");
        assert!(!said.contains("Broken pipe"), "{said}");
    }

    #[test]
    fn schema_cut_after_the_first_line_ends_quietly() {
        let (first, out) = cut_after_first_line(&["schema", "scenario"]);
        assert_eq!(first, "{\n");
        assert_quiet(&out);
        assert_eq!(out.status.code(), Some(0));
        let out = into_closed_pipe(&["schema", "scenario"]);
        assert_quiet(&out);
        assert_eq!(out.status.code(), Some(0));
    }

    #[test]
    fn test_coverage_into_a_closed_pipe_ends_quietly() {
        let tests = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/tests");
        let out = into_closed_pipe(&["test", "--coverage", tests]);
        assert_quiet(&out);
        assert_eq!(out.status.code(), Some(0));
    }

    /// More output than a pipe holds, so the command is still writing when
    /// the reader goes: it ends quietly, and a failed run still exits 1
    #[test]
    fn a_failing_run_cut_after_the_first_line_keeps_its_exit_code() {
        let dir = TempDir::new("pipe");
        let file = dir.0.join("failing.toml");
        let mut text = kraamzorg("labuitslagen", VISIBLE);
        for _ in 0..3000 {
            write!(
                text,
                r#"
[[expect]]
at = "2026-02-01T00:00:00Z"
principal = {{ practitioner = "anna" }}
action = "view"
patient = "client-1"
holder = "vp-noord"
category = "labuitslagen"
decision = "allow"
"#
            )
            .unwrap();
        }
        fs::write(&file, text).unwrap();
        let (first, out) = cut_after_first_line(&["test", path(&file)]);
        assert!(first.contains("expect #2: expected allow"), "{first}");
        assert_quiet(&out);
        assert_eq!(out.status.code(), Some(1));
    }
}

#[cfg(test)]
mod audit {
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::process::Output;

    use serde_json::Value;

    use super::helpers::{TempDir, path, stderr, stdout, zorg};

    const R32: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/tests/r32-access-log.toml"
    );
    const R04: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/tests/r04-time.toml"
    );

    /// The actions whose allowed records are accesses to a patient's data (R35)
    const ACCESSES: [&str; 7] = [
        "view",
        "view_record",
        "view_own",
        "use_personal_data",
        "use_for_research",
        "dashboard",
        "view_access_log",
    ];

    /// `audit overview` of client-1's data at `at`, with the other flags `more`
    fn overview(log: &Path, at: &str, more: &[&str]) -> Output {
        let mut args = vec!["audit", "overview", "--patient", "client-1", "--at", at];
        args.extend_from_slice(more);
        args.push(path(log));
        zorg(&args)
    }

    /// `audit overview` as a practitioner of huisartsenpraktijk-zuid in the R32 world
    fn overview_as(log: &Path, practitioner: &str) -> Output {
        overview(
            log,
            "2027-01-01T00:00:00Z",
            &[
                "--practitioner",
                practitioner,
                "--holder",
                "huisartsenpraktijk-zuid",
                "--world",
                R32,
            ],
        )
    }

    /// The log's records, parsed
    fn records(log: &Path) -> Vec<Value> {
        fs::read_to_string(log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// A log of the decisions of two scenarios (R32 and R04), written by `test --audit-log`
    fn scenario_log(dir: &TempDir) -> PathBuf {
        let log = dir.0.join("audit.jsonl");
        let out = zorg(&["test", "--audit-log", path(&log), R32, R04]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let n = records(&log).len();
        assert!(n > 5, "{n} records");
        assert!(
            stdout(&out).contains(&format!("{n} records written (seq 1..={n})")),
            "{}",
            stdout(&out)
        );
        log
    }

    #[test]
    fn a_scenario_log_verifies_and_a_changed_or_removed_record_is_named() {
        let dir = TempDir::new("verify");
        let log = scenario_log(&dir);
        let n = records(&log).len();
        let out = zorg(&["audit", "verify", path(&log)]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out).trim(), format!("{n} records, chain intact"));

        // Both scenarios' decisions are in the one chain
        let actions: Vec<Value> = records(&log).iter().map(|r| r["action"].clone()).collect();
        assert!(actions.contains(&Value::from("view_access_log")));
        assert!(actions.contains(&Value::from("view")));

        let text = fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().collect();

        // Record 3 changed: another decision, same hash
        let changed = dir.0.join("changed.jsonl");
        let mut edited: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        let flipped = if edited[2].contains("\"decision\":\"allow\"") {
            edited[2].replace("\"decision\":\"allow\"", "\"decision\":\"deny\"")
        } else {
            edited[2].replace("\"decision\":\"deny\"", "\"decision\":\"allow\"")
        };
        assert_ne!(flipped, edited[2]);
        edited[2] = flipped;
        fs::write(&changed, edited.join("\n") + "\n").unwrap();
        let out = zorg(&["audit", "verify", path(&changed)]);
        assert_eq!(out.status.code(), Some(1));
        let said = stdout(&out);
        assert!(said.contains("seq 3") && said.contains("changed"), "{said}");

        // Record 4 removed
        let removed = dir.0.join("removed.jsonl");
        let kept: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 3)
            .map(|(_, l)| *l)
            .collect();
        fs::write(&removed, kept.join("\n") + "\n").unwrap();
        let out = zorg(&["audit", "verify", path(&removed)]);
        assert_eq!(out.status.code(), Some(1));
        let said = stdout(&out);
        assert!(said.contains("seq 4") && said.contains("removed"), "{said}");
    }

    /// An overview of a log whose record 3 was changed (another decision,
    /// the same hash) is refused, naming seq 3, and the log is left as it was;
    /// `test --audit-log` does not continue it either
    #[test]
    fn a_tampered_log_is_refused_and_never_appended_to() {
        let dir = TempDir::new("tampered");
        let log = scenario_log(&dir);
        let text = fs::read_to_string(&log).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        // A denied access turned into an allowed one: a forged access
        let forged = lines
            .iter()
            .position(|l| l.contains("\"decision\":\"deny\"") && l.contains("\"client-1\""))
            .unwrap();
        lines[forged] = lines[forged].replace("\"decision\":\"deny\"", "\"decision\":\"allow\"");
        let tampered = lines.join("\n") + "\n";
        fs::write(&log, &tampered).unwrap();
        let seq = forged + 1;

        for more in [&[][..], &["--json"][..]] {
            let out = overview(&log, "2027-01-01T00:00:00Z", more);
            assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
            let said = stderr(&out);
            assert!(said.contains(&format!("seq {seq}")), "{said}");
            assert!(said.contains("changed"), "{said}");
            assert!(stdout(&out).is_empty(), "{}", stdout(&out));
            assert_eq!(fs::read_to_string(&log).unwrap(), tampered);
        }
        let out = overview_as(&log, "dr-jansen");
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        assert_eq!(fs::read_to_string(&log).unwrap(), tampered);

        let out = zorg(&["test", "--audit-log", path(&log), R04]);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        assert!(
            stderr(&out).contains(&format!("seq {seq}")),
            "{}",
            stderr(&out)
        );
        assert_eq!(fs::read_to_string(&log).unwrap(), tampered);
    }

    #[test]
    fn reading_the_overview_is_logged_first_and_lists_accesses_newest_first() {
        let dir = TempDir::new("overview");
        let log = scenario_log(&dir);
        let before = records(&log).len();
        let out = overview(&log, "2027-01-01T00:00:00Z", &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

        // The read was logged, as the patient, allowed, before it was shown
        let after = records(&log);
        assert_eq!(after.len(), before + 1);
        let read = &after[before];
        assert_eq!(read["action"], "view_access_log");
        assert_eq!(read["patient"], "client-1");
        assert_eq!(read["principal"]["kind"], "patient");
        assert_eq!(read["principal"]["id"], "client-1");
        assert_eq!(read["decision"], "allow");
        assert_eq!(read["at"], "2027-01-01T00:00:00Z");
        let out_verify = zorg(&["audit", "verify", path(&log)]);
        assert_eq!(out_verify.status.code(), Some(0));

        // Every allowed access to client-1's data, newest first, this read on top
        let entries: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
        let allowed: Vec<&Value> = after
            .iter()
            .filter(|r| {
                r["patient"] == "client-1"
                    && r["decision"] == "allow"
                    && ACCESSES.iter().any(|a| r["action"] == *a)
            })
            .collect();
        assert_eq!(entries.len(), allowed.len());
        assert_eq!(entries[0]["seq"], read["seq"]);
        let ats: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
        let mut newest_first = ats.clone();
        newest_first.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(ats, newest_first);
        // The log holds what must be left out: denials, and other patients' accesses
        assert!(
            after
                .iter()
                .any(|r| r["patient"] == "client-1" && r["decision"] == "deny")
        );
        assert!(
            after
                .iter()
                .any(|r| r["patient"] != "client-1" && r["decision"] == "allow")
        );
        let listed: Vec<&Value> = entries.iter().map(|e| &e["seq"]).collect();
        // Newest first: by the decision's time, the later record first on a tie
        // (the RFC 3339 times in the log are all UTC, `Z`, so compare as text)
        let mut wanted = allowed.clone();
        wanted.sort_by(|a, b| {
            let key = |r: &Value| (r["at"].as_str().unwrap().to_owned(), r["seq"].as_u64());
            key(b).cmp(&key(a))
        });
        let wanted: Vec<&Value> = wanted.iter().map(|r| &r["seq"]).collect();
        assert_eq!(listed, wanted);

        // The table form says how many
        let out = overview(&log, "2027-01-02T00:00:00Z", &[]);
        assert_eq!(out.status.code(), Some(0));
        let n = allowed.len() + 1;
        assert!(
            stdout(&out).starts_with(&format!(
                "access to the data of patient `client-1`: {n} entries, newest first"
            )),
            "{}",
            stdout(&out)
        );
    }

    #[test]
    fn a_denied_reader_sees_nothing_and_the_denial_is_logged() {
        let dir = TempDir::new("denied");
        let log = scenario_log(&dir);
        let before = records(&log).len();
        // poh-smit has no log_review task (R32)
        let out = overview_as(&log, "poh-smit");
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let said = stdout(&out);
        assert!(said.starts_with("denied: view_access_log"), "{said}");
        assert!(said.contains("task_not_authorised"), "{said}");
        let after = records(&log);
        assert_eq!(after.len(), before + 1);
        let read = &after[before];
        assert_eq!(read["decision"], "deny");
        assert_eq!(read["principal"]["id"], "poh-smit");
        assert_eq!(read["holder"], "huisartsenpraktijk-zuid");

        // dr-jansen (log_review) may, for the own organisation's data
        let out = overview_as(&log, "dr-jansen");
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        assert_eq!(records(&log).len(), before + 2);
    }
}

/// The README's command-line examples run as written there
mod readme {
    use std::path::Path;
    use std::process::Command;

    use super::helpers::{TempDir, stderr, stdout};

    /// The first `sh` block after `## The command line` in the README
    fn examples() -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
        let section = readme
            .split("\n## The command line")
            .nth(1)
            .unwrap_or_default();
        let block = section.split("```sh\n").nth(1).unwrap_or_default();
        block.split("\n```").next().unwrap_or_default().to_owned()
    }

    #[test]
    fn the_readmes_command_line_examples_run() {
        let script = examples();
        assert!(script.contains("zorg-pdp test"), "{script}");
        let dir = TempDir::new("readme");
        // `zorg-pdp` on the PATH is the binary under test; `policies` the checkout's
        let bin = dir.0.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_zorg-pdp"), bin.join("zorg-pdp")).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::os::unix::fs::symlink(
            root.join("policies").canonicalize().unwrap(),
            dir.0.join("policies"),
        )
        .unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("sh")
            .args(["-e", "-c", &script])
            .current_dir(&dir.0)
            .env("PATH", path)
            .output()
            .unwrap();
        let (text, errors) = (stdout(&out), stderr(&out));
        assert!(out.status.success(), "{script}\n{text}\n{errors}");
        assert!(text.contains(" passed, 0 failed"), "{text}");
        assert!(
            text.contains("\"decision\""),
            "decide printed a response: {text}"
        );
        assert!(text.contains("chain intact"), "{text}");
    }
}
