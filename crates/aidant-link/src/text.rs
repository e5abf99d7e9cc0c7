//! Entity extraction from free text: phones, vehicle registrations, postcodes and emails in a report's narrative.

use crate::email::Email;
use crate::phone::PhoneE164;
use crate::postcode::Postcode;
use crate::vrm::{UkVrmFormat, Vrm};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// A value found in free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entity {
    Phone(PhoneE164),
    Vrm(Vrm),
    Postcode(Postcode),
    Email(Email),
}

/// An entity with the byte range of the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    pub entity: Entity,
    pub span: Range<usize>,
}

struct Word<'text> {
    text: &'text str,
    span: Range<usize>,
}

/// Splits on whitespace and trims the punctuation that surrounds words in prose.
fn words(text: &str) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let mut start = None;
    for (index, character) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (character.is_whitespace(), start) {
            (false, None) => start = Some(index),
            (true, Some(word_start)) => {
                let raw = &text[word_start..index];
                let leading = raw.len() - raw.trim_start_matches(|c: char| ",;:\"'[(".contains(c)).len();
                let trimmed = raw[leading..].trim_end_matches(|c: char| ",;:.!?\"')]".contains(c));
                if !trimmed.is_empty() {
                    let from = word_start + leading;
                    words.push(Word { text: trimmed, span: from..from + trimmed.len() });
                }
                start = None;
            }
            _ => {}
        }
    }
    words
}

fn is_phone_piece(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_digit() || "+()-.".contains(c)) && word.chars().any(|c| c.is_ascii_digit())
}

/// Finds phones, UK vehicle registrations (current, prefix and suffix formats: dateless marks are
/// too easily confused with ordinary words and numbers in prose), UK postcodes and emails.
/// National phone numbers are read as `region` (UK when `None`).
pub fn extract_entities(text: &str, region: Option<&str>) -> Vec<Extracted> {
    let words = words(text);
    let mut found: Vec<Extracted> = Vec::new();
    let mut used = vec![false; words.len()];
    let mut index = 0;
    while index < words.len() {
        let word = &words[index];
        if word.text.contains('@') {
            if let Ok(email) = Email::parse(word.text) {
                found.push(Extracted { entity: Entity::Email(email), span: word.span.clone() });
                used[index] = true;
            }
            index += 1;
            continue;
        }
        // Longest run of number-like words first: "+40 722 123 456" is one phone.
        if is_phone_piece(word.text) {
            let mut end = index;
            while end + 1 < words.len() && end - index < 5 && is_phone_piece(words[end + 1].text) {
                end += 1;
            }
            let mut matched = None;
            for last in (index..=end).rev() {
                let candidate = &text[words[index].span.start..words[last].span.end];
                let digits = candidate.chars().filter(char::is_ascii_digit).count();
                if (9..=15).contains(&digits)
                    && let Ok(phone) = PhoneE164::parse(candidate, region)
                {
                    matched = Some((last, phone));
                    break;
                }
            }
            if let Some((last, phone)) = matched {
                found.push(Extracted { entity: Entity::Phone(phone), span: words[index].span.start..words[last].span.end });
                used[index..=last].iter_mut().for_each(|flag| *flag = true);
                index = last + 1;
                continue;
            }
        }
        index += 1;
    }
    // Postcodes and registrations, written as one word or two.
    let mut index = 0;
    while index < words.len() {
        if used[index] {
            index += 1;
            continue;
        }
        let mut matched = false;
        for length in [2, 1] {
            let last = index + length - 1;
            if last >= words.len() || used[index..=last].iter().any(|flag| *flag) {
                continue;
            }
            let candidate = &text[words[index].span.start..words[last].span.end];
            if !candidate.chars().any(|c| c.is_ascii_digit()) || !candidate.chars().any(|c| c.is_ascii_alphabetic()) {
                continue;
            }
            let span = words[index].span.start..words[last].span.end;
            if let Ok(postcode) = Postcode::parse(candidate) {
                found.push(Extracted { entity: Entity::Postcode(postcode), span });
            } else if let Ok(vrm @ Vrm::Uk { format: UkVrmFormat::Current | UkVrmFormat::Prefix | UkVrmFormat::Suffix, .. }) = Vrm::parse_uk(candidate) {
                found.push(Extracted { entity: Entity::Vrm(vrm), span });
            } else {
                continue;
            }
            used[index..=last].iter_mut().for_each(|flag| *flag = true);
            index = last + 1;
            matched = true;
            break;
        }
        if !matched {
            index += 1;
        }
    }
    found.sort_by_key(|extracted| extracted.span.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_every_kind_of_entity_in_a_report() {
        let report = "Saw a white van AB12 CDE at the car wash, B33 8TH. The manager (Ion) gave \
                      his number as 07911 123456 and also +40 722 123 456; email ion.p@example.ro.";
        let found = extract_entities(report, None);
        let entities: Vec<String> = found
            .iter()
            .map(|extracted| match &extracted.entity {
                Entity::Phone(phone) => format!("phone {phone}"),
                Entity::Vrm(vrm) => format!("vrm {vrm}"),
                Entity::Postcode(postcode) => format!("postcode {postcode}"),
                Entity::Email(email) => format!("email {email}"),
            })
            .collect();
        assert_eq!(entities, vec!["vrm AB12 CDE", "postcode B33 8TH", "phone +447911123456", "phone +40722123456", "email ion.p@example.ro"]);
        assert_eq!(&report[found[0].span.clone()], "AB12 CDE");
        assert_eq!(&report[found[2].span.clone()], "07911 123456");
    }

    #[test]
    fn ordinary_words_and_numbers_are_not_entities() {
        assert!(extract_entities("Flat 12 above the shop, 3 men, open 9 to 5, cost £15", None).is_empty());
        assert!(extract_entities("", None).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics_and_spans_are_in_bounds(text in "\\PC{0,80}") {
            for extracted in extract_entities(&text, None) {
                prop_assert!(text.get(extracted.span.clone()).is_some());
            }
        }
    }
}
