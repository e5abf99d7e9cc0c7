//! Seeded synthetic people with realistic corruption and known truth, for benchmarking linkage.
//!
//! `cargo run --release --example gen_people -- --records 1000000 --seed 42 --out DIR` writes
//! `DIR/people.csv` (what the linkers read) and `DIR/truth.csv` (record_id, cluster_id), which the
//! linkers never read. People come from the communities Aidant's reports concern; corruption
//! includes typos, transliteration and diacritics, equivalent given names, swapped name order,
//! initials, missing fields, date errors, phone formats, and shared addresses and phones: families
//! with one surname at one address, hostels, and gangmasters' numbers given by many workers.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

struct Culture {
    weight: f64,
    male: &'static [&'static str],
    female: &'static [&'static str],
    surnames: &'static [&'static str],
    /// (written form, variant) pairs for transliteration and spelling variants.
    variants: &'static [(&'static str, &'static str)],
    family_first: bool,
    middle_male: &'static [&'static str],
    middle_female: &'static [&'static str],
    /// Female form of a surname (Polish -ski/-ska).
    feminine_suffix: Option<(&'static str, &'static str)>,
    phone_country: &'static str,
}

const CULTURES: &[Culture] = &[
    Culture {
        weight: 0.28,
        male: &[
            "John",
            "James",
            "David",
            "Michael",
            "Robert",
            "William",
            "Thomas",
            "Daniel",
            "Paul",
            "Mark",
            "Richard",
            "Peter",
            "Andrew",
            "Stephen",
            "George",
            "Christopher",
            "Matthew",
            "Anthony",
            "Joseph",
            "Edward",
            "Liam",
            "Ryan",
            "Jack",
            "Harry",
            "Oliver",
        ],
        female: &[
            "Mary",
            "Sarah",
            "Emma",
            "Elizabeth",
            "Catherine",
            "Margaret",
            "Susan",
            "Helen",
            "Anna",
            "Laura",
            "Rachel",
            "Sophie",
            "Jessica",
            "Hannah",
            "Emily",
            "Charlotte",
            "Victoria",
            "Lucy",
            "Amy",
            "Rebecca",
        ],
        surnames: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White",
            "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Lewis", "Harris", "Martin", "Cooper", "King", "Lee", "Baker", "Hughes",
            "Edwards", "Turner", "Hill", "Moore", "Clark", "Scott", "Mitchell", "Ward", "Morris", "Price", "Bennett", "Gray", "Murphy", "Kelly", "Shaw",
            "Lloyd", "Ellis", "Reynolds", "Holmes", "Fletcher",
        ],
        variants: &[
            ("Catherine", "Katherine"),
            ("Stephen", "Steven"),
            ("Clarke", "Clark"),
            ("Michael", "Mike"),
            ("William", "Bill"),
            ("Robert", "Bob"),
            ("Elizabeth", "Liz"),
            ("Thompson", "Thomson"),
            ("Sophie", "Sophia"),
        ],
        family_first: false,
        middle_male: &[],
        middle_female: &[],
        feminine_suffix: None,
        phone_country: "GB",
    },
    Culture {
        weight: 0.20,
        male: &[
            "Ion",
            "Gheorghe",
            "Vasile",
            "Constantin",
            "Ștefan",
            "Mihai",
            "Andrei",
            "Alexandru",
            "Florin",
            "Marian",
            "Nicolae",
            "Dumitru",
            "Adrian",
            "Cristian",
            "Daniel",
            "Ionuț",
            "Costel",
            "Gabriel",
            "Marius",
            "Petru",
            "Bogdan",
            "Cătălin",
            "Răzvan",
            "Sorin",
            "Viorel",
        ],
        female: &[
            "Maria",
            "Elena",
            "Ioana",
            "Ana",
            "Mihaela",
            "Andreea",
            "Gabriela",
            "Florentina",
            "Cristina",
            "Daniela",
            "Alexandra",
            "Ecaterina",
            "Georgiana",
            "Nicoleta",
            "Ramona",
            "Simona",
            "Larisa",
            "Alina",
            "Roxana",
            "Loredana",
        ],
        surnames: &[
            "Popescu",
            "Ionescu",
            "Popa",
            "Pop",
            "Radu",
            "Dumitru",
            "Stan",
            "Stoica",
            "Gheorghe",
            "Matei",
            "Ciobanu",
            "Rusu",
            "Munteanu",
            "Constantin",
            "Ștefan",
            "Țăranu",
            "Lungu",
            "Marin",
            "Moldovan",
            "Dinu",
            "Mocanu",
            "Bălan",
            "Șerban",
            "Toma",
            "Oprea",
            "Nistor",
            "Florea",
            "Vasilescu",
            "Niculescu",
            "Dobre",
            "Băluță",
            "Enache",
            "Sârbu",
            "Crăciun",
            "Zamfir",
        ],
        variants: &[
            ("Ion", "Ioan"),
            ("Ion", "John"),
            ("Gheorghe", "George"),
            ("Popescu", "Popesku"),
            ("Ionescu", "Ionesku"),
            ("Ștefan", "Stephan"),
            ("Mihai", "Mihail"),
            ("Nicolae", "Nicolai"),
            ("Ionuț", "Ionut"),
            ("Ecaterina", "Catalina"),
            ("Alexandru", "Alex"),
            ("Vasile", "Vasilie"),
            ("Țăranu", "Tzaranu"),
            ("Petru", "Peter"),
        ],
        family_first: false,
        middle_male: &[],
        middle_female: &[],
        feminine_suffix: None,
        phone_country: "RO",
    },
    Culture {
        weight: 0.12,
        male: &[
            "Piotr",
            "Krzysztof",
            "Andrzej",
            "Tomasz",
            "Paweł",
            "Marcin",
            "Michał",
            "Jakub",
            "Łukasz",
            "Grzegorz",
            "Wojciech",
            "Mateusz",
            "Adam",
            "Marek",
            "Kamil",
            "Jan",
            "Dariusz",
            "Rafał",
        ],
        female: &[
            "Anna",
            "Katarzyna",
            "Małgorzata",
            "Agnieszka",
            "Barbara",
            "Ewa",
            "Magdalena",
            "Joanna",
            "Aleksandra",
            "Monika",
            "Zofia",
            "Dorota",
            "Beata",
            "Natalia",
        ],
        surnames: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
            "Jankowski",
            "Mazur",
            "Kwiatkowski",
            "Krawczyk",
            "Piotrowski",
            "Grabowski",
            "Nowakowski",
            "Pawłowski",
        ],
        variants: &[
            ("Wojciech", "Voytek"),
            ("Paweł", "Pawel"),
            ("Michał", "Michael"),
            ("Katarzyna", "Kasia"),
            ("Jakub", "Kuba"),
            ("Wiśniewski", "Wisniewsky"),
            ("Kowalski", "Kovalski"),
            ("Małgorzata", "Gosia"),
        ],
        family_first: false,
        middle_male: &[],
        middle_female: &[],
        feminine_suffix: Some(("ski", "ska")),
        phone_country: "PL",
    },
    Culture {
        weight: 0.08,
        male: &["János", "István", "László", "József", "Zoltán", "Sándor", "Gábor", "Ferenc", "Attila", "Péter", "Tamás", "Zsolt", "Tibor", "András", "Imre"],
        female: &["Mária", "Erzsébet", "Katalin", "Ilona", "Éva", "Anna", "Zsuzsanna", "Margit", "Judit", "Ágnes", "Andrea", "Erika"],
        surnames: &[
            "Nagy",
            "Kovács",
            "Tóth",
            "Szabó",
            "Horváth",
            "Varga",
            "Kiss",
            "Molnár",
            "Németh",
            "Farkas",
            "Balogh",
            "Papp",
            "Takács",
            "Juhász",
            "Lakatos",
            "Mészáros",
            "Oláh",
            "Rácz",
            "Fekete",
            "Szilágyi",
        ],
        variants: &[
            ("János", "John"),
            ("István", "Stephen"),
            ("József", "Joseph"),
            ("Kovács", "Kovacs"),
            ("Horváth", "Horvat"),
            ("Katalin", "Kati"),
            ("Péter", "Peter"),
        ],
        family_first: true,
        middle_male: &[],
        middle_female: &[],
        feminine_suffix: None,
        phone_country: "HU",
    },
    Culture {
        weight: 0.08,
        male: &["Arben", "Besnik", "Gjergj", "Ilir", "Dritan", "Artan", "Fatmir", "Gëzim", "Agron", "Erion", "Klodian", "Endrit", "Ardit", "Blerim", "Kujtim"],
        female: &["Elira", "Anila", "Blerta", "Mirela", "Jonida", "Elona", "Fatjona", "Arjola", "Drita", "Valbona"],
        surnames: &[
            "Hoxha", "Shehu", "Gashi", "Berisha", "Krasniqi", "Kola", "Leka", "Çela", "Dervishi", "Marku", "Prifti", "Basha", "Mema", "Llazi", "Xhafa", "Muça",
            "Rama", "Duka",
        ],
        variants: &[("Gjergj", "George"), ("Hoxha", "Hodja"), ("Çela", "Cela"), ("Xhafa", "Jafa"), ("Gëzim", "Gezim"), ("Muça", "Mucha")],
        family_first: false,
        middle_male: &[],
        middle_female: &[],
        feminine_suffix: None,
        phone_country: "AL",
    },
    Culture {
        weight: 0.13,
        male: &["Nam", "Minh", "Hùng", "Dũng", "Tuấn", "Hải", "Long", "Thành", "Quang", "Đức", "Hoàng", "Phong", "Sơn", "Trung", "Việt", "Khánh"],
        female: &["Lan", "Hoa", "Hương", "Linh", "Mai", "Thảo", "Ngọc", "Trang", "Hằng", "Phương", "Thủy", "Hạnh"],
        surnames: &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"],
        variants: &[
            ("Nguyễn", "Nguyen"),
            ("Nguyễn", "Nguyen"),
            ("Nguyễn", "Ngyuen"),
            ("Trần", "Tran"),
            ("Phạm", "Pham"),
            ("Vũ", "Vu"),
            ("Đặng", "Dang"),
            ("Hoàng", "Huang"),
            ("Dũng", "Zung"),
        ],
        family_first: true,
        middle_male: &["Văn", "Đức", "Minh", "Quốc", "Văn", "Văn"],
        middle_female: &["Thị", "Thị", "Ngọc", "Thu"],
        feminine_suffix: None,
        phone_country: "VN",
    },
    Culture {
        weight: 0.11,
        male: &["伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "小明", "建华", "志强"],
        female: &["芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "玲", "秀英", "桂英", "晓燕"],
        surnames: &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "林"],
        variants: &[],
        family_first: true,
        middle_male: &[],
        middle_female: &[],
        feminine_suffix: None,
        phone_country: "CN",
    },
];

const STREETS: &[&str] = &[
    "High",
    "Station",
    "Church",
    "Victoria",
    "Park",
    "Green",
    "Manor",
    "Mill",
    "King",
    "Queen",
    "Albert",
    "Grove",
    "York",
    "London",
    "Windsor",
    "Springfield",
    "Highfield",
    "Stanley",
    "Alexandra",
    "New",
    "North",
    "South",
    "West",
    "Chapel",
    "School",
    "Cedar",
    "Elm",
    "Oak",
    "Willow",
    "Hawthorn",
    "Brook",
    "Meadow",
    "Castle",
    "Bridge",
    "Market",
    "Richmond",
    "Clarence",
    "Princes",
    "George",
    "Nelson",
];
const STREET_TYPES: &[(&str, &str)] =
    &[("Road", "Rd"), ("Street", "St"), ("Lane", "Ln"), ("Avenue", "Ave"), ("Close", "Cl"), ("Drive", "Dr"), ("Crescent", "Cres"), ("Gardens", "Gdns")];
const TOWNS: &[(&str, &str)] = &[
    ("Birmingham", "B"),
    ("Manchester", "M"),
    ("Leeds", "LS"),
    ("London", "E"),
    ("London", "N"),
    ("London", "SE"),
    ("Bradford", "BD"),
    ("Leicester", "LE"),
    ("Nottingham", "NG"),
    ("Peterborough", "PE"),
    ("Sheffield", "S"),
    ("Liverpool", "L"),
    ("Bristol", "BS"),
    ("Coventry", "CV"),
    ("Luton", "LU"),
    ("Slough", "SL"),
    ("Boston", "PE"),
    ("Wolverhampton", "WV"),
    ("Glasgow", "G"),
    ("Cardiff", "CF"),
];
const MONTHS: &[&str] = &["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const INCODE_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

#[derive(Clone)]
struct Address {
    street_line: String,
    abbreviated_line: String,
    town: &'static str,
    postcode: String,
}

#[derive(Clone)]
struct Person {
    culture: usize,
    given: String,
    middle: Option<String>,
    family: String,
    dob: (u16, u8, u8),
    address: Address,
    phones: Vec<String>,
    email: Option<String>,
}

fn random_address(random: &mut ChaCha8Rng) -> Address {
    let (town, area) = *TOWNS.choose(random).expect("towns");
    let street = STREETS.choose(random).expect("streets");
    let (street_type, abbreviation) = *STREET_TYPES.choose(random).expect("types");
    let number = random.random_range(1..220);
    let district = random.random_range(1..30);
    let sector = random.random_range(0..10);
    let letters: String = (0..2).map(|_| *INCODE_LETTERS.choose(random).expect("letters") as char).collect();
    let flat = if random.random_bool(0.2) { format!("Flat {} ", random.random_range(1..12)) } else { String::new() };
    Address {
        street_line: format!("{flat}{number} {street} {street_type}"),
        abbreviated_line: format!("{flat}{number} {street} {abbreviation}"),
        town,
        postcode: format!("{area}{district} {sector}{letters}"),
    }
}

fn random_mobile(random: &mut ChaCha8Rng, country: &str) -> String {
    // Most people here use a UK mobile; some keep their home number.
    if country == "GB" || random.random_bool(0.8) {
        let prefix = ["74", "75", "77", "78", "79"].choose(random).expect("prefixes");
        return format!("+44{prefix}{:08}", random.random_range(0..100_000_000u32));
    }
    match country {
        "RO" => format!("+407{}{:07}", random.random_range(2..9), random.random_range(0..10_000_000u32)),
        "PL" => format!(
            "+48{}{:07}",
            ["50", "51", "53", "60", "66", "69", "72", "78", "79", "88"].choose(random).expect("pl"),
            random.random_range(0..10_000_000u32)
        ),
        "HU" => {
            format!("+36{}{:07}", ["20", "30", "70"].choose(random).expect("hu"), random.random_range(0..10_000_000u32))
        }
        "AL" => format!("+3556{}{:07}", random.random_range(7..10), random.random_range(0..10_000_000u32)),
        "VN" => format!("+849{}{:07}", random.random_range(0..10), random.random_range(0..10_000_000u32)),
        "CN" => format!("+861{}{:09}", [3, 5, 8].choose(random).expect("cn"), random.random_range(0..1_000_000_000u32)),
        _ => format!("+447{:09}", random.random_range(0..1_000_000_000u32)),
    }
}

fn feminine(culture: &Culture, surname: &str, female: bool) -> String {
    match culture.feminine_suffix {
        Some((male_suffix, female_suffix)) if female && surname.ends_with(male_suffix) => {
            format!("{}{}", &surname[..surname.len() - male_suffix.len()], female_suffix)
        }
        _ => surname.to_string(),
    }
}

fn random_dob(random: &mut ChaCha8Rng, from_year: u16, to_year: u16) -> (u16, u8, u8) {
    (random.random_range(from_year..=to_year), random.random_range(1..=12), random.random_range(1..=28))
}

fn new_person(random: &mut ChaCha8Rng, culture_index: usize, family: Option<&str>, address: Address, dob: (u16, u8, u8)) -> Person {
    let culture = &CULTURES[culture_index];
    let female = random.random_bool(0.45);
    let given = (if female { culture.female } else { culture.male }).choose(random).expect("given").to_string();
    let middles = if female { culture.middle_female } else { culture.middle_male };
    let middle = middles.choose(random).map(|middle| middle.to_string());
    let family = feminine(culture, family.unwrap_or_else(|| culture.surnames.choose(random).expect("surname")), female);
    let phone = random_mobile(random, culture.phone_country);
    let email = random.random_bool(0.35).then(|| {
        let ascii_given = deunicode::deunicode(&given).to_lowercase().replace(' ', "");
        let ascii_family = deunicode::deunicode(&family).to_lowercase().replace(' ', "");
        let domain = ["gmail.com", "yahoo.com", "outlook.com", "yahoo.ro", "wp.pl", "freemail.hu"].choose(random).expect("domain");
        format!("{ascii_given}.{ascii_family}{}@{domain}", random.random_range(1..999))
    });
    Person { culture: culture_index, given, middle, family, dob, address, phones: vec![phone], email }
}

fn typo(random: &mut ChaCha8Rng, text: &str) -> String {
    let mut characters: Vec<char> = text.chars().collect();
    if characters.len() < 3 {
        return text.to_string();
    }
    let position = random.random_range(1..characters.len());
    match random.random_range(0..4) {
        0 => {
            characters.remove(position);
        }
        1 => characters.swap(position - 1, position),
        2 => characters[position] = (b'a' + random.random_range(0..26)) as char,
        _ => characters.insert(position, characters[position - 1]),
    }
    characters.into_iter().collect()
}

fn strip_diacritics(text: &str) -> String {
    // Chinese characters are kept: romanising them is a separate corruption.
    text.chars()
        .map(|character| if (character as u32) < 0x2E80 { deunicode::deunicode_char(character).unwrap_or("").to_string() } else { character.to_string() })
        .collect()
}

fn romanise_chinese(text: &str) -> String {
    deunicode::deunicode(text).split_whitespace().collect::<Vec<_>>().join("")
}

fn variant(random: &mut ChaCha8Rng, culture: &Culture, text: &str) -> String {
    let options: Vec<&str> = culture.variants.iter().filter(|(written, _)| *written == text).map(|(_, variant)| *variant).collect();
    options.choose(random).map_or_else(|| text.to_string(), |variant| variant.to_string())
}

fn corrupt_name(random: &mut ChaCha8Rng, culture: &Culture, name: &str, is_chinese: bool) -> String {
    let mut name = name.to_string();
    if is_chinese {
        if random.random_bool(0.75) {
            name = romanise_chinese(&name);
            let mut characters = name.chars();
            name = characters.next().map(|first| first.to_uppercase().collect::<String>() + characters.as_str()).unwrap_or_default();
        }
    } else {
        if random.random_bool(0.12) {
            name = variant(random, culture, &name);
        }
        if random.random_bool(0.5) {
            name = strip_diacritics(&name);
        }
    }
    if !is_chinese && random.random_bool(0.10) {
        name = typo(random, &name);
    }
    name
}

fn format_dob(random: &mut ChaCha8Rng, dob: (u16, u8, u8)) -> String {
    let (year, month, day) = dob;
    match random.random_range(0..10) {
        0..=4 => format!("{day:02}/{month:02}/{year}"),
        5..=7 => format!("{year}-{month:02}-{day:02}"),
        8 => format!("{day} {} {year}", MONTHS[usize::from(month) - 1]),
        _ => format!("{day}.{month}.{year}"),
    }
}

fn format_phone(random: &mut ChaCha8Rng, e164: &str) -> String {
    if let Some(national) = e164.strip_prefix("+44") {
        return match random.random_range(0..4) {
            0 => format!("0{} {}", &national[..4], &national[4..]),
            1 => format!("+44 {} {}", &national[..4], &national[4..]),
            2 => format!("0044{national}"),
            _ => format!("0{national}"),
        };
    }
    match random.random_range(0..3) {
        0 => e164.to_string(),
        1 => format!("00{}", &e164[1..]),
        _ => format!("{} {}", &e164[..3], &e164[3..]),
    }
}

fn corrupt_dob(random: &mut ChaCha8Rng, dob: (u16, u8, u8)) -> Option<String> {
    let (year, month, day) = dob;
    let roll: f64 = random.random();
    if roll < 0.08 {
        return None;
    }
    if roll < 0.12 {
        return Some(year.to_string());
    }
    if roll < 0.15 && day <= 12 {
        return Some(format_dob(random, (year, day, month)));
    }
    if roll < 0.19 {
        let shifted = if random.random_bool(0.5) { year + 1 } else { year - 1 };
        return Some(format_dob(random, (shifted, month, day)));
    }
    if roll < 0.22 {
        return Some(format_dob(random, (year, month, (day % 28) + 1)));
    }
    Some(format_dob(random, dob))
}

struct Arguments {
    records: usize,
    seed: u64,
    out: PathBuf,
}

fn parse_arguments() -> Result<Arguments, String> {
    let mut arguments = Arguments { records: 10_000, seed: 42, out: PathBuf::from("synthetic") };
    let mut iterator = std::env::args().skip(1);
    while let Some(flag) = iterator.next() {
        let value = iterator.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--records" => arguments.records = value.parse().map_err(|_| format!("--records {value}: not a number"))?,
            "--seed" => arguments.seed = value.parse().map_err(|_| format!("--seed {value}: not a number"))?,
            "--out" => arguments.out = PathBuf::from(value),
            _ => return Err(format!("unknown option {flag}; use --records N --seed S --out DIR")),
        }
    }
    Ok(arguments)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments = parse_arguments()?;
    let mut random = ChaCha8Rng::seed_from_u64(arguments.seed);
    std::fs::create_dir_all(&arguments.out)?;
    let culture_weights: Vec<f64> = CULTURES.iter().map(|culture| culture.weight).collect();
    let pick_culture = |random: &mut ChaCha8Rng| {
        let mut roll: f64 = random.random::<f64>() * culture_weights.iter().sum::<f64>();
        for (index, weight) in culture_weights.iter().enumerate() {
            if roll < *weight {
                return index;
            }
            roll -= weight;
        }
        culture_weights.len() - 1
    };
    // About 2.2 records per person on average.
    let person_count = (arguments.records as f64 / 2.2).ceil() as usize;
    let hostels: Vec<Address> = (0..(person_count / 400).max(1)).map(|_| random_address(&mut random)).collect();
    let switchboards: Vec<String> = (0..(person_count / 300).max(1)).map(|_| random_mobile(&mut random, "GB")).collect();
    let mut people: Vec<Person> = Vec::with_capacity(person_count);
    while people.len() < person_count {
        let culture = pick_culture(&mut random);
        if random.random_bool(0.18) {
            // A family: one surname, one address and often one landline, different given names and ages.
            let address = random_address(&mut random);
            let surname = CULTURES[culture].surnames.choose(&mut random).expect("surname").to_string();
            let shared_phone = random_mobile(&mut random, "GB");
            let parent_year = random.random_range(1955..=1985);
            let members = random.random_range(2..=5);
            let mut given_names_in_family: Vec<String> = Vec::new();
            for member in 0..members {
                let dob = if member < 2 {
                    random_dob(&mut random, parent_year - 3, parent_year + 3)
                } else {
                    random_dob(&mut random, parent_year + 18, parent_year + 38)
                };
                let mut person = new_person(&mut random, culture, Some(&surname), address.clone(), dob);
                // Parents do not give two children one name.
                for _ in 0..10 {
                    if !given_names_in_family.contains(&person.given) {
                        break;
                    }
                    person = new_person(&mut random, culture, Some(&surname), address.clone(), dob);
                }
                given_names_in_family.push(person.given.clone());
                if random.random_bool(0.6) {
                    person.phones[0] = shared_phone.clone();
                }
                people.push(person);
            }
        } else {
            let address = if random.random_bool(0.08) { hostels.choose(&mut random).expect("hostel").clone() } else { random_address(&mut random) };
            let dob = random_dob(&mut random, 1950, 2006);
            let mut person = new_person(&mut random, culture, None, address, dob);
            if random.random_bool(0.05) {
                person.phones[0] = switchboards.choose(&mut random).expect("switchboard").clone();
            }
            if random.random_bool(0.1) {
                let second = random_mobile(&mut random, CULTURES[culture].phone_country);
                person.phones.push(second);
            }
            people.push(person);
        }
    }
    people.truncate(person_count);

    let mut people_file = BufWriter::new(File::create(arguments.out.join("people.csv"))?);
    let mut truth_file = BufWriter::new(File::create(arguments.out.join("truth.csv"))?);
    writeln!(people_file, "record_id,given_name,family_name,dob,address,town,postcode,phone,email")?;
    writeln!(truth_file, "record_id,cluster_id")?;
    let mut record_number = 0usize;
    let mut person_index = 0usize;
    while record_number < arguments.records {
        let person = &people[person_index % people.len()];
        let cluster_id = person_index % people.len();
        person_index += 1;
        let copies = if person_index > people.len() {
            1
        } else {
            match random.random::<f64>() {
                roll if roll < 0.35 => 1,
                roll if roll < 0.62 => 2,
                roll if roll < 0.80 => 3,
                roll if roll < 0.90 => 4,
                _ => random.random_range(5..=8),
            }
        };
        for _ in 0..copies {
            if record_number >= arguments.records {
                break;
            }
            let culture = &CULTURES[person.culture];
            let is_chinese = person.culture == CULTURES.len() - 1;
            let mut given = corrupt_name(&mut random, culture, &person.given, is_chinese);
            if let Some(middle) = &person.middle
                && random.random_bool(0.7)
            {
                given = format!("{} {given}", corrupt_name(&mut random, culture, middle, false));
            }
            let mut family = corrupt_name(&mut random, culture, &person.family, is_chinese);
            if is_chinese && !family.is_ascii() && random.random_bool(0.5) {
                // Written as one string in characters: family name first, in the family column.
                family = format!("{family}{given}");
                given = String::new();
            }
            if random.random_bool(0.04) && !given.is_empty() {
                given = given.chars().next().map(|first| first.to_string()).unwrap_or_default();
            }
            if random.random_bool(0.03) {
                given = String::new();
            }
            if random.random_bool(if culture.family_first { 0.15 } else { 0.06 }) {
                std::mem::swap(&mut given, &mut family);
            }
            if random.random_bool(0.2) {
                given = given.to_uppercase();
                family = family.to_uppercase();
            }
            let dob = corrupt_dob(&mut random, person.dob).unwrap_or_default();
            let (address, town) = if random.random_bool(0.2) {
                (String::new(), "")
            } else {
                let line = if random.random_bool(0.3) { person.address.abbreviated_line.clone() } else { person.address.street_line.clone() };
                let line = if random.random_bool(0.05) { typo(&mut random, &line) } else { line };
                (line, if random.random_bool(0.7) { person.address.town } else { "" })
            };
            let postcode = if random.random_bool(0.15) {
                String::new()
            } else {
                let postcode = if random.random_bool(0.3) { person.address.postcode.to_lowercase().replace(' ', "") } else { person.address.postcode.clone() };
                if random.random_bool(0.03) { typo(&mut random, &postcode) } else { postcode }
            };
            let phone = if random.random_bool(0.3) {
                String::new()
            } else {
                let chosen = person.phones.choose(&mut random).expect("phone").clone();
                let phone = format_phone(&mut random, &chosen);
                if random.random_bool(0.02) { typo(&mut random, &phone) } else { phone }
            };
            let email = match &person.email {
                Some(email) if random.random_bool(0.5) => {
                    if random.random_bool(0.2) {
                        email.to_uppercase()
                    } else {
                        email.clone()
                    }
                }
                _ => String::new(),
            };
            let record_id = format!("r{record_number}");
            writeln!(
                people_file,
                "{},{},{},{},{},{},{},{},{}",
                record_id,
                csv_field(given.trim()),
                csv_field(family.trim()),
                csv_field(&dob),
                csv_field(&address),
                town,
                csv_field(&postcode),
                csv_field(&phone),
                csv_field(&email)
            )?;
            writeln!(truth_file, "{record_id},p{cluster_id}")?;
            record_number += 1;
        }
    }
    people_file.flush()?;
    truth_file.flush()?;
    eprintln!("wrote {record_number} records of {} people to {}", people.len().min(person_index), arguments.out.display());
    Ok(())
}
