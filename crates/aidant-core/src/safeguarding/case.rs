//! A potential victim's case as staff open and update it: the identity
//! (sealed by the store, never shown but to those who safeguard), the age
//! path and exploitation types, and the clock's dates and decisions, each
//! parsed from a form with every problem by field.

use serde::{Deserialize, Serialize};
use time::Date;

use super::referral::SHORT_TEXT;
use super::{AgeAssessment, CaseDates, ExploitationType, FieldProblem, GroundsDecision, check_case};
use crate::report::FieldError;

/// Who the person is. Every field identifies them, so the store seals the
/// whole of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    /// The name the exploiters used.
    pub nickname: String,
    /// `YYYY-MM-DD`, checked when the identity was parsed.
    pub born_on: Option<String>,
    pub estimated_age: Option<u8>,
    /// `female`, `male`, `other` or `not_known` (empty when not asked).
    pub gender: String,
    pub nationality: String,
    pub languages: String,
    pub interpreter: bool,
    pub contact: String,
}

impl Identity {
    /// The date of birth, when known.
    pub fn born_on(&self) -> Option<Date> {
        self.born_on.as_deref().and_then(crate::text::parse_iso_date)
    }
}

crate::organisation::named_enum! {
    /// Support a support organisation gives and records back to the force.
    SupportKind {
        Accommodation => "accommodation", "Safe accommodation";
        Interpreter => "interpreter", "Interpreter";
        Medical => "medical", "Medical care";
        Legal => "legal", "Legal advice";
        Counselling => "counselling", "Counselling and emotional support";
        Financial => "financial", "Financial support";
        Other => "other", "Other support";
    }
}

/// What a referral to a support organisation may give it, field by field,
/// and whether the field identifies the person: the form says so, and an
/// adult who did not consent to a referral is given to nobody by those.
pub const SHAREABLE_FIELDS: [(&str, &str, bool); 10] = [
    ("name", "Name", true),
    ("nickname", "Name used by the exploiters", true),
    ("born_on", "Date of birth", true),
    ("contact", "Contact details", true),
    ("languages", "Languages and interpreter", true),
    ("gender", "Gender", false),
    ("nationality", "Nationality", false),
    ("age", "Adult or child", false),
    ("exploitation_types", "Types of exploitation", false),
    ("support_needs", "Support needed", false),
];

/// The genders the form offers.
pub const GENDERS: [(&str, &str); 4] = [("female", "Female"), ("male", "Male"), ("other", "Other"), ("not_known", "Not known")];

/// A new case's form, as typed.
#[derive(Debug, Clone, Default)]
pub struct CaseAnswers<'a> {
    pub age: &'a str,
    pub name: &'a str,
    pub nickname: &'a str,
    pub born_on: &'a str,
    pub estimated_age: &'a str,
    pub gender: &'a str,
    pub nationality: &'a str,
    pub languages: &'a str,
    pub interpreter: bool,
    pub contact: &'a str,
    pub exploitation_types: Vec<&'a str>,
    pub county_lines: bool,
}

/// A case ready to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub age: AgeAssessment,
    pub identity: Identity,
    pub exploitation_types: Vec<ExploitationType>,
    pub county_lines: bool,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_owned(), message: message.into() }
}

fn from_problems(problems: Vec<FieldProblem>) -> Vec<FieldError> {
    problems.into_iter().map(|problem| field_error(problem.field, problem.message)).collect()
}

fn short(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    crate::operations::one_line(field, value, SHORT_TEXT, "The answer", errors)
}

/// A day typed as `YYYY-MM-DD`, blank for none.
fn optional_date(field: &str, value: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let parsed = crate::text::parse_iso_date(value);
    if parsed.is_none() {
        errors.push(field_error(field, format!("{what} must be a real date, like 2026-03-31")));
    }
    parsed
}

/// Exploitation types by their codes; an unknown one is a field error.
pub fn parse_types(codes: &[&str], errors: &mut Vec<FieldError>) -> Vec<ExploitationType> {
    let mut types = Vec::new();
    for code in codes.iter().map(|code| code.trim()).filter(|code| !code.is_empty()) {
        match code.parse::<ExploitationType>() {
            Ok(kind) if !types.contains(&kind) => types.push(kind),
            Ok(_) => {}
            Err(_) => errors.push(field_error("exploitation_types", "Select the types of exploitation from the list")),
        }
    }
    types.sort();
    types
}

impl NewCase {
    /// Parses a new case on `today`, or every problem by field.
    pub fn parse(answers: &CaseAnswers<'_>, today: Date) -> Result<NewCase, Vec<FieldError>> {
        let mut errors = Vec::new();
        let age = answers.age.trim().parse::<AgeAssessment>();
        if age.is_err() {
            errors.push(field_error("age", "Select whether the person is 18 or over, under 18, or possibly under 18"));
        }
        let born_on = optional_date("born_on", answers.born_on, "The date of birth", &mut errors);
        let estimated = answers.estimated_age.trim();
        let estimated_age = if estimated.is_empty() {
            None
        } else {
            match estimated.parse::<u8>() {
                Ok(years) if years <= 120 => Some(years),
                _ => {
                    errors.push(field_error("estimated_age", "The estimated age must be a whole number of years, like 17"));
                    None
                }
            }
        };
        let gender = answers.gender.trim();
        if !gender.is_empty() && !GENDERS.iter().any(|(code, _)| *code == gender) {
            errors.push(field_error("gender", "Select the person's gender from the list"));
        }
        let identity = Identity {
            name: short("name", answers.name, &mut errors),
            nickname: short("nickname", answers.nickname, &mut errors),
            born_on: born_on.map(|day| day.to_string()),
            estimated_age,
            gender: gender.to_owned(),
            nationality: short("nationality", answers.nationality, &mut errors),
            languages: short("languages", answers.languages, &mut errors),
            interpreter: answers.interpreter,
            contact: short("contact", answers.contact, &mut errors),
        };
        if identity.name.is_empty() && identity.nickname.is_empty() {
            errors.push(field_error("name", "Enter the person's name, or the name they are known by"));
        }
        let exploitation_types = parse_types(&answers.exploitation_types, &mut errors);
        if answers.county_lines && !exploitation_types.contains(&ExploitationType::Criminal) {
            errors.push(field_error("county_lines", "County lines is criminal exploitation: select criminal exploitation too"));
        }
        if let Ok(age) = age {
            let dates = CaseDates { born_on, ..CaseDates::default() };
            errors.extend(from_problems(check_case(&dates, age, today)));
            if let (AgeAssessment::Adult, Some(years)) = (age, estimated_age)
                && years < 18
            {
                errors.push(field_error("age", "The estimated age is under 18: choose under 18 or possibly under 18"));
            }
        }
        match age {
            Ok(age) if errors.is_empty() => Ok(NewCase { age, identity, exploitation_types, county_lines: answers.county_lines }),
            _ => Err(errors),
        }
    }
}

/// The dates and decisions of a case, as typed on its form.
#[derive(Debug, Clone, Default)]
pub struct DecisionAnswers<'a> {
    pub age: &'a str,
    pub referred_on: &'a str,
    pub duty_to_notify_on: &'a str,
    pub rg_on: &'a str,
    pub rg_decision: &'a str,
    pub cg_on: &'a str,
    pub cg_decision: &'a str,
    pub withdrawn_on: &'a str,
    pub local_authority_referred_on: &'a str,
}

/// A case's dates and decisions, checked against each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decisions {
    pub age: AgeAssessment,
    /// Without the date of birth, which is part of the identity.
    pub dates: CaseDates,
    pub local_authority_referred_on: Option<Date>,
}

fn decision(field: &str, date: Option<Date>, value: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<(Date, GroundsDecision)> {
    let value = value.trim();
    let decision = if value.is_empty() {
        None
    } else {
        match value.parse::<GroundsDecision>() {
            Ok(decision) => Some(decision),
            Err(_) => {
                errors.push(field_error(field, format!("Select whether the {what} decision was positive or negative")));
                return None;
            }
        }
    };
    match (date, decision) {
        (Some(date), Some(decision)) => Some((date, decision)),
        (None, None) => None,
        (Some(_), None) => {
            errors.push(field_error(field, format!("Select whether the {what} decision was positive or negative")));
            None
        }
        (None, Some(_)) => {
            let date_field = if field.starts_with("rg") { "rg_on" } else { "cg_on" };
            errors.push(field_error(date_field, format!("Enter the date of the {what} decision")));
            None
        }
    }
}

impl Decisions {
    /// Parses the form on `today`, checking it with the date of birth the
    /// sealed identity holds (`born_on`), or every problem by field.
    pub fn parse(answers: &DecisionAnswers<'_>, born_on: Option<Date>, today: Date) -> Result<Decisions, Vec<FieldError>> {
        let mut errors = Vec::new();
        let age = answers.age.trim().parse::<AgeAssessment>();
        if age.is_err() {
            errors.push(field_error("age", "Select whether the person is 18 or over, under 18, or possibly under 18"));
        }
        let referred_on = optional_date("referred_on", answers.referred_on, "The date of referral", &mut errors);
        let duty_to_notify_on = optional_date("duty_to_notify_on", answers.duty_to_notify_on, "The date of the Duty to Notify", &mut errors);
        let rg_on = optional_date("rg_on", answers.rg_on, "The date of the Reasonable Grounds decision", &mut errors);
        let cg_on = optional_date("cg_on", answers.cg_on, "The date of the Conclusive Grounds decision", &mut errors);
        let withdrawn_on = optional_date("withdrawn_on", answers.withdrawn_on, "The date of withdrawal", &mut errors);
        let local_authority_referred_on =
            optional_date("local_authority_referred_on", answers.local_authority_referred_on, "The date of the local authority referral", &mut errors);
        if local_authority_referred_on.is_some_and(|day| day > today) {
            errors.push(field_error("local_authority_referred_on", "The date of the local authority referral must be today or in the past"));
        }
        let reasonable_grounds = decision("rg_decision", rg_on, answers.rg_decision, "Reasonable Grounds", &mut errors);
        let conclusive_grounds = decision("cg_decision", cg_on, answers.cg_decision, "Conclusive Grounds", &mut errors);
        let dates = CaseDates { born_on, referred_on, duty_to_notify_on, reasonable_grounds, conclusive_grounds, withdrawn_on };
        if let Ok(age) = age {
            errors.extend(from_problems(check_case(&dates, age, today)));
        }
        match age {
            Ok(age) if errors.is_empty() => Ok(Decisions { age, dates: CaseDates { born_on: None, ..dates }, local_authority_referred_on }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 06);

    fn adult<'a>() -> CaseAnswers<'a> {
        CaseAnswers { age: "adult", name: "Ana P", gender: "female", nationality: "Romanian", exploitation_types: vec!["sexual"], ..CaseAnswers::default() }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn a_case_needs_an_age_and_a_name_and_keeps_types_in_order() {
        let case = NewCase::parse(&CaseAnswers { exploitation_types: vec!["sexual", "labour", "sexual"], ..adult() }, TODAY).unwrap();
        assert_eq!(case.exploitation_types, vec![ExploitationType::Labour, ExploitationType::Sexual]);
        let errors = NewCase::parse(&CaseAnswers { age: "", name: "", ..adult() }, TODAY).unwrap_err();
        assert_eq!(fields(&errors), ["age", "name"]);
    }

    #[test]
    fn a_child_marked_adult_and_a_birth_in_the_future_are_refused_by_field() {
        let errors = NewCase::parse(&CaseAnswers { born_on: "2012-04-01", ..adult() }, TODAY).unwrap_err();
        assert_eq!(fields(&errors), ["age"]);
        let errors = NewCase::parse(&CaseAnswers { estimated_age: "16", ..adult() }, TODAY).unwrap_err();
        assert_eq!(fields(&errors), ["age"]);
        let errors = NewCase::parse(&CaseAnswers { born_on: "2027-01-01", ..adult() }, TODAY).unwrap_err();
        assert_eq!(fields(&errors), ["born_on"]);
        let errors = NewCase::parse(&CaseAnswers { born_on: "2001-02-30", county_lines: true, ..adult() }, TODAY).unwrap_err();
        assert_eq!(fields(&errors), ["born_on", "county_lines"]);
    }

    #[test]
    fn decisions_must_come_in_order_and_with_both_halves() {
        let answers = DecisionAnswers { age: "adult", referred_on: "2026-11-02", rg_on: "2026-11-06", rg_decision: "positive", ..DecisionAnswers::default() };
        let decisions = Decisions::parse(&answers, None, TODAY).unwrap();
        assert_eq!(decisions.dates.reasonable_grounds, Some((date!(2026 - 11 - 06), GroundsDecision::Positive)));
        let early_cg = DecisionAnswers { cg_on: "2026-11-20", cg_decision: "positive", ..answers.clone() };
        assert_eq!(fields(&Decisions::parse(&early_cg, None, TODAY).unwrap_err()), ["cg_on"]);
        let cg_before_rg = DecisionAnswers { cg_on: "2026-11-03", cg_decision: "negative", ..answers.clone() };
        assert_eq!(fields(&Decisions::parse(&cg_before_rg, None, TODAY).unwrap_err()), ["cg_on"]);
        let half = DecisionAnswers { rg_decision: "", ..answers.clone() };
        assert_eq!(fields(&Decisions::parse(&half, None, TODAY).unwrap_err()), ["rg_decision"]);
        let child = Decisions::parse(&answers, Some(date!(2010 - 01 - 01)), TODAY).unwrap_err();
        assert_eq!(fields(&child), ["age"]);
    }
}
