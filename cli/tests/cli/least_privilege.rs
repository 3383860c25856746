//! Least privilege (RULES.md R52) through the command line: a policy folder
//! with a restricting file deleted, or a schema without a fact the engine
//! supplies, is refused with exit 2 and a message naming file, line and
//! policy; nothing runs against it.

use std::fs;
use std::path::{Path, PathBuf};

use super::helpers::{TempDir, path, stderr, stdout, zorg};

/// The shipped policy folder
fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// A copy of the shipped schema and policies (not the scenario files)
fn copy_of_shipped(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    for entry in fs::read_dir(shipped()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            fs::copy(&p, dir.0.join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn scenario() -> String {
    shipped()
        .join("tests/r51-least-privilege.toml")
        .display()
        .to_string()
}

#[test]
fn a_folder_without_the_role_matrix_is_refused_with_exit_2() {
    let dir = copy_of_shipped("no-matrix");
    // The copy as it is runs, and passes
    let out = zorg(&["test", "--policies", path(&dir.0), &scenario()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with(" passed, 0 failed\n"),
        "{}",
        stdout(&out)
    );

    fs::remove_file(dir.0.join("role-matrix.cedar")).unwrap();
    let out = zorg(&["test", "--policies", path(&dir.0), &scenario()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(stdout(&out), "", "no scenario runs against a refused set");
    let err = stderr(&out);
    // Every gap is its own diagnostic, at the permit's first line
    assert!(err.starts_with("error: `"), "{err}");
    assert!(err.contains("view-own-dossier.cedar:4:1\n"), "{err}");
    assert!(
        err.contains(
            "/view-own-dossier.cedar` line 4, policy `permit-view-own-dossier`: grants `view` \
             to `Practitioner`, but no forbid covering that carries \
             `@reason(\"role_not_permitted\")`"
        ),
        "{err}"
    );
    // Every permit of `view` and `view_record` it leaves open, one per line
    let gaps = err
        .lines()
        .filter(|l| l.contains("role_not_permitted"))
        .count();
    assert_eq!(gaps, 9, "{err}");

    // `decide` and `dashboard` refuse it too
    let world = shipped().join("tests/spec-example.toml");
    let out = zorg(&[
        "decide",
        "--policies",
        path(&dir.0),
        "--world",
        path(&world),
        "--request",
        r#"{"principal":{"practitioner":"anna"},"action":"view","patient":"client-1","at":"2026-02-01T00:00:00Z","mfa":true,"holder":"vp-noord","category":"echo"}"#,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("but no forbid covering that carries"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_schema_without_a_fact_is_refused_naming_its_line() {
    let dir = copy_of_shipped("no-fact");
    let schema = dir.0.join("zorg.cedarschema");
    let text = fs::read_to_string(&schema).unwrap();
    let fact = text
        .lines()
        .find(|l| l.trim_start().starts_with("referral:"))
        .unwrap();
    let context = text
        .lines()
        .position(|l| l.starts_with("type DataContext"))
        .unwrap()
        + 1;
    fs::write(&schema, text.replace(&format!("{fact}\n"), "")).unwrap();
    let out = zorg(&["test", "--policies", path(&dir.0), &scenario()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    for action in ["view", "view_record"] {
        assert!(
            err.contains(&format!(
                "`zorg.cedarschema` line {context}, action `{action}`, attribute `referral`: \
                 not declared"
            )),
            "{err}"
        );
    }
}
