//! Replays every input under `fuzz/regressions/<target>/` through the same
//! body the fuzz target runs (`fuzz/targets.rs`), on stable Rust. A crasher
//! found by `fuzz/run.sh` is minimised into that folder and stays a test.

use std::path::PathBuf;

#[path = "../../fuzz/targets.rs"]
mod targets;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    v.sort();
    v
}

fn replay(target: &str, body: fn(&[u8])) -> usize {
    let all = inputs(target);
    for (path, data) in &all {
        eprintln!("replaying {}", path.display());
        body(data);
    }
    all.len()
}

#[test]
fn scenario_toml_regressions() {
    replay("scenario_toml", |d| targets::scenario(d, false));
}

#[test]
fn scenario_json_regressions() {
    replay("scenario_json", |d| targets::scenario(d, true));
}

#[test]
fn event_json_regressions() {
    replay("event_json", targets::event_json);
}

#[test]
fn request_json_regressions() {
    replay("request_json", targets::request_json);
}

#[test]
fn policy_text_regressions() {
    replay("policy_text", targets::policy_text);
}

#[test]
fn structured_regressions() {
    replay("structured", targets::structured);
}

/// The bodies also hold on a few hand-made hostile inputs
#[test]
fn hostile_inputs_do_not_panic() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_toml = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_inline = format!("a = {}{}", "{b = ".repeat(50_000), "}".repeat(50_000));
    for input in [deep_json.as_str(), "{}", "", "\u{0}", "{\"at\":1}"] {
        targets::event_json(input.as_bytes());
        targets::request_json(input.as_bytes());
        targets::scenario(input.as_bytes(), true);
    }
    for input in [
        deep_toml.as_str(),
        deep_inline.as_str(),
        "[[events]]\nat = 1",
    ] {
        targets::scenario(input.as_bytes(), false);
    }
    targets::policy_text(
        "permit(principal, action, resource) when { "
            .repeat(10_000)
            .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(5_000),
            ")".repeat(5_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ {}true }};",
            "!".repeat(100_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ true{} }};",
            " && true".repeat(50_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ 1{} > 0 }};",
            " + 1".repeat(50_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ {}1 > 0 }};",
            "-".repeat(100_000)
        )
        .as_bytes(),
    );
    targets::structured(&[0u8; 512]);
    targets::structured(&[0xffu8; 4096]);
}
