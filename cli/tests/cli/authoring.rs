//! `validate` and `fmt` end to end: every error at its `file:line:column`
//! with the line and a caret, in a fixed order; formatting checked and
//! written

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::helpers::{TempDir, VISIBLE, kraamzorg, path, stderr, stdout, zorg};

/// The checkout's `policies/`
pub(crate) fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// A copy of the shipped schema and policies in `dir/policies`
pub(crate) fn copy_policies(dir: &Path) -> PathBuf {
    let to = dir.join("policies");
    fs::create_dir_all(&to).unwrap();
    for entry in fs::read_dir(shipped_dir()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
    to
}

/// Runs zorg-pdp with `args` in `dir`
pub(crate) fn zorg_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zorg-pdp"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

/// Replaces the first `from` in a file with `to`
pub(crate) fn edit(file: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from} not in {}", file.display());
    fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// The 1-based line of `needle` in a file, and the 1-based column where it starts
pub(crate) fn place_of(file: &Path, needle: &str) -> (usize, usize) {
    let text = fs::read_to_string(file).unwrap();
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .unwrap();
    (n + 1, line.find(needle).unwrap() + 1)
}

#[test]
fn validate_says_ok_with_the_count_the_schema_and_the_hash() {
    let dir = TempDir::new("validate-ok");
    // Without `./policies` the shipped set is checked
    let out = zorg_in(&dir.0, &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.starts_with("ok: "), "{said}");
    assert!(
        said.contains("policies in the shipped set (embedded)"),
        "{said}"
    );
    assert!(
        said.contains(
            "schema `zorg.cedarschema` (12 roles, 3 tasks, 14 categories, 3 care modules)"
        ),
        "{said}"
    );
    let hash = said
        .split("content hash ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    assert!(hash.starts_with("sha256:") && hash.len() == 71, "{hash}");
    // `./policies` when there is one, and the same files give the same hash
    copy_policies(&dir.0);
    let out = zorg_in(&dir.0, &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("policies in `policies`"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains(&hash), "{}", stdout(&out));
    // Scenario files are checked too, without running
    let out = zorg(&[
        "validate",
        "--policies",
        path(&shipped_dir()),
        path(&shipped_dir().join("tests")),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    let checked = said.lines().nth(1).unwrap_or_default();
    assert!(
        checked.starts_with("ok: ") && checked.contains(" scenario files, "),
        "{said}"
    );
}

#[test]
fn validate_shows_every_policy_error_at_its_place_with_a_caret_in_a_fixed_order() {
    let dir = TempDir::new("validate-policy");
    let policies = copy_policies(&dir.0);
    let matrix = policies.join("role-matrix.cedar");
    let sharing = policies.join("access-and-sharing.cedar");
    let mfa = policies.join("mfa.cedar");
    edit(
        &matrix,
        "(principal.role == Role::\"huisarts\" &&",
        "(principal.rol == Role::\"huisarts\" &&",
    );
    edit(&sharing, "@id(\"permit-share\")", "@id(\"permit-share\"");
    edit(&mfa, "@reason(\"mfa_required\")", "@reason(\"mfa_needed\")");
    let out = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let said = stderr(&out);
    // Each as file:line:column, its source line, a caret under the span
    let (line, column) = place_of(&matrix, "principal.rol ");
    let at = format!("--> {}:{line}:{column}\n", matrix.display());
    assert!(said.contains(&at), "{at} not in\n{said}");
    assert!(
        said.contains(&format!(
            "{line} |   (principal.rol == Role::\"huisarts\" &&"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "{} |    ^^^^^^^^^^^^^ attribute `rol`",
            " ".repeat(line.to_string().len())
        )),
        "{said}"
    );
    assert!(said.contains("help: did you mean `role`?"), "{said}");
    // The unclosed `@id(` is found at the `permit` on the next line
    let (line, _) = place_of(&sharing, "@id(\"permit-share\"");
    assert!(
        said.contains(&format!("--> {}:{}:1\n", sharing.display(), line + 1)),
        "{said}"
    );
    assert!(said.contains("expected `)`"), "{said}");
    let (line, column) = place_of(&mfa, "@reason(\"mfa_needed\")");
    assert!(
        said.contains(&format!("--> {}:{line}:{column}\n", mfa.display())),
        "{said}"
    );
    // In a fixed order: each file's in name order, then strict validation's; every one
    let order: Vec<usize> = [&sharing, &mfa, &matrix]
        .iter()
        .map(|f| said.find(&format!("--> {}:", f.display())).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{said}");
    assert!(
        said.trim_end().ends_with(&format!(
            "error: the policies in `{}` do not load: 3 errors",
            policies.display()
        )),
        "{said}"
    );
    assert!(
        said.is_ascii() && !said.contains('\u{1b}'),
        "plain text off a terminal: {said}"
    );
    // The same on every run
    for _ in 0..3 {
        let again = zorg(&["validate", "--policies", path(&policies)]);
        assert_eq!(stderr(&again), said);
    }
}

#[test]
fn validate_shows_a_schema_error_at_its_place() {
    let dir = TempDir::new("validate-schema");
    let policies = copy_policies(&dir.0);
    let schema = policies.join("zorg.cedarschema");
    edit(
        &schema,
        "  organisation: Organisation,\n};",
        "  organisation: Organisatie,\n};",
    );
    let out = zorg(&["validate", "--policies", path(&policies)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    let (line, column) = place_of(&schema, "Organisatie");
    assert!(
        said.contains(&format!("--> {}:{line}:{column}\n", schema.display())),
        "{said}"
    );
    assert!(said.contains("  organisation: Organisatie,"), "{said}");
    assert!(said.contains("^^^"), "{said}");
    // A dropped fact: the contract names the action and points at its context type
    let out = {
        edit(&schema, "Organisatie", "Organisation");
        edit(&schema, "  referral: Bool,", "");
        zorg(&["validate", "--policies", path(&policies)])
    };
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(
        said.contains("action `view`, attribute `referral`"),
        "{said}"
    );
    let (line, column) = place_of(&schema, "DataContext = {");
    assert!(
        said.contains(&format!("--> {}:{line}:{column}\n", schema.display())),
        "{said}"
    );
}

#[test]
fn validate_shows_every_scenario_error_at_its_field() {
    let dir = TempDir::new("validate-scenario");
    let file = dir.0.join("typos.toml");
    let text = kraamzorg("labuitslag", r#""basis", "kraambedd""#);
    fs::write(&file, &text).unwrap();
    let out = zorg(&["validate", path(&file)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    let (line, column) = place_of(&file, "\"labuitslag\"");
    assert!(
        said.contains(&format!("--> {}:{line}:{column}\n", file.display())),
        "{said}"
    );
    assert!(
        said.contains(&format!("{line} | category = \"labuitslag\"")),
        "{said}"
    );
    let (line, column) = place_of(&file, "\"kraambedd\"");
    assert!(
        said.contains(&format!("--> {}:{line}:{column}\n", file.display())),
        "{said}"
    );
    assert!(
        said.find("labuitslag").unwrap() < said.find("kraambedd").unwrap(),
        "{said}"
    );
    assert!(
        said.contains("error: the scenario files do not check: 2 errors"),
        "{said}"
    );
    // A syntax error: at its place too
    fs::write(&file, text.replace("action = \"view\"", "action = view")).unwrap();
    let out = zorg(&["validate", path(&file)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let (line, column) = place_of(&file, "= view");
    let said = stderr(&out);
    assert!(
        said.contains(&format!("--> {}:{line}:{}\n", file.display(), column + 2)),
        "{said}"
    );
    // `test` shows them the same way
    let out = zorg(&["test", path(&file)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains(&format!("--> {}:{line}:{}\n", file.display(), column + 2)));
    // Fixed, it checks
    fs::write(&file, kraamzorg("labuitslagen", VISIBLE)).unwrap();
    let out = zorg(&["validate", path(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("ok: 1 scenario files, 2 expectations"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn fmt_check_passes_formatted_files_and_lists_the_others_changing_nothing() {
    let dir = TempDir::new("fmt-check");
    let formatted = dir.0.join("formatted.cedar");
    let messy = dir.0.join("messy.cedar");
    let tidy = "// two factors\n@id(\"p\")\n@reason(\"mfa_required\")\nforbid (principal, action, resource)\nunless { context.mfa };\n";
    fs::write(&formatted, tidy).unwrap();
    let untidy = "// two factors\n@id(\"p\")   @reason(\"mfa_required\")\nforbid(principal,action,resource) unless {context.mfa};";
    fs::write(&messy, untidy).unwrap();
    let out = zorg(&["fmt", "--check", path(&formatted)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1 files formatted\n");
    let out = zorg(&["fmt", "--check", path(&formatted), path(&messy)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains(&format!("would reformat {}", messy.display())),
        "{said}"
    );
    assert!(
        !said.contains(&format!("would reformat {}", formatted.display())),
        "{said}"
    );
    assert_eq!(
        fs::read_to_string(&messy).unwrap(),
        untidy,
        "--check changes nothing"
    );
    // A file that does not parse: exit 2 with the error at its place, nothing written
    let broken = dir.0.join("broken.cedar");
    let text = "@id(\"b\")\npermit (principal, action, resource) when { 1 + };\n";
    fs::write(&broken, text).unwrap();
    for args in [
        vec!["fmt", "--check", path(&broken)],
        vec!["fmt", path(&broken)],
    ] {
        let out = zorg(&args);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        let said = stderr(&out);
        assert!(
            said.contains(&format!("--> {}:2:49\n", broken.display())),
            "{said}"
        );
        assert!(
            said.contains("2 | permit (principal, action, resource) when { 1 + };"),
            "{said}"
        );
        assert_eq!(fs::read_to_string(&broken).unwrap(), text);
    }
}

#[test]
fn fmt_rewrites_in_place_keeping_annotations_and_comments() {
    let dir = TempDir::new("fmt-write");
    let policies = copy_policies(&dir.0);
    let mfa = policies.join("mfa.cedar");
    let before = fs::read_to_string(&mfa).unwrap();
    let untidy = before.replace("forbid (", "forbid(").replace('\n', "\n\n");
    fs::write(&mfa, &untidy).unwrap();
    // Without FILES: `policies/*.cedar` of the current directory
    let out = zorg_in(&dir.0, &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("would reformat policies/mfa.cedar"),
        "{}",
        stdout(&out)
    );
    let out = zorg_in(&dir.0, &["fmt", "policies/mfa.cedar"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "reformatted policies/mfa.cedar\n");
    let after = fs::read_to_string(&mfa).unwrap();
    assert_eq!(
        after, before,
        "the shipped file is formatted, so formatting gives it back"
    );
    for line in before
        .lines()
        .filter(|l| l.starts_with("//") || l.starts_with('@'))
    {
        assert!(after.contains(line), "{line}");
    }
    let out = zorg_in(&dir.0, &["fmt", "--check", "policies/mfa.cedar"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // No `policies` folder and no FILES: an error, not a silent success
    let empty = TempDir::new("fmt-nothing");
    let out = zorg_in(&empty.0, &["fmt"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no `policies` folder"),
        "{}",
        stderr(&out)
    );
}
