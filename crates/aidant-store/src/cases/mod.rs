//! Use cases: one function per thing a member of staff does.
//!
//! Each takes the `Caller` (who is asking, with the facts the policy needs),
//! loads the record's access facts, asks the one policy in
//! `aidant_core::policy`, audits a refusal or the access, and reads or
//! writes, in one transaction where it reads a sensitive record. Handlers,
//! HTML or JSON, only turn wire types into calls and results into
//! responses; none of them asks the policy or writes an audit entry.
//!
//! A refusal is committed on its own before the error returns, so the
//! attempt is on the record even though nothing else happened.

pub mod admin;
pub mod entities;
pub mod insight;
pub mod intelligence;
pub mod networks;
pub mod operations;
pub mod packages;
pub mod people;
pub mod publication;
pub mod reports;
pub mod retention;
pub mod search;
pub mod victims;

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{OrganisationId, UserId};
use aidant_core::policy::{Action, Actor, Capability, Decision, RecordAccess, may, may_use};
use aidant_core::report::FieldError;
use sqlx::{Any, Transaction};

use crate::audit::{AuditEvent, append};
use crate::{Store, StoreError, now_ms};

/// Who is asking: a signed-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub actor: Actor,
}

impl Caller {
    pub fn new(user_id: &UserId, actor: Actor) -> Self {
        Caller { user_id: user_id.clone(), actor }
    }

    pub fn organisation_id(&self) -> &OrganisationId {
        &self.actor.organisation_id
    }

    /// How the audit log names the caller.
    pub fn audit_actor(&self) -> AuditActor {
        AuditActor::user(self.user_id.as_str())
    }

    /// Whether the caller's roles open a workspace capability (for showing
    /// links and buttons; the use case behind them decides again).
    pub fn can(&self, capability: Capability) -> bool {
        may_use(&self.actor, capability).is_allowed()
    }

    /// Whether the policy allows `action` on a record (for showing buttons).
    pub fn may(&self, action: Action, access: &RecordAccess) -> bool {
        may(&self.actor, action, access, now_ms()).is_allowed()
    }
}

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// There is no such record.
    #[error("not found")]
    NotFound,
    /// The policy refused; the refusal is audited.
    #[error("refused: {reason}")]
    Denied { reason: &'static str },
    /// The request names something that cannot be done, field by field.
    #[error("{} field(s) need correcting", .0.len())]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CaseError {
    fn from(error: sqlx::Error) -> Self {
        CaseError::Store(StoreError::Database(error))
    }
}

impl CaseError {
    /// One field's problem.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CaseError::Invalid(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }
}

pub type CaseResult<T> = Result<T, CaseError>;

/// The record a decision is about, as the audit log names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub kind: AuditRecordKind,
    pub id: &'a str,
}

/// Applies a decision inside `transaction`: on a refusal, audits it, commits
/// and returns `Denied`; otherwise hands the transaction back.
pub(crate) async fn enforce<'t>(
    mut transaction: Transaction<'t, Any>,
    caller: &Caller,
    subject: Subject<'_>,
    decision: Decision,
) -> CaseResult<Transaction<'t, Any>> {
    match decision {
        Decision::Allow => Ok(transaction),
        Decision::Deny(reason) => {
            let actor = caller.audit_actor();
            let event = AuditEvent::new(&actor, AuditAction::AccessDenied, subject.kind, subject.id).because(reason);
            append(&mut transaction, &event).await?;
            transaction.commit().await?;
            Err(CaseError::Denied { reason })
        }
    }
}

/// Refuses, audited, unless the caller's roles open `capability`.
pub async fn require(store: &Store, caller: &Caller, capability: Capability) -> CaseResult<()> {
    let decision = may_use(&caller.actor, capability);
    if decision.is_allowed() {
        return Ok(());
    }
    let (_turn, transaction) = store.begin_write().await?;
    let name = format!("{capability:?}");
    enforce(transaction, caller, Subject { kind: AuditRecordKind::Workspace, id: &name }, decision).await.map(drop)
}

/// Appends one entry in the caller's name inside `transaction`.
pub(crate) async fn record(
    transaction: &mut Transaction<'_, Any>,
    caller: &Caller,
    action: AuditAction,
    subject: Subject<'_>,
    reason: Option<&str>,
) -> CaseResult<()> {
    let actor = caller.audit_actor();
    append(transaction, &AuditEvent { actor: &actor, action, record_kind: subject.kind, record_id: subject.id, reason }).await?;
    Ok(())
}
