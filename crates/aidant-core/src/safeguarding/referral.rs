//! The National Referral Mechanism referral as a first responder fills it
//! in: the Home Office form's content, one question per page, in the form's
//! order, and the rules that decide which pages apply and when it is
//! complete.
//!
//! Age decides the path. A child (under 18, or possibly under 18) is
//! referred without being asked for consent, and the referral cannot be
//! completed until a safeguarding referral to the local authority is
//! recorded. An adult is asked: with consent the referral goes to the NRM;
//! without it, it becomes a Duty to Notify notification that never holds
//! the person's name or contact details.

use std::collections::BTreeMap;

use time::Date;

use super::{AgeAssessment, ExploitationType, FieldProblem};

/// Limits of free-text answers, in characters.
pub const LONG_TEXT: usize = 5_000;
pub const SHORT_TEXT: usize = 200;

/// Where a referral goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralPath {
    /// To the NRM, identified (a child, or an adult who consents).
    Nrm,
    /// An anonymous Duty to Notify notification (an adult who does not
    /// consent).
    DutyToNotify,
}

/// A page of the referral, in the order the form asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Page {
    FirstResponder,
    Age,
    Consent,
    PersonalDetails,
    AnonymousDetails,
    Background,
    Exploitation,
    Indicators,
    Locations,
    Exploiters,
    OtherVictims,
    CrimeReference,
    Support,
    LocalAuthority,
}

impl Page {
    pub const ALL: [Page; 14] = [
        Page::FirstResponder,
        Page::Age,
        Page::Consent,
        Page::PersonalDetails,
        Page::AnonymousDetails,
        Page::Background,
        Page::Exploitation,
        Page::Indicators,
        Page::Locations,
        Page::Exploiters,
        Page::OtherVictims,
        Page::CrimeReference,
        Page::Support,
        Page::LocalAuthority,
    ];

    /// The page's name in addresses and stored drafts.
    pub fn slug(self) -> &'static str {
        match self {
            Page::FirstResponder => "first-responder",
            Page::Age => "age",
            Page::Consent => "consent",
            Page::PersonalDetails => "personal-details",
            Page::AnonymousDetails => "anonymous-details",
            Page::Background => "background",
            Page::Exploitation => "exploitation",
            Page::Indicators => "indicators",
            Page::Locations => "locations",
            Page::Exploiters => "exploiters",
            Page::OtherVictims => "other-victims",
            Page::CrimeReference => "crime-reference",
            Page::Support => "support",
            Page::LocalAuthority => "local-authority",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|page| page.slug() == slug)
    }

    /// The question the page asks, as its heading.
    pub fn question(self) -> &'static str {
        match self {
            Page::FirstResponder => "Who is making this referral?",
            Page::Age => "How old is the person?",
            Page::Consent => "Does the person consent to a referral to the National Referral Mechanism?",
            Page::PersonalDetails => "The person's details",
            Page::AnonymousDetails => "What can be said about the person without identifying them?",
            Page::Background => "What is the person's background?",
            Page::Exploitation => "What happened to the person?",
            Page::Indicators => "What have you seen that suggests modern slavery?",
            Page::Locations => "Where did the exploitation happen?",
            Page::Exploiters => "What is known about the exploiters?",
            Page::OtherVictims => "Are there other potential victims?",
            Page::CrimeReference => "Has a crime been recorded?",
            Page::Support => "What support does the person need?",
            Page::LocalAuthority => "Safeguarding referral to the local authority",
        }
    }
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    /// One line of text.
    Text,
    /// Paragraphs.
    LongText,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// One of these (value, label).
    OneOf(&'static [(&'static str, &'static str)]),
    /// Any of these (value, label).
    AnyOf(&'static [(&'static str, &'static str)]),
    /// Any of the catalogue's signs.
    Indicators,
}

/// One question on a page: its field, its label, a hint, how it is
/// answered, and whether it must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub field: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub kind: QuestionKind,
    pub optional: bool,
}

/// A question as a constant (a struct literal, so a page's list of them
/// is a `'static` slice).
macro_rules! question {
    ($field:expr, $label:expr, $hint:expr, $kind:expr, $optional:expr $(,)?) => {
        Question { field: $field, label: $label, hint: $hint, kind: $kind, optional: $optional }
    };
}

const YES_NO: &[(&str, &str)] = &[("yes", "Yes"), ("no", "No")];
const AGES: &[(&str, &str)] = &[("adult", "18 or over"), ("child", "Under 18"), ("possibly_child", "Possibly under 18 (age not known or disputed)")];
const GENDERS: &[(&str, &str)] = &super::case::GENDERS;
const TYPES: &[(&str, &str)] = &[
    ("labour", "Labour exploitation"),
    ("sexual", "Sexual exploitation"),
    ("criminal", "Criminal exploitation"),
    ("domestic_servitude", "Domestic servitude"),
    ("organ_removal", "Organ removal"),
    ("other", "Other"),
];
const STILL: &[(&str, &str)] = &[("yes", "Yes"), ("no", "No"), ("not_known", "Not known")];
const GUARDIAN: &[(&str, &str)] = &[
    ("yes", "Yes, an Independent Child Trafficking Guardian has been asked for"),
    ("no", "No"),
    ("not_available", "The service is not available in this area"),
];

impl Page {
    /// The page's questions, in the form's order.
    pub fn questions(self) -> &'static [Question] {
        use QuestionKind::*;
        match self {
            Page::FirstResponder => &[
                question!("responder_name", "Your name", "", Text, false),
                question!("responder_role", "Your role", "For example, detective constable", Text, false),
                question!("responder_organisation", "Your organisation", "", Text, false),
                question!("responder_email", "Your e-mail address", "The Home Office sends its decisions here", Text, false),
                question!("responder_phone", "Your phone number", "", Text, true),
            ],
            Page::Age => &[
                question!(
                    "age",
                    "Is the person 18 or over?",
                    "If there is any doubt, choose possibly under 18: they are treated as a child",
                    OneOf(AGES),
                    false
                ),
                question!("born_on", "Date of birth", "If known. For example, 2008-03-31", Date, true),
                question!("estimated_age", "Estimated age in years", "If the date of birth is not known", Text, true),
            ],
            Page::Consent => &[question!(
                "consent",
                "Does the person consent to being referred?",
                "Without consent an adult is not referred: the Home Office is told through an anonymous Duty to Notify instead",
                OneOf(YES_NO),
                false,
            )],
            Page::PersonalDetails => &[
                question!("name", "Full name", "Or the name they use", Text, false),
                question!("nickname", "Any name the exploiters used", "", Text, true),
                question!("gender", "Gender", "", OneOf(GENDERS), false),
                question!("nationality", "Nationality", "Or not known", Text, false),
                question!("interpreter", "Does the person need an interpreter?", "", OneOf(YES_NO), false),
                question!("languages", "Languages the person speaks", "", Text, true),
                question!("contact", "How to contact the person safely", "An address, a phone number, or through whom", LongText, true),
            ],
            Page::AnonymousDetails => {
                &[question!("gender", "Gender", "", OneOf(GENDERS), false), question!("nationality", "Nationality", "Or not known", Text, false)]
            }
            Page::Background => &[question!(
                "background",
                "The person's background",
                "Family, education, work and life before the exploitation, as far as it is known",
                LongText,
                false,
            )],
            Page::Exploitation => &[
                question!("exploitation_types", "Types of exploitation", "Select all that apply", AnyOf(TYPES), false),
                question!("county_lines", "Is this county lines?", "Drug supply across areas using a dedicated phone line", OneOf(YES_NO), true),
                question!("started_on", "When the exploitation started", "If known. For example, 2025-06-01", Date, true),
                question!("ended_on", "When it ended", "If it has ended", Date, true),
                question!("how_started", "How it started", "How the person was recruited", LongText, false),
                question!("journey", "The journey", "How the person came to where they were exploited", LongText, true),
                question!("treatment", "How the person was treated", "", LongText, true),
                question!("still_in_situation", "Is the person still in the situation?", "", OneOf(STILL), false),
                question!("last_contact", "Last contact with the exploiters", "When and how", LongText, true),
            ],
            Page::Indicators => &[
                question!("indicators", "Signs you have seen", "Select all that apply", Indicators, true),
                question!(
                    "professional_insight",
                    "Why do you believe the person may be a victim of modern slavery?",
                    "Your professional view, from what you have seen and heard",
                    LongText,
                    false,
                ),
            ],
            Page::Locations => &[
                question!("uk_locations", "Places in the UK", "Towns, addresses or premises", LongText, true),
                question!("overseas_locations", "Places overseas", "Countries and towns", LongText, true),
            ],
            Page::Exploiters => {
                &[question!("exploiters", "What is known about the exploiters", "Names, nicknames, phones, vehicles, addresses, businesses", LongText, true,)]
            }
            Page::OtherVictims => &[question!("other_victims", "What is known about other potential victims", "", LongText, true)],
            Page::CrimeReference => &[question!("crime_reference", "Crime reference number", "If a crime has been recorded", Text, true)],
            Page::Support => {
                &[question!("support_needs", "Support the person needs", "Accommodation, medical care, an interpreter, legal advice", LongText, true)]
            }
            Page::LocalAuthority => &[
                question!("local_authority", "Local authority the child was referred to", "", Text, false),
                question!("local_authority_referred_on", "Date of the local authority referral", "For example, 2026-03-31", Date, false),
                question!("local_authority_reference", "The local authority's reference", "", Text, true),
                question!("guardian", "Has an Independent Child Trafficking Guardian been asked for?", "", OneOf(GUARDIAN), false),
            ],
        }
    }
}

/// A referral's answers as stored: each field's values (several for a
/// multiple choice), by field name. Unknown fields are never read.
pub type Answers = BTreeMap<String, Vec<String>>;

fn first<'a>(answers: &'a Answers, field: &str) -> &'a str {
    answers.get(field).and_then(|values| values.first()).map_or("", |value| value.trim())
}

fn all<'a>(answers: &'a Answers, field: &str) -> Vec<&'a str> {
    answers.get(field).map(|values| values.iter().map(|value| value.trim()).filter(|value| !value.is_empty()).collect()).unwrap_or_default()
}

/// The age the referral's answers give, if answered.
pub fn age_of(answers: &Answers) -> Option<AgeAssessment> {
    first(answers, "age").parse().ok()
}

/// The path the answers so far lead to: a child, or an adult who has not
/// answered consent yet, counts as the NRM.
pub fn path_of(answers: &Answers) -> ReferralPath {
    match (age_of(answers), first(answers, "consent")) {
        (Some(AgeAssessment::Adult), "no") => ReferralPath::DutyToNotify,
        _ => ReferralPath::Nrm,
    }
}

/// The pages that apply to these answers, in order.
pub fn pages(answers: &Answers) -> Vec<Page> {
    let child = age_of(answers).is_some_and(AgeAssessment::is_child_path);
    let path = path_of(answers);
    Page::ALL
        .into_iter()
        .filter(|page| match page {
            Page::Consent => !child,
            Page::PersonalDetails | Page::Support => path == ReferralPath::Nrm,
            Page::AnonymousDetails => path == ReferralPath::DutyToNotify,
            Page::LocalAuthority => child,
            _ => true,
        })
        .collect()
}

/// The page after `page` for these answers, or `None` at the end (check
/// your answers).
pub fn next_page(answers: &Answers, page: Page) -> Option<Page> {
    pages(answers).into_iter().find(|candidate| *candidate > page)
}

fn problem(field: &'static str, message: &str) -> FieldProblem {
    FieldProblem { field, message: message.to_owned() }
}

fn required(answers: &Answers, field: &'static str, message: &str, problems: &mut Vec<FieldProblem>) {
    if first(answers, field).is_empty() {
        problems.push(problem(field, message));
    }
}

fn bounded(answers: &Answers, field: &'static str, limit: usize, what: &str, problems: &mut Vec<FieldProblem>) {
    if answers.get(field).is_some_and(|values| values.iter().any(|value| value.chars().count() > limit)) {
        problems.push(FieldProblem { field, message: format!("{what} must be {limit} characters or fewer") });
    }
}

fn one_of(answers: &Answers, field: &'static str, allowed: &[&str], message: &str, problems: &mut Vec<FieldProblem>) {
    if !allowed.contains(&first(answers, field)) {
        problems.push(problem(field, message));
    }
}

fn date(answers: &Answers, field: &'static str, what: &str, today: Date, problems: &mut Vec<FieldProblem>) -> Option<Date> {
    let text = first(answers, field);
    if text.is_empty() {
        return None;
    }
    match crate::text::parse_iso_date(text) {
        None => {
            problems.push(FieldProblem { field, message: format!("{what} must be a real date, like 2026-03-31") });
            None
        }
        Some(day) if day > today => {
            problems.push(FieldProblem { field, message: format!("{what} must be today or in the past") });
            None
        }
        Some(day) => Some(day),
    }
}

/// Every problem with one page's answers, each for its field, on `today`.
/// `known_indicators` are the catalogue's indicator ids.
pub fn check_page(page: Page, answers: &Answers, known_indicators: &[&str], today: Date) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let problems_ref = &mut problems;
    match page {
        Page::FirstResponder => {
            required(answers, "responder_name", "Enter your name", problems_ref);
            required(answers, "responder_role", "Enter your role", problems_ref);
            required(answers, "responder_organisation", "Enter your organisation", problems_ref);
            let email = first(answers, "responder_email");
            if email.is_empty() {
                problems_ref.push(problem("responder_email", "Enter the e-mail address the Home Office will write to"));
            } else if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
                problems_ref.push(problem("responder_email", "Enter an e-mail address in the right format, like name@example.police.uk"));
            }
            for field in ["responder_name", "responder_role", "responder_organisation", "responder_email", "responder_phone"] {
                bounded(answers, field, SHORT_TEXT, "The answer", problems_ref);
            }
        }
        Page::Age => {
            one_of(
                answers,
                "age",
                &["adult", "child", "possibly_child"],
                "Select whether the person is 18 or over, under 18, or possibly under 18",
                problems_ref,
            );
            let born = date(answers, "born_on", "The date of birth", today, problems_ref);
            let estimated = first(answers, "estimated_age");
            if !estimated.is_empty() && !estimated.parse::<u8>().is_ok_and(|years| years <= 120) {
                problems_ref.push(problem("estimated_age", "The estimated age must be a whole number of years, like 17"));
            }
            if let (Some(born), Some(age)) = (born, age_of(answers)) {
                let dates = super::CaseDates { born_on: Some(born), ..super::CaseDates::default() };
                problems_ref.extend(super::check_case(&dates, age, today).into_iter().filter(|problem| problem.field == "age"));
            }
            if let (Ok(years), Some(AgeAssessment::Adult)) = (estimated.parse::<u8>(), age_of(answers))
                && years < 18
            {
                problems_ref.push(problem("age", "The estimated age is under 18: choose under 18 or possibly under 18"));
            }
        }
        Page::Consent => {
            one_of(answers, "consent", &["yes", "no"], "Select whether the person consents", problems_ref);
        }
        Page::PersonalDetails => {
            required(answers, "name", "Enter the person's name, or the name they use", problems_ref);
            one_of(answers, "gender", &["female", "male", "other", "not_known"], "Select the person's gender, or not known", problems_ref);
            required(answers, "nationality", "Enter the person's nationality, or not known", problems_ref);
            one_of(answers, "interpreter", &["yes", "no"], "Select whether the person needs an interpreter", problems_ref);
            if first(answers, "interpreter") == "yes" && first(answers, "languages").is_empty() {
                problems_ref.push(problem("languages", "Enter the languages the person speaks, so an interpreter can be found"));
            }
            for field in ["name", "nickname", "nationality", "languages", "contact"] {
                bounded(answers, field, SHORT_TEXT, "The answer", problems_ref);
            }
        }
        Page::AnonymousDetails => {
            one_of(answers, "gender", &["female", "male", "other", "not_known"], "Select the person's gender, or not known", problems_ref);
            required(answers, "nationality", "Enter the person's nationality, or not known", problems_ref);
            bounded(answers, "nationality", SHORT_TEXT, "The nationality", problems_ref);
        }
        Page::Background => {
            required(answers, "background", "Describe the person's background", problems_ref);
            bounded(answers, "background", LONG_TEXT, "The background", problems_ref);
        }
        Page::Exploitation => {
            let types = all(answers, "exploitation_types");
            if types.is_empty() {
                problems_ref.push(problem("exploitation_types", "Select at least one type of exploitation"));
            } else if types.iter().any(|code| code.parse::<ExploitationType>().is_err()) {
                problems_ref.push(problem("exploitation_types", "Select the types of exploitation from the list"));
            }
            if first(answers, "county_lines") == "yes" && !types.contains(&"criminal") {
                problems_ref.push(problem("county_lines", "County lines is criminal exploitation: select criminal exploitation too"));
            }
            let started = date(answers, "started_on", "The date the exploitation started", today, problems_ref);
            let ended = date(answers, "ended_on", "The date the exploitation ended", today, problems_ref);
            if let (Some(started), Some(ended)) = (started, ended)
                && ended < started
            {
                problems_ref.push(problem("ended_on", "The date the exploitation ended must be on or after the date it started"));
            }
            required(answers, "how_started", "Describe how the exploitation started", problems_ref);
            one_of(answers, "still_in_situation", &["yes", "no", "not_known"], "Select whether the person is still in the situation", problems_ref);
            for (field, what) in [
                ("how_started", "How it started"),
                ("journey", "The journey"),
                ("treatment", "How the person was treated"),
                ("last_contact", "The last contact with the exploiters"),
            ] {
                bounded(answers, field, LONG_TEXT, what, problems_ref);
            }
        }
        Page::Indicators => {
            if all(answers, "indicators").iter().any(|id| !known_indicators.contains(id)) {
                problems_ref.push(problem("indicators", "Select the signs from the list"));
            }
            required(answers, "professional_insight", "Explain why you believe the person may be a victim of modern slavery", problems_ref);
            bounded(answers, "professional_insight", LONG_TEXT, "Your explanation", problems_ref);
        }
        Page::Locations => {
            if first(answers, "uk_locations").is_empty() && first(answers, "overseas_locations").is_empty() {
                problems_ref.push(problem("uk_locations", "Enter where the exploitation happened, in the UK or overseas"));
            }
            bounded(answers, "uk_locations", LONG_TEXT, "The places in the UK", problems_ref);
            bounded(answers, "overseas_locations", LONG_TEXT, "The places overseas", problems_ref);
        }
        Page::Exploiters => bounded(answers, "exploiters", LONG_TEXT, "What is known about the exploiters", problems_ref),
        Page::OtherVictims => bounded(answers, "other_victims", LONG_TEXT, "What is known about other potential victims", problems_ref),
        Page::CrimeReference => bounded(answers, "crime_reference", SHORT_TEXT, "The crime reference", problems_ref),
        Page::Support => {
            bounded(answers, "support_needs", LONG_TEXT, "The support needed", problems_ref);
        }
        Page::LocalAuthority => {
            required(answers, "local_authority", "Enter the local authority the child was referred to", problems_ref);
            bounded(answers, "local_authority", SHORT_TEXT, "The local authority", problems_ref);
            if date(answers, "local_authority_referred_on", "The date of the local authority referral", today, problems_ref).is_none()
                && first(answers, "local_authority_referred_on").is_empty()
            {
                problems_ref.push(problem("local_authority_referred_on", "Enter the date the child was referred to the local authority"));
            }
            bounded(answers, "local_authority_reference", SHORT_TEXT, "The local authority's reference", problems_ref);
            one_of(
                answers,
                "guardian",
                &["yes", "no", "not_available"],
                "Select whether an Independent Child Trafficking Guardian has been asked for",
                problems_ref,
            );
        }
    }
    problems
}

/// The pages still to answer before the referral can be completed, in
/// order, each with its problems. Empty when it can be completed.
pub fn incomplete(answers: &Answers, known_indicators: &[&str], today: Date) -> Vec<(Page, Vec<FieldProblem>)> {
    pages(answers).into_iter().map(|page| (page, check_page(page, answers, known_indicators, today))).filter(|(_, problems)| !problems.is_empty()).collect()
}

/// Fields that identify the person. A Duty to Notify never holds them: they
/// are dropped from its answers when the path turns to it.
pub const IDENTIFYING_FIELDS: [&str; 6] = ["name", "nickname", "born_on", "estimated_age", "contact", "languages"];

/// The answers that go into what is submitted on this path: for a Duty to
/// Notify, without any field that identifies the person.
pub fn answers_for_path(answers: &Answers) -> Answers {
    match path_of(answers) {
        ReferralPath::Nrm => answers.clone(),
        ReferralPath::DutyToNotify => {
            answers.iter().filter(|(field, _)| !IDENTIFYING_FIELDS.contains(&field.as_str())).map(|(field, values)| (field.clone(), values.clone())).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 07);
    const SIGNS: [&str; 2] = ["no_id_documents", "scripted_answers"];

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        let mut answers = Answers::new();
        for (field, value) in pairs {
            answers.entry((*field).to_owned()).or_default().push((*value).to_owned());
        }
        answers
    }

    fn complete_adult(consent: &str) -> Answers {
        answers(&[
            ("responder_name", "PC Amy Lee"),
            ("responder_role", "Detective constable"),
            ("responder_organisation", "Bedfordshire Police"),
            ("responder_email", "amy.lee@example.police.uk"),
            ("age", "adult"),
            ("born_on", "1998-04-02"),
            ("consent", consent),
            ("name", "Ana Popescu"),
            ("gender", "female"),
            ("nationality", "Romanian"),
            ("interpreter", "yes"),
            ("languages", "Romanian"),
            ("background", "Came to the UK in 2025 for work in a nail bar."),
            ("exploitation_types", "labour"),
            ("exploitation_types", "sexual"),
            ("how_started", "Offered a job by an acquaintance."),
            ("still_in_situation", "no"),
            ("indicators", "no_id_documents"),
            ("professional_insight", "Passport held by the manager; scripted answers."),
            ("uk_locations", "Luton, Bedford"),
        ])
    }

    fn fields(problems: &[FieldProblem]) -> Vec<&'static str> {
        problems.iter().map(|problem| problem.field).collect()
    }

    #[test]
    fn every_field_checked_is_asked_on_its_page() {
        for page in Page::ALL {
            let asked: Vec<&str> = page.questions().iter().map(|question| question.field).collect();
            for problem in check_page(page, &Answers::new(), &SIGNS, TODAY) {
                assert!(asked.contains(&problem.field), "{page:?} checks {} but does not ask it", problem.field);
            }
            for question in page.questions().iter().filter(|question| !question.optional) {
                let only_this: Vec<FieldProblem> = check_page(page, &Answers::new(), &SIGNS, TODAY);
                let required = only_this.iter().any(|problem| problem.field == question.field) || (page == Page::Locations && question.field == "uk_locations");
                assert!(required, "{page:?} asks {} as required but does not check it", question.field);
            }
        }
    }

    #[test]
    fn an_adult_who_consents_is_referred_with_their_details() {
        let answers = complete_adult("yes");
        assert_eq!(path_of(&answers), ReferralPath::Nrm);
        let pages = pages(&answers);
        assert!(pages.contains(&Page::Consent) && pages.contains(&Page::PersonalDetails) && pages.contains(&Page::Support));
        assert!(!pages.contains(&Page::AnonymousDetails) && !pages.contains(&Page::LocalAuthority));
        assert_eq!(incomplete(&answers, &SIGNS, TODAY), []);
        assert_eq!(answers_for_path(&answers), answers);
    }

    #[test]
    fn an_adult_who_does_not_consent_becomes_an_anonymous_duty_to_notify() {
        let answers = complete_adult("no");
        assert_eq!(path_of(&answers), ReferralPath::DutyToNotify);
        let pages = pages(&answers);
        assert!(pages.contains(&Page::AnonymousDetails));
        assert!(!pages.contains(&Page::PersonalDetails) && !pages.contains(&Page::Support));
        assert_eq!(incomplete(&answers, &SIGNS, TODAY), []);
        let sent = answers_for_path(&answers);
        for field in IDENTIFYING_FIELDS {
            assert!(!sent.contains_key(field), "{field} is dropped");
        }
        assert_eq!(first(&sent, "nationality"), "Romanian", "what does not identify stays");
    }

    #[test]
    fn a_child_is_not_asked_for_consent_and_needs_the_local_authority() {
        let mut answers = complete_adult("yes");
        answers.remove("consent");
        answers.insert("age".to_owned(), vec!["possibly_child".to_owned()]);
        answers.insert("born_on".to_owned(), vec!["2010-01-05".to_owned()]);
        let pages = pages(&answers);
        assert!(!pages.contains(&Page::Consent));
        assert!(pages.contains(&Page::LocalAuthority) && pages.contains(&Page::PersonalDetails));
        let missing = incomplete(&answers, &SIGNS, TODAY);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, Page::LocalAuthority);
        assert_eq!(fields(&missing[0].1), ["local_authority", "local_authority_referred_on", "guardian"]);
        answers.insert("local_authority".to_owned(), vec!["Luton Borough Council".to_owned()]);
        answers.insert("local_authority_referred_on".to_owned(), vec!["2026-12-04".to_owned()]);
        answers.insert("guardian".to_owned(), vec!["yes".to_owned()]);
        assert_eq!(incomplete(&answers, &SIGNS, TODAY), []);
        // A "no" to consent left from before the age was changed does not
        // make a child's referral anonymous.
        answers.insert("consent".to_owned(), vec!["no".to_owned()]);
        assert_eq!(path_of(&answers), ReferralPath::Nrm);
    }

    #[test]
    fn the_pages_go_in_the_forms_order() {
        let answers = complete_adult("yes");
        assert_eq!(next_page(&answers, Page::Age), Some(Page::Consent));
        assert_eq!(next_page(&answers, Page::Consent), Some(Page::PersonalDetails));
        assert_eq!(next_page(&answers, Page::CrimeReference), Some(Page::Support));
        assert_eq!(next_page(&answers, Page::Support), None);
        let notify = complete_adult("no");
        assert_eq!(next_page(&notify, Page::Consent), Some(Page::AnonymousDetails));
        for page in Page::ALL {
            assert_eq!(Page::from_slug(page.slug()), Some(page));
        }
    }

    #[test]
    fn bad_answers_get_a_message_for_their_field() {
        let child_marked_adult = answers(&[("age", "adult"), ("born_on", "2012-06-01")]);
        assert_eq!(fields(&check_page(Page::Age, &child_marked_adult, &SIGNS, TODAY)), ["age"]);
        let born_tomorrow = answers(&[("age", "possibly_child"), ("born_on", "2026-12-08")]);
        assert_eq!(fields(&check_page(Page::Age, &born_tomorrow, &SIGNS, TODAY)), ["born_on"]);
        let not_a_date = answers(&[("age", "adult"), ("born_on", "1990-02-30")]);
        assert_eq!(fields(&check_page(Page::Age, &not_a_date, &SIGNS, TODAY)), ["born_on"]);
        let young_estimate = answers(&[("age", "adult"), ("estimated_age", "16")]);
        assert_eq!(fields(&check_page(Page::Age, &young_estimate, &SIGNS, TODAY)), ["age"]);
        let mut no_type = complete_adult("yes");
        no_type.remove("exploitation_types");
        assert_eq!(fields(&check_page(Page::Exploitation, &no_type, &SIGNS, TODAY)), ["exploitation_types"]);
        let mut county_lines_alone = complete_adult("yes");
        county_lines_alone.insert("county_lines".to_owned(), vec!["yes".to_owned()]);
        assert_eq!(fields(&check_page(Page::Exploitation, &county_lines_alone, &SIGNS, TODAY)), ["county_lines"]);
        let mut backwards = complete_adult("yes");
        backwards.insert("started_on".to_owned(), vec!["2026-05-01".to_owned()]);
        backwards.insert("ended_on".to_owned(), vec!["2026-04-01".to_owned()]);
        assert_eq!(fields(&check_page(Page::Exploitation, &backwards, &SIGNS, TODAY)), ["ended_on"]);
        let mut unknown_sign = complete_adult("yes");
        unknown_sign.insert("indicators".to_owned(), vec!["made_up".to_owned()]);
        assert_eq!(fields(&check_page(Page::Indicators, &unknown_sign, &SIGNS, TODAY)), ["indicators"]);
        let mut interpreter_without_language = complete_adult("yes");
        interpreter_without_language.remove("languages");
        assert_eq!(fields(&check_page(Page::PersonalDetails, &interpreter_without_language, &SIGNS, TODAY)), ["languages"]);
        let long = answers(&[("background", &"x".repeat(LONG_TEXT + 1))]);
        assert_eq!(fields(&check_page(Page::Background, &long, &SIGNS, TODAY)), ["background"]);
        let empty = Answers::new();
        assert_eq!(
            fields(&check_page(Page::FirstResponder, &empty, &SIGNS, TODAY)),
            ["responder_name", "responder_role", "responder_organisation", "responder_email"]
        );
    }
}
