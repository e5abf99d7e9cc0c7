//! A JSON extractor whose every rejection is a problem document naming what
//! was wrong: wrong content type, malformed JSON, an unknown or mistyped
//! member, or a body over the limit.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};

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
        match Json::<serde_json::Value>::from_request(request, state).await {
            Ok(Json(value)) => from_object(value).map(ApiJson),
            Err(rejection) => Err(problem_for(rejection)),
        }
    }
}

/// The body as `T`, which must come from a JSON object: serde would also
/// fill a struct from an array of its members in order (`[["AB12CDE",
/// null]]` for a vehicle), which the document does not allow and a client
/// could only send by mistake.
fn from_object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Problem> {
    let shape = |detail: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "JSON does not match the expected shape", detail);
    if !value.is_object() {
        return Err(shape("The body must be a JSON object".to_owned()));
    }
    // The path names the member ("people_count: invalid type ..."), as
    // axum's own extractor does.
    serde_path_to_error::deserialize(value).map_err(|error| shape(error.to_string()))
}

/// For `deserialize_with`: members that are objects, each read as `T`
/// (never from an array, see `from_object`).
pub fn objects<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Vec<T>, D::Error> {
    let maps = Vec::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)?;
    maps.into_iter().map(|map| serde_json::from_value(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)).collect()
}

/// For `deserialize_with`: an optional object read as `T`.
pub fn optional_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Option<T>, D::Error> {
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)? {
        Some(map) => serde_json::from_value(serde_json::Value::Object(map)).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// The largest whole number JSON carries exactly (2^53 - 1).
pub const MAX_WHOLE_NUMBER: u64 = (1 << 53) - 1;

/// For `deserialize_with`: a whole number of 0 or more, written `3` or
/// `3.0` (JSON Schema counts both as integers, and so do we).
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(whole) = number.as_u64().filter(|whole| *whole <= MAX_WHOLE_NUMBER) {
        return Ok(whole);
    }
    let exact = number.as_f64().filter(|float| *float >= 0.0 && float.fract() == 0.0 && *float <= MAX_WHOLE_NUMBER as f64);
    exact.map(|float| float as u64).ok_or_else(|| serde::de::Error::custom(format!("must be a whole number from 0 to {MAX_WHOLE_NUMBER}")))
}

/// For `deserialize_with`: an optional whole number (see `whole_number`).
pub fn optional_whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] u64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(whole)| whole))
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
    Json::<serde_json::Value>::from_bytes(body).map_err(problem_for).and_then(|Json(value)| from_object(value))
}
