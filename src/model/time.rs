//! Time: RFC 3339 timestamps, kept as nanoseconds since the Unix epoch.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, from an RFC 3339 timestamp (`2026-03-01T09:30:00Z`)
///
/// The engine never reads a clock: every decision and event carries its own
/// `Timestamp`. Stored as nanoseconds since the Unix epoch in UTC, so
/// timestamps from 1677 to 2262 are representable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

/// Why a string is not an RFC 3339 timestamp
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time `{value}`: expected an RFC 3339 timestamp such as `2026-03-01T09:30:00Z` between 1677 and 2262"
)]
pub struct TimeError {
    value: String,
}

impl Timestamp {
    /// The timestamp `nanos` nanoseconds after 1970-01-01T00:00:00Z
    pub const fn from_unix_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 timestamp; any offset is converted to UTC
    ///
    /// # Errors
    ///
    /// [`TimeError`] when `s` is not RFC 3339 or lies outside 1677–2262.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let err = || TimeError {
            value: s
                .chars()
                .take(64)
                .collect::<String>()
                .escape_debug()
                .to_string(),
        };
        let dt = DateTime::parse_from_rfc3339(s).map_err(|_| err())?;
        dt.timestamp_nanos_opt().map(Self).ok_or_else(err)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = DateTime::<Utc>::from_timestamp_nanos(self.0);
        f.write_str(&dt.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, TimeError> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "json-schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An RFC 3339 timestamp (`2026-03-01T09:30:00Z`) between 1677 and 2262; any offset is converted to UTC",
            "type": "string",
            "format": "date-time",
        })
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        let a = Timestamp::parse("2026-03-01T09:30:00Z").unwrap();
        let b = Timestamp::parse("2026-03-01T10:30:00+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2026-03-01T09:30:00Z");
        let c = Timestamp::parse("2026-03-01T09:30:00.5Z").unwrap();
        assert!(c > a);
        assert_eq!(c.to_string().parse::<Timestamp>().unwrap(), c);
    }

    #[test]
    fn rejects_garbage_and_out_of_range() {
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2026-03-01").is_err());
        assert!(Timestamp::parse("9999-01-01T00:00:00Z").is_err());
    }
}
