//! The front-end assets built from `web/` by build.rs and embedded in the
//! binary: served with long caching, since their names change with releases.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(asset, _, _)| *asset == name) {
        Some((_, content_type, bytes)) => {
            let mut response = (StatusCode::OK, *bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An asset's bytes by its file name.
pub fn find(name: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(asset, _, _)| *asset == name).map(|(_, _, bytes)| *bytes)
}
