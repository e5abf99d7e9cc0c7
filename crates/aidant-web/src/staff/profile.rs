//! A user's own profile: who they are, their password, their second
//! factor, and personal API tokens (shown once, stored hashed, revocable).

use aidant_core::text::{BoundedText, Lines};
use aidant_store::identity::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordChange, PasswordRule, check_new_password};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{Value, context};

use super::{SESSION_COOKIE, Staff, StaffPage, format_time, render, staff_form};
use crate::AppState;
use crate::error::WebResult;
use crate::html::{PageError, cookie, see_other};

async fn profile_page(state: &AppState, staff: &Staff, errors: Vec<PageError>, new_token: Option<String>, password_changed: bool) -> WebResult {
    let tokens = state.store().list_api_tokens(&staff.user.id).await?;
    let sessions: Vec<Value> = state
        .store()
        .list_sessions(&staff.user.id)
        .await?
        .into_iter()
        .map(|session| {
            context! {
                current => staff.session_id.as_deref() == Some(session.id.as_str()),
                id => session.id,
                device => session.device,
                created => format_time(session.created_at_ms),
                last_used => format_time(session.last_seen_at_ms),
            }
        })
        .collect();
    let has_second_factor = state.store().find_session_user_factor(&staff.user.id).await?;
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|token| {
            context! {
                id => token.id.to_string(),
                name => token.name.clone(),
                created => format_time(token.created_at_ms),
                last_used => token.last_used_at_ms.map(format_time),
            }
        })
        .collect();
    let data = context! {
        email => staff.user.email.clone(),
        has_second_factor,
        tokens,
        sessions,
        new_token,
        password_changed,
    };
    let mut page = StaffPage::new("staff/profile.html", "Your profile", "profile");
    page.errors = errors;
    Ok(render(state, Some(staff), page, data))
}

#[derive(serde::Deserialize)]
pub struct ProfileQuery {
    password_changed: Option<String>,
}

pub async fn show(State(state): State<AppState>, staff: Staff, Query(query): Query<ProfileQuery>) -> WebResult {
    profile_page(&state, &staff, Vec::new(), None, query.password_changed.is_some()).await
}

pub async fn create_token(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    let form = staff_form(&staff, &body)?;
    let Ok(name) = BoundedText::parse(form.get("name").unwrap_or_default(), 100, Lines::Single) else {
        return profile_page(
            &state,
            &staff,
            vec![PageError::new("name", "Enter a name for the token, 100 characters or fewer, like \u{201c}Analysis laptop\u{201d}")],
            None,
            false,
        )
        .await;
    };
    let token = state.store().create_api_token(&staff.user.id, name.as_str()).await?;
    profile_page(&state, &staff, Vec::new(), Some(token), false).await
}

pub async fn revoke_token(State(state): State<AppState>, staff: Staff, Path(token_id): Path<String>, body: Bytes) -> WebResult {
    staff_form(&staff, &body)?;
    state.store().revoke_api_token(&staff.user.id, &token_id).await?;
    Ok(see_other("/staff/profile"))
}

/// Signs out one of the user's other sessions (a lost phone): it stops
/// working at once.
pub async fn end_session(State(state): State<AppState>, staff: Staff, Path(session_id): Path<String>, body: Bytes) -> WebResult {
    staff_form(&staff, &body)?;
    state.store().end_sessions(&staff.user.id, Some(&session_id), &staff.audit_actor()).await?;
    Ok(see_other("/staff/profile#sessions-heading"))
}

/// The rule a new password breaks, as the page words it.
fn rule_error(rule: &PasswordRule) -> PageError {
    PageError::new("new_password", format!("New {}", rule.to_string().to_lowercase()))
}

fn password_page(state: &AppState, staff: &Staff, errors: Vec<PageError>) -> Response {
    let mut page = StaffPage::new("staff/password.html", "Choose a new password", "profile");
    page.errors = errors;
    let data = context! { forced => staff.must_change_password, min_chars => MIN_PASSWORD_CHARS, max_chars => MAX_PASSWORD_CHARS };
    // While the change is forced the workspace is closed: the layout shows
    // sign-out but no navigation into it.
    render(state, Some(staff), page, data)
}

pub async fn password_form(State(state): State<AppState>, staff: Staff) -> Response {
    password_page(&state, &staff, Vec::new())
}

/// Replaces the signed-in user's password. Other sessions end; this one
/// stays signed in and the workspace opens.
pub async fn change_password(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> WebResult {
    let form = staff_form(&staff, &body)?;
    let current = form.get("current_password").unwrap_or_default();
    let new = form.get("new_password").unwrap_or_default();
    let confirm = form.get("confirm_password").unwrap_or_default();
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(PageError::new("current_password", "Enter your current password"));
    }
    if new.is_empty() {
        errors.push(PageError::new("new_password", "Enter a new password"));
    } else if let Err(rule) = check_new_password(new) {
        errors.push(rule_error(&rule));
    } else if confirm != new {
        errors.push(PageError::new("confirm_password", "Enter the same new password again"));
    }
    if !errors.is_empty() {
        return Ok(password_page(&state, &staff, errors));
    }
    let session = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let outcome = state.store().change_own_password(&staff.user.id, current, new, &session, &state.settings().sign_in).await?;
    let error = match outcome {
        PasswordChange::Changed => return Ok(see_other("/staff/profile?password_changed=1")),
        PasswordChange::WrongCurrent => PageError::new("current_password", "Your current password is wrong"),
        PasswordChange::Locked { until_ms } => {
            PageError::new("current_password", format!("Too many wrong passwords. This account is locked until {} (UTC).", format_time(until_ms)))
        }
        PasswordChange::SameAsCurrent => PageError::new("new_password", "Choose a password different from your current one"),
        PasswordChange::Rejected(rule) => rule_error(&rule),
    };
    Ok(password_page(&state, &staff, vec![error]))
}
