//! A new intelligence record as staff enter it: parsed once from the form's
//! answers into a title, a grading, a sanitised text, the restricted source
//! account and a review date, or every problem with the field it belongs to.

use std::collections::BTreeSet;

use crate::grading::{GradingAnswers, parse_grading};
use crate::ids::OrganisationId;
use crate::report::FieldError;
use crate::text::{BoundedText, Lines, TextError};

pub use crate::grading::Grading;

/// Limits of the record's fields, in characters.
pub mod limits {
    pub const TITLE: usize = 200;
    pub const TEXT: usize = 5_000;
    pub const SOURCE_IDENTITY: usize = 500;
    /// The reason given for reading a source or a reporter's contact details.
    pub const REASON: usize = 500;
    /// People a record names, each with a name and what else is known.
    pub const PEOPLE: usize = 6;
    pub const PERSON_NAME: usize = 200;
    pub const NATIONALITY: usize = 100;
}

/// The form's fields, as typed. Which grading fields count depends on the
/// scheme: the `legacy_` ones for a historic 5x5x5 grading.
#[derive(Debug, Clone, Default)]
pub struct IntelligenceAnswers<'a> {
    pub title: &'a str,
    /// `3x5x2` or `5x5x5`.
    pub scheme: &'a str,
    pub source: &'a str,
    pub intelligence: &'a str,
    pub handling: &'a str,
    pub legacy_source: &'a str,
    pub legacy_intelligence: &'a str,
    pub legacy_handling: &'a str,
    pub conditions_text: &'a str,
    /// Organisation ids the handling conditions name, as sent.
    pub recipients: Vec<String>,
    pub no_onward_sharing: bool,
    pub originator_consent: bool,
    /// `YYYY-MM-DD`, or blank.
    pub expires_on: &'a str,
    pub sanitised_text: &'a str,
    pub source_identity: &'a str,
    pub source_text: &'a str,
    /// `YYYY-MM-DD`, or blank.
    pub review_on: &'a str,
    /// The people the record names, in the form's order; rows left blank
    /// are ignored.
    pub people: Vec<PersonAnswer<'a>>,
}

/// One row of the "people named" part of the form, as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct PersonAnswer<'a> {
    pub name: &'a str,
    /// `YYYY-MM-DD`, a year alone, or blank.
    pub date_of_birth: &'a str,
    pub nationality: &'a str,
    /// A [`PersonRole`] code, or blank.
    pub role: &'a str,
}

impl PersonAnswer<'_> {
    fn is_blank(&self) -> bool {
        [self.name, self.date_of_birth, self.nationality, self.role].iter().all(|text| text.trim().is_empty())
    }
}

/// What a record says a person it names is to the matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    PotentialVictim,
    SuspectedOffender,
    Other,
}

impl PersonRole {
    pub const ALL: [PersonRole; 3] = [PersonRole::PotentialVictim, PersonRole::SuspectedOffender, PersonRole::Other];

    pub fn code(self) -> &'static str {
        match self {
            PersonRole::PotentialVictim => "potential_victim",
            PersonRole::SuspectedOffender => "suspected_offender",
            PersonRole::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PersonRole::PotentialVictim => "Potential victim",
            PersonRole::SuspectedOffender => "Suspected offender",
            PersonRole::Other => "Other or not known",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        PersonRole::ALL.into_iter().find(|role| role.code() == code)
    }
}

/// A person a record names. Who they are is as sensitive as a source's
/// identity: the store seals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonNamed {
    pub name: BoundedText,
    /// As entered: `YYYY-MM-DD` or a year.
    pub date_of_birth: Option<String>,
    pub nationality: Option<BoundedText>,
    pub role: PersonRole,
}

/// The restricted part of a record: who the source is and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceAccount {
    pub identity: Option<BoundedText>,
    pub text: Option<BoundedText>,
}

impl SourceAccount {
    pub fn is_empty(&self) -> bool {
        self.identity.is_none() && self.text.is_none()
    }
}

/// A record ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntelligence {
    pub title: BoundedText,
    pub grading: Grading,
    pub sanitised_text: BoundedText,
    pub source: SourceAccount,
    pub review_on: Option<time::Date>,
    pub people: Vec<PersonNamed>,
}

impl NewIntelligence {
    /// Parses the answers. `recipient_choices` are the organisations the
    /// conditions may name; any other id is refused. Every problem is
    /// reported, each with its form field.
    pub fn parse(answers: &IntelligenceAnswers<'_>, recipient_choices: &BTreeSet<OrganisationId>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| errors.push(FieldError { field: field.to_owned(), message });
        let title =
            BoundedText::parse(answers.title, limits::TITLE, Lines::Single).map_err(|error| fail("title", text_error("a title", limits::TITLE, error))).ok();
        let recipients: Vec<OrganisationId> = answers.recipients.iter().filter_map(|id| OrganisationId::parse(id).ok()).collect();
        let unknown_recipient = recipients.len() != answers.recipients.len() || recipients.iter().any(|id| !recipient_choices.contains(id));
        if unknown_recipient {
            fail("recipients", "Select organisations from the list".to_owned());
        }
        let expires_at_ms = match parse_optional_date(answers.expires_on) {
            Ok(date) => date.map(|date| date.next_day().unwrap_or(date).midnight().assume_utc().unix_timestamp() * 1000),
            Err(message) => {
                fail("expires_on", format!("The expiry date {message}"));
                None
            }
        };
        let legacy = answers.scheme == "5x5x5";
        let grading_answers = GradingAnswers {
            scheme: answers.scheme,
            source: if legacy { answers.legacy_source } else { answers.source },
            intelligence: if legacy { answers.legacy_intelligence } else { answers.intelligence },
            handling: if legacy { answers.legacy_handling } else { answers.handling },
            conditions_text: answers.conditions_text,
            recipient_organisations: recipients,
            no_onward_sharing: answers.no_onward_sharing,
            originator_consent_required: answers.originator_consent,
            expires_at_ms,
        };
        let grading = parse_grading(&grading_answers)
            .map_err(|grading_errors| {
                for error in grading_errors {
                    let field = match (legacy, error.field) {
                        (true, "source" | "intelligence" | "handling") => format!("legacy_{}", error.field),
                        (_, field) => field.to_owned(),
                    };
                    // One message per field: an unknown organisation was already named.
                    if !(unknown_recipient && field == "recipients") {
                        fail(&field, error.message);
                    }
                }
            })
            .ok();
        let sanitised_text = BoundedText::parse(answers.sanitised_text, limits::TEXT, Lines::Multiple)
            .map_err(|error| fail("sanitised_text", text_error("the sanitised text", limits::TEXT, error)))
            .ok();
        let identity = BoundedText::parse_optional(Some(answers.source_identity), limits::SOURCE_IDENTITY, Lines::Multiple)
            .map_err(|error| fail("source_identity", text_error("the source's identity", limits::SOURCE_IDENTITY, error)))
            .ok()
            .flatten();
        let source_text = BoundedText::parse_optional(Some(answers.source_text), limits::TEXT, Lines::Multiple)
            .map_err(|error| fail("source_text", text_error("the source text", limits::TEXT, error)))
            .ok()
            .flatten();
        let review_on = parse_optional_date(answers.review_on).map_err(|message| fail("review_on", format!("The review date {message}"))).ok().flatten();
        let people = parse_people(&answers.people, &mut fail);
        match (title, grading, sanitised_text) {
            (Some(title), Some(grading), Some(sanitised_text)) if errors.is_empty() => {
                Ok(NewIntelligence { title, grading, sanitised_text, source: SourceAccount { identity, text: source_text }, review_on, people })
            }
            _ => Err(errors),
        }
    }
}

/// The form field of a person's part: `person_2_name` for the second row.
pub fn person_field(position: usize, part: &str) -> String {
    format!("person_{}_{part}", position + 1)
}

impl PersonNamed {
    /// One person on their own (a person named in a report, say), with the
    /// first row's field names; every problem is returned.
    pub fn parse(answer: &PersonAnswer<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| errors.push(FieldError { field: field.to_owned(), message });
        if answer.is_blank() {
            fail(&person_field(0, "name"), text_error("the person's name", limits::PERSON_NAME, TextError::Empty));
            return Err(errors);
        }
        match parse_person(0, answer, &mut fail) {
            Some(person) if errors.is_empty() => Ok(person),
            _ => Err(errors),
        }
    }
}

/// The rows that are not blank, each problem failed with its row's field.
fn parse_people(answers: &[PersonAnswer<'_>], fail: &mut impl FnMut(&str, String)) -> Vec<PersonNamed> {
    let mut people = Vec::new();
    for (position, answer) in answers.iter().enumerate() {
        if answer.is_blank() {
            continue;
        }
        if position >= limits::PEOPLE {
            fail(&person_field(position, "name"), format!("Name at most {} people in one record", limits::PEOPLE));
            continue;
        }
        people.extend(parse_person(position, answer, fail));
    }
    people
}

/// One row, its problems failed with its fields.
fn parse_person(position: usize, answer: &PersonAnswer<'_>, fail: &mut impl FnMut(&str, String)) -> Option<PersonNamed> {
    let ordinal = ORDINALS[position.min(limits::PEOPLE - 1)];
    let name = BoundedText::parse(answer.name, limits::PERSON_NAME, Lines::Single)
        .map_err(|error| fail(&person_field(position, "name"), text_error(&format!("the {ordinal} person's name"), limits::PERSON_NAME, error)))
        .ok();
    let date_of_birth = parse_date_of_birth(answer.date_of_birth)
        .map_err(|message| fail(&person_field(position, "date_of_birth"), format!("The {ordinal} person's date of birth {message}")))
        .ok()
        .flatten();
    let nationality = BoundedText::parse_optional(Some(answer.nationality), limits::NATIONALITY, Lines::Single)
        .map_err(|error| fail(&person_field(position, "nationality"), text_error(&format!("the {ordinal} person's nationality"), limits::NATIONALITY, error)))
        .ok()
        .flatten();
    let role = match answer.role.trim() {
        "" => Some(PersonRole::Other),
        code => PersonRole::parse(code).or_else(|| {
            fail(&person_field(position, "role"), format!("Select what the {ordinal} person is to the matter"));
            None
        }),
    };
    match (name, role) {
        (Some(name), Some(role)) => Some(PersonNamed { name, date_of_birth, nationality, role }),
        _ => None,
    }
}

const ORDINALS: [&str; limits::PEOPLE] = ["first", "second", "third", "fourth", "fifth", "sixth"];

/// A date of birth: `YYYY-MM-DD` or a year alone (when only an age is
/// known), not in the future and not before 1900.
fn parse_date_of_birth(text: &str) -> Result<Option<String>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    const SHAPE: &str = "must be a real date written like 1999-03-14, or a year like 1999";
    let this_year = time::OffsetDateTime::now_utc().year();
    let year = if text.len() == 4 { text.parse::<i32>().map_err(|_| SHAPE)? } else { parse_optional_date(text).map_err(|_| SHAPE)?.ok_or(SHAPE)?.year() };
    if !(1900..=this_year).contains(&year) {
        return Err("must be a year from 1900 to this year");
    }
    Ok(Some(text.to_owned()))
}

/// `YYYY-MM-DD`, blank for none, or a message that completes "The ... date".
fn parse_optional_date(text: &str) -> Result<Option<time::Date>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    crate::text::parse_iso_date(text).map(Some).ok_or("must be a real date written like 2027-03-31")
}

/// The message for a text field that did not parse.
pub fn text_error(what: &str, limit: usize, error: TextError) -> String {
    match error {
        TextError::Empty => format!("Enter {what}"),
        TextError::TooLong { .. } => format!("{} must be {limit} characters or fewer", capitalise(what)),
        TextError::ControlCharacter => format!("{} contains a character that cannot be stored", capitalise(what)),
    }
}

fn capitalise(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Handling;

    fn answers() -> IntelligenceAnswers<'static> {
        IntelligenceAnswers {
            title: "Nail bar workers collected at night",
            scheme: "3x5x2",
            source: "2",
            intelligence: "B",
            handling: "C",
            conditions_text: "GLAA only",
            recipients: vec![GLAA.to_owned()],
            sanitised_text: "Workers are collected by van at 23:00.",
            review_on: "2027-03-31",
            ..IntelligenceAnswers::default()
        }
    }

    const GLAA: &str = "0190f1c2-0000-7000-8000-000000000002";
    const NCA: &str = "0190f1c2-0000-7000-8000-000000000004";

    fn choices() -> BTreeSet<OrganisationId> {
        [OrganisationId::parse(GLAA).unwrap(), OrganisationId::parse(NCA).unwrap()].into()
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn people_named_are_parsed_row_by_row_and_blank_rows_ignored() {
        let people = vec![
            PersonAnswer { name: "POPESCU Ioana", date_of_birth: "1999-03-14", nationality: "Romanian", role: "potential_victim" },
            PersonAnswer::default(),
            PersonAnswer { name: "Florin Dumitru", date_of_birth: "1979", nationality: "", role: "" },
        ];
        let record = NewIntelligence::parse(&IntelligenceAnswers { people, ..answers() }, &choices()).unwrap();
        assert_eq!(record.people.len(), 2);
        assert_eq!(record.people[0].name.as_str(), "POPESCU Ioana");
        assert_eq!(record.people[0].role, PersonRole::PotentialVictim);
        assert_eq!(record.people[1].date_of_birth.as_deref(), Some("1979"));
        assert_eq!(record.people[1].role, PersonRole::Other);
        assert!(record.people[1].nationality.is_none());
    }

    #[test]
    fn one_person_alone_is_parsed_or_refused_field_by_field() {
        let person = PersonNamed::parse(&PersonAnswer { name: "Ana Marin", date_of_birth: "1999", role: "other", ..PersonAnswer::default() }).unwrap();
        assert_eq!((person.name.as_str(), person.date_of_birth.as_deref()), ("Ana Marin", Some("1999")));
        let errors = PersonNamed::parse(&PersonAnswer::default()).unwrap_err();
        assert_eq!(fields(&errors), vec!["person_1_name"]);
        let errors = PersonNamed::parse(&PersonAnswer { name: "Ana", date_of_birth: "soon", ..PersonAnswer::default() }).unwrap_err();
        assert_eq!(fields(&errors), vec!["person_1_date_of_birth"]);
    }

    #[test]
    fn each_problem_with_a_person_is_named_by_its_row() {
        let people = vec![
            PersonAnswer { name: "", date_of_birth: "1999-03-14", ..PersonAnswer::default() },
            PersonAnswer { name: "Ana", date_of_birth: "14/03/1999", role: "boss", ..PersonAnswer::default() },
            PersonAnswer { name: "Old", date_of_birth: "1850", ..PersonAnswer::default() },
        ];
        let errors = NewIntelligence::parse(&IntelligenceAnswers { people, ..answers() }, &choices()).unwrap_err();
        assert_eq!(fields(&errors), vec!["person_1_name", "person_2_date_of_birth", "person_2_role", "person_3_date_of_birth"]);
        assert_eq!(errors[0].message, "Enter the first person's name");
        let too_many = vec![PersonAnswer { name: "Someone", ..PersonAnswer::default() }; limits::PEOPLE + 1];
        let errors = NewIntelligence::parse(&IntelligenceAnswers { people: too_many, ..answers() }, &choices()).unwrap_err();
        assert_eq!(fields(&errors), vec!["person_7_name"]);
    }

    #[test]
    fn a_complete_form_parses() {
        let record = NewIntelligence::parse(&answers(), &choices()).unwrap();
        assert_eq!(record.grading.code(), "2 B C");
        assert_eq!(record.review_on.map(|date| date.to_string()).as_deref(), Some("2027-03-31"));
        assert!(record.source.is_empty());
        let Handling::Conditional(conditions) = record.grading.handling() else { panic!("handling C has conditions") };
        assert!(conditions.recipient_organisations.contains(&OrganisationId::parse(GLAA).unwrap()));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let bad = IntelligenceAnswers {
            title: " ",
            recipients: vec!["unknown".to_owned()],
            expires_on: "2027-02-30",
            sanitised_text: "",
            review_on: "next week",
            source: "9",
            ..answers()
        };
        let errors = NewIntelligence::parse(&bad, &choices()).unwrap_err();
        assert_eq!(fields(&errors), ["title", "recipients", "expires_on", "source", "sanitised_text", "review_on"]);
    }

    #[test]
    fn legacy_grading_errors_name_the_legacy_fields() {
        let legacy = IntelligenceAnswers { scheme: "5x5x5", legacy_source: "Z", legacy_intelligence: "9", legacy_handling: "0", ..answers() };
        let errors = NewIntelligence::parse(&legacy, &choices()).unwrap_err();
        assert!(fields(&errors).iter().all(|field| field.starts_with("legacy_")), "{errors:?}");
        let kept = IntelligenceAnswers { scheme: "5x5x5", legacy_source: "B", legacy_intelligence: "2", legacy_handling: "4", ..answers() };
        assert!(matches!(NewIntelligence::parse(&kept, &choices()).unwrap().grading, Grading::Legacy5x5x5 { source: 'B', intelligence: 2, handling: 4 }));
    }

    #[test]
    fn the_expiry_date_lasts_the_whole_day() {
        let record = NewIntelligence::parse(&IntelligenceAnswers { expires_on: "2027-01-01", ..answers() }, &choices()).unwrap();
        let Handling::Conditional(conditions) = record.grading.handling() else { panic!("conditional") };
        assert_eq!(conditions.expires_at_ms, Some(1_798_848_000_000), "midnight at the end of 1 January 2027, UTC");
    }
}
