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

/// An error answer on the API as a problem document: the framework's own
/// refusals (a query string or body it cannot read, a method the address
/// does not take, a body over the limit) come as plain text in its own
/// words; they become problem documents in ours, keeping headers such as
/// `Allow` and `Retry-After`. Problem documents and JSON pass unchanged.
pub fn as_problem(response: Response) -> Response {
    let is_json = response.headers().get(axum::http::header::CONTENT_TYPE).is_some_and(|value| {
        let value = value.as_bytes();
        value.starts_with(b"application/problem+json") || value.starts_with(b"application/json")
    });
    if is_json {
        return response;
    }
    let status = response.status();
    let (title, detail) = match status {
        StatusCode::BAD_REQUEST => {
            ("Request not readable", "The query string or body could not be read; check it against the API document at /api/openapi.json.")
        }
        StatusCode::NOT_FOUND => ("Not found", "There is nothing at this address."),
        StatusCode::METHOD_NOT_ALLOWED => ("Method not allowed", "This address does not take that method; the Allow header lists those it takes."),
        StatusCode::REQUEST_TIMEOUT => ("Request timed out", "The request took longer than this service allows."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Request too large", "The body is larger than this service accepts."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("Unsupported media type", "Send the body as application/json."),
        StatusCode::TOO_MANY_REQUESTS => ("Too many requests", "Too many requests from one place in a short time; wait and try again."),
        status if status.is_server_error() => ("Something went wrong", "The service could not answer; nothing was changed. Try again later."),
        _ => ("Request refused", "The request cannot be answered as sent."),
    };
    let (parts, _) = response.into_parts();
    let mut problem = Problem::new(status, title, detail).into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The framework's refusals as it writes them: plain text in its own words.
    fn framework_refusal(status: StatusCode, words: &'static str) -> Response {
        let mut response = (status, words).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        response
    }

    #[test]
    fn framework_refusals_become_problem_documents_in_our_words() {
        for (status, words) in [
            (StatusCode::BAD_REQUEST, "Failed to deserialize query string: page: number too large to fit in target type"),
            (StatusCode::PAYLOAD_TOO_LARGE, "Failed to buffer the request body: length limit exceeded"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Expected request with `Content-Type: application/json`"),
        ] {
            let answer = as_problem(framework_refusal(status, words));
            assert_eq!(answer.status(), status);
            assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/problem+json");
            assert_eq!(answer.headers()[header::RETRY_AFTER], "60", "headers that say what to do are kept");
        }
        let ours = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Check your answers", "x").into_response();
        assert_eq!(as_problem(ours).headers()[header::CONTENT_TYPE], "application/problem+json");
    }
}
