//! A model set by hand, for a resolver that starts with no records to learn
//! from: a new server links the first people named in its records with it,
//! and an operator can later replace it with one `aidant link` trained on
//! the force's own records.
//!
//! The u probabilities (how often two different people agree at a level)
//! follow from how values are spread in a national population: about one
//! person in 250 shares a given given name with another, one in 1,250 a
//! family name, one in 20,000 a full date of birth (365 days over some 55
//! years of adult birth dates); a full postcode holds about 15 households of
//! the 1.8 million, a phone number or an e-mail address one person. The m
//! probabilities (how often one person's two records agree at that level)
//! follow from how records are written: names exact in about 80% of pairs,
//! the rest spelt differently, transliterated or reduced to an initial; a
//! date of birth exact in 80%, with day and month swapped or one part
//! mistyped in most of the rest; addresses, postcodes and phones change as
//! people move and change phones, so agree in only about half.
//!
//! The prior (one pair in 100,000 is a match) is set so that both names
//! alone do not link two records, while both names with an exact date of
//! birth, a phone, an e-mail address or the same full postcode do. Term
//! frequencies adjust the name weights once a resolver has counted enough
//! records (`model::MIN_TERM_FREQUENCY_RECORDS`), so a common name counts
//! for less and a rare one for more.

use crate::compare::{ALL_FIELDS, Field};
use crate::model::{
    DEFAULT_SIBLING_PRIOR, DEFAULT_TERM_FREQUENCY_FIELDS, FieldParameters, Model, OWN_IDENTIFIER_FIELDS, PERSON_FIELDS, StratumParameters, TrainingReport,
};

/// Prior probability that two records of the population are one person.
pub const POPULATION_PRIOR: f64 = 1e-5;
/// Prior probability that two records sharing a family name and an address
/// or phone are one person (the rest are relatives).
pub const HOUSEHOLD_PRIOR: f64 = 0.1;

/// (m, u) per level of `field`, level 0 (missing) first and unused.
fn parameters(field: Field) -> (&'static [f64], &'static [f64]) {
    match field {
        Field::GivenName => (&[0.0, 0.80, 0.03, 0.04, 0.06, 0.03, 0.01, 0.01, 0.02], &[0.0, 0.004, 0.0005, 0.002, 0.003, 0.02, 0.01, 0.06, 0.9005]),
        Field::FamilyName => (&[0.0, 0.82, 0.03, 0.01, 0.06, 0.03, 0.01, 0.01, 0.03], &[0.0, 0.0008, 0.0002, 0.0005, 0.002, 0.015, 0.008, 0.05, 0.9235]),
        Field::DateOfBirth => (&[0.0, 0.80, 0.02, 0.03, 0.07, 0.04, 0.03, 0.01], &[0.0, 0.00005, 0.00001, 0.0002, 0.004, 0.02, 0.12, 0.85574]),
        Field::Postcode => (&[0.0, 0.55, 0.10, 0.10, 0.25], &[0.0, 0.0002, 0.002, 0.02, 0.9778]),
        Field::Address => (&[0.0, 0.50, 0.20, 0.30], &[0.0, 0.0001, 0.001, 0.9989]),
        Field::Phone => (&[0.0, 0.55, 0.05, 0.40], &[0.0, 0.00001, 0.0001, 0.99989]),
        Field::Email => (&[0.0, 0.60, 0.05, 0.35], &[0.0, 0.00001, 0.0001, 0.99989]),
        Field::IdNumber => (&[0.0, 0.90, 0.05, 0.05], &[0.0, 0.000001, 0.00001, 0.999989]),
        Field::Vrm => (&[0.0, 0.30, 0.70], &[0.0, 0.0001, 0.9999]),
    }
}

fn stratum(prior: f64, active: &[Field]) -> StratumParameters {
    StratumParameters {
        prior_match_probability: prior,
        active_fields: active.to_vec(),
        fields: ALL_FIELDS
            .iter()
            .map(|field| {
                let (m, u) = parameters(*field);
                FieldParameters { field: *field, m: m.to_vec(), u: u.to_vec() }
            })
            .collect(),
        extra: Vec::new(),
    }
}

/// The hand-set model (see the module's documentation).
pub fn reference_model() -> Model {
    Model {
        format_version: 1,
        population: stratum(POPULATION_PRIOR, &ALL_FIELDS),
        household: stratum(HOUSEHOLD_PRIOR, &PERSON_FIELDS),
        sibling: stratum(DEFAULT_SIBLING_PRIOR, &OWN_IDENTIFIER_FIELDS),
        term_frequency_fields: DEFAULT_TERM_FREQUENCY_FIELDS.to_vec(),
        training: TrainingReport::default(),
        spec: crate::spec::ModelSpec::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{Interner, record_features};
    use crate::model::{Scorer, TermFrequencies, probability_of_weight};
    use crate::record::RawPerson;

    fn person(id: &str, name: &str, date_of_birth: &str, phone: &str) -> RawPerson {
        RawPerson {
            record_id: id.to_owned(),
            full_name: Some(name.to_owned()),
            date_of_birth: (!date_of_birth.is_empty()).then(|| date_of_birth.to_owned()),
            phone: (!phone.is_empty()).then(|| phone.to_owned()),
            ..RawPerson::default()
        }
    }

    fn probability(left: &RawPerson, right: &RawPerson) -> f64 {
        let scorer = Scorer::new(reference_model(), TermFrequencies::new());
        let mut interner = Interner::default();
        let left = record_features(&mut interner, &left.parse(0).0);
        let right = record_features(&mut interner, &right.parse(0).0);
        probability_of_weight(scorer.score(&interner, &left, &right))
    }

    #[test]
    fn every_level_is_a_distribution_and_the_shape_is_this_builds() {
        let model = reference_model();
        model.check_shape().unwrap();
        for parameters in &model.population.fields {
            for values in [&parameters.m, &parameters.u] {
                let total: f64 = values.iter().skip(1).sum();
                assert!((total - 1.0).abs() < 1e-9, "{:?} sums to {total}", parameters.field);
                assert!(values.iter().skip(1).all(|value| *value > 0.0), "{:?} has an impossible level", parameters.field);
            }
        }
    }

    #[test]
    fn a_name_alone_does_not_link_and_a_name_with_a_date_of_birth_or_a_phone_does() {
        let named = person("a", "Ioana Popescu", "", "");
        assert!(probability(&named, &person("b", "Ioana Popescu", "", "")) < 0.9);
        assert!(probability(&person("a", "Ioana Popescu", "1999-03-14", ""), &person("b", "POPESCU Ioana", "14/03/1999", "")) > 0.99);
        assert!(probability(&person("a", "Ioana Popescu", "1999-03-14", ""), &person("b", "Iona Popescu", "1999-03-14", "")) > 0.99);
        // One name and one phone make a household pair: the given name decides.
        assert!(probability(&person("a", "Florin Dumitru", "", "07700 900123"), &person("b", "Florin Dumitru", "", "+44 7700 900123")) > 0.9);
        assert!(probability(&person("a", "Florin Dumitru", "", "07700 900123"), &person("b", "Andrei Dumitru", "", "+44 7700 900123")) < 0.1);
    }

    #[test]
    fn dates_of_birth_far_apart_keep_one_name_apart() {
        assert!(probability(&person("a", "Ion Popescu", "1961-05-02", ""), &person("b", "Ion Popescu", "1994-05-02", "")) < 0.05);
        assert!(probability(&person("a", "Ioana Popescu", "1999-03-14", ""), &person("b", "Maria Ionescu", "1999-03-14", "")) < 0.01);
    }
}
