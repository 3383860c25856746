//! A synthetic, deterministic care network for benches and the perf report:
//! organisations, practitioners of every role, patients with about ten events
//! each (treatment relationships, consents, access requests, a referral, a PGO
//! account, unplanned-care consent).

use zorg_pdp::{
    Action, Category, Change, DashboardQuery, DataCategory, Engine, Event, EventKind, MitzHolder,
    Organisation, OrganisationId, Patient, PatientId, Practitioner, PractitionerId, Principal,
    ProviderType, Purpose, Request, RequesterCategory, Role, Timestamp, consent::Choice,
};

/// A small, fast, deterministic generator (xorshift64*)
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    /// The next number
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n`
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The clinical roles practitioners get, in turn
pub const ROLES: [&str; 11] = [
    "huisarts",
    "poh",
    "diabetesverpleegkundige",
    "dietist",
    "podotherapeut",
    "verloskundige",
    "gynaecoloog",
    "kraamverzorgende",
    "jgz",
    "apotheker",
    "medisch_specialist",
];
/// The shipped categories
pub const CATEGORIES: [&str; 14] = [
    "basis",
    "zwangerschap",
    "bevalling",
    "kraambed",
    "kind",
    "echo",
    "metingen",
    "leefstijl",
    "voeding",
    "voet",
    "labuitslagen",
    "medicatie",
    "voorgeschiedenis",
    "psychosociaal",
];
/// Practitioners per organisation
pub const STAFF: usize = 10;

/// The world's size
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Organisations
    pub organisations: usize,
    /// Patients
    pub patients: usize,
}

impl Size {
    /// Practitioners: [`STAFF`] per organisation
    pub const fn practitioners(self) -> usize {
        self.organisations * STAFF
    }
}

/// The id of organisation `i`
pub fn org_id(i: usize) -> OrganisationId {
    OrganisationId::new(&format!("org-{i}")).unwrap()
}
/// The id of practitioner `i`
pub fn practitioner_id(i: usize) -> PractitionerId {
    PractitionerId::new(&format!("pr-{i}")).unwrap()
}
/// The id of patient `i`
pub fn patient_id(i: usize) -> PatientId {
    PatientId::new(&format!("pt-{i}")).unwrap()
}

/// A day in 2025
pub fn at(day: i64) -> Timestamp {
    // 2025-01-01 plus `day` days
    Timestamp::from_unix_nanos(1_735_689_600_000_000_000 + day * 86_400_000_000_000)
}

/// The three organisations of patient `i`
pub fn orgs_of(size: Size, i: usize) -> [usize; 3] {
    let mut rng = Rng::new(i as u64 * 7919 + 1);
    let a = rng.below(size.organisations);
    let b = (a + 1 + rng.below(size.organisations - 1)) % size.organisations;
    let mut c = rng.below(size.organisations);
    if c == a || c == b {
        c = (a.max(b) + 1) % size.organisations;
    }
    [a, b, c]
}

/// Registers organisations, practitioners and patients
pub fn register(engine: &Engine, size: Size) {
    for o in 0..size.organisations {
        engine
            .register_organisation(Organisation::new(org_id(o)))
            .unwrap();
    }
    for p in 0..size.practitioners() {
        let role = Role::new(ROLES[p % ROLES.len()]).unwrap();
        engine
            .register_practitioner(Practitioner::new(
                practitioner_id(p),
                org_id(p / STAFF),
                role,
            ))
            .unwrap();
    }
    for x in 0..size.patients {
        engine
            .register_patient(&Patient::new(patient_id(x)))
            .unwrap();
    }
}

/// The ten events of patient `i`, in a shuffled arrival order
pub fn events_of(size: Size, i: usize) -> Vec<Event> {
    let [a, b, c] = orgs_of(size, i);
    let x = patient_id(i);
    let mut rng = Rng::new(i as u64 * 104_729 + 3);
    let day = |rng: &mut Rng| at(rng.below(300) as i64);
    let staff = |o: usize, rng: &mut Rng| practitioner_id(o * STAFF + rng.below(STAFF));
    let mut events = vec![
        Event {
            at: at(0),
            kind: EventKind::Treatment {
                change: Change::Given,
                patient: x.clone(),
                organisation: org_id(a),
            },
        },
        Event {
            at: at(1),
            kind: EventKind::Treatment {
                change: Change::Given,
                patient: x.clone(),
                organisation: org_id(b),
            },
        },
        Event {
            at: at(2),
            kind: EventKind::Treatment {
                change: Change::Given,
                patient: x.clone(),
                organisation: org_id(c),
            },
        },
        Event {
            at: day(&mut rng),
            kind: EventKind::DossierConsent {
                change: Change::Given,
                patient: x.clone(),
                holder: org_id(a),
                recorded_by: None,
                evidence: None,
            },
        },
        Event {
            at: day(&mut rng),
            kind: EventKind::DossierConsent {
                change: Change::Given,
                patient: x.clone(),
                holder: org_id(c),
                recorded_by: None,
                evidence: None,
            },
        },
        Event {
            at: day(&mut rng),
            kind: EventKind::AccessRequested {
                practitioner: staff(b, &mut rng),
                patient: x.clone(),
            },
        },
        Event {
            at: day(&mut rng),
            kind: EventKind::AccessRequested {
                practitioner: staff(c, &mut rng),
                patient: x.clone(),
            },
        },
        Event {
            at: day(&mut rng),
            kind: EventKind::ReferralSent {
                patient: x.clone(),
                from: org_id(a),
                to: org_id(b),
            },
        },
        Event {
            at: day(&mut rng),
            kind: EventKind::PgoAccount {
                change: Change::Given,
                patient: x.clone(),
            },
        },
        Event {
            at: day(&mut rng),
            kind: EventKind::UnplannedCareConsent {
                change: Change::Given,
                patient: x,
                holder: org_id(c),
            },
        },
    ];
    for k in (1..events.len()).rev() {
        events.swap(k, rng.below(k + 1));
    }
    events
}

/// One provider type per requesting category of SPEC.md §7.2 (huisarts,
/// GGZ, thuiszorg, apotheek, fysiotherapie (overige zorg), ziekenhuis), assigned to the
/// organisations in turn by [`register_typed`]
pub const PROVIDER_TYPES: [&str; 6] = ["Z3", "G5", "T2", "J8", "F1", "V4"];

/// The seven requesting categories (SPEC.md §7.2)
pub const REQUESTER_CATEGORIES: [&str; 7] = [
    "RPZAC001", "RPZAC003", "RPZAC004", "RPZAC005", "RPZAC103", "RPZAC104", "RPZAC200",
];

/// The three Mitz data categories
pub const DATA_CATEGORIES: [&str; 3] = ["GGC002", "GGC012", "GGC013"];

/// [`register`], every organisation with a provider type (so that Mitz
/// categories apply to it)
pub fn register_typed(engine: &Engine, size: Size) {
    for o in 0..size.organisations {
        let mut org = Organisation::new(org_id(o));
        org.provider_type =
            Some(ProviderType::new(PROVIDER_TYPES[o % PROVIDER_TYPES.len()]).unwrap());
        engine.register_organisation(org).unwrap();
    }
    register(engine, size);
}

/// Patient `i`'s full Mitz picture: at each of its three holders, a choice
/// for every requesting category × data category (63 events), four in five
/// a permit, recorded after the treatment relationships started
pub fn mitz_events_of(size: Size, i: usize) -> Vec<Event> {
    let mut rng = Rng::new(i as u64 * 15_485_863 + 5);
    let x = patient_id(i);
    let mut events = Vec::with_capacity(63);
    for h in orgs_of(size, i) {
        for r in REQUESTER_CATEGORIES {
            for d in DATA_CATEGORIES {
                events.push(Event {
                    at: at(3 + rng.below(150) as i64),
                    kind: EventKind::MitzChoice {
                        change: Change::Given,
                        patient: x.clone(),
                        holder: MitzHolder::Organisation(org_id(h)),
                        data_category: DataCategory::new(d).unwrap(),
                        requester_category: RequesterCategory::new(r).unwrap(),
                        choice: Some(if rng.below(5) == 0 {
                            Choice::Deny
                        } else {
                            Choice::Permit
                        }),
                        recorded_via: None,
                    },
                });
            }
        }
    }
    events
}

/// Builds a whole world; returns the number of events applied
pub fn build(engine: &Engine, size: Size) -> usize {
    register(engine, size);
    let mut n = 0;
    for i in 0..size.patients {
        for e in events_of(size, i) {
            engine.apply(&e).unwrap();
            n += 1;
        }
    }
    n
}

/// A random `view` request: a practitioner of one of the patient's
/// organisations asks about another (or the own) holder's category
pub fn view_request(size: Size, rng: &mut Rng) -> Request {
    let i = rng.below(size.patients);
    let orgs = orgs_of(size, i);
    let o = orgs[rng.below(3)];
    let h = orgs[rng.below(3)];
    let purpose = match rng.below(10) {
        0 => Purpose::Emergency,
        1 => Purpose::Referral,
        _ => Purpose::Treatment,
    };
    Request {
        principal: Principal::Practitioner(practitioner_id(o * STAFF + rng.below(STAFF))),
        patient: patient_id(i),
        at: at(200 + rng.below(200) as i64),
        mfa: rng.below(50) != 0,
        action: Action::View {
            holder: org_id(h),
            category: Category::new(CATEGORIES[rng.below(CATEGORIES.len())]).unwrap(),
            purpose,
        },
        min_seq: None,
    }
}

/// The perf report's dashboard world: one patient (`pt-0`) treated at five
/// organisations, each with the patient's dossier consent, and `pr-0`'s
/// query of the patient's dashboard (5 holders x 14 categories)
pub fn dashboard_world() -> Result<(Engine, DashboardQuery), Box<dyn std::error::Error>> {
    let dash = Engine::new()?;
    let dsize = Size {
        organisations: 6,
        patients: 1,
    };
    register(&dash, dsize);
    for o in 0..5 {
        for json in [
            format!(
                r#"{{"at":"2025-01-01T00:00:00Z","type":"treatment_started","patient":"pt-0","organisation":"org-{o}"}}"#
            ),
            format!(
                r#"{{"at":"2025-01-02T00:00:00Z","type":"dossier_consent_given","patient":"pt-0","holder":"org-{o}"}}"#
            ),
        ] {
            dash.apply(&Event::from_json(&json)?)?;
        }
    }
    dash.apply(&Event::from_json(r#"{"at":"2025-01-03T00:00:00Z","type":"access_requested","practitioner":"pr-0","patient":"pt-0"}"#)?)?;
    let query = DashboardQuery {
        principal: Principal::Practitioner(practitioner_id(0)),
        patient: patient_id(0),
        at: at(100),
        mfa: true,
        purpose: Purpose::Treatment,
        min_seq: None,
    };
    Ok((dash, query))
}

/// The Rego policy equivalent to the shipped `view` rules (R1, R5, R6, R12, R15, R16, R17)
pub const REGO_VIEW: &str = r#"
package zorg

import rego.v1

matrix := {
  "huisarts": {"basis", "zwangerschap", "bevalling", "kraambed", "kind", "echo", "metingen", "leefstijl", "voeding", "voet", "labuitslagen", "medicatie", "voorgeschiedenis", "psychosociaal"},
  "poh": {"basis", "metingen", "leefstijl", "voeding", "voet", "labuitslagen", "medicatie", "voorgeschiedenis"},
  "diabetesverpleegkundige": {"basis", "metingen", "leefstijl", "voeding", "voet", "labuitslagen", "medicatie"},
  "dietist": {"basis", "metingen", "leefstijl", "voeding", "labuitslagen"},
  "podotherapeut": {"basis", "metingen", "voet"},
  "verloskundige": {"basis", "zwangerschap", "bevalling", "kraambed", "kind", "echo", "metingen", "leefstijl", "labuitslagen", "medicatie", "voorgeschiedenis", "psychosociaal"},
  "gynaecoloog": {"basis", "zwangerschap", "bevalling", "kraambed", "kind", "echo", "metingen", "leefstijl", "labuitslagen", "medicatie", "voorgeschiedenis", "psychosociaal"},
  "kraamverzorgende": {"basis", "zwangerschap", "bevalling", "kraambed", "kind", "medicatie"},
  "jgz": {"basis", "bevalling", "kraambed", "kind"},
  "apotheker": {"basis", "labuitslagen", "medicatie"},
  "medisch_specialist": {"basis", "zwangerschap", "bevalling", "kraambed", "kind", "echo", "metingen", "leefstijl", "voeding", "voet", "labuitslagen", "medicatie", "voorgeschiedenis"},
  "administratief": {"basis"},
}

ctx := input.context
own if input.principal.organisation == ctx.holder

reasons contains "mfa_required" if not ctx.mfa
reasons contains "no_treatment_relationship" if not ctx.relationship
reasons contains "role_not_permitted" if not matrix[input.principal.role][ctx.category]
reasons contains "no_dossier_consent" if { not own; ctx.purpose == "treatment"; not ctx.dossier_consent }
reasons contains "access_not_requested" if { not own; ctx.purpose == "treatment"; not ctx.access_requested }
reasons contains "no_referral" if { not own; ctx.purpose == "referral"; not ctx.referral }
reasons contains "referral_objection" if { not own; ctx.purpose == "referral"; ctx.referral_objection }
reasons contains "no_unplanned_care_consent" if { not own; ctx.purpose == "emergency"; not ctx.unplanned_care_consent }

permitted if own
permitted if ctx.purpose in {"treatment", "referral", "emergency"}

allow if { permitted; count(reasons) == 0 }
"#;
