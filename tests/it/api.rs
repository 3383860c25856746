//! The public API: fail closed (R3), unknown entities (R2), reloads, threads.

use std::sync::Arc;

use zorg_pdp::{
    Decision, Engine, Event, Organisation, OrganisationId, PatientId, Policies, Practitioner,
    PractitionerId, Reason, Request, Role,
};

use crate::common::{self, load_world};

const SCHEMA: &str = include_str!("../../policies/zorg.cedarschema");

/// `anna` (kraamverzorgende at `kz-oost`) views `category` of `client-1` held by `vp-noord`
fn view(category: &str, when: &str) -> Request {
    common::view("anna", "client-1", "vp-noord", category, when)
}

#[test]
fn engine_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
}

#[test]
fn an_erroring_forbid_fails_closed() {
    // Strict validation accepts this forbid, but its arithmetic overflows at
    // run time. Cedar would skip it and let the shipped permit win; the engine denies.
    let policies = common::shipped_with(&[(
        "p.cedar",
        r#"@id("forbid-overflow") @reason("not_permitted")
           forbid(principal, action, resource) when { 9223372036854775807 + 1 > 0 };"#,
    )])
    .unwrap();
    let engine = Engine::with_policies(policies);
    load_world(&engine);
    assert!(
        common::world()
            .decide(&view("kraambed", "2026-02-01T00:00:00Z"))
            .is_allowed()
    );
    let r = engine.decide(&view("kraambed", "2026-02-01T00:00:00Z"));
    assert_eq!(r.decision, Decision::Deny);
    assert_eq!(r.reasons, vec![Reason::EvaluationError]);
    assert!(
        r.policies.contains(&"forbid-overflow".to_owned()),
        "{:?}",
        r.policies
    );
    assert_eq!(
        engine.decide_plain(&view("kraambed", "2026-02-01T00:00:00Z")),
        r
    );
}

/// A host's permit beside the shipped ones: `view` for practitioners, which
/// the shipped forbids cover (least privilege), with `condition`
fn with_permit(id: &str, condition: &str) -> Policies {
    let text = format!(
        "@id(\"{id}\") permit(principal is Practitioner, action == Action::\"view\", resource) \
         when {{ {condition} }};"
    );
    common::shipped_with(&[("p.cedar", &text)]).unwrap()
}

#[test]
fn an_erroring_permit_fails_closed_too() {
    let engine = Engine::with_policies(with_permit(
        "permit-overflow",
        "9223372036854775807 + 1 > 0",
    ));
    load_world(&engine);
    let r = engine.decide(&view("kraambed", "2026-02-01T00:00:00Z"));
    assert_eq!(r.decision, Decision::Deny);
    assert_eq!(r.reasons, vec![Reason::EvaluationError]);
}

#[test]
fn without_errors_the_same_policies_allow() {
    let engine = Engine::with_policies(with_permit(
        "permit-no-overflow",
        "9223372036854775806 + 1 > 0",
    ));
    load_world(&engine);
    let r = engine.decide(&view("kraambed", "2026-02-01T00:00:00Z"));
    assert_eq!(r.decision, Decision::Allow);
    assert!(
        r.policies.contains(&"permit-no-overflow".to_owned()),
        "{:?}",
        r.policies
    );
}

#[test]
fn shipped_engine_decides_the_spec_example() {
    let engine = common::world();
    let r = engine.decide(&view("labuitslagen", "2026-02-01T00:00:00Z"));
    assert_eq!(r.decision, Decision::Deny);
    assert_eq!(r.reasons, vec![Reason::RoleNotPermitted]);
    assert_eq!(
        r.policies,
        vec!["forbid-category-not-in-role-matrix".to_owned()]
    );
    assert_eq!(r.seq, 12, "the world's six entities and six events");
    let r = engine.decide(&view("kraambed", "2026-02-01T00:00:00Z"));
    assert!(r.is_allowed(), "{r:?}");
    assert_eq!(r.policies, vec!["permit-view-shared-dossier".to_owned()]);
    // R4: before the access request there was none
    let r = engine.decide(&view("kraambed", "2026-01-10T12:00:00Z"));
    assert_eq!(r.reasons, vec![Reason::AccessNotRequested]);
}

#[test]
fn unknown_ids_give_only_unknown_entity() {
    let engine = common::world();
    let mut q = view("basis", "2026-02-01T00:00:00Z");
    q.mfa = false;
    q.patient = PatientId::new("nobody").unwrap();
    let r = engine.decide(&q);
    assert_eq!(r.reasons, vec![Reason::UnknownEntity]);
    let q = view("wondzorg", "2026-02-01T00:00:00Z");
    assert_eq!(engine.decide(&q).reasons, vec![Reason::UnknownEntity]);
}

#[test]
fn a_rejected_event_names_the_field_and_changes_nothing() {
    let engine = common::world();
    let before = common::state(&engine);
    let e = Event::from_json(
        r#"{"at":"2026-01-12T00:00:00Z","type":"dossier_consent_withdrawn","patient":"client-1","holder":"nowhere"}"#,
    )
    .unwrap();
    let err = engine.apply(&e).unwrap_err();
    assert_eq!(err.field(), "holder");
    assert!(
        err.to_string().contains("dossier_consent_withdrawn"),
        "{err}"
    );
    assert_eq!(common::state(&engine), before);
    // Events that fail late, after fields that do resolve (a known patient
    // or category before the unknown id): still nothing changes
    for (json, field) in [
        (
            r#"{"at":"2026-01-12T00:00:00Z","type":"record_added","record":"rec-2","patient":"client-1","category":"kraambed","source":"dossier","holder":"nowhere"}"#,
            "holder",
        ),
        (
            r#"{"at":"2026-01-12T00:00:00Z","type":"module_started","patient":"client-1","module":"DM","practitioner":"nobody"}"#,
            "practitioner",
        ),
        (
            r#"{"at":"2026-01-12T00:00:00Z","type":"referral_sent","patient":"client-1","from":"vp-noord","to":"nowhere"}"#,
            "to",
        ),
        (
            r#"{"at":"2026-01-12T00:00:00Z","type":"record_flagged","record":"rec-unknown"}"#,
            "record",
        ),
    ] {
        let err = engine.apply(&Event::from_json(json).unwrap()).unwrap_err();
        assert_eq!(err.field(), field, "{json}: {err}");
        assert_eq!(common::state(&engine), before, "{json}");
    }
    assert!(
        engine
            .decide(&view("kraambed", "2026-02-01T00:00:00Z"))
            .is_allowed()
    );
}

#[test]
fn reload_swaps_policies_while_threads_decide() {
    let engine = Arc::new(common::world());
    // No permit: nothing is permitted
    let deny_all = Policies::from_sources(SCHEMA, [("p.cedar", "// nothing")]).unwrap();
    let shipped = Policies::shipped().unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let engine = Arc::clone(&engine);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut seen = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = engine.decide(&view("kraambed", "2026-02-01T00:00:00Z"));
                    // Wholly old (allow by the shipped permit) or wholly new (not_permitted)
                    match r.decision {
                        Decision::Allow => {
                            assert_eq!(r.policies, vec!["permit-view-shared-dossier".to_owned()]);
                        }
                        Decision::Deny => assert_eq!(r.reasons, vec![Reason::NotPermitted]),
                    }
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    for i in 0..20 {
        engine.reload(if i % 2 == 0 {
            deny_all.clone()
        } else {
            shipped.clone()
        });
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        assert!(w.join().unwrap() > 0);
    }
}

#[test]
fn the_compiled_tables_tell_apart_entities_that_policies_name() {
    // A host policy that names one organisation: the tables must not give
    // o-blocked's practitioner the answer remembered for kz-oost's.
    let mut files: Vec<(String, String)> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
    files.push((
        "host.cedar".into(),
        r#"@id("forbid-blocked-organisation") @reason("not_permitted")
           forbid(principal is Practitioner, action, resource)
           when { principal.organisation == Organisation::"o-blocked" };"#
            .into(),
    ));
    let policies =
        Policies::from_sources(SCHEMA, files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .unwrap();
    let engine = Engine::with_policies(policies);
    load_world(&engine);
    engine
        .register_organisation(Organisation::new(OrganisationId::new("o-blocked").unwrap()))
        .unwrap();
    engine
        .register_practitioner(Practitioner::new(
            PractitionerId::new("bob").unwrap(),
            OrganisationId::new("o-blocked").unwrap(),
            Role::new("kraamverzorgende").unwrap(),
        ))
        .unwrap();
    for e in [
        r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"o-blocked"}"#,
        r#"{"at":"2026-01-11T08:00:00Z","type":"access_requested","practitioner":"bob","patient":"client-1"}"#,
    ] {
        engine.apply(&Event::from_json(e).unwrap()).unwrap();
    }
    let anna = view("kraambed", "2026-02-01T00:00:00Z");
    let mut bob = anna.clone();
    bob.principal = zorg_pdp::Principal::Practitioner(PractitionerId::new("bob").unwrap());
    for _ in 0..2 {
        assert!(engine.decide(&anna).is_allowed());
        let r = engine.decide(&bob);
        assert_eq!(r.decision, Decision::Deny);
        assert_eq!(r.policies, vec!["forbid-blocked-organisation".to_owned()]);
        assert_eq!(r, engine.decide_plain(&bob));
    }
    // Decided from the tables: Cedar remembered nothing
    assert!(engine.is_compiled());
    assert_eq!(engine.memo_len(), 0);
}

#[test]
fn reload_compiles_the_new_set() {
    let engine = common::world();
    assert!(engine.is_compiled());
    assert!(
        engine
            .decide(&view("kraambed", "2026-02-01T00:00:00Z"))
            .is_allowed()
    );
    engine.reload(Policies::from_sources(SCHEMA, [("p.cedar", "// nothing")]).unwrap());
    assert!(engine.is_compiled());
    assert_eq!(
        engine
            .decide(&view("kraambed", "2026-02-01T00:00:00Z"))
            .reasons,
        vec![Reason::NotPermitted]
    );
    assert_eq!(engine.memo_len(), 0, "no decision asked Cedar");
}

#[test]
fn a_set_too_large_to_compile_is_decided_by_cedar_and_remembered() {
    // 17 tasks: the tasks dimension alone would have 2^17 values, past the
    // compiler's limit, so the engine falls back to Cedar and its memo
    let tasks: Vec<String> = (0..14).map(|i| format!("\"extra_{i}\"")).collect();
    let schema = SCHEMA.replacen(
        r#"entity Task enum ["consent_change", "client_management", "log_review"];"#,
        &format!(
            r#"entity Task enum ["consent_change", "client_management", "log_review", {}];"#,
            tasks.join(", ")
        ),
        1,
    );
    assert_ne!(schema, SCHEMA, "the schema's task list was found");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cedar") || p.ends_with("consent.toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    let policies =
        Policies::from_sources(&schema, files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .unwrap();
    let engine = Engine::with_policies(policies);
    assert!(!engine.is_compiled());
    load_world(&engine);
    for category in ["kraambed", "echo", "basis"] {
        let q = view(category, "2026-02-01T00:00:00Z");
        assert_eq!(engine.decide(&q), engine.decide_plain(&q), "{category}");
    }
    assert!(engine.memo_len() >= 1, "Cedar's answers are remembered");
}

#[test]
fn every_input_size_limit_is_enforced_with_a_clear_error() {
    use zorg_pdp::{ParseError, PolicyLoadError, Scenario};
    // Requests and events: 64 KiB of JSON
    let big = format!(
        r#"{{"principal":{{"practitioner":"anna"}},"action":"share","patient":"client-1","at":"2026-01-01T00:00:00Z","pad":"{}"}}"#,
        "x".repeat(zorg_pdp::MAX_JSON_LEN)
    );
    assert!(matches!(
        Request::from_json(&big),
        Err(ParseError::TooLarge { .. })
    ));
    assert!(matches!(
        Event::from_json(&big),
        Err(ParseError::TooLarge { .. })
    ));
    // Ids: 128 characters
    let long_id = format!(
        r#"{{"at":"2026-01-01T00:00:00Z","type":"pgo_account_created","patient":"{}"}}"#,
        "p".repeat(129)
    );
    let e = Event::from_json(&long_id).unwrap_err();
    assert!(e.to_string().contains("at most 128"), "{e}");
    assert!(e.to_string().contains("field `patient`"), "{e}");
    // Scenario files: 4 MiB
    let huge = format!(
        "name = \"{}\"",
        "n".repeat(zorg_pdp::scenario::MAX_SCENARIO_LEN)
    );
    let e = Scenario::parse(&huge, std::path::Path::new("huge.toml")).unwrap_err();
    assert!(e.to_string().contains("huge.toml"), "{e}");
    // Policy text: 1 MiB per file
    let text = format!("// {}\n", "c".repeat(zorg_pdp::MAX_POLICY_FILE_LEN));
    let e = Policies::from_sources(SCHEMA, [("big.cedar", text.as_str())]).unwrap_err();
    assert!(matches!(e, PolicyLoadError::TooLarge { .. }), "{e:?}");
}
