//! Link charts: the chart page (drawn in the browser by `chart.js`, built
//! from npm's sigma.js and graphology by `web/build.mjs`), saved and shared
//! charts, exports, and the JSON the chart asks for under
//! `/api/v1/staff/charts`. The use cases in `cases::networks` decide what
//! the viewer may see and audit it; this words it.

use std::fmt::Write as _;

use aidant_core::ids::{ChartId, EntityId};
use aidant_core::policy::Capability;
use aidant_store::cases::networks::{self, ChartData, ChartExport, ChartFormat, ChartRequest, ChartState, SaveChart};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{Staff, StaffPage, format_time, page_errors, render, same_secret, staff_form};
use crate::AppState;
use crate::api::json::parse_body;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};

/// The header a signed-in browser sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The JSON API's posts from a signed-in browser carry the session's CSRF
/// token in a header; a personal API token is not sent by browsers on
/// their own, so it needs none.
pub(crate) fn check_csrf_header(staff: &Staff, headers: &HeaderMap) -> WebResult<()> {
    if staff.csrf_token.is_empty() {
        return Ok(());
    }
    let sent = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    if same_secret(sent, &staff.csrf_token) {
        Ok(())
    } else {
        tracing::warn!("refused a chart request without a valid CSRF token");
        Err(WebError::FormExpired)
    }
}

fn parse_entities(ids: &[String], field: &str) -> WebResult<Vec<EntityId>> {
    ids.iter().map(|id| EntityId::parse(id)).collect::<Result<Vec<_>, _>>().map_err(|_| {
        WebError::Invalid(vec![aidant_core::report::FieldError { field: field.to_owned(), message: "Every entity must be an entity id".to_owned() }])
    })
}

// ---------------------------------------------------------------------------
// The JSON the chart asks for

/// What the chart asks for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartDataRequest {
    /// The entities on the chart (ids), at most 2,500.
    pub entities: Vec<String>,
    /// One entity whose neighbours to add, at most 25 at a time.
    #[serde(default)]
    pub expand: Option<String>,
    /// Neighbours to skip (for "and N more").
    #[serde(default, deserialize_with = "crate::api::json::whole_number")]
    #[schema(value_type = u64, maximum = 9007199254740991_u64)]
    pub offset: u64,
    /// Expand a hub all the same.
    #[serde(default)]
    pub force: bool,
    /// The saved chart this is, for the audit trail.
    #[serde(default)]
    pub chart: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChartEntityJson {
    pub id: String,
    /// person, phone, vehicle, address, business, email or online_account.
    pub kind: String,
    pub label: String,
    pub href: String,
    /// Records the caller may read that name it.
    pub records: usize,
    /// Why it is a hub (drawn collapsed), if it is one.
    pub hub: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChartRelationJson {
    pub source: String,
    pub target: String,
    pub kind: String,
    pub label: String,
    pub records: usize,
    pub strength: f64,
    /// Named together in an intelligence record, not only in public reports.
    pub confirmed: bool,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExpansionJson {
    pub id: String,
    pub added: Vec<String>,
    /// Neighbours not added yet.
    pub more: usize,
    /// Why nothing was added: the entity is a hub; ask again with force.
    pub hub: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChartDataResponse {
    pub entities: Vec<ChartEntityJson>,
    pub relations: Vec<ChartRelationJson>,
    pub expanded: Option<ExpansionJson>,
    /// Entities asked for that the caller may not see.
    pub withheld: usize,
}

fn day(unix_ms: i64) -> String {
    aidant_store::entity_network::day_of(unix_ms).map(aidant_graph::model::format_date).unwrap_or_default()
}

fn relation_label(kind: aidant_graph::RelationKind) -> String {
    kind.as_str().replace('_', " ")
}

fn chart_json(data: ChartData) -> ChartDataResponse {
    ChartDataResponse {
        entities: data
            .entities
            .into_iter()
            .map(|entity| ChartEntityJson {
                href: format!("/staff/entities/{}", entity.entity.id),
                id: entity.entity.id.to_string(),
                kind: entity.entity.kind.to_string(),
                label: entity.entity.label,
                records: entity.records,
                hub: entity.hub,
                first_seen: day(entity.first_seen_ms),
                last_seen: day(entity.last_seen_ms),
            })
            .collect(),
        relations: data
            .relations
            .into_iter()
            .map(|relation| ChartRelationJson {
                source: relation.source.to_string(),
                target: relation.target.to_string(),
                kind: relation.kind.as_str().to_owned(),
                label: relation_label(relation.kind),
                records: relation.records,
                strength: relation.strength,
                confirmed: relation.confirmed,
                first_seen: aidant_graph::model::format_date(relation.first_seen),
                last_seen: aidant_graph::model::format_date(relation.last_seen),
            })
            .collect(),
        expanded: data.expanded.map(|expansion| ExpansionJson {
            id: expansion.id.to_string(),
            added: expansion.added.iter().map(ToString::to_string).collect(),
            more: expansion.more,
            hub: expansion.hub,
        }),
        withheld: data.withheld,
    }
}

/// The chart's entities and relations as the caller may see them, with one
/// entity's neighbours added if asked.
#[utoipa::path(post, path = "/api/v1/staff/charts/data", tag = "staff", request_body = ChartDataRequest,
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's CSRF token, when signed in with a session rather than a token")),
    responses((status = 200, body = ChartDataResponse),
        (status = 400, description = "The body is not valid JSON, or not this shape", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token or session"), (status = 403, description = "Refused by the access policy, or a missing CSRF token"),
        (status = 404, description = "The entity to expand is not one the caller may see"), (status = 422, description = "An id that is not an entity id, or too many entities")))]
pub async fn chart_data(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> WebResult {
    aidant_store::cases::require(state.store(), &staff.caller, Capability::UseLinkCharts).await?;
    check_csrf_header(&staff, &headers)?;
    let request: ChartDataRequest = match parse_body(&headers, &body) {
        Ok(request) => request,
        Err(problem) => return Ok(problem.into_response()),
    };
    let entities = parse_entities(&request.entities, "entities")?;
    let expand = request.expand.as_deref().map(|id| EntityId::parse(id).map_err(|_| WebError::not_found())).transpose()?;
    let chart = request.chart.as_deref().map(|id| ChartId::parse(id).map_err(|_| WebError::not_found())).transpose()?;
    let request = ChartRequest { entities, expand, offset: usize::try_from(request.offset).unwrap_or(usize::MAX), force: request.force };
    let data = networks::chart(state.store(), &staff.caller, chart.as_ref(), &request).await?;
    Ok(Json(chart_json(data)).into_response())
}

/// An image of a chart the browser draws (PNG), recorded before it is saved.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportAuditRequest {
    /// Only "png": the other formats are made by the server.
    pub format: String,
    /// The entities the image shows.
    pub entities: Vec<String>,
    #[serde(default)]
    pub chart: Option<String>,
}

/// Records that the browser is saving an image of a chart; answered 204
/// once the audit entry has committed, and the image is saved only then.
#[utoipa::path(post, path = "/api/v1/staff/charts/export-audit", tag = "staff", request_body = ExportAuditRequest,
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's CSRF token, when signed in with a session rather than a token")),
    responses((status = 204, description = "Recorded"),
        (status = 400, description = "The body is not valid JSON, or not this shape", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token or session"), (status = 403, description = "Refused by the access policy, or a missing CSRF token"),
        (status = 404, description = "Nothing on the chart is an entity the caller may see"),
        (status = 422, description = "Another format than png")))]
pub async fn export_audit(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> WebResult {
    aidant_store::cases::require(state.store(), &staff.caller, Capability::UseLinkCharts).await?;
    check_csrf_header(&staff, &headers)?;
    let request: ExportAuditRequest = match parse_body(&headers, &body) {
        Ok(request) => request,
        Err(problem) => return Ok(problem.into_response()),
    };
    if request.format != ChartFormat::Png.as_str() {
        return Err(WebError::Invalid(vec![aidant_core::report::FieldError {
            field: "format".to_owned(),
            message: "Only png is recorded here; the other formats are exported by the server".to_owned(),
        }]));
    }
    parse_entities(&request.entities, "entities")?;
    let chart = request.chart.as_deref().map(|id| ChartId::parse(id).map_err(|_| WebError::not_found())).transpose()?;
    let chart_state = serde_json::to_string(&ChartState { entities: request.entities, ..Default::default() }).map_err(|_| WebError::Internal)?;
    match networks::export_chart(state.store(), &staff.caller, chart.as_ref(), &chart_state, ChartFormat::Png).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        // Nothing the caller may see: as if none of the entities existed.
        Err(aidant_store::cases::CaseError::Invalid(errors)) if errors.iter().any(|error| error.field == "state") => Err(WebError::not_found()),
        Err(error) => Err(error.into()),
    }
}

// ---------------------------------------------------------------------------
// Pages

/// Saved charts: the user's own and those shared in their organisation.
pub async fn list(State(state): State<AppState>, staff: Staff) -> WebResult {
    let charts = networks::list_charts(state.store(), &staff.caller).await?;
    let rows: Vec<_> = charts
        .iter()
        .map(|chart| {
            context! {
                id => chart.id.to_string(), name => chart.name.clone(), mine => chart.mine, shared => chart.shared,
                entities => chart.entities, updated => format_time(chart.updated_at_ms),
            }
        })
        .collect();
    let page = StaffPage::new("staff/charts.html", "Link charts", "charts");
    Ok(render(&state, Some(&staff), page, context! { charts => rows }))
}

/// A new chart of the entities in the address (`?entity=...&entity=...`).
pub async fn new_chart(State(state): State<AppState>, staff: Staff, RawQuery(query): RawQuery) -> WebResult {
    aidant_store::cases::require(state.store(), &staff.caller, Capability::UseLinkCharts).await?;
    let form = FormData::parse(query.unwrap_or_default().as_bytes()).map_err(|error| WebError::UnreadableForm(error.to_string()))?;
    let ids: Vec<String> = form.all("entity").into_iter().filter(|id| EntityId::parse(id).is_ok()).collect();
    let state_json = serde_json::to_string(&ChartState { entities: ids, ..Default::default() }).map_err(|_| WebError::Internal)?;
    Ok(chart_page(&state, &staff, None, "", false, true, &state_json, Vec::new()))
}

/// A saved chart.
pub async fn show(State(state): State<AppState>, staff: Staff, Path(chart_id): Path<String>) -> WebResult {
    let id: ChartId = path_id(&chart_id).map_err(chart_not_found)?;
    let chart = networks::open_chart(state.store(), &staff.caller, &id).await.map_err(|error| chart_not_found(error.into()))?;
    let state_json = serde_json::to_string(&chart.state).map_err(|_| WebError::Internal)?;
    Ok(chart_page(&state, &staff, Some(&chart.id), &chart.name, chart.shared, chart.mine, &state_json, Vec::new()))
}

fn chart_not_found(error: WebError) -> WebError {
    error.or_not_found_as(
        "Chart not found",
        "There is no chart at this address that you can open. A chart is shared only within the organisation that saved it.",
    )
}

#[allow(clippy::too_many_arguments)]
fn chart_page(
    state: &AppState,
    staff: &Staff,
    id: Option<&ChartId>,
    name: &str,
    shared: bool,
    mine: bool,
    state_json: &str,
    errors: Vec<PageError>,
) -> Response {
    let title = if name.is_empty() { "New link chart".to_owned() } else { format!("Link chart: {name}") };
    let mut page = StaffPage::new("staff/chart.html", title, "charts");
    page.errors = errors;
    let formats: Vec<_> = [ChartFormat::Svg, ChartFormat::GraphMl, ChartFormat::Gexf, ChartFormat::FollowTheMoney, ChartFormat::Anx]
        .iter()
        .map(|format| context! { value => format.as_str(), label => format_label(*format) })
        .collect();
    render(
        state,
        Some(staff),
        page,
        context! {
            chart_id => id.map(ToString::to_string), name => name, shared => shared, mine => mine, state_json => state_json,
            state_script => crate::html::json_script(state_json),
            formats => formats,
        },
    )
}

fn format_label(format: ChartFormat) -> &'static str {
    match format {
        ChartFormat::Png => "PNG image",
        ChartFormat::Svg => "SVG image",
        ChartFormat::GraphMl => "GraphML (Gephi, yEd, networkx)",
        ChartFormat::Gexf => "GEXF (Gephi)",
        ChartFormat::FollowTheMoney => "FollowTheMoney JSON lines (Aleph)",
        ChartFormat::Anx => "i2 Analyst's Notebook chart (ANX)",
    }
}

/// Saves a new chart.
pub async fn save_new(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    save(&state, &staff, None, &body).await
}

/// Saves the user's own chart.
pub async fn save_existing(State(state): State<AppState>, staff: Staff, Path(chart_id): Path<String>, body: Bytes) -> WebResult {
    let id: ChartId = path_id(&chart_id).map_err(chart_not_found)?;
    save(&state, &staff, Some(id), &body).await
}

async fn save(state: &AppState, staff: &Staff, id: Option<ChartId>, body: &Bytes) -> WebResult {
    let form = staff_form(staff, body)?;
    let name = form.get("name").unwrap_or_default();
    let shared = form.get("shared") == Some("yes");
    let chart_state = form.get("state").unwrap_or_default();
    match networks::save_chart(state.store(), &staff.caller, id.as_ref(), &SaveChart { name, shared, state: chart_state }).await {
        Ok(saved) => Ok(see_other(&format!("/staff/charts/{saved}"))),
        Err(aidant_store::cases::CaseError::Invalid(errors)) => {
            let mine = match &id {
                None => true,
                Some(id) => networks::open_chart(state.store(), &staff.caller, id).await.is_ok_and(|chart| chart.mine),
            };
            let safe_state = ChartState::parse(chart_state).map(|_| chart_state.to_owned()).unwrap_or_else(|_| "{\"entities\":[]}".to_owned());
            Ok(chart_page(state, staff, id.as_ref(), name, shared, mine, &safe_state, page_errors(errors)))
        }
        Err(error) => Err(chart_not_found(error.into())),
    }
}

/// Deletes the user's own chart.
pub async fn delete(State(state): State<AppState>, staff: Staff, Path(chart_id): Path<String>, body: Bytes) -> WebResult {
    staff_form(&staff, &body)?;
    let id: ChartId = path_id(&chart_id).map_err(chart_not_found)?;
    networks::delete_chart(state.store(), &staff.caller, &id).await.map_err(|error| chart_not_found(error.into()))?;
    Ok(see_other("/staff/charts"))
}

/// Exports the chart the form's state describes, as a download.
pub async fn export(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    aidant_store::cases::require(state.store(), &staff.caller, Capability::UseLinkCharts).await?;
    let form = staff_form(&staff, &body)?;
    let chart = form.get("chart").filter(|id| !id.is_empty()).map(path_id::<ChartId>).transpose()?;
    let chart_state = form.get("state").unwrap_or_default();
    // A problem redraws the chart with the message, never an error page.
    let redraw = |errors: Vec<aidant_core::report::FieldError>| {
        let safe_state = ChartState::parse(chart_state).map(|_| chart_state.to_owned()).unwrap_or_else(|_| "{\"entities\":[]}".to_owned());
        // The state is no field a person fills in: its message goes with the export.
        let errors = errors.into_iter().map(|error| PageError::new(if error.field == "state" { "format" } else { &error.field }, error.message)).collect();
        chart_page(&state, &staff, chart.as_ref(), "", false, chart.is_none(), &safe_state, errors)
    };
    let Some(format) = form.get("format").and_then(ChartFormat::parse).filter(|format| *format != ChartFormat::Png) else {
        return Ok(redraw(vec![aidant_core::report::FieldError { field: "format".to_owned(), message: "Choose a format".to_owned() }]));
    };
    let exported = match networks::export_chart(state.store(), &staff.caller, chart.as_ref(), chart_state, format).await {
        Ok(exported) => exported,
        Err(aidant_store::cases::CaseError::Invalid(errors)) => return Ok(redraw(errors)),
        Err(error) => return Err(error.into()),
    };
    let options = aidant_graph::export::ExportOptions::default();
    let (bytes, content_type, extension) = match format {
        ChartFormat::Svg => (chart_svg(&exported).into_bytes(), "image/svg+xml", "svg"),
        ChartFormat::GraphMl => (aidant_graph::export::graphml::graphml_string(&exported.network, &options).into_bytes(), "application/graphml+xml", "graphml"),
        ChartFormat::Gexf => (aidant_graph::export::gexf::gexf_string(&exported.network, &options).into_bytes(), "application/gexf+xml", "gexf"),
        ChartFormat::Anx => (aidant_graph::export::anx::anx_string(&exported.network, &options).into_bytes(), "application/xml", "anx"),
        ChartFormat::FollowTheMoney => {
            let mut bytes = Vec::new();
            aidant_graph::export::ftm::write_ftm_json_lines(&exported.network, &options, &mut bytes).map_err(|_| WebError::Internal)?;
            (bytes, "application/x-ndjson", "ftm.json")
        }
        ChartFormat::Png => return Err(WebError::Internal),
    };
    let disposition = format!("attachment; filename=\"link-chart.{extension}\"");
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

/// Colours by kind, as the chart draws them.
fn kind_colour(kind: &str) -> &'static str {
    match kind {
        "person" => "#1d70b8",
        "phone" => "#00703c",
        "vehicle" => "#f47738",
        "address" => "#912b88",
        "business" => "#b58840",
        "email" => "#28a197",
        _ => "#505a5f",
    }
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The chart as an SVG image: entities where the chart placed them (in a
/// circle if it did not), relations as lines whose width shows strength,
/// dashed where no intelligence record confirms them, with a legend.
fn chart_svg(exported: &ChartExport) -> String {
    const SIZE: f64 = 1000.0;
    const MARGIN: f64 = 80.0;
    let entities = &exported.data.entities;
    let count = entities.len().max(1) as f64;
    let placed: Vec<(f64, f64)> = entities
        .iter()
        .enumerate()
        .map(|(index, entity)| {
            let id = entity.entity.id.as_str();
            exported.state.pinned.get(id).or_else(|| exported.state.positions.get(id)).map(|[x, y]| (*x, *y)).unwrap_or_else(|| {
                let angle = index as f64 / count * std::f64::consts::TAU;
                (angle.cos(), angle.sin())
            })
        })
        .collect();
    let (min_x, max_x) = placed.iter().fold((f64::MAX, f64::MIN), |(low, high), (x, _)| (low.min(*x), high.max(*x)));
    let (min_y, max_y) = placed.iter().fold((f64::MAX, f64::MIN), |(low, high), (_, y)| (low.min(*y), high.max(*y)));
    let scale = |value: f64, low: f64, high: f64| if high > low { MARGIN + (value - low) / (high - low) * (SIZE - 2.0 * MARGIN) } else { SIZE / 2.0 };
    let at: std::collections::HashMap<&str, (f64, f64)> =
        entities.iter().zip(&placed).map(|(entity, (x, y))| (entity.entity.id.as_str(), (scale(*x, min_x, max_x), scale(*y, min_y, max_y)))).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {SIZE} {}\" width=\"{SIZE}\" height=\"{}\" font-family=\"Arial, sans-serif\" font-size=\"12\">\n<title>Link chart: {} entities, {} relations</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
        SIZE + 120.0,
        SIZE + 120.0,
        entities.len(),
        exported.data.relations.len()
    );
    for relation in &exported.data.relations {
        let (Some((x1, y1)), Some((x2, y2))) = (at.get(relation.source.as_str()), at.get(relation.target.as_str())) else { continue };
        let width = (1.0 + relation.strength).min(8.0);
        let dash = if relation.confirmed { "" } else { " stroke-dasharray=\"6 4\"" };
        let _ = writeln!(
            svg,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#6f777b\" stroke-width=\"{width:.2}\"{dash}><title>{} ({} records)</title></line>",
            escape_xml(&relation_label(relation.kind)),
            relation.records
        );
    }
    for entity in entities {
        let Some((x, y)) = at.get(entity.entity.id.as_str()) else { continue };
        let kind = entity.entity.kind.to_string();
        let stroke = if entity.hub.is_some() { " stroke=\"#d4351c\" stroke-width=\"3\" stroke-dasharray=\"3 2\"" } else { "" };
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"9\" fill=\"{}\"{stroke}/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            kind_colour(&kind),
            x + 12.0,
            y + 4.0,
            escape_xml(&entity.entity.label)
        );
    }
    let legend_y = SIZE + 20.0;
    let mut x = 20.0;
    for (kind, label) in [
        ("person", "Person"),
        ("phone", "Phone"),
        ("vehicle", "Vehicle"),
        ("address", "Address"),
        ("business", "Business"),
        ("email", "Email"),
        ("online_account", "Online account"),
    ] {
        let _ = writeln!(
            svg,
            "<circle cx=\"{x}\" cy=\"{legend_y}\" r=\"7\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{label}</text>",
            kind_colour(kind),
            x + 12.0,
            legend_y + 4.0
        );
        x += 120.0;
    }
    let _ = writeln!(
        svg,
        "<line x1=\"20\" y1=\"{0}\" x2=\"60\" y2=\"{0}\" stroke=\"#6f777b\" stroke-width=\"2\"/><text x=\"68\" y=\"{1}\">confirmed (an intelligence record)</text>\n<line x1=\"320\" y1=\"{0}\" x2=\"360\" y2=\"{0}\" stroke=\"#6f777b\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"368\" y=\"{1}\">unconfirmed (public reports only)</text>",
        legend_y + 40.0,
        legend_y + 44.0
    );
    svg.push_str("</svg>\n");
    svg
}
