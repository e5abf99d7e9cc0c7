//! The storage test suite, written once and run on SQLite and PostgreSQL.

use aidant_core::audit::AuditActor;
use aidant_core::audit::{AuditAction, AuditRecordKind};
use std::sync::Arc;

use aidant_core::NewReport;
use aidant_core::audit::ChainBreak;
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::report::{ContactAnswer, ReportAnswers, VehicleAnswer};
use aidant_store::audit::AuditEvent;
use aidant_store::reports::Submission;
use aidant_store::testing::TestDatabase;
use aidant_store::testing::{catalogue, submit_report as submit};
use aidant_store::{Backend, Store};

fn answers() -> ReportAnswers {
    ReportAnswers {
        sector: Some("nail_bar".into()),
        postcode: Some("lu1 2ab".into()),
        town: Some("Luton".into()),
        business_name: Some("Ștefan's Nails 💅 — 张伟 / שלום".into()),
        signs: vec!["workers_living_on_site".into(), "controlling_manager".into()],
        age_groups: vec!["under_18".into()],
        vehicles: vec![VehicleAnswer { registration: Some("ab12 cde".into()), description: Some("Silver Ford Transit".into()) }],
        narrative: Some("Nguyễn said she cannot leave.\nThe manager holds their passports.".into()),
        ..ReportAnswers::default()
    }
}

async fn migrations_are_idempotent(database: TestDatabase) {
    assert_eq!(database.store.migrate().await.unwrap(), 0, "a second migrate applies nothing");
    database.store.ping().await.unwrap();
}

async fn reports_round_trip_exactly(database: TestDatabase) {
    let receipt = submit(&database.store, &answers(), None).await;
    assert!(receipt.created);
    let stored = database.store.find_report_by_reference(&receipt.reference).await.unwrap().expect("the report is found");
    assert_eq!(stored.business_name.as_deref(), Some("Ștefan's Nails 💅 — 张伟 / שלום"));
    assert_eq!(stored.narrative.as_deref(), Some("Nguyễn said she cannot leave.\nThe manager holds their passports."));
    assert_eq!(stored.postcode.as_deref(), Some("LU1 2AB"));
    assert_eq!(stored.signs, vec!["controlling_manager", "workers_living_on_site"]);
    assert_eq!(stored.vehicles, vec![(Some("AB12CDE".to_owned()), Some("Silver Ford Transit".to_owned()))]);
    assert_eq!(stored.risk_level, aidant_core::RiskLevel::High, "a child age group makes it at least High");
    assert!(stored.child_reported);
    assert!(!stored.has_contact);
    assert!(!stored.triage_reasons.is_empty());
    let history = database.store.audit_history("report", receipt.report_id.as_str()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].entry.action, "report.create");
    assert_eq!(history[0].entry.actor, "public");
}

async fn a_repeated_submission_token_creates_one_report(database: TestDatabase) {
    let first = submit(&database.store, &answers(), Some("draft-123")).await;
    let second = submit(&database.store, &answers(), Some("draft-123")).await;
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.reference, second.reference);
    assert_eq!(database.store.count_reports().await.unwrap(), 1);
}

async fn concurrent_submissions_with_one_token_create_one_report(database: TestDatabase) {
    let store = Arc::new(database.store.clone());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { submit(&store, &answers(), Some("same-draft")).await })
        })
        .collect();
    let mut references = Vec::new();
    for task in tasks {
        references.push(task.await.unwrap().reference);
    }
    references.dedup();
    assert_eq!(references.len(), 1, "every submission got the same reference");
    assert_eq!(database.store.count_reports().await.unwrap(), 1);
}

async fn a_reference_collision_is_retried(database: TestDatabase) {
    let catalogue = catalogue();
    let report = NewReport::parse(&answers(), &catalogue).unwrap();
    let triage = report.triage(&catalogue);
    let submission = Submission { report: &report, triage: &triage, catalogue_version: &catalogue.version, submission_token: None, passphrase_hash: None };
    let mut always_seven = || 7_u64;
    let first = database.store.insert_report(&submission, &mut always_seven).await.unwrap();
    let mut values = vec![99_u64, 7].into_iter();
    let mut seven_then_other = move || values.next_back().unwrap_or(1);
    let second = database.store.insert_report(&submission, &mut seven_then_other).await.unwrap();
    assert_ne!(first.reference, second.reference);
    assert_eq!(database.store.count_reports().await.unwrap(), 2);
}

async fn contact_details_are_sealed_at_rest(database: TestDatabase) {
    let with_contact = ReportAnswers {
        contact: Some(ContactAnswer { name: Some("Ioana Zamfirescu".into()), phone: Some("07700 900982".into()), email: Some("ioana.z@example.org".into()) }),
        ..answers()
    };
    let receipt = submit(&database.store, &with_contact, None).await;
    let stored = database.store.find_report_by_reference(&receipt.reference).await.unwrap().unwrap();
    assert!(stored.has_contact);

    let secrets = ["Zamfirescu", "07700 900982", "ioana.z@example.org"];
    match database.store.backend() {
        Backend::Sqlite => {
            database.store.close().await;
            let path = database.sqlite_path().unwrap();
            for file in [path.clone(), path.with_extension("db-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    for secret in secrets {
                        assert!(!bytes.windows(secret.len()).any(|window| window == secret.as_bytes()), "{secret} found in {}", file.display());
                    }
                }
            }
            let reopened = Store::connect(&database.url, &Default::default(), Some(database.master_key.clone())).await.unwrap();
            let contact = reopened.reveal_contact(&receipt.report_id, &AuditActor::user("user-1"), "calling back the reporter").await.unwrap().unwrap();
            assert_eq!(contact.phone.as_deref(), Some("07700 900982"));
        }
        Backend::Postgres => {
            let rows: Vec<String> = sqlx::query_scalar("SELECT row_to_json(r)::text FROM reports r").fetch_all(database.store.pool()).await.unwrap();
            for row in &rows {
                for secret in secrets {
                    assert!(!row.contains(secret), "{secret} found in the reports table");
                }
            }
            let contact = database.store.reveal_contact(&receipt.report_id, &AuditActor::user("user-1"), "calling back the reporter").await.unwrap().unwrap();
            assert_eq!(contact.name.as_deref(), Some("Ioana Zamfirescu"));
        }
    }
}

async fn revealing_contact_is_audited_with_the_reason(database: TestDatabase) {
    let with_contact = ReportAnswers { contact: Some(ContactAnswer { phone: Some("+40 712 345 678".into()), ..ContactAnswer::default() }), ..answers() };
    let receipt = submit(&database.store, &with_contact, None).await;
    database.store.reveal_contact(&receipt.report_id, &AuditActor::user("user-7"), "safeguarding call").await.unwrap();
    let history = database.store.audit_history("report", receipt.report_id.as_str()).await.unwrap();
    let reveal = history.iter().find(|stored| stored.entry.action == "report.contact.reveal").expect("the reveal is audited");
    assert_eq!(reveal.entry.actor, "user:user-7", "the member of staff, in the stored form every writer uses");
    assert_eq!(reveal.entry.reason.as_deref(), Some("safeguarding call"));
}

async fn seed_chain(store: &Store, entries: usize) {
    for index in 0..entries {
        let record = format!("record-{index}");
        store.audit(&AuditEvent::new(&AuditActor::user("user-1"), AuditAction::ReportView, AuditRecordKind::Report, &record)).await.unwrap();
    }
}

async fn an_intact_audit_chain_verifies(database: TestDatabase) {
    seed_chain(&database.store, 5).await;
    let summary = database.store.verify_audit_chain().await.unwrap().unwrap();
    assert_eq!(summary.entries, 5);
}

async fn an_edited_audit_row_is_named(database: TestDatabase) {
    seed_chain(&database.store, 5).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE sequence = 3").execute(database.store.pool()).await.unwrap();
    assert_eq!(database.store.verify_audit_chain().await.unwrap(), Err(ChainBreak::Edited { sequence: 3 }));
}

async fn a_deleted_audit_row_is_named(database: TestDatabase) {
    seed_chain(&database.store, 5).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("DELETE FROM audit_log WHERE sequence = 2").execute(database.store.pool()).await.unwrap();
    assert_eq!(database.store.verify_audit_chain().await.unwrap(), Err(ChainBreak::OutOfSequence { sequence: 3, expected: 2 }));
}

async fn reordered_audit_rows_are_named(database: TestDatabase) {
    seed_chain(&database.store, 5).await;
    // Swap rows 2 and 4 by renumbering them, as someone rewriting history would.
    aidant_store::testing::lift_audit_protection(&database.store).await;
    for statement in [
        "UPDATE audit_log SET sequence = -2 WHERE sequence = 2",
        "UPDATE audit_log SET sequence = 2 WHERE sequence = 4",
        "UPDATE audit_log SET sequence = 4 WHERE sequence = -2",
    ] {
        sqlx::query(statement).execute(database.store.pool()).await.unwrap();
    }
    assert_eq!(database.store.verify_audit_chain().await.unwrap(), Err(ChainBreak::BrokenLink { sequence: 2 }));
}

async fn deleting_the_newest_audit_rows_is_detected(database: TestDatabase) {
    seed_chain(&database.store, 5).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("DELETE FROM audit_log WHERE sequence >= 4").execute(database.store.pool()).await.unwrap();
    assert_eq!(database.store.verify_audit_chain().await.unwrap(), Err(ChainBreak::Truncated { last_sequence: 3, head_sequence: 5 }));
}

async fn concurrent_appends_keep_one_chain(database: TestDatabase) {
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = database.store.clone();
            tokio::spawn(async move { submit(&store, &answers(), None).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let summary = database.store.verify_audit_chain().await.unwrap().unwrap();
    assert_eq!(summary.entries, 16);
    assert_eq!(database.store.count_reports().await.unwrap(), 16);
}

async fn organisations_and_users_round_trip(database: TestDatabase) {
    let force = database.store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let glaa = database.store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    database.store.create_user(&force.id, "analyst@beds.example", "Priya Analyst", &[Role::Analyst, Role::Supervisor]).await.unwrap();
    database.store.create_user(&glaa.id, "partner@glaa.example", "Sam Partner", &[Role::Partner]).await.unwrap();
    let organisations = database.store.list_organisations().await.unwrap();
    assert_eq!(organisations.iter().map(|organisation| organisation.name.as_str()).collect::<Vec<_>>(), vec!["Bedfordshire Police", "GLAA"]);
    let users = database.store.list_users().await.unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].roles, vec![Role::Analyst, Role::Supervisor]);
    assert_eq!(users[1].organisation_id, glaa.id);
    let duplicate = database.store.create_user(&force.id, "analyst@beds.example", "Again", &[]).await;
    assert!(duplicate.is_err(), "emails are unique");
    assert_eq!(database.store.list_users().await.unwrap().len(), 2, "the failed insert left nothing behind");
}

async fn drafts_expire_and_are_purged(database: TestDatabase) {
    let store = &database.store;
    let kept = store.create_draft(b"{\"town\":\"Luton\"}").await.unwrap();
    let stale = store.create_draft(b"{\"town\":\"Bedford\"}").await.unwrap();
    assert_eq!(store.load_draft(&kept).await.unwrap().as_deref(), Some(&b"{\"town\":\"Luton\"}"[..]));
    sqlx::query("UPDATE report_drafts SET expires_at = 0 WHERE id = $1").bind(&stale).execute(store.pool()).await.unwrap();
    assert_eq!(store.load_draft(&stale).await.unwrap(), None, "an expired draft is not served");
    assert!(!store.save_draft(&stale, b"{}").await.unwrap(), "nor extended");
    assert_eq!(store.purge_expired_drafts().await.unwrap(), 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM report_drafts").fetch_all(store.pool()).await.unwrap();
    assert_eq!(left, vec![kept]);
}

/// The database itself refuses to change or remove an audit entry, from
/// Aidant's own connection as from anyone else's.
async fn the_database_refuses_to_change_or_remove_audit_entries(database: TestDatabase) {
    seed_chain(&database.store, 3).await;
    let pool = database.store.pool();
    let mut statements =
        vec!["UPDATE audit_log SET actor = 'someone-else' WHERE sequence = 2", "DELETE FROM audit_log WHERE sequence = 3", "DELETE FROM audit_log"];
    if database.store.backend() == aidant_store::Backend::Postgres {
        statements.push("TRUNCATE audit_log");
    }
    for statement in statements {
        let refused = sqlx::query(statement).execute(pool).await.expect_err(statement);
        assert!(refused.to_string().contains("append-only"), "{statement}: {refused}");
    }
    assert_eq!(database.store.verify_audit_chain().await.unwrap().unwrap().entries, 3, "every entry as it was");
}

aidant_store::backend_tests!(
    the_database_refuses_to_change_or_remove_audit_entries,
    drafts_expire_and_are_purged,
    migrations_are_idempotent,
    reports_round_trip_exactly,
    a_repeated_submission_token_creates_one_report,
    concurrent_submissions_with_one_token_create_one_report,
    a_reference_collision_is_retried,
    contact_details_are_sealed_at_rest,
    revealing_contact_is_audited_with_the_reason,
    an_intact_audit_chain_verifies,
    an_edited_audit_row_is_named,
    a_deleted_audit_row_is_named,
    reordered_audit_rows_are_named,
    deleting_the_newest_audit_rows_is_detected,
    concurrent_appends_keep_one_chain,
    organisations_and_users_round_trip,
);
