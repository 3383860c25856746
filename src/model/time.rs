//! Time: RFC 3339 timestamps, kept as seconds and nanoseconds since the Unix epoch.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, from an RFC 3339 timestamp (`2026-03-01T09:30:00Z`)
///
/// The engine never reads a clock: every decision and event carries its own
/// `Timestamp`. Stored as seconds and nanoseconds since the Unix epoch in UTC,
/// so every RFC 3339 time from `0001-01-01T00:00:00Z` to
/// `9999-12-31T23:59:59.999999999Z` is representable, nanoseconds included
/// (`9999-12-31T23:59:59Z` is the "end of time" of many EHRs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    // Field order is the order: seconds first.
    secs: i64,
    nanos: u32,
}

/// Why a string is not an RFC 3339 timestamp
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time `{value}`: expected an RFC 3339 timestamp such as `2026-03-01T09:30:00Z` between the years 0001 and 9999"
)]
pub struct TimeError {
    value: String,
}

/// `0001-01-01T00:00:00Z` in seconds since the Unix epoch
const MIN_SECS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z` in seconds since the Unix epoch
const MAX_SECS: i64 = 253_402_300_799;
const NANOS_PER_SEC: i64 = 1_000_000_000;

impl Timestamp {
    /// The earliest time: `0001-01-01T00:00:00Z`
    pub const MIN: Self = Self {
        secs: MIN_SECS,
        nanos: 0,
    };
    /// The latest time: `9999-12-31T23:59:59.999999999Z`
    pub const MAX: Self = Self {
        secs: MAX_SECS,
        nanos: 999_999_999,
    };

    /// The timestamp `nanos` nanoseconds after 1970-01-01T00:00:00Z (every
    /// `i64` is in range: 1677 to 2262)
    pub const fn from_unix_nanos(nanos: i64) -> Self {
        Self {
            secs: nanos.div_euclid(NANOS_PER_SEC),
            #[expect(
                clippy::cast_possible_truncation,
                reason = "rem_euclid of 1e9 is in 0..1e9"
            )]
            nanos: nanos.rem_euclid(NANOS_PER_SEC) as u32,
        }
    }

    /// The timestamp `secs` seconds and `nanos` nanoseconds after
    /// 1970-01-01T00:00:00Z; `None` outside the years 0001–9999 or when
    /// `nanos` is a second or more
    pub const fn from_unix(secs: i64, nanos: u32) -> Option<Self> {
        if secs < MIN_SECS || secs > MAX_SECS || nanos >= 1_000_000_000 {
            return None;
        }
        Some(Self { secs, nanos })
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z (negative before it)
    pub const fn unix_nanos(self) -> i128 {
        self.secs as i128 * NANOS_PER_SEC as i128 + self.nanos as i128
    }

    /// Whole seconds since 1970-01-01T00:00:00Z, rounded down
    pub const fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// The nanoseconds past [`Timestamp::unix_seconds`]
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Parses an RFC 3339 timestamp; any offset is converted to UTC
    ///
    /// # Errors
    ///
    /// [`TimeError`] when `s` is not RFC 3339 or lies outside the years
    /// 0001–9999 (after conversion to UTC).
    ///
    /// ```
    /// use zorg_pdp::Timestamp;
    /// let end_of_time: Timestamp = "9999-12-31T23:59:59Z".parse()?;
    /// assert_eq!(end_of_time.to_string(), "9999-12-31T23:59:59Z");
    /// assert!("10000-01-01T00:00:00Z".parse::<Timestamp>().is_err());
    /// # Ok::<(), zorg_pdp::TimeError>(())
    /// ```
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
        Self::from_unix(dt.timestamp(), dt.timestamp_subsec_nanos()).ok_or_else(err)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every value is in chrono's range (years 0001–9999).
        let dt = DateTime::<Utc>::from_timestamp(self.secs, self.nanos).unwrap_or_default();
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
            "description": "An RFC 3339 timestamp (`2026-03-01T09:30:00Z`) in the years 0001–9999; any offset is converted to UTC",
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
        assert!(Timestamp::parse("10000-01-01T00:00:00Z").is_err());
        assert!(
            Timestamp::parse("0001-01-01T00:30:00+01:00").is_err(),
            "year 0 in UTC"
        );
        assert!(Timestamp::parse("9999-12-31T23:59:59-01:00").is_err());
    }

    #[test]
    fn covers_the_years_0001_to_9999() {
        for s in [
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59.999999999Z",
            "0001-01-01T00:00:00Z",
            "1600-02-29T12:00:00.000000001Z",
            "2262-04-11T23:47:16.854775808Z",
            "1677-09-21T00:12:43.145224191Z",
        ] {
            let t = Timestamp::parse(s).unwrap();
            assert_eq!(t.to_string(), s);
            assert_eq!(
                Timestamp::from_unix(t.unix_seconds(), t.subsec_nanos()),
                Some(t)
            );
        }
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59.999999999Z").unwrap(),
            Timestamp::MAX
        );
        assert_eq!(
            Timestamp::parse("0001-01-01T00:00:00Z").unwrap(),
            Timestamp::MIN
        );
        let early = Timestamp::parse("1000-01-01T00:00:00Z").unwrap();
        let late = Timestamp::parse("9000-01-01T00:00:00Z").unwrap();
        assert!(early < Timestamp::from_unix_nanos(i64::MIN));
        assert!(late > Timestamp::from_unix_nanos(i64::MAX));
        assert_eq!(
            Timestamp::from_unix_nanos(-1).to_string(),
            "1969-12-31T23:59:59.999999999Z"
        );
        assert_eq!(Timestamp::from_unix_nanos(-1).unix_nanos(), -1);
    }
}
