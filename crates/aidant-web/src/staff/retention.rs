//! Retention review for supervisors (MoPI): the potential victims' cases,
//! public reports, intelligence records and operations past their review
//! date, and one record's review, kept for a reason or deleted for good.
//! The rules, the deletion and its erasure are in
//! `aidant_store::cases::retention`.

use aidant_core::policy::Capability;
use aidant_core::retention::{DeleteReason, RecordKind, RetainReason, ReviewAnswers, ReviewDecision};
use aidant_store::cases::retention::{self as use_cases, DueRecord};
use aidant_store::cases::{self, CaseError};
use aidant_store::now_ms;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{Staff, StaffPage, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};

fn record_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as("Record not found", "There is no record at this address for your force to review.")
}

/// The kind in the address, and an id that could be one (a UUID).
fn record_address(kind: &str, id: &str) -> WebResult<(RecordKind, String)> {
    let kind = RecordKind::from_slug(kind).ok_or_else(|| record_not_found(CaseError::NotFound))?;
    let id: aidant_core::ids::ReportId = path_id(id).map_err(record_not_found)?;
    Ok((kind, id.to_string()))
}

/// Where the record itself is read, for a supervisor deciding.
fn record_page(kind: RecordKind, id: &str) -> String {
    match kind {
        RecordKind::VictimCase => format!("/staff/victims/{id}"),
        RecordKind::Report => format!("/staff/reports/{id}"),
        RecordKind::Intelligence => format!("/staff/intelligence/{id}"),
        RecordKind::Operation => format!("/staff/operations/{id}"),
    }
}

/// `7 December 2026`.
fn day(unix_ms: i64) -> String {
    format_time(unix_ms).split(',').next().unwrap_or_default().to_owned()
}

fn due_context(due: &DueRecord, periods: &aidant_core::retention::ReviewPeriods) -> Value {
    context! {
        id => due.id.clone(),
        kind => due.kind.label(),
        address => format!("/staff/retention/{}/{}", due.kind.slug(), due.id),
        page => record_page(due.kind, &due.id),
        label => due.label.clone(),
        opened => day(due.opened_at_ms),
        clock => due.kind.clock_starts(),
        months => periods.months(due.kind),
        due => day(due.due_at_ms),
        last_kept => due.last_kept.map(|(at, reason)| context! { on => day(at), reason => reason.label() }),
    }
}

/// What the queue says after a decision, carried in the address.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    kept: Option<String>,
    until: Option<String>,
    deleted: Option<String>,
}

pub async fn queue(State(state): State<AppState>, staff: Staff, Query(done): Query<Done>) -> WebResult {
    let periods = state.settings().retention;
    let (due, total) = use_cases::review_queue(state.store(), &staff.caller, &periods, now_ms()).await?;
    let rows: Vec<Value> = due.iter().map(|due| due_context(due, &periods)).collect();
    // Only a name of letters, digits, hyphens and spaces is echoed back.
    let safe = |text: Option<String>| text.filter(|text| text.len() <= 80 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' '));
    let periods_shown: Vec<Value> =
        RecordKind::ALL.iter().map(|kind| context! { kind => kind.label(), months => periods.months(*kind), clock => kind.clock_starts() }).collect();
    let data = context! {
        rows,
        total,
        periods => periods_shown,
        kept => safe(done.kept),
        until => safe(done.until),
        deleted => safe(done.deleted),
    };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/retention.html", "Retention review", "retention"), data))
}

fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<Value> {
    all.iter().map(|item| context! { value => code(*item), label => label(*item) }).collect()
}

async fn review_page(state: &AppState, staff: &Staff, kind: RecordKind, id: &str, form: &FormData, errors: Vec<PageError>) -> WebResult {
    let periods = state.settings().retention;
    let due = match use_cases::record_to_review(state.store(), &staff.caller, kind, id, &periods, now_ms()).await {
        Ok(due) => due,
        Err(CaseError::NotFound) => return Err(record_not_found(CaseError::NotFound)),
        Err(CaseError::Invalid(problems)) => {
            let text = problems.into_iter().map(|problem| problem.message).collect::<Vec<_>>().join(" ");
            return Ok(super::message(state, staff, axum::http::StatusCode::CONFLICT, "Not due for review", &format!("{text}. It is kept until then.")));
        }
        Err(error) => return Err(error.into()),
    };
    let title = format!("Review {}", due.label);
    let mut page = StaffPage::new("staff/retention_review.html", &title, "retention");
    page.errors = errors;
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let data = context! {
        record => due_context(&due, &periods),
        victim_case => kind == RecordKind::VictimCase,
        retain_reasons => options(RetainReason::ALL, RetainReason::code, RetainReason::label),
        delete_reasons => options(DeleteReason::ALL, DeleteReason::code, DeleteReason::label),
        values => context! { retain_reason => value("retain_reason"), delete_reason => value("delete_reason"), confirm => form.all("confirm") },
    };
    Ok(render(state, Some(staff), page, data))
}

pub async fn review(State(state): State<AppState>, staff: Staff, Path((kind, id)): Path<(String, String)>) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::ReviewRetention).await?;
    let (kind, id) = record_address(&kind, &id)?;
    review_page(&state, &staff, kind, &id, &FormData::default(), Vec::new()).await
}

pub async fn decide(State(state): State<AppState>, staff: Staff, Path((kind, id)): Path<(String, String)>, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::ReviewRetention).await?;
    let (kind, id) = record_address(&kind, &id)?;
    let form = staff_form(&staff, &body)?;
    let answers = ReviewAnswers {
        decision: form.get("decision").unwrap_or_default().to_owned(),
        retain_reason: form.get("retain_reason").unwrap_or_default().to_owned(),
        delete_reason: form.get("delete_reason").unwrap_or_default().to_owned(),
        confirm: form.get("confirm").unwrap_or_default().to_owned(),
    };
    let decision = match ReviewDecision::parse(&answers) {
        Ok(decision) => decision,
        Err(problems) => return review_page(&state, &staff, kind, &id, &form, page_errors(problems)).await,
    };
    let periods = state.settings().retention;
    let decided = match decision {
        ReviewDecision::Retain(reason) => use_cases::retain_record(state.store(), &staff.caller, kind, &id, reason, &periods, now_ms())
            .await
            .map(|(label, next)| format!("/staff/retention?kept={}&until={}", encode(&label), encode(&day(next)))),
        ReviewDecision::Delete(reason) => use_cases::delete_record(state.store(), &staff.caller, kind, &id, reason, &periods, now_ms())
            .await
            .map(|label| format!("/staff/retention?deleted={}", encode(&label))),
    };
    match decided {
        Ok(address) => Ok(see_other(&address)),
        Err(CaseError::Invalid(problems)) => review_page(&state, &staff, kind, &id, &form, page_errors(problems)).await,
        Err(CaseError::NotFound) => Err(record_not_found(CaseError::NotFound)),
        Err(error) => Err(error.into()),
    }
}

/// A record's name or a written date in a query string (letters, digits,
/// hyphens and spaces only).
fn encode(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ' ').map(|c| if c == ' ' { '+' } else { c }).collect()
}
