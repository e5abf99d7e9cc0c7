//! UK postcodes with any spacing and case. One that parses is written with
//! its single space and parses again to itself.
#![no_main]

use aidant_core::postcode::{Postcode, parse_outcode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(postcode) = Postcode::parse(raw) {
        let written = postcode.to_string();
        assert_eq!(written.matches(' ').count(), 1, "{written:?}");
        assert_eq!(Postcode::parse(&written).as_ref(), Ok(&postcode), "{raw:?}");
    }
    let _ = parse_outcode(raw);
    let _ = aidant_core::report::parse_uk_postcode(raw);
});
