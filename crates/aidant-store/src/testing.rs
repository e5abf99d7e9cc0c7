//! Test support shared by every crate's tests: a fresh, migrated database per
//! test on either backend, removed when the test ends.
//!
//! PostgreSQL tests use `AIDANT_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) to create a database named
//! `aidant_test_<uuid>`. When PostgreSQL does not answer the test fails with
//! a message saying so: it never skips.

use std::path::PathBuf;

use aidant_core::report::{ReportAnswers, SubmissionToken};
use aidant_core::{Catalogue, NewReport};

use crate::reports::{Receipt, Submission};
use crate::{Backend, MasterKey, Store, StoreOptions};

/// The indicator catalogue Aidant ships (`data/indicators.toml`).
pub fn catalogue() -> Catalogue {
    Catalogue::from_toml(include_str!("../../../data/indicators.toml")).expect("the shipped catalogue is valid")
}

/// Random bits for report references: a xorshift generator seeded from the
/// clock, different in every test.
pub fn reference_bits() -> impl FnMut() -> u64 + Send {
    let mut state = uuid::Uuid::now_v7().as_u128() as u64 | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// Stores a car wash report whose reporter left this phone number (sealed
/// at rest); returns its id.
pub async fn submit_report_with_contact(store: &Store, phone: &str) -> aidant_core::ids::ReportId {
    let answers = ReportAnswers {
        sector: Some("car_wash".into()),
        town: Some("Luton".into()),
        signs: vec!["workers_living_on_site".into()],
        contact: Some(aidant_core::report::ContactAnswer { name: Some("Ioana Zamfirescu".into()), phone: Some(phone.into()), email: None }),
        ..ReportAnswers::default()
    };
    submit_report(store, &answers, None).await.report_id
}

/// Parses, triages and stores a public report the way intake does; panics
/// on answers a test should not have written.
pub async fn submit_report(store: &Store, answers: &ReportAnswers, token: Option<&str>) -> Receipt {
    let catalogue = catalogue();
    let report = NewReport::parse(answers, &catalogue).expect("the test's answers parse");
    let triage = report.triage(&catalogue);
    let token = token.map(|token| SubmissionToken::parse(token).expect("the test's token is valid"));
    let submission =
        Submission { report: &report, triage: &triage, catalogue_version: &catalogue.version, submission_token: token.as_ref(), passphrase_hash: None };
    store.insert_report(&submission, &mut reference_bits()).await.expect("the report is stored")
}

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The admin URL tests create their databases through.
/// The versions of this build's migrations for a backend, oldest first.
pub fn migration_versions(backend: Backend) -> Vec<i64> {
    crate::migrator(backend).iter().map(|migration| migration.version).collect()
}

/// Applies this build's migrations up to and including `version`, as the
/// release that ended with it would have.
pub async fn migrate_up_to(store: &Store, version: i64) {
    let known = crate::migrator(store.backend());
    let migrations: Vec<_> = known.iter().filter(|migration| migration.version <= version).cloned().collect();
    let migrator = sqlx::migrate::Migrator { migrations: migrations.into(), ..sqlx::migrate::Migrator::DEFAULT };
    migrator.run(store.pool()).await.unwrap_or_else(|error| panic!("migrations up to {version} apply: {error}"));
}

/// Applies one migration after this build's, as the next release's
/// `aidant migrate` would during a rolling upgrade: `sql` recorded as the
/// next version, under the same lock. Returns that version.
pub async fn apply_next_release_migration(store: &Store, sql: &str) -> i64 {
    let known = crate::migrator(store.backend());
    let version = known.iter().map(|migration| migration.version).max().unwrap_or(0) + 1;
    let next = sqlx::migrate::Migration::new(version, "next release".into(), sqlx::migrate::MigrationType::Simple, sql.to_owned().into(), false);
    let migrations: Vec<_> = known.iter().cloned().chain(std::iter::once(next)).collect();
    let migrator = sqlx::migrate::Migrator { migrations: migrations.into(), ..sqlx::migrate::Migrator::DEFAULT };
    migrator.run(store.pool()).await.unwrap_or_else(|error| panic!("the next release's migration applies: {error}"));
    version
}

/// A next release's migration as the upgrade rules allow it
/// (`docs/deployment.md`, "Upgrades"): a new nullable column on every table
/// this database has, and a new table with an index, referring to reports.
/// The previous release's processes must go on working against it.
pub async fn next_release_migration_sql(store: &Store) -> String {
    let tables: Vec<String> = match store.backend() {
        // Not FTS5's virtual tables, nor the shadow tables FTS5 keeps for them.
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT t.name FROM sqlite_master t WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND t.name <> '_sqlx_migrations' \
             AND t.sql NOT LIKE 'CREATE VIRTUAL%' \
             AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL%' AND t.name LIKE v.name || '\\_%' ESCAPE '\\') \
             ORDER BY t.name",
        ),
        Backend::Postgres => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '_sqlx_migrations' ORDER BY table_name",
        ),
    }
    .fetch_all(store.pool())
    .await
    .expect("the catalogue of tables reads");
    assert!(tables.len() > 20, "the schema's tables were read: {tables:?}");
    let mut sql: String = tables.iter().map(|table| format!("ALTER TABLE {table} ADD COLUMN next_release_note TEXT;\n")).collect();
    sql.push_str("CREATE TABLE next_release_notes (id TEXT PRIMARY KEY, report_id TEXT NOT NULL REFERENCES reports (id), note TEXT NOT NULL);\n");
    sql.push_str("CREATE INDEX next_release_notes_by_report ON next_release_notes (report_id);\n");
    sql
}

/// Drops the triggers that keep the audit log append-only, as someone who
/// owns the database could, so a test can tamper with entries the way an
/// attacker with that access would and show that verification finds it.
pub async fn lift_audit_protection(store: &Store) {
    let statements: &[&str] = match store.backend() {
        Backend::Sqlite => &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
        Backend::Postgres => &["DROP TRIGGER audit_log_no_change ON audit_log", "DROP TRIGGER audit_log_no_truncate ON audit_log"],
    };
    for statement in statements {
        sqlx::query(statement).execute(store.pool()).await.expect("the audit log's triggers can be dropped by the database's owner");
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("AIDANT_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A migrated database that exists for one test.
pub struct TestDatabase {
    pub store: Store,
    pub url: String,
    pub master_key: MasterKey,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite { _directory: tempfile::TempDir, path: PathBuf },
    Postgres { admin_url: String, database: String },
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> Self {
        let database = Self::unmigrated(Backend::Sqlite).await;
        database.store.migrate().await.expect("SQLite migrations apply");
        database
    }

    /// A fresh PostgreSQL database, cloned from a migrated template (made
    /// once per set of migrations, shared by every test process), so a test
    /// pays for a `CREATE DATABASE ... TEMPLATE` instead of every migration.
    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let admin = Store::connect(&admin_url, &StoreOptions { max_connections: 1, ..StoreOptions::default() }, None).await.unwrap_or_else(|error| {
            panic!("PostgreSQL is required for this test and did not answer at {}: {error}. Start it, or set AIDANT_TEST_POSTGRES_URL (scripts/test does this for you).", crate::redact_url(&admin_url))
        });
        let template = postgres_template(&admin, &admin_url).await;
        let database = format!("aidant_test_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(&format!("CREATE DATABASE {database} TEMPLATE {template}"))
            .execute(admin.pool())
            .await
            .expect("CREATE DATABASE from the template succeeds");
        admin.close().await;
        let url = replace_database(&admin_url, &database);
        let master_key = MasterKey::generate();
        let store = Store::connect(&url, &StoreOptions::default(), Some(master_key.clone())).await.expect("the new PostgreSQL database opens");
        Self { store, url, master_key, cleanup: Cleanup::Postgres { admin_url, database } }
    }

    /// A database with no migration applied, for tests of the migrations
    /// themselves (a new SQLite file, or a new PostgreSQL database not
    /// cloned from the template).
    pub async fn unmigrated(backend: Backend) -> Self {
        let master_key = MasterKey::generate();
        match backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().expect("a temporary directory");
                let path = directory.path().join("aidant.db");
                let url = format!("sqlite://{}", path.display());
                let store = Store::connect(&url, &StoreOptions::default(), Some(master_key.clone())).await.expect("SQLite opens");
                Self { store, url, master_key, cleanup: Cleanup::Sqlite { _directory: directory, path } }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = Store::connect(&admin_url, &StoreOptions { max_connections: 1, ..StoreOptions::default() }, None)
                    .await
                    .unwrap_or_else(|error| panic!("PostgreSQL is required for this test and did not answer: {error}"));
                let database = format!("aidant_test_{}", uuid::Uuid::now_v7().simple());
                sqlx::query(&format!("CREATE DATABASE {database}")).execute(admin.pool()).await.expect("CREATE DATABASE succeeds");
                admin.close().await;
                let url = replace_database(&admin_url, &database);
                let store = Store::connect(&url, &StoreOptions::default(), Some(master_key.clone())).await.expect("the new PostgreSQL database opens");
                Self { store, url, master_key, cleanup: Cleanup::Postgres { admin_url, database } }
            }
        }
    }

    /// The SQLite file's path (for tests that read the raw file).
    pub fn sqlite_path(&self) -> Option<&PathBuf> {
        match &self.cleanup {
            Cleanup::Sqlite { path, .. } => Some(path),
            Cleanup::Postgres { .. } => None,
        }
    }

    /// Everything stored, as bytes, for tests that prove a value is not
    /// kept in clear: on SQLite the database file and its write-ahead log
    /// after a checkpoint, byte for byte; on PostgreSQL every row of
    /// `postgres_tables` as text.
    pub async fn raw_contents(&self, postgres_tables: &[&str]) -> Vec<u8> {
        match &self.cleanup {
            Cleanup::Sqlite { path, .. } => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(self.store.pool()).await.expect("SQLite checkpoints");
                let mut bytes = std::fs::read(path).expect("the database file reads");
                bytes.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
                bytes
            }
            Cleanup::Postgres { .. } => {
                let mut text = String::new();
                for table in postgres_tables {
                    let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM {table} t"))
                        .fetch_all(self.store.pool())
                        .await
                        .unwrap_or_else(|error| panic!("{table} reads: {error}"));
                    text.push_str(&rows.join("\n"));
                }
                text.into_bytes()
            }
        }
    }
}

impl TestDatabase {
    /// The bytes of the files that hold `tables` on disk, as someone who
    /// copied them would read them: on SQLite the database file and its
    /// write-ahead log; on PostgreSQL, after a checkpoint, each table's heap
    /// file and its TOAST table's (read with `pg_read_binary_file`, which
    /// needs a superuser, as the test server's `postgres` is).
    pub async fn raw_files(&self, tables: &[&str]) -> Vec<u8> {
        match &self.cleanup {
            Cleanup::Sqlite { path, .. } => {
                let mut bytes = std::fs::read(path).expect("the database file reads");
                bytes.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
                bytes
            }
            Cleanup::Postgres { .. } => {
                sqlx::query("CHECKPOINT").execute(self.store.pool()).await.expect("CHECKPOINT runs (the test user must be a superuser)");
                let mut bytes = Vec::new();
                for table in tables {
                    let paths: Vec<String> = sqlx::query_scalar(
                        "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname = $1                          UNION ALL SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c WHERE c.relname = $1 AND c.reltoastrelid <> 0",
                    )
                    .bind(*table)
                    .fetch_all(self.store.pool())
                    .await
                    .unwrap_or_else(|error| panic!("{table}'s files: {error}"));
                    for path in paths {
                        let file: Vec<u8> = sqlx::query_scalar("SELECT pg_read_binary_file($1)")
                            .bind(&path)
                            .fetch_one(self.store.pool())
                            .await
                            .unwrap_or_else(|error| panic!("reading {path}: {error}"));
                        bytes.extend(file);
                    }
                }
                bytes
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, database } = &self.cleanup {
            let admin_url = admin_url.clone();
            let statement = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            // Drop runs inside the test's runtime, which cannot be blocked on;
            // a short-lived thread with its own runtime does the clean-up.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(async move {
                    if let Ok(admin) = Store::connect(&admin_url, &StoreOptions { max_connections: 1, ..StoreOptions::default() }, None).await {
                        let _ = sqlx::query(&statement).execute(admin.pool()).await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The name of a migrated template database for the current migrations,
/// building it if no process has yet. It is built under a temporary name and
/// renamed when complete, so a template that exists is always whole; of two
/// processes building at once, the second rename fails and its copy goes.
async fn postgres_template(admin: &Store, admin_url: &str) -> String {
    static READY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let template = format!("aidant_template_{}", Store::migrations_fingerprint(Backend::Postgres));
            let exists = |name: String| async move {
                sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(name)
                    .fetch_optional(admin.pool())
                    .await
                    .expect("pg_database can be read")
                    .is_some()
            };
            // Another test run on the same server may be building or
            // removing templates at the same moment: try a few times.
            for _attempt in 0..3 {
                if exists(template.clone()).await {
                    return template;
                }
                let building = format!("aidant_building_{}", uuid::Uuid::now_v7().simple());
                sqlx::query(&format!("CREATE DATABASE {building}")).execute(admin.pool()).await.expect("CREATE DATABASE succeeds");
                let store = Store::connect(&replace_database(admin_url, &building), &StoreOptions { max_connections: 1, ..StoreOptions::default() }, None)
                    .await
                    .expect("the template database opens");
                store.migrate().await.expect("PostgreSQL migrations apply");
                store.close().await;
                // A closed pool's server processes can linger a moment, and a
                // database with a session open cannot be renamed.
                let _ = sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
                    .bind(&building)
                    .execute(admin.pool())
                    .await;
                for _ in 0..20 {
                    if sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {template}")).execute(admin.pool()).await.is_ok() {
                        return template;
                    }
                    if exists(template.clone()).await {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).execute(admin.pool()).await;
            }
            assert!(exists(template.clone()).await, "the template {template} could be neither built nor found");
            template
        })
        .await
        .clone()
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
pub fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let scheme_end = base.find("://").map_or(0, |position| position + 3);
    let host_and_path = &base[scheme_end..];
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    let rebuilt = format!("{}{host}/{database}", &base[..scheme_end]);
    match query {
        Some(query) => format!("{rebuilt}?{query}"),
        None => rebuilt,
    }
}

/// Generates one test per backend from an async function taking a
/// `TestDatabase`: `backend_tests!(module_name: test_a, test_b);` yields
/// `module_name::sqlite::test_a` and `module_name::postgres::test_a`, so test
/// output shows both.
#[macro_export]
macro_rules! backend_tests {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::testing::TestDatabase::new($crate::Backend::Sqlite).await).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::testing::TestDatabase::new($crate::Backend::Postgres).await).await;
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(replace_database("postgres://postgres@127.0.0.1:5432/test", "x"), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(replace_database("postgres://u:p@h/test?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(replace_database("postgres://h:1", "x"), "postgres://h:1/x");
    }
}
