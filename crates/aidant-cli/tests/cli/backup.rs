//! `aidant backup` and `aidant restore` through the real binary on both
//! backends: a backup taken while reports arrive restores into an empty
//! directory or database with every report acknowledged before it began and
//! an intact audit chain; a damaged backup, one under another key, or a
//! target that already holds a database is refused and nothing is touched.

use std::collections::HashSet;
use std::path::Path;

use aidant_store::testing::TestDatabase;
use aidant_store::{Backend, Store, StoreOptions};

use crate::helpers::{Load, Server, Setup, assert_failure_naming, assert_success};

/// An empty place to restore into, on the test database's backend: a new
/// data directory for SQLite, a new empty database for PostgreSQL (dropped
/// when the guard goes).
struct Target {
    setup: Setup,
    url: String,
    postgres: Option<(Store, String)>,
}

impl Target {
    async fn new(database: &TestDatabase, master_key_hex: String) -> Self {
        match database.store.backend() {
            Backend::Sqlite => {
                let setup = Setup { master_key_hex: Some(master_key_hex), ..Setup::bare() };
                let url = format!("sqlite://{}", setup.path("aidant.db").display());
                Target { setup, url, postgres: None }
            }
            Backend::Postgres => {
                let admin_url = aidant_store::testing::postgres_admin_url();
                let admin = Store::connect(&admin_url, &StoreOptions::default(), None).await.unwrap();
                let name = format!("aidant_test_restore_{}", aidant_store::new_id().replace('-', ""));
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin.pool()).await.unwrap();
                let url = aidant_store::testing::replace_database(&admin_url, &name);
                let setup = Setup { database_url: Some(url.clone()), master_key_hex: Some(master_key_hex), ..Setup::bare() };
                Target { setup, url, postgres: Some((admin, name)) }
            }
        }
    }

    async fn holds_tables(&self) -> bool {
        if self.postgres.is_none() && !self.setup.path("aidant.db").exists() {
            return false;
        }
        let store = Store::connect(&self.url, &StoreOptions::default(), None).await.unwrap();
        let holds = store.holds_aidant_schema().await.unwrap();
        store.close().await;
        holds
    }

    async fn drop_database(self) {
        if let Some((admin, name)) = self.postgres {
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(admin.pool()).await.unwrap();
            admin.close().await;
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

async fn a_backup_under_load_restores_every_acknowledged_report_and_the_chain(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let server = Server::start_with(&setup, &[], &[("AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")]);
    let load = Load::start(server.address, 6);
    while load.acknowledged().len() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Everything acknowledged before the backup starts must be in it; reports
    // keep arriving while it runs.
    let before: HashSet<String> = load.acknowledged().iter().map(|reference| reference.as_compact().to_owned()).collect();
    let backup_dir = setup.path("backup");
    let printed = assert_success(&setup.run(&["backup", "--to", backup_dir.to_str().unwrap()]));
    assert!(printed.contains("backup written to"), "{printed}");
    let during = load.acknowledged().len() - before.len();
    load.wait_for_attempts(20);
    let all = load.stop();
    drop(server);
    assert!(all.len() > before.len(), "reports kept arriving during the backup ({during} while it ran)");

    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(backup_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["backend"], database.store.backend().as_str());
    assert_eq!(manifest["master_key_id"].as_str().map(str::len), Some(16));
    let backed_up_reports = manifest["reports"].as_i64().unwrap();
    assert!(backed_up_reports >= before.len() as i64, "{manifest}");
    let encrypted = std::fs::read(backup_dir.join("aidant-backup.bin")).unwrap();
    for plaintext in ["Distinctive-narrative-Zamfirescu", "CREATE TABLE", "audit_log"] {
        assert!(!encrypted.windows(plaintext.len()).any(|window| window == plaintext.as_bytes()), "{plaintext} readable in the backup");
    }

    // Into an empty place, with the same master key.
    let target = Target::new(&database, database.master_key.to_hex()).await;
    let restored = assert_success(&target.setup.run(&["restore", "--from", backup_dir.to_str().unwrap()]));
    assert!(restored.contains(&format!("restored {backed_up_reports} reports")), "{restored}");
    let store = Store::connect(&target.url, &StoreOptions::default(), None).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT reference FROM reports").fetch_all(store.pool()).await.unwrap();
    let stored_set: HashSet<&str> = stored.iter().map(String::as_str).collect();
    assert_eq!(stored_set.len(), stored.len(), "every report once");
    let missing: Vec<&String> = before.iter().filter(|reference| !stored_set.contains(reference.as_str())).collect();
    assert!(missing.is_empty(), "acknowledged before the backup and not restored: {missing:?}");
    assert!(store.verify_audit_chain().await.unwrap().is_ok(), "the restored chain verifies");
    let last_action: String = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY sequence DESC LIMIT 1").fetch_one(store.pool()).await.unwrap();
    assert_eq!(last_action, "backup.restored", "the restore is recorded in the restored chain");
    let backups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'backup.created'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(backups, 1, "the backup recorded itself before the copy");
    store.close().await;
    assert!(assert_success(&target.setup.run(&["audit", "verify"])).contains("audit chain OK"));
    // A second restore over it is refused: the target already holds a database.
    assert_failure_naming(&target.setup.run(&["restore", "--from", backup_dir.to_str().unwrap()]), "already");
    target.drop_database().await;

    // A damaged copy, and a copy under another key: refused, nothing created.
    let damaged_dir = setup.path("damaged");
    copy_dir(&backup_dir, &damaged_dir);
    let mut bytes = std::fs::read(damaged_dir.join("aidant-backup.bin")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(damaged_dir.join("aidant-backup.bin"), bytes).unwrap();
    let target = Target::new(&database, database.master_key.to_hex()).await;
    assert_failure_naming(&target.setup.run(&["restore", "--from", damaged_dir.to_str().unwrap()]), "does not match its manifest");
    assert!(!target.holds_tables().await, "nothing restored from a damaged backup");
    target.drop_database().await;
    let target = Target::new(&database, aidant_store::MasterKey::generate().to_hex()).await;
    let other_key = target.setup.run(&["restore", "--from", backup_dir.to_str().unwrap()]);
    assert_failure_naming(&other_key, manifest["master_key_id"].as_str().unwrap());
    assert!(!target.holds_tables().await, "nothing restored under the wrong key");
    target.drop_database().await;
}

aidant_store::backend_tests!(a_backup_under_load_restores_every_acknowledged_report_and_the_chain);

#[test]
fn a_sqlite_restore_replaces_only_when_asked_and_keeps_the_old_database() {
    let source = Setup { master_key_hex: Some("cd".repeat(32)), ..Setup::bare() };
    assert!(crate::helpers::stdout(&source.run(&["migrate"])).contains("migration(s) applied"));
    let backup_dir = source.path("backup");
    assert_success(&source.run(&["backup", "--to", backup_dir.to_str().unwrap()]));
    assert_failure_naming(&source.run(&["backup", "--to", backup_dir.to_str().unwrap()]), "is not empty");
    assert_failure_naming(&source.run(&["restore", "--from", backup_dir.to_str().unwrap()]), "add --replace");
    let replaced = assert_success(&source.run(&["restore", "--from", backup_dir.to_str().unwrap(), "--replace"]));
    assert!(replaced.contains("is kept as"), "{replaced}");
    let kept: Vec<_> = std::fs::read_dir(source.data_dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("aidant.db.before-restore-"))
        .filter(|entry| !entry.file_name().to_string_lossy().ends_with("-wal") && !entry.file_name().to_string_lossy().ends_with("-shm"))
        .collect();
    assert_eq!(kept.len(), 1, "the old database is kept beside the restored one");
    let leftovers: Vec<_> = std::fs::read_dir(source.data_dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(".aidant-"))
        .map(|entry| entry.file_name())
        .collect();
    assert!(leftovers.is_empty(), "no plaintext copy left behind: {leftovers:?}");
    assert!(assert_success(&source.run(&["audit", "verify"])).contains("audit chain OK"));
}
