//! The Fellegi-Sunter model: m and u per field level, EM training, term-frequency adjustment,
//! a separate household stratum, and match weights.
//!
//! Household dependence: family members share a surname, an address and a phone, and an ordinary
//! Fellegi-Sunter model adds these as independent evidence, so a mother and a daughter at one address
//! look like one person. Pairs that agree on the family name and on the address or phone form the
//! *household stratum* (see `is_household_pair`): there the shared fields count once, as the stratum's prior (learned by EM
//! from such pairs), and only person-level fields (given name, date of birth, email, identity
//! number, vehicle) can add evidence, with their own m and u learned within households.
//!
//! Sibling dependence: brothers, sisters and twins share a family name and, for twins, a date of
//! birth, and often a home and a phone. Pairs that agree on the family name and exactly on the
//! date of birth but whose given names are clearly different names form the *sibling stratum*
//! (see `is_sibling_pair`): there the shared names and date count for nothing beyond the stratum's
//! prior, which is learned by EM and never above `MAX_SIBLING_PRIOR`, so they alone never join two
//! records; other fields can, with m and u learned by EM within the stratum (a model that could
//! not learn them counts only an identity number or an e-mail address). Merging two trafficked
//! sisters into one person is among the worst errors a linker here can make.

use crate::compare::{
    ALL_FIELDS, FIELD_COUNT, Field, GAMMA_LEN, Gamma, MISSING, NameSimilarityCache, compare_all, compare_cached, compare_extras, extra_slot, name_level,
};
use crate::features::{ABSENT, FastHashMap, Interner, RecordFeatures};
use crate::spec::{ExtraField, ModelSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Probabilities of each level among matches (m) and non-matches (u); index 0 (missing) is unused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldParameters {
    pub field: Field,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

/// m and u of a field a model file adds (`spec::ExtraField`), in one stratum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraParameters {
    pub name: String,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
    /// Whether the field carries evidence in this stratum.
    pub counted: bool,
}

/// Which of the two sub-models scores a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stratum {
    Population,
    Household,
    Sibling,
}

/// The parameters of one stratum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumParameters {
    /// Prior probability that a pair of this stratum is a match.
    pub prior_match_probability: f64,
    /// Fields that carry evidence in this stratum.
    pub active_fields: Vec<Field>,
    pub fields: Vec<FieldParameters>,
    /// The fields the model file adds, in its order (none in models saved before it existed).
    #[serde(default)]
    pub extra: Vec<ExtraParameters>,
}

impl StratumParameters {
    /// A stratum not yet set (no fields), for models saved before the stratum existed.
    fn unset() -> Self {
        StratumParameters { prior_match_probability: 0.0, active_fields: Vec::new(), fields: Vec::new(), extra: Vec::new() }
    }
}

/// Summary of a training run, saved with the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub random_pairs_for_u: u64,
    /// Pairs sharing a full date of birth (estimated when sampled), from which name and contact m are learned.
    pub pairs_same_date_of_birth: u64,
    /// Pairs sharing all name tokens, from which the date-of-birth m is learned.
    pub pairs_same_name: u64,
    pub household_pairs_for_em: u64,
    /// Candidate pairs in the sibling stratum (absent from models saved before it existed).
    #[serde(default)]
    pub sibling_pairs_for_em: u64,
    /// EM iterations: date-of-birth pairs, name pairs, household pairs.
    pub em_iterations: [u32; 3],
    pub estimated_matches: f64,
    pub total_comparable_pairs: f64,
}

/// A trained model: everything needed to score pairs except the term frequencies, which come from
/// the data being linked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format_version: u32,
    pub population: StratumParameters,
    pub household: StratumParameters,
    /// Absent from models saved before it existed; `Model::from_json` then gives them
    /// `default_sibling_stratum` of their population parameters.
    #[serde(default = "StratumParameters::unset")]
    pub sibling: StratumParameters,
    pub term_frequency_fields: Vec<Field>,
    pub training: TrainingReport,
    /// The model file it was trained for (the person model in models saved before model files).
    #[serde(default)]
    pub spec: ModelSpec,
}

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingConfig {
    pub seed: u64,
    pub random_pairs_for_u: usize,
    /// EM runs on at most this many candidate pairs (an even sample of them).
    pub max_pairs_for_em: usize,
    pub max_em_iterations: u32,
    pub link_only: bool,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig { seed: 42, random_pairs_for_u: 1_000_000, max_pairs_for_em: 1_500_000, max_em_iterations: 40, link_only: false }
    }
}

/// The most levels any field has (a model file's added fields included).
const MAX_LEVELS: usize = 9;

/// The fewest pairs of a training block (the same date of birth) that EM learns m from.
const MIN_PAIRS_TO_LEARN: f64 = 50.0;

/// The format version of a model with added fields or a model file other than the person model:
/// a build that reads only version 1 would otherwise drop what it does not know and link with less.
pub const MODEL_FILE_FORMAT_VERSION: u32 = 2;

/// Fields whose exact agreement is worth less when the shared value is common (a common surname,
/// a hostel's address, a switchboard number).
pub const DEFAULT_TERM_FREQUENCY_FIELDS: [Field; 5] = [Field::GivenName, Field::FamilyName, Field::Postcode, Field::Address, Field::Phone];

/// Fields that can tell apart members of one household.
pub const PERSON_FIELDS: [Field; 5] = [Field::GivenName, Field::DateOfBirth, Field::Email, Field::IdNumber, Field::Vrm];

/// Fields that count in the sibling stratum of a trained model: everything but the names and the
/// date of birth that put a pair there. EM learns from the data how much a shared home, phone or
/// car says there (twins share them; so do one person's records written with very different
/// given names); the names and the date themselves never count again.
pub const SIBLING_FIELDS: [Field; 6] = [Field::Postcode, Field::Address, Field::Phone, Field::Email, Field::IdNumber, Field::Vrm];

/// Fields that count in the sibling stratum of a model that has not learned it (too few such
/// pairs, or none to learn from): a person's own identifiers, which brothers and sisters do not
/// share, where homes, phones and cars often are.
pub const OWN_IDENTIFIER_FIELDS: [Field; 2] = [Field::Email, Field::IdNumber];

/// The highest prior the sibling stratum may learn: at most three pairs in ten of its pairs are
/// taken for one person before other evidence says so, so a family name, a date of birth and two
/// different given names alone never reach even odds, whatever the data set's EM makes of them.
pub const MAX_SIBLING_PRIOR: f64 = 0.3;

/// The sibling stratum's prior when a model has too few such pairs to learn it from.
pub const DEFAULT_SIBLING_PRIOR: f64 = 0.01;

/// True when a pair agrees on the family name (exactly, transliterated, as an equivalent name or
/// within a typo) and exactly on the date of birth, while both given names are present and
/// clearly different names (below Jaro-Winkler 0.92 and two or more letters apart, or below 0.80,
/// and not the same name by any table, sound or initial): brothers Andrei and Adrian Bogdan,
/// sisters Anh and Linh Tran, twins. Names a letter apart ("Iona", "Ioana") are taken for a
/// spelling, so twins Marian and Marin are not protected, nor Cristian and Cristina: telling them
/// from typing errors needs a given name's sex or frequency, which the model does not have.
pub fn is_sibling_pair(gamma: &Gamma) -> bool {
    let family = gamma[Field::FamilyName.index()];
    let family_agrees = (name_level::EXACT..=name_level::JARO_WINKLER_92).contains(&family);
    let given = gamma[Field::GivenName.index()];
    let given_differs = given == name_level::JARO_WINKLER_80 || given == name_level::DIFFERENT;
    family_agrees && given_differs && gamma[Field::DateOfBirth.index()] == crate::compare::dob_level::EXACT
}

/// The sibling stratum of a model that could not learn one: `DEFAULT_SIBLING_PRIOR`, with the
/// population's parameters for a person's own identifiers (`OWN_IDENTIFIER_FIELDS`).
pub fn default_sibling_stratum(population: &StratumParameters) -> StratumParameters {
    StratumParameters {
        prior_match_probability: DEFAULT_SIBLING_PRIOR,
        active_fields: OWN_IDENTIFIER_FIELDS.to_vec(),
        fields: population.fields.clone(),
        extra: population.extra.iter().map(|parameters| ExtraParameters { counted: false, ..parameters.clone() }).collect(),
    }
}

/// True when a pair agrees on the family name and on where they live or how they are reached:
/// the address (exactly, or closely where their postcodes do not place them in different
/// sectors), the phone or the full postcode.
///
/// Streets of one name run through many towns: "Flat 1, 208 School Lane" and "Flat 7, 215 School
/// Gardens" are close as text, but under postcodes of different sectors they are not one home, and
/// two people of a common name there would otherwise count the shared surname and street once, as
/// the household's prior (about even odds), and be linked on the given name alone. An address
/// that agrees exactly still counts whatever the postcodes say, which may hold a typo.
pub fn is_household_pair(gamma: &Gamma) -> bool {
    let family = gamma[Field::FamilyName.index()];
    let family_agrees = (name_level::EXACT..=name_level::JARO_WINKLER_92).contains(&family);
    let address = gamma[Field::Address.index()];
    let postcode = gamma[Field::Postcode.index()];
    let postcodes_apart = postcode == 3 || postcode == 4;
    let same_address = address == 1 || (address == 2 && !postcodes_apart);
    family_agrees && (same_address || gamma[Field::Phone.index()] == 1 || postcode == 1)
}

/// Starting m values: most matches agree exactly, fewer at each weaker level.
fn initial_m(count: usize) -> Vec<f64> {
    let mut m = vec![0.0; count];
    m[1] = 0.7;
    let remaining = 0.3 / (count - 2) as f64;
    for value in m.iter_mut().skip(2) {
        *value = remaining;
    }
    // The last level is always "different": rare among matches.
    m[count - 1] = 0.02;
    normalise(&mut m);
    m
}

fn normalise(values: &mut [f64]) {
    let total: f64 = values.iter().skip(1).sum();
    if total > 0.0 {
        for value in values.iter_mut().skip(1) {
            *value /= total;
        }
    }
}

/// Turns level counts into probabilities with a small pseudo-count so no level is impossible.
fn smoothed(counts: &[f64], pseudo_count: f64) -> Vec<f64> {
    let mut probabilities: Vec<f64> = counts.iter().map(|count| count + pseudo_count).collect();
    probabilities[0] = 0.0;
    normalise(&mut probabilities);
    probabilities
}

/// Records needed before term frequencies are trusted.
pub const MIN_TERM_FREQUENCY_RECORDS: u64 = 1000;

/// Counts of term values for the term-frequency adjustment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TermFrequencies {
    counts: Vec<FastHashMap<u32, u32>>,
    totals: Vec<u64>,
}

/// The share of `total` records holding a value held by `count` of them; `None` until the field
/// has been seen `MIN_TERM_FREQUENCY_RECORDS` times, because frequencies from a handful of records
/// are noise. A server that keeps the counts as rows computes the fraction with this too.
pub fn term_fraction(count: u64, total: u64) -> Option<f64> {
    (total >= MIN_TERM_FREQUENCY_RECORDS).then(|| count as f64 / total as f64)
}

/// The value a field's term frequency is counted on, from the left record of a pair (`ABSENT` for
/// fields that are not counted).
pub fn term_value(field: Field, features: &RecordFeatures) -> u32 {
    match field {
        Field::GivenName => features.given.folded,
        Field::FamilyName => features.family.folded,
        Field::Postcode => features.postcode,
        Field::Address => features.address,
        Field::Phone => features.phone,
        Field::Email => features.email,
        Field::IdNumber => features.id_number,
        Field::Vrm => features.vrm,
        Field::DateOfBirth => ABSENT,
    }
}

/// The value the term frequency of gamma place `slot` is counted on: a built-in field's
/// (`term_value`) or an added field's.
pub fn term_value_of_slot(slot: usize, features: &RecordFeatures) -> u32 {
    match ALL_FIELDS.get(slot) {
        Some(field) => term_value(*field, features),
        None => features.extra.get(slot - FIELD_COUNT).copied().unwrap_or(ABSENT),
    }
}

impl TermFrequencies {
    pub fn new() -> Self {
        TermFrequencies { counts: vec![FastHashMap::default(); GAMMA_LEN], totals: vec![0; GAMMA_LEN] }
    }

    /// Counts the values of one more record (used by incremental linking as records arrive).
    pub fn add(&mut self, fields: &[Field], features: &RecordFeatures) {
        let slots: Vec<usize> = fields.iter().map(|field| field.index()).collect();
        self.add_slots(&slots, features);
    }

    /// Counts the values of one more record in the given gamma places.
    pub fn add_slots(&mut self, slots: &[usize], features: &RecordFeatures) {
        for slot in slots {
            let value = term_value_of_slot(*slot, features);
            if value != ABSENT {
                *self.counts[*slot].entry(value).or_insert(0) += 1;
                self.totals[*slot] += 1;
            }
        }
    }

    /// Counts the term frequencies a model uses (`Model::term_frequency_slots`) over `records`.
    pub fn for_model(model: &Model, records: &[RecordFeatures]) -> Self {
        let slots = model.term_frequency_slots();
        let mut frequencies = TermFrequencies::new();
        for record in records {
            frequencies.add_slots(&slots, record);
        }
        frequencies
    }

    /// Per field (in `ALL_FIELDS` order): the records counted and each value's count sorted by
    /// value, for a server to store as rows.
    pub fn to_sorted(&self) -> Vec<(u64, Vec<(u32, u32)>)> {
        self.counts
            .iter()
            .zip(&self.totals)
            .map(|(counts, total)| {
                let mut entries: Vec<(u32, u32)> = counts.iter().map(|(value, count)| (*value, *count)).collect();
                entries.sort_unstable();
                (*total, entries)
            })
            .collect()
    }

    /// The share of records with this field that hold this value (see `term_fraction`).
    pub fn fraction(&self, field: Field, value: u32) -> Option<f64> {
        self.fraction_of_slot(field.index(), value)
    }

    /// `fraction` for gamma place `slot` (a built-in field's or an added field's).
    pub fn fraction_of_slot(&self, slot: usize, value: u32) -> Option<f64> {
        let total = *self.totals.get(slot)?;
        let count = *self.counts.get(slot)?.get(&value)?;
        term_fraction(u64::from(count), total)
    }
}

/// The contribution of one field to a pair's match weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldContribution {
    pub field: Field,
    pub level: u8,
    pub level_name: String,
    pub m: f64,
    pub u: f64,
    /// log2(m / u), before any term-frequency adjustment.
    pub log2_bayes_factor: f64,
    /// Added to the Bayes factor because the agreed value is rarer or commoner than average.
    pub term_frequency_adjustment: f64,
    /// False in the household stratum for shared fields, which the prior already counts.
    pub counted: bool,
}

/// The contribution of a model file's added field to a pair's match weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddedFieldContribution {
    pub name: String,
    pub level: u8,
    pub level_name: String,
    pub log2_bayes_factor: f64,
    pub term_frequency_adjustment: f64,
    pub counted: bool,
}

/// Weights per (stratum, gamma place, level), computed once from m and u.
#[derive(Debug, Clone)]
pub struct Scorer {
    pub model: Model,
    pub term_frequencies: TermFrequencies,
    population_weights: [[f64; MAX_LEVELS]; GAMMA_LEN],
    household_weights: [[f64; MAX_LEVELS]; GAMMA_LEN],
    sibling_weights: [[f64; MAX_LEVELS]; GAMMA_LEN],
    /// The population's u per place and level, for term-frequency adjustments.
    population_u: [[f64; MAX_LEVELS]; GAMMA_LEN],
    /// Places whose exact agreement is adjusted by term frequency.
    adjusted: [bool; GAMMA_LEN],
    /// The gamma places in use: the built-in fields, then the model file's added fields.
    used_slots: usize,
    population_prior: f64,
    household_prior: f64,
    sibling_prior: f64,
}

fn log2_odds(probability: f64) -> f64 {
    let clamped = probability.clamp(1e-15, 1.0 - 1e-12);
    (clamped / (1.0 - clamped)).log2()
}

/// The probability for a log2 match weight.
pub fn probability_of_weight(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// The log2 match weight for a probability.
pub fn weight_of_probability(probability: f64) -> f64 {
    log2_odds(probability)
}

fn weight_table(stratum: &StratumParameters) -> [[f64; MAX_LEVELS]; GAMMA_LEN] {
    let mut table = [[0.0; MAX_LEVELS]; GAMMA_LEN];
    let active = stratum
        .fields
        .iter()
        .filter(|parameters| stratum.active_fields.contains(&parameters.field))
        .map(|parameters| (parameters.field.index(), &parameters.m, &parameters.u));
    let added = stratum
        .extra
        .iter()
        .enumerate()
        .filter(|(_, parameters)| parameters.counted)
        .map(|(index, parameters)| (extra_slot(index), &parameters.m, &parameters.u));
    for (slot, m, u) in active.chain(added) {
        for (level, (m, u)) in m.iter().zip(u).enumerate().skip(1).take(MAX_LEVELS - 1) {
            table[slot][level] = (m / u).log2();
        }
    }
    table
}

impl Scorer {
    pub fn new(model: Model, term_frequencies: TermFrequencies) -> Self {
        let mut population_u = [[1.0; MAX_LEVELS]; GAMMA_LEN];
        let mut adjusted = [false; GAMMA_LEN];
        for parameters in &model.population.fields {
            for (level, u) in parameters.u.iter().enumerate().take(MAX_LEVELS) {
                population_u[parameters.field.index()][level] = *u;
            }
        }
        for (index, parameters) in model.population.extra.iter().enumerate().take(crate::spec::MAX_EXTRA_FIELDS) {
            for (level, u) in parameters.u.iter().enumerate().take(MAX_LEVELS) {
                population_u[extra_slot(index)][level] = *u;
            }
        }
        for slot in model.term_frequency_slots() {
            adjusted[slot] = true;
        }
        Scorer {
            population_u,
            adjusted,
            used_slots: FIELD_COUNT + model.spec.fields.len().min(crate::spec::MAX_EXTRA_FIELDS),
            population_weights: weight_table(&model.population),
            household_weights: weight_table(&model.household),
            sibling_weights: weight_table(&model.sibling),
            population_prior: log2_odds(model.population.prior_match_probability),
            household_prior: log2_odds(model.household.prior_match_probability),
            sibling_prior: log2_odds(model.sibling.prior_match_probability.min(MAX_SIBLING_PRIOR)),
            model,
            term_frequencies,
        }
    }

    fn term_frequency_adjustment(&self, slot: usize, level: u8, left: &RecordFeatures, stratum: Stratum) -> f64 {
        self.adjustment_of_fraction(slot, level, stratum, || self.term_frequencies.fraction_of_slot(slot, term_value_of_slot(slot, left)))
    }

    /// The term-frequency adjustment of an agreement in gamma place `slot` on a value held by
    /// `fraction` of records.
    fn adjustment_of_fraction(&self, slot: usize, level: u8, stratum: Stratum, fraction: impl FnOnce() -> Option<f64>) -> f64 {
        let adjusts = if slot == Field::GivenName.index() || slot == Field::FamilyName.index() {
            level == name_level::EXACT || level == name_level::TRANSLITERATED
        } else {
            level == 1
        };
        if !adjusts || stratum != Stratum::Population || !self.adjusted[slot] {
            return 0.0;
        }
        let Some(fraction) = fraction() else { return 0.0 };
        // Splink's adjustment: the u of agreeing on this value is its frequency, not the average.
        let adjusted_u = fraction.max(1e-9);
        (self.population_u[slot][usize::from(level)] / adjusted_u).log2()
    }

    /// The stratum of a pair.
    pub fn stratum(gamma: &Gamma) -> Stratum {
        if is_sibling_pair(gamma) {
            Stratum::Sibling
        } else if is_household_pair(gamma) {
            Stratum::Household
        } else {
            Stratum::Population
        }
    }

    /// The log2 match weight of a compared pair (prior plus every field's evidence).
    pub fn weight(&self, gamma: &Gamma, left: &RecordFeatures) -> f64 {
        self.weight_by(gamma, |slot| self.term_frequencies.fraction_of_slot(slot, term_value_of_slot(slot, left)))
    }

    /// The weight of `gamma`, with `fraction_of` giving the left record's term frequency of a
    /// gamma place (asked only when an agreement is adjusted).
    fn weight_by(&self, gamma: &Gamma, fraction_of: impl Fn(usize) -> Option<f64>) -> f64 {
        let stratum = Self::stratum(gamma);
        let (mut total, table) = match stratum {
            Stratum::Population => (self.population_prior, &self.population_weights),
            Stratum::Household => (self.household_prior, &self.household_weights),
            Stratum::Sibling => (self.sibling_prior, &self.sibling_weights),
        };
        for (slot, level) in gamma.iter().copied().enumerate().take(self.used_slots) {
            if level == MISSING {
                continue;
            }
            total += table[slot][usize::from(level)];
            total += self.adjustment_of_fraction(slot, level, stratum, || fraction_of(slot));
        }
        total
    }

    /// The term frequency of each record's value of each field (`TermFrequencies::fraction`; NaN
    /// when unknown or not adjusted), looked up once per record for scoring many pairs.
    pub fn record_term_fractions(&self, features: &[RecordFeatures]) -> Vec<[f64; FIELD_COUNT]> {
        features.par_iter().map(|record| self.term_fractions(record)).collect()
    }

    /// One record's term frequencies, as `record_term_fractions` gives them.
    pub fn term_fractions(&self, record: &RecordFeatures) -> [f64; FIELD_COUNT] {
        let mut fractions = [f64::NAN; FIELD_COUNT];
        for field in &self.model.term_frequency_fields {
            if let Some(fraction) = self.term_frequencies.fraction(*field, term_value(*field, record)) {
                fractions[field.index()] = fraction;
            }
        }
        fractions
    }

    /// `weight`, with the left record's term frequencies of the built-in fields from
    /// `record_term_fractions` (a server's records have no added fields).
    pub fn weight_with_fractions(&self, gamma: &Gamma, left_fractions: &[f64; FIELD_COUNT]) -> f64 {
        self.weight_by(gamma, |slot| left_fractions.get(slot).copied().filter(|fraction| !fraction.is_nan()))
    }

    /// `weight_with_fractions`, looking up the left record's added fields' term frequencies.
    pub fn weight_with_fractions_of(&self, gamma: &Gamma, left_fractions: &[f64; FIELD_COUNT], left: &RecordFeatures) -> f64 {
        self.weight_by(gamma, |slot| match left_fractions.get(slot) {
            Some(fraction) => (!fraction.is_nan()).then_some(*fraction),
            None => self.term_frequencies.fraction_of_slot(slot, term_value_of_slot(slot, left)),
        })
    }

    /// Compares a pair on every field, the model file's added fields included.
    pub fn compare(&self, interner: &Interner, left: &RecordFeatures, right: &RecordFeatures) -> Gamma {
        compare_all(&self.model.spec.fields, interner, left, right)
    }

    /// Compares and weighs a pair.
    pub fn score(&self, interner: &Interner, left: &RecordFeatures, right: &RecordFeatures) -> f64 {
        self.weight(&self.compare(interner, left, right), left)
    }

    /// The prior and every field's contribution, for explanations.
    pub fn contributions(&self, gamma: &Gamma, left: &RecordFeatures) -> (Stratum, f64, Vec<FieldContribution>) {
        let stratum = Self::stratum(gamma);
        let (prior, parameters) = match stratum {
            Stratum::Population => (self.population_prior, &self.model.population),
            Stratum::Household => (self.household_prior, &self.model.household),
            Stratum::Sibling => (self.sibling_prior, &self.model.sibling),
        };
        let contributions = ALL_FIELDS
            .iter()
            .map(|field| {
                let level = gamma[field.index()];
                let field_parameters = &parameters.fields[field.index()];
                let counted = level != MISSING && parameters.active_fields.contains(field);
                let (m, u) = (field_parameters.m[usize::from(level)], field_parameters.u[usize::from(level)]);
                FieldContribution {
                    field: *field,
                    level,
                    level_name: field.level_names()[usize::from(level)].to_string(),
                    m,
                    u,
                    log2_bayes_factor: if counted { (m / u).log2() } else { 0.0 },
                    term_frequency_adjustment: if counted { self.term_frequency_adjustment(field.index(), level, left, stratum) } else { 0.0 },
                    counted,
                }
            })
            .collect();
        (stratum, prior, contributions)
    }

    /// The contributions of the model file's added fields, in its order.
    pub fn added_contributions(&self, gamma: &Gamma, left: &RecordFeatures) -> Vec<AddedFieldContribution> {
        let stratum = Self::stratum(gamma);
        let parameters = match stratum {
            Stratum::Population => &self.model.population,
            Stratum::Household => &self.model.household,
            Stratum::Sibling => &self.model.sibling,
        };
        self.model
            .spec
            .fields
            .iter()
            .zip(&parameters.extra)
            .enumerate()
            .map(|(index, (field, parameters))| {
                let slot = extra_slot(index);
                let level = gamma[slot];
                let counted = level != MISSING && parameters.counted;
                let level_index = usize::from(level);
                AddedFieldContribution {
                    name: field.name.clone(),
                    level,
                    level_name: field.level_names().get(level_index).cloned().unwrap_or_default(),
                    log2_bayes_factor: if counted { (parameters.m[level_index] / parameters.u[level_index]).log2() } else { 0.0 },
                    term_frequency_adjustment: if counted { self.term_frequency_adjustment(slot, level, left, stratum) } else { 0.0 },
                    counted,
                }
            })
            .collect()
    }
}

/// Gamma patterns with their counts: EM runs over distinct patterns, not pairs.
type PatternCounts = HashMap<Gamma, f64>;

struct EmResult {
    m: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
    lambda: f64,
    iterations: u32,
}

/// EM over gamma patterns: m of every `active` gamma place, u of those in `learn_u` (the others
/// keep `initial_u`), and the share of matches. `initial_u` has one entry per place in use, each
/// with that place's levels.
fn expectation_maximisation(patterns: &PatternCounts, active: &[usize], initial_u: &[Vec<f64>], learn_u: &[usize], max_iterations: u32) -> EmResult {
    let mut m: Vec<Vec<f64>> = initial_u.iter().map(|levels| initial_m(levels.len())).collect();
    let mut u: Vec<Vec<f64>> = initial_u.to_vec();
    let mut lambda = 0.1;
    let mut iterations = 0;
    // In a fixed order: the sums below are floating point, and a hash map's
    // order changes from run to run, which would change the learned weights
    // in their last bits and so, now and then, a borderline cluster.
    let mut patterns: Vec<(&Gamma, f64)> = patterns.iter().map(|(gamma, count)| (gamma, *count)).collect();
    patterns.sort_unstable_by(|left, right| left.0.cmp(right.0));
    let total: f64 = patterns.iter().map(|(_, count)| count).sum();
    if total == 0.0 {
        return EmResult { m, u, lambda: 0.5, iterations };
    }
    for iteration in 1..=max_iterations {
        iterations = iteration;
        let mut m_counts: Vec<Vec<f64>> = initial_u.iter().map(|levels| vec![0.0; levels.len()]).collect();
        let mut u_counts = m_counts.clone();
        let mut expected_matches = 0.0;
        for (gamma, count) in &patterns {
            let mut log_ratio = log2_odds(lambda);
            for slot in active {
                let level = usize::from(gamma[*slot]);
                if level != 0 {
                    log_ratio += (m[*slot][level] / u[*slot][level]).log2();
                }
            }
            let posterior = probability_of_weight(log_ratio);
            expected_matches += posterior * count;
            for slot in active {
                let level = usize::from(gamma[*slot]);
                m_counts[*slot][level] += posterior * count;
                u_counts[*slot][level] += (1.0 - posterior) * count;
            }
        }
        for slot in active {
            m[*slot] = smoothed(&m_counts[*slot], 0.01);
            if learn_u.contains(slot) {
                u[*slot] = smoothed(&u_counts[*slot], 0.01);
            }
        }
        let new_lambda = (expected_matches / total).clamp(1e-9, 1.0 - 1e-9);
        let converged = (new_lambda - lambda).abs() < 1e-7;
        lambda = new_lambda;
        if converged {
            break;
        }
    }
    EmResult { m, u, lambda, iterations }
}

/// Gamma patterns of pairs that share a training key (e.g. the full date of birth), computed without
/// keeping the pairs. Blocks are capped and sampled so the work stays bounded at any data size.
fn training_block_patterns(
    extras: &[ExtraField],
    interner: &Interner,
    features: &[RecordFeatures],
    key: impl Fn(&RecordFeatures) -> Option<u64> + Sync,
    config: &TrainingConfig,
) -> (PatternCounts, f64) {
    const MAX_MEMBERS: usize = 60;
    let mut entries: Vec<(u64, u32)> = features.par_iter().enumerate().filter_map(|(index, record)| key(record).map(|key| (key, index as u32))).collect();
    entries.par_sort_unstable();
    let mut blocks: Vec<&[(u64, u32)]> = entries.chunk_by(|left, right| left.0 == right.0).filter(|block| block.len() > 1).collect();
    let estimated_pairs: f64 = blocks.iter().map(|block| block.len().min(MAX_MEMBERS) as f64).map(|size| size * (size - 1.0) / 2.0).sum();
    let keep_fraction = (config.max_pairs_for_em as f64 / estimated_pairs.max(1.0)).min(1.0);
    if keep_fraction < 1.0 {
        let mut random = ChaCha8Rng::seed_from_u64(config.seed);
        blocks.retain(|_| random.random_bool(keep_fraction));
    }
    let patterns = blocks
        .par_iter()
        .fold(PatternCounts::new, |mut patterns, block| {
            let members = &block[..block.len().min(MAX_MEMBERS)];
            for (position, (_, left)) in members.iter().enumerate() {
                for (_, right) in &members[position + 1..] {
                    let (left, right) = (&features[*left as usize], &features[*right as usize]);
                    if config.link_only && left.source == right.source {
                        continue;
                    }
                    *patterns.entry(compare_all(extras, interner, left, right)).or_insert(0.0) += 1.0;
                }
            }
            patterns
        })
        .reduce(PatternCounts::new, merge_patterns);
    let sampled: f64 = patterns.values().sum();
    (patterns, sampled / keep_fraction)
}

fn merge_patterns(mut left: PatternCounts, right: PatternCounts) -> PatternCounts {
    for (gamma, count) in right {
        *left.entry(gamma).or_insert(0.0) += count;
    }
    left
}

/// Total pairs the model could ever compare: every pair, or only cross-source pairs.
pub fn comparable_pairs(features: &[RecordFeatures], link_only: bool) -> f64 {
    let total = features.len() as f64;
    let all_pairs = total * (total - 1.0) / 2.0;
    if !link_only {
        return all_pairs;
    }
    let mut per_source: HashMap<u16, f64> = HashMap::new();
    for record in features {
        *per_source.entry(record.source).or_insert(0.0) += 1.0;
    }
    all_pairs - per_source.values().map(|count| count * (count - 1.0) / 2.0).sum::<f64>()
}

/// Level frequencies among random pairs: the u probabilities of the population.
fn u_from_random_pairs(extras: &[ExtraField], interner: &Interner, features: &[RecordFeatures], config: &TrainingConfig) -> (Vec<Vec<f64>>, u64) {
    let record_count = features.len();
    let empty: Vec<Vec<f64>> = level_counts(extras).into_iter().map(|count| vec![0.0; count]).collect();
    if record_count < 2 {
        return (empty.iter().map(|counts| smoothed(counts, 1.0)).collect(), 0);
    }
    let chunks = 64;
    let per_chunk = config.random_pairs_for_u.div_ceil(chunks);
    let (counts, sampled) = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut random = ChaCha8Rng::seed_from_u64(config.seed ^ (chunk as u64).wrapping_mul(0x9E37_79B9));
            let mut counts = empty.clone();
            let mut sampled = 0u64;
            let mut attempts = 0;
            while sampled < per_chunk as u64 && attempts < per_chunk * 20 {
                attempts += 1;
                let left = random.random_range(0..record_count);
                let right = random.random_range(0..record_count);
                if left == right || (config.link_only && features[left].source == features[right].source) {
                    continue;
                }
                let gamma = compare_all(extras, interner, &features[left], &features[right]);
                for (slot, levels) in counts.iter_mut().enumerate() {
                    levels[usize::from(gamma[slot])] += 1.0;
                }
                sampled += 1;
            }
            (counts, sampled)
        })
        .reduce(
            || (empty.clone(), 0),
            |(mut left_counts, left_sampled), (right_counts, right_sampled)| {
                for (left_field, right_field) in left_counts.iter_mut().zip(&right_counts) {
                    for (left_level, right_level) in left_field.iter_mut().zip(right_field) {
                        *left_level += right_level;
                    }
                }
                (left_counts, left_sampled + right_sampled)
            },
        );
    (counts.iter().map(|field_counts| smoothed(field_counts, 0.5)).collect(), sampled)
}

/// The levels of each gamma place in use: the built-in fields', then the added fields'.
fn level_counts(extras: &[ExtraField]) -> Vec<usize> {
    ALL_FIELDS.iter().map(|field| field.level_count()).chain(extras.iter().map(ExtraField::level_count)).collect()
}

fn stratum_parameters(prior: f64, active: &[usize], m: &[Vec<f64>], u: &[Vec<f64>], extras: &[ExtraField]) -> StratumParameters {
    StratumParameters {
        prior_match_probability: prior,
        active_fields: ALL_FIELDS.iter().copied().filter(|field| active.contains(&field.index())).collect(),
        fields: ALL_FIELDS.iter().map(|field| FieldParameters { field: *field, m: m[field.index()].clone(), u: u[field.index()].clone() }).collect(),
        extra: extras
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let slot = extra_slot(index);
                ExtraParameters { name: field.name.clone(), m: m[slot].clone(), u: u[slot].clone(), counted: active.contains(&slot) }
            })
            .collect(),
    }
}

/// The gamma places of `fields` that the model file compares.
fn slots_of(fields: &[Field], spec: &ModelSpec) -> Vec<usize> {
    let compared = spec.person_field_list();
    fields.iter().filter(|field| compared.contains(field)).map(|field| field.index()).collect()
}

/// Estimates a model from unlabelled data.
///
/// u comes from random pairs. m comes from EM with u held at those values, run twice as Splink
/// does, on pairs that share a training key, each time learning only the fields the key does not
/// involve: pairs born on the same day teach the m of names, places and contacts; pairs with the
/// same name teach the m of the date of birth. Among such pairs the non-matches are people who
/// happen to share a birthday or a name, so their other fields are as random as u assumes. The
/// household stratum is learned by EM (m and u free) over candidate pairs in that stratum.
pub fn train(interner: &Interner, features: &[RecordFeatures], candidate_pairs: &[(u32, u32)], config: &TrainingConfig) -> Model {
    train_for(&ModelSpec::default(), interner, features, candidate_pairs, config)
}

/// `train` for a model file: its person fields and its added fields, each added field learned
/// like a person field (m from pairs born on the same day and pairs of the same name, u from
/// random pairs), counted in the household stratum unless relatives share it, and learned within
/// the sibling stratum.
pub fn train_for(spec: &ModelSpec, interner: &Interner, features: &[RecordFeatures], candidate_pairs: &[(u32, u32)], config: &TrainingConfig) -> Model {
    let extras = spec.fields.as_slice();
    let (random_u, random_pairs) = u_from_random_pairs(extras, interner, features, config);
    let added: Vec<usize> = (0..extras.len()).map(extra_slot).collect();
    let compared: Vec<usize> = slots_of(&ALL_FIELDS, spec).into_iter().chain(added.iter().copied()).collect();

    let date_key = |record: &RecordFeatures| {
        let date = record.date_of_birth.filter(|date| date.is_full())?;
        Some(u64::from(date.year) << 16 | u64::from(date.month.unwrap_or(0)) << 8 | u64::from(date.day.unwrap_or(0)))
    };
    let name_key = |record: &RecordFeatures| {
        (record.name_sorted != ABSENT && !record.given.is_absent() && !record.family.is_absent()).then_some(u64::from(record.name_sorted))
    };
    let (date_patterns, date_pairs) = training_block_patterns(extras, interner, features, date_key, config);
    let (name_patterns, name_pairs) = training_block_patterns(extras, interner, features, name_key, config);
    let not_date: Vec<usize> = compared.iter().copied().filter(|slot| *slot != Field::DateOfBirth.index()).collect();
    let not_name: Vec<usize> = compared.iter().copied().filter(|slot| *slot != Field::GivenName.index() && *slot != Field::FamilyName.index()).collect();
    let date_em = expectation_maximisation(&date_patterns, &not_date, &random_u, &[], config.max_em_iterations);
    let name_em = expectation_maximisation(&name_patterns, &not_name, &random_u, &[], config.max_em_iterations);
    let mut population_m = date_em.m.clone();
    population_m[Field::DateOfBirth.index()] = name_em.m[Field::DateOfBirth.index()].clone();
    // Records with few full dates of birth (a parish register's years) give too few pairs born
    // on one day to learn from: the fields other than the names then learn their m from pairs of
    // the same name instead, rather than keep their starting values.
    if date_pairs < MIN_PAIRS_TO_LEARN {
        for slot in &not_name {
            population_m[*slot] = name_em.m[*slot].clone();
        }
    }

    // Matches born on the same day, divided by the chance a match has equal full dates of birth,
    // estimate the number of matches in the whole data set.
    let date_exact_given_match = name_em.m[Field::DateOfBirth.index()][usize::from(crate::compare::dob_level::EXACT)];
    let date_present = 1.0 - random_u_missing_share(interner, features, config, Field::DateOfBirth);
    let matches_same_date = date_em.lambda * date_pairs;
    let first_estimate = matches_same_date / (date_exact_given_match * date_present).max(1e-6);
    let total_pairs = comparable_pairs(features, config.link_only).max(1.0);
    let population_prior = (first_estimate / total_pairs).clamp(1e-12, 0.5);

    let stride = candidate_pairs.len().div_ceil(config.max_pairs_for_em.max(1)).max(1);
    let [population_patterns, household_patterns, sibling_patterns] = candidate_pairs
        .par_iter()
        .step_by(stride)
        .fold(
            || [PatternCounts::new(), PatternCounts::new(), PatternCounts::new()],
            |mut strata, (left, right)| {
                let gamma = compare_all(extras, interner, &features[*left as usize], &features[*right as usize]);
                // The population and household parameters are learned from every pair of theirs,
                // sibling-like ones included, as before the sibling stratum existed: those pairs
                // teach them how often one person's given names differ. The sibling stratum
                // learns from its own pairs besides.
                let target = if is_household_pair(&gamma) { 1 } else { 0 };
                *strata[target].entry(gamma).or_insert(0.0) += 1.0;
                if is_sibling_pair(&gamma) {
                    *strata[2].entry(gamma).or_insert(0.0) += 1.0;
                }
                strata
            },
        )
        .reduce(
            || [PatternCounts::new(), PatternCounts::new(), PatternCounts::new()],
            |[population, household, sibling], [other_population, other_household, other_sibling]| {
                [merge_patterns(population, other_population), merge_patterns(household, other_household), merge_patterns(sibling, other_sibling)]
            },
        );
    // Summed in a fixed order: floating-point sums depend on their order, and a hash map's order
    // changes from run to run, which would change the prior in its last bits and, now and then,
    // which side of the threshold a pair falls (two runs of a million records once gave 469,544
    // and 469,545 clusters).
    let mut population_patterns: Vec<(Gamma, f64)> = population_patterns.into_iter().collect();
    population_patterns.sort_unstable_by_key(|(gamma, _)| *gamma);
    // Refine the prior so that the matches the model expects among the candidates (which blocking
    // makes nearly all the matches there are) equal the prior times all pairs: EM on the prior alone.
    let sampled_fraction = 1.0 / stride as f64;
    let mut population_prior = population_prior;
    for _ in 0..30 {
        let prior_weight = log2_odds(population_prior);
        let expected: f64 = population_patterns
            .iter()
            .map(|(gamma, count)| {
                let mut weight = prior_weight;
                for slot in &compared {
                    let level = usize::from(gamma[*slot]);
                    if level != 0 {
                        weight += (population_m[*slot][level] / random_u[*slot][level]).log2();
                    }
                }
                count * probability_of_weight(weight)
            })
            .sum::<f64>()
            / sampled_fraction;
        let refined = (expected / total_pairs).clamp(1e-12, 0.5);
        let converged = (refined / population_prior - 1.0).abs() < 1e-4;
        population_prior = refined;
        if converged {
            break;
        }
    }
    let estimated_matches = population_prior * total_pairs;
    let household_pairs: f64 = household_patterns.values().sum();
    let personal: Vec<usize> = slots_of(&PERSON_FIELDS, spec)
        .into_iter()
        .chain(extras.iter().enumerate().filter(|(_, field)| !field.shared_in_household).map(|(index, _)| extra_slot(index)))
        .collect();
    let household_em = expectation_maximisation(&household_patterns, &personal, &random_u, &personal, config.max_em_iterations);
    // Too few household pairs to learn from: fall back to the population's person-field parameters
    // with even prior odds, so households still count once.
    let household = if household_pairs >= 50.0 {
        stratum_parameters(household_em.lambda, &personal, &household_em.m, &household_em.u, extras)
    } else {
        stratum_parameters(0.5, &personal, &population_m, &random_u, extras)
    };
    // Siblings: EM within the stratum, on the fields that can join them. How often two siblings
    // share a home, a phone or a car is learned there; a person's own identifiers keep the
    // population's u (siblings do not share them), which also keeps them evidence when nearly
    // every pair in the stratum is one person and EM could not tell u from m. Too few pairs, and
    // the stratum keeps a small fixed prior with the population's parameters.
    let sibling_pairs: f64 = sibling_patterns.values().sum();
    // Added fields are learned within the stratum too: siblings share a birth place, and may
    // not share a sex.
    let sibling_slots: Vec<usize> = slots_of(&SIBLING_FIELDS, spec).into_iter().chain(added.iter().copied()).collect();
    let shared_by_siblings: Vec<usize> =
        sibling_slots.iter().copied().filter(|slot| !OWN_IDENTIFIER_FIELDS.iter().any(|field| field.index() == *slot)).collect();
    let sibling_em = expectation_maximisation(&sibling_patterns, &sibling_slots, &random_u, &shared_by_siblings, config.max_em_iterations);
    let population = stratum_parameters(population_prior, &compared, &population_m, &random_u, extras);
    let sibling = if sibling_pairs >= 50.0 {
        stratum_parameters(sibling_em.lambda.min(MAX_SIBLING_PRIOR), &sibling_slots, &sibling_em.m, &sibling_em.u, extras)
    } else {
        default_sibling_stratum(&population)
    };
    Model {
        format_version: if *spec == ModelSpec::default() { 1 } else { MODEL_FILE_FORMAT_VERSION },
        spec: spec.clone(),
        population,
        household,
        sibling,
        term_frequency_fields: DEFAULT_TERM_FREQUENCY_FIELDS.to_vec(),
        training: TrainingReport {
            random_pairs_for_u: random_pairs,
            pairs_same_date_of_birth: date_pairs as u64,
            pairs_same_name: name_pairs as u64,
            household_pairs_for_em: household_pairs as u64,
            sibling_pairs_for_em: sibling_pairs as u64,
            em_iterations: [date_em.iterations, name_em.iterations, household_em.iterations],
            estimated_matches,
            total_comparable_pairs: total_pairs,
        },
    }
}

/// The share of records lacking a field, squared into the share of pairs where it is missing.
fn random_u_missing_share(_interner: &Interner, features: &[RecordFeatures], _config: &TrainingConfig, field: Field) -> f64 {
    if features.is_empty() {
        return 1.0;
    }
    let missing = features
        .par_iter()
        .filter(|record| match field {
            Field::DateOfBirth => !record.date_of_birth.is_some_and(|date| date.is_full()),
            _ => false,
        })
        .count() as f64
        / features.len() as f64;
    1.0 - (1.0 - missing) * (1.0 - missing)
}

/// Why a saved model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model file is not valid JSON for this version: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the model has format version {0}; this build reads versions 1 and 2")]
    Version(u32),
    #[error("the model's model file is not valid: {0}")]
    Spec(#[from] crate::spec::SpecError),
    #[error("the model's {field} parameters have {found} levels where {expected} are expected")]
    Shape { field: &'static str, found: usize, expected: usize },
}

impl Model {
    /// Serialises the model as JSON (the caller writes it to a file).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a model saved by `to_json`, checking its shape matches this build's comparisons.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let mut model: Model = serde_json::from_str(text)?;
        if model.sibling.fields.is_empty() {
            model.sibling = default_sibling_stratum(&model.population);
        }
        model.spec.check_and_fill()?;
        model.check_shape()?;
        Ok(model)
    }

    /// The gamma places whose exact agreements are adjusted by term frequency: the built-in
    /// fields of `term_frequency_fields` and the added fields that ask for it.
    pub fn term_frequency_slots(&self) -> Vec<usize> {
        self.term_frequency_fields
            .iter()
            .map(|field| field.index())
            .chain(self.spec.fields.iter().enumerate().filter(|(_, field)| field.uses_term_frequencies()).map(|(index, _)| extra_slot(index)))
            .collect()
    }

    /// Checks the format version and that every field has the levels this build compares.
    pub fn check_shape(&self) -> Result<(), ModelError> {
        if self.format_version != 1 && self.format_version != MODEL_FILE_FORMAT_VERSION {
            return Err(ModelError::Version(self.format_version));
        }
        for stratum in [&self.population, &self.household, &self.sibling] {
            for (parameters, field) in stratum.fields.iter().zip(ALL_FIELDS) {
                let expected = field.level_count();
                if parameters.m.len() != expected || parameters.u.len() != expected || parameters.field != field {
                    return Err(ModelError::Shape { field: field.name(), found: parameters.m.len(), expected });
                }
            }
            if stratum.fields.len() != FIELD_COUNT {
                return Err(ModelError::Shape { field: "all", found: stratum.fields.len(), expected: FIELD_COUNT });
            }
            if stratum.extra.len() != self.spec.fields.len() {
                return Err(ModelError::Shape { field: "added fields", found: stratum.extra.len(), expected: self.spec.fields.len() });
            }
            for (parameters, field) in stratum.extra.iter().zip(&self.spec.fields) {
                let expected = field.level_count();
                if parameters.name != field.name || parameters.m.len() != expected || parameters.u.len() != expected {
                    return Err(ModelError::Shape { field: "an added field", found: parameters.m.len(), expected });
                }
            }
        }
        Ok(())
    }
}

/// Candidate pairs scored together, with one name-similarity cache.
const SCORING_CHUNK: usize = 1 << 16;

/// Pairs whose right records are fetched from memory together before any of them is compared.
const FETCH_GROUP: usize = 8;

/// Reads the fields of `record` that a comparison reads first, on each of its cache lines.
///
/// Candidate pairs are sorted by their left record, so the right records are scattered over
/// the whole array and scoring waits for memory on almost every pair. Reading the right records
/// of a few pairs together, with no dependence between the reads, lets the processor fetch them
/// at once instead of one after another; the values only feed `black_box`.
fn touch(record: &RecordFeatures) -> u64 {
    u64::from(record.given.folded)
        ^ u64::from(record.family.folded)
        ^ u64::from(record.family.phonetic[3])
        ^ u64::from(record.postcode)
        ^ u64::from(record.address)
        ^ u64::from(record.phone)
        ^ u64::from(record.vrm)
}

/// Scores every candidate pair in parallel, keeping those with probability at least `floor_probability`.
pub fn score_pairs(scorer: &Scorer, interner: &Interner, features: &[RecordFeatures], pairs: &[(u32, u32)], floor_probability: f64) -> Vec<(u32, u32, f32)> {
    let floor_weight = weight_of_probability(floor_probability);
    let fractions = scorer.record_term_fractions(features);
    let extras = scorer.model.spec.fields.as_slice();
    pairs
        .par_chunks(SCORING_CHUNK)
        .flat_map_iter(|chunk| {
            let mut cache = NameSimilarityCache::default();
            let mut scored = Vec::new();
            for group in chunk.chunks(FETCH_GROUP) {
                std::hint::black_box(group.iter().fold(0, |touched, (_, right)| touched ^ touch(&features[*right as usize])));
                for (left, right) in group {
                    let (left_features, right_features) = (&features[*left as usize], &features[*right as usize]);
                    let mut gamma = compare_cached(interner, &mut cache, left_features, right_features);
                    let weight = if extras.is_empty() {
                        scorer.weight_with_fractions(&gamma, &fractions[*left as usize])
                    } else {
                        compare_extras(extras, interner, left_features, right_features, &mut gamma);
                        scorer.weight_with_fractions_of(&gamma, &fractions[*left as usize], left_features)
                    };
                    if weight >= floor_weight {
                        scored.push((*left, *right, weight as f32));
                    }
                }
            }
            scored
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same pattern counts, held in maps filled in different orders
    /// (and so iterated in different orders), train the same model to the
    /// last bit.
    #[test]
    fn expectation_maximisation_does_not_depend_on_map_order() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut entries: Vec<(Gamma, f64)> = Vec::new();
        for _ in 0..2_000 {
            let mut gamma: Gamma = [0; GAMMA_LEN];
            for field in ALL_FIELDS {
                gamma[field.index()] = (next() % field.level_count() as u64) as u8;
            }
            entries.push((gamma, (next() % 1_000 + 1) as f64));
        }
        let forwards: PatternCounts = entries.into_iter().collect();
        let mut listed: Vec<(Gamma, f64)> = forwards.iter().map(|(gamma, count)| (*gamma, *count)).collect();
        listed.reverse();
        let backwards: PatternCounts = listed.into_iter().collect();
        assert!(forwards == backwards, "the same counts");
        let initial_u: Vec<Vec<f64>> = ALL_FIELDS.iter().map(|field| vec![1.0 / field.level_count() as f64; field.level_count()]).collect();
        let all: Vec<usize> = ALL_FIELDS.iter().map(|field| field.index()).collect();
        let first = expectation_maximisation(&forwards, &all, &initial_u, &all, 25);
        let second = expectation_maximisation(&backwards, &all, &initial_u, &all, 25);
        assert_eq!(first.lambda.to_bits(), second.lambda.to_bits());
        assert_eq!(first.iterations, second.iterations);
        for (left, right) in first.m.iter().flatten().chain(first.u.iter().flatten()).zip(second.m.iter().flatten().chain(second.u.iter().flatten())) {
            assert_eq!(left.to_bits(), right.to_bits());
        }
    }
}
