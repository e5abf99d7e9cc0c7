//! The report flow: one question (or one small group) per page, answers
//! kept in a sealed server-side draft tied to the browser by a cookie, a
//! check-your-answers page, and a confirmation with a reference that is
//! easy to read aloud. Quick exit discards the draft.
//!
//! Each page validates only its own answers, with the same rules and
//! messages as the API (`NewReport::parse`), so the two can never disagree.

use super::serde_value;
use aidant_core::NewReport;
use aidant_core::report::{AGE_GROUPS, AnswerProblem, ContactAnswer, Problem, ReportAnswers, SubmissionToken, VehicleAnswer, limits};
use aidant_store::report_writer::OwnedSubmission;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{DRAFT_COOKIE, FOLLOW_UP_COOKIE, Language, Page, parse_form, render, technical_problem};
use crate::AppState;
use crate::error::WebError;
use crate::html::form::FormData;
use crate::html::messages::{Messages, PublicCatalogue};
use crate::html::{PageError, cookie, see_other, set_cookie, text_at};

/// The words passphrases are made of (data/passphrase-words.txt).
const PASSPHRASE_WORDS: &str = include_str!("../../../../data/passphrase-words.txt");
const PASSPHRASE_LENGTH: usize = 4;

/// What the reporter has answered so far. Sealed at rest by the store.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Draft {
    pub immediate_danger: Option<bool>,
    pub sector: Option<String>,
    pub postcode: Option<String>,
    pub town: Option<String>,
    pub location_description: Option<String>,
    pub business_name: Option<String>,
    pub signs: Vec<String>,
    pub people_count: Option<String>,
    pub age_groups: Vec<String>,
    pub people_description: Option<String>,
    pub vehicles: Vec<DraftVehicle>,
    pub narrative: Option<String>,
    pub when_seen: Option<String>,
    pub contact_choice: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub keep_in_contact: bool,
    /// Set once the report is stored: shown once on the confirmation page.
    pub submitted: Option<Submitted>,
    /// The language the reporter reads the form in (English when unset).
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DraftVehicle {
    pub registration: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submitted {
    pub reference: String,
    pub passphrase: Option<String>,
}

impl Draft {
    /// The language the form is shown in.
    fn language(&self) -> &'static str {
        Messages::known_language(self.language.as_deref())
    }

    fn answers(&self) -> ReportAnswers {
        let contact = (self.contact_choice.as_deref() == Some("details")).then(|| ContactAnswer {
            name: self.contact_name.clone(),
            phone: self.contact_phone.clone(),
            email: self.contact_email.clone(),
        });
        ReportAnswers {
            sector: self.sector.clone(),
            postcode: self.postcode.clone(),
            town: self.town.clone(),
            location_description: self.location_description.clone(),
            business_name: self.business_name.clone(),
            signs: self.signs.clone(),
            people_count: self.people_count.clone(),
            age_groups: self.age_groups.clone(),
            people_description: self.people_description.clone(),
            vehicles: self
                .vehicles
                .iter()
                .map(|vehicle| VehicleAnswer { registration: vehicle.registration.clone(), description: vehicle.description.clone() })
                .collect(),
            narrative: self.narrative.clone(),
            when_seen: self.when_seen.clone(),
            immediate_danger: self.immediate_danger == Some(true),
            contact,
        }
    }

    /// Whether an answer so far means someone may be in danger now.
    fn danger_reported(&self, state: &AppState) -> bool {
        self.immediate_danger == Some(true) || self.immediate_sign(state).is_some()
    }

    fn immediate_sign(&self, state: &AppState) -> Option<String> {
        self.signs
            .iter()
            .find(|id| state.catalogue().indicator(id).is_some_and(|indicator| indicator.escalation == Some(aidant_core::catalogue::Escalation::Immediate)))
            .cloned()
    }
}

/// The pages of the flow, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Danger,
    Place,
    Where,
    Signs,
    People,
    Vehicles,
    What,
    Contact,
    Check,
}

impl Step {
    const ALL: [Step; 9] = [Step::Danger, Step::Place, Step::Where, Step::Signs, Step::People, Step::Vehicles, Step::What, Step::Contact, Step::Check];

    fn slug(self) -> &'static str {
        match self {
            Step::Danger => "danger",
            Step::Place => "place",
            Step::Where => "where",
            Step::Signs => "signs",
            Step::People => "people",
            Step::Vehicles => "vehicles",
            Step::What => "what-happened",
            Step::Contact => "contact",
            Step::Check => "check",
        }
    }

    fn from_slug(slug: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.slug() == slug)
    }

    fn path(self) -> String {
        format!("/report/{}", self.slug())
    }

    fn position(self) -> usize {
        Step::ALL.iter().position(|step| *step == self).unwrap_or(0)
    }

    fn next(self) -> Step {
        Step::ALL.get(self.position() + 1).copied().unwrap_or(Step::Check)
    }

    fn previous(self) -> Option<Step> {
        self.position().checked_sub(1).map(|position| Step::ALL[position])
    }

    fn template(self) -> &'static str {
        match self {
            Step::Danger => "report/danger.html",
            Step::Place => "report/place.html",
            Step::Where => "report/where.html",
            Step::Signs => "report/signs.html",
            Step::People => "report/people.html",
            Step::Vehicles => "report/vehicles.html",
            Step::What => "report/what.html",
            Step::Contact => "report/contact.html",
            Step::Check => "report/check.html",
        }
    }

    fn title_key(self) -> &'static str {
        match self {
            Step::Danger => "danger_title",
            Step::Place => "place_title",
            Step::Where => "where_title",
            Step::Signs => "signs_title",
            Step::People => "people_title",
            Step::Vehicles => "vehicles_title",
            Step::What => "what_title",
            Step::Contact => "contact_title",
            Step::Check => "check_title",
        }
    }

    /// Whether an error on `field` belongs to this page.
    fn owns_field(self, field: &str) -> bool {
        match self {
            Step::Danger => field == "immediate_danger",
            Step::Place => field == "sector",
            Step::Where => ["postcode", "town", "location_description", "business_name"].contains(&field),
            Step::Signs => field == "signs",
            Step::People => ["people_count", "age_groups", "people_description"].contains(&field),
            Step::Vehicles => field.starts_with("vehicles"),
            Step::What => ["narrative", "when_seen"].contains(&field),
            Step::Contact => field.starts_with("contact"),
            Step::Check => false,
        }
    }

    /// The page a person must answer before this one makes sense.
    fn prerequisite(self, draft: &Draft) -> Option<Step> {
        match self {
            Step::Danger => None,
            _ if draft.immediate_danger.is_none() => Some(Step::Danger),
            Step::Place => None,
            _ if draft.sector.is_none() => Some(Step::Place),
            _ => None,
        }
    }
}

/// Loads the browser's draft, or `None` if it has none or it expired.
async fn load_draft(state: &AppState, headers: &HeaderMap) -> Result<Option<(String, Draft)>, Response> {
    let Some(draft_id) = cookie(headers, DRAFT_COOKIE).filter(|id| id.len() <= 64) else { return Ok(None) };
    match state.store().load_draft(&draft_id).await {
        Ok(Some(bytes)) => match serde_json::from_slice(&bytes) {
            Ok(draft) => Ok(Some((draft_id, draft))),
            Err(_) => Ok(None),
        },
        Ok(None) => Ok(None),
        Err(error) => Err(WebError::from(error).into_response()),
    }
}

async fn save_draft(state: &AppState, headers: &HeaderMap, draft_id: &str, draft: &Draft) -> Result<(), Response> {
    let bytes = serde_json::to_vec(draft).map_err(|_| technical_problem(state, headers))?;
    match state.store().save_draft(draft_id, &bytes).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(expired(state, headers, Language(draft.language()))),
        Err(error) => Err(WebError::from(error).into_response()),
    }
}

/// A language chosen part-way through (`?lang=` on a page of the form) is
/// kept in the draft for the rest of the form.
async fn keep_language(state: &AppState, headers: &HeaderMap, draft_id: &str, draft: &mut Draft, language: Language, chosen: bool) -> Result<(), Response> {
    if !chosen || language.0 == draft.language() {
        return Ok(());
    }
    draft.language = Some(language.0.to_owned());
    save_draft(state, headers, draft_id, draft).await
}

/// "Your answers have been cleared": the draft expired, was discarded by
/// quick exit, or never existed.
fn expired(state: &AppState, headers: &HeaderMap, language: Language) -> Response {
    let text = state.site().text(language.0);
    let data = context! { paragraphs => vec![text_at(&text, "report", "expired_text")], link_href => format!("/{}", language.query()), link_text => text_at(&text, "common", "start_again") };
    let page = Page::new("message.html", text_at(&text, "report", "expired_title")).in_language(language.0);
    let mut response = render(state, headers, "/", page, data);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(DRAFT_COOKIE, "", Some(0)));
    response
}

/// Starts a new draft (discarding any earlier one in this browser).
pub async fn start(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    if let Some(old) = cookie(&headers, DRAFT_COOKIE) {
        let _ = state.store().delete_draft(&old).await;
    }
    let draft = Draft { language: (language != "en").then(|| language.to_owned()), ..Draft::default() };
    let Ok(bytes) = serde_json::to_vec(&draft) else { return technical_problem(&state, &headers) };
    match state.store().create_draft(&bytes).await {
        Ok(draft_id) => {
            let mut response = see_other(&Step::Danger.path());
            response.headers_mut().append(header::SET_COOKIE, set_cookie(DRAFT_COOKIE, &draft_id, None));
            response
        }
        Err(error) => WebError::from(error).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct ChangeQuery {
    change: Option<String>,
    lang: Option<String>,
}

pub async fn show_step(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<ChangeQuery>,
    language: Language,
) -> Response {
    let Some(step) = Step::from_slug(&slug) else { return StatusCode::NOT_FOUND.into_response() };
    let (draft_id, mut draft) = match load_draft(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return expired(&state, &headers, language),
        Err(response) => return response,
    };
    if let Err(response) = keep_language(&state, &headers, &draft_id, &mut draft, language, query.lang.is_some()).await {
        return response;
    }
    if let Some(required) = step.prerequisite(&draft) {
        return see_other(&required.path());
    }
    render_step(&state, &headers, step, &draft, Vec::new(), query.change.is_some())
}

fn render_step(state: &AppState, headers: &HeaderMap, step: Step, draft: &Draft, errors: Vec<PageError>, change: bool) -> Response {
    let text = state.site().text(draft.language());
    let mut page = Page::new(step.template(), text_at(&text, "report", step.title_key())).in_language(draft.language());
    let home = format!("/{}", Language(draft.language()).query());
    page.back_href = if change { Some(Step::Check.path()) } else { step.previous().map(Step::path).or(Some(home)) };
    page.danger_reported = draft.danger_reported(state) && step != Step::Danger;
    page.errors = errors;
    let data = step_data(state, &text, step, draft, change);
    render(state, headers, &step.path(), page, data)
}

#[derive(Serialize)]
struct ChoiceOption {
    value: String,
    label: String,
}

fn step_data(state: &AppState, text: &Value, step: Step, draft: &Draft, change: bool) -> Value {
    let catalogue = state.catalogue();
    let public = state.site().catalogue_in(catalogue, draft.language());
    let values = serde_value(draft);
    let base = context! { values, change };
    match step {
        Step::Danger => {
            let yes_no = vec![
                ChoiceOption { value: "yes".into(), label: text_at(text, "common", "yes") },
                ChoiceOption { value: "no".into(), label: text_at(text, "common", "no") },
            ];
            context! { yes_no => serde_value(&yes_no), ..base }
        }
        Step::Place => {
            let place_options: Vec<ChoiceOption> =
                catalogue.place_sectors().map(|sector| ChoiceOption { value: sector.id.clone(), label: public.place_label(sector).to_owned() }).collect();
            context! { place_options => serde_value(&place_options), ..base }
        }
        Step::Signs => {
            let sector_id = draft.sector.clone().unwrap_or_default();
            let sector_name = catalogue.sector(&sector_id).map(|sector| public.sector_name(sector).to_owned()).unwrap_or_default();
            let sector_signs: Vec<ChoiceOption> = catalogue
                .sector_indicators(&sector_id)
                .map(|indicator| ChoiceOption { value: indicator.id.clone(), label: public.sign(indicator).to_owned() })
                .collect();
            let general_signs: Vec<ChoiceOption> = catalogue
                .indicators_for_place(&sector_id)
                .filter(|indicator| !indicator.sectors.contains(&sector_id))
                .map(|indicator| ChoiceOption { value: indicator.id.clone(), label: public.sign(indicator).to_owned() })
                .collect();
            context! { sector_name, sector_signs => serde_value(&sector_signs), general_signs => serde_value(&general_signs), ..base }
        }
        Step::People => {
            let age_options: Vec<ChoiceOption> =
                AGE_GROUPS.iter().map(|(id, _)| ChoiceOption { value: (*id).to_owned(), label: text_at(text, "report", &format!("age_{id}")) }).collect();
            context! { age_options => serde_value(&age_options), ..base }
        }
        Step::Vehicles => {
            let mut vehicles = draft.vehicles.clone();
            if vehicles.is_empty() {
                vehicles.push(DraftVehicle::default());
            }
            let can_add = vehicles.len() < limits::VEHICLES;
            let vehicles: Vec<Value> =
                vehicles.iter().map(|vehicle| context! { registration => vehicle.registration.clone(), description => vehicle.description.clone() }).collect();
            context! { vehicles, can_add, ..base }
        }
        Step::Check => context! { rows => check_rows(public, text, draft), ..base },
        Step::Where | Step::What | Step::Contact => base,
    }
}

/// Applies this page's answers from the form to the draft.
fn apply_answers(step: Step, form: &FormData, draft: &mut Draft) {
    match step {
        Step::Danger => {
            draft.immediate_danger = form.get("immediate_danger").and_then(|answer| match answer {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            })
        }
        Step::Place => {
            let chosen = form.text("sector");
            if chosen != draft.sector {
                // Signs belong to a kind of place; keep only those still offered.
                draft.signs.clear();
            }
            draft.sector = chosen;
        }
        Step::Where => {
            draft.postcode = form.text("postcode");
            draft.town = form.text("town");
            draft.location_description = form.text("location_description");
            draft.business_name = form.text("business_name");
        }
        Step::Signs => draft.signs = form.all("signs"),
        Step::People => {
            draft.people_count = form.text("people_count");
            draft.age_groups = form.all("age_groups");
            draft.people_description = form.text("people_description");
        }
        Step::Vehicles => {
            let mut vehicles = Vec::new();
            for position in 0..limits::VEHICLES + 1 {
                let registration = form.text(&format!("vehicles[{position}].registration"));
                let description = form.text(&format!("vehicles[{position}].description"));
                if form.get(&format!("vehicles[{position}].registration")).is_none() && form.get(&format!("vehicles[{position}].description")).is_none() {
                    break;
                }
                vehicles.push(DraftVehicle { registration, description });
            }
            draft.vehicles = vehicles;
        }
        Step::What => {
            draft.narrative = form.text("narrative");
            draft.when_seen = form.text("when_seen");
        }
        Step::Contact => {
            draft.contact_choice = form.text("contact_choice").filter(|choice| choice == "details" || choice == "anonymous");
            draft.contact_name = form.text("contact_name");
            draft.contact_phone = form.text("contact_phone");
            draft.contact_email = form.text("contact_email");
            draft.keep_in_contact = form.get("keep_in_contact") == Some("yes");
        }
        Step::Check => {}
    }
}

/// This page's problems, using the same rules as the API.
fn step_errors(state: &AppState, text: &Value, step: Step, draft: &Draft) -> Vec<PageError> {
    if step == Step::Danger {
        return if draft.immediate_danger.is_none() {
            vec![PageError::new("immediate_danger", text_at(text, "report", "danger_required"))]
        } else {
            Vec::new()
        };
    }
    match NewReport::check(&draft.answers(), state.catalogue()) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .into_iter()
            .filter(|answer| step.owns_field(&answer.field))
            .map(|answer| PageError::new(&answer.field, problem_message(text, answer.problem)))
            .collect(),
    }
}

/// A problem with an answer in the reader's language, from the
/// `[report_errors]` messages.
pub(crate) fn problem_message(text: &Value, problem: Problem) -> String {
    let mut message = text_at(text, "report_errors", problem.key());
    if let Some(label) = problem.label() {
        let mut label_text = text_at(text, "report_errors", label.key());
        if let Some(number) = label.number() {
            label_text = label_text.replace("{number}", &number.to_string());
        }
        message = message.replace("{label}", &label_text);
    }
    for (name, value) in problem.numbers() {
        message = message.replace(&format!("{{{name}}}"), &value.to_string());
    }
    message
}

pub async fn submit_step(State(state): State<AppState>, headers: HeaderMap, Path(slug): Path<String>, language: Language, body: Bytes) -> Response {
    let Some(step) = Step::from_slug(&slug) else { return StatusCode::NOT_FOUND.into_response() };
    let form = match parse_form(&body) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let (draft_id, mut draft) = match load_draft(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return expired(&state, &headers, language),
        Err(response) => return response,
    };
    if step == Step::Check {
        return send_report(&state, &headers, &draft_id, draft).await;
    }
    if let Some(required) = step.prerequisite(&draft) {
        return see_other(&required.path());
    }
    let change = form.get("change").is_some();
    let had_immediate_sign = draft.immediate_sign(&state).is_some();
    apply_answers(step, &form, &mut draft);
    if step == Step::Vehicles && form.get("action") == Some("add") && draft.vehicles.len() < limits::VEHICLES {
        draft.vehicles.push(DraftVehicle::default());
        if let Err(response) = save_draft(&state, &headers, &draft_id, &draft).await {
            return response;
        }
        return render_step(&state, &headers, step, &draft, Vec::new(), change);
    }
    // Answers are kept even when they have errors, so nothing typed is lost.
    if let Err(response) = save_draft(&state, &headers, &draft_id, &draft).await {
        return response;
    }
    let text = state.site().text(draft.language());
    let errors = step_errors(&state, &text, step, &draft);
    if !errors.is_empty() {
        return render_step(&state, &headers, step, &draft, errors, change);
    }
    let next = if change { Step::Check } else { step.next() };
    // Danger comes first: the 999 page interrupts the flow the moment an
    // answer means someone may be in danger now.
    let newly_immediate_sign = step == Step::Signs && !had_immediate_sign && draft.immediate_sign(&state).is_some();
    if (step == Step::Danger && draft.immediate_danger == Some(true)) || newly_immediate_sign {
        return see_other(&format!("/report/call-999?next={}", next.slug()));
    }
    see_other(&next.path())
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// "Call 999 now", shown before anything else, then the report continues.
pub async fn call_999(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<NextQuery>, language: Language) -> Response {
    let (draft_id, mut draft) = match load_draft(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return expired(&state, &headers, language),
        Err(response) => return response,
    };
    if let Err(response) = keep_language(&state, &headers, &draft_id, &mut draft, language, query.lang.is_some()).await {
        return response;
    }
    let next = query.next.as_deref().and_then(Step::from_slug).unwrap_or(Step::Place);
    let text = state.site().text(draft.language());
    let lorry = draft.sector.as_deref() == Some("lorries_and_services") || draft.immediate_sign(&state).is_some_and(|sign| sign.contains("lorry"));
    let page = Page::new("report/call_999.html", text_at(&text, "report", "call_999_title")).in_language(draft.language());
    render(&state, &headers, &format!("/report/call-999?next={}", next.slug()), page, context! { next_href => next.path(), lorry })
}

/// What a reporter said, in the words of the check page: the part of a
/// draft or a stored report that is shown back to them (never contact details).
pub(super) struct AnswersShown<'a> {
    pub immediate_danger: bool,
    pub sector: Option<&'a str>,
    pub place: Vec<String>,
    pub signs: &'a [String],
    pub people_count: Option<String>,
    pub age_groups: &'a [String],
    pub people_description: Option<String>,
    pub vehicles: Vec<(Option<String>, Option<String>)>,
    pub narrative: Option<String>,
    pub when_seen: Option<String>,
}

/// The check page's rows for `answers`: (message key, the step that asks
/// it, the lines shown; "not given" when there are none).
pub(super) fn answer_rows(public: PublicCatalogue<'_>, text: &Value, answers: &AnswersShown<'_>) -> Vec<(&'static str, Step, Vec<String>)> {
    let catalogue = public.catalogue;
    let not_given = text_at(text, "common", "not_given");
    let or_not_given = |values: Vec<String>| if values.is_empty() { vec![not_given.clone()] } else { values };
    let danger = if answers.immediate_danger { text_at(text, "common", "yes") } else { text_at(text, "common", "no") };
    let place = answers.sector.and_then(|id| catalogue.sector(id)).map(|sector| public.place_label(sector).to_owned());
    let signs: Vec<String> = answers.signs.iter().filter_map(|id| catalogue.indicator(id)).map(|indicator| public.sign(indicator).to_owned()).collect();
    let mut people = Vec::new();
    if let Some(count) = &answers.people_count {
        people.push(format!("{}: {count}", text_at(text, "report", "people_count")));
    }
    let ages: Vec<String> = answers.age_groups.iter().map(|id| text_at(text, "report", &format!("age_{id}"))).collect();
    if !ages.is_empty() {
        people.push(ages.join(", "));
    }
    people.extend(answers.people_description.clone());
    let vehicles: Vec<String> = answers
        .vehicles
        .iter()
        .filter(|(registration, description)| registration.is_some() || description.is_some())
        .map(|(registration, description)| [registration.clone(), description.clone()].into_iter().flatten().collect::<Vec<_>>().join(" – "))
        .collect();
    vec![
        ("check_danger", Step::Danger, vec![danger]),
        ("check_place", Step::Place, place.into_iter().collect()),
        ("check_where", Step::Where, answers.place.clone()),
        ("check_signs", Step::Signs, signs),
        ("check_people", Step::People, people),
        ("check_vehicles", Step::Vehicles, vehicles),
        ("check_what", Step::What, answers.narrative.clone().into_iter().collect()),
        ("check_when", Step::What, answers.when_seen.clone().into_iter().collect()),
    ]
    .into_iter()
    .map(|(key, step, lines)| (key, step, or_not_given(lines)))
    .collect()
}

fn check_rows(public: PublicCatalogue<'_>, text: &Value, draft: &Draft) -> Vec<Value> {
    let present = |values: &[&Option<String>]| values.iter().filter_map(|value| value.as_ref().cloned()).collect::<Vec<_>>();
    let answers = AnswersShown {
        immediate_danger: draft.immediate_danger == Some(true),
        sector: draft.sector.as_deref(),
        place: present(&[&draft.postcode, &draft.town, &draft.location_description, &draft.business_name]),
        signs: &draft.signs,
        people_count: draft.people_count.clone(),
        age_groups: &draft.age_groups,
        people_description: draft.people_description.clone(),
        vehicles: draft.vehicles.iter().map(|vehicle| (vehicle.registration.clone(), vehicle.description.clone())).collect(),
        narrative: draft.narrative.clone(),
        when_seen: draft.when_seen.clone(),
    };
    let contact = if draft.contact_choice.as_deref() == Some("details") {
        present(&[&draft.contact_name, &draft.contact_phone, &draft.contact_email])
    } else {
        vec![text_at(text, "report", "anonymous")]
    };
    let keep = if draft.keep_in_contact { text_at(text, "common", "yes") } else { text_at(text, "common", "no") };
    let not_given = text_at(text, "common", "not_given");
    let contact = if contact.is_empty() { vec![not_given] } else { contact };
    answer_rows(public, text, &answers)
        .into_iter()
        .chain([("check_contact", Step::Contact, contact), ("check_keep", Step::Contact, vec![keep])])
        .map(|(key, step, lines)| context! { key => text_at(text, "report", key), href => step.path(), lines })
        .collect()
}

/// Stores the report. The draft id is the submission token, so a double
/// click or a refresh returns the first report rather than making another.
async fn send_report(state: &AppState, headers: &HeaderMap, draft_id: &str, mut draft: Draft) -> Response {
    if draft.submitted.is_some() {
        return see_other("/report/done");
    }
    let catalogue = state.catalogue();
    let report = match NewReport::check(&draft.answers(), catalogue) {
        Ok(report) => report,
        Err(problems) => {
            let text = state.site().text(draft.language());
            let page_errors = problems
                .into_iter()
                .map(|AnswerProblem { field, problem }| {
                    let step = Step::ALL.into_iter().find(|step| step.owns_field(&field)).unwrap_or(Step::Place);
                    PageError::new(&field, problem_message(&text, problem)).linking_to(step)
                })
                .collect();
            return render_step(state, headers, Step::Check, &draft, page_errors, false);
        }
    };
    let passphrase = draft.keep_in_contact.then(new_passphrase);
    let passphrase_hash = match passphrase.as_deref().map(aidant_store::identity::hash_passphrase).transpose() {
        Ok(hash) => hash,
        Err(error) => return WebError::from(error).into_response(),
    };
    let triage = report.triage(catalogue);
    let risk = triage.level;
    let submission = OwnedSubmission {
        report,
        triage,
        catalogue_version: catalogue.version.clone(),
        submission_token: SubmissionToken::parse(draft_id).ok(),
        passphrase_hash,
    };
    let receipt = match state.submit_report(submission).await {
        Ok(receipt) => receipt,
        Err(error) => return WebError::from(error).into_response(),
    };
    tracing::info!(risk = risk.as_str(), created = receipt.created, "report received");
    if receipt.created {
        draft.submitted = Some(Submitted { reference: receipt.reference.to_string(), passphrase });
        if let Err(response) = save_draft(state, headers, draft_id, &draft).await {
            return response;
        }
    }
    see_other("/report/done")
}

/// The confirmation page, shown once: the draft (with the passphrase) is
/// deleted as it is shown.
pub async fn done(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (draft_id, draft) = match load_draft(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return see_other("/"),
        Err(response) => return response,
    };
    let Some(submitted) = draft.submitted.clone() else { return see_other(&Step::Check.path()) };
    if let Err(error) = state.store().delete_draft(&draft_id).await {
        tracing::error!(error = %error, "deleting a sent draft failed");
    }
    let text = state.site().text(draft.language());
    let mut page = Page::new("report/done.html", text_at(&text, "report", "done_title")).in_language(draft.language());
    page.danger_reported = draft.danger_reported(&state);
    let mut response = render(&state, &headers, "/report/done", page, context! { reference => submitted.reference, passphrase => submitted.passphrase });
    response.headers_mut().append(header::SET_COOKIE, set_cookie(DRAFT_COOKIE, "", Some(0)));
    response
}

/// Quick exit without JavaScript: discard the draft and any keep-in-contact
/// sign-in, then go to the neutral site.
pub async fn exit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    discard_drafts(&state, &headers).await;
    let mut response = see_other(state.site().exit_url());
    clear_private_cookies(&mut response);
    response
}

/// Quick exit with JavaScript: the page asks for this as it blanks itself,
/// and leaves for the neutral site once it is answered.
pub async fn discard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    discard_drafts(&state, &headers).await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    clear_private_cookies(&mut response);
    response
}

async fn discard_drafts(state: &AppState, headers: &HeaderMap) {
    if let Some(draft_id) = cookie(headers, DRAFT_COOKIE)
        && let Err(error) = state.store().delete_draft(&draft_id).await
    {
        tracing::error!(error = %error, "discarding a draft on quick exit failed");
    }
}

fn clear_private_cookies(response: &mut Response) {
    response.headers_mut().append(header::SET_COOKIE, set_cookie(DRAFT_COOKIE, "", Some(0)));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(FOLLOW_UP_COOKIE, "", Some(0)));
}

/// Four random words from the list, joined by hyphens.
fn new_passphrase() -> String {
    let words: Vec<&str> = PASSPHRASE_WORDS.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).collect();
    let mut rng = rand::rng();
    (0..PASSPHRASE_LENGTH).map(|_| words[rng.random_range(0..words.len())]).collect::<Vec<_>>().join("-")
}

impl PageError {
    /// An error on the check page links to the page where it can be fixed.
    fn linking_to(mut self, step: Step) -> Self {
        self.href = Some(step.path());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrases_have_four_known_words_and_normalise() {
        let passphrase = new_passphrase();
        let words: Vec<&str> = passphrase.split('-').collect();
        assert_eq!(words.len(), 4);
        assert!(words.iter().all(|word| PASSPHRASE_WORDS.lines().any(|line| line == *word)));
        assert_eq!(aidant_store::identity::normalise_passphrase(" Harbour lemon,QUIET - river "), "harbour-lemon-quiet-river");
    }

    #[test]
    fn the_word_list_has_256_distinct_words() {
        let words: std::collections::BTreeSet<&str> = PASSPHRASE_WORDS.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).collect();
        assert_eq!(words.len(), 256);
    }

    /// The form's English wording of every problem is the API's, and every
    /// language fills in every number and label.
    #[test]
    fn problems_are_worded_as_the_api_words_them_and_translated_whole() {
        use aidant_core::report::Label;
        let labels = [
            Label::Town,
            Label::LocationDescription,
            Label::BusinessName,
            Label::PeopleDescription,
            Label::VehicleDescription { number: 3 },
            Label::Narrative,
            Label::WhenSeen,
            Label::ContactName,
            Label::ContactPhone,
            Label::ContactEmail,
        ];
        let mut problems = vec![
            Problem::SectorMissing,
            Problem::SectorUnknown,
            Problem::PostcodeInvalid,
            Problem::LocationMissing,
            Problem::SignsTooMany { max: 100 },
            Problem::SignsUnknown,
            Problem::PeopleCountTooMany { max: 500 },
            Problem::PeopleCountNotNumber,
            Problem::AgeGroupsUnknown,
            Problem::VehiclesTooMany { max: 10 },
            Problem::RegistrationInvalid { number: 2, max: 12 },
            Problem::PhoneInvalid,
            Problem::EmailInvalid,
            Problem::ContactMissing,
        ];
        for label in labels {
            problems.extend([Problem::TooLong { label, max: 200, actual: 201 }, Problem::LineBreak { label }, Problem::ControlCharacter { label }]);
        }
        let messages = Messages::load().unwrap();
        for problem in problems {
            assert_eq!(problem_message(&messages.for_language("en"), problem), problem.english());
            for (code, _, _) in crate::html::messages::LANGUAGES {
                let worded = problem_message(&messages.for_language(code), problem);
                assert!(!worded.contains('{'), "{code}: {worded}");
                for (_, number) in problem.numbers() {
                    assert!(worded.contains(&number.to_string()), "{code}: {worded} lacks {number}");
                }
                if code != "en" {
                    assert_ne!(worded, problem.english(), "{code} still words {problem:?} in English");
                }
            }
        }
    }

    #[test]
    fn steps_run_in_order_and_own_their_fields() {
        assert_eq!(Step::Danger.next(), Step::Place);
        assert_eq!(Step::Contact.next(), Step::Check);
        assert_eq!(Step::Place.previous(), Some(Step::Danger));
        for step in Step::ALL {
            assert_eq!(Step::from_slug(step.slug()), Some(step));
        }
        assert!(Step::Vehicles.owns_field("vehicles[2].registration"));
        assert!(Step::Where.owns_field("postcode"));
        assert!(!Step::Where.owns_field("sector"));
    }
}
