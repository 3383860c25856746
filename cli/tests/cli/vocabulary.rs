//! A category or module the policies do not know is a typo: exit 2, naming
//! file, line and field, never a silent deny

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
