//! The triage queue and a report's page: answers, triage reasons, history,
//! messages with the anonymous reporter, and the triage actions.

use aidant_core::audit::AuditActor;
use aidant_core::ids::{ReportId, UserId};
use aidant_core::intelligence::limits::REASON;
use aidant_core::organisation::{ReportStatus, Role};
use aidant_core::policy::{Action, Capability};
use aidant_core::report::AGE_GROUPS;
use aidant_core::text::{BoundedText, Lines, TextError};
use aidant_store::cases::{self, CaseError, reports::ReportView};
use aidant_store::public_site::Author;
use aidant_store::triage::{AssigneeFilter, QueueCursor, QueueFilter, QueueOrder, QueuePosition, StatusFilter};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;

use super::entities::{linked_field, linked_text};
use super::{PAGE_SIZE, Staff, StaffPage, format_count, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};
use aidant_core::intelligence::{PersonAnswer, PersonNamed, PersonRole, person_field};

/// The queue's query string. Every value is text, so a wrong one is a
/// message on the page (or a problem document from the API), never the
/// framework's own refusal.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub risk: Option<String>,
    pub sector: Option<String>,
    pub area: Option<String>,
    pub status: Option<String>,
    pub assignee: Option<String>,
    /// `urgent` (the default), `oldest` or `newest`.
    pub order: Option<String>,
    /// Received on or after this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Received on or before this day (`YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    /// `yes`: only reports with a reporter's message nobody has read.
    pub unread: Option<String>,
    /// The page after this place (a token from a page link).
    pub after: Option<String>,
    /// The page before this place.
    pub before: Option<String>,
}

/// What the query string asks of the queue.
#[derive(Debug, Clone, Default)]
pub struct QueueSelection {
    pub filter: QueueFilter,
    pub order: QueueOrder,
    pub position: QueuePosition,
}

fn blank_to_none(value: &Option<String>) -> Option<String> {
    value.as_ref().map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

const MS_PER_DAY: i64 = 86_400_000;

/// The first millisecond of a `YYYY-MM-DD` day (UTC, as times are shown).
fn day_start_ms(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Said when the to date is before the from date.
pub(crate) const RANGE_BACKWARDS: &str = "The to date must be the same as or after the from date";

/// The queue's filters, order and page from the query string; a value
/// that cannot be used is left out with a message rather than failing the page.
pub fn queue_filter(query: &QueueQuery, staff: &Staff) -> (QueueSelection, Vec<PageError>) {
    let mut errors = Vec::new();
    let risk = match blank_to_none(&query.risk).map(|risk| risk.parse::<aidant_core::RiskLevel>()) {
        None => None,
        Some(Ok(level)) => Some(level),
        Some(Err(_)) => {
            errors.push(PageError::new("risk", "Select a risk level from the list"));
            None
        }
    };
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
        Some(user_id) => match user_id.parse::<UserId>() {
            Ok(user_id) => Some(AssigneeFilter::User(user_id)),
            Err(_) => {
                errors.push(PageError::new("assignee", "Select someone from the list"));
                None
            }
        },
    };
    let order = match blank_to_none(&query.order) {
        None => QueueOrder::default(),
        Some(order) => order.parse().unwrap_or_else(|()| {
            errors.push(PageError::new("order", "Select an order from the list"));
            QueueOrder::default()
        }),
    };
    let mut day = |field: &str, value: &Option<String>, label: &str| match blank_to_none(value) {
        None => None,
        Some(text) => day_start_ms(&text).or_else(|| {
            errors.push(PageError::new(field, format!("Enter the {label} date as a real date, like 2026-11-30")));
            None
        }),
    };
    let received_from_ms = day("from", &query.from, "from");
    let received_before_ms = day("to", &query.to, "to").map(|start| start + MS_PER_DAY);
    if let (Some(from), Some(before)) = (received_from_ms, received_before_ms)
        && before <= from
    {
        errors.push(PageError::new("to", RANGE_BACKWARDS));
    }
    let unread_only = match blank_to_none(&query.unread).as_deref() {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => {
            errors.push(PageError::new("unread", "Choose whether to show only reports with unread messages"));
            false
        }
    };
    let position = match (blank_to_none(&query.after), blank_to_none(&query.before)) {
        (None, None) => QueuePosition::First,
        (Some(token), None) => QueueCursor::parse(&token).map(QueuePosition::After).unwrap_or_else(|| {
            errors.push(PageError::new("after", "That page link is not valid; this is the first page"));
            QueuePosition::First
        }),
        (None, Some(token)) => QueueCursor::parse(&token).map(QueuePosition::Before).unwrap_or_else(|| {
            errors.push(PageError::new("before", "That page link is not valid; this is the first page"));
            QueuePosition::First
        }),
        (Some(_), Some(_)) => {
            errors.push(PageError::new("after", "A page link gives either after or before, not both; this is the first page"));
            QueuePosition::First
        }
    };
    let filter = QueueFilter {
        risk,
        sector: blank_to_none(&query.sector),
        area: blank_to_none(&query.area),
        status,
        assignee,
        received_from_ms,
        received_before_ms,
        unread_only,
    };
    (QueueSelection { filter, order, position }, errors)
}

pub async fn show_queue(State(state): State<AppState>, staff: Staff, Query(query): Query<QueueQuery>) -> WebResult {
    if !staff.can(Capability::UseQueue) {
        // Partners and administrators land on what they can use.
        if staff.can(Capability::Search) {
            return Ok(see_other("/staff/intelligence"));
        }
        if staff.can(Capability::ManageUsers) {
            return Ok(see_other("/staff/admin/users"));
        }
    }
    let (selection, errors) = queue_filter(&query, &staff);
    let page = cases::reports::triage_queue(state.store(), &staff.caller, &selection.filter, selection.order, &selection.position, PAGE_SIZE).await?;
    let users = cases::reports::colleagues(state.store(), &staff.caller).await?;
    let catalogue = state.catalogue();
    let sector_name = |id: &str| catalogue.sector(id).map_or_else(|| id.to_owned(), |sector| sector.name.clone());
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|row| {
            context! {
                id => row.id.to_string(),
                reference => display_reference(&row.reference),
                received => format_time(row.received_at_ms),
                risk => row.risk_level.as_str(),
                sector => sector_name(&row.sector),
                place => [row.town.clone(), row.postcode.clone()].into_iter().flatten().collect::<Vec<_>>().join(", "),
                status => row.status.label(),
                assignee => row.assignee_name.clone(),
                opened => row.opened,
                unread => row.unread_messages,
            }
        })
        .collect();
    let query_without_page = filters_query(&query);
    let data = context! {
        rows,
        total => page.total,
        total_text => format_count(page.total),
        total_is_capped => page.total_is_capped,
        immediate_unopened => page.immediate_unopened,
        immediate_unopened_is_capped => page.immediate_unopened_is_capped,
        immediate_text => format_count(page.immediate_unopened),
        unread => page.unread,
        unread_mine => page.unread_mine,
        order_label => selection.order.label(),
        first_page => !matches!(selection.position, QueuePosition::First),
        first_href => format!("/staff?{query_without_page}"),
        previous_href => page.previous.as_ref().map(|cursor| format!("/staff?{query_without_page}before={}", cursor.token())),
        next_href => page.next.as_ref().map(|cursor| format!("/staff?{query_without_page}after={}", cursor.token())),
        filters => context! {
            risk => query.risk.clone().unwrap_or_default(),
            sector => query.sector.clone().unwrap_or_default(),
            area => query.area.clone().unwrap_or_default(),
            status => query.status.clone().unwrap_or_default(),
            assignee => query.assignee.clone().unwrap_or_default(),
            order => selection.order.as_str(),
            from => query.from.clone().unwrap_or_default(),
            to => query.to.clone().unwrap_or_default(),
            unread => selection.filter.unread_only,
        },
        risks => aidant_core::RiskLevel::ALL.iter().map(|level| context! { value => level.as_str(), label => capitalise(level.as_str()) }).collect::<Vec<_>>(),
        sectors => catalogue.sectors.iter().map(|sector| context! { value => sector.id.to_string(), label => sector.name.clone() }).collect::<Vec<_>>(),
        statuses => ReportStatus::ALL.iter().map(|status| context! { value => status.as_str(), label => status.label() }).collect::<Vec<_>>(),
        orders => QueueOrder::ALL.iter().map(|order| context! { value => order.as_str(), label => order.label() }).collect::<Vec<_>>(),
        users => users.iter().filter(|user| !user.disabled).map(|user| context! { value => user.id.to_string(), label => user.display_name.clone() }).collect::<Vec<_>>(),
    };
    let mut page = StaffPage::new("staff/queue.html", "Triage queue", "queue");
    page.errors = errors;
    page.status = StatusCode::OK;
    let mut response = render(&state, Some(&staff), page, data);
    if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
        *response.status_mut() = StatusCode::OK;
    }
    Ok(response)
}

/// A stored compact reference as people read it: `GDM-4AN-RRC`.
pub fn display_reference(stored: &str) -> String {
    aidant_core::ReportRef::parse(stored).map(|reference| reference.to_string()).unwrap_or_else(|_| stored.to_owned())
}

fn capitalise(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

/// The query string of the filters and order, ending in `&`, for page links.
fn filters_query(query: &QueueQuery) -> String {
    let mut parts = String::new();
    let fields = [
        ("risk", &query.risk),
        ("sector", &query.sector),
        ("area", &query.area),
        ("status", &query.status),
        ("assignee", &query.assignee),
        ("order", &query.order),
        ("from", &query.from),
        ("to", &query.to),
        ("unread", &query.unread),
    ];
    for (name, value) in fields {
        if let Some(value) = value.as_ref().filter(|value| !value.is_empty()) {
            parts.push_str(name);
            parts.push('=');
            parts.push_str(&percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string());
            parts.push('&');
        }
    }
    parts
}

const REPORT_NOT_FOUND: (&str, &str) = ("Report not found", "There is no report at this address.");

fn report_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as(REPORT_NOT_FOUND.0, REPORT_NOT_FOUND.1)
}

/// What a triage action just did, said on the report's page after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Assigned,
    Status,
    Replied,
    Person,
}

impl Done {
    fn as_str(self) -> &'static str {
        match self {
            Done::Assigned => "assigned",
            Done::Status => "status",
            Done::Replied => "replied",
            Done::Person => "person",
        }
    }

    fn parse(text: &str) -> Option<Done> {
        [Done::Assigned, Done::Status, Done::Replied, Done::Person].into_iter().find(|done| done.as_str() == text)
    }
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    done: Option<String>,
}

pub async fn show_report(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, Query(query): Query<ReportQuery>) -> WebResult {
    let report_id: ReportId = path_id(&report_id).map_err(report_not_found)?;
    // An unknown `done` is ignored: it only ever adds a sentence.
    let done = query.done.as_deref().and_then(Done::parse);
    render_report(&state, &staff, &report_id, Vec::new(), &FormData::default(), done).await
}

/// The sentence confirming an action, from the report as it is now (so it
/// says what the action led to, such as a new report moving to In review).
fn confirmation(done: Done, status_label: &str, assignee: Option<&str>) -> String {
    match done {
        Done::Assigned => match assignee {
            Some(name) => format!("Assigned to {name}. The report's status is {}.", status_label.to_lowercase()),
            None => format!("Nobody is assigned now. The report's status is {}.", status_label.to_lowercase()),
        },
        Done::Status => format!("Status set to {}.", status_label.to_lowercase()),
        Done::Replied => "Your reply was sent. The reporter reads it when they come back with their reference and passphrase.".to_owned(),
        Done::Person => "Person named. They are linked across records in the background; their page lists them shortly.".to_owned(),
    }
}

/// The report's page (its view audited by the use case), with `errors`
/// from an action and what was `typed` into its form (a reply, a person).
async fn render_report(state: &AppState, staff: &Staff, report_id: &ReportId, errors: Vec<PageError>, typed: &FormData, done: Option<Done>) -> WebResult {
    let view = cases::reports::view_report(state.store(), &staff.caller, report_id).await.map_err(report_not_found)?;
    let ReportView { report, triage, messages, history, developed, colleagues: users, permissions, entities, people } = view;
    let catalogue = state.catalogue();
    let signs: Vec<Value> = report
        .signs
        .iter()
        .map(|id| match catalogue.indicator(id) {
            Some(indicator) => context! { text => indicator.staff.clone(), ilo => indicator.ilo.iter().filter_map(|ilo| catalogue.ilo_indicator(ilo)).map(|ilo| ilo.name.clone()).collect::<Vec<_>>() },
            None => context! { text => id.clone(), ilo => Vec::<String>::new() },
        })
        .collect();
    let names: std::collections::HashMap<String, String> =
        users.iter().map(|user| (AuditActor::user(user.id.as_str()).to_stored(), user.display_name.clone())).collect();
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
        .map(|message| {
            context! {
                from_staff => message.author == Author::Staff,
                body => super::entities::linked_text(&message.body, &entities),
                when => format_time(message.created_at_ms),
            }
        })
        .collect();
    let assignable: Vec<Value> = users
        .iter()
        .filter(|user| {
            !user.disabled
                && user.roles.iter().any(|role| matches!(role, Role::CallHandler | Role::Supervisor | Role::Analyst | Role::Officer | Role::SafeguardingLead))
        })
        .map(|user| context! { value => user.id.to_string(), label => user.display_name.clone() })
        .collect();
    let confirmation = done.map(|done| confirmation(done, triage.status.label(), triage.assignee_name.as_deref()));
    let victims = super::victims::record_cases(state, staff, aidant_store::cases::victims::CaseSource::Report(report.id.clone())).await?;
    let data = context! {
        confirmation,
        id => report.id.to_string(),
        reference => report.reference.to_string(),
        received => format_time(report.received_at_ms),
        risk => report.risk_level.as_str(),
        score => report.triage_score,
        reasons => report.triage_reasons.clone(),
        status => triage.status.as_str(),
        status_label => triage.status.label(),
        assignee_id => triage.assignee_user_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        assignee => triage.assignee_name.clone(),
        sector => catalogue.sector(&report.sector).map_or_else(|| report.sector.clone(), |sector| sector.name.clone()),
        postcode => report.postcode.as_deref().map(|postcode| linked_field(postcode, "postcode", &entities)),
        town => report.town.clone(),
        location => report.location_description.as_deref().map(|text| linked_text(text, &entities)),
        business => report.business_name.as_deref().map(|business| linked_field(business, "business_name", &entities)),
        signs,
        people_count => report.people_count,
        age_groups => report.age_groups.iter().map(|group| AGE_GROUPS.iter().find(|(id, _)| id == group).map_or_else(|| group.clone(), |(_, label)| (*label).to_owned())).collect::<Vec<_>>(),
        people_description => report.people_description.as_deref().map(|text| linked_text(text, &entities)),
        vehicles => report.vehicles.iter().enumerate().map(|(position, (registration, description))| context! {
            registration => registration.as_deref().map(|registration| linked_field(registration, &format!("vehicles.{}", position + 1), &entities)),
            description => description.as_deref().map(|text| linked_text(text, &entities)),
        }).collect::<Vec<_>>(),
        narrative => report.narrative.as_deref().map(|text| linked_text(text, &entities)),
        when_seen => report.when_seen.clone(),
        immediate_danger => report.immediate_danger,
        child_reported => report.child_reported,
        has_contact => report.has_contact,
        messages,
        history,
        developed => developed.iter().map(|(id, reference)| context! { id => id.to_string(), reference => reference.clone() }).collect::<Vec<_>>(),
        assignable,
        statuses => ReportStatus::ALL.iter().map(|status| context! { value => status.as_str(), label => status.label() }).collect::<Vec<_>>(),
        can_triage => permissions.triage,
        can_reply => permissions.reply,
        can_reveal => permissions.reveal_contact,
        can_audit => permissions.read_audit,
        can_develop => permissions.develop,
        reply => typed.get("reply").unwrap_or_default(),
        entities => super::entities::entity_lines(&entities),
        people => super::entities::people_lines(&people),
        person => context! {
            name => typed.get(&person_field(0, "name")).unwrap_or_default(),
            date_of_birth => typed.get(&person_field(0, "date_of_birth")).unwrap_or_default(),
            nationality => typed.get(&person_field(0, "nationality")).unwrap_or_default(),
            role => typed.get(&person_field(0, "role")).unwrap_or_default(),
        },
        roles => PersonRole::ALL.iter().map(|role| context! { value => role.code(), label => role.label() }).collect::<Vec<_>>(),
    };
    let mut page = StaffPage::new("staff/report.html", format!("Report {}", report.reference), "queue");
    page.errors = errors;
    let data = context! { ..data, ..victims };
    Ok(render(state, Some(staff), page, data))
}

/// A history line a person can read.
fn describe_action(action: &str, reason: Option<&str>, users: &[aidant_store::organisations::User]) -> String {
    match action {
        "report.create" => "Report received".to_owned(),
        "report.assign" => match reason.and_then(|reason| reason.strip_prefix("assigned to user:")) {
            Some(user_id) => {
                format!("Assigned to {}", users.iter().find(|user| user.id.as_str() == user_id).map_or("another user", |user| user.display_name.as_str()))
            }
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

/// A triage action's outcome: back to the report, or the report again
/// with the action's field errors.
async fn after_action(
    state: &AppState,
    staff: &Staff,
    report_id: &ReportId,
    outcome: Result<(), CaseError>,
    done: Done,
    anchor: &str,
    typed: &FormData,
) -> WebResult {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/staff/reports/{report_id}?done={}{anchor}", done.as_str()))),
        Err(CaseError::Invalid(errors)) => render_report(state, staff, report_id, page_errors(errors), typed, None).await,
        Err(error) => Err(report_not_found(error)),
    }
}

pub async fn assign(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> WebResult {
    let report_id: ReportId = path_id(&report_id).map_err(report_not_found)?;
    cases::reports::check_report(state.store(), &staff.caller, &report_id, Action::TriageReport).await.map_err(report_not_found)?;
    let form = staff_form(&staff, &body)?;
    let outcome = match form.text("assignee").map(|text| text.parse::<UserId>()) {
        Some(Err(_)) => Err(CaseError::invalid("assignee", "Select someone from your organisation")),
        assignee => cases::reports::assign_report(state.store(), &staff.caller, &report_id, assignee.and_then(Result::ok).as_ref()).await,
    };
    after_action(&state, &staff, &report_id, outcome, Done::Assigned, "", &FormData::default()).await
}

pub async fn set_status(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> WebResult {
    let report_id: ReportId = path_id(&report_id).map_err(report_not_found)?;
    cases::reports::check_report(state.store(), &staff.caller, &report_id, Action::TriageReport).await.map_err(report_not_found)?;
    let form = staff_form(&staff, &body)?;
    let outcome = match form.get("status").and_then(|status| status.parse::<ReportStatus>().ok()) {
        Some(status) => cases::reports::set_report_status(state.store(), &staff.caller, &report_id, status).await,
        None => Err(CaseError::invalid("status", "Select a status")),
    };
    after_action(&state, &staff, &report_id, outcome, Done::Status, "", &FormData::default()).await
}

pub async fn reply(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> WebResult {
    let report_id: ReportId = path_id(&report_id).map_err(report_not_found)?;
    cases::reports::check_report(state.store(), &staff.caller, &report_id, Action::ReplyToReporter).await.map_err(report_not_found)?;
    let form = staff_form(&staff, &body)?;
    let raw = form.get("reply").unwrap_or_default();
    let outcome = match BoundedText::parse(raw, aidant_core::report::limits::NARRATIVE, Lines::Multiple) {
        Ok(message) => cases::reports::reply_to_reporter(state.store(), &staff.caller, &report_id, &message).await,
        Err(error) => {
            let text = match error {
                TextError::Empty => "Enter a reply".to_owned(),
                TextError::TooLong { max, .. } => format!("A reply must be {max} characters or fewer"),
                TextError::ControlCharacter => "The reply contains a character that cannot be stored".to_owned(),
            };
            Err(CaseError::invalid("reply", text))
        }
    };
    after_action(&state, &staff, &report_id, outcome, Done::Replied, "#messages", &form).await
}

/// Names a person the report concerns, for the worker to link.
pub async fn name_person(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> WebResult {
    let report_id: ReportId = path_id(&report_id).map_err(report_not_found)?;
    cases::require(state.store(), &staff.caller, Capability::CreateIntelligence).await?;
    cases::reports::check_report(state.store(), &staff.caller, &report_id, Action::ViewReport).await.map_err(report_not_found)?;
    let form = staff_form(&staff, &body)?;
    let value = |part: &str| form.get(&person_field(0, part)).unwrap_or_default();
    let answer = PersonAnswer { name: value("name"), date_of_birth: value("date_of_birth"), nationality: value("nationality"), role: value("role") };
    let outcome = match PersonNamed::parse(&answer) {
        Ok(person) => cases::reports::name_person(state.store(), &staff.caller, &report_id, &person).await,
        Err(errors) => Err(CaseError::Invalid(errors)),
    };
    after_action(&state, &staff, &report_id, outcome, Done::Person, "#people", &form).await
}

pub async fn reveal_contact(State(state): State<AppState>, staff: Staff, Path(report_id): Path<String>, body: Bytes) -> WebResult {
    let report_id: ReportId = path_id(&report_id).map_err(report_not_found)?;
    cases::reports::check_report(state.store(), &staff.caller, &report_id, Action::RevealContact).await.map_err(report_not_found)?;
    let form = staff_form(&staff, &body)?;
    let Ok(reason) = BoundedText::parse(form.get("reason").unwrap_or_default(), REASON, Lines::Single) else {
        let errors = vec![PageError::new("reason", "Enter why you need the reporter's contact details")];
        return render_report(&state, &staff, &report_id, errors, &FormData::default(), None).await;
    };
    let contact = cases::reports::reveal_contact(state.store(), &staff.caller, &report_id, &reason).await.map_err(report_not_found)?;
    let page = StaffPage::new("staff/contact.html", "Reporter's contact details", "queue");
    let data = context! {
        id => report_id.to_string(),
        contact => contact.map(|contact| context! { name => contact.name, phone => contact.phone, email => contact.email }),
    };
    Ok(render(&state, Some(&staff), page, data))
}
