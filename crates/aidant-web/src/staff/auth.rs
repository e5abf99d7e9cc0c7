//! Staff sign-in: email and password, then a TOTP code when the user has
//! one (or enrolment when their organisation requires one), and sign-out.

use aidant_store::identity::{SignInOutcome, new_totp_secret, totp_secret_base32, totp_uri};
use aidant_store::sessions::StaffSession;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::{SESSION_COOKIE, SIGN_IN_CSRF_COOKIE, StaffPage, render, same_secret};
use crate::AppState;
use crate::backoff::Source;
use crate::error::WebResult;
use crate::html::form::FormData;
use crate::html::{PageError, cookie, see_other, set_cookie};

#[derive(Deserialize)]
pub struct SignInQuery {
    signed_out: Option<String>,
}

fn random_hex() -> String {
    use rand::RngCore;
    let mut bytes = [0; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(super) fn sign_in_page(state: &AppState, email: &str, errors: Vec<PageError>, signed_out: bool) -> Response {
    let token = random_hex();
    let mut page = StaffPage::new("staff/sign_in.html", "Sign in", "sign-in");
    page.errors = errors;
    let providers: Vec<_> =
        state.settings().single_sign_on.providers.iter().map(|provider| context! { name => provider.name.clone(), label => provider.label.clone() }).collect();
    let data = context! { sign_in_token => token.clone(), email => email, signed_out => signed_out, providers => providers };
    let mut response = render(state, None, page, data);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_CSRF_COOKIE, &token, Some(60 * 60)));
    response
}

pub async fn sign_in_form(State(state): State<AppState>, Query(query): Query<SignInQuery>) -> Response {
    sign_in_page(&state, "", Vec::new(), query.signed_out.is_some())
}

/// The sign-in page telling a source with too many wrong tries to wait;
/// the password is not checked, so nothing about the account is learnt.
fn wait_page(state: &AppState, email: &str, wait: std::time::Duration) -> Response {
    let seconds = crate::backoff::whole_seconds(wait);
    let message = format!("Too many wrong tries have come from your connection. Wait {seconds} seconds and try again.");
    crate::backoff::waiting(sign_in_page(state, email, vec![PageError::new("email", message)], false), seconds)
}

/// What a browser runs on, in words ("Chrome on Android"), from its
/// User-Agent: enough to tell a phone from a laptop in the list of
/// sessions, and no more.
pub fn device_label(headers: &HeaderMap) -> String {
    let agent = headers.get(header::USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let system =
        [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"), ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]
            .iter()
            .find(|(marker, _)| agent.contains(marker))
            .map(|(_, name)| *name);
    let browser = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari")]
        .iter()
        .find(|(marker, _)| agent.contains(marker))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("A browser on {system}"),
        (None, None) => String::new(),
    }
}

pub async fn sign_in(State(state): State<AppState>, source: Source, headers: HeaderMap, body: Bytes) -> WebResult {
    let Ok(form) = FormData::parse(&body) else {
        return Ok(sign_in_page(&state, "", vec![PageError::new("email", "The form could not be read; try again")], false));
    };
    let email = form.get("email").unwrap_or_default().trim().to_owned();
    let expected = cookie(&headers, SIGN_IN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(form.get("sign_in_token").unwrap_or_default(), &expected) {
        tracing::warn!("refused a sign-in without its double-submit token");
        return Ok(sign_in_page(&state, &email, vec![PageError::new("email", "The sign-in page expired; try again")], false));
    }
    let password = form.get("password").unwrap_or_default();
    let mut errors = Vec::new();
    if email.is_empty() {
        errors.push(PageError::new("email", "Enter your email address"));
    }
    if password.is_empty() {
        errors.push(PageError::new("password", "Enter your password"));
    }
    if !errors.is_empty() {
        return Ok(sign_in_page(&state, &email, errors, false));
    }
    if let Some(wait) = state.staff_guesses().wait(source, Instant::now()) {
        return Ok(wait_page(&state, &email, wait));
    }
    let outcome = state.store().check_password(&email, password, &state.settings().sign_in).await?;
    Ok(match outcome {
        SignInOutcome::Accepted { user_id, needs_second_factor, must_enrol_second_factor } => {
            // A new session id at every sign-in: whatever id the browser
            // held before (perhaps planted) is ended, never promoted.
            if let Some(old) = cookie(&headers, SESSION_COOKIE) {
                state.store().end_session(&old).await?;
            }
            let done = !needs_second_factor && !must_enrol_second_factor;
            let token = state.store().create_session(&user_id, done).await?;
            state.store().set_session_device(&token, &device_label(&headers)).await?;
            let next = if needs_second_factor {
                "/staff/sign-in/code"
            } else if must_enrol_second_factor {
                "/staff/sign-in/enrol"
            } else {
                "/staff"
            };
            let mut response = see_other(next);
            response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, None));
            response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_CSRF_COOKIE, "", Some(0)));
            response
        }
        // One answer for a wrong password, an unknown email, a disabled
        // account and a paused one, so it tells no one which accounts exist.
        SignInOutcome::Refused | SignInOutcome::Disabled | SignInOutcome::Locked { .. } => {
            state.staff_guesses().failed(source, Instant::now());
            let policy = &state.settings().sign_in;
            let message = format!(
                "Enter a correct email address and password. After {} wrong passwords in a row, signing in with a password alone pauses for {} minutes; \
                 if you use an authenticator app, your password and a code still work.",
                policy.max_failures,
                policy.lockout.as_secs() / 60
            );
            sign_in_page(&state, &email, vec![PageError::new("email", message)], false)
        }
    })
}

/// The session being signed in, whatever its second-factor state.
async fn pending_session(state: &AppState, headers: &HeaderMap) -> WebResult<Option<(String, StaffSession)>> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    Ok(state.store().find_session(&token, &state.settings().sign_in).await?.map(|session| (token, session)))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

fn code_page(state: &AppState, session: &StaffSession, errors: Vec<PageError>) -> Response {
    let mut page = StaffPage::new("staff/code.html", "Enter the code from your authenticator app", "sign-in");
    page.errors = errors;
    render(state, None, page, context! { session_csrf => session.csrf_token.clone() })
}

pub async fn code_form(State(state): State<AppState>, headers: HeaderMap) -> WebResult {
    Ok(match pending_session(&state, &headers).await? {
        Some((_, session)) if session.has_second_factor && !session.second_factor_done => code_page(&state, &session, Vec::new()),
        Some(_) => see_other("/staff"),
        None => see_other("/staff/sign-in"),
    })
}

pub async fn check_code(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> WebResult {
    let Some((token, session)) = pending_session(&state, &headers).await? else { return Ok(see_other("/staff/sign-in")) };
    let form = FormData::parse(&body).unwrap_or_default();
    if !same_secret(form.get("csrf_token").unwrap_or_default(), &session.csrf_token) {
        return Ok(code_page(&state, &session, vec![PageError::new("code", "The page expired; enter the code again")]));
    }
    let code = form.get("code").unwrap_or_default().trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return Ok(code_page(&state, &session, vec![PageError::new("code", "Enter the 6-digit code from your authenticator app")]));
    }
    if !state.store().verify_totp(&session.user.id, &code, unix_seconds()).await? {
        return Ok(code_page(&state, &session, vec![PageError::new("code", "The code is wrong or has already been used; wait for a new one")]));
    }
    state.store().complete_second_factor(&token).await?;
    Ok(see_other("/staff"))
}

fn enrol_page(state: &AppState, session: &StaffSession, secret: &[u8], errors: Vec<PageError>) -> Response {
    let mut page = StaffPage::new("staff/enrol.html", "Set up your authenticator app", "sign-in");
    page.errors = errors;
    let data = context! {
        session_csrf => session.csrf_token.clone(),
        secret => totp_secret_base32(secret),
        uri => totp_uri(secret, &session.user.email),
        required => session.organisation_requires_second_factor,
    };
    render(state, None, page, data)
}

pub async fn enrol_form(State(state): State<AppState>, headers: HeaderMap) -> WebResult {
    Ok(match pending_session(&state, &headers).await? {
        Some((_, session)) if !session.has_second_factor => enrol_page(&state, &session, &new_totp_secret(), Vec::new()),
        Some(_) => see_other("/staff"),
        None => see_other("/staff/sign-in"),
    })
}

fn decode_base32(text: &str) -> Option<Vec<u8>> {
    aidant_store::identity::decode_totp_secret(text)
}

pub async fn enrol(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> WebResult {
    let (token, session) = match pending_session(&state, &headers).await? {
        Some(pending) if !pending.1.has_second_factor => pending,
        Some(_) => return Ok(see_other("/staff")),
        None => return Ok(see_other("/staff/sign-in")),
    };
    let form = FormData::parse(&body).unwrap_or_default();
    let Some(secret) = decode_base32(form.get("secret").unwrap_or_default()) else {
        return Ok(enrol_page(&state, &session, &new_totp_secret(), vec![PageError::new("code", "The page expired; add the new key to your app")]));
    };
    if !same_secret(form.get("csrf_token").unwrap_or_default(), &session.csrf_token) {
        return Ok(enrol_page(&state, &session, &secret, vec![PageError::new("code", "The page expired; enter the code again")]));
    }
    let code = form.get("code").unwrap_or_default().trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return Ok(enrol_page(&state, &session, &secret, vec![PageError::new("code", "Enter the 6-digit code your authenticator app shows")]));
    }
    if !state.store().enrol_totp(&session.user.id, &secret, &code, unix_seconds()).await? {
        return Ok(enrol_page(&state, &session, &secret, vec![PageError::new("code", "The code does not match; check the key and try the next code")]));
    }
    state.store().complete_second_factor(&token).await?;
    Ok(see_other("/staff"))
}

pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> WebResult {
    // Sign-out must work from any state (even mid sign-in), so it checks
    // the token against the session directly rather than through `Staff`.
    if let Some((token, session)) = pending_session(&state, &headers).await? {
        let form = FormData::parse(&body).unwrap_or_default();
        if !same_secret(form.get("csrf_token").unwrap_or_default(), &session.csrf_token) {
            return Ok(see_other("/staff"));
        }
        state.store().end_session(&token).await?;
    }
    let mut response = see_other("/staff/sign-in?signed_out=1");
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(response)
}
