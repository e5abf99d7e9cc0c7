//! Per-record comparison features computed once: interned normalised strings, phonetic codes, keys.
//!
//! Linking a million records compares tens of millions of pairs, so every string a comparison needs
//! is normalised once and interned to a `u32`; equality tests are then integer comparisons.

use crate::dob::PartialDate;
use crate::name::{PersonName, equivalent_group, is_name_particle, phonetic_codes};
use crate::record::{PersonRecord, PostcodeValue};
use crate::spec::{ExtraField, MAX_EXTRA_FIELDS};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The id of an absent value.
pub const ABSENT: u32 = u32::MAX;

/// A hash map with foldhash's fast hasher: the interner and the counts are looked up a few times
/// per record for millions of records, where the standard library's SipHash (built to resist
/// flooding by chosen keys, which these internal tables do not face) was a visible cost.
pub type FastHashMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Equivalence groups are numbered apart from interned strings so the two never collide.
const GROUP_FLAG: u32 = 0x8000_0000;

/// True when `id` names an equivalence group of names (from `data/`) rather than an interned string.
pub fn is_group_id(id: u32) -> bool {
    id != ABSENT && id & GROUP_FLAG != 0
}

/// Maps each distinct normalised string to a small integer, and back.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Interner {
    ids: FastHashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    /// The id of `text`, allocating one if it is new; the empty string is `ABSENT`.
    pub fn intern(&mut self, text: &str) -> u32 {
        if text.is_empty() {
            return ABSENT;
        }
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    /// The id of `text` if it was interned before.
    pub fn lookup(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// The string behind an id; empty for `ABSENT` and group ids.
    pub fn resolve(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |text| text)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// Features of the given or the family part of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamePartFeatures {
    /// Case-folded tokens joined: equality means "exactly the same".
    pub exact: u32,
    /// Transliterated tokens joined: equality means "the same once transliterated".
    pub folded: u32,
    /// `folded` without particles such as Vietnamese "van": the string Jaro-Winkler compares, so
    /// that "Van Nam" and "Van Minh" are not made similar by the shared "Van".
    pub distinctive: u32,
    /// The first three folded tokens.
    pub tokens: [u32; 3],
    /// The equivalence group of each token, or the token itself when the table does not list it.
    pub groups: [u32; 3],
    /// Double Metaphone primary and alternate codes of the first two tokens.
    pub phonetic: [u32; 4],
    /// First letter of the folded name.
    pub initial: u8,
    /// True when the part is a single letter, e.g. "I." for Ion.
    pub initial_only: bool,
    /// How often this value is a family name rather than a given name in the data, 0 to 255
    /// (128 when unknown); decides which part is the surname when two records disagree on order.
    pub family_share: u8,
}

impl NamePartFeatures {
    pub const ABSENT: NamePartFeatures = NamePartFeatures {
        exact: ABSENT,
        folded: ABSENT,
        distinctive: ABSENT,
        tokens: [ABSENT; 3],
        groups: [ABSENT; 3],
        phonetic: [ABSENT; 4],
        initial: 0,
        initial_only: false,
        family_share: 128,
    };

    pub fn is_absent(&self) -> bool {
        self.folded == ABSENT
    }
}

/// Everything a comparison or a blocking rule needs to know about one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFeatures {
    pub source: u16,
    pub given: NamePartFeatures,
    pub family: NamePartFeatures,
    /// All folded name tokens sorted: the same whatever the name order.
    pub name_sorted: u32,
    pub date_of_birth: Option<PartialDate>,
    pub postcode: u32,
    pub postcode_sector: u32,
    pub postcode_outcode: u32,
    pub address: u32,
    pub phone: u32,
    pub email: u32,
    pub email_local: u32,
    pub id_number: u32,
    pub vrm: u32,
    /// The values of a model file's added fields (`spec::ExtraField`), in its order: interned
    /// text, or for numbers and dates `ExtraField::numeric_value`; `ABSENT` when missing.
    pub extra: [u32; MAX_EXTRA_FIELDS],
}

/// The first byte of `PortableFeatures::to_bytes`. Bump it whenever `PortableFeatures` (or anything
/// inside it) changes shape or meaning.
pub const PORTABLE_FEATURES_VERSION: u8 = 1;

/// Why stored features could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortableFeaturesError {
    #[error("stored features have format version {found}; this build reads version {expected}")]
    Version { found: u8, expected: u8 },
    #[error("stored features are damaged: {0}")]
    Damaged(String),
}

/// A record's features apart from any interner: every interned id replaced by the string it stands
/// for. One record's features can then be kept on their own (a server seals them per row) and
/// interned again into any interner, where they compare exactly as they did in the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortableFeatures {
    source: u16,
    given: PortableNamePart,
    family: PortableNamePart,
    name_sorted: String,
    date_of_birth: Option<PartialDate>,
    postcode: String,
    postcode_sector: String,
    postcode_outcode: String,
    address: String,
    phone: String,
    email: String,
    email_local: String,
    id_number: String,
    vrm: String,
}

/// `NamePartFeatures` with strings for ids; the empty string stands for `ABSENT`, as it does when
/// interning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PortableNamePart {
    exact: String,
    folded: String,
    distinctive: String,
    tokens: [String; 3],
    groups: [PortableGroup; 3],
    phonetic: [String; 4],
    initial: u8,
    initial_only: bool,
    family_share: u8,
}

/// A token's equivalence group: a group of the names table, the token itself, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum PortableGroup {
    Absent,
    Group(u32),
    Text(String),
}

impl PortableNamePart {
    fn new(part: &NamePartFeatures, interner: &Interner) -> Self {
        let text = |id: u32| interner.resolve(id).to_owned();
        PortableNamePart {
            exact: text(part.exact),
            folded: text(part.folded),
            distinctive: text(part.distinctive),
            tokens: part.tokens.map(text),
            groups: part.groups.map(|id| {
                if id == ABSENT {
                    PortableGroup::Absent
                } else if is_group_id(id) {
                    PortableGroup::Group(id & !GROUP_FLAG)
                } else {
                    PortableGroup::Text(text(id))
                }
            }),
            phonetic: part.phonetic.map(text),
            initial: part.initial,
            initial_only: part.initial_only,
            family_share: part.family_share,
        }
    }

    fn intern(&self, interner: &mut Interner) -> NamePartFeatures {
        let mut intern_all = |texts: &[String]| texts.iter().map(|text| interner.intern(text)).collect::<Vec<u32>>();
        let tokens = intern_all(&self.tokens);
        let phonetic = intern_all(&self.phonetic);
        let groups = self.groups.clone().map(|group| match group {
            PortableGroup::Absent => ABSENT,
            PortableGroup::Group(group) => GROUP_FLAG | group,
            PortableGroup::Text(text) => interner.intern(&text),
        });
        NamePartFeatures {
            exact: interner.intern(&self.exact),
            folded: interner.intern(&self.folded),
            distinctive: interner.intern(&self.distinctive),
            tokens: [tokens[0], tokens[1], tokens[2]],
            groups,
            phonetic: [phonetic[0], phonetic[1], phonetic[2], phonetic[3]],
            initial: self.initial,
            initial_only: self.initial_only,
            family_share: self.family_share,
        }
    }
}

impl PortableFeatures {
    /// The features of one record with the strings `interner` holds for their ids.
    pub fn new(features: &RecordFeatures, interner: &Interner) -> Self {
        let text = |id: u32| interner.resolve(id).to_owned();
        PortableFeatures {
            source: features.source,
            given: PortableNamePart::new(&features.given, interner),
            family: PortableNamePart::new(&features.family, interner),
            name_sorted: text(features.name_sorted),
            date_of_birth: features.date_of_birth,
            postcode: text(features.postcode),
            postcode_sector: text(features.postcode_sector),
            postcode_outcode: text(features.postcode_outcode),
            address: text(features.address),
            phone: text(features.phone),
            email: text(features.email),
            email_local: text(features.email_local),
            id_number: text(features.id_number),
            vrm: text(features.vrm),
        }
    }

    /// The features again, their strings interned into `interner`.
    pub fn intern(&self, interner: &mut Interner) -> RecordFeatures {
        RecordFeatures {
            source: self.source,
            given: self.given.intern(interner),
            family: self.family.intern(interner),
            name_sorted: interner.intern(&self.name_sorted),
            date_of_birth: self.date_of_birth,
            postcode: interner.intern(&self.postcode),
            postcode_sector: interner.intern(&self.postcode_sector),
            postcode_outcode: interner.intern(&self.postcode_outcode),
            address: interner.intern(&self.address),
            phone: interner.intern(&self.phone),
            email: interner.intern(&self.email),
            email_local: interner.intern(&self.email_local),
            id_number: interner.intern(&self.id_number),
            vrm: interner.intern(&self.vrm),
            // A server's records carry the person fields only.
            extra: [ABSENT; MAX_EXTRA_FIELDS],
        }
    }

    /// The features as bytes: `PORTABLE_FEATURES_VERSION`, then the features in postcard encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain owned data into a growing vector cannot fail.
        postcard::to_extend(self, vec![PORTABLE_FEATURES_VERSION]).expect("postcard writes owned data into a Vec")
    }

    /// Reads bytes written by `to_bytes`, refusing another format version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PortableFeaturesError> {
        let (version, payload) = bytes.split_first().ok_or_else(|| PortableFeaturesError::Damaged("no bytes".to_owned()))?;
        if *version != PORTABLE_FEATURES_VERSION {
            return Err(PortableFeaturesError::Version { found: *version, expected: PORTABLE_FEATURES_VERSION });
        }
        postcard::from_bytes(payload).map_err(|error| PortableFeaturesError::Damaged(error.to_string()))
    }
}

/// Strings of one record's features before interning; computed in parallel.
struct FeatureStrings {
    source: u16,
    given: NamePartStrings,
    family: NamePartStrings,
    name_sorted: String,
    date_of_birth: Option<PartialDate>,
    postcode: String,
    postcode_sector: String,
    postcode_outcode: String,
    address: String,
    phone: String,
    email: String,
    email_local: String,
    id_number: String,
    vrm: String,
    /// Added fields: the text to intern, or a number already (`ExtraValue`).
    extra: Vec<ExtraValue>,
}

/// An added field's value before interning.
enum ExtraValue {
    Absent,
    Text(String),
    Number(u32),
}

#[derive(Default)]
struct NamePartStrings {
    exact: String,
    folded: String,
    distinctive: String,
    tokens: Vec<String>,
    groups: Vec<Option<u32>>,
    phonetic: Vec<String>,
}

fn name_part_strings(tokens: &[crate::name::NameToken]) -> NamePartStrings {
    if tokens.is_empty() {
        return NamePartStrings::default();
    }
    let folded_tokens: Vec<String> = tokens.iter().take(3).map(|token| token.folded.clone()).collect();
    let mut phonetic = Vec::with_capacity(4);
    let distinctive_tokens: Vec<&String> = folded_tokens.iter().filter(|token| !is_name_particle(token)).collect();
    let phonetic_tokens = if distinctive_tokens.is_empty() { folded_tokens.iter().collect() } else { distinctive_tokens };
    for token in phonetic_tokens.into_iter().take(2) {
        let (primary, alternate) = phonetic_codes(token);
        phonetic.push(primary);
        phonetic.push(alternate);
    }
    NamePartStrings {
        exact: tokens.iter().map(|token| token.casefolded.as_str()).collect(),
        folded: tokens.iter().map(|token| token.folded.as_str()).collect(),
        distinctive: {
            let kept: String = tokens.iter().map(|token| token.folded.as_str()).filter(|token| !is_name_particle(token)).collect();
            if kept.is_empty() { tokens.iter().map(|token| token.folded.as_str()).collect() } else { kept }
        },
        groups: folded_tokens.iter().map(|token| equivalent_group(token)).collect(),
        tokens: folded_tokens,
        phonetic,
    }
}

fn feature_strings(record: &PersonRecord, extras: &[ExtraField]) -> FeatureStrings {
    let empty_name = PersonName::default();
    let name = record.name.as_ref().unwrap_or(&empty_name);
    let (postcode, postcode_sector, postcode_outcode) = match &record.postcode {
        Some(PostcodeValue::Uk(postcode)) => (postcode.to_string(), postcode.sector(), postcode.outcode().to_string()),
        Some(PostcodeValue::Other(raw)) => (format!("other:{raw}"), String::new(), String::new()),
        None => (String::new(), String::new(), String::new()),
    };
    FeatureStrings {
        source: record.source,
        given: name_part_strings(&name.given),
        family: name_part_strings(&name.family),
        name_sorted: name.sorted_token_key(),
        date_of_birth: record.date_of_birth,
        postcode,
        postcode_sector,
        postcode_outcode,
        address: record.address.clone().unwrap_or_default(),
        phone: record.phone.as_ref().map(|phone| phone.key().to_string()).unwrap_or_default(),
        email: record.email.as_ref().map(|email| email.as_str().to_string()).unwrap_or_default(),
        email_local: record.email.as_ref().map(|email| email.local_part().to_string()).unwrap_or_default(),
        id_number: record.id_number.clone().unwrap_or_default(),
        vrm: record.vrm.as_ref().map(|vrm| vrm.compact().to_string()).unwrap_or_default(),
        extra: extras
            .iter()
            .enumerate()
            .map(|(index, field)| match record.extra.get(index).and_then(Option::as_deref) {
                None => ExtraValue::Absent,
                Some(text) if field.is_numeric() => field.numeric_value(text).map_or(ExtraValue::Absent, ExtraValue::Number),
                Some(text) => ExtraValue::Text(text.to_string()),
            })
            .collect(),
    }
}

fn fill<const N: usize>(interner: &mut Interner, values: &[String]) -> [u32; N] {
    let mut ids = [ABSENT; N];
    for (slot, value) in ids.iter_mut().zip(values) {
        *slot = interner.intern(value);
    }
    ids
}

fn intern_name_part(interner: &mut Interner, strings: &NamePartStrings) -> NamePartFeatures {
    if strings.folded.is_empty() {
        return NamePartFeatures::ABSENT;
    }
    let tokens: [u32; 3] = fill(interner, &strings.tokens);
    let mut groups = tokens;
    for ((slot, group), token) in groups.iter_mut().zip(&strings.groups).zip(&strings.tokens) {
        if let Some(group) = group {
            *slot = GROUP_FLAG | group;
        } else if is_name_particle(token) && strings.tokens.len() > 1 {
            // "Van" in "Van Nam" says nothing about who this is.
            *slot = ABSENT;
        }
    }
    NamePartFeatures {
        exact: interner.intern(&strings.exact),
        folded: interner.intern(&strings.folded),
        distinctive: interner.intern(&strings.distinctive),
        tokens,
        groups,
        phonetic: fill(interner, &strings.phonetic),
        initial: strings.folded.as_bytes()[0],
        initial_only: strings.folded.len() == 1,
        family_share: 128,
    }
}

fn intern_features(interner: &mut Interner, strings: &FeatureStrings) -> RecordFeatures {
    RecordFeatures {
        source: strings.source,
        given: intern_name_part(interner, &strings.given),
        family: intern_name_part(interner, &strings.family),
        name_sorted: interner.intern(&strings.name_sorted),
        date_of_birth: strings.date_of_birth,
        postcode: interner.intern(&strings.postcode),
        postcode_sector: interner.intern(&strings.postcode_sector),
        postcode_outcode: interner.intern(&strings.postcode_outcode),
        address: interner.intern(&strings.address),
        phone: interner.intern(&strings.phone),
        email: interner.intern(&strings.email),
        email_local: interner.intern(&strings.email_local),
        id_number: interner.intern(&strings.id_number),
        vrm: interner.intern(&strings.vrm),
        extra: {
            let mut extra = [ABSENT; MAX_EXTRA_FIELDS];
            for (slot, value) in extra.iter_mut().zip(&strings.extra) {
                *slot = match value {
                    ExtraValue::Absent => ABSENT,
                    ExtraValue::Text(text) => interner.intern(text),
                    ExtraValue::Number(number) => *number,
                };
            }
            extra
        },
    }
}

/// Computes the features of one record, interning into `interner`.
pub fn record_features(interner: &mut Interner, record: &PersonRecord) -> RecordFeatures {
    intern_features(interner, &feature_strings(record, &[]))
}

/// Computes features of many records: the string work in parallel, the interning in order, each
/// chunk's interning on one thread while the next chunk's strings are computed on the others.
pub fn all_record_features(interner: &mut Interner, records: &[PersonRecord]) -> Vec<RecordFeatures> {
    all_record_features_with(interner, records, &[])
}

/// `all_record_features`, with the values of a model file's added fields.
pub fn all_record_features_with(interner: &mut Interner, records: &[PersonRecord], extras: &[ExtraField]) -> Vec<RecordFeatures> {
    let mut features = Vec::with_capacity(records.len());
    let mut pending: Vec<FeatureStrings> = Vec::new();
    for chunk in records.chunks(65_536) {
        let (strings, ()) = rayon::join(
            || chunk.par_iter().map(|record| feature_strings(record, extras)).collect::<Vec<FeatureStrings>>(),
            || features.extend(pending.iter().map(|strings| intern_features(interner, strings))),
        );
        pending = strings;
    }
    features.extend(pending.iter().map(|strings| intern_features(interner, strings)));
    features
}

/// How often each folded name appears as a given name and as a family name in the data.
///
/// Reports swap name order ("BENNETT Rachel" typed into the given and family boxes the wrong way
/// round). Across a data set most records have the right order, so a value seen far more often as a
/// family name than as a given name tells us which part of a swapped record is the surname.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NameRoleCounts {
    as_given: FastHashMap<u32, u32>,
    as_family: FastHashMap<u32, u32>,
}

impl NameRoleCounts {
    pub fn add(&mut self, features: &RecordFeatures) {
        let (given, family) = name_role_values(features);
        if let Some(given) = given {
            *self.as_given.entry(given).or_insert(0) += 1;
        }
        if let Some(family) = family {
            *self.as_family.entry(family).or_insert(0) += 1;
        }
    }

    pub fn from_records(records: &[RecordFeatures]) -> Self {
        let mut counts = NameRoleCounts::default();
        for record in records {
            counts.add(record);
        }
        counts
    }

    /// Every counted folded name with its counts, sorted by value: for a server to store as rows.
    pub fn entries(&self) -> Vec<(u32, RoleCount)> {
        let mut entries: Vec<(u32, RoleCount)> = self.as_given.keys().chain(self.as_family.keys()).map(|folded| (*folded, self.counts(*folded))).collect();
        entries.sort_unstable_by_key(|(folded, _)| *folded);
        entries.dedup_by_key(|(folded, _)| *folded);
        entries
    }

    /// How often a folded name was counted as a given name and as a family name.
    pub fn counts(&self, folded: u32) -> RoleCount {
        RoleCount { as_given: self.as_given.get(&folded).copied().unwrap_or(0), as_family: self.as_family.get(&folded).copied().unwrap_or(0) }
    }

    /// Records each part's family share and puts the parts the right way round (see
    /// `repair_name_order_with`); returns true when it swapped them.
    pub fn repair(&self, features: &mut RecordFeatures) -> bool {
        repair_name_order_with(features, |folded| self.counts(folded))
    }
}

/// How often one folded name appears as a given name and as a family name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleCount {
    pub as_given: u32,
    pub as_family: u32,
}

/// The folded names a record adds to the name-role counts: its given name as a given name and its
/// family name as a family name, as written (before any repair of their order).
pub fn name_role_values(features: &RecordFeatures) -> (Option<u32>, Option<u32>) {
    ((!features.given.is_absent()).then_some(features.given.folded), (!features.family.is_absent()).then_some(features.family.folded))
}

/// The share of a name part's occurrences that are as a family name, smoothed towards one half.
fn family_share(part: &NamePartFeatures, counts_of: &impl Fn(u32) -> RoleCount) -> f64 {
    if part.is_absent() {
        return 0.5;
    }
    let counts = counts_of(part.folded);
    (f64::from(counts.as_family) + 1.0) / (f64::from(counts.as_given) + f64::from(counts.as_family) + 2.0)
}

/// Records each part's family share and puts the parts the right way round; returns true when it
/// swapped them. A part seen mostly as a surname in the given-name box, next to a part seen less
/// as one, is swapped. `counts_of` gives a folded name's counts: from a `NameRoleCounts` in
/// memory, or from the rows a server keeps, so both decide alike.
pub fn repair_name_order_with(features: &mut RecordFeatures, counts_of: impl Fn(u32) -> RoleCount) -> bool {
    let given_share = family_share(&features.given, &counts_of);
    let family_share = family_share(&features.family, &counts_of);
    features.given.family_share = (given_share * 255.0).round() as u8;
    features.family.family_share = (family_share * 255.0).round() as u8;
    let swap = given_share > 0.75 && given_share - family_share > 0.35;
    let lone_given_name_in_family_box = features.given.is_absent() && family_share < 0.2;
    if swap || lone_given_name_in_family_box {
        std::mem::swap(&mut features.given, &mut features.family);
    }
    swap || lone_given_name_in_family_box
}

/// Repairs swapped name order across a data set; returns how many records were changed.
pub fn repair_name_order(features: &mut [RecordFeatures]) -> usize {
    let counts = NameRoleCounts::from_records(features);
    features.iter_mut().map(|record| usize::from(counts.repair(record))).sum()
}
