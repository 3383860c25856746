//! Deny reasons in words, for a practitioner's screen: English (the engine's
//! own [`Reason::explain`]) and Dutch (written here).

use zorg_pdp::Reason;

/// The reason in Dutch, for a practitioner or patient reading a screen
pub fn dutch(reason: Reason) -> &'static str {
    match reason {
        Reason::StaleFacts => {
            "deze server heeft de laatste wijzigingen in de gegevens van de patiënt (zoals een \
             ingetrokken toestemming) nog niet ontvangen; probeer het zo opnieuw"
        }
        Reason::UnknownEntity => "het verzoek noemt iets dat het register niet kent",
        Reason::MfaRequired => "log eerst in met twee factoren (DigiD voor patiënten)",
        Reason::NoTreatmentRelationship => {
            "uw organisatie heeft geen actieve behandelrelatie met deze patiënt"
        }
        Reason::NoDossierConsent => {
            "de patiënt heeft geen toestemming gegeven om het dossier van deze dossierhouder te delen"
        }
        Reason::ConsentRefused => {
            "de patiënt heeft geweigerd deze gegevens met uw organisatie te delen"
        }
        Reason::ConsentUnconfirmed => {
            "de keuze van de patiënt moet eerst door een ouder of voogd worden bevestigd (jonger dan 16)"
        }
        Reason::AccessNotRequested => "vraag eerst toegang tot deze patiënt aan",
        Reason::RoleNotPermitted => "uw rol mag deze categorie niet inzien of dit niet doen",
        Reason::RecordFlagged => "het gegeven is gemarkeerd als onjuist of verwisseld",
        Reason::RecordDeleted => "het gegeven is verwijderd met het PGO-account van de patiënt",
        Reason::NoReferral => "er is geen verwijzing van deze dossierhouder naar uw organisatie",
        Reason::ReferralObjection => {
            "de patiënt heeft bezwaar gemaakt tegen het delen hiervan bij verwijzing"
        }
        Reason::NoUnplannedCareConsent => {
            "de patiënt heeft geen toestemming gegeven om de gegevens van deze dossierhouder te \
             delen voor niet-planbare zorg"
        }
        Reason::NoPgoAccount => "de patiënt heeft geen PGO-account",
        Reason::NoPgoTransferConsent => {
            "de patiënt heeft geen toestemming gegeven om taken van de module over te dragen aan de PGO"
        }
        Reason::ModuleNotStarted => "deze zorgmodule is niet gestart voor de patiënt",
        Reason::NoModuleStorageConsent => {
            "de patiënt heeft geen toestemming gegeven om de gegevens van deze module in het \
             netwerk op te slaan"
        }
        Reason::OwnershipNotAccepted => {
            "accepteer eerst het gedeelde eigenaarschap van de gegevens van deze module"
        }
        Reason::TaskNotAuthorised => "u heeft niet de taak die hiervoor nodig is",
        Reason::NotOwnOrganisation => "alleen medewerkers van de dossierhouder mogen dit",
        Reason::NoPartyConsent => {
            "de patiënt heeft deze partij geen toestemming gegeven de gegevens voor dit doel te gebruiken"
        }
        Reason::ObjectionRecorded => "de patiënt heeft bezwaar gemaakt tegen dit doel",
        Reason::NoResearchConsent => "de patiënt heeft geen toestemming gegeven voor dit onderzoek",
        Reason::NotSelf => "een patiënt mag alleen de eigen gegevens inzien",
        Reason::EvaluationError => {
            "een regel kon niet worden geëvalueerd, dus is de toegang geweigerd (fail closed)"
        }
        Reason::NotPermitted => "geen regel staat dit toe",
    }
}

/// The reasons in words, one sentence each, joined by `"; "`: a `Display`
/// value, written where it goes without a buffer of its own
pub fn sentence(reasons: &[Reason], words: fn(Reason) -> &'static str) -> Sentence<'_> {
    Sentence(reasons, words)
}

/// The reasons in the words of one language (see [`sentence`])
#[derive(Debug, Clone, Copy)]
pub struct Sentence<'a>(&'a [Reason], fn(Reason) -> &'static str);

impl std::fmt::Display for Sentence<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str((self.1)(*r))?;
        }
        Ok(())
    }
}

/// The reason in English: the engine's own text
pub fn english(reason: Reason) -> &'static str {
    reason.explain()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_dutch_text_unlike_the_english_one() {
        for reason in Reason::ALL {
            assert!(!dutch(*reason).is_empty(), "{reason}");
            assert_ne!(dutch(*reason), english(*reason), "{reason}");
        }
    }

    #[test]
    fn sentences_join_in_order() {
        let s = sentence(&[Reason::MfaRequired, Reason::NotPermitted], dutch).to_string();
        assert_eq!(
            s,
            "log eerst in met twee factoren (DigiD voor patiënten); geen regel staat dit toe"
        );
    }
}
