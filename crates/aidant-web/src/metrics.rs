//! Metrics for operators, in Prometheus's text format, served on a listener
//! of their own (`metrics_listen`), never on the public one.
//!
//! Labels hold only what the code chose, never what a request carried: the
//! method from a fixed list, the route's template (`/staff/reports/{id}`,
//! not the id; "unmatched" for any path no route knows) and the status. So
//! no reference, name, phone number, postcode, search term or address can
//! reach a label, however a request is written.

use std::sync::atomic::AtomicI64;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

/// A request's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// A route's labels, for latencies.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// Latency buckets in seconds, from 5 ms to 10 s.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// What one process counts.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    entity_jobs_waiting: Gauge<i64, AtomicI64>,
    entity_jobs_parked: Gauge<i64, AtomicI64>,
    report_writes_failed: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("aidant");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by method, route template and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register("http_request_duration_seconds", "Time to answer a request, by method and route template", latency.clone());
        let entity_jobs_waiting = Gauge::<i64, AtomicI64>::default();
        registry.register("entity_jobs_waiting", "Records waiting for the entity worker, read from the database at each scrape", entity_jobs_waiting.clone());
        let entity_jobs_parked = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "entity_jobs_parked",
            "Entity jobs that failed for the last time and wait for an operator, read from the database at each scrape",
            entity_jobs_parked.clone(),
        );
        let report_writes_failed = Counter::default();
        registry.register("report_writes_failed", "Public reports this process could not store (answered 503)", report_writes_failed.clone());
        Metrics { registry, requests, latency, entity_jobs_waiting, entity_jobs_parked, report_writes_failed }
    }
}

impl Metrics {
    /// Counts a public report that could not be stored.
    pub fn report_write_failed(&self) {
        self.report_writes_failed.inc();
    }

    fn observe(&self, method: &'static str, route: &str, status: StatusCode, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { method, route: route.to_owned(), status: status.as_u16() }).inc();
        self.latency.get_or_create(&RouteLabels { method, route: route.to_owned() }).observe(seconds);
    }
}

/// The method as a label: one of a fixed list.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request the application answers.
pub async fn record(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics().observe(method, &route, response.status(), started.elapsed().as_secs_f64());
    response
}

/// The metrics listener's application: `GET /metrics` and nothing else.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let metrics = state.metrics();
    match state.store().entity_queue_counts().await {
        Ok(counts) => {
            metrics.entity_jobs_waiting.set(counts.waiting);
            metrics.entity_jobs_parked.set(counts.parked);
        }
        Err(error) => tracing::warn!(error = %error, "could not read the entity queue for metrics"),
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
