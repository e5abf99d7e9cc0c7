//! Retention review (MoPI) of potential victims' cases: the queue of cases
//! past their review date for a force's supervisors, keeping one for a
//! stated reason until its next review, and deleting one for good.
//!
//! Deleting removes the case and everything that holds the person: the
//! sealed identity, the NRM referral's sealed answers, what support
//! organisations were given and the support they recorded, and the case's
//! links. Each sealed value carries its own data key, so its key goes with
//! it. The bytes are erased, not only unlinked: on SQLite the deletion runs
//! with `secure_delete` (freed space is overwritten with zeros) and the
//! write-ahead log is then checkpointed and truncated; on PostgreSQL the
//! tables that held the case are rewritten (`VACUUM FULL`), which leaves no
//! dead copy of a row in their files. The audit log keeps that the case was
//! deleted, by whom and why (a reason from a fixed list), never what it held.

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::VictimId;
use aidant_core::policy::{Capability, VictimAction, may_on_victim};
use aidant_core::retention::{DeleteReason, RetainReason, ReviewPeriods, add_months};
use sqlx::Row;

use super::{Caller, CaseError, CaseResult, Subject, enforce, record, require};
use crate::victims::{self as rows, VictimCase};
use crate::{Backend, Store, StoreError};

/// How retention reviews name a potential victim's case.
pub const VICTIM_CASE: &str = "victim_case";

/// The tables a deleted case's data lived in, rewritten after a deletion on
/// PostgreSQL.
const VICTIM_TABLES: [&str; 6] = ["potential_victims", "nrm_referrals", "support_referrals", "support_given", "victim_links", "retention_reviews"];

/// A case past its review date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCase {
    pub id: VictimId,
    pub pseudonym: String,
    pub created_at_ms: i64,
    /// When it became due: a review period after it was opened, or after
    /// the last decision to keep it.
    pub due_at_ms: i64,
    /// The last decision to keep it: when, and why.
    pub last_kept: Option<(i64, RetainReason)>,
}

/// When a case is due: the last decision's next review, or a period after
/// it was opened.
fn due_at(created_at_ms: i64, next_review_at: Option<i64>, periods: &ReviewPeriods) -> i64 {
    next_review_at.unwrap_or_else(|| add_months(created_at_ms, periods.victim_cases_months))
}

/// The caller's force's cases due for review at `now_ms`, longest overdue
/// first. Listing is audited.
pub async fn review_queue(store: &Store, caller: &Caller, periods: &ReviewPeriods, now_ms: i64) -> CaseResult<Vec<DueCase>> {
    require(store, caller, Capability::ReviewRetention).await?;
    let (_turn, mut transaction) = store.begin_write().await?;
    let found = sqlx::query(
        "SELECT v.id, v.pseudonym, v.created_at, r.decided_at, r.reason, r.next_review_at FROM potential_victims v \
         LEFT JOIN retention_reviews r ON r.record_kind = $1 AND r.record_id = v.id WHERE v.owner_organisation_id = $2",
    )
    .bind(VICTIM_CASE)
    .bind(caller.organisation_id().as_str())
    .fetch_all(&mut *transaction)
    .await?;
    let mut due = Vec::new();
    for row in found {
        let id: String = row.try_get("id")?;
        let created_at_ms: i64 = row.try_get("created_at")?;
        let decided_at: Option<i64> = row.try_get("decided_at")?;
        let reason: Option<String> = row.try_get("reason")?;
        let next_review_at: Option<i64> = row.try_get("next_review_at")?;
        let due_at_ms = due_at(created_at_ms, next_review_at, periods);
        if due_at_ms > now_ms {
            continue;
        }
        let id = VictimId::parse(&id).map_err(|_| StoreError::Corrupt(format!("a case id {id:?}")))?;
        let last_kept = decided_at.zip(reason.as_deref().and_then(RetainReason::parse));
        due.push(DueCase { id, pseudonym: row.try_get("pseudonym")?, created_at_ms, due_at_ms, last_kept });
    }
    due.sort_by(|left, right| left.due_at_ms.cmp(&right.due_at_ms).then_with(|| left.pseudonym.cmp(&right.pseudonym)));
    let reason = format!("{} due", due.len());
    record(&mut transaction, caller, AuditAction::RetentionQueue, Subject { kind: AuditRecordKind::Workspace, id: "retention" }, Some(&reason)).await?;
    transaction.commit().await?;
    Ok(due)
}

/// One case's review page: the case, if the caller may review it and it is
/// due.
pub async fn case_to_review(store: &Store, caller: &Caller, id: &VictimId, periods: &ReviewPeriods, now_ms: i64) -> CaseResult<DueCase> {
    let (_turn, transaction) = store.begin_write().await?;
    let (transaction, case, next_review_at, last_kept) = authorise_review(transaction, caller, id).await?;
    transaction.commit().await?;
    let due_at_ms = due_at(case.created_at_ms, next_review_at, periods);
    if due_at_ms > now_ms {
        return Err(not_due(due_at_ms));
    }
    Ok(DueCase { id: case.id, pseudonym: case.pseudonym, created_at_ms: case.created_at_ms, due_at_ms, last_kept })
}

fn not_due(due_at_ms: i64) -> CaseError {
    let day = time::OffsetDateTime::from_unix_timestamp(due_at_ms / 1000).map(|at| at.date().to_string()).unwrap_or_default();
    CaseError::invalid("decision", format!("This case is not due for review until {day}"))
}

type Reviewed<'t> = (sqlx::Transaction<'t, sqlx::Any>, VictimCase, Option<i64>, Option<(i64, RetainReason)>);

/// Loads the case and its last decision, and applies the policy (a refusal
/// is audited and committed).
async fn authorise_review<'t>(mut transaction: sqlx::Transaction<'t, sqlx::Any>, caller: &Caller, id: &VictimId) -> CaseResult<Reviewed<'t>> {
    let case = rows::load_victims(&mut transaction, std::slice::from_ref(id)).await?.into_iter().next().ok_or(CaseError::NotFound)?;
    let decision = may_on_victim(&caller.actor, &caller.user_id, VictimAction::ReviewRetention, &case.access());
    let mut transaction = enforce(transaction, caller, Subject { kind: AuditRecordKind::Victim, id: id.as_str() }, decision).await?;
    let last: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT decided_at, reason, next_review_at FROM retention_reviews WHERE record_kind = $1 AND record_id = $2")
            .bind(VICTIM_CASE)
            .bind(id.as_str())
            .fetch_optional(&mut *transaction)
            .await?;
    let next_review_at = last.as_ref().map(|(_, _, next)| *next);
    let last_kept = last.and_then(|(decided_at, reason, _)| RetainReason::parse(&reason).map(|reason| (decided_at, reason)));
    Ok((transaction, case, next_review_at, last_kept))
}

/// Keeps a due case for `reason` until a review period from now; returns
/// its pseudonym and the next review's time.
pub async fn retain_case(
    store: &Store,
    caller: &Caller,
    id: &VictimId,
    reason: RetainReason,
    periods: &ReviewPeriods,
    now_ms: i64,
) -> CaseResult<(String, i64)> {
    let (_turn, transaction) = store.begin_write().await?;
    let (mut transaction, case, next_review_at, _) = authorise_review(transaction, caller, id).await?;
    let due_at_ms = due_at(case.created_at_ms, next_review_at, periods);
    if due_at_ms > now_ms {
        return Err(not_due(due_at_ms));
    }
    let next = add_months(now_ms, periods.victim_cases_months);
    sqlx::query(
        "INSERT INTO retention_reviews (record_kind, record_id, decided_by, decided_at, reason, next_review_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (record_kind, record_id) DO UPDATE SET decided_by = excluded.decided_by, decided_at = excluded.decided_at, \
         reason = excluded.reason, next_review_at = excluded.next_review_at",
    )
    .bind(VICTIM_CASE)
    .bind(id.as_str())
    .bind(caller.user_id.as_str())
    .bind(now_ms)
    .bind(reason.code())
    .bind(next)
    .execute(&mut *transaction)
    .await?;
    let because = format!("{}: {}", case.pseudonym, reason.label());
    record(&mut transaction, caller, AuditAction::RetentionRetain, Subject { kind: AuditRecordKind::Victim, id: id.as_str() }, Some(&because)).await?;
    transaction.commit().await?;
    Ok((case.pseudonym, next))
}

/// Deletes a due case and everything that holds the person, for `reason`,
/// and erases the bytes (see the module's note); returns its pseudonym.
pub async fn delete_case(store: &Store, caller: &Caller, id: &VictimId, reason: DeleteReason, periods: &ReviewPeriods, now_ms: i64) -> CaseResult<String> {
    let (turn, transaction) = store.begin_write().await?;
    let (mut transaction, case, next_review_at, _) = authorise_review(transaction, caller, id).await?;
    let due_at_ms = due_at(case.created_at_ms, next_review_at, periods);
    if due_at_ms > now_ms {
        return Err(not_due(due_at_ms));
    }
    if store.backend == Backend::Sqlite {
        // Freed cells and pages are overwritten with zeros as they are freed.
        sqlx::query("PRAGMA secure_delete = ON").execute(&mut *transaction).await?;
    }
    let statements = [
        "DELETE FROM support_given WHERE support_referral_id IN (SELECT id FROM support_referrals WHERE victim_id = $1)",
        "DELETE FROM support_referrals WHERE victim_id = $1",
        "DELETE FROM nrm_referrals WHERE victim_id = $1",
        "DELETE FROM victim_links WHERE victim_id = $1",
        "DELETE FROM retention_reviews WHERE record_kind = 'victim_case' AND record_id = $1",
        "DELETE FROM potential_victims WHERE id = $1",
    ];
    for statement in statements {
        sqlx::query(statement).bind(id.as_str()).execute(&mut *transaction).await?;
    }
    let because = format!("{}: {}", case.pseudonym, reason.label());
    record(&mut transaction, caller, AuditAction::RetentionDelete, Subject { kind: AuditRecordKind::Victim, id: id.as_str() }, Some(&because)).await?;
    if store.backend == Backend::Sqlite {
        sqlx::query("PRAGMA secure_delete = OFF").execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    drop(turn);
    store.erase_freed_space(&VICTIM_TABLES).await?;
    Ok(case.pseudonym)
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
    /// rows.
    pub(crate) async fn erase_freed_space(&self, tables: &[&str]) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.write_pool).await?;
            }
            Backend::Postgres => {
                sqlx::query(&format!("VACUUM (FULL) {}", tables.join(", "))).execute(&self.pool).await?;
            }
        }
        Ok(())
    }
}
