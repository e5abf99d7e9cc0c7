//! Group commit for public reports: one task owns the report write path and
//! commits every report waiting in its queue in one durable transaction.
//!
//! A durable commit costs a flush to disk (an fsync on SQLite with
//! `synchronous=FULL`, a WAL flush on PostgreSQL). Paying it once per report
//! caps intake at the disk's flush rate; paying it once per batch shares it
//! between every report that arrived while the previous batch was being
//! written, without weakening durability: a caller still receives its
//! `Receipt` only after the transaction holding its report has committed.
//!
//! Batches form by themselves: the writer takes whatever is queued (up to
//! `max_batch`) whenever it is free, so a lone report is written at once and
//! a burst is written in a few transactions. The audit chain stays strictly
//! sequential because each report's entry is appended in order inside the
//! batch's transaction, exactly as `Store::insert_report` appends it.

use std::collections::HashMap;
use std::future::Future;

use aidant_core::report::SubmissionToken;
use aidant_core::{NewReport, ReportRef, Triage};
use rand::RngCore;
use sqlx::{Any, Transaction};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::audit::{AuditEvent, append_all};
use crate::reports::{Receipt, ReferenceSource, Submission, earlier_receipt_from_row, report_created};
use crate::{Store, StoreError};

/// A parsed and triaged report with everything stored beside it, owned so it
/// can wait in the writer's queue after the request that carried it has
/// moved on.
#[derive(Debug, Clone)]
pub struct OwnedSubmission {
    pub report: NewReport,
    pub triage: Triage,
    pub catalogue_version: String,
    /// One token per draft: a repeated submission returns the first receipt.
    pub submission_token: Option<SubmissionToken>,
    /// An Argon2id hash of the reporter's keep-in-contact passphrase.
    pub passphrase_hash: Option<String>,
}

impl OwnedSubmission {
    /// The borrowed form the row writer takes.
    pub fn as_submission(&self) -> Submission<'_> {
        Submission {
            report: &self.report,
            triage: &self.triage,
            catalogue_version: &self.catalogue_version,
            submission_token: self.submission_token.as_ref(),
            passphrase_hash: self.passphrase_hash.as_deref(),
        }
    }
}

/// How the writer queues and groups reports.
#[derive(Debug, Clone)]
pub struct ReportWriterOptions {
    /// How many submissions may wait for the writer; when the queue is full,
    /// `submit` waits for room, which slows callers instead of growing
    /// memory without bound.
    pub queue_capacity: usize,
    /// The most reports committed in one transaction, which bounds how long
    /// the write lock (and the audit head row) is held at once.
    pub max_batch: usize,
}

impl Default for ReportWriterOptions {
    fn default() -> Self {
        Self { queue_capacity: 1024, max_batch: 256 }
    }
}

/// Where the writer's reference bits come from; owned by the writer's task.
/// Tests pass a fixed sequence to force reference collisions.
pub type OwnedReferenceSource = Box<dyn FnMut() -> u64 + Send>;

/// A submission waiting in the queue, with the channel its answer goes back on.
struct PendingReport {
    submission: OwnedSubmission,
    reply: oneshot::Sender<Result<Receipt, StoreError>>,
}

/// The handle to a running group-commit writer. Dropping the handle (or
/// calling `close`) stops it accepting new reports; it still writes and
/// answers everything already queued before its task ends.
pub struct ReportWriter {
    sender: mpsc::Sender<PendingReport>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ReportWriter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ReportWriter").field("queued", &(self.sender.max_capacity() - self.sender.capacity())).finish_non_exhaustive()
    }
}

impl ReportWriter {
    /// Starts the writer on the current Tokio runtime, with references drawn
    /// from the operating system's random source.
    pub fn spawn(store: Store, options: ReportWriterOptions) -> Self {
        Self::spawn_with_reference_source(store, options, Box::new(|| rand::rng().next_u64()))
    }

    /// Starts the writer with a given source of reference bits.
    pub fn spawn_with_reference_source(store: Store, options: ReportWriterOptions, next_reference_bits: OwnedReferenceSource) -> Self {
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let task = tokio::spawn(run_writer(store, receiver, options.max_batch.max(1), next_reference_bits));
        Self { sender, task }
    }

    /// Queues a report and resolves once the transaction holding it has
    /// committed durably (or failed). The returned future owns what it
    /// needs, so it can be spawned and outlive a borrow of the writer.
    pub fn submit(&self, submission: OwnedSubmission) -> impl Future<Output = Result<Receipt, StoreError>> + Send + 'static {
        let sender = self.sender.clone();
        async move {
            let (reply, answer) = oneshot::channel();
            sender.send(PendingReport { submission, reply }).await.map_err(|_| writer_stopped())?;
            // Holding no sender while waiting lets `close` finish as soon as
            // the queue is drained.
            drop(sender);
            answer.await.map_err(|_| writer_stopped())?
        }
    }

    /// Stops accepting reports, writes everything already queued, and
    /// returns when the last batch has been committed and answered.
    pub async fn close(self) {
        drop(self.sender);
        if let Err(error) = self.task.await {
            tracing::error!(error = %error, "the report writer stopped abnormally");
        }
    }
}

/// The error a caller sees when the writer is no longer running: as when the
/// pool is closed, nothing was stored.
fn writer_stopped() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn run_writer(store: Store, mut receiver: mpsc::Receiver<PendingReport>, max_batch: usize, mut next_reference_bits: OwnedReferenceSource) {
    let mut batch = Vec::with_capacity(max_batch);
    // `recv_many` waits for at least one report and then takes whatever else
    // is already queued; it returns 0 only once every handle is gone and the
    // queue is empty, which is the clean stop.
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        write_batch(&store, std::mem::take(&mut batch), &mut *next_reference_bits).await;
        // Between batches, once the batch's waiters have their answers.
        store.restart_log_if_due().await;
    }
}

/// Writes a batch in one transaction and answers every waiter. If anything
/// in the batch fails (a reference collision, a token another process
/// inserted meanwhile, a report that cannot be sealed, even a failed commit),
/// the whole transaction is rolled back and each report is written again on
/// its own, so one bad report fails only itself. Retrying after a failed
/// commit can at worst store a token-less report twice, which is preferable
/// to losing it; reports with a token are found again by their token.
async fn write_batch(store: &Store, batch: Vec<PendingReport>, next_reference_bits: ReferenceSource<'_>) {
    let batch_size = batch.len();
    match write_together(store, &batch, next_reference_bits).await {
        Ok(receipts) => {
            tracing::debug!(reports = batch_size, "report batch committed");
            for (pending, receipt) in batch.into_iter().zip(receipts) {
                // A waiter that has gone away (its request timed out) still
                // has its report stored; there is no one left to tell.
                let _ = pending.reply.send(Ok(receipt));
            }
        }
        Err(error) => {
            tracing::warn!(
                reports = batch_size,
                error = %error,
                "a report batch failed; writing its reports one at a time"
            );
            for pending in batch {
                let result = store.insert_report(&pending.submission.as_submission(), next_reference_bits).await;
                let _ = pending.reply.send(result);
            }
        }
    }
}

/// One transaction for the whole batch; receipts in the batch's order.
async fn write_together(store: &Store, batch: &[PendingReport], next_reference_bits: ReferenceSource<'_>) -> Result<Vec<Receipt>, StoreError> {
    // Looked up before the transaction begins, so that on SQLite the
    // transaction's first statement is a write and it takes the write lock
    // at once rather than upgrading a read snapshot (which can fail with
    // SQLITE_BUSY instead of waiting).
    let earlier_receipts = receipts_for_tokens(store, batch).await?;
    let (_turn, mut transaction) = store.begin_write().await?;
    match write_rows(&mut transaction, store, batch, &earlier_receipts, next_reference_bits).await {
        Ok(receipts) => {
            transaction.commit().await?;
            Ok(receipts)
        }
        Err(error) => {
            transaction.rollback().await?;
            Err(error)
        }
    }
}

async fn write_rows(
    transaction: &mut Transaction<'_, Any>,
    store: &Store,
    batch: &[PendingReport],
    earlier_receipts: &HashMap<String, Receipt>,
    next_reference_bits: ReferenceSource<'_>,
) -> Result<Vec<Receipt>, StoreError> {
    /// What becomes of each report of the batch.
    enum Fate {
        /// Stored before, under the same token.
        Earlier(Receipt),
        /// A repeat of the report at this position in the batch.
        Repeat(usize),
        /// Written now, as the `usize`-th new report.
        New(usize),
    }
    // Which position in this batch each token was first written at, so a
    // repeat inside the batch returns its receipt instead of a second row.
    let mut first_with_token: HashMap<&str, usize> = HashMap::new();
    let mut fates = Vec::with_capacity(batch.len());
    let mut submissions = Vec::with_capacity(batch.len());
    let mut references = Vec::with_capacity(batch.len());
    for (position, pending) in batch.iter().enumerate() {
        let token = pending.submission.submission_token.as_ref().map(SubmissionToken::as_str);
        if let Some(token) = token {
            if let Some(receipt) = earlier_receipts.get(token) {
                fates.push(Fate::Earlier(receipt.clone()));
                continue;
            }
            if let Some(&first) = first_with_token.get(token) {
                fates.push(Fate::Repeat(first));
                continue;
            }
            first_with_token.insert(token, position);
        }
        fates.push(Fate::New(submissions.len()));
        submissions.push(pending.submission.as_submission());
        references.push(ReportRef::from_random(next_reference_bits()));
    }
    let rows: Vec<(&Submission<'_>, &ReportRef)> = submissions.iter().zip(&references).collect();
    let written = crate::reports::insert_reports_rows(transaction, store, &rows).await?;
    let mut receipts: Vec<Receipt> = Vec::with_capacity(batch.len());
    for fate in fates {
        let receipt = match fate {
            Fate::Earlier(receipt) => receipt,
            Fate::Repeat(first) => Receipt { created: false, ..receipts[first].clone() },
            Fate::New(index) => Receipt { report_id: written[index].0.clone(), reference: references[index].clone(), created: true },
        };
        receipts.push(receipt);
    }
    // Queued for the entity worker together, in the batch's transaction.
    let created_ids: Vec<&str> = receipts.iter().filter(|receipt| receipt.created).map(|receipt| receipt.report_id.as_str()).collect();
    crate::entities::enqueue_all(transaction, crate::entities::JobRecord::Report, &created_ids, crate::now_ms()).await?;
    // The batch's audit entries together: one claim on the head row for all.
    let created: Vec<AuditEvent<'_>> = receipts.iter().filter(|receipt| receipt.created).map(|receipt| report_created(&receipt.report_id)).collect();
    append_all(transaction, &created).await?;
    // The search documents last, in few statements: SQLite's full-text
    // index writes its pending words to disk as a new segment at every
    // statement that opens a statement journal after it has been written
    // to, so indexing report by report made a segment per report and
    // merging them cost more with every report stored (intake fell below
    // 700 a second by 200,000 reports). Last, it is one segment per batch.
    let documents: Vec<(&str, &str)> = written.iter().map(|(id, text)| (aidant_core::ids::ReportId::as_str(id), String::as_str(text))).collect();
    crate::search::index_new_reports(transaction, &documents).await?;
    Ok(receipts)
}

/// The receipts of reports already stored under any of the batch's tokens,
/// in one query.
async fn receipts_for_tokens(store: &Store, batch: &[PendingReport]) -> Result<HashMap<String, Receipt>, StoreError> {
    let tokens: Vec<&str> = batch.iter().filter_map(|pending| pending.submission.submission_token.as_ref().map(SubmissionToken::as_str)).collect();
    if tokens.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = crate::bind_list(tokens.len());
    // `IS NOT NULL` lets SQLite use the index of tokens that exist (see
    // migration 0014); PostgreSQL's statistics count NULLs apart anyway.
    let statement = format!("SELECT id, reference, submission_token FROM reports WHERE submission_token IS NOT NULL AND submission_token IN ({placeholders})");
    let mut query = sqlx::query(&statement);
    for token in &tokens {
        query = query.bind(*token);
    }
    let rows = query.fetch_all(&store.pool).await?;
    let mut receipts = HashMap::with_capacity(rows.len());
    for row in &rows {
        let token: String = sqlx::Row::try_get(row, "submission_token")?;
        receipts.insert(token, earlier_receipt_from_row(row)?);
    }
    Ok(receipts)
}
