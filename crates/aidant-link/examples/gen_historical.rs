//! Seeded synthetic *historical* people with known truth: parish registers, censuses and peerages
//! of people born between 1500 and 1900, for testing linkage on data unlike the modern reports
//! Aidant was first tuned on.
//!
//! `cargo run --release --example gen_historical -- --records 20000 --seed 7 --out DIR` writes
//! `DIR/people.csv` (record_id, title, given_name, family_name, dob, birth_place, occupation, sex)
//! and `DIR/truth.csv` (record_id, cluster_id), which linkers never read.
//!
//! What makes it hard, as such sources are: few surnames and given names shared by many people,
//! families of brothers and sisters (twins among them) born in one place, titles and ordinals
//! written into names ("Sir", "5th Baronet", "Bt."), dates of birth that are often only a year,
//! sometimes a baptism a few days late, sometimes mistranscribed into an impossible date
//! ("1850-04-82"), places and occupations spelt several ways, and names abbreviated the way clerks
//! did ("Wm", "Jno", "Thos").

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

const MALE: &[&str] = &[
    "John",
    "William",
    "Thomas",
    "James",
    "George",
    "Richard",
    "Henry",
    "Robert",
    "Edward",
    "Charles",
    "Joseph",
    "Samuel",
    "Francis",
    "Edmund",
    "Nicholas",
    "Walter",
    "Hugh",
    "Ralph",
    "Matthew",
    "Peter",
    "Benjamin",
    "Daniel",
    "Isaac",
    "Jonathan",
    "Philip",
    "Stephen",
    "Christopher",
    "Anthony",
    "Humphrey",
    "Roger",
    "Lawrence",
    "Abraham",
    "Nathaniel",
    "Josiah",
    "Alfred",
    "Arthur",
    "Frederick",
    "Albert",
    "Ernest",
    "Harry",
];
const FEMALE: &[&str] = &[
    "Mary",
    "Elizabeth",
    "Anne",
    "Sarah",
    "Margaret",
    "Jane",
    "Catherine",
    "Alice",
    "Ellen",
    "Agnes",
    "Joan",
    "Frances",
    "Hannah",
    "Martha",
    "Susanna",
    "Dorothy",
    "Grace",
    "Rebecca",
    "Ann",
    "Isabel",
    "Eleanor",
    "Judith",
    "Bridget",
    "Rachel",
    "Esther",
    "Lucy",
    "Charlotte",
    "Emma",
    "Harriet",
    "Louisa",
    "Emily",
    "Florence",
    "Edith",
    "Ada",
    "Clara",
    "Amelia",
    "Priscilla",
    "Phoebe",
    "Winifred",
    "Beatrice",
];
/// Clerks' abbreviations of given names.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("William", "Wm"),
    ("John", "Jno"),
    ("Thomas", "Thos"),
    ("James", "Jas"),
    ("George", "Geo"),
    ("Richard", "Richd"),
    ("Robert", "Robt"),
    ("Edward", "Edwd"),
    ("Charles", "Chas"),
    ("Joseph", "Jos"),
    ("Samuel", "Saml"),
    ("Benjamin", "Benj"),
    ("Elizabeth", "Eliz"),
    ("Margaret", "Margt"),
    ("Catherine", "Cath"),
];
const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Harrison",
    "Lewis",
    "Cooper",
    "Baker",
    "Turner",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "King",
    "Allen",
    "Parker",
    "Carter",
    "Cook",
    "Shaw",
    "Bennett",
    "Hughes",
    "Edwards",
    "Marshall",
    "Fletcher",
    "Ashby",
    "Pemberton",
    "Fairfax",
    "Villiers",
    "Cavendish",
    "Percy",
    "Neville",
    "Howard",
    "Stanley",
    "Grey",
];
const PLACES: &[(&str, &str)] = &[
    ("Bedford", "Bedforde"),
    ("Luton", "Lewton"),
    ("Dunstable", "Dunstaple"),
    ("Ampthill", "Amptill"),
    ("Leighton Buzzard", "Leighton Busard"),
    ("Toddington", "Tuddington"),
    ("Biggleswade", "Bigleswade"),
    ("Woburn", "Wooburn"),
    ("Hitchin", "Hitchen"),
    ("St Albans", "Saint Albans"),
    ("Hertford", "Harford"),
    ("Northampton", "Northamton"),
    ("Cambridge", "Cambridg"),
    ("Huntingdon", "Huntington"),
    ("Aylesbury", "Ailesbury"),
    ("Buckingham", "Buckingam"),
    ("Oxford", "Oxon"),
    ("London", "Londn"),
    ("Westminster", "Westmr"),
    ("Southwark", "Southwarke"),
    ("Norwich", "Norwch"),
    ("Ipswich", "Ipswitch"),
    ("Colchester", "Colchestr"),
    ("Leicester", "Leister"),
    ("Nottingham", "Notingham"),
    ("Derby", "Darby"),
    ("Lincoln", "Lincolne"),
    ("York", "Yorke"),
    ("Leeds", "Ledes"),
    ("Bristol", "Bristoll"),
    ("Bath", "Bathe"),
    ("Exeter", "Exon"),
    ("Worcester", "Worster"),
    ("Gloucester", "Glocester"),
    ("Coventry", "Coventrie"),
    ("Warwick", "Warwicke"),
    ("Shrewsbury", "Shrewsbery"),
    ("Chester", "Chestr"),
    ("Manchester", "Manchestr"),
    ("Liverpool", "Liverpoole"),
];
const OCCUPATIONS: &[(&str, &str)] = &[
    ("agricultural labourer", "ag lab"),
    ("farmer", "farmer"),
    ("straw plaiter", "straw plait"),
    ("hat maker", "hatter"),
    ("lace maker", "lacemaker"),
    ("blacksmith", "smith"),
    ("carpenter", "joiner"),
    ("shoemaker", "cordwainer"),
    ("tailor", "taylor"),
    ("weaver", "weaver"),
    ("miller", "miller"),
    ("baker", "baker"),
    ("butcher", "butcher"),
    ("innkeeper", "victualler"),
    ("domestic servant", "servant"),
    ("laundress", "washerwoman"),
    ("clergyman", "clerk in holy orders"),
    ("schoolmaster", "teacher"),
    ("surgeon", "physician"),
    ("attorney", "solicitor"),
    ("merchant", "merchant"),
    ("grocer", "grocer"),
    ("brewer", "brewer"),
    ("wheelwright", "wheelwright"),
    ("bricklayer", "bricklayer"),
    ("gardener", "gardner"),
    ("groom", "ostler"),
    ("gentleman", "gent"),
    ("landowner", "landed proprietor"),
    ("dressmaker", "seamstress"),
];

struct Person {
    male: bool,
    given: String,
    family: String,
    dob: (u16, u8, u8),
    place: usize,
    occupation: usize,
    /// A baronet's ordinal (`Some(5)` for the 5th Baronet), for one family line in a few.
    baronet: Option<u8>,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn random_dob(random: &mut ChaCha8Rng, from_year: u16, to_year: u16) -> (u16, u8, u8) {
    let year = random.random_range(from_year..=to_year);
    let month = random.random_range(1..=12);
    (year, month, random.random_range(1..=days_in_month(year, month)))
}

fn new_person(random: &mut ChaCha8Rng, family: &str, dob: (u16, u8, u8), place: usize, taken: &[String]) -> Person {
    let male = random.random_bool(0.5);
    let names = if male { MALE } else { FEMALE };
    // Brothers and sisters get different names (a dead child's name was sometimes reused; not here).
    let given = loop {
        let candidate = names.choose(random).expect("a name").to_string();
        if !taken.contains(&candidate) {
            break candidate;
        }
    };
    let occupation = if male { random.random_range(0..OCCUPATIONS.len()) } else { [14, 15, 13, 22, 29, 2, 4][random.random_range(0..7)] };
    Person { male, given, family: family.to_owned(), dob, place, occupation, baronet: None }
}

fn typo(random: &mut ChaCha8Rng, text: &str) -> String {
    let mut characters: Vec<char> = text.chars().collect();
    if characters.len() < 4 {
        return text.to_owned();
    }
    let position = random.random_range(1..characters.len() - 1);
    match random.random_range(0..3) {
        0 => {
            characters.remove(position);
        }
        1 => characters.swap(position, position + 1),
        _ => characters.insert(position, characters[position]),
    }
    characters.into_iter().collect()
}

fn ordinal(number: u8) -> String {
    let suffix = match (number % 10, number % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{number}{suffix}")
}

/// One record's date of birth as a source gives it: often a year only, sometimes a baptism days
/// later, now and then an age read wrong (a year out) or a day mistranscribed past the month's end.
fn written_dob(random: &mut ChaCha8Rng, dob: (u16, u8, u8)) -> String {
    let (year, month, day) = dob;
    let roll: f64 = random.random();
    if roll < 0.10 {
        return String::new();
    }
    if roll < 0.35 {
        return format!("{year}");
    }
    if roll < 0.40 {
        return format!("{}", if random.random_bool(0.5) { year + 1 } else { year - 1 });
    }
    if roll < 0.45 {
        let later = (day + random.random_range(3..=14)).min(days_in_month(year, month));
        return format!("{year}-{month:02}-{later:02}");
    }
    if roll < 0.48 {
        // A transcription error: the day's digits reversed past the end of the month.
        let reversed = (day % 10) * 10 + day / 10;
        let impossible = if reversed > days_in_month(year, month) { reversed } else { day + 40 };
        return format!("{year}-{month:02}-{impossible:02}");
    }
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match random.random_range(0..3) {
        0 => format!("{year}-{month:02}-{day:02}"),
        1 => format!("{day:02}/{month:02}/{year}"),
        _ => format!("{day} {} {year}", months[usize::from(month - 1)]),
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut records = 20_000usize;
    let mut seed = 7u64;
    let mut out = PathBuf::from("historical");
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let value = arguments.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--records" => records = value.parse()?,
            "--seed" => seed = value.parse()?,
            "--out" => out = PathBuf::from(value),
            other => return Err(format!("unknown option {other}; use --records N --seed S --out DIR").into()),
        }
    }
    let mut random = ChaCha8Rng::seed_from_u64(seed);
    std::fs::create_dir_all(&out)?;
    // About 2.5 records per person.
    let person_count = (records as f64 / 2.5).ceil() as usize;
    let mut people: Vec<Person> = Vec::with_capacity(person_count);
    while people.len() < person_count {
        let family = SURNAMES.choose(&mut random).expect("a surname").to_string();
        let place = random.random_range(0..PLACES.len());
        let parent_year = random.random_range(1470..=1870);
        let children = random.random_range(1..=6);
        let mut taken: Vec<String> = Vec::new();
        let baronetcy = (random.random_bool(0.04)).then(|| random.random_range(1..=12u8));
        for child in 0..children {
            let dob = if child > 0 && random.random_bool(0.12) {
                // Twins: the elder's date of birth.
                people.last().map_or_else(|| random_dob(&mut random, parent_year + 20, parent_year + 30), |elder: &Person| elder.dob)
            } else {
                random_dob(&mut random, parent_year + 20, parent_year + 40)
            };
            let mut person = new_person(&mut random, &family, dob, place, &taken);
            if child == 0 && person.male {
                person.baronet = baronetcy;
            }
            taken.push(person.given.clone());
            people.push(person);
        }
    }
    people.truncate(person_count);

    let mut people_file = BufWriter::new(File::create(out.join("people.csv"))?);
    let mut truth_file = BufWriter::new(File::create(out.join("truth.csv"))?);
    writeln!(people_file, "record_id,title,given_name,family_name,dob,birth_place,occupation,sex")?;
    writeln!(truth_file, "record_id,cluster_id")?;
    let mut written = 0usize;
    for (person_index, person) in people.iter().enumerate() {
        let copies = if written + 1 >= records { 1 } else { [1, 2, 2, 3, 3, 4][random.random_range(0..6)] };
        for _ in 0..copies {
            if written >= records {
                break;
            }
            let mut given = person.given.clone();
            if let Some((_, short)) = ABBREVIATIONS.iter().find(|(full, _)| *full == given)
                && random.random_bool(0.3)
            {
                given = (*short).to_owned();
            } else if random.random_bool(0.08) {
                given = typo(&mut random, &given);
            } else if random.random_bool(0.05) {
                given = given.chars().next().map(String::from).unwrap_or_default();
            }
            let mut family = if random.random_bool(0.08) { typo(&mut random, &person.family) } else { person.family.clone() };
            let mut title = String::new();
            if let Some(number) = person.baronet {
                match random.random_range(0..4) {
                    0 => title = "Sir".to_owned(),
                    1 => family = format!("{family} Bt."),
                    2 => family = format!("{family}, {} Baronet", ordinal(number)),
                    _ => {}
                }
            } else if random.random_bool(0.3) {
                title = (if person.male { ["Mr", "Mr.", "Master"] } else { ["Mrs", "Miss", "Mrs."] }).choose(&mut random).expect("a title").to_string();
            }
            let (place, variant) = PLACES[person.place];
            let birth_place = match random.random_range(0..10) {
                0..=1 => String::new(),
                2 => variant.to_owned(),
                3 => typo(&mut random, place),
                _ => place.to_owned(),
            };
            let (occupation, synonym) = OCCUPATIONS[person.occupation];
            let occupation = match random.random_range(0..10) {
                0..=2 => String::new(),
                3..=4 => synonym.to_owned(),
                _ => occupation.to_owned(),
            };
            let sex = match random.random_range(0..10) {
                0 => "",
                _ if person.male => "M",
                _ => "F",
            };
            let record_id = format!("h{written}");
            writeln!(
                people_file,
                "{},{},{},{},{},{},{},{}",
                record_id,
                csv_field(&title),
                csv_field(&given),
                csv_field(&family),
                csv_field(&written_dob(&mut random, person.dob)),
                csv_field(&birth_place),
                csv_field(&occupation),
                sex
            )?;
            writeln!(truth_file, "{record_id},p{person_index}")?;
            written += 1;
        }
    }
    people_file.flush()?;
    truth_file.flush()?;
    eprintln!("{written} records of {} people in {}", people.len(), out.display());
    Ok(())
}
