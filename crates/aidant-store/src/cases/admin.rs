//! Administration of an organisation's users, and the audit trails
//! supervisors read: per record and per user.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind, StoredAuditEntry};
use aidant_core::ids::{IntelligenceId, ReportId, UserId};
use aidant_core::organisation::Role;
use aidant_core::policy::{Action, Capability, Decision, may};
use aidant_core::report::FieldError;

use super::{Caller, CaseError, CaseResult, Subject, enforce, record};
use crate::identity::temporary_password;
use crate::organisations::{Organisation, User};
use crate::{Store, now_ms};

/// How many of a user's actions their audit page shows.
pub const USER_AUDIT_LIMIT: i64 = 500;

/// An email address in a plausible shape (the address is proven when the
/// person signs in with the password passed to them).
pub fn plausible_email(email: &str) -> bool {
    let email = email.trim();
    email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
}

/// A new user as an administrator typed them.
#[derive(Debug, Clone, Default)]
pub struct NewUserAnswers<'a> {
    pub email: &'a str,
    pub name: &'a str,
    /// Role names as sent; unknown ones are refused.
    pub roles: Vec<&'a str>,
}

/// A user who can now sign in with a one-time password.
#[derive(Debug, Clone)]
pub struct OneTimePassword {
    pub user: User,
    pub password: String,
}

/// The users page: the caller's organisation and its users.
pub async fn organisation_users(store: &Store, caller: &Caller) -> CaseResult<(Organisation, Vec<User>)> {
    super::require(store, caller, Capability::ManageUsers).await?;
    let organisation = store.find_organisation(caller.organisation_id()).await?.ok_or(CaseError::NotFound)?;
    Ok((organisation, store.list_users_in(caller.organisation_id()).await?))
}

/// Adds a user to the caller's organisation with a one-time password.
pub async fn add_user(store: &Store, caller: &Caller, answers: &NewUserAnswers<'_>) -> CaseResult<OneTimePassword> {
    super::require(store, caller, Capability::ManageUsers).await?;
    let email = answers.email.trim();
    let name = answers.name.trim();
    let roles: Vec<Role> = answers.roles.iter().filter_map(|role| role.parse().ok()).collect();
    let mut errors = Vec::new();
    let fail = |errors: &mut Vec<FieldError>, field: &str, message: &str| errors.push(FieldError { field: field.to_owned(), message: message.to_owned() });
    if !plausible_email(email) {
        fail(&mut errors, "email", "Enter an email address in the correct format, like name@force.police.uk");
    }
    if name.is_empty() || name.chars().count() > 200 {
        fail(&mut errors, "name", "Enter the person's name (200 characters or fewer)");
    }
    if roles.is_empty() || roles.len() != answers.roles.len() {
        fail(&mut errors, "roles", "Select at least one role");
    }
    if errors.is_empty() && store.find_user_by_email(email).await?.is_some() {
        fail(&mut errors, "email", "A user with this email address already exists");
    }
    if !errors.is_empty() {
        return Err(CaseError::Invalid(errors));
    }
    let user = store.create_user(caller.organisation_id(), email, name, &roles).await?;
    let password = temporary_password();
    store.set_temporary_password(&user.id, &password, &caller.audit_actor()).await?;
    Ok(OneTimePassword { user, password })
}

/// What an administrator does to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Disable,
    Enable,
    ResetSecondFactor,
    ResetPassword,
    /// Ends every session the user has (a lost phone or laptop).
    EndSessions,
}

impl UserChange {
    /// The action's name in the page's address.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "disable" => Some(UserChange::Disable),
            "enable" => Some(UserChange::Enable),
            "reset-second-factor" => Some(UserChange::ResetSecondFactor),
            "reset-password" => Some(UserChange::ResetPassword),
            "end-sessions" => Some(UserChange::EndSessions),
            _ => None,
        }
    }
}

/// A user of the caller's organisation, or a refusal (audited) for anyone else's.
async fn own_user(store: &Store, caller: &Caller, user_id: &UserId) -> CaseResult<User> {
    let user = store.find_user(user_id).await?.ok_or(CaseError::NotFound)?;
    if &user.organisation_id != caller.organisation_id() {
        let (_turn, transaction) = store.begin_write().await?;
        let decision = Decision::Deny("the user belongs to another organisation");
        enforce(transaction, caller, Subject { kind: AuditRecordKind::User, id: user_id.as_str() }, decision).await?;
    }
    Ok(user)
}

/// Changes a user of the caller's organisation; a password reset returns
/// the new one-time password.
pub async fn change_user(store: &Store, caller: &Caller, user_id: &UserId, change: UserChange) -> CaseResult<Option<OneTimePassword>> {
    super::require(store, caller, Capability::ManageUsers).await?;
    let user = own_user(store, caller, user_id).await?;
    let actor = caller.audit_actor();
    match change {
        UserChange::Disable if user.id == caller.user_id => Err(CaseError::invalid("users", "You cannot disable your own account")),
        UserChange::Disable => store.disable_user(&user.id, &actor).await.map(|_| None).map_err(CaseError::from),
        UserChange::Enable => store.enable_user(&user.id, &actor).await.map(|_| None).map_err(CaseError::from),
        UserChange::ResetSecondFactor => store.reset_second_factor(&user.id, &actor).await.map(|()| None).map_err(CaseError::from),
        UserChange::EndSessions => store.end_sessions(&user.id, None, &actor).await.map(|_| None).map_err(CaseError::from),
        UserChange::ResetPassword => {
            // A password beside the identity provider would let the person in
            // after the provider's groups had shut them out.
            if let Some(provider) = store.federated_provider(&user.id).await? {
                return Err(CaseError::invalid(
                    "users",
                    format!("{} signs in through the identity provider \"{provider}\": their password is kept there, not in Aidant", user.display_name),
                ));
            }
            let password = temporary_password();
            store.set_temporary_password(&user.id, &password, &actor).await?;
            Ok(Some(OneTimePassword { user, password }))
        }
    }
}

/// Requires (or stops requiring) a second factor in the caller's organisation.
pub async fn require_second_factor(store: &Store, caller: &Caller, required: bool) -> CaseResult<()> {
    super::require(store, caller, Capability::ManageUsers).await?;
    Ok(store.set_require_second_factor(caller.organisation_id(), required, &caller.audit_actor()).await?)
}

/// An audit trail with the display names of the people in it.
#[derive(Debug, Clone)]
pub struct AuditTrail {
    pub entries: Vec<StoredAuditEntry>,
    /// Stored actor (`user:<id>`) to display name, for every user.
    pub names: std::collections::HashMap<String, String>,
}

pub(crate) async fn with_names(store: &Store, entries: Vec<StoredAuditEntry>) -> CaseResult<AuditTrail> {
    let names = store.list_users().await?.into_iter().map(|user| (AuditActor::user(user.id.as_str()).to_stored(), user.display_name)).collect();
    Ok(AuditTrail { entries, names })
}

/// A record's whole audit trail, views included (supervisors of its owner).
/// `id` as it came in the address: one that is not an id of `kind` is not found.
pub async fn record_audit(store: &Store, caller: &Caller, kind: AuditRecordKind, id: &str) -> CaseResult<AuditTrail> {
    let (_turn, mut transaction) = store.begin_write().await?;
    let access = match kind {
        AuditRecordKind::Report => match id.parse::<ReportId>() {
            Ok(report_id) => crate::triage::load_triage_state(&mut transaction, &report_id).await?.map(|triage| triage.access()),
            Err(_) => None,
        },
        AuditRecordKind::Intelligence => match id.parse::<IntelligenceId>() {
            Ok(intelligence_id) => crate::intelligence::load_intelligence(&mut transaction, &[intelligence_id]).await?.pop().map(|record| record.access()),
            Err(_) => None,
        },
        _ => None,
    }
    .ok_or(CaseError::NotFound)?;
    let subject = Subject { kind, id };
    let mut transaction = enforce(transaction, caller, subject, may(&caller.actor, Action::ViewAudit, &access, now_ms())).await?;
    record(&mut transaction, caller, AuditAction::AuditView, subject, None).await?;
    let entries = crate::audit::load_history(&mut transaction, kind.as_str(), id).await?;
    transaction.commit().await?;
    with_names(store, entries).await
}

/// What one user of the caller's organisation did, newest first.
pub async fn user_audit(store: &Store, caller: &Caller, user_id: &UserId) -> CaseResult<(User, AuditTrail)> {
    super::require(store, caller, Capability::ViewUserAudit).await?;
    let user = own_user(store, caller, user_id).await?;
    let (_turn, mut transaction) = store.begin_write().await?;
    record(&mut transaction, caller, AuditAction::AuditView, Subject { kind: AuditRecordKind::User, id: user.id.as_str() }, None).await?;
    let entries = crate::audit::load_by_actor(&mut transaction, &AuditActor::user(user.id.as_str()).to_stored(), USER_AUDIT_LIMIT).await?;
    transaction.commit().await?;
    Ok((user, with_names(store, entries).await?))
}

/// The entity worker's queue, for administrators of the organisation that
/// runs the service (it receives the public reports): how many records wait
/// and which could not be read. Administrators of other organisations get
/// `None`: the queue names records of every organisation.
pub async fn entity_queue(store: &Store, caller: &Caller) -> CaseResult<Option<(crate::entities::QueueCounts, Vec<crate::entities::ParkedJob>)>> {
    super::require(store, caller, Capability::ManageUsers).await?;
    let organisation = store.find_organisation(caller.organisation_id()).await?.ok_or(CaseError::NotFound)?;
    if !organisation.receives_public_reports {
        return Ok(None);
    }
    Ok(Some((store.entity_queue_counts().await?, store.parked_entity_jobs(100).await?)))
}

/// Queues the parked records again, once their cause is mended; audited.
pub async fn retry_parked_entity_jobs(store: &Store, caller: &Caller) -> CaseResult<u64> {
    super::require(store, caller, Capability::ManageUsers).await?;
    let organisation = store.find_organisation(caller.organisation_id()).await?.ok_or(CaseError::NotFound)?;
    if !organisation.receives_public_reports {
        let (_turn, transaction) = store.begin_write().await?;
        let subject = super::Subject { kind: AuditRecordKind::Workspace, id: "entity_jobs" };
        return super::enforce(transaction, caller, subject, aidant_core::policy::Decision::Deny("only the organisation that runs the service sees its queue"))
            .await
            .map(|_| 0);
    }
    Ok(store.retry_parked_entity_jobs(&caller.audit_actor()).await?)
}
