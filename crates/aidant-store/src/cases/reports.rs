//! Public reports in the workspace: the triage queue, reading a report, and
//! the triage actions (assign, status, reply, open contact details).

use aidant_core::audit::{AuditAction, AuditRecordKind, StoredAuditEntry};
use aidant_core::ids::{IntelligenceId, ReportId, UserId};
use aidant_core::organisation::ReportStatus;
use aidant_core::policy::{Action, Capability, may, may_use};
use aidant_core::text::BoundedText;
use sqlx::{Any, Transaction};

use super::{Caller, CaseError, CaseResult, Subject, enforce, record};
use crate::organisations::User;
use crate::public_site::{Author, ReportMessage};
use crate::reports::{ContactRecord, StoredReport};
use crate::triage::{QueueFilter, QueueOrder, QueuePage, QueuePosition, TriageState, load_triage_state};
use crate::{Store, now_ms};

/// What the caller may do to a report they are reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPermissions {
    pub triage: bool,
    pub reply: bool,
    pub reveal_contact: bool,
    pub read_audit: bool,
    pub develop: bool,
}

/// A report as a member of staff reads it, with everything its page shows.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub report: StoredReport,
    pub triage: TriageState,
    pub messages: Vec<ReportMessage>,
    /// Its audit trail, oldest first.
    pub history: Vec<StoredAuditEntry>,
    /// Intelligence developed from it: (id, reference).
    pub developed: Vec<(IntelligenceId, String)>,
    /// The caller's organisation's users (names for the history, and whom
    /// the report can be assigned to).
    pub colleagues: Vec<User>,
    pub permissions: ReportPermissions,
    /// What it mentions (phones, vehicles, addresses...), each with the
    /// parts of the report that mention it.
    pub entities: Vec<(crate::entities::Entity, Vec<String>)>,
    /// The people staff have named in it, each with their person once linked.
    pub people: Vec<(crate::people::PersonDetails, Option<aidant_core::ids::EntityId>)>,
}

fn subject(report_id: &ReportId) -> Subject<'_> {
    Subject { kind: AuditRecordKind::Report, id: report_id.as_str() }
}

/// Opens a transaction, loads the report's access facts and applies the
/// policy for `action` (a refusal is audited and committed).
async fn authorise<'s>(store: &'s Store, caller: &Caller, report_id: &ReportId, action: Action) -> CaseResult<(Transaction<'s, Any>, TriageState)> {
    let (_turn, mut transaction) = store.begin_write().await?;
    let triage = load_triage_state(&mut transaction, report_id).await?.ok_or(CaseError::NotFound)?;
    let decision = may(&caller.actor, action, &triage.access(), now_ms());
    let transaction = enforce(transaction, caller, subject(report_id), decision).await?;
    Ok((transaction, triage))
}

/// The caller's organisation's triage queue.
pub async fn triage_queue(
    store: &Store,
    caller: &Caller,
    filter: &QueueFilter,
    order: QueueOrder,
    position: &QueuePosition,
    limit: i64,
) -> CaseResult<QueuePage> {
    super::require(store, caller, Capability::UseQueue).await?;
    Ok(store.triage_queue(caller.organisation_id(), filter, order, position, limit, Some(&caller.user_id)).await?)
}

/// The caller's organisation's users, for the queue's assignee filter.
pub async fn colleagues(store: &Store, caller: &Caller) -> CaseResult<Vec<User>> {
    Ok(store.list_users_in(caller.organisation_id()).await?)
}

/// Reads a report: the view is audited (and the first opening recorded) in
/// the transaction that reads it.
pub async fn view_report(store: &Store, caller: &Caller, report_id: &ReportId) -> CaseResult<ReportView> {
    let (mut transaction, triage) = authorise(store, caller, report_id, Action::ViewReport).await?;
    sqlx::query("UPDATE reports SET first_opened_at = $1 WHERE id = $2 AND first_opened_at IS NULL")
        .bind(now_ms())
        .bind(report_id.as_str())
        .execute(&mut *transaction)
        .await?;
    crate::triage::mark_messages_read(&mut transaction, report_id.as_str()).await?;
    record(&mut transaction, caller, AuditAction::ReportView, subject(report_id), None).await?;
    let report = crate::reports::load_report(&mut transaction, report_id).await?.ok_or(CaseError::NotFound)?;
    let messages = crate::public_site::load_report_messages(&mut transaction, report_id).await?;
    let history = crate::audit::load_history(&mut transaction, AuditRecordKind::Report.as_str(), report_id.as_str()).await?;
    let developed = crate::intelligence::load_developed_from(&mut transaction, report_id).await?;
    let colleagues = crate::organisations::load_users_in(&mut transaction, caller.organisation_id()).await?;
    let entities = super::entities::entities_of_record(store, &mut transaction, crate::entities::MentionRecord::Report, report_id.as_str()).await?;
    transaction.commit().await?;
    let access = triage.access();
    let permissions = ReportPermissions {
        triage: caller.may(Action::TriageReport, &access),
        reply: caller.may(Action::ReplyToReporter, &access),
        reveal_contact: caller.may(Action::RevealContact, &access),
        read_audit: caller.may(Action::ViewAudit, &access),
        develop: may_use(&caller.actor, Capability::CreateIntelligence).is_allowed(),
    };
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let people = super::people::people_of_record(store, &mut connection, crate::entities::MentionRecord::Report, report_id.as_str()).await?;
    Ok(ReportView { report, triage, messages, history, developed, colleagues, permissions, entities, people })
}

/// Names a person the report concerns (from what the reporter wrote, or
/// what staff learned since), for the worker to link with the same person
/// elsewhere; audited. Staff who may write intelligence and may read the
/// report can.
pub async fn name_person(store: &Store, caller: &Caller, report_id: &ReportId, person: &aidant_core::intelligence::PersonNamed) -> CaseResult<()> {
    super::require(store, caller, Capability::CreateIntelligence).await?;
    let index = store.entity_index().await?;
    let (mut transaction, _) = authorise(store, caller, report_id, Action::ViewReport).await?;
    let position =
        crate::people::name_person_in(&mut transaction, store.keyring()?, &index, crate::entities::MentionRecord::Report, report_id.as_str(), person).await?;
    let reason = format!("person {position}");
    record(&mut transaction, caller, AuditAction::ReportPersonNamed, subject(report_id), Some(&reason)).await?;
    transaction.commit().await?;
    Ok(())
}

/// Assigns a report to a colleague, or to nobody.
pub async fn assign_report(store: &Store, caller: &Caller, report_id: &ReportId, assignee_user_id: Option<&UserId>) -> CaseResult<()> {
    let (transaction, _) = authorise(store, caller, report_id, Action::TriageReport).await?;
    transaction.commit().await?;
    if let Some(user_id) = assignee_user_id {
        match store.find_user(user_id).await? {
            Some(user) if &user.organisation_id == caller.organisation_id() && !user.disabled => {}
            _ => return Err(CaseError::invalid("assignee", "Select someone from your organisation")),
        }
    }
    Ok(store.assign_report(report_id, assignee_user_id, &caller.audit_actor()).await?)
}

/// Sets a report's status.
pub async fn set_report_status(store: &Store, caller: &Caller, report_id: &ReportId, status: ReportStatus) -> CaseResult<()> {
    let (transaction, _) = authorise(store, caller, report_id, Action::TriageReport).await?;
    transaction.commit().await?;
    Ok(store.set_report_status(report_id, status, &caller.audit_actor()).await?)
}

/// Writes a reply the anonymous reporter reads with their passphrase.
pub async fn reply_to_reporter(store: &Store, caller: &Caller, report_id: &ReportId, reply: &BoundedText) -> CaseResult<()> {
    let (transaction, _) = authorise(store, caller, report_id, Action::ReplyToReporter).await?;
    transaction.commit().await?;
    Ok(store.add_report_message(report_id, Author::Staff, Some(&caller.user_id), reply.as_str()).await?)
}

/// Opens the reporter's sealed contact details, audited with the reason.
pub async fn reveal_contact(store: &Store, caller: &Caller, report_id: &ReportId, reason: &BoundedText) -> CaseResult<Option<ContactRecord>> {
    let (transaction, _) = authorise(store, caller, report_id, Action::RevealContact).await?;
    transaction.commit().await?;
    Ok(store.reveal_contact(report_id, &caller.audit_actor(), reason.as_str()).await?)
}

/// Checks the caller may see a report without auditing a view (for
/// re-showing a form about it): its triage state.
pub async fn check_report(store: &Store, caller: &Caller, report_id: &ReportId, action: Action) -> CaseResult<TriageState> {
    let (transaction, triage) = authorise(store, caller, report_id, action).await?;
    transaction.commit().await?;
    Ok(triage)
}

/// The report a new intelligence record is developed from: (id, reference),
/// if the caller may create intelligence and read the report.
pub async fn report_to_develop(store: &Store, caller: &Caller, report_id: &ReportId) -> CaseResult<(ReportId, String)> {
    super::require(store, caller, Capability::CreateIntelligence).await?;
    let (mut transaction, _) = authorise(store, caller, report_id, Action::ViewReport).await?;
    let report = crate::reports::load_report(&mut transaction, report_id).await?.ok_or(CaseError::NotFound)?;
    transaction.commit().await?;
    Ok((report.id, report.reference.to_string()))
}

/// The anonymous reporter reads their own report and the messages on it
/// (signed in with its reference and passphrase); the view is audited in
/// the transaction that reads them. `None` when the report is gone.
pub async fn reporter_reads_report(store: &Store, report_id: &ReportId) -> CaseResult<Option<(StoredReport, Vec<ReportMessage>)>> {
    let (_turn, mut transaction) = store.begin_write().await?;
    let Some(report) = crate::reports::load_report(&mut transaction, report_id).await? else { return Ok(None) };
    let messages = crate::public_site::load_report_messages(&mut transaction, report_id).await?;
    let actor = aidant_core::audit::AuditActor::Public;
    let event = crate::audit::AuditEvent::new(&actor, AuditAction::ReportReporterView, AuditRecordKind::Report, report_id.as_str());
    crate::audit::append(&mut transaction, &event).await?;
    transaction.commit().await?;
    Ok(Some((report, messages)))
}
