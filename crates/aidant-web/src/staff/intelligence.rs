//! Intelligence records: created from a report or directly, graded 3x5x2
//! (or 5x5x5 for historic records), shared with named organisations, and a
//! restricted source that only the originating unit reads, with a reason.

use aidant_core::grading::{Grading, GradingAnswers, IntelligenceAssessment, SourceEvaluation, parse_grading};
use aidant_core::policy::{Action, Capability, Handling, may};
use aidant_core::text::{BoundedText, Lines, TextError};
use aidant_store::intelligence::{IntelligenceRecord, NewIntelligence, SourceDetails};
use aidant_store::organisations::Organisation;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;

use super::{Staff, StaffPage, check_capability, failed, forbidden, format_time, message, render, staff_form};
use crate::AppState;
use crate::pages::form::FormData;
use crate::pages::{PageError, see_other};

const TITLE_LIMIT: usize = 200;
const TEXT_LIMIT: usize = 5_000;

pub async fn list(State(state): State<AppState>, staff: Staff) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::Search).await {
        return response;
    }
    let ids = match state.store().intelligence_candidates(&staff.organisation.id, 200).await {
        Ok(ids) => ids,
        Err(error) => return failed(&state, "listing intelligence", &error),
    };
    let now = aidant_store::now_ms();
    let records = match state.store().find_intelligence_many(&ids).await {
        Ok(records) => records,
        Err(error) => return failed(&state, "loading intelligence", &error),
    };
    let rows: Vec<Value> = records
        .iter()
        .filter(|record| may(&staff.actor, Action::ViewIntelligence, &record.access(), now).is_allowed())
        .map(|record| summary(record, &staff))
        .collect();
    let data = context! { rows, can_create => staff.can(Capability::CreateIntelligence) };
    render(&state, Some(&staff), StaffPage::new("staff/intelligence_list.html", "Intelligence", "intelligence"), data)
}

fn summary(record: &IntelligenceRecord, staff: &Staff) -> Value {
    context! {
        id => record.id.clone(),
        reference => record.reference.clone(),
        title => record.title.clone(),
        grading => record.grading.code(),
        created => format_time(record.created_at_ms),
        ours => record.owner_organisation_id == staff.organisation.id,
        review_on => record.review_on.clone(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    report: Option<String>,
}

/// The report a record is developed from, if the user may read it.
async fn source_report(state: &AppState, staff: &Staff, report_id: Option<&str>) -> Result<Option<(String, String)>, Response> {
    let Some(report_id) = report_id.filter(|id| !id.is_empty()) else { return Ok(None) };
    let triage = match state.store().triage_state(report_id).await {
        Ok(Some(triage)) => triage,
        Ok(None) => return Err(message(state, staff, StatusCode::NOT_FOUND, "Report not found", "There is no report at this address.")),
        Err(error) => return Err(failed(state, "loading a report", &error)),
    };
    let decision = may(&staff.actor, Action::ViewReport, &triage.access(), aidant_store::now_ms());
    if !decision.is_allowed() {
        return Err(forbidden(state, staff, "report", report_id, &decision).await);
    }
    match state.store().find_report_by_id(report_id).await {
        Ok(Some(report)) => Ok(Some((report.id, report.reference.to_string()))),
        Ok(None) => Err(message(state, staff, StatusCode::NOT_FOUND, "Report not found", "There is no report at this address.")),
        Err(error) => Err(failed(state, "loading a report", &error)),
    }
}

async fn other_organisations(state: &AppState, staff: &Staff) -> Result<Vec<Organisation>, Response> {
    match state.store().list_organisations().await {
        Ok(organisations) => Ok(organisations.into_iter().filter(|organisation| organisation.id != staff.organisation.id).collect()),
        Err(error) => Err(failed(state, "listing organisations", &error)),
    }
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    report: Option<(String, String)>,
    organisations: &[Organisation],
    form: &FormData,
    errors: Vec<PageError>,
) -> Response {
    let mut page = StaffPage::new("staff/intelligence_new.html", "New intelligence record", "intelligence");
    page.errors = errors;
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let data = context! {
        report_id => report.as_ref().map(|(id, _)| id.clone()),
        report_reference => report.as_ref().map(|(_, reference)| reference.clone()),
        values => context! {
            title => value("title"),
            scheme => form.get("scheme").unwrap_or("3x5x2"),
            source => value("source"),
            intelligence => value("intelligence"),
            handling => value("handling"),
            legacy_source => value("legacy_source"),
            legacy_intelligence => value("legacy_intelligence"),
            legacy_handling => value("legacy_handling"),
            conditions_text => value("conditions_text"),
            recipients => form.all("recipients"),
            no_onward_sharing => form.get("no_onward_sharing").is_some(),
            originator_consent => form.get("originator_consent").is_some(),
            expires_on => value("expires_on"),
            sanitised_text => value("sanitised_text"),
            source_identity => value("source_identity"),
            source_text => value("source_text"),
            review_on => value("review_on"),
        },
        sources => SourceEvaluation::ALL.iter().map(|grade| context! { value => grade.code(), label => format!("{} – {}", grade.code(), grade.label()) }).collect::<Vec<_>>(),
        assessments => IntelligenceAssessment::ALL.iter().map(|grade| context! { value => grade.code(), label => format!("{} – {}", grade.code(), grade.label()) }).collect::<Vec<_>>(),
        organisations => organisations.iter().map(|organisation| context! { value => organisation.id.clone(), label => organisation.name.clone() }).collect::<Vec<_>>(),
    };
    render(state, Some(staff), page, data)
}

pub async fn new_form(State(state): State<AppState>, staff: Staff, Query(query): Query<NewQuery>) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::CreateIntelligence).await {
        return response;
    }
    let report = match source_report(&state, &staff, query.report.as_deref()).await {
        Ok(report) => report,
        Err(response) => return response,
    };
    let organisations = match other_organisations(&state, &staff).await {
        Ok(organisations) => organisations,
        Err(response) => return response,
    };
    form_page(&state, &staff, report, &organisations, &FormData::default(), Vec::new())
}

/// `YYYY-MM-DD`, or an error message.
fn parse_date(text: &str) -> Result<time::Date, &'static str> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).map_err(|_| "must be a real date written like 2027-03-31")
}

fn text_error(what: &str, limit: usize, error: TextError) -> String {
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

pub async fn create(State(state): State<AppState>, staff: Staff, body: Bytes) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::CreateIntelligence).await {
        return response;
    }
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let report = match source_report(&state, &staff, form.get("report_id")).await {
        Ok(report) => report,
        Err(response) => return response,
    };
    let organisations = match other_organisations(&state, &staff).await {
        Ok(organisations) => organisations,
        Err(response) => return response,
    };
    let mut errors = Vec::new();
    let title = BoundedText::parse(form.get("title").unwrap_or_default(), TITLE_LIMIT, Lines::Single)
        .map_err(|error| errors.push(PageError::new("title", text_error("a title", TITLE_LIMIT, error))))
        .ok();
    let recipients = form.all("recipients");
    if recipients.iter().any(|id| !organisations.iter().any(|organisation| &organisation.id == id)) {
        errors.push(PageError::new("recipients", "Select organisations from the list"));
    }
    let expires_at_ms = match form.text("expires_on") {
        None => None,
        Some(text) => match parse_date(&text) {
            Ok(date) => Some((date.next_day().unwrap_or(date).midnight().assume_utc().unix_timestamp()) * 1000),
            Err(message) => {
                errors.push(PageError::new("expires_on", format!("The expiry date {message}")));
                None
            }
        },
    };
    let legacy = form.get("scheme") == Some("5x5x5");
    let answers = GradingAnswers {
        scheme: form.get("scheme").unwrap_or_default(),
        source: form.get(if legacy { "legacy_source" } else { "source" }).unwrap_or_default(),
        intelligence: form.get(if legacy { "legacy_intelligence" } else { "intelligence" }).unwrap_or_default(),
        handling: form.get(if legacy { "legacy_handling" } else { "handling" }).unwrap_or_default(),
        conditions_text: form.get("conditions_text").unwrap_or_default(),
        recipient_organisations: recipients,
        no_onward_sharing: form.get("no_onward_sharing").is_some(),
        originator_consent_required: form.get("originator_consent").is_some(),
        expires_at_ms,
    };
    let grading = match parse_grading(&answers) {
        Ok(grading) => Some(grading),
        Err(grading_errors) => {
            for error in grading_errors {
                let field = match (legacy, error.field) {
                    (true, "source" | "intelligence" | "handling") => format!("legacy_{}", error.field),
                    (_, field) => field.to_owned(),
                };
                errors.push(PageError::new(&field, error.message));
            }
            None
        }
    };
    let sanitised = BoundedText::parse(form.get("sanitised_text").unwrap_or_default(), TEXT_LIMIT, Lines::Multiple)
        .map_err(|error| errors.push(PageError::new("sanitised_text", text_error("the sanitised text", TEXT_LIMIT, error))))
        .ok();
    let identity = BoundedText::parse_optional(form.get("source_identity"), 500, Lines::Multiple)
        .map_err(|error| errors.push(PageError::new("source_identity", text_error("the source's identity", 500, error))))
        .ok()
        .flatten();
    let source_text = BoundedText::parse_optional(form.get("source_text"), TEXT_LIMIT, Lines::Multiple)
        .map_err(|error| errors.push(PageError::new("source_text", text_error("the source text", TEXT_LIMIT, error))))
        .ok()
        .flatten();
    let review_on = match form.text("review_on") {
        None => None,
        Some(text) => match parse_date(&text) {
            Ok(date) => Some(date.to_string()),
            Err(message) => {
                errors.push(PageError::new("review_on", format!("The review date {message}")));
                None
            }
        },
    };
    let (Some(title), Some(grading), Some(sanitised), true) = (title, grading, sanitised, errors.is_empty()) else {
        return form_page(&state, &staff, report, &organisations, &form, errors);
    };
    let source = SourceDetails { identity: identity.map(BoundedText::into_string), text: source_text.map(BoundedText::into_string) };
    let new = NewIntelligence {
        report_id: report.as_ref().map(|(id, _)| id.as_str()),
        owner_organisation_id: &staff.organisation.id,
        created_by: &staff.user.id,
        title: title.as_str(),
        grading: &grading,
        sanitised_text: sanitised.as_str(),
        source: Some(&source),
        review_on: review_on.as_deref(),
    };
    match state.store().create_intelligence(&new).await {
        Ok((id, _)) => see_other(&format!("/staff/intelligence/{id}")),
        Err(error) => failed(&state, "creating intelligence", &error),
    }
}

/// Loads a record and applies the policy for `action`.
async fn authorise(state: &AppState, staff: &Staff, id: &str, action: Action) -> Result<IntelligenceRecord, Response> {
    let record = match state.store().find_intelligence(id).await {
        Ok(Some(record)) => record,
        Ok(None) => return Err(message(state, staff, StatusCode::NOT_FOUND, "Record not found", "There is no intelligence record at this address.")),
        Err(error) => return Err(failed(state, "loading intelligence", &error)),
    };
    let decision = may(&staff.actor, action, &record.access(), aidant_store::now_ms());
    if !decision.is_allowed() {
        return Err(forbidden(state, staff, "intelligence", id, &decision).await);
    }
    Ok(record)
}

pub async fn show(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let record = match authorise(&state, &staff, &id, Action::ViewIntelligence).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    render_record(&state, &staff, record, Vec::new(), None).await
}

async fn render_record(state: &AppState, staff: &Staff, record: IntelligenceRecord, errors: Vec<PageError>, source: Option<SourceDetails>) -> Response {
    let audited = state
        .store()
        .audit(&aidant_store::audit::AuditEvent {
            actor: &staff.audit_actor(),
            action: "intelligence.view",
            record_kind: "intelligence",
            record_id: &record.id,
            reason: None,
        })
        .await;
    if let Err(error) = audited {
        return failed(state, "auditing a view", &error);
    }
    let organisations = match state.store().list_organisations().await {
        Ok(organisations) => organisations,
        Err(error) => return failed(state, "listing organisations", &error),
    };
    let name_of = |id: &str| {
        organisations
            .iter()
            .find(|organisation| organisation.id == id)
            .map_or_else(|| "Unknown organisation".to_owned(), |organisation| organisation.name.clone())
    };
    let access = record.access();
    let now = aidant_store::now_ms();
    let allowed = |action: Action| may(&staff.actor, action, &access, now).is_allowed();
    let (grading_lines, conditions) = match &record.grading {
        Grading::ThreeFiveTwo { source, intelligence, handling, conditions_text } => {
            let lines = vec![
                format!("Source evaluation {}: {}", source.code(), source.label()),
                format!("Intelligence assessment {}: {}", intelligence.code(), intelligence.label()),
                match handling {
                    Handling::Permitted => "Handling code P: lawful sharing permitted".to_owned(),
                    Handling::Conditional(_) => "Handling code C: lawful sharing permitted with conditions".to_owned(),
                },
            ];
            let conditions = match handling {
                Handling::Conditional(conditions) => Some(context! {
                    text => conditions_text.clone(),
                    recipients => conditions.recipient_organisations.iter().map(|id| name_of(id)).collect::<Vec<_>>(),
                    no_onward_sharing => conditions.no_onward_sharing,
                    originator_consent => conditions.originator_consent_required,
                    expires => conditions.expires_at_ms.map(format_time),
                }),
                Handling::Permitted => None,
            };
            (lines, conditions)
        }
        Grading::Legacy5x5x5 { source, intelligence, handling } => (
            vec![
                format!("Historic 5x5x5 grading, kept as recorded: source {source}, intelligence {intelligence}, handling {handling}"),
                "5x5x5 grades are not converted to 3x5x2; regrade when the record is next reviewed.".to_owned(),
            ],
            None,
        ),
    };
    let share_targets: Vec<Value> = organisations
        .iter()
        .filter(|organisation| organisation.id != record.owner_organisation_id)
        .filter(|organisation| !record.shared_with.iter().any(|share| share.organisation_id == organisation.id))
        .filter(|organisation| match &access.handling {
            Handling::Conditional(conditions) if !conditions.recipient_organisations.is_empty() => {
                conditions.recipient_organisations.contains(&organisation.id)
            }
            _ => true,
        })
        .map(|organisation| context! { value => organisation.id.clone(), label => organisation.name.clone() })
        .collect();
    let report_visible = match &record.report_id {
        Some(report_id) => match state.store().triage_state(report_id).await {
            Ok(Some(triage)) => may(&staff.actor, Action::ViewReport, &triage.access(), now).is_allowed(),
            Ok(None) => false,
            Err(error) => return failed(state, "loading a report", &error),
        },
        None => false,
    };
    let data = context! {
        id => record.id.clone(),
        reference => record.reference.clone(),
        title => record.title.clone(),
        grading => record.grading.code(),
        grading_lines,
        conditions,
        sanitised_text => record.sanitised_text.clone(),
        owner => name_of(&record.owner_organisation_id),
        ours => record.owner_organisation_id == staff.organisation.id,
        created => format_time(record.created_at_ms),
        review_on => record.review_on.clone(),
        report_id => record.report_id.clone().filter(|_| report_visible),
        shares => record.shared_with.iter().map(|share| context! { name => share.organisation_name.clone(), when => format_time(share.shared_at_ms) }).collect::<Vec<_>>(),
        share_targets,
        can_share => allowed(Action::ShareIntelligence),
        can_read_source => allowed(Action::ViewSourceText) && record.has_source,
        can_audit => allowed(Action::ViewAudit),
        source => source.map(|source| context! { identity => source.identity, text => source.text }),
    };
    let mut page = StaffPage::new("staff/intelligence.html", format!("Intelligence {}", record.reference), "intelligence");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

pub async fn share(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> Response {
    let record = match authorise(&state, &staff, &id, Action::ShareIntelligence).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some(organisation_id) = form.text("organisation") else {
        return render_record(&state, &staff, record, vec![PageError::new("organisation", "Select an organisation to share with")], None).await;
    };
    let organisation = match state.store().find_organisation(&organisation_id).await {
        Ok(Some(organisation)) if organisation.id != record.owner_organisation_id => organisation,
        Ok(_) => return render_record(&state, &staff, record, vec![PageError::new("organisation", "Select an organisation from the list")], None).await,
        Err(error) => return failed(&state, "finding an organisation", &error),
    };
    if let Handling::Conditional(conditions) = &record.grading.handling()
        && !conditions.recipient_organisations.is_empty()
        && !conditions.recipient_organisations.contains(&organisation.id)
    {
        let message = format!("The handling conditions do not allow sharing with {}", organisation.name);
        return render_record(&state, &staff, record, vec![PageError::new("organisation", message)], None).await;
    }
    match state.store().share_intelligence(&id, &organisation.id, &staff.user.id).await {
        Ok(_) => see_other(&format!("/staff/intelligence/{id}")),
        Err(error) => failed(&state, "sharing intelligence", &error),
    }
}

pub async fn read_source(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> Response {
    let record = match authorise(&state, &staff, &id, Action::ViewSourceText).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Ok(reason) = BoundedText::parse(form.get("reason").unwrap_or_default(), 500, Lines::Single) else {
        return render_record(&state, &staff, record, vec![PageError::new("reason", "Enter why you need to read the source details")], None).await;
    };
    match state.store().read_intelligence_source(&id, &staff.audit_actor(), reason.as_str()).await {
        Ok(source) => render_record(&state, &staff, record, Vec::new(), Some(source.unwrap_or(SourceDetails { identity: None, text: None }))).await,
        Err(error) => failed(&state, "reading a source", &error),
    }
}
