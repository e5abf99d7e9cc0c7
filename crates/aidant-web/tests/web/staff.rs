//! Staff sign-in and sessions through the real router, on SQLite and
//! PostgreSQL: lockout and rate limiting, sessions that end at sign-out,
//! session ids cycled at sign-in, the second factor, cookie attributes,
//! CSRF and cross-site refusals.

use aidant_core::audit::AuditActor;
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_store::Store;
use aidant_store::identity::{SignInPolicy, totp_code};
use aidant_store::testing::TestDatabase;
use aidant_web::WebSettings;
use aidant_web::rate_limit::RateLimit;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::helpers::{Answer, app_with as app, send};

const PASSWORD: &str = "a long enough password";

/// No flood limit and no waits per source: the tests come from one place.
fn unlimited() -> WebSettings {
    WebSettings {
        sign_in_rate_limit: RateLimit { per_minute: 0, burst: 0 },
        guess_backoff: aidant_web::backoff::BackoffPolicy { free_failures: 1_000, ..Default::default() },
        ..WebSettings::default()
    }
}

fn get(path: &str, cookies: &str) -> Request<Body> {
    Request::get(path).header(header::COOKIE, cookies).body(Body::empty()).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn post(path: &str, cookies: &str, form: String) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(form))
        .unwrap()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-' { (byte as char).to_string() } else { format!("%{byte:02X}") })
        .collect()
}

/// Opens the sign-in page and posts the form as a browser would.
async fn sign_in(app: &axum::Router, email: &str, password: &str, earlier_cookies: &str) -> Answer {
    let page = send(app, get("/staff/sign-in", earlier_cookies)).await;
    let token = page.cookie("__Host-aidant_sign_in").expect("the sign-in page sets its token cookie");
    assert!(page.body.contains(&token), "the form carries the same token");
    let cookies = format!("__Host-aidant_sign_in={token}; {earlier_cookies}");
    send(app, post("/staff/sign-in", &cookies, format!("sign_in_token={token}&email={}&password={}", encode(email), encode(password)))).await
}

fn csrf_from(body: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker).expect("a form with a CSRF token") + marker.len();
    body[start..start + 64].to_owned()
}

async fn setup(store: &Store) -> (aidant_core::ids::OrganisationId, aidant_core::ids::UserId) {
    let force = store.create_organisation("Force", OrganisationKind::PoliceForce).await.unwrap();
    store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap();
    let user = store.create_user(&force.id, "handler@force.example", "Handler", &[Role::CallHandler]).await.unwrap();
    store.set_password(&user.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    (force.id, user.id)
}

async fn signing_in_and_out_ends_the_session(database: TestDatabase) {
    let store = &database.store;
    setup(store).await;
    let app = app(store, unlimited());
    let planted = store.create_session(&store.find_user_by_email("handler@force.example").await.unwrap().unwrap().id, true).await.unwrap();
    let answer = sign_in(&app, "handler@force.example", PASSWORD, &format!("__Host-aidant_session={planted}")).await;
    assert_eq!((answer.status, answer.location.as_str()), (StatusCode::SEE_OTHER, "/staff"));
    let raw_cookie = answer.set_cookies.iter().find(|cookie| cookie.starts_with("__Host-aidant_session=")).unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(raw_cookie.contains(attribute), "the session cookie is {attribute}: {raw_cookie}");
    }
    let session = answer.cookie("__Host-aidant_session").unwrap();
    assert_ne!(session, planted, "a new session id at sign-in");
    assert!(store.find_session(&planted, &SignInPolicy::default()).await.unwrap().is_none(), "the id the browser held before is ended");

    let cookies = format!("__Host-aidant_session={session}");
    let queue = send(&app, get("/staff", &cookies)).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.body.contains("Triage queue"));
    let csrf = csrf_from(&queue.body);

    let forged = send(&app, post("/staff/sign-out", &cookies, "csrf_token=wrong".to_owned())).await;
    assert_eq!(send(&app, get("/staff", &cookies)).await.status, StatusCode::OK, "a sign-out without the token does nothing ({})", forged.status);

    let out = send(&app, post("/staff/sign-out", &cookies, format!("csrf_token={csrf}"))).await;
    assert_eq!((out.status, out.location.as_str()), (StatusCode::SEE_OTHER, "/staff/sign-in?signed_out=1"));
    assert_eq!(out.cookie("__Host-aidant_session").as_deref(), Some(""), "the cookie is cleared");
    let stolen = send(&app, get("/staff", &cookies)).await;
    assert_eq!((stolen.status, stolen.location.as_str()), (StatusCode::SEE_OTHER, "/staff/sign-in"), "a stolen session id stops working after sign-out");
}

/// Wrong passwords from one source make it wait, whichever accounts it
/// tries (real or made up), without the password being checked; another
/// source signs in to the same account at once.
async fn wrong_passwords_from_one_source_wait(database: TestDatabase) {
    let store = &database.store;
    setup(store).await;
    let policy = aidant_web::backoff::BackoffPolicy { free_failures: 2, first_delay: std::time::Duration::from_secs(20), ..Default::default() };
    let app = app(store, WebSettings { guess_backoff: policy, ..unlimited() });
    let from = |peer: &'static str, email: &'static str, password: &'static str| {
        let app = app.clone();
        async move {
            let form = send(&app, get("/staff/sign-in", "")).await;
            let token = form.cookie("__Host-aidant_sign_in").expect("a sign-in token");
            let cookies = format!("__Host-aidant_sign_in={token}");
            let mut request = post("/staff/sign-in", &cookies, format!("sign_in_token={token}&email={}&password={}", encode(email), encode(password)));
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer.parse::<std::net::SocketAddr>().unwrap()));
            send(&app, request).await
        }
    };
    let attacker = "198.51.100.7:40000";
    for email in ["nobody@force.example", "handler@force.example", "someone@force.example"] {
        assert_eq!(from(attacker, email, "not the password").await.status, StatusCode::UNPROCESSABLE_ENTITY, "{email} is checked");
    }
    let waiting = from(attacker, "handler@force.example", PASSWORD).await;
    assert_eq!(waiting.status, StatusCode::TOO_MANY_REQUESTS, "past the free tries even the right password waits");
    assert!(waiting.cookie("__Host-aidant_session").is_none());
    assert!(waiting.body.contains("Too many wrong tries have come from your connection. Wait 20 seconds"), "told how long");
    assert_eq!(waiting.headers.get(header::RETRY_AFTER).unwrap(), "20");
    let waiting_unknown = from(attacker, "nobody@force.example", "not the password").await;
    assert_eq!(waiting_unknown.status, StatusCode::TOO_MANY_REQUESTS, "the same for an account that does not exist");
    let owner = from("203.0.113.20:51000", "handler@force.example", PASSWORD).await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "the owner, elsewhere, signs in: one wrong password on their account was not enough to pause it");
    assert!(owner.cookie("__Host-aidant_session").is_some());
}

async fn wrong_passwords_lock_the_account(database: TestDatabase) {
    let store = &database.store;
    setup(store).await;
    let settings = WebSettings { sign_in: SignInPolicy { max_failures: 3, ..SignInPolicy::default() }, ..unlimited() };
    let app = app(store, settings);
    for attempt in 1..=2 {
        let answer = sign_in(&app, "handler@force.example", "not the password", "").await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {attempt}");
        assert!(answer.body.contains("Enter a correct email address and password"));
        assert!(answer.body.contains("govuk-error-summary"));
    }
    let third = sign_in(&app, "handler@force.example", "not the password", "").await;
    let right = sign_in(&app, "handler@force.example", PASSWORD, "").await;
    assert_eq!(right.status, StatusCode::UNPROCESSABLE_ENTITY, "the right password alone does not open a paused account");
    assert!(right.cookie("__Host-aidant_session").is_none());
    // A made-up address tried as often gets the very same answer, so the
    // answer never tells anyone that an account exists or is paused.
    let mut unknown = sign_in(&app, "nobody@force.example", PASSWORD, "").await;
    for _ in 0..3 {
        unknown = sign_in(&app, "nobody@force.example", "not the password", "").await;
    }
    let message = |answer: &crate::helpers::Answer| {
        let start = answer.body.find("govuk-error-summary__list").expect("an error summary");
        answer.body[start..start + 600].to_owned()
    };
    assert_eq!(message(&third), message(&unknown), "paused and unknown accounts read the same");
    assert_eq!(message(&right), message(&unknown));
    assert!(third.body.contains("pauses for 15 minutes") && third.body.contains("your password and a code still work"));
    let blank = sign_in(&app, "", "", "").await;
    assert!(blank.body.contains("Enter your email address") && blank.body.contains("Enter your password"));
    let without_token = send(&app, post("/staff/sign-in", "", format!("email=handler%40force.example&password={}", encode(PASSWORD)))).await;
    assert!(without_token.cookie("__Host-aidant_session").is_none(), "a sign-in post without the page's token is refused");
}

async fn sign_in_attempts_are_rate_limited(database: TestDatabase) {
    let store = &database.store;
    setup(store).await;
    let settings = WebSettings { sign_in_rate_limit: RateLimit { per_minute: 1, burst: 2 }, ..WebSettings::default() };
    let app = app(store, settings);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(sign_in(&app, "handler@force.example", "wrong", "").await.status);
    }
    assert_eq!(&statuses[..2], [StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNPROCESSABLE_ENTITY]);
    assert!(statuses[2..].iter().all(|status| *status == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

async fn the_second_factor_is_asked_for_and_can_be_required(database: TestDatabase) {
    let store = &database.store;
    let (force_id, user_id) = setup(store).await;
    let app = app(store, unlimited());
    store.set_require_second_factor(&force_id, true, &AuditActor::Cli).await.unwrap();
    let first = sign_in(&app, "handler@force.example", PASSWORD, "").await;
    assert_eq!(first.location, "/staff/sign-in/enrol", "a required second factor is set up first");
    let cookies = format!("__Host-aidant_session={}", first.cookie("__Host-aidant_session").unwrap());
    assert_eq!(send(&app, get("/staff", &cookies)).await.location, "/staff/sign-in/enrol", "nothing else opens before it is set up");
    let page = send(&app, get("/staff/sign-in/enrol", &cookies)).await;
    let marker = "name=\"secret\" value=\"";
    let start = page.body.find(marker).unwrap() + marker.len();
    let secret_text = page.body[start..].split('"').next().unwrap().to_owned();
    let secret = aidant_store::identity::decode_totp_secret(&secret_text).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let csrf = csrf_from(&page.body);
    let enrolled =
        send(&app, post("/staff/sign-in/enrol", &cookies, format!("csrf_token={csrf}&secret={secret_text}&code={}", totp_code(&secret, now).unwrap()))).await;
    assert_eq!(enrolled.location, "/staff");
    assert_eq!(send(&app, get("/staff", &cookies)).await.status, StatusCode::OK);

    let second = sign_in(&app, "handler@force.example", PASSWORD, "").await;
    assert_eq!(second.location, "/staff/sign-in/code");
    let cookies = format!("__Host-aidant_session={}", second.cookie("__Host-aidant_session").unwrap());
    let code_page = send(&app, get("/staff/sign-in/code", &cookies)).await;
    let csrf = csrf_from(&code_page.body);
    let wrong = send(&app, post("/staff/sign-in/code", &cookies, format!("csrf_token={csrf}&code=12345"))).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let next_step = totp_code(&secret, now + 30).unwrap();
    let right = send(&app, post("/staff/sign-in/code", &cookies, format!("csrf_token={csrf}&code={next_step}"))).await;
    assert_eq!(right.location, "/staff");
    assert_eq!(send(&app, get("/staff", &cookies)).await.status, StatusCode::OK);
    let history: Vec<String> = store.audit_history("user", user_id.as_str()).await.unwrap().into_iter().map(|entry| entry.entry.action).collect();
    assert!(history.contains(&"user.second_factor_enrolled".to_owned()), "{history:?}");
}

async fn cross_site_and_tokenless_posts_change_nothing(database: TestDatabase) {
    let store = &database.store;
    setup(store).await;
    let app = app(store, unlimited());
    let answers = aidant_core::report::ReportAnswers { sector: Some("car_wash".into()), town: Some("Luton".into()), ..Default::default() };
    let receipt = aidant_store::testing::submit_report(store, &answers, None).await;
    let signed_in = sign_in(&app, "handler@force.example", PASSWORD, "").await;
    let cookies = format!("__Host-aidant_session={}", signed_in.cookie("__Host-aidant_session").unwrap());
    let page = send(&app, get(&format!("/staff/reports/{}", receipt.report_id), &cookies)).await;
    let csrf = csrf_from(&page.body);
    let path = format!("/staff/reports/{}/reply", receipt.report_id);
    let cross_site = Request::post(&path)
        .header(header::COOKIE, &cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header(header::ORIGIN, "https://attacker.example")
        .body(Body::from(format!("csrf_token={csrf}&reply=Come+to+the+car+park")))
        .unwrap();
    assert_eq!(send(&app, cross_site).await.status, StatusCode::FORBIDDEN, "a cross-site form post is refused");
    let tokenless = send(&app, post(&path, &cookies, "reply=Come+to+the+car+park".to_owned())).await;
    assert_eq!(tokenless.status, StatusCode::FORBIDDEN, "a post without the CSRF token is refused");
    assert!(store.report_messages(&receipt.report_id).await.unwrap().is_empty(), "nothing was written");
    let empty = send(&app, post(&path, &cookies, format!("csrf_token={csrf}&reply=+"))).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Enter a reply"));
    let sent = send(&app, post(&path, &cookies, format!("csrf_token={csrf}&reply=Thank+you.+We+are+looking+into+it."))).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(store.report_messages(&receipt.report_id).await.unwrap()[0].body, "Thank you. We are looking into it.");
}

async fn a_reset_password_must_be_changed_before_anything_else(database: TestDatabase) {
    let store = &database.store;
    let (_, user_id) = setup(store).await;
    let app = app(store, unlimited());
    let older = sign_in(&app, "handler@force.example", PASSWORD, "").await.cookie("__Host-aidant_session").unwrap();
    let token = store.create_api_token(&user_id, "laptop").await.unwrap();
    const TEMPORARY: &str = "one-time password from the admin";
    store.set_temporary_password(&user_id, TEMPORARY, &AuditActor::Cli).await.unwrap();
    assert!(store.find_session(&older, &SignInPolicy::default()).await.unwrap().is_none(), "a reset ends sessions");
    assert!(store.user_for_api_token(&token).await.unwrap().is_none(), "a reset revokes API tokens");

    let answer = sign_in(&app, "handler@force.example", TEMPORARY, "").await;
    let session = answer.cookie("__Host-aidant_session").unwrap();
    let cookies = format!("__Host-aidant_session={session}");
    for path in ["/staff", "/staff/search?q=nail", "/staff/profile"] {
        let refused = send(&app, get(path, &cookies)).await;
        assert_eq!((refused.status, refused.location.as_str()), (StatusCode::SEE_OTHER, "/staff/profile/password"), "{path} waits for the change");
    }
    let api = send(&app, get("/api/v1/staff/reports", &cookies)).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "the API refuses the session too");
    let page = send(&app, get("/staff/profile/password", &cookies)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your administrator set the password"));
    assert!(!page.body.contains("id=\"navigation\""), "no way into the workspace from the page");
    let csrf = csrf_from(&page.body);

    let change = |current: &str, new: &str, confirm: &str| {
        post(
            "/staff/profile/password",
            &cookies,
            format!("csrf_token={csrf}&current_password={}&new_password={}&confirm_password={}", encode(current), encode(new), encode(confirm)),
        )
    };
    let short = send(&app, change(TEMPORARY, "too short", "too short")).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("New password must be 12 characters or more") && short.body.contains("govuk-error-summary"));
    let mismatch = send(&app, change(TEMPORARY, "a brand new password", "a brand new passwork")).await;
    assert!(mismatch.body.contains("Enter the same new password again"));
    let same = send(&app, change(TEMPORARY, TEMPORARY, TEMPORARY)).await;
    assert!(same.body.contains("Choose a password different from your current one"));
    let wrong = send(&app, change("not the current one", "a brand new password", "a brand new password")).await;
    assert!(wrong.body.contains("Your current password is wrong"));
    let tokenless = send(
        &app,
        post(
            "/staff/profile/password",
            &cookies,
            format!("current_password={}&new_password=a+brand+new+password&confirm_password=a+brand+new+password", encode(TEMPORARY)),
        ),
    )
    .await;
    assert_eq!(tokenless.status, StatusCode::FORBIDDEN, "the change needs the CSRF token");
    assert_eq!(send(&app, get("/staff", &cookies)).await.location, "/staff/profile/password", "nothing changed yet");

    let other = store.create_session(&user_id, true).await.unwrap();
    let changed = send(&app, change(TEMPORARY, "a brand new password", "a brand new password")).await;
    assert_eq!((changed.status, changed.location.as_str()), (StatusCode::SEE_OTHER, "/staff/profile?password_changed=1"));
    assert_eq!(send(&app, get("/staff", &cookies)).await.status, StatusCode::OK, "the workspace opens and this session stays");
    assert!(store.find_session(&other, &SignInPolicy::default()).await.unwrap().is_none(), "other sessions end");
    assert_eq!(sign_in(&app, "handler@force.example", TEMPORARY, "").await.status, StatusCode::UNPROCESSABLE_ENTITY, "the one-time password is spent");
    assert_eq!(sign_in(&app, "handler@force.example", "a brand new password", "").await.location, "/staff");
    let history: Vec<String> = store.audit_history("user", user_id.as_str()).await.unwrap().into_iter().map(|entry| entry.entry.action).collect();
    assert!(history.contains(&"user.password_reset".to_owned()) && history.contains(&"user.password_changed".to_owned()), "{history:?}");
}

/// The force that runs the service sees the entity worker's queue on its
/// administrators' page and can queue parked records again; another
/// organisation's administrator sees no queue and is refused the retry.
async fn administrators_see_and_retry_records_the_worker_could_not_read(database: TestDatabase) {
    let store = &database.store;
    let (force, _) = setup(store).await;
    let admin = store.create_user(&force, "admin@force.example", "Admin", &[Role::Administrator]).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    let glaa_admin = store.create_user(&glaa.id, "admin@glaa.example", "GLAA Admin", &[Role::Administrator]).await.unwrap();
    sqlx::query("INSERT INTO entity_jobs (id, record_kind, record_id, attempts, run_after, parked, last_error, created_at) VALUES ('stuck', 'report', 'r-1', 6, 0, 1, 'the job names a record of unknown kind', 0)")
        .execute(store.pool())
        .await
        .unwrap();
    let app = app(store, unlimited());
    let cookie = format!("__Host-aidant_session={}", store.create_session(&admin.id, true).await.unwrap());
    let page = send(&app, get("/staff/admin/users", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("0 waiting, 1 that could not be read"), "{}", page.body);
    assert!(page.body.contains("the job names a record of unknown kind"));
    let retried = send(&app, post("/staff/admin/entity-jobs/retry", &cookie, format!("csrf_token={}", csrf_from(&page.body)))).await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    let counts = store.entity_queue_counts().await.unwrap();
    assert_eq!((counts.waiting, counts.parked), (1, 0));

    let other = format!("__Host-aidant_session={}", store.create_session(&glaa_admin.id, true).await.unwrap());
    let page = send(&app, get("/staff/admin/users", &other)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("entity-queue"), "another organisation's administrator sees no queue");
    let refused = send(&app, post("/staff/admin/entity-jobs/retry", &other, format!("csrf_token={}", csrf_from(&page.body)))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// The `href` of the link with `rel="{rel}"`, as a browser would follow it.
fn link(body: &str, rel: &str) -> Option<String> {
    let marker = format!("\" rel=\"{rel}\"");
    let end = body.find(&marker)?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(body[start..end].replace("&amp;", "&").replace("&#x2f;", "/"))
}

fn report_links(body: &str) -> Vec<String> {
    body.match_indices("href=\"/staff/reports/").map(|(at, _)| body[at + 21..at + 57].to_owned()).collect()
}

async fn the_queue_and_search_reach_every_report_a_page_at_a_time(database: TestDatabase) {
    let store = &database.store;
    let (_, user_id) = setup(store).await;
    let app = app(store, unlimited());
    let mut received = Vec::new();
    for index in 0..61_i64 {
        let answers = aidant_core::report::ReportAnswers {
            sector: Some("car_wash".into()),
            town: Some("Luton".into()),
            narrative: Some(format!("The kettle in unit {index} is always cold.")),
            ..aidant_core::report::ReportAnswers::default()
        };
        let receipt = aidant_store::testing::submit_report(store, &answers, None).await;
        received.push((receipt.report_id, 1_790_000_000_000 + index * 3_600_000));
    }
    store.set_received_times(&received).await.unwrap();
    let cookies = format!("__Host-aidant_session={}", store.create_session(&user_id, true).await.unwrap());

    // The queue, newest first, page by page and back.
    let first = send(&app, get("/staff?order=newest", &cookies)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("61 reports match"), "a true count");
    let mut seen = report_links(&first.body);
    assert_eq!(seen.len(), 50);
    assert_eq!(seen[0], received[60].0.as_str(), "newest first");
    assert!(link(&first.body, "prev").is_none());
    let next = link(&first.body, "next").expect("a next page");
    assert!(next.contains("order=newest"), "the order is kept: {next}");
    let second = send(&app, get(&next, &cookies)).await;
    seen.extend(report_links(&second.body));
    let mut expected: Vec<String> = received.iter().rev().map(|(id, _)| id.to_string()).collect();
    assert_eq!(seen, expected, "every report once, in order");
    assert!(link(&second.body, "next").is_none());
    let back = send(&app, get(&link(&second.body, "prev").expect("a previous page"), &cookies)).await;
    assert_eq!(report_links(&back.body), report_links(&first.body));

    // A date range, and dates that are not dates.
    let day = send(&app, get("/staff?status=all&from=2026-09-21&to=2026-09-21", &cookies)).await;
    let in_day = report_links(&day.body).len();
    assert!(day.body.contains(&format!("{in_day} reports match")) && in_day > 0 && in_day < 61, "one day's reports: {in_day}");
    let wrong = send(&app, get("/staff?from=2026-02-30&to=yesterday&order=sideways&after=nonsense", &cookies)).await;
    assert_eq!(wrong.status, StatusCode::OK, "a bad filter is a message, not a failed page");
    for message in ["Enter the from date as a real date", "Enter the to date as a real date", "Select an order from the list", "That page link is not valid"] {
        assert!(wrong.body.contains(message), "{message}");
    }
    assert!(wrong.body.contains("govuk-error-summary") && wrong.body.contains("href=\"#from\""));

    // The API pages the same way, with references as people write them.
    expected.reverse();
    let mut api_seen = Vec::new();
    let mut path = "/api/v1/staff/reports?order=oldest&status=all".to_owned();
    loop {
        let answer = send(&app, get(&path, &cookies)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let json = answer.json();
        assert_eq!(json["total"], 61);
        for line in json["reports"].as_array().unwrap() {
            api_seen.push(line["id"].as_str().unwrap().to_owned());
            assert!(aidant_core::ReportRef::parse(line["reference"].as_str().unwrap()).is_ok());
            assert_eq!(line["reference"].as_str().unwrap().matches('-').count(), 2, "GDM-4AN-RRC, as pages show it");
        }
        match json["next"].as_str() {
            Some(token) => path = format!("/api/v1/staff/reports?order=oldest&status=all&after={token}"),
            None => break,
        }
    }
    assert_eq!(api_seen, expected);
    let refused = send(&app, get("/api/v1/staff/reports?after=nonsense&from=someday", &cookies)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.headers[header::CONTENT_TYPE], "application/problem+json");
    let problem = refused.json();
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["from", "after"]);

    // Search: the count of everything, fifty at a time, newest first.
    let search = send(&app, get("/staff/search?q=kettle", &cookies)).await;
    assert!(search.body.contains("61 results you can see"), "a true count");
    let mut found = report_links(&search.body);
    assert_eq!(found.len(), 50);
    let more = send(&app, get(&link(&search.body, "next").expect("a next page of results"), &cookies)).await;
    found.extend(report_links(&more.body));
    found.sort();
    let mut all: Vec<String> = received.iter().map(|(id, _)| id.to_string()).collect();
    all.sort();
    assert_eq!(found, all, "every match can be reached");
    let api = send(&app, get("/api/v1/staff/search?q=kettle", &cookies)).await.json();
    assert_eq!((api["total"].as_i64(), api["results"].as_array().unwrap().len()), (Some(61), 50));
    let rest = send(&app, get(&format!("/api/v1/staff/search?q=kettle&after={}", api["next"].as_str().unwrap()), &cookies)).await.json();
    assert_eq!((rest["results"].as_array().unwrap().len(), rest["next"].is_null(), rest["previous"].is_string()), (11, true, true));
    let bad = send(&app, get("/api/v1/staff/search?q=kettle&before=-4", &cookies)).await;
    assert_eq!((bad.status, bad.json()["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("before")));
    // The API takes each parameter exactly as its document says, where
    // the pages forgive a blank or a space.
    for (path, field) in [
        ("/api/v1/staff/reports?risk=", "risk"),
        ("/api/v1/staff/reports?risk=%20high", "risk"),
        ("/api/v1/staff/reports?sector=spaceport", "sector"),
        ("/api/v1/staff/reports?after=1.2.3", "after"),
        ("/api/v1/staff/reports?after=+1.2.00000000-0000-0000-0000-000000000000", "after"),
        ("/api/v1/staff/reports?before=nonsense&after=1.2.00000000-0000-0000-0000-000000000000", "before"),
        ("/api/v1/staff/search?q=kettle%20", "q"),
        ("/api/v1/staff/search?q=kettle&after=007", "after"),
    ] {
        let refused = send(&app, get(path, &cookies)).await;
        assert_eq!((refused.status, refused.json()["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{path}");
    }
    assert_eq!(send(&app, get("/staff?risk=&sector=", &cookies)).await.status, StatusCode::OK, "the queue page forgives blanks");
    let backwards = send(&app, get("/api/v1/staff/reports?from=2026-12-05&to=2026-12-01&status=all", &cookies)).await;
    assert_eq!((backwards.status, backwards.json()["total"].as_i64()), (StatusCode::OK, Some(0)), "dates the wrong way round match nothing");
    let twice = send(&app, get("/api/v1/staff/reports?risk=high&risk=low", &cookies)).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "a parameter given twice cannot be read");
}

async fn a_reporter_message_is_marked_until_someone_reads_it(database: TestDatabase) {
    let store = &database.store;
    let (_, user_id) = setup(store).await;
    let app = app(store, unlimited());
    let receipt = aidant_store::testing::submit_report(
        store,
        &aidant_core::report::ReportAnswers { sector: Some("car_wash".into()), town: Some("Luton".into()), ..Default::default() },
        None,
    )
    .await;
    let cookies = format!("__Host-aidant_session={}", store.create_session(&user_id, true).await.unwrap());
    // Assigning through the page says what it did, and what it led to.
    let page = send(&app, get(&format!("/staff/reports/{}", receipt.report_id), &cookies)).await;
    assert!(!page.body.contains("id=\"confirmation\""), "nothing to confirm before an action");
    let assigned =
        send(&app, post(&format!("/staff/reports/{}/assign", receipt.report_id), &cookies, format!("csrf_token={}&assignee={user_id}", csrf_from(&page.body))))
            .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER);
    let location = assigned.headers["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("?done=assigned"), "{location}");
    let confirmed = send(&app, get(&location, &cookies)).await;
    assert!(
        confirmed.body.contains("The report&#x27;s status is in review.") || confirmed.body.contains("The report's status is in review."),
        "{}",
        confirmed.body
    );
    assert!(confirmed.body.contains("id=\"confirmation\">Assigned to "));
    let status =
        send(&app, post(&format!("/staff/reports/{}/status", receipt.report_id), &cookies, format!("csrf_token={}&status=in_review", csrf_from(&page.body))))
            .await;
    let confirmed = send(&app, get(status.headers["location"].to_str().unwrap(), &cookies)).await;
    assert!(confirmed.body.contains("Status set to in review."));
    let forged = send(&app, get(&format!("/staff/reports/{}?done=%3Cscript%3E", receipt.report_id), &cookies)).await;
    assert!(forged.status == StatusCode::OK && !forged.body.contains("id=\"confirmation\""), "an unknown confirmation is ignored");
    let queue = send(&app, get("/staff", &cookies)).await;
    assert!(queue.body.contains("In review"), "assigning moved the new report on");
    assert!(!queue.body.contains("id=\"unread-count\""));
    store.add_report_message(&receipt.report_id, aidant_store::public_site::Author::Reporter, None, "They came back.").await.unwrap();
    let queue = send(&app, get("/staff", &cookies)).await;
    assert!(queue.body.contains("1 report has a message from the reporter that nobody has read</strong>, 1 of them assigned to you"));
    assert!(queue.body.contains("New message from the reporter"));
    let mine = send(&app, get("/staff?assignee=me&unread=yes", &cookies)).await;
    assert_eq!(report_links(&mine.body), [receipt.report_id.to_string()]);
    let opened = send(&app, get(&format!("/staff/reports/{}", receipt.report_id), &cookies)).await;
    assert!(opened.body.contains("They came back."));
    let queue = send(&app, get("/staff", &cookies)).await;
    assert!(!queue.body.contains("New message from the reporter") && !queue.body.contains("id=\"unread-count\""), "read once opened");
}

aidant_store::backend_tests!(
    the_queue_and_search_reach_every_report_a_page_at_a_time,
    a_reporter_message_is_marked_until_someone_reads_it,
    administrators_see_and_retry_records_the_worker_could_not_read,
    signing_in_and_out_ends_the_session,
    wrong_passwords_lock_the_account,
    wrong_passwords_from_one_source_wait,
    sign_in_attempts_are_rate_limited,
    the_second_factor_is_asked_for_and_can_be_required,
    cross_site_and_tokenless_posts_change_nothing,
    a_reset_password_must_be_changed_before_anything_else,
);
