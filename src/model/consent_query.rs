//! The consent questions of SPEC.md §7.5 on the wire: `consent_check` (the
//! Mitz closed question), `consent_locate` (the open question) and
//! `consent_overview`, and the statements in force as a host sees them.
//!
//! Like every other wire type here, their `Debug` is derived only where no
//! field is a patient id; the queries and answers that carry one print
//! counts and codes only.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::consent::Choice;
use crate::model::ids::{
    DataCategory, HolderCategory, OrganisationId, PatientId, RequesterCategory,
};
use crate::model::request::Principal;
use crate::model::time::Timestamp;
use crate::model::vocab::Reason;

/// Where a consent statement comes from
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StatementOrigin {
    /// A holder's own `dossier_consent_given` / `_withdrawn`: every
    /// requester, every data category (R38)
    Dossier,
    /// A Mitz choice (`mitz_choice_recorded`)
    Mitz,
}

/// One consent statement in force (RULES.md §J), by name
///
/// Its `id` names its key, which at most one statement in force has:
/// `org:<holder>` or `category:<holder category>`, then `/` and the
/// requesting category (`*` for every requester), then `/` and the data
/// category (`*` for every category). A holder's own dossier consent for
/// `vp-noord` is `org:vp-noord/*/*`, a Mitz "ja" of the pharmacies for the
/// hospitals' medication `category:ziekenhuizen/RPZAC005/GGC013`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentStatement {
    /// The statement's key as text (see the type's documentation)
    pub id: String,
    /// A holder's own consent or a Mitz choice
    pub origin: StatementOrigin,
    /// The holder, when the statement is about one organisation
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<OrganisationId>,
    /// The holder category, when it is about every organisation of one
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_category: Option<HolderCategory>,
    /// The requesting category; absent: every requester
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_category: Option<RequesterCategory>,
    /// The Mitz data category; absent: every data category
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_category: Option<DataCategory>,
    /// Permit or deny (a refusal)
    pub choice: Choice,
    /// When it was recorded
    pub at: Timestamp,
    /// Whether it counts at the question's time: `false` for a Mitz choice
    /// of a patient under 16 that no guardian has confirmed yet (R41)
    pub counts: bool,
}

impl ConsentStatement {
    /// The id of a statement's key (see [`ConsentStatement`])
    pub fn id_of(
        holder: Result<&OrganisationId, &HolderCategory>,
        requester_category: Option<&RequesterCategory>,
        data_category: Option<&DataCategory>,
    ) -> String {
        let holder = match holder {
            Ok(o) => format!("org:{}", o.as_str()),
            Err(c) => format!("category:{}", c.as_str()),
        };
        let requester = requester_category.map_or("*", RequesterCategory::as_str);
        let data = data_category.map_or("*", DataCategory::as_str);
        format!("{holder}/{requester}/{data}")
    }
}

impl fmt::Debug for ConsentStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id names a holder, the categories say what the patient chose
        // about: neither belongs in a host's log.
        f.debug_struct("ConsentStatement")
            .field("origin", &self.origin)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

/// The answer for one data category (SPEC.md §7.5)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentAnswer {
    /// The patient consented (R37)
    Permit,
    /// No statement applies: no consent ("geen keuze is nee")
    NoChoice,
    /// An undominated applying statement is a refusal
    Refused,
    /// The holder's or the requester's provider type is missing or unmapped
    /// while a category statement would be needed (R42); treat it as deny
    Indeterminate,
}

impl ConsentAnswer {
    /// Whether the answer is a permit (every other answer is a deny)
    pub fn is_permit(self) -> bool {
        self == ConsentAnswer::Permit
    }
}

/// `consent_check`, the Mitz closed question: may holder `holder` make the
/// patient's data of these categories available to this requester?
/// Organisation level: no role, no relationship (SPEC.md §7.5)
///
/// ```
/// use zorg_pdp::ConsentCheckQuery;
/// let q = ConsentCheckQuery::from_json(r#"{"patient":"client-1","holder":"ziekenhuis-zuid",
///     "requester":"kraamzorg-oost","data_categories":["GGC002","GGC013"],
///     "at":"2026-03-02T10:00:00Z"}"#)?;
/// assert_eq!(q.data_categories.len(), 2);
/// assert!(!format!("{q:?}").contains("client-1"));
/// # Ok::<(), zorg_pdp::ParseError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentCheckQuery {
    /// Who asks, for the audit log; absent: the organisation `requester`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Whose data
    pub patient: PatientId,
    /// The holder (dossierhouder)
    pub holder: OrganisationId,
    /// The requesting organisation; exactly one of `requester` /
    /// `requester_category`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<OrganisationId>,
    /// A requesting category asked about directly (then `principal` is required)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_category: Option<RequesterCategory>,
    /// The Mitz data categories asked, one answer each, in this order
    pub data_categories: Vec<DataCategory>,
    /// When
    pub at: Timestamp,
    /// A freshness token (SPEC.md §8, R47): unless the engine has applied
    /// this position the question is refused as stale
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
}

/// The answer for one data category of a `consent_check`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DataCategoryAnswer {
    /// The data category asked
    pub data_category: DataCategory,
    /// Permit, no choice, refused or indeterminate
    pub answer: ConsentAnswer,
    /// The ids of the statements that decided ([`ConsentStatement::id`]):
    /// for a permit every undominated applying statement, for a refusal
    /// every undominated applying refusal, otherwise none
    pub statements: Vec<String>,
    /// For every answer but a permit, the reasons a `view` would give:
    /// `no_dossier_consent`, with `consent_refused` or `consent_unconfirmed`
    pub reasons: Vec<Reason>,
}

impl fmt::Debug for DataCategoryAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataCategoryAnswer")
            .field("answer", &self.answer)
            .finish_non_exhaustive()
    }
}

/// What `consent_check` answers
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentCheckAnswer {
    /// One answer per data category asked, in the query's order
    pub answers: Vec<DataCategoryAnswer>,
    /// The registry's sequence number when the answer was computed
    pub seq: u64,
}

impl fmt::Debug for ConsentCheckAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentCheckAnswer")
            .field("answers", &self.answers.len())
            .field("seq", &self.seq)
            .finish()
    }
}

/// `consent_locate`, the Mitz open question: at which holders may this
/// organisation find the patient's data?
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentLocateQuery {
    /// Who asks, for the audit log; absent: the organisation `requester`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Whose data
    pub patient: PatientId,
    /// The requesting organisation
    pub requester: OrganisationId,
    /// When
    pub at: Timestamp,
    /// A freshness token (SPEC.md §8, R47): unless the engine has applied
    /// this position the question is refused as stale
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
}

/// One holder a `consent_locate` found
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LocatedHolder {
    /// The holder
    pub holder: OrganisationId,
    /// The data categories `consent_check` permits there, in vocabulary order
    pub data_categories: Vec<DataCategory>,
}

impl fmt::Debug for LocatedHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocatedHolder")
            .field("data_categories", &self.data_categories.len())
            .finish_non_exhaustive()
    }
}

/// What `consent_locate` answers
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentLocateAnswer {
    /// The dashboard holders (SPEC.md §4) with at least one permitted data
    /// category for the requester, by id (R44)
    pub holders: Vec<LocatedHolder>,
    /// The registry's sequence number when the answer was computed
    pub seq: u64,
}

impl fmt::Debug for ConsentLocateAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentLocateAnswer")
            .field("holders", &self.holders.len())
            .field("seq", &self.seq)
            .finish()
    }
}

/// `consent_overview`: every statement in force for the patient, and the
/// resolved answer per dashboard holder × requesting category × data category
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentOverviewQuery {
    /// Who asks (the patient in a portal, an organisation's system), for
    /// the audit log
    pub principal: Principal,
    /// Whose statements
    pub patient: PatientId,
    /// When
    pub at: Timestamp,
    /// A freshness token (SPEC.md §8, R47): unless the engine has applied
    /// this position the question is refused as stale
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
}

/// One resolved answer of an overview
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OverviewAnswer {
    /// The dashboard holder
    pub holder: OrganisationId,
    /// The requesting category
    pub requester_category: RequesterCategory,
    /// The data category
    pub data_category: DataCategory,
    /// What `consent_check` answers for them
    pub answer: ConsentAnswer,
    /// The ids of the statements that decided
    pub statements: Vec<String>,
}

impl fmt::Debug for OverviewAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverviewAnswer")
            .field("answer", &self.answer)
            .finish_non_exhaustive()
    }
}

/// What `consent_overview` answers
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentOverviewAnswer {
    /// Every statement in force at `at`, by time of recording
    pub statements: Vec<ConsentStatement>,
    /// Per dashboard holder (by id) × requesting category × data category
    /// (in vocabulary order), the resolved answer
    pub answers: Vec<OverviewAnswer>,
    /// The registry's sequence number when the answer was computed
    pub seq: u64,
}

impl fmt::Debug for ConsentOverviewAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentOverviewAnswer")
            .field("statements", &self.statements.len())
            .field("answers", &self.answers.len())
            .field("seq", &self.seq)
            .finish()
    }
}

macro_rules! query_wire {
    ($($t:ident = $what:literal),* $(,)?) => {$(
        impl $t {
            #[doc = concat!("Parses a ", $what, " from JSON")]
            ///
            /// # Errors
            ///
            /// [`crate::ParseError`] naming the field.
            pub fn from_json(json: &str) -> Result<Self, crate::ParseError> {
                crate::model::parse_json::<$t>(json, $what)
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("at", &self.at)
                    .finish_non_exhaustive()
            }
        }
    )*};
}

query_wire! {
    ConsentCheckQuery = "consent check",
    ConsentLocateQuery = "consent locate query",
    ConsentOverviewQuery = "consent overview query",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_ids_name_the_key() {
        let o = OrganisationId::new("vp-noord").unwrap();
        assert_eq!(
            ConsentStatement::id_of(Ok(&o), None, None),
            "org:vp-noord/*/*"
        );
        let c = HolderCategory::new("ziekenhuizen").unwrap();
        let r = RequesterCategory::new("RPZAC005").unwrap();
        let d = DataCategory::new("GGC013").unwrap();
        assert_eq!(
            ConsentStatement::id_of(Err(&c), Some(&r), Some(&d)),
            "category:ziekenhuizen/RPZAC005/GGC013"
        );
    }

    #[test]
    fn a_check_needs_its_fields_and_knows_no_others() {
        let e = ConsentCheckQuery::from_json(
            r#"{"patient":"p","holder":"h","data_categories":[],"at":"2026-01-01T00:00:00Z","x":1}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains('x'), "{e}");
        let e = ConsentLocateQuery::from_json(r#"{"patient":"p","at":"2026-01-01T00:00:00Z"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("requester"), "{e}");
    }

    #[test]
    fn debug_prints_no_patient() {
        let q = ConsentOverviewQuery::from_json(
            r#"{"principal":{"patient":"geheim-1"},"patient":"geheim-1","at":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert!(!format!("{q:?}").contains("geheim"));
    }
}
