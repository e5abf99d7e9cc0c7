//! The public site: server-rendered pages that work without JavaScript,
//! built from govuk-frontend markup, with quick exit on every page.
//!
//! Every public page is sent with `Cache-Control: no-store` and
//! `Referrer-Policy: no-referrer` (set for all responses in middleware), so
//! nothing a victim viewed stays in a shared cache or leaks to the neutral
//! site quick exit goes to.

pub mod follow_up;
pub mod info;
pub mod report;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};

use crate::AppState;
use crate::html::form::FormData;
use crate::html::{PageError, cookie, errors_by_field, serde_value, text_at};
use crate::routes::Routes;

/// Cookie names (listed on the cookies page).
pub const DRAFT_COOKIE: &str = "aidant_draft";
pub const COOKIES_SEEN_COOKIE: &str = "aidant_cookies_seen";
pub const FOLLOW_UP_COOKIE: &str = "aidant_follow_up";

/// What every page needs besides its own data.
pub struct Page<'a> {
    pub template: &'a str,
    pub title: String,
    pub language: &'a str,
    pub back_href: Option<String>,
    pub danger_reported: bool,
    pub errors: Vec<PageError>,
    pub status: StatusCode,
}

impl<'a> Page<'a> {
    pub fn new(template: &'a str, title: impl Into<String>) -> Self {
        Self { template, title: title.into(), language: "en", back_href: None, danger_reported: false, errors: Vec::new(), status: StatusCode::OK }
    }
}

/// Renders a page with the common context merged into `data`.
pub fn render(state: &AppState, headers: &HeaderMap, current_path: &str, page: Page<'_>, data: Value) -> Response {
    let site = state.site();
    let errors_by_field = errors_by_field(&page.errors);
    let status = if page.errors.is_empty() { page.status } else { StatusCode::UNPROCESSABLE_ENTITY };
    let common = context! {
        lang => page.language,
        text => site.text(page.language),
        title => page.title,
        exit_url => site.exit_url(),
        show_cookie_banner => cookie(headers, COOKIES_SEEN_COOKIE).is_none(),
        current_path => current_path,
        back_href => page.back_href,
        danger_reported => page.danger_reported,
        errors => serde_value(&page.errors),
        errors_by_field => errors_by_field,
    };
    let rendered = site.render_template(page.template, context! { ..data, ..common });
    match rendered {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(error) => {
            tracing::error!(template = page.template, error = %error, "a page failed to render");
            unrenderable_page()
        }
    }
}

/// The friendly page for a failure on our side; it keeps quick exit.
pub fn technical_problem(state: &AppState, headers: &HeaderMap) -> Response {
    let text = state.site().text("en");
    let mut page = Page::new("message.html", text_at(&text, "errors", "problem_title"));
    page.status = StatusCode::INTERNAL_SERVER_ERROR;
    let data =
        context! { paragraphs => vec![text_at(&text, "errors", "problem_text")], link_href => "/", link_text => text_at(&text, "common", "start_again") };
    render(state, headers, "/", page, data)
}

/// The page shown when even rendering fails: fixed text that cannot fail.
fn unrenderable_page() -> Response {
    let html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sorry, there was a technical problem</title></head>\
                <body><h1>Sorry, there was a technical problem</h1><p>Please try again.</p><p><a href=\"/exit\">Exit this page</a></p></body></html>";
    (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// Parses a form body; a body that is not a form is a 400 whose page says
/// what was wrong (see `friendly_errors`).
pub fn parse_form(body: &Bytes) -> Result<FormData, crate::error::WebError> {
    FormData::parse(body).map_err(|error| crate::error::WebError::UnreadableForm(error.to_string()))
}

/// The public site's routes; `limit` guards those that create records.
pub fn routes(limit: Option<crate::rate_limit::Layer>) -> Routes {
    let limited = |handler: axum::routing::MethodRouter<AppState>| handler.layer(tower::util::option_layer(limit.clone()));
    Routes::new()
        .route("/", &["GET"], get(info::start))
        .route("/get-help", &["GET"], get(info::get_help))
        .route("/safety", &["GET"], get(info::safety))
        .route("/cookies", &["GET"], get(info::cookies))
        .route("/cookies/hide", &["POST"], post(info::hide_cookie_banner))
        .route("/feedback", &["GET", "POST"], get(info::feedback_form).merge(limited(post(info::send_feedback))))
        .route("/signs", &["GET"], get(info::signs_index))
        .route("/signs/{sector}", &["GET"], get(info::signs_for_sector))
        .route("/exploitation", &["GET"], get(info::exploitation_index))
        .route("/exploitation/{kind}", &["GET"], get(info::exploitation_type))
        .route("/exit", &["GET"], get(report::exit))
        .route("/exit/discard", &["POST"], post(report::discard))
        .route("/report/start", &["POST"], limited(post(report::start)))
        .route("/report/call-999", &["GET"], get(report::call_999))
        .route("/report/done", &["GET"], get(report::done))
        .route("/report/{step}", &["GET", "POST"], get(report::show_step).post(report::submit_step))
        .route("/follow-up", &["GET", "POST"], get(follow_up::sign_in_form).merge(limited(post(follow_up::sign_in))))
        .route("/follow-up/report", &["GET", "POST"], get(follow_up::show_report).post(follow_up::add_information))
        .route("/follow-up/sign-out", &["POST"], post(follow_up::sign_out))
        .route("/favicon.ico", &["GET"], get(|| async { StatusCode::NO_CONTENT }))
}
