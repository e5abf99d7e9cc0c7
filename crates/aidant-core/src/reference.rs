//! Report references: short codes a reporter can write down, read aloud over
//! the phone, and type back in later without confusion.

use std::fmt;

/// Characters that cannot be confused with one another when handwritten or
/// spoken: no 0/O/Q-like pairs, no 1/I/L, no 2/Z, 5/S, 8/B or U/V.
pub const ALPHABET: &[u8; 22] = b"ACDEFGHJKMNPRTWXY34679";

/// Number of characters in a reference (shown in three groups of three).
pub const LENGTH: usize = 9;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("a reference has {LENGTH} letters and numbers, like ACD-379-KMW")]
    WrongLength,
    #[error("a reference does not contain the character '{0}'")]
    BadCharacter(char),
}

/// A report's public reference, stored without separators and displayed as
/// `ACD-379-KMW`. About 22^9 ≈ 1.2 × 10^12 values, so guessing one is
/// impractical even before rate limiting and the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportRef(String);

impl ReportRef {
    /// Builds a reference from random bits supplied by the caller (the core
    /// does no IO, so it does not draw randomness itself).
    pub fn from_random(mut bits: u64) -> Self {
        let base = ALPHABET.len() as u64;
        let mut code = String::with_capacity(LENGTH);
        for _ in 0..LENGTH {
            code.push(ALPHABET[(bits % base) as usize] as char);
            bits /= base;
        }
        Self(code)
    }

    /// Parses what a person typed: case, spaces and dashes do not matter.
    pub fn parse(raw: &str) -> Result<Self, ReferenceError> {
        let mut code = String::with_capacity(LENGTH);
        for character in raw.chars() {
            if character.is_whitespace() || character == '-' {
                continue;
            }
            let upper = character.to_ascii_uppercase();
            if !upper.is_ascii() || !ALPHABET.contains(&(upper as u8)) {
                return Err(ReferenceError::BadCharacter(character));
            }
            code.push(upper);
        }
        if code.chars().count() != LENGTH {
            return Err(ReferenceError::WrongLength);
        }
        Ok(Self(code))
    }

    /// The compact form used in storage.
    pub fn as_compact(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReportRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}-{}-{}", &self.0[0..3], &self.0[3..6], &self.0[6..9])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_in_groups_and_parses_back() {
        let reference = ReportRef::from_random(0x1234_5678_9abc_def0);
        let shown = reference.to_string();
        assert_eq!(shown.len(), 11);
        assert_eq!(ReportRef::parse(&shown), Ok(reference.clone()));
        assert_eq!(ReportRef::parse(&shown.to_lowercase().replace('-', " ")), Ok(reference));
    }

    #[test]
    fn rejects_ambiguous_characters_and_wrong_lengths() {
        assert_eq!(ReportRef::parse("ACD-379-KM0"), Err(ReferenceError::BadCharacter('0')));
        assert_eq!(ReportRef::parse("ACD-379-KMO"), Err(ReferenceError::BadCharacter('O')));
        assert_eq!(ReportRef::parse("ACD-379"), Err(ReferenceError::WrongLength));
        assert_eq!(ReportRef::parse("ACD-379-KMWA"), Err(ReferenceError::WrongLength));
        assert_eq!(ReportRef::parse("ACD-379-KMŴ"), Err(ReferenceError::BadCharacter('Ŵ')));
    }

    #[test]
    fn different_bits_give_different_references() {
        assert_ne!(ReportRef::from_random(1), ReportRef::from_random(2));
    }

    proptest::proptest! {
        #[test]
        fn every_generated_reference_round_trips(bits in proptest::num::u64::ANY) {
            let reference = ReportRef::from_random(bits);
            proptest::prop_assert_eq!(ReportRef::parse(&reference.to_string()), Ok(reference));
        }

        #[test]
        fn parse_never_panics(raw in ".{0,20}") {
            let _ = ReportRef::parse(&raw);
        }
    }
}
