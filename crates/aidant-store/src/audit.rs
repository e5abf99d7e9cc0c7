//! The audit log in the database: appending inside a caller's transaction,
//! reading a record's history, and verifying the whole chain.

use aidant_core::audit::{
    AnchorBreak, AuditAction, AuditActor, AuditEntry, AuditRecordKind, ChainAnchor, ChainSummary, ChainVerifier, StoredAuditEntry, check_anchor,
};
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::{Store, StoreError, now_ms};

/// What is being audited; sequence, time and hashes are filled in on append.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub actor: &'a AuditActor,
    pub action: AuditAction,
    pub record_kind: AuditRecordKind,
    pub record_id: &'a str,
    pub reason: Option<&'a str>,
}

impl<'a> AuditEvent<'a> {
    /// An entry without a reason.
    pub fn new(actor: &'a AuditActor, action: AuditAction, record_kind: AuditRecordKind, record_id: &'a str) -> Self {
        AuditEvent { actor, action, record_kind, record_id, reason: None }
    }

    /// The same entry with the reason given.
    pub fn because(self, reason: &'a str) -> Self {
        AuditEvent { reason: Some(reason), ..self }
    }
}

/// The outcome of walking the chain.
pub type Verification = Result<ChainSummary, aidant_core::audit::ChainBreak>;

/// The outcome of walking the chain and checking it against a checkpoint.
pub type AnchoredVerification = Result<ChainSummary, AnchorBreak>;

/// Appends one entry inside the caller's transaction; returns its sequence.
pub(crate) async fn append(transaction: &mut Transaction<'_, Any>, event: &AuditEvent<'_>) -> Result<i64, StoreError> {
    append_all(transaction, std::slice::from_ref(event)).await?.ok_or_else(|| StoreError::Corrupt("an audit entry was not appended".to_owned()))
}

/// Appends entries in order inside the caller's transaction, with one
/// update of the head row to claim their sequence numbers, one to record
/// the new head hash, and multi-row inserts; returns the last sequence
/// (`None` for no events, when nothing is written). The head row is updated
/// first, which serialises appenders on both backends.
pub(crate) async fn append_all(transaction: &mut Transaction<'_, Any>, events: &[AuditEvent<'_>]) -> Result<Option<i64>, StoreError> {
    /// Rows per INSERT: 9 parameters each, well under both backends' limits.
    const ROWS_PER_INSERT: usize = 200;
    if events.is_empty() {
        return Ok(None);
    }
    let count = events.len() as i64;
    let head = sqlx::query("UPDATE audit_head SET last_sequence = last_sequence + $1 WHERE id = 1 RETURNING last_sequence, last_hash")
        .bind(count)
        .fetch_one(&mut **transaction)
        .await?;
    let last_sequence: i64 = head.try_get("last_sequence")?;
    let head_hash: String = head.try_get("last_hash")?;
    let mut previous_hex = head_hash;
    let occurred_at_ms = now_ms();
    let mut rows: Vec<(AuditEntry, String, String)> = Vec::with_capacity(events.len());
    for (offset, event) in events.iter().enumerate() {
        let previous_hash: [u8; 32] = hex::decode(&previous_hex)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| StoreError::Corrupt("the audit head's hash is not 32 bytes of hex".to_owned()))?;
        let entry = AuditEntry {
            sequence: last_sequence - count + 1 + offset as i64,
            occurred_at_ms,
            actor: event.actor.to_stored(),
            action: event.action.as_str().to_owned(),
            record_kind: event.record_kind.as_str().to_owned(),
            record_id: event.record_id.to_owned(),
            reason: event.reason.map(str::to_owned),
        };
        let hash = hex::encode(entry.chain_hash(&previous_hash));
        rows.push((entry, std::mem::replace(&mut previous_hex, hash.clone()), hash));
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1").bind(&previous_hex).execute(&mut **transaction).await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let first = row * 9;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    first + 1,
                    first + 2,
                    first + 3,
                    first + 4,
                    first + 5,
                    first + 6,
                    first + 7,
                    first + 8,
                    first + 9
                )
            })
            .collect();
        let statement = format!(
            "INSERT INTO audit_log (sequence, occurred_at, actor, action, record_kind, record_id, reason, previous_hash, hash) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&statement);
        for (entry, previous_hash, hash) in chunk {
            query = query
                .bind(entry.sequence)
                .bind(entry.occurred_at_ms)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.record_kind)
                .bind(&entry.record_id)
                .bind(&entry.reason)
                .bind(previous_hash)
                .bind(hash);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(Some(last_sequence))
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<StoredAuditEntry, StoreError> {
    Ok(StoredAuditEntry {
        entry: AuditEntry {
            sequence: row.try_get("sequence")?,
            occurred_at_ms: row.try_get("occurred_at")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            record_kind: row.try_get("record_kind")?,
            record_id: row.try_get("record_id")?,
            reason: row.try_get("reason")?,
        },
        previous_hash: row.try_get("previous_hash")?,
        hash: row.try_get("hash")?,
    })
}

const ENTRY_COLUMNS: &str = "sequence, occurred_at, actor, action, record_kind, record_id, reason, previous_hash, hash";

impl Store {
    /// Appends one entry in its own transaction (for reads and other events
    /// that change nothing else).
    pub async fn audit(&self, event: &AuditEvent<'_>) -> Result<i64, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let sequence = append(&mut transaction, event).await?;
        transaction.commit().await?;
        Ok(sequence)
    }

    /// Walks the whole chain in storage order and names the first bad entry.
    /// Reads in pages so memory stays flat on long chains.
    pub async fn verify_audit_chain(&self) -> Result<Verification, StoreError> {
        let (verification, _) = self.walk_audit_chain(None).await?;
        Ok(verification)
    }

    /// Walks the whole chain as `verify_audit_chain` does, then checks that
    /// the entry at the anchor's sequence still has the anchor's hash. This
    /// catches a log rewritten with every hash recomputed, or shortened with
    /// the head row rewritten to match, which the chain alone cannot show.
    pub async fn verify_audit_chain_against(&self, anchor: &ChainAnchor) -> Result<AnchoredVerification, StoreError> {
        let (verification, hash_at_anchor) = self.walk_audit_chain(Some(anchor.sequence)).await?;
        Ok(match verification {
            Err(chain_break) => Err(AnchorBreak::Chain(chain_break)),
            Ok(summary) => check_anchor(&summary, anchor, hash_at_anchor.as_deref()).map(|()| summary),
        })
    }

    /// The chain's verification and, when asked, the verified hash of the
    /// entry at one sequence.
    async fn walk_audit_chain(&self, remember: Option<i64>) -> Result<(Verification, Option<String>), StoreError> {
        // One snapshot for the head and every page, so entries appended
        // while the walk runs (a live server) are neither seen past the head
        // nor taken for a broken chain.
        let mut transaction = self.pool.begin().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *transaction).await?;
        }
        let head = sqlx::query("SELECT last_sequence, last_hash FROM audit_head WHERE id = 1").fetch_one(&mut *transaction).await?;
        let head_sequence: i64 = head.try_get("last_sequence")?;
        let head_hash: String = head.try_get("last_hash")?;
        let mut verifier = ChainVerifier::default();
        let mut remembered = None;
        let mut after = i64::MIN;
        loop {
            let query = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE sequence > $1 ORDER BY sequence LIMIT 10000");
            let rows = sqlx::query(&query).bind(after).fetch_all(&mut *transaction).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("sequence")?;
            for row in &rows {
                let stored = entry_from_row(row)?;
                if let Err(chain_break) = verifier.push(&stored) {
                    transaction.rollback().await?;
                    return Ok((Err(chain_break), remembered));
                }
                if Some(stored.entry.sequence) == remember {
                    remembered = Some(stored.hash);
                }
            }
        }
        transaction.rollback().await?;
        Ok((verifier.finish(head_sequence, &head_hash), remembered))
    }

    /// Appends an `audit.checkpoint` entry and returns the chain's head
    /// including it, read in the same transaction so no other entry can come
    /// between them.
    pub async fn checkpoint_audit_chain(&self, actor: &AuditActor, key_id: &str) -> Result<ChainAnchor, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let event = AuditEvent { actor, action: AuditAction::AuditCheckpoint, record_kind: AuditRecordKind::AuditLog, record_id: key_id, reason: None };
        append(&mut transaction, &event).await?;
        let head = sqlx::query("SELECT last_sequence, last_hash FROM audit_head WHERE id = 1").fetch_one(&mut *transaction).await?;
        let anchor = ChainAnchor { sequence: head.try_get("last_sequence")?, hash: head.try_get("last_hash")? };
        transaction.commit().await?;
        Ok(anchor)
    }

    /// The audit history of one record, oldest first.
    pub async fn audit_history(&self, record_kind: &str, record_id: &str) -> Result<Vec<StoredAuditEntry>, StoreError> {
        load_history(&mut *self.pool.acquire().await?, record_kind, record_id).await
    }

    /// What one actor (`user:<id>`) did, newest first, at most `limit` entries.
    pub async fn audit_by_actor(&self, actor: &AuditActor, limit: i64) -> Result<Vec<StoredAuditEntry>, StoreError> {
        load_by_actor(&mut *self.pool.acquire().await?, &actor.to_stored(), limit).await
    }
}

/// The audit history of one record, oldest first, on a connection or in a transaction.
pub(crate) async fn load_history(connection: &mut AnyConnection, record_kind: &str, record_id: &str) -> Result<Vec<StoredAuditEntry>, StoreError> {
    let query = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE record_kind = $1 AND record_id = $2 ORDER BY sequence");
    let rows = sqlx::query(&query).bind(record_kind).bind(record_id).fetch_all(&mut *connection).await?;
    rows.iter().map(entry_from_row).collect()
}

/// What one actor did, newest first, on a connection or in a transaction.
pub(crate) async fn load_by_actor(connection: &mut AnyConnection, actor: &str, limit: i64) -> Result<Vec<StoredAuditEntry>, StoreError> {
    let query = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE actor = $1 ORDER BY sequence DESC LIMIT $2");
    let rows = sqlx::query(&query).bind(actor).bind(limit).fetch_all(&mut *connection).await?;
    rows.iter().map(entry_from_row).collect()
}
