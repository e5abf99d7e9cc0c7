//! UK postcodes: shape checked, spacing and case normalised, split into outcode, sector and inward code.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A UK postcode such as `SW1A 1AA`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Postcode {
    outcode: String,
    incode: String,
}

/// Why a postcode could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    #[error("the postcode is empty")]
    Empty,
    #[error("{0:?} is too short or too long for a UK postcode (5 to 7 letters and digits)")]
    WrongLength(String),
    #[error("{0:?} does not have the shape of a UK postcode (outward code A9, A99, AA9, AA99, A9A or AA9A, then 9AA)")]
    WrongShape(String),
    #[error("{0:?} does not start with a UK postcode area")]
    UnknownArea(String),
}

/// Every postcode area in use: Great Britain's and Northern Ireland's, the
/// Crown dependencies' (GY, JE, IM), and BF (British Forces) and BX
/// (non-geographic). A word of postcode shape outside them ("at 10pm",
/// `AT1 0PM`) is not a postcode.
pub const AREAS: [&str; 126] = [
    "AB", "AL", "B", "BA", "BB", "BD", "BF", "BH", "BL", "BN", "BR", "BS", "BT", "BX", "CA", "CB", "CF", "CH", "CM", "CO", "CR", "CT", "CV", "CW", "DA", "DD",
    "DE", "DG", "DH", "DL", "DN", "DT", "DY", "E", "EC", "EH", "EN", "EX", "FK", "FY", "G", "GL", "GU", "GY", "HA", "HD", "HG", "HP", "HR", "HS", "HU", "HX",
    "IG", "IM", "IP", "IV", "JE", "KA", "KT", "KW", "KY", "L", "LA", "LD", "LE", "LL", "LN", "LS", "LU", "M", "ME", "MK", "ML", "N", "NE", "NG", "NN", "NP",
    "NR", "NW", "OL", "OX", "PA", "PE", "PH", "PL", "PO", "PR", "RG", "RH", "RM", "S", "SA", "SE", "SG", "SK", "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST",
    "SW", "SY", "TA", "TD", "TF", "TN", "TQ", "TR", "TS", "TW", "UB", "W", "WA", "WC", "WD", "WF", "WN", "WR", "WS", "WV", "YO", "ZE",
];

fn area_of(outcode: &str) -> &str {
    let letters = outcode.bytes().take_while(u8::is_ascii_alphabetic).count();
    &outcode[..letters]
}

fn outcode_has_valid_shape(outcode: &[u8]) -> bool {
    let letter = |byte: u8| byte.is_ascii_uppercase();
    let digit = |byte: u8| byte.is_ascii_digit();
    match *outcode {
        [a, b] => letter(a) && digit(b),
        [a, b, c] => letter(a) && ((digit(b) && digit(c)) || (letter(b) && digit(c)) || (digit(b) && letter(c))),
        [a, b, c, d] => letter(a) && letter(b) && digit(c) && (digit(d) || letter(d)),
        _ => false,
    }
}

impl Postcode {
    /// Parses a postcode written with any spacing and case, e.g. `sw1a1aa` or ` SW1A  1AA `.
    pub fn parse(raw: &str) -> Result<Self, PostcodeError> {
        let compact: String = raw.chars().filter(|character| !character.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        if compact.is_empty() {
            return Err(PostcodeError::Empty);
        }
        if !compact.is_ascii() {
            return Err(PostcodeError::WrongShape(compact));
        }
        if !(5..=7).contains(&compact.len()) {
            return Err(PostcodeError::WrongLength(compact));
        }
        if compact == "GIR0AA" {
            return Ok(Postcode { outcode: "GIR".into(), incode: "0AA".into() });
        }
        let (outcode, incode) = compact.split_at(compact.len() - 3);
        let incode_bytes = incode.as_bytes();
        let incode_valid = incode_bytes[0].is_ascii_digit() && incode_bytes[1].is_ascii_uppercase() && incode_bytes[2].is_ascii_uppercase();
        if !incode_valid || !outcode_has_valid_shape(outcode.as_bytes()) {
            return Err(PostcodeError::WrongShape(compact));
        }
        if !AREAS.contains(&area_of(outcode)) {
            return Err(PostcodeError::UnknownArea(compact));
        }
        Ok(Postcode { outcode: outcode.to_string(), incode: incode.to_string() })
    }

    /// The outward code (postcode district), e.g. `SW1A`.
    pub fn outcode(&self) -> &str {
        &self.outcode
    }

    /// The inward code, e.g. `1AA`.
    pub fn incode(&self) -> &str {
        &self.incode
    }

    /// The postcode sector, e.g. `SW1A 1`: a few thousand addresses, useful as a looser location match.
    pub fn sector(&self) -> String {
        format!("{} {}", self.outcode, &self.incode[..1])
    }

    /// The postcode area: the leading letters of the outward code, e.g. `SW`.
    pub fn area(&self) -> &str {
        area_of(&self.outcode)
    }
}

/// A postcode district (outward code) such as `LU1`, `MK45` or `SW1A`, typed
/// with any case and surrounding spaces; the normalised district, or `None`
/// when the text does not have a district's shape (a town name, say).
pub fn parse_outcode(raw: &str) -> Option<String> {
    let outcode = raw.trim().to_ascii_uppercase();
    (outcode == "GIR" || (outcode_has_valid_shape(outcode.as_bytes()) && AREAS.contains(&area_of(&outcode)))).then_some(outcode)
}

impl fmt::Display for Postcode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.outcode, self.incode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(raw: &str, display: &str, outcode: &str, sector: &str) {
        let postcode = Postcode::parse(raw).unwrap_or_else(|error| panic!("{raw}: {error}"));
        assert_eq!(postcode.to_string(), display);
        assert_eq!(postcode.outcode(), outcode);
        assert_eq!(postcode.sector(), sector);
    }

    #[test]
    fn a_word_of_postcode_shape_outside_the_areas_is_not_a_postcode() {
        assert_eq!(Postcode::parse("at1 0pm"), Err(PostcodeError::UnknownArea("AT10PM".into())));
        assert_eq!(parse_outcode("QQ1"), None);
        assert_eq!(parse_outcode("lu5").as_deref(), Some("LU5"));
        assert!(Postcode::parse("BT1 1AA").is_ok() && Postcode::parse("JE2 3AB").is_ok() && Postcode::parse("ZE1 0AA").is_ok());
    }

    #[test]
    fn normalises_every_outward_shape() {
        check("m1 1ae", "M1 1AE", "M1", "M1 1");
        check("B338TH", "B33 8TH", "B33", "B33 8");
        check("cr2 6xh", "CR2 6XH", "CR2", "CR2 6");
        check("DN55 1PT", "DN55 1PT", "DN55", "DN55 1");
        check("w1a 1hq", "W1A 1HQ", "W1A", "W1A 1");
        check(" EC1A  1BB ", "EC1A 1BB", "EC1A", "EC1A 1");
        check("gir0aa", "GIR 0AA", "GIR", "GIR 0");
        assert_eq!(Postcode::parse("EC1A 1BB").expect("valid").area(), "EC");
    }

    #[test]
    fn rejects_what_is_not_a_postcode() {
        assert_eq!(Postcode::parse(" "), Err(PostcodeError::Empty));
        assert!(matches!(Postcode::parse("1234"), Err(PostcodeError::WrongLength(_))));
        assert!(matches!(Postcode::parse("12345"), Err(PostcodeError::WrongShape(_))));
        assert!(matches!(Postcode::parse("SW1A 1A1"), Err(PostcodeError::WrongShape(_))));
        assert!(matches!(Postcode::parse("ŞW1A 1AA"), Err(PostcodeError::WrongShape(_))));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(raw in "\\PC{0,12}") {
            let _ = Postcode::parse(&raw);
        }

        #[test]
        fn display_round_trips(area in prop::sample::select(AREAS.to_vec()), district in "[0-9]{1,2}", incode in "[0-9][A-Z]{2}") {
            let postcode = Postcode::parse(&format!("{area}{district}{incode}")).expect("generated postcode");
            prop_assert_eq!(Postcode::parse(&postcode.to_string()).expect("display reparses"), postcode);
        }
    }

    #[test]
    fn districts_are_told_from_towns() {
        for (typed, district) in [("LU1", "LU1"), ("mk45", "MK45"), (" E1 ", "E1"), ("SW1A", "SW1A")] {
            assert_eq!(parse_outcode(typed).as_deref(), Some(district), "{typed}");
        }
        for town in ["Luton", "Bedford", "", "12", "LUTON1X", "LU1 2AB", "1LU"] {
            assert_eq!(parse_outcode(town), None, "{town}");
        }
    }
}
