//! Any text as the configuration file (`aidant.toml`): refused with one line
//! naming what is wrong, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(message) = aidant_cli::check_configuration_text(text) {
        assert!(!message.is_empty() && !message.contains('\n'), "{message:?}");
    }
});
