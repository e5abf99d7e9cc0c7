//! Cross-cutting layers: security headers, body limits, timeouts, panic
//! recovery and request tracing that records no personal data.

use std::any::Any;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::WebSettings;
use crate::problem::Problem;

/// The Content-Security-Policy on every response: our own origin only, no
/// inline script, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn static_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// Where a body may be larger than the service's limit: a link chart
/// carries up to 2,500 entities with their positions. Only signed-in staff
/// get past these routes' first extractor, which reads no body.
pub const CHART_PATHS: [&str; 2] = ["/staff/charts", "/api/v1/staff/charts"];
/// The body limit on [`CHART_PATHS`].
pub const CHART_BODY_LIMIT: usize = 1024 * 1024;

/// The body limit for a path.
fn body_limit(path: &str, settings_limit: usize) -> usize {
    if CHART_PATHS.iter().any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/"))) {
        CHART_BODY_LIMIT.max(settings_limit)
    } else {
        settings_limit
    }
}

/// Wraps every route in the layers (innermost first).
pub fn apply<S: Clone + Send + Sync + 'static>(router: Router<S>, settings: &WebSettings) -> Router<S> {
    let settings_limit = settings.body_limit_bytes;
    router
        .layer(DefaultBodyLimit::max(CHART_BODY_LIMIT.max(settings_limit)))
        .layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| async move {
            // Bodies are cut off at the path's limit, whatever reads them
            // (an extractor that reads past it answers 413).
            let limit = body_limit(request.uri().path(), settings_limit);
            let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()).and_then(|value| value.parse::<u64>().ok());
            if declared.is_some_and(|length| length > limit as u64) {
                return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "Request too large", "The body is larger than this service accepts.").into_response();
            }
            let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
            next.run(request).await
        }))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, settings.request_timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)))
        .layer(static_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(static_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(static_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(static_header(HeaderName::from_static("cross-origin-opener-policy"), "same-origin"))
        .layer(static_header(HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), interest-cohort=()"))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    // The route template, never the path or query: those can
                    // carry references or search terms.
                    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
                    tracing::info_span!("request", method = %request.method(), route = %route)
                })
                .on_request(())
                .on_response(|response: &Response<_>, latency: std::time::Duration, _span: &tracing::Span| {
                    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "answered");
                })
                .on_failure(()),
        )
}

/// A panic becomes a generic 500: the payload may contain anything, so it is
/// not logged either, only the fact.
fn panic_response(_payload: Box<dyn Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked");
    Problem::internal().into_response()
}
