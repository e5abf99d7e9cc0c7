//! `aidant demo`: a fresh data directory filled with realistic synthetic
//! organisations, users and public reports around Bedfordshire, served on
//! the embedded SQLite database (or an empty PostgreSQL one), with the story of an organised crime group
//! planted among the reports (`demo_story`). Every name, business and vehicle
//! here is invented; the data is seeded so two runs produce the same reports.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::report::{ReportAnswers, VehicleAnswer};
use aidant_core::{Catalogue, NewReport};
use aidant_store::Store;
use aidant_store::reports::{Receipt, Submission};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, RngCore, SeedableRng};

use crate::config::Config;
use crate::demo_story;
use crate::startup::{Failure, StoreUse, load_catalogue, open_store, serve_store};

/// A file that marks a directory as made by `aidant demo`, so `demo` only
/// ever deletes directories it created.
const DEMO_MARKER: &str = ".aidant-demo";

/// Where the demo's data goes unless `--data-dir` says otherwise.
pub const DEMO_DATA_DIR: &str = "aidant-demo-data";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to serve on [default: the listen setting, 127.0.0.1:8080 unless configured].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// How many synthetic public reports to create; from 100 up, the story of
    /// Operation Aidant (an organised crime group) is planted among them.
    #[arg(long, default_value_t = 400)]
    reports: usize,
    /// Seed for the synthetic data.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Create the data and exit without serving.
    #[arg(long)]
    no_serve: bool,
}

/// Creates the demo data and, unless `--no-serve`, serves it with the
/// settings in force, except where the data lives: the demo always has its
/// own directory, database and keys, so it can never touch the database or
/// keys a configuration names.
/// The data goes in `data_dir` (the global `--data-dir`), by default
/// `aidant-demo-data`, deleted and re-created on each run; the database is
/// a SQLite file there, or `postgres` (the global `--database-url`, never a
/// configured one), which must be empty: the demo refuses a database that
/// holds Aidant's tables rather than mix its invented people into real ones.
pub async fn run(arguments: DemoArgs, data_dir: Option<PathBuf>, postgres: Option<String>, settings: Config) -> Result<(), Failure> {
    let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(DEMO_DATA_DIR));
    let config = Config {
        data_dir: data_dir.clone(),
        listen: arguments.listen.unwrap_or(settings.listen),
        database_url: postgres.map(crate::config::Secret::from),
        key_file: None,
        master_key: None,
        audit_signing_key_file: None,
        ..settings
    };
    // A bad catalogue or people model setting stops the demo before it deletes the last one.
    let catalogue = load_catalogue(&config)?;
    crate::startup::load_people_model(&config)?;
    if config.database_url.is_some() {
        refuse_a_used_database(&config).await?;
    }
    reset_demo_dir(&data_dir)?;
    let store = open_store(&config, StoreUse::Serve).await?;
    let runtime_error = |error: aidant_store::StoreError| Failure::Runtime(format!("creating demo data failed: {error}"));
    let mut sign_ins = seed_organisations(&store).await.map_err(runtime_error)?;
    let mut rng = StdRng::seed_from_u64(arguments.seed);
    // The story's reports take their references from their own generator, so
    // the ordinary reports are the same whether or not the story is planted.
    let plant_story = demo_story::planted_among(arguments.reports);
    let mut story_rng = StdRng::seed_from_u64(arguments.seed ^ demo_story::REFERENCE_SEED);
    let mut developed = BTreeMap::new();
    let mut stored = Vec::new();
    for position in 0..arguments.reports {
        if plant_story {
            for planted in &demo_story::STORY_REPORTS[demo_story::due_before(position, arguments.reports)] {
                let receipt = store_report(&store, &catalogue, &planted.answers(), &mut story_rng).await?;
                if let Some(key) = planted.key {
                    developed.insert(key, receipt.report_id.clone());
                }
                stored.push(receipt.report_id);
            }
        }
        let answers = synthetic_report(&mut rng, &catalogue);
        stored.push(store_report(&store, &catalogue, &answers, &mut rng).await?.report_id);
    }
    // The reports arrived over the last weeks, as a force's would, in the
    // order they were made.
    let mut time_rng = StdRng::seed_from_u64(arguments.seed ^ 0x7155);
    let times = received_times(stored.len(), aidant_store::now_ms(), &mut time_rng);
    store.set_received_times(&stored.into_iter().zip(times).collect::<Vec<_>>()).await.map_err(runtime_error)?;
    if plant_story {
        sign_ins.extend(demo_story::plant_intelligence(&store, &developed).await?);
    }
    let victims = crate::demo_victims::plant(&store, &catalogue, &developed).await?;
    // The operation is the story's: planted with it.
    let field_records = if plant_story { Some(crate::demo_operation::plan(&store, &catalogue, &developed).await?) } else { None };
    if plant_story {
        println!(
            "Demo data created in {} ({} reports, and planted among them the {} reports and {} intelligence records of {}).",
            data_dir.display(),
            arguments.reports,
            demo_story::STORY_REPORTS.len(),
            demo_story::STORY_INTELLIGENCE.len(),
            demo_story::OPERATION
        );
    } else {
        println!("Demo data created in {} ({} reports).", data_dir.display(), arguments.reports);
    }
    println!("The safeguarding lead has {victims} potential victims' cases at every stage of the National Referral Mechanism.");
    if let Some(field_records) = field_records {
        println!("{} is under way at Toddington Services and Luton's nail bars, with {field_records} records from the field.", demo_story::OPERATION);
        println!("\"{}\" is in planning, a fortnight on.", crate::demo_operation::SECOND_DAY);
    }
    println!("Staff sign in at http://{}/staff/sign-in with password {DEMO_PASSWORD} and one of:", config.listen);
    for (organisation, role, email) in &sign_ins {
        println!("  {email:<44} {role} ({organisation})");
    }
    if arguments.no_serve {
        store.close().await;
        return Ok(());
    }
    println!("Open http://{} in a browser. Press Ctrl-C to stop.", config.listen);
    serve_store(&config, store, catalogue).await
}

/// Stops the demo before it deletes or writes anything when the PostgreSQL
/// database it was given already holds Aidant's tables.
async fn refuse_a_used_database(config: &Config) -> Result<(), Failure> {
    let url = config.effective_database_url();
    let store = Store::connect(&url, &aidant_store::StoreOptions::default(), None).await.map_err(|error| Failure::Startup(error.to_string()))?;
    let used = store.holds_aidant_schema().await;
    store.close().await;
    if used.map_err(|error| Failure::Startup(error.to_string()))? {
        return Err(Failure::Config(format!(
            "the database at {} already holds Aidant's tables: the demo fills only an empty database (createdb a new one)",
            aidant_store::redact_url(&url)
        )));
    }
    Ok(())
}

/// Parses, triages and stores one demo report, its reference drawn from `rng`.
async fn store_report(store: &Store, catalogue: &Catalogue, answers: &ReportAnswers, rng: &mut StdRng) -> Result<Receipt, Failure> {
    let report = NewReport::parse(answers, catalogue)
        .map_err(|errors| Failure::Runtime(format!("demo report invalid: {:?}", errors.first().map(|error| &error.message))))?;
    let triage = report.triage(catalogue);
    let submission = Submission { report: &report, triage: &triage, catalogue_version: &catalogue.version, submission_token: None, passphrase_hash: None };
    let mut bits = || rng.next_u64();
    store.insert_report(&submission, &mut bits).await.map_err(|error| Failure::Runtime(format!("creating demo data failed: {error}")))
}

/// The days the demo's reports are spread over, ending now.
const DEMO_WEEKS: i64 = 6;

/// How many reports arrive in each hour of the day, relative to one
/// another: few overnight, a rise through the day, most in the evening when
/// people are home and have time to write (the pattern of calls to the
/// Modern Slavery Helpline and of online crime reporting).
const HOURLY_WEIGHTS: [u32; 24] = [3, 2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 10, 9, 9, 9, 10, 11, 12, 13, 13, 11, 8, 5];

/// `count` received times over the last `DEMO_WEEKS` weeks before `now_ms`,
/// oldest first, following the daily rhythm above, weekends a little
/// quieter, and a little more each week (a campaign's reach growing).
pub(crate) fn received_times(count: usize, now_ms: i64, rng: &mut StdRng) -> Vec<i64> {
    const HOUR: i64 = 3_600_000;
    let days = DEMO_WEEKS * 7;
    let today_start = now_ms - now_ms.rem_euclid(24 * HOUR);
    let first_day = today_start - (days - 1) * 24 * HOUR;
    // The weight of every hour from the first day's midnight up to now.
    let mut hours = Vec::new();
    let mut hour_start = first_day;
    while hour_start < now_ms {
        let day = (hour_start - first_day) / (24 * HOUR);
        let hour = ((hour_start / HOUR) % 24) as usize;
        // 1 January 1970 was a Thursday: day 2 and 3 of the week are the weekend.
        let weekday = (hour_start / (24 * HOUR)).rem_euclid(7);
        let weekend = if weekday == 2 || weekday == 3 { 8 } else { 10 };
        let growth = 10 + day / 7;
        hours.push((hour_start, u64::from(HOURLY_WEIGHTS[hour]) * weekend as u64 * growth as u64));
        hour_start += HOUR;
    }
    let total: u64 = hours.iter().map(|(_, weight)| weight).sum();
    let mut times: Vec<i64> = (0..count)
        .map(|_| {
            let mut pick = rng.random_range(0..total.max(1));
            let (start, _) = hours
                .iter()
                .find(|(_, weight)| {
                    if pick < *weight {
                        true
                    } else {
                        pick -= weight;
                        false
                    }
                })
                .copied()
                .unwrap_or((first_day, 0));
            (start + rng.random_range(0..HOUR)).min(now_ms - 1)
        })
        .collect();
    times.sort_unstable();
    times
}

fn reset_demo_dir(directory: &Path) -> Result<(), Failure> {
    if directory.exists() {
        let is_demo = directory.join(DEMO_MARKER).is_file();
        let is_empty = std::fs::read_dir(directory).map(|mut entries| entries.next().is_none()).unwrap_or(false);
        if !is_demo && !is_empty {
            return Err(Failure::Startup(format!("{} exists and was not made by aidant demo; choose another --data-dir", directory.display())));
        }
        std::fs::remove_dir_all(directory).map_err(|error| Failure::Startup(format!("cannot remove the old demo data in {}: {error}", directory.display())))?;
    }
    std::fs::create_dir_all(directory).map_err(|error| Failure::Startup(format!("cannot create {}: {error}", directory.display())))?;
    std::fs::write(directory.join(DEMO_MARKER), "Made by aidant demo; deleted on the next run.\n")
        .map_err(|error| Failure::Startup(format!("cannot write to {}: {error}", directory.display())))
}

/// Every demo user's password: demo data only, printed at start-up.
pub const DEMO_PASSWORD: &str = "aidant-demo-password";

async fn seed_organisations(store: &Store) -> Result<Vec<(String, String, String)>, aidant_store::StoreError> {
    let mut sign_ins = Vec::new();
    let organisations = [
        (demo_story::BEDFORDSHIRE_POLICE, OrganisationKind::PoliceForce, "beds.police.example"),
        (demo_story::NATIONAL_CRIME_AGENCY, OrganisationKind::NationalAgency, "nca.example"),
        (demo_story::GLAA, OrganisationKind::Regulator, "glaa.example"),
        ("Immigration Enforcement", OrganisationKind::ImmigrationEnforcement, "ie.example"),
        ("Driver and Vehicle Licensing Agency", OrganisationKind::Dvla, "dvla.example"),
        ("Justice and Care", OrganisationKind::Charity, "justiceandcare.example"),
        ("Luton Borough Council", OrganisationKind::LocalAuthority, "luton.gov.example"),
    ];
    for (name, kind, domain) in organisations {
        let organisation = store.create_organisation(name, kind).await?;
        if kind == OrganisationKind::PoliceForce {
            store.set_receiving_organisation(&organisation.id, &aidant_core::audit::AuditActor::Cli).await?;
        }
        // Every organisation has its own administrator for its own users.
        let roles: &[Role] = match kind {
            OrganisationKind::PoliceForce => Role::ALL,
            _ => &[Role::Partner, Role::Administrator],
        };
        for role in roles {
            let email = format!("{}@{domain}", role.as_str().replace('_', "."));
            let user = store.create_user(&organisation.id, &email, &format!("Demo {}", role.label()), &[*role]).await?;
            store.set_password(&user.id, DEMO_PASSWORD, &aidant_core::audit::AuditActor::Cli).await?;
            sign_ins.push((name.to_owned(), role.label().to_owned(), email));
        }
    }
    Ok(sign_ins)
}

/// Towns with their real postcode districts (the inward codes are invented).
const PLACES: [(&str, &[&str]); 6] = [
    ("Luton", &["LU1", "LU2", "LU3", "LU4"]),
    ("Bedford", &["MK40", "MK41", "MK42"]),
    ("Dunstable", &["LU5", "LU6"]),
    ("Biggleswade", &["SG18"]),
    ("Leighton Buzzard", &["LU7"]),
    ("Toddington", &["LU5"]),
];

struct SectorStory {
    sector: &'static str,
    businesses: &'static [&'static str],
    narratives: &'static [&'static str],
    share: u32,
}

const STORIES: [SectorStory; 12] = [
    SectorStory {
        sector: "nail_bar",
        businesses: &["Star Nails", "Luxe Nails & Spa", "Crystal Nails", "Golden Nail Bar", "Pretty Tips"],
        narratives: &[
            "The young woman doing my nails did not speak and kept looking at the manager. She said she lives upstairs.",
            "Staff work from opening until late every day. A man collects them in a van at night.",
            "One girl looked about 15. When I asked her name the manager answered for her.",
        ],
        share: 18,
    },
    SectorStory {
        sector: "car_wash",
        businesses: &["Sparkle Hand Car Wash", "Shine Valet", "Super Hand Wash", "Eco Car Wash"],
        narratives: &[
            "Workers had no gloves or boots in the cold. There is a caravan behind the wash where they seem to sleep.",
            "Cash only, £5 for a full wash. The men looked exhausted and scared of the boss.",
        ],
        share: 16,
    },
    SectorStory {
        sector: "lorries_and_services",
        businesses: &["Toddington Services (M1)"],
        narratives: &[
            "I heard banging from inside a refrigerated trailer in the northbound lorry park.",
            "Four men climbed out of the back of a lorry and ran towards the fence.",
            "A group of people waiting by the lorry park did not know who was picking them up.",
        ],
        share: 10,
    },
    SectorStory {
        sector: "agriculture",
        businesses: &["Greenfield Farms packhouse", "Ivel Valley Growers"],
        narratives: &["A minibus drops about twenty workers at 5am and collects them at 9pm. They all live in two caravans."],
        share: 6,
    },
    SectorStory {
        sector: "construction",
        businesses: &["building site off the A6", "housing development near the station"],
        narratives: &["Labourers with no safety gear are paid in cash by one man who takes a cut from each."],
        share: 6,
    },
    SectorStory {
        sector: "factory_and_warehouse",
        businesses: &["food packing unit on the industrial estate", "parcel warehouse by junction 11"],
        narratives: &["My colleague says an agency man keeps his bank card and gives him £50 a week."],
        share: 6,
    },
    SectorStory {
        sector: "hospitality",
        businesses: &["Golden Dragon takeaway", "Riverside Hotel", "Spice Garden restaurant"],
        narratives: &["The kitchen porter sleeps in the storeroom and I have never seen him leave."],
        share: 8,
    },
    SectorStory {
        sector: "private_house",
        businesses: &[],
        narratives: &["A woman next door cleans and looks after the children from dawn until midnight. She never goes out alone."],
        share: 5,
    },
    SectorStory {
        sector: "brothel_and_massage",
        businesses: &["Oriental Massage", "a flat above the shops"],
        narratives: &[
            "Several young women who speak little English live in the flat. Men visit day and night for short visits.",
            "Different women appear every few weeks. There is CCTV over the door and the windows are never opened.",
        ],
        share: 9,
    },
    SectorStory {
        sector: "cannabis_farm",
        businesses: &[],
        narratives: &["The house has foil on all the windows and smells strongly. A teenage boy was seen at the window but never comes out."],
        share: 6,
    },
    SectorStory {
        sector: "online_adverts",
        businesses: &[],
        narratives: &["An advert offers £900 a week, flights and a room for warehouse work, no English needed, contact by WhatsApp only."],
        share: 5,
    },
    SectorStory {
        sector: "other",
        businesses: &[],
        narratives: &["The same people are dropped off to beg outside the station every morning and collected in a car at night."],
        share: 5,
    },
];

const WHEN: [&str; 6] = ["This morning", "Yesterday evening", "Last Saturday", "Over the past few weeks", "About a month ago", "Every day this week"];
const PEOPLE: [&str; 5] = [
    "They spoke Romanian to each other.",
    "Two young women, I think Vietnamese.",
    "Men in their twenties, speaking Albanian.",
    "A woman who spoke only a little English, maybe Hungarian.",
    "Polish-speaking men.",
];
const VEHICLES: [&str; 5] =
    ["White Ford Transit van", "Silver Mercedes Sprinter", "Black BMW 5 Series", "Blue Vauxhall Astra estate", "Curtain-sided lorry with a Romanian trailer"];

pub(crate) fn synthetic_report(rng: &mut StdRng, catalogue: &Catalogue) -> ReportAnswers {
    let total: u32 = STORIES.iter().map(|story| story.share).sum();
    let mut pick = rng.random_range(0..total);
    let story = STORIES
        .iter()
        .find(|story| {
            if pick < story.share {
                true
            } else {
                pick -= story.share;
                false
            }
        })
        .unwrap_or(&STORIES[0]);
    let (town, districts) = if story.sector == "lorries_and_services" { PLACES[5] } else { *PLACES[..5].choose(rng).unwrap_or(&PLACES[0]) };
    let district = districts.choose(rng).copied().unwrap_or("LU1");
    let postcode = format!("{district} {}{}{}", rng.random_range(1..10), random_letter(rng), random_letter(rng));

    let candidates: Vec<&str> = catalogue.indicators_for_place(story.sector).map(|indicator| indicator.id.as_str()).collect();
    let sign_count = rng.random_range(0..=candidates.len().min(5));
    let mut signs: Vec<String> = candidates.choose_multiple(rng, sign_count).map(|id| (*id).to_owned()).collect();
    signs.sort();

    let vehicles = if rng.random_bool(0.35) {
        vec![VehicleAnswer { registration: Some(random_registration(rng)), description: VEHICLES.choose(rng).map(|text| (*text).to_owned()) }]
    } else {
        Vec::new()
    };
    let age_groups = if rng.random_bool(0.15) {
        vec!["under_18".to_owned()]
    } else {
        vec![["18_to_24", "25_and_over", "not_sure"].choose(rng).map_or("not_sure", |group| group).to_owned()]
    };
    ReportAnswers {
        sector: Some(story.sector.to_owned()),
        postcode: rng.random_bool(0.7).then_some(postcode),
        town: Some(town.to_owned()),
        business_name: story.businesses.choose(rng).map(|name| (*name).to_owned()),
        signs,
        people_count: Some(rng.random_range(1..12).to_string()),
        age_groups,
        people_description: PEOPLE.choose(rng).map(|text| (*text).to_owned()),
        vehicles,
        narrative: story.narratives.choose(rng).map(|text| (*text).to_owned()),
        when_seen: WHEN.choose(rng).map(|text| (*text).to_owned()),
        immediate_danger: rng.random_bool(0.03),
        ..ReportAnswers::default()
    }
}

fn random_letter(rng: &mut StdRng) -> char {
    const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    LETTERS[rng.random_range(0..LETTERS.len())] as char
}

/// A current-format UK registration (two letters, age identifier, three letters).
fn random_registration(rng: &mut StdRng) -> String {
    let age = [16, 66, 17, 67, 18, 68, 19, 69, 20, 70, 21, 71, 22, 72, 23, 73].choose(rng).copied().unwrap_or(19);
    format!("{}{}{age:02} {}{}{}", random_letter(rng), random_letter(rng), random_letter(rng), random_letter(rng), random_letter(rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_reports_arrive_over_weeks_with_a_daily_rhythm() {
        let now = 1_796_000_000_000; // 30 November 2026, 01:33 UTC
        let times = received_times(4_000, now, &mut StdRng::seed_from_u64(3));
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "oldest first");
        assert!(times[0] >= now - DEMO_WEEKS * 7 * 86_400_000 && *times.last().unwrap() < now);
        let distinct_days: std::collections::BTreeSet<i64> = times.iter().map(|time| time / 86_400_000).collect();
        assert!(distinct_days.len() >= 40, "spread over the weeks: {} days", distinct_days.len());
        let in_hours = |hours: std::ops::Range<i64>| times.iter().filter(|time| hours.contains(&((*time / 3_600_000) % 24))).count();
        assert!(in_hours(18..22) > 3 * in_hours(2..6), "evenings are busier than the small hours");
        let last_week = times.iter().filter(|time| **time >= now - 7 * 86_400_000).count();
        let first_week = times.iter().filter(|time| **time < now - 5 * 7 * 86_400_000).count();
        assert!(last_week > first_week, "a little more each week: {first_week} then {last_week}");
    }

    #[test]
    fn every_synthetic_report_is_valid_and_the_mix_covers_every_sector() {
        let catalogue = Catalogue::from_toml(crate::startup::BUILT_IN_CATALOGUE).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let mut sectors = std::collections::BTreeSet::new();
        for _ in 0..2000 {
            let answers = synthetic_report(&mut rng, &catalogue);
            let report = NewReport::parse(&answers, &catalogue).unwrap_or_else(|errors| panic!("{errors:?}"));
            sectors.insert(report.sector);
        }
        assert_eq!(sectors.len(), STORIES.len());
    }

    #[test]
    fn the_demo_only_deletes_its_own_directories() {
        let parent = tempfile::tempdir().unwrap();
        let foreign = parent.path().join("important");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("thesis.txt"), "keep me").unwrap();
        assert!(matches!(reset_demo_dir(&foreign), Err(Failure::Startup(_))));
        assert!(foreign.join("thesis.txt").exists());
        let demo = parent.path().join("demo");
        reset_demo_dir(&demo).unwrap();
        std::fs::write(demo.join("aidant.db"), "old").unwrap();
        reset_demo_dir(&demo).unwrap();
        assert!(!demo.join("aidant.db").exists());
    }
}
