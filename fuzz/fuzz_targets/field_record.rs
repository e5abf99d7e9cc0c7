//! What a phone sends for one field record (JSON, as the sync takes it), for
//! a site of any kind of place. Parsing never panics, and a refusal names a
//! field and says what is wrong.
#![no_main]

use std::sync::LazyLock;

use aidant_core::Catalogue;
use aidant_core::operations::{FieldRecord, FieldRecordAnswers};
use libfuzzer_sys::fuzz_target;

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::from_toml(include_str!("../../data/indicators.toml")).expect("the shipped catalogue parses"));

fuzz_target!(|data: &[u8]| {
    let Some((&sector_choice, json)) = data.split_first() else { return };
    let Ok(answers) = serde_json::from_slice::<FieldRecordAnswers>(json) else { return };
    let catalogue = &*CATALOGUE;
    let sector = catalogue.sectors.get(usize::from(sector_choice)).map(|sector| sector.id.as_str());
    if let Err(problems) = FieldRecord::parse(&answers, sector, catalogue) {
        assert!(!problems.is_empty(), "a refusal lists its problems");
        for problem in problems {
            assert!(!problem.field.is_empty() && !problem.message.is_empty(), "{problem:?}");
        }
    }
});
