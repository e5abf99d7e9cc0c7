//! Intelligence records: listing what the caller may read, creating one
//! (from a report or directly), reading one, sharing it, and reading its
//! restricted source.

use std::collections::BTreeSet;

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::{IntelligenceId, OrganisationId, ReportId};
use aidant_core::intelligence::NewIntelligence;
use aidant_core::policy::{Action, Capability, Decision, Handling, RecordAccess, may};
use aidant_core::text::BoundedText;
use sqlx::{Any, Transaction};

use super::{Caller, CaseError, CaseResult, Subject, enforce, record};
use crate::intelligence::{IntelligenceInsert, IntelligenceRecord, SourceDetails, load_intelligence};
use crate::organisations::Organisation;
use crate::triage::load_triage_state;
use crate::{Store, now_ms};

/// What the caller may do to a record they are reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntelligencePermissions {
    pub share: bool,
    pub read_source: bool,
    pub read_audit: bool,
}

/// A record as a member of staff reads it.
#[derive(Debug, Clone)]
pub struct IntelligenceView {
    pub record: IntelligenceRecord,
    pub permissions: IntelligencePermissions,
    /// The report it was developed from, when the caller may read it.
    pub visible_report_id: Option<ReportId>,
    /// Every organisation (names of owner and recipients).
    pub organisations: Vec<Organisation>,
    /// Organisations it may still be shared with under its handling code.
    pub share_targets: Vec<Organisation>,
    /// What it mentions, each with the parts of the record that mention it.
    pub entities: Vec<(crate::entities::Entity, Vec<String>)>,
    /// The people it names, each with the person they are filed under once
    /// the worker has linked them.
    pub people: Vec<(crate::people::PersonDetails, Option<aidant_core::ids::EntityId>)>,
}

fn subject(id: &IntelligenceId) -> Subject<'_> {
    Subject { kind: AuditRecordKind::Intelligence, id: id.as_str() }
}

async fn authorise<'s>(store: &'s Store, caller: &Caller, id: &IntelligenceId, action: Action) -> CaseResult<(Transaction<'s, Any>, IntelligenceRecord)> {
    let (_turn, mut transaction) = store.begin_write().await?;
    let record = load_intelligence(&mut transaction, std::slice::from_ref(id)).await?.into_iter().next().ok_or(CaseError::NotFound)?;
    let decision = may(&caller.actor, action, &record.access(), now_ms());
    let transaction = enforce(transaction, caller, subject(id), decision).await?;
    Ok((transaction, record))
}

/// The newest records the caller may read (at most `limit` looked at).
pub async fn list_intelligence(store: &Store, caller: &Caller, limit: i64) -> CaseResult<Vec<IntelligenceRecord>> {
    super::require(store, caller, Capability::Search).await?;
    let ids = store.intelligence_candidates(caller.organisation_id(), limit).await?;
    let records = store.find_intelligence_many(&ids).await?;
    Ok(records.into_iter().filter(|record| caller.may(Action::ViewIntelligence, &record.access())).collect())
}

/// Organisations a new record's conditions may name: all but the caller's.
pub async fn recipient_choices(store: &Store, caller: &Caller) -> CaseResult<Vec<Organisation>> {
    super::require(store, caller, Capability::CreateIntelligence).await?;
    Ok(store.list_organisations().await?.into_iter().filter(|organisation| &organisation.id != caller.organisation_id()).collect())
}

/// The ids of `recipient_choices`, for `NewIntelligence::parse`.
pub fn choice_ids(organisations: &[Organisation]) -> BTreeSet<OrganisationId> {
    organisations.iter().map(|organisation| organisation.id.clone()).collect()
}

/// Creates a record owned by the caller's organisation, developed from
/// `report_id` when given (which the caller must be able to read), and
/// shares it with `share_with` in the same transaction, after the checks
/// the Share step makes (the caller may share it, the handling conditions
/// allow each organisation): if any fails nothing is written. Returns (id,
/// reference).
pub async fn create_intelligence(
    store: &Store,
    caller: &Caller,
    report_id: Option<&ReportId>,
    new: &NewIntelligence,
    share_with: &[OrganisationId],
) -> CaseResult<(IntelligenceId, String)> {
    super::require(store, caller, Capability::CreateIntelligence).await?;
    if let Some(report_id) = report_id {
        super::reports::report_to_develop(store, caller, report_id).await?;
    }
    if !share_with.is_empty() {
        let access = RecordAccess {
            kind: aidant_core::policy::RecordKind::Intelligence,
            owner_organisation_id: Some(caller.organisation_id().clone()),
            handling: new.grading.handling(),
            shared_with: BTreeSet::new(),
        };
        if let Decision::Deny(reason) = may(&caller.actor, Action::ShareIntelligence, &access, crate::now_ms()) {
            return Err(CaseError::invalid("share_with", format!("You cannot share this record now: {reason}. Create it, then ask a supervisor to share it")));
        }
        for organisation_id in share_with {
            let organisation = match store.find_organisation(organisation_id).await? {
                Some(organisation) if &organisation.id != caller.organisation_id() => organisation,
                _ => return Err(CaseError::invalid("share_with", "Select organisations to share with from the list")),
            };
            if !conditions_allow(&access.handling, &organisation.id) {
                return Err(CaseError::invalid("share_with", format!("The handling conditions do not allow sharing with {}", organisation.name)));
            }
        }
    }
    let source = (!new.source.is_empty()).then(|| SourceDetails {
        identity: new.source.identity.as_ref().map(|text| text.as_str().to_owned()),
        text: new.source.text.as_ref().map(|text| text.as_str().to_owned()),
    });
    let review_on = new.review_on.map(|date| date.to_string());
    let insert = IntelligenceInsert {
        report_id,
        owner_organisation_id: caller.organisation_id(),
        created_by: &caller.user_id,
        title: new.title.as_str(),
        grading: &new.grading,
        sanitised_text: new.sanitised_text.as_str(),
        source: source.as_ref(),
        review_on: review_on.as_deref(),
        people: &new.people,
        share_with,
    };
    Ok(store.create_intelligence(&insert).await?)
}

/// Reads a record; the view is audited in the transaction that reads it.
pub async fn view_intelligence(store: &Store, caller: &Caller, id: &IntelligenceId) -> CaseResult<IntelligenceView> {
    let (mut transaction, record) = authorise(store, caller, id, Action::ViewIntelligence).await?;
    record_view(&mut transaction, caller, id).await?;
    let visible_report_id = match &record.report_id {
        Some(report_id) => {
            load_triage_state(&mut transaction, report_id).await?.filter(|triage| caller.may(Action::ViewReport, &triage.access())).map(|_| report_id.clone())
        }
        None => None,
    };
    let entities = super::entities::entities_of_record(store, &mut transaction, crate::entities::MentionRecord::Intelligence, id.as_str()).await?;
    transaction.commit().await?;
    finish_view(store, caller, record, visible_report_id, entities).await
}

async fn record_view(transaction: &mut Transaction<'_, Any>, caller: &Caller, id: &IntelligenceId) -> CaseResult<()> {
    record(transaction, caller, AuditAction::IntelligenceView, subject(id), None).await
}

async fn finish_view(
    store: &Store,
    caller: &Caller,
    record: IntelligenceRecord,
    visible_report_id: Option<ReportId>,
    entities: Vec<(crate::entities::Entity, Vec<String>)>,
) -> CaseResult<IntelligenceView> {
    let organisations = store.list_organisations().await?;
    let access = record.access();
    let share_targets = organisations
        .iter()
        .filter(|organisation| organisation.id != record.owner_organisation_id)
        .filter(|organisation| !record.shared_with.iter().any(|share| share.organisation_id == organisation.id))
        .filter(|organisation| conditions_allow(&access.handling, &organisation.id))
        .cloned()
        .collect();
    let permissions = IntelligencePermissions {
        share: caller.may(Action::ShareIntelligence, &access),
        read_source: caller.may(Action::ViewSourceText, &access) && record.has_source,
        read_audit: caller.may(Action::ViewAudit, &access),
    };
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let people = super::people::people_of_record(store, &mut connection, crate::entities::MentionRecord::Intelligence, record.id.as_str()).await?;
    Ok(IntelligenceView { record, permissions, visible_report_id, organisations, share_targets, entities, people })
}

/// Whether a handling code's conditions let the record go to `organisation_id`.
fn conditions_allow(handling: &Handling, organisation_id: &OrganisationId) -> bool {
    match handling {
        Handling::Conditional(conditions) if !conditions.recipient_organisations.is_empty() => conditions.recipient_organisations.contains(organisation_id),
        _ => true,
    }
}

/// Shares a record with another organisation, within its handling conditions.
pub async fn share_intelligence(store: &Store, caller: &Caller, id: &IntelligenceId, organisation_id: Option<&OrganisationId>) -> CaseResult<()> {
    let (transaction, record) = authorise(store, caller, id, Action::ShareIntelligence).await?;
    transaction.commit().await?;
    let Some(organisation_id) = organisation_id else { return Err(CaseError::invalid("organisation", "Select an organisation to share with")) };
    let organisation = match store.find_organisation(organisation_id).await? {
        Some(organisation) if organisation.id != record.owner_organisation_id => organisation,
        _ => return Err(CaseError::invalid("organisation", "Select an organisation from the list")),
    };
    if !conditions_allow(&record.grading.handling(), &organisation.id) {
        return Err(CaseError::invalid("organisation", format!("The handling conditions do not allow sharing with {}", organisation.name)));
    }
    store.share_intelligence(id, &organisation.id, &caller.user_id).await?;
    Ok(())
}

/// Reads the restricted source, audited with the reason; returns the
/// record as read (audited as a view too) and the source.
pub async fn read_source(store: &Store, caller: &Caller, id: &IntelligenceId, reason: &BoundedText) -> CaseResult<(IntelligenceView, SourceDetails)> {
    let (transaction, _) = authorise(store, caller, id, Action::ViewSourceText).await?;
    transaction.commit().await?;
    let source = store.read_intelligence_source(id, &caller.audit_actor(), reason.as_str()).await?;
    let view = view_intelligence(store, caller, id).await?;
    Ok((view, source.unwrap_or(SourceDetails { identity: None, text: None })))
}

/// Checks the caller may do `action` to a record, without auditing a view
/// (before reading a form about it).
pub async fn check_intelligence(store: &Store, caller: &Caller, id: &IntelligenceId, action: Action) -> CaseResult<()> {
    let (transaction, _) = authorise(store, caller, id, action).await?;
    transaction.commit().await?;
    Ok(())
}
