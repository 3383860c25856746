//! The Boolean facts the engine supplies to the policies, per action: the
//! contract between the registry's answers and the schema's context types.
//! A leaf of the model, so `policy` (which checks a schema declares them) and
//! `engine` (which computes them) both depend on it and not on each other.

use crate::model::vocab::ActionKind;

/// A Boolean fact in an action's context; the discriminant is its bit
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fact {
    Relationship = 0,
    DossierConsent,
    AccessRequested,
    Referral,
    ReferralObjection,
    UnplannedCareConsent,
    OwnershipAccepted,
    RecordFlagged,
    RecordDeleted,
    ConsentOtherHolder,
    PgoAccount,
    PgoTransferConsent,
    ModuleStarted,
    ModuleStorageConsent,
    PartyConsent,
    Objection,
    ResearchConsent,
    ConsentRefused,
    ConsentUnconfirmed,
}

impl Fact {
    /// The context attribute's name in `zorg.cedarschema`
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Fact::Relationship => "relationship",
            Fact::DossierConsent => "dossier_consent",
            Fact::AccessRequested => "access_requested",
            Fact::Referral => "referral",
            Fact::ReferralObjection => "referral_objection",
            Fact::UnplannedCareConsent => "unplanned_care_consent",
            Fact::OwnershipAccepted => "ownership_accepted",
            Fact::RecordFlagged => "record_flagged",
            Fact::RecordDeleted => "record_deleted",
            Fact::ConsentOtherHolder => "consent_other_holder",
            Fact::PgoAccount => "pgo_account",
            Fact::PgoTransferConsent => "pgo_transfer_consent",
            Fact::ModuleStarted => "module_started",
            Fact::ModuleStorageConsent => "module_storage_consent",
            Fact::PartyConsent => "party_consent",
            Fact::Objection => "objection",
            Fact::ResearchConsent => "research_consent",
            Fact::ConsentRefused => "consent_refused",
            Fact::ConsentUnconfirmed => "consent_unconfirmed",
        }
    }

    /// The facts of each action's context type, as the schema declares them
    pub(crate) const fn of(action: ActionKind) -> &'static [Fact] {
        use Fact as F;
        match action {
            ActionKind::View | ActionKind::ViewRecord => &[
                F::Relationship,
                F::DossierConsent,
                F::AccessRequested,
                F::Referral,
                F::ReferralObjection,
                F::UnplannedCareConsent,
                F::OwnershipAccepted,
                F::RecordFlagged,
                F::RecordDeleted,
                F::ConsentRefused,
                F::ConsentUnconfirmed,
            ],
            ActionKind::RequestAccess => &[F::Relationship, F::ConsentOtherHolder],
            ActionKind::Share => &[F::DossierConsent],
            ActionKind::StartModule | ActionKind::Contribute => &[
                F::Relationship,
                F::PgoAccount,
                F::PgoTransferConsent,
                F::ModuleStarted,
                F::ModuleStorageConsent,
                F::OwnershipAccepted,
            ],
            ActionKind::ChangeConsent | ActionKind::ViewConsents | ActionKind::ViewAccessLog => &[],
            ActionKind::UsePersonalData => &[F::PartyConsent],
            ActionKind::UseForResearch => &[F::Objection, F::ResearchConsent],
            ActionKind::ViewOwn => &[F::RecordFlagged, F::RecordDeleted],
        }
    }
}

/// A set of facts that hold, one bit per [`Fact`]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Facts(pub(crate) u32);

impl Facts {
    /// Sets the fact's bit when `value` holds, clears it otherwise
    pub(crate) fn set(&mut self, fact: Fact, value: bool) {
        let bit = 1 << fact as u32;
        if value {
            self.0 |= bit;
        } else {
            self.0 &= !bit;
        }
    }
    /// Whether the fact holds
    pub(crate) fn get(self, fact: Fact) -> bool {
        self.0 & (1 << fact as u32) != 0
    }
}
