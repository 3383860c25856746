//! Output cut short by a closed pipe (`| head`) ends quietly, with the exit
//! code the command would have had

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
    // The first line says which policy set runs; the failures follow it
    assert!(first.starts_with("policies: "), "{first}");
    assert_quiet(&out);
    assert_eq!(out.status.code(), Some(1));
}
