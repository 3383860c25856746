//! `zorg-pdp consent check|locate|overview` against the birth-care Mitz world

use super::helpers::{stderr, stdout, zorg};

const WORLD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../policies/tests/r36-r44-mitz.toml"
);

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap()
}

#[test]
fn check_answers_per_data_category_with_the_deciding_statements() {
    let out = zorg(&[
        "consent",
        "check",
        "--world",
        WORLD,
        "--query",
        r#"{"patient":"client-1","holder":"zh-noord","requester":"kz-oost",
            "data_categories":["GGC013","GGC002"],"at":"2026-02-02T10:00:00Z"}"#,
    ]);
    let v = json(&out);
    assert_eq!(v["answers"][0]["data_category"], "GGC013");
    assert_eq!(v["answers"][0]["answer"], "permit");
    assert_eq!(
        v["answers"][0]["statements"],
        serde_json::json!(["org:zh-noord/RPZAC004/GGC013"])
    );
    assert_eq!(v["answers"][1]["answer"], "refused");
    assert_eq!(
        v["answers"][1]["reasons"],
        serde_json::json!(["no_dossier_consent", "consent_refused"])
    );
    assert!(v["seq"].as_u64().unwrap() > 0);
}

#[test]
fn locate_lists_the_holders_with_a_permitted_category() {
    let ask = |requester: &str| {
        let query = format!(
            r#"{{"patient":"client-1","requester":"{requester}","at":"2026-02-02T10:00:00Z"}}"#
        );
        json(&zorg(&[
            "consent", "locate", "--world", WORLD, "--query", &query,
        ]))
    };
    assert_eq!(
        ask("kz-oost")["holders"],
        serde_json::json!([{"holder": "zh-noord", "data_categories": ["GGC013"]}])
    );
    // GGZ is refused everything at the hospital
    assert_eq!(ask("ggz-zuid")["holders"], serde_json::json!([]));
}

#[test]
fn overview_lists_the_statements_and_every_answer() {
    let out = zorg(&[
        "consent",
        "overview",
        "--world",
        WORLD,
        "--query",
        r#"{"principal":{"patient":"client-1"},"patient":"client-1","at":"2026-02-02T10:00:00Z"}"#,
    ]);
    let v = json(&out);
    let ids: Vec<&str> = v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "org:zh-noord/*/*",
            "org:zh-noord/RPZAC004/GGC013",
            "org:zh-noord/RPZAC004/GGC002",
            "category:ziekenhuizen/RPZAC003/GGC002"
        ]
    );
    // three holders (zh-noord, kz-oost, ggz-zuid) × 7 requesting × 3 data categories
    assert_eq!(v["answers"].as_array().unwrap().len(), 3 * 7 * 3);
    let kraamzorg_medication = v["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["holder"] == "zh-noord"
                && a["requester_category"] == "RPZAC004"
                && a["data_category"] == "GGC013"
        })
        .unwrap();
    assert_eq!(kraamzorg_medication["answer"], "permit");
}

#[test]
fn an_unknown_id_or_a_bad_question_is_exit_2_naming_the_field() {
    let out = zorg(&[
        "consent",
        "check",
        "--world",
        WORLD,
        "--query",
        r#"{"patient":"client-1","holder":"nergens","requester":"kz-oost",
            "data_categories":["GGC013"],"at":"2026-02-02T10:00:00Z"}"#,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("field `holder`: unknown `nergens`"),
        "{}",
        stderr(&out)
    );
    let out = zorg(&[
        "consent",
        "check",
        "--world",
        WORLD,
        "--query",
        r#"{"patient":"client-1","holder":"zh-noord","data_categories":["GGC013"],
            "at":"2026-02-02T10:00:00Z"}"#,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("field `requester`"),
        "{}",
        stderr(&out)
    );
    let out = zorg(&[
        "consent",
        "locate",
        "--world",
        WORLD,
        "--query",
        r#"{"patient":"client-1","requester":"kz-oost","at":"2026-02-02T10:00:00Z","extra":1}"#,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("extra"), "{}", stderr(&out));
}
