//! `explain`: a decision with every policy that could apply to it, what each
//! made of the request, and the facts the policies saw, for policy authors.

use serde::Serialize;

use super::cedar::Verdict;
use super::input::Input;
use crate::model::fact::Fact;
use crate::model::request::Response;
use crate::model::vocab::Reason;
use crate::policy::Policies;

/// Why the engine decided as it did (see [`crate::Engine::explain`])
///
/// Its `Debug` and JSON hold policy ids, files, reason codes and fact names
/// and values: no patient id and no category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Explanation {
    /// The decision, exactly as [`crate::Engine::decide`] gives it
    pub response: Response,
    /// Every fact the action supplies to the policies, with its value; empty
    /// when the request names an unknown id (R2: no policy was asked)
    pub facts: Vec<FactSeen>,
    /// Every policy whose action scope covers the request's action, sorted by
    /// id, with what it made of the request; empty when no policy was asked
    pub policies: Vec<PolicyTrace>,
}

/// One Boolean fact as the policies saw it
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FactSeen {
    /// The context attribute (`relationship`, `dossier_consent`, ...)
    pub name: &'static str,
    /// Its value for this request
    pub value: bool,
    /// What it means, in words
    pub meaning: &'static str,
}

/// One policy that could apply, and what it made of the request
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PolicyTrace {
    /// Its `@id`
    pub id: String,
    /// `permit` or `forbid`
    pub effect: &'static str,
    /// A forbid's `@reason`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The file it was read from
    pub file: String,
    /// The 1-based line it starts on
    pub line: usize,
    /// What it made of the request
    pub verdict: PolicyVerdict,
}

/// What one policy made of a request
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PolicyVerdict {
    /// Scope and conditions held: a permit granted, a forbid denied
    Fired,
    /// The scope matched; a condition did not hold
    NotSatisfied,
    /// Its principal or resource scope does not cover this request
    OutOfScope,
    /// Evaluating it failed, which makes the decision a deny (R3)
    Error,
}

impl PolicyVerdict {
    /// The verdict in words
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyVerdict::Fired => "fired",
            PolicyVerdict::NotSatisfied => "not satisfied",
            PolicyVerdict::OutOfScope => "out of scope",
            PolicyVerdict::Error => "error",
        }
    }
}

impl From<Verdict> for PolicyVerdict {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Fired => PolicyVerdict::Fired,
            Verdict::NotSatisfied => PolicyVerdict::NotSatisfied,
            Verdict::OutOfScope => PolicyVerdict::OutOfScope,
            Verdict::Error => PolicyVerdict::Error,
        }
    }
}

/// The facts and the per-policy verdicts of one built input
pub(super) fn trace(policies: &Policies, input: &Input<'_>) -> (Vec<FactSeen>, Vec<PolicyTrace>) {
    let facts = Fact::of(input.action)
        .iter()
        .map(|&f| FactSeen {
            name: f.name(),
            value: input.facts.get(f),
            meaning: meaning(f),
        })
        .collect();
    let verdicts =
        super::cedar::verdicts(policies, policies.bucket(input.action), input).unwrap_or_default();
    let traces = verdicts
        .into_iter()
        .map(|(id, verdict)| {
            let (file, line) = policies.origin(&id).unwrap_or(("", 0));
            PolicyTrace {
                effect: if policies.is_permit(&id) {
                    "permit"
                } else {
                    "forbid"
                },
                reason: policies.reason_of(&id),
                file: file.to_owned(),
                line,
                verdict: verdict.into(),
                id,
            }
        })
        .collect();
    (facts, traces)
}

/// A fact in words, as the registry computes it (RULES.md's notation)
const fn meaning(fact: Fact) -> &'static str {
    match fact {
        Fact::Relationship => {
            "the principal's organisation has a treatment relationship with the patient (R5, R6, R11)"
        }
        Fact::DossierConsent => {
            "the patient consents to the holder making this data category available to the principal's organisation (the resolved consent, R6-R10, R37)"
        }
        Fact::AccessRequested => {
            "the practitioner requested access during the current treatment relationship (R6)"
        }
        Fact::Referral => {
            "the holder sent a referral for the patient to the principal's organisation (R15)"
        }
        Fact::ReferralObjection => {
            "the patient objected to sharing this category on referral at the holder (R15)"
        }
        Fact::UnplannedCareConsent => {
            "the patient consents to the holder's data being used in unplanned care (R16)"
        }
        Fact::OwnershipAccepted => {
            "the practitioner accepted shared ownership of the module (R21-R23)"
        }
        Fact::RecordFlagged => "the record is marked as wrong or mixed-up data (R19)",
        Fact::RecordDeleted => "the record was deleted with the patient's PGO account (R20, R25)",
        Fact::ConsentOtherHolder => {
            "the patient consents to sharing with the principal's organisation for at least one holder other than it (R13, R43)"
        }
        Fact::PgoAccount => "the patient has a PGO account (R22, R25)",
        Fact::PgoTransferConsent => "the patient consents to transfer to the PGO (R22)",
        Fact::ModuleStarted => "the care module was started for the patient (R23)",
        Fact::ModuleStorageConsent => {
            "the patient consents to storing this module's data (R23, R24)"
        }
        Fact::PartyConsent => {
            "the patient consents to this party using the data for this purpose (R28)"
        }
        Fact::Objection => "the patient objected to this use (R29)",
        Fact::ResearchConsent => "the patient consents to this study (R30)",
        Fact::ConsentRefused => {
            "the consent statement that decides is an explicit refusal: a Mitz \"nee\" or a withdrawal (R37, R39)"
        }
        Fact::ConsentUnconfirmed => {
            "a Mitz choice of the patient, under 16, would have decided but no parent or guardian confirmed it (R41)"
        }
    }
}
