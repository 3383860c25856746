//! The engine behind AuthZEN (SPEC.md §9, notes §3.1): the mapping of
//! subject, action, resource and context onto a [`Request`], and the
//! searches.
//!
//! * `subject` `{type: practitioner | patient | organisation, id}`;
//! * `action.name` one of the twelve actions of SPEC.md §4;
//! * `resource` `{type: "patient", id, properties: {holder, category, record,
//!   module, study}}`, only the properties the action uses read;
//! * `context` `{at (required), mfa, purpose, min_seq}`, nothing else read.
//!
//! A malformed value of a field read (`at` not a time, `mfa` not a boolean,
//! a property the action needs absent) is a 400. An id the registry does not
//! know, or cannot know because it breaks the id rules, an unknown subject or
//! resource type and an unknown action are a deny with `unknown_entity`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};
use zorg_pdp::{
    ActionKind, CareModule, Category, DashboardQuery, Engine, EntityRecord, OrganisationId,
    PatientId, PractitionerId, Principal, Purpose, Reason, RecordId, RequestError, RequestRecord,
    Response, StudyId, Timestamp,
};

use crate::authzen::{BadRequest, Entity, Evaluation, Search};
use crate::decider::{Answer, Context, Decider, Found};

/// The result type of a resource search for categories
pub const CATEGORY: &str = "category";
/// The result type of a resource search for holders
pub const HOLDER: &str = "holder";

/// The engine as an AuthZEN [`Decider`]
#[derive(Debug)]
pub struct ZorgDecider {
    engine: Arc<Engine>,
    /// Practitioners and organisations registered through this process (the
    /// world file and `/v1/entries`): the candidates of a subject search
    known: Mutex<Known>,
}

/// Ids seen registered, for subject search (the engine lists none)
#[derive(Debug, Default)]
struct Known {
    practitioners: BTreeSet<String>,
    organisations: BTreeSet<String>,
}

/// A request that names something unknown: a deny with `unknown_entity`
struct Unknown;

impl ZorgDecider {
    /// A decider over `engine`
    pub fn new(engine: Arc<Engine>) -> Self {
        Self {
            engine,
            known: Mutex::new(Known::default()),
        }
    }

    /// The engine
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Notes a registered entity as a subject-search candidate
    pub fn note(&self, entity: &EntityRecord) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        match entity {
            EntityRecord::Practitioner(p) => {
                known.practitioners.insert(p.id.as_str().to_owned());
            }
            EntityRecord::Organisation(o) => {
                known.organisations.insert(o.id.as_str().to_owned());
            }
            EntityRecord::Patient(_) => {}
        }
    }

    fn answer(response: Verdict) -> Answer {
        Answer {
            decision: response.allowed,
            context: Some(Context::Engine {
                allowed: response.allowed,
                reasons: response.reasons,
                policies: response.policies,
                seq: response.seq,
            }),
        }
    }

    fn unknown(&self) -> Verdict {
        Verdict {
            allowed: false,
            reasons: vec![Reason::UnknownEntity],
            policies: Vec::new(),
            seq: self.engine.seq(),
        }
    }
}

/// A decision as the response shows it: the engine's, or the deny of a
/// request naming something unknown
struct Verdict {
    allowed: bool,
    reasons: Vec<Reason>,
    policies: Vec<String>,
    seq: u64,
}

impl From<Response> for Verdict {
    fn from(r: Response) -> Self {
        Self {
            allowed: r.is_allowed(),
            reasons: r.reasons,
            policies: r.policies,
            seq: r.seq,
        }
    }
}

/// The context fields a decision reads
struct When {
    at: Timestamp,
    mfa: bool,
    purpose: Option<Purpose>,
    min_seq: Option<u64>,
}

fn when(context: &Map<String, Value>) -> Result<When, BadRequest> {
    let at = match context.get("at") {
        Some(Value::String(s)) => Timestamp::parse(s)
            .map_err(|e| BadRequest::field("context.at", &format!("`{s}`: {e}")))?,
        None | Some(Value::Null) => return Err(BadRequest::field("context.at", "is required")),
        Some(_) => return Err(BadRequest::field("context.at", "must be a string")),
    };
    let mfa = match context.get("mfa") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(BadRequest::field("context.mfa", "must be a boolean")),
    };
    let purpose = match context.get("purpose") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Purpose::from_name(s).ok_or_else(|| {
            BadRequest::field("context.purpose", &format!("unknown purpose `{s}`"))
        })?),
        Some(_) => return Err(BadRequest::field("context.purpose", "must be a string")),
    };
    let min_seq = match context.get("min_seq") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            BadRequest::field("context.min_seq", "must be a non-negative integer")
        })?),
    };
    Ok(When {
        at,
        mfa,
        purpose,
        min_seq,
    })
}

/// The principal a subject names, or `None` for an unknown type or a
/// malformed id
fn principal(subject: &Entity<'_>) -> Option<Principal> {
    match subject.kind {
        "practitioner" => PractitionerId::new(subject.id)
            .ok()
            .map(Principal::Practitioner),
        "patient" => PatientId::new(subject.id).ok().map(Principal::Patient),
        "organisation" => OrganisationId::new(subject.id)
            .ok()
            .map(Principal::Organisation),
        _ => None,
    }
}

/// A string property that must parse as `T`: `Ok(None)` absent,
/// `Err(Ok(Unknown))` a malformed value, `Err(Err(_))` not a string
fn prop<T>(
    props: &Map<String, Value>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Result<Option<T>, Unknown>, BadRequest> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(Ok(None)),
        Some(Value::String(s)) => Ok(parse(s).map(Some).ok_or(Unknown)),
        Some(_) => Err(BadRequest::field(
            format!("resource.properties.{key}"),
            "must be a string",
        )),
    }
}

/// Which optional fields an action reads
fn uses(kind: ActionKind) -> [bool; 6] {
    use ActionKind as A;
    // holder, category, record, purpose, module, study
    match kind {
        A::View => [true, true, false, true, false, false],
        A::ViewRecord => [false, false, true, true, false, false],
        A::RequestAccess | A::Share => [false; 6],
        A::StartModule | A::Contribute => [false, false, false, false, true, false],
        A::ChangeConsent | A::ViewConsents | A::ViewAccessLog => {
            [true, false, false, false, false, false]
        }
        A::UsePersonalData => [true, false, false, true, false, false],
        A::UseForResearch => [false, false, false, true, false, true],
        A::ViewOwn => [true, true, true, false, false, false],
    }
}

/// The engine request of an evaluation with action `kind`
fn record(
    subject: &Entity<'_>,
    kind: ActionKind,
    resource: &Entity<'_>,
    w: &When,
) -> Result<Result<RequestRecord, Unknown>, BadRequest> {
    let p = &resource.properties;
    let [u_holder, u_category, u_record, u_purpose, u_module, u_study] = uses(kind);
    // Parse every property the action reads first, so a malformed one is a
    // 400 whatever else is unknown
    let holder = if u_holder {
        prop(p, "holder", |s| OrganisationId::new(s).ok())?
    } else {
        Ok(None)
    };
    let category = if u_category {
        prop(p, "category", |s| Category::new(s).ok())?
    } else {
        Ok(None)
    };
    let rec = if u_record {
        prop(p, "record", |s| RecordId::new(s).ok())?
    } else {
        Ok(None)
    };
    let module = if u_module {
        prop(p, "module", |s| CareModule::new(s).ok())?
    } else {
        Ok(None)
    };
    let study = if u_study {
        prop(p, "study", |s| StudyId::new(s).ok())?
    } else {
        Ok(None)
    };
    let (Some(principal), true, Ok(patient)) = (
        principal(subject),
        resource.kind == "patient",
        PatientId::new(resource.id),
    ) else {
        return Ok(Err(Unknown));
    };
    let (Ok(holder), Ok(category), Ok(rec), Ok(module), Ok(study)) =
        (holder, category, rec, module, study)
    else {
        return Ok(Err(Unknown));
    };
    Ok(Ok(RequestRecord {
        principal,
        action: kind,
        patient,
        at: w.at,
        mfa: Some(w.mfa),
        holder,
        category,
        record: rec,
        purpose: if u_purpose { w.purpose } else { None },
        module,
        study,
        min_seq: w.min_seq,
    }))
}

/// A [`RequestError`] as the 400 it is, naming the AuthZEN field
fn bad(e: &RequestError) -> BadRequest {
    match e {
        RequestError::MissingField { action, field } => {
            let path = if *field == "purpose" {
                "context.purpose".to_owned()
            } else {
                format!("resource.properties.{field}")
            };
            BadRequest::field(&path, &format!("is required for action `{action}`"))
        }
        other => BadRequest(other.to_string()),
    }
}

impl ZorgDecider {
    fn decide(
        &self,
        subject: &Entity<'_>,
        kind: ActionKind,
        resource: &Entity<'_>,
        w: &When,
    ) -> Result<Verdict, BadRequest> {
        match record(subject, kind, resource, w)? {
            Err(Unknown) => Ok(self.unknown()),
            Ok(r) => {
                let request = r.into_request(false).map_err(|e| bad(&e))?;
                Ok(self.engine.decide(&request).into())
            }
        }
    }

    fn query(s: &Search<'_>, w: &When) -> Result<Option<(PatientId, DashboardQuery)>, BadRequest> {
        let Some(Ok(Some(patient))) = Some(prop(s.resource.properties, "patient", |x| {
            PatientId::new(x).ok()
        })?) else {
            // a malformed patient id is unknown: no results
            return match s.resource.properties.get("patient") {
                None | Some(Value::Null) => Err(BadRequest::field(
                    "resource.properties.patient",
                    "is required for a resource search",
                )),
                _ => Ok(None),
            };
        };
        let Some(principal) = principal(&s.subject) else {
            return Ok(None);
        };
        Ok(Some((
            patient.clone(),
            DashboardQuery {
                principal,
                patient,
                at: w.at,
                mfa: w.mfa,
                purpose: w.purpose.unwrap_or(Purpose::Treatment),
                min_seq: w.min_seq,
            },
        )))
    }
}

impl Decider for ZorgDecider {
    fn evaluate(&self, e: &Evaluation<'_>) -> Result<Answer, BadRequest> {
        let w = when(e.context)?;
        let response = match ActionKind::from_name(e.action.name) {
            Some(kind) => self.decide(&e.subject, kind, &e.resource, &w)?,
            None => self.unknown(),
        };
        Ok(Self::answer(response))
    }

    fn search_subject(&self, s: &Search<'_>) -> Result<Vec<Found>, BadRequest> {
        let w = when(s.context)?;
        let Some(action) = &s.action else {
            return Ok(Vec::new());
        };
        let Some(kind) = ActionKind::from_name(action.name) else {
            return Ok(Vec::new());
        };
        let candidates: Vec<String> = {
            let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
            match s.subject.kind {
                "practitioner" => known.practitioners.iter().cloned().collect(),
                "organisation" => known.organisations.iter().cloned().collect(),
                "patient" => vec![s.resource.id.to_owned()],
                _ => Vec::new(),
            }
        };
        let mut found = Vec::new();
        for id in &candidates {
            let subject = Entity { id, ..s.subject };
            if self.decide(&subject, kind, &s.resource, &w)?.allowed {
                found.push(Found::Entity {
                    kind: subject.kind.to_owned(),
                    id: id.clone(),
                });
            }
        }
        Ok(found)
    }

    fn search_resource(&self, s: &Search<'_>) -> Result<Vec<Found>, BadRequest> {
        let w = when(s.context)?;
        let kind = s.resource.kind;
        if kind != CATEGORY && kind != HOLDER {
            return Ok(Vec::new());
        }
        let holder = if kind == CATEGORY {
            match prop(s.resource.properties, "holder", |x| {
                OrganisationId::new(x).ok()
            })? {
                Ok(Some(h)) => Some(h),
                Ok(None) => {
                    return Err(BadRequest::field(
                        "resource.properties.holder",
                        "is required for a category search",
                    ));
                }
                Err(Unknown) => return Ok(Vec::new()),
            }
        } else {
            None
        };
        let Some((_, query)) = Self::query(s, &w)? else {
            return Ok(Vec::new());
        };
        let view = s.action.map(|a| a.name) == Some("view");
        if !view {
            return Ok(Vec::new());
        }
        let Ok(board) = self.engine.dashboard(&query) else {
            return Ok(Vec::new());
        };
        Ok(match holder {
            Some(h) => board
                .holders
                .into_iter()
                .filter(|v| v.holder == h)
                .flat_map(|v| v.visible)
                .map(|c| Found::Entity {
                    kind: CATEGORY.into(),
                    id: c.as_str().to_owned(),
                })
                .collect(),
            None => board
                .holders
                .into_iter()
                .filter(|v| !v.visible.is_empty())
                .map(|v| Found::Entity {
                    kind: HOLDER.into(),
                    id: v.holder.as_str().to_owned(),
                })
                .collect(),
        })
    }

    fn search_action(&self, s: &Search<'_>) -> Result<Vec<Found>, BadRequest> {
        let w = when(s.context)?;
        let mut found = Vec::new();
        for kind in ActionKind::ALL {
            // An action whose fields the resource does not carry cannot be
            // asked, so it is not a result
            match self.decide(&s.subject, *kind, &s.resource, &w) {
                Ok(r) if r.allowed => found.push(Found::Action(kind.as_str().to_owned())),
                Ok(_) | Err(_) => {}
            }
        }
        Ok(found)
    }
}
