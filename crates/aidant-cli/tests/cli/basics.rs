//! The commands an operator starts with: help and version, `aidant config`,
//! `aidant demo` and `aidant migrate`.

use crate::helpers::{Setup, aidant, assert_one_line_failure, assert_success, stderr, stdout};

#[test]
fn help_and_version_work() {
    let help = aidant().arg("--help").output().unwrap();
    let text = assert_success(&help);
    for word in ["serve", "migrate", "demo", "config", "audit", "Examples:"] {
        assert!(text.contains(word), "--help mentions {word}");
    }
    let version = aidant().arg("--version").output().unwrap();
    assert_eq!(stdout(&version).trim(), format!("aidant {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn config_prints_settings_without_secrets() {
    let setup =
        Setup { database_url: Some("postgres://aidant:hunter2-secret@db.internal:5432/aidant".into()), master_key_hex: Some("ab".repeat(32)), ..Setup::bare() };
    let printed = assert_success(&setup.run(&["config"]));
    assert!(printed.contains("postgres://aidant:[redacted]@db.internal:5432/aidant"), "{printed}");
    assert!(!printed.contains("hunter2") && !printed.contains(&"ab".repeat(32)), "{printed}");
}

#[test]
fn demo_creates_a_living_system_and_migrate_is_idempotent() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("demo");
    let output = aidant().args(["demo", "--no-serve", "--reports", "40", "--data-dir"]).arg(&data_dir).output().unwrap();
    let printed = assert_success(&output);
    assert!(printed.contains("call.handler@beds.police.example") && printed.contains("aidant-demo-password"), "the demo prints sign-in details: {printed}");
    assert!(data_dir.join("aidant.db").is_file() && !data_dir.join("master.key").exists());
    assert!(parent.path().join("demo-keys/master.key").is_file(), "the key is kept beside the data, not in it");
    let migrate = aidant().arg("migrate").env("AIDANT_DATA_DIR", &data_dir).output().unwrap();
    assert!(stdout(&migrate).contains("0 migration(s) applied"), "{}", stderr(&migrate));
    let verify = aidant().args(["audit", "verify"]).env("AIDANT_DATA_DIR", &data_dir).output().unwrap();
    // 40 reports, the receiving force, and a password for each of the 19
    // demo users (the force's seven roles, and a partner and an
    // administrator in each of the six other organisations): 60; then the
    // 12 potential victims' cases, each given an officer (24), 10 with
    // their dates (34), 38 referral pages saved and 3 referrals completed
    // (75), and 3 support referrals with 7 kinds of support recorded (85).
    // (Operation Aidant comes with the story, from 100 reports.)
    assert!(printed.contains("12 potential victims' cases"), "{printed}");
    assert!(stdout(&verify).contains("audit chain OK: 145 entries"), "{}", stdout(&verify));
    assert!(printed.contains("administrator@glaa.example"), "partners have administrators of their own");
    assert!(data_dir.join(".aidant-demo").is_file());
}

#[test]
fn demo_uses_the_configuration_but_keeps_its_data_to_itself() {
    let setup = Setup::bare();
    let demo = |arguments: &[&str]| {
        let mut command = setup.command(arguments);
        command.env_remove("AIDANT_LISTEN");
        command.output().unwrap()
    };
    let file = setup.path("settings.toml");
    let other_database = setup.path("other.db");
    std::fs::write(&file, format!("listen = \"127.0.0.1:9123\"\ndatabase_url = \"sqlite://{}\"\n", other_database.display())).unwrap();
    let file = file.to_str().unwrap();
    let printed = assert_success(&demo(&["--config", file, "demo", "--no-serve", "--reports", "3", "--data-dir", "demo"]));
    assert!(printed.contains("http://127.0.0.1:9123/staff/sign-in"), "the file's listen address is used: {printed}");
    assert!(setup.path("demo/aidant.db").is_file(), "the demo's own database");
    assert!(!other_database.exists(), "the configured database is never touched by the demo");

    std::fs::write(setup.path("settings.toml"), "catalogue_file = \"missing-catalogue.toml\"\n").unwrap();
    assert_one_line_failure(&demo(&["--config", file, "demo", "--no-serve", "--data-dir", "demo"]), &["setting catalogue_file"]);
    std::fs::write(setup.path("settings.toml"), "people_model_file = \"missing-model.json\"\n").unwrap();
    assert_one_line_failure(&demo(&["--config", file, "demo", "--no-serve", "--data-dir", "demo"]), &["setting people_model_file", "missing-model.json"]);
    std::fs::write(setup.path("not-a-model.json"), "{\"format_version\": 1}").unwrap();
    std::fs::write(setup.path("settings.toml"), "people_model_file = \"not-a-model.json\"\n").unwrap();
    assert_one_line_failure(
        &demo(&["--config", file, "demo", "--no-serve", "--data-dir", "demo"]),
        &["setting people_model_file", "not a model saved by aidant link"],
    );
    assert_one_line_failure(
        &demo(&["--config", "missing.toml", "demo", "--no-serve", "--data-dir", "demo"]),
        &["configuration file missing.toml does not exist"],
    );
    assert!(setup.path("demo/aidant.db").is_file(), "a bad configuration stops the demo before it deletes anything");
}

/// Every command that reads an existing database, with what it needs besides.
const READING_COMMANDS: [&[&str]; 8] = [
    &["audit", "verify"],
    &["audit", "checkpoint", "--out", "head.json"],
    &["users", "list"],
    &["organisations", "list"],
    &["keys", "status"],
    &["entities", "status"],
    &["worker"],
    &["graph", "communities", "--from-database"],
];

#[test]
fn commands_that_read_a_database_say_when_there_is_none_and_create_nothing() {
    let setup = Setup { master_key_hex: Some("ab".repeat(32)), ..Setup::bare() };
    let missing = setup.path("nowhere");
    for arguments in READING_COMMANDS {
        let output = setup.command(arguments).env("AIDANT_DATA_DIR", &missing).output().unwrap();
        assert_one_line_failure(&output, &["there is no Aidant database at", "nowhere/aidant.db"]);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: a failure the operator can fix");
        assert!(!missing.exists(), "{arguments:?} created {}", missing.display());
    }
    // A file that is not an Aidant database is refused the same way, untouched.
    std::fs::create_dir(&missing).unwrap();
    std::fs::write(missing.join("aidant.db"), b"").unwrap();
    assert_one_line_failure(&setup.command(&["audit", "verify"]).env("AIDANT_DATA_DIR", &missing).output().unwrap(), &["there is no Aidant database at"]);
    assert_eq!(std::fs::metadata(missing.join("aidant.db")).unwrap().len(), 0);
}

/// A new, empty PostgreSQL database on the test server: the server's
/// store (to drop it afterwards), its name and its URL.
async fn empty_postgres_database(purpose: &str) -> (aidant_store::Store, String, String) {
    let admin_url = aidant_store::testing::postgres_admin_url();
    let admin = aidant_store::Store::connect(&admin_url, &Default::default(), None).await.expect("PostgreSQL is required for this test");
    let name = format!("aidant_test_{purpose}_{}", aidant_store::new_id().replace('-', ""));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin.pool()).await.unwrap();
    let url = aidant_store::testing::replace_database(&admin_url, &name);
    (admin, name, url)
}

#[tokio::test]
async fn on_postgresql_an_empty_database_is_refused_and_left_empty() {
    let (admin, name, url) = empty_postgres_database("empty").await;
    let setup = Setup { database_url: Some(url.clone()), master_key_hex: Some("ab".repeat(32)), ..Setup::bare() };
    for arguments in READING_COMMANDS {
        assert_one_line_failure(&setup.run(arguments), &["there is no Aidant database at", &name]);
    }
    let database = aidant_store::Store::connect(&url, &Default::default(), None).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'").fetch_one(database.pool()).await.unwrap();
    database.close().await;
    assert_eq!(tables, 0, "nothing was created in the empty database");
    // `migrate` is the command that makes one.
    assert!(stdout(&setup.run(&["migrate"])).contains("migration(s) applied"));
    assert_success(&setup.run(&["users", "list"]));
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(admin.pool()).await.unwrap();
    admin.close().await;
}

#[test]
fn every_command_reaches_the_demo_with_data_dir_and_is_told_where_it_is() {
    let directory = tempfile::tempdir().unwrap();
    let run = |arguments: &[&str]| aidant().args(arguments).current_dir(directory.path()).output().unwrap();
    assert_success(&run(&["demo", "--no-serve", "--reports", "3"]));
    assert!(directory.path().join("aidant-demo-data/aidant.db").is_file(), "the demo's default directory");
    // Without --data-dir the default aidant-data has nothing: the message points at the demo's.
    let output = run(&["audit", "verify"]);
    assert_one_line_failure(&output, &["there is no Aidant database at aidant-data/aidant.db", "add --data-dir aidant-demo-data"]);
    assert!(!directory.path().join("aidant-data").exists(), "nothing created where there was nothing");
    assert!(assert_success(&run(&["audit", "verify", "--data-dir", "aidant-demo-data"])).contains("audit chain OK"));
    assert!(assert_success(&run(&["--data-dir", "aidant-demo-data", "users", "list"])).contains("analyst@beds.police.example"));
    assert!(assert_success(&run(&["keys", "status", "--data-dir", "aidant-demo-data"])).contains("current master key"));
    let database = format!("sqlite://{}", directory.path().join("aidant-demo-data/aidant.db").display());
    assert!(assert_success(&run(&["organisations", "list", "--database-url", &database])).contains("Bedfordshire"));
    assert_one_line_failure(
        &run(&["demo", "--no-serve", "--database-url", &database]),
        &["the demo makes its own SQLite database", "an empty PostgreSQL database"],
    );
}

#[tokio::test]
async fn the_demo_fills_an_empty_postgresql_database_and_refuses_a_used_one() {
    let (admin, name, url) = empty_postgres_database("demo").await;
    let directory = tempfile::tempdir().unwrap();
    let run = |arguments: &[&str]| aidant().args(arguments).current_dir(directory.path()).output().unwrap();
    let demo = |data: &str| run(&["--database-url", &url, "--data-dir", data, "demo", "--no-serve", "--reports", "120"]);
    let printed = assert_success(&demo("first"));
    assert!(printed.contains("Operation Aidant"), "the story is planted: {printed}");
    let reports = || async {
        let store = aidant_store::Store::connect(&url, &Default::default(), None).await.unwrap();
        let count = store.count_reports().await.unwrap();
        store.close().await;
        count
    };
    let planted = reports().await;
    assert!(planted > 120, "the ordinary reports and the story's: {planted}");
    assert!(!directory.path().join("first/aidant.db").exists(), "no SQLite database beside the PostgreSQL one");
    assert!(assert_success(&run(&["--database-url", &url, "users", "list"])).contains("analyst@glaa.example"));
    assert!(assert_success(&run(&["--database-url", &url, "--data-dir", "first", "audit", "verify"])).contains("audit chain OK"));

    // Again on the same database: refused before anything is deleted or written.
    std::fs::create_dir(directory.path().join("second")).unwrap();
    std::fs::write(directory.path().join("second/.aidant-demo"), b"").unwrap();
    std::fs::write(directory.path().join("second/keep"), b"kept").unwrap();
    assert_one_line_failure(&demo("second"), &["already holds Aidant's tables", "the demo fills only an empty database", &name]);
    assert_eq!(reports().await, planted, "nothing was added");
    assert_eq!(std::fs::read(directory.path().join("second/keep")).unwrap(), b"kept", "the directory was not reset");
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(admin.pool()).await.unwrap();
    admin.close().await;
}
