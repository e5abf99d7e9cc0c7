//! What every CLI test shares: the binary with only the settings a test
//! gives it, a private data directory, a running server, plain HTTP, reports
//! stored directly, and assertions on how a command ended.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aidant_core::ReportRef;
use aidant_core::report::ReportAnswers;
use aidant_store::Store;
use aidant_store::reports::Receipt;
use aidant_store::testing::TestDatabase;

/// A public report whose narrative holds a name no log line may show.
pub const REPORT: &str = r#"{"sector":"car_wash","town":"Dunstable","signs":["no_protective_equipment","workers_living_on_site"],"narrative":"Distinctive-narrative-Zamfirescu sleeps in the caravan."}"#;

/// The binary with none of the caller's `AIDANT_*` settings, so a test
/// depends only on what it sets, and with panics kept short.
pub fn aidant() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aidant"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AIDANT_") {
            command.env_remove(name);
        }
    }
    command.env("RUST_BACKTRACE", "0").env("RUST_LIB_BACKTRACE", "0");
    command
}

/// Settings for runs of the binary: a private data directory (also the
/// working directory), a key directory apart from it and, when given, the
/// database and the master key.
pub struct Setup {
    pub data_dir: tempfile::TempDir,
    pub key_dir: tempfile::TempDir,
    pub database_url: Option<String>,
    /// `Some` puts the key in AIDANT_MASTER_KEY; `None` leaves it to the key file.
    pub master_key_hex: Option<String>,
}

impl Setup {
    /// The defaults: SQLite, and the key files in the key directory.
    pub fn bare() -> Self {
        Setup { data_dir: tempfile::tempdir().unwrap(), key_dir: tempfile::tempdir().unwrap(), database_url: None, master_key_hex: None }
    }

    /// The test database, with its key in the environment.
    pub fn for_database(database: &TestDatabase) -> Self {
        Setup { database_url: Some(database.url.clone()), master_key_hex: Some(database.master_key.to_hex()), ..Setup::bare() }
    }

    /// The test database, with its key in `KEY_DIR/master.key` as `aidant serve` keeps it.
    pub fn with_key_file(database: &TestDatabase) -> Self {
        let setup = Setup { database_url: Some(database.url.clone()), ..Setup::bare() };
        std::fs::write(setup.key_file(), database.master_key.to_hex()).unwrap();
        setup
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.data_dir.path().join(name)
    }

    /// A file in the key directory.
    pub fn key_path(&self, name: &str) -> PathBuf {
        self.key_dir.path().join(name)
    }

    pub fn key_file(&self) -> PathBuf {
        self.key_path("master.key")
    }

    /// The binary in the data directory, listening on any free port.
    pub fn command(&self, arguments: &[&str]) -> Command {
        let mut command = aidant();
        command
            .args(arguments)
            .current_dir(self.data_dir.path())
            .env("AIDANT_DATA_DIR", self.data_dir.path())
            .env("AIDANT_KEY_DIR", self.key_dir.path())
            .env("AIDANT_LISTEN", "127.0.0.1:0");
        if let Some(url) = &self.database_url {
            command.env("AIDANT_DATABASE_URL", url);
        }
        if let Some(key) = &self.master_key_hex {
            command.env("AIDANT_MASTER_KEY", key);
        }
        command
    }

    pub fn run(&self, arguments: &[&str]) -> Output {
        self.command(arguments).output().unwrap()
    }

    pub fn run_with_stdin(&self, arguments: &[&str], input: &str) -> Output {
        let mut child = self.command(arguments).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

/// A running `aidant serve`; killed if the test ends early.
pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
    /// The metrics listener's, when `AIDANT_METRICS_LISTEN` was given.
    pub metrics_address: Option<SocketAddr>,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts the server (with global options before `serve`) and waits until it listens.
    pub fn start(setup: &Setup, extra_arguments: &[&str]) -> Self {
        Self::start_with(setup, extra_arguments, &[])
    }

    /// As `start`, with settings of its own in the environment.
    pub fn start_with(setup: &Setup, extra_arguments: &[&str], environment: &[(&str, &str)]) -> Self {
        let stderr_path = setup.path(&format!("stderr-{}.log", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut arguments = extra_arguments.to_vec();
        arguments.push("serve");
        let mut command = setup.command(&arguments);
        command.envs(environment.iter().copied());
        let mut child = command.stdout(Stdio::piped()).stderr(stderr).spawn().expect("aidant starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Metrics for operators at http://") {
                    let _ = sender.send((false, rest.trim_end_matches("/metrics").to_owned()));
                }
                if let Some(rest) = line.strip_prefix("Aidant is listening on http://") {
                    let address = rest.split_whitespace().next().unwrap().to_owned();
                    let _ = sender.send((true, address));
                }
            }
        });
        let mut metrics_address = None;
        let address = loop {
            let (listening, address) = receiver
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("the server did not start: {}", std::fs::read_to_string(&stderr_path).unwrap_or_default()));
            if listening {
                break address;
            }
            metrics_address = Some(address.parse().unwrap());
        };
        Server { child, address: address.parse().unwrap(), metrics_address, stderr_path }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    pub fn wait_for_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
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
pub fn http(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    read_response(send_request(address, method, path, headers, body))
}

/// Sends one request on a fresh connection (closed by the server after its
/// answer) and returns the connection to read the answer from.
pub fn send_request(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

pub fn read_response(mut stream: TcpStream) -> (u16, String) {
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// What became of one report posted from a client thread.
pub enum Posted {
    /// 201 and a body read in full: the server acknowledged it.
    Acknowledged(ReportRef),
    /// No connection (the server was down or restarting).
    NotConnected,
    /// Connected, but no acknowledgement: cut when the server was killed.
    Cut,
}

pub fn try_post_report(address: SocketAddr) -> Posted {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else { return Posted::NotConnected };
    send_report(&mut stream, address).map_or(Posted::Cut, Posted::Acknowledged)
}

fn send_report(stream: &mut TcpStream, address: SocketAddr) -> Option<ReportRef> {
    stream.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let request = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{REPORT}",
        REPORT.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    std::io::Read::read_to_string(stream, &mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    if head.split_whitespace().nth(1) != Some("201") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    ReportRef::parse(value["reference"].as_str()?).ok()
}

/// Client threads that post public reports without pause to whichever
/// address `address` holds (a test swaps it when it restarts the server),
/// counting what was acknowledged and what a kill cut off.
pub struct Load {
    pub address: Arc<Mutex<SocketAddr>>,
    stop: Arc<AtomicBool>,
    pub attempts: Arc<AtomicUsize>,
    pub cut: Arc<AtomicUsize>,
    acknowledged: Arc<Mutex<Vec<ReportRef>>>,
    clients: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    pub fn start(address: SocketAddr, clients: usize) -> Self {
        let mut load = Load {
            address: Arc::new(Mutex::new(address)),
            stop: Arc::default(),
            attempts: Arc::default(),
            cut: Arc::default(),
            acknowledged: Arc::default(),
            clients: Vec::new(),
        };
        for _ in 0..clients {
            let (address, stop, attempts, cut, acknowledged) =
                (load.address.clone(), load.stop.clone(), load.attempts.clone(), load.cut.clone(), load.acknowledged.clone());
            load.clients.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    attempts.fetch_add(1, Ordering::Relaxed);
                    let target = *address.lock().unwrap();
                    match try_post_report(target) {
                        Posted::Acknowledged(reference) => acknowledged.lock().unwrap().push(reference),
                        Posted::Cut => {
                            cut.fetch_add(1, Ordering::Relaxed);
                        }
                        Posted::NotConnected => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            }));
        }
        load
    }

    /// Waits until `count` more posts have been tried.
    pub fn wait_for_attempts(&self, count: usize) {
        let before = self.attempts.load(Ordering::Relaxed);
        while self.attempts.load(Ordering::Relaxed) < before + count {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The references acknowledged so far.
    pub fn acknowledged(&self) -> Vec<ReportRef> {
        self.acknowledged.lock().unwrap().clone()
    }

    /// Stops the clients and returns every reference acknowledged.
    pub fn stop(mut self) -> Vec<ReportRef> {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients.drain(..) {
            client.join().unwrap();
        }
        self.acknowledged()
    }
}

/// Posts a public report through the API and returns its reference.
pub fn post_report(address: SocketAddr, headers: &[(&str, &str)], body: &str) -> ReportRef {
    let mut all_headers = vec![("Content-Type", "application/json")];
    all_headers.extend_from_slice(headers);
    let (status, answer) = http(address, "POST", "/api/v1/reports", &all_headers, body);
    assert_eq!(status, 201, "{answer}");
    reference_from(&answer)
}

pub fn reference_from(body: &str) -> ReportRef {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    ReportRef::parse(value["reference"].as_str().unwrap()).unwrap()
}

/// Stores a public report with these answers straight through the store.
pub async fn insert_report(store: &Store, answers: &ReportAnswers) -> Receipt {
    aidant_store::testing::submit_report(store, answers, None).await
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit code 0; returns stdout.
pub fn assert_success(output: &Output) -> String {
    assert!(output.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", output.status, stdout(output), stderr(output));
    stdout(output)
}

/// A failure whose stderr names the problem, never a panic.
pub fn assert_failure_naming(output: &Output, expected: &str) -> String {
    let text = stderr(output);
    assert!(!output.status.success(), "expected a failure mentioning {expected:?}");
    assert!(text.contains(expected), "stderr names the problem ({expected:?}): {text}");
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// Exit code 1 and stdout containing every one of `expected`.
pub fn assert_fails_saying(output: &Output, expected: &[&str]) -> String {
    let text = stdout(output);
    assert_eq!(output.status.code(), Some(1), "stdout: {text}\nstderr: {}", stderr(output));
    for words in expected {
        assert!(text.contains(words), "{words:?} not in: {text}");
    }
    assert!(!stderr(output).contains("panicked"));
    text
}

/// Exit code 2 and exactly one line on stderr, `aidant: error: ...`,
/// containing every one of `expected`, with no panic or backtrace.
pub fn assert_one_line_failure(output: &Output, expected: &[&str]) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "exit code for {expected:?}: {text}");
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line for {expected:?}: {text}");
    assert!(lines[0].starts_with("aidant: error: "), "{text}");
    for words in expected {
        assert!(lines[0].contains(words), "{words:?} not in: {text}");
    }
    assert!(!text.contains("panicked") && !text.contains("backtrace"), "{text}");
}
