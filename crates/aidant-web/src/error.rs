//! The one error type handlers return with `?`.
//!
//! A `WebError` becomes a problem document (RFC 9457) with its status.
//! On pages, `html::friendly_errors` then replaces that body with the
//! friendly page for a person, keeping quick exit: the staff message page
//! (with the signed-in user's navigation) under `/staff`, the public
//! message page elsewhere. Internal causes are logged here, without
//! personal data, and never reach the client.

use aidant_core::report::FieldError;
use aidant_store::StoreError;
use aidant_store::cases::CaseError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// Why a request failed.
#[derive(Debug)]
pub enum WebError {
    /// No such record; the page shows `title` and `text`.
    NotFound { title: &'static str, text: &'static str },
    /// The access policy refused (the refusal is already audited).
    Forbidden { reason: &'static str },
    /// Input that needs correcting, field by field.
    Invalid(Vec<FieldError>),
    /// A form that could not be read at all.
    UnreadableForm(String),
    /// A staff form without the session's CSRF token.
    FormExpired,
    /// The database is too busy to answer in time.
    Busy,
    /// Anything else on our side; the cause was logged.
    Internal,
}

pub type WebResult<T = Response> = Result<T, WebError>;

/// What a page shows for an error: status, heading and paragraph. Attached
/// to the response so the friendly-error layer can draw the page.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub title: String,
    pub text: String,
}

impl WebError {
    /// The generic "not found".
    pub fn not_found() -> Self {
        WebError::NotFound { title: "Not found", text: "There is no record at this address." }
    }

    /// The same error with a more precise "not found" page.
    pub fn or_not_found_as(self, title: &'static str, text: &'static str) -> Self {
        match self {
            WebError::NotFound { .. } => WebError::NotFound { title, text },
            other => other,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound { .. } => StatusCode::NOT_FOUND,
            WebError::Forbidden { .. } | WebError::FormExpired => StatusCode::FORBIDDEN,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::UnreadableForm(_) => StatusCode::BAD_REQUEST,
            WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        match self {
            WebError::NotFound { .. } => Problem::new(status, "Not found", "There is no record with this id."),
            WebError::Forbidden { reason } => Problem::new(status, "Forbidden", refusal_text(reason)),
            WebError::Invalid(errors) => Problem::invalid_fields(errors.clone()),
            WebError::UnreadableForm(reason) => Problem::new(status, "The form could not be read", format!("{reason}.")),
            WebError::FormExpired => Problem::new(status, "This form has expired", "Go back, reload the page and try again."),
            WebError::Busy => Problem::new(status, "Sorry, the service is busy", "Please try again in a minute."),
            WebError::Internal => Problem::internal(),
        }
    }

    /// The page a person sees, where it differs from the problem's wording.
    fn page(&self, problem: &Problem) -> ErrorPage {
        let (title, text) = match self {
            WebError::NotFound { title, text } => ((*title).to_owned(), (*text).to_owned()),
            WebError::Forbidden { reason } => ("You do not have access to this".to_owned(), refusal_text(reason)),
            _ => (problem.title.clone(), problem.detail.clone()),
        };
        ErrorPage { status: self.status(), title, text }
    }
}

fn refusal_text(reason: &str) -> String {
    format!("Access was refused because {reason}. The attempt has been recorded.")
}

/// An id from the address: one that cannot be an id of its kind names no
/// record, so it is "not found" without asking the database.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> WebResult<T> {
    raw.parse().map_err(|_| WebError::not_found())
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let page = self.page(&problem);
        let mut response = problem.into_response();
        response.extensions_mut().insert(page);
        response
    }
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        if error.is_busy() {
            tracing::warn!(error = %error, "the database was too busy to answer");
            return WebError::Busy;
        }
        tracing::error!(error = %error, "a store operation failed");
        WebError::Internal
    }
}

impl From<CaseError> for WebError {
    fn from(error: CaseError) -> Self {
        match error {
            CaseError::NotFound => WebError::not_found(),
            CaseError::Denied { reason } => WebError::Forbidden { reason },
            CaseError::Invalid(errors) => WebError::Invalid(errors),
            CaseError::Store(error) => error.into(),
        }
    }
}
