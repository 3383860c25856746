#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// Every module is private but six namespaces (`analysis`, `audit`, `consent`,
// `scenario`, `schema`, `store`); the rest of the public API is this one list, so each
// item has one path. Data flows one way, and the modules depend only downstream-ward:
// diagnostic ← model ← fhir, registry ← policy ← engine → audit, and engine ←
// analysis, engine and audit ← store (tests/it/architecture.rs checks it); `diagnostic` (where an error
// is in its file) comes first of all.
pub mod analysis;
pub mod audit;
/// Granular consent (SPEC.md §7, RULES.md §J): consent statements, the
/// statements in force, and the resolver (`docs/consent.md`)
pub mod consent {
    pub use crate::model::consent::{
        AgeFacts, Answer, BirthDate, BirthDateError, Choice, Data, Holder,
        MITZ_AGE_WITHOUT_CONFIRMATION, Origin, Question, Requester, Resolution, Statement,
        StatementEvent, StatementKey, in_force, resolve,
    };
    pub use crate::model::consent_vocab::ConsentVocabulary;
}
mod diagnostic;
mod engine;
mod fhir;
mod model;
mod policy;
mod registry;
pub mod scenario;
#[cfg(feature = "json-schema")]
pub mod schema;
pub mod store;

pub use audit::{AuditRecord, AuditSink, MemorySink};
pub use diagnostic::Location;
#[doc(hidden)]
pub use engine::CedarBaseline;
pub use engine::{
    ConsentQueryError, DashboardError, Engine, Explanation, FactSeen, PolicyTrace, PolicyVerdict,
};
pub use fhir::{FhirError, FhirProblem, MAX_FHIR_BUNDLE_LEN};
pub use model::MAX_JSON_LEN;
pub use model::consent_query::{
    ConsentAnswer, ConsentCheckAnswer, ConsentCheckQuery, ConsentLocateAnswer, ConsentLocateQuery,
    ConsentOverviewAnswer, ConsentOverviewQuery, ConsentStatement, DataCategoryAnswer,
    LocatedHolder, OverviewAnswer, StatementOrigin,
};
pub use model::consent_vocab::ConsentVocabulary;
pub use model::entities::{EntityRecord, Organisation, Patient, Practitioner};
pub use model::error::{EntityError, JournalFailure, ParseError};
pub use model::event::{
    Change, Event, EventError, EventKind, EventProblem, EventRecord, EventType, MitzHolder,
    RecordedVia,
};
pub use model::ids::{
    CareModule, Category, DataCategory, DocumentRef, HolderCategory, IdError, MAX_ID_LEN,
    OrganisationId, PatientId, PractitionerId, ProviderType, RecordId, RequesterCategory, Role,
    StudyId, Task,
};
pub use model::log_entry::{
    Applied, EntryBody, EntryError, LogEntry, LogEntryError, LogEntryRecord,
};
pub use model::national::{Bsn, NationalIdError, Ura};
pub use model::request::{
    Action, DashboardAnswer, DashboardQuery, Decision, HolderView, ModuleView, Principal, Request,
    RequestError, RequestRecord, Response,
};
pub use model::time::{TimeError, Timestamp};
pub use model::vocab::{ActionKind, Purpose, Reason, Source, Vocabulary};
pub use policy::policy_load_errors;
pub use policy::{
    CONSENT_FILE, FORMAT_INDENT, FORMAT_LINE_WIDTH, MAX_POLICY_FILE_LEN, MAX_POLICY_NESTING,
    MAX_POLICY_OPERATORS, Policies, PolicyLoadError, SCHEMA_FILE, format_policies,
};
pub use scenario::{RunReport, Scenario, ScenarioError};

// The Rust examples of docs/ run as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../docs/durability.md")]
struct DurabilityDocs;

#[cfg(doctest)]
#[doc = include_str!("../docs/audit.md")]
struct AuditDocs;

#[cfg(doctest)]
#[doc = include_str!("../docs/consent.md")]
struct ConsentDocs;

#[cfg(doctest)]
#[doc = include_str!("../docs/consent-vocabulary.md")]
struct ConsentVocabularyDocs;
