//! `zorg-pdp digest`, and `decide` / `dashboard` with a freshness token
//! (`min_seq`, SPEC.md §8, R47)

use super::helpers::{TempDir, path, stderr, stdout, zorg};

/// Two organisations, one practitioner, one patient and two events: last position 6
const WORLD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../policies/tests/r47-r48-freshness.toml"
);

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap()
}

fn view(min_seq: u64) -> String {
    format!(
        r#"{{"principal":{{"practitioner":"vera"}},"action":"view","patient":"client-1",
        "holder":"vp-noord","category":"echo","at":"2026-02-01T10:00:00Z","mfa":true,"min_seq":{min_seq}}}"#
    )
}

#[test]
fn digest_prints_the_last_position_and_the_state_digest() {
    let v = json(&zorg(&["digest", "--world", WORLD]));
    assert_eq!(v["seq"], 6);
    let digest = v["state_digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    // The same world again: the same digest; one more event: another
    assert_eq!(
        json(&zorg(&["digest", "--world", WORLD]))["state_digest"],
        digest
    );
    let dir = TempDir::new("digest");
    let more = dir.0.join("more.toml");
    let text = std::fs::read_to_string(WORLD).unwrap();
    let extra = "\n[[events]]\nat = \"2026-02-02T09:00:00Z\"\ntype = \"dossier_consent_withdrawn\"\npatient = \"client-1\"\nholder = \"vp-noord\"\n";
    std::fs::write(&more, format!("{text}{extra}")).unwrap();
    let v = json(&zorg(&["digest", "--world", path(&more)]));
    assert_eq!(v["seq"], 7);
    assert_ne!(v["state_digest"], digest);
}

#[test]
fn digest_of_an_unusable_world_is_exit_2() {
    let out = zorg(&["digest", "--world", "/nonexistent/world.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("world.toml"), "{}", stderr(&out));
}

#[test]
fn decide_and_dashboard_pass_min_seq_through() {
    let fresh = json(&zorg(&["decide", "--world", WORLD, "--request", &view(6)]));
    assert_eq!(fresh["decision"], "allow");
    assert_eq!(fresh["seq"], 6);
    let stale = json(&zorg(&["decide", "--world", WORLD, "--request", &view(7)]));
    assert_eq!(stale["decision"], "deny");
    assert_eq!(stale["reasons"], serde_json::json!(["stale_facts"]));
    assert_eq!(stale["explanation"][0]["code"], "stale_facts");
    let query = |m: u64| {
        format!(
            r#"{{"principal":{{"practitioner":"vera"}},"patient":"client-1",
            "at":"2026-02-01T10:00:00Z","mfa":true,"min_seq":{m}}}"#
        )
    };
    let stale = json(&zorg(&[
        "dashboard",
        "--world",
        WORLD,
        "--query",
        &query(7),
    ]));
    assert_eq!(stale["holders"], serde_json::json!([]));
    assert_eq!(stale["reasons"], serde_json::json!(["stale_facts"]));
    let fresh = json(&zorg(&[
        "dashboard",
        "--world",
        WORLD,
        "--query",
        &query(6),
    ]));
    assert_eq!(fresh["holders"][0]["holder"], "vp-noord");
    assert!(fresh.get("reasons").is_none());
}
