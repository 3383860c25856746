//! Who is registered: the practitioners and organisations an engine knows,
//! by id, for a host that must list candidates (the service's subject
//! search) after a restart from a data directory or a feed.

use crate::model::ids::{OrganisationId, PractitionerId};

use super::Engine;

impl Engine {
    /// Every registered practitioner's id, sorted, each once
    ///
    /// Ids only: no role, organisation or fact. A copy taken under the
    /// registry's read lock (one allocation per id; for a host's search, not
    /// the decision path).
    ///
    /// ```
    /// use zorg_pdp::{Engine, Organisation, OrganisationId, Practitioner, PractitionerId, Role};
    /// let engine = Engine::new()?;
    /// engine.register_organisation(Organisation::new(OrganisationId::new("vp-noord")?))?;
    /// for id in ["vera", "eva"] {
    ///     engine.register_practitioner(Practitioner::new(
    ///         PractitionerId::new(id)?,
    ///         OrganisationId::new("vp-noord")?,
    ///         Role::new("verloskundige")?,
    ///     ))?;
    /// }
    /// let ids: Vec<String> = engine
    ///     .registered_practitioners()
    ///     .iter()
    ///     .map(|p| p.as_str().to_owned())
    ///     .collect();
    /// assert_eq!(ids, ["eva", "vera"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registered_practitioners(&self) -> Vec<PractitionerId> {
        self.read().practitioner_ids()
    }

    /// Every registered organisation's id, sorted, each once
    ///
    /// Ids only: no URA number, provider type or fact.
    pub fn registered_organisations(&self) -> Vec<OrganisationId> {
        self.read().organisation_ids()
    }
}

#[cfg(test)]
mod tests {
    use crate::model::entities::{EntityRecord, Organisation, Patient, Practitioner};
    use crate::model::ids::{OrganisationId, PatientId, PractitionerId, Role};

    use super::Engine;

    #[test]
    fn lists_what_was_registered_and_no_patients() {
        let engine = Engine::new().unwrap();
        assert!(engine.registered_practitioners().is_empty());
        assert!(engine.registered_organisations().is_empty());
        for o in ["zh-zuid", "ap-oost"] {
            engine
                .register(EntityRecord::Organisation(Organisation::new(
                    OrganisationId::new(o).unwrap(),
                )))
                .unwrap();
        }
        engine
            .register_patient(&Patient::new(PatientId::new("client-1").unwrap()))
            .unwrap();
        engine
            .register_practitioner(Practitioner::new(
                PractitionerId::new("dr-b").unwrap(),
                OrganisationId::new("zh-zuid").unwrap(),
                Role::new("medisch_specialist").unwrap(),
            ))
            .unwrap();
        let orgs: Vec<String> = engine
            .registered_organisations()
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect();
        assert_eq!(orgs, ["ap-oost", "zh-zuid"]);
        let people: Vec<String> = engine
            .registered_practitioners()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect();
        assert_eq!(people, ["dr-b"], "patients are not practitioners");
    }
}
