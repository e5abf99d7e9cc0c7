//! Dates of birth in any common written form, keeping partial dates (year only, month and year) partial.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A date of birth that may be known only to the year or the month.
///
/// Parsed dates always exist; one kept as written (`parse_as_written`) may hold a month or day
/// that does not (`1850-04-82`), so that it still compares with the date it was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    /// Only ever present together with `month`.
    pub day: Option<u8>,
}

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("the date is empty")]
    Empty,
    #[error("{input:?}: the word {word:?} is not a month name")]
    UnknownWord { input: String, word: String },
    #[error("{0:?} does not look like a date (expected e.g. 12/03/1985, 1985-03-12, 12 March 1985 or 1985)")]
    Unrecognised(String),
    #[error("{input:?}: year {year} is outside 1000 to 2100")]
    YearOutOfRange { input: String, year: u32 },
    #[error("{input:?}: there is no day {day} in month {month} of {year}")]
    NoSuchDay { input: String, year: u16, month: u8, day: u8 },
    #[error("{input:?}: month {month} does not exist")]
    NoSuchMonth { input: String, month: u32 },
}

const MONTH_NAMES: [(&str, u8); 24] = [
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

/// The earliest year of birth read: historical records (parish registers, censuses, peerages) go
/// back centuries, and a date of birth from them is as good evidence as a modern one.
pub const EARLIEST_YEAR: u16 = 1000;
/// The latest year of birth read; later years are typing errors.
pub const LATEST_YEAR: u16 = 2100;

/// A date's trimmed input with its year, month and day as written.
type Components<'a> = (&'a str, u16, Option<u32>, Option<u32>);

/// Two-digit years at or below this are read as 20xx, above it as 19xx: a date of birth written
/// `01/02/98` is far more likely 1998 than 2098.
pub const DEFAULT_TWO_DIGIT_YEAR_PIVOT: u16 = 25;

/// Countries moved from the Julian calendar, where every fourth year is a leap year, to the
/// Gregorian between 1582 and 1923 (Britain in 1752, Romania in 1919, Greece last), so a record
/// of a birth on 29 February 1700 or 1900 may be right where it was written: before 1923 any
/// fourth year has the day.
const LAST_JULIAN_YEAR: u16 = 1922;

fn is_leap_year(year: u16) -> bool {
    if year <= LAST_JULIAN_YEAR {
        return year.is_multiple_of(4);
    }
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[derive(Debug)]
enum Token {
    Number { value: u32, digits: usize },
    Month(u8),
}

fn tokenise(input: &str) -> Result<Vec<Token>, DateError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, tokens: &mut Vec<Token>| -> Result<(), DateError> {
        if current.is_empty() {
            return Ok(());
        }
        let word = std::mem::take(current);
        if word.bytes().all(|byte| byte.is_ascii_digit()) {
            if word.len() > 8 {
                return Err(DateError::Unrecognised(input.to_string()));
            }
            let value = word.parse::<u32>().map_err(|_| DateError::Unrecognised(input.to_string()))?;
            tokens.push(Token::Number { value, digits: word.len() });
        } else {
            let lower = word.to_lowercase();
            if let Some((_, month)) = MONTH_NAMES.iter().find(|(name, _)| *name == lower) {
                tokens.push(Token::Month(*month));
            } else if !matches!(lower.as_str(), "st" | "nd" | "rd" | "th" | "of") {
                return Err(DateError::UnknownWord { input: input.to_string(), word });
            }
        }
        Ok(())
    };
    let mut previous_was_digit = None;
    for character in input.chars() {
        if character.is_alphanumeric() {
            let is_digit = character.is_ascii_digit();
            if previous_was_digit.is_some_and(|previous| previous != is_digit) {
                flush(&mut current, &mut tokens)?;
            }
            current.push(character);
            previous_was_digit = Some(is_digit);
        } else {
            flush(&mut current, &mut tokens)?;
            previous_was_digit = None;
        }
    }
    flush(&mut current, &mut tokens)?;
    Ok(tokens)
}

impl PartialDate {
    /// Parses with the default two-digit-year pivot.
    pub fn parse(raw: &str) -> Result<Self, DateError> {
        Self::parse_with_pivot(raw, DEFAULT_TWO_DIGIT_YEAR_PIVOT)
    }

    /// Parses day-first UK forms (`12/03/1985`), ISO (`1985-03-12`), compact (`19850312`), written
    /// months (`12th March 1985`, `March 12, 1985`), month and year (`03/1985`) and a bare year.
    /// When the day and month cannot both be days (`03/25/1985`) the month-first reading is taken.
    pub fn parse_with_pivot(raw: &str, two_digit_year_pivot: u16) -> Result<Self, DateError> {
        let (input, year, month, day) = Self::components(raw, two_digit_year_pivot)?;
        Self::from_parts(input, year, month, day)
    }

    /// Parses like `parse`, but keeps a date whose day or month does not exist (`1850-04-82`,
    /// `31/02/1990`, a transcription or typing error) as written, with the error beside it: such a
    /// date still agrees with the one it was meant to be on the parts that were written right, and
    /// counts as evidence where dropping it would count as nothing. Errors on anything that is not
    /// a date at all.
    pub fn parse_as_written(raw: &str) -> Result<(Self, Option<DateError>), DateError> {
        let (input, year, month, day) = Self::components(raw, DEFAULT_TWO_DIGIT_YEAR_PIVOT)?;
        match Self::from_parts(input, year, month, day) {
            Ok(date) => Ok((date, None)),
            Err(error @ (DateError::NoSuchDay { .. } | DateError::NoSuchMonth { .. })) => {
                let as_written = |value: Option<u32>| value.map(|value| u8::try_from(value).ok().filter(|value| *value <= 99));
                match (as_written(month), as_written(day)) {
                    (Some(Some(month)), Some(Some(day))) => Ok((PartialDate { year, month: Some(month), day: Some(day) }, Some(error))),
                    (Some(Some(month)), None) => Ok((PartialDate { year, month: Some(month), day: None }, Some(error))),
                    _ => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// The trimmed input and its year, month and day as written, the year checked.
    fn components(raw: &str, two_digit_year_pivot: u16) -> Result<Components<'_>, DateError> {
        let input = raw.trim();
        if input.is_empty() {
            return Err(DateError::Empty);
        }
        let tokens = tokenise(input)?;
        let unrecognised = || DateError::Unrecognised(input.to_string());
        let year_of = |value: u32, digits: usize| -> Result<u16, DateError> {
            let year = match digits {
                1 | 2 => {
                    let short = value as u16;
                    if short <= two_digit_year_pivot { 2000 + short } else { 1900 + short }
                }
                4 => u16::try_from(value).map_err(|_| unrecognised())?,
                _ => return Err(unrecognised()),
            };
            if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&year) {
                return Err(DateError::YearOutOfRange { input: input.to_string(), year: u32::from(year) });
            }
            Ok(year)
        };
        let (year, month, day): (u16, Option<u32>, Option<u32>) = match tokens.as_slice() {
            [Token::Number { value, digits: 4 }] => (year_of(*value, 4)?, None, None),
            [Token::Number { value, digits: 8 }] => {
                let text = format!("{value:08}");
                let leading: u32 = text[..4].parse().map_err(|_| unrecognised())?;
                let (middle, last): (u32, u32) = (text[4..6].parse().map_err(|_| unrecognised())?, text[6..].parse().map_err(|_| unrecognised())?);
                // Year first (19850312) when that reads as a date; otherwise day first (12031985).
                let year_first =
                    (u32::from(EARLIEST_YEAR)..=u32::from(LATEST_YEAR)).contains(&leading) && (1..=12).contains(&middle) && (1..=31).contains(&last);
                if year_first {
                    (year_of(leading, 4)?, Some(middle), Some(last))
                } else {
                    (year_of(text[4..].parse().map_err(|_| unrecognised())?, 4)?, text[2..4].parse().ok(), text[..2].parse().ok())
                }
            }
            [Token::Number { value, digits: 6 }] => {
                let text = format!("{value:06}");
                let short_year: u32 = text[4..].parse().map_err(|_| unrecognised())?;
                (year_of(short_year, 2)?, text[2..4].parse().ok(), text[..2].parse().ok())
            }
            [Token::Number { value: year, digits: 4 }, Token::Number { value: month, digits: 1 | 2 }]
            | [Token::Number { value: month, digits: 1 | 2 }, Token::Number { value: year, digits: 4 }] => (year_of(*year, 4)?, Some(*month), None),
            [Token::Month(month), Token::Number { value: year, digits: year_digits }] => (year_of(*year, *year_digits)?, Some(u32::from(*month)), None),
            [Token::Number { value: year, digits: 4 }, Token::Number { value: month, digits: 1 | 2 }, Token::Number { value: day, digits: 1 | 2 }] => {
                (year_of(*year, 4)?, Some(*month), Some(*day))
            }
            [
                Token::Number { value: first, digits: 1 | 2 },
                Token::Number { value: second, digits: 1 | 2 },
                Token::Number { value: year, digits: year_digits },
            ] => {
                let (day, month) = if *second > 12 && *first <= 12 { (*second, *first) } else { (*first, *second) };
                (year_of(*year, *year_digits)?, Some(month), Some(day))
            }
            [Token::Number { value: day, digits: 1 | 2 }, Token::Month(month), Token::Number { value: year, digits: year_digits }]
            | [Token::Month(month), Token::Number { value: day, digits: 1 | 2 }, Token::Number { value: year, digits: year_digits }] => {
                (year_of(*year, *year_digits)?, Some(u32::from(*month)), Some(*day))
            }
            [Token::Number { value: year, digits: 4 }, Token::Month(month), Token::Number { value: day, digits: 1 | 2 }] => {
                (year_of(*year, 4)?, Some(u32::from(*month)), Some(*day))
            }
            _ => return Err(unrecognised()),
        };
        Ok((input, year, month, day))
    }

    fn from_parts(input: &str, year: u16, month: Option<u32>, day: Option<u32>) -> Result<Self, DateError> {
        let Some(month) = month else {
            return Ok(PartialDate { year, month: None, day: None });
        };
        if !(1..=12).contains(&month) {
            return Err(DateError::NoSuchMonth { input: input.to_string(), month });
        }
        let month = month as u8;
        let Some(day) = day else {
            return Ok(PartialDate { year, month: Some(month), day: None });
        };
        if day == 0 || day > u32::from(days_in_month(year, month)) {
            return Err(DateError::NoSuchDay { input: input.to_string(), year, month, day: day.min(255) as u8 });
        }
        Ok(PartialDate { year, month: Some(month), day: Some(day as u8) })
    }

    /// Builds a full date, checking the day exists.
    pub fn full(year: u16, month: u8, day: u8) -> Result<Self, DateError> {
        Self::from_parts("", year, Some(u32::from(month)), Some(u32::from(day)))
    }

    /// True when the day and month are both known.
    pub fn is_full(&self) -> bool {
        self.day.is_some()
    }
}

impl fmt::Display for PartialDate {
    /// ISO 8601 with reduced precision: `1985-03-12`, `1985-03` or `1985`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(formatter, "-{month:02}")?;
            if let Some(day) = self.day {
                write!(formatter, "-{day:02}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(raw: &str, expected: &str) {
        let date = PartialDate::parse(raw).unwrap_or_else(|error| panic!("{raw}: {error}"));
        assert_eq!(date.to_string(), expected, "{raw}");
    }

    #[test]
    fn reads_every_common_form() {
        check("12/03/1985", "1985-03-12");
        check("12-03-1985", "1985-03-12");
        check("12.3.1985", "1985-03-12");
        check("1985-03-12", "1985-03-12");
        check("1985/3/12", "1985-03-12");
        check("19850312", "1985-03-12");
        check("12031985", "1985-03-12");
        check("120385", "1985-03-12");
        check("12/03/85", "1985-03-12");
        check("01/02/03", "2003-02-01");
        check("12 March 1985", "1985-03-12");
        check("12th of March, 1985", "1985-03-12");
        check("March 12, 1985", "1985-03-12");
        check("12-Mar-85", "1985-03-12");
        check("1985 mar 12", "1985-03-12");
        check("03/25/1985", "1985-03-25");
    }

    #[test]
    fn reads_historical_dates_of_birth() {
        check("1700", "1700");
        check("14 April 1643", "1643-04-14");
        check("1643-04-14", "1643-04-14");
        check("14/04/1643", "1643-04-14");
        check("16430414", "1643-04-14");
        check("14041643", "1643-04-14");
        check("1066", "1066");
        check("29/02/1600", "1600-02-29");
        check("29/02/1700", "1700-02-29");
        assert!(matches!(PartialDate::parse("29/02/1701"), Err(DateError::NoSuchDay { .. })));
        assert!(matches!(PartialDate::parse("29/02/2100"), Err(DateError::NoSuchDay { .. })), "2100 is no leap year in any calendar in use");
    }

    #[test]
    fn impossible_dates_are_kept_as_written_with_their_error() {
        let (date, error) = PartialDate::parse_as_written("1850-04-82").unwrap();
        assert_eq!((date.year, date.month, date.day), (1850, Some(4), Some(82)));
        assert!(matches!(error, Some(DateError::NoSuchDay { day: 82, .. })));
        let (date, error) = PartialDate::parse_as_written("31/02/1990").unwrap();
        assert_eq!(date.to_string(), "1990-02-31");
        assert!(error.is_some());
        let (date, error) = PartialDate::parse_as_written("1990-13-02").unwrap();
        assert_eq!((date.month, date.day), (Some(13), Some(2)));
        assert!(matches!(error, Some(DateError::NoSuchMonth { month: 13, .. })));
        assert_eq!(PartialDate::parse_as_written("12/03/1985").unwrap(), (PartialDate::parse("12/03/1985").unwrap(), None));
        assert!(PartialDate::parse_as_written("yesterday").is_err(), "not a date at all");
        assert!(PartialDate::parse_as_written("0999").is_err());
        assert!(PartialDate::parse("1850-04-82").is_err(), "parse itself still refuses it");
    }

    #[test]
    fn keeps_partial_dates_partial() {
        check("1985", "1985");
        check(" 1985 ", "1985");
        check("03/1985", "1985-03");
        check("1985-03", "1985-03");
        check("March 1985", "1985-03");
        let year_only = PartialDate::parse("1985").expect("year");
        assert_eq!(year_only, PartialDate { year: 1985, month: None, day: None });
        assert!(!year_only.is_full());
    }

    #[test]
    fn rejects_impossible_and_unreadable_dates() {
        assert_eq!(PartialDate::parse(""), Err(DateError::Empty));
        assert!(matches!(PartialDate::parse("29/02/1985"), Err(DateError::NoSuchDay { day: 29, .. })));
        assert!(PartialDate::parse("29/02/1984").is_ok());
        assert!(matches!(PartialDate::parse("12/13/1985/1"), Err(DateError::Unrecognised(_))));
        assert!(matches!(PartialDate::parse("1985-13-01"), Err(DateError::NoSuchMonth { month: 13, .. })));
        assert!(matches!(PartialDate::parse("0999"), Err(DateError::YearOutOfRange { year: 999, .. })));
        assert!(matches!(PartialDate::parse("2201"), Err(DateError::YearOutOfRange { year: 2201, .. })));
        assert!(matches!(PartialDate::parse("12 Brumaire 1985"), Err(DateError::UnknownWord { .. })));
        assert!(matches!(PartialDate::parse("yesterday"), Err(DateError::UnknownWord { .. })));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(raw in "\\PC{0,24}") {
            let _ = PartialDate::parse(&raw);
        }

        #[test]
        fn iso_display_round_trips(year in EARLIEST_YEAR..=LATEST_YEAR, month in 1u8..=12, day in 1u8..=28) {
            let date = PartialDate::full(year, month, day).expect("generated date");
            prop_assert_eq!(PartialDate::parse(&date.to_string()).expect("iso reparses"), date);
            let uk_form = format!("{day:02}/{month:02}/{year}");
            prop_assert_eq!(PartialDate::parse(&uk_form).expect("uk form parses"), date);
        }
    }
}
