//! The k-anonymised release checked by an independent program
//! (`scripts/check-k-anonymity.py`, Python's csv module and a counter) on
//! the file itself: on adversarial data where almost everyone is unique,
//! on data where most are common, and on a file made to fail (so the check
//! is seen to catch a breach).

use std::process::Command;

use aidant_core::publication::{COLUMNS, K, VictimFacts, k_anonymise, to_csv};
use aidant_core::safeguarding::ExploitationType;
use rand::{Rng, SeedableRng};

fn check(csv: &str, name: &str) -> (bool, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let path = std::env::temp_dir().join(format!("aidant-k-anonymity-{}-{name}.csv", std::process::id()));
    std::fs::write(&path, csv).unwrap();
    let python = std::env::var("AIDANT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&python)
        .arg(format!("{root}/scripts/check-k-anonymity.py"))
        .arg(&path)
        .args(["--k", &K.to_string()])
        .output()
        .unwrap_or_else(|error| panic!("could not run '{python}' (set AIDANT_PYTHON): {error}"));
    std::fs::remove_file(&path).ok();
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

const NATIONALITIES: [&str; 12] =
    ["Romanian", "Vietnamese", "Albanian", "British", "Polish", "Eritrean", "Sudanese", "Chinese", "Nigerian", "Atlantean", "", "Mongolian"];
const TYPES: [ExploitationType; 6] = [
    ExploitationType::Labour,
    ExploitationType::Sexual,
    ExploitationType::Criminal,
    ExploitationType::DomesticServitude,
    ExploitationType::OrganRemoval,
    ExploitationType::Other,
];

fn random_person(rng: &mut impl Rng, areas: &[&str]) -> VictimFacts {
    let types: Vec<ExploitationType> = TYPES.iter().filter(|_| rng.random_bool(0.25)).copied().collect();
    VictimFacts {
        year: Some(rng.random_range(2019..=2026)),
        gender: ["female", "male", "other", "not_known"][rng.random_range(0..4)].to_owned(),
        age: rng.random_bool(0.9).then(|| rng.random_range(0..80)),
        minor: Some(rng.random_bool(0.4)),
        nationality: NATIONALITIES[rng.random_range(0..NATIONALITIES.len())].to_owned(),
        exploitation: types,
        area: Some(areas[rng.random_range(0..areas.len())].to_owned()),
    }
}

#[test]
fn adversarial_data_where_most_people_are_unique_is_published_k_anonymous() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let areas = ["Bedfordshire", "Hertfordshire", "Thames Valley", "Essex", "Kent", "Norfolk", "Suffolk", "Cambridgeshire"];
    for size in [12, 60, 400, 3000] {
        let people: Vec<VictimFacts> = (0..size).map(|_| random_person(&mut rng, &areas)).collect();
        let published = k_anonymise(&people);
        assert_eq!(published.rows.len() + published.suppressed, size);
        let (passed, output) = check(&to_csv(&published.rows), &format!("adversarial-{size}"));
        assert!(passed, "{size} people: {output}");
        if size >= 400 {
            assert!(!published.rows.is_empty(), "{size} people publish something: {:?}", published.levels);
        }
    }
}

#[test]
fn common_profiles_keep_their_detail_and_pass() {
    let mut people = Vec::new();
    for index in 0..500usize {
        people.push(VictimFacts {
            year: Some(2026),
            gender: if index % 4 == 0 { "male" } else { "female" }.to_owned(),
            age: Some(if index % 2 == 0 { 22 } else { 34 }),
            minor: None,
            nationality: ["Romanian", "Vietnamese", "Albanian"][index % 3].to_owned(),
            exploitation: vec![if index % 4 == 0 { ExploitationType::Labour } else { ExploitationType::Sexual }],
            area: Some("Bedfordshire".to_owned()),
        });
    }
    let published = k_anonymise(&people);
    assert_eq!(published.suppressed, 0);
    assert!(published.rows.iter().any(|row| row[7] == "RO" && row[3] == "21--23"), "country and age band are kept");
    let (passed, output) = check(&to_csv(&published.rows), "common");
    assert!(passed, "{output}");
}

#[test]
fn the_check_catches_a_small_group() {
    let mut rows: Vec<Vec<String>> = (0..K).map(|_| COLUMNS.iter().map(|_| "-99".to_owned()).collect()).collect();
    let mut rare: Vec<String> = COLUMNS.iter().map(|_| "-99".to_owned()).collect();
    rare[7] = "MN".to_owned();
    rows.push(rare);
    let (passed, output) = check(&to_csv(&rows), "breach");
    assert!(!passed && output.contains("fewer than 11"), "{output}");
}
