//! A public report of suspected modern slavery: the raw answers a person gave,
//! and the parsed `NewReport` the rest of the system trusts.
//!
//! Parsing collects every problem at once, each named by the field it belongs
//! to, so a form can show the GOV.UK error summary and an API client gets one
//! complete list.

use std::collections::BTreeSet;

use crate::catalogue::{Catalogue, GENERAL_SECTOR};
use crate::postcode::Postcode;
use crate::text::{BoundedText, Lines, TextError};
use crate::triage::{self, Triage, TriageInput};
use crate::vrm::compact_mark;

/// Server-side limits, stated in every message that enforces them.
pub mod limits {
    pub const SHORT_TEXT: usize = 200;
    pub const MEDIUM_TEXT: usize = 1_000;
    pub const NARRATIVE: usize = 5_000;
    pub const VEHICLES: usize = 10;
    pub const REGISTRATION: usize = 12;
    pub const PEOPLE: u32 = 500;
    pub const SIGNS: usize = 100;
    /// A contact phone number, as sent.
    pub const PHONE: usize = 40;
}

/// Age groups a reporter can choose for the people they saw.
pub const AGE_GROUPS: [(&str, &str); 4] = [("under_18", "Under 18"), ("18_to_24", "18 to 24"), ("25_and_over", "25 or older"), ("not_sure", "Not sure")];

/// A vehicle as typed by the reporter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VehicleAnswer {
    pub registration: Option<String>,
    pub description: Option<String>,
}

/// How the reporter wants to be contacted, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactAnswer {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Everything a reporter answered, unparsed. The web form and the JSON API
/// both fill this in, so they share one set of rules and messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportAnswers {
    pub sector: Option<String>,
    pub postcode: Option<String>,
    pub town: Option<String>,
    pub location_description: Option<String>,
    pub business_name: Option<String>,
    pub signs: Vec<String>,
    pub people_count: Option<String>,
    pub age_groups: Vec<String>,
    pub people_description: Option<String>,
    pub vehicles: Vec<VehicleAnswer>,
    pub narrative: Option<String>,
    pub when_seen: Option<String>,
    pub immediate_danger: bool,
    pub contact: Option<ContactAnswer>,
}

/// One problem with one answer. `field` is the form field's name, which is
/// also the JSON member's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The token a client sends so that sending the same report twice (a double
/// click, a retry after a lost answer) stores it once: 1 to 100 printable
/// characters, unique per draft.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubmissionToken(String);

impl SubmissionToken {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() || raw.chars().count() > Self::MAX_CHARS || raw.chars().any(char::is_control) {
            return Err(FieldError { field: "submission_token".into(), message: "submission_token must be 1 to 100 printable characters".into() });
        }
        Ok(SubmissionToken(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Contact details a reporter chose to leave. Encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDetails {
    pub name: Option<BoundedText>,
    pub phone: Option<BoundedText>,
    pub email: Option<BoundedText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vehicle {
    /// Upper case, without spaces; foreign plates are kept as written.
    pub registration: Option<String>,
    pub description: Option<BoundedText>,
}

/// A report that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub sector: String,
    pub postcode: Option<String>,
    pub town: Option<BoundedText>,
    pub location_description: Option<BoundedText>,
    pub business_name: Option<BoundedText>,
    pub signs: Vec<String>,
    pub people_count: Option<u32>,
    pub age_groups: Vec<String>,
    pub people_description: Option<BoundedText>,
    pub vehicles: Vec<Vehicle>,
    pub narrative: Option<BoundedText>,
    pub when_seen: Option<BoundedText>,
    pub immediate_danger: bool,
    pub contact: Option<ContactDetails>,
}

impl NewReport {
    /// Parses answers against the catalogue, returning every problem found
    /// in English (the API's wording).
    pub fn parse(answers: &ReportAnswers, catalogue: &Catalogue) -> Result<Self, Vec<FieldError>> {
        Self::check(answers, catalogue).map_err(|problems| problems.into_iter().map(FieldError::from).collect())
    }

    /// Parses answers against the catalogue, returning every problem found
    /// unworded, for a page to give in the reader's language.
    pub fn check(answers: &ReportAnswers, catalogue: &Catalogue) -> Result<Self, Vec<AnswerProblem>> {
        let mut errors = Errors::default();

        let sector = match answers.sector.as_deref().map(str::trim) {
            None | Some("") => {
                errors.add("sector", Problem::SectorMissing);
                String::new()
            }
            Some(id) if id == GENERAL_SECTOR || catalogue.sector(id).is_none() => {
                errors.add("sector", Problem::SectorUnknown);
                String::new()
            }
            Some(id) => id.to_owned(),
        };

        let postcode = match answers.postcode.as_deref().map(str::trim).filter(|raw| !raw.is_empty()) {
            None => None,
            Some(raw) => match parse_uk_postcode(raw) {
                Some(postcode) => Some(postcode),
                None => {
                    errors.add("postcode", Problem::PostcodeInvalid);
                    None
                }
            },
        };
        let town = errors.text("town", Label::Town, answers.town.as_deref(), limits::SHORT_TEXT, Lines::Single);
        let location_description =
            errors.text("location_description", Label::LocationDescription, answers.location_description.as_deref(), limits::MEDIUM_TEXT, Lines::Multiple);
        let business_name = errors.text("business_name", Label::BusinessName, answers.business_name.as_deref(), limits::SHORT_TEXT, Lines::Single);
        let location_given = postcode.is_some() || town.is_some() || location_description.is_some();
        let location_fields_clean = !errors.has_any(&["postcode", "town", "location_description"]);
        if !location_given && location_fields_clean {
            errors.add("postcode", Problem::LocationMissing);
        }

        let mut signs = Vec::new();
        let mut seen_signs = BTreeSet::new();
        if answers.signs.len() > limits::SIGNS {
            errors.add("signs", Problem::SignsTooMany { max: limits::SIGNS });
        } else {
            for sign in &answers.signs {
                match catalogue.indicator(sign.trim()) {
                    Some(indicator) if seen_signs.insert(indicator.id.clone()) => signs.push(indicator.id.clone()),
                    Some(_) => {}
                    None => errors.add("signs", Problem::SignsUnknown),
                }
            }
        }

        let people_count = match answers.people_count.as_deref().map(str::trim).filter(|raw| !raw.is_empty()) {
            None => None,
            Some(raw) => match raw.parse::<u32>() {
                Ok(count) if count <= limits::PEOPLE => Some(count),
                Ok(_) => {
                    errors.add("people_count", Problem::PeopleCountTooMany { max: limits::PEOPLE as usize });
                    None
                }
                Err(_) => {
                    errors.add("people_count", Problem::PeopleCountNotNumber);
                    None
                }
            },
        };
        let mut age_groups = Vec::new();
        for group in &answers.age_groups {
            match AGE_GROUPS.iter().find(|(id, _)| *id == group.trim()) {
                Some((id, _)) if !age_groups.iter().any(|chosen| chosen == id) => age_groups.push((*id).to_owned()),
                Some(_) => {}
                None => errors.add("age_groups", Problem::AgeGroupsUnknown),
            }
        }
        let people_description =
            errors.text("people_description", Label::PeopleDescription, answers.people_description.as_deref(), limits::MEDIUM_TEXT, Lines::Multiple);

        let mut vehicles = Vec::new();
        if answers.vehicles.len() > limits::VEHICLES {
            errors.add("vehicles", Problem::VehiclesTooMany { max: limits::VEHICLES });
        } else {
            for (position, vehicle) in answers.vehicles.iter().enumerate() {
                let number = position + 1;
                let registration = match vehicle.registration.as_deref().map(str::trim).filter(|raw| !raw.is_empty()) {
                    None => None,
                    Some(raw) => match normalise_registration(raw) {
                        Some(registration) => Some(registration),
                        None => {
                            errors.add(&format!("vehicles[{position}].registration"), Problem::RegistrationInvalid { number, max: limits::REGISTRATION });
                            None
                        }
                    },
                };
                let description = errors.text(
                    &format!("vehicles[{position}].description"),
                    Label::VehicleDescription { number },
                    vehicle.description.as_deref(),
                    limits::SHORT_TEXT,
                    Lines::Single,
                );
                if registration.is_some() || description.is_some() {
                    vehicles.push(Vehicle { registration, description });
                }
            }
        }

        let narrative = errors.text("narrative", Label::Narrative, answers.narrative.as_deref(), limits::NARRATIVE, Lines::Multiple);
        let when_seen = errors.text("when_seen", Label::WhenSeen, answers.when_seen.as_deref(), limits::SHORT_TEXT, Lines::Single);

        let contact = match &answers.contact {
            None => None,
            Some(contact) => {
                let name = errors.text("contact_name", Label::ContactName, contact.name.as_deref(), limits::SHORT_TEXT, Lines::Single);
                // Counted as sent, white space and all: a phone or an e-mail
                // address has no reason to be longer, and the API's document
                // says so with one plain length.
                let phone = errors.text_counted_whole("contact_phone", Label::ContactPhone, contact.phone.as_deref(), limits::PHONE, Lines::Single);
                let email = errors.text_counted_whole("contact_email", Label::ContactEmail, contact.email.as_deref(), limits::SHORT_TEXT, Lines::Single);
                if let Some(phone) = &phone
                    && !looks_like_phone(phone.as_str())
                {
                    errors.add("contact_phone", Problem::PhoneInvalid);
                }
                if let Some(email) = &email
                    && !looks_like_email(email.as_str())
                {
                    errors.add("contact_email", Problem::EmailInvalid);
                }
                if phone.is_none() && email.is_none() && !errors.has_any(&["contact_phone", "contact_email"]) {
                    errors.add("contact_phone", Problem::ContactMissing);
                }
                Some(ContactDetails { name, phone, email })
            }
        };

        if !errors.list.is_empty() {
            return Err(errors.list);
        }
        Ok(NewReport {
            sector,
            postcode,
            town,
            location_description,
            business_name,
            signs,
            people_count,
            age_groups,
            people_description,
            vehicles,
            narrative,
            when_seen,
            immediate_danger: answers.immediate_danger,
            contact,
        })
    }

    /// Whether the reporter said anyone may be under 18.
    pub fn child_reported(&self) -> bool {
        self.age_groups.iter().any(|group| group == "under_18")
    }

    /// Triage this report against the catalogue's rules.
    pub fn triage(&self, catalogue: &Catalogue) -> Triage {
        let input = TriageInput {
            immediate_danger: self.immediate_danger,
            child_reported: self.child_reported(),
            sign_ids: self.signs.iter().map(String::as_str).collect(),
        };
        triage::triage(&input, catalogue)
    }
}

/// What is wrong with one answer of a report, in a form any language can
/// word: a message key (`key`), the numbers it mentions and, for free text,
/// which answer it is about. `english` gives the API's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    SectorMissing,
    SectorUnknown,
    PostcodeInvalid,
    LocationMissing,
    SignsTooMany { max: usize },
    SignsUnknown,
    PeopleCountTooMany { max: usize },
    PeopleCountNotNumber,
    AgeGroupsUnknown,
    VehiclesTooMany { max: usize },
    RegistrationInvalid { number: usize, max: usize },
    TooLong { label: Label, max: usize, actual: usize },
    LineBreak { label: Label },
    ControlCharacter { label: Label },
    PhoneInvalid,
    EmailInvalid,
    ContactMissing,
}

/// The free-text answers a problem can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Town,
    LocationDescription,
    BusinessName,
    PeopleDescription,
    VehicleDescription { number: usize },
    Narrative,
    WhenSeen,
    ContactName,
    ContactPhone,
    ContactEmail,
}

impl Label {
    /// The message key of the answer's name (`label_town`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Label::Town => "label_town",
            Label::LocationDescription => "label_location_description",
            Label::BusinessName => "label_business_name",
            Label::PeopleDescription => "label_people_description",
            Label::VehicleDescription { .. } => "label_vehicle_description",
            Label::Narrative => "label_narrative",
            Label::WhenSeen => "label_when_seen",
            Label::ContactName => "label_contact_name",
            Label::ContactPhone => "label_contact_phone",
            Label::ContactEmail => "label_contact_email",
        }
    }

    /// The vehicle's number, for the labels that have one.
    pub fn number(self) -> Option<usize> {
        match self {
            Label::VehicleDescription { number } => Some(number),
            _ => None,
        }
    }

    fn english(self) -> String {
        match self {
            Label::Town => "Town or area".to_owned(),
            Label::LocationDescription => "Description of the place".to_owned(),
            Label::BusinessName => "Business name".to_owned(),
            Label::PeopleDescription => "What you can tell us about the people".to_owned(),
            Label::VehicleDescription { number } => format!("Vehicle {number} description"),
            Label::Narrative => "What happened".to_owned(),
            Label::WhenSeen => "When you saw it".to_owned(),
            Label::ContactName => "Your name".to_owned(),
            Label::ContactPhone => "Your phone number".to_owned(),
            Label::ContactEmail => "Your email address".to_owned(),
        }
    }
}

impl Problem {
    /// The message key in the `[report_errors]` section of `data/messages/`.
    pub fn key(self) -> &'static str {
        match self {
            Problem::SectorMissing => "sector_missing",
            Problem::SectorUnknown => "sector_unknown",
            Problem::PostcodeInvalid => "postcode_invalid",
            Problem::LocationMissing => "location_missing",
            Problem::SignsTooMany { .. } => "signs_too_many",
            Problem::SignsUnknown => "signs_unknown",
            Problem::PeopleCountTooMany { .. } => "people_count_too_many",
            Problem::PeopleCountNotNumber => "people_count_not_number",
            Problem::AgeGroupsUnknown => "age_groups_unknown",
            Problem::VehiclesTooMany { .. } => "vehicles_too_many",
            Problem::RegistrationInvalid { .. } => "registration_invalid",
            Problem::TooLong { .. } => "too_long",
            Problem::LineBreak { .. } => "line_break",
            Problem::ControlCharacter { .. } => "control_character",
            Problem::PhoneInvalid => "phone_invalid",
            Problem::EmailInvalid => "email_invalid",
            Problem::ContactMissing => "contact_missing",
        }
    }

    /// The numbers the message mentions, by placeholder name.
    pub fn numbers(self) -> Vec<(&'static str, usize)> {
        match self {
            Problem::SignsTooMany { max } | Problem::PeopleCountTooMany { max } | Problem::VehiclesTooMany { max } => vec![("max", max)],
            Problem::RegistrationInvalid { number, max } => vec![("number", number), ("max", max)],
            Problem::TooLong { max, actual, .. } => vec![("max", max), ("actual", actual)],
            _ => Vec::new(),
        }
    }

    /// The free-text answer the problem is about, if any.
    pub fn label(self) -> Option<Label> {
        match self {
            Problem::TooLong { label, .. } | Problem::LineBreak { label } | Problem::ControlCharacter { label } => Some(label),
            _ => None,
        }
    }

    /// The message in English, as the API gives it.
    pub fn english(self) -> String {
        match self {
            Problem::SectorMissing => "Select the kind of place".to_owned(),
            Problem::SectorUnknown => "Select the kind of place from the list".to_owned(),
            Problem::PostcodeInvalid => "Enter a real postcode, like LU1 2AB, or leave it blank".to_owned(),
            Problem::LocationMissing => "Enter a postcode, a town or a description of where it was".to_owned(),
            Problem::SignsTooMany { max } => format!("Select {max} signs or fewer"),
            Problem::SignsUnknown => "Select signs from the list shown".to_owned(),
            Problem::PeopleCountTooMany { max } => format!("Number of people must be {max} or fewer"),
            Problem::PeopleCountNotNumber => "Number of people must be a number, like 3".to_owned(),
            Problem::AgeGroupsUnknown => "Select age groups from the list shown".to_owned(),
            Problem::VehiclesTooMany { max } => format!("You can tell us about {max} vehicles or fewer"),
            Problem::RegistrationInvalid { number, max } => {
                format!("Vehicle {number} registration must be letters and numbers only, {max} characters or fewer")
            }
            Problem::TooLong { label, max, actual } => format!("{} must be {max} characters or fewer (you entered {actual})", label.english()),
            Problem::LineBreak { label } => {
                format!("{} contains a line break or a control character that cannot be stored; please retype it", label.english())
            }
            Problem::ControlCharacter { label } => format!("{} contains a control character that cannot be stored; please retype it", label.english()),
            Problem::PhoneInvalid => "Enter a phone number, like 07700 900 982 or +40 712 345 678".to_owned(),
            Problem::EmailInvalid => "Enter an email address in the correct format, like name@example.com".to_owned(),
            Problem::ContactMissing => "Enter a phone number or an email address, or choose to stay anonymous".to_owned(),
        }
    }
}

/// One problem with one answer of a report, before it is worded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerProblem {
    pub field: String,
    pub problem: Problem,
}

impl From<AnswerProblem> for FieldError {
    fn from(answer: AnswerProblem) -> Self {
        FieldError { field: answer.field, message: answer.problem.english() }
    }
}

#[derive(Default)]
struct Errors {
    list: Vec<AnswerProblem>,
}

impl Errors {
    fn add(&mut self, field: &str, problem: Problem) {
        self.list.push(AnswerProblem { field: field.to_owned(), problem });
    }

    fn has_any(&self, fields: &[&str]) -> bool {
        self.list.iter().any(|error| fields.contains(&error.field.as_str()))
    }

    /// Like `text`, but the limit counts every character sent, including
    /// white space around the answer.
    fn text_counted_whole(&mut self, field: &str, label: Label, raw: Option<&str>, max_chars: usize, lines: Lines) -> Option<BoundedText> {
        let actual = raw.map_or(0, |raw| raw.chars().count());
        if actual > max_chars {
            self.add(field, Problem::TooLong { label, max: max_chars, actual });
            return None;
        }
        self.text(field, label, raw, max_chars, lines)
    }

    fn text(&mut self, field: &str, label: Label, raw: Option<&str>, max_chars: usize, lines: Lines) -> Option<BoundedText> {
        match BoundedText::parse_optional(raw, max_chars, lines) {
            Ok(text) => text,
            Err(TextError::TooLong { max, actual }) => {
                self.add(field, Problem::TooLong { label, max, actual });
                None
            }
            Err(TextError::ControlCharacter) => {
                self.add(field, if lines == Lines::Single { Problem::LineBreak { label } } else { Problem::ControlCharacter { label } });
                None
            }
            Err(TextError::Empty) => None,
        }
    }
}

/// Normalises a UK postcode to `AA9A 9AA` form, or `None` when it is not
/// one (the one postcode parser, `crate::postcode`).
pub fn parse_uk_postcode(raw: &str) -> Option<String> {
    Postcode::parse(raw).ok().map(|postcode| postcode.to_string())
}

/// A plate in the compact form the linker and the graph use (`crate::vrm`),
/// within the length a plate can have.
fn normalise_registration(raw: &str) -> Option<String> {
    compact_mark(raw).ok().filter(|mark| mark.chars().count() <= limits::REGISTRATION)
}

/// A loose shape check: digits with optional +, spaces, brackets and dashes.
/// Linking normalises numbers properly; here we only catch obvious mistakes.
fn looks_like_phone(raw: &str) -> bool {
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    let allowed = raw.chars().all(|character| character.is_ascii_digit() || " +()-.".contains(character));
    allowed && (7..=15).contains(&digits)
}

fn looks_like_email(raw: &str) -> bool {
    match raw.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !raw.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::shipped;
    use crate::triage::RiskLevel;

    fn nail_bar_answers() -> ReportAnswers {
        ReportAnswers {
            sector: Some("nail_bar".into()),
            town: Some("Luton".into()),
            business_name: Some("Star Nails".into()),
            signs: vec!["workers_living_on_site".into(), "controlling_manager".into()],
            narrative: Some("The girl doing my nails looked terrified of the manager.".into()),
            ..ReportAnswers::default()
        }
    }

    fn fields(result: Result<NewReport, Vec<FieldError>>) -> Vec<String> {
        result.expect_err("expected errors").into_iter().map(|error| error.field).collect()
    }

    #[test]
    fn a_good_report_parses_and_triages() {
        let catalogue = shipped();
        let report = NewReport::parse(&nail_bar_answers(), &catalogue).unwrap();
        assert_eq!(report.sector, "nail_bar");
        assert_eq!(report.triage(&catalogue).level, RiskLevel::Medium);
    }

    #[test]
    fn missing_place_and_location_are_both_reported() {
        let catalogue = shipped();
        let answers = ReportAnswers { sector: None, town: None, ..nail_bar_answers() };
        assert_eq!(fields(NewReport::parse(&answers, &catalogue)), vec!["sector", "postcode"]);
    }

    #[test]
    fn general_is_not_a_place() {
        let catalogue = shipped();
        let answers = ReportAnswers { sector: Some("general".into()), ..nail_bar_answers() };
        assert_eq!(fields(NewReport::parse(&answers, &catalogue)), vec!["sector"]);
    }

    #[test]
    fn postcodes_are_normalised_or_refused() {
        assert_eq!(parse_uk_postcode("lu12ab").as_deref(), Some("LU1 2AB"));
        assert_eq!(parse_uk_postcode(" MK45 5DD ").as_deref(), Some("MK45 5DD"));
        assert_eq!(parse_uk_postcode("SW1A1AA").as_deref(), Some("SW1A 1AA"));
        assert_eq!(parse_uk_postcode("LU1"), None);
        assert_eq!(parse_uk_postcode("12345"), None);
        assert_eq!(parse_uk_postcode("LU1 2Ä B"), None);
    }

    #[test]
    fn unknown_signs_and_age_groups_are_refused() {
        let catalogue = shipped();
        let answers = ReportAnswers { signs: vec!["not_a_sign".into()], age_groups: vec!["ancient".into()], ..nail_bar_answers() };
        assert_eq!(fields(NewReport::parse(&answers, &catalogue)), vec!["signs", "age_groups"]);
    }

    #[test]
    fn limits_are_stated_in_messages() {
        let catalogue = shipped();
        let answers = ReportAnswers {
            narrative: Some("x".repeat(limits::NARRATIVE + 1)),
            vehicles: vec![VehicleAnswer::default(); limits::VEHICLES + 1],
            people_count: Some("100000".into()),
            ..nail_bar_answers()
        };
        let errors = NewReport::parse(&answers, &catalogue).unwrap_err();
        let narrative = errors.iter().find(|error| error.field == "narrative").unwrap();
        assert!(narrative.message.contains("5000"), "{}", narrative.message);
        assert!(errors.iter().any(|error| error.field == "vehicles" && error.message.contains("10")));
        assert!(errors.iter().any(|error| error.field == "people_count" && error.message.contains("500")));
    }

    #[test]
    fn vehicles_are_normalised_and_blank_ones_dropped() {
        let catalogue = shipped();
        let answers = ReportAnswers {
            vehicles: vec![
                VehicleAnswer { registration: Some("ab12 cde".into()), description: Some("White Transit van".into()) },
                VehicleAnswer { registration: Some(" ".into()), description: None },
                VehicleAnswer { registration: Some("B-123-ABC".into()), description: None },
            ],
            ..nail_bar_answers()
        };
        let report = NewReport::parse(&answers, &catalogue).unwrap();
        let registrations: Vec<_> = report.vehicles.iter().map(|vehicle| vehicle.registration.clone().unwrap()).collect();
        assert_eq!(registrations, vec!["AB12CDE", "B123ABC"]);
        let bad = ReportAnswers { vehicles: vec![VehicleAnswer { registration: Some("AB12;DROP".into()), description: None }], ..nail_bar_answers() };
        assert_eq!(fields(NewReport::parse(&bad, &catalogue)), vec!["vehicles[0].registration"]);
    }

    #[test]
    fn contact_needs_a_way_to_reach_the_reporter() {
        let catalogue = shipped();
        let only_name = ReportAnswers { contact: Some(ContactAnswer { name: Some("Ana".into()), ..ContactAnswer::default() }), ..nail_bar_answers() };
        assert_eq!(fields(NewReport::parse(&only_name, &catalogue)), vec!["contact_phone"]);
        let bad =
            ReportAnswers { contact: Some(ContactAnswer { name: None, phone: Some("call me".into()), email: Some("ana@".into()) }), ..nail_bar_answers() };
        assert_eq!(fields(NewReport::parse(&bad, &catalogue)), vec!["contact_phone", "contact_email"]);
        let good = ReportAnswers { contact: Some(ContactAnswer { name: None, phone: Some("+40 712 345 678".into()), email: None }), ..nail_bar_answers() };
        assert!(NewReport::parse(&good, &catalogue).is_ok());
    }

    #[test]
    fn control_characters_are_refused_with_the_field_named() {
        let catalogue = shipped();
        let answers = ReportAnswers { business_name: Some("Star\u{7}Nails".into()), ..nail_bar_answers() };
        let errors = NewReport::parse(&answers, &catalogue).unwrap_err();
        assert_eq!(errors[0].field, "business_name");
        assert!(errors[0].message.contains("Business name"));
    }

    #[test]
    fn immediate_danger_and_children_drive_triage() {
        let catalogue = shipped();
        let danger = ReportAnswers { immediate_danger: true, ..nail_bar_answers() };
        assert_eq!(NewReport::parse(&danger, &catalogue).unwrap().triage(&catalogue).level, RiskLevel::Immediate);
        let child = ReportAnswers { age_groups: vec!["under_18".into()], signs: vec![], ..nail_bar_answers() };
        assert_eq!(NewReport::parse(&child, &catalogue).unwrap().triage(&catalogue).level, RiskLevel::High);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(
            sector in proptest::option::of(".{0,12}"),
            postcode in proptest::option::of(".{0,10}"),
            narrative in proptest::option::of(".{0,50}"),
            count in proptest::option::of(".{0,6}"),
            registration in proptest::option::of(".{0,14}"),
        ) {
            let catalogue = shipped();
            let answers = ReportAnswers {
                sector, postcode, narrative, people_count: count,
                vehicles: vec![VehicleAnswer { registration, description: None }],
                ..ReportAnswers::default()
            };
            let _ = NewReport::parse(&answers, &catalogue);
        }
    }
}
