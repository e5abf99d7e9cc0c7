//! Person names: Unicode normalisation, transliteration, name order, equivalents and phonetic keys.
//!
//! Names arrive as "Ion", "Ioan Popescu", "POPESCU ION", "I. Popesku", "Ștefan Țăranu", "Nguyễn Văn Nam"
//! or "张伟". Every token is kept in two forms: *case-folded* (NFKC, lower case, diacritics kept) and
//! *folded* (transliterated to ASCII letters: deunicode, or pinyin for Chinese characters), so that
//! linking can tell "exactly equal" from "equal once transliterated".

use rphonetic::DoubleMetaphone;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// One token of a name in its two comparison forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NameToken {
    /// NFKC and lower case, diacritics kept: "ștefan".
    pub casefolded: String,
    /// ASCII letters only: "stefan".
    pub folded: String,
}

/// A person's name split into given and family parts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonName {
    pub given: Vec<NameToken>,
    pub family: Vec<NameToken>,
}

/// Why a name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("{0:?} contains no letters in any script")]
    NoLetters(String),
}

fn is_han(character: char) -> bool {
    matches!(character as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

/// Transliterates one character to lower-case ASCII letters, with pinyin for Chinese characters
/// because deunicode's readings are not always the ones used in names.
fn fold_character(character: char, output: &mut String) {
    use pinyin::ToPinyin;
    if character.is_ascii_alphabetic() {
        output.push(character.to_ascii_lowercase());
        return;
    }
    if is_han(character)
        && let Some(reading) = character.to_pinyin()
    {
        // Plain pinyin still writes "ü" (lüe); fold it like any other letter.
        for syllable_character in reading.plain().chars() {
            if syllable_character.is_ascii_alphabetic() {
                output.push(syllable_character);
            } else {
                output.push_str(deunicode::deunicode_char(syllable_character).unwrap_or(""));
            }
        }
        return;
    }
    if character.is_alphabetic() {
        for folded in deunicode::deunicode_char(character).unwrap_or("").chars() {
            if folded.is_ascii_alphabetic() {
                output.push(folded.to_ascii_lowercase());
            }
        }
    }
}

/// Folds any text to ASCII lower-case letters and single spaces: "Ștefan  ȚĂRANU" becomes "stefan taranu".
pub fn fold_text(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for character in text.nfkc() {
        if character.is_alphanumeric() {
            if character.is_ascii_digit() {
                folded.push(character);
            } else {
                fold_character(character, &mut folded);
            }
        } else if !folded.is_empty() && !folded.ends_with(' ') && !matches!(character, '\'' | '’' | '`') {
            folded.push(' ');
        }
    }
    let trimmed_length = folded.trim_end().len();
    folded.truncate(trimmed_length);
    folded
}

fn make_token(raw: &str) -> Option<NameToken> {
    let casefolded: String = raw.nfkc().filter(|character| character.is_alphabetic()).flat_map(char::to_lowercase).collect();
    let mut folded = String::with_capacity(casefolded.len());
    for character in casefolded.chars() {
        fold_character(character, &mut folded);
    }
    if folded.is_empty() { None } else { Some(NameToken { casefolded, folded }) }
}

/// Splits raw text into name tokens; each Chinese character is its own token (a syllable).
fn raw_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for character in text.nfkc() {
        if is_han(character) {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            tokens.push(character.to_string());
        } else if character.is_alphabetic() || character.is_ascii_digit() {
            current.push(character);
        } else if matches!(character, '\'' | '’' | '`') {
            // O'Brien and N'Dour are one name.
            continue;
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Chinese given names are written as one word in pinyin ("Xiaoming"), so the syllables of a
/// given name written in characters are joined into one token.
fn join_han_given(tokens: Vec<NameToken>) -> Vec<NameToken> {
    if tokens.len() < 2 {
        return tokens;
    }
    let casefolded = tokens.iter().map(|token| token.casefolded.as_str()).collect();
    let folded = tokens.iter().map(|token| token.folded.as_str()).collect();
    vec![NameToken { casefolded, folded }]
}

fn is_all_caps_word(token: &str) -> bool {
    token.chars().count() > 1 && token.chars().all(|character| !character.is_alphabetic() || character.is_uppercase()) && token.chars().any(char::is_alphabetic)
}

impl PersonName {
    /// Builds a name from separate given and family fields, either of which may be empty.
    pub fn from_parts(given: &str, family: &str) -> Result<Self, NameError> {
        if given.trim().is_empty() && family.trim().is_empty() {
            return Err(NameError::Empty);
        }
        // A whole name typed into one box ("孙玲", "Nguyen Van Nam" as the surname) is read as a full name.
        let given_tokens = raw_tokens(given);
        let family_tokens = raw_tokens(family);
        if given_tokens.is_empty() && family_tokens.len() >= 2 {
            return Self::parse_full(family);
        }
        if family_tokens.is_empty() && given_tokens.len() >= 2 {
            return Self::parse_full(given);
        }
        let (given_tokens, family_tokens) = without_titles_in_parts(given_tokens, family_tokens);
        let name = PersonName {
            given: given_tokens.iter().filter_map(|token| make_token(token)).collect(),
            family: family_tokens.iter().filter_map(|token| make_token(token)).collect(),
        };
        if name.given.is_empty() && name.family.is_empty() {
            return Err(NameError::NoLetters(format!("{given} {family}")));
        }
        Ok(name)
    }

    /// Reads a name written as one string, deciding which part is the family name.
    ///
    /// Cues, strongest first: a comma ("POPESCU, Ion"); Chinese characters (family first); a word in
    /// capitals among mixed-case words ("POPESCU Ion", "Ion POPESCU"), the police convention for
    /// surnames; a first word that is a common family-first surname (Vietnamese, Chinese,
    /// Hungarian: "Nguyen Van Nam", "Nagy János"); otherwise the last word.
    pub fn parse_full(full: &str) -> Result<Self, NameError> {
        let trimmed = full.trim();
        if trimmed.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some((before, after)) = trimmed.split_once(',') {
            // "Sir John Smith, 5th Baronet": what follows the comma is a title, not the given names.
            let after_words = raw_tokens(after);
            if !after_words.is_empty() && after_words.iter().all(|word| is_title_after(word) || is_title_before(word)) {
                return Self::parse_full(before);
            }
            return Self::from_parts(after, before);
        }
        let words = without_titles(raw_tokens(trimmed));
        if words.is_empty() {
            return Err(NameError::NoLetters(trimmed.to_string()));
        }
        if words.iter().any(|word| word.chars().any(is_han)) {
            let tokens: Vec<NameToken> = words.iter().filter_map(|word| make_token(word)).collect();
            let mut tokens = tokens.into_iter();
            let family: Vec<NameToken> = tokens.next().into_iter().collect();
            return Ok(PersonName { family, given: join_han_given(tokens.collect()) });
        }
        let tokens: Vec<(String, NameToken)> = words.into_iter().filter_map(|word| make_token(&word).map(|token| (word, token))).collect();
        if tokens.is_empty() {
            return Err(NameError::NoLetters(trimmed.to_string()));
        }
        let split = |family_indices: &dyn Fn(usize) -> bool| {
            let mut name = PersonName::default();
            for (index, (_, token)) in tokens.iter().enumerate() {
                if family_indices(index) { name.family.push(token.clone()) } else { name.given.push(token.clone()) }
            }
            name
        };
        let count = tokens.len();
        if count == 1 {
            let (word, token) = &tokens[0];
            return Ok(if is_all_caps_word(word) {
                PersonName { family: vec![token.clone()], given: Vec::new() }
            } else {
                PersonName { given: vec![token.clone()], family: Vec::new() }
            });
        }
        let caps: Vec<bool> = tokens.iter().map(|(word, _)| is_all_caps_word(word)).collect();
        let caps_count = caps.iter().filter(|is_caps| **is_caps).count();
        if caps_count > 0 && caps_count < count {
            return Ok(split(&|index| caps[index]));
        }
        let first = &tokens[0].1.folded;
        let last = &tokens[count - 1].1.folded;
        if is_family_first_surname(first) {
            return Ok(split(&|index| index == 0));
        }
        let first_is_given_name = equivalent_group(first).is_some();
        let last_is_given_name = equivalent_group(last).is_some();
        if last_is_given_name && !first_is_given_name {
            return Ok(split(&|index| index == 0));
        }
        if first_is_given_name && !last_is_given_name {
            return Ok(split(&|index| index == count - 1));
        }
        // Entirely in capitals with no other cue: police records write "SURNAME Forenames".
        if caps_count == count {
            return Ok(split(&|index| index == 0));
        }
        Ok(split(&|index| index == count - 1))
    }

    /// The given names folded and joined without spaces, e.g. "vannam".
    pub fn folded_given(&self) -> String {
        self.given.iter().map(|token| token.folded.as_str()).collect()
    }

    /// The family names folded and joined without spaces.
    pub fn folded_family(&self) -> String {
        self.family.iter().map(|token| token.folded.as_str()).collect()
    }

    /// All folded tokens sorted, joined by spaces: the same for "Ion Popescu" and "POPESCU Ion".
    pub fn sorted_token_key(&self) -> String {
        let mut tokens: Vec<&str> = self.given.iter().chain(&self.family).map(|token| token.folded.as_str()).collect();
        tokens.sort_unstable();
        tokens.join(" ")
    }
}

static EQUIVALENT_GROUPS: LazyLock<HashMap<String, u32>> = LazyLock::new(|| {
    let mut group_of: HashMap<String, u32> = HashMap::new();
    for (line_index, line) in include_str!("../data/name_equivalents.txt").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let names: Vec<String> = line.split_whitespace().map(fold_text).collect();
        // A name listed on two lines joins the two groups.
        let existing: HashSet<u32> = names.iter().filter_map(|name| group_of.get(name).copied()).collect();
        let group = existing.iter().copied().min().unwrap_or(line_index as u32);
        for value in group_of.values_mut() {
            if existing.contains(value) {
                *value = group;
            }
        }
        for name in names {
            group_of.insert(name, group);
        }
    }
    group_of
});

static FAMILY_FIRST_SURNAMES: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("../data/family_first_surnames.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('['))
        .flat_map(str::split_whitespace)
        .map(fold_text)
        .collect()
});

static NAME_PARTICLES: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("../data/name_particles.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(fold_text)
        .collect()
});

/// Titles and honorifics written before a name, and post-nominals and ordinals written after
/// one (`data/name_titles.txt`), folded.
struct Titles {
    before: HashSet<String>,
    after: HashSet<String>,
}

static TITLES: LazyLock<Titles> = LazyLock::new(|| {
    let mut titles = Titles { before: HashSet::new(), after: HashSet::new() };
    let mut section = None;
    for line in include_str!("../data/name_titles.txt").lines().map(str::trim) {
        match line {
            "" => {}
            comment if comment.starts_with('#') => {}
            "[before]" => section = Some(true),
            "[after]" => section = Some(false),
            words => {
                let set = match section {
                    Some(true) => &mut titles.before,
                    Some(false) => &mut titles.after,
                    None => continue,
                };
                set.extend(words.split_whitespace().map(fold_title));
            }
        }
    }
    titles
});

/// A word as the titles table holds it: folded, with digits kept ("5th") and full stops dropped.
fn fold_title(word: &str) -> String {
    word.chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .chars()
        .flat_map(|character| deunicode::deunicode_char(character).unwrap_or("").chars())
        .collect()
}

/// Longer words are never titles: the table's longest is "mademoiselle".
const LONGEST_TITLE: usize = 16;

fn is_title_before(word: &str) -> bool {
    word.len() <= LONGEST_TITLE && TITLES.before.contains(&fold_title(word))
}

fn is_title_after(word: &str) -> bool {
    word.len() <= LONGEST_TITLE && TITLES.after.contains(&fold_title(word))
}

/// The words of a whole name without its titles: those before it taken from the front, those
/// after it from anywhere but the front; never every word (Lord and Dame are family names too).
fn without_titles(words: Vec<String>) -> Vec<String> {
    let leading = words.iter().take_while(|word| is_title_before(word)).count();
    let kept: Vec<String> = words
        .iter()
        .enumerate()
        .filter(|(index, word)| *index >= leading && (*index == leading || !is_title_after(word)))
        .map(|(_, word)| word.clone())
        .collect();
    if kept.is_empty() { words } else { kept }
}

/// The given and family words without titles: those before a name from the front of the given
/// names, those after one from the end of either part; a part is never emptied of every word.
fn without_titles_in_parts(given: Vec<String>, family: Vec<String>) -> (Vec<String>, Vec<String>) {
    let trim_after = |words: Vec<String>| -> Vec<String> {
        let keep = words.len() - words.iter().rev().take_while(|word| is_title_after(word)).count();
        if keep == 0 { words } else { words[..keep].to_vec() }
    };
    let leading = given.iter().take_while(|word| is_title_before(word)).count();
    // "Sir" alone in the given names of "Sir" "Smith" is a title: the family name remains.
    let given = if leading == given.len() && family.is_empty() { given } else { given[leading..].to_vec() };
    (trim_after(given), trim_after(family))
}

/// True for tokens such as Vietnamese "van" and "thi" that many unrelated names share.
pub fn is_name_particle(folded_token: &str) -> bool {
    NAME_PARTICLES.contains(folded_token)
}

/// The equivalence group of a folded given name (Ion, Ioan and John share one), if the table lists it.
pub fn equivalent_group(folded_token: &str) -> Option<u32> {
    EQUIVALENT_GROUPS.get(folded_token).copied()
}

/// True for surnames of family-name-first cultures listed in the data table.
pub fn is_family_first_surname(folded_token: &str) -> bool {
    FAMILY_FIRST_SURNAMES.contains(folded_token)
}

static DOUBLE_METAPHONE: LazyLock<DoubleMetaphone> = LazyLock::new(DoubleMetaphone::default);

/// Double Metaphone primary and alternate codes of a folded token; "popescu" and "popesku" share "PPSK".
pub fn phonetic_codes(folded_token: &str) -> (String, String) {
    if folded_token.is_empty() {
        return (String::new(), String::new());
    }
    let result = DOUBLE_METAPHONE.double_metaphone(folded_token);
    (result.primary(), result.alternate())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn titles_and_honorifics_are_no_part_of_a_name() {
        let cases = [
            ("Sir John Smith, 5th Baronet", "john", "smith"),
            ("Sir John Smith Bt.", "john", "smith"),
            ("Dr. Anh Tran", "anh", "tran"),
            ("Dna. Maria POPESCU", "maria", "popescu"),
            ("The Rt Hon Lady Anne Grey", "anne", "grey"),
            ("Mrs Ana Marin OBE", "ana", "marin"),
        ];
        for (full, given, family) in cases {
            let name = PersonName::parse_full(full).unwrap();
            assert_eq!(folded(&name), (given.to_owned(), family.to_owned()), "{full}");
        }
        let parts = PersonName::from_parts("Sir William", "Jones 3rd Bt").unwrap();
        assert_eq!(folded(&parts), ("william".to_owned(), "jones".to_owned()));
        let only_title_given = PersonName::from_parts("Mr", "Popescu").unwrap();
        assert_eq!(folded(&only_title_given), (String::new(), "popescu".to_owned()));
    }

    #[test]
    fn words_that_are_titles_elsewhere_stay_names_where_they_are_names() {
        // A family name that is also a title, a name with nothing but a title, and a given name
        // that is an honorific in another language all stay.
        assert_eq!(folded(&PersonName::parse_full("Peter Lord").unwrap()), ("peter".to_owned(), "lord".to_owned()));
        assert_eq!(folded(&PersonName::from_parts("Anh", "Tran").unwrap()), ("anh".to_owned(), "tran".to_owned()));
        assert_eq!(folded(&PersonName::from_parts("", "Lord").unwrap()), (String::new(), "lord".to_owned()));
        assert_eq!(PersonName::parse_full("Pan Wei").unwrap().sorted_token_key(), "pan wei");
        assert!(PersonName::parse_full("Dame").is_ok(), "a lone title is kept as the name rather than emptied");
    }

    fn folded(name: &PersonName) -> (String, String) {
        (
            name.given.iter().map(|token| token.folded.clone()).collect::<Vec<_>>().join(" "),
            name.family.iter().map(|token| token.folded.clone()).collect::<Vec<_>>().join(" "),
        )
    }

    fn check_full(raw: &str, given: &str, family: &str) {
        let name = PersonName::parse_full(raw).unwrap_or_else(|error| panic!("{raw}: {error}"));
        assert_eq!(folded(&name), (given.to_string(), family.to_string()), "{raw}");
    }

    #[test]
    fn folds_diacritics_case_and_compatibility_forms() {
        assert_eq!(fold_text("Ștefan Țăranu"), fold_text("Stefan Taranu"));
        assert_eq!(fold_text("Ștefan  ȚĂRANU"), "stefan taranu");
        assert_eq!(fold_text("Nguyễn Văn Nam"), "nguyen van nam");
        assert_eq!(fold_text("Kovács János"), "kovacs janos");
        assert_eq!(fold_text("Łukasz Wójcik"), "lukasz wojcik");
        assert_eq!(fold_text("Ｉｏｎ"), "ion");
        assert_eq!(fold_text("O'Brien"), "obrien");
        assert_eq!(fold_text("Çela Xhafë"), "cela xhafe");
    }

    #[test]
    fn keeps_diacritics_in_the_case_folded_form() {
        let name = PersonName::from_parts("Ștefan", "ȚĂRANU").expect("name");
        assert_eq!(name.given[0].casefolded, "ștefan");
        assert_eq!(name.given[0].folded, "stefan");
        assert_eq!(name.family[0].casefolded, "țăranu");
    }

    #[test]
    fn decides_name_order_from_the_cues_a_reader_would_use() {
        check_full("Ioan Popescu", "ioan", "popescu");
        check_full("POPESCU ION", "ion", "popescu");
        check_full("POPESCU Ion", "ion", "popescu");
        check_full("Ion POPESCU", "ion", "popescu");
        check_full("Popescu, Ion", "ion", "popescu");
        check_full("I. Popesku", "i", "popesku");
        check_full("Nguyen Van Nam", "van nam", "nguyen");
        check_full("Nguyễn Văn Nam", "van nam", "nguyen");
        check_full("Nagy János", "janos", "nagy");
        check_full("Wang Wei", "wei", "wang");
        check_full("张伟", "wei", "zhang");
        check_full("王小明", "xiaoming", "wang");
        check_full("Agnieszka Kowalska", "agnieszka", "kowalska");
        check_full("Arben Hoxha", "arben", "hoxha");
        check_full("Ion", "ion", "");
    }

    #[test]
    fn a_whole_name_in_one_box_is_read_as_a_full_name() {
        let chinese = PersonName::from_parts("", "孙玲").expect("name");
        assert_eq!(folded(&chinese), ("ling".to_string(), "sun".to_string()));
        let vietnamese = PersonName::from_parts("Nguyễn Văn Nam", "").expect("name");
        assert_eq!(folded(&vietnamese), ("van nam".to_string(), "nguyen".to_string()));
    }

    #[test]
    fn sorted_token_key_ignores_order() {
        let western = PersonName::parse_full("Ion Popescu").expect("name");
        let police = PersonName::parse_full("POPESCU ION").expect("name");
        assert_eq!(western.sorted_token_key(), police.sorted_token_key());
    }

    #[test]
    fn equivalents_table_links_variants_across_languages() {
        let john = equivalent_group("john").expect("john is listed");
        for variant in ["ion", "ioan", "janos", "jan", "gjon", "ivan"] {
            assert_eq!(equivalent_group(variant), Some(john), "{variant}");
        }
        assert_eq!(equivalent_group("gheorghe"), equivalent_group("george"));
        assert_ne!(equivalent_group("gheorghe"), Some(john));
        assert_eq!(equivalent_group("zzyzx"), None);
    }

    #[test]
    fn phonetic_codes_bridge_spelling_variants() {
        assert_eq!(phonetic_codes("popescu").0, phonetic_codes("popesku").0);
        assert_ne!(phonetic_codes("popescu").0, phonetic_codes("ionescu").0);
        assert_eq!(phonetic_codes(""), (String::new(), String::new()));
    }

    #[test]
    fn rejects_names_without_letters() {
        assert_eq!(PersonName::parse_full("  "), Err(NameError::Empty));
        assert!(matches!(PersonName::parse_full("-- ."), Err(NameError::NoLetters(_))));
        assert_eq!(PersonName::from_parts("", " "), Err(NameError::Empty));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(raw in "\\PC{0,30}") {
            let _ = PersonName::parse_full(&raw);
            let _ = fold_text(&raw);
        }

        #[test]
        fn folding_is_idempotent(raw in "\\PC{0,30}") {
            let once = fold_text(&raw);
            prop_assert_eq!(fold_text(&once), once.clone());
            prop_assert!(once.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b' '));
        }
    }
}
