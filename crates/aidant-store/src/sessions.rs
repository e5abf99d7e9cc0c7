//! Server-side staff sessions: made when an identity has been proven
//! (`identity.rs`), found by the cookie's value on every request, ended at
//! sign-out, after idle or absolute timeouts, and when the user is disabled.
//!
//! A session id is a random 256-bit value stored only as SHA-256, so a copy
//! of the table cannot be replayed.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::UserId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::AuditEvent;
use crate::identity::SignInPolicy;
use crate::organisations::User;
use crate::{Store, StoreError, flag, now_ms};

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub user: User,
    pub second_factor_done: bool,
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub organisation_requires_second_factor: bool,
    pub has_second_factor: bool,
    /// The password was set by an administrator and must be replaced
    /// before anything else.
    pub must_change_password: bool,
    /// Opened through an identity provider (single sign-on), which asked
    /// for the second factor itself.
    pub federated: bool,
}

/// One of a user's live sessions, as their profile lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLine {
    /// The session's public name: the first 16 characters of its stored
    /// hash (the cookie's value cannot be had from it).
    pub id: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    /// What it was opened on, in words, or empty.
    pub device: String,
}

/// How long a session's public name is.
const SESSION_ID_LEN: usize = 16;

/// A session's public name from its cookie value.
pub fn session_id(token: &str) -> String {
    sha256_hex(token)[..SESSION_ID_LEN].to_owned()
}

/// The key a field app encrypts what it keeps on the phone with, for the
/// session whose cookie value is `token`: drawn from the cookie's value
/// (which the database never holds), so it can be had only while the
/// session lives, and not from a copy of the database.
pub fn field_key(token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"aidant field queue key\0");
    hasher.update(token.as_bytes());
    hex::encode(hasher.finalize())
}

/// A random 256-bit secret in hex (session ids, API tokens, CSRF tokens).
pub(crate) fn random_token() -> String {
    let mut bytes = [0; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// How a secret that only needs comparing is stored.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Store {
    /// Starts a session; returns the cookie value (shown to the browser once,
    /// stored only as a hash). Any session id the browser held before is not
    /// reused: a new one is made at every sign-in.
    pub async fn create_session(&self, user_id: &UserId, second_factor_done: bool) -> Result<String, StoreError> {
        self.open_session(user_id, second_factor_done, false).await
    }

    /// Starts a session for a user an identity provider has just vouched
    /// for (`federation.rs`): the provider asked for any second factor.
    pub async fn create_federated_session(&self, user_id: &UserId) -> Result<String, StoreError> {
        self.open_session(user_id, true, true).await
    }

    async fn open_session(&self, user_id: &UserId, second_factor_done: bool, federated: bool) -> Result<String, StoreError> {
        let user_id = user_id.as_str();
        let token = random_token();
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO staff_sessions (id_hash, user_id, created_at, last_seen_at, second_factor_done, csrf_token, federated) VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(sha256_hex(&token))
        .bind(user_id)
        .bind(now)
        .bind(i64::from(second_factor_done))
        .bind(random_token())
        .bind(i64::from(federated))
            .execute(&mut *transaction)
            .await?;
        crate::audit::append(&mut transaction, &AuditEvent::new(&AuditActor::user(user_id), AuditAction::UserSignIn, AuditRecordKind::User, user_id)).await?;
        transaction.commit().await?;
        Ok(token)
    }

    /// The live session for a cookie value, refreshing its idle timer; ends
    /// and forgets sessions past either timeout or whose user is disabled.
    pub async fn find_session(&self, token: &str, policy: &SignInPolicy) -> Result<Option<StaffSession>, StoreError> {
        let id_hash = sha256_hex(token);
        let row = sqlx::query(
            "SELECT s.user_id, s.created_at, s.last_seen_at, s.second_factor_done, s.csrf_token, s.federated, u.disabled, u.totp_sealed, u.must_change_password,
                    o.require_second_factor
             FROM staff_sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.organisation_id WHERE s.id_hash = $1",
        )
        .bind(&id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_ms();
        let created_at: i64 = row.try_get("created_at")?;
        let last_seen_at: i64 = row.try_get("last_seen_at")?;
        let expired = now - last_seen_at > policy.idle_timeout.as_millis() as i64 || now - created_at > policy.absolute_timeout.as_millis() as i64;
        if expired || flag(row.try_get("disabled")?) {
            sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1").bind(&id_hash).execute(&self.pool).await?;
            return Ok(None);
        }
        // Touch at most once a minute: a page of requests costs one write.
        if now - last_seen_at > 60_000 {
            sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE id_hash = $2").bind(now).bind(&id_hash).execute(&self.pool).await?;
        }
        let user_id = crate::named(&row, "user_id")?;
        let Some(user) = self.find_user(&user_id).await? else { return Ok(None) };
        Ok(Some(StaffSession {
            user,
            second_factor_done: flag(row.try_get("second_factor_done")?),
            csrf_token: row.try_get("csrf_token")?,
            created_at_ms: created_at,
            organisation_requires_second_factor: flag(row.try_get("require_second_factor")?),
            has_second_factor: row.try_get::<Option<Vec<u8>>, _>("totp_sealed")?.is_some(),
            must_change_password: flag(row.try_get("must_change_password")?),
            federated: flag(row.try_get("federated")?),
        }))
    }

    /// Ends one session (sign-out). The cookie value stops working at once.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        let row = sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1 RETURNING user_id").bind(sha256_hex(token)).fetch_optional(&self.pool).await?;
        if let Some(row) = row {
            let user_id: String = row.try_get("user_id")?;
            self.audit(&AuditEvent::new(&AuditActor::user(&user_id), AuditAction::UserSignOut, AuditRecordKind::User, &user_id)).await?;
        }
        Ok(())
    }

    /// Notes what a session was opened on (`device`, in words).
    pub async fn set_session_device(&self, token: &str, device: &str) -> Result<(), StoreError> {
        let device: String = device.chars().take(80).collect();
        sqlx::query("UPDATE staff_sessions SET device = $1 WHERE id_hash = $2").bind(device).bind(sha256_hex(token)).execute(&self.pool).await?;
        Ok(())
    }

    /// A user's sessions, the most recently used first.
    pub async fn list_sessions(&self, user_id: &UserId) -> Result<Vec<SessionLine>, StoreError> {
        let rows = sqlx::query("SELECT id_hash, created_at, last_seen_at, device FROM staff_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC, id_hash")
            .bind(user_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let hash: String = row.try_get("id_hash")?;
                Ok(SessionLine {
                    id: hash.chars().take(SESSION_ID_LEN).collect(),
                    created_at_ms: row.try_get("created_at")?,
                    last_seen_at_ms: row.try_get("last_seen_at")?,
                    device: row.try_get("device")?,
                })
            })
            .collect()
    }

    /// Ends `user_id`'s session named `id` (its public name), or all of
    /// them when `id` is `None` (a lost phone, a disabled account), at
    /// once: a phone holding one can no longer send or fetch anything, nor
    /// get the key to what it keeps. Audited as done by `by`; returns how
    /// many ended.
    pub async fn end_sessions(&self, user_id: &UserId, id: Option<&str>, by: &AuditActor) -> Result<u64, StoreError> {
        if id.is_some_and(|id| id.len() != SESSION_ID_LEN || !id.bytes().all(|byte| byte.is_ascii_hexdigit())) {
            return Ok(0);
        }
        let mut transaction = self.pool.begin().await?;
        let ended = match id {
            Some(id) => {
                sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND substr(id_hash, 1, 16) = $2")
                    .bind(user_id.as_str())
                    .bind(id.to_ascii_lowercase())
                    .execute(&mut *transaction)
                    .await?
            }
            None => sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1").bind(user_id.as_str()).execute(&mut *transaction).await?,
        }
        .rows_affected();
        if ended > 0 {
            let reason = format!("{ended} session{} ended", if ended == 1 { "" } else { "s" });
            crate::audit::append(
                &mut transaction,
                &AuditEvent::new(by, AuditAction::UserSessionEnded, AuditRecordKind::User, user_id.as_str()).because(&reason),
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(ended)
    }

    /// Marks a session's second factor as done.
    pub async fn complete_second_factor(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff_sessions SET second_factor_done = 1 WHERE id_hash = $1").bind(sha256_hex(token)).execute(&self.pool).await?;
        Ok(())
    }
}
