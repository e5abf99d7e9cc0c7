//! The staff workspace: sign-in, the triage queue, intelligence records,
//! safeguarding (potential victims, NRM referrals, support referrals),
//! search, administration, and the staff JSON API.
//!
//! Every handler takes a [`Staff`] (a signed-in user: a session cookie on
//! pages, a personal token or a session on the API) and calls a use case in
//! `aidant_store::cases`, which asks the access policy and audits; handlers
//! only turn forms and queries into calls and results into pages, returning
//! [`WebError`] with `?`. State-changing forms carry the session's CSRF token; the
//! sign-in form, which comes before any session, uses a double-submit
//! cookie. Fetch Metadata (`refuse_cross_site`) turns away cross-site posts
//! before they get this far.

pub mod admin;
pub mod api;
pub mod auth;
pub mod charts;
pub mod entities;
pub mod field;
pub mod insight;
pub mod intelligence;
pub mod networks;
pub mod operations;
pub mod packages;
pub mod profile;
pub mod queue;
pub mod retention;
pub mod search;
pub mod single_sign_on;
pub mod victims;

use std::sync::{Arc, OnceLock};

use aidant_core::audit::AuditActor;
use aidant_core::organisation::Role;
use aidant_core::policy::{Actor, Capability};
use aidant_store::cases::Caller;
use aidant_store::organisations::{Organisation, User};
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};

use crate::AppState;
use crate::error::{ErrorPage, WebError};
use crate::html::form::FormData;
use crate::html::{PageError, cookie, see_other, serde_value};
use crate::problem::Problem;
use crate::routes::Routes;

/// The session cookie. `__Host-` makes browsers insist on Secure, Path=/
/// and no Domain, so no other host can plant or read it.
pub const SESSION_COOKIE: &str = "__Host-aidant_session";
/// The double-submit token for the sign-in form.
pub const SIGN_IN_CSRF_COOKIE: &str = "__Host-aidant_sign_in";

/// Where a user chooses a new password (and must, after a reset).
pub const PASSWORD_PATH: &str = "/staff/profile/password";

/// How many queue rows a page shows.
pub const PAGE_SIZE: i64 = 50;

/// The staff workspace's routes; `sign_in_limit` guards the sign-in posts.
pub fn routes(sign_in_limit: Option<&crate::rate_limit::FloodGuard>) -> Routes {
    let limited = |handler: axum::routing::MethodRouter<AppState>| crate::rate_limit::limited(handler, sign_in_limit);
    Routes::new()
        .route("/staff/sign-in", &["GET", "POST"], get(auth::sign_in_form).merge(limited(post(auth::sign_in))))
        .route("/staff/sign-in/code", &["GET", "POST"], get(auth::code_form).merge(limited(post(auth::check_code))))
        .route("/staff/sign-in/enrol", &["GET", "POST"], get(auth::enrol_form).merge(limited(post(auth::enrol))))
        .route("/staff/sign-in/sso/{provider}", &["GET"], limited(get(single_sign_on::start)))
        .route("/staff/sign-in/sso/{provider}/callback", &["GET"], limited(get(single_sign_on::callback)))
        .route("/staff/sign-out", &["POST"], post(auth::sign_out))
        .route("/staff", &["GET"], get(queue::show_queue))
        .route("/staff/reports/{id}", &["GET"], get(queue::show_report))
        .route("/staff/reports/{id}/assign", &["POST"], post(queue::assign))
        .route("/staff/reports/{id}/status", &["POST"], post(queue::set_status))
        .route("/staff/reports/{id}/reply", &["POST"], post(queue::reply))
        .route("/staff/reports/{id}/contact", &["POST"], post(queue::reveal_contact))
        .route("/staff/intelligence", &["GET"], get(intelligence::list))
        .route("/staff/intelligence/new", &["GET", "POST"], get(intelligence::new_form).post(intelligence::create))
        .route("/staff/intelligence/{id}", &["GET"], get(intelligence::show))
        .route("/staff/intelligence/{id}/share", &["POST"], post(intelligence::share))
        .route("/staff/intelligence/{id}/source", &["POST"], post(intelligence::read_source))
        .route("/staff/search", &["GET"], get(search::search))
        .route("/staff/entities/{id}", &["GET"], get(entities::show_entity))
        .route("/staff/entities/{id}/watch", &["POST"], post(entities::watch))
        .route("/staff/entities/{id}/with/{other}", &["GET"], get(entities::shared))
        .route("/staff/entities/{id}/decisions", &["POST"], post(entities::decide))
        .route("/staff/reports/{id}/people", &["POST"], post(queue::name_person))
        .route("/staff/entities/{id}/decisions/{decision}/undo", &["POST"], post(entities::undo_decision))
        .route("/staff/watching", &["GET"], get(entities::watching))
        .route("/staff/charts", &["GET", "POST"], get(charts::list).post(charts::save_new))
        .route("/staff/charts/new", &["GET"], get(charts::new_chart))
        .route("/staff/charts/export", &["POST"], post(charts::export))
        .route("/staff/charts/{id}", &["GET", "POST"], get(charts::show).post(charts::save_existing))
        .route("/staff/charts/{id}/delete", &["POST"], post(charts::delete))
        .route("/api/v1/staff/charts/data", &["POST"], post(charts::chart_data))
        .route("/api/v1/staff/charts/export-audit", &["POST"], post(charts::export_audit))
        .route("/staff/networks", &["GET"], get(networks::show))
        .route("/staff/networks/analyses", &["POST"], post(networks::save))
        .route("/staff/networks/analyses/{id}", &["GET"], get(networks::show_saved))
        .route("/staff/networks/roles/{entity}", &["POST"], post(networks::assign_role))
        .route("/staff/packages/new", &["GET"], get(packages::new_package))
        .route("/staff/packages", &["POST"], post(packages::create))
        .route("/staff/disclosures", &["GET"], get(packages::log))
        .route("/staff/insight", &["GET"], get(insight::show))
        .route("/staff/insight/csv/{chart}", &["GET"], get(insight::csv))
        .route("/staff/insight/map", &["GET"], get(insight::map))
        .route("/staff/insight/map/csv", &["GET"], get(insight::map_csv))
        .route("/staff/retention", &["GET"], get(retention::queue))
        .route("/staff/retention/{kind}/{id}", &["GET", "POST"], get(retention::review).post(retention::decide))
        .route("/staff/victims", &["GET"], get(victims::dashboard))
        .route("/staff/victims/new", &["GET", "POST"], get(victims::new_case).post(victims::create_case))
        .route("/staff/victims/statistics", &["GET"], get(victims::statistics))
        .route("/staff/victims/statistics/csv", &["GET"], get(victims::statistics_csv))
        .route("/staff/victims/statistics/ods", &["GET"], get(victims::statistics_ods))
        .route("/staff/victims/statistics/publish", &["POST"], post(victims::publish))
        .route("/staff/victims/{id}", &["GET"], get(victims::show))
        .route("/staff/victims/{id}/identity", &["POST"], post(victims::open_identity))
        .route("/staff/victims/{id}/decisions", &["POST"], post(victims::record_decisions))
        .route("/staff/victims/{id}/officer", &["POST"], post(victims::set_officer))
        .route("/staff/victims/{id}/support", &["POST"], post(victims::refer_to_support))
        .route("/staff/victims/{id}/links", &["POST"], post(victims::link_record))
        .route("/staff/victims/{id}/referral", &["GET"], get(victims::referral_summary))
        .route("/staff/victims/{id}/referral/complete", &["POST"], post(victims::complete_referral))
        .route("/staff/victims/{id}/referral/print", &["GET"], get(victims::print_referral))
        .route("/staff/victims/{id}/referral/download", &["GET"], get(victims::export_referral))
        .route("/staff/victims/{id}/referral/{page}", &["GET", "POST"], get(victims::referral_page).post(victims::save_referral_page))
        .route("/staff/support", &["GET"], get(victims::support_portal))
        .route("/staff/support/{id}", &["GET"], get(victims::support_referral))
        .route("/staff/support/{id}/record", &["POST"], post(victims::record_support))
        .route("/staff/audit/{kind}/{id}", &["GET"], get(admin::record_audit))
        .route("/staff/audit/users/{id}", &["GET"], get(admin::user_audit))
        .route("/staff/admin/users", &["GET", "POST"], get(admin::users).post(admin::add_user))
        .route("/staff/admin/users/{id}/{action}", &["POST"], post(admin::user_action))
        .route("/staff/admin/second-factor", &["POST"], post(admin::require_second_factor))
        .route("/staff/admin/entity-jobs/retry", &["POST"], post(admin::retry_entity_jobs))
        .route("/staff/profile", &["GET"], get(profile::show))
        .route(PASSWORD_PATH, &["GET", "POST"], get(profile::password_form).post(profile::change_password))
        .route("/staff/profile/tokens", &["POST"], post(profile::create_token))
        .route("/staff/profile/tokens/{id}/revoke", &["POST"], post(profile::revoke_token))
        .route("/staff/profile/sessions/{id}/end", &["POST"], post(profile::end_session))
        .route("/staff/operations", &["GET"], get(operations::list))
        .route("/staff/operations/new", &["GET", "POST"], get(operations::new_form).post(operations::create))
        .route("/staff/operations/{id}", &["GET"], get(operations::show))
        .route("/staff/operations/{id}/sites", &["POST"], post(operations::add_site))
        .route("/staff/operations/{id}/teams", &["POST"], post(operations::add_team))
        .route("/staff/operations/{id}/teams/{team}", &["GET"], get(operations::briefing))
        .route("/staff/operations/{id}/board", &["GET"], get(operations::board))
        .route("/staff/operations/{id}/debrief", &["GET", "POST"], get(operations::debrief).post(operations::save_summary))
        .merge(field::routes())
        .merge(api::routes())
}

/// A signed-in member of staff.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    pub organisation: Organisation,
    /// The user as the use cases and the access policy know them.
    pub caller: Caller,
    /// The session's CSRF token; empty for API tokens, which are not sent
    /// by browsers on their own and so cannot be forged cross-site.
    pub csrf_token: String,
    /// Signed in with a temporary password that must be replaced first.
    pub must_change_password: bool,
    /// The session's public name (`None` with an API token).
    pub session_id: Option<String>,
    /// The key the field app keeps its records under on this session's
    /// device (`None` with an API token).
    pub field_key: Option<String>,
}

impl Staff {
    /// How the audit log names this user.
    pub fn audit_actor(&self) -> AuditActor {
        self.caller.audit_actor()
    }

    pub fn can(&self, capability: Capability) -> bool {
        self.caller.can(capability)
    }

    fn from_user(user: User, organisation: Organisation, csrf_token: String) -> Self {
        let actor = Actor { organisation_id: user.organisation_id.clone(), roles: user.roles.iter().copied().collect() };
        let caller = Caller::new(&user.id, actor);
        Self { user, organisation, caller, csrf_token, must_change_password: false, session_id: None, field_key: None }
    }
}

fn is_api(parts: &Parts) -> bool {
    parts.uri.path().starts_with("/api/")
}

/// Not signed in: the API answers 401, pages go to sign-in.
fn not_signed_in(api: bool) -> Response {
    if api {
        let mut response =
            Problem::new(StatusCode::UNAUTHORIZED, "Sign-in required", "Send a personal API token as `Authorization: Bearer <token>`.").into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        response
    } else {
        see_other("/staff/sign-in")
    }
}

/// A storage failure while finding the signed-in user.
fn unavailable(error: aidant_store::StoreError) -> Response {
    WebError::from(error).into_response()
}

/// Where the `Staff` extractor leaves the signed-in user for
/// `html::friendly_errors`, which draws an error page after the handler
/// has returned (with the user's navigation, as the handler would have).
#[derive(Clone, Default)]
pub struct StaffSlot(Arc<OnceLock<Staff>>);

impl StaffSlot {
    pub fn get(&self) -> Option<&Staff> {
        self.0.get()
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let staff = identify(parts, state).await?;
        if let Some(slot) = parts.extensions.get::<StaffSlot>() {
            let _ = slot.0.set(staff.clone());
        }
        Ok(staff)
    }
}

async fn identify(parts: &mut Parts, state: &AppState) -> Result<Staff, Response> {
    let api = is_api(parts);
    let store = state.store();
    if let Some(token) = parts.headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer ")) {
        if !api {
            return Err(not_signed_in(false));
        }
        let user = store.user_for_api_token(token.trim()).await.map_err(unavailable)?.ok_or_else(|| not_signed_in(true))?;
        let organisation = store.find_organisation(&user.organisation_id).await.map_err(unavailable)?.ok_or_else(|| not_signed_in(true))?;
        return Ok(Staff::from_user(user, organisation, String::new()));
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(not_signed_in(api)) };
    let session = store.find_session(&token, &state.settings().sign_in).await.map_err(unavailable)?;
    let Some(session) = session else { return Err(not_signed_in(api)) };
    if !session.second_factor_done || (session.organisation_requires_second_factor && !session.has_second_factor && !session.federated) {
        if api {
            return Err(not_signed_in(true));
        }
        return Err(see_other(if session.has_second_factor { "/staff/sign-in/code" } else { "/staff/sign-in/enrol" }));
    }
    // A password an administrator set opens nothing but the page that
    // replaces it (and sign-out, which does not need a `Staff`).
    if session.must_change_password && parts.uri.path() != PASSWORD_PATH {
        if api {
            return Err(
                Problem::new(StatusCode::FORBIDDEN, "Password change required", "Sign in to the workspace and choose a new password first.").into_response()
            );
        }
        return Err(see_other(PASSWORD_PATH));
    }
    let organisation = store.find_organisation(&session.user.organisation_id).await.map_err(unavailable)?.ok_or_else(|| not_signed_in(api))?;
    let mut staff = Staff::from_user(session.user, organisation, session.csrf_token);
    staff.must_change_password = session.must_change_password;
    staff.session_id = Some(aidant_store::sessions::session_id(&token));
    staff.field_key = Some(aidant_store::sessions::field_key(&token));
    Ok(staff)
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(left: &str, right: &str) -> bool {
    left.len() == right.len() && left.bytes().zip(right.bytes()).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

/// Parses a staff form and checks its CSRF token against the session's.
pub fn staff_form(staff: &Staff, body: &Bytes) -> Result<FormData, WebError> {
    let form = FormData::parse(body).map_err(|error| WebError::UnreadableForm(error.to_string()))?;
    let sent = form.get("csrf_token").unwrap_or_default();
    if staff.csrf_token.is_empty() || !same_secret(sent, &staff.csrf_token) {
        tracing::warn!("refused a staff form without a valid CSRF token");
        return Err(WebError::FormExpired);
    }
    Ok(form)
}

/// A page of the staff workspace.
pub struct StaffPage<'a> {
    pub template: &'a str,
    pub title: String,
    pub status: StatusCode,
    pub errors: Vec<PageError>,
    pub current: &'a str,
}

impl<'a> StaffPage<'a> {
    pub fn new(template: &'a str, title: impl Into<String>, current: &'a str) -> Self {
        Self { template, title: title.into(), status: StatusCode::OK, errors: Vec::new(), current }
    }
}

/// A use case's field errors, for the page's error summary.
pub(crate) fn page_errors(errors: Vec<aidant_core::report::FieldError>) -> Vec<PageError> {
    errors.into_iter().map(|error| PageError::new(&error.field, error.message)).collect()
}

/// Renders a staff page with the common context: the user, their
/// organisation, the navigation they may use and the CSRF token.
pub fn render(state: &AppState, staff: Option<&Staff>, page: StaffPage<'_>, data: Value) -> Response {
    let errors_by_field = crate::html::errors_by_field(&page.errors);
    let status = if page.errors.is_empty() { page.status } else { StatusCode::UNPROCESSABLE_ENTITY };
    let user = staff.map(|staff| {
        context! {
            name => staff.user.display_name.clone(),
            organisation => staff.organisation.name.clone(),
            roles => staff.user.roles.iter().map(|role| role.label()).collect::<Vec<_>>().join(", "),
            queue => staff.can(Capability::UseQueue),
            search => staff.can(Capability::Search),
            admin => staff.can(Capability::ManageUsers),
            charts => staff.can(Capability::UseLinkCharts),
            networks => staff.can(Capability::AnalyseNetworks),
            packages => staff.can(Capability::CreateDisclosurePackage),
            safeguarding => staff.can(Capability::Safeguarding),
            support => staff.can(Capability::SupportReferrals),
            operations => staff.can(Capability::Operations),
            retention => staff.can(Capability::ReviewRetention),
            insight => staff.can(Capability::ViewInsight),
            closed => staff.must_change_password,
        }
    });
    let common = context! {
        text => state.site().text("en"),
        title => page.title,
        user => user,
        csrf_token => staff.map(|staff| staff.csrf_token.clone()).unwrap_or_default(),
        current => page.current,
        errors => serde_value(&page.errors),
        errors_by_field => errors_by_field,
    };
    match state.site().render_template(page.template, context! { ..data, ..common }) {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(error) => {
            tracing::error!(template = page.template, error = %error, "a staff page failed to render");
            crate::pages::technical_problem(state, &HeaderMap::new())
        }
    }
}

/// A page with a heading and a paragraph (refusals, confirmations).
pub fn message(state: &AppState, staff: &Staff, status: StatusCode, title: &str, text: &str) -> Response {
    let mut page = StaffPage::new("staff/message.html", title, "");
    page.status = status;
    render(state, Some(staff), page, context! { heading => title, paragraph => text })
}

/// The staff page for an error a handler returned (see `crate::error`).
pub fn error_page(state: &AppState, staff: Option<&Staff>, error: &ErrorPage) -> Response {
    if error.status.is_server_error() {
        let mut response = crate::pages::technical_problem(state, &HeaderMap::new());
        *response.status_mut() = error.status;
        return response;
    }
    let mut page = StaffPage::new("staff/message.html", error.title.clone(), "");
    page.status = error.status;
    render(state, staff, page, context! { heading => error.title.clone(), paragraph => error.text.clone() })
}

/// `29 November 2026, 07:31` (UTC).
/// A count as people write it: `10,000`.
pub fn format_count(count: i64) -> String {
    let digits = count.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if count < 0 { format!("-{grouped}") } else { grouped }
}

pub fn format_time(unix_ms: i64) -> String {
    let Ok(moment) = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)) else { return String::new() };
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year], [hour]:[minute]");
    moment.format(&format).unwrap_or_default()
}

/// Roles as options for forms.
pub fn role_options() -> Vec<Value> {
    Role::ALL.iter().map(|role| context! { value => role.as_str(), label => role.label() }).collect()
}

#[cfg(test)]
mod tests {
    use super::format_count;

    #[test]
    fn counts_are_grouped_in_thousands() {
        let cases = [(0, "0"), (999, "999"), (1_000, "1,000"), (10_000, "10,000"), (1_234_567, "1,234,567"), (-4_500, "-4,500")];
        for (count, written) in cases {
            assert_eq!(format_count(count), written);
        }
    }
}
