//! Scenario files with several errors, end to end: every error of a JSON
//! file found after parsing, and every entry of a TOML or JSON file that
//! does not fit the format, each at its `file:line:column` with its line and
//! a caret, in the order of the file, with the exit code of any scenario error

use std::fs;

use super::authoring::zorg_in;
use super::helpers::{TempDir, stderr, stdout};

/// A JSON scenario whose `[[expect]]` names an unknown category and whose
/// `[[expect_dashboard]]` an unknown holder: both found after parsing
const TWO_SEMANTIC: &str = r#"{
  "name": "kraamverzorgende sees no lab results",
  "organisations": [{"id": "vp-noord"}, {"id": "kz-oost"}],
  "practitioners": [
    {"id": "anna", "organisation": "kz-oost", "role": "kraamverzorgende"}
  ],
  "patients": [{"id": "client-1"}],
  "events": [
    {"at": "2026-01-10T09:00:00Z", "type": "treatment_started", "patient": "client-1", "organisation": "kz-oost"}
  ],
  "expect": [
    {
      "at": "2026-02-01T00:00:00Z",
      "principal": {"practitioner": "anna"},
      "action": "view",
      "patient": "client-1",
      "holder": "vp-noord",
      "category": "labuitslag",
      "decision": "deny"
    }
  ],
  "expect_dashboard": [
    {
      "at": "2026-02-01T00:00:00Z",
      "principal": {"practitioner": "anna"},
      "patient": "client-1",
      "visible": {"vp-nergens": ["basis"]}
    }
  ]
}
"#;

/// What `validate` and `test` say of [`TWO_SEMANTIC`], error by error
const TWO_SEMANTIC_SAID: &str = r#"error: two.json:18: expect #1: action `view`: field `category`: unknown `labuitslag`
  --> two.json:18:19
   |
17 |       "holder": "vp-noord",
18 |       "category": "labuitslag",
   |                   ^^^^^^^^^^^^
19 |       "decision": "deny"
   |

error: two.json:27: expect_dashboard #1: field `visible`: unknown holder `vp-nergens` (not among the `[[organisations]]`)
  --> two.json:27:19
   |
26 |       "patient": "client-1",
27 |       "visible": {"vp-nergens": ["basis"]}
   |                   ^^^^^^^^^^^^
28 |     }
   |

"#;

#[test]
fn a_json_scenario_shows_every_error_found_after_parsing_at_its_field() {
    let dir = TempDir::new("scenario-json-semantic");
    fs::write(dir.0.join("two.json"), TWO_SEMANTIC).unwrap();
    let out = zorg_in(&dir.0, &["validate", "two.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("{TWO_SEMANTIC_SAID}error: the scenario files do not check: 2 errors\n")
    );
    // `test` shows them the same way, and runs nothing
    let out = zorg_in(&dir.0, &["test", "two.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out), TWO_SEMANTIC_SAID);
    assert!(
        stdout(&out).contains("0 passed, 0 failed"),
        "{}",
        stdout(&out)
    );
    // Fixed, it checks and passes
    let fixed = TWO_SEMANTIC
        .replace("\"labuitslag\"", "\"labuitslagen\"")
        .replace(
            "{\"vp-nergens\": [\"basis\"]}",
            "{\"kz-oost\": [\"basis\", \"zwangerschap\", \"bevalling\", \"kraambed\", \"kind\", \"medicatie\"]}",
        );
    fs::write(dir.0.join("two.json"), fixed).unwrap();
    let out = zorg_in(&dir.0, &["test", "two.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 passed, 0 failed"),
        "{}",
        stdout(&out)
    );
}

/// A TOML scenario with a wrong-typed field, an unknown field and a missing
/// field, in three entries of three tables: serde stops at the first
const THREE_SERDE: &str = r#"name = "three entries that do not fit"

[[organisations]]
id = "kz-oost"

[[practitioners]]
id = "anna"
organisation = "kz-oost"
role = 3

[[events]]
at = "2026-01-10T09:00:00Z"
type = "treatment_started"
pateint = "client-1"
organisation = "kz-oost"

[[expect]]
at = "2026-02-01T00:00:00Z"
principal = { practitioner = "anna" }
action = "view"
patient = "client-1"
"#;

#[test]
fn a_toml_scenario_shows_every_entry_that_does_not_fit_in_file_order() {
    let dir = TempDir::new("scenario-toml-serde");
    fs::write(dir.0.join("three.toml"), THREE_SERDE).unwrap();
    let out = zorg_in(&dir.0, &["validate", "three.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let expected = [
        "error: three.toml:9: practitioners #1: field `role`: invalid type: integer `3`, expected a string",
        "  --> three.toml:9:8",
        "   |",
        " 8 | organisation = \"kz-oost\"",
        " 9 | role = 3",
        "   |        ^",
        "10 | ",
        "   |",
        "",
        "error: three.toml:14: events #1: unknown field `pateint`, expected one of `at`, `type`, \
         `patient`, `organisation`, `holder`, `recorded_by`, `evidence`, `practitioner`, `from`, \
         `to`, `category`, `module`, `record`, `source`, `party`, `purpose`, `study`, \
         `holder_category`, `data_category`, `requester_category`, `choice`, `recorded_via`",
        "  --> three.toml:14:1",
        "   |",
        "13 | type = \"treatment_started\"",
        "14 | pateint = \"client-1\"",
        "   | ^^^^^^^",
        "15 | organisation = \"kz-oost\"",
        "   |",
        "",
        "error: three.toml:17: expect #1: missing field `decision`",
        "  --> three.toml:17:1",
        "   |",
        "16 | ",
        "17 | [[expect]]",
        "   | ^^^^^^^^^^",
        "18 | at = \"2026-02-01T00:00:00Z\"",
        "   |",
        "",
        "error: the scenario files do not check: 3 errors",
        "",
    ]
    .join("\n");
    assert_eq!(stderr(&out), expected);
    // `test` reports the same three
    let out = zorg_in(&dir.0, &["test", "three.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    let arrows: Vec<&str> = said.lines().filter(|l| l.starts_with("  --> ")).collect();
    assert_eq!(
        arrows,
        [
            "  --> three.toml:9:8",
            "  --> three.toml:14:1",
            "  --> three.toml:17:1"
        ],
        "{said}"
    );
    // One fixed: the other two remain
    let fixed = THREE_SERDE.replace("role = 3", "role = \"kraamverzorgende\"");
    fs::write(dir.0.join("three.toml"), fixed).unwrap();
    let out = zorg_in(&dir.0, &["validate", "three.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.ends_with("error: the scenario files do not check: 2 errors\n"),
        "{said}"
    );
    assert!(!said.contains("three.toml:9"), "{said}");
}

#[test]
fn a_json_scenario_shows_every_entry_that_does_not_fit_in_file_order() {
    let dir = TempDir::new("scenario-json-serde");
    let text = r#"{
  "name": "three entries that do not fit",
  "organisations": [{"id": "kz-oost"}],
  "practitioners": [
    {"id": "anna", "organisation": "kz-oost", "role": 3}
  ],
  "events": [
    {"at": "gisteren", "type": "treatment_started", "patient": "client-1", "organisation": "kz-oost"}
  ],
  "expect": [
    {
      "at": "2026-02-01T00:00:00Z",
      "principal": {"practitioner": "anna"},
      "action": "view",
      "patient": "client-1"
    }
  ]
}
"#;
    fs::write(dir.0.join("three.json"), text).unwrap();
    let out = zorg_in(&dir.0, &["validate", "three.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    let heads: Vec<&str> = said
        .lines()
        .filter(|l| l.starts_with("error: ") || l.starts_with(" --> ") || l.starts_with("  --> "))
        .map(|l| l.split(": expected").next().unwrap_or(l))
        .collect();
    assert_eq!(
        heads,
        [
            "error: three.json:5: practitioners #1: field `role`: invalid type: integer `3`, expected a string",
            " --> three.json:5:55",
            "error: three.json:8: events #1: field `at`: invalid time `gisteren`",
            " --> three.json:8:12",
            "error: three.json:11: expect #1: missing field `decision`",
            "  --> three.json:11:5",
            "error: the scenario files do not check: 3 errors",
        ],
        "{said}"
    );
    // The caret under the whole value, and under the entry's opening brace
    assert!(
        said.contains("8 |     {\"at\": \"gisteren\", \"type\"")
            && said.contains("  |            ^^^^^^^^^^\n"),
        "{said}"
    );
    assert!(said.contains("11 |     {\n   |     ^\n12 |"), "{said}");
}
