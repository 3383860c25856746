//! A patient's access-log overview (R35): who saw which of their data, when,
//! and on what grounds.

use serde::Serialize;

use super::{AuditAction, AuditPrincipal, AuditRecord};
use crate::model::ids::{CareModule, Category, OrganisationId, PatientId, RecordId, StudyId};
use crate::model::request::Decision;
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose};

/// One allowed access to a patient's data
///
/// Its `Debug` shows the `seq` and the action only, never the categories seen.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OverviewEntry {
    /// The record's `seq` in the log
    pub seq: u64,
    /// When
    pub at: Timestamp,
    /// Who: kind and id, with role and organisation for practitioners
    pub principal: AuditPrincipal,
    /// What kind of access (`view`, `dashboard`, `view_access_log`, …)
    pub action: AuditAction,
    /// Whose data was seen: the holder
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<OrganisationId>,
    /// Which categories: the one asked about, or those a dashboard showed;
    /// empty when the access was not to one category (a record, all own data)
    pub categories: Vec<Category>,
    /// The record seen
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
    /// The care module
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<CareModule>,
    /// On what grounds: the purpose
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// The study, for research use
    #[serde(skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyId>,
    /// On what grounds: the policies that allowed it
    pub policies: Vec<String>,
}

/// Whether an allowed record of this action is an access to the patient's data
fn is_access(action: AuditAction) -> bool {
    match action {
        AuditAction::Dashboard(_) => true,
        // A consent question reads the patient's choices, not their data
        AuditAction::Consent(_) => false,
        AuditAction::Action(a) => matches!(
            a,
            ActionKind::View
                | ActionKind::ViewRecord
                | ActionKind::ViewOwn
                | ActionKind::UsePersonalData
                | ActionKind::UseForResearch
                | ActionKind::ViewAccessLog
        ),
    }
}

/// Every allowed access to `patient`'s data in `records`, newest first (by
/// `at`, then `seq`)
///
/// Denied decisions are left out, and so are decisions that saw no data
/// (`request_access`) and dashboard holders that showed nothing.
pub fn overview(records: &[AuditRecord], patient: &PatientId) -> Vec<OverviewEntry> {
    let mut entries: Vec<OverviewEntry> = records
        .iter()
        .filter(|r| &r.patient == patient && r.decision == Decision::Allow && is_access(r.action))
        .filter(|r| {
            !matches!(r.action, AuditAction::Dashboard(_))
                || r.categories.as_ref().is_some_and(|c| !c.is_empty())
        })
        .map(|r| OverviewEntry {
            seq: r.seq,
            at: r.at,
            principal: r.principal.clone(),
            action: r.action,
            holder: r.holder.clone(),
            categories: match (&r.categories, &r.category) {
                (Some(shown), _) => shown.clone(),
                (None, Some(c)) => vec![c.clone()],
                (None, None) => Vec::new(),
            },
            record: r.record.clone(),
            module: r.module.clone(),
            purpose: r.purpose,
            study: r.study.clone(),
            policies: r.policies.clone(),
        })
        .collect();
    entries.sort_by(|a, b| b.at.cmp(&a.at).then(b.seq.cmp(&a.seq)));
    entries
}

/// As [`overview`], limited to the data `holder` holds: what a practitioner
/// of that organisation may review (R32)
pub fn overview_of_holder(
    records: &[AuditRecord],
    patient: &PatientId,
    holder: &OrganisationId,
) -> Vec<OverviewEntry> {
    let mut entries = overview(records, patient);
    entries.retain(|e| e.holder.as_ref() == Some(holder));
    entries
}

impl std::fmt::Debug for OverviewEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OverviewEntry")
            .field("seq", &self.seq)
            .field("action", &self.action.as_str())
            .finish_non_exhaustive()
    }
}
