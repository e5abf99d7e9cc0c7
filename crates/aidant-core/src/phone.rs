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

/// A compiled libphonenumber pattern: a descriptor matches a national number of one of its
/// possible lengths that its pattern matches from the first digit (`Descriptor::is_match`).
struct NumberPattern {
    possible_length: Vec<u16>,
    pattern: regex::Regex,
}

impl NumberPattern {
    fn compile(descriptor: &phonenumber::metadata::Descriptor) -> Option<Self> {
        let pattern = regex::RegexBuilder::new(&format!("^(?:{})", descriptor.national_number().as_str())).ignore_whitespace(true).build().ok()?;
        Some(NumberPattern { possible_length: descriptor.possible_length().to_vec(), pattern })
    }

    fn is_match(&self, national: &str) -> bool {
        (self.possible_length.is_empty() || self.possible_length.contains(&(national.len() as u16))) && self.pattern.is_match(national)
    }
}

/// One region sharing the UK's country code (GB, Guernsey, Isle of Man, Jersey), in the order
/// libphonenumber tries them.
struct RegionPatterns {
    leading_digits: Option<regex::Regex>,
    general: NumberPattern,
    /// Every descriptor `phonenumber::validator::number_type` tests; a number is valid when its
    /// region's general pattern and any of these match.
    types: Vec<NumberPattern>,
}

/// The UK numbering plan compiled from the `phonenumber` crate's own metadata into patterns that
/// need no lock, so UK numbers written plainly are validated in parallel.
///
/// The crate keeps its compiled patterns in one cache behind one mutex and looks each pattern up by
/// its text, which made parsing a million reports' numbers a serial stage. The validity rule is
/// the crate's (`is_valid`: the region found for the number, then its number type), applied to the
/// same patterns; `uk_fast_path_agrees_with_libphonenumber` checks the two agree.
struct UkNumberingPlan {
    regions: Vec<RegionPatterns>,
}

const UK_COUNTRY_CODE: u16 = 44;

fn uk_numbering_plan() -> Option<&'static UkNumberingPlan> {
    static PLAN: std::sync::OnceLock<Option<UkNumberingPlan>> = std::sync::OnceLock::new();
    PLAN.get_or_init(|| {
        let database = &*phonenumber::metadata::DATABASE;
        let mut regions = Vec::new();
        for region in database.region(&UK_COUNTRY_CODE)? {
            let metadata = database.by_id(region)?;
            let descriptors = metadata.descriptors();
            let leading_digits = match metadata.leading_digits() {
                Some(pattern) => Some(regex::RegexBuilder::new(&format!("^(?:{})", pattern.as_str())).ignore_whitespace(true).build().ok()?),
                None => None,
            };
            let typed = [
                descriptors.premium_rate(),
                descriptors.toll_free(),
                descriptors.shared_cost(),
                descriptors.voip(),
                descriptors.personal_number(),
                descriptors.pager(),
                descriptors.uan(),
                descriptors.voicemail(),
                descriptors.fixed_line(),
                descriptors.mobile(),
            ];
            let types = typed.into_iter().flatten().map(NumberPattern::compile).collect::<Option<Vec<_>>>()?;
            regions.push(RegionPatterns { leading_digits, general: NumberPattern::compile(descriptors.general())?, types });
        }
        (!regions.is_empty()).then_some(UkNumberingPlan { regions })
    })
    .as_ref()
}

impl UkNumberingPlan {
    /// Whether a UK national number (without the trunk 0) is valid: libphonenumber's `is_valid`.
    fn is_valid(&self, national: &str) -> bool {
        let number_type_known = |region: &RegionPatterns| region.general.is_match(national) && region.types.iter().any(|pattern| pattern.is_match(national));
        for region in &self.regions {
            match &region.leading_digits {
                // A region with leading digits claims the numbers they match, valid or not.
                Some(leading_digits) if leading_digits.is_match(national) => return number_type_known(region),
                Some(_) => {}
                None if number_type_known(region) => return true,
                None => {}
            }
        }
        false
    }
}

/// The national number of a compact form that is a UK number written plainly: "0" or "+44"
/// followed by nine or ten digits, the first not 0. Anything else goes through libphonenumber.
fn plain_uk_national_number(compact: &str) -> Option<&str> {
    let national = compact.strip_prefix("+44").or_else(|| compact.strip_prefix('0'))?;
    let plain = (9..=10).contains(&national.len()) && national.bytes().all(|byte| byte.is_ascii_digit()) && !national.starts_with('0');
    plain.then_some(national)
}

/// True when `parse` reads this compact form (see `compact_phone`) as UK without libphonenumber's
/// shared lock, so callers may parse such numbers in parallel.
pub fn is_plain_uk_number(compact: &str) -> bool {
    plain_uk_national_number(compact).is_some()
}

/// Whether a UK national number (without the trunk 0) is in one of the
/// ranges Ofcom keeps for drama, which can never be anyone's: mobiles 07700
/// 900000-900999, London 020 7946 0000-0999 and the no-area 01632
/// 960000-960999. libphonenumber calls them invalid; they are accepted here
/// because they are what training material, demonstrations and tests write,
/// and a real report that names one names a number no person holds.
pub fn is_drama_number(national: &str) -> bool {
    let in_range =
        |prefix: &str, rest: usize| national.len() == prefix.len() + rest && national.starts_with(prefix) && national.bytes().all(|byte| byte.is_ascii_digit());
    in_range("7700900", 3) || in_range("2079460", 3) || in_range("1632960", 3)
}

impl PhoneE164 {
    /// `parse` for a UK number written plainly (see `plain_uk_national_number`) read as a UK
    /// number, without libphonenumber's shared lock; `None` for every other input.
    fn parse_plain_uk(raw: &str, compact: &str) -> Option<Result<Self, PhoneError>> {
        let national = plain_uk_national_number(compact)?;
        let plan = uk_numbering_plan()?;
        let e164 = format!("+44{national}");
        Some(if plan.is_valid(national) || is_drama_number(national) { Ok(PhoneE164(e164)) } else { Err(PhoneError::Invalid { input: raw.to_string(), e164 }) })
    }

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
        if region == CountryId::GB
            && let Some(parsed) = Self::parse_plain_uk(raw, &input)
        {
            return parsed;
        }
        Self::parse_with_libphonenumber(raw, &input, region)
    }

    /// `parse` by libphonenumber alone, from the compact form `input` of `raw`.
    fn parse_with_libphonenumber(raw: &str, input: &str, region: CountryId) -> Result<Self, PhoneError> {
        enlarge_pattern_cache();
        let number = phonenumber::parse(Some(region), input).map_err(|error| PhoneError::Unparseable { input: raw.to_string(), reason: error.to_string() })?;
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        if !phonenumber::is_valid(&number) && !e164.strip_prefix("+44").is_some_and(is_drama_number) {
            return Err(PhoneError::Invalid { input: raw.to_string(), e164 });
        }
        // Read as the default region reads it, a number's E.164 form can
        // come back as another number (+881 with a leading zero, in the
        // phonenumber crate): one whose form does not read back as itself
        // cannot be matched on, so it is refused (found by the `phone`
        // fuzz target).
        let again = phonenumber::parse(Some(CountryId::GB), &e164)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|read| read.format().mode(phonenumber::Mode::E164).to_string());
        if again.as_deref() != Some(e164.as_str()) && !e164.strip_prefix("+44").is_some_and(is_drama_number) {
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

    /// Found by the `phone` fuzz target: `+881 0…` parsed to an E.164 form
    /// that read back as a different, invalid number.
    #[test]
    fn every_number_accepted_reads_back_from_its_e164_form_as_itself() {
        let mut accepted: Vec<PhoneE164> = Vec::new();
        for raw in ["+8-8-1]033444141", "+881033444141"] {
            accepted.extend(PhoneE164::parse(raw, None).ok());
            for region in ["GB", "RO", "VN", "AL", "PL", "XX"] {
                accepted.extend(PhoneE164::parse(raw, Some(region)).ok());
                accepted.extend(PhoneE164::parse_with_hints(raw, &[region]).ok());
            }
        }
        for phone in accepted {
            assert_eq!(PhoneE164::parse(phone.as_str(), None).as_ref(), Ok(&phone));
        }
        assert!(PhoneE164::parse("+881033444141", None).is_err(), "refused rather than stored in a form that reads back as another number");
    }
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
    fn ofcom_drama_numbers_are_read_though_libphonenumber_calls_them_invalid() {
        for raw in ["07700 900123", "+44 7700 900123", "0044 7700 900 123", "(07700) 900123"] {
            check(raw, None, "+447700900123");
        }
        check("01632 960001", None, "+441632960001");
        // Next to a drama range is an ordinary number, judged as one.
        assert!(is_drama_number("7700900999"));
        assert!(!is_drama_number("7700901000"));
        assert!(!is_drama_number("770090012"));
        assert!(PhoneE164::parse("07700 90012", None).is_err());
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

    /// The fast path's answer, and libphonenumber's, for one written number read as UK.
    fn both_ways(raw: &str) -> (Option<Result<PhoneE164, PhoneError>>, Result<PhoneE164, PhoneError>) {
        let compact = compact_phone(raw);
        (PhoneE164::parse_plain_uk(raw, &compact), PhoneE164::parse_with_libphonenumber(raw, &compact, CountryId::GB))
    }

    #[test]
    fn uk_fast_path_agrees_with_libphonenumber() {
        // Every four-digit start of a national number (so every area code and mobile, pager,
        // personal and non-geographic range, and the Crown dependencies' ranges), ten and nine
        // digits long, written nationally and internationally.
        let mut fast = 0;
        let mut valid = 0;
        for start in 1000..10_000u32 {
            for (suffix, tail) in [("12345", "6"), ("00000", "9"), ("98765", "")] {
                let national = format!("{start}{suffix}{tail}");
                for raw in [format!("0{national}"), format!("+44 {national}"), format!("0044{national}")] {
                    let (fast_answer, slow_answer) = both_ways(&raw);
                    let fast_answer = fast_answer.unwrap_or_else(|| panic!("{raw} should take the fast path"));
                    assert_eq!(fast_answer, slow_answer, "{raw}");
                    fast += 1;
                    valid += usize::from(slow_answer.is_ok());
                }
            }
        }
        assert!(valid > fast / 10 && valid < fast, "a real mix of valid and invalid numbers: {valid} of {fast}");
        // Guernsey, Jersey and the Isle of Man share +44 and are found by their own patterns.
        for raw in ["07781 123456", "07797 123456", "07624 123456", "01481 123456", "01534 123456", "01624 123456"] {
            let (fast_answer, slow_answer) = both_ways(raw);
            assert_eq!(fast_answer, Some(slow_answer), "{raw}");
        }
    }

    #[test]
    fn only_plain_uk_forms_take_the_fast_path() {
        for raw in ["+40 722 123 456", "07911 12345 ext 2", "+44 (0) 7911 123456", "0 07911 123456", "+44 07911 123456", "079", "07911 1234567"] {
            assert!(both_ways(raw).0.is_none(), "{raw}");
        }
        let hinted = PhoneE164::parse_with_hints("07911 123456", &["RO"]).expect("a UK mobile whatever the hint");
        assert_eq!(hinted.as_str(), "+447911123456");
        assert!(matches!(PhoneE164::parse("0722 123 456", Some("RO")), Ok(phone) if phone.as_str() == "+40722123456"));
    }

    proptest! {
        #[test]
        fn uk_fast_path_agrees_with_libphonenumber_on_any_digits(national in "[1-9][0-9]{8,9}", international in proptest::bool::ANY) {
            let raw = if international { format!("+44{national}") } else { format!("0{national}") };
            let (fast_answer, slow_answer) = both_ways(&raw);
            prop_assert_eq!(fast_answer, Some(slow_answer));
        }

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
