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
