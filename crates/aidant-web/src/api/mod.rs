//! The JSON API under `/api/v1`.

pub mod json;
pub mod reports;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::routes::Routes;

/// The OpenAPI document, derived from the handlers and wire types.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Aidant API", description = "Report suspected modern slavery and read the indicator catalogue. Errors are RFC 9457 problem documents."),
    paths(reports::create, reports::indicators, crate::staff::api::queue, crate::staff::api::report, crate::staff::api::intelligence, crate::staff::api::search, crate::staff::charts::chart_data, crate::staff::charts::export_audit),
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

/// `/api/openapi.json` and the viewer at `/api/docs`, served offline from the binary.
pub fn documentation() -> Router<AppState> {
    let viewer = utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", <ApiDoc as utoipa::OpenApi>::openapi());
    Router::from(viewer).layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
    ))
}

pub fn routes(limit: Option<crate::rate_limit::Layer>) -> Routes {
    Routes::new().route("/api/v1/reports", &["POST"], post(reports::create).layer(tower::util::option_layer(limit))).route(
        "/api/v1/indicators",
        &["GET"],
        get(reports::indicators),
    )
}
