//! JSON Schemas (draft 2020-12) of every wire type, generated with schemars
//!
//! The same schemas are committed in `schemas/<name>.schema.json`; a test
//! fails when they drift from the types (`UPDATE_SCHEMAS=1` rewrites them).
//!
//! Inputs (`event`, `request`, `dashboard-query`, `entity`, `scenario`, the
//! `consent-*-query`s, `log-entry`) are described as the engine *reads* them: optional
//! fields are not required, unknown fields are refused
//! (`additionalProperties: false`). Outputs (`response`, `dashboard-answer`,
//! `audit-record`, the `consent-*-answer`s) are described as the engine
//! *writes* them, so every field it always writes is required.
//!
//! ```
//! let schema = zorg_pdp::schema::by_name("request").unwrap();
//! assert_eq!(schema["title"], "RequestRecord");
//! assert!(zorg_pdp::schema::all().iter().any(|(name, _)| *name == "event"));
//! ```

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::audit::AuditRecord;
use crate::model::consent_query::{
    ConsentCheckAnswer, ConsentCheckQuery, ConsentLocateAnswer, ConsentLocateQuery,
    ConsentOverviewAnswer, ConsentOverviewQuery,
};
use crate::model::entities::EntityRecord;
use crate::model::event::EventRecord;
use crate::model::log_entry::LogEntryRecord;
use crate::model::request::{DashboardAnswer, DashboardQuery, RequestRecord, Response};
use crate::scenario::Scenario;

/// Which way a type crosses the wire
#[derive(Debug, Clone, Copy)]
enum Direction {
    /// Read by the engine
    In,
    /// Written by the engine
    Out,
}

/// One schema: its name and how to make it
type Entry = (&'static str, fn() -> Value);

/// Every schema, by name, in a fixed order
const ENTRIES: &[Entry] = &[
    ("event", || render::<EventRecord>(Direction::In)),
    ("request", || render::<RequestRecord>(Direction::In)),
    ("response", || render::<Response>(Direction::Out)),
    ("dashboard-query", || {
        render::<DashboardQuery>(Direction::In)
    }),
    ("dashboard-answer", || {
        render::<DashboardAnswer>(Direction::Out)
    }),
    ("entity", || render::<EntityRecord>(Direction::In)),
    ("scenario", || render::<Scenario>(Direction::In)),
    ("audit-record", || render::<AuditRecord>(Direction::Out)),
    ("consent-check-query", || {
        render::<ConsentCheckQuery>(Direction::In)
    }),
    ("consent-check-answer", || {
        render::<ConsentCheckAnswer>(Direction::Out)
    }),
    ("consent-locate-query", || {
        render::<ConsentLocateQuery>(Direction::In)
    }),
    ("consent-locate-answer", || {
        render::<ConsentLocateAnswer>(Direction::Out)
    }),
    ("consent-overview-query", || {
        render::<ConsentOverviewQuery>(Direction::In)
    }),
    ("consent-overview-answer", || {
        render::<ConsentOverviewAnswer>(Direction::Out)
    }),
    ("log-entry", || render::<LogEntryRecord>(Direction::In)),
];

/// The names of every schema, in the order of [`all`]
pub fn names() -> impl Iterator<Item = &'static str> {
    ENTRIES.iter().map(|(name, _)| *name)
}

/// Every schema with its name: `event`, `request`, `response`,
/// `dashboard-query`, `dashboard-answer`, `entity`, `scenario`,
/// `audit-record`, and the consent questions' `consent-check-query`,
/// `consent-check-answer`, `consent-locate-query`, `consent-locate-answer`,
/// `consent-overview-query`, `consent-overview-answer`, and `log-entry` (an
/// entry of a host's ordered log, SPEC.md §8)
pub fn all() -> Vec<(&'static str, Value)> {
    ENTRIES.iter().map(|(name, make)| (*name, make())).collect()
}

/// The schema called `name` (one of [`names`]), or `None`
pub fn by_name(name: &str) -> Option<Value> {
    ENTRIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, make)| make())
}

fn render<T: JsonSchema>(direction: Direction) -> Value {
    let settings = SchemaSettings::draft2020_12();
    let settings = match direction {
        Direction::In => settings.for_deserialize(),
        Direction::Out => settings.for_serialize(),
    };
    canonical(settings.into_generator().into_root_schema_for::<T>().into())
}

/// The value with every object's keys sorted, so the text does not depend on
/// whether `serde_json`'s `preserve_order` feature is on somewhere in the build
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_schema_has_a_title() {
        let all = all();
        let mut names: Vec<_> = all.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for (name, schema) in &all {
            assert!(schema["title"].is_string(), "{name}");
            assert_eq!(by_name(name).as_ref(), Some(schema));
        }
        assert!(by_name("nope").is_none());
    }

    #[test]
    fn ids_and_times_are_constrained_strings() {
        let event = by_name("event").unwrap();
        let id = &event["$defs"]["PatientId"];
        assert_eq!(id["type"], "string");
        assert_eq!(id["pattern"], "^[A-Za-z0-9._:-]{1,128}$");
        assert_eq!(id["maxLength"], 128);
        assert_eq!(event["$defs"]["Timestamp"]["format"], "date-time");
        assert_eq!(event["additionalProperties"], false);
    }
}
