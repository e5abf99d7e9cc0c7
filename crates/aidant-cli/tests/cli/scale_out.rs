//! Several Aidant processes on one PostgreSQL, as a region would run them
//! behind a load balancer: two `aidant serve` and one `aidant worker`. A
//! flood limit holds across both servers; a staff session opened on one is
//! good on the other; public reports go to both at once while one is killed
//! with SIGKILL, and every acknowledged report is stored once; every entity
//! job is done once, by whichever process took it; the audit chain that
//! all of them appended to verifies. A rolling upgrade: the next release's
//! migration applied while both servers take reports, then each server in
//! turn taken out of rotation, restarted on the newer schema and put back,
//! with no report refused or lost and the staff session kept. (SQLite is one
//! process by design: its file is written by one `aidant serve`, which also
//! runs the worker.)

use std::io::Read;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use aidant_core::audit::AuditActor;
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_store::Backend;
use aidant_store::testing::TestDatabase;
use sqlx::Row;

use crate::helpers::{Load, REPORT, Server, Setup, send_request};

const PASSWORD: &str = "several-processes-one-database";

/// A whole HTTP exchange: the status, the `Set-Cookie` values and the body.
struct Exchange {
    status: u16,
    cookies: Vec<String>,
    body: String,
}

fn exchange(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
    let mut stream = send_request(address, method, path, headers, body);
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let cookies = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| value.trim().split(';').next().map(str::to_owned))
        .collect();
    Exchange { status, cookies, body: body.to_owned() }
}

/// Signs in at `address` as a person does: the page's double-submit token,
/// then the form; returns the session cookie (`name=value`).
fn sign_in(address: SocketAddr, email: &str) -> String {
    let page = exchange(address, "GET", "/staff/sign-in", &[], "");
    assert_eq!(page.status, 200);
    let token_cookie = page.cookies.iter().find(|cookie| cookie.starts_with("__Host-aidant_sign_in=")).expect("the sign-in page sets its token").clone();
    let token = token_cookie.split_once('=').unwrap().1;
    let form = format!("email={}&password={PASSWORD}&sign_in_token={token}", email.replace('@', "%40"));
    let signed_in = exchange(
        address,
        "POST",
        "/staff/sign-in",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &token_cookie), ("Origin", &format!("http://{address}"))],
        &form,
    );
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    signed_in
        .cookies
        .into_iter()
        .find(|cookie| cookie.starts_with("__Host-aidant_session=") && cookie.len() > "__Host-aidant_session=".len())
        .expect("a session")
}

fn post_report(address: SocketAddr, client: &str) -> u16 {
    exchange(address, "POST", "/api/v1/reports", &[("Content-Type", "application/json"), ("X-Forwarded-For", client)], REPORT).status
}

async fn count(database: &TestDatabase, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(database.store.pool()).await.unwrap().try_get(0).unwrap()
}

/// A police force receiving public reports, with an analyst who signs in
/// with `PASSWORD`; the set-up for processes on this database.
async fn force_with_an_analyst(database: &TestDatabase) -> Setup {
    let store = &database.store;
    let force = store.create_organisation("Force", OrganisationKind::PoliceForce).await.unwrap();
    store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap();
    let analyst = store.create_user(&force.id, "analyst@force.example", "Analyst", &[Role::Analyst]).await.unwrap();
    store.set_password(&analyst.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    Setup::for_database(database)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_a_worker_on_one_postgresql_stay_correct_together() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let store = &database.store;
    let setup = force_with_an_analyst(&database).await;

    // A flood limit of five at once, behind a proxy on loopback: one client
    // sending to both servers in turn gets five reports through, not ten.
    let limited = [("AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE", "1"), ("AIDANT_PUBLIC_SUBMISSIONS_BURST", "5"), ("AIDANT_TRUSTED_PROXIES", "[\"127.0.0.1\"]")];
    let mut first = Server::start_with(&setup, &[], &limited);
    let mut second = Server::start_with(&setup, &[], &limited);
    let statuses: Vec<u16> = (0..10).map(|turn| post_report(if turn % 2 == 0 { first.address } else { second.address }, "203.0.113.7")).collect();
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 5, "{statuses:?}");
    assert_eq!(statuses[5..], [429; 5], "past the burst, both servers refuse: {statuses:?}");
    assert_eq!(post_report(second.address, "203.0.113.8"), 201, "another client has its own allowance");
    for server in [&mut first, &mut second] {
        server.signal("TERM");
        assert!(server.wait_for_exit(Duration::from_secs(30)).success());
    }

    // Unlimited now: the load comes from one address.
    let unlimited = [("AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")];
    let mut first = Server::start_with(&setup, &[], &unlimited);
    let mut second = Server::start_with(&setup, &[], &unlimited);
    let mut worker = setup.command(&["worker"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();

    // A session opened on one server is good on the other.
    let session = sign_in(first.address, "analyst@force.example");
    let queue = exchange(second.address, "GET", "/staff", &[("Cookie", &session)], "");
    assert_eq!(queue.status, 200, "the other server knows the session");
    assert!(queue.body.contains("/staff/reports/"), "and shows the force's queue, with the reports sent a moment ago");

    // Public reports to both at once; one server is killed mid-load.
    let to_first = Load::start(first.address, 4);
    let to_second = Load::start(second.address, 4);
    to_first.wait_for_attempts(150);
    to_second.wait_for_attempts(150);
    first.signal("KILL");
    first.wait_for_exit(Duration::from_secs(10));
    to_second.wait_for_attempts(150);
    let mut acknowledged = to_first.stop();
    acknowledged.extend(to_second.stop());
    assert!(acknowledged.len() >= 300, "both servers took reports: {}", acknowledged.len());

    // The survivor still serves the session and records what it does: the
    // newest report, opened (and its view audited) after the kill.
    let newest = &acknowledged[acknowledged.len() - 1];
    let id: String = sqlx::query_scalar("SELECT id FROM reports WHERE reference = $1").bind(newest.as_compact()).fetch_one(store.pool()).await.unwrap();
    let report = exchange(second.address, "GET", &format!("/staff/reports/{id}"), &[("Cookie", &session)], "");
    assert_eq!(report.status, 200);
    assert!(report.body.contains(&newest.to_string()), "the report page shows its reference");

    // Every acknowledged report stored once.
    for reference in &acknowledged {
        let stored: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE reference = $1").bind(reference.as_compact()).fetch_one(store.pool()).await.unwrap();
        assert_eq!(stored, 1, "{reference} stored {stored} times");
    }
    assert_eq!(count(&database, "SELECT COUNT(*) FROM (SELECT reference FROM reports GROUP BY reference HAVING COUNT(*) > 1) repeated").await, 0);

    // Every entity job done once: by the worker or by either server's own.
    let started = std::time::Instant::now();
    while store.entity_queue_counts().await.unwrap().waiting > 0 {
        assert!(started.elapsed() < Duration::from_secs(300), "the queue was not emptied within five minutes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reports = count(&database, "SELECT COUNT(*) FROM reports").await;
    assert_eq!(count(&database, "SELECT COUNT(*) FROM audit_log WHERE action = 'entities.derive'").await, reports, "each report read once");
    assert_eq!(count(&database, "SELECT COUNT(DISTINCT record_id) FROM audit_log WHERE action = 'entities.derive'").await, reports);
    assert_eq!(count(&database, "SELECT COUNT(*) FROM audit_log WHERE action = 'report.view'").await, 1, "the one report opened, audited once");

    worker.kill().unwrap();
    worker.wait().unwrap();
    second.signal("TERM");
    assert!(second.wait_for_exit(Duration::from_secs(30)).success());
    // The chain every process appended to is whole.
    assert!(store.verify_audit_chain().await.unwrap().is_ok(), "the audit chain verifies");
}

/// What a label may never hold: the report's reference, id, postcode, phone,
/// the names in it, the words searched for, the client's address.
fn labels(metrics: &str) -> Vec<&str> {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('{').and_then(|(_, rest)| rest.rsplit_once('}')))
        .map(|(labels, _)| labels)
        .collect()
}

#[test]
fn operators_scrape_metrics_whose_labels_name_no_one() {
    let setup = Setup::bare();
    let server = Server::start_with(&setup, &[], &[("AIDANT_METRICS_LISTEN", "127.0.0.1:0"), ("AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")]);
    let metrics_address = server.metrics_address.expect("the metrics listener is announced");
    let report = r#"{"sector":"nail_bar","town":"Luton","postcode":"LU1 2AB","signs":["workers_living_on_site"],"narrative":"Ioana Zamfirescu answers 07700 900123.","contact":{"name":"Mirela Vasilescu","phone":"07700 900456"}}"#;
    let stored = exchange(server.address, "POST", "/api/v1/reports", &[("Content-Type", "application/json")], report);
    assert_eq!(stored.status, 201, "{}", stored.body);
    let reference = crate::helpers::reference_from(&stored.body);
    for path in [
        format!("/follow-up?reference={reference}"),
        "/staff/reports/0190a8f2-6c1e-7d3a-9b4f-2a1c3e5d7f90".to_owned(),
        "/staff/search?q=Zamfirescu".to_owned(),
        "/no-such-page/LU1-2AB/07700900123".to_owned(),
    ] {
        exchange(server.address, "GET", &path, &[], "");
    }
    assert_eq!(exchange(server.address, "GET", "/metrics", &[], "").status, 404, "no metrics on the public listener");

    let scraped = exchange(metrics_address, "GET", "/metrics", &[], "");
    assert_eq!(scraped.status, 200);
    let metrics = scraped.body;
    for name in [
        "aidant_http_requests_total{",
        "aidant_http_request_duration_seconds_bucket{",
        "aidant_entity_jobs_waiting ",
        "aidant_entity_jobs_parked ",
        "aidant_report_writes_failed_total ",
    ] {
        assert!(metrics.contains(name), "{name} in {metrics}");
    }
    let labels = labels(&metrics);
    assert!(labels.iter().any(|labels| labels.contains("route=\"/api/v1/reports\"") && labels.contains("status=\"201\"")), "{labels:?}");
    assert!(labels.iter().any(|labels| labels.contains("route=\"/staff/reports/{id}\"")), "the route's template, not its id");
    assert!(labels.iter().any(|labels| labels.contains("route=\"unmatched\"")), "an unknown path is one label");
    for personal in
        [reference.to_string().as_str(), reference.as_compact(), "0190a8f2", "LU1", "07700", "900123", "Zamfirescu", "Ioana", "Mirela", "Luton", "127.0.0.1"]
    {
        assert!(!labels.iter().any(|labels| labels.contains(personal)), "{personal} in a label: {labels:?}");
    }
}

/// The next release's migration in the form the upgrade rules allow
/// (`docs/deployment.md`, "Upgrades"): a nullable column on the busiest
/// table, a new table referring to it, an index. (The store's tests add a
/// column to every table, without load.)
const NEXT_RELEASE_MIGRATION: &str = "ALTER TABLE reports ADD COLUMN next_release_note TEXT;
CREATE TABLE next_release_notes (id TEXT PRIMARY KEY, report_id TEXT NOT NULL REFERENCES reports (id), note TEXT NOT NULL);
CREATE INDEX next_release_notes_by_report ON next_release_notes (report_id);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_upgrade_over_the_next_migration_loses_no_report_and_no_session() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let store = &database.store;
    let setup = force_with_an_analyst(&database).await;
    let unlimited = [("AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")];

    // This release, twice behind a load balancer, taking reports.
    let mut first = Server::start_with(&setup, &[], &unlimited);
    let mut second = Server::start_with(&setup, &[], &unlimited);
    let session = sign_in(first.address, "analyst@force.example");
    let to_first = Load::start(first.address, 3);
    let to_second = Load::start(second.address, 3);
    to_first.wait_for_attempts(100);
    to_second.wait_for_attempts(100);

    // The next release's `aidant migrate`, while both take reports.
    let version = aidant_store::testing::apply_next_release_migration(store, NEXT_RELEASE_MIGRATION).await;
    to_first.wait_for_attempts(100);
    to_second.wait_for_attempts(100);

    // Each process in turn out of rotation (its load sent to the other),
    // stopped, started again as this release (its unit restarting it, or a
    // roll-back), and back in once ready.
    replace_out_of_rotation(&setup, &unlimited, &mut first, &to_first, second.address);
    replace_out_of_rotation(&setup, &unlimited, &mut second, &to_second, first.address);

    // A session opened before the upgrade is good on both restarted processes.
    for address in [first.address, second.address] {
        let queue = exchange(address, "GET", "/staff", &[("Cookie", &session)], "");
        assert_eq!(queue.status, 200, "the session outlived the upgrade");
        assert!(queue.body.contains("/staff/reports/"));
    }
    let (cut_first, cut_second) = (to_first.cut.load(std::sync::atomic::Ordering::Relaxed), to_second.cut.load(std::sync::atomic::Ordering::Relaxed));
    let mut acknowledged = to_first.stop();
    acknowledged.extend(to_second.stop());
    assert_eq!((cut_first, cut_second), (0, 0), "no report was refused or cut off during the upgrade");
    // At least 660 posts were waited for (330 a load), none cut off.
    assert!(acknowledged.len() >= 600, "reports were taken throughout: {}", acknowledged.len());
    for reference in &acknowledged {
        let stored: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE reference = $1").bind(reference.as_compact()).fetch_one(store.pool()).await.unwrap();
        assert_eq!(stored, 1, "{reference} stored {stored} times");
    }
    assert_eq!(store.newer_migrations().await.unwrap(), vec![version]);
    for server in [&mut first, &mut second] {
        server.signal("TERM");
        assert!(server.wait_for_exit(Duration::from_secs(30)).success());
    }
    assert!(store.verify_audit_chain().await.unwrap().is_ok(), "the audit chain verifies");
}

/// Takes a server out of rotation (its load sent to `other`), stops it,
/// starts it again and puts it back once `/readyz` answers.
fn replace_out_of_rotation(setup: &Setup, environment: &[(&str, &str)], server: &mut Server, load: &Load, other: SocketAddr) {
    *load.address.lock().unwrap() = other;
    load.wait_for_attempts(30);
    server.signal("TERM");
    assert!(server.wait_for_exit(Duration::from_secs(30)).success(), "{}", server.stderr());
    *server = Server::start_with(setup, &[], environment);
    assert!(server.stderr().contains("newer release"), "the restarted process says it is the older one: {}", server.stderr());
    assert_eq!(exchange(server.address, "GET", "/readyz", &[], "").status, 200, "ready on the next release's schema");
    *load.address.lock().unwrap() = server.address;
    load.wait_for_attempts(100);
}
