//! FHIR R4 import and export on the engine (SPEC.md §7.6, R45, R46): the
//! registry's lookups for `crate::fhir`, and the three entry points.

use crate::fhir::export::{Holders, export};
use crate::fhir::import::{Directory, import};
use crate::fhir::{FhirError, FhirProblem};
use crate::model::event::Event;
use crate::model::ids::{OrganisationId, PatientId, ProviderType};
use crate::model::national::{Bsn, Ura};
use crate::model::time::Timestamp;
use crate::registry::{PatientState, Registry};

use super::Engine;
use super::consent_questions::statements_in_force;

impl Directory for Registry {
    fn patient_by_bsn(&self, bsn: &Bsn) -> Option<PatientId> {
        Registry::patient_by_bsn(self, bsn).cloned()
    }

    fn has_patient(&self, id: &PatientId) -> bool {
        self.patient(id).is_some()
    }

    fn organisation_by_ura(&self, ura: Ura) -> Option<OrganisationId> {
        let idx = Registry::organisation_by_ura(self, ura)?;
        self.organisation_id(idx).cloned()
    }

    fn has_organisation(&self, id: &OrganisationId) -> bool {
        self.organisation_index(id).is_some()
    }
}

impl Holders for Registry {
    fn ura(&self, id: &OrganisationId) -> Option<Ura> {
        Registry::ura(self, self.organisation_index(id)?)
    }

    fn provider_type(&self, id: &OrganisationId) -> Option<ProviderType> {
        Registry::provider_type(self, self.organisation_index(id)?).cloned()
    }
}

impl Engine {
    /// The events of a FHIR Bundle of Consents, nothing applied (SPEC.md
    /// §7.6; `docs/fhir.md`)
    ///
    /// A Mitz notification (`transaction`, `Consent-Mitz-Notify` 3.8.x) is
    /// a full picture for each (holder, data category) it names: a
    /// `mitz_choice_recorded` (`recorded_via: fhir`) per requesting category
    /// it permits or refuses, and a `mitz_choice_cleared` for every other
    /// requesting category of the consent vocabulary. A bundle from
    /// [`Engine::fhir_export`] (`collection`) is read the same way, with its
    /// local consents as `dossier_consent_*` events. Patient and holder are
    /// found by BSN and URA number.
    ///
    /// # Errors
    ///
    /// [`FhirError`] naming the entry, the field and the offending value,
    /// for anything this importer does not read (R45: then no event at all).
    pub fn fhir_import(&self, json: &str) -> Result<Vec<Event>, FhirError> {
        let loaded = self.loaded.load();
        let registry = self.read();
        import(json, &*registry, loaded.policies.vocabulary().consent())
    }

    /// Imports a FHIR Bundle ([`Engine::fhir_import`]) and applies its
    /// events, all or none (R45), under one write lock; returns the last
    /// sequence number (unchanged for a bundle without Consents)
    ///
    /// ```
    /// use zorg_pdp::Engine;
    /// let engine = Engine::new()?;
    /// let before = engine.seq();
    /// let e = engine.fhir_apply(r#"{"resourceType":"Bundle","type":"searchset"}"#).unwrap_err();
    /// assert_eq!(e.path(), "type");
    /// assert_eq!(engine.seq(), before);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Engine::fhir_import`]; nothing has changed then.
    pub fn fhir_apply(&self, json: &str) -> Result<u64, FhirError> {
        let loaded = self.loaded.load();
        let vocabulary = loaded.policies.vocabulary();
        self.write(|r| {
            let events = import(json, &*r, vocabulary.consent())?;
            r.apply_all(&events, vocabulary).map_err(|(i, e)| {
                FhirError::new(
                    "",
                    FhirProblem::Apply {
                        event: i,
                        message: e.to_string(),
                    },
                )
            })
        })
    }

    /// The patient's consent statements in force at `at` that count, as a
    /// FHIR R4 `collection` Bundle of Consents in the shape of a Mitz
    /// notification (SPEC.md §7.6; the mapping is in `docs/fhir.md`);
    /// deterministic: the same statements give the same JSON
    ///
    /// # Errors
    ///
    /// [`FhirProblem::UnknownPatient`] for a patient the registry does not
    /// know.
    pub fn fhir_export(
        &self,
        patient: &PatientId,
        at: Timestamp,
    ) -> Result<serde_json::Value, FhirError> {
        let loaded = self.loaded.load();
        let registry = self.read();
        let unknown = || FhirError::new("", FhirProblem::UnknownPatient(patient.to_string()));
        let statements =
            statements_in_force(&registry, patient, at, "fhir export").map_err(|_| unknown())?;
        let bsn = registry.patient(patient).and_then(PatientState::bsn);
        export(
            patient,
            bsn,
            &statements,
            &*registry,
            loaded.policies.vocabulary().consent(),
            at,
        )
    }
}
