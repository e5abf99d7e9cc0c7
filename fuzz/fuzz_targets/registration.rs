//! Vehicle registrations as typed, with or without a country. A mark that
//! parses parses again, to the same mark, from its compact form.
#![no_main]

use aidant_core::vrm::Vrm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, Option<String>)| {
    let (raw, country) = input;
    if let Ok(vrm) = Vrm::parse_with_country(&raw, country.as_deref()) {
        let again = Vrm::parse_with_country(vrm.compact(), country.as_deref());
        assert_eq!(again.as_ref(), Ok(&vrm), "{raw:?} {country:?}");
        let _ = vrm.to_string();
    }
    let _ = Vrm::parse_uk(&raw);
});
