//! The README's command-line examples run as written there

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
    // `zorg-pdp` on the PATH is the binary under test
    let bin = dir.0.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_zorg-pdp"), bin.join("zorg-pdp")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // `policies` and `tests` (the FHIR examples' world and notification) the checkout's
    for folder in ["policies", "tests"] {
        std::os::unix::fs::symlink(
            root.join(folder).canonicalize().unwrap(),
            dir.0.join(folder),
        )
        .unwrap();
    }
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
    assert!(
        text.contains("\"answer\": \"permit\""),
        "consent check: {text}"
    );
    assert!(text.contains("mitz_choice_recorded"), "fhir import: {text}");
}
