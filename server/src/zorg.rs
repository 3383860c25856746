//! The engine behind AuthZEN (SPEC.md §9, notes §3.1): the mapping of
//! subject, action, resource and context onto a [`zorg_pdp::Request`], and the
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

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use prometheus_client::registry::Registry;
use serde_json::{Map, Value};
use tokio::sync::watch;
use zorg_pdp::{
    ActionKind, CareModule, Category, DashboardQuery, Engine, OrganisationId, PatientId,
    PractitionerId, Principal, Purpose, Reason, RecordId, RequestError, RequestRecord, Response,
    StudyId, Timestamp,
};
use zorg_pdp_postgres::FeedStatus;

use crate::audit_log::AuditLog;
use crate::authzen::{BadRequest, Entity, Evaluation, Search};
use crate::decider::{Answer, Context, Decider, Found};
use crate::metrics::{self, Metrics};

/// The result type of a resource search for categories
pub const CATEGORY: &str = "category";
/// The result type of a resource search for holders
pub const HOLDER: &str = "holder";

/// The engine as an AuthZEN [`Decider`], with what the service runs around
/// it: its metrics, and, when attached, the audit log and the feed
///
/// Subject search takes its candidates from the engine
/// ([`Engine::registered_practitioners`], [`Engine::registered_organisations`]),
/// so it answers the same after a restart from a data directory or on a
/// replica as in the process that registered them.
#[derive(Debug)]
pub struct ZorgDecider {
    engine: Arc<Engine>,
    metrics: Arc<Metrics>,
    audit: OnceLock<AuditLog>,
    feed: OnceLock<watch::Receiver<FeedStatus>>,
}

/// A request that names something unknown: a deny with `unknown_entity`
struct Unknown;

impl ZorgDecider {
    /// A decider over `engine`
    pub fn new(engine: Arc<Engine>) -> Self {
        Self {
            engine,
            metrics: Arc::new(Metrics::new()),
            audit: OnceLock::new(),
            feed: OnceLock::new(),
        }
    }

    /// The engine
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The service's metrics
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Sets `log`'s sink on the engine: every later decision and consent
    /// question leaves its record there; `false` (and nothing changes) when
    /// a log is attached already
    pub fn attach_audit(&self, log: AuditLog) -> bool {
        let sink = Arc::clone(log.sink());
        if self.audit.set(log).is_err() {
            return false;
        }
        self.engine.set_audit_sink(sink);
        true
    }

    /// The audit log, when one is attached
    pub fn audit(&self) -> Option<&AuditLog> {
        self.audit.get()
    }

    /// Attaches a feed's status (see [`crate::replica::spawn`]): `/readyz`
    /// then follows it and `/v1/entries` is refused; `false` when a feed is
    /// attached already
    pub fn attach_feed(&self, status: watch::Receiver<FeedStatus>) -> bool {
        self.feed.set(status).is_ok()
    }

    /// The feed's status now, when a feed is attached
    pub fn feed_status(&self) -> Option<FeedStatus> {
        self.feed.get().map(|rx| rx.borrow().clone())
    }

    /// Registers the engine's state for one scrape: position, journal,
    /// audit log and feed (read now)
    pub(crate) fn register_state(&self, r: &mut Registry) {
        let e = &self.engine;
        r.register(
            "seq",
            "The last applied position (engine.seq())",
            metrics::gauge_u64(e.seq()),
        );
        if e.data_dir().is_some() {
            r.register(
                "journal_stopped",
                "1 when the data directory's journal stopped after a failed write or sync",
                metrics::gauge(i64::from(e.journal_stopped())),
            );
        }
        r.register(
            "audit_failures",
            "Audit records a sink refused (engine.audit_failures()); each was an answered decision",
            metrics::counter(e.audit_failures()),
        );
        if let Some(log) = self.audit() {
            r.register(
                "audit_records_written",
                "Audit records this process wrote to the --audit log",
                metrics::counter(log.written()),
            );
            r.register(
                "audit_last_seq",
                "The seq of the last record in the --audit log",
                metrics::gauge_u64(log.last_seq()),
            );
        }
        if let Some(s) = self.feed_status() {
            r.register(
                "feed_position",
                "The position the feed has applied",
                metrics::gauge_u64(s.applied),
            );
            r.register(
                "feed_head",
                "The highest outbox position the feed has seen",
                metrics::gauge_u64(s.head),
            );
            r.register(
                "feed_lag",
                "Outbox positions seen but not applied (head - position)",
                metrics::gauge_u64(s.head.saturating_sub(s.applied)),
            );
            r.register(
                "feed_connected",
                "1 while the feed is connected to PostgreSQL",
                metrics::gauge(i64::from(s.connected)),
            );
            r.register(
                "feed_caught_up",
                "1 when the feed's last round applied everything committed before it",
                metrics::gauge(i64::from(s.caught_up)),
            );
            r.register(
                "feed_ready",
                "1 when /readyz answers 200 (connected, caught up, running)",
                metrics::gauge(i64::from(s.is_ready())),
            );
            r.register(
                "feed_stopped",
                "1 when the feed has ended (shutdown, or a row the engine refused)",
                metrics::gauge(i64::from(s.stopped)),
            );
            r.register(
                "feed_reconnects",
                "Connections to PostgreSQL lost and retried",
                metrics::counter(s.reconnects),
            );
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
            Err(Unknown) => {
                self.metrics.answered(Some(kind), false);
                Ok(self.unknown())
            }
            Ok(r) => {
                let request = r.into_request(false).map_err(|e| bad(&e))?;
                let started = Instant::now();
                let response = self.engine.decide(&request);
                self.metrics
                    .decided(kind, response.is_allowed(), started.elapsed());
                Ok(response.into())
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
        let response = if let Some(kind) = ActionKind::from_name(e.action.name) {
            self.decide(&e.subject, kind, &e.resource, &w)?
        } else {
            self.metrics.answered(None, false);
            self.unknown()
        };
        Ok(Self::answer(response))
    }

    fn search_subject(&self, s: &Search<'_>) -> Result<Vec<Found>, BadRequest> {
        self.metrics.searched("subject");
        let w = when(s.context)?;
        let Some(action) = &s.action else {
            return Ok(Vec::new());
        };
        let Some(kind) = ActionKind::from_name(action.name) else {
            return Ok(Vec::new());
        };
        let candidates: Vec<String> = match s.subject.kind {
            "practitioner" => self
                .engine
                .registered_practitioners()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            "organisation" => self
                .engine
                .registered_organisations()
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect(),
            "patient" => vec![s.resource.id.to_owned()],
            _ => Vec::new(),
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
        self.metrics.searched("resource");
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
        self.metrics.searched("action");
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
