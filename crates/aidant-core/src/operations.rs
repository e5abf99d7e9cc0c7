//! Operations: a multi-agency day (or week) of action, the records officers
//! make in the field, and the debrief's totals.
//!
//! A field record is made on a phone, often without signal, and sent later;
//! it carries its own id so the server takes it once however often it is
//! sent. Everything here is parsed from what the phone sends, every problem
//! by field, with the same rules the phone applies before saving
//! (registrations with `vrm`, signs from the catalogue for the kind of
//! place), so what the phone accepted the server accepts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::catalogue::Catalogue;
use crate::organisation::named_enum;
use crate::report::{AGE_GROUPS, FieldError};
use crate::text::{BoundedText, Lines};
use crate::vrm::Vrm;

/// Limits of what the field app takes.
pub mod limits {
    pub const NAME: usize = 120;
    pub const TEXT: usize = 2_000;
    pub const PEOPLE: u16 = 500;
    pub const LIST: usize = 20;
    /// The longest an operation may run, in days.
    pub const DAYS: i64 = 31;
}

named_enum! {
    /// What a field record is.
    RecordKind {
        VehicleStop => "vehicle_stop", "Vehicle stop";
        PremisesVisit => "premises_visit", "Premises visit";
        Safeguarded => "safeguarded", "People safeguarded";
        Arrest => "arrest", "Arrest";
        Intelligence => "intelligence", "Intelligence submitted";
        Referral => "referral", "Referral made";
    }
}

named_enum! {
    /// The offence an arrest is for.
    Offence {
        Slavery => "msa_s1", "Slavery, servitude and forced or compulsory labour (Modern Slavery Act 2015 s1)";
        Trafficking => "msa_s2", "Human trafficking (Modern Slavery Act 2015 s2)";
        Other => "other", "Another offence";
    }
}

named_enum! {
    /// How a stop or a visit ended.
    FieldOutcome {
        NoConcerns => "no_concerns", "No concerns";
        AdviceGiven => "advice_given", "Advice given";
        FollowUp => "follow_up", "Concerns: follow up";
        ActionTaken => "action_taken", "Action taken (safeguarding, arrest or referral recorded)";
    }
}

/// An operation's plan as typed.
#[derive(Debug, Clone, Default)]
pub struct OperationAnswers<'a> {
    pub name: &'a str,
    pub starts_on: &'a str,
    pub ends_on: &'a str,
}

/// An operation ready to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperation {
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
}

fn error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_owned(), message: message.into() }
}

/// An optional one-line answer, trimmed (blank when not given), by the
/// rules of `text::BoundedText`; a problem is one field error.
pub(crate) fn one_line(field: &str, value: &str, limit: usize, what: &str, errors: &mut Vec<FieldError>) -> String {
    match BoundedText::parse_optional(Some(value), limit, Lines::Single) {
        Ok(text) => text.map(|text| text.as_str().to_owned()).unwrap_or_default(),
        Err(_) => {
            errors.push(error(field, format!("{what} must be {limit} characters or fewer, on one line")));
            value.trim().to_owned()
        }
    }
}

fn date(field: &str, value: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let value = value.trim();
    if value.is_empty() {
        errors.push(error(field, format!("Enter {what}, like 2026-03-31")));
        return None;
    }
    let parsed = crate::text::parse_iso_date(value);
    if parsed.is_none() {
        errors.push(error(field, format!("{} must be a real date, like 2026-03-31", capitalised(what))));
    }
    parsed
}

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

impl NewOperation {
    /// Parses a plan, or every problem by field.
    pub fn parse(answers: &OperationAnswers<'_>) -> Result<NewOperation, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = one_line("name", answers.name, limits::NAME, "The name", &mut errors);
        if name.is_empty() {
            errors.push(error("name", "Enter the operation's name"));
        }
        let starts_on = date("starts_on", answers.starts_on, "the first day", &mut errors);
        let ends_on = date("ends_on", answers.ends_on, "the last day", &mut errors);
        if let (Some(starts), Some(ends)) = (starts_on, ends_on) {
            if ends < starts {
                errors.push(error("ends_on", "The last day must be on or after the first day"));
            } else if (ends - starts).whole_days() >= limits::DAYS {
                errors.push(error("ends_on", format!("An operation runs for {} days at most: plan a longer one as several", limits::DAYS)));
            }
        }
        match (starts_on, ends_on) {
            (Some(starts_on), Some(ends_on)) if errors.is_empty() => Ok(NewOperation { name, starts_on, ends_on }),
            _ => Err(errors),
        }
    }
}

/// Whether a record made on `day` belongs to an operation running from
/// `starts_on` to `ends_on`: the reason, said so an officer can act on it,
/// when it does not. A record made the day after the last is still taken
/// (a visit that ran past midnight).
pub fn check_record_day(starts_on: Date, ends_on: Date, day: Date) -> Result<(), String> {
    if day < starts_on {
        return Err(format!("This operation starts on {starts_on}: records are taken from that day. Check the date on your phone."));
    }
    if day > ends_on.next_day().unwrap_or(ends_on) {
        return Err(format!(
            "This operation ended on {ends_on}: it takes no new records. Record this as a report in the workspace, or ask the operation's lead to extend it."
        ));
    }
    Ok(())
}

/// A field record as the phone sends it: every value as text, the kind
/// deciding which count.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FieldRecordAnswers {
    /// The record's own id, made on the phone (a UUID).
    pub id: String,
    pub kind: String,
    /// The site's id in the plan, when at a planned site.
    pub site: String,
    /// When it was recorded on the phone, `YYYY-MM-DD`.
    pub recorded_on: String,
    pub registration: String,
    /// A foreign plate's country (two or three letters), blank for a UK one.
    pub country: String,
    pub vehicle: String,
    pub trailer: String,
    pub business: String,
    /// People in the vehicle, or spoken to at the premises.
    pub people: String,
    pub age_groups: Vec<String>,
    pub nationalities: Vec<String>,
    pub languages: Vec<String>,
    pub signs: Vec<String>,
    pub documents_held_by_others: bool,
    pub accommodation_on_site: bool,
    pub outcome: String,
    pub offence: String,
    /// For a referral: to whom.
    pub referred_to: String,
    pub note: String,
}

/// A field record, parsed. The store keeps what the phone sent
/// (`FieldRecordAnswers`) and parses it again to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRecord {
    pub kind: RecordKind,
    pub recorded_on: Date,
    pub site: Option<String>,
    pub registration: Option<Vrm>,
    pub vehicle: String,
    pub trailer: String,
    pub business: String,
    pub people: u16,
    pub age_groups: Vec<String>,
    pub nationalities: Vec<String>,
    pub languages: Vec<String>,
    pub signs: Vec<String>,
    pub documents_held_by_others: bool,
    pub accommodation_on_site: bool,
    pub outcome: Option<FieldOutcome>,
    pub offence: Option<Offence>,
    pub referred_to: String,
    pub note: String,
}

fn list(field: &str, values: &[String], what: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let kept: Vec<String> = values.iter().map(|value| value.trim().to_owned()).filter(|value| !value.is_empty()).collect();
    if kept.len() > limits::LIST || kept.iter().any(|value| BoundedText::parse(value, limits::NAME, Lines::Single).is_err()) {
        errors.push(error(field, format!("Give at most {} {what}, each on one line of {} characters or fewer", limits::LIST, limits::NAME)));
    }
    kept
}

impl FieldRecord {
    /// Parses what the phone sent for a site of the `sector` given (the
    /// catalogue's signs for that kind of place, and its general ones),
    /// or every problem by field.
    pub fn parse(answers: &FieldRecordAnswers, sector: Option<&str>, catalogue: &Catalogue) -> Result<FieldRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = answers.kind.trim().parse::<RecordKind>().ok();
        if kind.is_none() {
            errors.push(error("kind", "Choose what you are recording"));
        }
        let recorded_on = date("recorded_on", &answers.recorded_on, "the day it was recorded", &mut errors);
        let registration = match kind {
            Some(RecordKind::VehicleStop) => {
                let country = answers.country.trim();
                match Vrm::parse_with_country(&answers.registration, (!country.is_empty()).then_some(country)) {
                    Ok(vrm) => Some(vrm),
                    Err(problem) => {
                        errors.push(error("registration", format!("Check the registration: {problem}")));
                        None
                    }
                }
            }
            _ => None,
        };
        let people = match answers.people.trim() {
            "" => 0,
            text => match text.parse::<u16>() {
                Ok(count) if count <= limits::PEOPLE => count,
                _ => {
                    errors.push(error("people", format!("Enter how many people as a whole number from 0 to {}", limits::PEOPLE)));
                    0
                }
            },
        };
        let mut age_groups = Vec::new();
        for group in answers.age_groups.iter().map(|group| group.trim()).filter(|group| !group.is_empty()) {
            match AGE_GROUPS.iter().find(|(id, _)| *id == group) {
                Some((id, _)) if !age_groups.iter().any(|chosen| chosen == id) => age_groups.push((*id).to_owned()),
                Some(_) => {}
                None => errors.push(error("age_groups", "Choose the ages from the list")),
            }
        }
        let mut signs = Vec::new();
        for sign in answers.signs.iter().map(|sign| sign.trim()).filter(|sign| !sign.is_empty()) {
            let known = match sector {
                Some(sector) => catalogue.indicators_for_place(sector).any(|indicator| indicator.id == sign),
                None => catalogue.indicator(sign).is_some(),
            };
            if !known {
                errors.push(error("signs", "Choose the signs from the list for this kind of place"));
            } else if !signs.iter().any(|chosen| chosen == sign) {
                signs.push(sign.to_owned());
            }
        }
        let outcome = match answers.outcome.trim() {
            "" => None,
            text => match text.parse::<FieldOutcome>() {
                Ok(outcome) => Some(outcome),
                Err(_) => {
                    errors.push(error("outcome", "Choose how it ended from the list"));
                    None
                }
            },
        };
        let offence = match answers.offence.trim() {
            "" => None,
            text => match text.parse::<Offence>() {
                Ok(offence) => Some(offence),
                Err(_) => {
                    errors.push(error("offence", "Choose the offence from the list"));
                    None
                }
            },
        };
        let record = FieldRecord {
            kind: kind.unwrap_or(RecordKind::VehicleStop),
            recorded_on: recorded_on.unwrap_or(Date::MIN),
            site: Some(answers.site.trim().to_owned()).filter(|site| !site.is_empty()),
            registration,
            vehicle: one_line("vehicle", &answers.vehicle, limits::NAME, "The vehicle", &mut errors),
            trailer: one_line("trailer", &answers.trailer, limits::NAME, "The trailer", &mut errors),
            business: one_line("business", &answers.business, limits::NAME, "The business", &mut errors),
            people,
            age_groups,
            nationalities: list("nationalities", &answers.nationalities, "nationalities", &mut errors),
            languages: list("languages", &answers.languages, "languages", &mut errors),
            signs,
            documents_held_by_others: answers.documents_held_by_others,
            accommodation_on_site: answers.accommodation_on_site,
            outcome,
            offence,
            referred_to: one_line("referred_to", &answers.referred_to, limits::NAME, "Who it was referred to", &mut errors),
            note: answers.note.trim().to_owned(),
        };
        if record.note.chars().count() > limits::TEXT {
            errors.push(error("note", format!("The note must be {} characters or fewer", limits::TEXT)));
        }
        if let Some(kind) = kind {
            let stop_or_visit = matches!(kind, RecordKind::VehicleStop | RecordKind::PremisesVisit);
            if stop_or_visit && record.outcome.is_none() {
                errors.push(error("outcome", "Choose how it ended"));
            }
            if kind == RecordKind::PremisesVisit && record.business.is_empty() && record.site.is_none() {
                errors.push(error("business", "Enter the business, or choose the site"));
            }
            if kind == RecordKind::Safeguarded && record.people == 0 {
                errors.push(error("people", "Enter how many people were safeguarded"));
            }
            if kind == RecordKind::Arrest && record.offence.is_none() {
                errors.push(error("offence", "Choose the offence"));
            }
            if kind == RecordKind::Referral && record.referred_to.is_empty() {
                errors.push(error("referred_to", "Enter who the referral was made to"));
            }
        }
        if errors.is_empty() { Ok(record) } else { Err(errors) }
    }
}

impl FieldRecord {
    /// A record stored earlier that no longer parses (a sign since taken
    /// out of the catalogue, say), as far as the debrief counts it: its
    /// kind, day and number of people.
    pub fn stored_as(kind: RecordKind, recorded_on: Date, people: u16) -> FieldRecord {
        FieldRecord {
            kind,
            recorded_on,
            site: None,
            registration: None,
            vehicle: String::new(),
            trailer: String::new(),
            business: String::new(),
            people,
            age_groups: Vec::new(),
            nationalities: Vec::new(),
            languages: Vec::new(),
            signs: Vec::new(),
            documents_held_by_others: false,
            accommodation_on_site: false,
            outcome: None,
            offence: None,
            referred_to: String::new(),
            note: String::new(),
        }
    }
}

/// The debrief's figures, as the press release gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub vehicles_stopped: u64,
    pub premises_visited: u64,
    pub people_safeguarded: u64,
    pub arrests: u64,
    pub intelligence_submitted: u64,
    pub referrals: u64,
}

impl Totals {
    /// Adds one record.
    pub fn add(&mut self, record: &FieldRecord) {
        match record.kind {
            RecordKind::VehicleStop => self.vehicles_stopped += 1,
            RecordKind::PremisesVisit => self.premises_visited += 1,
            RecordKind::Safeguarded => self.people_safeguarded += u64::from(record.people),
            RecordKind::Arrest => self.arrests += 1,
            RecordKind::Intelligence => self.intelligence_submitted += 1,
            RecordKind::Referral => self.referrals += 1,
        }
    }
}

/// The debrief: totals overall and by site, agency and day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Debrief {
    pub totals: Totals,
    pub by_site: BTreeMap<String, Totals>,
    pub by_agency: BTreeMap<String, Totals>,
    pub by_day: BTreeMap<Date, Totals>,
}

/// Sums records, each with the site (or "Elsewhere") and the agency of
/// the officer who made it.
pub fn debrief<'a>(records: impl IntoIterator<Item = (&'a FieldRecord, &'a str, &'a str)>) -> Debrief {
    let mut debrief = Debrief::default();
    for (record, site, agency) in records {
        debrief.totals.add(record);
        debrief.by_site.entry(site.to_owned()).or_default().add(record);
        debrief.by_agency.entry(agency.to_owned()).or_default().add(record);
        debrief.by_day.entry(record.recorded_on).or_default().add(record);
    }
    debrief
}

/// A draft press summary from the totals: figures only, so it can name no
/// one; the lead edits it before it goes anywhere.
pub fn press_summary(operation: &str, starts_on: Date, ends_on: Date, agencies: &[String], totals: &Totals) -> String {
    let when = if starts_on == ends_on { format!("on {starts_on}") } else { format!("from {starts_on} to {ends_on}") };
    let with = match agencies {
        [] => String::new(),
        [only] => format!(" with {only}"),
        [rest @ .., last] => format!(" with {} and {last}", rest.join(", ")),
    };
    let count = |number: u64, one: &str, many: &str| format!("{number} {}", if number == 1 { one } else { many });
    format!(
        "During {operation}, {when}, officers{with} stopped {}, visited {}, safeguarded {}, made {} and submitted {}; {} made.",
        count(totals.vehicles_stopped, "vehicle", "vehicles"),
        count(totals.premises_visited, "premises", "premises"),
        count(totals.people_safeguarded, "potential victim", "potential victims"),
        count(totals.arrests, "arrest", "arrests"),
        count(totals.intelligence_submitted, "intelligence report", "intelligence reports"),
        count(totals.referrals, "referral was", "referrals were"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn catalogue() -> Catalogue {
        Catalogue::from_toml(include_str!("../../../data/indicators.toml")).unwrap()
    }

    fn stop(registration: &str) -> FieldRecordAnswers {
        FieldRecordAnswers {
            id: "0190f1c2-0000-7000-8000-000000000001".into(),
            kind: "vehicle_stop".into(),
            recorded_on: "2026-12-01".into(),
            registration: registration.into(),
            vehicle: "White Transit".into(),
            people: "3".into(),
            age_groups: vec!["18_to_24".into()],
            nationalities: vec!["Romanian".into()],
            outcome: "follow_up".into(),
            ..FieldRecordAnswers::default()
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn a_plan_needs_a_name_and_days_in_order() {
        let plan = NewOperation::parse(&OperationAnswers { name: "Operation Aidant", starts_on: "2026-12-07", ends_on: "2026-12-11" }).unwrap();
        assert_eq!(plan.ends_on, date!(2026 - 12 - 11));
        let errors = NewOperation::parse(&OperationAnswers { name: "", starts_on: "2026-12-07", ends_on: "2026-12-06" }).unwrap_err();
        assert_eq!(fields(&errors), ["name", "ends_on"]);
        let errors = NewOperation::parse(&OperationAnswers { name: "Long", starts_on: "2026-01-01", ends_on: "2026-03-01" }).unwrap_err();
        assert_eq!(fields(&errors), ["ends_on"]);
    }

    #[test]
    fn a_stop_needs_a_real_registration_and_signs_for_the_place() {
        let catalogue = catalogue();
        let record = FieldRecord::parse(&stop("lj15 xkr"), Some("lorries_and_services"), &catalogue).unwrap();
        assert_eq!(record.registration, Some(Vrm::parse_uk("LJ15XKR").unwrap()));
        let errors = FieldRecord::parse(&stop("LJ15 XK!"), Some("lorries_and_services"), &catalogue).unwrap_err();
        assert_eq!(fields(&errors), ["registration"]);
        let foreign = FieldRecordAnswers { country: "RO".into(), ..stop("B 123 ABC") };
        assert!(FieldRecord::parse(&foreign, None, &catalogue).is_ok(), "a Romanian plate is kept as written");
        let lorry_sign = catalogue.indicators_for_place("lorries_and_services").find(|indicator| !indicator.sectors.contains(&"general".to_owned())).unwrap();
        let nail_bar_only = catalogue.indicators_for_place("nail_bar").find(|indicator| !indicator.sectors.iter().any(|sector| sector == "general")).unwrap();
        let signed = FieldRecordAnswers { signs: vec![lorry_sign.id.clone()], ..stop("LJ15XKR") };
        assert!(FieldRecord::parse(&signed, Some("lorries_and_services"), &catalogue).is_ok());
        let wrong_place = FieldRecordAnswers { signs: vec![nail_bar_only.id.clone()], ..stop("LJ15XKR") };
        assert_eq!(fields(&FieldRecord::parse(&wrong_place, Some("lorries_and_services"), &catalogue).unwrap_err()), ["signs"]);
    }

    #[test]
    fn each_kind_asks_for_what_makes_it_count() {
        let catalogue = catalogue();
        let arrest = FieldRecordAnswers { kind: "arrest".into(), recorded_on: "2026-12-01".into(), ..FieldRecordAnswers::default() };
        assert_eq!(fields(&FieldRecord::parse(&arrest, None, &catalogue).unwrap_err()), ["offence"]);
        let safeguarded =
            FieldRecordAnswers { kind: "safeguarded".into(), recorded_on: "2026-12-01".into(), people: "x".into(), ..FieldRecordAnswers::default() };
        assert_eq!(fields(&FieldRecord::parse(&safeguarded, None, &catalogue).unwrap_err()), ["people", "people"]);
        let visit = FieldRecordAnswers { kind: "premises_visit".into(), recorded_on: "2026-13-01".into(), ..FieldRecordAnswers::default() };
        assert_eq!(fields(&FieldRecord::parse(&visit, None, &catalogue).unwrap_err()), ["recorded_on", "outcome", "business"]);
    }

    #[test]
    fn an_ended_operation_refuses_records_with_a_reason() {
        let (starts, ends) = (date!(2026 - 12 - 07), date!(2026 - 12 - 11));
        assert!(check_record_day(starts, ends, date!(2026 - 12 - 07)).is_ok());
        assert!(check_record_day(starts, ends, date!(2026 - 12 - 12)).is_ok(), "a visit past midnight still counts");
        assert!(check_record_day(starts, ends, date!(2026 - 12 - 13)).unwrap_err().contains("ended on 2026-12-11"));
        assert!(check_record_day(starts, ends, date!(2026 - 12 - 06)).unwrap_err().contains("starts on 2026-12-07"));
    }

    #[test]
    fn the_debrief_counts_every_record_once_and_the_summary_names_no_one() {
        let catalogue = catalogue();
        let stop = FieldRecord::parse(&stop("LJ15XKR"), None, &catalogue).unwrap();
        let safeguarded = FieldRecord { kind: RecordKind::Safeguarded, people: 2, ..stop.clone() };
        let arrest = FieldRecord { kind: RecordKind::Arrest, offence: Some(Offence::Trafficking), ..stop.clone() };
        let records = [
            (&stop, "Toddington Services", "Bedfordshire Police"),
            (&stop, "Toddington Services", "NCA"),
            (&safeguarded, "Star Nails", "GLAA"),
            (&arrest, "Star Nails", "Bedfordshire Police"),
        ];
        let debrief = debrief(records);
        assert_eq!(debrief.totals, Totals { vehicles_stopped: 2, people_safeguarded: 2, arrests: 1, ..Totals::default() });
        assert_eq!(debrief.by_site["Star Nails"].people_safeguarded, 2);
        assert_eq!(debrief.by_agency["Bedfordshire Police"].arrests, 1);
        let summary = press_summary("Operation Aidant", date!(2026 - 12 - 07), date!(2026 - 12 - 11), &["the NCA".into(), "the GLAA".into()], &debrief.totals);
        assert_eq!(
            summary,
            "During Operation Aidant, from 2026-12-07 to 2026-12-11, officers with the NCA and the GLAA stopped 2 vehicles, visited 0 premises, safeguarded 2 potential victims, made 1 arrest and submitted 0 intelligence reports; 0 referrals were made."
        );
    }
}
