//! The public site driven in memory through the real router on both
//! backends: bad form input, cross-site posts, flood protection, drafts
//! sealed at rest, and the OpenAPI document.

use aidant_store::testing::TestDatabase;
use aidant_web::WebSettings;
use aidant_web::rate_limit::RateLimit;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::helpers::{app_with, form_post, send};

fn app(database: &TestDatabase, rate_limit: RateLimit) -> axum::Router {
    app_with(&database.store, WebSettings { rate_limit, ..WebSettings::default() })
}

/// Starts a report and answers the first two questions; returns the draft cookie.
async fn start_draft(app: &axum::Router) -> String {
    let started = send(app, form_post("/report/start", None, "")).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let set_cookie = started.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict") && set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert_eq!(send(app, form_post("/report/danger", Some(&cookie), "immediate_danger=no")).await.status, StatusCode::SEE_OTHER);
    assert_eq!(send(app, form_post("/report/place", Some(&cookie), "sector=car_wash")).await.status, StatusCode::SEE_OTHER);
    cookie
}

async fn every_public_page_renders_with_safe_headers(database: TestDatabase) {
    let app = app(&database, RateLimit::default());
    for path in [
        "/",
        "/get-help",
        "/get-help?lang=sq",
        "/safety",
        "/cookies",
        "/feedback",
        "/signs",
        "/signs/cannabis_farm",
        "/exploitation",
        "/exploitation/criminal",
        "/follow-up",
    ] {
        let answer = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.headers.get(header::CACHE_CONTROL).unwrap(), "no-store", "{path}");
        assert!(answer.body.contains("Exit this page") || answer.body.contains("Dilni nga kjo faqe"), "{path} has quick exit");
        assert!(!answer.body.contains("<script>"), "{path} has inline script");
    }
    let missing = send(&app, Request::get("/signs/moon_base").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found") && missing.body.contains("Exit this page"));
    let staff_missing = send(&app, Request::get("/staff/victims/no/such/page").body(Body::empty()).unwrap()).await;
    assert_eq!(staff_missing.status, StatusCode::NOT_FOUND);
    assert!(staff_missing.body.contains("Aidant staff workspace") && staff_missing.body.contains("Page not found"), "{}", staff_missing.body);
    assert!(!staff_missing.body.contains("Exit this page"), "a workspace address that does not exist keeps the workspace's layout");
}

async fn form_errors_name_the_field_and_keep_the_answer(database: TestDatabase) {
    let app = app(&database, RateLimit::default());
    let cookie = start_draft(&app).await;
    let control = send(&app, form_post("/report/where", Some(&cookie), "town=Luton&business_name=Sparkle%07Wash")).await;
    assert_eq!(control.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(control.body.contains("govuk-error-summary") && control.body.contains("href=\"#business_name\""), "error summary links to the field");
    assert!(control.body.contains("Business name contains a line break or a control character"));
    let long = "x".repeat(5001);
    let _ = send(&app, form_post("/report/where", Some(&cookie), "town=Luton")).await;
    let _ = send(&app, form_post("/report/signs", Some(&cookie), "")).await;
    let _ = send(&app, form_post("/report/people", Some(&cookie), "")).await;
    let _ = send(&app, form_post("/report/vehicles", Some(&cookie), "")).await;
    let too_long = send(&app, form_post("/report/what-happened", Some(&cookie), format!("narrative={long}"))).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains("5000 characters or fewer (you entered 5001)"));
    assert!(too_long.body.contains(&long), "the long answer is kept to be shortened");
    let kept =
        send(&app, form_post("/report/what-happened", Some(&cookie), "narrative=%E4%BD%A0%E5%A5%BD+%F0%9F%98%80+Nguy%E1%BB%85n+%D7%A9%D7%9C%D7%95%D7%9D"))
            .await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER, "unusual Unicode is accepted");
    let check = send(&app, Request::get("/report/check").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert!(check.body.contains("你好 😀 Nguyễn שלום"), "and kept exactly");
}

async fn bad_bodies_get_clear_pages(database: TestDatabase) {
    let app = app(&database, RateLimit::default());
    let cookie = start_draft(&app).await;
    let not_utf8 = send(&app, form_post("/report/where", Some(&cookie), "town=%FF%FE")).await;
    assert_eq!(not_utf8.status, StatusCode::BAD_REQUEST);
    assert!(not_utf8.body.contains("not valid text"), "{}", not_utf8.body);
    let huge = format!("narrative={}", "y".repeat(70_000));
    let too_large = send(&app, form_post("/report/what-happened", Some(&cookie), huge)).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.body.contains("What you sent is too long") && too_large.body.contains("Exit this page"));
}

async fn a_double_submit_sends_one_report(database: TestDatabase) {
    let app = app(&database, RateLimit::default());
    let cookie = start_draft(&app).await;
    for (path, body) in [
        ("/report/where", "town=Luton"),
        ("/report/signs", ""),
        ("/report/people", ""),
        ("/report/vehicles", ""),
        ("/report/what-happened", ""),
        ("/report/contact", "contact_choice=anonymous"),
    ] {
        assert_eq!(send(&app, form_post(path, Some(&cookie), body)).await.status, StatusCode::SEE_OTHER, "{path}");
    }
    let (first, second) = tokio::join!(send(&app, form_post("/report/check", Some(&cookie), "")), send(&app, form_post("/report/check", Some(&cookie), "")));
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(database.store.count_reports().await.unwrap(), 1);
}

async fn cross_site_posts_are_refused(database: TestDatabase) {
    let app = app(&database, RateLimit::default());
    let cross_site = Request::post("/report/start").header("sec-fetch-site", "cross-site").body(Body::empty()).unwrap();
    assert_eq!(send(&app, cross_site).await.status, StatusCode::FORBIDDEN);
    let other_origin =
        Request::post("/feedback").header(header::HOST, "aidant.example").header(header::ORIGIN, "https://evil.example").body(Body::from("body=hi")).unwrap();
    assert_eq!(send(&app, other_origin).await.status, StatusCode::FORBIDDEN);
    assert_eq!(database.store.count_feedback().await.unwrap(), 0);
}

async fn floods_are_limited(database: TestDatabase) {
    let app = app(&database, RateLimit { per_minute: 1, burst: 3 });
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(send(&app, form_post("/report/start", None, "")).await.status);
    }
    assert_eq!(
        statuses,
        vec![StatusCode::SEE_OTHER, StatusCode::SEE_OTHER, StatusCode::SEE_OTHER, StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS]
    );
    let page = send(&app, form_post("/report/start", None, "")).await;
    assert!(page.body.contains("Please wait a minute") && page.body.contains("999"), "a person gets a page");
    let api = send(&app, Request::post("/api/v1/reports").header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")).unwrap()).await;
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS, "the limit is shared across record-creating routes");
    assert_eq!(api.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json");
}

async fn drafts_are_sealed_at_rest(database: TestDatabase) {
    let app = app(&database, RateLimit::default());
    let cookie = start_draft(&app).await;
    let secret = "DraftSecretZamfirescu";
    assert_eq!(send(&app, form_post("/report/where", Some(&cookie), format!("town=Luton&business_name={secret}"))).await.status, StatusCode::SEE_OTHER);
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT sealed_answers FROM report_drafts").fetch_all(database.store.pool()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].windows(secret.len()).any(|window| window == secret.as_bytes()), "draft answers are not stored in clear");
    let exit = send(&app, Request::get("/exit").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(exit.status, StatusCode::SEE_OTHER);
    assert_eq!(exit.headers.get(header::LOCATION).unwrap(), aidant_web::DEFAULT_EXIT_URL);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_drafts").fetch_one(database.store.pool()).await.unwrap();
    assert_eq!(left, 0, "quick exit discards the draft on the server");
}

async fn the_openapi_document_and_viewer_are_served(database: TestDatabase) {
    let app = app(&database, RateLimit::default());
    let document = send(&app, Request::get("/api/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(document.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&document.body).unwrap();
    assert!(json["paths"]["/api/v1/reports"]["post"]["responses"]["422"].is_object());
    assert!(json["components"]["schemas"]["ReportRequest"]["properties"]["submission_token"].is_object());
    let viewer = send(&app, Request::get("/api/docs/").body(Body::empty()).unwrap()).await;
    assert_eq!(viewer.status, StatusCode::OK);
    assert!(viewer.body.contains("swagger-ui"));
    assert!(!viewer.body.contains("https://"), "the viewer loads nothing from other sites");
}

/// A report a reporter can come back to with "harbour-lemon-quiet-river".
async fn report_with_passphrase(store: &aidant_store::Store) -> aidant_store::reports::Receipt {
    let catalogue = aidant_store::testing::catalogue();
    let answers = aidant_core::report::ReportAnswers { sector: Some("car_wash".into()), town: Some("Luton".into()), ..Default::default() };
    let report = aidant_core::NewReport::parse(&answers, &catalogue).unwrap();
    let triage = report.triage(&catalogue);
    let hash = aidant_store::identity::hash_passphrase("harbour-lemon-quiet-river").unwrap();
    let submission = aidant_store::reports::Submission {
        report: &report,
        triage: &triage,
        catalogue_version: &catalogue.version,
        submission_token: None,
        passphrase_hash: Some(&hash),
    };
    store.insert_report(&submission, &mut aidant_store::testing::reference_bits()).await.unwrap()
}

/// Twenty wrong passphrases in a row pause a reference, but the answer is the one a
/// made-up reference gets, so it tells no one that the reference exists;
/// and flood protection counts each client behind a trusted proxy.
async fn a_paused_reference_reads_like_a_made_up_one(database: TestDatabase) {
    let receipt = report_with_passphrase(&database.store).await;
    // Many sources at once, as a determined attacker would be: no source
    // waits here, so the report's own pause is what is tested.
    let patient = aidant_web::backoff::BackoffPolicy { free_failures: 1_000, ..Default::default() };
    let app = app_with(&database.store, WebSettings { rate_limit: RateLimit { per_minute: 0, burst: 0 }, guess_backoff: patient, ..WebSettings::default() });
    let attempt = |reference: String, passphrase: &'static str| {
        let app = app.clone();
        async move { send(&app, form_post("/follow-up", None, format!("reference={reference}&passphrase={passphrase}"))).await }
    };
    let summary = |body: &str| {
        let start = body.find("govuk-error-summary__list").expect("an error summary");
        body[start..start + 400].to_owned()
    };
    let made_up = attempt("ACD-379-KMW".to_owned(), "wrong-words-here-now").await;
    for _ in 0..aidant_store::public_site::FOLLOW_UP_ATTEMPTS - 1 {
        attempt(receipt.reference.to_string(), "wrong-words-here-now").await;
    }
    let before_the_pause = attempt(receipt.reference.to_string(), "harbour-lemon-quiet-river").await;
    assert_eq!(before_the_pause.status, StatusCode::SEE_OTHER, "fewer wrong tries than the pause needs do not shut the reporter out");
    for _ in 0..aidant_store::public_site::FOLLOW_UP_ATTEMPTS {
        attempt(receipt.reference.to_string(), "wrong-words-here-now").await;
    }
    let paused = attempt(receipt.reference.to_string(), "harbour-lemon-quiet-river").await;
    assert_eq!(paused.status, made_up.status);
    assert!(!paused.body.contains("Your report"), "paused: even the right passphrase waits");
    assert_eq!(summary(&paused.body), summary(&made_up.body), "a pause reads like a reference that does not exist");
}

/// Wrong passphrases from one source make it wait, longer after each; the
/// wait reads the same for a real and a made-up reference, does not pause
/// the report for its owner elsewhere, and another source is not held back.
async fn guesses_from_one_source_wait_longer_each_time(database: TestDatabase) {
    let store = &database.store;
    let receipt = report_with_passphrase(store).await;
    let policy = aidant_web::backoff::BackoffPolicy { free_failures: 3, first_delay: std::time::Duration::from_secs(30), ..Default::default() };
    let app = app_with(store, WebSettings { rate_limit: RateLimit { per_minute: 0, burst: 0 }, guess_backoff: policy, ..WebSettings::default() });
    let from = |peer: &str, reference: &str, passphrase: &str| {
        let mut request = form_post("/follow-up?lang=ro", None, format!("reference={reference}&passphrase={passphrase}"));
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer.parse::<std::net::SocketAddr>().unwrap()));
        let app = app.clone();
        async move { send(&app, request).await }
    };
    let attacker = "198.51.100.7:40000";
    let real = receipt.reference.to_string();
    for attempt in 0..4 {
        let reference = if attempt % 2 == 0 { real.as_str() } else { "ACD-379-KMW" };
        let answer = from(attacker, reference, "wrong-words-here-now").await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {attempt} is checked");
    }
    let waiting_real = from(attacker, &real, "harbour-lemon-quiet-river").await;
    let waiting_made_up = from(attacker, "ACD-379-KMW", "wrong-words-here-now").await;
    assert_eq!(waiting_real.status, StatusCode::TOO_MANY_REQUESTS, "past the free tries the source waits, even with the right words");
    assert!(!waiting_real.body.contains("Raportul dumneavoastră"), "nothing is opened while waiting");
    assert_eq!(waiting_real.headers.get(header::RETRY_AFTER).map(|value| value.to_str().unwrap().to_owned()), Some("30".to_owned()));
    assert!(waiting_real.body.contains("Așteptați 30 s"), "told how long, in the reporter's language");
    assert_eq!(waiting_made_up.status, waiting_real.status);
    let summary = |body: &str| {
        let start = body.find("govuk-error-summary__list").expect("an error summary");
        body[start..start + 400].to_owned()
    };
    assert_eq!(summary(&waiting_made_up.body), summary(&waiting_real.body), "a wait says nothing about which references exist");
    // The reporter, from their own connection, is not shut out.
    let owner = from("203.0.113.20:51000", &real, "harbour-lemon-quiet-river").await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "the owner elsewhere still gets in");
    // IPv6 neighbours in one /64 are one source.
    for _ in 0..4 {
        from("[2001:db8:5:6::1]:443", "ACD-379-KMW", "wrong-words-here-now").await;
    }
    assert_eq!(from("[2001:db8:5:6::ffff]:443", &real, "harbour-lemon-quiet-river").await.status, StatusCode::TOO_MANY_REQUESTS);
}

/// Behind a trusted proxy each client has its own flood counter; a header
/// from anyone else is ignored.
async fn flood_protection_counts_clients_behind_a_trusted_proxy(database: TestDatabase) {
    let proxy: std::net::SocketAddr = "10.0.0.2:50000".parse().unwrap();
    let settings = WebSettings {
        rate_limit: RateLimit { per_minute: 1, burst: 2 },
        trusted_proxies: vec![aidant_web::rate_limit::parse_proxy("10.0.0.0/8").unwrap()],
        ..WebSettings::default()
    };
    let app = app_with(&database.store, settings);
    let from = |peer: std::net::SocketAddr, client: &str| {
        let mut request = form_post("/report/start", None, "");
        request.headers_mut().insert("x-forwarded-for", client.parse().unwrap());
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        request
    };
    let mut first = Vec::new();
    for _ in 0..3 {
        first.push(send(&app, from(proxy, "203.0.113.1")).await.status);
    }
    assert_eq!(first[2], StatusCode::TOO_MANY_REQUESTS, "one client's third post in a minute: {first:?}");
    assert_ne!(send(&app, from(proxy, "203.0.113.2")).await.status, StatusCode::TOO_MANY_REQUESTS, "another client behind the same proxy is not held back");
    // An untrusted peer cannot get a fresh counter by writing the header.
    let outsider: std::net::SocketAddr = "198.51.100.7:40000".parse().unwrap();
    let mut statuses = Vec::new();
    for client in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        statuses.push(send(&app, from(outsider, client)).await.status);
    }
    assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

aidant_store::backend_tests!(
    a_paused_reference_reads_like_a_made_up_one,
    guesses_from_one_source_wait_longer_each_time,
    flood_protection_counts_clients_behind_a_trusted_proxy,
    every_public_page_renders_with_safe_headers,
    form_errors_name_the_field_and_keep_the_answer,
    bad_bodies_get_clear_pages,
    a_double_submit_sends_one_report,
    cross_site_posts_are_refused,
    floods_are_limited,
    drafts_are_sealed_at_rest,
    the_openapi_document_and_viewer_are_served,
);
