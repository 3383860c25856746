//! An independent reading of RULES.md: decisions and reasons computed from the
//! raw events with plain Rust — no Cedar, no registry, no code shared with the
//! engine. Written from RULES.md and the README's documented choices.

use std::collections::{BTreeSet, HashMap, HashSet};

use zorg_pdp::{
    Action, Change, Decision, Event, EventKind, Principal, Purpose, Reason, Request, Source,
    Timestamp,
};

/// The categories of SPEC.md §2, in the schema's order
pub(crate) const CATEGORIES: [&str; 14] = [
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

/// The roles of SPEC.md §2, in the schema's order
pub(crate) const ROLES: [&str; 12] = [
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
    "administratief",
];

/// The role × category matrix of SPEC.md §2, written out again by hand
pub(crate) fn matrix(role: &str, category: &str) -> bool {
    let all = CATEGORIES;
    let cats: &[&str] = match role {
        "huisarts" => &all,
        "poh" => &[
            "basis",
            "metingen",
            "leefstijl",
            "voeding",
            "voet",
            "labuitslagen",
            "medicatie",
            "voorgeschiedenis",
        ],
        "diabetesverpleegkundige" => &[
            "basis",
            "metingen",
            "leefstijl",
            "voeding",
            "voet",
            "labuitslagen",
            "medicatie",
        ],
        "dietist" => &["basis", "metingen", "leefstijl", "voeding", "labuitslagen"],
        "podotherapeut" => &["basis", "metingen", "voet"],
        "verloskundige" | "gynaecoloog" => &[
            "basis",
            "zwangerschap",
            "bevalling",
            "kraambed",
            "kind",
            "echo",
            "metingen",
            "leefstijl",
            "labuitslagen",
            "medicatie",
            "voorgeschiedenis",
            "psychosociaal",
        ],
        "kraamverzorgende" => &[
            "basis",
            "zwangerschap",
            "bevalling",
            "kraambed",
            "kind",
            "medicatie",
        ],
        "jgz" => &["basis", "bevalling", "kraambed", "kind"],
        "apotheker" => &["basis", "labuitslagen", "medicatie"],
        "medisch_specialist" => &all[..13],
        "administratief" => &["basis"],
        _ => &[],
    };
    cats.contains(&category)
}

const MODULE_STARTERS: [&str; 5] = [
    "huisarts",
    "poh",
    "diabetesverpleegkundige",
    "dietist",
    "podotherapeut",
];

#[derive(Debug, Clone)]
pub(crate) struct OraclePractitioner {
    pub organisation: String,
    pub role: String,
    pub tasks: Vec<String>,
}

#[derive(Debug, Clone)]
struct RecordInfo {
    patient: String,
    category: String,
    source: Source,
    holder: Option<String>,
    module: Option<String>,
    added: Timestamp,
}

/// The oracle's world: entities, and accepted events in arrival order
#[derive(Debug, Clone, Default)]
pub(crate) struct Oracle {
    pub organisations: HashSet<String>,
    pub practitioners: HashMap<String, OraclePractitioner>,
    pub patients: HashSet<String>,
    pub categories: Vec<String>,
    pub modules: Vec<String>,
    events: Vec<Event>,
}

impl Oracle {
    pub(crate) fn new(categories: Vec<String>, modules: Vec<String>) -> Self {
        Self {
            categories,
            modules,
            ..Self::default()
        }
    }

    /// Whether the engine must reject this event (SPEC.md §3): an unknown
    /// entity, record, category or module, or a record id added twice
    pub(crate) fn must_reject(&self, e: &Event) -> bool {
        let org = |o: &zorg_pdp::OrganisationId| !self.organisations.contains(o.as_str());
        let pat = |p: &zorg_pdp::PatientId| !self.patients.contains(p.as_str());
        let pra = |p: &zorg_pdp::PractitionerId| !self.practitioners.contains_key(p.as_str());
        let cat = |c: &zorg_pdp::Category| !self.categories.iter().any(|k| k == c.as_str());
        let module = |m: &zorg_pdp::CareModule| !self.modules.iter().any(|k| k == m.as_str());
        use EventKind as K;
        match &e.kind {
            K::Treatment {
                patient,
                organisation,
                ..
            } => pat(patient) || org(organisation),
            K::DossierConsent {
                patient,
                holder,
                recorded_by,
                ..
            } => pat(patient) || org(holder) || recorded_by.as_ref().is_some_and(pra),
            K::AccessRequested {
                practitioner,
                patient,
            } => pra(practitioner) || pat(patient),
            K::ReferralSent { patient, from, to } => pat(patient) || org(from) || org(to),
            K::ReferralObjection {
                patient,
                holder,
                category,
                ..
            } => pat(patient) || org(holder) || category.as_ref().is_some_and(cat),
            K::UnplannedCareConsent {
                patient, holder, ..
            } => pat(patient) || org(holder),
            K::PgoAccount { patient, .. } | K::PgoTransferConsent { patient, .. } => pat(patient),
            K::ModuleStarted {
                patient,
                module: m,
                practitioner,
            } => pat(patient) || module(m) || pra(practitioner),
            K::ModuleStorageConsent {
                patient, module: m, ..
            } => pat(patient) || module(m),
            K::ModuleOwnershipAccepted {
                practitioner,
                patient,
                module: m,
            } => pra(practitioner) || pat(patient) || module(m),
            K::RecordAdded {
                record,
                patient,
                category,
                holder,
                module: m,
                ..
            } => {
                self.record(record.as_str()).is_some()
                    || pat(patient)
                    || cat(category)
                    || holder.as_ref().is_some_and(org)
                    || m.as_ref().is_some_and(module)
            }
            K::RecordFlagged { record } => self.record(record.as_str()).is_none(),
            K::PartyConsent {
                patient,
                holder,
                party,
                ..
            } => pat(patient) || org(holder) || org(party),
            K::Objection { patient, .. } => pat(patient),
            K::ResearchConsent { patient, .. } => pat(patient),
            K::MitzChoice {
                patient, holder, ..
            } => pat(patient) || matches!(holder, zorg_pdp::MitzHolder::Organisation(o) if org(o)),
            K::MitzChoicesConfirmed { patient } => pat(patient),
        }
    }

    pub(crate) fn accept(&mut self, e: Event) {
        self.events.push(e);
    }

    fn record(&self, id: &str) -> Option<RecordInfo> {
        self.events.iter().find_map(|e| match &e.kind {
            EventKind::RecordAdded {
                record,
                patient,
                category,
                source,
                holder,
                module,
            } if record.as_str() == id => Some(RecordInfo {
                patient: patient.to_string(),
                category: category.to_string(),
                source: *source,
                holder: holder.as_ref().map(ToString::to_string),
                module: module.as_ref().map(ToString::to_string),
                added: e.at,
            }),
            _ => None,
        })
    }

    /// The events seen at `t`, ordered by time and then arrival
    fn seen(&self, t: Timestamp) -> Vec<&Event> {
        let mut v: Vec<&Event> = self.events.iter().filter(|e| e.at <= t).collect();
        v.sort_by_key(|e| e.at); // stable: ties keep arrival order
        v
    }

    /// The latest of a given/withdrawn pair for which `classify` says Some(on)
    fn latest(seen: &[&Event], classify: impl Fn(&EventKind) -> Option<bool>) -> bool {
        seen.iter()
            .rev()
            .find_map(|e| classify(&e.kind))
            .unwrap_or(false)
    }

    fn rel(seen: &[&Event], x: &str, o: &str) -> bool {
        Self::latest(seen, |k| match k {
            EventKind::Treatment {
                change: Change::Given,
                patient,
                organisation,
            } if patient.as_str() == x && organisation.as_str() == o => Some(true),
            EventKind::Treatment {
                change: Change::Withdrawn,
                patient,
                organisation,
            } if patient.as_str() == x && organisation.as_str() == o => Some(false),
            _ => None,
        })
    }

    fn rel_start(seen: &[&Event], x: &str, o: &str) -> Option<Timestamp> {
        // The first start after the last end.
        let mut start = None;
        for e in seen {
            match &e.kind {
                EventKind::Treatment {
                    change: Change::Given,
                    patient,
                    organisation,
                } if patient.as_str() == x && organisation.as_str() == o && start.is_none() => {
                    start = Some(e.at);
                }
                EventKind::Treatment {
                    change: Change::Withdrawn,
                    patient,
                    organisation,
                } if patient.as_str() == x && organisation.as_str() == o => {
                    start = None;
                }
                _ => {}
            }
        }
        start
    }

    fn requested(seen: &[&Event], p: &str, x: &str, o: &str) -> bool {
        let Some(start) = Self::rel_start(seen, x, o) else {
            return false;
        };
        seen.iter().any(|e| {
            matches!(&e.kind, EventKind::AccessRequested { practitioner, patient }
                if practitioner.as_str() == p && patient.as_str() == x && e.at >= start)
        })
    }

    fn consent(seen: &[&Event], x: &str, h: &str) -> bool {
        Self::latest(seen, |k| match k {
            EventKind::DossierConsent {
                change: Change::Given,
                patient,
                holder,
                ..
            } if patient.as_str() == x && holder.as_str() == h => Some(true),
            EventKind::DossierConsent {
                change: Change::Withdrawn,
                patient,
                holder,
                ..
            } if patient.as_str() == x && holder.as_str() == h => Some(false),
            _ => None,
        })
    }

    /// Whether the latest dossier consent event of `x` for `h` is a
    /// withdrawal: an explicit refusal (SPEC.md §7.4 `consent_refused`)
    fn withdrawn(seen: &[&Event], x: &str, h: &str) -> bool {
        seen.iter().rev().find_map(|e| match &e.kind {
            EventKind::DossierConsent {
                change,
                patient,
                holder,
                ..
            } if patient.as_str() == x && holder.as_str() == h => Some(*change),
            _ => None,
        }) == Some(Change::Withdrawn)
    }

    fn unplanned(seen: &[&Event], x: &str, h: &str) -> bool {
        Self::latest(seen, |k| match k {
            EventKind::UnplannedCareConsent {
                change: Change::Given,
                patient,
                holder,
            } if patient.as_str() == x && holder.as_str() == h => Some(true),
            EventKind::UnplannedCareConsent {
                change: Change::Withdrawn,
                patient,
                holder,
            } if patient.as_str() == x && holder.as_str() == h => Some(false),
            _ => None,
        })
    }

    fn objection_covers(seen: &[&Event], x: &str, h: &str, c: &str) -> bool {
        let for_cat = |want: Option<&str>| {
            Self::latest(seen, |k| match k {
                EventKind::ReferralObjection {
                    change: Change::Given,
                    patient,
                    holder,
                    category,
                } if patient.as_str() == x
                    && holder.as_str() == h
                    && category.as_ref().map(zorg_pdp::Category::as_str) == want =>
                {
                    Some(true)
                }
                EventKind::ReferralObjection {
                    change: Change::Withdrawn,
                    patient,
                    holder,
                    category,
                } if patient.as_str() == x
                    && holder.as_str() == h
                    && category.as_ref().map(zorg_pdp::Category::as_str) == want =>
                {
                    Some(false)
                }
                _ => None,
            })
        };
        for_cat(None) || for_cat(Some(c))
    }

    fn pgo(seen: &[&Event], x: &str) -> bool {
        Self::latest(seen, |k| match k {
            EventKind::PgoAccount {
                change: Change::Given,
                patient,
            } if patient.as_str() == x => Some(true),
            EventKind::PgoAccount {
                change: Change::Withdrawn,
                patient,
            } if patient.as_str() == x => Some(false),
            _ => None,
        })
    }

    fn pgo_transfer(seen: &[&Event], x: &str) -> bool {
        Self::latest(seen, |k| match k {
            EventKind::PgoTransferConsent {
                change: Change::Given,
                patient,
            } if patient.as_str() == x => Some(true),
            EventKind::PgoTransferConsent {
                change: Change::Withdrawn,
                patient,
            } if patient.as_str() == x => Some(false),
            _ => None,
        })
    }

    fn storage(seen: &[&Event], x: &str, m: &str) -> bool {
        Self::latest(seen, |k| match k {
            EventKind::ModuleStorageConsent {
                change: Change::Given,
                patient,
                module,
            } if patient.as_str() == x && module.as_str() == m => Some(true),
            EventKind::ModuleStorageConsent {
                change: Change::Withdrawn,
                patient,
                module,
            } if patient.as_str() == x && module.as_str() == m => Some(false),
            _ => None,
        })
    }

    fn started(seen: &[&Event], x: &str, m: &str) -> bool {
        seen.iter().any(|e| matches!(&e.kind, EventKind::ModuleStarted { patient, module, .. } if patient.as_str() == x && module.as_str() == m))
    }

    fn ownership(seen: &[&Event], p: &str, x: &str, m: &str) -> bool {
        seen.iter().any(|e| {
            matches!(&e.kind, EventKind::ModuleOwnershipAccepted { practitioner, patient, module }
                if practitioner.as_str() == p && patient.as_str() == x && module.as_str() == m)
        })
    }

    fn flagged(seen: &[&Event], r: &str) -> bool {
        seen.iter()
            .any(|e| matches!(&e.kind, EventKind::RecordFlagged { record } if record.as_str() == r))
    }

    fn deleted(seen: &[&Event], rec: &RecordInfo) -> bool {
        rec.source == Source::Pgo
            && seen.iter().any(|e| {
                matches!(&e.kind, EventKind::PgoAccount { change: Change::Withdrawn, patient } if patient.as_str() == rec.patient) && e.at >= rec.added
            })
    }

    /// The oracle's decision and reasons for a request
    pub(crate) fn decide(&self, q: &Request) -> (Decision, BTreeSet<Reason>) {
        let deny1 = |r| (Decision::Deny, BTreeSet::from([r]));
        let x = q.patient.as_str();
        let t = q.at;
        // R2: unknown ids
        let known_principal = match &q.principal {
            Principal::Practitioner(p) => self.practitioners.contains_key(p.as_str()),
            Principal::Patient(p) => self.patients.contains(p.as_str()),
            Principal::Organisation(o) => self.organisations.contains(o.as_str()),
        };
        if !known_principal || !self.patients.contains(x) {
            return deny1(Reason::UnknownEntity);
        }
        let org_known = |h: &zorg_pdp::OrganisationId| self.organisations.contains(h.as_str());
        let cat_known = |c: &zorg_pdp::Category| self.categories.iter().any(|k| k == c.as_str());
        let mod_known = |m: &zorg_pdp::CareModule| self.modules.iter().any(|k| k == m.as_str());
        let record_for = |r: &zorg_pdp::RecordId| {
            self.record(r.as_str())
                .filter(|rec| rec.patient == x && rec.added <= t)
        };
        let unknown = match &q.action {
            Action::View {
                holder, category, ..
            } => !org_known(holder) || !cat_known(category),
            Action::ViewRecord { record, .. } => record_for(record).is_none(),
            Action::StartModule { module } | Action::Contribute { module } => !mod_known(module),
            Action::ChangeConsent { holder }
            | Action::ViewConsents { holder }
            | Action::UsePersonalData { holder, .. } => !org_known(holder),
            Action::ViewOwn {
                holder,
                category,
                record,
            } => {
                holder.as_ref().is_some_and(|h| !org_known(h))
                    || category.as_ref().is_some_and(|c| !cat_known(c))
                    || record.as_ref().is_some_and(|r| record_for(r).is_none())
            }
            Action::ViewAccessLog { holder } => holder.as_ref().is_some_and(|h| !org_known(h)),
            Action::RequestAccess | Action::Share | Action::UseForResearch { .. } => false,
        };
        if unknown {
            return deny1(Reason::UnknownEntity);
        }

        let seen = self.seen(t);
        let mut reasons = BTreeSet::new();
        let mut check = |ok: bool, r: Reason| {
            if !ok {
                reasons.insert(r);
            }
        };
        // R1
        if !matches!(q.principal, Principal::Organisation(_)) && !q.mfa {
            check(false, Reason::MfaRequired);
        }
        let practitioner = match &q.principal {
            Principal::Practitioner(p) => self
                .practitioners
                .get(p.as_str())
                .map(|info| (p.as_str(), info)),
            _ => None,
        };
        let mut permitted = false;

        // view of dossier data of holder h, category c (R5, R6, R12, R15, R16, R17)
        let view_dossier = |check: &mut dyn FnMut(bool, Reason),
                            p: &str,
                            info: &OraclePractitioner,
                            h: &str,
                            c: &str,
                            purpose: Purpose|
         -> bool {
            let o = info.organisation.as_str();
            check(Self::rel(&seen, x, o), Reason::NoTreatmentRelationship);
            check(matrix(&info.role, c), Reason::RoleNotPermitted);
            if h == o {
                return true; // R5, R17
            }
            match purpose {
                Purpose::Treatment => {
                    check(Self::consent(&seen, x, h), Reason::NoDossierConsent);
                    check(!Self::withdrawn(&seen, x, h), Reason::ConsentRefused);
                    check(Self::requested(&seen, p, x, o), Reason::AccessNotRequested);
                    true
                }
                Purpose::Referral => {
                    let referral = seen.iter().any(|e| {
                        matches!(&e.kind, EventKind::ReferralSent { patient, from, to }
                            if patient.as_str() == x && from.as_str() == h && to.as_str() == o)
                    });
                    check(referral, Reason::NoReferral);
                    check(
                        !Self::objection_covers(&seen, x, h, c),
                        Reason::ReferralObjection,
                    );
                    true
                }
                Purpose::Emergency => {
                    check(Self::unplanned(&seen, x, h), Reason::NoUnplannedCareConsent);
                    true
                }
                _ => false,
            }
        };

        match (&q.action, practitioner) {
            (
                Action::View {
                    holder,
                    category,
                    purpose,
                },
                Some((p, info)),
            ) => {
                permitted = view_dossier(
                    &mut check,
                    p,
                    info,
                    holder.as_str(),
                    category.as_str(),
                    *purpose,
                );
            }
            (Action::ViewRecord { record, purpose }, _) => {
                let rec = self
                    .record(record.as_str())
                    .unwrap_or_else(|| unreachable!());
                let own_holder = practitioner
                    .is_some_and(|(_, i)| rec.holder.as_deref() == Some(i.organisation.as_str()));
                check(
                    !Self::flagged(&seen, record.as_str()) || own_holder,
                    Reason::RecordFlagged,
                );
                check(!Self::deleted(&seen, &rec), Reason::RecordDeleted);
                if let Some((p, info)) = practitioner {
                    match rec.source {
                        Source::Dossier => {
                            let h = rec.holder.clone().unwrap_or_default();
                            permitted =
                                view_dossier(&mut check, p, info, &h, &rec.category, *purpose);
                        }
                        Source::Module => {
                            let m = rec.module.clone().unwrap_or_default();
                            check(
                                Self::rel(&seen, x, &info.organisation),
                                Reason::NoTreatmentRelationship,
                            );
                            check(
                                Self::ownership(&seen, p, x, &m),
                                Reason::OwnershipNotAccepted,
                            );
                            check(matrix(&info.role, &rec.category), Reason::RoleNotPermitted);
                            permitted = true;
                        }
                        Source::Pgo => {}
                    }
                }
            }
            (Action::RequestAccess, Some((_, info))) => {
                let o = info.organisation.as_str();
                check(Self::rel(&seen, x, o), Reason::NoTreatmentRelationship);
                let other = self
                    .organisations
                    .iter()
                    .any(|h| h != o && Self::consent(&seen, x, h));
                check(other, Reason::NoDossierConsent);
                permitted = true;
            }
            (Action::Share, Some((_, info))) => {
                check(
                    Self::consent(&seen, x, &info.organisation),
                    Reason::NoDossierConsent,
                );
                permitted = true;
            }
            (Action::StartModule { module }, Some((p, info))) => {
                let m = module.as_str();
                check(
                    MODULE_STARTERS.contains(&info.role.as_str()),
                    Reason::RoleNotPermitted,
                );
                check(
                    Self::rel(&seen, x, &info.organisation),
                    Reason::NoTreatmentRelationship,
                );
                check(Self::pgo(&seen, x), Reason::NoPgoAccount);
                check(Self::pgo_transfer(&seen, x), Reason::NoPgoTransferConsent);
                check(
                    Self::ownership(&seen, p, x, m),
                    Reason::OwnershipNotAccepted,
                );
                permitted = true;
            }
            (Action::Contribute { module }, Some((p, info))) => {
                let m = module.as_str();
                check(Self::started(&seen, x, m), Reason::ModuleNotStarted);
                check(
                    Self::rel(&seen, x, &info.organisation),
                    Reason::NoTreatmentRelationship,
                );
                check(info.role != "administratief", Reason::RoleNotPermitted);
                check(Self::pgo(&seen, x), Reason::NoPgoAccount);
                check(Self::pgo_transfer(&seen, x), Reason::NoPgoTransferConsent);
                check(Self::storage(&seen, x, m), Reason::NoModuleStorageConsent);
                check(
                    Self::ownership(&seen, p, x, m),
                    Reason::OwnershipNotAccepted,
                );
                permitted = true;
            }
            (Action::ChangeConsent { holder }, Some((_, info))) => {
                check(
                    holder.as_str() == info.organisation,
                    Reason::NotOwnOrganisation,
                );
                check(
                    info.tasks.iter().any(|t| t == "consent_change"),
                    Reason::TaskNotAuthorised,
                );
                permitted = true;
            }
            (Action::ViewConsents { holder }, Some((_, info))) => {
                check(
                    holder.as_str() == info.organisation,
                    Reason::NotOwnOrganisation,
                );
                check(
                    info.tasks.iter().any(|t| t == "client_management"),
                    Reason::TaskNotAuthorised,
                );
                permitted = true;
            }
            (Action::UsePersonalData { holder, purpose }, _) => {
                if let (Principal::Organisation(q_org), Purpose::QualitySurvey) =
                    (&q.principal, purpose)
                {
                    let consent = Self::latest(&seen, |k| match k {
                        EventKind::PartyConsent {
                            change: Change::Given,
                            patient,
                            holder: h,
                            party,
                            purpose: pp,
                        } if patient.as_str() == x
                            && h == holder
                            && party == q_org
                            && *pp == Purpose::QualitySurvey =>
                        {
                            Some(true)
                        }
                        EventKind::PartyConsent {
                            change: Change::Withdrawn,
                            patient,
                            holder: h,
                            party,
                            purpose: pp,
                        } if patient.as_str() == x
                            && h == holder
                            && party == q_org
                            && *pp == Purpose::QualitySurvey =>
                        {
                            Some(false)
                        }
                        _ => None,
                    });
                    check(consent, Reason::NoPartyConsent);
                    permitted = true;
                }
            }
            (Action::UseForResearch { purpose, study }, _) => {
                if matches!(q.principal, Principal::Organisation(_)) {
                    match purpose {
                        Purpose::NzaRegistration => {
                            let objection = Self::latest(&seen, |k| match k {
                                EventKind::Objection {
                                    change: Change::Given,
                                    patient,
                                    purpose,
                                } if patient.as_str() == x
                                    && *purpose == Purpose::NzaRegistration =>
                                {
                                    Some(true)
                                }
                                EventKind::Objection {
                                    change: Change::Withdrawn,
                                    patient,
                                    purpose,
                                } if patient.as_str() == x
                                    && *purpose == Purpose::NzaRegistration =>
                                {
                                    Some(false)
                                }
                                _ => None,
                            });
                            check(!objection, Reason::ObjectionRecorded);
                            permitted = true;
                        }
                        Purpose::Research => {
                            let consent = study.as_ref().is_some_and(|s| {
                                Self::latest(&seen, |k| match k {
                                    EventKind::ResearchConsent {
                                        change: Change::Given,
                                        patient,
                                        study: st,
                                    } if patient.as_str() == x && st == s => Some(true),
                                    EventKind::ResearchConsent {
                                        change: Change::Withdrawn,
                                        patient,
                                        study: st,
                                    } if patient.as_str() == x && st == s => Some(false),
                                    _ => None,
                                })
                            });
                            check(consent, Reason::NoResearchConsent);
                            permitted = true;
                        }
                        _ => {}
                    }
                }
            }
            (Action::ViewOwn { record, .. }, _) => {
                if let Some(r) = record {
                    let rec = self.record(r.as_str()).unwrap_or_else(|| unreachable!());
                    check(!Self::flagged(&seen, r.as_str()), Reason::RecordFlagged);
                    check(!Self::deleted(&seen, &rec), Reason::RecordDeleted);
                }
                if let Principal::Patient(y) = &q.principal {
                    check(y.as_str() == x, Reason::NotSelf);
                    permitted = true;
                }
            }
            (Action::ViewAccessLog { holder }, _) => match (&q.principal, practitioner) {
                (Principal::Patient(y), _) => {
                    check(y.as_str() == x, Reason::NotSelf);
                    permitted = true;
                }
                (_, Some((_, info))) => {
                    check(
                        holder
                            .as_ref()
                            .is_some_and(|h| h.as_str() == info.organisation),
                        Reason::NotOwnOrganisation,
                    );
                    check(
                        info.tasks.iter().any(|t| t == "log_review"),
                        Reason::TaskNotAuthorised,
                    );
                    permitted = true;
                }
                _ => {}
            },
            _ => {}
        }
        if reasons.is_empty() && permitted {
            (Decision::Allow, reasons)
        } else {
            if reasons.is_empty() {
                reasons.insert(Reason::NotPermitted);
            }
            (Decision::Deny, reasons)
        }
    }
}
