//! Dates of birth in every form people write them. A day is only ever
//! present with a month, and a date kept as written keeps its parts in range.
#![no_main]

use aidant_link::dob::PartialDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(date) = PartialDate::parse(raw) {
        assert!(date.day.is_none() || date.month.is_some(), "{raw:?} {date:?}");
        assert!(date.month.is_none_or(|month| (1..=12).contains(&month)), "{raw:?} {date:?}");
    }
    if let Ok((date, _)) = PartialDate::parse_as_written(raw) {
        assert!(date.day.is_none() || date.month.is_some(), "{raw:?} {date:?}");
    }
});
