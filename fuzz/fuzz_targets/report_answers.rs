//! A public report's answers, as the form and the API pass them to the core:
//! catalogue ids picked from the real catalogue or made up, and free text.
//! Parsing never panics, and a refusal names a field and says what is wrong.
#![no_main]

use std::sync::LazyLock;

use aidant_core::Catalogue;
use aidant_core::report::{ContactAnswer, NewReport, ReportAnswers, VehicleAnswer};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::from_toml(include_str!("../../data/indicators.toml")).expect("the shipped catalogue parses"));

/// A catalogue id: one the catalogue has, or any text.
#[derive(Arbitrary, Debug)]
enum Pick {
    Known(u16),
    Free(String),
}

impl Pick {
    fn resolve(self, ids: &[&str]) -> String {
        match self {
            Pick::Known(index) if !ids.is_empty() => ids[usize::from(index) % ids.len()].to_owned(),
            Pick::Known(_) => String::new(),
            Pick::Free(text) => text,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Answers {
    sector: Option<Pick>,
    postcode: Option<String>,
    town: Option<String>,
    location_description: Option<String>,
    business_name: Option<String>,
    signs: Vec<Pick>,
    people_count: Option<String>,
    age_groups: Vec<String>,
    people_description: Option<String>,
    vehicles: Vec<(Option<String>, Option<String>)>,
    narrative: Option<String>,
    when_seen: Option<String>,
    immediate_danger: bool,
    contact: Option<(Option<String>, Option<String>, Option<String>)>,
}

fuzz_target!(|answers: Answers| {
    let catalogue = &*CATALOGUE;
    let sectors: Vec<&str> = catalogue.sectors.iter().map(|sector| sector.id.as_str()).collect();
    let signs: Vec<&str> = catalogue.indicators.iter().map(|indicator| indicator.id.as_str()).collect();
    let answers = ReportAnswers {
        sector: answers.sector.map(|pick| pick.resolve(&sectors)),
        postcode: answers.postcode,
        town: answers.town,
        location_description: answers.location_description,
        business_name: answers.business_name,
        signs: answers.signs.into_iter().map(|pick| pick.resolve(&signs)).collect(),
        people_count: answers.people_count,
        age_groups: answers.age_groups,
        people_description: answers.people_description,
        vehicles: answers.vehicles.into_iter().map(|(registration, description)| VehicleAnswer { registration, description }).collect(),
        narrative: answers.narrative,
        when_seen: answers.when_seen,
        immediate_danger: answers.immediate_danger,
        contact: answers.contact.map(|(name, phone, email)| ContactAnswer { name, phone, email }),
    };
    if let Err(problems) = NewReport::parse(&answers, catalogue) {
        assert!(!problems.is_empty(), "a refusal lists its problems");
        for problem in problems {
            assert!(!problem.field.is_empty() && !problem.message.is_empty(), "{problem:?}");
        }
    }
});
