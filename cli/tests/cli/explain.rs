//! `zorg-pdp explain`: the decision, every policy that fired or could have,
//! and the facts the policies saw

use super::helpers::{stderr, stdout, zorg};

const WORLD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../policies/tests/spec-example.toml"
);

/// anna (kraamverzorgende at kz-oost) asks for vp-noord's data of client-1
fn request(category: &str) -> String {
    format!(
        r#"{{"principal":{{"practitioner":"anna"}},"action":"view","patient":"client-1",
        "at":"2026-02-01T00:00:00Z","mfa":true,"holder":"vp-noord","category":"{category}"}}"#
    )
}

/// The line of `text` that mentions policy `id`
fn line_of<'t>(text: &'t str, id: &str) -> &'t str {
    text.lines()
        .find(|l| l.split_whitespace().any(|w| w == id))
        .unwrap_or_else(|| panic!("no line for {id} in\n{text}"))
}

#[test]
fn a_deny_names_the_forbid_that_fired_and_the_permit_it_overrode() {
    let out = zorg(&["explain", "--world", WORLD, "--request", &request("echo")]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.starts_with("decision: deny (view)\n  role_not_permitted: "),
        "{text}"
    );
    let matrix = line_of(&text, "forbid-category-not-in-role-matrix");
    assert!(matrix.trim_start().starts_with("fired"), "{matrix}");
    assert!(
        matrix.contains("role-matrix.cedar:") && matrix.ends_with("-> role_not_permitted"),
        "{matrix}"
    );
    let shared = line_of(&text, "permit-view-shared-dossier");
    assert!(shared.trim_start().starts_with("fired"), "{shared}");
    let own = line_of(&text, "permit-view-own-dossier");
    assert!(own.trim_start().starts_with("not satisfied"), "{own}");
    // Every policy of the `view` bucket is listed, nothing of other actions
    assert!(
        text.contains("policies that could apply to `view` (14):"),
        "{text}"
    );
    assert!(!text.contains("permit-share"), "{text}");
    // The facts in words, with their values
    assert!(text.contains("  yes dossier_consent "), "{text}");
    assert!(text.contains("  no  referral "), "{text}");
}

#[test]
fn an_allow_names_its_permit_and_json_carries_every_verdict() {
    let out = zorg(&[
        "explain",
        "--world",
        WORLD,
        "--request",
        &request("kraambed"),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["response"]["decision"], "allow");
    assert_eq!(
        v["response"]["policies"],
        serde_json::json!(["permit-view-shared-dossier"])
    );
    let policies = v["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 14);
    let fired: Vec<&str> = policies
        .iter()
        .filter(|p| p["verdict"] == "fired")
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(fired, ["permit-view-shared-dossier"]);
    assert!(policies.iter().all(|p| p["line"].as_u64().unwrap() > 0));
    let facts = v["facts"].as_array().unwrap();
    assert!(
        facts
            .iter()
            .any(|f| f["name"] == "relationship" && f["value"] == true)
    );
}

#[test]
fn an_unknown_principal_reaches_no_policy_and_a_typo_is_an_error() {
    let unknown = request("echo").replace("anna", "nobody");
    let out = zorg(&["explain", "--world", WORLD, "--request", &unknown]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("unknown_entity") && text.contains("no policy was asked"),
        "{text}"
    );
    let typo = zorg(&["explain", "--world", WORLD, "--request", &request("echoo")]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(stderr(&typo).contains("echoo"), "{}", stderr(&typo));
}
