//! A user's own profile: who they are, their second factor, and personal
//! API tokens (shown once, stored hashed, revocable).

use aidant_core::text::{BoundedText, Lines};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::{Value, context};

use super::{Staff, StaffPage, failed, format_time, render, staff_form};
use crate::AppState;
use crate::pages::{PageError, see_other};

async fn profile_page(state: &AppState, staff: &Staff, errors: Vec<PageError>, new_token: Option<String>) -> Response {
    let tokens = match state.store().list_api_tokens(&staff.user.id).await {
        Ok(tokens) => tokens,
        Err(error) => return failed(state, "listing tokens", &error),
    };
    let has_second_factor = match state.store().find_session_user_factor(&staff.user.id).await {
        Ok(has) => has,
        Err(error) => return failed(state, "reading the second factor", &error),
    };
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|token| {
            context! {
                id => token.id.clone(),
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
        new_token,
    };
    let mut page = StaffPage::new("staff/profile.html", "Your profile", "profile");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    profile_page(&state, &staff, Vec::new(), None).await
}

pub async fn create_token(State(state): State<AppState>, staff: Staff, body: Bytes) -> Response {
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Ok(name) = BoundedText::parse(form.get("name").unwrap_or_default(), 100, Lines::Single) else {
        return profile_page(
            &state,
            &staff,
            vec![PageError::new("name", "Enter a name for the token, 100 characters or fewer, like \u{201c}Analysis laptop\u{201d}")],
            None,
        )
        .await;
    };
    match state.store().create_api_token(&staff.user.id, name.as_str()).await {
        Ok(token) => profile_page(&state, &staff, Vec::new(), Some(token)).await,
        Err(error) => failed(&state, "creating a token", &error),
    }
}

pub async fn revoke_token(State(state): State<AppState>, staff: Staff, Path(token_id): Path<String>, body: Bytes) -> Response {
    if let Err(response) = staff_form(&state, &staff, &body) {
        return response;
    }
    match state.store().revoke_api_token(&staff.user.id, &token_id).await {
        Ok(_) => see_other("/staff/profile"),
        Err(error) => failed(&state, "revoking a token", &error),
    }
}
