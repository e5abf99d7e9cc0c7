//! Entities: the phones, vehicles, addresses, businesses, emails and online
//! accounts that reports, intelligence records and reporters' later messages
//! mention, found in the background and kept as rows.
//!
//! A record is queued (`entity_jobs`) in the transaction that commits it, so
//! no committed record is missed and none is queued that was not committed.
//! The worker (`Store::work_entity_jobs`) takes queued jobs, reads each
//! record, finds its values (`aidant_link::mentions`), and in one transaction
//! writes the entities, the mentions, one audit entry per record and deletes
//! the jobs. A job that fails is put back with a later time to run, and after
//! [`MAX_ATTEMPTS`] is parked with its error, never holding up the others.
//! Retrying writes nothing twice: a mention's key is the entity, the record
//! and the field.
//!
//! An entity's value is sealed; it is found by a keyed hash of its kind and
//! normal form (a blind index), so neither the index nor a copy of the table
//! reads as a list of phone numbers. Its id never changes: a rebuild finds
//! the same row by the same hash.
//!
//! Who may see an entity is not decided here: the use cases (`cases::entities`)
//! show an entity only through the records that mention it and that the
//! viewer may see.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{EntityId, IntelligenceId, ReportId};
use aidant_link::mentions::{FoundValue, RecordFields, values_of_record};
pub use aidant_link::mentions::{TextValue, ValueKind, values_in_text};
use rand::RngCore;
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::audit::{AuditEvent, append_all};
use crate::link_records::{BlindIndex, LinkError, values_list};
use crate::people::{NamedPerson, person_key};
use crate::{Backend, Store, StoreError, bind_list, new_id, now_ms};

/// After this many failed attempts a job is parked for an administrator.
pub const MAX_ATTEMPTS: i64 = 6;
/// The first retry waits this long; each later one twice as long.
const FIRST_RETRY_MS: i64 = 2_000;
/// Jobs taken into one transaction.
pub const JOBS_PER_TRANSACTION: usize = 64;

/// The kind of record a job reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRecord {
    Report,
    Intelligence,
    /// A reporter's later message; what it mentions is filed under its
    /// report, so it is seen by whoever may see the report.
    ReportMessage,
}

impl JobRecord {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobRecord::Report => "report",
            JobRecord::Intelligence => "intelligence",
            JobRecord::ReportMessage => "report_message",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [JobRecord::Report, JobRecord::Intelligence, JobRecord::ReportMessage].into_iter().find(|kind| kind.as_str() == text)
    }

    fn audit_kind(self) -> AuditRecordKind {
        match self {
            JobRecord::Report => AuditRecordKind::Report,
            JobRecord::Intelligence => AuditRecordKind::Intelligence,
            JobRecord::ReportMessage => AuditRecordKind::ReportMessage,
        }
    }
}

/// The kind of record a mention is in: what the policy is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MentionRecord {
    Report,
    Intelligence,
}

impl MentionRecord {
    pub fn as_str(self) -> &'static str {
        match self {
            MentionRecord::Report => "report",
            MentionRecord::Intelligence => "intelligence",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "report" => Ok(MentionRecord::Report),
            "intelligence" => Ok(MentionRecord::Intelligence),
            other => Err(StoreError::Corrupt(format!("a mention in a record of unknown kind {other:?}"))),
        }
    }
}

/// Queues a record for the worker inside the transaction that commits it.
pub(crate) async fn enqueue(transaction: &mut Transaction<'_, Any>, record: JobRecord, record_id: &str, now: i64) -> Result<(), StoreError> {
    enqueue_all(transaction, record, &[record_id], now).await
}

/// Queues records of one kind together (multi-row inserts).
pub(crate) async fn enqueue_all(transaction: &mut Transaction<'_, Any>, record: JobRecord, record_ids: &[&str], now: i64) -> Result<(), StoreError> {
    for chunk in record_ids.chunks(400) {
        let values: Vec<String> = (0..chunk.len()).map(|row| format!("(${}, $1, ${}, 0, $2, 0, NULL, $2)", row * 2 + 3, row * 2 + 4)).collect();
        let statement =
            format!("INSERT INTO entity_jobs (id, record_kind, record_id, attempts, run_after, parked, last_error, created_at) VALUES {}", values.join(", "));
        let mut query = sqlx::query(&statement).bind(record.as_str()).bind(now);
        for record_id in chunk {
            query = query.bind(new_id()).bind(*record_id);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

/// The blind index key, and whether people are being linked, shared by
/// every clone of a `Store`.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntityIndexCache {
    index: Arc<Mutex<Option<Arc<BlindIndex>>>>,
    people_linked: Arc<AtomicBool>,
}

/// The probability at which the worker's resolver links two records of
/// people: high, because a wrong link puts one person's records on
/// another's page, while a missed one an analyst can make ("same person").
pub const PEOPLE_LINK_PROBABILITY: f64 = 0.9;

const INDEX_KEY_ID: &str = "entities";

fn index_key_binding() -> String {
    format!("entity_index_keys:{INDEX_KEY_ID}:key")
}

pub(crate) fn value_binding(kind: ValueKind, value_hash: i64, part: &str) -> String {
    format!("entities:{kind}:{value_hash}:{part}")
}

/// What one run of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobRun {
    /// Records read and their entities written.
    pub done: usize,
    /// Jobs that failed and will be tried again later.
    pub retried: usize,
    /// Jobs that failed for the last time and were parked.
    pub parked: usize,
}

impl JobRun {
    pub fn total(&self) -> usize {
        self.done + self.retried + self.parked
    }
}

/// A queued job as claimed.
#[derive(Debug, Clone)]
struct Job {
    id: String,
    /// `None` for a kind this build does not know, which fails and is parked.
    record: Option<JobRecord>,
    record_kind: String,
    record_id: String,
    attempts: i64,
}

impl Job {
    fn audit_kind(&self) -> AuditRecordKind {
        self.record.map_or(AuditRecordKind::Workspace, JobRecord::audit_kind)
    }
}

/// A parked job, for administrators: which record, how often it was tried
/// and the last error (which names no person: errors name ids and kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedJob {
    pub id: String,
    pub record_kind: String,
    pub record_id: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub queued_at_ms: i64,
}

/// Counts of the queue, for administrators and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub waiting: i64,
    pub parked: i64,
}

/// An entity as stored, its value opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub id: EntityId,
    pub kind: ValueKind,
    /// The normal form (`+447700900123`, `LJ15XKR`, `LU1 2AB`).
    pub value: String,
    /// As first written, for reading. A person's label is the name one
    /// record gave; pages show a person by a name the viewer may read
    /// (`cases::people`).
    pub label: String,
    pub created_at_ms: i64,
    /// A person found to be another: that one's id.
    pub merged_into: Option<EntityId>,
}

/// A record's field that mentions an entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub entity_id: EntityId,
    pub record: MentionRecord,
    pub record_id: String,
    pub field: String,
    pub seen_at_ms: i64,
    pub confidence: f64,
}

/// What one record yields: the mentions to write under which record.
struct Derived {
    record: MentionRecord,
    record_id: String,
    seen_at_ms: i64,
    values: Vec<FoundValue>,
    truncated: bool,
    /// The people the record names, linked by the worker.
    people: Vec<NamedPerson>,
}

/// Why a job failed. Messages name kinds and ids, never what a record says.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the job names a record of unknown kind {0:?}")]
    UnknownKind(String),
    #[error("linking the people the record names: {0}")]
    Link(#[from] LinkError),
    /// A record of the batch could not be read before the write turn.
    #[error("a record of the batch could not be read")]
    Unread,
}

impl From<sqlx::Error> for JobError {
    fn from(error: sqlx::Error) -> Self {
        JobError::Store(StoreError::Database(error))
    }
}

impl Store {
    /// The blind index over entity values, created on first use.
    pub(crate) async fn entity_index(&self) -> Result<Arc<BlindIndex>, StoreError> {
        if let Some(index) = self.entity_index.index.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone() {
            return Ok(index);
        }
        let keyring = self.keyring()?;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        sqlx::query("INSERT INTO entity_index_keys (id, key_sealed) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(INDEX_KEY_ID)
            .bind(keyring.seal(&key, &index_key_binding()))
            .execute(&self.pool)
            .await?;
        let sealed: Vec<u8> = sqlx::query_scalar("SELECT key_sealed FROM entity_index_keys WHERE id = $1").bind(INDEX_KEY_ID).fetch_one(&self.pool).await?;
        let key = keyring.open(&sealed, &index_key_binding())?;
        let index = Arc::new(BlindIndex::new(&key).map_err(|_| StoreError::Corrupt("the entity index key has no usable length".to_owned()))?);
        *self.entity_index.index.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(index.clone());
        Ok(index)
    }

    /// The keyed hash an entity of `kind` with normal form `value` is found by.
    async fn value_hash(&self, kind: ValueKind, value: &str) -> Result<i64, StoreError> {
        Ok(self.entity_index().await?.hash(&[b"entity\0", kind.as_str().as_bytes(), b"\0", value.as_bytes()]))
    }

    /// Runs up to `max` jobs whose time has come: all in one transaction
    /// when they succeed, and otherwise each alone, so one record that cannot
    /// be read fails only itself.
    pub async fn work_entity_jobs(&self, max: usize) -> Result<JobRun, StoreError> {
        let run = self.work_entity_jobs_once(max).await;
        // Between transactions that wrote, the worker restarts SQLite's log
        // when it is due (an idle poll leaves it to the checkpointer).
        if run.as_ref().is_ok_and(|run| run.total() > 0) {
            self.restart_log_if_due().await;
        }
        run
    }

    async fn work_entity_jobs_once(&self, max: usize) -> Result<JobRun, StoreError> {
        let index = self.entity_index().await?;
        // Which jobs are ready, and what their records mention, are read
        // before the write turn is taken: reading takes no lock (SQLite's
        // log, PostgreSQL's snapshots), so public reports are not held back
        // while the worker reads a batch of records, and an idle worker
        // never takes the write lock while staff read pages. Only the jobs
        // still queued once the turn comes are written.
        let ready = peek(&self.pool, max).await?;
        if ready.is_empty() {
            return Ok(JobRun::default());
        }
        self.ensure_people_linked().await?;
        let read = self.derive_all(&ready).await;
        let (turn, mut transaction) = self.begin_write().await?;
        let jobs = claim(&mut transaction, self.backend, &ready).await?;
        if jobs.is_empty() {
            transaction.commit().await?;
            return Ok(JobRun::default());
        }
        // A record that could not be read fails the batch: each job is then
        // tried alone below, so it fails only itself.
        let outcome = match read {
            Some(mut read) => {
                let derived = jobs.iter().map(|job| read.remove(&job.id).flatten()).collect();
                self.run_jobs(&mut transaction, &index, &jobs, Some(derived)).await
            }
            None => Err(JobError::Unread),
        };
        match outcome {
            Ok(()) => {
                transaction.commit().await?;
                return Ok(JobRun { done: jobs.len(), ..JobRun::default() });
            }
            Err(_) if jobs.len() > 1 => transaction.rollback().await?,
            Err(JobError::Unread) => {
                // Read again inside a transaction of its own, for the error.
                transaction.rollback().await?;
            }
            Err(error) => {
                transaction.rollback().await?;
                drop(turn);
                return self.fail_job(&jobs[0], &error).await;
            }
        }
        drop(turn);
        let mut run = JobRun::default();
        for job in &jobs {
            let (_turn, mut transaction) = self.begin_write().await?;
            // Taken again: another worker may have run it meanwhile.
            let Some(job) = claim_one(&mut transaction, self.backend, &job.id).await? else {
                transaction.commit().await?;
                continue;
            };
            match self.run_jobs(&mut transaction, &index, std::slice::from_ref(&job), None).await {
                Ok(()) => {
                    transaction.commit().await?;
                    run.done += 1;
                }
                Err(error) => {
                    transaction.rollback().await?;
                    let failed = self.fail_job(&job, &error).await?;
                    run.retried += failed.retried;
                    run.parked += failed.parked;
                }
            }
        }
        Ok(run)
    }

    /// Starts the people resolver with the configured model (`Store::with_people_model`), or
    /// the reference model, if no one has
    /// (once per database; later calls read a flag).
    async fn ensure_people_linked(&self) -> Result<(), StoreError> {
        if self.entity_index.people_linked.load(Ordering::Relaxed) {
            return Ok(());
        }
        let ready: Option<i64> = sqlx::query_scalar("SELECT ready FROM link_resolver WHERE id = 'people'").fetch_optional(&self.pool).await?;
        if ready.is_none() {
            let clustering = aidant_link::cluster::ClusterConfig { threshold_probability: PEOPLE_LINK_PROBABILITY, ..Default::default() };
            let max_block_size = aidant_link::blocking::BlockingConfig::default().max_block_size;
            let model = self.people_model.as_deref().cloned().unwrap_or_else(aidant_link::reference_model::reference_model);
            match self.start_linking_people(&model, &clustering, max_block_size, &AuditActor::Worker).await {
                Ok(()) | Err(LinkError::AlreadyStarted) => {}
                Err(LinkError::Store(error)) => return Err(error),
                Err(other) => return Err(StoreError::Corrupt(other.to_string())),
            }
        }
        // A resolver being bulk-loaded (not ready) is left to finish: the
        // jobs that name people fail and are retried until it is.
        if ready != Some(0) {
            self.entity_index.people_linked.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Links the people each record names (inside `transaction`) and adds
    /// each as a mention of its person entity. A person linked before (a
    /// rebuild, a retry) keeps the entity the linker holds them in. Returns
    /// the merges the linker made, in order, for the person entities to
    /// follow once written.
    async fn link_people(&self, transaction: &mut Transaction<'_, Any>, derived: &mut [Derived]) -> Result<Vec<(i64, Vec<i64>)>, JobError> {
        let mut merges = Vec::new();
        for record in derived.iter_mut() {
            for person in &record.people {
                let linked: Option<i64> =
                    sqlx::query_scalar("SELECT entity_id FROM link_records WHERE record_id = $1").bind(&person.id).fetch_optional(&mut **transaction).await?;
                let entity = match linked {
                    Some(entity) => entity,
                    None => {
                        let linked = self.link_person_in(transaction, &person.person_record(), &AuditActor::Worker).await?;
                        if !linked.absorbed.is_empty() {
                            merges.push((linked.entity, linked.absorbed));
                        }
                        linked.entity
                    }
                };
                record.values.push(FoundValue {
                    kind: ValueKind::Person,
                    key: person_key(entity),
                    label: person.details.name.clone(),
                    field: person.field(),
                    confidence: 1.0,
                });
            }
        }
        Ok(merges)
    }

    /// What each job's record mentions, read on a connection of its own
    /// outside any transaction, by job id (`None` for a record that is
    /// gone); `None` altogether if any record could not be read.
    async fn derive_all(&self, jobs: &[Job]) -> Option<HashMap<String, Option<Derived>>> {
        let mut connection = self.pool.acquire().await.ok()?;
        let mut read = HashMap::with_capacity(jobs.len());
        for job in jobs {
            read.insert(job.id.clone(), derive(self, &mut connection, job).await.ok()?);
        }
        Some(read)
    }

    /// Writes what each job's record mentions (read here, inside
    /// `transaction`, unless `read` already holds it, in the jobs' order),
    /// the audit entries and the jobs' deletion.
    async fn run_jobs(
        &self,
        transaction: &mut Transaction<'_, Any>,
        index: &BlindIndex,
        jobs: &[Job],
        read: Option<Vec<Option<Derived>>>,
    ) -> Result<(), JobError> {
        let read = match read {
            Some(read) => read,
            None => {
                let mut read = Vec::with_capacity(jobs.len());
                for job in jobs {
                    read.push(derive(self, transaction, job).await?);
                }
                read
            }
        };
        let mut audit: Vec<(AuditRecordKind, String, String)> = Vec::with_capacity(jobs.len());
        let mut everything: Vec<Derived> = Vec::with_capacity(jobs.len());
        for (job, derived) in jobs.iter().zip(read) {
            let reason = match &derived {
                Some(derived) if derived.truncated => format!("{} values, the rest left out", derived.values.len()),
                Some(derived) => format!("{} values", derived.values.len()),
                None => "the record no longer exists".to_owned(),
            };
            everything.extend(derived);
            audit.push((job.audit_kind(), job.record_id.clone(), reason));
        }
        let merges = self.link_people(transaction, &mut everything).await?;
        self.write_mentions(transaction, index, &everything).await?;
        for (surviving, absorbed) in &merges {
            self.merge_person_entities(transaction, index, *surviving, absorbed).await?;
        }
        let events: Vec<AuditEvent<'_>> = audit
            .iter()
            .map(|(kind, record_id, reason)| AuditEvent::new(&AuditActor::Worker, AuditAction::EntitiesDerive, *kind, record_id).because(reason))
            .collect();
        append_all(transaction, &events).await?;
        let statement = format!("DELETE FROM entity_jobs WHERE id IN ({})", bind_list(jobs.len()));
        let mut query = sqlx::query(&statement);
        for job in jobs {
            query = query.bind(&job.id);
        }
        query.execute(&mut **transaction).await?;
        Ok(())
    }

    /// Upserts the entities the records mention and inserts the mentions:
    /// a few multi-row statements for a whole batch of records, each
    /// table's rows in key order (so two workers lock rows in one order).
    async fn write_mentions(&self, transaction: &mut Transaction<'_, Any>, index: &BlindIndex, derived: &[Derived]) -> Result<(), StoreError> {
        /// Rows per statement: 6 parameters each.
        const ROWS: usize = 300;
        let keyring = self.keyring()?;
        let now = now_ms();
        // Each distinct value once, with the label it was first written with.
        let mut values: BTreeMap<(ValueKind, i64), &FoundValue> = BTreeMap::new();
        let mut hashes: Vec<Vec<i64>> = Vec::with_capacity(derived.len());
        for record in derived {
            let mut record_hashes = Vec::with_capacity(record.values.len());
            for value in &record.values {
                let value_hash = index.hash(&[b"entity\0", value.kind.as_str().as_bytes(), b"\0", value.key.as_bytes()]);
                values.entry((value.kind, value_hash)).or_insert(value);
                record_hashes.push(value_hash);
            }
            hashes.push(record_hashes);
        }
        let values: Vec<((ValueKind, i64), &FoundValue)> = values.into_iter().collect();
        let mut ids: BTreeMap<(ValueKind, i64), String> = BTreeMap::new();
        for chunk in values.chunks(ROWS) {
            // On conflict the row is left as it is (the first label stays)
            // and its id returned.
            let statement = format!(
                "INSERT INTO entities (id, kind, value_hash, value_sealed, label_sealed, created_at) VALUES {}
                 ON CONFLICT (kind, value_hash) DO UPDATE SET kind = excluded.kind
                 RETURNING id, kind, value_hash",
                values_list(chunk.len(), 6)
            );
            let mut query = sqlx::query(&statement);
            for ((kind, value_hash), value) in chunk {
                query = query
                    .bind(crate::new_record_id::<EntityId>().as_str().to_owned())
                    .bind(kind.as_str())
                    .bind(*value_hash)
                    .bind(keyring.seal(value.key.as_bytes(), &value_binding(*kind, *value_hash, "value")))
                    .bind(keyring.seal(value.label.as_bytes(), &value_binding(*kind, *value_hash, "label")))
                    .bind(now);
            }
            for row in query.fetch_all(&mut **transaction).await? {
                let kind_text: String = row.try_get("kind")?;
                let kind = ValueKind::parse(&kind_text).ok_or_else(|| StoreError::Corrupt(format!("an entity of unknown kind {kind_text:?}")))?;
                ids.insert((kind, row.try_get("value_hash")?), row.try_get("id")?);
            }
        }
        // Each mention once: (entity, record, field).
        let mut mentions: BTreeMap<(&str, MentionRecord, &str, &str), (i64, f64)> = BTreeMap::new();
        for (record, record_hashes) in derived.iter().zip(&hashes) {
            for (value, value_hash) in record.values.iter().zip(record_hashes) {
                let entity_id = ids.get(&(value.kind, *value_hash)).ok_or_else(|| StoreError::Corrupt("an entity was not returned".to_owned()))?;
                mentions.insert(
                    (entity_id.as_str(), record.record, record.record_id.as_str(), value.field.as_str()),
                    (record.seen_at_ms, f64::from(value.confidence)),
                );
            }
        }
        let mentions: Vec<_> = mentions.into_iter().collect();
        for chunk in mentions.chunks(ROWS) {
            let statement = format!(
                "INSERT INTO entity_mentions (entity_id, record_kind, record_id, field, seen_at, confidence) VALUES {}
                 ON CONFLICT (entity_id, record_kind, record_id, field) DO NOTHING",
                values_list(chunk.len(), 6)
            );
            let mut query = sqlx::query(&statement);
            for ((entity_id, record, record_id, field), (seen_at, confidence)) in chunk {
                query = query.bind(*entity_id).bind(record.as_str()).bind(*record_id).bind(*field).bind(*seen_at).bind(*confidence);
            }
            query.execute(&mut **transaction).await?;
        }
        Ok(())
    }

    /// Records a failure: the job is put back to run later, or parked after
    /// [`MAX_ATTEMPTS`] with its error and an audit entry.
    async fn fail_job(&self, job: &Job, error: &JobError) -> Result<JobRun, StoreError> {
        let attempts = job.attempts + 1;
        let parked = attempts >= MAX_ATTEMPTS;
        let delay = FIRST_RETRY_MS.saturating_mul(1 << (attempts - 1).clamp(0, 20));
        let message = error.to_string();
        tracing::warn!(record_kind = job.record_kind.as_str(), attempts, parked, error = %message, "an entity job failed");
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE entity_jobs SET attempts = $1, run_after = $2, parked = $3, last_error = $4 WHERE id = $5")
            .bind(attempts)
            .bind(now_ms() + delay)
            .bind(i64::from(parked))
            .bind(&message)
            .bind(&job.id)
            .execute(&mut *transaction)
            .await?;
        if parked {
            let event = AuditEvent::new(&AuditActor::Worker, AuditAction::EntitiesJobParked, job.audit_kind(), &job.record_id).because(&message);
            append_all(&mut transaction, std::slice::from_ref(&event)).await?;
        }
        transaction.commit().await?;
        Ok(if parked { JobRun { parked: 1, ..JobRun::default() } } else { JobRun { retried: 1, ..JobRun::default() } })
    }

    /// Jobs waiting and parked.
    pub async fn entity_queue_counts(&self) -> Result<QueueCounts, StoreError> {
        let row =
            sqlx::query("SELECT (SELECT COUNT(*) FROM entity_jobs WHERE parked = 0) AS waiting, (SELECT COUNT(*) FROM entity_jobs WHERE parked = 1) AS parked")
                .fetch_one(&self.pool)
                .await?;
        Ok(QueueCounts { waiting: row.try_get("waiting")?, parked: row.try_get("parked")? })
    }

    /// Parked jobs, oldest first.
    pub async fn parked_entity_jobs(&self, limit: i64) -> Result<Vec<ParkedJob>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, record_kind, record_id, attempts, last_error, created_at FROM entity_jobs WHERE parked = 1 ORDER BY created_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ParkedJob {
                    id: row.try_get("id")?,
                    record_kind: row.try_get("record_kind")?,
                    record_id: row.try_get("record_id")?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    queued_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Puts every parked job back in the queue (after the cause is mended),
    /// audited in the same transaction.
    pub async fn retry_parked_entity_jobs(&self, actor: &AuditActor) -> Result<u64, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let count = sqlx::query("UPDATE entity_jobs SET parked = 0, attempts = 0, run_after = $1 WHERE parked = 1")
            .bind(now_ms())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        let reason = format!("{count} records");
        let event = AuditEvent::new(actor, AuditAction::EntitiesRetryParked, AuditRecordKind::Workspace, "entity_jobs").because(&reason);
        append_all(&mut transaction, std::slice::from_ref(&event)).await?;
        transaction.commit().await?;
        Ok(count)
    }

    /// Re-derives every mention from the records: in one transaction, every
    /// mention is deleted and every report, intelligence record and
    /// reporter's message queued; entities stay, so their ids do not change
    /// (each value hashes to the row it always had). Returns the jobs queued;
    /// the worker does the rest.
    pub async fn rebuild_entities(&self, actor: &AuditActor) -> Result<u64, StoreError> {
        let index = self.entity_index().await?;
        let now = now_ms();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM entity_mentions").execute(&mut *transaction).await?;
        sqlx::query("DELETE FROM entity_jobs WHERE parked = 0").execute(&mut *transaction).await?;
        let mut queued = 0;
        for (kind, select) in [
            (JobRecord::Report, "SELECT id FROM reports ORDER BY received_at, id"),
            (JobRecord::Intelligence, "SELECT id FROM intelligence ORDER BY created_at, id"),
            (JobRecord::ReportMessage, "SELECT id FROM report_messages WHERE author_kind = 'reporter' ORDER BY created_at, id"),
        ] {
            let ids: Vec<String> = sqlx::query_scalar(select).fetch_all(&mut *transaction).await?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            enqueue_all(&mut transaction, kind, &ids, now).await?;
            queued += ids.len() as u64;
        }
        // People are regrouped from the linker's stored links under the
        // decisions in force, before the worker files them again.
        self.regroup_decided(&mut transaction, &index, actor).await.map_err(|error| match error {
            crate::people::DecisionError::Link(LinkError::Store(error)) => error,
            other => StoreError::Corrupt(other.to_string()),
        })?;
        let reason = format!("{queued} records queued");
        append_all(&mut transaction, &[AuditEvent::new(actor, AuditAction::EntitiesRebuild, AuditRecordKind::Workspace, "entities").because(&reason)]).await?;
        transaction.commit().await?;
        Ok(queued)
    }

    /// The entity of `kind` the most records mention (for benchmarks and
    /// checks; what a viewer may see is decided by the use cases).
    pub async fn most_mentioned_entity(&self, kind: ValueKind) -> Result<Option<EntityId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT m.entity_id FROM entity_mentions m JOIN entities e ON e.id = m.entity_id WHERE e.kind = $1
             GROUP BY m.entity_id ORDER BY COUNT(*) DESC, m.entity_id LIMIT 1",
        )
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        id.map(|id| EntityId::parse(&id).map_err(|_| StoreError::Corrupt("an entity id is not a UUID".to_owned()))).transpose()
    }

    /// The entity of `kind` whose normal form is `value`, if any record
    /// mentioned it.
    pub async fn find_entity(&self, kind: ValueKind, value: &str) -> Result<Option<EntityId>, StoreError> {
        let value_hash = self.value_hash(kind, value).await?;
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM entities WHERE kind = $1 AND value_hash = $2")
            .bind(kind.as_str())
            .bind(value_hash)
            .fetch_optional(&self.pool)
            .await?;
        id.map(|id| EntityId::parse(&id).map_err(|_| StoreError::Corrupt("an entity id is not a UUID".to_owned()))).transpose()
    }
}

/// Takes up to `max` jobs whose time has come. The first statement writes,
/// so SQLite takes its write lock before reading, and PostgreSQL skips rows
/// another worker holds.
/// The jobs whose time has come, oldest first, read without a lock.
async fn peek(pool: &sqlx::AnyPool, max: usize) -> Result<Vec<Job>, StoreError> {
    let rows = sqlx::query("SELECT id, record_kind, record_id, attempts FROM entity_jobs WHERE parked = 0 AND run_after <= $1 ORDER BY run_after, id LIMIT $2")
        .bind(now_ms())
        .bind(max as i64)
        .fetch_all(pool)
        .await?;
    rows.iter().map(job_of_row).collect()
}

/// Takes those of `peeked` that are still queued and not held by another
/// worker, in id order. `+parked` keeps SQLite from reading every queued
/// job through the index that leads with `parked` (80 ms a batch with half
/// a million queued) instead of looking the few up by id.
async fn claim(transaction: &mut Transaction<'_, Any>, backend: Backend, peeked: &[Job]) -> Result<Vec<Job>, StoreError> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let statement = format!(
        "UPDATE entity_jobs SET run_after = run_after WHERE id IN
            (SELECT id FROM entity_jobs WHERE id IN ({}) AND +parked = 0 ORDER BY id{lock})
         RETURNING id, record_kind, record_id, attempts",
        bind_list(peeked.len())
    );
    let mut query = sqlx::query(&statement);
    for job in peeked {
        query = query.bind(&job.id);
    }
    let rows = query.fetch_all(&mut **transaction).await?;
    let mut jobs: Vec<Job> = rows.iter().map(job_of_row).collect::<Result<_, _>>()?;
    jobs.sort_by(|left, right| left.id.cmp(&right.id));
    Ok(jobs)
}

/// Takes one job by id, if it is still queued and not held elsewhere.
async fn claim_one(transaction: &mut Transaction<'_, Any>, backend: Backend, id: &str) -> Result<Option<Job>, StoreError> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let statement = format!(
        "UPDATE entity_jobs SET run_after = run_after WHERE id IN (SELECT id FROM entity_jobs WHERE id = $1 AND parked = 0{lock})
         RETURNING id, record_kind, record_id, attempts"
    );
    sqlx::query(&statement).bind(id).fetch_optional(&mut **transaction).await?.as_ref().map(job_of_row).transpose()
}

fn job_of_row(row: &sqlx::any::AnyRow) -> Result<Job, StoreError> {
    let record_kind: String = row.try_get("record_kind")?;
    Ok(Job {
        id: row.try_get("id")?,
        record: JobRecord::parse(&record_kind),
        record_kind,
        record_id: row.try_get("record_id")?,
        attempts: row.try_get("attempts")?,
    })
}

/// Reads the job's record and finds what it mentions; `None` when the
/// record is gone (deleted by retention, say).
async fn derive(store: &Store, connection: &mut AnyConnection, job: &Job) -> Result<Option<Derived>, JobError> {
    let Some(record) = job.record else { return Err(JobError::UnknownKind(job.record_kind.clone())) };
    match record {
        JobRecord::Report => {
            let Ok(report_id) = ReportId::parse(&job.record_id) else { return Ok(None) };
            let Some(report) = crate::reports::load_report(connection, &report_id).await? else { return Ok(None) };
            let registrations: Vec<&str> = report.vehicles.iter().filter_map(|(registration, _)| registration.as_deref()).collect();
            let descriptions: Vec<(String, &str)> = report
                .vehicles
                .iter()
                .enumerate()
                .filter_map(|(position, (_, description))| description.as_deref().map(|text| (format!("vehicles.{}.description", position + 1), text)))
                .collect();
            let mut texts: Vec<(&str, &str)> = [
                ("narrative", report.narrative.as_deref()),
                ("people_description", report.people_description.as_deref()),
                ("location_description", report.location_description.as_deref()),
            ]
            .into_iter()
            .filter_map(|(field, text)| text.map(|text| (field, text)))
            .collect();
            texts.extend(descriptions.iter().map(|(field, text)| (field.as_str(), *text)));
            let people = crate::people::load_people(store, &mut *connection, MentionRecord::Report, &[report.id.as_str()]).await?;
            let found = values_of_record(&RecordFields {
                region: None,
                postcode: report.postcode.as_deref(),
                town: report.town.as_deref(),
                business_name: report.business_name.as_deref(),
                vehicle_registrations: registrations,
                texts,
            });
            Ok(Some(Derived {
                record: MentionRecord::Report,
                record_id: report.id.as_str().to_owned(),
                seen_at_ms: report.received_at_ms,
                values: found.values,
                truncated: found.truncated,
                people,
            }))
        }
        JobRecord::Intelligence => {
            let Ok(id) = IntelligenceId::parse(&job.record_id) else { return Ok(None) };
            let Some(record) = crate::intelligence::load_intelligence(connection, std::slice::from_ref(&id)).await?.pop() else { return Ok(None) };
            let found = values_of_record(&RecordFields {
                texts: vec![("title", record.title.as_str()), ("sanitised_text", record.sanitised_text.as_str())],
                ..RecordFields::default()
            });
            let people = crate::people::load_people(store, &mut *connection, MentionRecord::Intelligence, &[record.id.as_str()]).await?;
            Ok(Some(Derived {
                record: MentionRecord::Intelligence,
                record_id: record.id.as_str().to_owned(),
                seen_at_ms: record.created_at_ms,
                values: found.values,
                truncated: found.truncated,
                people,
            }))
        }
        JobRecord::ReportMessage => {
            let row = sqlx::query("SELECT report_id, author_kind, body, created_at FROM report_messages WHERE id = $1")
                .bind(&job.record_id)
                .fetch_optional(&mut *connection)
                .await?;
            let Some(row) = row else { return Ok(None) };
            let author: String = row.try_get("author_kind")?;
            if author != "reporter" {
                return Ok(None);
            }
            let body: String = row.try_get("body")?;
            let field = format!("messages.{}", job.record_id);
            let found = values_of_record(&RecordFields { texts: vec![(field.as_str(), body.as_str())], ..RecordFields::default() });
            Ok(Some(Derived {
                record: MentionRecord::Report,
                record_id: row.try_get("report_id")?,
                seen_at_ms: row.try_get("created_at")?,
                values: found.values,
                truncated: found.truncated,
                people: Vec::new(),
            }))
        }
    }
}

/// Entities by id, their values opened; missing ids are left out.
pub(crate) async fn load_entities(store: &Store, connection: &mut AnyConnection, ids: &[EntityId]) -> Result<Vec<Entity>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keyring = store.keyring()?;
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let statement =
            format!("SELECT id, kind, value_hash, value_sealed, label_sealed, created_at, merged_into FROM entities WHERE id IN ({})", bind_list(chunk.len()));
        let mut query = sqlx::query(&statement);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *connection).await? {
            let kind_text: String = row.try_get("kind")?;
            let kind = ValueKind::parse(&kind_text).ok_or_else(|| StoreError::Corrupt(format!("an entity of unknown kind {kind_text:?}")))?;
            let value_hash: i64 = row.try_get("value_hash")?;
            let open = |column: &str, part: &str| -> Result<String, StoreError> {
                let sealed: Vec<u8> = row.try_get(column)?;
                let plain = keyring.open(&sealed, &value_binding(kind, value_hash, part))?;
                String::from_utf8(plain).map_err(|_| StoreError::Corrupt("an entity value is not UTF-8".to_owned()))
            };
            found.push(Entity {
                id: crate::named(&row, "id")?,
                kind,
                value: open("value_sealed", "value")?,
                label: open("label_sealed", "label")?,
                created_at_ms: row.try_get("created_at")?,
                merged_into: row
                    .try_get::<Option<String>, _>("merged_into")?
                    .map(|id| EntityId::parse(&id).map_err(|_| StoreError::Corrupt("an entity id is not a UUID".to_owned())))
                    .transpose()?,
            });
        }
    }
    found.sort_by_key(|entity| ids.iter().position(|id| *id == entity.id));
    Ok(found)
}

fn mention_of_row(row: &sqlx::any::AnyRow) -> Result<Mention, StoreError> {
    Ok(Mention {
        entity_id: crate::named(row, "entity_id")?,
        record: MentionRecord::parse(&row.try_get::<String, _>("record_kind")?)?,
        record_id: row.try_get("record_id")?,
        field: row.try_get("field")?,
        seen_at_ms: row.try_get("seen_at")?,
        confidence: row.try_get("confidence")?,
    })
}

/// The newest `limit` mentions of an entity, newest first.
pub(crate) async fn load_mentions_of(connection: &mut AnyConnection, entity_id: &EntityId, limit: i64) -> Result<Vec<Mention>, StoreError> {
    let rows = sqlx::query(
        "SELECT entity_id, record_kind, record_id, field, seen_at, confidence FROM entity_mentions WHERE entity_id = $1
         ORDER BY seen_at DESC, record_id DESC, field LIMIT $2",
    )
    .bind(entity_id.as_str())
    .bind(limit)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter().map(mention_of_row).collect()
}

/// Every mention in the given records.
pub(crate) async fn load_mentions_in(connection: &mut AnyConnection, records: &[(MentionRecord, String)]) -> Result<Vec<Mention>, StoreError> {
    let mut by_kind: BTreeMap<MentionRecord, Vec<&str>> = BTreeMap::new();
    for (kind, id) in records {
        by_kind.entry(*kind).or_default().push(id);
    }
    let mut mentions = Vec::new();
    for (kind, ids) in by_kind {
        for chunk in ids.chunks(500) {
            let statement = format!(
                "SELECT entity_id, record_kind, record_id, field, seen_at, confidence FROM entity_mentions WHERE record_kind = $1 AND record_id IN ({})",
                (2..chunk.len() + 2).map(|position| format!("${position}")).collect::<Vec<_>>().join(", ")
            );
            let mut query = sqlx::query(&statement).bind(kind.as_str());
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *connection).await? {
                mentions.push(mention_of_row(&row)?);
            }
        }
    }
    Ok(mentions)
}

/// For the given records (all of one kind), how many of them mention each
/// entity: one aggregate row per entity rather than every mention.
/// Entities mentioned in `record_ids`, each with how many of them mention
/// it and when the first and last of those were seen.
pub(crate) async fn count_co_mentions(connection: &mut AnyConnection, record: MentionRecord, record_ids: &[&str]) -> Result<Vec<CoMention>, StoreError> {
    let mut counts = Vec::new();
    for chunk in record_ids.chunks(500) {
        let statement = format!(
            "SELECT entity_id, COUNT(DISTINCT record_id) AS records, MIN(seen_at) AS first_seen, MAX(seen_at) AS last_seen FROM entity_mentions
             WHERE record_kind = $1 AND record_id IN ({}) GROUP BY entity_id",
            (2..chunk.len() + 2).map(|position| format!("${position}")).collect::<Vec<_>>().join(", ")
        );
        let mut query = sqlx::query(&statement).bind(record.as_str());
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *connection).await? {
            counts.push(CoMention {
                entity_id: crate::named(&row, "entity_id")?,
                records: row.try_get("records")?,
                first_seen_ms: row.try_get("first_seen")?,
                last_seen_ms: row.try_get("last_seen")?,
            });
        }
    }
    Ok(counts)
}

/// An entity named in some records, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CoMention {
    pub entity_id: EntityId,
    pub records: i64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// The records behind the newest `limit` mentions of each entity (record
/// kind and id only), in one statement: a `UNION ALL` of one short indexed
/// read per entity, rather than one round trip each or a window over all of
/// a hub's mentions.
pub(crate) async fn load_recent_records_of(
    connection: &mut AnyConnection,
    entities: &[EntityId],
    limit: i64,
) -> Result<BTreeMap<EntityId, Vec<(MentionRecord, String)>>, StoreError> {
    let mut found: BTreeMap<EntityId, Vec<(MentionRecord, String)>> = BTreeMap::new();
    for chunk in entities.chunks(100) {
        let parts: Vec<String> = (0..chunk.len())
            .map(|position| {
                format!(
                    "SELECT * FROM (SELECT entity_id, record_kind, record_id FROM entity_mentions WHERE entity_id = ${} ORDER BY seen_at DESC, record_id DESC LIMIT $1) AS part{position}",
                    position + 2
                )
            })
            .collect();
        let statement = parts.join(" UNION ALL ");
        let mut query = sqlx::query(&statement).bind(limit);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *connection).await? {
            let record = MentionRecord::parse(&row.try_get::<String, _>("record_kind")?)?;
            found.entry(crate::named(&row, "entity_id")?).or_default().push((record, row.try_get("record_id")?));
        }
    }
    Ok(found)
}

/// The owning organisation of each of the given reports, for the access
/// policy (two columns, so thousands are cheap to check).
pub(crate) async fn load_report_owners(
    connection: &mut AnyConnection,
    report_ids: &[&str],
) -> Result<Vec<(String, Option<aidant_core::ids::OrganisationId>)>, StoreError> {
    let mut owners = Vec::with_capacity(report_ids.len());
    for chunk in report_ids.chunks(500) {
        let statement = format!("SELECT id, owning_organisation_id FROM reports WHERE id IN ({})", bind_list(chunk.len()));
        let mut query = sqlx::query(&statement);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *connection).await? {
            owners.push((row.try_get("id")?, crate::named_optional(&row, "owning_organisation_id")?));
        }
    }
    Ok(owners)
}
