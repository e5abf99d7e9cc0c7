//! What every page is made with, public or staff: the templates and their
//! wording (`Site`), the GOV.UK error summary's entries, cookies, forms,
//! redirects, the refusal of cross-site posts, and the friendly error pages
//! drawn for a `WebError` (with quick exit on the public site and the
//! user's navigation in the workspace).

pub mod form;
pub mod messages;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::AppState;
use crate::pages::{Page, render, technical_problem};
use messages::Messages;

/// Templates and wording for every page, public and staff, loaded once at
/// start-up.
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
            "staff/signing_in.html",
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
            "staff/entity.html",
            "staff/entity_list.html",
            "staff/entity_shared.html",
            "staff/people_list.html",
            "staff/watching.html",
            "staff/audit.html",
            "staff/users.html",
            "staff/profile.html",
            "staff/charts.html",
            "staff/chart.html",
            "staff/networks.html",
            "staff/analysis.html",
            "staff/network_macros.html",
            "staff/package.html",
            "staff/disclosures.html",
            "staff/victims.html",
            "staff/operations.html",
            "staff/retention.html",
            "staff/insight.html",
            "staff/insight_map.html",
            "staff/retention_review.html",
            "staff/operation_new.html",
            "staff/operation.html",
            "staff/operation_briefing.html",
            "staff/operation_board.html",
            "staff/operation_debrief.html",
            "field.html",
            "staff/victim_new.html",
            "staff/victim.html",
            "staff/referral_page.html",
            "staff/referral_check.html",
            "staff/referral_print.html",
            "staff/support_list.html",
            "staff/support_referral.html",
            "staff/victim_statistics.html",
            "staff/victim_links.html",
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

    /// The catalogue's public wording in `language`.
    pub fn catalogue_in<'a>(&'a self, catalogue: &'a aidant_core::Catalogue, language: &str) -> messages::PublicCatalogue<'a> {
        self.messages.catalogue_in(catalogue, language)
    }

    /// Where quick exit goes.
    pub fn exit_url(&self) -> &str {
        &self.exit_url
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

    /// A core field error as the summary shows it.
    pub fn from_field(error: aidant_core::report::FieldError) -> Self {
        Self::new(&error.field, error.message)
    }
}

/// The HTML id for a field name: `vehicles[0].registration` → `vehicles-0-registration`.
pub fn field_id(name: &str) -> String {
    name.replace("].", "-").replace('[', "-").replace(']', "").replace('.', "-")
}

/// Field errors for the summary, and each field's own message.
pub fn errors_by_field(errors: &[PageError]) -> std::collections::BTreeMap<String, String> {
    errors.iter().rev().map(|error| (error.field.clone(), error.message.clone())).collect()
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

/// A redirect that tells the browser to GET the target (after a POST).
pub fn see_other(target: &str) -> Response {
    Redirect::to(target).into_response()
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
    // An address the workspace does not have is answered in the workspace's
    // own layout (no quick exit, which would send staff to a weather site).
    if path.starts_with("/staff") && !is_html && matches!(status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED) {
        let error = crate::error::ErrorPage {
            status,
            title: "Page not found".to_owned(),
            text: "There is no page at this address in the staff workspace. Check the address, or go back to where you were.".to_owned(),
        };
        return crate::staff::error_page(&state, slot.get(), &error);
    }
    if path.starts_with("/api/") && (status.is_client_error() || status.is_server_error()) {
        return crate::problem::as_problem(response);
    }
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
/// JSON for a `<script type="application/json">` element, where nothing
/// is unescaped, so nothing in it may close the element: `<`, `>` and `&`
/// are written as JSON escapes (the template marks it `safe`).
pub fn json_script(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

pub fn serde_value<T: Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}
