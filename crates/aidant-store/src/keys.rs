//! Master-key rotation in the database: the one list of sealed columns,
//! rewrapping every sealed value's data key under the keyring's current key,
//! and a census of which master key each value is under.
//!
//! Rewrapping changes only a value's header (see `crypto.rs`), so it needs no
//! knowledge of records or bindings and works the same on every column in
//! `SEALED_COLUMNS`. It runs in batches, each in its own transaction, and
//! skips values already under the current key, so it can be stopped at any
//! point and run again: nothing is lost as long as the keys it read from are
//! still on the keyring.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::crypto::{Rewrapped, sealed_key_id};
use crate::{Store, StoreError};

/// A column holding sealed values, named with its table and the table's
/// primary-key column (text ids, as every Aidant table uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub key_column: &'static str,
    pub sealed_column: &'static str,
}

impl SealedColumn {
    /// `table.column`, for reports and messages.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.sealed_column)
    }
}

/// Every column that holds values sealed with the master key. Key rotation
/// and `aidant keys status` walk exactly this list, so a new sealed column
/// must be added here or rotation will leave it under the old key.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn { table: "reports", key_column: "id", sealed_column: "contact_sealed" },
    SealedColumn { table: "report_drafts", key_column: "id", sealed_column: "sealed_answers" },
    SealedColumn { table: "intelligence", key_column: "id", sealed_column: "source_sealed" },
    SealedColumn { table: "users", key_column: "id", sealed_column: "totp_sealed" },
    SealedColumn { table: "link_resolver", key_column: "id", sealed_column: "index_key_sealed" },
    SealedColumn { table: "link_records", key_column: "record_id", sealed_column: "features_sealed" },
    SealedColumn { table: "entity_index_keys", key_column: "id", sealed_column: "key_sealed" },
    SealedColumn { table: "entities", key_column: "id", sealed_column: "value_sealed" },
    SealedColumn { table: "entities", key_column: "id", sealed_column: "label_sealed" },
    SealedColumn { table: "record_people", key_column: "id", sealed_column: "details_sealed" },
    SealedColumn { table: "person_decisions", key_column: "id", sealed_column: "reason_sealed" },
    SealedColumn { table: "charts", key_column: "id", sealed_column: "name_sealed" },
    SealedColumn { table: "charts", key_column: "id", sealed_column: "state_sealed" },
    SealedColumn { table: "network_analyses", key_column: "id", sealed_column: "name_sealed" },
    SealedColumn { table: "potential_victims", key_column: "id", sealed_column: "identity_sealed" },
    SealedColumn { table: "nrm_referrals", key_column: "victim_id", sealed_column: "answers_sealed" },
    SealedColumn { table: "support_referrals", key_column: "id", sealed_column: "shared_sealed" },
    SealedColumn { table: "support_given", key_column: "id", sealed_column: "note_sealed" },
    SealedColumn { table: "field_records", key_column: "id", sealed_column: "answers_sealed" },
];

/// How to rewrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewrapOptions {
    /// Values rewrapped per transaction.
    pub batch_size: usize,
    /// Stop after this many values have been rewrapped (to rotate in steps,
    /// and for tests of an interrupted rotation); `None` rewraps everything.
    pub limit: Option<u64>,
}

impl Default for RewrapOptions {
    fn default() -> Self {
        Self { batch_size: 500, limit: None }
    }
}

/// What rewrapping did to one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRewrap {
    pub column: SealedColumn,
    /// Values now under the current key that were not before.
    pub rewrapped: u64,
    /// Values changed by someone else between reading and rewriting them;
    /// they are left as they are (a later run picks them up if needed).
    pub changed_meanwhile: u64,
    /// Values that could not be rewrapped: sealed under a key not on the
    /// keyring, or damaged.
    pub unreadable: u64,
    /// The first unreadable value's record id and why, for the operator.
    pub first_unreadable: Option<(String, String)>,
}

/// What one rewrapping run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrapSummary {
    pub columns: Vec<ColumnRewrap>,
    /// True when the run stopped at `RewrapOptions::limit`.
    pub limit_reached: bool,
}

impl RewrapSummary {
    pub fn rewrapped(&self) -> u64 {
        self.columns.iter().map(|column| column.rewrapped).sum()
    }

    pub fn unreadable(&self) -> u64 {
        self.columns.iter().map(|column| column.unreadable).sum()
    }
}

/// Which master keys one column's values are under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnCensus {
    pub column: SealedColumn,
    /// Values per key id (hex).
    pub by_key_id: BTreeMap<String, u64>,
    /// Values whose data key the keyring cannot unwrap (unknown key or damage).
    pub unopenable: u64,
    /// The first such value's record id and why.
    pub first_unopenable: Option<(String, String)>,
}

/// Which master keys the sealed values in the database are under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCensus {
    pub current_key_id: String,
    pub retired_key_ids: Vec<String>,
    pub columns: Vec<ColumnCensus>,
}

impl KeyCensus {
    /// Values under any key but the current one.
    pub fn not_current(&self) -> u64 {
        self.columns.iter().flat_map(|column| column.by_key_id.iter()).filter(|(key_id, _)| **key_id != self.current_key_id).map(|(_, count)| count).sum()
    }

    /// Values under one key id.
    pub fn under(&self, key_id: &str) -> u64 {
        self.columns.iter().filter_map(|column| column.by_key_id.get(key_id)).sum()
    }

    pub fn unopenable(&self) -> u64 {
        self.columns.iter().map(|column| column.unopenable).sum()
    }
}

const CENSUS_PAGE: i64 = 1000;

impl Store {
    /// Rewraps every sealed value that is not under the keyring's current key,
    /// column by column in primary-key order, `batch_size` values per
    /// transaction. Each row is rewritten only if it still holds the value
    /// that was read, so a concurrent change is never overwritten.
    pub async fn rewrap_sealed_values(&self, options: &RewrapOptions) -> Result<RewrapSummary, StoreError> {
        let keyring = self.keyring()?;
        let current_key_id = keyring.current().key_id().to_vec();
        let batch_size = options.batch_size.max(1);
        let mut remaining = options.limit;
        let mut columns = Vec::with_capacity(SEALED_COLUMNS.len());
        let mut limit_reached = false;
        for column in SEALED_COLUMNS {
            let mut outcome = ColumnRewrap { column: *column, rewrapped: 0, changed_meanwhile: 0, unreadable: 0, first_unreadable: None };
            let select = format!(
                "SELECT {key}, {sealed} FROM {table} WHERE {key} > $1 AND {sealed} IS NOT NULL AND substr({sealed}, 2, 8) <> $2 ORDER BY {key} LIMIT $3",
                key = column.key_column,
                sealed = column.sealed_column,
                table = column.table
            );
            let update = format!(
                "UPDATE {table} SET {sealed} = $1 WHERE {key} = $2 AND {sealed} = $3",
                key = column.key_column,
                sealed = column.sealed_column,
                table = column.table
            );
            let mut after = String::new();
            while !limit_reached {
                let page_size = match remaining {
                    Some(0) => {
                        limit_reached = true;
                        break;
                    }
                    Some(left) => (left as usize).min(batch_size),
                    None => batch_size,
                };
                // Read outside the transaction, so that on SQLite the
                // transaction's first statement is a write and waits for the
                // lock instead of failing to upgrade a stale read.
                let rows = sqlx::query(&select).bind(&after).bind(&current_key_id).bind(page_size as i64).fetch_all(&self.pool).await?;
                let Some(last) = rows.last() else { break };
                after = last.try_get(0)?;
                let mut transaction = self.pool.begin().await?;
                let mut rewrapped_in_batch = 0;
                for row in &rows {
                    let record_id: String = row.try_get(0)?;
                    let sealed: Vec<u8> = row.try_get(1)?;
                    match keyring.rewrap(&sealed) {
                        Ok(Rewrapped::AlreadyCurrent) => {}
                        Ok(Rewrapped::Rewrapped(rewrapped)) => {
                            let result = sqlx::query(&update).bind(rewrapped).bind(&record_id).bind(&sealed).execute(&mut *transaction).await?;
                            if result.rows_affected() == 1 {
                                rewrapped_in_batch += 1;
                            } else {
                                outcome.changed_meanwhile += 1;
                            }
                        }
                        Err(error) => {
                            outcome.unreadable += 1;
                            outcome.first_unreadable.get_or_insert_with(|| (record_id.clone(), error.to_string()));
                        }
                    }
                }
                transaction.commit().await?;
                outcome.rewrapped += rewrapped_in_batch;
                if let Some(left) = remaining.as_mut() {
                    *left = left.saturating_sub(rewrapped_in_batch);
                }
                tracing::info!(column = %column.name(), rewrapped = outcome.rewrapped, "rewrapped a batch of sealed values");
            }
            columns.push(outcome);
        }
        Ok(RewrapSummary { columns, limit_reached })
    }

    /// Counts the sealed values under each master key and checks that every
    /// data key unwraps with the keyring, reading in pages.
    pub async fn sealed_value_census(&self) -> Result<KeyCensus, StoreError> {
        let keyring = self.keyring()?;
        let mut columns = Vec::with_capacity(SEALED_COLUMNS.len());
        for column in SEALED_COLUMNS {
            let mut census = ColumnCensus { column: *column, by_key_id: BTreeMap::new(), unopenable: 0, first_unopenable: None };
            let select = format!(
                "SELECT {key}, {sealed} FROM {table} WHERE {key} > $1 AND {sealed} IS NOT NULL ORDER BY {key} LIMIT $2",
                key = column.key_column,
                sealed = column.sealed_column,
                table = column.table
            );
            let mut after = String::new();
            loop {
                let rows = sqlx::query(&select).bind(&after).bind(CENSUS_PAGE).fetch_all(&self.pool).await?;
                let Some(last) = rows.last() else { break };
                after = last.try_get(0)?;
                for row in &rows {
                    let record_id: String = row.try_get(0)?;
                    let sealed: Vec<u8> = row.try_get(1)?;
                    let key_id = sealed_key_id(&sealed).map_or_else(|| "damaged".to_owned(), hex::encode);
                    *census.by_key_id.entry(key_id).or_default() += 1;
                    if let Err(error) = keyring.check_wrap(&sealed) {
                        census.unopenable += 1;
                        census.first_unopenable.get_or_insert_with(|| (record_id, error.to_string()));
                    }
                }
            }
            columns.push(census);
        }
        Ok(KeyCensus {
            current_key_id: hex::encode(keyring.current().key_id()),
            retired_key_ids: keyring.retired_key_ids().iter().map(hex::encode).collect(),
            columns,
        })
    }
}
