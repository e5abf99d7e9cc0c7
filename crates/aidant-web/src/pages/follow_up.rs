//! Keep in contact anonymously: with the reference and passphrase shown
//! once when the report was sent, a reporter can come back, read replies
//! from staff and add information, without ever saying who they are.
//!
//! Guessing is slowed where it comes from first (`backoff`: a few free
//! failures per source, then a wait that doubles after each), and then per
//! report (twenty failures in a row pause it for 15 minutes, whatever
//! address they come from), so one source cannot pause a report in less
//! than about two hours. Every passphrase check costs an Argon2id
//! verification, even for references that do not exist. A pause is answered
//! in the same words as a wrong reference or passphrase, so neither it nor
//! its absence says whether a reference exists; a source's wait is the same
//! whatever reference it tries.

use aidant_core::ReportRef;
use aidant_core::ids::ReportId;
use aidant_core::text::{BoundedText, Lines, TextError};
use aidant_store::public_site::{Author, FollowUpAccess};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;

use std::time::Instant;

use super::{FOLLOW_UP_COOKIE, Language, Page, parse_form, render};
use crate::AppState;
use crate::backoff::Source;
use crate::error::WebResult;
use crate::html::{PageError, cookie, see_other, set_cookie, text_at};
use aidant_store::identity::{hash_passphrase, normalise_passphrase, passphrase_matches};

pub async fn sign_in_form(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    let page = Page::new("follow_up/sign_in.html", text_at(&text, "follow_up", "title")).in_language(language);
    render(&state, &headers, "/follow-up", page, context! { values => context! { reference => "" } })
}

fn sign_in_error(state: &AppState, headers: &HeaderMap, language: &'static str, reference: &str, errors: Vec<PageError>) -> Response {
    let text = state.site().text(language);
    let mut page = Page::new("follow_up/sign_in.html", text_at(&text, "follow_up", "title")).in_language(language);
    page.errors = errors;
    render(state, headers, "/follow-up", page, context! { values => context! { reference => reference } })
}

pub async fn sign_in(State(state): State<AppState>, source: Source, headers: HeaderMap, language: Language, body: Bytes) -> WebResult {
    let form = parse_form(&body)?;
    let text = state.site().text(language.0);
    let typed_reference = form.get("reference").unwrap_or_default().trim().to_owned();
    let passphrase = normalise_passphrase(form.get("passphrase").unwrap_or_default());
    let mut errors = Vec::new();
    let reference = ReportRef::parse(&typed_reference);
    if reference.is_err() {
        errors.push(PageError::new("reference", text_at(&text, "follow_up", "error_reference")));
    }
    if passphrase.is_empty() {
        errors.push(PageError::new("passphrase", text_at(&text, "follow_up", "error_passphrase")));
    }
    let Ok(reference) = reference else { return Ok(sign_in_error(&state, &headers, language.0, &typed_reference, errors)) };
    if !errors.is_empty() {
        return Ok(sign_in_error(&state, &headers, language.0, &typed_reference, errors));
    }
    if let Some(wait) = state.reporter_guesses().wait(source, Instant::now()) {
        let seconds = crate::backoff::whole_seconds(wait);
        let message = text_at(&text, "follow_up", "wait").replace("{seconds}", &seconds.to_string());
        let page = sign_in_error(&state, &headers, language.0, &typed_reference, vec![PageError::new("reference", message)]);
        return Ok(crate::backoff::waiting(page, seconds));
    }
    let wrong = || {
        state.reporter_guesses().failed(source, Instant::now());
        vec![PageError::new("reference", text_at(&text, "follow_up", "wrong"))]
    };
    Ok(match state.store().follow_up_access(&reference).await? {
        FollowUpAccess::Unknown => {
            // Spend the same effort as a real check, so timing does not reveal
            // which references exist.
            let _ = hash_passphrase(&passphrase);
            sign_in_error(&state, &headers, language.0, &typed_reference, wrong())
        }
        // The same words as a wrong reference or passphrase, and the same
        // effort: a pause must not tell anyone that a reference exists.
        FollowUpAccess::Locked { .. } => {
            let _ = hash_passphrase(&passphrase);
            sign_in_error(&state, &headers, language.0, &typed_reference, wrong())
        }
        FollowUpAccess::Check { report_id, passphrase_hash } => {
            let matches = passphrase_matches(&passphrase, &passphrase_hash);
            state.store().record_follow_up_attempt(&report_id, matches).await?;
            if !matches {
                return Ok(sign_in_error(&state, &headers, language.0, &typed_reference, wrong()));
            }
            let token = state.store().follow_up_token(&report_id)?;
            let mut response = see_other(&format!("/follow-up/report{}", language.query()));
            response.headers_mut().append(header::SET_COOKIE, set_cookie(FOLLOW_UP_COOKIE, &token, Some(30 * 60)));
            response
        }
    })
}

fn signed_in_report(state: &AppState, headers: &HeaderMap) -> Option<ReportId> {
    cookie(headers, FOLLOW_UP_COOKIE).and_then(|token| state.store().open_follow_up_token(&token))
}

#[derive(Deserialize)]
pub struct AddedQuery {
    added: Option<String>,
}

pub async fn show_report(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<AddedQuery>, language: Language) -> WebResult {
    let Some(report_id) = signed_in_report(&state, &headers) else { return Ok(see_other(&format!("/follow-up{}", language.query()))) };
    render_report(&state, &headers, language, &report_id, Vec::new(), "", query.added.is_some()).await
}

async fn render_report(
    state: &AppState,
    headers: &HeaderMap,
    language: Language,
    report_id: &ReportId,
    errors: Vec<PageError>,
    information: &str,
    added: bool,
) -> WebResult {
    let Some((report, messages)) = aidant_store::cases::reports::reporter_reads_report(state.store(), report_id).await? else {
        return Ok(see_other(&format!("/follow-up{}", language.query())));
    };
    let text = state.site().text(language.0);
    let messages: Vec<Value> = messages
        .iter()
        .map(|message| context! { from_staff => message.author == Author::Staff, body => message.body.clone(), when => format_date(message.created_at_ms) })
        .collect();
    let mut page = Page::new("follow_up/report.html", text_at(&text, "follow_up", "report_title")).in_language(language.0);
    page.errors = errors;
    // What they first reported, as the check page showed it (never the
    // contact details), so they can add to it without repeating it.
    let people_count = report.people_count.map(|count| count.to_string());
    let answers = super::report::AnswersShown {
        immediate_danger: report.immediate_danger,
        sector: Some(&report.sector),
        place: [&report.postcode, &report.town, &report.location_description, &report.business_name].into_iter().flatten().cloned().collect(),
        signs: &report.signs,
        people_count,
        age_groups: &report.age_groups,
        people_description: report.people_description.clone(),
        vehicles: report.vehicles.clone(),
        narrative: report.narrative.clone(),
        when_seen: report.when_seen.clone(),
    };
    let reported: Vec<Value> = super::report::answer_rows(state.site().catalogue_in(state.catalogue(), language.0), &text, &answers)
        .into_iter()
        .map(|(key, _, lines)| context! { key => text_at(&text, "report", key), lines })
        .collect();
    let data = context! { reference => report.reference.to_string(), received => format_date(report.received_at_ms), messages, added, reported, values => context! { information => information } };
    Ok(render(state, headers, "/follow-up/report", page, data))
}

pub async fn add_information(State(state): State<AppState>, headers: HeaderMap, language: Language, body: Bytes) -> WebResult {
    let Some(report_id) = signed_in_report(&state, &headers) else { return Ok(see_other(&format!("/follow-up{}", language.query()))) };
    let form = parse_form(&body)?;
    let text = state.site().text(language.0);
    let raw = form.get("information").unwrap_or_default();
    let message = match BoundedText::parse(raw, aidant_core::report::limits::NARRATIVE, Lines::Multiple) {
        Ok(message) => message,
        Err(error) => {
            let key = match error {
                TextError::Empty => "error_add_missing",
                TextError::TooLong { .. } => "error_add_long",
                TextError::ControlCharacter => "error_add_control",
            };
            return render_report(&state, &headers, language, &report_id, vec![PageError::new("information", text_at(&text, "follow_up", key))], raw, false)
                .await;
        }
    };
    state.store().add_report_message(&report_id, Author::Reporter, None, message.as_str()).await?;
    let language_part = if language.0 == "en" { String::new() } else { format!("&lang={}", language.0) };
    Ok(see_other(&format!("/follow-up/report?added=1{language_part}")))
}

pub async fn sign_out(language: Language) -> Response {
    let mut response = see_other(&format!("/{}", language.query()));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(FOLLOW_UP_COOKIE, "", Some(0)));
    response
}

/// "29 November 2026", in UK time conventions but without the hour: the
/// date is enough and is less identifying.
fn format_date(unix_ms: i64) -> String {
    let Ok(moment) = time::OffsetDateTime::from_unix_timestamp(unix_ms / 1000) else { return String::new() };
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    moment.format(&format).unwrap_or_default()
}
