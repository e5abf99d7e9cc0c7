//! `aidant serve` as an operator meets it: durable acknowledgements under
//! SIGKILL, draining on SIGTERM, logs free of personal data, and one-line
//! start-up failures with exit code 2.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aidant_store::testing::TestDatabase;
use aidant_store::{Backend, Store, StoreOptions};

use crate::helpers::{Load, REPORT, Server, Setup, assert_one_line_failure, post_report, read_response, reference_from};

/// Reports arrive from many connections while the server is killed with
/// SIGKILL again and again; after each restart the clients carry on. Every
/// report the server acknowledged is stored, exactly once, and the audit
/// chain (written in the same transactions) verifies.
async fn acknowledged_reports_survive_repeated_sigkill_under_load(database: TestDatabase) {
    const CLIENTS: usize = 8;
    const KILLS: usize = 4;
    let setup = Setup::for_database(&database);
    let no_flood_limit = [("AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")];
    let mut server = Server::start_with(&setup, &[], &no_flood_limit);
    let load = Load::start(server.address, CLIENTS);
    for _ in 0..KILLS {
        // Let reports flow, then kill in the middle of them.
        load.wait_for_attempts(60);
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        server = Server::start_with(&setup, &[], &no_flood_limit);
        *load.address.lock().unwrap() = server.address;
    }
    load.wait_for_attempts(40);
    let cut = load.cut.load(Ordering::Relaxed);
    let acknowledged = load.stop();
    server.signal("TERM");
    server.wait_for_exit(Duration::from_secs(30));

    assert!(acknowledged.len() >= 200, "reports were acknowledged between the kills: {}", acknowledged.len());
    assert!(cut >= KILLS, "the kills cut requests in flight: {cut} cut");
    let unique: HashSet<String> = acknowledged.iter().map(|reference| reference.as_compact().to_owned()).collect();
    assert_eq!(unique.len(), acknowledged.len(), "no reference acknowledged twice");
    let store = Store::connect(&database.url, &StoreOptions::default(), None).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT reference FROM reports").fetch_all(store.pool()).await.unwrap();
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for reference in &stored {
        *copies.entry(reference.as_str()).or_default() += 1;
    }
    let missing: Vec<&String> = unique.iter().filter(|reference| !copies.contains_key(reference.as_str())).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged reports lost after {KILLS} SIGKILLs: {missing:?}", missing.len(), unique.len());
    assert!(copies.values().all(|count| *count == 1), "every report is stored once");
    let verification = store.verify_audit_chain().await.unwrap();
    assert!(verification.is_ok(), "the audit chain verifies after {KILLS} SIGKILLs: {verification:?}");
    let output = setup.run(&["audit", "verify"]);
    assert!(crate::helpers::stdout(&output).contains("audit chain OK"), "{}", crate::helpers::stderr(&output));
    store.close().await;
}

async fn sigterm_finishes_the_request_in_flight(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let mut server = Server::start(&setup, &[]);
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head =
        format!("POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", REPORT.len());
    let (first_half, second_half) = REPORT.split_at(REPORT.len() / 2);
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first_half.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(second_half.as_bytes()).unwrap();
    let (status, body) = read_response(stream);
    assert_eq!(status, 201, "the request in flight completes: {body}");
    let exit = server.wait_for_exit(Duration::from_secs(20));
    assert!(exit.success(), "a clean exit after SIGTERM: {exit:?}");
    assert!(TcpStream::connect(server.address).is_err(), "no new connections after shutdown");
    let store = Store::connect(&database.url, &StoreOptions::default(), None).await.unwrap();
    assert!(store.find_report_by_reference(&reference_from(&body)).await.unwrap().is_some());
}

async fn logs_hold_no_personal_data_or_request_identity(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let server = Server::start(&setup, &["--log-format", "json"]);
    let headers = [("User-Agent", "Mozilla/5.0 DistinctiveAgent/9.9"), ("X-Forwarded-For", "203.0.113.77")];
    post_report(server.address, &headers, REPORT);
    std::thread::sleep(Duration::from_millis(200));
    let logs = server.stderr();
    assert!(logs.lines().any(|line| line.starts_with('{') && line.contains("report received")), "JSON logs record the event: {logs}");
    for secret in ["Zamfirescu", "DistinctiveAgent", "203.0.113.77", "127.0.0.1:"] {
        let found_in_log = logs.lines().filter(|line| !line.contains("listening")).any(|line| line.contains(secret));
        assert!(!found_in_log, "{secret} appears in the logs");
    }
    let rows: Vec<String> = match database.store.backend() {
        Backend::Sqlite => sqlx::query_scalar("SELECT id || reference || COALESCE(narrative, '') || COALESCE(town, '') FROM reports")
            .fetch_all(database.store.pool())
            .await
            .unwrap(),
        Backend::Postgres => sqlx::query_scalar("SELECT row_to_json(r)::text FROM reports r").fetch_all(database.store.pool()).await.unwrap(),
    };
    for row in rows {
        assert!(!row.contains("DistinctiveAgent") && !row.contains("203.0.113.77"), "request identity stored with the report");
    }
}

aidant_store::backend_tests!(
    acknowledged_reports_survive_repeated_sigkill_under_load,
    sigterm_finishes_the_request_in_flight,
    logs_hold_no_personal_data_or_request_identity
);

#[test]
fn an_unreachable_postgres_is_one_line_and_exit_2() {
    let setup = Setup { database_url: Some("postgres://postgres@127.0.0.1:1/aidant".into()), ..Setup::bare() };
    assert_one_line_failure(&setup.run(&["serve"]), &["Connection refused"]);
}

#[test]
fn a_malformed_config_file_is_one_line_and_exit_2() {
    let setup = Setup::bare();
    let file = setup.path("broken.toml");
    let serve_with_file = || {
        let mut command = setup.command(&["--config", file.to_str().unwrap(), "serve"]);
        command.env_remove("AIDANT_LISTEN");
        command.output().unwrap()
    };
    std::fs::write(&file, "listen = \"127.0.0.1:8080\"\ndatabase_url = [\n").unwrap();
    assert_one_line_failure(&serve_with_file(), &["broken.toml"]);
    std::fs::write(&file, "listen = \"not an address\"\n").unwrap();
    assert_one_line_failure(&serve_with_file(), &["setting listen"]);
    std::fs::write(&file, "lisen = \"127.0.0.1:8080\"\n").unwrap();
    assert_one_line_failure(&serve_with_file(), &["setting lisen"]);
}

#[test]
fn a_bad_environment_setting_is_one_line_and_exit_2() {
    let setup = Setup::bare();
    let mut command = setup.command(&["serve"]);
    command.env("AIDANT_MASTER_KEY", "too-short");
    assert_one_line_failure(&command.output().unwrap(), &["master_key"]);
}

/// The keys are kept apart from the data: a key file inside the data
/// directory stops start-up, and one an earlier version left there must be
/// moved rather than replaced by a new key that opens nothing.
#[test]
fn a_key_file_in_the_data_directory_stops_start_up_until_it_is_moved() {
    let setup = Setup::bare();
    let mut inside = setup.command(&["serve"]);
    inside.env("AIDANT_KEY_FILE", setup.path("master.key"));
    assert_one_line_failure(&inside.output().unwrap(), &["setting key_file", "inside the data directory"]);
    assert!(!setup.path("master.key").exists(), "no key is made where it was refused");

    std::fs::write(setup.path("master.key"), "ab".repeat(32)).unwrap();
    assert_one_line_failure(&setup.command(&["serve"]).output().unwrap(), &["move it to", &setup.key_file().display().to_string()]);
    assert!(!setup.key_file().exists(), "no new key is made beside the old one");
    std::fs::rename(setup.path("master.key"), setup.key_file()).unwrap();
    let server = Server::start(&setup, &[]);
    drop(server);
    assert_eq!(std::fs::read_to_string(setup.key_file()).unwrap(), "ab".repeat(32), "the moved key is the one in use");
}

/// A read-only mount of an empty directory (root ignores permission bits,
/// so a bind mount is the honest way to be read-only as root).
struct ReadOnlyMount {
    path: std::path::PathBuf,
    mounted: bool,
    _directory: tempfile::TempDir,
}

impl ReadOnlyMount {
    fn new() -> Self {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().to_path_buf();
        let is_root = Command::new("id").arg("-u").output().map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0").unwrap_or(false);
        let mounted = if is_root {
            let bind = Command::new("mount").args(["--bind"]).arg(&path).arg(&path).status().map(|status| status.success()).unwrap_or(false);
            assert!(bind, "as root, the test needs `mount --bind` to make a read-only directory");
            let remount = Command::new("mount").args(["-o", "remount,ro,bind"]).arg(&path).status().map(|status| status.success()).unwrap_or(false);
            assert!(remount, "as root, the test needs `mount -o remount,ro,bind`");
            true
        } else {
            let mut permissions = std::fs::metadata(&path).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o555);
            std::fs::set_permissions(&path, permissions).unwrap();
            false
        };
        ReadOnlyMount { path, mounted, _directory: directory }
    }
}

impl Drop for ReadOnlyMount {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.path).status();
        } else {
            let mut permissions = std::fs::metadata(&self.path).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
            let _ = std::fs::set_permissions(&self.path, permissions);
        }
    }
}

#[test]
fn a_read_only_data_directory_is_one_line_and_exit_2() {
    let read_only = ReadOnlyMount::new();
    let setup = Setup::bare();
    let mut command = setup.command(&["serve"]);
    command.env("AIDANT_DATA_DIR", &read_only.path);
    assert_one_line_failure(&command.output().unwrap(), &[&read_only.path.display().to_string()]);
    assert!(std::fs::read_dir(&read_only.path).unwrap().next().is_none(), "nothing was written");
}
