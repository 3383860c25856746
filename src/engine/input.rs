//! From a request and the registry to the abstract Cedar input: the
//! principal's role, tasks and organisation, the request's own fields and the
//! Boolean facts the schema declares for the action. This is all a policy can
//! read (the schema is the boundary), so it is also the memo key's source.

use crate::model::fact::{Fact, Facts};
use crate::model::ids::{
    CareModule, Category, OrganisationId, PatientId, PractitionerId, RecordId, Role, StudyId, Task,
};
use crate::model::names::{Tag, Tags};
use crate::model::request::{Action, Principal, Request};
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose, Source, Vocabulary};
use crate::registry::{FactKey, Idx, PatientFacts, PatientState, RecordState, Registry};

use super::consent::{ConsentFacts, PatientConsent};

/// The principal as Cedar sees it
#[derive(Debug, Clone, Copy)]
pub(crate) enum PrincipalIn<'r> {
    Practitioner {
        id: &'r PractitionerId,
        role: &'r Role,
        tasks: &'r [Task],
        organisation: &'r OrganisationId,
    },
    Patient(&'r PatientId),
    Organisation(&'r OrganisationId),
}

impl<'r> PrincipalIn<'r> {
    /// A practitioner's role and organisation
    pub(crate) fn role_and_organisation(self) -> Option<(&'r Role, &'r OrganisationId)> {
        match self {
            PrincipalIn::Practitioner {
                role, organisation, ..
            } => Some((role, organisation)),
            PrincipalIn::Patient(_) | PrincipalIn::Organisation(_) => None,
        }
    }
}

/// Everything a policy may read for one request
#[derive(Debug, Clone)]
pub(crate) struct Input<'r> {
    pub(crate) action: ActionKind,
    pub(crate) principal: PrincipalIn<'r>,
    pub(crate) patient: &'r PatientId,
    pub(crate) at: Timestamp,
    pub(crate) mfa: bool,
    pub(crate) purpose: Option<Purpose>,
    pub(crate) source: Option<Source>,
    pub(crate) category: Option<&'r Category>,
    pub(crate) holder: Option<&'r OrganisationId>,
    pub(crate) module: Option<&'r CareModule>,
    pub(crate) facts: Facts,
    /// The vocabulary's positions of the principal's role, tasks and the
    /// category, where [`build`] already looked them up (the compiled
    /// path reads them instead of hashing the same strings again)
    pub(crate) indices: Indices,
}

/// Vocabulary positions carried with an [`Input`]: each `Some` is the
/// position, in the vocabulary the input was built against, of the value
/// the input names; `None` is "not looked up" (the reader looks it up)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Indices {
    /// The practitioner's role
    pub(crate) role: Option<u16>,
    /// The practitioner's tasks, one bit per task position (`None` also
    /// when a position does not fit the mask)
    pub(crate) tasks: Option<u32>,
    /// The category
    pub(crate) category: Option<u16>,
}

impl Indices {
    /// The task mask of `tasks` in `vocabulary`: [`Unknown`] if it does not
    /// know one of them, `None` if a position does not fit the mask
    pub(crate) fn task_mask(
        vocabulary: &Vocabulary,
        tasks: &[Task],
    ) -> Result<Option<u32>, Unknown> {
        let mut mask = Some(0u32);
        for t in tasks {
            let bit = 1u32.checked_shl(u32::from(vocabulary.task_index(t).ok_or(Unknown)?));
            mask = mask.zip(bit).map(|(m, b)| m | b);
        }
        Ok(mask)
    }

    /// A practitioner's role and task mask in `vocabulary` (no category);
    /// [`Unknown`] if it does not know the role or one of the tasks
    pub(crate) fn of_practitioner(
        vocabulary: &Vocabulary,
        role: &Role,
        tasks: &[Task],
    ) -> Result<Self, Unknown> {
        Ok(Indices {
            role: Some(vocabulary.role_index(role).ok_or(Unknown)?),
            tasks: Self::task_mask(vocabulary, tasks)?,
            category: None,
        })
    }
}

/// An input and, beside it, where the registry's table of ids has the
/// entities its audit record names
#[derive(Debug, Clone)]
pub(crate) struct Built<'r> {
    pub(crate) input: Input<'r>,
    pub(crate) tags: Tags,
}

/// The request names something the registry or the vocabulary does not know (R2)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unknown;

/// Who the principal is, resolved against the registry
#[derive(Debug, Clone, Copy)]
pub(crate) struct Who<'r> {
    pub(crate) principal: PrincipalIn<'r>,
    /// The practitioner and their organisation, for facts about them
    practitioner: Option<(Idx, Idx)>,
    /// The principal's place in the table of ids, and a practitioner's organisation's
    tags: (Tag, Option<Tag>),
    /// A practitioner's role and task mask in the vocabulary
    indices: Indices,
}

/// The principal as the registry and the vocabulary know it, or [`Unknown`]
pub(crate) fn resolve_principal<'r>(
    registry: &'r Registry,
    vocabulary: &Vocabulary,
    principal: &'r Principal,
) -> Result<Who<'r>, Unknown> {
    match principal {
        Principal::Practitioner(id) => {
            let state = registry.practitioner(id).ok_or(Unknown)?;
            let p = state.entity();
            // A role or task the (reloaded) vocabulary no longer knows is unknown too.
            let indices = Indices::of_practitioner(vocabulary, &p.role, &p.tasks)?;
            Ok(Who {
                principal: PrincipalIn::Practitioner {
                    id,
                    role: &p.role,
                    tasks: &p.tasks,
                    organisation: &p.organisation,
                },
                practitioner: Some((state.index(), state.organisation())),
                tags: (state.tag(), registry.organisation_tag(state.organisation())),
                indices,
            })
        }
        Principal::Patient(id) => {
            let state = registry.patient(id).ok_or(Unknown)?;
            Ok(Who {
                principal: PrincipalIn::Patient(id),
                practitioner: None,
                tags: (state.tag(), None),
                indices: Indices::default(),
            })
        }
        Principal::Organisation(id) => {
            let idx = registry.organisation_index(id).ok_or(Unknown)?;
            Ok(Who {
                principal: PrincipalIn::Organisation(id),
                practitioner: None,
                tags: (registry.organisation_tag(idx).ok_or(Unknown)?, None),
                indices: Indices::default(),
            })
        }
    }
}

/// What the action-group helpers of [`build`] share: the registry, the
/// vocabulary, the principal and the patient's facts as of the request's time
struct Ctx<'r, 'v> {
    registry: &'r Registry,
    vocabulary: &'v Vocabulary,
    who: Who<'r>,
    facts: PatientFacts<'r>,
    /// The patient's date of birth, read with the facts (R41)
    birth_date: Option<crate::model::consent::BirthDate>,
    request: &'r Request,
}

impl<'r> Ctx<'r, '_> {
    fn org(&self, id: &OrganisationId) -> Result<Idx, Unknown> {
        self.registry.organisation_index(id).ok_or(Unknown)
    }

    /// A category the vocabulary knows, as its position there
    fn category(&self, c: &Category) -> Result<u16, Unknown> {
        self.vocabulary.category_index(c).ok_or(Unknown)
    }

    fn module(&self, m: &CareModule) -> Result<(), Unknown> {
        self.vocabulary.has_module(m).then_some(()).ok_or(Unknown)
    }

    /// A record of the request's patient that exists at the request's time
    fn record(&self, id: &RecordId) -> Result<&'r RecordState, Unknown> {
        let state = self.registry.record(id).ok_or(Unknown)?;
        if state.visible(&self.request.patient, self.request.at) {
            Ok(state)
        } else {
            Err(Unknown)
        }
    }

    /// The holder an input names: its id in the input, its tag beside it
    fn holder(&self, built: &mut Built<'r>, holder: &'r OrganisationId) -> Result<Idx, Unknown> {
        let h = self.org(holder)?;
        built.input.holder = Some(holder);
        built.tags.holder = self.registry.organisation_tag(h);
        Ok(h)
    }

    /// The patient's consent at the request's time
    fn consent(&self) -> PatientConsent<'r, '_> {
        PatientConsent::new(
            self.registry,
            self.vocabulary,
            self.facts,
            self.birth_date,
            self.request.at,
        )
    }

    /// The facts about dossier data of `holder` in `category` (at
    /// `position` in the vocabulary) for a practitioner: the patient's
    /// entries read in one pass ([`PatientFacts::view`])
    fn data_facts(
        &self,
        facts: &mut Facts,
        holder: Option<Idx>,
        category: &Category,
        position: u16,
    ) {
        let Some((p, o)) = self.who.practitioner else {
            return;
        };
        let f = &self.facts;
        let view = f.view(p, o, holder);
        facts.set(Fact::Relationship, view.relationship);
        facts.set(Fact::AccessRequested, view.access_requested);
        if let Some(h) = holder {
            let consent = self.consent();
            set_consent(
                facts,
                consent.for_requester(h, o, consent.data_at(position)),
            );
            facts.set(Fact::Referral, view.referral);
            // The category's index only when some objection could cover it
            let objected = view.any_referral_objection
                && f.referral_objection(h, self.registry.category_index(category));
            facts.set(Fact::ReferralObjection, objected);
            facts.set(Fact::UnplannedCareConsent, view.unplanned_care_consent);
        }
    }

    /// The facts of a record: flagged, deleted
    fn record_facts(&self, facts: &mut Facts, state: &RecordState) {
        let at = self.request.at;
        facts.set(Fact::RecordFlagged, state.flagged(at));
        facts.set(Fact::RecordDeleted, self.registry.record_deleted(state, at));
    }

    fn view(
        &self,
        built: &mut Built<'r>,
        holder: &'r OrganisationId,
        category: &'r Category,
        purpose: Purpose,
    ) -> Result<(), Unknown> {
        let h = self.holder(built, holder)?;
        let position = self.category(category)?;
        let input = &mut built.input;
        input.purpose = Some(purpose);
        input.source = Some(Source::Dossier);
        input.category = Some(category);
        input.indices.category = Some(position);
        self.data_facts(&mut input.facts, Some(h), category, position);
        Ok(())
    }

    fn view_record(
        &self,
        built: &mut Built<'r>,
        record: &RecordId,
        purpose: Purpose,
    ) -> Result<(), Unknown> {
        let state = self.record(record)?;
        let position = self.category(state.category())?;
        let registry = self.registry;
        built.tags.holder = state.holder().and_then(|h| registry.organisation_tag(h));
        built.tags.record = Some(state.tag());
        let input = &mut built.input;
        input.purpose = Some(purpose);
        input.source = Some(state.source());
        input.category = Some(state.category());
        input.indices.category = Some(position);
        input.holder = state.holder().and_then(|h| registry.organisation_id(h));
        input.module = match state.module() {
            Some(m) => {
                let module = registry.module_id(m).ok_or(Unknown)?;
                self.module(module)?;
                Some(module)
            }
            None => None,
        };
        self.data_facts(&mut input.facts, state.holder(), state.category(), position);
        if let (Some((p, _)), Some(m)) = (self.who.practitioner, state.module()) {
            input.facts.set(
                Fact::OwnershipAccepted,
                self.facts.exists(FactKey::Ownership {
                    practitioner: p,
                    module: m,
                }),
            );
        }
        self.record_facts(&mut input.facts, state);
        Ok(())
    }

    fn module_work(&self, input: &mut Input<'r>, module: &'r CareModule) -> Result<(), Unknown> {
        self.module(module)?;
        input.module = Some(module);
        let Some((p, o)) = self.who.practitioner else {
            return Ok(());
        };
        let f = &self.facts;
        input
            .facts
            .set(Fact::Relationship, f.active(FactKey::Relationship(o)));
        input
            .facts
            .set(Fact::PgoAccount, f.active(FactKey::PgoAccount));
        input.facts.set(
            Fact::PgoTransferConsent,
            f.active(FactKey::PgoTransferConsent),
        );
        if let Some(m) = self.registry.module_index(module) {
            input
                .facts
                .set(Fact::ModuleStarted, f.exists(FactKey::ModuleStarted(m)));
            input.facts.set(
                Fact::ModuleStorageConsent,
                f.active(FactKey::ModuleStorageConsent(m)),
            );
            input.facts.set(
                Fact::OwnershipAccepted,
                f.exists(FactKey::Ownership {
                    practitioner: p,
                    module: m,
                }),
            );
        }
        Ok(())
    }

    fn use_personal_data(
        &self,
        built: &mut Built<'r>,
        holder: &'r OrganisationId,
        purpose: Purpose,
    ) -> Result<(), Unknown> {
        let h = self.holder(built, holder)?;
        built.input.purpose = Some(purpose);
        if let PrincipalIn::Organisation(party) = self.who.principal {
            let q = self.org(party)?;
            built.input.facts.set(
                Fact::PartyConsent,
                self.facts.active(FactKey::PartyConsent {
                    holder: h,
                    party: q,
                    purpose,
                }),
            );
        }
        Ok(())
    }

    fn use_for_research(&self, input: &mut Input<'r>, purpose: Purpose, study: Option<&StudyId>) {
        let f = &self.facts;
        input.purpose = Some(purpose);
        input
            .facts
            .set(Fact::Objection, f.active(FactKey::Objection(purpose)));
        let consent = study
            .and_then(|s| self.registry.study_index(s))
            .is_some_and(|s| f.active(FactKey::ResearchConsent(s)));
        input.facts.set(Fact::ResearchConsent, consent);
    }

    fn view_own(
        &self,
        built: &mut Built<'r>,
        holder: Option<&'r OrganisationId>,
        category: Option<&'r Category>,
        record: Option<&RecordId>,
    ) -> Result<(), Unknown> {
        if let Some(h) = holder {
            self.holder(built, h)?;
        }
        if let Some(c) = category {
            built.input.indices.category = Some(self.category(c)?);
            built.input.category = Some(c);
        }
        if let Some(r) = record {
            let state = self.record(r)?;
            built.tags.record = Some(state.tag());
            self.record_facts(&mut built.input.facts, state);
        }
        Ok(())
    }
}

/// Sets the consent facts of a `view` or `view_record`
fn set_consent(facts: &mut Facts, consent: ConsentFacts) {
    facts.set(Fact::DossierConsent, consent.permit);
    facts.set(Fact::ConsentRefused, consent.refused);
    facts.set(Fact::ConsentUnconfirmed, consent.unconfirmed);
}

/// Whether an active referral objection of the patient at `holder` covers `category`
fn objection(f: &PatientFacts<'_>, holder: Idx, category: Option<Idx>) -> bool {
    f.any_referral_objection() && f.referral_objection(holder, category)
}

/// Builds the abstract input for a request, or [`Unknown`] (R2)
pub(crate) fn build<'r>(
    registry: &'r Registry,
    vocabulary: &Vocabulary,
    request: &'r Request,
) -> Result<Built<'r>, Unknown> {
    // The patient first, and its facts on their way from memory while the
    // principal is looked up: the two lookups' cache misses overlap
    let patient = registry.patient(&request.patient);
    if let Some(p) = patient {
        p.warm();
    }
    let who = resolve_principal(registry, vocabulary, &request.principal)?;
    build_with(registry, vocabulary, who, patient.ok_or(Unknown)?, request)
}

/// [`build`] for a principal already resolved and a patient already looked
/// up (a dashboard's holders share both)
pub(crate) fn build_with<'r>(
    registry: &'r Registry,
    vocabulary: &Vocabulary,
    who: Who<'r>,
    patient: &'r PatientState,
    request: &'r Request,
) -> Result<Built<'r>, Unknown> {
    let ctx = Ctx {
        registry,
        vocabulary,
        who,
        facts: patient.facts(request.at),
        birth_date: patient.birth_date(),
        request,
    };
    let mut built = Built {
        input: Input {
            action: request.action.kind(),
            principal: who.principal,
            patient: &request.patient,
            at: request.at,
            mfa: request.mfa,
            purpose: None,
            source: None,
            category: None,
            holder: None,
            module: None,
            facts: Facts::default(),
            indices: who.indices,
        },
        tags: Tags {
            principal: who.tags.0,
            organisation: who.tags.1,
            patient: patient.tag(),
            holder: None,
            record: None,
        },
    };
    let f = &ctx.facts;
    match &request.action {
        Action::View {
            holder,
            category,
            purpose,
        } => ctx.view(&mut built, holder, category, *purpose)?,
        Action::ViewRecord { record, purpose } => ctx.view_record(&mut built, record, *purpose)?,
        Action::RequestAccess => {
            if let Some((_, o)) = who.practitioner {
                let facts = &mut built.input.facts;
                facts.set(Fact::Relationship, f.active(FactKey::Relationship(o)));
                facts.set(Fact::ConsentOtherHolder, ctx.consent().permit_elsewhere(o));
            }
        }
        Action::Share => {
            if let Some((_, o)) = who.practitioner {
                built
                    .input
                    .facts
                    .set(Fact::DossierConsent, ctx.consent().permit_at(o));
            }
        }
        Action::StartModule { module } | Action::Contribute { module } => {
            ctx.module_work(&mut built.input, module)?;
        }
        Action::ChangeConsent { holder } | Action::ViewConsents { holder } => {
            ctx.holder(&mut built, holder)?;
        }
        Action::UsePersonalData { holder, purpose } => {
            ctx.use_personal_data(&mut built, holder, *purpose)?;
        }
        Action::UseForResearch { purpose, study } => {
            ctx.use_for_research(&mut built.input, *purpose, study.as_ref());
        }
        Action::ViewOwn {
            holder,
            category,
            record,
        } => ctx.view_own(
            &mut built,
            holder.as_ref(),
            category.as_ref(),
            record.as_ref(),
        )?,
        Action::ViewAccessLog { holder } => {
            if let Some(h) = holder {
                ctx.holder(&mut built, h)?;
            }
        }
    }
    Ok(built)
}

/// The facts of a `view` input that depend on its category
/// ([`Categories::set`] sets exactly these)
pub(crate) const CATEGORY_FACTS: [Fact; 4] = [
    Fact::ReferralObjection,
    Fact::DossierConsent,
    Fact::ConsentRefused,
    Fact::ConsentUnconfirmed,
];

/// A `view` input of one dashboard holder, ready to become the same view
/// of each category in turn: only the category, the referral-objection
/// fact and the consent facts (through the category's data category,
/// SPEC.md §7.2) depend on it (the property test `dashboard_equals_views`
/// holds this against [`build`]). What does not depend on the category —
/// the patient, the holder's and the practitioner's organisation's indices,
/// the facts as of the request's time — is looked up once, here.
pub(crate) struct Categories<'r, 'v> {
    registry: &'r Registry,
    /// The holder and the practitioner's organisation, the patient's
    /// facts and consent; `None` for an input without them (no category
    /// then changes a fact)
    parts: Option<(Idx, Idx, PatientFacts<'r>, PatientConsent<'r, 'v>)>,
    /// Whether the patient has any referral objection (else the fact is
    /// `false` for every category)
    objections: bool,
    /// The consent facts per data category asked so far
    consent: ConsentMemo,
}

impl<'r, 'v> Categories<'r, 'v> {
    /// The walk for `input` (a practitioner's `view` of one holder, built by
    /// [`build_with`] for `patient`): the consent facts `input` already
    /// carries, for its own category, are the first the walk remembers
    pub(crate) fn new(
        input: &Input<'_>,
        registry: &'r Registry,
        vocabulary: &'v Vocabulary,
        patient: &'r PatientState,
    ) -> Self {
        let parts = (|| {
            let PrincipalIn::Practitioner { organisation, .. } = input.principal else {
                return None;
            };
            let h = registry.organisation_index(input.holder?)?;
            let o = registry.organisation_index(organisation)?;
            let facts = patient.facts(input.at);
            let consent =
                PatientConsent::new(registry, vocabulary, facts, patient.birth_date(), input.at);
            Some((h, o, facts, consent))
        })();
        let objections = parts
            .as_ref()
            .is_some_and(|(_, _, f, _)| f.any_referral_objection());
        let mut consent = ConsentMemo::new();
        if let (Some((_, _, _, c)), Some(position)) = (&parts, input.indices.category) {
            let f = input.facts;
            consent.push((
                Self::key(c, position),
                ConsentFacts {
                    permit: f.get(Fact::DossierConsent),
                    refused: f.get(Fact::ConsentRefused),
                    unconfirmed: f.get(Fact::ConsentUnconfirmed),
                },
            ));
        }
        Self {
            registry,
            parts,
            objections,
            consent,
        }
    }

    /// The consent memo's key of the category at `position`: its data
    /// category, or one key for all without the Mitz picture (one
    /// resolution then serves every category)
    fn key(patient: &PatientConsent<'_, '_>, position: u16) -> Option<u16> {
        if patient.data_matters() {
            patient.data_at(position)
        } else {
            None
        }
    }

    /// Turns `input` into the view of `category`, the vocabulary's category
    /// at `position`
    pub(crate) fn set<'c>(&mut self, input: &mut Input<'c>, position: u16, category: &'c Category) {
        input.category = Some(category);
        input.indices.category = Some(position);
        let Some((h, o, facts, patient)) = &self.parts else {
            return;
        };
        let covered =
            self.objections && objection(facts, *h, self.registry.category_index(category));
        input.facts.set(Fact::ReferralObjection, covered);
        let data = Self::key(patient, position);
        let answer = if let Some(&(_, known)) = self.consent.iter().find(|(d, _)| *d == data) {
            known
        } else {
            let known = patient.for_requester(*h, *o, data);
            self.consent.push((data, known));
            known
        };
        set_consent(&mut input.facts, answer);
    }
}

/// The consent facts per data category of one dashboard's holder
pub(crate) type ConsentMemo = smallvec::SmallVec<[(Option<u16>, ConsentFacts); 4]>;

impl Input<'_> {
    /// The input as JSON: what the policies see, for explanations and for
    /// feeding other engines the same facts
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut context = serde_json::Map::new();
        context.insert("mfa".into(), self.mfa.into());
        if let Some(p) = self.purpose {
            context.insert("purpose".into(), p.as_str().into());
        }
        if let Some(s) = self.source {
            context.insert("source".into(), s.as_str().into());
        }
        if let Some(c) = self.category {
            context.insert("category".into(), c.as_str().into());
        }
        if let Some(h) = self.holder {
            context.insert("holder".into(), h.as_str().into());
        }
        if let Some(m) = self.module {
            context.insert("module".into(), m.as_str().into());
        }
        for fact in Fact::of(self.action) {
            context.insert(fact.name().into(), self.facts.get(*fact).into());
        }
        let principal = match self.principal {
            PrincipalIn::Practitioner {
                id,
                role,
                tasks,
                organisation,
            } => serde_json::json!({
                "type": "Practitioner",
                "id": id.as_str(),
                "role": role.as_str(),
                "tasks": tasks.iter().map(Task::as_str).collect::<Vec<_>>(),
                "organisation": organisation.as_str(),
            }),
            PrincipalIn::Patient(id) => serde_json::json!({ "type": "Patient", "id": id.as_str() }),
            PrincipalIn::Organisation(id) => {
                serde_json::json!({ "type": "Organisation", "id": id.as_str() })
            }
        };
        serde_json::json!({
            "principal": principal,
            "action": self.action.as_str(),
            "patient": self.patient.as_str(),
            "context": context,
        })
    }
}
