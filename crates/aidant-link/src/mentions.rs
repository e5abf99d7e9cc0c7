//! The values a record mentions, each in the normal form that makes two
//! writings of one thing equal: the phones, vehicles, addresses, businesses,
//! emails and online accounts of a report, an intelligence record or a
//! reporter's later message, from its structured answers and its free text.
//!
//! The normal form is an entity's key: `07700 900123` and `+44 7700 900123`
//! are one phone, `lj15xkr` and `LJ15 XKR` one vehicle, `STAR NAIL'S` in
//! Luton and `Star Nails` in Luton one business. What a reporter wrote stays
//! with the record; only the key and a readable label leave this module.

use aidant_core::phone::PhoneE164;
use aidant_core::postcode::Postcode;
use aidant_core::vrm::Vrm;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;

use crate::text::{Entity, extract_entities};

/// What kind of thing a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Phone,
    Vehicle,
    /// A full UK postcode: the address a report or record points at.
    Address,
    Business,
    Email,
    /// A handle on a social network or an advertising site (`@name`).
    OnlineAccount,
    /// A person: never found by this module, whose values are keyed by their
    /// normal form, but resolved from the names, dates of birth and other
    /// details records give by the linker (`incremental`), and keyed by the
    /// linker's entity.
    Person,
}

impl ValueKind {
    pub const ALL: [ValueKind; 7] =
        [ValueKind::Person, ValueKind::Phone, ValueKind::Vehicle, ValueKind::Address, ValueKind::Business, ValueKind::Email, ValueKind::OnlineAccount];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Phone => "phone",
            ValueKind::Vehicle => "vehicle",
            ValueKind::Address => "address",
            ValueKind::Business => "business",
            ValueKind::Email => "email",
            ValueKind::OnlineAccount => "online_account",
            ValueKind::Person => "person",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        ValueKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// How the workspace names the kind, in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            ValueKind::Phone => "Phone",
            ValueKind::Vehicle => "Vehicle",
            ValueKind::Address => "Address",
            ValueKind::Business => "Business",
            ValueKind::Email => "Email",
            ValueKind::OnlineAccount => "Online account",
            ValueKind::Person => "Person",
        }
    }
}

/// What `other` is to `this` when records name both: the network model's
/// relation (a person uses a phone, drives a vehicle, is at an address,
/// works at a business; two people are associates), read from `this`
/// entity's side. Values that are not people are "named together".
pub fn relation_between(this: ValueKind, other: ValueKind) -> &'static str {
    use ValueKind::*;
    match (this, other) {
        (Person, Person) => "associate",
        (Person, Phone) => "uses phone",
        (Phone, Person) => "phone used by",
        (Person, Vehicle) => "drives or travels in",
        (Vehicle, Person) => "driver or passenger",
        (Person, Address) => "lives or is seen at",
        (Address, Person) => "where this person lives or is seen",
        (Person, Business) => "works at",
        (Business, Person) => "works here",
        (Person, Email | OnlineAccount) => "uses account",
        (Email | OnlineAccount, Person) => "account of",
        _ => "named together",
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One value a record mentions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundValue {
    pub kind: ValueKind,
    /// The normal form, equal for every writing of the same thing.
    pub key: String,
    /// How an analyst reads it: a phone in international form, a
    /// registration or postcode with its space, a business as first written.
    pub label: String,
    /// Which part of the record it came from (`vehicles.1`, `postcode`,
    /// `narrative`...).
    pub field: String,
    /// 1 for a structured answer, less for a value read out of prose.
    pub confidence: f32,
}

/// What a record says, as the extraction reads it. Structured answers are
/// trusted as written; `texts` are free text, each with its field name.
#[derive(Debug, Clone, Default)]
pub struct RecordFields<'a> {
    /// How national phone numbers in the text are read (UK when `None`).
    pub region: Option<&'a str>,
    pub postcode: Option<&'a str>,
    pub town: Option<&'a str>,
    pub business_name: Option<&'a str>,
    pub vehicle_registrations: Vec<&'a str>,
    pub texts: Vec<(&'a str, &'a str)>,
}

/// The values of one record, and whether some were left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordValues {
    pub values: Vec<FoundValue>,
    /// True when the record mentions more than [`MAX_VALUES_PER_RECORD`]
    /// values: the first are kept and the rest left out, so a text of
    /// thousands of numbers cannot flood the network.
    pub truncated: bool,
}

/// No record plausibly names more things than this; a text that does is a
/// list pasted in (or an attack), and its first values are enough to link it.
pub const MAX_VALUES_PER_RECORD: usize = 200;

/// Confidence of a value read out of free text, by kind: a phone or an
/// email in prose is almost always one; a registration-shaped word or a
/// handle is more often something else.
fn text_confidence(kind: ValueKind) -> f32 {
    match kind {
        ValueKind::Phone | ValueKind::Email | ValueKind::Address => 0.9,
        ValueKind::Vehicle => 0.8,
        ValueKind::OnlineAccount | ValueKind::Business | ValueKind::Person => 0.7,
    }
}

/// A business name in its normal form: transliterated, lower case,
/// apostrophes dropped (`Nail's` is `nails`), every other mark a space, and
/// a trailing `ltd` or `limited` left off.
pub fn business_key(name: &str) -> Option<String> {
    let without_apostrophes: String = name.chars().filter(|character| !matches!(character, '\'' | '\u{2019}' | '`')).collect();
    let folded = aidant_core::search::fold(&without_apostrophes);
    let mut words: Vec<&str> = folded.split(' ').filter(|word| !word.is_empty()).collect();
    while matches!(words.last(), Some(&"ltd") | Some(&"limited")) && words.len() > 1 {
        words.pop();
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// A handle such as `@lulu_nails`: 2 to 30 letters, digits, `_` or `.`,
/// not part of an email address. Returns the handle without its `@`.
fn handle_of_word(word: &str) -> Option<&str> {
    let handle = word.strip_prefix('@')?.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
    let valid = (2..=30).contains(&handle.len())
        && handle.chars().all(|character| character.is_ascii_alphanumeric() || character == '_' || character == '.')
        && handle.chars().any(|character| character.is_ascii_alphabetic());
    valid.then_some(handle)
}

/// Every value `fields` mentions, each (kind, key, field) once, structured
/// answers first, at most [`MAX_VALUES_PER_RECORD`].
pub fn values_of_record(fields: &RecordFields<'_>) -> RecordValues {
    let mut found = Collector::default();
    if let Some(postcode) = fields.postcode.and_then(|raw| Postcode::parse(raw).ok()) {
        let text = postcode.to_string();
        found.push(ValueKind::Address, text.clone(), text, "postcode", 1.0);
    }
    if let Some(name) = fields.business_name.map(str::trim).filter(|name| !name.is_empty())
        && let Some(folded) = business_key(name)
    {
        // A business is one place: the same name in another town is another
        // business. The town is folded too, so `LUTON` and `Luton` agree.
        let town = fields.town.map(aidant_core::search::fold).unwrap_or_default();
        let label = match fields.town.map(str::trim).filter(|town| !town.is_empty()) {
            Some(town) => format!("{name}, {town}"),
            None => name.to_owned(),
        };
        found.push(ValueKind::Business, format!("{folded}|{town}"), label, "business_name", 1.0);
    }
    for (position, raw) in fields.vehicle_registrations.iter().enumerate() {
        if let Ok(vrm) = Vrm::parse_uk(raw) {
            found.push(ValueKind::Vehicle, vrm.compact().to_owned(), vrm.to_string(), &format!("vehicles.{}", position + 1), 1.0);
        }
    }
    for (field, text) in &fields.texts {
        for value in values_in_text(text, fields.region) {
            found.push(value.kind, value.key, value.label, field, text_confidence(value.kind));
        }
    }
    found.finish()
}

/// A value read out of free text, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextValue {
    pub kind: ValueKind,
    pub key: String,
    pub label: String,
    /// The bytes of the text it was read from.
    pub span: Range<usize>,
}

/// The phones, registrations, postcodes, emails and handles in `text`, in
/// the order they are written: what [`values_of_record`] finds in a text,
/// with where, so a page can link each where it stands.
pub fn values_in_text(text: &str, region: Option<&str>) -> Vec<TextValue> {
    let mut values: Vec<TextValue> = extract_entities(text, region)
        .into_iter()
        .map(|extracted| {
            let (kind, key, label) = match extracted.entity {
                Entity::Phone(phone) => (ValueKind::Phone, phone.as_str().to_owned(), phone.to_string()),
                Entity::Vrm(vrm) => (ValueKind::Vehicle, vrm.compact().to_owned(), vrm.to_string()),
                Entity::Postcode(postcode) => (ValueKind::Address, postcode.to_string(), postcode.to_string()),
                Entity::Email(email) => (ValueKind::Email, email.as_str().to_owned(), email.as_str().to_owned()),
            };
            // `(07700) 900123` is read from its digits; its link takes the
            // bracket it opened with too.
            let mut span = extracted.span;
            if text[span.clone()].contains(')') && span.start > 0 && text.as_bytes()[span.start - 1] == b'(' {
                span.start -= 1;
            }
            TextValue { kind, key, label, span }
        })
        .collect();
    let mut offset = 0;
    for word in text.split_whitespace() {
        // Words are found in order, so each search starts where the last ended.
        let start = offset + text[offset..].find(word).unwrap_or(0);
        offset = start + word.len();
        let trimmed = word.trim_start_matches(['(', '"', '\'']);
        if let Some(handle) = handle_of_word(trimmed) {
            let handle_start = start + (word.len() - trimmed.len());
            let span = handle_start..handle_start + 1 + handle.len();
            values.push(TextValue { kind: ValueKind::OnlineAccount, key: handle.to_ascii_lowercase(), label: format!("@{handle}"), span });
        }
    }
    values.sort_by_key(|value| (value.span.start, value.span.end));
    values
}

#[derive(Default)]
struct Collector {
    values: Vec<FoundValue>,
    truncated: bool,
}

impl Collector {
    fn push(&mut self, kind: ValueKind, key: String, label: String, field: &str, confidence: f32) {
        if self.values.iter().any(|value| value.kind == kind && value.key == key && value.field == field) {
            return;
        }
        if self.values.len() >= MAX_VALUES_PER_RECORD {
            self.truncated = true;
            return;
        }
        self.values.push(FoundValue { kind, key, label, field: field.to_owned(), confidence });
    }

    fn finish(self) -> RecordValues {
        RecordValues { values: self.values, truncated: self.truncated }
    }
}

/// A phone's normal form, for a search box: what [`values_of_record`]
/// would key the number under, or `None`.
pub fn phone_key(raw: &str) -> Option<String> {
    PhoneE164::parse(raw, None).ok().map(|phone| phone.as_str().to_owned())
}

/// The normal form of whatever an analyst typed into a search box, if it is
/// a phone, registration, postcode, email or handle (in that order of
/// preference), with its kind.
pub fn identifier_in_query(query: &str) -> Option<(ValueKind, String)> {
    let query = query.trim();
    if query.is_empty() || query.len() > 100 {
        return None;
    }
    if let Some(handle) = handle_of_word(query) {
        return Some((ValueKind::OnlineAccount, handle.to_ascii_lowercase()));
    }
    if query.contains('@') {
        return crate::email::Email::parse(query).ok().map(|email| (ValueKind::Email, email.as_str().to_owned()));
    }
    let digits = query.chars().filter(char::is_ascii_digit).count();
    if digits >= 9
        && let Some(key) = phone_key(query)
    {
        return Some((ValueKind::Phone, key));
    }
    if let Ok(postcode) = Postcode::parse(query) {
        return Some((ValueKind::Address, postcode.to_string()));
    }
    if let Ok(vrm) = Vrm::parse_uk(query)
        && digits > 0
    {
        return Some((ValueKind::Vehicle, vrm.compact().to_owned()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(values: &RecordValues, kind: ValueKind) -> Vec<String> {
        values.values.iter().filter(|value| value.kind == kind).map(|value| value.key.clone()).collect()
    }

    #[test]
    fn relations_read_from_either_side() {
        assert_eq!(relation_between(ValueKind::Person, ValueKind::Phone), "uses phone");
        assert_eq!(relation_between(ValueKind::Phone, ValueKind::Person), "phone used by");
        assert_eq!(relation_between(ValueKind::Person, ValueKind::Person), "associate");
        assert_eq!(relation_between(ValueKind::Phone, ValueKind::Vehicle), "named together");
        for this in ValueKind::ALL {
            for other in ValueKind::ALL {
                let forward = relation_between(this, other) == "named together";
                assert_eq!(forward, relation_between(other, this) == "named together", "{this} and {other} are related from both sides or neither");
            }
        }
    }

    #[test]
    fn values_in_text_say_where_each_was_written() {
        let text = "Ring (07700) 900123 or see @Lulu_Nails, van LJ15 XKR at LU1 2NX.";
        let values = values_in_text(text, None);
        let written: Vec<(&str, ValueKind, &str)> = values.iter().map(|value| (&text[value.span.clone()], value.kind, value.key.as_str())).collect();
        assert_eq!(
            written,
            vec![
                ("(07700) 900123", ValueKind::Phone, "+447700900123"),
                ("@Lulu_Nails", ValueKind::OnlineAccount, "lulu_nails"),
                ("LJ15 XKR", ValueKind::Vehicle, "LJ15XKR"),
                ("LU1 2NX", ValueKind::Address, "LU1 2NX"),
            ]
        );
        assert!(values_in_text("", None).is_empty());
        assert!(values_in_text("  @a  ", None).is_empty(), "too short for a handle");
    }

    #[test]
    fn one_phone_written_five_ways_has_one_key() {
        let writings = ["07700 900123", "07700900123", "+44 7700 900123", "0044 7700 900 123", "(07700) 900123"];
        for writing in writings {
            let text = format!("Call him on {writing} after six.");
            let values = values_of_record(&RecordFields { texts: vec![("narrative", &text)], ..RecordFields::default() });
            assert_eq!(keys(&values, ValueKind::Phone), vec!["+447700900123".to_owned()], "{writing}");
        }
    }

    #[test]
    fn structured_answers_are_certain_and_prose_is_less_so() {
        let values = values_of_record(&RecordFields {
            postcode: Some("lu1 2ab"),
            town: Some("LUTON"),
            business_name: Some("Star Nail's"),
            vehicle_registrations: vec!["lj15xkr"],
            texts: vec![("narrative", "A van LJ15 XKR parks at LU1 2AB; text @Star_Nails or star@nails.example")],
            ..RecordFields::default()
        });
        let find = |kind, field: &str| values.values.iter().find(|value| value.kind == kind && value.field == field).cloned();
        let postcode = find(ValueKind::Address, "postcode").expect("the postcode answer");
        assert_eq!((postcode.key.as_str(), postcode.confidence), ("LU1 2AB", 1.0));
        let business = find(ValueKind::Business, "business_name").expect("the business answer");
        assert_eq!(business.key, "star nails|luton");
        assert_eq!(business.label, "Star Nail's, LUTON");
        assert_eq!(find(ValueKind::Vehicle, "vehicles.1").expect("the vehicle answer").key, "LJ15XKR");
        let in_text = find(ValueKind::Vehicle, "narrative").expect("the registration in the text");
        assert_eq!(in_text.key, "LJ15XKR");
        assert!(in_text.confidence < 1.0);
        assert_eq!(keys(&values, ValueKind::OnlineAccount), vec!["star_nails".to_owned()]);
        assert_eq!(keys(&values, ValueKind::Email), vec!["star@nails.example".to_owned()]);
        assert!(!values.truncated);
    }

    #[test]
    fn businesses_agree_across_case_and_apostrophes_but_not_towns() {
        assert_eq!(business_key("STAR NAILS"), business_key("Star Nail's"));
        assert_eq!(business_key("Star Nails Ltd"), business_key("star nails"));
        assert_eq!(business_key("  '' "), None);
        let in_town = |town| {
            let values = values_of_record(&RecordFields { business_name: Some("Star Nails"), town: Some(town), ..RecordFields::default() });
            keys(&values, ValueKind::Business)
        };
        assert_ne!(in_town("Luton"), in_town("Bedford"));
        assert_eq!(in_town("Luton"), in_town(" luton "));
    }

    #[test]
    fn a_text_of_thousands_of_numbers_is_cut_short_and_says_so() {
        let text: String = (0..3_000).map(|number| format!("07700 9{number:05} ")).collect();
        let values = values_of_record(&RecordFields { texts: vec![("narrative", &text)], ..RecordFields::default() });
        assert_eq!(values.values.len(), MAX_VALUES_PER_RECORD);
        assert!(values.truncated);
    }

    #[test]
    fn a_search_box_finds_the_same_keys_as_the_records() {
        assert_eq!(identifier_in_query(" (07700) 900123 "), Some((ValueKind::Phone, "+447700900123".to_owned())));
        assert_eq!(identifier_in_query("lj15 xkr"), Some((ValueKind::Vehicle, "LJ15XKR".to_owned())));
        assert_eq!(identifier_in_query("lu12ab"), Some((ValueKind::Address, "LU1 2AB".to_owned())));
        assert_eq!(identifier_in_query("@Lulu_Nails"), Some((ValueKind::OnlineAccount, "lulu_nails".to_owned())));
        assert_eq!(identifier_in_query("nail bar"), None);
        assert_eq!(identifier_in_query(""), None);
    }

    proptest! {
        #[test]
        fn any_text_gives_bounded_values_without_panicking(text in "\\PC{0,400}", business in "\\PC{0,40}", registration in "\\PC{0,12}") {
            let values = values_of_record(&RecordFields {
                business_name: Some(&business),
                town: Some(&text),
                postcode: Some(&registration),
                vehicle_registrations: vec![&registration],
                texts: vec![("narrative", &text)],
                ..RecordFields::default()
            });
            prop_assert!(values.values.len() <= MAX_VALUES_PER_RECORD);
            for value in &values.values {
                prop_assert!(!value.key.is_empty());
                prop_assert!(value.confidence > 0.0 && value.confidence <= 1.0);
            }
            let _ = identifier_in_query(&text);
        }
    }
}
