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
