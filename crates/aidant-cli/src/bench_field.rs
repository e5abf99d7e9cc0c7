//! `aidant bench field`: many phones sending what they recorded offline at
//! once, as after a day of action when signal returns, against the real
//! server on loopback.
//!
//! It plans an operation on a fresh database (SQLite by default, or the
//! empty database given with `--database-url`) with one team of `--phones`
//! officers, each signed in (a session made in the store, as sign-in
//! would), starts `aidant serve`, and has every phone send `--records`
//! records at the same moment, in batches of 50 as the field app does, each
//! on its own connection. It reports how long until every record was
//! stored, then sends everything again (a sync repeated after a lost
//! answer), which must store nothing new. Finally it kills the server with
//! SIGKILL, reopens the database and checks that every record is there
//! exactly once and that the audit chain verifies. Any other answer fails
//! the run.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aidant_core::operations::{FieldRecordAnswers, NewOperation};
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_store::{MasterKey, Store, StoreOptions};
use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};

use crate::bench::{ServerProcess, connect, free_loopback_address};

/// Records per request, as the field app sends them.
const BATCH: usize = 50;

#[derive(Debug, clap::Args)]
pub struct FieldBenchArgs {
    /// The database to use: the global `--database-url`, which should be
    /// fresh and empty. Default: a new SQLite file in a new temporary data
    /// directory.
    #[arg(skip)]
    pub(crate) database_url: Option<String>,
    /// Phones syncing at once, each an officer of the team.
    #[arg(long, default_value_t = 50)]
    phones: usize,
    /// Records each phone sends.
    #[arg(long, default_value_t = 200)]
    records: usize,
}

/// A phone: its officer's session and what it recorded.
struct Phone {
    cookie: String,
    csrf: String,
    records: Vec<FieldRecordAnswers>,
}

fn record(phone: usize, number: usize, site: &str, today: &str) -> FieldRecordAnswers {
    let stop = number % 4 != 3;
    FieldRecordAnswers {
        id: format!("0190f1c2-{:04x}-7000-8000-{:012x}", phone, number),
        kind: if stop { "vehicle_stop" } else { "premises_visit" }.into(),
        site: site.to_owned(),
        recorded_on: today.to_owned(),
        registration: if stop {
            format!("LJ{:02} X{}{}", number % 100, (b'A' + (phone % 26) as u8) as char, (b'A' + (number % 26) as u8) as char)
        } else {
            String::new()
        },
        vehicle: if stop { "White curtain-sided lorry".into() } else { String::new() },
        business: if stop { String::new() } else { "Toddington Services café".into() },
        people: (1 + number % 5).to_string(),
        age_groups: vec!["18_to_24".into()],
        nationalities: vec!["Romanian".into()],
        languages: vec!["Romanian".into()],
        outcome: ["no_concerns", "advice_given", "follow_up"][number % 3].into(),
        note: "Driver said the load came from Calais.".into(),
        ..FieldRecordAnswers::default()
    }
}

pub async fn run(arguments: FieldBenchArgs) -> anyhow::Result<ExitCode> {
    let data_dir = std::env::temp_dir().join(format!("aidant-bench-field-{}", aidant_store::new_id()));
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let database_url = arguments.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", data_dir.join("aidant.db").display()));
    let key = MasterKey::generate();
    let key_dir = crate::config::default_key_dir(&data_dir);
    std::fs::create_dir_all(&key_dir).with_context(|| format!("cannot create {}", key_dir.display()))?;
    std::fs::write(key_dir.join("master.key"), key.to_hex()).context("cannot write the key file")?;
    let store = Store::connect(&database_url, &StoreOptions::default(), Some(key.clone())).await?;
    store.migrate().await?;
    println!("==> database: {} ({})", aidant_store::redact_url(&database_url), store.backend().as_str());

    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await?;
    let supervisor = store.create_user(&force.id, "supervisor@bench.example", "Supervisor", &[Role::Supervisor]).await?;
    let lead =
        aidant_store::cases::Caller::new(&supervisor.id, aidant_core::policy::Actor { organisation_id: force.id.clone(), roles: [Role::Supervisor].into() });
    let today = aidant_store::cases::victims::today();
    let plan = NewOperation { name: "Operation Bench".into(), starts_on: today - time::Duration::days(1), ends_on: today + time::Duration::days(1) };
    let failure = |error: aidant_store::cases::CaseError| anyhow::anyhow!("planning failed: {error:?}");
    let operation = aidant_store::cases::operations::plan_operation(&store, &lead, &plan, &[]).await.map_err(failure)?;
    let catalogue = aidant_core::Catalogue::from_toml(crate::startup::BUILT_IN_CATALOGUE).context("the built-in catalogue")?;
    let site = aidant_store::cases::operations::SiteAnswers {
        name: "Toddington Services",
        sector: "lorries_and_services",
        postcode: "LU5 6HR",
        reason: "Lorry checks.",
        ..Default::default()
    };
    let site = aidant_store::cases::operations::add_site(&store, &lead, &operation, &site, &catalogue).await.map_err(failure)?;
    let mut officers = Vec::new();
    for number in 0..arguments.phones {
        officers.push(store.create_user(&force.id, &format!("officer{number}@bench.example"), &format!("Officer {number}"), &[Role::Officer]).await?);
    }
    let members: Vec<_> = officers.iter().map(|officer| officer.id.clone()).collect();
    let team = aidant_store::cases::operations::add_team(&store, &lead, &operation, "Lorry checks", "", std::slice::from_ref(&site), &members)
        .await
        .map_err(failure)?;
    let policy = aidant_store::identity::SignInPolicy::default();
    let mut phones = Vec::new();
    for (number, officer) in officers.iter().enumerate() {
        let token = store.create_session(&officer.id, true).await?;
        let csrf = store.find_session(&token, &policy).await?.context("a new session is found")?.csrf_token;
        let records = (0..arguments.records).map(|index| record(number, index, site.as_str(), &today.to_string())).collect();
        phones.push(Phone { cookie: format!("__Host-aidant_session={token}"), csrf, records });
    }
    store.close().await;

    let address = free_loopback_address()?;
    let mut server = ServerProcess::start(&data_dir, address, &database_url)?;
    server.wait_until_ready(address).await?;
    let path = format!("/api/v1/staff/operations/{operation}/teams/{team}/records");
    let total = arguments.phones * arguments.records;

    let (elapsed, batches, outcomes) = sync_all(address, &path, &phones).await?;
    if outcomes.stored != total {
        bail!("{} of {total} records were stored on the first sync ({} already stored, {} refused)", outcomes.stored, outcomes.repeated, outcomes.refused);
    }
    println!(
        "==> {} phones × {} records ({total}) sent at once in batches of {BATCH}: all stored in {:.2} s (target: within 30 s); per batch p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        arguments.phones,
        arguments.records,
        elapsed.as_secs_f64(),
        percentile(&batches, 50.0),
        percentile(&batches, 99.0),
        percentile(&batches, 100.0)
    );
    let (again, _, repeated) = sync_all(address, &path, &phones).await?;
    if repeated.repeated != total || repeated.stored != 0 {
        bail!("sending everything again stored {} new and found {} already stored, of {total}", repeated.stored, repeated.repeated);
    }
    println!("==> everything sent again: {total} already stored, 0 new, in {:.2} s", again.as_secs_f64());

    server.kill()?;
    let store = Store::connect(&database_url, &StoreOptions::default(), Some(key)).await?;
    // Each record is stored under its own id, the table's key: a count
    // equal to the records sent means each is there once.
    let stored = store.count_field_records(&operation).await?;
    let chain = store.verify_audit_chain().await?;
    store.close().await;
    if stored != total as i64 {
        bail!("after SIGKILL the database holds {stored} records, not {total}");
    }
    if let Err(broken) = chain {
        bail!("the audit chain does not verify: {broken:?}");
    }
    println!("==> after SIGKILL: {stored} records, each once; the audit chain verifies");
    let _ = std::fs::remove_dir_all(&data_dir);
    let _ = std::fs::remove_dir_all(crate::config::default_key_dir(&data_dir));
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Default, Clone, Copy)]
struct Outcomes {
    stored: usize,
    repeated: usize,
    refused: usize,
}

/// Every phone sends all its records at once, each on its own connection;
/// returns the time until the last was answered, every batch's latency in
/// milliseconds, and the outcomes counted.
async fn sync_all(address: SocketAddr, path: &str, phones: &[Phone]) -> anyhow::Result<(Duration, Vec<f64>, Outcomes)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for phone in phones {
        let path = path.to_owned();
        let cookie = phone.cookie.clone();
        let csrf = phone.csrf.clone();
        let bodies: Vec<String> = phone.records.chunks(BATCH).map(|batch| serde_json::json!({ "records": batch }).to_string()).collect();
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(address).await?;
            let mut latencies = Vec::new();
            let mut outcomes = Outcomes::default();
            for body in bodies {
                let request = Request::post(path.as_str())
                    .header(hyper::header::HOST, address.to_string())
                    .header(hyper::header::COOKIE, cookie.as_str())
                    .header("x-csrf-token", csrf.as_str())
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body)))?;
                let sent = Instant::now();
                let response = sender.send_request(request).await?;
                let status = response.status();
                let answer = response.into_body().collect().await?.to_bytes();
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                if status != StatusCode::OK {
                    bail!("a sync answered {status}: {}", String::from_utf8_lossy(&answer));
                }
                let answer: serde_json::Value = serde_json::from_slice(&answer)?;
                for result in answer["results"].as_array().context("a sync answer lists results")? {
                    match result["outcome"].as_str() {
                        Some("stored") => outcomes.stored += 1,
                        Some("already_stored") => outcomes.repeated += 1,
                        _ => outcomes.refused += 1,
                    }
                }
            }
            anyhow::Ok((latencies, outcomes))
        }));
    }
    let mut latencies = Vec::new();
    let mut outcomes = Outcomes::default();
    for task in tasks {
        let (times, counted) = task.await.context("a phone's task")??;
        latencies.extend(times);
        outcomes.stored += counted.stored;
        outcomes.repeated += counted.repeated;
        outcomes.refused += counted.refused;
    }
    let elapsed = started.elapsed();
    latencies.sort_by(f64::total_cmp);
    Ok((elapsed, latencies, outcomes))
}

fn percentile(sorted: &[f64], percent: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
