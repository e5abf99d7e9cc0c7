//! Telephone numbers normalised to E.164 with the `phonenumber` crate (libphonenumber's rules), UK by default.

use phonenumber::country::Id as CountryId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A valid number in E.164 form, e.g. `+447911123456`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PhoneE164(String);

/// Why a telephone number could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the telephone number is empty")]
    Empty,
    #[error("{0:?} is not an ISO 3166 region code known to libphonenumber")]
    UnknownRegion(String),
    #[error("{input:?} cannot be read as a telephone number: {reason}")]
    Unparseable { input: String, reason: String },
    #[error("{input:?} reads as {e164} but no such number can exist in that country")]
    Invalid { input: String, e164: String },
}

impl PhoneError {
    /// The same error told about `raw`: a batch parses one of the strings with a compact form and
    /// reports the error of each as written.
    pub fn with_input(self, raw: &str) -> Self {
        match self {
            PhoneError::Unparseable { reason, .. } => PhoneError::Unparseable { input: raw.to_string(), reason },
            PhoneError::Invalid { e164, .. } => PhoneError::Invalid { input: raw.to_string(), e164 },
            other => other,
        }
    }
}

/// The region used for numbers written without a country code; Aidant's reports come from UK police.
pub const DEFAULT_REGION: &str = "GB";

fn region_id(region: &str) -> Result<CountryId, PhoneError> {
    // The default region is looked up once per record; skip the string search for it.
    if region == DEFAULT_REGION {
        return Ok(CountryId::GB);
    }
    CountryId::from_str(&region.trim().to_ascii_uppercase()).map_err(|_| PhoneError::UnknownRegion(region.to_string()))
}

/// The form of a written number that parsing starts from: trimmed; when it holds only digits,
/// "+", brackets and the separators people write (spaces, hyphens, dots), without the separators;
/// and with a leading international "00" written as "+".
///
/// libphonenumber discards those separators itself, and `PhoneE164::parse` reads only this form, so
/// two strings with the same compact form always parse alike: a batch parses each compact form
/// once ("07911 123456" and "07911123456" are one parse). Text with anything else in it (letters
/// of an extension, "tel:") is kept whole so libphonenumber still sees it as written.
pub fn compact_phone(raw: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let trimmed = raw.trim();
    let is_separator = |c: char| matches!(c, ' ' | '-' | '.');
    let plain = trimmed.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')') || is_separator(c));
    let compact: Cow<'_, str> = if plain && trimmed.contains(is_separator) { Cow::Owned(trimmed.replace(is_separator, "")) } else { Cow::Borrowed(trimmed) };
    // libphonenumber understands the "00" international prefix only for some regions; rewriting it
    // as "+" makes "0040 722 ..." work whatever region the reporter was in.
    match compact.strip_prefix("00") {
        Some(rest) if rest.chars().next().is_some_and(|c| c.is_ascii_digit() && c != '0') => Cow::Owned(format!("+{rest}")),
        _ => compact,
    }
}

/// Lets libphonenumber's shared cache of compiled patterns hold every pattern a data set uses.
///
/// The port compiles its metadata's patterns on first use into one cache of 100 patterns; the
/// numbers of the UK (shared with Guernsey, Jersey and the Isle of Man) and a few other countries
/// already use more, so with 100 it keeps compiling patterns again. A few hundred compiled patterns
/// take a few megabytes; parsing 41,000 numbers took 18% less time with the larger cache.
fn enlarge_pattern_cache() {
    static ENLARGED: std::sync::Once = std::sync::Once::new();
    ENLARGED.call_once(|| {
        if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
            cache.set_capacity(1024);
        }
    });
}

impl PhoneE164 {
    /// Parses a number written in any national or international form, reading national forms as `region`.
    ///
    /// When `region` is `None` the UK is assumed. A number that parses but cannot exist (wrong length,
    /// unallocated range) is an error rather than a guess, so that typos do not link unrelated people.
    pub fn parse(raw: &str, region: Option<&str>) -> Result<Self, PhoneError> {
        let input = compact_phone(raw);
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let region = region_id(region.unwrap_or(DEFAULT_REGION))?;
        enlarge_pattern_cache();
        let number = phonenumber::parse(Some(region), &input).map_err(|error| PhoneError::Unparseable { input: raw.to_string(), reason: error.to_string() })?;
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid { input: raw.to_string(), e164 });
        }
        Ok(PhoneE164(e164))
    }

    /// Parses with the first region, in order, under which the number is valid; used when a report
    /// gives a nationality that hints where a nationally written number comes from.
    pub fn parse_with_hints(raw: &str, regions: &[&str]) -> Result<Self, PhoneError> {
        let mut first_error = None;
        for region in std::iter::once(&DEFAULT_REGION).chain(regions) {
            match Self::parse(raw, Some(region)) {
                Ok(phone) => return Ok(phone),
                Err(error) => {
                    if first_error.is_none() {
                        first_error = Some(error);
                    }
                }
            }
        }
        Err(first_error.unwrap_or(PhoneError::Empty))
    }

    /// The E.164 string, e.g. `+40722123456`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(raw: &str, region: Option<&str>, expected: &str) {
        let phone = PhoneE164::parse(raw, region).unwrap_or_else(|error| panic!("{raw}: {error}"));
        assert_eq!(phone.as_str(), expected, "{raw} in {region:?}");
    }

    #[test]
    fn uk_numbers_in_every_common_form_become_one() {
        for raw in ["07911 123456", "+44 7911 123456", "0044 7911 123 456", "(0)7911-123-456", "+44 (0) 7911 123456"] {
            check(raw, None, "+447911123456");
        }
        check("020 7946 0018", None, "+442079460018");
    }

    #[test]
    fn numbers_of_the_communities_we_serve_in_local_and_international_forms() {
        // Romania, Hungary, Vietnam, China, Albania, Poland.
        check("0722 123 456", Some("RO"), "+40722123456");
        check("+40 722 123 456", None, "+40722123456");
        check("0040722123456", None, "+40722123456");
        check("06 20 123 4567", Some("HU"), "+36201234567");
        check("+36 20 123 4567", None, "+36201234567");
        check("091 234 56 78", Some("VN"), "+84912345678");
        check("+84 91 234 5678", None, "+84912345678");
        check("138 0013 8000", Some("CN"), "+8613800138000");
        check("+86 138 0013 8000", None, "+8613800138000");
        check("069 123 4567", Some("AL"), "+355691234567");
        check("+355 69 123 4567", None, "+355691234567");
        check("512 345 678", Some("PL"), "+48512345678");
        check("+48 512 345 678", None, "+48512345678");
    }

    #[test]
    fn hints_resolve_national_forms_of_foreign_numbers() {
        let phone = PhoneE164::parse_with_hints("0722 123 456", &["RO"]).expect("romanian mobile");
        assert_eq!(phone.as_str(), "+40722123456");
    }

    #[test]
    fn impossible_numbers_are_errors_not_guesses() {
        assert_eq!(PhoneE164::parse("  ", None), Err(PhoneError::Empty));
        assert!(matches!(PhoneE164::parse("07911 12345", None), Err(PhoneError::Invalid { .. })));
        assert!(matches!(PhoneE164::parse("not a phone", None), Err(PhoneError::Unparseable { .. })));
        assert_eq!(PhoneE164::parse("07911123456", Some("XX")), Err(PhoneError::UnknownRegion("XX".into())));
    }

    #[test]
    fn compact_forms_drop_separators_only_from_plain_numbers() {
        assert_eq!(compact_phone(" 07911 123-456 "), "07911123456");
        assert_eq!(compact_phone("0040 722.123.456"), "+40722123456");
        assert_eq!(compact_phone("+44 (0) 7911 123456"), "+44(0)7911123456");
        assert_eq!(compact_phone("07911 123456 ext 12"), "07911 123456 ext 12");
        assert_eq!(compact_phone("00 0722"), "000722");
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(raw in "\\PC{0,30}") {
            let _ = PhoneE164::parse(&raw, None);
        }

        #[test]
        fn compacting_is_idempotent_so_compact_forms_parse_alike(raw in "[0-9 +().-]{0,16}|\\PC{0,16}") {
            let compact = compact_phone(&raw);
            let again = compact_phone(&compact);
            prop_assert_eq!(again.as_ref(), compact.as_ref());
            prop_assert_eq!(PhoneE164::parse(&compact, None).map_err(|error| error.with_input(&raw)), PhoneE164::parse(&raw, None));
        }

        #[test]
        fn e164_output_round_trips(national in "7[0-9]{9}") {
            if let Ok(phone) = PhoneE164::parse(&format!("0{national}"), None) {
                prop_assert_eq!(PhoneE164::parse(phone.as_str(), None).expect("e164 reparses"), phone);
            }
        }
    }
}
