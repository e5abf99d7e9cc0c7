//! End-to-end behaviour of aidant-link: names across cultures, the brief's examples, explanations
//! and incremental linking with stable ids.

use aidant_link::batch::{BatchConfig, BatchResult, link_batch};
use aidant_link::blocking::{ALL_RULES, record_keys, stable_keys};
use aidant_link::cluster::ClusterConfig;
use aidant_link::compare::{compare, compare_names, name_level};
use aidant_link::features::{Interner, PORTABLE_FEATURES_VERSION, PortableFeatures, PortableFeaturesError, RecordFeatures, record_features};
use aidant_link::incremental::{EntityEvent, IncrementalLinker};
use aidant_link::model::{Model, Stratum, TrainingConfig};
use aidant_link::record::{PersonRecord, RawPerson, read_csv};

const MODEL: &str = include_str!("fixtures/model-synthetic-10k.json");

fn model() -> Model {
    Model::from_json(MODEL).expect("fixture model loads")
}

fn person(record_id: &str, full_name: &str, dob: &str, phone: &str, address: &str, postcode: &str) -> PersonRecord {
    let optional = |text: &str| (!text.is_empty()).then(|| text.to_string());
    RawPerson {
        record_id: record_id.into(),
        full_name: optional(full_name),
        date_of_birth: optional(dob),
        phone: optional(phone),
        address: optional(address),
        postcode: optional(postcode),
        ..RawPerson::default()
    }
    .parse(0)
    .0
}

fn name_levels(left: &str, right: &str) -> (u8, u8) {
    let mut interner = Interner::default();
    let left = record_features(&mut interner, &person("l", left, "", "", "", ""));
    let right = record_features(&mut interner, &person("r", right, "", "", "", ""));
    compare_names(&interner, &left, &right)
}

/// Given-name and family-name levels for pairs from each culture; `DIFFERENT` marks pairs that must not match.
#[test]
fn name_comparisons_across_cultures() {
    use name_level::*;
    let table: &[(&str, &str, (u8, u8))] = &[
        // Romanian: order, transliteration, equivalents, initials, spelling.
        ("Ion Popescu", "POPESCU ION", (EXACT, EXACT)),
        ("Ștefan Țăranu", "Stefan Taranu", (TRANSLITERATED, TRANSLITERATED)),
        ("Ion Popescu", "Ioan Popescu", (EQUIVALENT, EXACT)),
        ("Ion Popescu", "John Popescu", (EQUIVALENT, EXACT)),
        ("Gheorghe Ionescu", "George Ionescu", (EQUIVALENT, EXACT)),
        ("Ion Popescu", "I. Popesku", (INITIAL, JARO_WINKLER_92)),
        ("Ion Popescu", "Vasile Popescu", (DIFFERENT, EXACT)),
        // Popescu and Ionescu share the -escu ending: only the weak Jaro-Winkler level.
        ("Ion Popescu", "Ion Ionescu", (EXACT, JARO_WINKLER_80)),
        ("Ion Popescu", "Ion Munteanu", (EXACT, DIFFERENT)),
        // Hungarian: family name first, accents.
        ("Nagy János", "Janos Nagy", (TRANSLITERATED, EXACT)),
        ("Kovács János", "John Kovacs", (EQUIVALENT, TRANSLITERATED)),
        ("Nagy János", "Nagy István", (DIFFERENT, EXACT)),
        // Polish.
        ("Łukasz Wójcik", "Lukasz Wojcik", (TRANSLITERATED, TRANSLITERATED)),
        ("Wojciech Kowalski", "Wojciech Nowak", (EXACT, DIFFERENT)),
        // Albanian.
        ("Gjergj Hoxha", "George Hoxha", (EQUIVALENT, EXACT)),
        ("Arben Çela", "Arben Cela", (EXACT, TRANSLITERATED)),
        ("Arben Hoxha", "Besnik Hoxha", (DIFFERENT, EXACT)),
        // Vietnamese: family first, diacritics; two Nguyen Van Nams have equal names (the model
        // separates them on other fields), Nam and Minh must not match.
        ("Nguyễn Văn Nam", "Nguyen Van Nam", (TRANSLITERATED, TRANSLITERATED)),
        ("Nguyen Van Nam", "NAM Nguyen Van", (EQUIVALENT, EQUIVALENT)),
        ("Nguyen Van Nam", "Nguyen Van Minh", (DIFFERENT, EXACT)),
        ("Tran Thi Lan", "Tran Thi Hoa", (DIFFERENT, EXACT)),
        // Chinese: characters become pinyin, family first.
        ("张伟", "Zhang Wei", (TRANSLITERATED, TRANSLITERATED)),
        ("张伟", "Wei Zhang", (TRANSLITERATED, TRANSLITERATED)),
        ("王小明", "Wang Xiaoming", (TRANSLITERATED, TRANSLITERATED)),
        ("张伟", "张强", (DIFFERENT, EXACT)),
        // English diminutives.
        ("William Smith", "Bill Smith", (EQUIVALENT, EXACT)),
        ("Mary Smith", "Sarah Smith", (DIFFERENT, EXACT)),
    ];
    for (left, right, expected) in table {
        assert_eq!(name_levels(left, right), *expected, "{left} / {right}");
    }
}

fn link(records: &[PersonRecord]) -> BatchResult {
    link_batch(records, Some(model()), &BatchConfig::default(), &mut |_| {})
}

fn same_cluster(result: &BatchResult, left: usize, right: usize) -> bool {
    result.clustering.cluster_of[left] == result.clustering.cluster_of[right]
}

#[test]
fn the_briefs_examples_resolve_as_an_analyst_would() {
    let records = vec![
        person("r1", "Ion", "", "07911 123456", "", ""),
        person("r2", "Ioan Popescu", "12/03/1985", "+44 7911 123456", "", ""),
        person("r3", "POPESCU ION", "1985-03-12", "0044 7911 123 456", "", ""),
        person("r4", "I. Popesku", "12 March 1985", "", "", "B33 8TH"),
        person("r5", "Nguyen Van Nam", "1990-01-01", "07922 222222", "", "M1 1AE"),
        person("r6", "Nguyen Van Nam", "1972-06-15", "07933 333333", "", "LS1 4AP"),
        person("r7", "Maria Popa", "05/05/1970", "07944 444444", "12 Station Road", "B33 8TH"),
        person("r8", "Elena Popa", "09/09/1995", "07944 444444", "12 Station Rd", "B33 8TH"),
    ];
    let result = link(&records);
    for other in 1..4 {
        assert!(same_cluster(&result, 0, other), "r1 and r{} are Ion Popescu", other + 1);
    }
    assert!(!same_cluster(&result, 4, 5), "two different men called Nguyen Van Nam stay two");
    assert!(!same_cluster(&result, 6, 7), "a mother and a daughter at one address stay two");
    assert!(!same_cluster(&result, 3, 6), "sharing a postcode does not make Ion Popescu Maria Popa");

    let household = result.explain(&records, 6, 7);
    assert_eq!(household.stratum, Stratum::Household);
    assert!(household.match_probability < 0.01, "{}", household.to_text());
    let shared_address = household.contributions.iter().find(|c| c.field.name() == "address").expect("address");
    assert!(!shared_address.counted, "the shared address is counted once, in the household prior");
}

#[test]
fn explanations_add_up_and_serialise() {
    let records = vec![person("a", "Ion Popescu", "12/03/1985", "07911 123456", "", ""), person("b", "POPESCU Ioan", "1985-03-12", "+447911123456", "", "")];
    let result = link(&records);
    let explanation = result.explain(&records, 0, 1);
    let sum: f64 = explanation.prior_log2_odds + explanation.contributions.iter().map(|c| c.log2_bayes_factor + c.term_frequency_adjustment).sum::<f64>();
    assert!((sum - explanation.match_weight).abs() < 1e-9);
    assert!(explanation.match_probability > 0.99);
    let text = explanation.to_text();
    assert!(text.contains("given_name") && text.contains("equivalent name (table)"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&explanation.to_json()).expect("valid json");
    assert_eq!(json["contributions"].as_array().map(Vec::len), Some(9));
    assert!(!explanation.to_json().contains("Popescu"), "explanations carry no personal data");
}

#[test]
fn model_files_round_trip_and_reject_wrong_shapes() {
    let model = model();
    assert_eq!(Model::from_json(&model.to_json()).expect("round trip"), model);
    let broken = MODEL.replacen("\"format_version\": 1", "\"format_version\": 7", 1);
    assert!(Model::from_json(&broken).is_err());
    assert!(Model::from_json("{}").is_err());
}

#[test]
fn incremental_linking_keeps_ids_stable_and_records_merges_and_splits() {
    let records = vec![
        person("r1", "Ion Popescu", "12/03/1985", "07911 123456", "", ""),
        person("r2", "Ana Marin", "01/01/1990", "07922 111111", "", ""),
        person("r3", "Ion Popescu", "", "07955 555555", "", "M1 1AE"),
    ];
    let clustering = ClusterConfig::default();
    let batch = link_batch(&records, Some(model()), &BatchConfig::default(), &mut |_| {});
    let mut linker = IncrementalLinker::from_batch(&records, batch, &clustering, 400);
    let ion = linker.entity_of("r1").expect("r1 resolved");
    let ana = linker.entity_of("r2").expect("r2 resolved");
    let other_ion = linker.entity_of("r3").expect("r3 resolved");
    assert_ne!(ion, other_ion, "no shared evidence yet beyond a name");

    let attached = linker.add_record(&person("r4", "POPESCU ION", "1985-03-12", "07911 123456", "", "")).expect("adds");
    assert_eq!(attached.entity, ion);
    assert!(matches!(attached.events.as_slice(), [EntityEvent::Attached { .. }]));

    let fresh = linker.add_record(&person("r5", "Arben Hoxha", "02/02/1992", "", "", "")).expect("adds");
    assert!(matches!(fresh.events.as_slice(), [EntityEvent::Created { .. }]));
    assert!(fresh.entity > ion && fresh.entity > ana && fresh.entity > other_ion);

    // A record carrying the first Ion's date of birth and the second Ion's phone joins both.
    let bridge = linker.add_record(&person("r6", "Ion Popescu", "12.03.1985", "07955 555555", "", "M1 1AE")).expect("adds");
    let surviving = ion.min(other_ion);
    assert_eq!(bridge.entity, surviving);
    assert!(
        matches!(&bridge.events[..], [EntityEvent::Merged { surviving: kept, absorbed, .. }] if *kept == surviving && absorbed == &vec![ion.max(other_ion)])
    );
    assert_eq!(linker.entity_of("r3"), Some(surviving));
    assert_eq!(linker.entity_of("r2"), Some(ana), "unrelated entities keep their ids");

    let events = linker.remove_record("r6").expect("removes");
    assert!(matches!(&events[..], [EntityEvent::Split { original, created, .. }] if *original == surviving && created.len() == 1));
    assert_eq!(linker.entity_of("r1"), Some(surviving), "the part with the oldest record keeps the id");
    assert_ne!(linker.entity_of("r3"), Some(surviving));
    assert!(linker.entity_of("r3").is_some_and(|entity| entity > fresh.entity), "a split creates a new id");
    assert!(linker.add_record(&person("r1", "Dup", "", "", "", "")).is_err());
    assert!(linker.remove_record("missing").is_err());
    assert_eq!(linker.record_count(), 5);
}

/// A record from its id, given name, family name, date of birth, phone, postcode, email, vehicle
/// and identity number (empty for absent).
fn full_person(fields: [&str; 9]) -> PersonRecord {
    let [record_id, given, family, dob, phone, postcode, email, vrm, id_number] = fields;
    let optional = |text: &str| (!text.is_empty()).then(|| text.to_string());
    RawPerson {
        record_id: record_id.into(),
        given_name: optional(given),
        family_name: optional(family),
        date_of_birth: optional(dob),
        phone: optional(phone),
        postcode: optional(postcode),
        email: optional(email),
        vrm: optional(vrm),
        id_number: optional(id_number),
        address: optional(if postcode.is_empty() { "" } else { "12 Station Rd" }),
        ..RawPerson::default()
    }
    .parse(0)
    .0
}

#[test]
fn a_records_features_travel_without_their_interner() {
    let records = [
        full_person(["a", "Ion", "Popescu", "12/03/1985", "07911 123456", "M1 1AE", "ion@example.org", "AB12 CDE", "P123"]),
        full_person(["b", "POPESCU", "Ion", "1985", "", "M1 1AE", "", "", ""]),
        full_person(["c", "Ioan", "Popesku", "12/03/1985", "07911 123457", "", "", "", ""]),
        full_person(["d", "Ștefan", "Țăranu", "", "", "B1 1AA", "", "", "P123"]),
        full_person(["e", "伟", "张", "1990-01-01", "+86 138 0013 8000", "", "", "", ""]),
        full_person(["f", "Van Nam", "Nguyễn", "", "", "", "", "ab12cde", ""]),
        full_person(["g", "M.", "Hughes", "01/01/1970", "", "", "", "", ""]),
        full_person(["h", "", "Rachel", "", "", "", "", "", ""]),
    ];
    let mut interner = Interner::default();
    let features: Vec<RecordFeatures> = records.iter().map(|record| record_features(&mut interner, record)).collect();

    // Another interner that numbers strings differently: interned in reverse, after others.
    let mut elsewhere = Interner::default();
    elsewhere.intern("someone else");
    let travelled: Vec<RecordFeatures> = features
        .iter()
        .rev()
        .map(|record| {
            let bytes = PortableFeatures::new(record, &interner).to_bytes();
            PortableFeatures::from_bytes(&bytes).expect("reads its own bytes").intern(&mut elsewhere)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_ne!(travelled, features, "the ids differ between the interners");

    for (left, left_record) in features.iter().enumerate() {
        assert_eq!(PortableFeatures::new(&travelled[left], &elsewhere), PortableFeatures::new(left_record, &interner));
        let keys = stable_keys(&ALL_RULES, left_record, &interner);
        assert!(!keys.is_empty());
        assert_eq!(stable_keys(&ALL_RULES, &travelled[left], &elsewhere), keys, "record {left}: the same stable keys from either interner");
        assert_eq!(keys.len(), record_keys(&ALL_RULES, left_record).len(), "record {left}: one stable key per key in memory");
        for (right, right_record) in features.iter().enumerate() {
            assert_eq!(compare(&elsewhere, &travelled[left], &travelled[right]), compare(&interner, left_record, right_record), "{left} with {right}");
            let share_in_memory = record_keys(&ALL_RULES, left_record).iter().any(|key| record_keys(&ALL_RULES, right_record).contains(key));
            let other_keys = stable_keys(&ALL_RULES, &travelled[right], &elsewhere);
            let share_stable = keys.iter().any(|key| other_keys.contains(key));
            assert_eq!(share_stable, share_in_memory, "{left} and {right} meet in one index as in the other");
        }
    }
    // Ion Popescu and Ioan Popesku meet (by their date of birth and name codes).
    let ion = stable_keys(&ALL_RULES, &features[0], &interner);
    assert!(ion.iter().any(|key| stable_keys(&ALL_RULES, &features[2], &interner).contains(key)));

    let bytes = PortableFeatures::new(&features[0], &interner).to_bytes();
    let mut other_version = bytes.clone();
    other_version[0] = PORTABLE_FEATURES_VERSION + 1;
    assert_eq!(
        PortableFeatures::from_bytes(&other_version),
        Err(PortableFeaturesError::Version { found: PORTABLE_FEATURES_VERSION + 1, expected: PORTABLE_FEATURES_VERSION })
    );
    assert!(matches!(PortableFeatures::from_bytes(&bytes[..bytes.len() / 2]), Err(PortableFeaturesError::Damaged(_))));
    assert!(PortableFeatures::from_bytes(&[]).is_err());
}

#[test]
fn csv_input_links_end_to_end() {
    let csv = "record_id,given_name,family_name,dob,phone\n\
               1,Ion,Popescu,12/03/1985,07911 123456\n\
               2,ION,POPESCU,1985-03-12,+44 7911 123456\n\
               3,Ana,Marin,1990,\n";
    let records = read_csv(csv.as_bytes(), 0).expect("valid csv").records;
    let result = link(&records);
    assert!(same_cluster(&result, 0, 1));
    assert!(!same_cluster(&result, 0, 2));
    assert_eq!(result.clustering.cluster_count, 2);
}

#[test]
fn batch_scoring_gives_every_pair_the_weight_of_scoring_it_alone() {
    // 1,500 records (enough for term frequencies to count) of a few common names with typos and
    // swapped order, so that name similarities repeat and are served from the scoring cache.
    let given = ["John", "Jon", "Johh", "Maria", "Mariya", "Ion", "Ioan", "Stefan", "Stephan"];
    let family = ["Smith", "Smyth", "Popescu", "Popesku", "Nguyen", "Ngyuen", "Kowalski"];
    let records: Vec<PersonRecord> = (0..1500)
        .map(|index| {
            let (first, last) = (given[index % given.len()], family[(index / 3) % family.len()]);
            let name = if index % 11 == 0 { format!("{} {first}", last.to_uppercase()) } else { format!("{first} {last}") };
            let dob = if index % 5 == 0 { String::new() } else { format!("19{:02}-0{}-1{}", 50 + index % 40, 1 + index % 9, index % 10) };
            let postcode = ["E1 6AN", "M1 1AE", "B1 1AA", ""][index % 4];
            person(&format!("r{index}"), &name, &dob, "", "", postcode)
        })
        .collect();
    let config = BatchConfig { keep_pairs_above_probability: 0.0, keep_candidate_pairs: true, ..BatchConfig::default() };
    let result = link_batch(&records, Some(model()), &config, &mut |_| {});
    assert!(result.scorer.term_frequencies.fraction(aidant_link::compare::Field::FamilyName, result.features[1].family.folded).is_some());
    assert_eq!(result.scored_pairs.len(), result.candidate_pairs.len(), "a floor of 0 keeps every pair");
    for (left, right, weight) in &result.scored_pairs {
        let alone = result.scorer.score(&result.interner, &result.features[*left as usize], &result.features[*right as usize]);
        assert_eq!(*weight, alone as f32, "pair {left}-{right}");
    }
}

/// `count` people records, generated (a fixed xorshift, no files): a few hundred people of common
/// names, each reported one to four times with the damage reports carry (a missing date of birth
/// or phone, a typo, the name order swapped, a relative at the same address), so that blocking,
/// training, scoring and every clustering step have work to do.
fn generated_people(count: usize) -> Vec<PersonRecord> {
    let given = ["Ion", "Ioan", "Maria", "Elena", "John", "Jon", "Anna", "Ana", "Nguyen Van", "Tran Thi", "Piotr", "Agnieszka", "Arben", "Besnik", "Wei", "Li"];
    let family = ["Popescu", "Popesku", "Ionescu", "Smith", "Smyth", "Nguyen", "Tran", "Kowalski", "Nowak", "Hoxha", "Zhang", "Wang", "Marin", "Jones"];
    let postcodes = ["B33 8TH", "M1 1AE", "LS1 4AP", "E1 6AN", "B1 1AA", "NG1 5FS", ""];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let mut records = Vec::with_capacity(count);
    let mut people = 0;
    while records.len() < count {
        people += 1;
        let (first, last) = (given[next(given.len())], family[next(family.len())]);
        let dob = format!("{:02}/{:02}/19{:02}", 1 + next(28), 1 + next(12), 50 + next(50));
        let phone = format!("07{:03} {:06}", 700 + next(300), next(1_000_000));
        let postcode = postcodes[next(postcodes.len())];
        let address = format!("{} Station Road", 1 + next(60));
        for copy in 0..1 + next(4) {
            let name = match next(6) {
                0 => format!("{} {first}", last.to_uppercase()),
                1 if first.len() > 3 => format!("{} {last}", &first[..first.len() - 1]),
                _ => format!("{first} {last}"),
            };
            let (dob, phone) = (if next(5) == 0 { "" } else { dob.as_str() }, if next(3) == 0 { "" } else { phone.as_str() });
            let relative = copy == 1 && next(4) == 0;
            let (name, dob) = if relative { (format!("{} {last}", given[next(given.len())]), "01/01/2001") } else { (name, dob) };
            records.push(person(&format!("p{people}-{copy}"), &name, dob, phone, &address, postcode));
            if records.len() == count {
                break;
            }
        }
    }
    records
}

/// Everything of a batch run that reaches an output file, bit for bit: each record's cluster, the
/// scored pairs and the weak links with their weights' bits, and the model as JSON.
type Fingerprint = (Vec<u32>, Vec<(u32, u32, u32)>, Vec<(u32, u32, u32)>, String);

fn fingerprint(result: &BatchResult) -> Fingerprint {
    (
        result.clustering.cluster_of.clone(),
        result.scored_pairs.iter().map(|(left, right, weight)| (*left, *right, weight.to_bits())).collect(),
        result.clustering.weak_links.iter().map(|link| (link.left, link.right, link.match_weight.to_bits())).collect(),
        result.scorer.model.to_json(),
    )
}

fn run_in_pool(records: &[PersonRecord], threads: usize, keep_candidate_pairs: bool, model: Option<Model>) -> BatchResult {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    let config =
        BatchConfig { keep_candidate_pairs, training: TrainingConfig { random_pairs_for_u: 200_000, ..TrainingConfig::default() }, ..BatchConfig::default() };
    pool.install(|| link_batch(records, model, &config, &mut |_| {}))
}

/// The same records and model give the same clusters, pairs and weights to the bit, on one
/// thread or several, whether or not the candidate pairs are kept for evaluation.
#[test]
fn a_batch_run_with_a_given_model_is_reproducible_whatever_the_threads() {
    let records = generated_people(3_000);
    let reference = run_in_pool(&records, 1, false, Some(model()));
    assert!(reference.clustering.cluster_count < 2_500 && !reference.scored_pairs.is_empty(), "the records link");
    for (threads, keep_candidate_pairs) in [(3, false), (2, true), (1, true)] {
        let other = run_in_pool(&records, threads, keep_candidate_pairs, Some(model()));
        assert!(fingerprint(&other) == fingerprint(&reference), "{threads} threads, candidate pairs kept: {keep_candidate_pairs}");
    }
}

/// As above, with the model trained on the records themselves: training is seeded, and its
/// floating-point sums must run in a fixed order.
#[test]
fn a_batch_run_that_trains_its_model_is_reproducible_whatever_the_threads() {
    let records = generated_people(3_000);
    let reference = run_in_pool(&records, 1, false, None);
    for (threads, keep_candidate_pairs) in [(3, false), (2, true), (1, false)] {
        let other = run_in_pool(&records, threads, keep_candidate_pairs, None);
        let (expected, found) = (fingerprint(&reference), fingerprint(&other));
        assert!(found.3 == expected.3, "{threads} threads, candidate pairs kept: {keep_candidate_pairs}: the model differs");
        assert!(found == expected, "{threads} threads, candidate pairs kept: {keep_candidate_pairs}");
    }
}

#[test]
fn csv_with_semicolons_links_like_csv_with_commas() {
    let commas = "record_id,given_name,family_name,dob,phone\n\
                  1,Ion,Popescu,12/03/1985,07911 123456\n\
                  2,ION,POPESCU,1985-03-12,+44 7911 123456\n\
                  3,Ana,Marin,1990,\n";
    let semicolons = commas.replace(',', ";");
    let records = read_csv(semicolons.as_bytes(), 0).expect("a semicolon-separated file reads").records;
    assert_eq!(records, read_csv(commas.as_bytes(), 0).expect("valid csv").records);
    let result = link(&records);
    assert!(same_cluster(&result, 0, 1));
    assert!(!same_cluster(&result, 0, 2));
}

/// Letting the records go once their features are made (`link_batch_owned`, as `aidant link`
/// does to save memory) changes nothing but what is kept: the same clusters, pairs and model,
/// and each record's id and source in order.
#[test]
fn a_batch_run_that_lets_its_records_go_gives_the_same_result() {
    let mut records = generated_people(3_000);
    for (index, record) in records.iter_mut().enumerate() {
        record.source = (index % 3) as u16;
    }
    let config = BatchConfig { training: TrainingConfig { random_pairs_for_u: 200_000, ..TrainingConfig::default() }, ..BatchConfig::default() };
    let kept = link_batch(&records, None, &config, &mut |_| {});
    let (keys, owned) = aidant_link::batch::link_batch_owned(records.clone(), None, &config, &mut |_| {});
    assert!(fingerprint(&kept) == fingerprint(&owned), "the same clusters, pairs, weak links and model");
    let expected: Vec<(String, u16)> = records.iter().map(|record| (record.record_id.clone(), record.source)).collect();
    let found: Vec<(String, u16)> = keys.into_iter().map(|key| (key.record_id, key.source)).collect();
    assert_eq!(found, expected);
}
