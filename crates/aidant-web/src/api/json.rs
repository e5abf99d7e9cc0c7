//! A JSON extractor whose every rejection is a problem document naming what
//! was wrong: wrong content type, malformed JSON, an unknown or mistyped
//! member, or a body over the limit.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Like `axum::Json`, but rejections are RFC 9457 problems.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(problem_for(rejection)),
        }
    }
}

fn problem_for(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Wrong content type", "Send the body as JSON with the header Content-Type: application/json.")
        }
        JsonRejection::JsonSyntaxError(error) => {
            Problem::new(StatusCode::BAD_REQUEST, "Malformed JSON", format!("The body is not valid JSON: {}", source_message(&error)))
        }
        JsonRejection::JsonDataError(error) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "JSON does not match the expected shape", source_message(&error)),
        JsonRejection::BytesRejection(error) => {
            let status = error.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(status, "Request too large", "The body is larger than this service accepts (64 KiB).")
            } else {
                Problem::new(status, "The body could not be read", "The request body could not be read; please try again.")
            }
        }
        other => Problem::new(other.status(), "The body could not be read", "The request body could not be read as JSON."),
    }
}

/// serde_json's own message ("unknown field `x`, expected one of ... at line
/// 1 column 20"), which names the member and never echoes values.
fn source_message(error: &dyn std::error::Error) -> String {
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

/// A JSON body already read, parsed with the same problems as [`ApiJson`]:
/// for handlers that must check who is asking before reading what they ask.
pub fn parse_body<T: DeserializeOwned>(headers: &axum::http::HeaderMap, body: &[u8]) -> Result<T, Problem> {
    let json = headers.get(axum::http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
        let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
    });
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Wrong content type",
            "Send the body as JSON with the header Content-Type: application/json.",
        ));
    }
    Json::<T>::from_bytes(body).map(|Json(value)| value).map_err(problem_for)
}
