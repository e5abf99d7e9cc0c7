//! The entity worker and `aidant worker` / `aidant entities ...`: records
//! queued in the database are read for the phones, vehicles, addresses,
//! businesses, emails and handles they mention (`aidant_store::entities`).
//! `aidant serve` runs the worker beside the web server; `aidant worker` runs
//! it alone, so several processes can share one PostgreSQL (each takes jobs
//! the others do not hold).

use std::time::Duration;

use aidant_core::audit::AuditActor;
use aidant_store::Store;
use aidant_store::entities::JOBS_PER_TRANSACTION;

use crate::config::Config;
use crate::startup::{Failure, StoreUse, open_store, shutdown_signal};

/// How long an idle worker waits before looking again: a new record's
/// entities appear within about this long.
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// How long to wait after the database failed, before trying again.
const ERROR_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Subcommand)]
pub enum EntitiesCommand {
    /// Re-derive every mention from the records. Entity ids stay the same;
    /// the worker (in `aidant serve` or `aidant worker`) does the reading,
    /// or pass --wait to do it here and wait until it is done.
    Rebuild {
        #[arg(long)]
        wait: bool,
    },
    /// How many records wait to be read, and which were parked.
    Status,
    /// Put parked records back in the queue, once their cause is mended.
    RetryParked,
}

/// Runs the worker until the store closes. After each batch it rests as
/// long as the batch took, so that it holds the database's write lock at
/// most half the time: public reports keep their pace in a surge, and the
/// entities catch up after it (at ordinary rates a batch is one record and
/// the rest is a few milliseconds).
pub fn spawn_worker(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let started = std::time::Instant::now();
            if work_once(&store).await == 0 {
                tokio::time::sleep(IDLE_WAIT).await;
            } else {
                tokio::time::sleep(started.elapsed()).await;
            }
        }
    })
}

/// One turn of the worker; returns how many jobs it handled.
async fn work_once(store: &Store) -> usize {
    match store.work_entity_jobs(JOBS_PER_TRANSACTION).await {
        Ok(run) => {
            if run.retried + run.parked > 0 {
                tracing::warn!(done = run.done, retried = run.retried, parked = run.parked, "some records could not be read for entities");
            }
            run.total()
        }
        Err(error) => {
            tracing::warn!(error = %error, "the entity worker could not reach the database; it will try again");
            tokio::time::sleep(ERROR_WAIT).await;
            0
        }
    }
}

/// `aidant worker`: the worker alone, until SIGTERM or Ctrl-C.
pub async fn run_worker(config: &Config) -> Result<(), Failure> {
    let store = open_store(config, StoreUse::Work).await?;
    println!("Aidant's entity worker is running (database: {}). Press Ctrl-C to stop.", store.backend().as_str());
    let worker = spawn_worker(store.clone());
    shutdown_signal().await;
    worker.abort();
    store.close().await;
    Ok(())
}

/// Drains the queue here, for `rebuild --wait`.
async fn drain(store: &Store) -> Result<(), Failure> {
    loop {
        let run = store.work_entity_jobs(JOBS_PER_TRANSACTION).await.map_err(|error| Failure::Runtime(error.to_string()))?;
        if run.total() == 0 {
            return Ok(());
        }
    }
}

pub async fn run(config: &Config, command: EntitiesCommand) -> Result<(), Failure> {
    let store = open_store(config, StoreUse::Work).await?;
    let failed = |error: aidant_store::StoreError| Failure::Runtime(error.to_string());
    match command {
        EntitiesCommand::Rebuild { wait } => {
            let queued = store.rebuild_entities(&AuditActor::Cli).await.map_err(failed)?;
            println!("{queued} records queued to be read for entities");
            if wait {
                let started = std::time::Instant::now();
                drain(&store).await?;
                println!("done in {:.1} s", started.elapsed().as_secs_f64());
            }
        }
        EntitiesCommand::Status => {
            let counts = store.entity_queue_counts().await.map_err(failed)?;
            println!("{} records waiting, {} parked", counts.waiting, counts.parked);
            for job in store.parked_entity_jobs(100).await.map_err(failed)? {
                println!("parked: {} {} after {} attempts: {}", job.record_kind, job.record_id, job.attempts, job.last_error.unwrap_or_default());
            }
        }
        EntitiesCommand::RetryParked => {
            let count = store.retry_parked_entity_jobs(&AuditActor::Cli).await.map_err(failed)?;
            println!("{count} parked records queued again");
        }
    }
    store.close().await;
    Ok(())
}
