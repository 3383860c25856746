//! `zorg_pdp::analysis` through the public API: every request of the
//! scenario suite lies in the abstract space and the truth tables answer it
//! as the engine does; diffs of edited sets (a granted pair, a removed
//! forbid, a new category) name exactly what changed, counted; the matrix is
//! the engine's own answer.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use zorg_pdp::analysis::{
    self, AbstractInput, Answer, Change, Field, PrincipalKind, Situation, Space, TruthTables,
    Verdict,
};
use zorg_pdp::{
    ActionKind, Category, DashboardQuery, Decision, Engine, Policies, PractitionerId, Principal,
    Purpose, Reason, Role, Scenario, Source,
};

use crate::common::{at, policies};
use crate::oracle;

fn policies_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies")
}

/// The shipped schema and policy files, as (name, text)
fn shipped_files() -> (String, Vec<(String, String)>) {
    let dir = policies_dir();
    let schema = std::fs::read_to_string(dir.join("zorg.cedarschema")).unwrap();
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    (schema, files)
}

fn load(schema: &str, files: &[(String, String)]) -> Policies {
    Policies::from_sources(schema, files.iter().map(|(n, t)| (n.as_str(), t.as_str()))).unwrap()
}

/// A role-matrix policy listing every granted pair, one role a line
fn matrix_policy(rows: &[(&str, Vec<&str>)]) -> String {
    let lines: Vec<String> = rows
        .iter()
        .map(|(role, cats)| {
            let cats: Vec<String> = cats.iter().map(|c| format!("Category::\"{c}\"")).collect();
            format!(
                "  (principal.role == Role::\"{role}\" && [{}].contains(context.category))",
                cats.join(", ")
            )
        })
        .collect();
    format!(
        "@id(\"forbid-category-not-in-role-matrix\")\n@reason(\"role_not_permitted\")\n\
         forbid (principal is Practitioner, action in [Action::\"view\", Action::\"view_record\"], resource)\n\
         when {{ context.source != Source::\"pgo\" }}\nunless {{\n{}\n}};\n",
        lines.join(" ||\n")
    )
}

/// The matrix of SPEC.md §2 (R12), one row per role, as the oracle states it
fn r12() -> Vec<(&'static str, Vec<&'static str>)> {
    oracle::ROLES
        .iter()
        .map(|&r| {
            let granted = oracle::CATEGORIES
                .iter()
                .copied()
                .filter(|&c| oracle::matrix(r, c));
            (r, granted.collect())
        })
        .collect()
}

/// The shipped files with `role-matrix.cedar` replaced
fn with_matrix(rows: &[(&str, Vec<&str>)]) -> Vec<(String, String)> {
    let (_, mut files) = shipped_files();
    let file = files
        .iter_mut()
        .find(|(name, _)| name == "role-matrix.cedar")
        .expect("the shipped role matrix is `role-matrix.cedar`");
    file.1 = matrix_policy(rows);
    files
}

#[test]
fn every_scenario_request_lies_in_the_space_and_the_tables_answer_as_the_engine() {
    let tables = TruthTables::build(policies()).unwrap();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![policies_dir().join("tests")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml" || x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut decided, mut unknown) = (0, 0);
    let mut actions = std::collections::BTreeSet::new();
    for file in &files {
        let Ok(scenario) = Scenario::load(file) else {
            continue;
        };
        let engine = Engine::with_policies(policies().clone());
        if scenario.load_into(&engine, file, None).is_err() {
            continue;
        }
        for e in &scenario.expect {
            let Ok(request) = e.request() else { continue };
            let response = engine.decide(&request);
            // A stale token (R47) is answered before any policy: outside the
            // policies' space, like an unknown id
            if request.min_seq.is_some_and(|m| m > engine.seq()) {
                assert_eq!(response.reasons, [Reason::StaleFacts]);
                continue;
            }
            let Some(input) = analysis::abstract_input(&engine, &request) else {
                assert_eq!(response.reasons, [Reason::UnknownEntity]);
                unknown += 1;
                continue;
            };
            assert!(
                tables.space().contains(&input),
                "{}: {input:?}",
                file.display()
            );
            assert_eq!(
                tables.decide(&input),
                Some(Verdict::from(&response)),
                "{}: {input:?}",
                file.display()
            );
            actions.insert(input.action);
            decided += 1;
        }
    }
    assert!(decided > 100, "{decided}");
    assert!(unknown > 0);
    assert_eq!(actions.len(), ActionKind::ALL.len(), "{actions:?}");
}

#[test]
fn the_world_of_the_tests_decides_as_the_tables_say_for_every_probe() {
    let engine = crate::common::world();
    let tables = TruthTables::build(&engine.policies()).unwrap();
    for who in ["anna", "vera"] {
        for holder in ["vp-noord", "kz-oost"] {
            for category in policies().vocabulary().categories() {
                for purpose in Purpose::ALL {
                    let mut request = crate::common::view(
                        who,
                        "client-1",
                        holder,
                        category.as_str(),
                        "2026-02-01T00:00:00Z",
                    );
                    if let zorg_pdp::Action::View { purpose: p, .. } = &mut request.action {
                        *p = *purpose;
                    }
                    let input = analysis::abstract_input(&engine, &request).unwrap();
                    assert_eq!(
                        tables.decide(&input),
                        Some(Verdict::from(&engine.decide(&request)))
                    );
                    assert_eq!(
                        analysis::evaluate(&engine.policies(), &input),
                        Verdict::from(&engine.decide(&request))
                    );
                }
            }
        }
    }
}

#[test]
fn the_explicit_r12_matrix_decides_as_the_shipped_one() {
    let (schema, _) = shipped_files();
    let explicit = load(&schema, &with_matrix(&r12()));
    let report = analysis::diff(policies(), &explicit).unwrap();
    // The shipped matrix is explicit too (R51): the texts may even be equal
    assert!(report.changed.len() <= 1, "{:?}", report.changed);
    assert!(report.is_empty(), "{:#?}", report.groups.first());
    assert_eq!(report.inputs, Space::of(policies()).unwrap().len());
}

#[test]
fn a_shipped_set_against_itself_differs_nowhere() {
    let report = analysis::diff(policies(), policies()).unwrap();
    assert!(report.is_empty());
    assert!(report.groups.is_empty() && report.changed.is_empty());
    assert_eq!(report.old, report.new);
}

#[test]
fn granting_echo_to_kraamverzorgende_changes_exactly_that_pair() {
    let (schema, _) = shipped_files();
    let old = load(&schema, &with_matrix(&r12()));
    let mut rows = r12();
    for (role, cats) in &mut rows {
        if *role == "kraamverzorgende" {
            cats.push("echo");
        }
    }
    let new = load(&schema, &with_matrix(&rows));
    let report = analysis::diff(&old, &new).unwrap();
    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.changed[0].id, "forbid-category-not-in-role-matrix");
    assert_eq!(report.changed[0].change, Change::Changed);
    let kraam = Field::One(Role::new("kraamverzorgende").unwrap());
    let echo = Field::One(Category::new("echo").unwrap());
    for g in &report.groups {
        assert_eq!((&g.role, &g.category), (&kraam, &echo), "{g:?}");
        assert!(matches!(
            g.action,
            ActionKind::View | ActionKind::ViewRecord
        ));
        assert_ne!(g.source, Some(Source::Pgo));
        // Old always has the matrix's reason; new never
        let Answer::Deny(old) = &g.old else {
            panic!("{g:?}")
        };
        assert!(old.contains(&Reason::RoleNotPermitted));
        if let Answer::Deny(new) = &g.new {
            assert!(!new.contains(&Reason::RoleNotPermitted));
        }
        assert!(g.count > 0);
    }
    // Every input of that role and category (not from a PGO) differs: the
    // matrix's forbid fired for all of them before and for none after.
    // Practitioner view: 2^3 task sets x 2 mfa x 6 purposes x 2 id patterns
    // (organisation = holder or not) x 2^8 facts (the consent facts
    // included); view_record adds two record facts, module records a third
    // and 3 modules.
    let space = Space::of(&old).unwrap();
    let expected: u64 = space
        .shapes()
        .iter()
        .filter(|s| matches!(s.action(), ActionKind::View | ActionKind::ViewRecord))
        .filter(|s| s.principal() == PrincipalKind::Practitioner && s.source() != Some(Source::Pgo))
        .map(|s| s.len() / (12 * 14))
        .sum();
    assert_eq!(expected, 8 * 2 * 6 * 2 * (256 + 1024 + 3 * 2048));
    assert_eq!(report.differing, expected);
    // Some of them become allowed: the own dossier with mfa and relationship
    let gained: u64 = report
        .groups
        .iter()
        .filter(|g| g.new == Answer::Allow)
        .map(|g| g.count)
        .sum();
    assert!(gained > 0);
    assert!(report.groups.iter().any(|g| g.new == Answer::Allow
        && g.example.fact("relationship") == Some(true)
        && g.example.mfa));
}

#[test]
fn a_removed_forbid_shows_up_as_the_allows_and_reasons_it_took() {
    let (schema, files) = shipped_files();
    let mut with_extra = files.clone();
    with_extra.push((
        "zz-extra.cedar".to_owned(),
        "@id(\"forbid-psychosociaal-in-emergency\")\n@reason(\"role_not_permitted\")\n\
         forbid (principal is Practitioner, action in [Action::\"view\", Action::\"view_record\"], resource)\n\
         when { context.purpose == Purpose::\"emergency\" && context.category == Category::\"psychosociaal\" };\n"
            .to_owned(),
    ));
    let old = load(&schema, &with_extra);
    let new = load(&schema, &files);
    let report = analysis::diff(&old, &new).unwrap();
    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.changed[0].change, Change::Removed);
    assert!(!report.is_empty());
    for g in &report.groups {
        assert_eq!(g.purpose, Field::One(Purpose::Emergency), "{g:?}");
        assert_eq!(
            g.category,
            Field::One(Category::new("psychosociaal").unwrap())
        );
    }
    // Emergency access to psychosociaal comes back for a role the matrix grants it
    let roles_gaining: Vec<&Field<Role>> = report
        .groups
        .iter()
        .filter(|g| g.new == Answer::Allow)
        .map(|g| &g.role)
        .collect();
    assert!(roles_gaining.contains(&&Field::One(Role::new("verloskundige").unwrap())));
    assert!(!roles_gaining.contains(&&Field::One(Role::new("kraamverzorgende").unwrap())));
    // And backwards, the same inputs
    let back = analysis::diff(&new, &old).unwrap();
    assert_eq!(back.differing, report.differing);
    assert_eq!(back.changed[0].change, Change::Added);
}

/// The shipped schema with `wondzorg` as a category
fn schema_with_wondzorg() -> String {
    let (schema, _) = shipped_files();
    let with = schema.replacen("\"psychosociaal\"", "\"psychosociaal\", \"wondzorg\"", 1);
    assert_ne!(with, schema);
    with
}

/// `files` and a consent vocabulary that maps `wondzorg` too (every schema
/// category must have a data category)
fn with_wondzorg_consent(files: &[(String, String)]) -> Vec<(String, String)> {
    let mut files = files.to_vec();
    files.push((
        zorg_pdp::CONSENT_FILE.to_owned(),
        crate::common::consent_with("wondzorg", "GGC002"),
    ));
    files
}

#[test]
fn a_new_category_without_a_grant_gains_no_allow() {
    let (schema, _) = shipped_files();
    let files = with_matrix(&r12());
    let old = load(&schema, &files);
    let new = load(&schema_with_wondzorg(), &with_wondzorg_consent(&files));
    let report = analysis::diff(&old, &new).unwrap();
    assert!(report.changed.is_empty(), "{:?}", report.changed);
    assert!(!report.is_empty());
    let wondzorg = Field::One(Category::new("wondzorg").unwrap());
    for g in &report.groups {
        assert_eq!(g.old, Answer::NotInVocabulary, "{g:?}");
        assert_eq!(g.category, wondzorg, "{g:?}");
        // A patient's own data (view_own) is theirs, whatever its category
        if g.principal == PrincipalKind::Practitioner {
            assert_ne!(g.new, Answer::Allow, "{g:?}");
        }
    }
}

#[test]
fn a_new_category_shows_whom_a_wildcard_row_grants_it() {
    let mut rows = r12();
    let wildcard = "(principal.role == Role::\"huisarts\") ||\n";
    let (schema, _) = shipped_files();
    let mut files = with_matrix(&rows);
    rows.retain(|(r, _)| *r != "huisarts");
    for (name, text) in &mut files {
        if name == "role-matrix.cedar" {
            *text =
                matrix_policy(&rows).replacen("unless {\n", &format!("unless {{\n  {wildcard}"), 1);
        }
    }
    let old = load(&schema, &files);
    let new = load(&schema_with_wondzorg(), &with_wondzorg_consent(&files));
    let report = analysis::diff(&old, &new).unwrap();
    let gaining: Vec<&analysis::DiffGroup> = report
        .groups
        .iter()
        .filter(|g| g.new == Answer::Allow && g.principal == PrincipalKind::Practitioner)
        .collect();
    assert!(!gaining.is_empty());
    for g in gaining {
        assert_eq!(g.role, Field::One(Role::new("huisarts").unwrap()), "{g:?}");
    }
}

#[test]
fn the_matrix_is_r12_and_what_the_dashboards_show() {
    let m = analysis::matrix(policies()).unwrap();
    assert_eq!(m.policies, policies().content_hash());
    let own = m.table(Situation::OwnDossier).unwrap();
    for (r, role) in m.roles.iter().enumerate() {
        for (c, category) in m.categories.iter().enumerate() {
            let cell = &own.rows[r][c];
            assert_eq!(
                cell.is_allowed(),
                oracle::matrix(role.as_str(), category.as_str()),
                "{role} {category}"
            );
            if !cell.is_allowed() {
                assert_eq!(cell.reasons, [Reason::RoleNotPermitted]);
            }
            let shared = m.cell(Situation::SharedDossier, role.as_str(), category.as_str());
            assert_eq!(shared, Some(cell), "{role} {category}");
        }
    }
    for c in ["echo", "labuitslagen", "voorgeschiedenis", "psychosociaal"] {
        let cell = m
            .cell(Situation::OwnDossier, "kraamverzorgende", c)
            .unwrap();
        assert_eq!(cell.decision, Decision::Deny);
    }
    for c in [
        "basis",
        "zwangerschap",
        "bevalling",
        "kraambed",
        "kind",
        "echo",
    ] {
        assert!(
            m.cell(Situation::OwnDossier, "gynaecoloog", c)
                .unwrap()
                .is_allowed()
        );
    }
    // The own-dossier table is what each role's dashboard shows of its own organisation
    let engine = Engine::with_policies(policies().clone());
    let mut practitioners = String::new();
    for r in &m.roles {
        writeln!(
            practitioners,
            "[[practitioners]]\nid = \"{r}\"\norganisation = \"{}\"\nrole = \"{r}\"",
            analysis::OWN_ORGANISATION
        )
        .unwrap();
    }
    let world = format!(
        "[[organisations]]\nid = \"{own}\"\n[[patients]]\nid = \"{x}\"\n{practitioners}\n\
         [[events]]\nat = \"2026-01-01T09:00:00Z\"\ntype = \"treatment_started\"\npatient = \"{x}\"\norganisation = \"{own}\"\n",
        own = analysis::OWN_ORGANISATION,
        x = analysis::PATIENT,
    );
    let scenario = Scenario::parse(&world, Path::new("matrix.toml")).unwrap();
    scenario
        .load_into(&engine, Path::new("matrix.toml"), Some(&world))
        .unwrap();
    for (r, role) in m.roles.iter().enumerate() {
        let answer = engine
            .dashboard(&DashboardQuery {
                principal: Principal::Practitioner(PractitionerId::new(role.as_str()).unwrap()),
                patient: zorg_pdp::PatientId::new(analysis::PATIENT).unwrap(),
                at: at("2026-01-02T09:00:00Z"),
                mfa: true,
                purpose: Purpose::Treatment,
                min_seq: None,
            })
            .unwrap();
        let visible: Vec<&Category> = m
            .categories
            .iter()
            .enumerate()
            .filter(|(c, _)| own.rows[r][*c].is_allowed())
            .map(|(_, c)| c)
            .collect();
        let shown: Vec<&Category> = answer.holders[0].visible.iter().collect();
        assert_eq!(shown, visible, "{role}");
    }
}

#[test]
fn the_matrix_asks_the_engine_so_any_policy_counts() {
    // A forbid outside the role matrix hides `basis` from administrative staff
    let (schema, mut files) = shipped_files();
    files.push((
        "zz-admin.cedar".to_owned(),
        "@id(\"forbid-admin-basis\")\n@reason(\"task_not_authorised\")\n\
         forbid (principal is Practitioner, action == Action::\"view\", resource)\n\
         when { principal.role == Role::\"administratief\" };\n"
            .to_owned(),
    ));
    let m = analysis::matrix(&load(&schema, &files)).unwrap();
    let cell = m
        .cell(Situation::OwnDossier, "administratief", "basis")
        .unwrap();
    assert_eq!(cell.reasons, [Reason::TaskNotAuthorised]);
    // Without the relationship policy's world fact the shared table still needs consent:
    // the shared-dossier world has both, so the two tables agree for the shipped set
    assert!(
        m.cell(Situation::SharedDossier, "huisarts", "basis")
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn abstract_inputs_are_counted_and_described() {
    let space = Space::of(policies()).unwrap();
    let view = space
        .shapes()
        .iter()
        .position(|s| {
            s.action() == ActionKind::View && s.principal() == PrincipalKind::Practitioner
        })
        .unwrap();
    let first: AbstractInput = space.inputs(view).next().unwrap();
    assert_eq!(first.role.as_ref().map(Role::as_str), Some("huisarts"));
    assert!(first.has_holder());
    assert_eq!(first.ids.to_string(), "all distinct");
    let with_holder = space
        .inputs(view)
        .find(|i| {
            i.ids
                .same(analysis::Slot::Organisation, analysis::Slot::Holder)
        })
        .unwrap();
    assert_eq!(with_holder.ids.to_string(), "organisation = holder");
    assert!(space.len() > 50_000_000);
}
