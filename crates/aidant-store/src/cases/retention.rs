//! Retention review (MoPI) of potential victims' cases, public reports,
//! intelligence records and operations: the queue of records past their
//! review date for a force's supervisors, keeping one for a stated reason
//! until its next review, and deleting one for good.
//!
//! Deleting removes the record and everything that holds what it said:
//! - a potential victim's case: the sealed identity, the NRM referral's
//!   sealed answers, what support organisations were given and the support
//!   they recorded, and the case's links;
//! - a report: its answers, signs, vehicles, the messages with the
//!   reporter, its search entry, what it mentions (and each entity nothing
//!   else mentions, with its sealed value and label), the people named in
//!   it with their rows in the linker (sealed features, blocking keys, links,
//!   name keys, decisions), its links from cases and operation sites; an
//!   intelligence record made from it loses only the pointer to it;
//! - an intelligence record: the same, with its shares and its sealed source;
//! - an operation: its agencies, sites, teams and every field record (sealed),
//!   and the links of cases to those records.
//!
//! Each sealed value carries its own data key, so its key goes with it. The
//! bytes are erased, not only unlinked: on SQLite every connection runs with
//! `secure_delete` (space freed by any delete or update, including older
//! versions of a row, is overwritten with zeros), the full-text indexes are
//! merged so no segment keeps a deleted document's words, and the
//! write-ahead log is then checkpointed and truncated; on PostgreSQL the
//! tables that held the record are rewritten (`VACUUM FULL`), which leaves no
//! dead copy of a row in their files. The audit log keeps that the record was
//! deleted, by whom and why (a reason from a fixed list), never what it held.
//! The linker's counts (how many records share a key, under keyed hashes)
//! are statistics, not records, and are left as they are.

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::VictimId;
use aidant_core::policy::{Capability, Decision, VictimAction, may_on_victim};
use aidant_core::retention::{DeleteReason, RecordKind, RetainReason, ReviewPeriods, add_months};
use sqlx::{Any, Row, Transaction};

use super::{Caller, CaseError, CaseResult, Subject, enforce, record, require};
use crate::victims as rows;
use crate::{Backend, Store, StoreError};

/// How long a deletion waits, on PostgreSQL, for transactions that could
/// still see the deleted rows before their files are rewritten.
pub const ERASE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How many due records the queue lists at most (the longest overdue).
pub const QUEUE_LIMIT: usize = 500;

/// The tables a deleted record's data lived in, by kind, rewritten after a
/// deletion on PostgreSQL.
fn tables(kind: RecordKind) -> Vec<&'static str> {
    const PEOPLE_AND_ENTITIES: [&str; 13] = [
        "search_documents",
        "entity_mentions",
        "entities",
        "entity_jobs",
        "record_people",
        "link_records",
        "link_keys",
        "link_pairs",
        "link_events",
        "person_name_keys",
        "person_decisions",
        "victim_links",
        "operation_site_records",
    ];
    let own: &[&str] = match kind {
        RecordKind::VictimCase => &["potential_victims", "nrm_referrals", "support_referrals", "support_given", "victim_links"],
        RecordKind::Report => &["reports", "report_signs", "report_vehicles", "report_messages", "intelligence", "report_tallies"],
        RecordKind::Intelligence => &["intelligence", "intelligence_shares"],
        RecordKind::Operation => &[
            "operations",
            "operation_agencies",
            "operation_sites",
            "operation_site_records",
            "operation_teams",
            "operation_team_sites",
            "operation_team_members",
            "field_records",
            "victim_links",
        ],
    };
    let mut tables = own.to_vec();
    if matches!(kind, RecordKind::Report | RecordKind::Intelligence) {
        tables.extend(PEOPLE_AND_ENTITIES);
    }
    tables.push("retention_reviews");
    tables
}

/// A record past its review date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRecord {
    pub kind: RecordKind,
    pub id: String,
    /// How it is named: a case's pseudonym, a report's or an intelligence
    /// record's reference, an operation's name.
    pub label: String,
    /// When its clock started (see `RecordKind::clock_starts`).
    pub opened_at_ms: i64,
    /// When it became due: a review period after its clock started, or
    /// after the last decision to keep it.
    pub due_at_ms: i64,
    /// The last decision to keep it: when, and why.
    pub last_kept: Option<(i64, RetainReason)>,
}

/// When a record is due: the last decision's next review, or a period
/// after its clock started.
fn due_at(kind: RecordKind, opened_at_ms: i64, next_review_at: Option<i64>, periods: &ReviewPeriods) -> i64 {
    next_review_at.unwrap_or_else(|| add_months(opened_at_ms, periods.months(kind)))
}

/// A record's owner, name and clock, as the queue and a review read them.
fn select(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::VictimCase => "SELECT id, pseudonym AS label, created_at AS opened, owner_organisation_id AS owner FROM potential_victims",
        RecordKind::Report => "SELECT id, reference AS label, received_at AS opened, owning_organisation_id AS owner FROM reports",
        RecordKind::Intelligence => "SELECT id, reference AS label, created_at AS opened, owner_organisation_id AS owner FROM intelligence",
        RecordKind::Operation => "SELECT id, name AS label, ends_on AS opened, lead_organisation_id AS owner FROM operations",
    }
}

/// An operation's clock starts at the end of its last day (UTC).
fn end_of_day_ms(day: &str) -> Result<i64, StoreError> {
    let date = aidant_core::text::parse_iso_date(day).ok_or_else(|| StoreError::Corrupt(format!("an operation's last day {day:?}")))?;
    let next = date.next_day().unwrap_or(date);
    Ok((next.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Reads `select`'s columns: (id, label, opened, owner).
fn read_row(kind: RecordKind, row: &sqlx::any::AnyRow) -> Result<(String, String, i64, Option<String>), StoreError> {
    let opened = match kind {
        RecordKind::Operation => end_of_day_ms(&row.try_get::<String, _>("opened")?)?,
        _ => row.try_get("opened")?,
    };
    let label: String = row.try_get("label")?;
    // A report's reference as people read it (`ABC-DEF-GHJ`), not as stored.
    let label = match kind {
        RecordKind::Report => aidant_core::reference::ReportRef::parse(&label).map(|reference| reference.to_string()).unwrap_or(label),
        _ => label,
    };
    Ok((row.try_get("id")?, label, opened, row.try_get("owner")?))
}

/// The caller's force's records due for review at `now_ms`, longest overdue
/// first, at most `QUEUE_LIMIT`, with how many are due in all. Listing is
/// audited.
pub async fn review_queue(store: &Store, caller: &Caller, periods: &ReviewPeriods, now_ms: i64) -> CaseResult<(Vec<DueRecord>, usize)> {
    require(store, caller, Capability::ReviewRetention).await?;
    let (_turn, mut transaction) = store.begin_write().await?;
    let mut due = Vec::new();
    for kind in RecordKind::ALL.iter().copied() {
        let found = sqlx::query(&format!(
            "SELECT t.*, r.decided_at, r.reason, r.next_review_at FROM ({}) t \
             LEFT JOIN retention_reviews r ON r.record_kind = $1 AND r.record_id = t.id WHERE t.owner = $2",
            select(kind)
        ))
        .bind(kind.code())
        .bind(caller.organisation_id().as_str())
        .fetch_all(&mut *transaction)
        .await?;
        for row in found {
            let (id, label, opened_at_ms, _) = read_row(kind, &row)?;
            let decided_at: Option<i64> = row.try_get("decided_at")?;
            let reason: Option<String> = row.try_get("reason")?;
            let next_review_at: Option<i64> = row.try_get("next_review_at")?;
            let due_at_ms = due_at(kind, opened_at_ms, next_review_at, periods);
            if due_at_ms > now_ms {
                continue;
            }
            let last_kept = decided_at.zip(reason.as_deref().and_then(RetainReason::parse));
            due.push(DueRecord { kind, id, label, opened_at_ms, due_at_ms, last_kept });
        }
    }
    due.sort_by(|left, right| left.due_at_ms.cmp(&right.due_at_ms).then_with(|| left.kind.cmp(&right.kind)).then_with(|| left.label.cmp(&right.label)));
    let total = due.len();
    due.truncate(QUEUE_LIMIT);
    let reason = format!("{total} due");
    record(&mut transaction, caller, AuditAction::RetentionQueue, Subject { kind: AuditRecordKind::Workspace, id: "retention" }, Some(&reason)).await?;
    transaction.commit().await?;
    Ok((due, total))
}

/// One record's review page: the record, if the caller may review it and
/// it is due.
pub async fn record_to_review(store: &Store, caller: &Caller, kind: RecordKind, id: &str, periods: &ReviewPeriods, now_ms: i64) -> CaseResult<DueRecord> {
    require(store, caller, Capability::ReviewRetention).await?;
    let (_turn, transaction) = store.begin_write().await?;
    let (transaction, due) = authorise_review(transaction, caller, kind, id, periods).await?;
    transaction.commit().await?;
    if due.due_at_ms > now_ms {
        return Err(not_due(due.due_at_ms));
    }
    Ok(due)
}

fn not_due(due_at_ms: i64) -> CaseError {
    let day = time::OffsetDateTime::from_unix_timestamp(due_at_ms / 1000).map(|at| at.date().to_string()).unwrap_or_default();
    CaseError::invalid("decision", format!("This record is not due for review until {day}"))
}

fn audit_kind(kind: RecordKind) -> AuditRecordKind {
    match kind {
        RecordKind::VictimCase => AuditRecordKind::Victim,
        RecordKind::Report => AuditRecordKind::Report,
        RecordKind::Intelligence => AuditRecordKind::Intelligence,
        RecordKind::Operation => AuditRecordKind::Operation,
    }
}

/// Loads the record and its last decision, and applies the policy (a
/// refusal is audited and committed): a potential victim's case by
/// `may_on_victim`, any other record only by its owning force.
async fn authorise_review<'t>(
    mut transaction: Transaction<'t, Any>,
    caller: &Caller,
    kind: RecordKind,
    id: &str,
    periods: &ReviewPeriods,
) -> CaseResult<(Transaction<'t, Any>, DueRecord)> {
    let subject = Subject { kind: audit_kind(kind), id };
    let decision = if kind == RecordKind::VictimCase {
        let victim_id = VictimId::parse(id).map_err(|_| CaseError::NotFound)?;
        let case = rows::load_victims(&mut transaction, std::slice::from_ref(&victim_id)).await?.into_iter().next().ok_or(CaseError::NotFound)?;
        may_on_victim(&caller.actor, &caller.user_id, VictimAction::ReviewRetention, &case.access())
    } else {
        let owner: Option<String> = sqlx::query_scalar(&format!("SELECT owner FROM ({}) t WHERE t.id = $1", select(kind)))
            .bind(id)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or(CaseError::NotFound)?;
        match owner {
            Some(owner) if owner == caller.organisation_id().as_str() => Decision::Allow,
            _ => Decision::Deny("only the force that holds a record reviews it"),
        }
    };
    let mut transaction = enforce(transaction, caller, subject, decision).await?;
    let row = sqlx::query(&format!(
        "SELECT t.*, r.decided_at, r.reason, r.next_review_at FROM ({}) t \
         LEFT JOIN retention_reviews r ON r.record_kind = $1 AND r.record_id = t.id WHERE t.id = $2",
        select(kind)
    ))
    .bind(kind.code())
    .bind(id)
    .fetch_optional(&mut *transaction)
    .await?
    .ok_or(CaseError::NotFound)?;
    let (id, label, opened_at_ms, _) = read_row(kind, &row)?;
    let decided_at: Option<i64> = row.try_get("decided_at")?;
    let reason: Option<String> = row.try_get("reason")?;
    let next_review_at: Option<i64> = row.try_get("next_review_at")?;
    let last_kept = decided_at.zip(reason.as_deref().and_then(RetainReason::parse));
    let due_at_ms = due_at(kind, opened_at_ms, next_review_at, periods);
    Ok((transaction, DueRecord { kind, id, label, opened_at_ms, due_at_ms, last_kept }))
}

/// Keeps a due record for `reason` until a review period from now; returns
/// its name and the next review's time.
pub async fn retain_record(
    store: &Store,
    caller: &Caller,
    kind: RecordKind,
    id: &str,
    reason: RetainReason,
    periods: &ReviewPeriods,
    now_ms: i64,
) -> CaseResult<(String, i64)> {
    require(store, caller, Capability::ReviewRetention).await?;
    let (_turn, transaction) = store.begin_write().await?;
    let (mut transaction, due) = authorise_review(transaction, caller, kind, id, periods).await?;
    if due.due_at_ms > now_ms {
        return Err(not_due(due.due_at_ms));
    }
    let next = add_months(now_ms, periods.months(kind));
    sqlx::query(
        "INSERT INTO retention_reviews (record_kind, record_id, decided_by, decided_at, reason, next_review_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (record_kind, record_id) DO UPDATE SET decided_by = excluded.decided_by, decided_at = excluded.decided_at, \
         reason = excluded.reason, next_review_at = excluded.next_review_at",
    )
    .bind(kind.code())
    .bind(&due.id)
    .bind(caller.user_id.as_str())
    .bind(now_ms)
    .bind(reason.code())
    .bind(next)
    .execute(&mut *transaction)
    .await?;
    let because = format!("{}: {}", due.label, reason.label());
    record(&mut transaction, caller, AuditAction::RetentionRetain, Subject { kind: audit_kind(kind), id: &due.id }, Some(&because)).await?;
    transaction.commit().await?;
    Ok((due.label, next))
}

/// Deletes a due record and everything that holds what it said, for
/// `reason`, and erases the bytes (see the module's note); returns its name.
pub async fn delete_record(
    store: &Store,
    caller: &Caller,
    kind: RecordKind,
    id: &str,
    reason: DeleteReason,
    periods: &ReviewPeriods,
    now_ms: i64,
) -> CaseResult<String> {
    require(store, caller, Capability::ReviewRetention).await?;
    let (turn, transaction) = store.begin_write().await?;
    let (mut transaction, due) = authorise_review(transaction, caller, kind, id, periods).await?;
    if due.due_at_ms > now_ms {
        return Err(not_due(due.due_at_ms));
    }
    // On PostgreSQL, the deleting transaction's id: a transaction older than
    // it may still see the rows, and VACUUM keeps them for it.
    let deleting_xid: Option<String> = match store.backend {
        Backend::Postgres => Some(sqlx::query_scalar("SELECT (txid_current() % 4294967296)::text").fetch_one(&mut *transaction).await?),
        Backend::Sqlite => None,
    };
    match kind {
        RecordKind::VictimCase => delete_victim_case(&mut transaction, &due.id).await?,
        RecordKind::Report => delete_report(&mut transaction, &due.id).await?,
        RecordKind::Intelligence => delete_intelligence(&mut transaction, &due.id).await?,
        RecordKind::Operation => delete_operation(&mut transaction, &due.id).await?,
    }
    run_all(&mut transaction, &["DELETE FROM retention_reviews WHERE record_kind = $2 AND record_id = $1"], &due.id, Some(kind.code())).await?;
    let because = format!("{}: {}", due.label, reason.label());
    record(&mut transaction, caller, AuditAction::RetentionDelete, Subject { kind: audit_kind(kind), id: &due.id }, Some(&because)).await?;
    if store.backend == Backend::Sqlite && matches!(kind, RecordKind::Report | RecordKind::Intelligence) {
        // A full-text index keeps a deleted document's words in its
        // segments until they are merged; merging them all drops them.
        for index in ["search_text", "intelligence_search_text"] {
            sqlx::query(&format!("INSERT INTO {index} ({index}) VALUES ('optimize')")).execute(&mut *transaction).await?;
        }
    }
    transaction.commit().await?;
    drop(turn);
    store.erase_freed_space(&tables(kind), deleting_xid.as_deref()).await?;
    Ok(due.label)
}

/// Runs each statement with `$1` the record's id (and `$2` a second value).
async fn run_all(transaction: &mut Transaction<'_, Any>, statements: &[&str], id: &str, second: Option<&str>) -> Result<(), StoreError> {
    for statement in statements {
        let mut query = sqlx::query(statement).bind(id);
        if let Some(second) = second {
            query = query.bind(second);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

async fn delete_victim_case(transaction: &mut Transaction<'_, Any>, id: &str) -> Result<(), StoreError> {
    let statements = [
        "DELETE FROM support_given WHERE support_referral_id IN (SELECT id FROM support_referrals WHERE victim_id = $1)",
        "DELETE FROM support_referrals WHERE victim_id = $1",
        "DELETE FROM nrm_referrals WHERE victim_id = $1",
        "DELETE FROM victim_links WHERE victim_id = $1",
        "DELETE FROM potential_victims WHERE id = $1",
    ];
    run_all(transaction, &statements, id, None).await
}

async fn delete_report(transaction: &mut Transaction<'_, Any>, id: &str) -> Result<(), StoreError> {
    forget_mentions_and_people(transaction, "report", id).await?;
    let statements = [
        "UPDATE intelligence SET report_id = NULL WHERE report_id = $1",
        "DELETE FROM victim_links WHERE kind = 'report' AND target_id = $1",
        "DELETE FROM operation_site_records WHERE kind = 'report' AND record_id = $1",
        "DELETE FROM report_messages WHERE report_id = $1",
        "DELETE FROM report_signs WHERE report_id = $1",
        "DELETE FROM report_vehicles WHERE report_id = $1",
        "DELETE FROM reports WHERE id = $1",
    ];
    run_all(transaction, &statements, id, None).await
}

async fn delete_intelligence(transaction: &mut Transaction<'_, Any>, id: &str) -> Result<(), StoreError> {
    forget_mentions_and_people(transaction, "intelligence", id).await?;
    let statements = [
        "DELETE FROM victim_links WHERE kind = 'intelligence' AND target_id = $1",
        "DELETE FROM operation_site_records WHERE kind = 'intelligence' AND record_id = $1",
        "DELETE FROM intelligence_shares WHERE intelligence_id = $1",
        "DELETE FROM intelligence WHERE id = $1",
    ];
    run_all(transaction, &statements, id, None).await
}

async fn delete_operation(transaction: &mut Transaction<'_, Any>, id: &str) -> Result<(), StoreError> {
    let statements = [
        "DELETE FROM victim_links WHERE kind = 'field_record' AND target_id IN (SELECT id FROM field_records WHERE operation_id = $1)",
        "DELETE FROM field_records WHERE operation_id = $1",
        "DELETE FROM operation_team_members WHERE team_id IN (SELECT id FROM operation_teams WHERE operation_id = $1)",
        "DELETE FROM operation_team_sites WHERE team_id IN (SELECT id FROM operation_teams WHERE operation_id = $1)",
        "DELETE FROM operation_teams WHERE operation_id = $1",
        "DELETE FROM operation_site_records WHERE site_id IN (SELECT id FROM operation_sites WHERE operation_id = $1)",
        "DELETE FROM operation_sites WHERE operation_id = $1",
        "DELETE FROM operation_agencies WHERE operation_id = $1",
        "DELETE FROM operations WHERE id = $1",
    ];
    run_all(transaction, &statements, id, None).await
}

/// Removes what a report or an intelligence record mentions and the people
/// it names: its search entry and entity jobs, its mentions (and every
/// entity nothing else mentions or points at, with its watches and roles),
/// and each person named with their rows in the linker and the decisions
/// about them (the count of decisions in force goes down with them).
async fn forget_mentions_and_people(transaction: &mut Transaction<'_, Any>, record_kind: &str, id: &str) -> Result<(), StoreError> {
    let entities: Vec<String> = sqlx::query_scalar("SELECT DISTINCT entity_id FROM entity_mentions WHERE record_kind = $2 AND record_id = $1")
        .bind(id)
        .bind(record_kind)
        .fetch_all(&mut **transaction)
        .await?;
    let statements = [
        "DELETE FROM search_documents WHERE record_kind = $2 AND record_id = $1",
        "DELETE FROM entity_jobs WHERE record_kind = $2 AND record_id = $1",
        "DELETE FROM entity_mentions WHERE record_kind = $2 AND record_id = $1",
    ];
    run_all(transaction, &statements, id, Some(record_kind)).await?;
    let people: Vec<String> = sqlx::query_scalar("SELECT id FROM record_people WHERE record_kind = $2 AND record_id = $1")
        .bind(id)
        .bind(record_kind)
        .fetch_all(&mut **transaction)
        .await?;
    for person in &people {
        let in_force: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_decisions WHERE (record_a = $1 OR record_b = $1) AND undone_at IS NULL")
            .bind(person)
            .fetch_one(&mut **transaction)
            .await?;
        if in_force > 0 {
            sqlx::query("UPDATE link_resolver SET decisions = CASE WHEN decisions > $1 THEN decisions - $1 ELSE 0 END")
                .bind(in_force)
                .execute(&mut **transaction)
                .await?;
        }
        let statements = [
            "DELETE FROM link_keys WHERE record_number IN (SELECT record_number FROM link_records WHERE record_id = $1)",
            "DELETE FROM link_pairs WHERE record_number IN (SELECT record_number FROM link_records WHERE record_id = $1) \
             OR other_record_number IN (SELECT record_number FROM link_records WHERE record_id = $1)",
            "DELETE FROM link_records WHERE record_id = $1",
            "DELETE FROM link_events WHERE record_id = $1",
            "DELETE FROM person_name_keys WHERE person_record = $1",
            "DELETE FROM person_decisions WHERE record_a = $1 OR record_b = $1",
        ];
        run_all(transaction, &statements, person, None).await?;
    }
    run_all(transaction, &["DELETE FROM record_people WHERE record_kind = $2 AND record_id = $1"], id, Some(record_kind)).await?;
    for entity in &entities {
        let statements = [
            "DELETE FROM entity_watches WHERE entity_id = $1 AND NOT EXISTS (SELECT 1 FROM entity_mentions WHERE entity_id = $1)",
            "DELETE FROM network_roles WHERE entity_id = $1 AND NOT EXISTS (SELECT 1 FROM entity_mentions WHERE entity_id = $1)",
            "DELETE FROM entities WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM entity_mentions WHERE entity_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM victim_links WHERE kind = 'entity' AND target_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM operation_sites WHERE entity_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM entities other WHERE other.merged_into = $1)",
        ];
        run_all(transaction, &statements, entity, None).await?;
    }
    Ok(())
}

impl Store {
    /// When a case brought over from another system (or one of the demo's,
    /// which have a history) was really opened: the review clock counts
    /// from it.
    pub async fn set_victim_case_opened_at(&self, id: &VictimId, opened_at_ms: i64) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query("UPDATE potential_victims SET created_at = $1 WHERE id = $2").bind(opened_at_ms).bind(id.as_str()).execute(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Leaves no copy of deleted rows in the database's files: SQLite's
    /// write-ahead log is checkpointed into the (zero-overwritten) database
    /// and truncated; PostgreSQL's `tables` are rewritten without their dead
    /// rows, once no transaction older than the deleting one (`deleting_xid`)
    /// is left that could still see them (VACUUM keeps such rows). Older
    /// means, in any database of the cluster (VACUUM FULL's own snapshot
    /// reaches across them), a snapshot taken before the deletion or a
    /// transaction id given before it: a transaction idle between two
    /// statements holds no snapshot but still holds its id back. It waits
    /// for those up to `ERASE_WAIT`; past that it rewrites anyway and says
    /// so in the log (the next VACUUM FULL of those tables finishes it).
    pub(crate) async fn erase_freed_space(&self, tables: &[&str], deleting_xid: Option<&str>) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.write_pool).await?;
            }
            Backend::Postgres => {
                if let Some(xid) = deleting_xid {
                    let deadline = std::time::Instant::now() + ERASE_WAIT;
                    loop {
                        let older: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                             AND (age(backend_xmin) >= age($1::text::xid) OR age(backend_xid) >= age($1::text::xid))",
                        )
                        .bind(xid)
                        .fetch_one(&self.pool)
                        .await?;
                        if older == 0 {
                            break;
                        }
                        if std::time::Instant::now() >= deadline {
                            tracing::warn!(
                                transactions = older,
                                "deleted rows may stay in the files until the next VACUUM FULL: older transactions are still open"
                            );
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
                sqlx::query(&format!("VACUUM (FULL) {}", tables.join(", "))).execute(&self.pool).await?;
            }
        }
        Ok(())
    }
}
