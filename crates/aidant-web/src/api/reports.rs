//! `POST /api/v1/reports` and `GET /api/v1/indicators`: the same validation
//! and triage as the public form, for partner systems and apps.

use aidant_core::NewReport;
use aidant_core::report::{ContactAnswer, ReportAnswers, SubmissionToken, VehicleAnswer};
use aidant_store::report_writer::OwnedSubmission;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::json::ApiJson;
use crate::problem::Problem;

/// The advice shown before anything else when someone may be in danger now.
pub const CALL_999_ADVICE: &str = "If someone is in immediate danger, call 999 now.";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleRequest {
    pub registration: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A report as a client sends it. Member names match the form's field names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub sector: Option<String>,
    pub postcode: Option<String>,
    pub town: Option<String>,
    pub location_description: Option<String>,
    pub business_name: Option<String>,
    #[serde(default)]
    pub signs: Vec<String>,
    #[serde(default, deserialize_with = "super::json::optional_whole_number")]
    #[schema(value_type = Option<u32>)]
    pub people_count: Option<u64>,
    #[serde(default)]
    pub age_groups: Vec<String>,
    pub people_description: Option<String>,
    #[serde(default, deserialize_with = "super::json::objects")]
    pub vehicles: Vec<VehicleRequest>,
    pub narrative: Option<String>,
    pub when_seen: Option<String>,
    #[serde(default)]
    pub immediate_danger: bool,
    #[serde(default, deserialize_with = "super::json::optional_object")]
    pub contact: Option<ContactRequest>,
    /// Any unique string per draft; resending the same token returns the
    /// first report's reference instead of creating another.
    pub submission_token: Option<String>,
}

impl ReportRequest {
    fn into_answers(self) -> (ReportAnswers, Option<String>) {
        let answers = ReportAnswers {
            sector: self.sector,
            postcode: self.postcode,
            town: self.town,
            location_description: self.location_description,
            business_name: self.business_name,
            signs: self.signs,
            people_count: self.people_count.map(|count| count.to_string()),
            age_groups: self.age_groups,
            people_description: self.people_description,
            vehicles: self.vehicles.into_iter().map(|vehicle| VehicleAnswer { registration: vehicle.registration, description: vehicle.description }).collect(),
            narrative: self.narrative,
            when_seen: self.when_seen,
            immediate_danger: self.immediate_danger,
            contact: self.contact.map(|contact| ContactAnswer { name: contact.name, phone: contact.phone, email: contact.email }),
        };
        (answers, self.submission_token)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportCreated {
    /// The reference to quote, like `ACD-379-KMW`.
    pub reference: String,
    /// Present, and first, when the report says someone may be in danger now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent_advice: Option<&'static str>,
}

/// Report a concern. The same validation and triage as the public form;
/// answers 201 with the reference, or 200 with the first report's reference
/// when `submission_token` repeats an earlier submission.
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "reports",
    request_body = ReportRequest,
    responses(
        (status = 201, description = "The report is stored durably", body = ReportCreated),
        (status = 200, description = "This submission token was already used; the first report's reference", body = ReportCreated),
        (status = 400, description = "The body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the service accepts", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Some answers need correcting; `errors` names each field", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports from one place in a short time", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(State(state): State<AppState>, ApiJson(request): ApiJson<ReportRequest>) -> Result<Response, Problem> {
    let (answers, submission_token) = request.into_answers();
    let submission_token = submission_token.as_deref().map(SubmissionToken::parse).transpose().map_err(|error| Problem::invalid_fields(vec![error]))?;
    let catalogue = state.catalogue();
    let report = NewReport::parse(&answers, catalogue).map_err(Problem::invalid_fields)?;
    let triage = report.triage(catalogue);
    let risk = triage.level;
    let submission = OwnedSubmission { report, triage, catalogue_version: catalogue.version.clone(), submission_token, passphrase_hash: None };
    let receipt = state.submit_report(submission).await?;
    tracing::info!(risk = risk.as_str(), created = receipt.created, "report received");
    let urgent = risk == aidant_core::RiskLevel::Immediate;
    let status = if receipt.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ReportCreated { reference: receipt.reference.to_string(), urgent_advice: urgent.then_some(CALL_999_ADVICE) })).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView<'a> {
    id: &'a str,
    sectors: &'a [String],
    public: &'a str,
    staff: &'a str,
    tags: &'a [String],
    ilo: &'a [String],
    source: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectorView<'a> {
    id: &'a str,
    name: &'a str,
    place_label: &'a str,
    exploitation_types: &'a [String],
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueView<'a> {
    version: &'a str,
    sectors: Vec<SectorView<'a>>,
    indicators: Vec<IndicatorView<'a>>,
}

/// The catalogue of signs, for clients that build their own forms.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "reports", responses((status = 200, description = "The indicator catalogue in force", body = CatalogueView)))]
pub async fn indicators(State(state): State<AppState>) -> Response {
    let catalogue = state.catalogue();
    let view = CatalogueView {
        version: &catalogue.version,
        sectors: catalogue
            .sectors
            .iter()
            .map(|sector| SectorView { id: &sector.id, name: &sector.name, place_label: &sector.place_label, exploitation_types: &sector.exploitation_types })
            .collect(),
        indicators: catalogue
            .indicators
            .iter()
            .map(|indicator| IndicatorView {
                id: &indicator.id,
                sectors: &indicator.sectors,
                public: &indicator.public,
                staff: &indicator.staff,
                tags: &indicator.tags,
                ilo: &indicator.ilo,
                source: &indicator.source,
            })
            .collect(),
    };
    Json(view).into_response()
}
