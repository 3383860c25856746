//! `validate` reads `consent.toml` beside the schema and shows every error
//! of it at its `file:line:column`; `fmt` leaves it alone

use std::fs;

use super::authoring::{copy_policies, edit, place_of, zorg_in};
use super::helpers::{TempDir, path, stderr, stdout, zorg};

#[test]
fn validate_counts_the_consent_vocabulary() {
    let out = zorg(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "consent vocabulary (3 data categories, 7 holder categories, 7 requesting categories, \
             91 provider types), content hash sha256:"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn validate_shows_every_consent_vocabulary_error_at_its_place() {
    let dir = TempDir::new("validate-consent");
    let policies = copy_policies(&dir.0);
    let consent = policies.join("consent.toml");
    edit(
        &consent,
        "requester = \"RPZAC005\"",
        "requester = \"RPZAC05\"",
    );
    edit(&consent, "voet = \"GGC002\"", "voett = \"GGC002\"");
    edit(
        &consent,
        "  \"H1\", # Huisartsinstelling",
        "  \"H1\", \"V4\",",
    );
    let out = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let said = stderr(&out);
    let file = consent.display().to_string();
    // The undeclared requesting category, with its line, a caret and a suggestion
    let (line, column) = place_of(&consent, "\"RPZAC05\"");
    assert!(
        said.contains(&format!("--> {file}:{line}:{column}\n")),
        "{said}"
    );
    assert!(
        said.contains(&format!("{line} | requester = \"RPZAC05\"")),
        "{said}"
    );
    assert!(
        said.contains("^^^^^^^^^ not a declared requesting category"),
        "{said}"
    );
    assert!(said.contains("help: did you mean `RPZAC005`?"), "{said}");
    assert!(
        said.contains("field `holder_categories.apotheken.requester`: `RPZAC05` is not declared"),
        "{said}"
    );
    // The unknown category at its key, and `voet` missing at the table's name
    let (line, column) = place_of(&consent, "voett");
    assert!(
        said.contains(&format!("--> {file}:{line}:{column}\n")),
        "{said}"
    );
    assert!(said.contains("help: did you mean `voet`?"), "{said}");
    let (line, column) = place_of(&consent, "category_data]");
    assert!(
        said.contains(&format!("--> {file}:{line}:{column}\n")),
        "{said}"
    );
    assert!(
        said.contains("category `voet` of `zorg.cedarschema` has no data category"),
        "{said}"
    );
    // V4 in two holder categories: at the second, naming the first
    let text = fs::read_to_string(&consent).unwrap();
    let second = text.rfind("\"V4\"").unwrap();
    let line = text[..second].matches('\n').count() + 1;
    let column = second - text[..second].rfind('\n').map_or(0, |i| i + 1) + 1;
    assert!(
        said.contains(&format!("--> {file}:{line}:{column}\n")),
        "{said}"
    );
    let (first_line, first_column) = place_of(&consent, "\"V4\"");
    assert!(
        said.contains(&format!(
            "also in `huisartsen` at {file}:{first_line}:{first_column}"
        )),
        "{said}"
    );
    // In the order of the text, every one, and the same on every run
    let order: Vec<usize> = ["voett", "RPZAC05", "provider type `V4`"]
        .iter()
        .map(|n| said.find(n).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{said}");
    assert!(
        said.trim_end().ends_with(&format!(
            "error: the policies in `{}` do not load: 4 errors",
            policies.display()
        )),
        "{said}"
    );
    let again = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(stderr(&again), said);
}

#[test]
fn validate_shows_a_toml_syntax_error_of_the_consent_vocabulary() {
    let dir = TempDir::new("validate-consent-syntax");
    let policies = copy_policies(&dir.0);
    let consent = policies.join("consent.toml");
    edit(&consent, "kind = \"GGC002\"", "kind = GGC002");
    edit(&consent, "echo = \"GGC002\"", "echo = \"GGC002");
    let out = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    let file = consent.display();
    let (line, column) = place_of(&consent, "kind = GGC002");
    let column = column + "kind = ".len();
    assert!(
        said.contains(&format!("--> {file}:{line}:{column}\n")),
        "{said}"
    );
    assert!(said.contains("string values must be quoted"), "{said}");
    let (line, _) = place_of(&consent, "echo = ");
    assert!(said.contains(&format!("--> {file}:{line}:")), "{said}");
    // Nothing else is checked in a file that does not parse
    assert!(!said.contains("no data category"), "{said}");
}

#[test]
fn a_folder_without_consent_toml_validates_with_the_shipped_one() {
    let dir = TempDir::new("validate-no-consent");
    let policies = copy_policies(&dir.0);
    let with = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    fs::remove_file(policies.join("consent.toml")).unwrap();
    let without = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(without.status.code(), Some(0), "{}", stderr(&without));
    // The same vocabulary, the same content hash
    assert_eq!(stdout(&with), stdout(&without));
    // A new category then needs a consent.toml, and the error says so
    edit(
        &policies.join("zorg.cedarschema"),
        "\"psychosociaal\"",
        "\"psychosociaal\", \"wondzorg\"",
    );
    let out = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(said.contains("--> <shipped consent.toml>:"), "{said}");
    assert!(
        said.contains("category `wondzorg` of `zorg.cedarschema` has no data category"),
        "{said}"
    );
    assert!(
        said.contains("help: the policy set has no `consent.toml`, so the shipped one applies"),
        "{said}"
    );
}

#[test]
fn fmt_leaves_consent_toml_alone() {
    let dir = TempDir::new("fmt-consent");
    let policies = copy_policies(&dir.0);
    let consent = policies.join("consent.toml");
    // Untidy TOML, still valid: fmt formats `.cedar` files only
    let untidy = fs::read_to_string(&consent).unwrap().replace(" = ", "=");
    fs::write(&consent, &untidy).unwrap();
    let out = zorg_in(&dir.0, &["fmt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("consent.toml"), "{}", stdout(&out));
    assert_eq!(fs::read_to_string(&consent).unwrap(), untidy);
    let out = zorg_in(&dir.0, &["fmt", "--check", "policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("consent.toml"), "{}", stdout(&out));
    // ... and the untidy file still validates
    let out = zorg_in(&dir.0, &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
