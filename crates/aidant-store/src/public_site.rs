//! Storage for the public site: sealed drafts of reports in progress,
//! messages added to a report after it was made, the keep-in-contact
//! lockout counters, and anonymous feedback.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{ReportId, UserId};
use sqlx::{AnyConnection, Row};

use crate::audit::AuditEvent;
use crate::{Store, StoreError, new_id, now_ms};

/// How long a draft lives without being saved again.
pub const DRAFT_LIFETIME_MS: i64 = 4 * 60 * 60 * 1000;

/// Failed keep-in-contact sign-ins in a row before a report is paused for a
/// while. Guesses are slowed per source before this (the web tier's growing
/// delays), so the pause is the last line against guessing from many
/// sources, and high enough that one source cannot use it to shut a
/// reporter out (it would take about two hours of waiting to reach it).
pub const FOLLOW_UP_ATTEMPTS: i64 = 20;
/// How long the lock lasts.
pub const FOLLOW_UP_LOCK_MS: i64 = 15 * 60 * 1000;

/// Who wrote a message on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Reporter,
    Staff,
}

impl Author {
    fn as_str(self) -> &'static str {
        match self {
            Author::Reporter => "reporter",
            Author::Staff => "staff",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMessage {
    pub author: Author,
    pub body: String,
    pub created_at_ms: i64,
}

/// What a keep-in-contact sign-in may proceed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUpAccess {
    /// No such report, or it has no passphrase.
    Unknown,
    /// Too many failures: try again after this time.
    Locked { until_ms: i64 },
    /// Check the passphrase against this hash.
    Check { report_id: ReportId, passphrase_hash: String },
}

fn draft_binding(draft_id: &str) -> String {
    format!("draft:{draft_id}:answers")
}

impl Store {
    /// Starts a draft holding `answers` (already serialised), sealed.
    pub async fn create_draft(&self, answers: &[u8]) -> Result<String, StoreError> {
        let id = new_id();
        let sealed = self.keyring()?.seal(answers, &draft_binding(&id));
        let now = now_ms();
        sqlx::query("INSERT INTO report_drafts (id, sealed_answers, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(sealed)
            .bind(now)
            .bind(now + DRAFT_LIFETIME_MS)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// The draft's answers, or `None` if it expired or never existed.
    pub async fn load_draft(&self, draft_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT sealed_answers FROM report_drafts WHERE id = $1 AND expires_at > $2")
            .bind(draft_id)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("sealed_answers")?;
        Ok(Some(self.keyring()?.open(&sealed, &draft_binding(draft_id))?))
    }

    /// Replaces the draft's answers and extends its life. False if it expired.
    pub async fn save_draft(&self, draft_id: &str, answers: &[u8]) -> Result<bool, StoreError> {
        let sealed = self.keyring()?.seal(answers, &draft_binding(draft_id));
        let now = now_ms();
        let result = sqlx::query("UPDATE report_drafts SET sealed_answers = $1, expires_at = $2 WHERE id = $3 AND expires_at > $4")
            .bind(sealed)
            .bind(now + DRAFT_LIFETIME_MS)
            .bind(draft_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Discards a draft (quick exit, or after submission).
    pub async fn delete_draft(&self, draft_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM report_drafts WHERE id = $1").bind(draft_id).execute(&self.pool).await?;
        Ok(())
    }

    /// Removes expired drafts; returns how many.
    pub async fn purge_expired_drafts(&self) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM report_drafts WHERE expires_at <= $1").bind(now_ms()).execute(&self.pool).await?;
        Ok(result.rows_affected())
    }

    /// Decides whether a keep-in-contact sign-in for this reference may be checked.
    pub async fn follow_up_access(&self, reference: &aidant_core::ReportRef) -> Result<FollowUpAccess, StoreError> {
        let row = sqlx::query("SELECT id, passphrase_hash, follow_up_locked_until FROM reports WHERE reference = $1")
            .bind(reference.as_compact())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(FollowUpAccess::Unknown) };
        let hash: Option<String> = row.try_get("passphrase_hash")?;
        let Some(passphrase_hash) = hash else { return Ok(FollowUpAccess::Unknown) };
        let locked_until: i64 = row.try_get("follow_up_locked_until")?;
        if locked_until > now_ms() {
            return Ok(FollowUpAccess::Locked { until_ms: locked_until });
        }
        Ok(FollowUpAccess::Check { report_id: crate::named(&row, "id")?, passphrase_hash })
    }

    /// Records the outcome of a passphrase check: success resets the count;
    /// the fifth failure in a row locks the report for a while.
    pub async fn record_follow_up_attempt(&self, report_id: &ReportId, succeeded: bool) -> Result<(), StoreError> {
        let report_id = report_id.as_str();
        if succeeded {
            sqlx::query("UPDATE reports SET follow_up_failures = 0 WHERE id = $1").bind(report_id).execute(&self.pool).await?;
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        let row = sqlx::query("UPDATE reports SET follow_up_failures = follow_up_failures + 1 WHERE id = $1 RETURNING follow_up_failures")
            .bind(report_id)
            .fetch_one(&mut *transaction)
            .await?;
        let failures: i64 = row.try_get("follow_up_failures")?;
        if failures >= FOLLOW_UP_ATTEMPTS {
            sqlx::query("UPDATE reports SET follow_up_failures = 0, follow_up_locked_until = $1 WHERE id = $2")
                .bind(now_ms() + FOLLOW_UP_LOCK_MS)
                .bind(report_id)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Adds a message to a report, audited in the same transaction.
    pub async fn add_report_message(&self, report_id: &ReportId, author: Author, author_user_id: Option<&UserId>, body: &str) -> Result<(), StoreError> {
        let author_user_id = author_user_id.map(UserId::as_str);
        let report_id = report_id.as_str();
        let id = new_id();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO report_messages (id, report_id, author_kind, author_user_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(report_id)
            .bind(author.as_str())
            .bind(author_user_id)
            .bind(body)
            .bind(now_ms())
            .execute(&mut *transaction)
            .await?;
        if author == Author::Reporter {
            // What a reporter adds later is found by search like what they
            // first wrote (staff replies are not: they are our own words).
            crate::search::append_to_report_document(&mut transaction, report_id, body).await?;
            // Marked unread in every list until a member of staff opens the report.
            sqlx::query("UPDATE reports SET unread_messages = unread_messages + 1 WHERE id = $1").bind(report_id).execute(&mut *transaction).await?;
            crate::entities::enqueue(&mut transaction, crate::entities::JobRecord::ReportMessage, &id, now_ms()).await?;
        }
        let actor = author_user_id.map_or(AuditActor::Public, AuditActor::user);
        let action = match author {
            Author::Reporter => AuditAction::ReportReporterMessage,
            Author::Staff => AuditAction::ReportStaffReply,
        };
        crate::audit::append(&mut transaction, &AuditEvent { actor: &actor, action, record_kind: AuditRecordKind::Report, record_id: report_id, reason: None })
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// A report's messages, oldest first.
    pub async fn report_messages(&self, report_id: &ReportId) -> Result<Vec<ReportMessage>, StoreError> {
        load_report_messages(&mut *self.pool.acquire().await?, report_id).await
    }

    /// Stores anonymous feedback on the service.
    pub async fn add_feedback(&self, satisfaction: Option<&str>, body: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO feedback (id, received_at, satisfaction, body) VALUES ($1, $2, $3, $4)")
            .bind(new_id())
            .bind(now_ms())
            .bind(satisfaction)
            .bind(body)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn count_feedback(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM feedback").fetch_one(&self.pool).await?)
    }
}

/// How long a keep-in-contact sign-in lasts.
pub const FOLLOW_UP_SESSION_MS: i64 = 30 * 60 * 1000;

const FOLLOW_UP_BINDING: &str = "follow-up-session";

impl Store {
    /// A token proving a keep-in-contact sign-in to one report until it
    /// expires: the report id and expiry, sealed with the master key, so it
    /// needs no table and cannot be forged or altered.
    pub fn follow_up_token(&self, report_id: &ReportId) -> Result<String, StoreError> {
        let expires_at = now_ms() + FOLLOW_UP_SESSION_MS;
        let sealed = self.keyring()?.seal(format!("{expires_at}|{report_id}").as_bytes(), FOLLOW_UP_BINDING);
        Ok(hex::encode(sealed))
    }

    /// The report a token signs in to, if the token is genuine and unexpired.
    pub fn open_follow_up_token(&self, token: &str) -> Option<ReportId> {
        let sealed = hex::decode(token).ok()?;
        let plaintext = self.keyring().ok()?.open(&sealed, FOLLOW_UP_BINDING).ok()?;
        let text = String::from_utf8(plaintext).ok()?;
        let (expires_at, report_id) = text.split_once('|')?;
        if expires_at.parse::<i64>().ok()? <= now_ms() {
            return None;
        }
        report_id.parse().ok()
    }
}

/// A report's messages, oldest first, on a connection or in a transaction.
pub(crate) async fn load_report_messages(connection: &mut AnyConnection, report_id: &ReportId) -> Result<Vec<ReportMessage>, StoreError> {
    let report_id = report_id.as_str();
    let rows = sqlx::query("SELECT author_kind, body, created_at FROM report_messages WHERE report_id = $1 ORDER BY created_at, id")
        .bind(report_id)
        .fetch_all(&mut *connection)
        .await?;

    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("author_kind")?;
            let author = match kind.as_str() {
                "reporter" => Author::Reporter,
                "staff" => Author::Staff,
                other => return Err(StoreError::Corrupt(format!("unknown message author kind '{other}'"))),
            };
            Ok(ReportMessage { author, body: row.try_get("body")?, created_at_ms: row.try_get("created_at")? })
        })
        .collect()
}
