//! Single sign-on's side of the store: the user an identity provider's
//! subject is, brought up to date from the provider's claims at each
//! sign-in. The web tier proves the identity (OpenID Connect: the ID token's
//! signature, issuer, audience and nonce) and works out the organisation and
//! roles from the provider's groups; this records the result.
//!
//! The provider is the truth about who may use Aidant: at every sign-in the
//! user's organisation, e-mail, name and roles are replaced by what the
//! groups say now, and a sign-in refused because no group allows it takes
//! the user's roles away, ends their sessions and revokes their tokens.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{OrganisationId, UserId};
use aidant_core::organisation::Role;
use sqlx::{Any, Row, Transaction};

use crate::audit::AuditEvent;
use crate::{Store, StoreError, flag, now_ms};

/// What an identity provider said about a person, once the web tier has
/// checked the ID token and mapped the groups.
#[derive(Debug, Clone, Copy)]
pub struct FederatedSignIn<'a> {
    /// The provider's name in Aidant's configuration.
    pub provider: &'a str,
    /// The provider's stable id for the person (`sub`).
    pub subject: &'a str,
    pub email: &'a str,
    /// The provider says it has checked that the person holds the e-mail.
    pub email_verified: bool,
    pub display_name: &'a str,
    pub organisation_id: &'a OrganisationId,
    pub roles: &'a [Role],
}

/// What became of a single sign-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FederatedOutcome {
    /// The person is this user, with the organisation and roles given.
    Accepted { user_id: UserId },
    /// The user is disabled in Aidant: no provider can open it.
    Disabled,
    /// An Aidant account already uses the e-mail and cannot be joined to the
    /// provider: the provider has not verified the e-mail, the account is in
    /// another organisation, or it is already joined to another identity.
    EmailInUse,
}

impl Store {
    /// Records a sign-in the provider vouched for: finds the user joined to
    /// the provider's subject (or joins an account with the same, verified
    /// e-mail in the same organisation, or creates one), and gives them the
    /// organisation, e-mail, name and roles the provider's groups say.
    /// A joined account's password is removed: from then on the provider
    /// alone decides whether the person may sign in.
    pub async fn sign_in_federated(&self, sign_in: &FederatedSignIn<'_>) -> Result<FederatedOutcome, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let now = now_ms();
        let linked = sqlx::query("SELECT user_id FROM federated_identities WHERE provider = $1 AND subject = $2")
            .bind(sign_in.provider)
            .bind(sign_in.subject)
            .fetch_optional(&mut *transaction)
            .await?;
        let user_id: UserId = match linked {
            Some(row) => {
                let user_id: UserId = crate::named(&row, "user_id")?;
                let disabled = sqlx::query("SELECT disabled FROM users WHERE id = $1").bind(user_id.as_str()).fetch_one(&mut *transaction).await?;
                if flag(disabled.try_get("disabled")?) {
                    let actor = AuditActor::user(user_id.as_str());
                    crate::audit::append(&mut transaction, &AuditEvent::new(&actor, AuditAction::UserSignInFailed, AuditRecordKind::User, user_id.as_str()))
                        .await?;
                    transaction.commit().await?;
                    return Ok(FederatedOutcome::Disabled);
                }
                let email_taken = sqlx::query("SELECT id FROM users WHERE lower(email) = lower($1) AND id <> $2")
                    .bind(sign_in.email)
                    .bind(user_id.as_str())
                    .fetch_optional(&mut *transaction)
                    .await?
                    .is_some();
                if email_taken {
                    return Ok(FederatedOutcome::EmailInUse);
                }
                sqlx::query("UPDATE users SET organisation_id = $1, email = $2, display_name = $3 WHERE id = $4")
                    .bind(sign_in.organisation_id.as_str())
                    .bind(sign_in.email)
                    .bind(sign_in.display_name)
                    .bind(user_id.as_str())
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query("UPDATE federated_identities SET last_sign_in_at = $1 WHERE provider = $2 AND subject = $3")
                    .bind(now)
                    .bind(sign_in.provider)
                    .bind(sign_in.subject)
                    .execute(&mut *transaction)
                    .await?;
                user_id
            }
            None => match join_or_create(&mut transaction, sign_in, now).await? {
                Some(user_id) => user_id,
                None => return Ok(FederatedOutcome::EmailInUse),
            },
        };
        replace_roles(&mut transaction, &user_id, sign_in.roles).await?;
        transaction.commit().await?;
        Ok(FederatedOutcome::Accepted { user_id })
    }

    /// A provider vouched for the person but none of their groups may use
    /// Aidant (any more): the user joined to that identity, if any, loses
    /// their roles, sessions and tokens at once. Returns that user.
    pub async fn refuse_federated(&self, provider: &str, subject: &str) -> Result<Option<UserId>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let linked = sqlx::query("SELECT user_id FROM federated_identities WHERE provider = $1 AND subject = $2")
            .bind(provider)
            .bind(subject)
            .fetch_optional(&mut *transaction)
            .await?;
        let Some(row) = linked else { return Ok(None) };
        let user_id: UserId = crate::named(&row, "user_id")?;
        replace_roles(&mut transaction, &user_id, &[]).await?;
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1").bind(user_id.as_str()).execute(&mut *transaction).await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(user_id.as_str())
            .execute(&mut *transaction)
            .await?;
        let actor = AuditActor::user(user_id.as_str());
        crate::audit::append(&mut transaction, &AuditEvent::new(&actor, AuditAction::UserFederatedRefused, AuditRecordKind::User, user_id.as_str())).await?;
        transaction.commit().await?;
        Ok(Some(user_id))
    }

    /// The provider a user signs in through, if any.
    pub async fn federated_provider(&self, user_id: &UserId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT provider FROM federated_identities WHERE user_id = $1").bind(user_id.as_str()).fetch_optional(&self.pool).await?;
        Ok(row.map(|row| row.try_get("provider")).transpose()?)
    }
}

/// A first sign-in through the provider: joins the account that has the
/// e-mail when that is safe, or creates one. `None` when an account has the
/// e-mail and joining it is not safe.
async fn join_or_create(transaction: &mut Transaction<'_, Any>, sign_in: &FederatedSignIn<'_>, now: i64) -> Result<Option<UserId>, StoreError> {
    let existing = sqlx::query(
        "SELECT u.id, u.organisation_id, f.user_id AS joined FROM users u LEFT JOIN federated_identities f ON f.user_id = u.id WHERE lower(u.email) = lower($1)",
    )
    .bind(sign_in.email)
    .fetch_optional(&mut **transaction)
    .await?;
    let (user_id, action) = match existing {
        Some(row) => {
            let organisation_id: OrganisationId = crate::named(&row, "organisation_id")?;
            let joined: Option<String> = row.try_get("joined")?;
            if !sign_in.email_verified || organisation_id != *sign_in.organisation_id || joined.is_some() {
                return Ok(None);
            }
            let user_id: UserId = crate::named(&row, "id")?;
            sqlx::query(
                "UPDATE users SET display_name = $1, password_hash = NULL, must_change_password = 0, failed_sign_ins = 0, locked_until = NULL WHERE id = $2",
            )
            .bind(sign_in.display_name)
            .bind(user_id.as_str())
            .execute(&mut **transaction)
            .await?;
            (user_id, AuditAction::UserFederatedLinked)
        }
        None => {
            let user_id: UserId = crate::new_record_id();
            sqlx::query("INSERT INTO users (id, organisation_id, email, display_name, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)")
                .bind(user_id.as_str())
                .bind(sign_in.organisation_id.as_str())
                .bind(sign_in.email)
                .bind(sign_in.display_name)
                .bind(now)
                .execute(&mut **transaction)
                .await?;
            (user_id, AuditAction::UserFederatedCreated)
        }
    };
    sqlx::query("INSERT INTO federated_identities (provider, subject, user_id, linked_at, last_sign_in_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(sign_in.provider)
        .bind(sign_in.subject)
        .bind(user_id.as_str())
        .bind(now)
        .execute(&mut **transaction)
        .await?;
    let actor = AuditActor::user(user_id.as_str());
    crate::audit::append(transaction, &AuditEvent::new(&actor, action, AuditRecordKind::User, user_id.as_str())).await?;
    Ok(Some(user_id))
}

async fn replace_roles(transaction: &mut Transaction<'_, Any>, user_id: &UserId, roles: &[Role]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id.as_str()).execute(&mut **transaction).await?;
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)").bind(user_id.as_str()).bind(role.as_str()).execute(&mut **transaction).await?;
    }
    Ok(())
}
