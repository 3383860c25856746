//! `zorg-pdp data import|snapshot|verify` (SPEC.md §8, docs/durability.md)

use super::helpers::{TempDir, path, stderr, stdout, zorg};

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap()
}

const ENTRIES: &str = concat!(
    r#"{"position":1,"entity":{"organisation":{"id":"vp-noord"}}}"#,
    "\n",
    r#"{"position":2,"entity":{"patient":{"id":"client-1"}}}"#,
    "\n",
    r#"{"position":5,"event":{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"vp-noord"}}"#,
    "\n",
    r#"{"position":5,"event":{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"vp-noord"}}"#,
    "\n",
);

#[test]
fn import_snapshot_and_verify_a_data_directory() {
    let tmp = TempDir::new("data");
    let entries = tmp.0.join("entries.jsonl");
    std::fs::write(&entries, ENTRIES).unwrap();
    let data = tmp.0.join("data");
    let v = json(&zorg(&[
        "data",
        "import",
        "--data",
        path(&data),
        path(&entries),
    ]));
    assert_eq!(
        (
            v["seq"].as_u64(),
            v["applied"].as_u64(),
            v["skipped"].as_u64()
        ),
        (Some(5), Some(3), Some(1))
    );
    assert_eq!(v["open"]["created"], true);
    let verified = json(&zorg(&["data", "verify", "--data", path(&data)]));
    assert_eq!(verified["seq"], 5);
    assert_eq!(verified["replayed"], 3);
    assert!(verified["snapshot"].is_null());
    let digest = verified["state_digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:"), "{digest}");

    let written = json(&zorg(&["data", "snapshot", "--data", path(&data)]));
    assert_eq!(written["position"], 5);
    assert!(
        written["path"]
            .as_str()
            .unwrap()
            .ends_with("snapshot-00000000000000000005.snap")
    );
    let verified = json(&zorg(&["data", "verify", "--data", path(&data)]));
    assert_eq!(verified["snapshot"]["position"], 5);
    assert_eq!(verified["replayed"], 0);
    assert_eq!(verified["state_digest"], digest.as_str());

    // A damaged snapshot: verify says so (exit 1) and the journal gives the same digest
    let snap = std::path::PathBuf::from(written["path"].as_str().unwrap());
    let mut bytes = std::fs::read(&snap).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&snap, &bytes).unwrap();
    let out = zorg(&["data", "verify", "--data", path(&data)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["state_digest"], digest.as_str());
    assert!(
        v["refused"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("checksum"),
        "{v}"
    );
    assert!(
        stderr(&out).contains("refused snapshot"),
        "{}",
        stderr(&out)
    );
    // Read-only: the damaged file is still where it was
    assert!(snap.exists());
}

#[test]
fn import_names_the_line_of_a_refused_entry_and_verify_a_missing_directory() {
    let tmp = TempDir::new("data-bad");
    let entries = tmp.0.join("entries.jsonl");
    std::fs::write(
        &entries,
        format!("{ENTRIES}{}\n", r#"{"position":9,"event":{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"nobody","organisation":"vp-noord"}}"#),
    )
    .unwrap();
    let data = tmp.0.join("data");
    let out = zorg(&[
        "data",
        "import",
        "--data",
        path(&data),
        "--durability",
        "every-10",
        path(&entries),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 5"), "{}", stderr(&out));
    // The entries before it were kept
    let v = json(&zorg(&["data", "verify", "--data", path(&data)]));
    assert_eq!(v["seq"], 5);
    let out = zorg(&[
        "data",
        "import",
        "--data",
        path(&data),
        "--durability",
        "sometimes",
        path(&entries),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--durability"), "{}", stderr(&out));
    let out = zorg(&["data", "verify", "--data", path(&tmp.0.join("absent"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}
