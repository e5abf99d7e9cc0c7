//! Describes the true pairs the default blocking loses (which fields they share, at which
//! comparison levels), so that new keys are chosen by the recall they could gain.
//!
//! `cargo run --release --example blocking_study -- PEOPLE.csv TRUTH.csv` (files written by the
//! `gen_people` example). Prints counts only, never a name or any other field of a record.

use aidant_link::blocking::{BlockingConfig, candidate_pairs};
use aidant_link::features::{Interner, all_record_features, repair_name_order};
use aidant_link::record::read_csv;
use std::collections::HashMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, people_path, truth_path] = arguments.as_slice() else {
        return Err("usage: blocking_study PEOPLE.csv TRUTH.csv".into());
    };
    let records = read_csv(std::io::BufReader::new(std::fs::File::open(people_path)?), 0)?.records;
    let mut truth_reader = csv::Reader::from_path(truth_path)?;
    let mut label_of_id: HashMap<String, u64> = HashMap::new();
    let mut labels: HashMap<String, u64> = HashMap::new();
    for row in truth_reader.records() {
        let row = row?;
        let next = labels.len() as u64;
        let label = *labels.entry(row[1].to_string()).or_insert(next);
        label_of_id.insert(row[0].to_string(), label);
    }
    let truth: Vec<u64> = records.iter().map(|record| label_of_id.get(&record.record_id).copied().unwrap_or(u64::MAX - record.source as u64)).collect();

    let mut interner = Interner::default();
    let mut features = all_record_features(&mut interner, &records);
    repair_name_order(&mut features);
    let config = BlockingConfig::default();
    let base = candidate_pairs(&features, &config);
    let recall = aidant_link::blocking::blocking_recall(&base.pairs, &truth, None);
    let lost = recall.true_pairs - recall.true_pairs_in_candidates;
    println!("defaults: {} candidate pairs, recall {:.4}, {} of {} true pairs lost", base.pairs.len(), recall.recall, lost, recall.true_pairs);
    describe_lost(&interner, &features, &truth, &base.pairs);
    Ok(())
}

/// Counts of what the lost true pairs share, to see which keys could find them.
fn describe_lost(interner: &Interner, features: &[aidant_link::features::RecordFeatures], truth: &[u64], candidates: &[(u32, u32)]) {
    use aidant_link::compare::compare;
    let mut by_label: HashMap<u64, Vec<u32>> = HashMap::new();
    for (index, label) in truth.iter().enumerate() {
        by_label.entry(*label).or_default().push(index as u32);
    }
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut lost = 0u64;
    for members in by_label.values() {
        for (position, left) in members.iter().enumerate() {
            for right in &members[position + 1..] {
                let pair = ((*left).min(*right), (*left).max(*right));
                if candidates.binary_search(&pair).is_ok() {
                    continue;
                }
                lost += 1;
                let (a, b) = (&features[pair.0 as usize], &features[pair.1 as usize]);
                let gamma = compare(interner, a, b);
                let mut note = |key: String| *counts.entry(key).or_insert(0) += 1;
                note(format!("given level {} family level {}", gamma[0], gamma[1]));
                note(format!("dob level {}", gamma[2]));
                let years = match (a.date_of_birth, b.date_of_birth) {
                    (Some(x), Some(y)) => format!("years differ by {}", x.year.abs_diff(y.year).min(3)),
                    (None, None) => "no dob either side".to_string(),
                    _ => "dob on one side only".to_string(),
                };
                note(years);
                note(format!("postcode level {} address level {} phone level {}", gamma[3], gamma[4], gamma[5]));
                let district = a.postcode_outcode != aidant_link::features::ABSENT && a.postcode_outcode == b.postcode_outcode;
                note(format!("same district {district}"));
                let first3 = |id: u32| interner.resolve(id).get(..3).map(str::to_string);
                note(format!(
                    "given prefix3 equal {} family prefix3 equal {}",
                    first3(a.given.distinctive) == first3(b.given.distinctive),
                    first3(a.family.distinctive) == first3(b.family.distinctive)
                ));
                note(format!("given initial equal {} family initial equal {}", a.given.initial == b.given.initial, a.family.initial == b.family.initial));
            }
        }
    }
    let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
    sorted.sort();
    println!("lost pairs: {lost}");
    for (key, count) in sorted {
        println!("  {key}: {count}");
    }
}
