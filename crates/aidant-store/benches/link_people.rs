//! Benchmark: adding one person to a resolved set kept as rows in the database, on SQLite and
//! PostgreSQL, each addition a real committed transaction (`Store::link_person`).
//!
//! The people are read from `AIDANT_BENCH_PEOPLE` (a CSV written by aidant-link's `gen_people`
//! example; default `bench-data/synthetic-100000/people.csv` at the workspace root), optionally cut
//! to the first `AIDANT_BENCH_RECORDS`. The last `AIDANT_BENCH_ADDS` (default 2,000) are held back;
//! the others are linked in batch (training a model, as `aidant link` does) and written into a
//! fresh database (`Store::load_linked_people`; a temporary SQLite file, and a new PostgreSQL
//! database created through `AIDANT_TEST_POSTGRES_URL` and dropped afterwards). Then the held-back
//! records are added one at a time and the benchmark prints the p50, p90, p99 and maximum of those
//! additions, the figure the acceptance criterion names, before Criterion measures more additions
//! of the same records under fresh ids. `AIDANT_BENCH_BACKENDS` chooses the backends (default
//! `sqlite,postgres`).
//!
//! To load once and measure many times (when profiling), set `AIDANT_BENCH_DATABASE_URL` to a
//! database of your own (`sqlite:///path/file.db` or a PostgreSQL URL; `AIDANT_BENCH_BACKENDS` is
//! then ignored, and `AIDANT_MASTER_KEY` must hold the same 64 hex digits every time): the first
//! run loads it, later runs add the held-back records again under new ids, so they mostly attach
//! to their earlier copies (a different mix from a fresh database).
//!
//! Quick run at 10,000: `AIDANT_BENCH_RECORDS=10000 cargo bench -p aidant-store --bench link_people`.
//! The whole 1M run is `scripts/bench-link-rows`.

use aidant_link::batch::{BatchConfig, link_batch};
use aidant_link::record::{PersonRecord, read_csv};
use aidant_store::testing::TestDatabase;
use aidant_store::{Backend, MasterKey, Store, StoreOptions};
use criterion::{Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn environment_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().map(|value| value.parse().unwrap_or_else(|_| panic!("{name} must be a whole number")))
}

fn people_path() -> PathBuf {
    // Relative paths are read from the crate directory, where Cargo runs benchmarks.
    std::env::var_os("AIDANT_BENCH_PEOPLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data/synthetic-100000/people.csv"))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn people() -> (Vec<PersonRecord>, Vec<PersonRecord>) {
    let path = people_path();
    let file = std::fs::File::open(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; generate it with `cargo run --release -p aidant-link --example gen_people -- --records 100000 --out bench-data/synthetic-100000` or set AIDANT_BENCH_PEOPLE",
            path.display()
        )
    });
    let mut records = read_csv(std::io::BufReader::new(file), 0).expect("benchmark csv reads").records;
    if let Some(count) = environment_number("AIDANT_BENCH_RECORDS") {
        records.truncate(count);
    }
    let adds = environment_number("AIDANT_BENCH_ADDS").unwrap_or(2_000);
    let held_back = records.split_off(records.len().saturating_sub(adds));
    (records, held_back)
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted[((sorted.len() as f64 * share) as usize).min(sorted.len() - 1)]
}

fn link_people(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let (resolved, held_back) = people();
    let config = BatchConfig::default();
    let started = Instant::now();
    let batch = link_batch(&resolved, None, &config, &mut |_| {});
    eprintln!("batch linking of {} records: {:.1?}, {} entities", resolved.len(), started.elapsed(), batch.clustering.cluster_count);
    let backends = std::env::var("AIDANT_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());

    let own_database = std::env::var("AIDANT_BENCH_DATABASE_URL").ok();
    let targets: Vec<String> = match &own_database {
        Some(url) => vec![url.clone()],
        None => backends.split(',').map(|backend| backend.trim().to_owned()).collect(),
    };
    // Fresh ids for a reused database, whose earlier runs added the same records.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0);
    for target in targets {
        let (database, store) = if let Some(url) = &own_database {
            let key =
                MasterKey::from_hex(&std::env::var("AIDANT_MASTER_KEY").expect("AIDANT_MASTER_KEY with AIDANT_BENCH_DATABASE_URL")).expect("a master key");
            let store = runtime.block_on(Store::connect(url, &StoreOptions::default(), Some(key))).expect("the database opens");
            runtime.block_on(store.migrate()).expect("migrations apply");
            (None, store)
        } else {
            let backend = match target.as_str() {
                "sqlite" => Backend::Sqlite,
                "postgres" => Backend::Postgres,
                other => panic!("unknown backend {other:?} in AIDANT_BENCH_BACKENDS"),
            };
            let database = runtime.block_on(TestDatabase::new(backend));
            let store = database.store.clone();
            (Some(database), store)
        };
        let backend = store.backend();
        if runtime.block_on(store.linked_record_count()).expect("reads").is_none() {
            let started = Instant::now();
            let summary = runtime
                .block_on(store.load_linked_people(&resolved, &batch, &config.clustering, config.blocking.max_block_size, &aidant_core::audit::AuditActor::Cli))
                .expect("the batch run loads");
            eprintln!(
                "{}: loaded {} records, {} entities, {} key rows, {} links in {:.1?}",
                backend.as_str(),
                summary.records,
                summary.entities,
                summary.keys,
                summary.links,
                started.elapsed()
            );
        }
        let sizes = runtime.block_on(store.link_state_bytes()).expect("the link state's size reads");
        let mebibytes = |bytes: i64| bytes as f64 / 1_048_576.0;
        eprintln!(
            "{}: link state {:.0} MiB for {} records ({})",
            backend.as_str(),
            mebibytes(sizes.iter().map(|(_, bytes)| bytes).sum()),
            resolved.len(),
            sizes.iter().map(|(table, bytes)| format!("{table} {:.0} MiB", mebibytes(*bytes))).collect::<Vec<_>>().join(", ")
        );

        let load_before = load_average();
        let mut durations: Vec<Duration> = Vec::with_capacity(held_back.len());
        let mut outcomes = [0usize; 3];
        for record in &held_back {
            let mut record = record.clone();
            if own_database.is_some() {
                record.record_id = format!("{}-run{run}", record.record_id);
            }
            let started = Instant::now();
            let outcome = runtime.block_on(store.link_person(&record, &aidant_core::audit::AuditActor::Cli)).expect("links");
            durations.push(started.elapsed());
            outcomes[match outcome.events[0] {
                aidant_link::incremental::EntityEvent::Created { .. } => 0,
                aidant_link::incremental::EntityEvent::Attached { .. } => 1,
                _ => 2,
            }] += 1;
        }
        let mean = durations.iter().sum::<Duration>() / durations.len().max(1) as u32;
        durations.sort_unstable();
        eprintln!(
            "{}: link_person to {} resolved records: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}, mean {:?} over {} committed additions ({} created, {} attached, {} merged); load average {} before, {} after",
            backend.as_str(),
            resolved.len(),
            percentile(&durations, 0.50),
            percentile(&durations, 0.90),
            percentile(&durations, 0.99),
            durations[durations.len() - 1],
            mean,
            durations.len(),
            outcomes[0],
            outcomes[1],
            outcomes[2],
            load_before,
            load_average()
        );

        let mut counter = 0usize;
        criterion.bench_function(&format!("{}: link one person to {}", backend.as_str(), resolved.len()), |bencher| {
            bencher.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let mut record = held_back[counter % held_back.len()].clone();
                    record.record_id = format!("bench-{run}-{counter}");
                    counter += 1;
                    let started = Instant::now();
                    runtime.block_on(store.link_person(&record, &aidant_core::audit::AuditActor::Cli)).expect("links");
                    total += started.elapsed();
                }
                total
            });
        });
        runtime.block_on(store.close());
        drop(database);
    }
}

criterion_group! {
    name = link_rows;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = link_people
}
criterion_main!(link_rows);
