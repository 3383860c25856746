//! `zorg-pdp prove`: the shipped properties proved with cvc5, mutated policy
//! folders refuted with counterexamples that are checked field by field, a
//! custom properties file, and the errors (no solver, a broken properties
//! file, broken policies) with exit 2.
//!
//! The tests that run the solver need cvc5 (`apt-get install cvc5`; CI
//! installs it). Without it they fail, saying so, unless
//! `ZORG_PDP_SKIP_PROVE=1` is set explicitly.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::helpers::{TempDir, line_of, path, stderr, stdout, zorg};

/// Whether cvc5 is there to prove with; fails the test when it is not,
/// unless skipping was asked for explicitly
fn have_cvc5() -> bool {
    let named = std::env::var_os("CVC5").filter(|v| !v.is_empty());
    let found = match named {
        Some(p) => Path::new(&p).is_file(),
        None => std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("cvc5").is_file())),
    };
    if found {
        return true;
    }
    assert!(
        std::env::var("ZORG_PDP_SKIP_PROVE").as_deref() == Ok("1"),
        "the `prove` tests need the SMT solver cvc5: `apt-get install cvc5` (or CVC5=PATH); \
         set ZORG_PDP_SKIP_PROVE=1 to skip them explicitly"
    );
    eprintln!("ZORG_PDP_SKIP_PROVE=1: skipping a `prove` test, cvc5 is not installed");
    false
}

/// The checkout's `policies/`
fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// A copy of the shipped policy folder (schema, policies, properties)
fn copy_of_policies(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    for entry in fs::read_dir(shipped()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), dir.0.join(entry.file_name())).unwrap();
        }
    }
    dir
}

fn append(file: &Path, text: &str) {
    let mut old = fs::read_to_string(file).unwrap();
    old.push_str(text);
    fs::write(file, old).unwrap();
}

/// The property names of a properties file, in order
fn property_names(toml_text: &str) -> Vec<String> {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    value["property"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The lines of the block of `FAILED  name`, up to the next property line
fn failure_of<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    let start = format!("FAILED  {name}");
    let heads = |l: &str| {
        l.strip_prefix(&start)
            .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with(':'))
    };
    let mut lines = out.lines().skip_while(|l| !heads(l));
    let Some(first) = lines.next() else {
        panic!("no `{start}` in:\n{out}")
    };
    let mut block = vec![first];
    block.extend(lines.take_while(|l| l.starts_with("  ")));
    block
}

/// The field lines (`principal:`, `context:`, …) of the first counterexample of a block
fn first_counterexample<'a>(block: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    block
        .iter()
        .skip_while(|l| !l.starts_with("  counterexample 1 of"))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k, v.trim()))
        .collect()
}

fn field<'a>(cx: &[(&'a str, &'a str)], name: &str) -> &'a str {
    let found = cx.iter().find(|(k, _)| *k == name);
    found.unwrap_or_else(|| panic!("no `{name}:` in {cx:?}")).1
}

#[test]
fn the_shipped_policies_prove_every_shipped_property() {
    if !have_cvc5() {
        return;
    }
    let names = property_names(&fs::read_to_string(shipped().join("properties.toml")).unwrap());
    assert_eq!(
        names,
        [
            "another-holders-data-needs-grounds",
            "two-factors-for-people",
            "kraamverzorgende-birth-care-only",
            "reads-only-supplied-facts",
            "policies-never-error",
        ]
    );
    // The embedded set with the embedded properties, and the checkout's folder
    // with its properties.toml
    for args in [vec!["prove"], vec!["prove", "--policies", path(&shipped())]] {
        let out = zorg(&args);
        let (text, errors) = (stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(0), "{text}\n{errors}");
        for name in &names {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("proved  {name} "))),
                "{name} not proved:\n{text}"
            );
        }
        assert_eq!(
            text.lines().filter(|l| l.starts_with("proved  ")).count(),
            names.len(),
            "{text}"
        );
        assert!(!text.contains("FAILED"), "{text}");
        assert!(text.contains("5 properties: 5 proved, 0 failed"), "{text}");
        assert!(text.contains("solver: cvc5 "), "{text}");
        assert!(text.contains("request environments: 36"), "{text}");
    }
}

/// The role matrix of the shipped properties (`spec-matrix`, SPEC.md §2) as
/// a policy file, with `echo` added to the kraamverzorgende row: the edit a
/// policy author might make by mistake, whatever form `role-matrix.cedar` has
fn matrix_showing_echo_to_kraamverzorgende() -> String {
    let properties: toml::Value =
        toml::from_str(&fs::read_to_string(shipped().join("properties.toml")).unwrap()).unwrap();
    let matrix = properties["shared"]["spec-matrix"].as_str().unwrap();
    let row = "(principal.role == Role::\"kraamverzorgende\" &&\n   [";
    assert!(matrix.contains(row), "{matrix}");
    let edited = matrix.replacen(row, &format!("{row}Category::\"echo\", "), 1);
    format!(
        "@id(\"forbid-category-not-in-role-matrix\")\n@reason(\"role_not_permitted\")\n{edited}"
    )
}

#[test]
fn a_matrix_showing_echo_to_kraamverzorgende_fails_with_a_real_counterexample() {
    if !have_cvc5() {
        return;
    }
    let dir = copy_of_policies("prove-echo");
    fs::write(
        dir.0.join("role-matrix.cedar"),
        matrix_showing_echo_to_kraamverzorgende(),
    )
    .unwrap();
    let out = zorg(&["prove", "--policies", path(&dir.0)]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    let block = failure_of(&text, "kraamverzorgende-birth-care-only");
    let cx = first_counterexample(&block);
    let principal = field(&cx, "principal");
    assert!(principal.starts_with("Practitioner "), "{principal}");
    assert!(principal.contains("role kraamverzorgende"), "{principal}");
    let context = field(&cx, "context");
    assert!(context.contains("category echo"), "{context}");
    assert!(
        ["view", "view_record"].contains(&field(&cx, "action")),
        "{cx:?}"
    );
    // Any allow needs mfa and the treatment relationship: a counterexample
    // without them would be none
    let facts: Vec<&str> = field(&cx, "true").split(", ").collect();
    assert!(
        facts.contains(&"mfa") && facts.contains(&"relationship"),
        "{cx:?}"
    );
    // Allowed by one of the view permits, refused by the property's forbid,
    // named by its line in the properties file
    let properties = fs::read_to_string(dir.0.join("properties.toml")).unwrap();
    let forbid = line_of(
        &properties,
        "forbid (principal is Practitioner, action, resource)",
    );
    let refused = format!(
        "properties.toml:{forbid} (property `kraamverzorgende-birth-care-only`, field `bound`) denies it"
    );
    assert!(
        block
            .iter()
            .any(|l| l.contains("the policies allow it (by `permit-view-") && l.contains(&refused)),
        "{refused}: {block:#?}"
    );
    // The matrix bound of the first property catches it too; mfa still holds
    let grounds = failure_of(&text, "another-holders-data-needs-grounds");
    assert!(
        grounds.iter().any(|l| l.contains("spec-matrix")),
        "{grounds:#?}"
    );
    assert!(text.contains("proved  two-factors-for-people "), "{text}");
    assert!(text.contains("3 proved, 2 failed"), "{text}");
}

#[test]
fn exempting_patients_from_the_mfa_forbid_fails_with_a_patient_without_mfa() {
    if !have_cvc5() {
        return;
    }
    let dir = copy_of_policies("prove-mfa");
    let mfa = dir.0.join("mfa.cedar");
    let text = fs::read_to_string(&mfa).unwrap();
    let weakened = "when { principal is Practitioner && !context.mfa };";
    let edited = text.replace(
        "when { !(principal is Organisation) && !context.mfa };",
        weakened,
    );
    assert!(edited.contains(weakened), "mfa.cedar changed: {text}");
    fs::write(&mfa, edited).unwrap();
    let out = zorg(&["prove", "--policies", path(&dir.0)]);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{said}\n{}", stderr(&out));
    let block = failure_of(&said, "two-factors-for-people");
    let cx = first_counterexample(&block);
    assert!(field(&cx, "principal").starts_with("Patient "), "{cx:?}");
    assert!(
        field(&cx, "false").split(", ").any(|f| f == "mfa"),
        "{cx:?}"
    );
    assert!(
        ["view_own", "view_access_log"].contains(&field(&cx, "action")),
        "only these allow a patient: {cx:?}"
    );
    assert!(
        block
            .iter()
            .any(|l| l.contains("no permit of the property's bound matches it")),
        "{block:#?}"
    );
}

#[test]
fn a_policy_reading_what_the_engine_never_supplies_or_erring_is_named() {
    if !have_cvc5() {
        return;
    }
    let dir = copy_of_policies("prove-reads");
    // `view` shares DataContext, which declares `module?`, but is never sent one
    append(
        &dir.0.join("view-own-dossier.cedar"),
        r#"
@id("permit-view-in-module")
permit (principal is Practitioner, action == Action::"view", resource)
when { context has module && context.module == CareModule::"DM" };
"#,
    );
    // An optional counter the engine never sends, and a sum that can overflow
    let schema = dir.0.join("zorg.cedarschema");
    let text = fs::read_to_string(&schema).unwrap();
    assert!(text.contains("type DataContext = {"));
    fs::write(
        &schema,
        text.replace(
            "type DataContext = {",
            "type DataContext = {\n  visits?: Long,",
        ),
    )
    .unwrap();
    append(
        &dir.0.join("records.cedar"),
        r#"
@id("forbid-many-visits")
@reason("record_flagged")
forbid (principal, action == Action::"view_record", resource)
when { context has visits && context.visits + 1 > 100 };
"#,
    );
    let out = zorg(&["prove", "--policies", path(&dir.0)]);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{said}\n{}", stderr(&out));
    let reads = failure_of(&said, "reads-only-supplied-facts").join("\n");
    assert!(
        reads.contains(
            "`permit-view-in-module` reads context.module, which the engine never supplies for `view`"
        ),
        "{reads}"
    );
    assert!(
        reads.contains("module DM [never supplied by the engine for this action]"),
        "{reads}"
    );
    assert!(
        reads.contains("`forbid-many-visits` reads context.visits"),
        "{reads}"
    );
    let errors = failure_of(&said, "policies-never-error");
    assert!(
        errors
            .iter()
            .any(|l| l.contains("`forbid-many-visits` errors:") && l.contains("overflow")),
        "{errors:#?}"
    );
    // Only the new policy errs, in the three principal types' `view_record`
    assert!(
        errors
            .iter()
            .all(|l| !l.contains("policy `") || l.contains("`forbid-many-visits`")),
        "{errors:#?}"
    );
    assert!(
        errors[0].contains(": 3 failing cases in 36 request environments"),
        "{errors:#?}"
    );
}

#[test]
fn a_custom_properties_file_proves_its_own_properties_only() {
    if !have_cvc5() {
        return;
    }
    let dir = TempDir::new("prove-custom");
    let file = dir.0.join("mine.toml");
    fs::write(
        &file,
        r#"[shared]
basis-only = '''
forbid (principal is Practitioner, action in [Action::"view", Action::"view_record"], resource)
when { principal.role == Role::"administratief" && context.category != Category::"basis" };
'''

[[property]]
name = "administratief-sees-basis-only"
check = "implies"
actions = ["view", "view_record"]
principals = ["Practitioner"]
uses = ["basis-only"]
bound = "permit (principal, action, resource);"

[[property]]
name = "huisarts-never-sees-psychosociaal"
description = "Not so: the huisarts row has every category."
check = "implies"
bound = '''
permit (principal, action, resource);
forbid (principal is Practitioner, action, resource)
when { principal.role == Role::"huisarts" && context has category &&
       context.category == Category::"psychosociaal" };
'''
"#,
    )
    .unwrap();
    let out = zorg(&["prove", path(&file)]);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{said}\n{}", stderr(&out));
    assert!(
        said.contains(&format!("properties: {} (2)", file.display())),
        "{said}"
    );
    assert!(
        said.contains("proved  administratief-sees-basis-only: 2 request environments"),
        "{said}"
    );
    let block = failure_of(&said, "huisarts-never-sees-psychosociaal");
    assert!(
        block.contains(&"  the property: Not so: the huisarts row has every category."),
        "{block:#?}"
    );
    let cx = first_counterexample(&block);
    assert!(field(&cx, "principal").contains("role huisarts"), "{cx:?}");
    assert!(
        field(&cx, "context").contains("category psychosociaal"),
        "{cx:?}"
    );
    assert!(
        block
            .iter()
            .any(|l| l.contains(&format!("the forbid at {}:21", file.display()))),
        "the bound's forbid and its line: {block:#?}"
    );
    assert!(said.contains("2 properties: 1 proved, 1 failed"), "{said}");
    assert!(!said.contains("two-factors-for-people"), "{said}");
}

/// zorg-pdp with no `CVC5` and a PATH without cvc5
fn without_cvc5(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zorg-pdp"))
        .args(args)
        .env_remove("CVC5")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap()
}

#[test]
fn without_the_solver_prove_says_how_to_install_and_point_at_it() {
    for (out, tried) in [
        (without_cvc5(&["prove"]), "`cvc5` is not on the PATH"),
        (
            without_cvc5(&["prove", "--solver", "/nonexistent/cvc5"]),
            "`/nonexistent/cvc5` does not exist",
        ),
    ] {
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains("the SMT solver cvc5 was not found"), "{said}");
        assert!(said.contains(tried), "{said}");
        assert!(said.contains("apt-get install cvc5"), "{said}");
        assert!(
            said.contains("--solver PATH") && said.contains("`CVC5`"),
            "{said}"
        );
        assert!(stdout(&out).is_empty(), "nothing is claimed proved");
    }
}

#[test]
fn a_broken_properties_file_is_refused_naming_file_line_and_field() {
    let dir = TempDir::new("prove-broken");
    let file = dir.0.join("broken.toml");
    let cases = [
        (
            "[[property]]\nname = \"a\"\ncheck = \"imply\"\n",
            ":3: property `a`, field `check` = `imply`: not a check",
        ),
        (
            "[[property]]\nname = \"a\"\ncheck = \"implies\"\nbound = '''\npermit (principal, action, resource)\nwhen { context.mfa &&& true };\n'''\n",
            ":6: property `a`, field `bound`: ",
        ),
        (
            "[[property]]\nname = \"a\"\ncheck = \"implies\"\nbound = '''\npermit (principal, action, resource);\n\nforbid (principal, action, resource) when { context.mfaa };\n'''\n",
            ":7: property `a`, field `bound`: ",
        ),
        (
            "[[property]]\nname = \"a\"\ncheck = \"never_errors\"\nprincipals = [\"Practitoner\"]\n",
            ":4: property `a`, field `principals` = `Practitoner`: the schema declares no such name",
        ),
        ("[[property]\n", ":1: "),
    ];
    for (text, expected) in cases {
        fs::write(&file, text).unwrap();
        // Read and checked before any solver is looked for
        let out = without_cvc5(&["prove", path(&file)]);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}\n{said}");
        assert!(
            said.contains(&format!("{}{expected}", file.display())),
            "expected `{expected}` for\n{text}\ngot: {said}"
        );
    }
    let out = without_cvc5(&["prove", path(&dir.0.join("missing.toml"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("missing.toml: cannot read the properties file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn broken_policies_are_refused_before_anything_is_proved() {
    let dir = copy_of_policies("prove-bad-policy");
    fs::write(
        dir.0.join("typo.cedar"),
        "@id(\"p\") permit (principal, action, resource) when { context.mfaa };\n",
    )
    .unwrap();
    let out = without_cvc5(&["prove", "--policies", path(&dir.0)]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("typo.cedar"), "{said}");
}

/// A "solver" that answers `unknown` to every query (as cvc5 does at its time limit)
#[cfg(unix)]
#[test]
fn a_query_without_an_answer_is_an_error_never_proved() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new("prove-unknown");
    let fake = dir.0.join("cvc5");
    fs::write(
        &fake,
        "#!/bin/sh\n\
         if [ \"$1\" = \"--version\" ]; then echo 'This is cvc5 version 1.0.3'; exit 0; fi\n\
         while IFS= read -r line; do\n\
           case \"$line\" in *'(check-sat)'*) echo unknown;; esac\n\
         done\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let out = without_cvc5(&["prove", "--solver", path(&fake)]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{said}\n{}", stdout(&out));
    assert!(
        said.contains("property `another-holders-data-needs-grounds`"),
        "{said}"
    );
    assert!(said.contains("the solver gave no answer"), "{said}");
    assert!(said.contains("unknown"), "{said}");
    assert!(!stdout(&out).contains("proved  "), "{}", stdout(&out));
}
