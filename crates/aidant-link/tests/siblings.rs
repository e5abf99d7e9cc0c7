//! Siblings and twins stay apart: two records with the same family name and date of birth but
//! clearly different given names are brothers, sisters or twins far more often than one person,
//! and merging two trafficked sisters is among the worst errors the linker can make. They join
//! only on an identifier of their own (an identity number, an e-mail address).

use aidant_link::batch::{BatchConfig, link_batch};
use aidant_link::features::{Interner, record_features};
use aidant_link::model::{MAX_SIBLING_PRIOR, Model, Scorer, Stratum, TermFrequencies, probability_of_weight};
use aidant_link::record::{PersonRecord, RawPerson};
use aidant_link::reference_model::reference_model;

const FIXTURE_MODEL: &str = include_str!("fixtures/model-synthetic-10k.json");

#[derive(Default, Clone, Copy)]
struct Details<'a> {
    dob: &'a str,
    phone: &'a str,
    address: &'a str,
    postcode: &'a str,
    id_number: &'a str,
    email: &'a str,
}

fn person(record_id: &str, given: &str, family: &str, details: Details<'_>) -> PersonRecord {
    let optional = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    RawPerson {
        record_id: record_id.into(),
        given_name: optional(given),
        family_name: optional(family),
        date_of_birth: optional(details.dob),
        phone: optional(details.phone),
        address: optional(details.address),
        postcode: optional(details.postcode),
        id_number: optional(details.id_number),
        email: optional(details.email),
        ..RawPerson::default()
    }
    .parse(0)
    .0
}

/// The stratum and match probability of a pair under `scorer`.
fn judge(scorer: &Scorer, interner: &mut Interner, left: &PersonRecord, right: &PersonRecord) -> (Stratum, f64) {
    let left = record_features(interner, left);
    let right = record_features(interner, right);
    let gamma = aidant_link::compare::compare(interner, &left, &right);
    (Scorer::stratum(&gamma), probability_of_weight(scorer.score(interner, &left, &right)))
}

/// Siblings from the communities Aidant's reports concern, each pair born the same day.
const SIBLINGS: &[(&str, &str, &str)] = &[
    ("Andrei", "Adrian", "Bogdan"),
    ("Anh", "Linh", "Tran"),
    ("Maria", "Elena", "Popescu"),
    ("Ionut", "Florin", "Dumitru"),
    ("Mohammed", "Ahmed", "Khan"),
    ("Arben", "Besnik", "Hoxha"),
    ("Piotr", "Pawel", "Kowalski"),
    ("Mai", "Lan", "Nguyen"),
    ("John", "James", "Smith"),
    ("Cristina", "Ioana", "Marin"),
];

fn models() -> Vec<(&'static str, Model)> {
    vec![("the reference model", reference_model()), ("a model trained before siblings were known", Model::from_json(FIXTURE_MODEL).unwrap())]
}

#[test]
fn siblings_born_the_same_day_are_never_joined_on_names_and_dates_alone() {
    let home = Details { dob: "14/03/1999", phone: "07700 900123", address: "12 Station Road, Luton", postcode: "LU1 1AA", ..Details::default() };
    for (description, model) in models() {
        let scorer = Scorer::new(model, TermFrequencies::new());
        let mut interner = Interner::default();
        for (first, second, family) in SIBLINGS {
            // Nothing but the name and the date; then twins at one home with one phone.
            for details in [Details { dob: "14/03/1999", ..Details::default() }, home] {
                let (stratum, probability) = judge(&scorer, &mut interner, &person("a", first, family, details), &person("b", second, family, details));
                assert_eq!(stratum, Stratum::Sibling, "{first} and {second} {family} under {description}");
                assert!(probability < 0.5, "{first} and {second} {family} under {description}: {probability}");
            }
        }
    }
}

#[test]
fn one_person_written_twice_is_no_sibling_and_an_identifier_joins_siblings() {
    let born = Details { dob: "14/03/1999", ..Details::default() };
    for (description, model) in models() {
        let scorer = Scorer::new(model, TermFrequencies::new());
        let mut interner = Interner::default();
        // The same woman: a transliteration, an equivalent name, a typo, an initial.
        for (left, right) in [("Ștefania", "Stefania"), ("Ion", "Ioan"), ("Andreea", "Andrea"), ("Anh", "A.")] {
            let (stratum, probability) = judge(&scorer, &mut interner, &person("a", left, "Bogdan", born), &person("b", right, "Bogdan", born));
            assert_ne!(stratum, Stratum::Sibling, "{left} and {right} under {description}");
            assert!(probability > 0.5, "{left} and {right} Bogdan under {description}: {probability}");
        }
    }
    // Different given names, but the same passport or e-mail address: one person who gave another
    // name. (The trained fixture learned nothing of either, its data having neither, so only the
    // reference model can say so.)
    let scorer = Scorer::new(reference_model(), TermFrequencies::new());
    let mut interner = Interner::default();
    for own in [Details { id_number: "RO1234567", ..born }, Details { email: "andrei.bogdan@example.ro", ..born }] {
        let (stratum, probability) = judge(&scorer, &mut interner, &person("a", "Andrei", "Bogdan", own), &person("b", "Adrian", "Bogdan", own));
        assert_eq!(stratum, Stratum::Sibling);
        assert!(probability > 0.5, "{probability}");
    }
}

/// A data set where one person often gives a different first name (aliases) makes EM learn a high
/// prior for the sibling stratum; the prior is capped, so siblings stay apart all the same.
#[test]
fn a_trained_model_never_learns_to_join_siblings_on_names_alone() {
    const FAMILIES: [&str; 12] = ["Popescu", "Ionescu", "Bogdan", "Tran", "Nguyen", "Khan", "Hoxha", "Kowalski", "Smith", "Marin", "Dumitru", "Stan"];
    const GIVEN: [&str; 16] =
        ["Andrei", "Maria", "Elena", "Ionut", "Florin", "Anh", "Linh", "Mai", "Ahmed", "Besnik", "Piotr", "Pawel", "Ioana", "Mihai", "Vlad", "Sorina"];
    let mut records = Vec::new();
    for index in 0..1_500usize {
        let family = FAMILIES[index % FAMILIES.len()];
        let given = GIVEN[(index / FAMILIES.len()) % GIVEN.len()];
        let dob = format!("{:02}/{:02}/{}", 1 + index % 28, 1 + (index / 28) % 12, 1960 + (index / 336) % 40);
        let phone = format!("07700 9{:05}", index);
        records.push(person(&format!("p{index}"), given, family, Details { dob: &dob, phone: &phone, ..Details::default() }));
        // Every person's second record: half give another first name.
        let alias = if index % 2 == 0 { GIVEN[(index / FAMILIES.len() + 7) % GIVEN.len()] } else { given };
        records.push(person(&format!("q{index}"), alias, family, Details { dob: &dob, phone: &phone, ..Details::default() }));
    }
    let mut batch = link_batch(&records, None, &BatchConfig::default(), &mut |_| {});
    let sibling = &batch.scorer.model.sibling;
    assert!(sibling.prior_match_probability <= MAX_SIBLING_PRIOR, "prior {}", sibling.prior_match_probability);
    assert!(batch.scorer.model.training.sibling_pairs_for_em > 0, "the training saw sibling-stratum pairs");
    let born = Details { dob: "02/02/1992", ..Details::default() };
    let (stratum, probability) = judge(&batch.scorer, &mut batch.interner, &person("x", "Anh", "Tran", born), &person("y", "Linh", "Tran", born));
    assert_eq!(stratum, Stratum::Sibling);
    assert!(probability < 0.5, "{probability}");
}
