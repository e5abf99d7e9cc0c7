//! Aidant's web tier: the public site, the staff workspace and the JSON API.
//!
//! Only this crate knows HTTP, HTML and JSON wire formats. Handlers are thin:
//! they convert wire types to core types, call the store, and convert back.
//! `router` builds the whole application without a socket, so tests drive it
//! in memory; `serve` runs it on a listener with graceful shutdown.

pub mod api;
pub mod assets;
pub mod backoff;
pub mod error;
pub mod html;
pub mod metrics;
pub mod middleware;
pub mod oidc;
pub mod pages;
pub mod problem;
pub mod rate_limit;
pub mod routes;
pub mod staff;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aidant_core::Catalogue;
use aidant_store::Store;
use aidant_store::report_writer::{ReportWriter, ReportWriterOptions};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

/// GOV.UK's "Exit this page" default: a neutral, innocuous site.
pub const DEFAULT_EXIT_URL: &str = "https://www.bbc.co.uk/weather";

/// Limits and timeouts the web tier enforces.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Longest a request may take before it is answered with 408.
    pub request_timeout: Duration,
    /// The neutral site quick exit replaces the page with.
    pub exit_url: String,
    /// Flood protection on the public endpoints that create records.
    pub rate_limit: rate_limit::RateLimit,
    /// Flood protection on staff sign-in, per address (beside the
    /// per-account lockout in `sign_in`).
    pub sign_in_rate_limit: rate_limit::RateLimit,
    /// Lockout and session timeouts for staff.
    pub sign_in: aidant_store::identity::SignInPolicy,
    /// Reverse proxies whose `X-Forwarded-For` is believed, so the limits
    /// above count each client rather than the proxy.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Growing delays per source for wrong staff passwords and wrong
    /// reporters' passphrases (`backoff`).
    pub guess_backoff: backoff::BackoffPolicy,
    /// Review periods by kind of record (MoPI).
    pub retention: aidant_core::retention::ReviewPeriods,
    /// Identity providers staff may sign in through (none: passwords only).
    pub single_sign_on: oidc::Settings,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            exit_url: DEFAULT_EXIT_URL.to_owned(),
            rate_limit: rate_limit::RateLimit::default(),
            sign_in_rate_limit: rate_limit::RateLimit::default(),
            sign_in: aidant_store::identity::SignInPolicy::default(),
            retention: aidant_core::retention::ReviewPeriods::default(),
            trusted_proxies: Vec::new(),
            guess_backoff: backoff::BackoffPolicy::default(),
            single_sign_on: oidc::Settings::default(),
        }
    }
}

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    report_writer: ReportWriter,
    catalogue: Catalogue,
    settings: WebSettings,
    site: html::Site,
    /// Wrong staff passwords per source.
    staff_guesses: backoff::Backoff,
    /// Wrong reporters' passphrases per source.
    reporter_guesses: backoff::Backoff,
    /// The OpenID Connect client and its cached discovery documents.
    sso: oidc::Sso,
    /// What this process counts for operators.
    metrics: metrics::Metrics,
}

impl AppState {
    /// Fails only if the built-in templates or message catalogues are
    /// broken. Must be called inside a Tokio runtime: it starts the
    /// group-commit writer that every public report goes through.
    pub fn new(store: Store, catalogue: Catalogue, settings: WebSettings) -> Result<Self, html::SiteError> {
        let site = html::Site::load(&settings.exit_url)?;
        let report_writer = ReportWriter::spawn(store.clone(), ReportWriterOptions::default());
        let staff_guesses = backoff::Backoff::new(settings.guess_backoff);
        let reporter_guesses = backoff::Backoff::new(settings.guess_backoff);
        let sso = oidc::Sso::new(&settings.single_sign_on);
        let metrics = metrics::Metrics::default();
        Ok(Self { inner: Arc::new(Inner { store, report_writer, catalogue, settings, site, staff_guesses, reporter_guesses, sso, metrics }) })
    }

    /// Stores a public report through the group-commit writer, counting a
    /// failure for operators.
    pub async fn submit_report(
        &self,
        submission: aidant_store::report_writer::OwnedSubmission,
    ) -> Result<aidant_store::reports::Receipt, aidant_store::StoreError> {
        let stored = self.inner.report_writer.submit(submission).await;
        if stored.is_err() {
            self.inner.metrics.report_write_failed();
        }
        stored
    }

    /// What this process counts for operators.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    pub fn settings(&self) -> &WebSettings {
        &self.inner.settings
    }

    pub fn site(&self) -> &html::Site {
        &self.inner.site
    }

    /// Wrong staff passwords, counted per source.
    pub fn staff_guesses(&self) -> &backoff::Backoff {
        &self.inner.staff_guesses
    }

    /// Wrong reporters' passphrases, counted per source.
    pub fn reporter_guesses(&self) -> &backoff::Backoff {
        &self.inner.reporter_guesses
    }

    /// The OpenID Connect client for single sign-on.
    pub fn sso(&self) -> &oidc::Sso {
        &self.inner.sso
    }
}

/// Every route of the application, with the list of them.
/// Flood limits count in `store` when it is PostgreSQL, so that every
/// process on it shares them, and in memory otherwise.
fn all_routes(settings: &WebSettings, catalogue: Option<&Catalogue>, store: Option<&Store>) -> routes::Routes {
    let limit = rate_limit::FloodGuard::new("public", settings.rate_limit, &settings.trusted_proxies, store);
    let sign_in_limit = rate_limit::FloodGuard::new("sign_in", settings.sign_in_rate_limit, &settings.trusted_proxies, store);
    let viewer = [
        routes::RouteEntry { methods: &["GET"], path: "/api/docs" },
        routes::RouteEntry { methods: &["GET"], path: "/api/docs/{*rest}" },
        routes::RouteEntry { methods: &["GET"], path: "/api/openapi.json" },
    ];
    routes::Routes::new()
        .route("/healthz", &["GET"], get(healthz))
        .route("/readyz", &["GET"], get(readyz))
        .route("/assets/{name}", &["GET"], get(assets::serve))
        .merge(api::routes(limit.as_ref()))
        .merge_router(api::documentation(catalogue), &viewer)
        .merge(pages::routes(limit.as_ref()))
        .merge(staff::routes(sign_in_limit.as_ref()))
}

/// The list of every route the application answers, for the
/// every-route authorisation test.
pub fn route_book() -> Vec<routes::RouteEntry> {
    let unlimited = rate_limit::RateLimit { per_minute: 0, burst: 0 };
    all_routes(&WebSettings { rate_limit: unlimited, sign_in_rate_limit: unlimited, ..WebSettings::default() }, None, None).entries().to_vec()
}

/// Builds the whole application.
pub fn router(state: AppState) -> Router {
    let settings = state.settings().clone();
    let routes = all_routes(&settings, Some(state.catalogue()), Some(state.store()))
        .into_router()
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), html::friendly_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(axum::middleware::from_fn(html::refuse_cross_site));
    middleware::apply(routes, &settings).with_state(state)
}

/// Liveness: the process is up and answering.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found() -> Response {
    problem::Problem::new(StatusCode::NOT_FOUND, "Not found", "There is nothing at this address.").into_response()
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting connections and lets requests in flight finish.
/// Serves `metrics::router` for operators on a listener of its own until
/// the process ends.
pub async fn serve_metrics(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, metrics::router(state)).await
}

pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    // The peer address reaches handlers only for in-memory rate limiting.
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(shutdown).await
}
