//! The group-commit report writer, tested once and run on SQLite and
//! PostgreSQL: distinct references under concurrency, one report per
//! submission token, failures confined to the report that caused them, and
//! receipts only after commit.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aidant_core::report::{ContactAnswer, ReportAnswers, SubmissionToken};
use aidant_core::{NewReport, ReportRef};
use aidant_store::Store;
use aidant_store::report_writer::{OwnedSubmission, ReportWriter, ReportWriterOptions};
use aidant_store::reports::Receipt;
use aidant_store::testing::TestDatabase;
use sqlx::{Any, Transaction};
use tokio::task::JoinHandle;

use aidant_store::testing::catalogue;

/// A realistic report that differs a little with `variant`.
fn answers(variant: usize) -> ReportAnswers {
    ReportAnswers {
        sector: Some(if variant.is_multiple_of(2) { "nail_bar" } else { "car_wash" }.into()),
        town: Some(["Luton", "Bedford", "Dunstable"][variant % 3].into()),
        signs: vec!["workers_living_on_site".into(), "controlling_manager".into()],
        people_count: Some((1 + variant % 6).to_string()),
        narrative: Some(format!("Report {variant}: the workers never leave and the manager keeps their money.")),
        ..ReportAnswers::default()
    }
}

fn owned(answers: &ReportAnswers, token: Option<&str>) -> OwnedSubmission {
    let catalogue = catalogue();
    let report = NewReport::parse(answers, &catalogue).unwrap();
    let triage = report.triage(&catalogue);
    OwnedSubmission {
        report,
        triage,
        catalogue_version: catalogue.version.clone(),
        submission_token: token.map(|token| SubmissionToken::parse(token).unwrap()),
        passphrase_hash: None,
    }
}

fn spawn_submit(writer: &ReportWriter, submission: OwnedSubmission) -> JoinHandle<Result<Receipt, aidant_store::StoreError>> {
    tokio::spawn(writer.submit(submission))
}

async fn receipts(tasks: Vec<JoinHandle<Result<Receipt, aidant_store::StoreError>>>) -> Vec<Receipt> {
    let mut receipts = Vec::with_capacity(tasks.len());
    for task in tasks {
        receipts.push(task.await.unwrap().expect("the report is stored"));
    }
    receipts
}

/// Holds the database's write lock (the audit head row, which every report
/// transaction writes) so the writer's next batch waits, letting the test
/// queue several reports behind it and have them written as one batch.
async fn hold_the_write_lock(store: &Store) -> Transaction<'static, Any> {
    let mut transaction = store.pool().begin().await.unwrap();
    sqlx::query("UPDATE audit_head SET last_sequence = last_sequence WHERE id = 1").execute(&mut *transaction).await.unwrap();
    transaction
}

/// Long enough for spawned submissions to reach the writer's queue; the
/// assertions hold however batches form, this only makes shared batches
/// likely.
async fn let_submissions_queue() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

async fn assert_chain_holds(store: &Store, expected_entries: i64) {
    let summary = store.verify_audit_chain().await.unwrap().expect("the audit chain verifies");
    assert_eq!(summary.entries, expected_entries);
}

async fn concurrent_submissions_are_all_stored_with_their_audit_entries(database: TestDatabase) {
    let writer = ReportWriter::spawn(database.store.clone(), ReportWriterOptions::default());
    let tasks = (0..200).map(|variant| spawn_submit(&writer, owned(&answers(variant), None))).collect();
    let receipts = receipts(tasks).await;
    assert!(receipts.iter().all(|receipt| receipt.created));
    let references: HashSet<_> = receipts.iter().map(|receipt| &receipt.reference).collect();
    assert_eq!(references.len(), 200, "every report has its own reference");
    assert_eq!(database.store.count_reports().await.unwrap(), 200);
    for receipt in &receipts {
        let history = database.store.audit_history("report", receipt.report_id.as_str()).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].entry.action, "report.create");
    }
    assert_chain_holds(&database.store, 200).await;
    writer.close().await;
}

async fn a_small_queue_slows_callers_without_losing_reports(database: TestDatabase) {
    let writer = ReportWriter::spawn(database.store.clone(), ReportWriterOptions { queue_capacity: 2, max_batch: 4 });
    let tasks = (0..60).map(|variant| spawn_submit(&writer, owned(&answers(variant), None))).collect();
    assert_eq!(receipts(tasks).await.len(), 60);
    assert_eq!(database.store.count_reports().await.unwrap(), 60);
    assert_chain_holds(&database.store, 60).await;
    writer.close().await;
}

async fn one_token_creates_one_report_within_and_across_batches(database: TestDatabase) {
    let writer = ReportWriter::spawn(database.store.clone(), ReportWriterOptions::default());
    let lock = hold_the_write_lock(&database.store).await;
    let blocked = spawn_submit(&writer, owned(&answers(0), Some("another-draft")));
    let_submissions_queue().await;
    let same_draft: Vec<_> = (0..10).map(|_| spawn_submit(&writer, owned(&answers(1), Some("same-draft")))).collect();
    let without_token: Vec<_> = (0..5).map(|variant| spawn_submit(&writer, owned(&answers(variant), None))).collect();
    let_submissions_queue().await;
    lock.rollback().await.unwrap();

    let same_draft = receipts(same_draft).await;
    assert_eq!(same_draft.iter().filter(|receipt| receipt.created).count(), 1, "exactly one submission created the report");
    assert!(
        same_draft.iter().all(|receipt| receipt.reference == same_draft[0].reference && receipt.report_id == same_draft[0].report_id),
        "every repeat got the first receipt"
    );
    receipts(without_token).await;
    blocked.await.unwrap().unwrap();

    let again = writer.submit(owned(&answers(1), Some("same-draft"))).await.unwrap();
    assert!(!again.created, "a later batch finds the stored report");
    assert_eq!(again.reference, same_draft[0].reference);

    // A token stored by the one-at-a-time path is found by the writer too.
    let mut bits = || 42_u64;
    let direct = database.store.insert_report(&owned(&answers(2), Some("direct-draft")).as_submission(), &mut bits).await.unwrap();
    let through_writer = writer.submit(owned(&answers(2), Some("direct-draft"))).await.unwrap();
    assert!(!through_writer.created);
    assert_eq!(through_writer.reference, direct.reference);

    assert_eq!(database.store.count_reports().await.unwrap(), 1 + 1 + 5 + 1);
    assert_chain_holds(&database.store, 8).await;
    writer.close().await;
}

async fn a_reference_collision_does_not_fail_the_other_reports(database: TestDatabase) {
    // The first draw goes to the report that waits behind the lock. The
    // following batch of eleven draws once for each report, and the first
    // two draws give two of them the same reference, so the batch fails
    // inside itself; written one at a time (draws 12 on), the first takes
    // that reference again and the second collides with the stored row and
    // draws again. Every other draw is distinct.
    let draws = Arc::new(AtomicU64::new(0));
    let source_draws = draws.clone();
    let source = Box::new(move || match source_draws.fetch_add(1, Ordering::SeqCst) {
        0 => 5,
        1 | 2 | 12 | 13 => 7,
        draw => 1_000 + draw,
    });
    let writer = ReportWriter::spawn_with_reference_source(database.store.clone(), ReportWriterOptions::default(), source);
    let lock = hold_the_write_lock(&database.store).await;
    let first = spawn_submit(&writer, owned(&answers(0), None));
    let_submissions_queue().await;
    let others: Vec<_> = (1..12).map(|variant| spawn_submit(&writer, owned(&answers(variant), None))).collect();
    let_submissions_queue().await;
    lock.rollback().await.unwrap();

    let mut all = receipts(others).await;
    all.push(first.await.unwrap().unwrap());
    let references: HashSet<_> = all.iter().map(|receipt| receipt.reference.clone()).collect();
    assert_eq!(references.len(), 12, "every report got its own reference");
    assert!(references.contains(&ReportRef::from_random(7)));
    assert_eq!(draws.load(Ordering::SeqCst), 1 + 11 + 12, "the batch's draws, then one each written alone and one more after the collision");
    assert_eq!(database.store.count_reports().await.unwrap(), 12);
    assert_chain_holds(&database.store, 12).await;
    writer.close().await;
}

async fn a_report_that_cannot_be_stored_fails_alone(database: TestDatabase) {
    // Without a master key, contact details cannot be sealed, so that one
    // report fails; the reports queued with it must still be stored.
    let store_without_key = Store::connect(&database.url, &Default::default(), None).await.unwrap();
    let writer = ReportWriter::spawn(store_without_key, ReportWriterOptions::default());
    let with_contact = ReportAnswers { contact: Some(ContactAnswer { phone: Some("07700 900982".into()), ..ContactAnswer::default() }), ..answers(3) };
    let lock = hold_the_write_lock(&database.store).await;
    let blocked = spawn_submit(&writer, owned(&answers(0), None));
    let_submissions_queue().await;
    let before = spawn_submit(&writer, owned(&answers(1), None));
    let failing = spawn_submit(&writer, owned(&with_contact, None));
    let after = spawn_submit(&writer, owned(&answers(2), Some("after-draft")));
    let_submissions_queue().await;
    lock.rollback().await.unwrap();

    assert!(matches!(failing.await.unwrap(), Err(aidant_store::StoreError::NoMasterKey)));
    assert!(before.await.unwrap().unwrap().created);
    assert!(after.await.unwrap().unwrap().created);
    assert!(blocked.await.unwrap().unwrap().created);
    assert_eq!(database.store.count_reports().await.unwrap(), 3);
    assert_chain_holds(&database.store, 3).await;
    writer.close().await;
}

async fn a_receipt_arrives_only_after_its_report_is_committed(database: TestDatabase) {
    // A second pool, as another process or a staff request would read.
    let observer = Store::connect(&database.url, &Default::default(), None).await.unwrap();
    let writer = ReportWriter::spawn(database.store.clone(), ReportWriterOptions::default());

    let lock = hold_the_write_lock(&database.store).await;
    let waiting = spawn_submit(&writer, owned(&answers(0), None));
    let_submissions_queue().await;
    assert!(!waiting.is_finished(), "no receipt while the commit cannot happen");
    lock.rollback().await.unwrap();
    let receipt = waiting.await.unwrap().unwrap();
    assert!(observer.find_report_by_reference(&receipt.reference).await.unwrap().is_some());

    let tasks: Vec<_> = (0..40)
        .map(|variant| {
            let observer = observer.clone();
            let pending = writer.submit(owned(&answers(variant), None));
            tokio::spawn(async move {
                let receipt = pending.await.unwrap();
                observer.find_report_by_reference(&receipt.reference).await.unwrap().is_some()
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap(), "the row is visible the moment its receipt arrives");
    }
    writer.close().await;
    observer.close().await;
}

async fn closing_writes_every_queued_report(database: TestDatabase) {
    let writer = ReportWriter::spawn(database.store.clone(), ReportWriterOptions::default());
    let tasks: Vec<_> = (0..50).map(|variant| spawn_submit(&writer, owned(&answers(variant), None))).collect();
    writer.close().await;
    assert_eq!(receipts(tasks).await.len(), 50);
    assert_eq!(database.store.count_reports().await.unwrap(), 50);
    assert_chain_holds(&database.store, 50).await;
}

/// A batch larger than one statement's worth of rows (the writer writes a
/// batch's reports, signs and vehicles in multi-row statements) keeps each
/// report's own answers: nothing shifts from one report to the next.
async fn a_large_batch_keeps_each_report_its_own_answers(database: TestDatabase) {
    let writer = ReportWriter::spawn(database.store.clone(), ReportWriterOptions::default());
    let lock = hold_the_write_lock(&database.store).await;
    let varied = |variant: usize| {
        let mut answers = answers(variant);
        answers.signs.truncate(variant % 3);
        answers.vehicles = (0..variant % 4)
            .map(|position| aidant_core::report::VehicleAnswer {
                registration: Some(format!("AB{:02} C{}{}", variant % 100, ["D", "F", "G"][position % 3], ["E", "H", "J"][variant % 3])),
                description: (position % 2 == 0).then(|| format!("van {position} of report {variant}")),
            })
            .collect();
        answers
    };
    let tasks: Vec<_> = (0..230).map(|variant| spawn_submit(&writer, owned(&varied(variant), None))).collect();
    let_submissions_queue().await;
    lock.rollback().await.unwrap();
    let stored = receipts(tasks).await;
    for (variant, receipt) in stored.iter().enumerate() {
        let report = database.store.find_report_by_id(&receipt.report_id).await.unwrap().expect("stored");
        let expected = NewReport::parse(&varied(variant), &catalogue()).unwrap();
        assert_eq!(report.reference, receipt.reference, "report {variant}");
        assert_eq!(report.narrative.as_deref(), expected.narrative.as_ref().map(|text| text.as_str()), "report {variant}");
        let mut signs = expected.signs.clone();
        signs.sort();
        assert_eq!(report.signs, signs, "report {variant} (signs are read in order)");
        let vehicles: Vec<(Option<String>, Option<String>)> =
            expected.vehicles.iter().map(|vehicle| (vehicle.registration.clone(), vehicle.description.as_ref().map(|text| text.as_str().to_owned()))).collect();
        assert_eq!(report.vehicles, vehicles, "report {variant}");
        assert_eq!(report.people_count, expected.people_count.map(i64::from), "report {variant}");
    }
    assert_eq!(database.store.count_reports().await.unwrap(), 230);
    assert_chain_holds(&database.store, 230).await;
    writer.close().await;
}

aidant_store::backend_tests!(
    concurrent_submissions_are_all_stored_with_their_audit_entries,
    a_small_queue_slows_callers_without_losing_reports,
    one_token_creates_one_report_within_and_across_batches,
    a_reference_collision_does_not_fail_the_other_reports,
    a_report_that_cannot_be_stored_fails_alone,
    a_receipt_arrives_only_after_its_report_is_committed,
    closing_writes_every_queued_report,
    a_large_batch_keeps_each_report_its_own_answers,
);
