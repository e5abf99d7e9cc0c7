//! The JSON API under `/api/v1`.

pub mod json;
pub mod reports;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/reports", post(reports::create)).route("/indicators", get(reports::indicators))
}
