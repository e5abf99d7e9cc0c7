//! The public site: server-rendered pages that work without JavaScript,
//! built from govuk-frontend markup, with quick exit on every page.
//!
//! Every public page is sent with `Cache-Control: no-store` and
//! `Referrer-Policy: no-referrer` (set for all responses in middleware), so
//! nothing a victim viewed stays in a shared cache or leaks to the neutral
//! site quick exit goes to.

pub mod follow_up;
pub mod form;
pub mod info;
pub mod messages;
pub mod report;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::AppState;
use crate::routes::Routes;
use form::FormData;
use messages::Messages;

/// Cookie names (listed on the cookies page).
pub const DRAFT_COOKIE: &str = "aidant_draft";
pub const COOKIES_SEEN_COOKIE: &str = "aidant_cookies_seen";
pub const FOLLOW_UP_COOKIE: &str = "aidant_follow_up";

/// Templates and wording for the public site, loaded once at start-up.
pub struct Site {
    templates: Environment<'static>,
    messages: Messages,
    exit_url: String,
}

macro_rules! templates {
    ($environment:expr, $($name:literal),+ $(,)?) => {
        $( $environment.add_template($name, include_str!(concat!("../../templates/", $name))).map_err(|error| SiteError(format!("template {}: {error}", $name)))?; )+
    };
}

/// A template or message catalogue that does not load.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SiteError(pub String);

impl Site {
    pub fn load(exit_url: &str) -> Result<Self, SiteError> {
        let mut templates = Environment::new();
        templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        templates!(
            templates,
            "layout.html",
            "macros.html",
            "contacts.html",
            "start.html",
            "get_help.html",
            "safety.html",
            "cookies.html",
            "feedback.html",
            "message.html",
            "signs_index.html",
            "signs_sector.html",
            "exploitation_index.html",
            "exploitation_type.html",
            "report/danger.html",
            "report/call_999.html",
            "report/place.html",
            "report/where.html",
            "report/signs.html",
            "report/people.html",
            "report/vehicles.html",
            "report/what.html",
            "report/contact.html",
            "report/check.html",
            "report/done.html",
            "follow_up/sign_in.html",
            "follow_up/report.html",
            "staff/layout.html",
            "staff/message.html",
            "staff/sign_in.html",
            "staff/code.html",
            "staff/password.html",
            "staff/enrol.html",
            "staff/queue.html",
            "staff/report.html",
            "staff/contact.html",
            "staff/intelligence_list.html",
            "staff/intelligence_new.html",
            "staff/intelligence.html",
            "staff/search.html",
            "staff/audit.html",
            "staff/users.html",
            "staff/profile.html",
        );
        let messages = Messages::load().map_err(|error| SiteError(error.to_string()))?;
        Ok(Self { templates, messages, exit_url: exit_url.to_owned() })
    }

    /// Renders one of the built-in templates with `context`.
    pub(crate) fn render_template(&self, name: &str, context: Value) -> Result<String, minijinja::Error> {
        self.templates.get_template(name).and_then(|template| template.render(context))
    }

    pub fn text(&self, language: &str) -> Value {
        self.messages.for_language(language)
    }
}

/// One error in the GOV.UK error summary: the message and the id of the
/// field it links to.
#[derive(Debug, Clone, Serialize)]
pub struct PageError {
    pub field: String,
    pub id: String,
    pub message: String,
    /// Where the summary links when the field is on another page.
    pub href: Option<String>,
}

impl PageError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), id: field_id(field), message: message.into(), href: None }
    }
}

/// The HTML id for a field name: `vehicles[0].registration` → `vehicles-0-registration`.
pub fn field_id(name: &str) -> String {
    name.replace("].", "-").replace('[', "-").replace(']', "").replace('.', "-")
}

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
    let errors_by_field: std::collections::BTreeMap<String, String> =
        page.errors.iter().rev().map(|error| (error.field.clone(), error.message.clone())).collect();
    let status = if page.errors.is_empty() { page.status } else { StatusCode::UNPROCESSABLE_ENTITY };
    let common = context! {
        lang => page.language,
        text => site.text(page.language),
        title => page.title,
        exit_url => site.exit_url.as_str(),
        show_cookie_banner => cookie(headers, COOKIES_SEEN_COOKIE).is_none(),
        current_path => current_path,
        back_href => page.back_href,
        danger_reported => page.danger_reported,
        errors => serde_value(&page.errors),
        errors_by_field => errors_by_field,
    };
    let rendered = site.templates.get_template(page.template).and_then(|template| template.render(context! { ..data, ..common }));
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

/// A message string from the catalogue, by section and key.
pub fn text_at(text: &Value, section: &str, key: &str) -> String {
    text.get_attr(section).and_then(|table| table.get_attr(key)).map(|value| value.to_string()).unwrap_or_default()
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value for an essential, script-inaccessible, same-site cookie.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: Option<i64>) -> HeaderValue {
    let age = max_age_seconds.map(|seconds| format!("; Max-Age={seconds}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict{age}")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Parses a form body; a body that is not a form is a 400 whose page says
/// what was wrong (see `friendly_errors`).
pub fn parse_form(body: &Bytes) -> Result<FormData, crate::error::WebError> {
    FormData::parse(body).map_err(|error| crate::error::WebError::UnreadableForm(error.to_string()))
}

/// A redirect that tells the browser to GET the target (after a POST).
pub fn see_other(target: &str) -> Response {
    Redirect::to(target).into_response()
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

/// Refuses state-changing requests that a browser says came from another
/// site (Fetch Metadata), or whose Origin is not this host: cross-site form
/// posts never reach a handler.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && is_cross_site(request.headers()) {
        tracing::warn!("refused a cross-site request");
        return (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Cross-site requests are refused.").into_response();
    }
    next.run(request).await
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    match (headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()), host) {
        // Browsers send `Origin: null` on our own forms because every page
        // has `Referrer-Policy: no-referrer`; Fetch Metadata above decides.
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, authority)| authority) != Some(host),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Turns errors on page routes into friendly HTML pages that keep quick
/// exit: a problem document is right for the API, not for a person.
pub async fn friendly_errors(axum::extract::State(state): axum::extract::State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let slot = crate::staff::StaffSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let status = response.status();
    if path.starts_with("/staff")
        && let Some(error) = response.extensions().get::<crate::error::ErrorPage>()
    {
        return crate::staff::error_page(&state, slot.get(), error);
    }
    let is_html = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    let machine_route = path.starts_with("/api/") || path.starts_with("/assets/") || path == "/healthz" || path == "/readyz";
    if machine_route || is_html || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let text = state.site().text("en");
    let (title, paragraph) = match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => (text_at(&text, "errors", "not_found_title"), text_at(&text, "errors", "not_found_text")),
        StatusCode::PAYLOAD_TOO_LARGE => (text_at(&text, "errors", "too_large_title"), text_at(&text, "errors", "too_large_text")),
        StatusCode::FORBIDDEN => (text_at(&text, "errors", "forbidden_title"), text_at(&text, "errors", "forbidden_text")),
        StatusCode::TOO_MANY_REQUESTS => (text_at(&text, "errors", "too_many_title"), text_at(&text, "errors", "too_many_text")),
        status if status.is_server_error() => {
            let mut response = technical_problem(&state, &headers);
            *response.status_mut() = status;
            return response;
        }
        StatusCode::BAD_REQUEST if let Some(error) = response.extensions().get::<crate::error::ErrorPage>() => {
            (text_at(&text, "errors", "bad_request_title"), error.text.clone())
        }
        _ => (text_at(&text, "errors", "bad_request_title"), text_at(&text, "errors", "problem_text")),
    };
    let mut page = Page::new("message.html", title);
    page.status = status;
    render(&state, &headers, &path, page, context! { paragraphs => vec![paragraph], link_href => "/", link_text => text_at(&text, "common", "start_again") })
}

/// Any serialisable value as a template value.
pub fn serde_value<T: Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}
