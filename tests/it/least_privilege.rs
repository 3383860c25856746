//! Least privilege (RULES.md §L): R51, the role matrix lists every (role,
//! category) pair it grants, so a new category or role is visible to nobody;
//! R52, a policy set that lacks a forbid an action needs, or whose schema
//! lacks a fact, is refused at load — so deleting a shipped file refuses the
//! set or grants nothing more, over the whole scenario suite.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use zorg_pdp::policy_load_errors::LeastPrivilegeError;
use zorg_pdp::scenario::{collect_files, run_paths};
use zorg_pdp::{
    ActionKind, DashboardQuery, Engine, Policies, PolicyLoadError, Reason, Request, Response,
    Scenario,
};

use crate::common::{self, SCHEMA, SHIPPED};

/// SPEC.md §2's default matrix, as SPEC.md writes it
const SPEC_MATRIX: &str = "
| category | huisarts | poh | diabetesvpk | dietist | podotherapeut | verloskundige | gynaecoloog | kraamverzorgende | jgz | apotheker | medisch_specialist | administratief |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
| basis | x | x | x | x | x | x | x | x | x | x | x | x |
| zwangerschap | x | | | | | x | x | x | | | x | |
| bevalling | x | | | | | x | x | x | x | | x | |
| kraambed | x | | | | | x | x | x | x | | x | |
| kind | x | | | | | x | x | x | x | | x | |
| echo | x | | | | | x | x | | | | x | |
| metingen | x | x | x | x | x | x | x | | | | x | |
| leefstijl | x | x | x | x | | x | x | | | | x | |
| voeding | x | x | x | x | | | | | | | x | |
| voet | x | x | x | | x | | | | | | x | |
| labuitslagen | x | x | x | x | | x | x | | | x | x | |
| medicatie | x | x | x | | | x | x | x | | x | x | |
| voorgeschiedenis | x | x | | | | x | x | | | | x | |
| psychosociaal | x | | | | | x | x | | | | | |
";

/// `role-matrix.cedar` before R51: `huisarts` saw every category and
/// `medisch_specialist` every one but `psychosociaal`, whatever the vocabulary
const OLD_MATRIX: &str = include_str!("fixtures/role-matrix-before-r51.cedar");

const AT: &str = "2026-02-01T00:00:00Z";

/// The SPEC matrix: the (role, category) pairs it grants
fn spec_matrix() -> BTreeSet<(String, String)> {
    let mut lines = SPEC_MATRIX.trim().lines();
    let cells = |l: &str| -> Vec<String> {
        l.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let header = cells(lines.next().unwrap());
    let roles: Vec<String> = header[1..]
        .iter()
        .map(|r| {
            if r == "diabetesvpk" {
                "diabetesverpleegkundige".to_owned()
            } else {
                r.clone()
            }
        })
        .collect();
    let mut granted = BTreeSet::new();
    for line in lines.skip(1) {
        let row = cells(line);
        assert_eq!(row.len(), roles.len() + 1, "{line}");
        for (role, cell) in roles.iter().zip(&row[1..]) {
            if cell == "x" {
                granted.insert((role.clone(), row[0].clone()));
            } else {
                assert_eq!(cell, "", "{line}");
            }
        }
    }
    granted
}

/// The shipped files with `file` replaced by `text` (or left out for `None`)
fn shipped_but(file: &str, text: Option<&str>) -> Vec<(&'static str, String)> {
    assert!(SHIPPED.iter().any(|(n, _)| *n == file), "{file}");
    SHIPPED
        .iter()
        .filter_map(|&(n, t)| match (n == file, text) {
            (false, _) => Some((n, t.to_owned())),
            (true, Some(new)) => Some((n, new.to_owned())),
            (true, None) => None,
        })
        .collect()
}

/// The shipped files
fn shipped() -> Vec<(&'static str, String)> {
    SHIPPED.iter().map(|&(n, t)| (n, t.to_owned())).collect()
}

fn load(schema: &str, files: &[(&str, String)]) -> Result<Policies, PolicyLoadError> {
    Policies::from_sources(schema, files.iter().map(|(n, t)| (*n, t.as_str())))
}

/// The shipped schema with `value` added to the enumerated type whose list
/// ends with `last`
fn schema_with(last: &str, value: &str) -> String {
    let end = format!("\"{last}\"\n];");
    assert_eq!(SCHEMA.matches(&end).count(), 1, "{end}");
    SCHEMA.replace(&end, &format!("\"{last}\", \"{value}\"\n];"))
}

/// A world where every route to holder `h`'s data is open to one
/// practitioner `p-<role>` (of organisation `o-<role>`) per role: treatment
/// relationships, dossier and unplanned-care consent, a referral from `h`,
/// an access request, ownership of `DM`; `h` holds a dossier record
/// `d-<category>` and a `DM` module record `m-<category>` of every category
fn open_world(roles: &[&str], categories: &[&str]) -> String {
    let mut w = String::from("[[organisations]]\nid = \"h\"\n[[patients]]\nid = \"x\"\n");
    let event = |w: &mut String, at: &str, body: &str| {
        writeln!(w, "[[events]]\nat = \"{at}\"\n{body}").unwrap();
    };
    for r in roles {
        writeln!(
            w,
            "[[organisations]]\nid = \"o-{r}\"\n[[practitioners]]\nid = \"p-{r}\"\n\
             organisation = \"o-{r}\"\nrole = \"{r}\""
        )
        .unwrap();
    }
    let t = "2026-01-10T09:00:00Z";
    event(
        &mut w,
        t,
        "type = \"treatment_started\"\npatient = \"x\"\norganisation = \"h\"",
    );
    event(
        &mut w,
        t,
        "type = \"dossier_consent_given\"\npatient = \"x\"\nholder = \"h\"",
    );
    event(
        &mut w,
        t,
        "type = \"unplanned_care_consent_given\"\npatient = \"x\"\nholder = \"h\"",
    );
    for r in roles {
        event(
            &mut w,
            t,
            &format!("type = \"treatment_started\"\npatient = \"x\"\norganisation = \"o-{r}\""),
        );
        event(
            &mut w,
            t,
            &format!("type = \"referral_sent\"\npatient = \"x\"\nfrom = \"h\"\nto = \"o-{r}\""),
        );
        let later = "2026-01-11T09:00:00Z";
        event(
            &mut w,
            later,
            &format!("type = \"access_requested\"\npractitioner = \"p-{r}\"\npatient = \"x\""),
        );
        event(
            &mut w,
            later,
            &format!(
                "type = \"module_ownership_accepted\"\npractitioner = \"p-{r}\"\npatient = \"x\"\nmodule = \"DM\""
            ),
        );
    }
    for c in categories {
        event(
            &mut w,
            t,
            &format!(
                "type = \"record_added\"\nrecord = \"d-{c}\"\npatient = \"x\"\ncategory = \"{c}\"\n\
                 source = \"dossier\"\nholder = \"h\""
            ),
        );
        event(
            &mut w,
            t,
            &format!(
                "type = \"record_added\"\nrecord = \"m-{c}\"\npatient = \"x\"\ncategory = \"{c}\"\n\
                 source = \"module\"\nholder = \"h\"\nmodule = \"DM\""
            ),
        );
    }
    w
}

fn engine(policies: Policies, world: &str) -> Engine {
    let engine = Engine::with_policies(policies);
    let path = Path::new("open-world.toml");
    Scenario::parse(world, path)
        .unwrap()
        .load_into(&engine, path, Some(world))
        .unwrap();
    engine
}

/// Every way `p-<role>` can ask for `category`: the own dossier, `h`'s for
/// treatment, on referral and in an emergency, and `h`'s dossier and module
/// records
fn routes(role: &str, category: &str) -> Vec<Request> {
    let who = format!(
        r#""principal":{{"practitioner":"p-{role}"}},"patient":"x","at":"{AT}","mfa":true"#
    );
    [
        format!(r#""action":"view","holder":"o-{role}","category":"{category}""#),
        format!(r#""action":"view","holder":"h","category":"{category}""#),
        format!(r#""action":"view","holder":"h","category":"{category}","purpose":"referral""#),
        format!(r#""action":"view","holder":"h","category":"{category}","purpose":"emergency""#),
        format!(r#""action":"view_record","record":"d-{category}""#),
        format!(r#""action":"view_record","record":"m-{category}""#),
    ]
    .iter()
    .map(|what| Request::from_json(&format!("{{{who},{what}}}")).unwrap())
    .collect()
}

fn dashboard(role: &str) -> DashboardQuery {
    DashboardQuery::from_json(&format!(
        r#"{{"principal":{{"practitioner":"p-{role}"}},"patient":"x","at":"{AT}","mfa":true}}"#
    ))
    .unwrap()
}

/// The categories the dashboard of `p-<role>` shows per holder (holders
/// showing none left out)
fn shown(engine: &Engine, role: &str) -> BTreeMap<String, Vec<String>> {
    engine
        .dashboard(&dashboard(role))
        .unwrap()
        .holders
        .into_iter()
        .filter(|h| !h.visible.is_empty())
        .map(|h| {
            let visible = h.visible.iter().map(|c| c.as_str().to_owned()).collect();
            (h.holder.as_str().to_owned(), visible)
        })
        .collect()
}

fn names<T: AsRef<str>>(list: &[T]) -> Vec<&str> {
    list.iter().map(AsRef::as_ref).collect()
}

/// R51 changes no decision for today's vocabulary: the explicit rows give
/// the SPEC matrix and exactly the old policy's answers, on every route
#[test]
fn the_explicit_matrix_is_the_spec_matrix_and_decides_as_the_old_one() {
    let spec = spec_matrix();
    let vocabulary = common::policies().vocabulary();
    let roles: Vec<&str> = vocabulary
        .roles()
        .iter()
        .map(zorg_pdp::Role::as_str)
        .collect();
    let categories: Vec<&str> = vocabulary
        .categories()
        .iter()
        .map(zorg_pdp::Category::as_str)
        .collect();
    let pairs: BTreeSet<(String, String)> = roles
        .iter()
        .flat_map(|r| {
            categories
                .iter()
                .map(move |c| ((*r).to_owned(), (*c).to_owned()))
        })
        .collect();
    assert_eq!(pairs.len(), 12 * 14);
    assert!(
        spec.is_subset(&pairs),
        "the SPEC matrix names what the vocabulary lacks"
    );

    let world = open_world(&roles, &categories);
    let new = engine(common::policies().clone(), &world);
    let old = engine(
        load(SCHEMA, &shipped_but("role-matrix.cedar", Some(OLD_MATRIX))).unwrap(),
        &world,
    );
    let mut allowed = 0;
    for (role, category) in &pairs {
        let granted = spec.contains(&(role.clone(), category.clone()));
        for request in routes(role, category) {
            let answer: Response = new.decide(&request);
            assert_eq!(
                answer,
                old.decide(&request),
                "{role} {category} {request:?}"
            );
            assert_eq!(
                answer.is_allowed(),
                granted,
                "{role} {category}: {answer:?}"
            );
            if granted {
                allowed += 1;
            } else {
                assert_eq!(
                    answer.reasons,
                    [Reason::RoleNotPermitted],
                    "{role} {category}"
                );
            }
        }
    }
    assert_eq!(allowed, spec.len() * 6);
    for role in &roles {
        let want: Vec<&str> = categories
            .iter()
            .copied()
            .filter(|c| spec.contains(&((*role).to_owned(), (*c).to_owned())))
            .collect();
        let seen = shown(&new, role);
        assert_eq!(seen, shown(&old, role), "{role}");
        let own = format!("o-{role}");
        assert_eq!(
            seen.keys().map(String::as_str).collect::<Vec<_>>(),
            {
                let mut k = vec!["h", own.as_str()];
                k.sort_unstable();
                k
            },
            "{role}"
        );
        for visible in seen.values() {
            assert_eq!(names(visible), want, "{role}");
        }
    }
}

/// R51: a category added to the schema, and named by no policy, is shown to
/// no role — on any route, in any dashboard; the old wildcard rows showed it
/// to `huisarts` and `medisch_specialist`
#[test]
fn a_new_category_is_visible_to_no_role() {
    let schema = schema_with("psychosociaal", "wondzorg");
    // Every category of the schema has a data category (consent.toml)
    let consent = (
        zorg_pdp::CONSENT_FILE,
        common::consent_with("wondzorg", "GGC002"),
    );
    let mut files = shipped();
    files.push(consent.clone());
    let policies = load(&schema, &files).unwrap();
    assert!(
        policies
            .vocabulary()
            .categories()
            .iter()
            .any(|c| c.as_str() == "wondzorg")
    );
    let roles: Vec<String> = policies
        .vocabulary()
        .roles()
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    let roles: Vec<&str> = names(&roles);
    let world = open_world(&roles, &["basis", "wondzorg"]);
    let new = engine(policies, &world);
    for role in &roles {
        for request in routes(role, "wondzorg") {
            let answer = new.decide(&request);
            assert_eq!(
                answer.reasons,
                [Reason::RoleNotPermitted],
                "{role} {request:?}"
            );
        }
        // The same routes are open for a category the role's row names
        for request in routes(role, "basis") {
            assert!(new.decide(&request).is_allowed(), "{role} {request:?}");
        }
        let seen = shown(&new, role);
        assert_eq!(seen.len(), 2, "{role}: {seen:?}");
        assert!(
            seen.values()
                .all(|v| v.iter().any(|c| c == "basis") && !v.iter().any(|c| c == "wondzorg")),
            "{role}: {seen:?}"
        );
    }

    // The old matrix with the same schema: its wildcard rows show it
    let mut old_files = shipped_but("role-matrix.cedar", Some(OLD_MATRIX));
    old_files.push(consent);
    let old = engine(load(&schema, &old_files).unwrap(), &world);
    let wildcard: Vec<&str> = roles
        .iter()
        .copied()
        .filter(|r| {
            shown(&old, r)
                .values()
                .any(|v| v.iter().any(|c| c == "wondzorg"))
        })
        .collect();
    assert_eq!(wildcard, ["huisarts", "medisch_specialist"]);
}

/// R51: a role added to the schema, and named by no policy, sees nothing
#[test]
fn a_new_role_sees_nothing() {
    let schema = schema_with("administratief", "fysiotherapeut");
    let policies = load(&schema, &shipped()).unwrap();
    let categories: Vec<String> = policies
        .vocabulary()
        .categories()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let categories = names(&categories);
    let world = open_world(&["fysiotherapeut", "huisarts"], &categories);
    let e = engine(policies, &world);
    for category in &categories {
        for request in routes("fysiotherapeut", category) {
            let answer = e.decide(&request);
            assert_eq!(
                answer.reasons,
                [Reason::RoleNotPermitted],
                "{category} {request:?}"
            );
        }
        // huisarts, in the same world, sees it
        assert!(
            e.decide(&routes("huisarts", category)[1]).is_allowed(),
            "{category}"
        );
    }
    assert_eq!(shown(&e, "fysiotherapeut"), BTreeMap::new());
    let answer = e.dashboard(&dashboard("fysiotherapeut")).unwrap();
    let h = answer
        .holders
        .iter()
        .find(|h| h.holder.as_str() == "h")
        .unwrap();
    assert_eq!(h.reasons, [Reason::RoleNotPermitted]);
}

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/tests")
}

/// Every allow a policy set gives over the scenario suite: the `[[expect]]`
/// requests it allows, and per `[[expect_dashboard]]` the (holder,
/// category) pairs it shows and the modules it lets the practitioner work in
fn suite_allows(policies: &Policies) -> BTreeSet<String> {
    let mut allows = BTreeSet::new();
    for file in collect_files(&[tests_dir()]).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        let scenario = Scenario::parse(&text, &file).unwrap();
        let engine = Engine::with_policies(policies.clone());
        scenario.load_into(&engine, &file, Some(&text)).unwrap();
        let name = file
            .strip_prefix(tests_dir())
            .unwrap()
            .display()
            .to_string();
        for (i, exp) in scenario.expect.iter().enumerate() {
            if engine.decide(&exp.request().unwrap()).is_allowed() {
                allows.insert(format!("{name} expect #{}", i + 1));
            }
        }
        for (i, exp) in scenario.expect_dashboard.iter().enumerate() {
            let answer = engine.dashboard(&exp.query()).unwrap();
            for h in &answer.holders {
                for c in &h.visible {
                    allows.insert(format!(
                        "{name} expect_dashboard #{} {} {c}",
                        i + 1,
                        h.holder
                    ));
                }
            }
            for m in answer.modules.iter().filter(|m| m.allowed) {
                allows.insert(format!(
                    "{name} expect_dashboard #{} module {}",
                    i + 1,
                    m.module
                ));
            }
        }
    }
    allows
}

/// The reason codes of the forbids in a policy text
fn forbid_reasons(text: &str) -> BTreeSet<Reason> {
    text.split("@reason(\"")
        .skip(1)
        .map(|rest| Reason::from_name(&rest[..rest.find('"').unwrap()]).unwrap())
        .collect()
}

/// R52: delete each shipped file in turn. The set is refused — for codes
/// only that file's forbids carried — or it loads and allows nothing over
/// the scenario suite that the full set denies (and, each file being
/// reached by the suite, strictly less)
#[test]
fn deleting_any_shipped_file_refuses_the_set_or_grants_nothing_more() {
    let full = suite_allows(common::policies());
    assert!(full.len() > 200, "{}", full.len());
    let mut refused = Vec::new();
    let mut narrower = Vec::new();
    for &(file, text) in &SHIPPED {
        match load(SCHEMA, &shipped_but(file, None)) {
            Err(PolicyLoadError::LeastPrivilege(gaps)) => {
                let carried = forbid_reasons(text);
                for gap in &gaps {
                    assert!(carried.contains(&gap.reason()), "{file}: {gap}");
                    assert_ne!(gap.file(), file, "{gap}");
                }
                refused.push(file);
            }
            Err(other) => panic!("{file}: {other}"),
            Ok(reduced) => {
                let allows = suite_allows(&reduced);
                let wider: Vec<&String> = allows.difference(&full).collect();
                assert!(wider.is_empty(), "without {file}, allowed: {wider:#?}");
                assert!(allows.len() < full.len(), "{file}: {} allows", allows.len());
                narrower.push(file);
            }
        }
    }
    assert_eq!(
        refused,
        [
            "mfa.cedar",
            "records.cedar",
            "role-matrix.cedar",
            "view-planned-care.cedar",
            "view-relationship.cedar",
            "view-shared-dossier.cedar",
            "view-unplanned-care.cedar",
        ]
    );
    assert_eq!(
        narrower,
        [
            "access-and-sharing.cedar",
            "administration.cedar",
            "care-modules.cedar",
            "external-parties.cedar",
            "patient.cedar",
            "view-own-dossier.cedar",
        ]
    );
}

/// R52: a set missing one forbid is refused, naming every permit it leaves
/// open with its file, line and id, the action and the code, in a fixed order
#[test]
fn a_set_missing_a_forbid_is_refused_naming_file_line_and_policy() {
    let text = SHIPPED
        .iter()
        .find(|(n, _)| *n == "view-shared-dossier.cedar")
        .unwrap()
        .1;
    let cut = text
        .find("@id(\"forbid-view-without-access-request\")")
        .unwrap();
    let files = shipped_but("view-shared-dossier.cedar", Some(&text[..cut]));
    let gaps = match load(SCHEMA, &files) {
        Err(PolicyLoadError::LeastPrivilege(gaps)) => gaps,
        other => panic!("{other:?}"),
    };
    let found: Vec<(&str, usize, &str, ActionKind)> = gaps
        .iter()
        .map(|g| (g.file(), g.line(), g.policy_id(), g.action()))
        .collect();
    use ActionKind::{View, ViewRecord};
    assert_eq!(
        found,
        [
            ("records.cedar", 32, "permit-view-module-record", ViewRecord),
            ("view-own-dossier.cedar", 4, "permit-view-own-dossier", View),
            (
                "view-own-dossier.cedar",
                4,
                "permit-view-own-dossier",
                ViewRecord
            ),
            (
                "view-planned-care.cedar",
                4,
                "permit-view-on-referral",
                View
            ),
            (
                "view-planned-care.cedar",
                4,
                "permit-view-on-referral",
                ViewRecord
            ),
            (
                "view-shared-dossier.cedar",
                9,
                "permit-view-shared-dossier",
                View
            ),
            (
                "view-shared-dossier.cedar",
                9,
                "permit-view-shared-dossier",
                ViewRecord
            ),
            (
                "view-unplanned-care.cedar",
                4,
                "permit-view-in-emergency",
                View
            ),
            (
                "view-unplanned-care.cedar",
                4,
                "permit-view-in-emergency",
                ViewRecord
            ),
        ]
    );
    assert!(gaps.iter().all(|g| g.reason() == Reason::AccessNotRequested
        && g.principals() == ["Practitioner"]));
    assert_eq!(
        gaps.iter().map(LeastPrivilegeError::rules).next(),
        Some("R18")
    );
    let message = PolicyLoadError::from(gaps.clone()).to_string();
    assert_eq!(message.lines().count(), 10, "{message}");
    assert!(
        message.starts_with("least privilege (RULES.md R52)"),
        "{message}"
    );
    assert_eq!(
        message.lines().nth(6),
        Some(
            "  `view-shared-dossier.cedar` line 9, policy `permit-view-shared-dossier`: grants \
             `view` to `Practitioner`, but no forbid covering that carries \
             `@reason(\"access_not_requested\")` (R6)"
        ),
        "{message}"
    );
    // The same gaps, in the same order, on every load
    for _ in 0..5 {
        match load(SCHEMA, &files) {
            Err(PolicyLoadError::LeastPrivilege(again)) => assert_eq!(again, gaps),
            other => panic!("{other:?}"),
        }
    }
}

/// R52: a schema that lacks a fact the engine supplies is refused, naming
/// the schema's file and line, the actions and the fact
#[test]
fn a_schema_missing_a_fact_is_refused_naming_it() {
    let line = "  referral: Bool,                 // a referral_sent from h to o for x\n";
    assert_eq!(SCHEMA.matches(line).count(), 1);
    let schema = SCHEMA.replace(line, "");
    // The contract error comes with the validation errors of the policies
    // that read the fact: every error at once
    let errors = match load(&schema, &shipped()) {
        Err(PolicyLoadError::Contract(errors)) => errors,
        Err(PolicyLoadError::Several(all)) => match all.iter().next() {
            Some(PolicyLoadError::Contract(errors)) => errors.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    type Found<'e> = (Option<ActionKind>, Option<&'e str>, &'e str, Option<usize>);
    let found: Vec<Found<'_>> = errors
        .iter()
        .map(|e| (e.action(), e.attribute(), e.file(), e.line()))
        .collect();
    let data_context = SCHEMA
        .lines()
        .position(|l| l.starts_with("type DataContext"))
        .unwrap()
        + 1;
    assert_eq!(
        found,
        [
            (
                Some(ActionKind::View),
                Some("referral"),
                "zorg.cedarschema",
                Some(data_context)
            ),
            (
                Some(ActionKind::ViewRecord),
                Some("referral"),
                "zorg.cedarschema",
                Some(data_context)
            ),
        ]
    );
    let message = PolicyLoadError::from(errors).to_string();
    assert!(
        message.contains(&format!(
            "`zorg.cedarschema` line {data_context}, action `view`, attribute `referral`: not declared"
        )),
        "{message}"
    );
}

/// R51 is in the scenario files, with allows and denies; R52 (a load
/// refusal) is not something a scenario can express, so it is tested here
#[test]
fn r51_is_covered_by_scenario_files() {
    let report = run_paths(
        common::policies(),
        &[tests_dir().join("r51-least-privilege.toml")],
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.failed, 0, "{:?}", report.failures);
    let (allow, deny) = report.coverage.by_rule["R51"];
    assert!(allow >= 14 && deny >= 3, "R51: {allow} allow, {deny} deny");
}

/// `common::SHIPPED` is the shipped folder, file for file
#[test]
fn the_test_list_of_shipped_files_is_the_policy_folder() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    on_disk.sort();
    let listed: Vec<(String, String)> = SHIPPED
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(listed, on_disk);
    assert_eq!(
        common::shipped_with(&[]).unwrap().content_hash(),
        common::policies().content_hash()
    );
}
