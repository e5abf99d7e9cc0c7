//! The JSON API under `/api/v1`.

pub mod json;
pub mod reports;
pub mod strict;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::routes::Routes;

/// The OpenAPI document, derived from the handlers and wire types.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Aidant API", description = "Report suspected modern slavery and read the indicator catalogue. Errors are RFC 9457 problem documents."),
    paths(reports::create, reports::indicators, crate::staff::api::queue, crate::staff::api::report, crate::staff::api::intelligence, crate::staff::api::search, crate::staff::charts::chart_data, crate::staff::charts::export_audit, crate::staff::field::bundle, crate::staff::field::sync, crate::staff::field::board),
    tags(
        (name = "reports", description = "Public reports and the signs to look out for"),
        (name = "staff", description = "The staff workspace: send a personal API token (created on your profile page) as `Authorization: Bearer <token>`")
    )
)]
pub struct ApiDoc;

/// The viewer's own page needs inline styles, so it gets a CSP of its own
/// (still no inline or third-party script, and everything served by us).
const DOCS_CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The OpenAPI document, as strict as the server: with a catalogue, a
/// report's `sector`, `signs` and `age_groups` list the values the server
/// takes, and `sector` is required; every other value is narrowed by
/// `strict::tighten` to the patterns, formats and limits the server checks.
pub fn document(catalogue: Option<&aidant_core::Catalogue>) -> serde_json::Value {
    let mut document = <ApiDoc as utoipa::OpenApi>::openapi();
    if let Some(catalogue) = catalogue {
        restrict_report_request(&mut document, catalogue);
    }
    let mut document = serde_json::to_value(&document).unwrap_or_default();
    strict::tighten(&mut document, catalogue);
    document
}

/// Writes the catalogue's choices into `ReportRequest`.
fn restrict_report_request(document: &mut utoipa::openapi::OpenApi, catalogue: &aidant_core::Catalogue) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    let Some(RefOr::T(Schema::Object(request))) = document.components.as_mut().and_then(|components| components.schemas.get_mut("ReportRequest")) else {
        return;
    };
    let one_of = |values: Vec<String>, description: &str| {
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).description(Some(description.to_owned())).build()
    };
    let sectors: Vec<String> = catalogue.sectors.iter().map(|sector| sector.id.to_string()).filter(|id| id != aidant_core::catalogue::GENERAL_SECTOR).collect();
    request.properties.insert("sector".to_owned(), one_of(sectors, "The kind of place, from the catalogue (`GET /api/v1/indicators`)").into());
    let signs: Vec<String> = catalogue.indicators.iter().map(|indicator| indicator.id.to_string()).collect();
    let signs = ArrayBuilder::new()
        .items(one_of(signs, "A sign's id from the catalogue"))
        .max_items(Some(aidant_core::report::limits::SIGNS))
        .description(Some("Signs seen, by their ids in the catalogue".to_owned()));
    request.properties.insert("signs".to_owned(), signs.build().into());
    let groups: Vec<String> = aidant_core::report::AGE_GROUPS.iter().map(|(id, _)| (*id).to_owned()).collect();
    let groups = ArrayBuilder::new().items(one_of(groups, "An age group")).description(Some("The ages of the people seen".to_owned()));
    request.properties.insert("age_groups".to_owned(), groups.build().into());
    if !request.required.iter().any(|name| name == "sector") {
        request.required.push("sector".to_owned());
    }
}

/// `/api/openapi.json` and the viewer at `/api/docs`, served offline from the binary.
pub fn documentation(catalogue: Option<&aidant_core::Catalogue>) -> Router<AppState> {
    let viewer = utoipa_swagger_ui::SwaggerUi::new("/api/docs").external_url_unchecked("/api/openapi.json", document(catalogue));
    Router::from(viewer).layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
    ))
}

pub fn routes(limit: Option<&crate::rate_limit::FloodGuard>) -> Routes {
    Routes::new().route("/api/v1/reports", &["POST"], crate::rate_limit::limited(post(reports::create), limit)).route(
        "/api/v1/indicators",
        &["GET"],
        get(reports::indicators),
    )
}
