//! Vehicle registration marks (VRMs): UK formats recognised and normalised, other countries' plates kept raw.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which UK numbering scheme a registration belongs to; officers and the DVLA reason in these terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UkVrmFormat {
    /// Since 2001: two letters, two digits (age identifier), three letters, e.g. `AB12 CDE`.
    Current,
    /// 1983 to 2001: year letter, one to three digits, three letters, e.g. `A123 BCD`.
    Prefix,
    /// 1963 to 1983: three letters, one to three digits, year letter, e.g. `ABC 123D`.
    Suffix,
    /// Before 1963, cherished and Northern Irish marks: one to four digits with one to three letters, e.g. `ABC 1234`, `1 ABC`.
    Dateless,
}

/// A parsed registration mark.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Vrm {
    /// A UK mark, stored without spaces in upper case.
    Uk { mark: String, format: UkVrmFormat },
    /// A foreign plate: only case and separators are normalised, because every country has its own rules.
    Foreign { mark: String, country: String },
}

/// Why a registration could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VrmError {
    #[error("the registration is empty")]
    Empty,
    #[error("the registration contains the character {0:?}, which never appears on a plate")]
    InvalidCharacter(char),
    #[error("{0:?} does not match any UK registration format (current, prefix, suffix or dateless)")]
    UnrecognisedUkFormat(String),
    #[error("the country {0:?} is not a two- or three-letter code")]
    InvalidCountry(String),
}

/// Keeps letters and digits in upper case, dropping the spaces, hyphens and dots people type between groups:
/// the form every plate is stored, compared and linked in, whatever its country.
pub fn compact_mark(raw: &str) -> Result<String, VrmError> {
    let mut mark = String::with_capacity(raw.len());
    for character in raw.trim().chars() {
        if character.is_ascii_alphanumeric() {
            mark.push(character.to_ascii_uppercase());
        } else if character == ' ' || character == '-' || character == '.' || character == '\u{a0}' {
            continue;
        } else {
            return Err(VrmError::InvalidCharacter(character));
        }
    }
    if mark.is_empty() {
        return Err(VrmError::Empty);
    }
    Ok(mark)
}

/// Splits a compact mark into runs of letters and digits, e.g. `AB12CDE` into `AB`, `12`, `CDE`.
fn letter_digit_runs(mark: &str) -> Vec<(bool, usize)> {
    let mut runs: Vec<(bool, usize)> = Vec::new();
    for byte in mark.bytes() {
        let is_letter = byte.is_ascii_alphabetic();
        match runs.last_mut() {
            Some((last_is_letter, length)) if *last_is_letter == is_letter => *length += 1,
            _ => runs.push((is_letter, 1)),
        }
    }
    runs
}

fn classify_uk(mark: &str) -> Option<UkVrmFormat> {
    let runs = letter_digit_runs(mark);
    match runs.as_slice() {
        [(true, 2), (false, 2), (true, 3)] => Some(UkVrmFormat::Current),
        [(true, 1), (false, 1..=3), (true, 3)] => Some(UkVrmFormat::Prefix),
        [(true, 3), (false, 1..=3), (true, 1)] => Some(UkVrmFormat::Suffix),
        [(true, 1..=3), (false, 1..=4)] | [(false, 1..=4), (true, 1..=3)] => {
            // A mark of only zeros was never issued.
            if mark.bytes().filter(u8::is_ascii_digit).all(|digit| digit == b'0') { None } else { Some(UkVrmFormat::Dateless) }
        }
        _ => None,
    }
}

impl Vrm {
    /// Parses a UK registration in any of the four formats, ignoring spacing and case.
    pub fn parse_uk(raw: &str) -> Result<Self, VrmError> {
        let mark = compact_mark(raw)?;
        match classify_uk(&mark) {
            Some(format) => Ok(Vrm::Uk { mark, format }),
            None => Err(VrmError::UnrecognisedUkFormat(mark)),
        }
    }

    /// Parses a plate with the country it was seen with: UK plates are checked, others kept as written.
    pub fn parse_with_country(raw: &str, country: Option<&str>) -> Result<Self, VrmError> {
        let country = country.map(str::trim).filter(|code| !code.is_empty());
        match country {
            None => Self::parse_uk(raw),
            Some(code) => {
                let upper = code.to_ascii_uppercase();
                if !(2..=3).contains(&upper.len()) || !upper.bytes().all(|byte| byte.is_ascii_alphabetic()) {
                    return Err(VrmError::InvalidCountry(code.to_string()));
                }
                if matches!(upper.as_str(), "GB" | "UK" | "GBR") {
                    return Self::parse_uk(raw);
                }
                Ok(Vrm::Foreign { mark: compact_mark(raw)?, country: upper })
            }
        }
    }

    /// The mark without spaces, the form used as a blocking key and for equality.
    pub fn compact(&self) -> &str {
        match self {
            Vrm::Uk { mark, .. } | Vrm::Foreign { mark, .. } => mark,
        }
    }
}

impl fmt::Display for Vrm {
    /// UK marks are shown with the DVLA's spacing (`AB12 CDE`); foreign ones with their country.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Vrm::Uk { mark, format } => {
                let split_at = match format {
                    UkVrmFormat::Current => 4,
                    UkVrmFormat::Prefix | UkVrmFormat::Dateless => {
                        let runs = letter_digit_runs(mark);
                        runs.first().map_or(mark.len(), |first| if matches!(format, UkVrmFormat::Prefix) { first.1 + runs[1].1 } else { first.1 })
                    }
                    UkVrmFormat::Suffix => 3,
                };
                let (left, right) = mark.split_at(split_at.min(mark.len()));
                write!(formatter, "{left} {right}")
            }
            Vrm::Foreign { mark, country } => write!(formatter, "{mark} ({country})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_uk(input: &str, expected_display: &str, expected_format: UkVrmFormat) {
        let vrm = Vrm::parse_uk(input).unwrap_or_else(|error| panic!("{input}: {error}"));
        assert_eq!(vrm.to_string(), expected_display, "display of {input}");
        assert_eq!(vrm, Vrm::Uk { mark: expected_display.replace(' ', ""), format: expected_format });
    }

    #[test]
    fn recognises_every_uk_format_with_any_spacing_and_case() {
        check_uk("AB12 CDE", "AB12 CDE", UkVrmFormat::Current);
        check_uk("ab12cde", "AB12 CDE", UkVrmFormat::Current);
        check_uk(" Ab-12 c.de ", "AB12 CDE", UkVrmFormat::Current);
        check_uk("A123 BCD", "A123 BCD", UkVrmFormat::Prefix);
        check_uk("a1bcd", "A1 BCD", UkVrmFormat::Prefix);
        check_uk("ABC 123D", "ABC 123D", UkVrmFormat::Suffix);
        check_uk("abc1d", "ABC 1D", UkVrmFormat::Suffix);
        check_uk("ABC 1234", "ABC 1234", UkVrmFormat::Dateless);
        check_uk("1 ABC", "1 ABC", UkVrmFormat::Dateless);
        check_uk("9999 AZ", "9999 AZ", UkVrmFormat::Dateless);
    }

    #[test]
    fn rejects_marks_that_no_uk_format_allows() {
        assert_eq!(Vrm::parse_uk(""), Err(VrmError::Empty));
        assert_eq!(Vrm::parse_uk("  - "), Err(VrmError::Empty));
        assert_eq!(Vrm::parse_uk("AB12 CD£"), Err(VrmError::InvalidCharacter('£')));
        assert!(matches!(Vrm::parse_uk("ABCD 12345"), Err(VrmError::UnrecognisedUkFormat(_))));
        assert!(matches!(Vrm::parse_uk("A 000"), Err(VrmError::UnrecognisedUkFormat(_))));
        assert!(matches!(Vrm::parse_uk("AB12CDEF"), Err(VrmError::UnrecognisedUkFormat(_))));
    }

    #[test]
    fn foreign_plates_keep_their_shape_and_country() {
        let romanian = Vrm::parse_with_country("B 123 ABC", Some("ro")).expect("romanian plate");
        assert_eq!(romanian, Vrm::Foreign { mark: "B123ABC".into(), country: "RO".into() });
        assert_eq!(romanian.to_string(), "B123ABC (RO)");
        let british = Vrm::parse_with_country("ab12 cde", Some("GB")).expect("uk plate");
        assert!(matches!(british, Vrm::Uk { format: UkVrmFormat::Current, .. }));
        assert_eq!(Vrm::parse_with_country("X1", Some("R0")), Err(VrmError::InvalidCountry("R0".into())));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(raw in "\\PC{0,20}", country in proptest::option::of("\\PC{0,4}")) {
            let _ = Vrm::parse_with_country(&raw, country.as_deref());
        }

        #[test]
        fn display_round_trips_for_current_marks(mark in "[A-Z]{2}[0-9]{2}[A-Z]{3}") {
            let vrm = Vrm::parse_uk(&mark).expect("generated current mark");
            let reparsed = Vrm::parse_uk(&vrm.to_string()).expect("display reparses");
            prop_assert_eq!(reparsed, vrm);
        }

        #[test]
        fn display_round_trips_for_dateless_marks(mark in "[A-Z]{1,3}[1-9][0-9]{0,3}") {
            let vrm = Vrm::parse_uk(&mark).expect("generated dateless mark");
            prop_assert_eq!(Vrm::parse_uk(&vrm.to_string()).expect("display reparses"), vrm);
        }
    }
}
