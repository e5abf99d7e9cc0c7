//! Text supplied by a person: bounded in length, free of control characters,
//! and otherwise kept exactly as written (emoji, right-to-left scripts,
//! combining marks and Chinese are all legitimate in a report).

use std::fmt;

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("is empty")]
    Empty,
    #[error("must be {max} characters or fewer (it has {actual})")]
    TooLong { max: usize, actual: usize },
    #[error("contains a control character that cannot be stored")]
    ControlCharacter,
}

/// Whether line breaks are allowed: free-text answers allow them, names and
/// one-line answers do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Single,
    Multiple,
}

/// A trimmed, non-empty string of at most a given number of characters with
/// no control characters other than line breaks and tabs where allowed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoundedText(String);

impl BoundedText {
    /// Parses `raw`, trimming surrounding white space. Carriage returns are
    /// folded into line feeds so a browser's `\r\n` and an API's `\n` store
    /// the same text.
    pub fn parse(raw: &str, max_chars: usize, lines: Lines) -> Result<Self, TextError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(TextError::Empty);
        }
        let normalised_breaks = trimmed.replace("\r\n", "\n").replace('\r', "\n");
        for character in normalised_breaks.chars() {
            let allowed_break = lines == Lines::Multiple && (character == '\n' || character == '\t');
            if is_forbidden_control(character) && !allowed_break {
                return Err(TextError::ControlCharacter);
            }
        }
        let actual = normalised_breaks.chars().count();
        if actual > max_chars {
            return Err(TextError::TooLong { max: max_chars, actual });
        }
        Ok(Self(normalised_breaks))
    }

    /// Parses an optional answer: blank means "not given", not an error.
    pub fn parse_optional(raw: Option<&str>, max_chars: usize, lines: Lines) -> Result<Option<Self>, TextError> {
        match raw {
            None => Ok(None),
            Some(value) if value.trim().is_empty() => Ok(None),
            Some(value) => Self::parse(value, max_chars, lines).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Control characters (C0, DEL, C1) and the Unicode "noncharacters" are never
/// meaningful in a report. Bidirectional formatting characters are allowed:
/// right-to-left text needs them.
fn is_forbidden_control(character: char) -> bool {
    character.is_control() || matches!(character as u32, 0xFDD0..=0xFDEF) || (character as u32 & 0xFFFE) == 0xFFFE
}

impl fmt::Debug for BoundedText {
    /// Free text may hold personal data, so `Debug` never prints it.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "BoundedText({} chars)", self.0.chars().count())
    }
}

impl AsRef<str> for BoundedText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A date written `YYYY-MM-DD` (surrounding spaces ignored), if it is a
/// real one: the one way dates are typed into Aidant's forms.
pub fn parse_iso_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, lines: Lines, expected: Result<&str, TextError>) {
        let parsed = BoundedText::parse(raw, 10, lines);
        assert_eq!(parsed.as_ref().map(BoundedText::as_str), expected.as_ref().map(|text| *text), "input {raw:?}");
    }

    #[test]
    fn keeps_unusual_unicode_exactly() {
        check("Ștefan 😀", Lines::Single, Ok("Ștefan 😀"));
        check("Nguyễn", Lines::Single, Ok("Nguyễn"));
        check("张伟", Lines::Single, Ok("张伟"));
        check("שלום", Lines::Single, Ok("שלום"));
        check("e\u{301}", Lines::Single, Ok("e\u{301}"));
    }

    #[test]
    fn trims_and_rejects_empty() {
        check("  hi  ", Lines::Single, Ok("hi"));
        check("   ", Lines::Single, Err(TextError::Empty));
    }

    #[test]
    fn counts_characters_not_bytes() {
        check("ăăăăăăăăăă", Lines::Single, Ok("ăăăăăăăăăă"));
        check("ăăăăăăăăăăă", Lines::Single, Err(TextError::TooLong { max: 10, actual: 11 }));
    }

    #[test]
    fn rejects_control_characters_but_allows_breaks_in_multiline() {
        check("a\u{0}b", Lines::Multiple, Err(TextError::ControlCharacter));
        check("a\u{1b}b", Lines::Multiple, Err(TextError::ControlCharacter));
        check("a\nb", Lines::Single, Err(TextError::ControlCharacter));
        check("a\r\nb", Lines::Multiple, Ok("a\nb"));
    }

    #[test]
    fn debug_hides_content() {
        let text = BoundedText::parse("Ion Popescu", 50, Lines::Single).unwrap();
        assert_eq!(format!("{text:?}"), "BoundedText(11 chars)");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_respects_limits(raw in ".{0,40}") {
            if let Ok(text) = BoundedText::parse(&raw, 20, Lines::Multiple) {
                proptest::prop_assert!(text.as_str().chars().count() <= 20);
                proptest::prop_assert!(!text.as_str().chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
            }
        }
    }
}
