//! What every web test does: build the application on a test database and
//! send it requests.

use aidant_store::Store;
use aidant_web::{AppState, WebSettings, router};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The whole application over `store`, with the shipped catalogue.
pub fn app_with(store: &Store, settings: WebSettings) -> axum::Router {
    router(AppState::new(store.clone(), aidant_store::testing::catalogue(), settings).expect("the built-in site loads"))
}

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub location: String,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// The value a `Set-Cookie` header gives the cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|cookie| cookie.strip_prefix(&format!("{name}="))).map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
    }
}

pub async fn send(app: &axum::Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let location = headers.get(header::LOCATION).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let set_cookies = headers.get_all(header::SET_COOKIE).iter().filter_map(|value| value.to_str().ok()).map(str::to_owned).collect();
    let body = String::from_utf8_lossy(&response.into_body().collect().await.expect("the body arrives").to_bytes()).into_owned();
    Answer { status, headers, location, set_cookies, body }
}

/// A same-origin form post, as a browser sends it.
pub fn form_post(path: &str, cookie: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").header("sec-fetch-site", "same-origin");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(body.into()).expect("a valid request")
}
