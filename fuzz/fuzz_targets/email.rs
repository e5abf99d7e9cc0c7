//! E-mail addresses as typed. One that parses has one @ and parses again to itself.
#![no_main]

use aidant_link::email::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(email) = Email::parse(raw) {
        assert_eq!(email.as_str().matches('@').count(), 1, "{email:?}");
        assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(&email), "{raw:?}");
    }
});
