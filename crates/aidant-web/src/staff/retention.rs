//! Retention review for supervisors (MoPI): the potential victims' cases
//! past their review date, and one case's review, kept for a reason or
//! deleted for good. The rules, the deletion and its erasure are in
//! `aidant_store::cases::retention`.

use aidant_core::ids::VictimId;
use aidant_core::policy::Capability;
use aidant_core::retention::{DeleteReason, RetainReason, ReviewAnswers, ReviewDecision};
use aidant_store::cases::retention::{self as use_cases, DueCase};
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

fn case_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as("Case not found", "There is no case at this address for your force to review.")
}

fn case_id(id: &str) -> WebResult<VictimId> {
    path_id(id).map_err(case_not_found)
}

/// `7 December 2026`.
fn day(unix_ms: i64) -> String {
    format_time(unix_ms).split(',').next().unwrap_or_default().to_owned()
}

fn due_context(case: &DueCase) -> Value {
    context! {
        id => case.id.to_string(),
        pseudonym => case.pseudonym.clone(),
        opened => day(case.created_at_ms),
        due => day(case.due_at_ms),
        last_kept => case.last_kept.map(|(at, reason)| context! { on => day(at), reason => reason.label() }),
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
    let due = use_cases::review_queue(state.store(), &staff.caller, &periods, now_ms()).await?;
    let rows: Vec<Value> = due.iter().map(due_context).collect();
    // Only a pseudonym from the force's own format is echoed back.
    let safe = |text: Option<String>| text.filter(|text| text.len() <= 40 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' '));
    let data = context! {
        rows,
        months => periods.victim_cases_months,
        kept => safe(done.kept),
        until => safe(done.until),
        deleted => safe(done.deleted),
    };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/retention.html", "Retention review", "retention"), data))
}

fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<Value> {
    all.iter().map(|item| context! { value => code(*item), label => label(*item) }).collect()
}

async fn review_page(state: &AppState, staff: &Staff, id: &VictimId, form: &FormData, errors: Vec<PageError>) -> WebResult {
    let periods = state.settings().retention;
    let case = match use_cases::case_to_review(state.store(), &staff.caller, id, &periods, now_ms()).await {
        Ok(case) => case,
        Err(CaseError::NotFound) => return Err(case_not_found(CaseError::NotFound)),
        Err(CaseError::Invalid(problems)) => {
            let text = problems.into_iter().map(|problem| problem.message).collect::<Vec<_>>().join(" ");
            return Ok(super::message(state, staff, axum::http::StatusCode::CONFLICT, "Not due for review", &format!("{text}. It is kept until then.")));
        }
        Err(error) => return Err(error.into()),
    };
    let title = format!("Review {}", case.pseudonym);
    let mut page = StaffPage::new("staff/retention_review.html", &title, "retention");
    page.errors = errors;
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let data = context! {
        case => due_context(&case),
        months => periods.victim_cases_months,
        retain_reasons => options(RetainReason::ALL, RetainReason::code, RetainReason::label),
        delete_reasons => options(DeleteReason::ALL, DeleteReason::code, DeleteReason::label),
        values => context! { retain_reason => value("retain_reason"), delete_reason => value("delete_reason"), confirm => form.all("confirm") },
    };
    Ok(render(state, Some(staff), page, data))
}

pub async fn review(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::ReviewRetention).await?;
    let id = case_id(&id)?;
    review_page(&state, &staff, &id, &FormData::default(), Vec::new()).await
}

pub async fn decide(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::ReviewRetention).await?;
    let id = case_id(&id)?;
    let form = staff_form(&staff, &body)?;
    let answers = ReviewAnswers {
        decision: form.get("decision").unwrap_or_default().to_owned(),
        retain_reason: form.get("retain_reason").unwrap_or_default().to_owned(),
        delete_reason: form.get("delete_reason").unwrap_or_default().to_owned(),
        confirm: form.get("confirm").unwrap_or_default().to_owned(),
    };
    let decision = match ReviewDecision::parse(&answers) {
        Ok(decision) => decision,
        Err(problems) => return review_page(&state, &staff, &id, &form, page_errors(problems)).await,
    };
    let periods = state.settings().retention;
    let decided = match decision {
        ReviewDecision::Retain(reason) => use_cases::retain_case(state.store(), &staff.caller, &id, reason, &periods, now_ms())
            .await
            .map(|(pseudonym, next)| format!("/staff/retention?kept={}&until={}", encode(&pseudonym), encode(&day(next)))),
        ReviewDecision::Delete(reason) => use_cases::delete_case(state.store(), &staff.caller, &id, reason, &periods, now_ms())
            .await
            .map(|pseudonym| format!("/staff/retention?deleted={}", encode(&pseudonym))),
    };
    match decided {
        Ok(address) => Ok(see_other(&address)),
        Err(CaseError::Invalid(problems)) => review_page(&state, &staff, &id, &form, page_errors(problems)).await,
        Err(CaseError::NotFound) => Err(case_not_found(CaseError::NotFound)),
        Err(error) => Err(error.into()),
    }
}

/// A pseudonym or a written date in a query string (letters, digits,
/// hyphens and spaces only).
fn encode(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ' ').map(|c| if c == ' ' { '+' } else { c }).collect()
}
