//! `aidant bench publication`: the safe publication of potential victims'
//! data at scale. It opens `--cases` cases on a fresh database (SQLite by
//! default, or the empty database given with `--database-url`), through the
//! same use case the safeguarding pages use, with varied ages, genders,
//! nationalities and types of exploitation, then times each publication
//! (k-anonymised, then synthetic) end to end as the page runs it: reading
//! every case, opening each identity, anonymising or synthesising, writing
//! the CSV and recording it in the disclosure log. The k-anonymised file is
//! checked (every combination of its columns at least 11 times) and any
//! failure fails the run.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::publication::K;
use aidant_core::safeguarding::case::{CaseAnswers, NewCase};
use aidant_store::cases::publication::{PublicationKind, publish};
use aidant_store::cases::victims::{open_case, today};
use aidant_store::{MasterKey, Store, StoreOptions};
use anyhow::{Context, bail};

#[derive(Debug, clap::Args)]
pub struct PublicationBenchArgs {
    /// The database to use: the global `--database-url`, which should be
    /// fresh and empty. Default: a new SQLite file in a new temporary data
    /// directory.
    #[arg(skip)]
    pub(crate) database_url: Option<String>,
    /// Potential victims' cases to open before publishing.
    #[arg(long, default_value_t = 100_000)]
    cases: usize,
    /// Times each publication is made.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

const NATIONALITIES: [&str; 12] =
    ["Romanian", "Vietnamese", "Albanian", "British", "Polish", "Eritrean", "Sudanese", "Chinese", "Nigerian", "Bulgarian", "Indian", "Slovak"];
const TYPES: [&str; 6] = ["labour", "sexual", "criminal", "domestic_servitude", "organ_removal", "other"];
const GENDERS: [&str; 4] = ["female", "male", "other", "not_known"];

/// The `number`th case: a mix of common and rare people.
fn case(number: usize) -> NewCase {
    let mixed = number.wrapping_mul(2_654_435_761);
    let born = format!("{}-{:02}-{:02}", 1950 + mixed % 58, 1 + mixed / 7 % 12, 1 + mixed / 11 % 28);
    let age = if born[..4].parse::<usize>().unwrap_or(2000) >= 2009 { "child" } else { "adult" };
    let mut types = vec![TYPES[mixed / 13 % 4]];
    if mixed.is_multiple_of(17) {
        types.push(TYPES[4 + mixed / 19 % 2]);
    }
    let answers = CaseAnswers {
        age,
        name: "Bench Person",
        born_on: &born,
        gender: GENDERS[mixed / 23 % 4],
        nationality: NATIONALITIES[(mixed / 29 % 12).min(mixed / 31 % 12)],
        exploitation_types: types,
        ..CaseAnswers::default()
    };
    NewCase::parse(&answers, today()).unwrap_or_else(|errors| panic!("the bench's case {number} is valid: {errors:?}"))
}

pub async fn run(arguments: PublicationBenchArgs) -> anyhow::Result<ExitCode> {
    let data_dir = std::env::temp_dir().join(format!("aidant-bench-publication-{}", aidant_store::new_id()));
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let database_url = arguments.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", data_dir.join("aidant.db").display()));
    let store = Store::connect(&database_url, &StoreOptions::default(), Some(MasterKey::generate())).await?;
    store.migrate().await?;
    println!("==> database: {} ({})", aidant_store::redact_url(&database_url), store.backend().as_str());
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await?;
    let lead = store.create_user(&force.id, "lead@bench.example", "Safeguarding Lead", &[Role::SafeguardingLead]).await?;
    let caller =
        aidant_store::cases::Caller::new(&lead.id, aidant_core::policy::Actor { organisation_id: force.id.clone(), roles: [Role::SafeguardingLead].into() });

    let started = Instant::now();
    let workers = 8;
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (store, caller) = (store.clone(), caller.clone());
        let cases = arguments.cases;
        tasks.push(tokio::spawn(async move {
            for number in (worker..cases).step_by(workers) {
                open_case(&store, &caller, &case(number), None).await.map_err(|error| anyhow::anyhow!("opening case {number}: {error:?}"))?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    println!("==> {} cases opened in {:.1} s", arguments.cases, started.elapsed().as_secs_f64());

    for kind in [PublicationKind::KAnonymised, PublicationKind::Synthetic] {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..arguments.runs {
            let started = Instant::now();
            let published = publish(&store, &caller, kind).await.map_err(|error| anyhow::anyhow!("publishing: {error:?}"))?;
            times.push(started.elapsed().as_secs_f64());
            last = Some(published);
        }
        let published = last.context("at least one run")?;
        if kind == PublicationKind::KAnonymised {
            let mut groups: HashMap<&str, usize> = HashMap::new();
            for line in published.csv.lines().skip(1) {
                *groups.entry(line).or_default() += 1;
            }
            if let Some(small) = groups.values().find(|size| **size < K) {
                bail!("the k-anonymised file has a row {small} times, fewer than {K}");
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "==> {}: {} rows; {} of {} runs, fastest {:.2} s, median {:.2} s, slowest {:.2} s; {}",
            kind.as_str(),
            published.rows,
            times.len(),
            arguments.runs,
            times[0],
            times[times.len() / 2],
            times[times.len() - 1],
            published.summary
        );
    }
    store.close().await;
    std::fs::remove_dir_all(&data_dir).ok();
    Ok(ExitCode::SUCCESS)
}
