//! Helpers shared by the integration tests and by the fuzz bodies
//! (`fuzz/targets.rs`, which the fuzz targets compile with this file as
//! their `common` module): the shipped policies loaded once, times, a `view`
//! request, the small TOML world, a cheap picture of an engine's state, and
//! a scratch folder.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use zorg_pdp::{
    Category, DashboardAnswer, DashboardQuery, Engine, OrganisationId, PatientId, Policies,
    PolicyLoadError, PractitionerId, Request, Response, Scenario, Timestamp,
};

/// The shipped policies, loaded once per process
pub(crate) fn policies() -> &'static Policies {
    static P: OnceLock<Policies> = OnceLock::new();
    P.get_or_init(|| Policies::shipped().unwrap())
}

/// The shipped schema's text
pub(crate) const SCHEMA: &str = include_str!("../../policies/zorg.cedarschema");

/// The shipped policy files, `(file name, text)`, in name order (a test in
/// `least_privilege.rs` checks that they are the files of `policies/`)
pub(crate) const SHIPPED: [(&str, &str); 13] = [
    (
        "access-and-sharing.cedar",
        include_str!("../../policies/access-and-sharing.cedar"),
    ),
    (
        "administration.cedar",
        include_str!("../../policies/administration.cedar"),
    ),
    (
        "care-modules.cedar",
        include_str!("../../policies/care-modules.cedar"),
    ),
    (
        "external-parties.cedar",
        include_str!("../../policies/external-parties.cedar"),
    ),
    ("mfa.cedar", include_str!("../../policies/mfa.cedar")),
    (
        "patient.cedar",
        include_str!("../../policies/patient.cedar"),
    ),
    (
        "records.cedar",
        include_str!("../../policies/records.cedar"),
    ),
    (
        "role-matrix.cedar",
        include_str!("../../policies/role-matrix.cedar"),
    ),
    (
        "view-own-dossier.cedar",
        include_str!("../../policies/view-own-dossier.cedar"),
    ),
    (
        "view-planned-care.cedar",
        include_str!("../../policies/view-planned-care.cedar"),
    ),
    (
        "view-relationship.cedar",
        include_str!("../../policies/view-relationship.cedar"),
    ),
    (
        "view-shared-dossier.cedar",
        include_str!("../../policies/view-shared-dossier.cedar"),
    ),
    (
        "view-unplanned-care.cedar",
        include_str!("../../policies/view-unplanned-care.cedar"),
    ),
];

/// The shipped consent vocabulary (`policies/consent.toml`)
pub(crate) const CONSENT: &str = include_str!("../../policies/consent.toml");

/// The shipped consent vocabulary with one more dashboard category mapped
/// (`category = "data"`), for a schema that adds that category
pub(crate) fn consent_with(category: &str, data: &str) -> String {
    let last = "psychosociaal = \"GGC002\"\n";
    assert_eq!(CONSENT.matches(last).count(), 1, "{last}");
    CONSENT.replacen(last, &format!("{last}{category} = \"{data}\"\n"), 1)
}

/// The shipped policies with more files beside them: a host's own policies
/// (least privilege accepts a permit only beside the forbids its action needs)
pub(crate) fn shipped_with(extra: &[(&str, &str)]) -> Result<Policies, PolicyLoadError> {
    Policies::from_sources(SCHEMA, SHIPPED.iter().chain(extra).copied())
}

/// An RFC 3339 time
pub(crate) fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// `who` views `category` of patient `x` held by `holder` at `when`, purpose
/// `treatment`, signed in with two factors
pub(crate) fn view(who: &str, x: &str, holder: &str, category: &str, when: &str) -> Request {
    Request::view(
        PractitionerId::new(who).unwrap(),
        PatientId::new(x).unwrap(),
        OrganisationId::new(holder).unwrap(),
        Category::new(category).unwrap(),
        at(when),
        true,
    )
}

/// The small world most tests and the fuzz bodies decide in: a midwifery
/// practice (`vp-noord`, verloskundige `vera` with `log_review`) and a
/// maternity-care organisation (`kz-oost`, kraamverzorgende `anna`). Both
/// treat `client-1`, who consented to `vp-noord`'s dossier; `anna` requested
/// access; `vp-noord` holds an echo record `rec-echo-1`. `vp-noord` also
/// treats `client-2`. Six events, so `seq` is 6 once it is loaded.
pub(crate) const WORLD: &str = r#"
[[organisations]]
id = "vp-noord"
[[organisations]]
id = "kz-oost"

[[practitioners]]
id = "vera"
organisation = "vp-noord"
role = "verloskundige"
tasks = ["log_review"]

[[practitioners]]
id = "anna"
organisation = "kz-oost"
role = "kraamverzorgende"

[[patients]]
id = "client-1"
[[patients]]
id = "client-2"

[[events]]
at = "2026-01-05T09:00:00Z"
type = "treatment_started"
patient = "client-1"
organisation = "vp-noord"

[[events]]
at = "2026-01-10T09:00:00Z"
type = "treatment_started"
patient = "client-1"
organisation = "kz-oost"

[[events]]
at = "2026-01-10T09:00:00Z"
type = "dossier_consent_given"
patient = "client-1"
holder = "vp-noord"

[[events]]
at = "2026-01-11T08:00:00Z"
type = "access_requested"
practitioner = "anna"
patient = "client-1"

[[events]]
at = "2026-01-05T09:00:00Z"
type = "treatment_started"
patient = "client-2"
organisation = "vp-noord"

[[events]]
at = "2026-01-20T10:00:00Z"
type = "record_added"
record = "rec-echo-1"
patient = "client-1"
category = "echo"
source = "dossier"
holder = "vp-noord"
"#;

/// Loads [`WORLD`] into `engine` (whatever its policies)
pub(crate) fn load_world(engine: &Engine) {
    let path = Path::new("world.toml");
    let scenario = Scenario::parse(WORLD, path).unwrap();
    scenario.load_into(engine, path, Some(WORLD)).unwrap();
}

/// An engine with the shipped policies and [`WORLD`] loaded
pub(crate) fn world() -> Engine {
    let engine = Engine::with_policies(policies().clone());
    load_world(&engine);
    engine
}

/// The requests [`state`] decides, as JSON object members without `at` and
/// `mfa` (it adds both): every action on [`WORLD`]'s entities, so that any
/// fact an event can change shows
const PROBES: [&str; 26] = [
    r#""principal":{"practitioner":"anna"},"action":"view","patient":"client-1","holder":"vp-noord","category":"kraambed""#,
    r#""principal":{"practitioner":"anna"},"action":"view","patient":"client-1","holder":"vp-noord","category":"echo""#,
    r#""principal":{"practitioner":"anna"},"action":"view","patient":"client-1","holder":"vp-noord","category":"basis","purpose":"emergency""#,
    r#""principal":{"practitioner":"anna"},"action":"view","patient":"client-1","holder":"vp-noord","category":"basis","purpose":"referral""#,
    r#""principal":{"practitioner":"vera"},"action":"view","patient":"client-1","holder":"kz-oost","category":"basis""#,
    r#""principal":{"practitioner":"vera"},"action":"view","patient":"client-2","holder":"vp-noord","category":"echo""#,
    r#""principal":{"practitioner":"anna"},"action":"view","patient":"client-2","holder":"vp-noord","category":"basis""#,
    r#""principal":{"practitioner":"anna"},"action":"view_record","patient":"client-1","record":"rec-echo-1""#,
    r#""principal":{"practitioner":"vera"},"action":"view_record","patient":"client-1","record":"rec-echo-1""#,
    r#""principal":{"practitioner":"vera"},"action":"view_record","patient":"client-1","record":"rec-2""#,
    r#""principal":{"patient":"client-1"},"action":"view_own","patient":"client-1","record":"rec-2""#,
    r#""principal":{"practitioner":"anna"},"action":"request_access","patient":"client-1""#,
    r#""principal":{"practitioner":"anna"},"action":"request_access","patient":"client-2""#,
    r#""principal":{"practitioner":"vera"},"action":"share","patient":"client-1""#,
    r#""principal":{"practitioner":"vera"},"action":"start_module","patient":"client-1","module":"DM""#,
    r#""principal":{"practitioner":"vera"},"action":"contribute","patient":"client-1","module":"DM""#,
    r#""principal":{"practitioner":"vera"},"action":"change_consent","patient":"client-1","holder":"vp-noord""#,
    r#""principal":{"practitioner":"vera"},"action":"view_consents","patient":"client-1","holder":"vp-noord""#,
    r#""principal":{"organisation":"kz-oost"},"action":"use_personal_data","patient":"client-1","holder":"vp-noord","purpose":"quality_survey""#,
    r#""principal":{"organisation":"kz-oost"},"action":"use_for_research","patient":"client-1","purpose":"nza_registration""#,
    r#""principal":{"organisation":"kz-oost"},"action":"use_for_research","patient":"client-1","purpose":"research","study":"s1""#,
    r#""principal":{"patient":"client-1"},"action":"view_own","patient":"client-1""#,
    r#""principal":{"patient":"client-1"},"action":"view_own","patient":"client-1","record":"rec-echo-1""#,
    r#""principal":{"patient":"client-2"},"action":"view_own","patient":"client-1""#,
    r#""principal":{"patient":"client-1"},"action":"view_access_log","patient":"client-1""#,
    r#""principal":{"practitioner":"vera"},"action":"view_access_log","patient":"client-1","holder":"vp-noord""#,
];

/// The dashboards [`state`] asks for, written as [`PROBES`] are
const DASHBOARDS: [&str; 2] = [
    r#""principal":{"practitioner":"anna"},"patient":"client-1""#,
    r#""principal":{"practitioner":"vera"},"patient":"client-1""#,
];

/// What an engine answers about [`WORLD`]: its `seq`, and the answers to a
/// fixed set of requests and dashboards at two times (after the world's
/// events, and far later), each answer's own `seq` left out. Equal states
/// before and after a rejected event show that it changed nothing a decision
/// can see. `Debug` is only for assertion messages; compare with `==`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct State {
    seq: u64,
    answers: Vec<Response>,
    dashboards: Vec<Result<DashboardAnswer, String>>,
}

impl State {
    /// Whether the two states give the same answers, whatever their `seq`
    pub(crate) fn same_answers(&self, other: &State) -> bool {
        self.answers == other.answers && self.dashboards == other.dashboards
    }
}

/// The [`State`] of `engine`: a few dozen decisions, microseconds each. The
/// requests name `rec-2`, a record [`WORLD`] lacks, so that a half-applied
/// `record_added` would show.
pub(crate) fn state(engine: &Engine) -> State {
    const TIMES: [&str; 2] = ["2026-02-01T00:00:00Z", "2200-01-01T00:00:00Z"];
    let mut answers = Vec::with_capacity(PROBES.len() * TIMES.len());
    let mut dashboards = Vec::with_capacity(DASHBOARDS.len() * TIMES.len());
    for t in TIMES {
        for body in PROBES {
            let q = Request::from_json(&format!(r#"{{{body},"at":"{t}","mfa":true}}"#)).unwrap();
            // Field by field, not `Response { seq: 0, ..r }`: output types may become
            // `#[non_exhaustive]`
            let mut r = engine.decide(&q);
            r.seq = 0;
            answers.push(r);
        }
        for body in DASHBOARDS {
            let q =
                DashboardQuery::from_json(&format!(r#"{{{body},"at":"{t}","mfa":true}}"#)).unwrap();
            let answer = engine.dashboard(&q).map(|mut a| {
                a.seq = 0;
                a
            });
            dashboards.push(answer.map_err(|e| e.to_string()));
        }
    }
    State {
        seq: engine.seq(),
        answers,
        dashboards,
    }
}

/// The [`State`] of a fresh [`world`], computed once per process: what any
/// engine that loaded [`WORLD`] and nothing else answers
pub(crate) fn world_state() -> &'static State {
    static S: OnceLock<State> = OnceLock::new();
    S.get_or_init(|| state(&world()))
}

/// A scratch folder, removed when dropped
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty folder under the system's temporary folder; `name` makes
    /// it easy to find when a test fails
    pub(crate) fn new(name: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zorg-pdp-test-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// The path of `name` inside the folder
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The world of the FHIR import and export tests (`fixtures/fhir-world.toml`:
/// organisations with URA numbers and provider types, patients with BSNs),
/// shared with the `fhir_import` fuzz target and the CLI tests
pub(crate) const FHIR_WORLD: &str = include_str!("fixtures/fhir-world.toml");

/// The Mitz notification example of MITZ-AUTHZEN-NOTES.md §1.5
/// (`fixtures/mitz-notification.json`)
pub(crate) const MITZ_NOTIFICATION: &str = include_str!("fixtures/mitz-notification.json");

/// An engine with the shipped policies and [`FHIR_WORLD`] loaded
pub(crate) fn fhir_world() -> Engine {
    let engine = Engine::with_policies(policies().clone());
    let path = Path::new("fhir-world.toml");
    let scenario = Scenario::parse(FHIR_WORLD, path).unwrap();
    scenario.load_into(&engine, path, Some(FHIR_WORLD)).unwrap();
    engine
}

/// What the consent questions see of [`FHIR_WORLD`]'s patients: `seq`, and
/// every statement in force at two times (after the world's events, and far
/// later). Equal before and after a rejected bundle: R45
pub(crate) fn fhir_state(engine: &Engine) -> (u64, Vec<Vec<zorg_pdp::ConsentStatement>>) {
    let mut statements = Vec::new();
    for t in ["2026-03-01T00:00:00Z", "2200-01-01T00:00:00Z"] {
        for p in ["client-1", "client-2", "client-3"] {
            statements.push(
                engine
                    .consent_statements(&PatientId::new(p).unwrap(), at(t))
                    .unwrap(),
            );
        }
    }
    (engine.seq(), statements)
}
