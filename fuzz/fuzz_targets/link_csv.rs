//! Any bytes as the CSV file `aidant link` reads. Reading never panics, and
//! a file that reads has no more records than lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = aidant_link::record::read_csv(data, 0) {
        let lines = data.split(|byte| *byte == b'\n' || *byte == b'\r').count();
        assert!(parsed.records.len() <= lines, "{} records from {lines} lines", parsed.records.len());
    }
});
