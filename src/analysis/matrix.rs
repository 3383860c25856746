//! The effective role × category table, as the engine decides it: asked of
//! an engine through its public API, never read from the policies' text.

use std::fmt;

use serde::Serialize;

use crate::engine::Engine;
use crate::engine::compiled::error::{AnalysisError, WorldError};
use crate::model::entities::{Organisation, Patient, Practitioner};
use crate::model::event::{Change, Event, EventKind};
use crate::model::ids::{Category, OrganisationId, PatientId, PractitionerId, Role};
use crate::model::request::{Decision, Request};
use crate::model::time::Timestamp;
use crate::model::vocab::Reason;
use crate::policy::Policies;

/// The organisation the practitioners work for
pub const OWN_ORGANISATION: &str = "matrix-own-organisation";
/// The other holder of the shared-dossier table
pub const OTHER_HOLDER: &str = "matrix-other-holder";
/// The patient
pub const PATIENT: &str = "matrix-patient";

/// The situation a [`MatrixTable`] answers
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Situation {
    /// R5: the own organisation's dossier. One practitioner per role, no
    /// tasks, of organisation [`OWN_ORGANISATION`], signed in with two
    /// factors, views category `c` of patient [`PATIENT`] held by their
    /// own organisation, purpose `treatment`; the organisation has an active
    /// treatment relationship with the patient; nothing else happened (no
    /// consent, no access request, no referral, no objection)
    OwnDossier,
    /// R6: another holder's dossier. As [`Situation::OwnDossier`], but the
    /// holder is [`OTHER_HOLDER`], the patient gave dossier consent for it,
    /// and each practitioner requested access during the treatment
    /// relationship
    SharedDossier,
}

impl Situation {
    /// Both situations, in this order
    pub const ALL: [Situation; 2] = [Situation::OwnDossier, Situation::SharedDossier];

    /// The name in output (`own_dossier`, `shared_dossier`)
    pub const fn as_str(self) -> &'static str {
        match self {
            Situation::OwnDossier => "own_dossier",
            Situation::SharedDossier => "shared_dossier",
        }
    }

    /// A title, naming the rules
    pub const fn title(self) -> &'static str {
        match self {
            Situation::OwnDossier => "own dossier (R5, R12)",
            Situation::SharedDossier => {
                "another holder's dossier, with consent and access request (R6, R12)"
            }
        }
    }

    /// The situation in words
    pub const fn description(self) -> &'static str {
        match self {
            Situation::OwnDossier => {
                "a practitioner of the holder (no tasks, two factors) views the holder's \
                 dossier, purpose treatment; the holder treats the patient; no consent, \
                 access request, referral or objection"
            }
            Situation::SharedDossier => {
                "a practitioner (no tasks, two factors) of an organisation treating the \
                 patient views another holder's dossier, purpose treatment; the patient \
                 consented to that holder and the practitioner requested access; no \
                 referral or objection"
            }
        }
    }
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cell: allowed, or denied with the reasons
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Cell {
    /// Allow or deny
    pub decision: Decision,
    /// On deny, the reasons, in the order of SPEC.md
    pub reasons: Vec<Reason>,
}

impl Cell {
    /// Whether the cell is allowed
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// One situation's table: a row per role, a cell per category
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MatrixTable {
    /// The situation it answers
    pub situation: Situation,
    /// `rows[r][c]`: role `r`'s view of category `c`, in vocabulary order
    pub rows: Vec<Vec<Cell>>,
}

/// The effective role × category matrix of a policy set
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Matrix {
    /// The content hash of the policy set
    pub policies: String,
    /// The roles (rows), in vocabulary order
    pub roles: Vec<Role>,
    /// The categories (columns), in canonical order
    pub categories: Vec<Category>,
    /// One table per [`Situation`], in [`Situation::ALL`] order
    pub tables: Vec<MatrixTable>,
}

impl Matrix {
    /// The table of a situation
    pub fn table(&self, situation: Situation) -> Option<&MatrixTable> {
        self.tables.iter().find(|t| t.situation == situation)
    }

    /// One cell by role and category name
    pub fn cell(&self, situation: Situation, role: &str, category: &str) -> Option<&Cell> {
        let r = self.roles.iter().position(|x| x.as_str() == role)?;
        let c = self
            .categories
            .iter()
            .position(|x| x.as_str() == category)?;
        self.table(situation)?.rows.get(r)?.get(c)
    }
}

/// The role × category matrix as the engine decides it: for each
/// [`Situation`], an engine with `policies` and the situation's world is
/// asked one `view` per role and category ([`Engine::decide`])
///
/// # Errors
///
/// [`AnalysisError::World`] when the world cannot be registered (it can
/// only with a vocabulary the engine itself refuses).
///
/// ```
/// use zorg_pdp::Policies;
/// use zorg_pdp::analysis::{Situation, matrix};
/// let m = matrix(&Policies::shipped()?)?;
/// let cell = m.cell(Situation::OwnDossier, "kraamverzorgende", "echo").unwrap();
/// assert!(!cell.is_allowed());
/// assert_eq!(cell.reasons[0].as_str(), "role_not_permitted");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn matrix(policies: &Policies) -> Result<Matrix, AnalysisError> {
    let roles = policies.vocabulary().roles().to_vec();
    let categories = policies.vocabulary().categories().to_vec();
    let mut tables = Vec::new();
    for situation in Situation::ALL {
        let engine = world(policies, situation)?;
        let holder = id(OrganisationId::new(match situation {
            Situation::OwnDossier => OWN_ORGANISATION,
            Situation::SharedDossier => OTHER_HOLDER,
        }))?;
        let patient = id(PatientId::new(PATIENT))?;
        let mut rows = Vec::with_capacity(roles.len());
        for role in &roles {
            let practitioner = id(PractitionerId::new(role.as_str()))?;
            let row = categories
                .iter()
                .map(|c| {
                    let r = engine.decide(&Request::view(
                        practitioner.clone(),
                        patient.clone(),
                        holder.clone(),
                        c.clone(),
                        time(ASKED),
                        true,
                    ));
                    Cell {
                        decision: r.decision,
                        reasons: r.reasons,
                    }
                })
                .collect();
            rows.push(row);
        }
        tables.push(MatrixTable { situation, rows });
    }
    Ok(Matrix {
        policies: policies.content_hash().to_owned(),
        roles,
        categories,
        tables,
    })
}

/// When the treatment started, consent was given; when access was
/// requested; when the views are asked
const STARTED: i64 = 1_767_258_000; // 2026-01-01T09:00:00Z
const REQUESTED: i64 = STARTED + 3600;
const ASKED: i64 = STARTED + 86_400;

fn time(unix: i64) -> Timestamp {
    Timestamp::from_unix_nanos(unix.saturating_mul(1_000_000_000))
}

fn id<T>(r: Result<T, crate::model::ids::IdError>) -> Result<T, AnalysisError> {
    r.map_err(|e| WorldError::new("id", "", &e).into())
}

fn fail(field: &'static str, value: &str, e: &dyn std::error::Error) -> AnalysisError {
    WorldError::new(field, value, e).into()
}

/// An engine with `policies` and the world of `situation`
fn world(policies: &Policies, situation: Situation) -> Result<Engine, AnalysisError> {
    let engine = Engine::with_policies(policies.clone());
    let own = id(OrganisationId::new(OWN_ORGANISATION))?;
    let other = id(OrganisationId::new(OTHER_HOLDER))?;
    let patient = id(PatientId::new(PATIENT))?;
    for o in [&own, &other] {
        engine
            .register_organisation(Organisation::new(o.clone()))
            .map_err(|e| fail("organisation", o.as_str(), &e))?;
    }
    engine
        .register_patient(&Patient::new(patient.clone()))
        .map_err(|e| fail("patient", PATIENT, &e))?;
    let apply = |at: i64, kind: EventKind| {
        engine
            .apply(&Event { at: time(at), kind })
            .map(drop)
            .map_err(|e| fail("event", "", &e))
    };
    apply(
        STARTED,
        EventKind::Treatment {
            change: Change::Given,
            patient: patient.clone(),
            organisation: own.clone(),
        },
    )?;
    if situation == Situation::SharedDossier {
        apply(
            STARTED,
            EventKind::DossierConsent {
                change: Change::Given,
                patient: patient.clone(),
                holder: other.clone(),
                recorded_by: None,
                evidence: None,
            },
        )?;
    }
    for role in policies.vocabulary().roles() {
        let practitioner = id(PractitionerId::new(role.as_str()))?;
        engine
            .register_practitioner(Practitioner::new(
                practitioner.clone(),
                own.clone(),
                role.clone(),
            ))
            .map_err(|e| fail("role", role.as_str(), &e))?;
        if situation == Situation::SharedDossier {
            apply(
                REQUESTED,
                EventKind::AccessRequested {
                    practitioner,
                    patient: patient.clone(),
                },
            )?;
        }
    }
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_times_are_the_documented_ones() {
        assert_eq!(time(STARTED).to_string(), "2026-01-01T09:00:00Z");
        assert_eq!(time(ASKED).to_string(), "2026-01-02T09:00:00Z");
    }

    #[test]
    fn the_shipped_matrix_is_r12() {
        let m = matrix(&Policies::shipped().unwrap()).unwrap();
        assert_eq!(m.roles.len(), 12);
        assert_eq!(m.categories.len(), 14);
        for situation in Situation::ALL {
            let denied = |role: &str| -> Vec<&str> {
                m.categories
                    .iter()
                    .filter(|c| !m.cell(situation, role, c.as_str()).unwrap().is_allowed())
                    .map(Category::as_str)
                    .collect()
            };
            assert_eq!(
                denied("kraamverzorgende"),
                [
                    "echo",
                    "metingen",
                    "leefstijl",
                    "voeding",
                    "voet",
                    "labuitslagen",
                    "voorgeschiedenis",
                    "psychosociaal"
                ],
                "{situation}"
            );
            assert_eq!(denied("gynaecoloog"), ["voeding", "voet"], "{situation}");
            for c in &m.categories {
                let cell = m.cell(situation, "kraamverzorgende", c.as_str()).unwrap();
                if !cell.is_allowed() {
                    assert_eq!(cell.reasons, [Reason::RoleNotPermitted]);
                }
            }
        }
    }
}
