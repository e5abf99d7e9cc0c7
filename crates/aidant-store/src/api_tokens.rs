//! Personal API tokens for `/api/v1/staff`: shown once, stored as SHA-256,
//! listed by name, revocable, and revoked when their holder is disabled or
//! their password reset.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::UserId;
use sqlx::Row;

use crate::audit::AuditEvent;
use crate::organisations::User;
use crate::sessions::{random_token, sha256_hex};
use crate::{Store, StoreError, new_id, now_ms};

/// A personal API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

impl Store {
    /// Creates a personal API token; returns the token, shown once.
    pub async fn create_api_token(&self, user_id: &UserId, name: &str) -> Result<String, StoreError> {
        let user_id = user_id.as_str();
        let token = format!("aidant_pat_{}", random_token());
        let id = new_id();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(user_id)
            .bind(name)
            .bind(sha256_hex(&token))
            .bind(now_ms())
            .execute(&mut *transaction)
            .await?;
        crate::audit::append(&mut transaction, &AuditEvent::new(&AuditActor::user(user_id), AuditAction::ApiTokenCreate, AuditRecordKind::ApiToken, &id))
            .await?;
        transaction.commit().await?;
        Ok(token)
    }

    /// A user's live tokens, newest first.
    pub async fn list_api_tokens(&self, user_id: &UserId) -> Result<Vec<ApiTokenInfo>, StoreError> {
        let user_id = user_id.as_str();
        let rows = sqlx::query("SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiTokenInfo {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at_ms: row.try_get("created_at")?,
                    last_used_at_ms: row.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of a user's tokens; false if it is not theirs.
    pub async fn revoke_api_token(&self, user_id: &UserId, token_id: &str) -> Result<bool, StoreError> {
        let user_id = user_id.as_str();
        let mut transaction = self.pool.begin().await?;
        let revoked = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(token_id)
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        if revoked.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit::append(&mut transaction, &AuditEvent::new(&AuditActor::user(user_id), AuditAction::ApiTokenRevoke, AuditRecordKind::ApiToken, token_id))
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// The enabled user a bearer token belongs to.
    pub async fn user_for_api_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(sha256_hex(token))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: String = row.try_get("user_id")?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2").bind(now_ms()).bind(sha256_hex(token)).execute(&self.pool).await?;
        let user_id = crate::parse_id::<UserId>(&user_id)?;
        Ok(self.find_user(&user_id).await?.filter(|user| !user.disabled))
    }
}
