//! Safe publication of potential victims' data, in the shape of the Counter
//! Trafficking Data Collaborative's data dictionary (its column names and
//! coding: booleans 0 or 1, `-99` for unknown):
//!
//! - [`k_anonymise`]: every combination of the published columns occurs at
//!   least [`K`] times (11, as the CTDC publishes). The quasi-identifiers
//!   (year, gender, age, citizenship, type of exploitation, area) are
//!   generalised one whole column at a time by Sweeney's Datafly (the column
//!   with the most distinct values first, along a fixed hierarchy for each),
//!   until the people left in groups smaller than `K` are few enough to
//!   leave out ([`SUPPRESSION_LIMIT`]); they are then left out, never
//!   published. Every other column is a function of the quasi-identifiers
//!   or the same for everyone, so a whole row is as common as its group.
//! - [`synthesise`]: people who do not exist, drawn from noisy counts that
//!   are ε-differentially private: the type of exploitation counted alone
//!   and with each other quasi-identifier (six tables, ε split evenly, one
//!   person changes one cell of each by one), each count given discrete
//!   Laplace noise sampled exactly with integers (Canonne, Kamath and
//!   Steinke 2020, the sampler OpenDP uses). As many people are drawn as
//!   the noisy counts of exploitation add up to; counts below twice the noise's
//!   scale are set to zero before drawing (post-processing, which costs no
//!   privacy). A synthetic
//!   row that equals a real person's row is drawn again: that step reads
//!   the real rows, so the guarantee is ε-DP for the counts and the release
//!   adds only the fact that no real row was repeated.

use std::collections::{HashMap, HashSet};

use rand::Rng;

use crate::safeguarding::ExploitationType;

/// The smallest group published.
pub const K: usize = 11;

/// The share of people Datafly may leave out instead of generalising
/// further: 5%, or `K` people if that is more (Sweeney's rule, so that one
/// unusual person in a small set does not blur everyone else).
pub const SUPPRESSION_LIMIT: (usize, usize) = (5, 100);

/// The privacy budget of one synthetic release, as a fraction: ε = 1.
pub const EPSILON: (u64, u64) = (1, 1);

/// What is known of one potential victim, before anything is published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VictimFacts {
    /// The year they were referred (or notified, or the case opened).
    pub year: Option<i32>,
    /// `female`, `male`, `other`, or anything else for not known.
    pub gender: String,
    /// Age in whole years when referred, when known.
    pub age: Option<u8>,
    /// Under 18 (or possibly), when known without an age.
    pub minor: Option<bool>,
    /// As written: a nationality, a country or an ISO code.
    pub nationality: String,
    pub exploitation: Vec<ExploitationType>,
    /// The police force area.
    pub area: Option<String>,
}

/// CTDC's broad age bands.
const AGE_BANDS: [(u8, &str); 9] =
    [(8, "0--8"), (17, "9--17"), (20, "18--20"), (23, "21--23"), (26, "24--26"), (29, "27--29"), (38, "30--38"), (47, "39--47"), (u8::MAX, "48+")];

/// Citizenships by ISO 3166-1 alpha-2 code, with their UN region and the
/// words people write for them (lower case). The nationalities most often
/// referred in the UK, and their neighbours.
const CITIZENSHIPS: [(&str, &str, &[&str]); 64] = [
    ("GB", "Europe", &["british", "united kingdom", "uk", "english", "scottish", "welsh", "northern irish"]),
    ("AL", "Europe", &["albanian", "albania"]),
    ("VN", "Asia", &["vietnamese", "vietnam", "viet nam"]),
    ("ER", "Africa", &["eritrean", "eritrea"]),
    ("SD", "Africa", &["sudanese", "sudan"]),
    ("RO", "Europe", &["romanian", "romania"]),
    ("PL", "Europe", &["polish", "poland"]),
    ("IN", "Asia", &["indian", "india"]),
    ("CN", "Asia", &["chinese", "china"]),
    ("NG", "Africa", &["nigerian", "nigeria"]),
    ("IR", "Asia", &["iranian", "iran"]),
    ("IQ", "Asia", &["iraqi", "iraq"]),
    ("AF", "Asia", &["afghan", "afghanistan"]),
    ("ET", "Africa", &["ethiopian", "ethiopia"]),
    ("PK", "Asia", &["pakistani", "pakistan"]),
    ("BG", "Europe", &["bulgarian", "bulgaria"]),
    ("HU", "Europe", &["hungarian", "hungary"]),
    ("LT", "Europe", &["lithuanian", "lithuania"]),
    ("LV", "Europe", &["latvian", "latvia"]),
    ("EE", "Europe", &["estonian", "estonia"]),
    ("SK", "Europe", &["slovak", "slovakian", "slovakia"]),
    ("CZ", "Europe", &["czech", "czechia", "czech republic"]),
    ("UA", "Europe", &["ukrainian", "ukraine"]),
    ("MD", "Europe", &["moldovan", "moldova"]),
    ("RU", "Europe", &["russian", "russia"]),
    ("XK", "Europe", &["kosovan", "kosovar", "kosovo"]),
    ("RS", "Europe", &["serbian", "serbia"]),
    ("PT", "Europe", &["portuguese", "portugal"]),
    ("ES", "Europe", &["spanish", "spain"]),
    ("IT", "Europe", &["italian", "italy"]),
    ("GR", "Europe", &["greek", "greece"]),
    ("IE", "Europe", &["irish", "ireland"]),
    ("FR", "Europe", &["french", "france"]),
    ("DE", "Europe", &["german", "germany"]),
    ("TR", "Asia", &["turkish", "turkey", "türkiye", "turkiye"]),
    ("SY", "Asia", &["syrian", "syria"]),
    ("KW", "Asia", &["kuwaiti", "kuwait"]),
    ("YE", "Asia", &["yemeni", "yemen"]),
    ("BD", "Asia", &["bangladeshi", "bangladesh"]),
    ("LK", "Asia", &["sri lankan", "sri lanka"]),
    ("NP", "Asia", &["nepalese", "nepali", "nepal"]),
    ("PH", "Asia", &["filipino", "filipina", "philippine", "philippines"]),
    ("TH", "Asia", &["thai", "thailand"]),
    ("MY", "Asia", &["malaysian", "malaysia"]),
    ("ID", "Asia", &["indonesian", "indonesia"]),
    ("MN", "Asia", &["mongolian", "mongolia"]),
    ("EG", "Africa", &["egyptian", "egypt"]),
    ("LY", "Africa", &["libyan", "libya"]),
    ("MA", "Africa", &["moroccan", "morocco"]),
    ("DZ", "Africa", &["algerian", "algeria"]),
    ("SO", "Africa", &["somali", "somalian", "somalia"]),
    ("KE", "Africa", &["kenyan", "kenya"]),
    ("UG", "Africa", &["ugandan", "uganda"]),
    ("GH", "Africa", &["ghanaian", "ghana"]),
    ("GM", "Africa", &["gambian", "gambia", "the gambia"]),
    ("SL", "Africa", &["sierra leonean", "sierra leone"]),
    ("CM", "Africa", &["cameroonian", "cameroon"]),
    ("CD", "Africa", &["congolese", "democratic republic of the congo", "dr congo", "drc"]),
    ("AO", "Africa", &["angolan", "angola"]),
    ("ZW", "Africa", &["zimbabwean", "zimbabwe"]),
    ("JM", "Americas", &["jamaican", "jamaica"]),
    ("BR", "Americas", &["brazilian", "brazil"]),
    ("US", "Americas", &["american", "united states", "usa"]),
    ("AU", "Oceania", &["australian", "australia"]),
];

/// Regions, in the order codes use.
const REGIONS: [&str; 5] = ["Africa", "Americas", "Asia", "Europe", "Oceania"];

/// The citizenship a nationality as written names, by its index in
/// [`CITIZENSHIPS`]; `None` when not known or not recognised.
fn citizenship(nationality: &str) -> Option<usize> {
    let written = nationality.trim().to_lowercase();
    if written.is_empty() {
        return None;
    }
    CITIZENSHIPS.iter().position(|(code, _, names)| code.eq_ignore_ascii_case(&written) || names.contains(&written.as_str()))
}

fn gender_code(gender: &str) -> Option<u8> {
    match gender.trim() {
        "female" => Some(0),
        "male" => Some(1),
        "other" => Some(2),
        _ => None,
    }
}

const GENDER_LABELS: [&str; 3] = ["Female", "Male", "Trans/Transgender/NonConforming"];

/// The exploitation types as bits.
const LABOUR: u8 = 1;
const SEXUAL: u8 = 2;
const CRIMINAL: u8 = 4;
const DOMESTIC: u8 = 8;
const ORGAN: u8 = 16;
const OTHER: u8 = 32;

fn exploitation_bits(types: &[ExploitationType]) -> u8 {
    types.iter().fold(0, |bits, kind| {
        bits | match kind {
            ExploitationType::Labour => LABOUR,
            ExploitationType::Sexual => SEXUAL,
            ExploitationType::Criminal => CRIMINAL,
            ExploitationType::DomesticServitude => DOMESTIC,
            ExploitationType::OrganRemoval => ORGAN,
            ExploitationType::Other => OTHER,
        }
    })
}

/// The quasi-identifiers, coded; `None` is unknown (or generalised away).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Quasi {
    year: Option<i32>,
    gender: Option<u8>,
    /// An index into [`AGE_BANDS`].
    age_band: Option<u8>,
    minor: Option<bool>,
    /// An index into [`CITIZENSHIPS`] at level 0, into [`REGIONS`] at 1.
    citizenship: Option<u8>,
    /// Exploitation bits; `None` when none was recorded or generalised away.
    exploitation: Option<u8>,
    area: Option<String>,
}

fn quasi(facts: &VictimFacts) -> Quasi {
    let age_band = facts.age.map(|age| AGE_BANDS.iter().position(|(upper, _)| age <= *upper).unwrap_or(AGE_BANDS.len() - 1) as u8);
    let bits = exploitation_bits(&facts.exploitation);
    Quasi {
        year: facts.year,
        gender: gender_code(&facts.gender),
        age_band,
        minor: facts.age.map(|age| age < 18).or(facts.minor),
        citizenship: citizenship(&facts.nationality).map(|index| index as u8),
        exploitation: (bits != 0).then_some(bits),
        area: facts.area.clone().filter(|area| !area.trim().is_empty()),
    }
}

/// How far each quasi-identifier is generalised: year, gender, age,
/// citizenship, exploitation, area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Levels(pub [u8; 6]);

/// The most each can be generalised: year and gender and area to unknown;
/// age to adult or minor, then unknown; citizenship to its region, then
/// unknown; exploitation to CTDC's top-level types, then unknown.
const MOST: [u8; 6] = [1, 1, 2, 2, 2, 1];

impl Levels {
    /// The levels in words, for the disclosure log.
    pub fn describe(&self) -> String {
        const NAMES: [&str; 6] = ["year", "gender", "age", "citizenship", "exploitation", "area"];
        const WORDS: [[&str; 3]; 6] = [
            ["exact", "withheld", ""],
            ["exact", "withheld", ""],
            ["band", "adult or minor", "withheld"],
            ["country", "region", "withheld"],
            ["types and subtypes", "top-level types", "withheld"],
            ["police force area", "withheld", ""],
        ];
        NAMES
            .iter()
            .zip(WORDS.iter())
            .zip(self.0.iter())
            .map(|((name, words), level)| format!("{name}: {}", words[usize::from(*level)]))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn generalise(quasi: &Quasi, levels: &Levels) -> Quasi {
    let [year, gender, age, citizenship, exploitation, area] = levels.0;
    Quasi {
        year: quasi.year.filter(|_| year == 0),
        gender: quasi.gender.filter(|_| gender == 0),
        age_band: quasi.age_band.filter(|_| age == 0),
        minor: quasi.minor.filter(|_| age <= 1),
        citizenship: match citizenship {
            0 => quasi.citizenship,
            1 => quasi.citizenship.and_then(|index| REGIONS.iter().position(|region| *region == CITIZENSHIPS[usize::from(index)].1)).map(|index| index as u8),
            _ => None,
        },
        exploitation: match exploitation {
            0 => quasi.exploitation,
            1 => quasi.exploitation.map(top_level),
            _ => None,
        },
        area: quasi.area.clone().filter(|_| area == 0),
    }
}

/// CTDC's top-level types: forced labour (labour, criminal exploitation as
/// illicit activities, domestic servitude as domestic work), sexual
/// exploitation, organ removal, other.
fn top_level(bits: u8) -> u8 {
    let labour = if bits & (LABOUR | CRIMINAL | DOMESTIC) != 0 { LABOUR } else { 0 };
    labour | (bits & (SEXUAL | ORGAN | OTHER))
}

/// The published columns, in the data dictionary's order (with the police
/// force area, Aidant's, last).
pub const COLUMNS: [&str; 65] = [
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "majorityStatusAtExploit",
    "majorityEntry",
    "citizenship",
    "meansOfControlDebtBondage",
    "meansOfControlTakesEarnings",
    "meansOfControlRestrictsFinancialAccess",
    "meansOfControlThreats",
    "meansOfControlPsychologicalAbuse",
    "meansOfControlPhysicalAbuse",
    "meansOfControlSexualAbuse",
    "meansOfControlFalsePromises",
    "meansOfControlPsychoactiveSubstances",
    "meansOfControlRestrictsMovement",
    "meansOfControlRestrictsMedicalCare",
    "meansOfControlExcessiveWorkingHours",
    "meansOfControlUsesChildren",
    "meansOfControlThreatOfLawEnforcement",
    "meansOfControlWithholdsNecessities",
    "meansOfControlWithholdsDocuments",
    "meansOfControlOther",
    "meansOfControlNotSpecified",
    "meansOfControlConcatenated",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "isSexAndLabour",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isSlaveryAndPractices",
    "typeOfExploitConcatenated",
    "typeOfLabourAgriculture",
    "typeOfLabourAquafarming",
    "typeOfLabourBegging",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfLabourIllicitActivities",
    "typeOfLabourManufacturing",
    "typeOfLabourMiningOrDrilling",
    "typeOfLabourPeddling",
    "typeOfLabourTransportation",
    "typeOfLabourOther",
    "typeOfLabourNotSpecified",
    "typeOfLabourConcatenated",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "typeOfSexRemoteInteractiveServices",
    "typeOfSexPrivateSexualServices",
    "typeOfSexConcatenated",
    "isAbduction",
    "RecruiterRelationship",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
    "recruiterRelationUnknown",
    "CountryOfExploitation",
    "policeForceArea",
    "recordCount",
];

/// The columns that are quasi-identifiers (what an independent check
/// groups by).
pub const QUASI_IDENTIFIERS: [&str; 7] =
    ["yearOfRegistration", "gender", "ageBroad", "majorityStatus", "citizenship", "typeOfExploitConcatenated", "policeForceArea"];

const UNKNOWN: &str = "-99";

fn flag(value: bool) -> String {
    if value { "1" } else { "0" }.to_owned()
}

/// One published row from a (generalised) group, at `levels`.
fn render(quasi: &Quasi, levels: &Levels) -> Vec<String> {
    let unknown = || UNKNOWN.to_owned();
    let mut row: Vec<String> = Vec::with_capacity(COLUMNS.len());
    row.push(quasi.year.map_or_else(unknown, |year| year.to_string()));
    row.push("Case Management".to_owned());
    row.push(quasi.gender.map_or_else(unknown, |code| GENDER_LABELS[usize::from(code)].to_owned()));
    row.push(quasi.age_band.map_or_else(unknown, |band| AGE_BANDS[usize::from(band)].1.to_owned()));
    row.push(quasi.minor.map_or_else(unknown, |minor| if minor { "Minor" } else { "Adult" }.to_owned()));
    row.push(unknown());
    row.push(unknown());
    row.push(match (levels.0[3], quasi.citizenship) {
        (0, Some(index)) => CITIZENSHIPS[usize::from(index)].0.to_owned(),
        (1, Some(index)) => REGIONS[usize::from(index)].to_owned(),
        _ => unknown(),
    });
    // Means of control are not recorded in a case: unknown, every one.
    row.extend((0..19).map(|_| unknown()));
    match quasi.exploitation {
        None => row.extend((0..9).map(|_| unknown())),
        Some(bits) => {
            let labour = bits & (LABOUR | CRIMINAL | DOMESTIC) != 0;
            let sexual = bits & SEXUAL != 0;
            row.extend([
                flag(labour),
                flag(sexual),
                flag(bits & OTHER != 0),
                flag(labour && sexual),
                flag(false),
                flag(false),
                flag(bits & ORGAN != 0),
                flag(false),
            ]);
            let mut names = Vec::new();
            for (present, name) in
                [(labour, "Forced labour"), (sexual, "Sexual exploitation"), (bits & ORGAN != 0, "Organ removal"), (bits & OTHER != 0, "Other")]
            {
                if present {
                    names.push(name);
                }
            }
            row.push(names.join(";"));
        }
    }
    // Kinds of labour: known at level 0 for domestic work and illicit
    // activities (criminal exploitation); the rest are not recorded.
    match (quasi.exploitation, levels.0[4]) {
        (Some(bits), 0) if bits & (LABOUR | CRIMINAL | DOMESTIC) != 0 => {
            let domestic = bits & DOMESTIC != 0;
            let illicit = bits & CRIMINAL != 0;
            let unspecified = !domestic && !illicit;
            for column in 0..13 {
                row.push(match column {
                    4 => flag(domestic),
                    6 => flag(illicit),
                    12 => flag(unspecified),
                    _ => unknown(),
                });
            }
            let mut names = Vec::new();
            if domestic {
                names.push("Domestic work");
            }
            if illicit {
                names.push("Illicit activities");
            }
            if unspecified {
                names.push("Not specified");
            }
            row.push(names.join(";"));
        }
        (Some(bits), _) if bits & (LABOUR | CRIMINAL | DOMESTIC) == 0 => row.extend((0..14).map(|column| if column == 13 { unknown() } else { flag(false) })),
        _ => row.extend((0..14).map(|_| unknown())),
    }
    // Kinds of sexual exploitation, abduction and recruiters: not recorded.
    row.extend((0..5).map(|_| unknown()));
    row.extend((0..7).map(|_| unknown()));
    row.push(unknown());
    row.push(quasi.area.clone().unwrap_or_else(unknown));
    row.push("1".to_owned());
    row
}

/// A k-anonymised release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anonymised {
    /// Rows in sorted order (so the order says nothing of when a case was
    /// opened), each [`COLUMNS`] long.
    pub rows: Vec<Vec<String>>,
    /// People left out, being in groups smaller than [`K`] at the end.
    pub suppressed: usize,
    pub levels: Levels,
}

/// K-anonymises `people` with k = [`K`] (see the module's documentation).
pub fn k_anonymise(people: &[VictimFacts]) -> Anonymised {
    let coded: Vec<Quasi> = people.iter().map(quasi).collect();
    let limit = (people.len() * SUPPRESSION_LIMIT.0 / SUPPRESSION_LIMIT.1).max(K);
    let mut levels = Levels::default();
    loop {
        let groups = group_sizes(&coded, &levels);
        let small: usize = groups.values().filter(|size| **size < K).sum();
        if small <= limit {
            break;
        }
        // Generalise the column with the most distinct values left.
        let widest = (0..6).filter(|column| levels.0[*column] < MOST[*column]).max_by_key(|column| (distinct(&groups, *column), usize::MAX - column));
        match widest {
            Some(column) => levels.0[column] += 1,
            None => break,
        }
    }
    let groups = group_sizes(&coded, &levels);
    let mut rows = Vec::new();
    let mut suppressed = 0;
    for person in &coded {
        let general = generalise(person, &levels);
        if groups.get(&general).copied().unwrap_or(0) >= K {
            rows.push(render(&general, &levels));
        } else {
            suppressed += 1;
        }
    }
    rows.sort();
    Anonymised { rows, suppressed, levels }
}

fn group_sizes(coded: &[Quasi], levels: &Levels) -> HashMap<Quasi, usize> {
    let mut groups: HashMap<Quasi, usize> = HashMap::new();
    for person in coded {
        *groups.entry(generalise(person, levels)).or_default() += 1;
    }
    groups
}

/// How many distinct values one quasi-identifier takes among the groups.
fn distinct(groups: &HashMap<Quasi, usize>, column: usize) -> usize {
    let values: HashSet<String> = groups
        .keys()
        .map(|quasi| match column {
            0 => format!("{:?}", quasi.year),
            1 => format!("{:?}", quasi.gender),
            2 => format!("{:?}{:?}", quasi.age_band, quasi.minor),
            3 => format!("{:?}", quasi.citizenship),
            4 => format!("{:?}", quasi.exploitation),
            _ => format!("{:?}", quasi.area),
        })
        .collect();
    values.len()
}

// Differential privacy.

/// Bernoulli(numerator / denominator).
fn bernoulli(rng: &mut impl Rng, numerator: u64, denominator: u64) -> bool {
    rng.random_range(0..denominator) < numerator
}

/// Bernoulli(exp(-numerator / denominator)), exactly (Canonne, Kamath and
/// Steinke 2020, algorithm 1).
fn bernoulli_exp(rng: &mut impl Rng, mut numerator: u64, denominator: u64) -> bool {
    while numerator > denominator {
        if !bernoulli_exp(rng, 1, 1) {
            return false;
        }
        numerator -= denominator;
    }
    let mut k = 1;
    while bernoulli(rng, numerator, denominator.saturating_mul(k)) {
        k += 1;
    }
    k % 2 == 1
}

/// Discrete Laplace noise of scale `t / s`, exactly (ibid., algorithm 2).
pub fn discrete_laplace(rng: &mut impl Rng, t: u64, s: u64) -> i64 {
    loop {
        let u = rng.random_range(0..t);
        if !bernoulli_exp(rng, u, t) {
            continue;
        }
        let mut v = 0u64;
        while bernoulli_exp(rng, 1, 1) {
            v += 1;
        }
        let y = (u + t * v) / s;
        let negative = bernoulli(rng, 1, 2);
        if negative && y == 0 {
            continue;
        }
        let y = i64::try_from(y).unwrap_or(i64::MAX);
        return if negative { -y } else { y };
    }
}

/// How many times a synthetic row equal to a real person's is drawn again
/// before that row is given up.
const REDRAWS: usize = 20;

/// A synthetic release.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    pub rows: Vec<Vec<String>>,
    /// ε spent, as a fraction.
    pub epsilon: (u64, u64),
    /// The noise's scale on each count.
    pub scale: f64,
    /// Rows drawn again for equalling a real person's.
    pub redrawn: usize,
    /// Rows given up after [`REDRAWS`] draws that all equalled real rows.
    pub given_up: usize,
}

/// The values each quasi-identifier may take, fixed before the data is
/// read (so the domain reveals nothing): the years given, every gender,
/// age and citizenship code, every set of exploitation types, the areas
/// given.
struct Domains {
    years: Vec<Option<i32>>,
    areas: Vec<Option<String>>,
}

/// An attribute's value index for a person, in its domain.
fn attribute(quasi: &Quasi, which: usize, domains: &Domains) -> usize {
    match which {
        0 => domains.years.iter().position(|year| *year == quasi.year).unwrap_or(0),
        1 => quasi.gender.map_or(0, |code| usize::from(code) + 1),
        2 => match (quasi.age_band, quasi.minor) {
            (Some(band), _) => usize::from(band) + 3,
            (None, Some(true)) => 1,
            (None, Some(false)) => 2,
            (None, None) => 0,
        },
        3 => quasi.citizenship.map_or(0, |index| usize::from(index) + 1),
        4 => usize::from(quasi.exploitation.unwrap_or(0)),
        _ => domains.areas.iter().position(|area| *area == quasi.area).unwrap_or(0),
    }
}

fn domain_size(which: usize, domains: &Domains) -> usize {
    match which {
        0 => domains.years.len(),
        1 => GENDER_LABELS.len() + 1,
        2 => AGE_BANDS.len() + 3,
        3 => CITIZENSHIPS.len() + 1,
        4 => 64,
        _ => domains.areas.len(),
    }
}

fn with_attribute(quasi: &mut Quasi, which: usize, value: usize, domains: &Domains) {
    match which {
        0 => quasi.year = domains.years[value],
        1 => quasi.gender = value.checked_sub(1).map(|code| code as u8),
        2 => {
            (quasi.age_band, quasi.minor) = match value {
                0 => (None, None),
                1 => (None, Some(true)),
                2 => (None, Some(false)),
                band => (Some((band - 3) as u8), Some(band - 3 <= 1)),
            }
        }
        3 => quasi.citizenship = value.checked_sub(1).map(|index| index as u8),
        4 => quasi.exploitation = (value != 0).then_some(value as u8),
        _ => quasi.area = domains.areas[value].clone(),
    }
}

/// Draws an index in proportion to `weights`; `None` when all are zero.
fn draw(rng: &mut impl Rng, weights: &[i64]) -> Option<usize> {
    let total: i64 = weights.iter().sum();
    if total <= 0 {
        return None;
    }
    let mut pick = rng.random_range(0..total);
    for (index, weight) in weights.iter().enumerate() {
        if pick < *weight {
            return Some(index);
        }
        pick -= weight;
    }
    None
}

/// Synthetic people drawn from ε-differentially private counts of
/// `people` (see the module's documentation), ε = [`EPSILON`]; `years` and
/// `areas` are the domains of those columns, chosen without the data (a
/// person outside them is counted as unknown there).
pub fn synthesise(people: &[VictimFacts], years: &[i32], areas: &[String], rng: &mut impl Rng) -> Synthetic {
    let domains = Domains {
        years: std::iter::once(None).chain(years.iter().map(|year| Some(*year))).collect(),
        areas: std::iter::once(None).chain(areas.iter().map(|area| Some(area.clone()))).collect(),
    };
    let coded: Vec<Quasi> = people.iter().map(quasi).collect();
    // Six tables: exploitation alone, then exploitation with each other.
    const ROOT: usize = 4;
    const CHILDREN: [usize; 5] = [0, 1, 2, 3, 5];
    let tables = 1 + CHILDREN.len() as u64;
    let (numerator, denominator) = EPSILON;
    // Each table gets ε / 6: noise of scale 6 / ε = t / s.
    let (t, s) = (tables * denominator, numerator);
    let scale = t as f64 / s as f64;
    // Twice the scale: a cell with no one in it passes with probability
    // about e^-2 / 2, 7%.
    let threshold = 2 * t.div_ceil(s) as i64;
    // Each count released with noise; the sums of the released counts are
    // kept before small ones are set to zero (the total is then unbiased).
    let mut noisy = |counts: Vec<i64>| -> (Vec<i64>, i64) {
        let released: Vec<i64> = counts.into_iter().map(|count| count + discrete_laplace(rng, t, s)).collect();
        let total = released.iter().sum();
        (released.into_iter().map(|count| if count < threshold { 0 } else { count }).collect(), total)
    };
    let roots = domain_size(ROOT, &domains);
    let mut root_counts = vec![0i64; roots];
    for person in &coded {
        root_counts[attribute(person, ROOT, &domains)] += 1;
    }
    let (root, total) = noisy(root_counts);
    let mut pairs: Vec<Vec<i64>> = Vec::new();
    for child in CHILDREN {
        let width = domain_size(child, &domains);
        let mut counts = vec![0i64; roots * width];
        for person in &coded {
            counts[attribute(person, ROOT, &domains) * width + attribute(person, child, &domains)] += 1;
        }
        pairs.push(noisy(counts).0);
    }
    // Post-processing from here on: only the noisy counts are read, except
    // to redraw a row equal to a real person's.
    // Real rows are remembered by a hash of the row (a collision only
    // draws a row again).
    let fingerprint = |row: &Vec<String>| {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        row.hash(&mut hasher);
        hasher.finish()
    };
    let real: HashSet<u64> = coded.iter().map(|person| fingerprint(&render(person, &Levels::default()))).collect();
    // Each table's counts of the child alone, for a row of the parent that
    // is all zero.
    let columns: Vec<Vec<i64>> = CHILDREN
        .iter()
        .enumerate()
        .map(|(table, child)| {
            let width = domain_size(*child, &domains);
            (0..width).map(|value| (0..roots).map(|root| pairs[table][root * width + value]).sum()).collect()
        })
        .collect();
    let wanted = total.max(0);
    let mut rows = Vec::with_capacity(usize::try_from(wanted).unwrap_or(0));
    let mut redrawn = 0;
    let mut given_up = 0;
    for _ in 0..wanted {
        let mut drawn = false;
        for attempt in 0..REDRAWS {
            let Some(exploitation) = draw(rng, &root) else { break };
            let mut person = Quasi { year: None, gender: None, age_band: None, minor: None, citizenship: None, exploitation: None, area: None };
            with_attribute(&mut person, ROOT, exploitation, &domains);
            for (table, child) in CHILDREN.iter().enumerate() {
                let width = domain_size(*child, &domains);
                let row = &pairs[table][exploitation * width..(exploitation + 1) * width];
                let value = draw(rng, row).or_else(|| draw(rng, &columns[table])).unwrap_or(0);
                with_attribute(&mut person, *child, value, &domains);
            }
            let rendered = render(&person, &Levels::default());
            if !real.contains(&fingerprint(&rendered)) {
                rows.push(rendered);
                drawn = true;
                break;
            }
            redrawn += 1;
            let _ = attempt;
        }
        given_up += usize::from(!drawn);
    }
    rows.sort();
    Synthetic { rows, epsilon: EPSILON, scale, redrawn, given_up }
}

/// Rows as CSV (RFC 4180), with the header.
pub fn to_csv(rows: &[Vec<String>]) -> String {
    let field = |text: &str| {
        if text.contains([',', '"', '\n', '\r']) || text.starts_with(['=', '+', '-', '@']) && text != UNKNOWN {
            let inert = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
            format!("\"{}\"", inert.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    let mut csv = COLUMNS.join(",");
    csv.push_str("\r\n");
    for row in rows {
        csv.push_str(&row.iter().map(|cell| field(cell)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn person(year: i32, gender: &str, age: u8, nationality: &str, exploitation: &[ExploitationType], area: &str) -> VictimFacts {
        VictimFacts {
            year: Some(year),
            gender: gender.to_owned(),
            age: Some(age),
            minor: None,
            nationality: nationality.to_owned(),
            exploitation: exploitation.to_vec(),
            area: Some(area.to_owned()),
        }
    }

    fn class_sizes(rows: &[Vec<String>]) -> HashMap<&Vec<String>, usize> {
        let mut sizes = HashMap::new();
        for row in rows {
            *sizes.entry(row).or_default() += 1;
        }
        sizes
    }

    #[test]
    fn common_groups_are_published_as_they_are() {
        let mut people = Vec::new();
        for _ in 0..30 {
            people.push(person(2026, "female", 22, "Romanian", &[ExploitationType::Sexual], "Bedfordshire"));
        }
        for _ in 0..12 {
            people.push(person(2026, "male", 35, "albania", &[ExploitationType::Criminal], "Bedfordshire"));
        }
        let published = k_anonymise(&people);
        assert_eq!(published.levels, Levels::default(), "nothing needed generalising");
        assert_eq!((published.rows.len(), published.suppressed), (42, 0));
        let romanian = published.rows.iter().find(|row| row[7] == "RO").unwrap();
        assert_eq!((romanian[0].as_str(), romanian[2].as_str(), romanian[3].as_str(), romanian[4].as_str()), ("2026", "Female", "21--23", "Adult"));
        assert_eq!((romanian[27].as_str(), romanian[28].as_str(), romanian[35].as_str()), ("0", "1", "Sexual exploitation"));
        let albanian = published.rows.iter().find(|row| row[7] == "AL").unwrap();
        assert_eq!((albanian[27].as_str(), albanian[42].as_str(), albanian[49].as_str()), ("1", "1", "Illicit activities"));
        assert!(published.rows.iter().all(|row| row.len() == COLUMNS.len()));
    }

    #[test]
    fn a_rare_person_is_generalised_or_left_out_never_published() {
        let mut people: Vec<VictimFacts> = (0..40).map(|_| person(2025, "female", 30, "Vietnamese", &[ExploitationType::Labour], "Bedfordshire")).collect();
        people.push(person(2025, "other", 61, "Mongolian", &[ExploitationType::OrganRemoval], "Bedfordshire"));
        let published = k_anonymise(&people);
        assert!(published.rows.iter().all(|row| row[7] != "MN" && row[2] != GENDER_LABELS[2]), "the one person is not visible");
        assert!(class_sizes(&published.rows).values().all(|size| *size >= K));
    }

    #[test]
    fn fewer_than_k_people_publish_nothing() {
        let people: Vec<VictimFacts> = (0..10).map(|_| person(2025, "female", 30, "Polish", &[ExploitationType::Labour], "Bedfordshire")).collect();
        let published = k_anonymise(&people);
        assert_eq!((published.rows.len(), published.suppressed), (0, 10));
    }

    #[test]
    fn unknown_nationalities_and_regions() {
        assert_eq!(citizenship(" Romanian "), citizenship("RO"));
        assert_eq!(citizenship("Atlantean"), None);
        assert_eq!(citizenship(""), None);
        assert!(CITIZENSHIPS.iter().all(|(code, region, _)| code.len() == 2 && REGIONS.contains(region)));
        let codes: HashSet<&str> = CITIZENSHIPS.iter().map(|(code, _, _)| *code).collect();
        assert_eq!(codes.len(), CITIZENSHIPS.len());
    }

    #[test]
    fn discrete_laplace_has_the_scale_asked_for() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let samples: Vec<i64> = (0..20_000).map(|_| discrete_laplace(&mut rng, 6, 1)).collect();
        let mean = samples.iter().sum::<i64>() as f64 / samples.len() as f64;
        let mean_absolute = samples.iter().map(|sample| sample.abs()).sum::<i64>() as f64 / samples.len() as f64;
        // Discrete Laplace of scale 6: mean 0, mean absolute value
        // 2 e^{-1/6} / (1 - e^{-2/6}), about 5.92.
        let expected = 2.0 * (-1.0f64 / 6.0).exp() / (1.0 - (-2.0f64 / 6.0).exp());
        assert!(mean.abs() < 0.2, "mean {mean}");
        assert!((mean_absolute - expected).abs() < 0.25, "mean absolute {mean_absolute}, expected {expected}");
    }

    #[test]
    fn synthetic_people_follow_the_counts_and_are_nobody() {
        // Many combinations are rare and some profiles repeat, as in real
        // data; women are most of those sexually exploited.
        let nationalities = ["Romanian", "Vietnamese", "Albanian", "British", "Polish", "Eritrean", "Sudanese"];
        let mut people = Vec::new();
        for index in 0..600usize {
            let (gender, exploitation) = if index % 3 == 0 { ("male", ExploitationType::Labour) } else { ("female", ExploitationType::Sexual) };
            let nationality = nationalities[(index * 7 + index / 5) % nationalities.len()];
            people.push(person(2025 + (index % 2) as i32, gender, 16 + (index * 13 % 45) as u8, nationality, &[exploitation], "Bedfordshire"));
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let synthetic = synthesise(&people, &[2025, 2026], &["Bedfordshire".to_owned()], &mut rng);
        let real: HashSet<Vec<String>> = people.iter().map(|person| render(&quasi(person), &Levels::default())).collect();
        assert!(synthetic.rows.iter().all(|row| !real.contains(row)), "no synthetic row is a real person's");
        // Roughly as many, and the pairwise link between exploitation and
        // gender survives the noise.
        assert!((300..700).contains(&synthetic.rows.len()), "{} rows, {} redrawn", synthetic.rows.len(), synthetic.redrawn);
        let share_of_women = |column: usize| {
            let rows: Vec<&Vec<String>> = synthetic.rows.iter().filter(|row| row[column] == "1").collect();
            rows.iter().filter(|row| row[2] == "Female").count() as f64 / rows.len().max(1) as f64
        };
        let (sexual, labour) = (share_of_women(28), share_of_women(27));
        // Noise, and redrawing rows that equal a real person's (which
        // favours combinations nobody has), soften the link but keep it.
        assert!(
            sexual > 0.65 && labour < 0.45 && sexual - labour > 0.3,
            "women are {sexual:.2} of the sexually exploited and {labour:.2} of the labour exploited"
        );
        assert_eq!(synthetic.scale, 6.0);
    }
}
