//! `aidant bench reports`: a reproducible whole-system benchmark of public
//! report intake, run against the real server on loopback.
//!
//! It starts `aidant serve` as a child process on a fresh data directory
//! (SQLite by default, or the empty database given with `--database-url`),
//! drives `GET /healthz` (the ceiling: the same server doing no work) and
//! then `POST /api/v1/reports` from a fixed number of keep-alive connections
//! for a fixed time, and reports throughput and latency. It then kills the
//! server with SIGKILL, so nothing can be flushed on the way out, reopens
//! the database and checks that every report acknowledged with 201 is there,
//! and that the audit chain verifies. This is a benchmark, not a test: the
//! figures depend on the machine, so they are recorded in
//! docs/benchmarks.md with the command that produced them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aidant_core::ReportRef;
use aidant_store::{Store, StoreOptions};
use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A request that takes longer than this counts as an error; it bounds how
/// long a run can last after its deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the server may take to become ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BenchCommand {
    /// Public report intake: POST /api/v1/reports beside GET /healthz, then a durability check.
    Reports(ReportsBenchArgs),
    /// The staff workspace with many reports: triage queue pages and search.
    Staff(crate::bench_staff::StaffBenchArgs),
    /// Field records: many phones syncing what they recorded offline at once.
    Field(crate::bench_field::FieldBenchArgs),
    /// Safe publication of potential victims' data: k-anonymised and
    /// synthetic files of many cases.
    Publication(crate::bench_publication::PublicationBenchArgs),
}

#[derive(Debug, clap::Args)]
struct ReportsBenchArgs {
    /// The database the server under test uses: the global `--database-url`,
    /// which should be fresh and empty (rows present before the run are
    /// subtracted). Default: a new SQLite file in a new temporary data directory.
    #[arg(skip)]
    database_url: Option<String>,
    /// Concurrent keep-alive connections, each with one request in flight.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// How long each endpoint is driven, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The most requests sent to each endpoint, so a run is bounded by count
    /// as well as by time.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// Reports written before the run (through the same group-commit
    /// writer, with a receiving police force), so intake is measured with
    /// that many already stored.
    #[arg(long, default_value_t = 0)]
    prefill: usize,
    /// A folder holding a prefilled SQLite database and its key: when it
    /// holds one, the run starts from a copy of it instead of prefilling;
    /// when it is empty or missing, the prefilled database is saved there
    /// for the next run. Each run works on its own copy.
    #[arg(long, value_name = "DIR", requires = "prefill")]
    snapshot: Option<PathBuf>,
}

impl BenchArgs {
    /// The benchmark run on `database_url` (the global `--database-url`)
    /// instead of a new SQLite file.
    pub fn on_database(mut self, database_url: Option<String>) -> Self {
        let slot = match &mut self.command {
            BenchCommand::Reports(arguments) => &mut arguments.database_url,
            BenchCommand::Staff(arguments) => &mut arguments.database_url,
            BenchCommand::Field(arguments) => &mut arguments.database_url,
            BenchCommand::Publication(arguments) => &mut arguments.database_url,
        };
        *slot = database_url;
        self
    }

    /// The database the benchmark will use, if not a new SQLite file.
    #[cfg(test)]
    pub fn database_url(&self) -> Option<&str> {
        match &self.command {
            BenchCommand::Reports(arguments) => arguments.database_url.as_deref(),
            BenchCommand::Staff(arguments) => arguments.database_url.as_deref(),
            BenchCommand::Field(arguments) => arguments.database_url.as_deref(),
            BenchCommand::Publication(arguments) => arguments.database_url.as_deref(),
        }
    }
}

pub async fn run(arguments: BenchArgs) -> anyhow::Result<ExitCode> {
    match arguments.command {
        BenchCommand::Reports(arguments) => run_reports(arguments).await,
        BenchCommand::Staff(arguments) => crate::bench_staff::run(arguments).await,
        BenchCommand::Field(arguments) => crate::bench_field::run(arguments).await,
        BenchCommand::Publication(arguments) => crate::bench_publication::run(arguments).await,
    }
}

/// Which endpoint a load phase drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Healthz,
    Reports,
}

impl Endpoint {
    fn label(self) -> &'static str {
        match self {
            Endpoint::Healthz => "GET /healthz",
            Endpoint::Reports => "POST /api/v1/reports",
        }
    }

    fn expected_status(self) -> StatusCode {
        match self {
            Endpoint::Healthz => StatusCode::OK,
            Endpoint::Reports => StatusCode::CREATED,
        }
    }

    fn request(self, address: SocketAddr, body: Option<String>) -> Request<Full<Bytes>> {
        let builder = Request::builder().header(hyper::header::HOST, address.to_string());
        let built = match (self, body) {
            (Endpoint::Reports, Some(body)) => {
                builder.method(Method::POST).uri("/api/v1/reports").header(hyper::header::CONTENT_TYPE, "application/json").body(Full::new(Bytes::from(body)))
            }
            _ => builder.method(Method::GET).uri("/healthz").body(Full::new(Bytes::new())),
        };
        built.expect("a request built from constant parts is valid")
    }
}

async fn run_reports(arguments: ReportsBenchArgs) -> anyhow::Result<ExitCode> {
    let connections = arguments.connections.max(1);
    let duration = Duration::from_secs(arguments.seconds.max(1));
    let run_id = format!("{}-{}", std::process::id(), aidant_store::now_ms());
    let data_dir = std::env::temp_dir().join(format!("aidant-bench-{run_id}"));
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let database_url = arguments.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", data_dir.join("aidant.db").display()));
    let backend = aidant_store::Backend::from_url(&database_url)?;
    let address = free_loopback_address()?;
    println!(
        "aidant bench reports: {} on {}, {connections} connections, {}s per endpoint, server log {}",
        backend.as_str(),
        address,
        duration.as_secs(),
        data_dir.join("server.log").display()
    );

    if arguments.prefill > 0 {
        match &arguments.snapshot {
            Some(snapshot) => prefill_from_snapshot(snapshot, &data_dir, &database_url, arguments.prefill).await?,
            None => prefill(&data_dir, &database_url, arguments.prefill).await?,
        }
    }
    let mut server = ServerProcess::start(&data_dir, address, &database_url)?;
    server.wait_until_ready(address).await?;
    let rows_before = open_store(&database_url).await?.count_reports().await?;

    let plan = |endpoint| LoadPlan { endpoint, address, connections, duration, max_requests: arguments.max_requests, run_id: run_id.clone() };
    let ceiling = drive(plan(Endpoint::Healthz)).await?;
    let intake = drive(plan(Endpoint::Reports)).await?;
    // SIGKILL, not a graceful stop: only what was durably committed before
    // each acknowledgement may count.
    server.kill()?;

    let store = open_store(&database_url).await?;
    let rows_after = store.count_reports().await?;
    let rows_added = rows_after - rows_before;
    let missing = missing_references(&store, &intake.acknowledged_references).await?;
    let chain = store.verify_audit_chain().await?;
    store.close().await;

    println!();
    println!("| backend | endpoint | requests/s | p50 ms | p99 ms | max ms | acknowledged | rows found | unexpected or failed |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (phase, rows) in [(&ceiling, None), (&intake, Some(rows_added))] {
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
            backend.as_str(),
            phase.endpoint.label(),
            phase.requests_per_second(),
            phase.latency_percentile_ms(50.0),
            phase.latency_percentile_ms(99.0),
            phase.latency_percentile_ms(100.0),
            if phase.endpoint == Endpoint::Reports { phase.acknowledged.to_string() } else { "-".to_owned() },
            rows.map_or_else(|| "-".to_owned(), |rows| rows.to_string()),
            phase.unexpected_or_failed(),
        );
    }
    println!();
    println!("reports/healthz throughput ratio: {:.1}%", 100.0 * intake.requests_per_second() / ceiling.requests_per_second().max(f64::MIN_POSITIVE));
    for phase in [&ceiling, &intake] {
        println!(
            "{} acknowledged in each second: {}",
            phase.endpoint.label(),
            phase.acknowledged_each_second.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
        );
    }
    for (status, count) in intake.statuses.iter().chain(ceiling.statuses.iter()) {
        if *status != 200 && *status != 201 {
            println!("unexpected status {status}: {count} responses");
        }
    }

    let acknowledged = intake.acknowledged as i64;
    let mut durable = true;
    println!(
        "durability: {acknowledged} acknowledged, {} of them found by reference after SIGKILL, {rows_added} rows added",
        intake.acknowledged_references.len() - missing,
    );
    if missing > 0 || rows_added < acknowledged {
        println!("DURABILITY CHECK FAILED: {missing} acknowledged reports are missing");
        durable = false;
    }
    match chain {
        Ok(summary) => println!("audit chain OK: {} entries", summary.entries),
        Err(chain_break) => {
            println!("AUDIT CHAIN BROKEN: {chain_break}");
            durable = false;
        }
    }
    // The data directory holds the server log and (on SQLite) the database,
    // the key directory beside it the master key; they are kept only when
    // they are evidence of a failure.
    if durable {
        let _ = std::fs::remove_dir_all(&data_dir);
        let _ = std::fs::remove_dir_all(crate::config::default_key_dir(&data_dir));
    } else {
        println!("kept for inspection: {}", data_dir.display());
    }
    Ok(if durable { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The server under test, killed if the benchmark stops early.
pub(crate) struct ServerProcess {
    child: Option<Child>,
    log: PathBuf,
}

impl ServerProcess {
    pub(crate) fn start(data_dir: &Path, address: SocketAddr, database_url: &str) -> anyhow::Result<Self> {
        let log = data_dir.join("server.log");
        let log_file = std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let binary = std::env::current_exe().context("cannot find the aidant binary")?;
        let mut command = Command::new(binary);
        // Only the settings chosen here apply, whatever the caller's
        // environment holds.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AIDANT_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .current_dir(data_dir)
            .env("AIDANT_DATA_DIR", data_dir)
            .env("AIDANT_LISTEN", address.to_string())
            .env("AIDANT_DATABASE_URL", database_url)
            // The load comes from one address; flood protection would measure
            // itself rather than report intake.
            .env("AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        let child = command.spawn().context("cannot start aidant serve")?;
        Ok(Self { child: Some(child), log })
    }

    pub(crate) async fn wait_until_ready(&mut self, address: SocketAddr) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < STARTUP_TIMEOUT {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("the server exited ({status}) before becoming ready; see {}", self.log.display());
            }
            if let Ok(mut connection) = connect(address).await {
                let request = Request::get("/readyz").header(hyper::header::HOST, address.to_string()).body(Full::new(Bytes::new()))?;
                if let Ok(response) = connection.send_request(request).await
                    && response.status() == StatusCode::OK
                {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server was not ready within {}s; see {}", STARTUP_TIMEOUT.as_secs(), self.log.display())
    }

    pub(crate) fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("cannot kill the server")?;
            child.wait().context("cannot reap the server")?;
        }
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Writes `count` synthetic reports into a fresh database before the run,
/// with the master key the server will find in the key directory beside
/// `data_dir`.
async fn prefill(data_dir: &Path, database_url: &str, count: usize) -> anyhow::Result<()> {
    let catalogue = aidant_core::Catalogue::from_toml(crate::startup::BUILT_IN_CATALOGUE).context("the built-in catalogue")?;
    let key = aidant_store::MasterKey::generate();
    let key_dir = crate::config::default_key_dir(data_dir);
    std::fs::create_dir_all(&key_dir).with_context(|| format!("cannot create {}", key_dir.display()))?;
    std::fs::write(key_dir.join("master.key"), key.to_hex()).context("cannot write the key file")?;
    let store = Store::connect(database_url, &StoreOptions::default(), Some(key)).await?;
    store.migrate().await?;
    let force = store.create_organisation("Bedfordshire Police", aidant_core::organisation::OrganisationKind::PoliceForce).await?;
    store.set_receiving_organisation(&force.id, &aidant_core::audit::AuditActor::Cli).await?;
    let started = Instant::now();
    let written = crate::bench_staff::seed_reports(&store, &catalogue, count, 7).await?;
    println!(
        "prefilled {} reports in {:.1} s ({:.0}/s)",
        written.len(),
        started.elapsed().as_secs_f64(),
        written.len() as f64 / started.elapsed().as_secs_f64()
    );
    // The entity worker reads them all first, as it would have while they
    // arrived: otherwise the server's worker starts on a backlog of every
    // prefilled report and competes with intake for the whole run.
    let started = Instant::now();
    crate::bench_staff::drain_entity_jobs(&store).await?;
    println!("the entity worker read them in {:.1} s", started.elapsed().as_secs_f64());
    store.close().await;
    Ok(())
}

/// The files a prefilled SQLite run consists of: the database in the data
/// directory and the master key in the key directory beside it.
fn snapshot_files(data_dir: &Path) -> [(PathBuf, &'static str); 2] {
    [(data_dir.join("aidant.db"), "aidant.db"), (crate::config::default_key_dir(data_dir).join("master.key"), "master.key")]
}

/// Starts from a saved prefilled database when `snapshot` holds one of
/// `count` reports, or prefills and saves one there.
async fn prefill_from_snapshot(snapshot: &Path, data_dir: &Path, database_url: &str, count: usize) -> anyhow::Result<()> {
    if aidant_store::Backend::from_url(database_url)? != aidant_store::Backend::Sqlite
        || !database_url.ends_with(&*data_dir.join("aidant.db").to_string_lossy())
    {
        bail!("--snapshot works only with the default SQLite database");
    }
    let marker = snapshot.join("reports");
    if marker.exists() {
        let saved: usize = std::fs::read_to_string(&marker)?.trim().parse().context("the snapshot's report count")?;
        if saved != count {
            bail!("{} holds {saved} prefilled reports, not {count}", snapshot.display());
        }
        for (destination, name) in snapshot_files(data_dir) {
            std::fs::create_dir_all(destination.parent().context("a file in a folder")?)?;
            std::fs::copy(snapshot.join(name), &destination).with_context(|| format!("cannot copy {name} from {}", snapshot.display()))?;
        }
        println!("started from the {count} reports saved in {}", snapshot.display());
        return Ok(());
    }
    prefill(data_dir, database_url, count).await?;
    // Closing the last connection folds SQLite's log into the database.
    if data_dir.join("aidant.db-wal").exists() {
        bail!("the prefilled database still has a log after closing; not saved");
    }
    std::fs::create_dir_all(snapshot).with_context(|| format!("cannot create {}", snapshot.display()))?;
    for (source, name) in snapshot_files(data_dir) {
        std::fs::copy(&source, snapshot.join(name)).with_context(|| format!("cannot save {name} in {}", snapshot.display()))?;
    }
    std::fs::write(&marker, count.to_string())?;
    println!("saved the prefilled database in {}", snapshot.display());
    Ok(())
}

pub(crate) fn free_loopback_address() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port on loopback")?;
    Ok(listener.local_addr()?)
}

async fn open_store(database_url: &str) -> anyhow::Result<Store> {
    Ok(Store::connect(database_url, &StoreOptions::default(), None).await?)
}

pub(crate) async fn connect(address: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // The connection task ends when its sender is dropped or the server
    // closes the connection.
    tokio::spawn(connection);
    Ok(sender)
}

/// What one load phase measured, merged over its connections.
#[derive(Debug)]
struct PhaseResult {
    endpoint: Endpoint,
    elapsed: Duration,
    latencies_micros: Vec<u32>,
    statuses: HashMap<u16, u64>,
    /// Responses with the endpoint's success status.
    acknowledged: u64,
    /// Acknowledged responses by the second of the phase they arrived in,
    /// which shows whether throughput held steady or sagged as the
    /// database grew.
    acknowledged_each_second: Vec<u64>,
    acknowledged_references: Vec<ReportRef>,
    /// Timeouts, connection failures and unreadable bodies.
    failures: u64,
}

impl PhaseResult {
    fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            elapsed: Duration::ZERO,
            latencies_micros: Vec::new(),
            statuses: HashMap::new(),
            acknowledged: 0,
            acknowledged_each_second: Vec::new(),
            acknowledged_references: Vec::new(),
            failures: 0,
        }
    }

    fn merge(&mut self, other: PhaseResult) {
        self.latencies_micros.extend(other.latencies_micros);
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.acknowledged += other.acknowledged;
        if self.acknowledged_each_second.len() < other.acknowledged_each_second.len() {
            self.acknowledged_each_second.resize(other.acknowledged_each_second.len(), 0);
        }
        for (second, count) in other.acknowledged_each_second.into_iter().enumerate() {
            self.acknowledged_each_second[second] += count;
        }
        self.acknowledged_references.extend(other.acknowledged_references);
        self.failures += other.failures;
    }

    fn requests_per_second(&self) -> f64 {
        self.acknowledged as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Nearest-rank percentile of every completed request's latency; call
    /// after the latencies are sorted.
    fn latency_percentile_ms(&self, percentile: f64) -> f64 {
        if self.latencies_micros.is_empty() {
            return 0.0;
        }
        let rank = ((percentile / 100.0) * self.latencies_micros.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies_micros.len()) - 1;
        f64::from(self.latencies_micros[index]) / 1000.0
    }

    fn unexpected_or_failed(&self) -> u64 {
        let completed: u64 = self.statuses.values().sum();
        completed - self.acknowledged + self.failures
    }
}

/// One load phase: which endpoint, where, how hard and for how long.
#[derive(Debug)]
struct LoadPlan {
    endpoint: Endpoint,
    address: SocketAddr,
    connections: usize,
    duration: Duration,
    max_requests: u64,
    run_id: String,
}

/// What every connection of a running phase shares.
#[derive(Debug)]
struct RunningPhase {
    plan: LoadPlan,
    started: Instant,
    deadline: Instant,
    /// Requests started so far, against `max_requests`.
    issued: AtomicU64,
}

/// Drives one endpoint from the plan's keep-alive connections until the
/// deadline or the request budget, letting requests in flight finish.
async fn drive(plan: LoadPlan) -> anyhow::Result<PhaseResult> {
    let started = Instant::now();
    let endpoint = plan.endpoint;
    let phase = Arc::new(RunningPhase { deadline: started + plan.duration, started, issued: AtomicU64::new(0), plan });
    let mut tasks = Vec::with_capacity(phase.plan.connections);
    for connection_index in 0..phase.plan.connections {
        let phase = phase.clone();
        tasks.push(tokio::spawn(async move { drive_one_connection(&phase, connection_index).await }));
    }
    let mut result = PhaseResult::new(endpoint);
    for task in tasks {
        result.merge(task.await.context("a load connection panicked")?);
    }
    result.elapsed = started.elapsed();
    result.latencies_micros.sort_unstable();
    Ok(result)
}

async fn drive_one_connection(phase: &RunningPhase, connection_index: usize) -> PhaseResult {
    let LoadPlan { endpoint, address, max_requests, ref run_id, .. } = phase.plan;
    let (started, deadline, issued) = (phase.started, phase.deadline, &phase.issued);
    let mut result = PhaseResult::new(endpoint);
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let mut sequence = 0_u64;
    while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max_requests {
        sequence += 1;
        let ready_sender = match sender.take() {
            Some(existing) => existing,
            None => match connect(address).await {
                Ok(fresh) => fresh,
                Err(_) => {
                    result.failures += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let body = (endpoint == Endpoint::Reports).then(|| report_body(run_id, connection_index, sequence));
        let request = endpoint.request(address, body);
        let request_started = Instant::now();
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let mut ready_sender = ready_sender;
            ready_sender.ready().await?;
            let response = ready_sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((ready_sender, status, body))
        })
        .await;
        let latency = request_started.elapsed();
        match outcome {
            Ok(Ok((kept_sender, status, body))) => {
                sender = Some(kept_sender);
                result.latencies_micros.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
                *result.statuses.entry(status.as_u16()).or_default() += 1;
                if status == endpoint.expected_status() {
                    result.acknowledged += 1;
                    let second = started.elapsed().as_secs() as usize;
                    if result.acknowledged_each_second.len() <= second {
                        result.acknowledged_each_second.resize(second + 1, 0);
                    }
                    result.acknowledged_each_second[second] += 1;
                    if endpoint == Endpoint::Reports {
                        match reference_from_body(&body) {
                            Some(reference) => result.acknowledged_references.push(reference),
                            None => result.failures += 1,
                        }
                    }
                }
            }
            // A failed or timed-out request leaves the connection in an
            // unknown state; the next request opens a new one.
            Ok(Err(_)) | Err(_) => result.failures += 1,
        }
    }
    result
}

fn reference_from_body(body: &[u8]) -> Option<ReportRef> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    ReportRef::parse(value.get("reference")?.as_str()?).ok()
}

/// A realistic report that varies with the connection and sequence number:
/// the place, the signs, the people, a vehicle now and then, contact
/// details in one report in four (so sealing is measured too), and a unique
/// submission token as the public form sends.
fn report_body(run_id: &str, connection_index: usize, sequence: u64) -> String {
    const SECTORS: [&str; 5] = ["nail_bar", "car_wash", "hospitality", "construction", "agriculture"];
    const TOWNS: [(&str, &str); 4] = [("Luton", "LU1 2AB"), ("Bedford", "MK40 1SJ"), ("Dunstable", "LU6 1AA"), ("Leighton Buzzard", "LU7 1EU")];
    const GENERAL_SIGNS: [&str; 4] = ["cannot_leave_work_or_home", "fearful_or_anxious", "someone_else_holds_passport", "little_or_no_pay"];
    let variant = connection_index as u64 * 7919 + sequence;
    let sector = SECTORS[(variant % SECTORS.len() as u64) as usize];
    let (town, postcode) = TOWNS[(variant % TOWNS.len() as u64) as usize];
    let mut signs = vec!["controlling_manager", "workers_living_on_site"];
    signs.push(GENERAL_SIGNS[(variant % GENERAL_SIGNS.len() as u64) as usize]);
    let mut report = serde_json::json!({
        "sector": sector,
        "town": town,
        "postcode": postcode,
        "business_name": format!("Unit {} Trading Estate", variant % 40 + 1),
        "signs": signs,
        "people_count": variant % 9 + 1,
        "narrative": format!(
            "Report {sequence} from connection {connection_index}. The same workers are there every day from early morning until late at night. \
             They look tired and do not speak to customers; a man collects their money at the end of each day and drives them away in a van."
        ),
        "when_seen": "Most evenings this month",
        "submission_token": format!("bench-{run_id}-{connection_index}-{sequence}"),
    });
    if variant.is_multiple_of(3) {
        report["vehicles"] = serde_json::json!([{
            "registration": "AB12 CDE",
            "description": "White Ford Transit van"
        }]);
    }
    if variant.is_multiple_of(4) {
        report["contact"] = serde_json::json!({ "phone": "07700 900982" });
    }
    report.to_string()
}

/// How many acknowledged references the database does not hold, checked
/// by a few concurrent readers.
async fn missing_references(store: &Store, references: &[ReportRef]) -> anyhow::Result<usize> {
    const READERS: usize = 4;
    let chunk_size = references.len().div_ceil(READERS).max(1);
    let mut tasks = Vec::new();
    for chunk in references.chunks(chunk_size) {
        let store = store.clone();
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut missing = 0;
            for reference in &chunk {
                if store.find_report_by_reference(reference).await?.is_none() {
                    missing += 1;
                }
            }
            Ok::<usize, aidant_store::StoreError>(missing)
        }));
    }
    let mut missing = 0;
    for task in tasks {
        missing += task.await.context("a durability reader panicked")??;
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut result = PhaseResult::new(Endpoint::Healthz);
        result.latencies_micros = (1..=100).map(|value| value * 1000).collect();
        assert_eq!(result.latency_percentile_ms(50.0), 50.0);
        assert_eq!(result.latency_percentile_ms(99.0), 99.0);
        assert_eq!(result.latency_percentile_ms(100.0), 100.0);
    }

    #[test]
    fn report_bodies_vary_and_carry_unique_tokens() {
        let first = report_body("run", 0, 1);
        let second = report_body("run", 0, 2);
        assert_ne!(first, second);
        let parsed: serde_json::Value = serde_json::from_str(&first).unwrap();
        assert_eq!(parsed["submission_token"], "bench-run-0-1");
    }
}
