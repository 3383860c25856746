//! `zorg-pdp diff OLD_DIR NEW_DIR`: the shipped set against itself is exit
//! 0 and nothing; a one-line grant in the role matrix is exit 1 naming
//! exactly that (role, category) with the right count; a removed forbid
//! shows up; a new category with no grant gains no allow; a broken folder is
//! exit 2.

use std::fs;
use std::path::{Path, PathBuf};

use crate::helpers::{TempDir, path, stderr, stdout, zorg};

fn shipped() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies"))
}

/// A copy of the shipped schema and policies (not the scenario files) in `dir`
fn copy_policies(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    for entry in fs::read_dir(shipped()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// The matrix of SPEC.md §2 (R12), written as one line per role
const R12: &[(&str, &str)] = &[
    (
        "huisarts",
        "basis zwangerschap bevalling kraambed kind echo metingen leefstijl voeding voet labuitslagen medicatie voorgeschiedenis psychosociaal",
    ),
    (
        "poh",
        "basis metingen leefstijl voeding voet labuitslagen medicatie voorgeschiedenis",
    ),
    (
        "diabetesverpleegkundige",
        "basis metingen leefstijl voeding voet labuitslagen medicatie",
    ),
    ("dietist", "basis metingen leefstijl voeding labuitslagen"),
    ("podotherapeut", "basis metingen voet"),
    (
        "verloskundige",
        "basis zwangerschap bevalling kraambed kind echo metingen leefstijl labuitslagen medicatie voorgeschiedenis psychosociaal",
    ),
    (
        "gynaecoloog",
        "basis zwangerschap bevalling kraambed kind echo metingen leefstijl labuitslagen medicatie voorgeschiedenis psychosociaal",
    ),
    (
        "kraamverzorgende",
        "basis zwangerschap bevalling kraambed kind medicatie",
    ),
    ("jgz", "basis bevalling kraambed kind"),
    ("apotheker", "basis labuitslagen medicatie"),
    (
        "medisch_specialist",
        "basis zwangerschap bevalling kraambed kind echo metingen leefstijl voeding voet labuitslagen medicatie voorgeschiedenis",
    ),
    ("administratief", "basis"),
];

/// `role-matrix.cedar` granting R12 plus `extra` (role, category) pairs
fn matrix_file(extra: &[(&str, &str)]) -> String {
    let rows: Vec<String> = R12
        .iter()
        .map(|(role, cats)| {
            let mut cats: Vec<&str> = cats.split(' ').collect();
            cats.extend(extra.iter().filter(|(r, _)| r == role).map(|(_, c)| *c));
            let list: Vec<String> = cats.iter().map(|c| format!("Category::\"{c}\"")).collect();
            format!(
                "  (principal.role == Role::\"{role}\" && [{}].contains(context.category))",
                list.join(", ")
            )
        })
        .collect();
    format!(
        "// R12, one role a line\n@id(\"forbid-category-not-in-role-matrix\")\n@reason(\"role_not_permitted\")\n\
         forbid (principal is Practitioner, action in [Action::\"view\", Action::\"view_record\"], resource)\n\
         when {{ context.source != Source::\"pgo\" }}\nunless {{\n{}\n}};\n",
        rows.join(" ||\n")
    )
}

/// OLD and NEW: copies of the shipped policies with the explicit R12 matrix
fn old_and_new(dir: &TempDir) -> (PathBuf, PathBuf) {
    let (old, new) = (dir.0.join("old"), dir.0.join("new"));
    for d in [&old, &new] {
        copy_policies(d);
        fs::write(d.join("role-matrix.cedar"), matrix_file(&[])).unwrap();
    }
    (old, new)
}

fn diff(old: &Path, new: &Path, json: bool) -> (Option<i32>, String, String) {
    let mut args = vec!["diff", path(old), path(new)];
    if json {
        args.extend(["--format", "json"]);
    }
    let out = zorg(&args);
    (out.status.code(), stdout(&out), stderr(&out))
}

fn report(old: &Path, new: &Path) -> serde_json::Value {
    let (code, out, err) = diff(old, new, true);
    assert_eq!(code, Some(1), "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_shipped_set_against_itself_is_exit_0_and_nothing() {
    let dir = TempDir::new("diff-same");
    let copy = dir.0.join("copy");
    copy_policies(&copy);
    let (code, out, err) = diff(&shipped(), &copy, false);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("no policy differs"), "{out}");
    assert!(out.contains("no abstract input differs"), "{out}");
    let (code, out, _) = diff(&shipped(), &copy, true);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["differing"], 0);
    assert_eq!(v["groups"], serde_json::json!([]));
    assert!(v["inputs"].as_u64().unwrap() > 50_000_000);
}

#[test]
fn a_one_line_grant_names_exactly_that_pair_with_its_count() {
    let dir = TempDir::new("diff-grant");
    let (old, new) = old_and_new(&dir);
    let before = fs::read_to_string(new.join("role-matrix.cedar")).unwrap();
    let after = matrix_file(&[("kraamverzorgende", "echo")]);
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "a one-line change");
    assert!(changed[0].1.contains("kraamverzorgende"));
    fs::write(new.join("role-matrix.cedar"), &after).unwrap();

    // Every input of kraamverzorgende x echo outside PGO records differs: the
    // matrix's forbid fired for each before and for none after. A
    // practitioner's view: 2^3 task sets, mfa, 6 purposes, 2 id patterns
    // (organisation = holder or not), 2^8 facts (the consent facts
    // included); a dossier record two record facts more; a module record a
    // third and 3 modules.
    let expected: u64 = 8 * 2 * 6 * 2 * (256 + 1024 + 3 * 2048);
    assert_eq!(expected, 1_425_408);

    let (code, out, err) = diff(&old, &new, false);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains(&format!("{expected} of ")), "{out}");
    assert!(
        out.contains("changed  forbid-category-not-in-role-matrix"),
        "{out}"
    );
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with(':') && !l.starts_with(' '))
        .collect();
    let groups: Vec<&&str> = headers.iter().filter(|h| h.starts_with("view")).collect();
    assert!(!groups.is_empty(), "{out}");
    for h in &groups {
        assert!(h.contains("role kraamverzorgende, category echo"), "{h}");
    }
    assert!(out.contains("view, practitioner, role kraamverzorgende, category echo: 49152; allowed 7168 / denied 0"), "{out}");

    let v = report(&old, &new);
    assert_eq!(v["differing"], expected);
    let groups = v["groups"].as_array().unwrap();
    let total: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(total, expected);
    for g in groups {
        assert_eq!(g["role"], "kraamverzorgende", "{g}");
        assert_eq!(g["category"], "echo", "{g}");
        assert_ne!(g["source"], "pgo");
        let old_reasons = g["old"]["reasons"].as_array().unwrap();
        assert!(
            old_reasons.contains(&serde_json::json!("role_not_permitted")),
            "{g}"
        );
        assert!(
            !g["new"]["reasons"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("role_not_permitted"))
        );
    }
    let gained: u64 = groups
        .iter()
        .filter(|g| g["new"]["decision"] == "allow")
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    // Newly allowed, with mfa and the relationship, over 8 task sets:
    // view: the own dossier (6 purposes x 2^5 other facts), another holder for
    // treatment (consent, request: 2^3 others), emergency (unplanned-care
    // consent: 2^4) or referral (referral, no objection: 2^3);
    // a dossier record: the same, not deleted, and flagged only in the own
    // dossier (6 x 2 x 2^5, then 2^3 + 2^4 + 2^3);
    // a module record: ownership accepted, not deleted, flagged only when
    // organisation = holder (3 modules x 6 purposes x (2 + 1) x 2^5).
    // The two consent facts (refused, unconfirmed) are free in each: x 4.
    let view = 4 * 8 * (6 * 32 + 8 + 16 + 8);
    let record = 4 * 8 * (6 * 2 * 32 + 8 + 16 + 8);
    let module = 4 * 8 * 3 * 6 * 3 * 32;
    assert_eq!((view, record + module), (7168, 68_608));
    assert_eq!(gained, view + record + module);
}

#[test]
fn a_removed_forbid_shows_up() {
    let dir = TempDir::new("diff-removed");
    let (old, new) = old_and_new(&dir);
    fs::write(
        old.join("zz-emergency.cedar"),
        "@id(\"forbid-psychosociaal-in-emergency\")\n@reason(\"role_not_permitted\")\n\
         forbid (principal is Practitioner, action in [Action::\"view\", Action::\"view_record\"], resource)\n\
         when { context.purpose == Purpose::\"emergency\" && context.category == Category::\"psychosociaal\" };\n",
    )
    .unwrap();
    let (code, out, err) = diff(&old, &new, false);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        out.contains("removed  forbid-psychosociaal-in-emergency"),
        "{out}"
    );
    let v = report(&old, &new);
    for g in v["groups"].as_array().unwrap() {
        assert_eq!(g["category"], "psychosociaal", "{g}");
        assert_eq!(g["purpose"], "emergency", "{g}");
    }
    let allowed_again: Vec<&str> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["new"]["decision"] == "allow")
        .map(|g| g["role"].as_str().unwrap())
        .collect();
    assert!(
        allowed_again.contains(&"verloskundige"),
        "{allowed_again:?}"
    );
    assert!(!allowed_again.contains(&"kraamverzorgende"));
}

#[test]
fn a_new_category_without_a_grant_gains_no_allow() {
    let dir = TempDir::new("diff-category");
    let (old, new) = old_and_new(&dir);
    let schema = fs::read_to_string(new.join("zorg.cedarschema")).unwrap();
    let with = schema.replacen("\"psychosociaal\"", "\"psychosociaal\", \"wondzorg\"", 1);
    assert_ne!(with, schema);
    fs::write(new.join("zorg.cedarschema"), with).unwrap();
    // Every category of the schema has a data category in `consent.toml`
    let consent = fs::read_to_string(new.join("consent.toml")).unwrap();
    let last = "psychosociaal = \"GGC002\"\n";
    assert!(consent.contains(last));
    let mapped = consent.replacen(last, &format!("{last}wondzorg = \"GGC002\"\n"), 1);
    fs::write(new.join("consent.toml"), mapped).unwrap();
    let (code, out, err) = diff(&old, &new, false);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("no policy differs"), "{out}");
    assert!(
        out.contains("not in OLD's vocabulary -> deny [role_not_permitted]"),
        "{out}"
    );
    let v = report(&old, &new);
    let groups = v["groups"].as_array().unwrap();
    assert!(!groups.is_empty());
    for g in groups {
        assert_eq!(g["old"], "not_in_vocabulary", "{g}");
        assert_eq!(g["category"], "wondzorg", "{g}");
        if g["principal"] == "practitioner" {
            assert_ne!(g["new"]["decision"], "allow", "{g}");
        }
    }
}

#[test]
fn a_broken_folder_is_exit_2() {
    let dir = TempDir::new("diff-broken");
    let (old, new) = old_and_new(&dir);
    fs::write(
        new.join("bad.cedar"),
        "@id(\"x\") permit (principal, action, resource) when {",
    )
    .unwrap();
    let (code, out, err) = diff(&old, &new, false);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("new policies") && err.contains("bad.cedar"),
        "{err}"
    );
    let (code, _, err) = diff(&dir.0.join("missing"), &new, false);
    assert_eq!(code, Some(2));
    assert!(err.contains("old policies"), "{err}");
    // The help says what the exit codes mean
    let help = stdout(&zorg(&["diff", "--help"]));
    assert!(
        help.contains(
            "0 when no abstract input differs, 1 when some do, 2 when a folder does not load"
        ),
        "{help}"
    );
}
