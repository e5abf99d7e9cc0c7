//! Operations in the workspace: the list, planning one (agencies, sites
//! with the records behind them, teams), a team's briefing, the live board
//! and the debrief with its press summary. The field app and its sync are
//! in `field`.

use aidant_core::ids::{OperationId, OrganisationId, SiteId, TeamId, UserId};
use aidant_core::operations::{FieldOutcome, Offence, OperationAnswers, RecordKind, Totals, press_summary};
use aidant_core::policy::Capability;
use aidant_store::cases::operations::{self as use_cases, Briefing, SiteAnswers};
use aidant_store::cases::{self, CaseError};
use aidant_store::operations::{Operation, StoredFieldRecord};
use axum::body::Bytes;
use axum::extract::{Path, State};
use minijinja::{Value, context};

use super::field::BoardRecord;
use super::{Staff, StaffPage, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};

fn operation_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as("Operation not found", "There is no operation at this address that you take part in.")
}

fn operation_id(id: &str) -> WebResult<OperationId> {
    path_id(id).map_err(operation_not_found)
}

/// `7 December 2026`.
pub(crate) fn written(day: time::Date) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    day.format(&format).unwrap_or_else(|_| day.to_string())
}

/// Whether an operation is still to come, running or over, on `today`.
pub(crate) fn state_of(operation: &Operation, today: time::Date) -> &'static str {
    if today < operation.starts_on {
        "Planned"
    } else if today > operation.ends_on {
        "Ended"
    } else {
        "Running"
    }
}

pub(crate) fn dates(operation: &Operation) -> String {
    if operation.starts_on == operation.ends_on {
        written(operation.starts_on)
    } else {
        format!("{} to {}", written(operation.starts_on), written(operation.ends_on))
    }
}

// The list.

pub async fn list(State(state): State<AppState>, staff: Staff) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::Operations).await?;
    let operations = use_cases::operations_for(state.store(), &staff.caller).await?;
    let today = cases::victims::today();
    let rows: Vec<Value> = operations
        .iter()
        .map(|operation| {
            let leads = &operation.lead_organisation_id == staff.caller.organisation_id() && staff.can(Capability::PlanOperations);
            let teams: Vec<Value> = operation
                .teams_of(&staff.user.id)
                .map(|team| context! { name => team.name.clone(), href => format!("/staff/operations/{}/teams/{}", operation.id, team.id) })
                .collect();
            context! {
                id => operation.id.to_string(),
                name => operation.name.clone(),
                dates => dates(operation),
                state => state_of(operation, today),
                plan => &operation.lead_organisation_id == staff.caller.organisation_id(),
                leads,
                teams,
            }
        })
        .collect();
    let in_a_team = operations.iter().any(|operation| operation.teams_of(&staff.user.id).next().is_some());
    let data = context! { rows, can_plan => staff.can(Capability::PlanOperations), in_a_team };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/operations.html", "Operations", "operations"), data))
}

// Planning.

async fn agency_options(state: &AppState, staff: &Staff) -> WebResult<Vec<Value>> {
    let organisations = state.store().list_organisations().await?;
    Ok(organisations
        .iter()
        .filter(|organisation| &organisation.id != staff.caller.organisation_id())
        .map(|organisation| context! { value => organisation.id.to_string(), label => organisation.name.clone() })
        .collect())
}

async fn new_page(state: &AppState, staff: &Staff, form: &FormData, errors: Vec<PageError>) -> WebResult {
    let mut page = StaffPage::new("staff/operation_new.html", "Plan an operation", "operations");
    page.errors = errors;
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let data = context! {
        agencies => agency_options(state, staff).await?,
        values => context! { name => value("name"), starts_on => value("starts_on"), ends_on => value("ends_on"), agencies => form.all("agencies") },
    };
    Ok(render(state, Some(staff), page, data))
}

pub async fn new_form(State(state): State<AppState>, staff: Staff) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::PlanOperations).await?;
    new_page(&state, &staff, &FormData::default(), Vec::new()).await
}

pub async fn create(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::PlanOperations).await?;
    let form = staff_form(&staff, &body)?;
    let answers = OperationAnswers {
        name: form.get("name").unwrap_or_default(),
        starts_on: form.get("starts_on").unwrap_or_default(),
        ends_on: form.get("ends_on").unwrap_or_default(),
    };
    let mut errors = Vec::new();
    let new = aidant_core::operations::NewOperation::parse(&answers).map_err(|problems| errors.extend(problems)).ok();
    let mut agencies = Vec::new();
    for agency in form.all("agencies") {
        match agency.parse::<OrganisationId>() {
            Ok(id) => agencies.push(id),
            Err(_) => {
                errors.push(aidant_core::report::FieldError { field: "agencies".into(), message: "Choose the agencies taking part from the list".into() })
            }
        }
    }
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        return new_page(&state, &staff, &form, page_errors(errors)).await;
    };
    match use_cases::plan_operation(state.store(), &staff.caller, &new, &agencies).await {
        Ok(id) => Ok(see_other(&format!("/staff/operations/{id}"))),
        Err(CaseError::Invalid(errors)) => new_page(&state, &staff, &form, page_errors(errors)).await,
        Err(error) => Err(error.into()),
    }
}

// The plan.

fn site_context(operation: &Operation, site: &aidant_store::operations::Site, catalogue: &aidant_core::catalogue::Catalogue) -> Value {
    let teams: Vec<String> = operation.teams.iter().filter(|team| team.sites.contains(&site.id)).map(|team| team.name.clone()).collect();
    context! {
        id => site.id.to_string(),
        name => site.name.clone(),
        kind => catalogue.sector(&site.sector).map_or_else(|| site.sector.clone(), |sector| sector.name.clone()),
        postcode => site.postcode.clone(),
        reason => site.reason.clone(),
        entity => site.entity_id.as_ref().map(ToString::to_string),
        teams,
    }
}

/// Which form a plan page's errors belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PlanForm {
    None,
    Site,
    Team,
}

async fn plan_page(state: &AppState, staff: &Staff, operation: Operation, form: &FormData, errors: Vec<PageError>, which: PlanForm) -> WebResult {
    let catalogue = state.catalogue();
    let organisations = state.store().list_organisations().await?;
    let organisation_name = |id: &OrganisationId| organisations.iter().find(|organisation| &organisation.id == id).map(|found| found.name.clone());
    let mut taking_part = vec![operation.lead_organisation_id.clone()];
    taking_part.extend(operation.agencies.iter().cloned());
    let mut people = Vec::new();
    for organisation in &taking_part {
        let users = state.store().list_users_in(organisation).await?;
        let members: Vec<Value> = users
            .iter()
            .filter(|user| !user.disabled && user.roles.iter().any(|role| *role != aidant_core::organisation::Role::Administrator))
            .map(|user| context! { value => user.id.to_string(), label => user.display_name.clone() })
            .collect();
        if !members.is_empty() {
            people.push(context! { organisation => organisation_name(organisation).unwrap_or_default(), members });
        }
    }
    let mut teams = Vec::new();
    for team in &operation.teams {
        let members = use_cases::team_members(state.store(), team).await?;
        teams.push(context! {
            id => team.id.to_string(),
            name => team.name.clone(),
            tasks => team.tasks.clone(),
            sites => operation.sites.iter().filter(|site| team.sites.contains(&site.id)).map(|site| site.name.clone()).collect::<Vec<_>>(),
            members => members.iter().map(|member| format!("{} ({})", member.name, member.organisation)).collect::<Vec<_>>(),
        });
    }
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let site_values = if which == PlanForm::Site {
        context! { name => value("site_name"), sector => value("sector"), postcode => value("postcode"), reason => value("reason"), records => value("records"), entity => value("entity") }
    } else {
        context! {}
    };
    let team_values = if which == PlanForm::Team {
        context! { name => value("team_name"), tasks => value("tasks"), sites => form.all("sites"), members => form.all("members") }
    } else {
        context! {}
    };
    let behind = use_cases::readable_site_records(state.store(), &staff.caller, &operation).await?;
    let sites: Vec<Value> = operation
        .sites
        .iter()
        .zip(&behind)
        .map(|(site, records)| context! { records => record_links(records), ..site_context(&operation, site, catalogue) })
        .collect();
    let mut page = StaffPage::new("staff/operation.html", operation.name.clone(), "operations");
    page.errors = errors;
    let leads = staff.can(Capability::PlanOperations) && &operation.lead_organisation_id == staff.caller.organisation_id();
    let data = context! {
        id => operation.id.to_string(),
        name => operation.name.clone(),
        dates => dates(&operation),
        state => state_of(&operation, cases::victims::today()),
        lead => organisation_name(&operation.lead_organisation_id).unwrap_or_default(),
        agencies => operation.agencies.iter().filter_map(organisation_name).collect::<Vec<_>>(),
        sites,
        site_options => operation.sites.iter().map(|site| context! { value => site.id.to_string(), label => site.name.clone() }).collect::<Vec<_>>(),
        sectors => catalogue.place_sectors().map(|sector| context! { value => sector.id.clone(), label => sector.place_label.clone() }).collect::<Vec<_>>(),
        people,
        teams,
        leads,
        which_form => match which { PlanForm::None => "", PlanForm::Site => "site", PlanForm::Team => "team" },
        site_values,
        team_values,
    };
    Ok(render(state, Some(staff), page, data))
}

pub async fn show(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id = operation_id(&id)?;
    let operation = use_cases::view_operation(state.store(), &staff.caller, &id).await.map_err(operation_not_found)?;
    plan_page(&state, &staff, operation, &FormData::default(), Vec::new(), PlanForm::None).await
}

/// Shows the plan again with a form's problems, or goes back to it.
async fn after_change(state: &AppState, staff: &Staff, id: &OperationId, outcome: Result<(), CaseError>, form: &FormData, which: PlanForm) -> WebResult {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/staff/operations/{id}"))),
        Err(CaseError::Invalid(mut errors)) => {
            // The two forms on the page name their fields apart.
            let prefix = if which == PlanForm::Site { "site_name" } else { "team_name" };
            for error in &mut errors {
                if error.field == "name" {
                    prefix.clone_into(&mut error.field);
                }
            }
            let operation = use_cases::view_operation(state.store(), &staff.caller, id).await.map_err(operation_not_found)?;
            plan_page(state, staff, operation, form, page_errors(errors), which).await
        }
        Err(error) => Err(operation_not_found(error)),
    }
}

pub async fn add_site(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id = operation_id(&id)?;
    let form = staff_form(&staff, &body)?;
    let outcome = async {
        let (reports, intelligence) = use_cases::records_by_reference(state.store(), form.get("records").unwrap_or_default(), "records").await?;
        let answers = SiteAnswers {
            name: form.get("site_name").unwrap_or_default(),
            sector: form.get("sector").unwrap_or_default(),
            postcode: form.get("postcode").unwrap_or_default(),
            reason: form.get("reason").unwrap_or_default(),
            reports,
            intelligence,
            entity: match form.get("entity").filter(|id| !id.is_empty()) {
                Some(id) => Some(id.parse().map_err(|_| CaseError::invalid("entity", "Choose a business or an address you can see"))?),
                None => None,
            },
        };
        use_cases::add_site(state.store(), &staff.caller, &id, &answers, state.catalogue()).await.map(|_| ())
    }
    .await;
    after_change(&state, &staff, &id, outcome, &form, PlanForm::Site).await
}

pub async fn add_team(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id = operation_id(&id)?;
    let form = staff_form(&staff, &body)?;
    let sites: Vec<SiteId> = form.all("sites").iter().filter_map(|site| site.parse().ok()).collect();
    let members: Vec<UserId> = form.all("members").iter().filter_map(|member| member.parse().ok()).collect();
    let unreadable = sites.len() != form.all("sites").len() || members.len() != form.all("members").len();
    let outcome = if unreadable {
        Err(CaseError::invalid("members", "Choose the team's sites and members from the lists"))
    } else {
        use_cases::add_team(
            state.store(),
            &staff.caller,
            &id,
            form.get("team_name").unwrap_or_default(),
            form.get("tasks").unwrap_or_default(),
            &sites,
            &members,
        )
        .await
        .map(|_| ())
    };
    after_change(&state, &staff, &id, outcome, &form, PlanForm::Team).await
}

/// Links to the records behind a site, each with its reference and kind.
fn record_links(records: &[use_cases::BriefingRecord]) -> Vec<Value> {
    records
        .iter()
        .map(|record| {
            let href = if record.kind == "report" { format!("/staff/reports/{}", record.id) } else { format!("/staff/intelligence/{}", record.id) };
            context! { reference => record.reference.clone(), href, kind => if record.kind == "report" { "Report" } else { "Intelligence" } }
        })
        .collect()
}

// A team's briefing.

pub(crate) fn briefing_context(briefing: &Briefing, catalogue: &aidant_core::catalogue::Catalogue) -> Value {
    let sites: Vec<Value> = briefing
        .sites
        .iter()
        .map(|site| {
            context! {
                id => site.site.id.to_string(),
                name => site.site.name.clone(),
                sector => site.site.sector.clone(),
                kind => catalogue.sector(&site.site.sector).map_or_else(|| site.site.sector.clone(), |sector| sector.name.clone()),
                postcode => site.site.postcode.clone(),
                reason => site.site.reason.clone(),
                records => record_links(&site.records),
            }
        })
        .collect();
    context! {
        operation_id => briefing.operation.id.to_string(),
        operation => briefing.operation.name.clone(),
        dates => dates(&briefing.operation),
        starts_on => briefing.operation.starts_on.to_string(),
        ends_on => briefing.operation.ends_on.to_string(),
        lead => briefing.lead_organisation.clone(),
        agencies => briefing.agencies.clone(),
        team_id => briefing.team.id.to_string(),
        team => briefing.team.name.clone(),
        tasks => briefing.team.tasks.clone(),
        members => briefing.members.iter().map(|member| context! { name => member.name.clone(), organisation => member.organisation.clone() }).collect::<Vec<_>>(),
        sites,
    }
}

pub async fn briefing(State(state): State<AppState>, staff: Staff, Path((id, team)): Path<(String, String)>) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::Operations).await?;
    let id = operation_id(&id)?;
    let team: TeamId = path_id(&team).map_err(operation_not_found)?;
    let briefing = use_cases::view_briefing(state.store(), &staff.caller, &id, &team).await.map_err(operation_not_found)?;
    let title = format!("Briefing: {}", briefing.team.name);
    let data = context! { briefing => briefing_context(&briefing, state.catalogue()) };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/operation_briefing.html", title, "operations"), data))
}

// The board.

/// A field record in a line, as the board shows it; nothing in it names a
/// person (the notes stay in the record).
pub(crate) fn record_line(operation: &Operation, record: &StoredFieldRecord, names: &std::collections::BTreeMap<UserId, String>) -> BoardRecord {
    let answers = &record.answers;
    let kind = record.kind;
    let mut summary = Vec::new();
    match kind {
        RecordKind::VehicleStop => {
            summary.push(answers.registration.trim().to_uppercase());
            if !answers.vehicle.trim().is_empty() {
                summary.push(answers.vehicle.trim().to_owned());
            }
        }
        RecordKind::PremisesVisit if !answers.business.trim().is_empty() => summary.push(answers.business.trim().to_owned()),
        RecordKind::Arrest => {
            if let Ok(offence) = answers.offence.parse::<Offence>() {
                summary.push(offence.label().to_owned());
            }
        }
        RecordKind::Referral => summary.push(format!("to {}", answers.referred_to.trim())),
        _ => {}
    }
    if let Ok(people) = answers.people.trim().parse::<u16>()
        && people > 0
    {
        summary.push(format!("{people} {}", if people == 1 { "person" } else { "people" }));
    }
    if !answers.signs.is_empty() {
        summary.push(format!("{} sign{} seen", answers.signs.len(), if answers.signs.len() == 1 { "" } else { "s" }));
    }
    if let Ok(outcome) = answers.outcome.parse::<FieldOutcome>() {
        summary.push(outcome.label().to_owned());
    }
    let site = record.site_id.as_ref().and_then(|site| operation.sites.iter().find(|planned| &planned.id == site));
    let team = operation.teams.iter().find(|team| team.id == record.team_id);
    BoardRecord {
        id: record.id.to_string(),
        kind: kind.as_str().to_owned(),
        kind_label: kind.label().to_owned(),
        site: site.map_or("Elsewhere", |site| site.name.as_str()).to_owned(),
        team: team.map_or("", |team| team.name.as_str()).to_owned(),
        team_id: record.team_id.to_string(),
        by: names.get(&record.recorded_by).cloned().unwrap_or_default(),
        recorded_on: record.recorded_on.to_string(),
        received: format_time(record.received_at_ms),
        received_at_ms: record.received_at_ms,
        summary: summary.join(", "),
        people: record.answers.people.trim().parse().unwrap_or(0),
    }
}

pub(crate) async fn user_names(state: &AppState, operation: &Operation) -> WebResult<std::collections::BTreeMap<UserId, String>> {
    let mut names = std::collections::BTreeMap::new();
    for team in &operation.teams {
        for member in use_cases::team_members(state.store(), team).await? {
            names.insert(member.id.clone(), format!("{} ({})", member.name, member.organisation));
        }
    }
    Ok(names)
}

pub async fn board(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id = operation_id(&id)?;
    let (operation, records) = use_cases::operation_board(state.store(), &staff.caller, &id, None).await.map_err(operation_not_found)?;
    let names = user_names(&state, &operation).await?;
    let lines: Vec<BoardRecord> = records.iter().rev().map(|record| record_line(&operation, record, &names)).collect();
    let since = records.iter().map(|record| record.received_at_ms).max().unwrap_or(0);
    let mut by_team = Vec::new();
    for team in &operation.teams {
        let mut totals = Totals::default();
        for record in records.iter().filter(|record| record.team_id == team.id) {
            count(&mut totals, record);
        }
        by_team.push(context! { id => team.id.to_string(), name => team.name.clone(), totals => totals_context(&totals) });
    }
    // The map of the sites: each placed at its postcode's centroid, with
    // how many records name it (the board's script adds to them).
    let records_at = |site: &aidant_store::operations::Site| records.iter().filter(|record| record.site_id.as_ref() == Some(&site.id)).count();
    let map_sites: Vec<serde_json::Value> = operation
        .sites
        .iter()
        .filter_map(|site| {
            let postcode = aidant_core::postcode::Postcode::parse(site.postcode.as_deref()?).ok()?;
            let at = aidant_core::geography::locate(&postcode)?;
            Some(serde_json::json!({ "name": site.name, "latitude": at.latitude, "longitude": at.longitude, "records": records_at(site) }))
        })
        .collect();
    let sites: Vec<Value> = operation
        .sites
        .iter()
        .map(|site| {
            let mut line = site_context(&operation, site, state.catalogue());
            line = context! { records => records_at(site), ..line };
            line
        })
        .collect();
    let data = context! {
        id => operation.id.to_string(),
        name => operation.name.clone(),
        dates => dates(&operation),
        sites,
        map_data => crate::html::json_script(&serde_json::json!({ "sites": map_sites }).to_string()),
        mapped => map_sites.len(),
        attribution => aidant_core::geography::CENTROID_ATTRIBUTION,
        by_team,
        records => crate::html::serde_value(&lines),
        since,
        can_safeguard => staff.can(Capability::Safeguarding),
        can_intelligence => staff.can(Capability::CreateIntelligence),
    };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/operation_board.html", format!("Board: {}", operation.name), "operations"), data))
}

/// Adds a stored record to totals by its kind and people, as the debrief
/// counts it.
fn count(totals: &mut Totals, record: &StoredFieldRecord) {
    let people = record.answers.people.trim().parse().unwrap_or(0);
    totals.add(&aidant_core::operations::FieldRecord::stored_as(record.kind, record.recorded_on, people));
}

fn totals_context(totals: &Totals) -> Value {
    context! {
        vehicles_stopped => totals.vehicles_stopped,
        premises_visited => totals.premises_visited,
        people_safeguarded => totals.people_safeguarded,
        arrests => totals.arrests,
        intelligence_submitted => totals.intelligence_submitted,
        referrals => totals.referrals,
    }
}

// The debrief.

async fn debrief_page(state: &AppState, staff: &Staff, id: &OperationId, typed: Option<&str>, errors: Vec<PageError>, saved: bool) -> WebResult {
    let (operation, debrief) = use_cases::operation_debrief(state.store(), &staff.caller, id, state.catalogue()).await.map_err(operation_not_found)?;
    let organisations = state.store().list_organisations().await?;
    let agencies: Vec<String> =
        operation.agencies.iter().filter_map(|id| organisations.iter().find(|organisation| &organisation.id == id).map(|found| found.name.clone())).collect();
    let draft = press_summary(&operation.name, operation.starts_on, operation.ends_on, &agencies, &debrief.totals);
    let lines = |map: &std::collections::BTreeMap<String, Totals>| -> Vec<Value> {
        map.iter().map(|(name, totals)| context! { name => name.clone(), totals => totals_context(totals) }).collect()
    };
    let days: Vec<Value> = debrief.by_day.iter().map(|(day, totals)| context! { name => written(*day), totals => totals_context(totals) }).collect();
    let mut page = StaffPage::new("staff/operation_debrief.html", format!("Debrief: {}", operation.name), "operations");
    page.errors = errors;
    let data = context! {
        id => operation.id.to_string(),
        name => operation.name.clone(),
        dates => dates(&operation),
        totals => totals_context(&debrief.totals),
        by_site => lines(&debrief.by_site),
        by_agency => lines(&debrief.by_agency),
        by_day => days,
        summary => typed.map(str::to_owned).or_else(|| operation.press_summary.clone()).unwrap_or_else(|| draft.clone()),
        edited => operation.press_summary.is_some(),
        draft,
        saved,
    };
    Ok(render(state, Some(staff), page, data))
}

pub async fn debrief(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, query: axum::extract::Query<SavedQuery>) -> WebResult {
    let id = operation_id(&id)?;
    debrief_page(&state, &staff, &id, None, Vec::new(), query.saved.is_some()).await
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn save_summary(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id = operation_id(&id)?;
    let form = staff_form(&staff, &body)?;
    let typed = form.get("summary").unwrap_or_default();
    match use_cases::save_press_summary(state.store(), &staff.caller, &id, typed).await {
        Ok(()) => Ok(see_other(&format!("/staff/operations/{id}/debrief?saved=yes"))),
        Err(CaseError::Invalid(errors)) => debrief_page(&state, &staff, &id, Some(typed), page_errors(errors), false).await,
        Err(error) => Err(operation_not_found(error)),
    }
}
