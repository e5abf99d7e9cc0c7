//! Field comparisons: each pair of records gets one agreement level per field (the gamma vector).

use crate::dob::PartialDate;
use crate::features::{ABSENT, Interner, NamePartFeatures, RecordFeatures};
use serde::{Deserialize, Serialize};

/// The fields the model compares, in gamma-vector order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    GivenName,
    FamilyName,
    DateOfBirth,
    Postcode,
    Address,
    Phone,
    Email,
    IdNumber,
    Vrm,
}

pub const FIELD_COUNT: usize = 9;
pub const ALL_FIELDS: [Field; FIELD_COUNT] =
    [Field::GivenName, Field::FamilyName, Field::DateOfBirth, Field::Postcode, Field::Address, Field::Phone, Field::Email, Field::IdNumber, Field::Vrm];

/// Level 0 of every field: one side or both lack the value, which is no evidence either way.
pub const MISSING: u8 = 0;

/// Levels of name comparisons, strongest first after `MISSING`.
pub mod name_level {
    pub const EXACT: u8 = 1;
    pub const TRANSLITERATED: u8 = 2;
    pub const EQUIVALENT: u8 = 3;
    pub const JARO_WINKLER_92: u8 = 4;
    pub const JARO_WINKLER_80: u8 = 5;
    pub const PHONETIC: u8 = 6;
    pub const INITIAL: u8 = 7;
    pub const DIFFERENT: u8 = 8;
}

/// Levels of date-of-birth comparisons.
pub mod dob_level {
    pub const EXACT: u8 = 1;
    pub const DAY_MONTH_SWAPPED: u8 = 2;
    pub const YEAR_WITHIN_ONE: u8 = 3;
    pub const ONE_PART_DIFFERS: u8 = 4;
    pub const PARTIAL_AGREES: u8 = 5;
    /// Different, but within five years: could still be a badly recorded date.
    pub const DIFFERENT: u8 = 6;
    /// More than five years apart: a parent and a child, not one person.
    pub const FAR_APART: u8 = 7;
}

impl Field {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::DateOfBirth => "dob",
            Field::Postcode => "postcode",
            Field::Address => "address",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::IdNumber => "id_number",
            Field::Vrm => "vrm",
        }
    }

    /// Human names of the levels, index = level.
    pub fn level_names(self) -> &'static [&'static str] {
        match self {
            Field::GivenName | Field::FamilyName => &[
                "missing",
                "exact",
                "equal once transliterated",
                "equivalent name (table)",
                "Jaro-Winkler >= 0.92, or >= 0.80 and one letter apart",
                "Jaro-Winkler >= 0.80",
                "same Double Metaphone code",
                "initial agrees",
                "different",
            ],
            Field::DateOfBirth => &[
                "missing",
                "exact",
                "day and month swapped",
                "year within one",
                "one part differs",
                "partial date agrees",
                "different (within 5 years)",
                "more than 5 years apart",
            ],
            Field::Postcode => &["missing", "exact", "same sector", "same district", "different"],
            Field::Address | Field::Email | Field::IdNumber | Field::Phone => &["missing", "exact", "close", "different"],
            Field::Vrm => &["missing", "exact", "different"],
        }
    }

    pub fn level_count(self) -> usize {
        self.level_names().len()
    }
}

/// The length of a gamma vector: the built-in fields, then the fields a model file adds
/// (`spec::ExtraField`), in its order; unused places stay 0.
pub const GAMMA_LEN: usize = FIELD_COUNT + crate::spec::MAX_EXTRA_FIELDS;

/// One agreement level per field: the built-in fields at their `Field::index`, added fields after.
pub type Gamma = [u8; GAMMA_LEN];

/// The place in a gamma vector of a model file's added field number `index`.
pub const fn extra_slot(index: usize) -> usize {
    FIELD_COUNT + index
}

/// Jaro-Winkler similarity (prefix weight 0.1, boost above 0.7), or 0 when it is below `cutoff`.
///
/// rapidfuzz computes it with bit-parallel matching and gives up early below the cutoff; on a
/// million records this was the largest single cost of scoring with strsim. Folded names and
/// addresses are ASCII, so their bytes are their characters.
pub fn jaro_winkler_above(left: &str, right: &str, cutoff: f64) -> f64 {
    use rapidfuzz::distance::jaro_winkler;
    let args = jaro_winkler::Args::default().score_cutoff(cutoff);
    let similarity = if left.is_ascii() && right.is_ascii() {
        jaro_winkler::similarity_with_args(left.bytes(), right.bytes(), &args)
    } else {
        jaro_winkler::similarity_with_args(left.chars(), right.chars(), &args)
    };
    similarity.unwrap_or(0.0)
}

fn interned_jaro_winkler(interner: &Interner, left: u32, right: u32, cutoff: f64) -> f64 {
    jaro_winkler_above(interner.resolve(left), interner.resolve(right), cutoff)
}

/// Slots of a `NameSimilarityCache`: 32,768 of 16 bytes, half a megabyte, in a core's cache.
const NAME_SIMILARITY_SLOTS: usize = 1 << 15;

/// The Jaro-Winkler similarities of recently compared pairs of interned names.
///
/// Scoring tens of millions of candidate pairs compares the same common names again and again
/// ("john" with "jon"), and each comparison would fetch both strings from the interner. A slot per
/// hash of the (left, right) ids remembers the last pair that fell there; a miss computes the
/// similarity as before, so the cache changes no result. One cache per thread.
pub struct NameSimilarityCache {
    slots: Vec<(u64, f64)>,
}

impl Default for NameSimilarityCache {
    fn default() -> Self {
        NameSimilarityCache { slots: vec![(u64::MAX, 0.0); NAME_SIMILARITY_SLOTS] }
    }
}

impl NameSimilarityCache {
    /// A cache that remembers nothing, for comparing a single pair.
    fn none() -> Self {
        NameSimilarityCache { slots: Vec::new() }
    }

    /// The Jaro-Winkler similarity of two interned names, 0 below `NAME_CUTOFF`.
    fn similarity(&mut self, interner: &Interner, left: u32, right: u32) -> f64 {
        if self.slots.is_empty() {
            return interned_jaro_winkler(interner, left, right, NAME_CUTOFF);
        }
        // Ordered, not sorted: the similarity is computed exactly as it would be uncached.
        let key = u64::from(left) << 32 | u64::from(right);
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - NAME_SIMILARITY_SLOTS.trailing_zeros())) as usize;
        if self.slots[slot].0 == key {
            return self.slots[slot].1;
        }
        let similarity = interned_jaro_winkler(interner, left, right, NAME_CUTOFF);
        self.slots[slot] = (key, similarity);
        similarity
    }
}

/// The lowest Jaro-Winkler similarity a name comparison distinguishes.
const NAME_CUTOFF: f64 = 0.80;
fn shares_any(left: &[u32], right: &[u32]) -> bool {
    left.iter().any(|value| *value != ABSENT && right.contains(value))
}

/// Compares one name part with another; the levels are tested strongest first.
pub fn compare_name_parts(interner: &Interner, left: &NamePartFeatures, right: &NamePartFeatures) -> u8 {
    compare_name_parts_cached(interner, &mut NameSimilarityCache::none(), left, right)
}

fn compare_name_parts_cached(interner: &Interner, cache: &mut NameSimilarityCache, left: &NamePartFeatures, right: &NamePartFeatures) -> u8 {
    use name_level::*;
    if left.is_absent() || right.is_absent() {
        return MISSING;
    }
    if left.exact == right.exact {
        return EXACT;
    }
    if left.folded == right.folded {
        return TRANSLITERATED;
    }
    if left.initial_only || right.initial_only {
        return if left.initial == right.initial { INITIAL } else { DIFFERENT };
    }
    if shares_any(&left.groups, &right.groups) {
        return EQUIVALENT;
    }
    let similarity = cache.similarity(interner, left.distinctive, right.distinctive);
    if similarity >= 0.92 {
        return JARO_WINKLER_92;
    }
    if similarity >= 0.80 {
        // One slip of the keyboard ("Iona" for "Ioana") is a spelling of the name; two or more
        // differences ("Adrian" for "Andrei", "Ionescu" for "Popescu") make another name, which
        // `model::is_sibling_pair` relies on to keep brothers and sisters apart.
        return if within_one_edit(interner.resolve(left.distinctive), interner.resolve(right.distinctive)) { JARO_WINKLER_92 } else { JARO_WINKLER_80 };
    }
    if shares_any(&left.phonetic, &right.phonetic) {
        return PHONETIC;
    }
    DIFFERENT
}

/// Ranks levels for choosing the name alignment: lower is stronger agreement; missing sits between.
fn name_rank(level: u8) -> u8 {
    if level == MISSING { 7 } else { level }
}

/// Compares names order-insensitively: given against given and family against family, or crossed
/// when a report swapped the order ("POPESCU ION" written as given "Popescu", family "Ion").
pub fn compare_names(interner: &Interner, left: &RecordFeatures, right: &RecordFeatures) -> (u8, u8) {
    compare_names_cached(interner, &mut NameSimilarityCache::none(), left, right)
}

fn compare_names_cached(interner: &Interner, cache: &mut NameSimilarityCache, left: &RecordFeatures, right: &RecordFeatures) -> (u8, u8) {
    let straight =
        (compare_name_parts_cached(interner, cache, &left.given, &right.given), compare_name_parts_cached(interner, cache, &left.family, &right.family));
    if straight.0 == name_level::EXACT && straight.1 == name_level::EXACT {
        return straight;
    }
    // Crossed comparisons only help when a part of one record could be the other part of the
    // other; without a shared initial they cannot reach any agreeing level worth the time.
    let could_be_crossed =
        (left.given.initial != 0 && left.given.initial == right.family.initial) || (left.family.initial != 0 && left.family.initial == right.given.initial);
    if !could_be_crossed {
        return straight;
    }
    // Crossed, one record has its parts swapped; the comparison whose values are more often
    // surnames in the data is the family-name comparison.
    let left_given_with_right_family = compare_name_parts_cached(interner, cache, &left.given, &right.family);
    let left_family_with_right_given = compare_name_parts_cached(interner, cache, &left.family, &right.given);
    let surname_likeness = |first: &NamePartFeatures, second: &NamePartFeatures| u16::from(first.family_share) + u16::from(second.family_share);
    let crossed = if surname_likeness(&left.given, &right.family) >= surname_likeness(&left.family, &right.given) {
        (left_family_with_right_given, left_given_with_right_family)
    } else {
        (left_given_with_right_family, left_family_with_right_given)
    };
    let rank = |levels: (u8, u8)| u16::from(name_rank(levels.0)) + u16::from(name_rank(levels.1));
    if rank(crossed) < rank(straight) { crossed } else { straight }
}

/// Compares dates of birth, recognising the typical errors of a date written by hand or misheard.
pub fn compare_dates(left: Option<PartialDate>, right: Option<PartialDate>) -> u8 {
    use dob_level::*;
    let (Some(left), Some(right)) = (left, right) else { return MISSING };
    if left == right {
        return if left.is_full() { EXACT } else { PARTIAL_AGREES };
    }
    if left.year.abs_diff(right.year) > 5 {
        return FAR_APART;
    }
    if !left.is_full() || !right.is_full() {
        // A year-only or month-only date agrees when every part it has agrees.
        let months_agree = left.month.is_none() || right.month.is_none() || left.month == right.month;
        return if left.year == right.year && months_agree { PARTIAL_AGREES } else { DIFFERENT };
    }
    let (left_day, left_month) = (left.day.unwrap_or(0), left.month.unwrap_or(0));
    let (right_day, right_month) = (right.day.unwrap_or(0), right.month.unwrap_or(0));
    if left.year == right.year && left_day == right_month && left_month == right_day {
        return DAY_MONTH_SWAPPED;
    }
    if left_day == right_day && left_month == right_month && left.year.abs_diff(right.year) == 1 {
        return YEAR_WITHIN_ONE;
    }
    let agreeing_parts = u8::from(left.year == right.year) + u8::from(left_month == right_month) + u8::from(left_day == right_day);
    if agreeing_parts == 2 { ONE_PART_DIFFERS } else { DIFFERENT }
}

/// True when two strings differ by at most one edit or one transposition of neighbours (a
/// Damerau-Levenshtein distance of at most one).
///
/// Phone numbers and identity numbers are ASCII: once their common beginning and end are set
/// aside, one edit leaves at most one character on each side, or two swapped ones. This costs a
/// pass over the bytes where the general distance allocates a table for every pair.
pub(crate) fn within_one_edit(left: &str, right: &str) -> bool {
    if !(left.is_ascii() && right.is_ascii()) {
        return left.chars().count().abs_diff(right.chars().count()) <= 1 && strsim::damerau_levenshtein(left, right) <= 1;
    }
    let (left, right) = (left.as_bytes(), right.as_bytes());
    let prefix = left.iter().zip(right).take_while(|(a, b)| a == b).count();
    let (left, right) = (&left[prefix..], &right[prefix..]);
    let suffix = left.iter().rev().zip(right.iter().rev()).take_while(|(a, b)| a == b).count();
    let (left, right) = (&left[..left.len() - suffix], &right[..right.len() - suffix]);
    match (left, right) {
        ([] | [_], [] | [_]) => true,
        ([first, second], [other_first, other_second]) => first == other_second && second == other_first,
        _ => false,
    }
}

fn compare_exact_or_close(interner: &Interner, left: u32, right: u32, close: impl Fn(&str, &str) -> bool) -> u8 {
    if left == ABSENT || right == ABSENT {
        return MISSING;
    }
    if left == right {
        return 1;
    }
    if close(interner.resolve(left), interner.resolve(right)) { 2 } else { 3 }
}

/// Computes the gamma vector of a pair.
pub fn compare(interner: &Interner, left: &RecordFeatures, right: &RecordFeatures) -> Gamma {
    compare_cached(interner, &mut NameSimilarityCache::none(), left, right)
}

/// `compare`, remembering name similarities in `cache` (see `NameSimilarityCache`).
pub fn compare_cached(interner: &Interner, cache: &mut NameSimilarityCache, left: &RecordFeatures, right: &RecordFeatures) -> Gamma {
    let (given, family) = compare_names_cached(interner, cache, left, right);
    let postcode = if left.postcode == ABSENT || right.postcode == ABSENT {
        MISSING
    } else if left.postcode == right.postcode {
        1
    } else if left.postcode_sector != ABSENT && left.postcode_sector == right.postcode_sector {
        2
    } else if left.postcode_outcode != ABSENT && left.postcode_outcode == right.postcode_outcode {
        3
    } else {
        4
    };
    let address = compare_exact_or_close(interner, left.address, right.address, |a, b| jaro_winkler_above(a, b, 0.90) >= 0.90);
    let phone = compare_exact_or_close(interner, left.phone, right.phone, within_one_edit);
    let email = if left.email != ABSENT && right.email != ABSENT && left.email != right.email {
        if left.email_local == right.email_local || interned_jaro_winkler(interner, left.email_local, right.email_local, 0.92) >= 0.92 { 2 } else { 3 }
    } else {
        compare_exact_or_close(interner, left.email, right.email, |_, _| false)
    };
    let id_number = compare_exact_or_close(interner, left.id_number, right.id_number, within_one_edit);
    let vrm = match (left.vrm, right.vrm) {
        (ABSENT, _) | (_, ABSENT) => MISSING,
        (a, b) if a == b => 1,
        _ => 2,
    };
    let mut gamma = [MISSING; GAMMA_LEN];
    gamma[..FIELD_COUNT].copy_from_slice(&[
        given,
        family,
        compare_dates(left.date_of_birth, right.date_of_birth),
        postcode,
        address,
        phone,
        email,
        id_number,
        vrm,
    ]);
    gamma
}

/// Fills in the levels of a model file's added fields (`extras`, in its order).
pub fn compare_extras(extras: &[crate::spec::ExtraField], interner: &Interner, left: &RecordFeatures, right: &RecordFeatures, gamma: &mut Gamma) {
    for (index, field) in extras.iter().enumerate() {
        gamma[extra_slot(index)] = field.compare(left.extra[index], right.extra[index], interner);
    }
}

/// `compare` with a model file's added fields.
pub fn compare_all(extras: &[crate::spec::ExtraField], interner: &Interner, left: &RecordFeatures, right: &RecordFeatures) -> Gamma {
    let mut gamma = compare(interner, left, right);
    compare_extras(extras, interner, left, right, &mut gamma);
    gamma
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Option<PartialDate> {
        Some(PartialDate::parse(text).expect("test date"))
    }

    #[test]
    fn date_levels_recognise_common_errors() {
        use dob_level::*;
        assert_eq!(compare_dates(date("1985-03-12"), date("12/03/1985")), EXACT);
        assert_eq!(compare_dates(date("1985-03-12"), date("1985-12-03")), DAY_MONTH_SWAPPED);
        assert_eq!(compare_dates(date("1985-03-12"), date("1986-03-12")), YEAR_WITHIN_ONE);
        assert_eq!(compare_dates(date("1985-03-12"), date("1985-03-13")), ONE_PART_DIFFERS);
        assert_eq!(compare_dates(date("1985"), date("1985-03-13")), PARTIAL_AGREES);
        assert_eq!(compare_dates(date("1985-04"), date("1985-03-13")), DIFFERENT);
        assert_eq!(compare_dates(date("1985-03-12"), date("1989-07-01")), DIFFERENT);
        assert_eq!(compare_dates(date("1985-03-12"), date("2012-03-12")), FAR_APART);
        assert_eq!(compare_dates(date("1985"), date("2012-03-12")), FAR_APART);
        assert_eq!(compare_dates(None, date("1990-07-01")), MISSING);
    }

    #[test]
    fn a_date_kept_as_written_still_agrees_with_the_date_it_was_meant_to_be() {
        use dob_level::*;
        let written = |text: &str| Some(PartialDate::parse_as_written(text).expect("a date as written").0);
        assert_eq!(compare_dates(written("1850-04-82"), date("1850-04-28")), ONE_PART_DIFFERS);
        assert_eq!(compare_dates(written("1850-04-82"), written("1850-04-82")), EXACT);
        assert_eq!(compare_dates(written("31/02/1990"), date("1990-03-02")), DIFFERENT);
        assert_eq!(compare_dates(written("1990-13-02"), date("1990-12-02")), ONE_PART_DIFFERS);
    }

    #[test]
    fn every_field_names_all_its_levels() {
        assert_eq!(Field::GivenName.level_count(), usize::from(name_level::DIFFERENT) + 1);
        assert_eq!(Field::DateOfBirth.level_count(), usize::from(dob_level::FAR_APART) + 1);
        for (index, field) in ALL_FIELDS.iter().enumerate() {
            assert_eq!(field.index(), index);
        }
    }

    #[test]
    fn one_edit_means_one_typo() {
        assert!(within_one_edit("447911123456", "447911123465"));
        assert!(within_one_edit("AB123", "AB1234"));
        assert!(!within_one_edit("447911123456", "447911654321"));
        assert!(within_one_edit("ab", "ba") && within_one_edit("", "a") && within_one_edit("abc", "abc"));
        assert!(!within_one_edit("abc", "cba") && !within_one_edit("ab", "abcd"));
    }

    proptest::proptest! {
        #[test]
        fn one_edit_agrees_with_the_general_distance(left in "[ab12]{0,7}", right in "[ab12]{0,7}") {
            let general = left.len().abs_diff(right.len()) <= 1 && strsim::damerau_levenshtein(&left, &right) <= 1;
            proptest::prop_assert_eq!(within_one_edit(&left, &right), general);
        }

        #[test]
        fn jaro_winkler_agrees_with_strsim(left in "[a-eé ]{0,14}", right in "[a-eé ]{0,14}") {
            let expected = strsim::jaro_winkler(&left, &right);
            let found = jaro_winkler_above(&left, &right, 0.0);
            proptest::prop_assert!((found - expected).abs() < 1e-9, "{} against {}", found, expected);
            for cutoff in [0.80, 0.92] {
                let above = jaro_winkler_above(&left, &right, cutoff);
                let agrees = if expected >= cutoff + 1e-9 { (above - expected).abs() < 1e-9 } else { above == 0.0 || (expected - cutoff).abs() <= 1e-9 };
                proptest::prop_assert!(agrees, "cutoff {}: {} against {}", cutoff, above, expected);
            }
        }
    }
}
