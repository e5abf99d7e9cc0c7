//! The field app: an installable web app for officers' phones (its shell,
//! service worker and manifest hold no data and are served to anyone), the
//! JSON it downloads (the briefings of the caller's teams and the key its
//! records are kept under on the phone), the sync that stores each record
//! once, and the board's feed of new records.

use aidant_core::ids::{OperationId, TeamId};
use aidant_core::operations::{FieldOutcome, FieldRecordAnswers, Offence, RecordKind};
use aidant_core::report::{AGE_GROUPS, FieldError};
use aidant_store::cases::operations::{self as use_cases, SyncOutcome};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::Staff;
use super::charts::check_csrf_header;
use super::operations::{dates, record_line, user_names};
use crate::AppState;
use crate::api::json::parse_body;
use crate::error::{WebError, WebResult, path_id};
use crate::routes::Routes;

/// The most records one sync may carry; the app sends fewer at a time.
pub const SYNC_BATCH: usize = 200;

pub fn routes() -> Routes {
    Routes::new()
        .route("/field", &["GET"], get(|| async { crate::html::see_other("/field/") }))
        .route("/field/", &["GET"], get(app))
        .route("/field/sw.js", &["GET"], get(service_worker))
        .route("/field/manifest.webmanifest", &["GET"], get(manifest))
        .route("/field/icon.svg", &["GET"], get(icon))
        .route("/api/v1/staff/field", &["GET"], get(bundle))
        .route("/api/v1/staff/operations/{id}/teams/{team}/records", &["POST"], post(sync))
        .route("/api/v1/staff/operations/{id}/board", &["GET"], get(board))
}

// The app's shell: no data, the same for everyone.

pub async fn app(State(state): State<AppState>) -> Response {
    let page = state.site().render_template("field.html", minijinja::context! {});
    match page {
        Ok(html) => {
            let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => {
            tracing::error!(error = %error, "the field app's page failed to render");
            crate::pages::technical_problem(&state, &HeaderMap::new())
        }
    }
}

fn asset(name: &str, content_type: &'static str) -> Response {
    match crate::assets::find(name) {
        Some(bytes) => {
            let mut response = (StatusCode::OK, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            // The service worker and the manifest are checked for a new
            // version at every visit.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn service_worker() -> Response {
    asset("field-sw.js", "text/javascript; charset=utf-8")
}

pub async fn manifest() -> Response {
    let manifest = serde_json::json!({
        "name": "Aidant field app",
        "short_name": "Aidant field",
        "description": "Record stops, visits and outcomes of an operation, with or without signal.",
        "start_url": "/field/",
        "scope": "/field/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b0c0c",
        "icons": [
            { "src": "/field/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any" },
            { "src": "/field/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "maskable" }
        ]
    });
    let mut response = (StatusCode::OK, manifest.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/manifest+json"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub async fn icon() -> Response {
    const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" fill="#0b0c0c"/><path d="M256 96 400 416H334L306 352H206L178 416H112ZM228 300H284L256 232Z" fill="#ffffff"/></svg>"##;
    let mut response = (StatusCode::OK, ICON).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response
}

// What the app downloads.

/// A choice, with the words the app shows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A record behind a site, as its reference.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BriefingRecordJson {
    /// `Report` or `Intelligence`.
    pub kind: String,
    pub reference: String,
}

/// A site of a team's briefing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BriefingSiteJson {
    pub id: String,
    pub name: String,
    /// The catalogue's sector for this kind of place (its signs are in `signs`).
    pub sector: String,
    pub kind: String,
    pub postcode: Option<String>,
    pub reason: String,
    /// Only the records behind it the caller may read.
    pub records: Vec<BriefingRecordJson>,
}

/// A member of a team.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberJson {
    pub name: String,
    pub organisation: String,
}

/// One team's briefing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BriefingJson {
    pub operation_id: String,
    pub operation: String,
    /// The first day records are taken, `YYYY-MM-DD`.
    pub starts_on: String,
    /// The last day; records are taken until the day after.
    pub ends_on: String,
    pub dates: String,
    pub lead: String,
    pub agencies: Vec<String>,
    pub team_id: String,
    pub team: String,
    pub tasks: String,
    pub members: Vec<MemberJson>,
    pub sites: Vec<BriefingSiteJson>,
}

/// A sign officers may record, in the words staff read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignJson {
    pub id: String,
    pub text: String,
}

/// Signs for one kind of place.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SectorSigns {
    pub sector: String,
    pub signs: Vec<SignJson>,
}

/// What the field app downloads while it has signal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldBundle {
    /// The signed-in officer's name and organisation.
    pub user: MemberJson,
    /// Sent back as `X-CSRF-Token` with every sync.
    pub csrf_token: String,
    /// The key (64 hexadecimal digits, AES-256) the app keeps records and
    /// this briefing under on the phone: it is drawn from the session and
    /// can be had only while the session lives. Absent with a personal API
    /// token, which is not for phones.
    pub key: Option<String>,
    /// Today in the United Kingdom, `YYYY-MM-DD`.
    pub today: String,
    /// A briefing per team the officer is in, of operations still taking records.
    pub briefings: Vec<BriefingJson>,
    /// The signs to ask about at each kind of place of the briefings' sites,
    /// at lorries and motorway services (for any vehicle stop), and
    /// `general` (anywhere else).
    pub signs: Vec<SectorSigns>,
    pub kinds: Vec<Choice>,
    pub outcomes: Vec<Choice>,
    pub offences: Vec<Choice>,
    pub age_groups: Vec<Choice>,
}

/// The sector whose signs a vehicle stop away from a planned site asks about.
const VEHICLE_SECTOR: &str = "lorries_and_services";

fn choices<T: Copy>(all: &[T], value: impl Fn(T) -> &'static str, label: impl Fn(T) -> &'static str) -> Vec<Choice> {
    all.iter().map(|item| Choice { value: value(*item).to_owned(), label: label(*item).to_owned() }).collect()
}

fn briefing_json(briefing: &use_cases::Briefing, catalogue: &aidant_core::catalogue::Catalogue) -> BriefingJson {
    BriefingJson {
        operation_id: briefing.operation.id.to_string(),
        operation: briefing.operation.name.clone(),
        starts_on: briefing.operation.starts_on.to_string(),
        ends_on: briefing.operation.ends_on.to_string(),
        dates: dates(&briefing.operation),
        lead: briefing.lead_organisation.clone(),
        agencies: briefing.agencies.clone(),
        team_id: briefing.team.id.to_string(),
        team: briefing.team.name.clone(),
        tasks: briefing.team.tasks.clone(),
        members: briefing.members.iter().map(|member| MemberJson { name: member.name.clone(), organisation: member.organisation.clone() }).collect(),
        sites: briefing
            .sites
            .iter()
            .map(|site| BriefingSiteJson {
                id: site.site.id.to_string(),
                name: site.site.name.clone(),
                sector: site.site.sector.clone(),
                kind: catalogue.sector(&site.site.sector).map_or_else(|| site.site.sector.clone(), |sector| sector.name.clone()),
                postcode: site.site.postcode.clone(),
                reason: site.site.reason.clone(),
                records: site
                    .records
                    .iter()
                    .map(|record| BriefingRecordJson {
                        kind: if record.kind == "report" { "Report" } else { "Intelligence" }.to_owned(),
                        reference: record.reference.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The briefings of the caller's teams and everything the app needs to
/// record without signal; the briefings read are audited. The key comes
/// only with a signed-in session.
#[utoipa::path(get, path = "/api/v1/staff/field", tag = "staff",
    responses((status = 200, body = FieldBundle),
        (status = 401, description = "No valid token or session", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The user's role takes no part in operations", body = crate::problem::Problem, content_type = "application/problem+json")))]
pub async fn bundle(State(state): State<AppState>, staff: Staff) -> WebResult {
    aidant_store::cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::Operations).await?;
    let key = staff.field_key.clone();
    let today = aidant_store::cases::victims::today();
    let briefings = use_cases::field_briefings(state.store(), &staff.caller, today).await?;
    let catalogue = state.catalogue();
    let mut sectors: Vec<String> = vec![VEHICLE_SECTOR.to_owned(), aidant_core::catalogue::GENERAL_SECTOR.to_owned()];
    for briefing in &briefings {
        for site in &briefing.sites {
            if !sectors.contains(&site.site.sector) {
                sectors.push(site.site.sector.clone());
            }
        }
    }
    let signs = sectors
        .iter()
        .map(|sector| SectorSigns {
            sector: sector.clone(),
            signs: catalogue.indicators_for_place(sector).map(|indicator| SignJson { id: indicator.id.clone(), text: indicator.staff.clone() }).collect(),
        })
        .collect();
    let bundle = FieldBundle {
        user: MemberJson { name: staff.user.display_name.clone(), organisation: staff.organisation.name.clone() },
        csrf_token: staff.csrf_token.clone(),
        key,
        today: today.to_string(),
        briefings: briefings.iter().map(|briefing| briefing_json(briefing, catalogue)).collect(),
        signs,
        kinds: choices(RecordKind::ALL, RecordKind::as_str, RecordKind::label),
        outcomes: choices(FieldOutcome::ALL, FieldOutcome::as_str, FieldOutcome::label),
        offences: choices(Offence::ALL, Offence::as_str, Offence::label),
        age_groups: AGE_GROUPS.iter().map(|(value, label)| Choice { value: (*value).to_owned(), label: (*label).to_owned() }).collect(),
    };
    let mut response = Json(bundle).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

// The sync.

/// Records made on a phone, sent together.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// At most 200 records.
    #[schema(value_type = Vec<FieldRecordSchema>)]
    pub records: Vec<FieldRecordAnswers>,
}

// How the document describes `FieldRecordAnswers` (aidant-core has no
// OpenAPI); a test holds the two to the same fields.
/// A field record as the phone sends it. Every field may be left out:
/// which kind needs which is checked field by field, and a record with a
/// problem is refused with its reasons.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct FieldRecordSchema {
    /// The record's own id, a UUID made on the phone: sending it again stores nothing new.
    pub id: String,
    /// vehicle_stop, premises_visit, safeguarded, arrest, intelligence or referral.
    pub kind: String,
    /// The site's id from the briefing, or empty when elsewhere.
    pub site: String,
    /// `YYYY-MM-DD`, the day on the phone.
    pub recorded_on: String,
    pub registration: String,
    /// A foreign plate's country, two or three letters; empty for a UK plate.
    pub country: String,
    pub vehicle: String,
    pub trailer: String,
    pub business: String,
    /// How many people, 0 to 500, as digits.
    pub people: String,
    pub age_groups: Vec<String>,
    pub nationalities: Vec<String>,
    pub languages: Vec<String>,
    pub signs: Vec<String>,
    pub documents_held_by_others: bool,
    pub accommodation_on_site: bool,
    pub outcome: String,
    pub offence: String,
    pub referred_to: String,
    pub note: String,
}

/// A problem with one field of a record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordError {
    pub field: String,
    pub message: String,
}

/// What became of one record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SyncResult {
    pub id: String,
    /// `stored` (new), `already_stored` (sent before: nothing new) or
    /// `refused` (with `errors`; the phone keeps it to correct).
    pub outcome: String,
    pub errors: Vec<RecordError>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SyncResponse {
    /// One result per record, in the order sent.
    pub results: Vec<SyncResult>,
}

/// Stores what a team's member recorded: each record once under its own
/// id, all in one transaction with one audit entry. A record refused (an
/// impossible registration, a day after the operation ended) is answered
/// with its reasons and nothing of it is stored.
#[utoipa::path(post, path = "/api/v1/staff/operations/{id}/teams/{team}/records", tag = "staff", request_body = SyncRequest,
    params(("id" = String, Path, description = "The operation's id"), ("team" = String, Path, description = "The team's id"),
        ("X-CSRF-Token" = Option<String>, Header, description = "The session's CSRF token, when signed in with a session rather than a token")),
    responses((status = 200, body = SyncResponse),
        (status = 400, description = "The body is not valid JSON, or not this shape", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token or session (a session ended from the workspace, for a lost phone)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member of this team, or a missing CSRF token", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such operation or team", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 200 records at once", body = crate::problem::Problem, content_type = "application/problem+json")))]
pub async fn sync(State(state): State<AppState>, staff: Staff, Path((id, team)): Path<(String, String)>, headers: HeaderMap, body: Bytes) -> WebResult {
    let id: OperationId = path_id(&id)?;
    let team: TeamId = path_id(&team)?;
    check_csrf_header(&staff, &headers)?;
    use_cases::check_recorder(state.store(), &staff.caller, &id, &team).await?;
    let request: SyncRequest = match parse_body(&headers, &body) {
        Ok(request) => request,
        Err(problem) => return Ok(problem.into_response()),
    };
    if request.records.len() > SYNC_BATCH {
        return Err(WebError::Invalid(vec![FieldError { field: "records".into(), message: format!("Send at most {SYNC_BATCH} records at a time") }]));
    }
    let outcomes = use_cases::sync_records(state.store(), &staff.caller, &id, &team, &request.records, state.catalogue()).await?;
    let results = outcomes
        .into_iter()
        .map(|(id, outcome)| match outcome {
            SyncOutcome::Stored => SyncResult { id, outcome: "stored".into(), errors: Vec::new() },
            SyncOutcome::AlreadyStored => SyncResult { id, outcome: "already_stored".into(), errors: Vec::new() },
            SyncOutcome::Refused(errors) => SyncResult {
                id,
                outcome: "refused".into(),
                errors: errors.into_iter().map(|error| RecordError { field: error.field, message: error.message }).collect(),
            },
        })
        .collect();
    Ok(Json(SyncResponse { results }).into_response())
}

// The board's feed.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    since: Option<i64>,
}

/// A record as the board lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardRecord {
    pub id: String,
    pub kind: String,
    pub kind_label: String,
    pub site: String,
    pub team: String,
    pub team_id: String,
    pub by: String,
    pub recorded_on: String,
    pub received: String,
    pub received_at_ms: i64,
    pub summary: String,
    /// For people safeguarded: how many.
    pub people: u16,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardResponse {
    /// Records received after `since`, oldest first.
    pub records: Vec<BoardRecord>,
    /// `since` for the next call.
    pub since: i64,
}

/// The records an operation's teams sent after `since` (milliseconds since
/// the epoch), for the live board; audited when there are any.
#[utoipa::path(get, path = "/api/v1/staff/operations/{id}/board", tag = "staff",
    params(("id" = String, Path, description = "The operation's id"), ("since" = Option<i64>, Query, description = "The `since` of the previous answer")),
    responses((status = 200, body = BoardResponse),
        (status = 400, description = "A query string that cannot be read", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token or session", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the operation's lead", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such operation", body = crate::problem::Problem, content_type = "application/problem+json")))]
pub async fn board(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, Query(query): Query<BoardQuery>) -> WebResult<Json<BoardResponse>> {
    let id: OperationId = path_id(&id)?;
    let since = query.since.unwrap_or(0);
    let (operation, records) = use_cases::operation_board(state.store(), &staff.caller, &id, Some(since)).await?;
    let names = user_names(&state, &operation).await?;
    let next = records.iter().map(|record| record.received_at_ms).max().unwrap_or(since).max(since);
    let records = records.iter().map(|record| record_line(&operation, record, &names)).collect();
    Ok(Json(BoardResponse { records, since: next }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document describes exactly the fields the server reads.
    #[test]
    fn the_documented_record_has_the_fields_the_server_reads() {
        let sent = serde_json::to_value(FieldRecordAnswers::default()).unwrap();
        let mut read: Vec<&str> = sent.as_object().unwrap().keys().map(String::as_str).collect();
        read.sort_unstable();
        let schema = serde_json::to_value(<FieldRecordSchema as utoipa::PartialSchema>::schema()).unwrap();
        let mut documented: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        documented.sort_unstable();
        assert_eq!(documented, read);
    }
}
