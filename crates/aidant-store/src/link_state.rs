//! Where the server keeps the incremental entity resolver between runs.
//!
//! `aidant-link` is pure: it turns its resolver into versioned bytes and
//! back. Those bytes hold people's names, dates of birth, phones and
//! addresses, so they are sealed with the master key (bound to the state's
//! name) and listed in `SEALED_COLUMNS`, which key rotation covers.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use sqlx::Row;

use crate::audit::AuditEvent;
use crate::{Store, StoreError, now_ms};

fn binding(id: &str) -> String {
    format!("link_state:{id}")
}

/// A saved resolver state, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub bytes: Vec<u8>,
    /// How many records the state had resolved when it was saved.
    pub record_count: i64,
    pub updated_at_ms: i64,
}

impl Store {
    /// Saves (or replaces) the resolver state called `id`, sealed, audited.
    pub async fn save_link_state(&self, id: &str, bytes: &[u8], record_count: i64, actor: &AuditActor) -> Result<(), StoreError> {
        let sealed = self.keyring()?.seal(bytes, &binding(id));
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO link_states (id, record_count, state_sealed, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET record_count = excluded.record_count, state_sealed = excluded.state_sealed, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(record_count)
        .bind(sealed)
        .bind(now_ms())
        .execute(&mut *transaction)
        .await?;
        crate::audit::append(
            &mut transaction,
            &AuditEvent { actor, action: AuditAction::LinkStateSave, record_kind: AuditRecordKind::LinkState, record_id: id, reason: None },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The resolver state called `id`, opened, if one was saved.
    pub async fn load_link_state(&self, id: &str) -> Result<Option<LinkState>, StoreError> {
        let row = sqlx::query("SELECT record_count, state_sealed, updated_at FROM link_states WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("state_sealed")?;
        Ok(Some(LinkState {
            bytes: self.keyring()?.open(&sealed, &binding(id))?,
            record_count: row.try_get("record_count")?,
            updated_at_ms: row.try_get("updated_at")?,
        }))
    }
}
