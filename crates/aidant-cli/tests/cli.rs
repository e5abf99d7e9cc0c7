//! The `aidant` binary as an operator meets it: real processes, real
//! sockets, real signals, on both backends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aidant_core::report::{ReportAnswers, VehicleAnswer};
use aidant_core::{Catalogue, NewReport, ReportRef};
use aidant_store::reports::Submission;
use aidant_store::testing::TestDatabase;
use aidant_store::{Backend, Store, StoreOptions};

const AIDANT: &str = env!("CARGO_BIN_EXE_aidant");

/// Settings for one run of the binary: a private data directory and, for
/// PostgreSQL, the test database's URL and key.
struct Setup {
    data_dir: tempfile::TempDir,
    database_url: Option<String>,
    master_key_hex: Option<String>,
}

impl Setup {
    fn for_database(database: &TestDatabase) -> Self {
        Setup { data_dir: tempfile::tempdir().unwrap(), database_url: Some(database.url.clone()), master_key_hex: Some(database.master_key.to_hex()) }
    }

    fn command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(AIDANT);
        command
            .args(arguments)
            .current_dir(self.data_dir.path())
            .env("AIDANT_DATA_DIR", self.data_dir.path())
            .env("AIDANT_LISTEN", "127.0.0.1:0")
            .env_remove("AIDANT_CONFIG");
        if let Some(url) = &self.database_url {
            command.env("AIDANT_DATABASE_URL", url);
        }
        if let Some(key) = &self.master_key_hex {
            command.env("AIDANT_MASTER_KEY", key);
        }
        command
    }
}

/// A running `aidant serve`; killed if the test ends early.
struct Server {
    child: Child,
    address: SocketAddr,
    stderr_path: std::path::PathBuf,
}

impl Server {
    fn start(setup: &Setup, extra_arguments: &[&str]) -> Self {
        let stderr_path =
            setup.data_dir.path().join(format!("stderr-{}.log", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut arguments = extra_arguments.to_vec();
        arguments.push("serve");
        let mut child = setup.command(&arguments).stdout(Stdio::piped()).stderr(stderr).spawn().expect("aidant starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Aidant is listening on http://") {
                    let address = rest.split_whitespace().next().unwrap().to_owned();
                    let _ = sender.send(address);
                }
            }
        });
        let address = receiver
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server did not start: {}", std::fs::read_to_string(&stderr_path).unwrap_or_default()));
        Server { child, address: address.parse().unwrap(), stderr_path }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    fn wait_for_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < limit, "the server did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 exchange over a fresh connection.
fn http(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    read_response(stream)
}

fn read_response(mut stream: TcpStream) -> (u16, String) {
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

const REPORT: &str = r#"{"sector":"car_wash","town":"Dunstable","signs":["no_protective_equipment","workers_living_on_site"],"narrative":"Distinctive-narrative-Zamfirescu sleeps in the caravan."}"#;

fn reference_from(body: &str) -> ReportRef {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    ReportRef::parse(value["reference"].as_str().unwrap()).unwrap()
}

async fn an_acknowledged_report_survives_sigkill(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let mut server = Server::start(&setup, &[]);
    let (status, body) = http(server.address, "POST", "/api/v1/reports", &[("Content-Type", "application/json")], REPORT);
    assert_eq!(status, 201, "{body}");
    let reference = reference_from(&body);
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let restarted = Server::start(&setup, &[]);
    let (ready, _) = http(restarted.address, "GET", "/readyz", &[], "");
    assert_eq!(ready, 200, "the server restarts after being killed");
    let store = Store::connect(&database.url, &StoreOptions::default(), None).await.unwrap();
    let found = store.find_report_by_reference(&reference).await.unwrap();
    assert!(found.is_some(), "the acknowledged report is on disk after SIGKILL");
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

async fn audit_verify_names_the_first_tampered_entry(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let server = Server::start(&setup, &[]);
    for _ in 0..4 {
        let (status, _) = http(server.address, "POST", "/api/v1/reports", &[("Content-Type", "application/json")], REPORT);
        assert_eq!(status, 201);
    }
    drop(server);
    let intact = setup.command(&["audit", "verify"]).output().unwrap();
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("audit chain OK: 4 entries"));

    sqlx::query("UPDATE audit_log SET action = 'report.view' WHERE sequence = 3").execute(database.store.pool()).await.unwrap();
    let tampered = setup.command(&["audit", "verify"]).output().unwrap();
    assert_eq!(tampered.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&tampered.stdout);
    assert!(stdout.contains("BROKEN") && stdout.contains("entry 3"), "{stdout}");
}

async fn logs_hold_no_personal_data_or_request_identity(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let server = Server::start(&setup, &["--log-format", "json"]);
    let headers = [("Content-Type", "application/json"), ("User-Agent", "Mozilla/5.0 DistinctiveAgent/9.9"), ("X-Forwarded-For", "203.0.113.77")];
    let (status, body) = http(server.address, "POST", "/api/v1/reports", &headers, REPORT);
    assert_eq!(status, 201, "{body}");
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
    an_acknowledged_report_survives_sigkill,
    sigterm_finishes_the_request_in_flight,
    audit_verify_names_the_first_tampered_entry,
    logs_hold_no_personal_data_or_request_identity,
    graph_from_the_database_links_reports_through_what_they_mention,
    graph_from_the_database_uses_the_database_named_by_config,
);

/// Runs the binary and checks it failed with exit code 2 and exactly one
/// line on stderr naming the cause, with no panic or backtrace.
fn assert_one_line_failure(output: Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "exit code for {expected}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line for {expected}: {stderr}");
    assert!(lines[0].starts_with("aidant: error: ") && lines[0].contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"));
}

fn bare_setup() -> Setup {
    Setup { data_dir: tempfile::tempdir().unwrap(), database_url: None, master_key_hex: None }
}

#[test]
fn an_unreachable_postgres_is_one_line_and_exit_2() {
    let setup = Setup { database_url: Some("postgres://postgres@127.0.0.1:1/aidant".into()), ..bare_setup() };
    assert_one_line_failure(setup.command(&["serve"]).output().unwrap(), "Connection refused");
}

#[test]
fn a_malformed_config_file_is_one_line_and_exit_2() {
    let setup = bare_setup();
    let file = setup.data_dir.path().join("broken.toml");
    let command = |arguments: &[&str]| {
        let mut command = setup.command(arguments);
        command.env_remove("AIDANT_LISTEN");
        command
    };
    std::fs::write(&file, "listen = \"127.0.0.1:8080\"\ndatabase_url = [\n").unwrap();
    assert_one_line_failure(command(&["--config", file.to_str().unwrap(), "serve"]).output().unwrap(), "broken.toml");
    std::fs::write(&file, "listen = \"not an address\"\n").unwrap();
    assert_one_line_failure(command(&["--config", file.to_str().unwrap(), "serve"]).output().unwrap(), "setting listen");
    std::fs::write(&file, "lisen = \"127.0.0.1:8080\"\n").unwrap();
    assert_one_line_failure(command(&["--config", file.to_str().unwrap(), "serve"]).output().unwrap(), "setting lisen");
}

#[test]
fn a_bad_environment_setting_is_one_line_and_exit_2() {
    let setup = bare_setup();
    let mut command = setup.command(&["serve"]);
    command.env("AIDANT_MASTER_KEY", "too-short");
    assert_one_line_failure(command.output().unwrap(), "master_key");
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
    let setup = bare_setup();
    let mut command = setup.command(&["serve"]);
    command.env("AIDANT_DATA_DIR", &read_only.path);
    let output = command.output().unwrap();
    assert_one_line_failure(output, &read_only.path.display().to_string());
    assert!(std::fs::read_dir(&read_only.path).unwrap().next().is_none(), "nothing was written");
}

#[test]
fn config_prints_settings_without_secrets() {
    let setup =
        Setup { database_url: Some("postgres://aidant:hunter2-secret@db.internal:5432/aidant".into()), master_key_hex: Some("ab".repeat(32)), ..bare_setup() };
    let output = setup.command(&["config"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("postgres://aidant:[redacted]@db.internal:5432/aidant"), "{stdout}");
    assert!(!stdout.contains("hunter2") && !stdout.contains(&"ab".repeat(32)), "{stdout}");
}

#[test]
fn help_and_version_work() {
    let help = Command::new(AIDANT).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for word in ["serve", "migrate", "demo", "config", "audit", "Examples:"] {
        assert!(text.contains(word), "--help mentions {word}");
    }
    let version = Command::new(AIDANT).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("aidant {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn demo_creates_a_living_system_and_migrate_is_idempotent() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("demo");
    let output = Command::new(AIDANT).args(["demo", "--no-serve", "--reports", "40", "--data-dir"]).arg(&data_dir).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("call.handler@beds.police.example") && printed.contains("aidant-demo-password"), "the demo prints sign-in details: {printed}");
    assert!(data_dir.join("aidant.db").is_file() && data_dir.join("master.key").is_file());
    let migrate = Command::new(AIDANT).arg("migrate").env("AIDANT_DATA_DIR", &data_dir).env_remove("AIDANT_DATABASE_URL").output().unwrap();
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("0 migration(s) applied"), "{}", String::from_utf8_lossy(&migrate.stderr));
    let verify = Command::new(AIDANT).args(["audit", "verify"]).env("AIDANT_DATA_DIR", &data_dir).env_remove("AIDANT_DATABASE_URL").output().unwrap();
    // 40 reports, the receiving force, and a password for each of the 13 demo users.
    assert!(String::from_utf8_lossy(&verify.stdout).contains("audit chain OK: 54 entries"), "{}", String::from_utf8_lossy(&verify.stdout));
    assert!(Path::new(&data_dir).join(".aidant-demo").is_file());
}

#[test]
fn demo_uses_the_configuration_but_keeps_its_data_to_itself() {
    let setup = bare_setup();
    let demo = |arguments: &[&str]| {
        let mut command = setup.command(arguments);
        command.env_remove("AIDANT_LISTEN");
        command.output().unwrap()
    };
    let file = setup.data_dir.path().join("settings.toml");
    let other_database = setup.data_dir.path().join("other.db");
    std::fs::write(&file, format!("listen = \"127.0.0.1:9123\"\ndatabase_url = \"sqlite://{}\"\n", other_database.display())).unwrap();
    let file = file.to_str().unwrap();
    let output = demo(&["--config", file, "demo", "--no-serve", "--reports", "3", "--data-dir", "demo"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("http://127.0.0.1:9123/staff/sign-in"), "the file's listen address is used");
    assert!(setup.data_dir.path().join("demo/aidant.db").is_file(), "the demo's own database");
    assert!(!other_database.exists(), "the configured database is never touched by the demo");

    std::fs::write(setup.data_dir.path().join("settings.toml"), "catalogue_file = \"missing-catalogue.toml\"\n").unwrap();
    assert_one_line_failure(demo(&["--config", file, "demo", "--no-serve", "--data-dir", "demo"]), "setting catalogue_file");
    assert_one_line_failure(demo(&["--config", "missing.toml", "demo", "--no-serve", "--data-dir", "demo"]), "configuration file missing.toml does not exist");
    assert!(setup.data_dir.path().join("demo/aidant.db").is_file(), "a bad configuration stops the demo before it deletes anything");
}

async fn graph_from_the_database_links_reports_through_what_they_mention(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let server = Server::start(&setup, &[]);
    let van = r#"{"sector":"car_wash","town":"Luton","vehicles":[{"registration":"ab12 cde"}]}"#;
    let same_van = r#"{"sector":"nail_bar","town":"Bedford","vehicles":[{"registration":"AB12CDE"}],"business_name":"Star Nails"}"#;
    let elsewhere = r#"{"sector":"agriculture","postcode":"SG18 8AB"}"#;
    let mut references = Vec::new();
    for body in [van, same_van, elsewhere] {
        let (status, answer) = http(server.address, "POST", "/api/v1/reports", &[("Content-Type", "application/json")], body);
        assert_eq!(status, 201, "{answer}");
        references.push(reference_from(&answer).as_compact().to_owned());
    }
    drop(server);
    let output = setup.command(&["graph", "components", "--from-database", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let components = json["result"]["components"].as_array().unwrap();
    let component_of = |id: &str| components.iter().position(|component| component.as_array().unwrap().iter().any(|member| member == id)).unwrap();
    let van_report = format!("report:{}", references[0]);
    let same_van_report = format!("report:{}", references[1]);
    let elsewhere_report = format!("report:{}", references[2]);
    assert_eq!(component_of(&van_report), component_of(&same_van_report), "reports about one van are linked");
    assert_eq!(component_of("vehicle:AB12CDE"), component_of(&van_report));
    assert_ne!(component_of(&elsewhere_report), component_of(&van_report));
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'reports.network_read' AND actor = 'cli'")
        .fetch_one(database.store.pool())
        .await
        .unwrap();
    assert_eq!(audited, 1, "reading the network is audited");
}

/// Stores a public report with these answers; returns its compact reference.
async fn insert_report(store: &Store, answers: &ReportAnswers) -> String {
    let catalogue = Catalogue::from_toml(include_str!("../../../data/indicators.toml")).unwrap();
    let report = NewReport::parse(answers, &catalogue).unwrap();
    let triage = report.triage(&catalogue);
    let submission = Submission { report: &report, triage: &triage, catalogue_version: &catalogue.version, submission_token: None, passphrase_hash: None };
    let mut state = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut bits = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    store.insert_report(&submission, &mut bits).await.unwrap().reference.as_compact().to_owned()
}

/// `--config FILE` names the database, before or after the subcommand; the
/// data directory's own (empty) database is not read.
async fn graph_from_the_database_uses_the_database_named_by_config(database: TestDatabase) {
    let van = |registration: &str| ReportAnswers {
        sector: Some("car_wash".into()),
        town: Some("Luton".into()),
        vehicles: vec![VehicleAnswer { registration: Some(registration.into()), description: None }],
        ..ReportAnswers::default()
    };
    let first = insert_report(&database.store, &van("ab12 cde")).await;
    let second = insert_report(&database.store, &van("AB12CDE")).await;
    let setup = bare_setup();
    let migrated = setup.command(&["migrate"]).output().unwrap();
    assert!(migrated.status.success(), "the data directory has an empty database of its own: {}", String::from_utf8_lossy(&migrated.stderr));
    let file = setup.data_dir.path().join("elsewhere.toml");
    std::fs::write(&file, format!("database_url = \"{}\"\n", database.url)).unwrap();
    let file = file.to_str().unwrap();

    let graph = |arguments: &[&str]| -> serde_json::Value {
        let output = setup.command(arguments).output().unwrap();
        assert!(output.status.success(), "{arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    for arguments in
        [["--config", file, "graph", "components", "--from-database", "--json"], ["graph", "components", "--from-database", "--json", "--config", file]]
    {
        let json = graph(&arguments);
        assert_eq!(json["run"]["entity_count"], 3, "two reports and one van: {json}");
        let mut expected = vec![format!("report:{first}"), format!("report:{second}"), "vehicle:AB12CDE".to_owned()];
        expected.sort();
        let mut components: Vec<Vec<String>> = serde_json::from_value(json["result"]["components"].clone()).unwrap();
        components.iter_mut().for_each(|component| component.sort());
        assert_eq!(components, [expected], "one component: the van written two ways is one node ({arguments:?})");
    }
    let without = graph(&["graph", "components", "--from-database", "--json"]);
    assert_eq!(without["run"]["entity_count"], 0, "without --config, the data directory's database: {without}");
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'reports.network_read'").fetch_one(database.store.pool()).await.unwrap();
    assert_eq!(audited, 2, "each read of the named database is audited there");
}
