//! People's names written as one string, in any script and order.
#![no_main]

use aidant_link::name::PersonName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let _ = PersonName::parse_full(raw);
    let _ = aidant_link::name::fold_text(raw);
});
