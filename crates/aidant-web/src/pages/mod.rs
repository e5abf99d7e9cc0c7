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
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};

use crate::AppState;
use crate::html::form::FormData;
use crate::html::messages::{LANGUAGES, Messages};
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

    /// The page in `language`, one the service speaks.
    pub fn in_language(mut self, language: &'a str) -> Self {
        self.language = language;
        self
    }
}

/// The language a public page is shown in: the one `?lang=` names when the
/// service speaks it, otherwise English. Links on the page keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language(pub &'static str);

#[derive(serde::Deserialize)]
struct LanguageQuery {
    lang: Option<String>,
}

impl Language {
    /// The query string that keeps this language on a link ("" for English).
    pub fn query(self) -> String {
        lang_query(self.0)
    }
}

fn lang_query(language: &str) -> String {
    if language == "en" { String::new() } else { format!("?lang={language}") }
}

/// `current_path` without any `lang=` parameter, ready for one: `/a?lang=`
/// or `/a?next=b&lang=`.
fn language_link_prefix(current_path: &str) -> String {
    let (path, query) = current_path.split_once('?').unwrap_or((current_path, ""));
    let kept: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty() && !pair.starts_with("lang=")).collect();
    if kept.is_empty() { format!("{path}?lang=") } else { format!("{path}?{}&lang=", kept.join("&")) }
}

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let wanted = Query::<LanguageQuery>::try_from_uri(&parts.uri).ok().and_then(|Query(query)| query.lang);
        Ok(Language(Messages::known_language(wanted.as_deref())))
    }
}

/// Renders a page with the common context merged into `data`.
pub fn render(state: &AppState, headers: &HeaderMap, current_path: &str, page: Page<'_>, data: Value) -> Response {
    let site = state.site();
    let errors_by_field = errors_by_field(&page.errors);
    let status = if page.errors.is_empty() { page.status } else { StatusCode::UNPROCESSABLE_ENTITY };
    // The language links: this page, with `lang=` (and only it) changed.
    let language_prefix = language_link_prefix(current_path);
    let lang_query = lang_query(page.language);
    let languages: Vec<Value> = LANGUAGES.iter().map(|(code, name, _)| context! { code => *code, name => *name }).collect();
    let common = context! {
        lang => page.language,
        lang_query => lang_query.clone(),
        languages,
        language_prefix,
        text => site.text(page.language),
        title => page.title,
        exit_url => site.exit_url(),
        show_cookie_banner => cookie(headers, COOKIES_SEEN_COOKIE).is_none(),
        current_path => if current_path.contains('?') { current_path.to_owned() } else { format!("{current_path}{lang_query}") },
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
pub fn routes(limit: Option<&crate::rate_limit::FloodGuard>) -> Routes {
    let limited = |handler: axum::routing::MethodRouter<AppState>| crate::rate_limit::limited(handler, limit);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_links_change_only_the_language() {
        assert_eq!(language_link_prefix("/signs"), "/signs?lang=");
        assert_eq!(language_link_prefix("/get-help?lang=ro"), "/get-help?lang=");
        assert_eq!(language_link_prefix("/report/call-999?next=place&lang=hu"), "/report/call-999?next=place&lang=");
        assert_eq!(lang_query("en"), "");
        assert_eq!(lang_query("zh-Hans"), "?lang=zh-Hans");
    }
}
