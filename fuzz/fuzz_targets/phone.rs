//! Phone numbers in any form, read as UK numbers or with a region, and with
//! hints. A number that parses is E.164 and parses again to itself.
#![no_main]

use aidant_core::phone::PhoneE164;
use libfuzzer_sys::fuzz_target;

const REGIONS: [&str; 6] = ["GB", "RO", "VN", "AL", "PL", "XX"];

fuzz_target!(|input: (String, u8)| {
    let (raw, region) = input;
    let region = REGIONS[usize::from(region) % REGIONS.len()];
    for parsed in [PhoneE164::parse(&raw, None), PhoneE164::parse(&raw, Some(region)), PhoneE164::parse_with_hints(&raw, &[region])] {
        if let Ok(phone) = parsed {
            assert!(phone.as_str().starts_with('+'), "{phone:?}");
            assert_eq!(PhoneE164::parse(phone.as_str(), None).as_ref(), Ok(&phone), "{raw:?}");
        }
    }
});
