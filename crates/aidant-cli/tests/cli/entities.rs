//! `aidant worker` and `aidant entities` as an operator meets them: a worker
//! killed with SIGKILL in the middle of its work loses no job and writes no
//! mention twice, and a rebuild from the command line gives the same
//! entities back.

use std::process::Stdio;
use std::time::Duration;

use aidant_core::audit::AuditActor;
use aidant_core::organisation::OrganisationKind;
use aidant_core::report::ReportAnswers;
use aidant_store::entities::ValueKind;
use aidant_store::testing::TestDatabase;
use sqlx::Row;

use crate::helpers::{Setup, assert_success, insert_report};

const REPORTS: usize = 400;

fn answers(number: usize) -> ReportAnswers {
    ReportAnswers {
        sector: Some("car_wash".into()),
        town: Some("Luton".into()),
        postcode: Some("LU1 2AB".into()),
        narrative: Some(format!("The manager answers 07700 900{number:03}.")),
        ..ReportAnswers::default()
    }
}

async fn count(database: &TestDatabase, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(database.store.pool()).await.unwrap().try_get(0).unwrap()
}

/// A receiving force and `REPORTS` reports queued for the worker; the
/// binary's settings for this database.
async fn queued_reports(database: &TestDatabase) -> Setup {
    let store = &database.store;
    let force = store.create_organisation("Force", OrganisationKind::PoliceForce).await.unwrap();
    store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap();
    for number in 0..REPORTS {
        insert_report(store, &answers(number)).await;
    }
    Setup::for_database(database)
}

async fn a_killed_worker_loses_no_job_and_writes_nothing_twice(database: TestDatabase) {
    let store = &database.store;
    let setup = queued_reports(&database).await;
    let mut remaining = Vec::new();
    for wait in [700, 400, 600, 500] {
        let mut worker = setup.command(&["worker"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(wait));
        worker.kill().unwrap();
        worker.wait().unwrap();
        remaining.push(store.entity_queue_counts().await.unwrap().waiting);
    }
    eprintln!("queue after each kill: {remaining:?}");
    // The rest, by a worker that is left to finish.
    let output = setup.run(&["entities", "status"]);
    assert!(assert_success(&output).contains(" parked"), "status says what waits and what is parked");
    while store.work_entity_jobs(64).await.unwrap().total() > 0 {}

    assert_eq!(store.entity_queue_counts().await.unwrap().waiting, 0, "no job is left behind (queue after each kill: {remaining:?})");
    assert_eq!(count(&database, "SELECT COUNT(*) FROM entity_mentions").await, (REPORTS * 2) as i64, "a phone and the postcode per report, each once");
    let derived = count(&database, "SELECT COUNT(*) FROM audit_log WHERE action = 'entities.derive'").await;
    assert_eq!(derived, REPORTS as i64, "each record was read and written exactly once");
    assert_eq!(count(&database, "SELECT COUNT(DISTINCT record_id) FROM audit_log WHERE action = 'entities.derive'").await, REPORTS as i64);
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
    for number in [0, REPORTS / 2, REPORTS - 1] {
        let phone = format!("+447700900{number:03}");
        assert!(store.find_entity(ValueKind::Phone, &phone).await.unwrap().is_some(), "{phone}");
    }

    // A rebuild from the command line gives the same entities, with the same ids.
    let postcode = store.find_entity(ValueKind::Address, "LU1 2AB").await.unwrap().unwrap();
    let entities = count(&database, "SELECT COUNT(*) FROM entities").await;
    let output = setup.run(&["entities", "rebuild", "--wait"]);
    assert!(assert_success(&output).contains(&format!("{REPORTS} records queued")), "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(count(&database, "SELECT COUNT(*) FROM entity_mentions").await, (REPORTS * 2) as i64);
    assert_eq!(count(&database, "SELECT COUNT(*) FROM entities").await, entities);
    assert_eq!(store.find_entity(ValueKind::Address, "LU1 2AB").await.unwrap(), Some(postcode));
}

/// Two `aidant worker` processes on one database share the queue: every
/// record is read once, by one of them.
async fn two_workers_share_one_queue(database: TestDatabase) {
    let store = &database.store;
    let setup = queued_reports(&database).await;
    let mut workers: Vec<_> = (0..2).map(|_| setup.command(&["worker"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()).collect();
    let started = std::time::Instant::now();
    while store.entity_queue_counts().await.unwrap().waiting > 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "two workers did not empty the queue within two minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for worker in &mut workers {
        worker.kill().unwrap();
        worker.wait().unwrap();
    }
    assert_eq!(count(&database, "SELECT COUNT(*) FROM audit_log WHERE action = 'entities.derive'").await, REPORTS as i64, "each record read once");
    assert_eq!(count(&database, "SELECT COUNT(DISTINCT record_id) FROM audit_log WHERE action = 'entities.derive'").await, REPORTS as i64);
    assert_eq!(count(&database, "SELECT COUNT(*) FROM entity_mentions").await, (REPORTS * 2) as i64);
    assert_eq!(count(&database, "SELECT COUNT(*) FROM entities WHERE kind = 'address'").await, 1, "one postcode, one entity, whichever worker met it first");
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

aidant_store::backend_tests!(a_killed_worker_loses_no_job_and_writes_nothing_twice, two_workers_share_one_queue);
