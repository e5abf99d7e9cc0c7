//! The triage queue and a report's page: answers, triage reasons, history,
//! messages with the anonymous reporter, and the triage actions.

use aidant_core::organisation::{ReportStatus, Role};
use aidant_core::policy::{Action, Capability, may};
use aidant_core::report::AGE_GROUPS;
use aidant_core::text::{BoundedText, Lines, TextError};
use aidant_store::public_site::Author;
use aidant_store::triage::{AssigneeFilter, QueueFilter, StatusFilter, TriageState};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;

use super::{PAGE_SIZE, Staff, StaffPage, check_capability, failed, forbidden, format_time, message, render, staff_form};
use crate::AppState;
use crate::pages::{PageError, see_other};

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub risk: Option<String>,
    pub sector: Option<String>,
    pub area: Option<String>,
    pub status: Option<String>,
    pub assignee: Option<String>,
    pub page: Option<i64>,
}

fn blank_to_none(value: &Option<String>) -> Option<String> {
    value.as_ref().map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// The queue's filters from the query string; unknown values are ignored
/// with a message rather than failing the page.
pub fn queue_filter(query: &QueueQuery, staff: &Staff) -> (QueueFilter, Vec<PageError>) {
    let mut errors = Vec::new();
    let risk = blank_to_none(&query.risk).filter(|risk| {
        let known = aidant_core::RiskLevel::ALL.iter().any(|level| level.as_str() == risk);
        if !known {
            errors.push(PageError::new("risk", "Select a risk level from the list"));
        }
        known
    });
    let status = match blank_to_none(&query.status).as_deref() {
        None | Some("open") => None,
        Some("all") => Some(StatusFilter::All),
        Some(other) => match other.parse::<ReportStatus>() {
            Ok(status) => Some(StatusFilter::Only(status)),
            Err(_) => {
                errors.push(PageError::new("status", "Select a status from the list"));
                None
            }
        },
    };
    let assignee = match blank_to_none(&query.assignee).as_deref() {
        None => None,
        Some("unassigned") => Some(AssigneeFilter::Unassigned),
        Some("me") => Some(AssigneeFilter::User(staff.user.id.clone())),
        Some(user_id) => Some(AssigneeFilter::User(user_id.to_owned())),
    };
    (QueueFilter { risk, sector: blank_to_none(&query.sector), area: blank_to_none(&query.area), status, assignee }, errors)
}

pub async fn show_queue(State(state): State<AppState>, staff: Staff, Query(query): Query<QueueQuery>) -> Response {
    if !staff.can(Capability::UseQueue) {
        // Partners and administrators land on what they can use.
        if staff.can(Capability::Search) {
            return see_other("/staff/intelligence");
        }
        if staff.can(Capability::ManageUsers) {
            return see_other("/staff/admin/users");
        }
    }
    if let Err(response) = check_capability(&state, &staff, Capability::UseQueue).await {
        return response;
    }
    let (filter, errors) = queue_filter(&query, &staff);
    let page_number = query.page.unwrap_or(1).max(1);
    let page = match state.store().triage_queue(&staff.organisation.id, &filter, (page_number - 1) * PAGE_SIZE, PAGE_SIZE).await {
        Ok(page) => page,
        Err(error) => return failed(&state, "loading the queue", &error),
    };
    let users = match state.store().list_users_in(&staff.organisation.id).await {
        Ok(users) => users,
        Err(error) => return failed(&state, "listing users", &error),
    };
    let catalogue = state.catalogue();
    let sector_name = |id: &str| catalogue.sector(id).map_or_else(|| id.to_owned(), |sector| sector.name.clone());
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|row| {
            context! {
                id => row.id.clone(),
                reference => aidant_core::ReportRef::parse(&row.reference).map(|reference| reference.to_string()).unwrap_or_else(|_| row.reference.clone()),
                received => format_time(row.received_at_ms),
                risk => row.risk_level.clone(),
                sector => sector_name(&row.sector),
                place => [row.town.clone(), row.postcode.clone()].into_iter().flatten().collect::<Vec<_>>().join(", "),
                status => row.status.parse::<ReportStatus>().map(|status| status.label()).unwrap_or("Unknown"),
                assignee => row.assignee_name.clone(),
                opened => row.opened,
            }
        })
        .collect();
    let pages = (page.total + PAGE_SIZE - 1) / PAGE_SIZE;
    let query_without_page = serde_urlencoded_query(&query);
    let data = context! {
        rows,
        total => page.total,
        total_is_capped => page.total_is_capped,
        immediate_unopened => page.immediate_unopened,
        page_number,
        pages,
        previous_href => (page_number > 1).then(|| format!("/staff?{query_without_page}page={}", page_number - 1)),
        next_href => (page_number < pages).then(|| format!("/staff?{query_without_page}page={}", page_number + 1)),
        filters => context! {
            risk => query.risk.clone().unwrap_or_default(),
            sector => query.sector.clone().unwrap_or_default(),
            area => query.area.clone().unwrap_or_default(),
            status => query.status.clone().unwrap_or_default(),
            assignee => query.assignee.clone().unwrap_or_default(),
        },
        risks => aidant_core::RiskLevel::ALL.iter().map(|level| context! { value => level.as_str(), label => capitalise(level.as_str()) }).collect::<Vec<_>>(),
        sectors => catalogue.sectors.iter().map(|sector| context! { value => sector.id.clone(), label => sector.name.clone() }).collect::<Vec<_>>(),
        statuses => ReportStatus::ALL.iter().map(|status| context! { value => status.as_str(), label => status.label() }).collect::<Vec<_>>(),
        users => users.iter().filter(|user| !user.disabled).map(|user| context! { value => user.id.clone(), label => user.display_name.clone() }).collect::<Vec<_>>(),
    };
    let mut page = StaffPage::new("staff/queue.html", "Triage queue", "queue");
    page.errors = errors;
    page.status = StatusCode::OK;
    let mut response = render(&state, Some(&staff), page, data);
    if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
        *response.status_mut() = StatusCode::OK;
    }
    response
}

fn capitalise(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

/// The query string of the filters, ending in `&`, for pagination links.
fn serde_urlencoded_query(query: &QueueQuery) -> String {
    let mut parts = String::new();
    for (name, value) in [("risk", &query.risk), ("sector", &query.sector), ("area", &query.area), ("status", &query.status), ("assignee", &query.assignee)] {
        if let Some(value) = value.as_ref().filter(|value| !value.is_empty()) {
            parts.push_str(name);
            parts.push('=');
            parts.push_str(&percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string());
            parts.push('&');
        }
    }
    parts
}

/// Loads a report's triage state and applies the policy for `action`.
async fn authorise(state: &AppState, staff: &Staff, report_id: &str, action: Action) -> Result<TriageState, Response> {
    let triage = match state.store().triage_state(report_id).await {
        Ok(Some(triage)) => triage,
        Ok(None) => return Err(message(state, staff, StatusCode::NOT_FOUND, "Report not found", "There is no report at this address.")),
        Err(error) => return Err(failed(state, "loading a report", &error)),
    };
    let decision = may(&staff.actor, action, &triage.access(), aidant_store::now_ms());
    if !decision.is_allowed() {
        return Err(forbidden(state, staff, "report", report_id, &decision).await);
    }
    Ok(triage)
}

pub async fn show_report(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>) -> Response {
    let triage = match authorise(&state, &staff, &report_id, Action::ViewReport).await {
        Ok(triage) => triage,
        Err(response) => return response,
    };
    render_report(&state, &staff, &report_id, triage, Vec::new(), "").await
}

async fn render_report(state: &AppState, staff: &Staff, report_id: &str, triage: TriageState, errors: Vec<PageError>, reply: &str) -> Response {
    let store = state.store();
    if let Err(error) = store.record_report_view(report_id, &staff.audit_actor()).await {
        return failed(state, "auditing a report view", &error);
    }
    let (report, messages, history, developed, users) = match (
        store.find_report_by_id(report_id).await,
        store.report_messages(report_id).await,
        store.audit_history("report", report_id).await,
        store.intelligence_for_report(report_id).await,
        store.list_users_in(&staff.organisation.id).await,
    ) {
        (Ok(Some(report)), Ok(messages), Ok(history), Ok(developed), Ok(users)) => (report, messages, history, developed, users),
        (Ok(None), ..) => return message(state, staff, StatusCode::NOT_FOUND, "Report not found", "There is no report at this address."),
        (Err(error), ..) | (_, Err(error), ..) | (_, _, Err(error), ..) | (.., Err(error), _) | (.., Err(error)) => {
            return failed(state, "loading a report", &error);
        }
    };
    let catalogue = state.catalogue();
    let access = triage.access();
    let now = aidant_store::now_ms();
    let allowed = |action: Action| may(&staff.actor, action, &access, now).is_allowed();
    let signs: Vec<Value> = report
        .signs
        .iter()
        .map(|id| match catalogue.indicator(id) {
            Some(indicator) => context! { text => indicator.staff.clone(), ilo => indicator.ilo.iter().filter_map(|ilo| catalogue.ilo_indicator(ilo)).map(|ilo| ilo.name.clone()).collect::<Vec<_>>() },
            None => context! { text => id.clone(), ilo => Vec::<String>::new() },
        })
        .collect();
    let names: std::collections::HashMap<String, String> = users.iter().map(|user| (format!("user:{}", user.id), user.display_name.clone())).collect();
    let history: Vec<Value> = history
        .iter()
        .filter(|entry| entry.entry.action != "report.view" && entry.entry.action != "report.reporter_view")
        .map(|entry| {
            context! {
                when => format_time(entry.entry.occurred_at_ms),
                who => names.get(&entry.entry.actor).cloned().unwrap_or_else(|| if entry.entry.actor == "public" { "Reporter".to_owned() } else { "Another user".to_owned() }),
                what => describe_action(&entry.entry.action, entry.entry.reason.as_deref(), &users),
            }
        })
        .collect();
    let messages: Vec<Value> = messages
        .iter()
        .map(|message| context! { from_staff => message.author == Author::Staff, body => message.body.clone(), when => format_time(message.created_at_ms) })
        .collect();
    let assignable: Vec<Value> = users
        .iter()
        .filter(|user| {
            !user.disabled
                && user.roles.iter().any(|role| matches!(role, Role::CallHandler | Role::Supervisor | Role::Analyst | Role::Officer | Role::SafeguardingLead))
        })
        .map(|user| context! { value => user.id.clone(), label => user.display_name.clone() })
        .collect();
    let data = context! {
        id => report.id.clone(),
        reference => report.reference.to_string(),
        received => format_time(report.received_at_ms),
        risk => report.risk_level.clone(),
        score => report.triage_score,
        reasons => report.triage_reasons.clone(),
        status => triage.status.clone(),
        status_label => triage.status.parse::<ReportStatus>().map(|status| status.label()).unwrap_or("Unknown"),
        assignee_id => triage.assignee_user_id.clone().unwrap_or_default(),
        assignee => triage.assignee_name.clone(),
        sector => catalogue.sector(&report.sector).map_or_else(|| report.sector.clone(), |sector| sector.name.clone()),
        postcode => report.postcode.clone(),
        town => report.town.clone(),
        location => report.location_description.clone(),
        business => report.business_name.clone(),
        signs,
        people_count => report.people_count,
        age_groups => report.age_groups.iter().map(|group| AGE_GROUPS.iter().find(|(id, _)| id == group).map_or_else(|| group.clone(), |(_, label)| (*label).to_owned())).collect::<Vec<_>>(),
        people_description => report.people_description.clone(),
        vehicles => report.vehicles.iter().map(|(registration, description)| context! { registration => registration.clone(), description => description.clone() }).collect::<Vec<_>>(),
        narrative => report.narrative.clone(),
        when_seen => report.when_seen.clone(),
        immediate_danger => report.immediate_danger,
        child_reported => report.child_reported,
        has_contact => report.has_contact,
        messages,
        history,
        developed => developed.iter().map(|(id, reference)| context! { id => id.clone(), reference => reference.clone() }).collect::<Vec<_>>(),
        assignable,
        statuses => ReportStatus::ALL.iter().map(|status| context! { value => status.as_str(), label => status.label() }).collect::<Vec<_>>(),
        can_triage => allowed(Action::TriageReport),
        can_reply => allowed(Action::ReplyToReporter),
        can_reveal => allowed(Action::RevealContact),
        can_audit => allowed(Action::ViewAudit),
        can_develop => staff.can(Capability::CreateIntelligence),
        reply => reply,
    };
    let mut page = StaffPage::new("staff/report.html", format!("Report {}", report.reference), "queue");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

/// A history line a person can read.
fn describe_action(action: &str, reason: Option<&str>, users: &[aidant_store::organisations::User]) -> String {
    match action {
        "report.create" => "Report received".to_owned(),
        "report.assign" => match reason.and_then(|reason| reason.strip_prefix("assigned to user:")) {
            Some(user_id) => format!("Assigned to {}", users.iter().find(|user| user.id == user_id).map_or("another user", |user| user.display_name.as_str())),
            None => "Unassigned".to_owned(),
        },
        "report.status" => match reason {
            Some(reason) if reason.starts_with("developed into ") => format!("Developed into intelligence {}", reason.trim_start_matches("developed into ")),
            Some(reason) => format!(
                "Status set to {}",
                reason.trim_start_matches("status ").parse::<ReportStatus>().map(|status| status.label().to_lowercase()).unwrap_or_default()
            ),
            None => "Status changed".to_owned(),
        },
        "report.staff_reply" => "Replied to the reporter".to_owned(),
        "report.reporter_message" => "The reporter added information".to_owned(),
        "report.contact.reveal" => "Contact details opened".to_owned(),
        "access.denied" => "Access refused".to_owned(),
        other => other.replace(['.', '_'], " "),
    }
}

pub async fn assign(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> Response {
    if let Err(response) = authorise(&state, &staff, &report_id, Action::TriageReport).await {
        return response;
    }
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let assignee = form.text("assignee");
    if let Some(user_id) = &assignee {
        match state.store().find_user(user_id).await {
            Ok(Some(user)) if user.organisation_id == staff.organisation.id && !user.disabled => {}
            Ok(_) => {
                let triage = authorise(&state, &staff, &report_id, Action::ViewReport).await;
                return match triage {
                    Ok(triage) => {
                        render_report(&state, &staff, &report_id, triage, vec![PageError::new("assignee", "Select someone from your organisation")], "").await
                    }
                    Err(response) => response,
                };
            }
            Err(error) => return failed(&state, "finding a user", &error),
        }
    }
    match state.store().assign_report(&report_id, assignee.as_deref(), &staff.audit_actor()).await {
        Ok(()) => see_other(&format!("/staff/reports/{report_id}")),
        Err(error) => failed(&state, "assigning a report", &error),
    }
}

pub async fn set_status(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> Response {
    let triage = match authorise(&state, &staff, &report_id, Action::TriageReport).await {
        Ok(triage) => triage,
        Err(response) => return response,
    };
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some(status) = form.get("status").and_then(|status| status.parse::<ReportStatus>().ok()) else {
        return render_report(&state, &staff, &report_id, triage, vec![PageError::new("status", "Select a status")], "").await;
    };
    match state.store().set_report_status(&report_id, status, &staff.audit_actor()).await {
        Ok(()) => see_other(&format!("/staff/reports/{report_id}")),
        Err(error) => failed(&state, "setting a status", &error),
    }
}

pub async fn reply(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> Response {
    let triage = match authorise(&state, &staff, &report_id, Action::ReplyToReporter).await {
        Ok(triage) => triage,
        Err(response) => return response,
    };
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let raw = form.get("reply").unwrap_or_default();
    let message = match BoundedText::parse(raw, aidant_core::report::limits::NARRATIVE, Lines::Multiple) {
        Ok(message) => message,
        Err(error) => {
            let text = match error {
                TextError::Empty => "Enter a reply".to_owned(),
                TextError::TooLong { max, .. } => format!("A reply must be {max} characters or fewer"),
                TextError::ControlCharacter => "The reply contains a character that cannot be stored".to_owned(),
            };
            return render_report(&state, &staff, &report_id, triage, vec![PageError::new("reply", text)], raw).await;
        }
    };
    match state.store().add_report_message(&report_id, Author::Staff, Some(&staff.user.id), message.as_str()).await {
        Ok(()) => see_other(&format!("/staff/reports/{report_id}#messages")),
        Err(error) => failed(&state, "saving a reply", &error),
    }
}

pub async fn reveal_contact(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> Response {
    let triage = match authorise(&state, &staff, &report_id, Action::RevealContact).await {
        Ok(triage) => triage,
        Err(response) => return response,
    };
    let form = match staff_form(&state, &staff, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Ok(reason) = BoundedText::parse(form.get("reason").unwrap_or_default(), 500, Lines::Single) else {
        return render_report(&state, &staff, &report_id, triage, vec![PageError::new("reason", "Enter why you need the reporter's contact details")], "")
            .await;
    };
    match state.store().reveal_contact(&report_id, &staff.audit_actor(), reason.as_str()).await {
        Ok(contact) => {
            let page = StaffPage::new("staff/contact.html", "Reporter's contact details", "queue");
            let data = context! {
                id => report_id.clone(),
                contact => contact.map(|contact| context! { name => contact.name, phone => contact.phone, email => contact.email }),
            };
            render(&state, Some(&staff), page, data)
        }
        Err(error) => failed(&state, "opening contact details", &error),
    }
}
