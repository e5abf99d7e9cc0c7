//! The web skeleton and the reports API, driven in memory through the real
//! router on both backends.

use aidant_store::testing::TestDatabase;
use aidant_web::WebSettings;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{app_with, send};

fn app(database: &TestDatabase) -> axum::Router {
    app_with(&database.store, WebSettings::default())
}

fn post_json(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path).header(header::CONTENT_TYPE, "application/json").body(body.into()).unwrap()
}

fn good_report() -> Value {
    json!({
        "sector": "nail_bar",
        "town": "Luton",
        "business_name": "Star Nails",
        "signs": ["workers_living_on_site", "controlling_manager"],
        "people_count": 3,
        "narrative": "Nguyễn looked frightened; the manager took her money. 😟"
    })
}

async fn health_and_readiness(database: TestDatabase) {
    let app = app(&database);
    let health = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = send(&app, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(ready.status, StatusCode::OK);
    database.store.close().await;
    let unready = send(&app, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(unready.status, StatusCode::SERVICE_UNAVAILABLE, "readiness follows the database");
    let still_alive = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(still_alive.status, StatusCode::OK, "liveness does not");
}

async fn security_headers_on_every_response(database: TestDatabase) {
    let app = app(&database);
    for request in [
        Request::get("/healthz").body(Body::empty()).unwrap(),
        Request::get("/no/such/page").body(Body::empty()).unwrap(),
        post_json("/api/v1/reports", "{not json"),
        post_json("/api/v1/reports", good_report().to_string()),
    ] {
        let answer = send(&app, request).await;
        let header = |name: &str| answer.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
        assert!(header("content-security-policy").contains("default-src 'self'"), "CSP on {}", answer.status);
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("cache-control"), "no-store");
    }
}

async fn a_report_is_accepted_and_stored(database: TestDatabase) {
    let app = app(&database);
    let answer = send(&app, post_json("/api/v1/reports", good_report().to_string())).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let reference = answer.json()["reference"].as_str().unwrap().to_owned();
    assert_eq!(reference.len(), 11);
    let stored = database.store.find_report_by_reference(&aidant_core::ReportRef::parse(&reference).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.narrative.as_deref(), Some("Nguyễn looked frightened; the manager took her money. 😟"));
    assert_eq!(stored.risk_level, aidant_core::RiskLevel::Medium);
    assert!(answer.json().get("urgent_advice").is_none());
}

async fn immediate_danger_gets_999_advice(database: TestDatabase) {
    let app = app(&database);
    let mut lorry =
        json!({"sector": "lorries_and_services", "location_description": "Toddington Services, northbound lorry park", "signs": ["banging_from_inside_lorry"]});
    let answer = send(&app, post_json("/api/v1/reports", lorry.to_string())).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert!(answer.json()["urgent_advice"].as_str().unwrap().contains("999"));
    lorry["signs"] = json!([]);
    lorry["immediate_danger"] = json!(true);
    let answer = send(&app, post_json("/api/v1/reports", lorry.to_string())).await;
    assert!(answer.json()["urgent_advice"].as_str().unwrap().contains("999"));
}

async fn a_resubmitted_token_returns_the_same_reference(database: TestDatabase) {
    let app = app(&database);
    let mut report = good_report();
    report["submission_token"] = json!("draft-7f3a");
    let first = send(&app, post_json("/api/v1/reports", report.to_string())).await;
    let second = send(&app, post_json("/api/v1/reports", report.to_string())).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(first.json()["reference"], second.json()["reference"]);
    assert_eq!(database.store.count_reports().await.unwrap(), 1);
}

async fn bad_requests_get_problem_documents_and_store_nothing(database: TestDatabase) {
    let app = app(&database);
    let oversized = json!({"sector": "nail_bar", "town": "Luton", "narrative": "x".repeat(70_000)}).to_string();
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        ("malformed JSON", post_json("/api/v1/reports", "{\"sector\": "), StatusCode::BAD_REQUEST, "not valid JSON"),
        (
            "wrong content type",
            Request::post("/api/v1/reports").header(header::CONTENT_TYPE, "text/plain").body(Body::from(good_report().to_string())).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        (
            "unknown field",
            post_json("/api/v1/reports", json!({"sector": "nail_bar", "town": "Luton", "ip_address": "1.2.3.4"}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ip_address",
        ),
        (
            "wrong type",
            post_json("/api/v1/reports", json!({"sector": "nail_bar", "town": "Luton", "people_count": "lots"}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "people_count",
        ),
        ("oversized body", post_json("/api/v1/reports", oversized), StatusCode::PAYLOAD_TOO_LARGE, "larger than"),
        ("invalid UTF-8", post_json("/api/v1/reports", vec![b'{', b'"', 0xff, 0xfe, b'"', b'}']), StatusCode::BAD_REQUEST, "JSON"),
        // serde would fill a struct from an array of its members; the document says objects.
        (
            "a body that is an array",
            post_json("/api/v1/reports", json!(["nail_bar", null, "Luton"]).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "JSON object",
        ),
        (
            "a vehicle as an array",
            post_json("/api/v1/reports", json!({"sector": "nail_bar", "town": "Luton", "vehicles": [["AB12CDE", null]]}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid type",
        ),
        (
            "contact details as an array",
            post_json("/api/v1/reports", json!({"sector": "nail_bar", "town": "Luton", "contact": [null, "07700 900982", null]}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid type",
        ),
        (
            "a count with a fraction",
            post_json("/api/v1/reports", json!({"sector": "nail_bar", "town": "Luton", "people_count": 2.5}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "whole number",
        ),
        (
            "a phone number padded past its length",
            post_json(
                "/api/v1/reports",
                json!({"sector": "nail_bar", "town": "Luton", "contact": {"phone": format!("{}07700 900982", " ".repeat(30))}}).to_string(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "need correcting",
        ),
    ];
    for (name, request, status, needle) in cases {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
        assert_eq!(answer.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json", "{name}");
        let problem = answer.json();
        let text = format!("{} {}", problem["title"], problem["detail"]);
        assert!(text.contains(needle), "{name}: {text}");
    }
    assert_eq!(database.store.count_reports().await.unwrap(), 0);
}

async fn invalid_answers_name_each_field(database: TestDatabase) {
    let app = app(&database);
    let report = json!({
        "sector": "moon_base",
        "postcode": "NOT A POSTCODE",
        "business_name": "Star\u{0007}Nails",
        "signs": ["invented_sign"],
        "vehicles": [{"registration": "AB12;DROP TABLE"}],
        "narrative": "y".repeat(5001),
    });
    let answer = send(&app, post_json("/api/v1/reports", report.to_string())).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = answer.json();
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["sector", "postcode", "business_name", "signs", "vehicles[0].registration", "narrative"]);
    let narrative = problem["errors"].as_array().unwrap().iter().find(|error| error["field"] == "narrative").unwrap();
    assert!(narrative["message"].as_str().unwrap().contains("5000"));
    assert_eq!(database.store.count_reports().await.unwrap(), 0);
}

async fn the_catalogue_is_served(database: TestDatabase) {
    let app = app(&database);
    let answer = send(&app, Request::get("/api/v1/indicators").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let catalogue = answer.json();
    assert!(catalogue["indicators"].as_array().unwrap().iter().any(|indicator| indicator["id"] == "banging_from_inside_lorry"));
    assert!(catalogue["sectors"].as_array().unwrap().len() >= 12);
}

async fn unknown_addresses_are_404_problems(database: TestDatabase) {
    let app = app(&database);
    let answer = send(&app, Request::get("/api/v1/nothing").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["status"], 404);
}

/// What the framework refuses before a handler runs is a problem document
/// too, in our words, with the headers that say what to do.
async fn framework_refusals_are_problem_documents(database: TestDatabase) {
    let app = app(&database);
    let cases: Vec<(&str, Request<Body>, StatusCode)> = vec![
        ("a method the address does not take", Request::delete("/api/v1/reports").body(Body::empty()).unwrap(), StatusCode::METHOD_NOT_ALLOWED),
        ("a method on the catalogue", Request::post("/api/v1/indicators").body(Body::empty()).unwrap(), StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (name, request, status) in cases {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
        assert_eq!(answer.headers[header::CONTENT_TYPE], "application/problem+json", "{name}: {}", answer.body);
        let problem = answer.json();
        assert_eq!(problem["status"], status.as_u16(), "{name}");
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{name}");
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(!answer.headers[header::ALLOW].is_empty(), "{name} keeps Allow");
        }
    }
    assert_eq!(database.store.count_reports().await.unwrap(), 0);
}

/// The document says what the server takes: a report's sector, signs and
/// age groups from the catalogue, and the sector required.
async fn the_openapi_document_lists_what_the_catalogue_allows(database: TestDatabase) {
    let app = app(&database);
    let document = send(&app, Request::get("/api/openapi.json").body(Body::empty()).unwrap()).await.json();
    let request = &document["components"]["schemas"]["ReportRequest"];
    assert_eq!(request["required"], json!(["sector"]));
    let sectors: Vec<&str> = request["properties"]["sector"]["enum"].as_array().unwrap().iter().map(|value| value.as_str().unwrap()).collect();
    assert!(sectors.contains(&"nail_bar") && !sectors.contains(&"general"), "{sectors:?}");
    let signs = request["properties"]["signs"]["items"]["enum"].as_array().unwrap();
    assert!(signs.iter().any(|sign| sign == "workers_living_on_site"));
    assert_eq!(request["properties"]["age_groups"]["items"]["enum"], json!(["under_18", "18_to_24", "25_and_over", "not_sure"]));
    // And the server holds to it: a sector outside the list is refused.
    let refused = send(&app, post_json("/api/v1/reports", json!({"sector": "spaceport", "town": "Luton"}).to_string())).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Where it was: the document needs a postcode, a town or a description, as the server does.
    let places: Vec<&str> = request["anyOf"].as_array().unwrap().iter().map(|branch| branch["required"][0].as_str().unwrap()).collect();
    assert_eq!(places, ["postcode", "town", "location_description"]);
    let nowhere = send(&app, post_json("/api/v1/reports", json!({"sector": "nail_bar", "town": "  "}).to_string())).await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(request["properties"]["postcode"]["pattern"].as_str().unwrap().contains("[Ll]"), "postcode areas in any case");
    // A whole number written with a zero fraction is a whole number, as JSON Schema counts it.
    let written = send(&app, post_json("/api/v1/reports", json!({"sector": "nail_bar", "town": "Luton", "people_count": 3.0}).to_string())).await;
    assert_eq!(written.status, StatusCode::CREATED, "{}", written.body);
    let staff = &document["paths"]["/api/v1/staff/reports"]["get"]["parameters"];
    let risk = staff.as_array().unwrap().iter().find(|parameter| parameter["name"] == "risk").unwrap();
    assert_eq!(risk["schema"]["enum"], json!(["immediate", "high", "medium", "low"]));
}

aidant_store::backend_tests!(
    framework_refusals_are_problem_documents,
    the_openapi_document_lists_what_the_catalogue_allows,
    health_and_readiness,
    security_headers_on_every_response,
    a_report_is_accepted_and_stored,
    immediate_danger_gets_999_advice,
    a_resubmitted_token_returns_the_same_reference,
    bad_requests_get_problem_documents_and_store_nothing,
    invalid_answers_name_each_field,
    the_catalogue_is_served,
    unknown_addresses_are_404_problems,
);
