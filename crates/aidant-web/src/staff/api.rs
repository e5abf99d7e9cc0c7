//! The staff JSON API under `/api/v1/staff`: read the queue, a report, an
//! intelligence record, and search, with a personal API token
//! (`Authorization: Bearer aidant_pat_...`) or a signed-in session. The same
//! access policy and audit apply as on the pages.

use aidant_core::ids::{IntelligenceId, ReportId};
use aidant_store::cases;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Serialize;

use super::queue::{QueueQuery, RANGE_BACKWARDS, display_reference, queue_filter};
use super::search::{SearchQuery, SearchResult, run_search};
use super::{PAGE_SIZE, Staff};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::PageError;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/api/v1/staff/reports", &["GET"], get(queue))
        .route("/api/v1/staff/reports/{id}", &["GET"], get(report))
        .route("/api/v1/staff/intelligence/{id}", &["GET"], get(intelligence))
        .route("/api/v1/staff/search", &["GET"], get(search))
}

/// One line of the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueLine {
    pub id: String,
    /// The report's reference as people read it, like `GDM-4AN-RRC`.
    pub reference: String,
    pub received_at_ms: i64,
    pub risk: String,
    pub sector: String,
    pub town: Option<String>,
    pub postcode: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub opened: bool,
    /// Reporter messages nobody has read since the report was last opened.
    pub unread_messages: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueResponse {
    /// Matching reports, counted up to 1,000.
    pub total: i64,
    /// More than `total` reports match; every page can still be reached.
    pub total_is_capped: bool,
    pub immediate_unopened: i64,
    /// More than `immediate_unopened` (1,000) are unopened; counting stops there.
    pub immediate_unopened_is_capped: bool,
    /// Reports of the organisation with a reporter's message nobody has read.
    pub unread: i64,
    /// Of those, the ones assigned to the caller.
    pub unread_mine: i64,
    /// `after` for the next page, if there is one.
    pub next: Option<String>,
    /// `before` for the previous page, if this is not the first.
    pub previous: Option<String>,
    pub reports: Vec<QueueLine>,
}

/// The staff API takes each parameter exactly as given: a value sent empty,
/// or with white space around it, is refused (a form may send blanks, and
/// the pages forgive them; a program should leave the parameter out).
fn exact_parameters(pairs: &[(String, String)]) -> Vec<aidant_core::report::FieldError> {
    pairs
        .iter()
        .filter(|(_, value)| value.is_empty() || value.trim() != value)
        .map(|(name, value)| aidant_core::report::FieldError {
            field: name.chars().take(100).collect(),
            message: if value.is_empty() {
                format!("Leave {name} out rather than sending it empty")
            } else {
                format!("{name} must not begin or end with white space")
            },
        })
        .collect()
}

/// The triage queue of the caller's organisation, a page at a time: follow
/// `next` and `previous` with `after` and `before`.
#[utoipa::path(get, path = "/api/v1/staff/reports", tag = "staff",
    params(
        ("risk" = Option<String>, Query, description = "immediate, high, medium or low"),
        ("sector" = Option<String>, Query, description = "A sector id from the catalogue"),
        ("area" = Option<String>, Query, description = "A town or a postcode district such as LU1"),
        ("status" = Option<String>, Query, description = "open (the default: new or in review), all, or one status"),
        ("assignee" = Option<String>, Query, description = "unassigned, me, or a user id"),
        ("order" = Option<String>, Query, description = "urgent (the default), oldest or newest"),
        ("from" = Option<String>, Query, description = "Received on or after this day, YYYY-MM-DD (UTC)"),
        ("to" = Option<String>, Query, description = "Received on or before this day, YYYY-MM-DD (UTC)"),
        ("unread" = Option<String>, Query, description = "yes: only reports with unread reporter messages"),
        ("after" = Option<String>, Query, description = "The `next` of the previous answer"),
        ("before" = Option<String>, Query, description = "The `previous` of the previous answer"),
    ),
    responses((status = 200, body = QueueResponse),
        (status = 400, description = "A query string that cannot be read, such as a parameter given twice", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token or session", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Refused by the access policy", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter cannot be used, field by field", body = crate::problem::Problem, content_type = "application/problem+json")))]
pub async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    Query(mut query): Query<QueueQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> WebResult<Json<QueueResponse>> {
    cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::UseQueue).await?;
    let mut errors = exact_parameters(&pairs);
    if let Some(sector) = &query.sector
        && state.catalogue().sector(sector).is_none_or(|found| found.id == aidant_core::catalogue::GENERAL_SECTOR)
    {
        errors.push(aidant_core::report::FieldError { field: "sector".to_owned(), message: "Give a sector id from the catalogue".to_owned() });
    }
    if !errors.is_empty() {
        return Err(WebError::Invalid(errors));
    }
    let mut token_errors = Vec::new();
    for (field, token) in [("after", &mut query.after), ("before", &mut query.before)] {
        if token.as_deref().is_some_and(|token| aidant_store::triage::QueueCursor::parse(token).is_none()) {
            token_errors.push(PageError::new(field, "That page link is not valid"));
            *token = None;
        }
    }
    // A program may give both page links; `after` is followed.
    if query.after.is_some() {
        query.before = None;
    }
    let (selection, errors) = queue_filter(&query, &staff);
    // Dates the wrong way round match nothing, as they say, rather than
    // being refused: the page's form says so instead.
    let mut errors: Vec<_> = errors.into_iter().filter(|error| !(error.field == "to" && error.message == RANGE_BACKWARDS)).collect();
    errors.extend(token_errors);
    if !errors.is_empty() {
        return Err(WebError::Invalid(
            errors.into_iter().map(|error| aidant_core::report::FieldError { field: error.field, message: error.message }).collect(),
        ));
    }
    let page = cases::reports::triage_queue(state.store(), &staff.caller, &selection.filter, selection.order, &selection.position, PAGE_SIZE).await?;
    Ok(Json(QueueResponse {
        total: page.total,
        total_is_capped: page.total_is_capped,
        immediate_unopened: page.immediate_unopened,
        immediate_unopened_is_capped: page.immediate_unopened_is_capped,
        unread: page.unread,
        unread_mine: page.unread_mine,
        next: page.next.map(|cursor| cursor.token()),
        previous: page.previous.map(|cursor| cursor.token()),
        reports: page
            .rows
            .into_iter()
            .map(|row| QueueLine {
                id: row.id.to_string(),
                reference: display_reference(&row.reference),
                received_at_ms: row.received_at_ms,
                risk: row.risk_level.as_str().to_owned(),
                sector: row.sector,
                town: row.town,
                postcode: row.postcode,
                status: row.status.as_str().to_owned(),
                assignee: row.assignee_name,
                opened: row.opened,
                unread_messages: row.unread_messages,
            })
            .collect(),
    }))
}

/// A report as staff read it (never the sealed contact details).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportResponse {
    pub id: String,
    pub reference: String,
    pub received_at_ms: i64,
    pub status: String,
    pub risk: String,
    pub triage_score: i64,
    pub triage_reasons: Vec<String>,
    pub sector: String,
    pub postcode: Option<String>,
    pub town: Option<String>,
    pub location_description: Option<String>,
    pub business_name: Option<String>,
    pub signs: Vec<String>,
    pub people_count: Option<i64>,
    pub age_groups: Vec<String>,
    pub people_description: Option<String>,
    pub narrative: Option<String>,
    pub when_seen: Option<String>,
    pub immediate_danger: bool,
    pub child_reported: bool,
    pub has_contact: bool,
}

/// One report; the read is audited.
#[utoipa::path(get, path = "/api/v1/staff/reports/{id}", tag = "staff", params(("id" = String, Path)),
    responses((status = 200, body = ReportResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn report(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult<Json<ReportResponse>> {
    let id: ReportId = path_id(&id)?;
    let report = cases::reports::view_report(state.store(), &staff.caller, &id).await?.report;
    Ok(Json(ReportResponse {
        id: report.id.to_string(),
        reference: report.reference.to_string(),
        received_at_ms: report.received_at_ms,
        status: report.status.as_str().to_owned(),
        risk: report.risk_level.as_str().to_owned(),
        triage_score: report.triage_score,
        triage_reasons: report.triage_reasons,
        sector: report.sector,
        postcode: report.postcode,
        town: report.town,
        location_description: report.location_description,
        business_name: report.business_name,
        signs: report.signs,
        people_count: report.people_count,
        age_groups: report.age_groups,
        people_description: report.people_description,
        narrative: report.narrative,
        when_seen: report.when_seen,
        immediate_danger: report.immediate_danger,
        child_reported: report.child_reported,
        has_contact: report.has_contact,
    }))
}

/// An intelligence record's sanitised content and grading.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntelligenceResponse {
    pub id: String,
    pub reference: String,
    pub title: String,
    /// `2 B C`, or `B 2 4 (5x5x5)` for a historic grading.
    pub grading: String,
    pub sanitised_text: String,
    pub owner_organisation_id: String,
    pub shared_with: Vec<String>,
    pub review_on: Option<String>,
    pub created_at_ms: i64,
}

/// One intelligence record; the read is audited.
#[utoipa::path(get, path = "/api/v1/staff/intelligence/{id}", tag = "staff", params(("id" = String, Path)),
    responses((status = 200, body = IntelligenceResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn intelligence(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult<Json<IntelligenceResponse>> {
    let id: IntelligenceId = path_id(&id)?;
    let record = cases::intelligence::view_intelligence(state.store(), &staff.caller, &id).await?.record;
    Ok(Json(IntelligenceResponse {
        grading: record.grading.code(),
        id: record.id.to_string(),
        reference: record.reference,
        title: record.title,
        sanitised_text: record.sanitised_text,
        owner_organisation_id: record.owner_organisation_id.to_string(),
        shared_with: record.shared_with.into_iter().map(|share| share.organisation_id.to_string()).collect(),
        review_on: record.review_on,
        created_at_ms: record.created_at_ms,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// Results the caller may see, counted up to 1,000.
    pub total: i64,
    /// More than `total` match; every page can still be reached.
    pub total_is_capped: bool,
    /// `after` for the next (older) page, if there is one.
    pub next: Option<String>,
    /// `before` for the previous (newer) page, if this is not the first.
    pub previous: Option<String>,
    /// This page of results, newest first.
    pub results: Vec<SearchResult>,
}

/// Search the reports and intelligence the caller may see, a page at a time.
#[utoipa::path(get, path = "/api/v1/staff/search", tag = "staff",
    params(
        ("q" = String, Query, description = "Words to find, each as the start of a word; accents do not matter"),
        ("after" = Option<String>, Query, description = "The `next` of the previous answer"),
        ("before" = Option<String>, Query, description = "The `previous` of the previous answer"),
    ),
    responses((status = 200, body = SearchResponse),
        (status = 400, description = "A query string that cannot be read, such as a parameter given twice", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token or session", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Refused by the access policy", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No words, or a page link that is not one", body = crate::problem::Problem, content_type = "application/problem+json")))]
pub async fn search(
    State(state): State<AppState>,
    staff: Staff,
    Query(mut query): Query<SearchQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> WebResult<Json<SearchResponse>> {
    cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::Search).await?;
    let mut errors = exact_parameters(&pairs);
    for (field, token) in [("after", &query.after), ("before", &query.before)] {
        if token.as_deref().is_some_and(|token| !crate::staff::search::is_page_token(token)) {
            errors.push(aidant_core::report::FieldError { field: field.to_owned(), message: "That page link is not valid".to_owned() });
        }
    }
    if !errors.is_empty() {
        return Err(WebError::Invalid(errors));
    }
    if query.after.is_some() {
        query.before = None;
    }
    let text = query.q.clone().unwrap_or_default();
    if text.trim().is_empty() {
        errors.push(aidant_core::report::FieldError { field: "q".to_owned(), message: "Enter words to search for".to_owned() });
    }
    let position = query.position().map_err(|error| errors.push(aidant_core::report::FieldError { field: error.field, message: error.message }));
    let Ok(position) = position else { return Err(WebError::Invalid(errors)) };
    if !errors.is_empty() {
        return Err(WebError::Invalid(errors));
    }
    let found = run_search(&state, &staff, &text, position).await?;
    Ok(Json(SearchResponse { total: found.total, total_is_capped: found.total_is_capped, next: found.next, previous: found.previous, results: found.results }))
}
