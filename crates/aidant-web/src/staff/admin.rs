//! Administration of an organisation's users, and the audit views
//! supervisors read: per record and per user.

use aidant_core::organisation::Role;
use aidant_core::policy::{Action, Capability, may};
use aidant_store::audit::AuditEvent;
use aidant_store::organisations::User;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};

use super::{Staff, StaffPage, check_capability, failed, forbidden, format_time, message, render, role_options, staff_form};
use crate::AppState;
use crate::pages::form::FormData;
use crate::pages::{PageError, see_other};

/// A one-time password an administrator passes on: 20 characters from an
/// alphabet without look-alikes (about 100 bits).
pub fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY3479";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn user_row(user: &User, staff: &Staff) -> Value {
    context! {
        id => user.id.clone(),
        email => user.email.clone(),
        name => user.display_name.clone(),
        roles => user.roles.iter().map(|role| role.label()).collect::<Vec<_>>().join(", "),
        disabled => user.disabled,
        is_me => user.id == staff.user.id,
    }
}

async fn users_page(state: &AppState, staff: &Staff, form: &FormData, errors: Vec<PageError>, notice: Option<Value>) -> Response {
    let (users, organisation) = match (state.store().list_users_in(&staff.organisation.id).await, state.store().find_organisation(&staff.organisation.id).await)
    {
        (Ok(users), Ok(Some(organisation))) => (users, organisation),
        (Err(error), _) | (_, Err(error)) => return failed(state, "listing users", &error),
        (_, Ok(None)) => return message(state, staff, StatusCode::NOT_FOUND, "Organisation not found", "Your organisation no longer exists."),
    };
    let data = context! {
        users => users.iter().map(|user| user_row(user, staff)).collect::<Vec<_>>(),
        require_second_factor => organisation.require_second_factor,
        organisation => organisation.name,
        roles => role_options(),
        values => context! { email => form.get("email").unwrap_or_default(), name => form.get("name").unwrap_or_default(), roles => form.all("roles") },
        notice,
    };
    let mut page = StaffPage::new("staff/users.html", "Users", "admin");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

pub async fn users(State(state): State<AppState>, staff: Staff) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::ManageUsers).await {
        return response;
    }
    users_page(&state, &staff, &FormData::default(), Vec::new(), None).await
}

/// An email address in a plausible shape (the address is proven when the
/// person signs in with the password passed to them).
pub fn plausible_email(email: &str) -> bool {
    let email = email.trim();
    email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
}

pub async fn add_user(State(state): State<AppState>, staff: Staff, body: Bytes) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::ManageUsers).await {
        return response;
    }
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let email = form.get("email").unwrap_or_default().trim().to_owned();
    let name = form.get("name").unwrap_or_default().trim().to_owned();
    let roles: Vec<Role> = form.all("roles").iter().filter_map(|role| role.parse().ok()).collect();
    let mut errors = Vec::new();
    if !plausible_email(&email) {
        errors.push(PageError::new("email", "Enter an email address in the correct format, like name@force.police.uk"));
    }
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(PageError::new("name", "Enter the person's name (200 characters or fewer)"));
    }
    if roles.is_empty() || roles.len() != form.all("roles").len() {
        errors.push(PageError::new("roles", "Select at least one role"));
    }
    if errors.is_empty() {
        match state.store().find_user_by_email(&email).await {
            Ok(Some(_)) => errors.push(PageError::new("email", "A user with this email address already exists")),
            Ok(None) => {}
            Err(error) => return failed(&state, "checking an email address", &error),
        }
    }
    if !errors.is_empty() {
        return users_page(&state, &staff, &form, errors, None).await;
    }
    let password = temporary_password();
    let created = match state.store().create_user(&staff.organisation.id, &email, &name, &roles).await {
        Ok(user) => user,
        Err(error) => return failed(&state, "adding a user", &error),
    };
    if let Err(error) = state.store().set_temporary_password(&created.id, &password, &staff.audit_actor()).await {
        return failed(&state, "setting a password", &error);
    }
    let notice = context! { heading => format!("{name} can now sign in"), email => email, password => password };
    users_page(&state, &staff, &FormData::default(), Vec::new(), Some(notice)).await
}

pub async fn user_action(State(state): State<AppState>, staff: Staff, Path((user_id, action)): Path<(String, String)>, body: Bytes) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::ManageUsers).await {
        return response;
    }
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let user = match state.store().find_user(&user_id).await {
        Ok(Some(user)) if user.organisation_id == staff.organisation.id => user,
        Ok(Some(_)) => {
            return forbidden(&state, &staff, "user", &user_id, &aidant_core::policy::Decision::Deny("the user belongs to another organisation")).await;
        }
        Ok(None) => return message(&state, &staff, StatusCode::NOT_FOUND, "User not found", "There is no user at this address."),
        Err(error) => return failed(&state, "finding a user", &error),
    };
    let actor = staff.audit_actor();
    let store = state.store();
    let outcome = match action.as_str() {
        "disable" if user.id == staff.user.id => {
            return users_page(&state, &staff, &form, vec![PageError::new("users", "You cannot disable your own account")], None).await;
        }
        "disable" => store.disable_user(&user.id, &actor).await.map(|_| None),
        "enable" => store.enable_user(&user.id, &actor).await.map(|_| None),
        "reset-second-factor" => store.reset_second_factor(&user.id, &actor).await.map(|()| None),
        "reset-password" => {
            let password = temporary_password();
            store.set_temporary_password(&user.id, &password, &actor).await.map(|()| Some(password))
        }
        _ => return message(&state, &staff, StatusCode::NOT_FOUND, "Not found", "There is no such action."),
    };
    match outcome {
        Ok(Some(password)) => {
            let notice = context! { heading => format!("New password for {}", user.display_name), email => user.email, password => password };
            users_page(&state, &staff, &FormData::default(), Vec::new(), Some(notice)).await
        }
        Ok(None) => see_other("/staff/admin/users"),
        Err(error) => failed(&state, "changing a user", &error),
    }
}

pub async fn require_second_factor(State(state): State<AppState>, staff: Staff, body: Bytes) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::ManageUsers).await {
        return response;
    }
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let required = form.get("required") == Some("yes");
    match state.store().set_require_second_factor(&staff.organisation.id, required, &staff.audit_actor()).await {
        Ok(()) => see_other("/staff/admin/users"),
        Err(error) => failed(&state, "changing the second-factor rule", &error),
    }
}

fn audit_rows(entries: &[aidant_core::audit::StoredAuditEntry], names: &std::collections::HashMap<String, String>) -> Vec<Value> {
    entries
        .iter()
        .map(|entry| {
            context! {
                sequence => entry.entry.sequence,
                when => format_time(entry.entry.occurred_at_ms),
                who => names.get(&entry.entry.actor).cloned().unwrap_or_else(|| entry.entry.actor.clone()),
                who_id => entry.entry.actor.strip_prefix("user:").map(str::to_owned),
                action => entry.entry.action.clone(),
                record => format!("{} {}", entry.entry.record_kind, entry.entry.record_id),
                reason => entry.entry.reason.clone(),
            }
        })
        .collect()
}

async fn names(state: &AppState) -> Result<std::collections::HashMap<String, String>, aidant_store::StoreError> {
    Ok(state.store().list_users().await?.into_iter().map(|user| (format!("user:{}", user.id), user.display_name)).collect())
}

/// A record's whole audit trail, views included (supervisors).
pub async fn record_audit(State(state): State<AppState>, staff: Staff, Path((kind, id)): Path<(String, String)>) -> Response {
    let access = match kind.as_str() {
        "report" => match state.store().triage_state(&id).await {
            Ok(Some(triage)) => triage.access(),
            Ok(None) => return message(&state, &staff, StatusCode::NOT_FOUND, "Not found", "There is no record at this address."),
            Err(error) => return failed(&state, "loading a report", &error),
        },
        "intelligence" => match state.store().find_intelligence(&id).await {
            Ok(Some(record)) => record.access(),
            Ok(None) => return message(&state, &staff, StatusCode::NOT_FOUND, "Not found", "There is no record at this address."),
            Err(error) => return failed(&state, "loading intelligence", &error),
        },
        _ => return message(&state, &staff, StatusCode::NOT_FOUND, "Not found", "There is no record at this address."),
    };
    let decision = may(&staff.actor, Action::ViewAudit, &access, aidant_store::now_ms());
    if !decision.is_allowed() {
        return forbidden(&state, &staff, &kind, &id, &decision).await;
    }
    let actor = staff.audit_actor();
    if let Err(error) = state.store().audit(&AuditEvent { actor: &actor, action: "audit.view", record_kind: &kind, record_id: &id, reason: None }).await {
        return failed(&state, "auditing an audit view", &error);
    }
    let (entries, names) = match (state.store().audit_history(&kind, &id).await, names(&state).await) {
        (Ok(entries), Ok(names)) => (entries, names),
        (Err(error), _) | (_, Err(error)) => return failed(&state, "reading the audit log", &error),
    };
    let back = if kind == "report" { format!("/staff/reports/{id}") } else { format!("/staff/intelligence/{id}") };
    let data = context! { heading => format!("Audit trail of this {kind}"), rows => audit_rows(&entries, &names), back => back };
    render(&state, Some(&staff), StaffPage::new("staff/audit.html", "Audit trail", ""), data)
}

/// What one user did (supervisors, users of their own organisation).
pub async fn user_audit(State(state): State<AppState>, staff: Staff, Path(user_id): Path<String>) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::ViewUserAudit).await {
        return response;
    }
    let user = match state.store().find_user(&user_id).await {
        Ok(Some(user)) if user.organisation_id == staff.organisation.id => user,
        Ok(Some(_)) => {
            return forbidden(&state, &staff, "user", &user_id, &aidant_core::policy::Decision::Deny("the user belongs to another organisation")).await;
        }
        Ok(None) => return message(&state, &staff, StatusCode::NOT_FOUND, "User not found", "There is no user at this address."),
        Err(error) => return failed(&state, "finding a user", &error),
    };
    let actor = staff.audit_actor();
    if let Err(error) = state.store().audit(&AuditEvent { actor: &actor, action: "audit.view", record_kind: "user", record_id: &user.id, reason: None }).await {
        return failed(&state, "auditing an audit view", &error);
    }
    let (entries, names) = match (state.store().audit_by_actor(&format!("user:{}", user.id), 500).await, names(&state).await) {
        (Ok(entries), Ok(names)) => (entries, names),
        (Err(error), _) | (_, Err(error)) => return failed(&state, "reading the audit log", &error),
    };
    let data = context! { heading => format!("What {} did", user.display_name), rows => audit_rows(&entries, &names), back => "/staff" };
    render(&state, Some(&staff), StaffPage::new("staff/audit.html", "Audit trail", ""), data)
}
