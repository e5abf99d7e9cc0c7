//! Administration of an organisation's users, and the audit views
//! supervisors read: per record and per user.

use aidant_core::audit::AuditRecordKind;
use aidant_core::ids::UserId;
use aidant_store::cases::admin::{AuditTrail, NewUserAnswers, UserChange};
use aidant_store::cases::{self, CaseError};
use aidant_store::organisations::User;
use axum::body::Bytes;
use axum::extract::{Path, State};
use minijinja::{Value, context};

use super::{Staff, StaffPage, format_time, page_errors, render, role_options, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};

pub use aidant_store::cases::admin::plausible_email;
pub use aidant_store::identity::temporary_password;

fn user_row(user: &User, staff: &Staff) -> Value {
    context! {
        id => user.id.to_string(),
        email => user.email.clone(),
        name => user.display_name.clone(),
        roles => user.roles.iter().map(|role| role.label()).collect::<Vec<_>>().join(", "),
        disabled => user.disabled,
        is_me => user.id == staff.user.id,
    }
}

async fn users_page(state: &AppState, staff: &Staff, form: &FormData, errors: Vec<PageError>, notice: Option<Value>) -> WebResult {
    let (organisation, users) = cases::admin::organisation_users(state.store(), &staff.caller).await?;
    let entity_queue = cases::admin::entity_queue(state.store(), &staff.caller).await?.map(|(counts, parked)| {
        context! {
            waiting => counts.waiting,
            parked_count => counts.parked,
            parked => parked.iter().map(|job| context! {
                record => format!("{} {}", job.record_kind.replace('_', " "), job.record_id),
                attempts => job.attempts,
                error => job.last_error.clone().unwrap_or_default(),
                queued => super::format_time(job.queued_at_ms),
            }).collect::<Vec<_>>(),
        }
    });
    let data = context! {
        entity_queue,
        users => users.iter().map(|user| user_row(user, staff)).collect::<Vec<_>>(),
        require_second_factor => organisation.require_second_factor,
        organisation => organisation.name,
        roles => role_options(),
        values => context! { email => form.get("email").unwrap_or_default(), name => form.get("name").unwrap_or_default(), roles => form.all("roles") },
        notice,
    };
    let mut page = StaffPage::new("staff/users.html", "Users", "admin");
    page.errors = errors;
    Ok(render(state, Some(staff), page, data))
}

pub async fn users(State(state): State<AppState>, staff: Staff) -> WebResult {
    users_page(&state, &staff, &FormData::default(), Vec::new(), None).await
}

pub async fn add_user(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::ManageUsers).await?;
    let form = staff_form(&staff, &body)?;
    let roles = form.all("roles");
    let answers = NewUserAnswers {
        email: form.get("email").unwrap_or_default(),
        name: form.get("name").unwrap_or_default(),
        roles: roles.iter().map(String::as_str).collect(),
    };
    match cases::admin::add_user(state.store(), &staff.caller, &answers).await {
        Ok(added) => {
            let notice = context! { heading => format!("{} can now sign in", added.user.display_name), email => added.user.email, password => added.password };
            users_page(&state, &staff, &FormData::default(), Vec::new(), Some(notice)).await
        }
        Err(CaseError::Invalid(errors)) => users_page(&state, &staff, &form, page_errors(errors), None).await,
        Err(error) => Err(error.into()),
    }
}

fn user_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as("User not found", "There is no user at this address.")
}

pub async fn user_action(State(state): State<AppState>, staff: Staff, Path((user_id, action)): Path<(String, String)>, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::ManageUsers).await?;
    let form = staff_form(&staff, &body)?;
    let Some(change) = UserChange::parse(&action) else { return Err(WebError::NotFound { title: "Not found", text: "There is no such action." }) };
    let user_id: UserId = path_id(&user_id).map_err(user_not_found)?;
    match cases::admin::change_user(state.store(), &staff.caller, &user_id, change).await {
        Ok(Some(reset)) => {
            let notice = context! { heading => format!("New password for {}", reset.user.display_name), email => reset.user.email, password => reset.password };
            users_page(&state, &staff, &FormData::default(), Vec::new(), Some(notice)).await
        }
        Ok(None) => Ok(see_other("/staff/admin/users")),
        Err(CaseError::Invalid(errors)) => users_page(&state, &staff, &form, page_errors(errors), None).await,
        Err(error) => Err(user_not_found(error)),
    }
}

pub async fn require_second_factor(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::ManageUsers).await?;
    let form = staff_form(&staff, &body)?;
    cases::admin::require_second_factor(state.store(), &staff.caller, form.get("required") == Some("yes")).await?;
    Ok(see_other("/staff/admin/users"))
}

fn audit_rows(trail: &AuditTrail) -> Vec<Value> {
    trail
        .entries
        .iter()
        .map(|entry| {
            context! {
                sequence => entry.entry.sequence,
                when => format_time(entry.entry.occurred_at_ms),
                who => trail.names.get(&entry.entry.actor).cloned().unwrap_or_else(|| entry.entry.actor.clone()),
                who_id => aidant_core::audit::AuditActor::parse(&entry.entry.actor).and_then(|actor| actor.user_id().map(str::to_owned)),
                // What happened in words, with the stored name that
                // `aidant audit verify` and exports use.
                action => aidant_core::audit::parse_action(&entry.entry.action)
                    .map_or_else(|_| entry.entry.action.clone(), |action| format!("{} ({})", action.label(), entry.entry.action)),
                record => format!("{} {}", entry.entry.record_kind, entry.entry.record_id),
                reason => entry.entry.reason.clone(),
            }
        })
        .collect()
}

/// A record's whole audit trail, views included (supervisors).
pub async fn record_audit(State(state): State<AppState>, staff: Staff, Path((kind, id)): Path<(String, String)>) -> WebResult {
    let kind = match kind.parse::<AuditRecordKind>() {
        Ok(kind @ (AuditRecordKind::Report | AuditRecordKind::Intelligence)) => kind,
        Ok(AuditRecordKind::Victim) => {
            let victim_id: aidant_core::ids::VictimId = path_id(&id)?;
            let trail = cases::victims::case_audit(state.store(), &staff.caller, &victim_id).await?;
            let data =
                context! { heading => "Audit trail of this potential victim's case", rows => audit_rows(&trail), back => format!("/staff/victims/{id}") };
            return Ok(render(&state, Some(&staff), StaffPage::new("staff/audit.html", "Audit trail", ""), data));
        }
        _ => return Err(WebError::not_found()),
    };
    let trail = cases::admin::record_audit(state.store(), &staff.caller, kind, &id).await?;
    let back = if kind == AuditRecordKind::Report { format!("/staff/reports/{id}") } else { format!("/staff/intelligence/{id}") };
    let data = context! { heading => format!("Audit trail of this {}", kind.as_str()), rows => audit_rows(&trail), back => back };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/audit.html", "Audit trail", ""), data))
}

/// What one user did (supervisors, users of their own organisation).
pub async fn user_audit(State(state): State<AppState>, staff: Staff, Path(user_id): Path<String>) -> WebResult {
    let user_id: UserId = path_id(&user_id).map_err(user_not_found)?;
    let (user, trail) = cases::admin::user_audit(state.store(), &staff.caller, &user_id).await.map_err(user_not_found)?;
    let data = context! { heading => format!("What {} did", user.display_name), rows => audit_rows(&trail), back => "/staff" };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/audit.html", "Audit trail", ""), data))
}

/// Queues again the records the entity worker could not read.
pub async fn retry_entity_jobs(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    staff_form(&staff, &body)?;
    cases::admin::retry_parked_entity_jobs(state.store(), &staff.caller).await?;
    Ok(crate::html::see_other("/staff/admin/users#entity-queue"))
}
