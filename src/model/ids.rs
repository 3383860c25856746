//! Identifiers: validated strings of 1 to 128 characters from `A-Z a-z 0-9 . _ : -`.
//!
//! Stored inline up to 23 bytes (most ids), so comparing and hashing them on
//! the decision path touches no other memory, and cloning is a copy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smol_str::SmolStr;

/// The longest id accepted, in bytes (and characters: ids are ASCII)
pub const MAX_ID_LEN: usize = 128;

/// Why a string is not a valid id
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The string is empty
    #[error("an id must not be empty")]
    Empty,
    /// The string is longer than [`MAX_ID_LEN`]
    #[error("an id is at most {MAX_ID_LEN} characters, this one has {0}")]
    TooLong(usize),
    /// The string holds a character outside `A-Z a-z 0-9 . _ : -`
    #[error("invalid id `{value}`: character {position} is not one of `A-Z a-z 0-9 . _ : -`")]
    BadCharacter {
        /// The offending id (already known to be at most 128 characters)
        value: String,
        /// 1-based position of the first bad character
        position: usize,
    },
}

/// Checks the id rules of SPEC.md §1
pub(crate) fn check_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong(s.chars().count()));
    }
    if let Some(pos) = s
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')))
    {
        // Show the value escaped so that control characters cannot reach a terminal or log.
        return Err(IdError::BadCharacter {
            value: s.escape_debug().to_string(),
            position: pos + 1,
        });
    }
    Ok(())
}

/// The JSON Schema `pattern` of every id (SPEC.md §1)
#[cfg(feature = "json-schema")]
pub(crate) const ID_PATTERN: &str = "^[A-Za-z0-9._:-]{1,128}$";

/// `Debug` of an id that may name a patient (a patient or a record): the
/// type and the length only, so a `{:?}` of a request or an event in a host's
/// log does not copy the patient's id there
macro_rules! redacted_debug {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(<{} bytes>)", stringify!($name), self.0.len())
            }
        }
    )*};
}

/// `Debug` of an id that names no patient: the id itself
macro_rules! plain_debug {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }
    )*};
}

redacted_debug!(PatientId, RecordId);
plain_debug!(
    OrganisationId,
    PractitionerId,
    StudyId,
    DocumentRef,
    Role,
    Task,
    Category,
    CareModule,
    DataCategory,
    HolderCategory,
    RequesterCategory,
    ProviderType
);

macro_rules! id_type {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(SmolStr);

        #[cfg(feature = "json-schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "description": concat!($($doc),*).trim(),
                    "type": "string",
                    "pattern": ID_PATTERN,
                    "minLength": 1,
                    "maxLength": MAX_ID_LEN,
                })
            }
        }

        impl $name {
            /// Validates and wraps an id
            ///
            /// # Errors
            ///
            /// [`IdError`] when `s` breaks the id rules of SPEC.md §1.
            pub fn new(s: &str) -> Result<Self, IdError> {
                check_id(s)?;
                Ok(Self(SmolStr::new(s)))
            }

            /// The id as a string slice
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// The id of an organisation: a care provider, a dossier holder or an external party
    OrganisationId
);
id_type!(
    /// The id of a practitioner
    PractitionerId
);
id_type!(
    /// The id of a patient (cliënt)
    PatientId
);
id_type!(
    /// The id of a record
    RecordId
);
id_type!(
    /// The id of a medical-scientific study
    StudyId
);
id_type!(
    /// A reference to a document, such as a signed consent form
    DocumentRef
);
id_type!(
    /// A practitioner role (`huisarts`, `verloskundige`, …), checked against the loaded vocabulary
    Role
);
id_type!(
    /// A task that authorises an administrative action (`consent_change`, …), checked against the loaded vocabulary
    Task
);
id_type!(
    /// A data category (`basis`, `zwangerschap`, …), checked against the loaded vocabulary
    Category
);
id_type!(
    /// A care module (`CVRM`, `DM`, `COPD`), checked against the loaded vocabulary
    CareModule
);

id_type!(
    /// A Mitz data category (`GGC002` Behandelgegevens, `GGC012` Uitslagen,
    /// `GGC013` Medicatiegegevens), checked against the loaded consent vocabulary
    DataCategory
);
id_type!(
    /// A holder category of ours (`huisartsen`, `ziekenhuizen`, …; Mitz publishes
    /// no codes), checked against the loaded consent vocabulary
    HolderCategory
);
id_type!(
    /// A Mitz requesting category (`RPZAC001` huisartsen, …), checked against the
    /// loaded consent vocabulary
    RequesterCategory
);
id_type!(
    /// A national provider-type code (Vektis/Nictiz `organization-type`: `Z3`
    /// huisartsenpraktijk, `V4` ziekenhuis, `K4` kraamzorg, …)
    ProviderType
);

/// Ids the registry's table of ids gives back to audit records: they were
/// checked when they were registered
macro_rules! registered {
    ($($name:ident),*) => {$(
        impl $name {
            pub(crate) fn from_registered(s: SmolStr) -> Self {
                Self(s)
            }
        }
    )*};
}

registered!(OrganisationId, PatientId, RecordId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_spec_alphabet() {
        assert!(PatientId::new("client-1.a_b:C9").is_ok());
        assert!(PatientId::new(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_bad_characters() {
        assert_eq!(PatientId::new(""), Err(IdError::Empty));
        assert_eq!(PatientId::new(&"x".repeat(129)), Err(IdError::TooLong(129)));
        let err = PatientId::new("a b").unwrap_err();
        assert_eq!(
            err,
            IdError::BadCharacter {
                value: "a b".into(),
                position: 2
            }
        );
        assert!(PatientId::new("é").is_err());
        assert!(PatientId::new("a/b").is_err());
    }

    #[test]
    fn serde_validates() {
        let ok: PatientId = serde_json::from_str("\"p-1\"").unwrap();
        assert_eq!(ok.as_str(), "p-1");
        let err = serde_json::from_str::<PatientId>("\"p 1\"").unwrap_err();
        assert!(err.to_string().contains("invalid id"));
    }
}
