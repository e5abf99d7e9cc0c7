//! The model file: added fields read from any column, learned and weighed like the person fields,
//! declared blocking rules, and models that carry their model file through a save and a load.

use aidant_link::batch::{BatchConfig, link_batch};
use aidant_link::blocking::{BlockingConfig, BlockingRule, candidate_pairs};
use aidant_link::features::{Interner, all_record_features_with};
use aidant_link::model::{MODEL_FILE_FORMAT_VERSION, Model};
use aidant_link::record::{InputOptions, read_csv_with};
use aidant_link::spec::ModelSpec;
use std::collections::HashMap;

const PARISH_MODEL: &str = r#"
version = 1
person_fields = ["given_name", "family_name", "dob"]

[[field]]
name = "birth_place"
columns = ["place_of_birth"]
comparison = "string"
thresholds = [0.9, 0.8]
term_frequencies = true

[[field]]
name = "occupation"
comparison = "categorical"

[blocking]
rules = [["family_name", "birth_place"]]
"#;

/// A small parish register: few given names, few family names and a decade of birth years, so
/// that many different people share a name and a year and only the place of birth and the
/// occupation tell them apart. Each person is written two or three times, with a place
/// sometimes misspelt. Deterministic (a fixed linear congruential sequence).
fn parish_register() -> (String, HashMap<String, usize>) {
    let given = ["John", "William", "Thomas", "Mary", "Elizabeth", "Ann", "Sarah", "James"];
    let family = ["Smith", "Brown", "Taylor", "Johnson", "Wright", "Walker", "Wood", "Hall", "Green", "Clarke"];
    let places = [
        "Ampthill",
        "Biggleswade",
        "Dunstable",
        "Leighton Buzzard",
        "Luton",
        "Potton",
        "Sandy",
        "Shefford",
        "Toddington",
        "Woburn",
        "Harrold",
        "Cardington",
        "Eaton Bray",
        "Flitwick",
        "Houghton Regis",
        "Kempston",
        "Marston Moretaine",
        "Riseley",
        "Stotfold",
        "Wilden",
    ];
    let occupations = ["labourer", "farmer", "weaver", "servant", "lacemaker", "blacksmith", "baker", "carpenter"];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % bound
    };
    let mut csv = String::from("record_id,given_name,family_name,dob,place_of_birth,occupation\n");
    let mut truth = HashMap::new();
    let mut record = 0;
    for person in 0..1_500 {
        let (first, last, year) = (given[next(given.len())], family[next(family.len())], 1750 + next(10));
        let (place, occupation) = (places[next(places.len())], occupations[next(occupations.len())]);
        for _ in 0..2 + next(2) {
            let written_place = if next(8) == 0 { format!("{}e", place.to_lowercase()) } else { place.to_string() };
            let written_occupation = if next(5) == 0 { "" } else { occupation };
            csv.push_str(&format!("r{record},{first},{last},{year},{written_place},{written_occupation}\n"));
            truth.insert(format!("r{record}"), person);
            record += 1;
        }
    }
    (csv, truth)
}

/// Pairwise F1 of the clusters against the truth.
fn pairwise_f1(record_ids: &[String], cluster_of: &[u32], truth: &HashMap<String, usize>) -> f64 {
    let (mut both, mut predicted, mut actual) = (0u64, 0u64, 0u64);
    for left in 0..record_ids.len() {
        for right in left + 1..record_ids.len() {
            let same_cluster = cluster_of[left] == cluster_of[right];
            let same_person = truth[&record_ids[left]] == truth[&record_ids[right]];
            both += u64::from(same_cluster && same_person);
            predicted += u64::from(same_cluster);
            actual += u64::from(same_person);
        }
    }
    let (precision, recall) = (both as f64 / predicted.max(1) as f64, both as f64 / actual.max(1) as f64);
    2.0 * precision * recall / (precision + recall).max(f64::MIN_POSITIVE)
}

fn link_register(spec: &ModelSpec) -> (f64, Model) {
    let (csv, truth) = parish_register();
    let options = InputOptions { model: spec.clone(), ..InputOptions::default() };
    let parsed = read_csv_with(csv.as_bytes(), &options, 0).expect("the register reads");
    let config = BatchConfig { model: spec.clone(), ..BatchConfig::default() };
    let result = link_batch(&parsed.records, None, &config, &mut |_| {});
    let ids: Vec<String> = parsed.records.iter().map(|record| record.record_id.clone()).collect();
    (pairwise_f1(&ids, &result.clustering.cluster_of, &truth), result.scorer.model)
}

#[test]
fn a_model_file_that_uses_place_of_birth_and_occupation_tells_namesakes_apart() {
    let (without, _) = link_register(&ModelSpec::default());
    let spec = ModelSpec::from_toml(PARISH_MODEL).expect("the model file reads");
    let (with, model) = link_register(&spec);
    assert!(with > without + 0.2, "pairwise F1 with the model file {with:.3}, without {without:.3}");
    assert!(with > 0.85, "pairwise F1 with the model file {with:.3}");
    // Learned like any field: agreeing on the place is evidence, disagreeing is evidence against.
    let place = &model.population.extra[0];
    assert_eq!(place.name, "birth_place");
    assert!((place.m[1] / place.u[1]).log2() > 2.0 && (place.m[4] / place.u[4]).log2() < -2.0, "{place:?}");
    assert!(model.household.extra[0].counted, "a place of birth is a person's own, not the household's");
}

#[test]
fn a_trained_model_carries_its_model_file_through_a_save_and_a_load() {
    let spec = ModelSpec::from_toml(PARISH_MODEL).expect("the model file reads");
    let (_, model) = link_register(&spec);
    assert_eq!(model.format_version, MODEL_FILE_FORMAT_VERSION, "an older build must refuse it rather than drop the added fields");
    let loaded = Model::from_json(&model.to_json()).expect("loads");
    assert_eq!(loaded, model);
    assert_eq!(loaded.spec, spec);
    // Parameters that do not fit the model file are refused, not guessed at.
    let mut damaged = model.clone();
    damaged.population.extra[1].m.pop();
    assert!(Model::from_json(&damaged.to_json()).unwrap_err().to_string().contains("levels"));
    let mut renamed = model;
    renamed.spec.fields[0].name = "parish".into();
    assert!(Model::from_json(&renamed.to_json()).is_err());
}

#[test]
fn a_declared_rule_finds_pairs_the_built_in_rules_do_not() {
    // Names too damaged to share a sound or a date, but the same family name... spelt the same,
    // and the same place: only the declared rule brings them together.
    let csv = "record_id,given_name,family_name,dob,place_of_birth\nr1,Xanthe,Oakes,,Eaton Bray\nr2,Ksanti,Oakes,,Eaton Bray\nr3,Xanthe,Oakes,,Potton\n";
    let spec = ModelSpec::from_toml(PARISH_MODEL).expect("the model file reads");
    let parsed = read_csv_with(csv.as_bytes(), &InputOptions { model: spec.clone(), ..InputOptions::default() }, 0).expect("reads");
    let mut interner = Interner::default();
    let features = all_record_features_with(&mut interner, &parsed.records, &spec.fields);
    let declared: Vec<BlockingRule> = spec.blocking_rules().into_iter().filter(|rule| matches!(rule, BlockingRule::Declared(_))).collect();
    assert_eq!(declared.len(), 1);
    let only_declared = candidate_pairs(&features, &BlockingConfig { rules: declared, ..BlockingConfig::default() });
    assert_eq!(only_declared.pairs, vec![(0, 1)], "the same family name and place, and only those");
    assert_eq!(only_declared.rules[0].rule, "declared: family_name + added field 1");
}

#[test]
fn added_columns_are_read_with_their_parsers_and_bad_values_counted() {
    let spec = ModelSpec::from_toml(
        "version = 1\n[[field]]\nname = \"age\"\ncomparison = \"number\"\n[[field]]\nname = \"second_phone\"\ncolumns = [\"Other Phone\"]\ncomparison = \"phone\"\n",
    )
    .expect("reads");
    let csv = "record_id,full_name,age,other_phone,town\nr1,Ion Popescu,34,07911 123456,Luton\nr2,Ana Marin,about forty,+44 7911 123456,Luton\n";
    let parsed = read_csv_with(csv.as_bytes(), &InputOptions { model: spec, ..InputOptions::default() }, 0).expect("reads");
    assert_eq!(parsed.records[0].extra, vec![Some("34".to_string()), Some("+447911123456".to_string())]);
    assert_eq!(parsed.records[1].extra, vec![None, Some("+447911123456".to_string())]);
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(parsed.diagnostics[0].column, "age");
    assert_eq!(parsed.columns.extras, vec![("age".to_string(), Some(2)), ("second_phone".to_string(), Some(3))]);
    assert_eq!(parsed.columns.unused_names(), vec!["town"], "an added field's column is used; the others are still listed");
    assert!(parsed.warnings.iter().any(|warning| warning.to_string().contains("column age (age): 1 of 2")), "{:?}", parsed.warnings);
}

#[test]
fn a_person_field_the_model_file_leaves_out_is_not_read() {
    let spec = ModelSpec::from_toml("version = 1\nperson_fields = [\"given_name\", \"family_name\", \"dob\"]\n").expect("reads");
    let csv = "record_id,full_name,dob,phone\nr1,Ion Popescu,1985,07911 123456\n";
    let parsed = read_csv_with(csv.as_bytes(), &InputOptions { model: spec, ..InputOptions::default() }, 0).expect("reads");
    assert_eq!(parsed.records[0].phone, None);
    assert_eq!(parsed.columns.unused_names(), vec!["phone"]);
}
