//! Errors on the API as RFC 9457 problem documents
//! (`application/problem+json`), with field-level detail where the client's
//! input was at fault. Internal errors never reveal their cause to the
//! client: the cause is logged (without personal data) and the client gets a
//! generic message.

use aidant_core::report::FieldError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl Problem {
    pub fn new(status: StatusCode, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { kind: "about:blank", title: title.into(), status: status.as_u16(), detail: detail.into(), errors: Vec::new() }
    }

    /// 422 with one entry per field in error.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let count = errors.len();
        let mut problem =
            Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Some answers need correcting", format!("{count} answer(s) need correcting; see errors."));
        problem.errors = errors.into_iter().map(|error| FieldProblem { field: error.field, message: error.message }).collect();
        problem
    }

    /// 500 with nothing of the cause.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sorry, there was a technical problem",
            "Please try again. Nothing you sent has been lost if you try again.",
        )
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// A store failure becomes a logged 500 (or 503 when the database is away).
impl From<aidant_store::StoreError> for Problem {
    fn from(error: aidant_store::StoreError) -> Self {
        tracing::error!(error = %error, "store operation failed");
        if error.is_busy() {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Sorry, the service is busy", "Please try again in a minute.")
        } else {
            Problem::internal()
        }
    }
}
