#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod audit;
pub mod engine;
pub mod error;
pub mod model;
pub mod policy;
pub mod registry;
pub mod scenario;
#[cfg(feature = "json-schema")]
pub mod schema;

pub use audit::{AuditRecord, AuditSink, MemorySink};
pub use engine::{DashboardError, Engine};
pub use error::{EntityError, ParseError};
pub use model::entities::{EntityRecord, Organisation, Patient, Practitioner};
pub use model::event::{Event, EventError, EventKind, EventProblem, EventRecord, EventType};
pub use model::ids::{
    CareModule, Category, DocumentRef, IdError, MAX_ID_LEN, OrganisationId, PatientId,
    PractitionerId, RecordId, Role, StudyId, Task,
};
pub use model::request::{
    Action, DashboardAnswer, DashboardQuery, Decision, HolderView, ModuleView, Principal, Request,
    RequestError, RequestRecord, Response,
};
pub use model::time::{TimeError, Timestamp};
pub use model::vocab::{ActionKind, Purpose, Reason, Source, Vocabulary};
pub use policy::{Policies, PolicyLoadError};
pub use registry::Registry;
pub use scenario::{RunReport, Scenario, ScenarioError};
