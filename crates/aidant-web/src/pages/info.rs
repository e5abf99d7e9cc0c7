//! The information pages: start, get help (in seven languages), staying
//! safe online, cookies, feedback, and the signs and exploitation pages
//! generated from the indicator catalogue.

use super::serde_value;
use aidant_core::catalogue::GENERAL_SECTOR;
use aidant_core::text::{BoundedText, Lines, TextError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use serde::Serialize;

use super::{COOKIES_SEEN_COOKIE, Language, Page, parse_form, render};
use crate::AppState;
use crate::error::WebError;
use crate::html::{PageError, see_other, set_cookie, text_at};

#[derive(Serialize)]
struct SignView<'a> {
    id: &'a str,
    public: &'a str,
}

#[derive(Serialize)]
struct SectorView<'a> {
    id: &'a str,
    name: &'a str,
    introduction: &'a str,
}

#[derive(Serialize)]
struct ChoiceOption<'a> {
    value: &'a str,
    label: String,
}

fn general_signs<'a>(state: &'a AppState, language: &str) -> Vec<SignView<'a>> {
    let public = state.site().catalogue_in(state.catalogue(), language);
    state.catalogue().sector_indicators(GENERAL_SECTOR).map(|indicator| SignView { id: &indicator.id, public: public.sign(indicator) }).collect()
}

pub async fn start(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    render(&state, &headers, "/", Page::new("start.html", text_at(&text, "start", "title")).in_language(language), Value::UNDEFINED)
}

pub async fn get_help(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    render(&state, &headers, "/get-help", Page::new("get_help.html", text_at(&text, "get_help", "title")).in_language(language), Value::UNDEFINED)
}

pub async fn safety(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    render(&state, &headers, "/safety", Page::new("safety.html", text_at(&text, "safety", "title")).in_language(language), Value::UNDEFINED)
}

pub async fn cookies(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    render(&state, &headers, "/cookies", Page::new("cookies.html", text_at(&text, "cookies", "title")).in_language(language), Value::UNDEFINED)
}

/// Hides the cookie message without JavaScript: remembers the choice and
/// returns to the page the person was on (a local path only).
pub async fn hide_cookie_banner(body: Bytes) -> Response {
    let form = match parse_form(&body) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let return_to = form.get("return_to").filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.contains('\\')).unwrap_or("/");
    let mut response = see_other(return_to);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(COOKIES_SEEN_COOKIE, "yes", Some(365 * 24 * 60 * 60)));
    response
}

const SATISFACTION: [&str; 5] = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"];

fn satisfaction_options(text: &Value) -> Vec<ChoiceOption<'static>> {
    SATISFACTION.iter().map(|value| ChoiceOption { value, label: text_at(text, "feedback", value) }).collect()
}

pub async fn feedback_form(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    let data = context! { satisfaction_options => serde_value(satisfaction_options(&text)), values => context! { satisfaction => "", body => "" } };
    render(&state, &headers, "/feedback", Page::new("feedback.html", text_at(&text, "feedback", "title")).in_language(language), data)
}

pub async fn send_feedback(State(state): State<AppState>, headers: HeaderMap, Language(language): Language, body: Bytes) -> Response {
    let form = match parse_form(&body) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let text = state.site().text(language);
    let satisfaction = form.get("satisfaction").filter(|value| SATISFACTION.contains(value));
    let raw_body = form.get("body").unwrap_or_default();
    let parsed = BoundedText::parse(raw_body, 2000, Lines::Multiple);
    let error = match &parsed {
        Ok(_) => None,
        Err(TextError::Empty) => Some(text_at(&text, "feedback", "error_body_missing")),
        Err(TextError::TooLong { .. }) => Some(text_at(&text, "feedback", "error_body_long")),
        Err(TextError::ControlCharacter) => Some(text_at(&text, "feedback", "error_body_control")),
    };
    if let Some(message) = error {
        let mut page = Page::new("feedback.html", text_at(&text, "feedback", "title")).in_language(language);
        page.errors = vec![PageError::new("body", message)];
        let data = context! { satisfaction_options => serde_value(satisfaction_options(&text)), values => context! { satisfaction => satisfaction.unwrap_or(""), body => raw_body } };
        return render(&state, &headers, "/feedback", page, data);
    }
    let Ok(body_text) = parsed else { return super::technical_problem(&state, &headers) };
    if let Err(error) = state.store().add_feedback(satisfaction, body_text.as_str()).await {
        return WebError::from(error).into_response();
    }
    let data = context! { paragraphs => vec![text_at(&text, "feedback", "thanks_text")], link_href => format!("/{}", Language(language).query()), link_text => text_at(&text, "start", "title") };
    render(&state, &headers, "/feedback", Page::new("message.html", text_at(&text, "feedback", "thanks_title")).in_language(language), data)
}

pub async fn signs_index(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    let public = state.site().catalogue_in(state.catalogue(), language);
    let sectors: Vec<SectorView> = state
        .catalogue()
        .place_sectors()
        .map(|sector| SectorView { id: &sector.id, name: public.sector_name(sector), introduction: public.introduction(sector) })
        .collect();
    let data = context! { sectors => serde_value(&sectors), general_signs => serde_value(general_signs(&state, language)) };
    render(&state, &headers, "/signs", Page::new("signs_index.html", text_at(&text, "signs", "title")).in_language(language), data)
}

pub async fn signs_for_sector(State(state): State<AppState>, headers: HeaderMap, Language(language): Language, Path(sector_id): Path<String>) -> Response {
    let catalogue = state.catalogue();
    let public = state.site().catalogue_in(catalogue, language);
    let Some(sector) = catalogue.sector(&sector_id).filter(|sector| sector.id != GENERAL_SECTOR) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let sector_signs: Vec<SignView> =
        catalogue.sector_indicators(&sector.id).map(|indicator| SignView { id: &indicator.id, public: public.sign(indicator) }).collect();
    let exploitation_types: Vec<Value> = sector
        .exploitation_types
        .iter()
        .filter_map(|id| catalogue.exploitation_type(id))
        .map(|kind| context! { id => kind.id.as_str(), name => public.type_name(kind) })
        .collect();
    let mut page = Page::new("signs_sector.html", public.sector_name(sector)).in_language(language);
    page.back_href = Some(format!("/signs{}", Language(language).query()));
    let sector_view = SectorView { id: &sector.id, name: public.sector_name(sector), introduction: public.introduction(sector) };
    let data = context! { sector => serde_value(&sector_view), sector_signs => serde_value(&sector_signs), general_signs => serde_value(general_signs(&state, language)), exploitation_types };
    render(&state, &headers, &format!("/signs/{}", sector.id), page, data)
}

pub async fn exploitation_index(State(state): State<AppState>, headers: HeaderMap, Language(language): Language) -> Response {
    let text = state.site().text(language);
    let public = state.site().catalogue_in(state.catalogue(), language);
    let exploitation_types: Vec<Value> = state
        .catalogue()
        .exploitation_types
        .iter()
        .map(|kind| context! { id => kind.id.as_str(), name => public.type_name(kind), summary => public.type_summary(kind) })
        .collect();
    let page = Page::new("exploitation_index.html", text_at(&text, "exploitation", "title")).in_language(language);
    render(&state, &headers, "/exploitation", page, context! { exploitation_types })
}

pub async fn exploitation_type(State(state): State<AppState>, headers: HeaderMap, Language(language): Language, Path(kind_id): Path<String>) -> Response {
    let catalogue = state.catalogue();
    let public = state.site().catalogue_in(catalogue, language);
    let Some(kind) = catalogue.exploitation_type(&kind_id) else { return StatusCode::NOT_FOUND.into_response() };
    let sectors: Vec<Value> = catalogue
        .place_sectors()
        .filter(|sector| sector.exploitation_types.contains(&kind.id))
        .map(|sector| context! { id => sector.id.as_str(), name => public.sector_name(sector) })
        .collect();
    let mut page = Page::new("exploitation_type.html", public.type_name(kind)).in_language(language);
    page.back_href = Some(format!("/exploitation{}", Language(language).query()));
    let kind_view = context! { id => kind.id.as_str(), name => public.type_name(kind), summary => public.type_summary(kind), examples => public.type_examples(kind).to_vec() };
    render(&state, &headers, &format!("/exploitation/{}", kind.id), page, context! { kind => kind_view, sectors })
}
