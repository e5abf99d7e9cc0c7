//! The organised-crime-group view: run the analysis over a window, read
//! the groups, their key players and the run record, save an analysis,
//! compare it with a later window, and give people roles. The use cases in
//! `cases::networks` decide what the viewer may see and audit it.

use aidant_core::ids::{AnalysisId, EntityId};
use aidant_graph::{RoleInProcess, SeenDate};
use aidant_store::cases::CaseError;
use aidant_store::cases::networks::{self, AnalysisRequest, AnalysisView, Comparison};
use aidant_store::entities::{Entity, ValueKind};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use minijinja::{Value, context};

use super::{Staff, StaffPage, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};

/// Members of a group linked from its "open as a link chart" at most.
const CHART_MEMBERS: usize = 150;

/// The roles of the Human Trafficking Case Data Standard, as a person says them.
pub fn role_label(role: RoleInProcess) -> &'static str {
    match role {
        RoleInProcess::RecruiterOrIntermediary => "Recruiter or intermediary",
        RoleInProcess::Transporter => "Transporter",
        RoleInProcess::Harbourer => "Harbourer",
        RoleInProcess::Controller => "Controller",
        RoleInProcess::Exploiter => "Exploiter",
        RoleInProcess::Smuggler => "Smuggler",
        RoleInProcess::Abuser => "Abuser",
        RoleInProcess::Buyer => "Buyer",
        RoleInProcess::Financier => "Financier",
        RoleInProcess::DocumentForger => "Document forger",
        RoleInProcess::Victim => "Potential victim",
        RoleInProcess::Other => "Other",
        RoleInProcess::Unknown => "Unknown",
    }
}

fn role_options() -> Vec<Value> {
    RoleInProcess::ALL.iter().map(|role| context! { value => role.as_str(), label => role_label(*role) }).collect()
}

/// A date field: empty is open, anything else must be a date.
fn date_field(form: &FormData, field: &str, label: &str, errors: &mut Vec<PageError>) -> Option<SeenDate> {
    let text = form.get(field).unwrap_or_default().trim();
    if text.is_empty() {
        return None;
    }
    match aidant_graph::parse_seen_date(text) {
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(PageError::new(field, format!("{label} must be a date like 2026-03-14")));
            None
        }
    }
}

fn window_request(form: &FormData, prefix: &str, errors: &mut Vec<PageError>) -> AnalysisRequest {
    let from = date_field(form, &format!("{prefix}from"), "The start of the window", errors);
    let to = date_field(form, &format!("{prefix}to"), "The end of the window", errors);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        errors.push(PageError::new(&format!("{prefix}from"), "The start of the window must be on or before its end"));
    }
    AnalysisRequest { from, to }
}

fn entity_value(entity: &Entity) -> Value {
    context! { id => entity.id.to_string(), label => entity.label.clone(), kind => entity.kind.label(), person => entity.kind == ValueKind::Person }
}

fn analysis_context(view: &AnalysisView) -> Value {
    let groups: Vec<Value> = view
        .groups
        .iter()
        .map(|group| {
            let chart_href = format!(
                "/staff/charts/new?{}",
                group.members.iter().take(CHART_MEMBERS).map(|member| format!("entity={}", member.entity.id)).collect::<Vec<_>>().join("&")
            );
            context! {
                number => group.number,
                size => group.size,
                shown => group.members.len(),
                withheld => group.withheld,
                links => group.links,
                sampled => group.sampled_betweenness,
                chart_href => chart_href,
                people => group.members.iter().filter(|member| member.entity.kind == ValueKind::Person).count(),
                key_players => group.key_players.iter().map(|member| entity_value(&member.entity)).collect::<Vec<_>>(),
                members => group.members.iter().enumerate().map(|(index, member)| context! {
                    rank => index + 1,
                    entity => entity_value(&member.entity),
                    degree => format!("{:.3}", member.figures.degree),
                    betweenness => format!("{:.3}", member.figures.betweenness),
                    eigenvector => format!("{:.3}", member.figures.eigenvector),
                    core => member.figures.core,
                    role => member.role.map(|role| role.as_str()),
                    role_label => member.role.map(role_label),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let run = &view.explained.run;
    let date = |date: Option<SeenDate>| date.map(aidant_graph::model::format_date);
    context! {
        id => view.id.as_ref().map(ToString::to_string),
        name => view.name.clone(),
        created => view.created_at_ms.map(format_time),
        from => date(view.window.from),
        to => date(view.window.to),
        groups => groups,
        small_groups => view.explained.result.small_groups,
        hubs => view.hubs.iter().map(|(entity, reason)| context! { entity => entity_value(entity), reason => reason.clone() }).collect::<Vec<_>>(),
        max_core => view.explained.result.max_core,
        core => view.core.iter().map(entity_value).collect::<Vec<_>>(),
        core_count => view.explained.result.core_count,
        entities => view.explained.result.entities,
        relations => view.explained.result.relations,
        run => context! {
            algorithm => run.algorithm.clone(),
            library => format!("{} {}", run.library, run.library_version),
            seed => run.seed,
            input_sha256 => run.input_sha256.clone(),
            result_sha256 => run.result_sha256.clone(),
            parameters => serde_json::to_string(&run.parameters).unwrap_or_default(),
            nodes => run.node_count,
            edges => run.edge_count,
            quality => format!("{:.4}", view.explained.result.leiden_quality),
        },
        record_json => serde_json::to_string_pretty(&view.explained.run).unwrap_or_default(),
    }
}

/// The organised-crime-group view: the form, saved analyses, and (with
/// `?run=yes`) the analysis of the chosen window.
pub async fn show(State(state): State<AppState>, staff: Staff, RawQuery(query): RawQuery) -> WebResult {
    let form = FormData::parse(query.unwrap_or_default().as_bytes()).map_err(|error| WebError::UnreadableForm(error.to_string()))?;
    let saved = networks::list_analyses(state.store(), &staff.caller).await?;
    let mut errors = Vec::new();
    let request = window_request(&form, "", &mut errors);
    let analysis = if form.get("run") == Some("yes") && errors.is_empty() {
        match networks::analyse_network(state.store(), &staff.caller, &request).await {
            Ok(view) => Some(view),
            Err(CaseError::Invalid(invalid)) => {
                errors.extend(page_errors(invalid));
                None
            }
            Err(error) => return Err(error.into()),
        }
    } else {
        None
    };
    let mut page = StaffPage::new("staff/networks.html", "Organised crime groups", "networks");
    page.errors = errors;
    let saved = saved_rows(&saved);
    let values = context! { from => form.get("from").unwrap_or_default(), to => form.get("to").unwrap_or_default(), name => "" };
    Ok(render(
        &state,
        Some(&staff),
        page,
        context! {
            saved => saved, values => values, ran => analysis.is_some(),
            analysis => analysis.as_ref().map(analysis_context), roles => role_options(),
            back => back_of(query_text(&form)),
        },
    ))
}

fn query_text(form: &FormData) -> String {
    ["run", "from", "to"].iter().filter_map(|name| form.get(name).map(|value| format!("{name}={}", urlencode(value)))).collect::<Vec<_>>().join("&")
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn back_of(query: String) -> String {
    if query.is_empty() { "/staff/networks".to_owned() } else { format!("/staff/networks?{query}") }
}

/// The organisation's saved analyses as table rows.
fn saved_rows(saved: &[networks::AnalysisSummary]) -> Vec<Value> {
    saved
        .iter()
        .map(|analysis| {
            context! {
                id => analysis.id.to_string(), name => analysis.name.clone(), groups => analysis.groups,
                from => analysis.window_from.clone(), to => analysis.window_to.clone(), created => format_time(analysis.created_at_ms),
            }
        })
        .collect()
}

/// Runs and saves an analysis.
pub async fn save(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    let form = staff_form(&staff, &body)?;
    let mut errors = Vec::new();
    let request = window_request(&form, "", &mut errors);
    let name = form.get("name").unwrap_or_default();
    if errors.is_empty() {
        match networks::save_analysis(state.store(), &staff.caller, name, &request).await {
            Ok(id) => return Ok(see_other(&format!("/staff/networks/analyses/{id}"))),
            Err(CaseError::Invalid(invalid)) => errors.extend(page_errors(invalid)),
            Err(error) => return Err(error.into()),
        }
    }
    let saved = networks::list_analyses(state.store(), &staff.caller).await?;
    let mut page = StaffPage::new("staff/networks.html", "Organised crime groups", "networks");
    page.errors = errors;
    let saved = saved_rows(&saved);
    let values = context! { from => form.get("from").unwrap_or_default(), to => form.get("to").unwrap_or_default(), name => name };
    Ok(render(
        &state,
        Some(&staff),
        page,
        context! { saved => saved, values => values, ran => false, analysis => None::<Value>, roles => role_options(), back => "/staff/networks" },
    ))
}

fn analysis_not_found(error: WebError) -> WebError {
    error.or_not_found_as(
        "Analysis not found",
        "There is no saved analysis at this address that you can open. An analysis is shared only within the organisation that saved it.",
    )
}

/// A saved analysis; with `?compare_from=...&compare_to=...&compare=yes`,
/// beside the same analysis over that window.
pub async fn show_saved(State(state): State<AppState>, staff: Staff, Path(analysis_id): Path<String>, RawQuery(query): RawQuery) -> WebResult {
    let id: AnalysisId = path_id(&analysis_id).map_err(analysis_not_found)?;
    let form = FormData::parse(query.unwrap_or_default().as_bytes()).map_err(|error| WebError::UnreadableForm(error.to_string()))?;
    let mut errors = Vec::new();
    let compare_request = window_request(&form, "compare_", &mut errors);
    let comparing = form.get("compare") == Some("yes");
    let (view, comparison) = if comparing && errors.is_empty() {
        match networks::compare_analysis(state.store(), &staff.caller, &id, &compare_request).await {
            Ok(Comparison { earlier, later, changes }) => (earlier, Some((later, changes))),
            Err(CaseError::Invalid(invalid)) => {
                errors.extend(page_errors(invalid));
                (networks::open_analysis(state.store(), &staff.caller, &id).await.map_err(|error| analysis_not_found(error.into()))?, None)
            }
            Err(error) => return Err(analysis_not_found(error.into())),
        }
    } else {
        (networks::open_analysis(state.store(), &staff.caller, &id).await.map_err(|error| analysis_not_found(error.into()))?, None)
    };
    let title = format!("Analysis: {}", view.name.clone().unwrap_or_default());
    let mut page = StaffPage::new("staff/analysis.html", title, "networks");
    page.errors = errors;
    let comparison_context = comparison.as_ref().map(|(later, changes)| {
        let names = |entities: &[Entity]| entities.iter().map(entity_value).collect::<Vec<_>>();
        context! {
            later => analysis_context(later),
            changes => changes.iter().map(|change| context! {
                earlier => change.earlier,
                later => change.later,
                joined => names(&change.joined),
                joined_count => change.joined_count,
                left => names(&change.left),
                left_count => change.left_count,
                key_before => change.key_before.as_ref().map(entity_value),
                key_after => change.key_after.as_ref().map(entity_value),
                key_changed => change.key_before.as_ref().map(|entity| &entity.id) != change.key_after.as_ref().map(|entity| &entity.id),
            }).collect::<Vec<_>>(),
        }
    });
    let back = match query_of(&form) {
        query if query.is_empty() => format!("/staff/networks/analyses/{id}"),
        query => format!("/staff/networks/analyses/{id}?{query}"),
    };
    let values = context! { compare_from => form.get("compare_from").unwrap_or_default(), compare_to => form.get("compare_to").unwrap_or_default() };
    Ok(render(
        &state,
        Some(&staff),
        page,
        context! { analysis => analysis_context(&view), comparison => comparison_context, values => values, roles => role_options(), back => back },
    ))
}

fn query_of(form: &FormData) -> String {
    ["compare", "compare_from", "compare_to"]
        .iter()
        .filter_map(|name| form.get(name).map(|value| format!("{name}={}", urlencode(value))))
        .collect::<Vec<_>>()
        .join("&")
}

/// Gives a person a role in a group (or clears it), then returns to the page.
pub async fn assign_role(State(state): State<AppState>, staff: Staff, Path(entity_id): Path<String>, body: Bytes) -> WebResult {
    let form = staff_form(&staff, &body)?;
    let id: EntityId = path_id(&entity_id)?;
    let role = match form.get("role").unwrap_or_default() {
        "" | "none" => None,
        text => Some(RoleInProcess::parse(text).ok_or_else(|| {
            WebError::Invalid(vec![aidant_core::report::FieldError { field: "role".to_owned(), message: "Choose a role from the list".to_owned() }])
        })?),
    };
    networks::assign_role(state.store(), &staff.caller, &id, role).await?;
    // Only back to a page of this view: never an address from elsewhere.
    let back = form.get("back").filter(|back| back.starts_with("/staff/networks") && !back.contains("//")).unwrap_or("/staff/networks");
    Ok(see_other(&format!("{back}#member-{id}")))
}
