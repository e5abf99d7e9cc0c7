//! Signing in through an identity provider (`crate::oidc`): the button on
//! the sign-in page leads to `start`, which sends the browser to the
//! provider; the provider sends it back to `callback`, which checks the
//! answer, maps the person's groups to an organisation and roles, records
//! the user (`aidant_store::federation`) and opens a session.
//!
//! The browser carries the pending sign-in in a cookie of its own
//! (`__Host-aidant_sso`, ten minutes, SameSite=Lax so it comes back with the
//! provider's redirect): nothing waits in one process's memory, so any
//! process behind a load balancer can finish what another started.

use aidant_store::federation::{FederatedOutcome, FederatedSignIn};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::auth::{device_label, sign_in_page};
use super::{SESSION_COOKIE, SIGN_IN_CSRF_COOKIE, StaffPage, render, same_secret};
use crate::AppState;
use crate::error::WebResult;
use crate::html::{PageError, cookie, see_other, set_cookie};
use crate::oidc::{Membership, Pending, Provider, membership};

/// The pending sign-in's cookie.
pub const SSO_COOKIE: &str = "__Host-aidant_sso";

/// How long a person has at the provider before the pending sign-in lapses.
const PENDING_SECONDS: i64 = 10 * 60;

fn pending_cookie(value: &str, max_age_seconds: i64) -> HeaderValue {
    // Lax, not Strict: the cookie must come back on the provider's redirect,
    // a top-level GET from another site. It holds nothing that opens a
    // session by itself.
    HeaderValue::from_str(&format!("{SSO_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age_seconds}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The sign-in page with one message at the top of it.
fn refused(state: &AppState, message: impl Into<String>) -> Response {
    let mut response = sign_in_page(state, "", vec![PageError::new("sso", message)], false);
    response.headers_mut().append(header::SET_COOKIE, pending_cookie("", 0));
    response
}

fn unknown_provider(state: &AppState) -> Response {
    let mut page = StaffPage::new("staff/message.html", "Page not found", "sign-in");
    page.status = StatusCode::NOT_FOUND;
    render(state, None, page, context! { heading => "Page not found", paragraph => "There is no such way to sign in. Go back to the sign-in page." })
}

fn provider_unreachable(state: &AppState, provider: &Provider, error: &crate::oidc::SsoError) -> Response {
    tracing::warn!(provider = %provider.name, error = %error, "single sign-on failed");
    let mut response =
        refused(state, format!("Signing in with {} did not work. Try again in a few minutes; if it keeps failing, tell your IT service desk.", provider.label));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// Sends the browser to the provider.
pub async fn start(State(state): State<AppState>, Path(name): Path<String>) -> WebResult {
    let settings = &state.settings().single_sign_on;
    let Some(provider) = settings.provider(&name) else { return Ok(unknown_provider(&state)) };
    Ok(match state.sso().start(settings, provider).await {
        Ok((url, pending)) => {
            let mut response = see_other(&url);
            response.headers_mut().append(header::SET_COOKIE, pending_cookie(&pending.to_cookie(), PENDING_SECONDS));
            response
        }
        Err(error) => provider_unreachable(&state, provider, &error),
    })
}

/// What the provider sends back: a code and the state, or an error.
#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Finishes a sign-in the provider sent back.
pub async fn callback(State(state): State<AppState>, Path(name): Path<String>, Query(answer): Query<Answer>, headers: HeaderMap) -> WebResult {
    let settings = &state.settings().single_sign_on;
    let Some(provider) = settings.provider(&name) else { return Ok(unknown_provider(&state)) };
    let pending = cookie(&headers, SSO_COOKIE).and_then(|value| Pending::from_cookie(&value));
    // The answer must be to a sign-in this browser started, at this
    // provider: otherwise someone may be trying to sign the browser in as
    // themselves (login CSRF).
    let Some(pending) = pending.filter(|pending| pending.provider == provider.name && same_secret(answer.state.as_deref().unwrap_or_default(), &pending.state))
    else {
        return Ok(refused(&state, "Your sign-in took too long or was started in another window. Try again."));
    };
    if let Some(error) = answer.error {
        tracing::info!(provider = %provider.name, error = %error.chars().take(64).collect::<String>(), "the identity provider did not sign the person in");
        return Ok(refused(&state, format!("{} did not sign you in. Try again, or sign in with a password if you have one.", provider.label)));
    }
    let Some(code) = answer.code.filter(|code| !code.is_empty()) else {
        return Ok(refused(&state, format!("{} did not sign you in. Try again.", provider.label)));
    };
    let person = match state.sso().finish(settings, provider, &pending, &code).await {
        Ok(person) => person,
        Err(error) => return Ok(provider_unreachable(&state, provider, &error)),
    };
    let (organisation_name, roles) = match membership(&provider.groups, &person.groups) {
        Membership::Granted { organisation, roles } => (organisation, roles),
        refusal => {
            let user = state.store().refuse_federated(&provider.name, &person.subject).await?;
            tracing::info!(provider = %provider.name, known_user = user.is_some(), several_organisations = refusal == Membership::SeveralOrganisations, "single sign-on refused by groups");
            let message = match refusal {
                Membership::SeveralOrganisations => {
                    "Your account's groups give you places in more than one organisation in Aidant. Ask your IT service desk to leave you in one."
                }
                _ => "Your account is not in a group that may use Aidant. If you need access, ask your IT service desk or your Aidant administrator.",
            };
            let mut response = refused(&state, message);
            *response.status_mut() = StatusCode::FORBIDDEN;
            return Ok(response);
        }
    };
    let Some(organisation) = state.store().find_organisation_by_name(&organisation_name).await? else {
        tracing::error!(provider = %provider.name, "a single sign-on group names an organisation Aidant does not have");
        return Ok(refused(&state, "Aidant is not set up for your organisation yet. Tell your Aidant administrator."));
    };
    let sign_in = FederatedSignIn {
        provider: &provider.name,
        subject: &person.subject,
        email: &person.email,
        email_verified: person.email_verified,
        display_name: &person.display_name,
        organisation_id: &organisation.id,
        roles: &roles,
    };
    let user_id = match state.store().sign_in_federated(&sign_in).await? {
        FederatedOutcome::Accepted { user_id } => user_id,
        FederatedOutcome::Disabled => {
            return Ok(refused(&state, "Your Aidant account is switched off. Ask your Aidant administrator."));
        }
        FederatedOutcome::EmailInUse => {
            return Ok(refused(
                &state,
                "An Aidant account already uses your e-mail address and could not be joined to this sign-in. Ask your Aidant administrator.",
            ));
        }
    };
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        state.store().end_session(&old).await?;
    }
    let token = state.store().create_federated_session(&user_id).await?;
    state.store().set_session_device(&token, &device_label(&headers)).await?;
    // A page that moves on by itself rather than a redirect: the session
    // cookie is SameSite=Strict, and a browser does not send it on a
    // redirect chain that began at the provider's site.
    let mut response =
        render(&state, None, StaffPage::new("staff/signing_in.html", "Signed in", "sign-in"), context! { provider_label => provider.label.clone() });
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, None));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_CSRF_COOKIE, "", Some(0)));
    response.headers_mut().append(header::SET_COOKIE, pending_cookie("", 0));
    Ok(response)
}
