//! Aidant's storage: one interface over SQLite (the embedded default) and
//! PostgreSQL (multi-user production), chosen once from the database URL.
//!
//! Only this crate knows SQL. Queries are written as SQL strings beside the
//! function that runs them, portable across both backends (`$1`
//! placeholders, `RETURNING`, integers for flags), through sqlx's `Any`
//! driver. Every write that touches a sensitive record appends to the audit
//! chain inside the same transaction, so a record never exists without its
//! audit entry.

pub mod api_tokens;
pub mod audit;
pub mod backup;
pub mod cases;
pub mod checkpoint;
pub mod crypto;
pub mod entities;
pub mod entity_network;
pub mod federation;
pub mod flood;
pub mod identity;
pub mod intelligence;
pub mod keys;
pub mod link_records;
pub mod networks;
pub mod operations;
pub mod organisations;
pub mod package;
pub mod people;
pub mod public_site;
pub mod report_writer;
pub mod reports;
pub mod search;
pub mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
pub mod triage;
pub mod victims;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor, Row};

pub use crypto::{Keyring, MasterKey};
pub use keys::{SEALED_COLUMNS, SealedColumn};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations this build holds for a backend.
pub(crate) fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Chooses the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Errors from the store. Messages never contain personal data or passwords.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    #[error("cannot open the database at {location}: {reason}")]
    Open { location: String, reason: String },
    #[error("cannot apply database migrations: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("a stored value could not be read: {0}")]
    Corrupt(String),
    #[error("no master key is configured, so sensitive fields cannot be stored")]
    NoMasterKey,
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    /// Something this backend cannot do (a SQLite copy of PostgreSQL).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
}

impl StoreError {
    /// The database did not hand out a connection in time: a busy service,
    /// worth trying again shortly, not a fault.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            // SQLite's busy and locked codes (5, 6 and their extended forms):
            // the database was busy for longer than the busy timeout.
            StoreError::Database(sqlx::Error::Database(error)) => {
                error.code().and_then(|code| code.parse::<i64>().ok()).is_some_and(|code| matches!(code & 0xff, 5 | 6))
            }
            _ => false,
        }
    }
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(10) }
    }
}

/// A connection pool to one database, plus the master keys for sealed fields.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where the writers that take their turn (`Store::begin_write`) write:
    /// on SQLite one connection of its own, so the page cache of the
    /// connection that does nearly all the writing is never thrown away
    /// because another connection wrote (SQLite empties a connection's cache
    /// whenever the database changed under it, and at a million reports the
    /// writer then read every index page it touched again, batch after
    /// batch); on PostgreSQL the same pool.
    write_pool: AnyPool,
    backend: Backend,
    keyring: Option<Keyring>,
    /// The entity resolver's model and index key, read once (`link_records.rs`).
    link_cache: link_records::LinkCache,
    /// The blind index key of entity values, read once (`entities.rs`).
    entity_index: entities::EntityIndexCache,
    /// The model the people resolver starts with (`with_people_model`); the hand-set reference
    /// model when none is given.
    people_model: Option<Arc<aidant_link::model::Model>>,
    /// SQLite only: the task that checkpoints the write-ahead log, stopped
    /// when the last clone of this store is dropped.
    _checkpointer: Option<Arc<Checkpointer>>,
    /// SQLite only: set by the checkpointer when the log should be started
    /// again from its beginning (see `checkpoint`).
    log_restart_due: Arc<AtomicBool>,
    /// The turn to write (`Store::write_turn`).
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

/// A writer's turn on SQLite, held until its transaction ends; nothing on
/// PostgreSQL, whose writers lock rows, not the database.
pub(crate) type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

/// How often SQLite's write-ahead log is copied back into the database.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Checkpoints SQLite's write-ahead log in the background.
///
/// By default SQLite checkpoints inside a commit, whichever commit takes
/// the log past 1,000 pages: that transaction then copies the pages into the
/// database file and syncs it, and waits several milliseconds where others
/// wait a fraction of one. Linking a person dirties tens of pages in tables
/// of millions of rows, so one addition in twenty or so paid for a
/// checkpoint (p99 9.6 ms against a median of 2.3 ms at a million people).
/// Connections therefore never checkpoint on commit (`wal_autocheckpoint =
/// 0`), and this task runs a passive checkpoint every second, which copies
/// what it can without waiting for, or blocking, readers and writers.
/// Durability is unchanged: a commit is durable once its log frames are
/// synced, checkpointed or not.
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    fn start(pool: AnyPool, restart_due: Arc<AtomicBool>) -> Self {
        Checkpointer(tokio::spawn(async move {
            let mut interval = tokio::time::interval(CHECKPOINT_INTERVAL);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut rounds_due = 0;
            loop {
                interval.tick().await;
                if pool.is_closed() {
                    break;
                }
                if let Err(error) = checkpoint(&pool, &restart_due, &mut rounds_due).await {
                    tracing::warn!(error = %error, "a background checkpoint of the SQLite log failed; the next one will retry");
                }
            }
        }))
    }
}

/// Frames the log may hold before it is started again from the beginning
/// (about 16 MB of 4 KiB pages).
const RESTART_AFTER_FRAMES: i64 = 4_096;

/// One round of the checkpointer: a passive checkpoint, which copies what
/// it can without waiting for anyone. SQLite starts its log again from the
/// beginning only when a write begins with every frame already copied; a
/// passive checkpoint running beside a steady stream of commits never
/// catches the last one, so the log grew without end (4.7 GB after 270,000
/// reports, 13 GB while the entity worker read a million), and every page
/// read searches a log index that grows with it: intake fell from 3,300
/// reports a second to under 700. So when the log holds more than
/// `RESTART_AFTER_FRAMES`, the checkpointer marks it due, and the steady
/// writers (the report writer between batches, the entity worker between
/// transactions) restart it themselves at that moment, when no write of
/// theirs is under way (`Store::restart_log_if_due`); if none has after a
/// few rounds, the checkpointer does.
async fn checkpoint(pool: &AnyPool, restart_due: &AtomicBool, rounds_due: &mut u32) -> Result<(), sqlx::Error> {
    if restart_due.load(AtomicOrdering::Relaxed) {
        *rounds_due += 1;
        // No steady writer has taken it for a few rounds (only occasional
        // writes): restarted here.
        if *rounds_due >= ROUNDS_BEFORE_RESTARTING_HERE && restart(&mut pool.acquire().await?).await? {
            restart_due.store(false, AtomicOrdering::Relaxed);
            *rounds_due = 0;
            return Ok(());
        }
    } else {
        *rounds_due = 0;
    }
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
    let log_frames: i64 = row.try_get(1)?;
    if log_frames > RESTART_AFTER_FRAMES {
        restart_due.store(true, AtomicOrdering::Relaxed);
    }
    Ok(())
}

/// Rounds a restart may wait for a steady writer before the checkpointer
/// does it.
const ROUNDS_BEFORE_RESTARTING_HERE: u32 = 5;

/// A restarting checkpoint on `connection`: it copies the rest of the log,
/// waits for readers of older snapshots, and starts the log again; `false`
/// when it gave up. It holds new writers back while it waits, so it waits
/// at most 250 ms (with the pool's ten seconds, searches stalled for
/// seconds behind it while staff read pages).
async fn restart(connection: &mut sqlx::pool::PoolConnection<sqlx::Any>) -> Result<bool, sqlx::Error> {
    connection.execute("PRAGMA busy_timeout = 250").await?;
    let restarted = sqlx::query("PRAGMA wal_checkpoint(RESTART)").fetch_one(&mut **connection).await;
    connection.execute("PRAGMA busy_timeout = 10000").await?;
    Ok(restarted?.try_get::<i64, _>(0)? == 0)
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// Fewer reports than this and PostgreSQL's statistics are not refreshed by
/// `Store::optimize` (see there).
const ANALYZE_MIN_REPORTS: i64 = 1_000;

impl Store {
    /// Connects to the database named by `url` and checks that it answers.
    /// SQLite files are created if missing, in WAL mode with
    /// `synchronous=FULL`, so an acknowledged commit survives power loss.
    pub async fn connect(url: &str, options: &StoreOptions, master_key: Option<MasterKey>) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let location = redact_url(url);
        let open_error = |error: sqlx::Error| StoreError::Open { location: location.clone(), reason: describe_connect_error(&error) };
        let connect_url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let connect_options = AnyConnectOptions::from_str(&connect_url).map_err(open_error)?;
        // One direct attempt first: the pool retries until its timeout and
        // then reports only that it timed out, hiding "connection refused"
        // or "database does not exist".
        let probe = sqlx::AnyConnection::connect_with(&connect_options).await.map_err(open_error)?;
        probe.close().await.map_err(open_error)?;
        let pool_options = AnyPoolOptions::new().max_connections(options.max_connections).acquire_timeout(options.acquire_timeout);
        let sqlite_pragmas = |pool_options: AnyPoolOptions| {
            pool_options.after_connect(|connection, _| {
                Box::pin(async move {
                    connection.execute("PRAGMA journal_mode = WAL").await?;
                    connection.execute("PRAGMA synchronous = FULL").await?;
                    connection.execute("PRAGMA foreign_keys = ON").await?;
                    // Space freed by a delete or an update is overwritten with
                    // zeros, so an old version of a row (a sealed value, a
                    // report's words) does not linger in the file after it is
                    // changed or erased at retention review.
                    connection.execute("PRAGMA secure_delete = ON").await?;
                    connection.execute("PRAGMA busy_timeout = 10000").await?;
                    connection.execute("PRAGMA cache_size = -32768").await?;
                    // Checkpoints run in the background (`Checkpointer`), not in commits.
                    connection.execute("PRAGMA wal_autocheckpoint = 0").await?;
                    Ok(())
                })
            })
        };
        let (pool, write_pool) = match backend {
            Backend::Sqlite => {
                let pool = sqlite_pragmas(pool_options).connect_with(connect_options.clone()).await.map_err(open_error)?;
                let write_options = AnyPoolOptions::new().max_connections(1).acquire_timeout(options.acquire_timeout);
                let write_pool = sqlite_pragmas(write_options).connect_with(connect_options).await.map_err(open_error)?;
                (pool, write_pool)
            }
            Backend::Postgres => {
                let pool = pool_options.connect_with(connect_options).await.map_err(open_error)?;
                (pool.clone(), pool)
            }
        };
        let log_restart_due = Arc::new(AtomicBool::new(false));
        let checkpointer = (backend == Backend::Sqlite).then(|| Arc::new(Checkpointer::start(pool.clone(), log_restart_due.clone())));
        let store = Self {
            pool,
            write_pool,
            backend,
            keyring: master_key.map(Keyring::from),
            link_cache: Default::default(),
            entity_index: Default::default(),
            people_model: None,
            _checkpointer: checkpointer,
            log_restart_due,
            write_gate: Arc::new(tokio::sync::Mutex::new(())),
        };
        store.ping().await.map_err(|error| match error {
            StoreError::Database(error) => open_error(error),
            other => other,
        })?;
        Ok(store)
    }

    /// Applies any migrations not yet applied. Safe to run repeatedly and from
    /// several processes at once (sqlx takes a lock on PostgreSQL).
    ///
    /// A database that a newer release has already migrated holds versions
    /// this build does not know, and opens all the same: during a rolling
    /// upgrade the previous release's processes run (and restart) against
    /// the next release's schema, which only adds to this one
    /// (`docs/deployment.md`, "Upgrades without downtime"; [`Store::newer_migrations`] lists
    /// them). A known migration whose recorded checksum differs is still
    /// refused.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let migrator = Migrator { migrations: migrator(self.backend).migrations.clone(), ignore_missing: true, ..Migrator::DEFAULT };
        let applied_before = self.applied_migrations().await.unwrap_or(0);
        migrator.run(&self.pool).await.map_err(|error| StoreError::Migrate(error.to_string()))?;
        self.optimize().await?;
        let applied_after = self.applied_migrations().await?;
        Ok(applied_after.saturating_sub(applied_before))
    }

    /// Migrations applied to this database that this build does not know
    /// (a newer release's, during a rolling upgrade), oldest first.
    pub async fn newer_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let newest_known = migrator(self.backend).iter().map(|migration| migration.version).max().unwrap_or(0);
        let versions =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE version > $1 ORDER BY version").bind(newest_known).fetch_all(&self.pool).await?;
        Ok(versions)
    }

    /// A short fingerprint of a backend's migrations (their versions and
    /// checksums): test databases are cloned from a template made once per
    /// fingerprint, so a changed migration makes a new template.
    pub fn migrations_fingerprint(backend: Backend) -> String {
        use sha2::Digest;
        let migrator = migrator(backend);
        let mut hasher = sha2::Sha256::new();
        for migration in migrator.iter() {
            hasher.update(migration.version.to_be_bytes());
            hasher.update(&*migration.checksum);
        }
        hex::encode(&hasher.finalize()[..8])
    }

    /// Whether this database holds Aidant's tables (at least one migration
    /// applied): commands that read an existing database refuse one without.
    pub async fn holds_aidant_schema(&self) -> Result<bool, StoreError> {
        Ok(self.applied_migrations().await? > 0)
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = true")
            .fetch_one(&self.pool)
            .await
            .or_else(|_| Ok::<i64, sqlx::Error>(0))?;
        Ok(count as usize)
    }

    /// Refreshes the query planner's statistics, so the queue's filters use
    /// their indexes. SQLite has no autovacuum: `PRAGMA optimize` analyses
    /// the tables whose statistics are stale, cheaply when none are.
    /// PostgreSQL's autovacuum analyses on its own, but only minutes after a
    /// bulk load or a restore, when plans made on empty-table statistics can
    /// be a thousand times slower; `ANALYZE` of the tables the workspace
    /// reads samples a fixed number of rows, so it stays well under a second.
    /// Run at start-up and every ten minutes while serving.
    ///
    /// On PostgreSQL an almost empty database is left alone: statistics
    /// saying "no rows" make the planner choose sequential scans, and the
    /// plans of foreign-key checks (made once per connection) then scan the
    /// whole of `reports` for every sign inserted, so intake slows as the
    /// table grows. Never-analysed tables are planned as if they had some
    /// pages, which keeps index scans, and autovacuum analyses them once
    /// rows arrive.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA optimize=0x10002").execute(&self.pool).await?;
            }
            Backend::Postgres => {
                let reports: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM reports LIMIT $1) sample").bind(ANALYZE_MIN_REPORTS).fetch_one(&self.pool).await?;
                if reports >= ANALYZE_MIN_REPORTS {
                    sqlx::query(
                        "ANALYZE reports, search_documents, report_signs, intelligence, intelligence_shares, users, entities, entity_mentions, entity_jobs",
                    )
                    .execute(&self.pool)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// On PostgreSQL, vacuums and analyses the workspace's largest tables,
    /// as autovacuum does in time (for benchmarks of a freshly loaded
    /// database); nothing on SQLite.
    pub async fn vacuum(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("VACUUM (ANALYZE) reports, search_documents, report_signs, intelligence, intelligence_shares").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// On PostgreSQL, writes every changed page out now (`CHECKPOINT`), as
    /// the server's own checkpoints do within minutes of a load, so that a
    /// benchmark's timings do not share the disk with writing a million
    /// rows out; `false` when the role may not (it needs `pg_checkpoint`
    /// or superuser). Nothing on SQLite.
    pub async fn write_out(&self) -> Result<bool, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(true);
        }
        match sqlx::query("CHECKPOINT").execute(&self.pool).await {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42501") => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Checks the database answers a trivial query (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The raw pool, for tests that tamper with rows the way an attacker with
    /// database access would.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The same store with `keyring` in place of the single master key given
    /// to `connect`: it seals with the keyring's current key and opens values
    /// sealed under any of its retired keys.
    /// On SQLite, when the checkpointer has marked it due (see `checkpoint`),
    /// copies the rest of the log into the database and starts it again from
    /// its beginning. Steady writers call this between their transactions,
    /// when none of their writes is under way; if it cannot, it stays due.
    pub async fn restart_log_if_due(&self) {
        if self.backend != Backend::Sqlite || !self.log_restart_due.swap(false, AtomicOrdering::Relaxed) {
            return;
        }
        match self.restart_log().await {
            Ok(true) => {}
            Ok(false) => self.log_restart_due.store(true, AtomicOrdering::Relaxed),
            Err(error) => tracing::warn!(error = %error, "restarting the SQLite log failed; the checkpointer will ask again"),
        }
    }

    async fn restart_log(&self) -> Result<bool, sqlx::Error> {
        restart(&mut self.pool.acquire().await?).await
    }

    pub fn with_keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Links the people named in records with `model` (one `aidant link --model-out` trained on
    /// a force's own records) rather than the hand-set reference model, from the moment the
    /// people resolver starts. A database whose resolver has started keeps the model it started
    /// with: every stored link was made with it.
    pub fn with_people_model(mut self, model: aidant_link::model::Model) -> Self {
        self.people_model = Some(Arc::new(model));
        self
    }

    /// On SQLite, waits for this process's turn to write, in the order the
    /// writers asked. SQLite has one write lock, and a connection that finds
    /// it taken sleeps in its busy handler and tries again; the steady
    /// writers (the report writer, the entity worker) take it again the
    /// moment they let it go, so a sleeping writer could lose every race
    /// for seconds: a search's audit entry waited up to 29 s at 52,000
    /// reports. Writers that take their turn here queue fairly instead, and
    /// each waits for at most the transactions queued before it.
    pub(crate) async fn write_turn(&self) -> WriteTurn {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// A transaction that reads and then writes (a use case reads a record
    /// and audits the reading), with its turn to write (`write_turn`), which
    /// the caller holds until the transaction ends. On SQLite it takes the
    /// write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that
    /// has read cannot take the lock later if another connection wrote in
    /// between, and fails at once with "database is locked" instead of
    /// waiting.
    pub(crate) async fn begin_write(&self) -> Result<(WriteTurn, sqlx::Transaction<'static, sqlx::Any>), sqlx::Error> {
        let turn = self.write_turn().await;
        let transaction = match self.backend {
            Backend::Sqlite => self.write_pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write_pool.begin().await?,
        };
        Ok((turn, transaction))
    }

    fn keyring(&self) -> Result<&Keyring, StoreError> {
        self.keyring.as_ref().ok_or(StoreError::NoMasterKey)
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.write_pool.close().await;
        self.pool.close().await;
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_millis() as i64).unwrap_or(0)
}

/// A new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The URL with any password replaced, safe for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(authority, path)| (authority, path));
    let path = path.split('?').next().unwrap_or("");
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            if credentials.contains(':') { format!("{user}:[redacted]@{host}") } else { format!("{user}@{host}") }
        }
        None => authority.to_owned(),
    };
    if path.is_empty() { format!("{scheme}://{authority}") } else { format!("{scheme}://{authority}/{path}") }
}

/// A one-line, human description of why a connection failed.
fn describe_connect_error(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "the database did not answer in time".to_owned(),
        sqlx::Error::Database(database) => database.message().to_owned(),
        other => other.to_string().lines().next().unwrap_or_default().to_owned(),
    }
}

/// `$1, $2, ... $count`: the placeholders of an `IN (...)` list, bound in
/// order by the caller.
pub(crate) fn bind_list(count: usize) -> String {
    bind_list_from(1, count)
}

/// `$first, ... $(first + count - 1)`: an `IN (...)` list after other
/// parameters.
pub(crate) fn bind_list_from(first: usize, count: usize) -> String {
    (first..first + count).map(|position| format!("${position}")).collect::<Vec<_>>().join(", ")
}

/// A text column holding one of a domain enum's stored names (risk levels,
/// statuses); anything else is a corrupt row, not a guess.
pub(crate) fn named<T: std::str::FromStr>(row: &sqlx::any::AnyRow, column: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    text.parse().map_err(|error: T::Err| StoreError::Corrupt(format!("column {column}: {error}")))
}

/// An id read from the database, whose column holds only ids the store made.
pub(crate) fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error: T::Err| StoreError::Corrupt(error.to_string()))
}

/// A new id of any record kind: a time-ordered UUID.
pub(crate) fn new_record_id<T: std::str::FromStr>() -> T
where
    T::Err: std::fmt::Debug,
{
    new_id().parse().expect("a new UUID is a valid record id")
}

/// A nullable text column holding a domain value (an optional id).
pub(crate) fn named_optional<T: std::str::FromStr>(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    use sqlx::Row;
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| text.parse().map_err(|error: T::Err| StoreError::Corrupt(format!("column {column}: {error}")))).transpose()
}

/// Converts a 0/1 integer column to a flag.
pub(crate) fn flag(value: i64) -> bool {
    value != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("postgres://aidant:hunter2@db.internal:5432/aidant?sslmode=require"), "postgres://aidant:[redacted]@db.internal:5432/aidant");
        assert_eq!(redact_url("postgres://postgres@127.0.0.1:5432/test"), "postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(redact_url("sqlite:///var/lib/aidant/aidant.db"), "sqlite:///var/lib/aidant/aidant.db");
    }

    /// A log past `RESTART_AFTER_FRAMES` (here while a reader holds an older
    /// snapshot, so the checkpointer cannot copy it to its end) is marked
    /// due; once a steady writer has restarted it, the next write starts
    /// the log from its beginning.
    #[tokio::test]
    async fn a_long_log_is_copied_whole_and_started_again() {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", directory.path().join("log.db").display()), &StoreOptions::default(), None).await.unwrap();
        let pool = store.pool();
        sqlx::query("CREATE TABLE filler (bytes BLOB)").execute(pool).await.unwrap();
        let mut reader = pool.acquire().await.unwrap();
        reader.execute("BEGIN").await.unwrap();
        sqlx::query("SELECT COUNT(*) FROM filler").fetch_one(&mut *reader).await.unwrap();
        // About 5,000 pages of 4 KiB written after the reader's snapshot.
        for _ in 0..50 {
            sqlx::query("INSERT INTO filler VALUES (randomblob(400000))").execute(pool).await.unwrap();
        }
        let due = AtomicBool::new(false);
        checkpoint(pool, &due, &mut 0).await.unwrap();
        assert!(due.load(AtomicOrdering::Relaxed), "a long log the checkpointer could not copy to its end is marked due");
        reader.execute("COMMIT").await.unwrap();
        drop(reader);
        store.log_restart_due.store(true, AtomicOrdering::Relaxed);
        store.restart_log_if_due().await;
        assert!(!store.log_restart_due.load(AtomicOrdering::Relaxed), "done once");
        sqlx::query("INSERT INTO filler VALUES (randomblob(10))").execute(pool).await.unwrap();
        let frames: i64 = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await.unwrap().try_get(1).unwrap();
        assert!(frames < 100, "the next write starts the log again: {frames} frames");
    }

    #[test]
    fn backends_follow_the_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgresql://h/d").unwrap(), Backend::Postgres);
        assert!(Backend::from_url("mysql://h/d").is_err());
    }
}
