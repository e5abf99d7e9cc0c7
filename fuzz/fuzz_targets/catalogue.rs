//! Any text as the indicator catalogue (`catalogue_file`). A catalogue that
//! loads names every sign's sectors among its own.
#![no_main]

use aidant_core::Catalogue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(catalogue) = Catalogue::from_toml(text) {
        for indicator in &catalogue.indicators {
            for sector in &indicator.sectors {
                assert!(sector == "general" || catalogue.sectors.iter().any(|known| &known.id == sector), "{sector}");
            }
        }
    }
});
