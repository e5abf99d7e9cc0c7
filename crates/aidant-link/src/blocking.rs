//! Blocking: which pairs are worth comparing, chosen by keys that survive typos, transliteration and name order.
//!
//! Each rule maps a record to zero or more 64-bit keys; records sharing a key form a block and every
//! pair within a block is a candidate. Keys include transliteration-folded, order-insensitive and
//! phonetic forms so that "Ștefan Țăranu", "TARANU Stefan" and "Stefan Taranu" meet. A block larger
//! than the cap (a switchboard number shared by hundreds) is skipped and reported rather than
//! allowed to produce a quadratic number of pairs.

use crate::features::{ABSENT, Interner, RecordFeatures, is_group_id};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The blocking rules, each one a way two reports of one person are likely to agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockingRule {
    /// All folded name tokens, sorted: name order and diacritics do not matter.
    NameTokensSorted,
    /// Double Metaphone codes of the first given and family tokens, as an unordered pair.
    NamePhonetic,
    /// Equivalence group of the given name (Ion, Ioan, John) with the family name's code.
    NameEquivalentGroup,
    /// Full date of birth with the phonetic code of either name part.
    DateOfBirthAndNamePhonetic,
    /// Full date of birth with the postcode: catches badly misspelt names.
    DateOfBirthAndPostcode,
    /// Postcode with the phonetic code of any name token.
    PostcodeAndNamePhonetic,
    /// Street address with the phonetic code of any name token: catches records whose names and
    /// dates are both damaged but that were taken at the same door.
    AddressAndNamePhonetic,
    /// Full date of birth with the initial of either name part: "M. Hughes" and "Margaret Hguhes".
    DateOfBirthAndInitial,
    /// Year of birth, the family name's code and the given name's initial: "D. Moldovan" born a
    /// day apart from "Daniela Moldovan".
    YearFamilyPhoneticAndInitial,
    Phone,
    Email,
    IdNumber,
    Vrm,
    /// A rule a model file declares (`spec::BlockingSpec`): exact agreement on one to three parts.
    Declared([RulePart; 3]),
}

/// One part of a declared blocking rule: a value of a built-in person field in the form blocking
/// compares it, or an added field's value (`spec::ExtraField`), by its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RulePart {
    Unused,
    GivenName,
    FamilyName,
    GivenNameSound,
    FamilyNameSound,
    GivenInitial,
    FamilyInitial,
    Dob,
    BirthYear,
    Postcode,
    PostcodeSector,
    PostcodeDistrict,
    Address,
    Phone,
    Email,
    IdNumber,
    Vrm,
    Extra(u8),
}

impl RulePart {
    /// The names a model file gives the built-in parts, in the order of `BUILT_IN_PARTS`.
    pub const BUILT_IN_NAMES: [&'static str; 16] = [
        "given_name",
        "family_name",
        "given_name_sound",
        "family_name_sound",
        "given_initial",
        "family_initial",
        "dob",
        "birth_year",
        "postcode",
        "postcode_sector",
        "postcode_district",
        "address",
        "phone",
        "email",
        "id_number",
        "vrm",
    ];
    const BUILT_IN_PARTS: [RulePart; 16] = [
        RulePart::GivenName,
        RulePart::FamilyName,
        RulePart::GivenNameSound,
        RulePart::FamilyNameSound,
        RulePart::GivenInitial,
        RulePart::FamilyInitial,
        RulePart::Dob,
        RulePart::BirthYear,
        RulePart::Postcode,
        RulePart::PostcodeSector,
        RulePart::PostcodeDistrict,
        RulePart::Address,
        RulePart::Phone,
        RulePart::Email,
        RulePart::IdNumber,
        RulePart::Vrm,
    ];

    /// The built-in part a model file names, if any.
    pub fn built_in(name: &str) -> Option<RulePart> {
        Self::BUILT_IN_NAMES.iter().position(|known| *known == name).map(|position| Self::BUILT_IN_PARTS[position])
    }

    /// A number for the part, unique among parts: mixed into the keys of declared rules.
    fn code(self) -> u64 {
        match self {
            RulePart::Unused => 0,
            RulePart::Extra(index) => 100 + u64::from(index),
            built_in => Self::BUILT_IN_PARTS.iter().position(|part| *part == built_in).map_or(0, |position| position as u64 + 1),
        }
    }

    fn describe(self) -> String {
        match self {
            RulePart::Unused => String::new(),
            RulePart::Extra(index) => format!("added field {}", index + 1),
            built_in => {
                Self::BUILT_IN_PARTS.iter().position(|part| *part == built_in).map_or(String::new(), |position| Self::BUILT_IN_NAMES[position].to_string())
            }
        }
    }

    /// The part's key value for one record, `None` when the record lacks it.
    fn value(self, features: &RecordFeatures) -> Option<KeyPart> {
        let id = |id: u32| (id != ABSENT).then_some(KeyPart::Id(id));
        let initial = |initial: u8| (initial != 0).then_some(KeyPart::Number(u64::from(initial)));
        match self {
            RulePart::Unused => Some(KeyPart::Unused),
            RulePart::GivenName => id(features.given.folded),
            RulePart::FamilyName => id(features.family.folded),
            RulePart::GivenNameSound => id(features.given.phonetic[0]),
            RulePart::FamilyNameSound => id(features.family.phonetic[0]),
            RulePart::GivenInitial => initial(features.given.initial),
            RulePart::FamilyInitial => initial(features.family.initial),
            RulePart::Dob => date_of_birth_key(features).map(KeyPart::Number),
            RulePart::BirthYear => features.date_of_birth.map(|date| KeyPart::Number(u64::from(date.year))),
            RulePart::Postcode => id(features.postcode),
            RulePart::PostcodeSector => id(features.postcode_sector),
            RulePart::PostcodeDistrict => id(features.postcode_outcode),
            RulePart::Address => id(features.address),
            RulePart::Phone => id(features.phone),
            RulePart::Email => id(features.email),
            RulePart::IdNumber => id(features.id_number),
            RulePart::Vrm => id(features.vrm),
            // Numbers and dates are stored as numbers: spelt as numbers, not as interned strings.
            RulePart::Extra(index) => {
                features.extra.get(usize::from(index)).and_then(|value| (*value != ABSENT).then_some(KeyPart::Number(u64::from(*value) | 1 << 40)))
            }
        }
    }
}

pub const ALL_RULES: [BlockingRule; 13] = [
    BlockingRule::NameTokensSorted,
    BlockingRule::NamePhonetic,
    BlockingRule::NameEquivalentGroup,
    BlockingRule::DateOfBirthAndNamePhonetic,
    BlockingRule::DateOfBirthAndPostcode,
    BlockingRule::PostcodeAndNamePhonetic,
    BlockingRule::AddressAndNamePhonetic,
    BlockingRule::DateOfBirthAndInitial,
    BlockingRule::YearFamilyPhoneticAndInitial,
    BlockingRule::Phone,
    BlockingRule::Email,
    BlockingRule::IdNumber,
    BlockingRule::Vrm,
];

impl BlockingRule {
    /// Whether the records of this rule's oversized blocks that have no date of birth are paired
    /// with every record of the block: only for the whole name, where the block is one name and
    /// an undated report of it has nothing else to meet the others by.
    pub fn pairs_undated_records_across_oversized_blocks(self) -> bool {
        matches!(self, BlockingRule::NameTokensSorted | BlockingRule::NamePhonetic)
    }

    /// The rule's number in keys: its position in `ALL_RULES`, or for a declared rule a number
    /// made of its parts' codes (no two declared rules of different parts share one).
    fn code(self) -> u64 {
        match self {
            BlockingRule::Declared(parts) => 1 << 32 | parts.iter().fold(0, |code, part| code << 8 | part.code()),
            built_in => ALL_RULES.iter().position(|rule| *rule == built_in).map_or(0, |position| position as u64),
        }
    }

    pub fn name(self) -> String {
        let name = match self {
            BlockingRule::Declared(parts) => {
                let named: Vec<String> = parts.iter().filter(|part| **part != RulePart::Unused).map(|part| part.describe()).collect();
                return format!("declared: {}", named.join(" + "));
            }
            BlockingRule::NameTokensSorted => "name tokens sorted",
            BlockingRule::NamePhonetic => "name phonetic pair",
            BlockingRule::NameEquivalentGroup => "given-name equivalent + family phonetic",
            BlockingRule::DateOfBirthAndNamePhonetic => "dob + name phonetic",
            BlockingRule::DateOfBirthAndPostcode => "dob + postcode",
            BlockingRule::PostcodeAndNamePhonetic => "postcode + name phonetic",
            BlockingRule::AddressAndNamePhonetic => "address + name phonetic",
            BlockingRule::DateOfBirthAndInitial => "dob + initial",
            BlockingRule::YearFamilyPhoneticAndInitial => "birth year + family phonetic + initial",
            BlockingRule::Phone => "phone",
            BlockingRule::Email => "email",
            BlockingRule::IdNumber => "id number",
            BlockingRule::Vrm => "vrm",
        };
        name.to_string()
    }
}

/// A 64-bit mix of a rule and up to three parts (splitmix64 finaliser): cheap, deterministic, and
/// collisions are negligible at a few million keys.
fn blocking_key(rule: BlockingRule, parts: [u64; 3]) -> u64 {
    let mut state = rule.code().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for part in parts {
        state ^= part.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_add(state << 6).wrapping_add(state >> 2);
        state = (state ^ (state >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        state = (state ^ (state >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        state ^= state >> 31;
    }
    state
}

fn date_of_birth_key(features: &RecordFeatures) -> Option<u64> {
    let date = features.date_of_birth.filter(|date| date.is_full())?;
    Some(u64::from(date.year) << 16 | u64::from(date.month.unwrap_or(0)) << 8 | u64::from(date.day.unwrap_or(0)))
}

/// One part of a blocking key: an interned id (or an equivalence group's id), a number (a date, a
/// year, an initial), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyPart {
    Id(u32),
    Number(u64),
    Unused,
}

impl KeyPart {
    /// The part as `blocking_key` mixes it.
    fn raw(self) -> u64 {
        match self {
            KeyPart::Id(id) => u64::from(id),
            KeyPart::Number(number) => number,
            KeyPart::Unused => 0,
        }
    }
}

/// Calls `emit` with the parts of each key of one record under one rule. The one place the rules
/// are written: `keys_for_rule` mixes the parts into 64-bit keys for memory, `stable_keys` spells
/// them out with their strings for a server's index.
fn rule_key_parts(rule: BlockingRule, features: &RecordFeatures, mut emit: impl FnMut([KeyPart; 3])) {
    use KeyPart::{Id, Number, Unused};
    let present = |id: u32| (id != ABSENT).then_some(id);
    let given_code = present(features.given.phonetic[0]);
    let family_code = present(features.family.phonetic[0]);
    match rule {
        BlockingRule::NameTokensSorted => {
            if let Some(name) = present(features.name_sorted) {
                emit([Id(name), Unused, Unused]);
            }
        }
        BlockingRule::NamePhonetic => {
            // Unordered: `stable_keys` orders the pair by its strings, not its ids.
            if let (Some(given), Some(family)) = (given_code, family_code) {
                emit([Id(given.min(family)), Id(given.max(family)), Unused]);
            }
        }
        BlockingRule::NameEquivalentGroup => {
            // Only names the table lists: for the others the phonetic pair already does this job.
            let group = features.given.groups[0];
            if group != ABSENT
                && group != features.given.tokens[0]
                && let Some(family) = family_code
            {
                emit([Id(group), Id(family), Unused]);
            }
            let family_group = features.family.groups[0];
            if family_group != ABSENT
                && family_group != features.family.tokens[0]
                && let Some(given) = given_code
            {
                emit([Id(family_group), Id(given), Unused]);
            }
        }
        BlockingRule::DateOfBirthAndNamePhonetic => {
            if let Some(date) = date_of_birth_key(features) {
                for code in [given_code, family_code].into_iter().flatten() {
                    emit([Number(date), Id(code), Unused]);
                }
            }
        }
        BlockingRule::DateOfBirthAndPostcode => {
            if let (Some(date), Some(postcode)) = (date_of_birth_key(features), present(features.postcode)) {
                emit([Number(date), Id(postcode), Unused]);
            }
        }
        BlockingRule::PostcodeAndNamePhonetic | BlockingRule::AddressAndNamePhonetic => {
            let place = if rule == BlockingRule::PostcodeAndNamePhonetic { features.postcode } else { features.address };
            if let Some(postcode) = present(place) {
                let codes = [features.given.phonetic[0], features.given.phonetic[2], features.family.phonetic[0], features.family.phonetic[2]];
                for (index, code) in codes.iter().enumerate() {
                    if *code != ABSENT && !codes[..index].contains(code) {
                        emit([Id(postcode), Id(*code), Unused]);
                    }
                }
            }
        }
        BlockingRule::DateOfBirthAndInitial => {
            if let Some(date) = date_of_birth_key(features) {
                let initials = [features.given.initial, features.family.initial];
                for (index, initial) in initials.iter().enumerate() {
                    if *initial != 0 && !initials[..index].contains(initial) {
                        emit([Number(date), Number(u64::from(*initial)), Unused]);
                    }
                }
            }
        }
        BlockingRule::YearFamilyPhoneticAndInitial => {
            if let Some(year) = features.date_of_birth.map(|date| u64::from(date.year)) {
                // Both ways round, for records whose name parts are swapped.
                for (coded, initialled) in [(&features.family, &features.given), (&features.given, &features.family)] {
                    if coded.phonetic[0] != ABSENT && initialled.initial != 0 {
                        emit([Number(year), Id(coded.phonetic[0]), Number(u64::from(initialled.initial))]);
                    }
                }
            }
        }
        BlockingRule::Phone => present(features.phone).into_iter().for_each(|phone| emit([Id(phone), Unused, Unused])),
        BlockingRule::Email => present(features.email).into_iter().for_each(|email| emit([Id(email), Unused, Unused])),
        BlockingRule::IdNumber => present(features.id_number).into_iter().for_each(|id| emit([Id(id), Unused, Unused])),
        BlockingRule::Vrm => present(features.vrm).into_iter().for_each(|vrm| emit([Id(vrm), Unused, Unused])),
        BlockingRule::Declared(parts) => {
            if let [Some(first), Some(second), Some(third)] = parts.map(|part| part.value(features)) {
                emit([first, second, third]);
            }
        }
    }
}

/// Appends the keys of one record under one rule.
pub fn keys_for_rule(rule: BlockingRule, features: &RecordFeatures, keys: &mut Vec<u64>) {
    rule_key_parts(rule, features, |parts| keys.push(blocking_key(rule, parts.map(KeyPart::raw))));
}

/// The keys of one record under `rules`, each once, in a fixed order.
pub fn record_keys(rules: &[BlockingRule], features: &RecordFeatures) -> Vec<u64> {
    let mut keys = Vec::new();
    for rule in rules {
        keys_for_rule(*rule, features, &mut keys);
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Bump whenever the rules, `ALL_RULES` or the spelling of `stable_keys` change: keys a server
/// stored under another version no longer meet the keys this build computes.
pub const STABLE_KEY_VERSION: u32 = 1;

/// Appends one key part as bytes: a tag, then the string an id stands for (with its length), an
/// equivalence group's number, or a number.
fn spell_part(part: KeyPart, interner: &Interner, bytes: &mut Vec<u8>) {
    match part {
        KeyPart::Id(id) if is_group_id(id) => {
            bytes.push(b'g');
            bytes.extend_from_slice(&id.to_be_bytes());
        }
        KeyPart::Id(id) => {
            let text = interner.resolve(id);
            bytes.push(b't');
            bytes.extend_from_slice(&(text.len() as u32).to_be_bytes());
            bytes.extend_from_slice(text.as_bytes());
        }
        KeyPart::Number(number) => {
            bytes.push(b'n');
            bytes.extend_from_slice(&number.to_be_bytes());
        }
        KeyPart::Unused => bytes.push(b'-'),
    }
}

/// The keys of one record under `rules` spelt out with the strings behind their ids: the same
/// blocks as `record_keys`, but independent of any interner, so a server can keep them (hashed
/// under a secret key) and find a new record's candidates by them in any process. Each key once,
/// sorted.
pub fn stable_keys(rules: &[BlockingRule], features: &RecordFeatures, interner: &Interner) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    for rule in rules {
        rule_key_parts(*rule, features, |parts| {
            let mut spelt: Vec<Vec<u8>> = parts
                .iter()
                .map(|part| {
                    let mut bytes = Vec::new();
                    spell_part(*part, interner, &mut bytes);
                    bytes
                })
                .collect();
            if *rule == BlockingRule::NamePhonetic {
                // An unordered pair, ordered by ids in memory; ids differ between interners.
                spelt[..2].sort_unstable();
            }
            let mut key = match rule {
                BlockingRule::Declared(_) => {
                    let mut key = vec![b'd'];
                    key.extend_from_slice(&rule.code().to_be_bytes());
                    key
                }
                built_in => vec![built_in.code() as u8],
            };
            spelt.iter().for_each(|part| key.extend_from_slice(part));
            keys.push(key);
        });
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// All keys of one record under the given rules, tagged with the rule's position.
pub fn keys_for_record(rules: &[BlockingRule], features: &RecordFeatures) -> Vec<(u8, u64)> {
    let mut tagged = Vec::new();
    let mut keys = Vec::new();
    for (rule_index, rule) in rules.iter().enumerate() {
        keys.clear();
        keys_for_rule(*rule, features, &mut keys);
        tagged.extend(keys.iter().map(|key| (rule_index as u8, *key)));
    }
    tagged
}

/// Blocking settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockingConfig {
    pub rules: Vec<BlockingRule>,
    /// Blocks with more records than this are skipped (and reported): they are shared hostels and
    /// switchboards, where the other rules find the true matches.
    pub max_block_size: usize,
    /// Only pair records from different sources (linking two files with no duplicates inside each).
    pub link_only: bool,
}

impl Default for BlockingConfig {
    fn default() -> Self {
        BlockingConfig { rules: ALL_RULES.to_vec(), max_block_size: 100, link_only: false }
    }
}

/// What one rule contributed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleReport {
    pub rule: String,
    pub blocks: u64,
    /// Pairs this rule generated, before removing pairs other rules also found.
    pub pairs: u64,
    /// Blocks over the size cap, which were split by birth year and by postcode district.
    pub oversized_blocks: u64,
    /// Records left out because no part of an oversized block that holds them was under the cap.
    pub records_in_oversized_blocks: u64,
    pub largest_block: u64,
}

/// Candidate pairs (left index < right index, sorted, unique) and the per-rule report.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub pairs: Vec<(u32, u32)>,
    pub rules: Vec<RuleReport>,
}

/// Appends every pair of a block (packed as left << 32 | right); returns how many.
fn push_block_pairs(members: &[u32], features: &[RecordFeatures], link_only: bool, packed_pairs: &mut Vec<u64>) -> u64 {
    let mut count = 0;
    for (position, left) in members.iter().enumerate() {
        count += push_cross_pairs(&[*left], &members[position + 1..], features, link_only, packed_pairs);
    }
    count
}

/// Appends every pair of one record of `lefts` with one of `rights`; returns how many.
fn push_cross_pairs(lefts: &[u32], rights: &[u32], features: &[RecordFeatures], link_only: bool, packed_pairs: &mut Vec<u64>) -> u64 {
    let mut count = 0;
    for left in lefts {
        for right in rights {
            if left == right || (link_only && features[*left as usize].source == features[*right as usize].source) {
                continue;
            }
            let (low, high) = ((*left).min(*right), (*left).max(*right));
            packed_pairs.push(u64::from(low) << 32 | u64::from(high));
            count += 1;
        }
    }
    count
}

/// Pairs of an oversized block (a very common name), which is split two ways and the pairs of
/// both splits kept: by birth year, each year also paired with the next (a year misremembered by
/// one), and by postcode district. Records of one person then meet if they share a year (or
/// neighbouring years) or a district. Parts still over twice the cap are skipped; returns the pairs and
/// how many records no part could take.
fn push_oversized_block_pairs(
    rule: BlockingRule,
    members: &[u32],
    features: &[RecordFeatures],
    max_block_size: usize,
    link_only: bool,
    packed_pairs: &mut Vec<u64>,
) -> (u64, u64) {
    // A part shares the block's key and a year or a district, which together are rarer than the
    // block's key alone: it may hold up to twice the cap.
    let max_block_size = 2 * max_block_size;
    let mut pairs = 0;
    let mut placed = vec![false; members.len()];
    let mut by_year: Vec<(u16, u32, usize)> =
        members.iter().enumerate().filter_map(|(position, index)| features[*index as usize].date_of_birth.map(|date| (date.year, *index, position))).collect();
    by_year.sort_unstable();
    let years: Vec<&[(u16, u32, usize)]> = by_year.chunk_by(|left, right| left.0 == right.0).collect();
    let records = |part: &[(u16, u32, usize)]| part.iter().map(|entry| entry.1).collect::<Vec<u32>>();
    for (position, year) in years.iter().enumerate() {
        if year.len() > max_block_size {
            continue;
        }
        let year_records = records(year);
        pairs += push_block_pairs(&year_records, features, link_only, packed_pairs);
        for entry in *year {
            placed[entry.2] = true;
        }
        if let Some(next) = years.get(position + 1)
            && next[0].0 == year[0].0 + 1
            && year.len() + next.len() <= max_block_size
        {
            pairs += push_cross_pairs(&year_records, &records(next), features, link_only, packed_pairs);
        }
    }
    let mut by_district: Vec<(u32, u32, usize)> = members
        .iter()
        .enumerate()
        .filter(|(_, index)| features[**index as usize].postcode_outcode != ABSENT)
        .map(|(position, index)| (features[*index as usize].postcode_outcode, *index, position))
        .collect();
    by_district.sort_unstable();
    for district in by_district.chunk_by(|left, right| left.0 == right.0) {
        if district.len() > max_block_size {
            continue;
        }
        let district_records: Vec<u32> = district.iter().map(|entry| entry.1).collect();
        pairs += push_block_pairs(&district_records, features, link_only, packed_pairs);
        for entry in district {
            placed[entry.2] = true;
        }
    }
    if rule.pairs_undated_records_across_oversized_blocks() && members.len() <= UNDATED_ACROSS_BLOCK_LIMIT * max_block_size {
        // A record without a date of birth has no year to be split by: it meets every record of
        // the block, so a report that holds little more than a common name still meets the
        // others of that name wherever they live.
        let undated: Vec<u32> = members.iter().copied().filter(|index| features[*index as usize].date_of_birth.is_none()).collect();
        pairs += push_cross_pairs(&undated, members, features, link_only, packed_pairs);
        for (position, index) in members.iter().enumerate() {
            placed[position] |= features[*index as usize].date_of_birth.is_none();
        }
    }
    (pairs, placed.iter().filter(|placed| !**placed).count() as u64)
}

/// Oversized blocks up to this many times the (already doubled) part cap pair their undated
/// records with every member.
const UNDATED_ACROSS_BLOCK_LIMIT: usize = 2;

/// The pairs one rule generates and its report; blocks are paired in parallel.
pub fn rule_pairs(rule: BlockingRule, features: &[RecordFeatures], config: &BlockingConfig) -> (Vec<u64>, RuleReport) {
    let mut entries: Vec<(u64, u32)> = features
        .par_iter()
        .enumerate()
        .flat_map_iter(|(index, record)| {
            let mut keys = Vec::new();
            keys_for_rule(rule, record, &mut keys);
            keys.into_iter().map(move |key| (key, index as u32))
        })
        .collect();
    entries.par_sort_unstable();
    entries.dedup();
    let blocks: Vec<&[(u64, u32)]> = entries.chunk_by(|left, right| left.0 == right.0).filter(|block| block.len() >= 2).collect();
    let empty_report = || RuleReport { rule: rule.name().to_string(), ..RuleReport::default() };
    let (pairs, report) = blocks
        .par_iter()
        .fold(
            || (Vec::new(), empty_report()),
            |(mut pairs, mut report), block| {
                report.blocks += 1;
                report.largest_block = report.largest_block.max(block.len() as u64);
                let members: Vec<u32> = block.iter().map(|(_, index)| *index).collect();
                if members.len() <= config.max_block_size {
                    report.pairs += push_block_pairs(&members, features, config.link_only, &mut pairs);
                } else {
                    report.oversized_blocks += 1;
                    let (count, left_out) = push_oversized_block_pairs(rule, &members, features, config.max_block_size, config.link_only, &mut pairs);
                    report.pairs += count;
                    report.records_in_oversized_blocks += left_out;
                }
                (pairs, report)
            },
        )
        .reduce(
            || (Vec::new(), empty_report()),
            |(mut pairs, mut report), (mut other_pairs, other)| {
                if pairs.len() < other_pairs.len() {
                    std::mem::swap(&mut pairs, &mut other_pairs);
                }
                pairs.append(&mut other_pairs);
                report.blocks += other.blocks;
                report.pairs += other.pairs;
                report.oversized_blocks += other.oversized_blocks;
                report.records_in_oversized_blocks += other.records_in_oversized_blocks;
                report.largest_block = report.largest_block.max(other.largest_block);
                (pairs, report)
            },
        );
    (pairs, report)
}

/// Generates candidate pairs for a set of records.
///
/// Each rule's pairs are merged into every left record's sorted list of rights as soon as the
/// rule is done, so only one rule's pairs wait to be de-duplicated at a time: the rules find most
/// pairs more than once (72.7 million for 42.4 million unique at a million records), and holding
/// them all until the end is what ran out of memory at ten million. The result is the same sorted,
/// unique list as sorting all the rules' pairs together and dropping repeats.
pub fn candidate_pairs(features: &[RecordFeatures], config: &BlockingConfig) -> Candidates {
    let mut reports = Vec::with_capacity(config.rules.len());
    let mut rights: Vec<Vec<u32>> = vec![Vec::new(); features.len()];
    for rule in &config.rules {
        let (pairs, report) = rule_pairs(*rule, features, config);
        reports.push(report);
        merge_rule_pairs(&mut rights, pairs);
    }
    let total = rights.iter().map(Vec::len).sum();
    let mut pairs = Vec::with_capacity(total);
    for (left, list) in rights.into_iter().enumerate() {
        pairs.extend(list.into_iter().map(|right| (left as u32, right)));
    }
    Candidates { pairs, rules: reports }
}

/// Adds one rule's pairs (packed as `left << 32 | right`) to each left record's sorted, unique
/// list of rights: a counting sort by left record, then each record's list merged in parallel.
fn merge_rule_pairs(rights: &mut [Vec<u32>], packed_pairs: Vec<u64>) {
    let mut starts = vec![0usize; rights.len() + 1];
    for packed in &packed_pairs {
        starts[(packed >> 32) as usize + 1] += 1;
    }
    for index in 1..starts.len() {
        starts[index] += starts[index - 1];
    }
    let mut found = vec![0u32; packed_pairs.len()];
    let mut cursors = starts.clone();
    for packed in &packed_pairs {
        let left = (packed >> 32) as usize;
        found[cursors[left]] = *packed as u32;
        cursors[left] += 1;
    }
    drop(packed_pairs);
    drop(cursors);
    rights.par_iter_mut().enumerate().for_each(|(left, list)| {
        let new = &found[starts[left]..starts[left + 1]];
        if new.is_empty() {
            return;
        }
        list.reserve_exact(new.len());
        list.extend_from_slice(new);
        list.sort_unstable();
        list.dedup();
        if list.capacity() > list.len() + list.len() / 2 {
            list.shrink_to_fit();
        }
    });
}

/// How many true matching pairs blocking kept, on data with known truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingRecall {
    pub true_pairs: u64,
    pub true_pairs_in_candidates: u64,
    pub recall: f64,
    /// Up to 20 true pairs blocking lost, for inspection.
    pub lost_examples: Vec<(u32, u32)>,
}

/// Blocking recall against truth labels (one per record; equal labels mean the same person).
/// `candidate_pairs` must be sorted, as `candidate_pairs()` returns them.
pub fn blocking_recall(candidate_pairs: &[(u32, u32)], truth: &[u64], link_only_sources: Option<&[u16]>) -> BlockingRecall {
    let mut by_label: std::collections::HashMap<u64, Vec<u32>> = std::collections::HashMap::new();
    for (index, label) in truth.iter().enumerate() {
        by_label.entry(*label).or_default().push(index as u32);
    }
    let (mut true_pairs, mut found) = (0u64, 0u64);
    let mut lost_examples = Vec::new();
    for members in by_label.values() {
        for (position, left) in members.iter().enumerate() {
            for right in &members[position + 1..] {
                if link_only_sources.is_some_and(|sources| sources[*left as usize] == sources[*right as usize]) {
                    continue;
                }
                true_pairs += 1;
                let pair = ((*left).min(*right), (*left).max(*right));
                if candidate_pairs.binary_search(&pair).is_ok() {
                    found += 1;
                } else if lost_examples.len() < 20 {
                    lost_examples.push(pair);
                }
            }
        }
    }
    let recall = if true_pairs == 0 { 1.0 } else { found as f64 / true_pairs as f64 };
    BlockingRecall { true_pairs, true_pairs_in_candidates: found, recall, lost_examples }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{Interner, record_features};
    use crate::record::RawPerson;

    fn features_of(interner: &mut Interner, full_name: &str, dob: &str, phone: &str) -> RecordFeatures {
        let raw = RawPerson {
            record_id: full_name.into(),
            full_name: Some(full_name.into()),
            date_of_birth: Some(dob.into()).filter(|text: &String| !text.is_empty()),
            phone: Some(phone.into()).filter(|text: &String| !text.is_empty()),
            ..RawPerson::default()
        };
        record_features(interner, &raw.parse(0).0)
    }

    #[test]
    fn variants_of_one_name_share_a_block() {
        let mut interner = Interner::default();
        let records = vec![
            features_of(&mut interner, "Ion Popescu", "1985-03-12", ""),
            features_of(&mut interner, "POPESCU ION", "", ""),
            features_of(&mut interner, "I. Popesku", "12/03/1985", ""),
            features_of(&mut interner, "Ioan Popescu", "", "07911 123456"),
            features_of(&mut interner, "Ana Marin", "", "+44 7911 123456"),
            features_of(&mut interner, "Ștefan Țăranu", "", ""),
            features_of(&mut interner, "TARANU Stefan", "", ""),
        ];
        let candidates = candidate_pairs(&records, &BlockingConfig::default());
        for expected in [(0, 1), (0, 2), (0, 3), (1, 3), (3, 4), (5, 6)] {
            assert!(candidates.pairs.contains(&expected), "missing {expected:?} in {:?}", candidates.pairs);
        }
        assert!(!candidates.pairs.contains(&(0, 4)));
        assert!(candidates.pairs.windows(2).all(|window| window[0] < window[1]), "sorted and unique");
        // "I. Popesku" shares no key with "POPESCU ION", which has no date of birth: 2 of 7 lost.
        let truth = [1, 1, 1, 1, 2, 3, 3];
        let recall = blocking_recall(&candidates.pairs, &truth, None);
        assert_eq!((recall.true_pairs, recall.true_pairs_in_candidates), (7, 5));
        assert_eq!(recall.lost_examples, vec![(1, 2), (2, 3)]);
        let truth_with_a_miss = [1, 1, 1, 1, 1, 3, 3];
        assert!(blocking_recall(&candidates.pairs, &truth_with_a_miss, None).recall < 1.0);
    }

    #[test]
    fn undated_records_meet_their_whole_oversized_name_block() {
        // Six reports of one common name, too many for a block of 2: the dated ones are decades
        // apart with no postcode, so only the undated report meets them all.
        let mut interner = Interner::default();
        let mut records: Vec<RecordFeatures> = ["1950-01-01", "1965-01-01", "1980-01-01", "1995-01-01", "2010-01-01"]
            .iter()
            .map(|dob| features_of(&mut interner, "John Smith", dob, ""))
            .collect();
        records.push(features_of(&mut interner, "John Smith", "", ""));
        let config = BlockingConfig { max_block_size: 2, ..BlockingConfig::default() };
        let candidates = candidate_pairs(&records, &config);
        for dated in 0..5 {
            assert!(candidates.pairs.contains(&(dated, 5)), "undated record meets record {dated}");
        }
        assert!(!candidates.pairs.contains(&(0, 4)), "dated records far apart do not meet");
        // The block of their names' phonetic codes does the same; two dated reports meet only
        // when their years are neighbours.
        assert_eq!(candidates.pairs.len(), 5);
    }

    proptest::proptest! {
        #[test]
        fn pairs_are_sorted_and_unique_as_a_sort_would_leave_them(pairs in proptest::collection::vec((0u32..20, 0u32..20), 0..200), split in 0usize..200) {
            let packed: Vec<u64> = pairs.iter().map(|(left, right)| u64::from(*left) << 32 | u64::from(*right)).collect();
            let mut expected = pairs.clone();
            expected.sort_unstable();
            expected.dedup();
            // Merged as two rules' pairs, cut anywhere.
            let mut rights: Vec<Vec<u32>> = vec![Vec::new(); 20];
            let (first, second) = packed.split_at(split.min(packed.len()));
            merge_rule_pairs(&mut rights, first.to_vec());
            merge_rule_pairs(&mut rights, second.to_vec());
            let merged: Vec<(u32, u32)> = rights.iter().enumerate().flat_map(|(left, list)| list.iter().map(move |right| (left as u32, *right))).collect();
            proptest::prop_assert_eq!(merged, expected);
        }
    }

    #[test]
    fn oversized_blocks_are_skipped_and_reported() {
        let mut interner = Interner::default();
        // Five different people (no two names share a key) giving one switchboard's number.
        let names = ["Ana Marin", "Bogdan Lupu", "Cristi Vasile", "Dan Tudor", "Elena Rusu"];
        let records: Vec<RecordFeatures> = names.iter().map(|name| features_of(&mut interner, name, "", "020 7946 0018")).collect();
        let config = BlockingConfig { max_block_size: 4, ..BlockingConfig::default() };
        let candidates = candidate_pairs(&records, &config);
        assert!(candidates.pairs.is_empty(), "no birth year or postcode to split the block by");
        let phone = candidates.rules.iter().find(|report| report.rule == "phone").expect("phone rule");
        assert_eq!((phone.oversized_blocks, phone.records_in_oversized_blocks), (1, 5));
    }
}
