//! Criterion benchmark: adding one record to an already-resolved set (incremental linking).
//!
//! The resolved set is read from `AIDANT_BENCH_PEOPLE` (a CSV written by the `gen_people`
//! example; default `bench-data/synthetic-100000/people.csv` at the workspace root), linked in
//! batch, and turned into an `IncrementalLinker`. Each iteration adds one of the held-back records
//! under a fresh id. Besides Criterion's statistics the benchmark prints the p50, p99 and maximum
//! of 5,000 timed additions, the figure the acceptance criterion names.

use aidant_link::batch::{BatchConfig, link_batch};
use aidant_link::cluster::ClusterConfig;
use aidant_link::incremental::IncrementalLinker;
use aidant_link::record::{PersonRecord, read_csv};
use criterion::{Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const HELD_BACK: usize = 5_000;

fn people_path() -> PathBuf {
    // Relative paths are read from the crate directory, where Cargo runs benchmarks.
    std::env::var_os("AIDANT_BENCH_PEOPLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data/synthetic-100000/people.csv"))
}

fn resolved_set() -> (IncrementalLinker, Vec<PersonRecord>) {
    let path = people_path();
    let file = std::fs::File::open(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; generate it with `cargo run --release --example gen_people -- --records 100000 --out bench-data/synthetic-100000` or set AIDANT_BENCH_PEOPLE",
            path.display()
        )
    });
    let mut records = read_csv(std::io::BufReader::new(file), 0).expect("benchmark csv reads").records;
    let held_back = records.split_off(records.len().saturating_sub(HELD_BACK));
    let config = BatchConfig::default();
    let batch = link_batch(&records, None, &config, &mut |_| {});
    let linker = IncrementalLinker::from_batch(&records, batch, &ClusterConfig::default(), config.blocking.max_block_size);
    (linker, held_back)
}

fn add_one_record(criterion: &mut Criterion) {
    let (mut linker, held_back) = resolved_set();
    let resolved = linker.record_count();
    let mut counter = 0usize;
    let next_record = |counter: &mut usize| {
        let mut record = held_back[*counter % held_back.len()].clone();
        record.record_id = format!("bench-{counter}");
        *counter += 1;
        record
    };

    let mut durations: Vec<Duration> = (0..HELD_BACK)
        .map(|_| {
            let record = next_record(&mut counter);
            let started = Instant::now();
            linker.add_record(&record).expect("fresh id");
            started.elapsed()
        })
        .collect();
    durations.sort_unstable();
    let percentile = |share: f64| durations[((durations.len() as f64 * share) as usize).min(durations.len() - 1)];
    eprintln!(
        "add_record to {resolved} resolved records: p50 {:?}, p99 {:?}, max {:?} over {} additions",
        percentile(0.50),
        percentile(0.99),
        durations[durations.len() - 1],
        durations.len()
    );

    criterion.bench_function(&format!("add one record to {resolved}"), |bencher| {
        bencher.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let record = next_record(&mut counter);
                let started = Instant::now();
                linker.add_record(&record).expect("fresh id");
                total += started.elapsed();
            }
            total
        });
    });
}

criterion_group! {
    name = incremental;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = add_one_record
}
criterion_main!(incremental);
