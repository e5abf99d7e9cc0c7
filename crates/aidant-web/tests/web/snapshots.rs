//! Snapshots (insta) of what clients and people read: the OpenAPI document,
//! the problem documents of the API's refusals, and a few key pages. A
//! change to any of them shows up as a diff to review; both backends must
//! give the same bytes.

use aidant_store::testing::TestDatabase;
use aidant_web::WebSettings;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::helpers::{app_with, send};

fn pretty(body: &str) -> String {
    serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(body).expect("a JSON body")).expect("JSON prints")
}

/// Replaces the values that differ on every request (the forms' CSRF
/// tokens) so a page can be compared.
fn without_secrets(html: &str) -> String {
    let mut page = html.to_owned();
    for field in ["csrf_token", "sign_in_token"] {
        let marker = format!("name=\"{field}\" value=\"");
        let mut kept = String::with_capacity(page.len());
        let mut rest = page.as_str();
        while let Some(start) = rest.find(&marker) {
            let value_start = start + marker.len();
            kept.push_str(&rest[..value_start]);
            kept.push_str("[token]");
            rest = &rest[value_start..];
            rest = &rest[rest.find('"').unwrap_or(0)..];
        }
        kept.push_str(rest);
        page = kept;
    }
    page
}

async fn the_openapi_document_is_as_reviewed(database: TestDatabase) {
    let app = app_with(&database.store, WebSettings::default());
    let answer = send(&app, Request::get("/api/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    insta::assert_snapshot!("openapi", pretty(&answer.body));
}

async fn problem_documents_are_as_reviewed(database: TestDatabase) {
    let app = app_with(&database.store, WebSettings::default());
    let cases = [
        ("not_found", Request::get("/api/v1/no-such-thing").body(Body::empty()).unwrap(), StatusCode::NOT_FOUND),
        (
            "wrong_media_type",
            Request::post("/api/v1/reports").header(header::CONTENT_TYPE, "text/plain").body(Body::from("{}")).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "invalid_answers",
            Request::post("/api/v1/reports")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({ "sector": "no_such_sector", "signs": ["no_such_sign"], "postcode": "not a postcode" }).to_string()))
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("not_signed_in", Request::get("/api/v1/staff/reports").body(Body::empty()).unwrap(), StatusCode::UNAUTHORIZED),
    ];
    for (name, request, status) in cases {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
        assert_eq!(answer.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json", "{name}");
        insta::assert_snapshot!(format!("problem_{name}"), pretty(&answer.body));
    }
}

async fn key_pages_are_as_reviewed(database: TestDatabase) {
    let app = app_with(&database.store, WebSettings::default());
    for (name, path) in [("start", "/"), ("call_999", "/report/call-999"), ("staff_sign_in", "/staff/sign-in")] {
        let answer = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        insta::assert_snapshot!(format!("page_{name}"), without_secrets(&answer.body));
    }
}

aidant_store::backend_tests!(the_openapi_document_is_as_reviewed, problem_documents_are_as_reviewed, key_pages_are_as_reviewed);
