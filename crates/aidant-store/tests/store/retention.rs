//! Retention review on both backends: a record comes due a review period
//! after its clock starts, only the force's supervisors review it, keeping
//! it needs a reason and brings it back a period later, and deleting it
//! removes what it held from the database's files (read raw), leaving an
//! audit entry that says it was deleted and why. Potential victims' cases,
//! public reports and intelligence records here; operations in
//! `operations.rs`.

use aidant_core::ids::VictimId;
use aidant_core::intelligence::{PersonNamed, PersonRole};
use aidant_core::organisation::Role;
use aidant_core::retention::{DeleteReason, RecordKind, RetainReason, ReviewPeriods, add_months};
use aidant_core::text::{BoundedText, Lines};
use aidant_store::cases::CaseError;
use aidant_store::cases::retention::{DueRecord, delete_record, record_to_review, retain_record, review_queue};
use aidant_store::cases::victims::{open_case, view_case};
use aidant_store::testing::TestDatabase;
use aidant_store::{Backend, Store, now_ms};

use crate::entities::caller;
use crate::victims::{adult, force, zenobia_referred_and_supported};

const TABLES: [&str; 6] = ["potential_victims", "nrm_referrals", "support_referrals", "support_given", "victim_links", "audit_log"];

/// Every sealed value that holds the person of case `id`.
async fn sealed_values_of(store: &Store, id: &VictimId) -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = Vec::new();
    for statement in [
        "SELECT identity_sealed FROM potential_victims WHERE id = $1",
        "SELECT answers_sealed FROM nrm_referrals WHERE victim_id = $1",
        "SELECT shared_sealed FROM support_referrals WHERE victim_id = $1",
        "SELECT note_sealed FROM support_given WHERE support_referral_id IN (SELECT id FROM support_referrals WHERE victim_id = $1) AND note_sealed IS NOT NULL",
    ] {
        values.extend(sqlx::query_scalar::<_, Vec<u8>>(statement).bind(id.as_str()).fetch_all(store.pool()).await.unwrap());
    }
    values
}

/// Whether any 24-byte piece of any value is in `bytes` (a nonce alone is 24
/// bytes: finding one means the value, or part of it, is still there).
pub(crate) fn any_trace(bytes: &[u8], values: &[Vec<u8>]) -> bool {
    values.iter().any(|value| value.chunks(24).filter(|piece| piece.len() == 24).any(|piece| bytes.windows(24).any(|window| window == piece)))
}

/// On PostgreSQL, a transaction given an id now and then left idle between
/// statements (it holds no snapshot, only its id), ended 300 ms later: until
/// it ends, VACUUM FULL keeps the rows a later transaction deletes.
async fn an_older_transaction_ending_soon(store: &Store) -> Option<tokio::task::JoinHandle<()>> {
    if store.backend() != Backend::Postgres {
        return None;
    }
    let mut transaction = store.pool().begin().await.unwrap();
    sqlx::query("SELECT txid_current()").execute(&mut *transaction).await.unwrap();
    Some(tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        transaction.commit().await.unwrap();
    }))
}

async fn a_supervisor_keeps_or_deletes_a_due_case_and_a_deleted_one_leaves_no_trace(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    let supervisor_user = store.create_user(&world.force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let supervisor = caller(&supervisor_user);
    let periods = ReviewPeriods::default();

    let (deleted, deleted_pseudonym) = zenobia_referred_and_supported(store, &world).await;
    let (kept, kept_pseudonym) = open_case(store, &lead, &adult("Ana Popescu"), None).await.unwrap();

    let cases_due = |due: Vec<DueRecord>| -> Vec<DueRecord> { due.into_iter().filter(|due| due.kind == RecordKind::VictimCase).collect() };
    let case = RecordKind::VictimCase;

    // Not due until a review period has passed.
    let now = now_ms();
    assert!(cases_due(review_queue(store, &supervisor, &periods, now).await.unwrap().0).is_empty());
    let Err(CaseError::Invalid(errors)) = retain_record(store, &supervisor, case, kept.as_str(), RetainReason::LegalHold, &periods, now).await else {
        panic!("not due yet")
    };
    assert_eq!(errors[0].field, "decision");
    let later = add_months(now, periods.victim_cases_months) + 60_000;
    let due = cases_due(review_queue(store, &supervisor, &periods, later).await.unwrap().0);
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|case| case.due_at_ms <= later && case.last_kept.is_none()));

    // Only the force's supervisors review.
    for other in [&lead, &caller(&world.handler), &caller(&world.glaa_user)] {
        assert!(matches!(review_queue(store, other, &periods, later).await, Err(CaseError::Denied { .. })));
        assert!(matches!(retain_record(store, other, case, kept.as_str(), RetainReason::LegalHold, &periods, later).await, Err(CaseError::Denied { .. })));
        assert!(matches!(
            delete_record(store, other, case, deleted.as_str(), DeleteReason::NoFurtherConcern, &periods, later).await,
            Err(CaseError::Denied { .. })
        ));
    }
    assert!(view_case(store, &lead, &deleted).await.is_ok(), "a refused deletion deletes nothing");

    // Kept: due again a period after the decision, with its reason shown.
    let (pseudonym, next) = retain_record(store, &supervisor, case, kept.as_str(), RetainReason::SafeguardingConcern, &periods, later).await.unwrap();
    assert_eq!(pseudonym, kept_pseudonym);
    assert_eq!(next, add_months(later, periods.victim_cases_months));
    let due = cases_due(review_queue(store, &supervisor, &periods, later).await.unwrap().0);
    assert_eq!(due.iter().map(|case| case.label.as_str()).collect::<Vec<_>>(), [deleted_pseudonym.as_str()]);
    let again = cases_due(review_queue(store, &supervisor, &periods, next + 1).await.unwrap().0);
    let kept_again = again.iter().find(|case| case.label == kept_pseudonym).expect("due again after another period");
    assert_eq!(kept_again.last_kept, Some((later, RetainReason::SafeguardingConcern)));
    assert_eq!(record_to_review(store, &supervisor, case, kept.as_str(), &periods, next + 1).await.unwrap().label, kept_pseudonym);

    // Deleted: everything that held the person goes, in the files too.
    let values = sealed_values_of(store, &deleted).await;
    assert_eq!(values.len(), 4, "identity, referral, what the charity was given and its note");
    let kept_values = sealed_values_of(store, &kept).await;
    assert!(any_trace(&database.raw_files(&TABLES).await, &values), "the reader sees the sealed values before the deletion");
    let older = an_older_transaction_ending_soon(store).await;
    let pseudonym = delete_record(store, &supervisor, case, deleted.as_str(), DeleteReason::NoFurtherConcern, &periods, later).await.unwrap();
    if let Some(older) = older {
        assert!(older.is_finished(), "the deletion waited for the older transaction before rewriting the files");
    }
    assert_eq!(pseudonym, deleted_pseudonym);
    assert!(matches!(view_case(store, &lead, &deleted).await, Err(CaseError::NotFound)));
    assert!(sealed_values_of(store, &deleted).await.is_empty());
    let raw = database.raw_files(&TABLES).await;
    assert!(!any_trace(&raw, &values), "a deleted person's sealed data is still in the database's files");
    assert!(any_trace(&raw, &kept_values), "the kept case is still there, so the reader reads the files");
    assert!(cases_due(review_queue(store, &supervisor, &periods, later).await.unwrap().0).is_empty());

    // The audit log says that it was deleted, by whom and why, and nothing it held.
    let (actor, reason): (String, String) = sqlx::query_as("SELECT actor, reason FROM audit_log WHERE action = 'retention.delete' AND record_id = $1")
        .bind(deleted.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(actor.contains(supervisor_user.id.as_str()), "{actor}");
    assert_eq!(reason, format!("{deleted_pseudonym}: {}", DeleteReason::NoFurtherConcern.label()));
    let kept_reason: String = sqlx::query_scalar("SELECT reason FROM audit_log WHERE action = 'retention.retain' AND record_id = $1")
        .bind(kept.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(kept_reason.ends_with(RetainReason::SafeguardingConcern.label()), "{kept_reason}");
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

fn named(name: &str) -> PersonNamed {
    PersonNamed {
        name: BoundedText::parse(name, 200, Lines::Single).unwrap(),
        date_of_birth: Some("1999-03-14".to_owned()),
        nationality: None,
        role: PersonRole::PotentialVictim,
    }
}

/// Every sealed value a report or intelligence record left in the people
/// and entity tables: the people it names, their features in the linker,
/// and the entities only it mentions.
async fn sealed_people_and_entities(store: &Store, kind: &str, id: &str) -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = Vec::new();
    for statement in [
        "SELECT details_sealed FROM record_people WHERE record_kind = $2 AND record_id = $1",
        "SELECT l.features_sealed FROM link_records l JOIN record_people p ON p.id = l.record_id WHERE p.record_kind = $2 AND p.record_id = $1",
        "SELECT e.value_sealed FROM entities e WHERE EXISTS (SELECT 1 FROM entity_mentions m WHERE m.entity_id = e.id AND m.record_kind = $2 AND m.record_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM entity_mentions m WHERE m.entity_id = e.id AND NOT (m.record_kind = $2 AND m.record_id = $1))",
        "SELECT e.label_sealed FROM entities e WHERE EXISTS (SELECT 1 FROM entity_mentions m WHERE m.entity_id = e.id AND m.record_kind = $2 AND m.record_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM entity_mentions m WHERE m.entity_id = e.id AND NOT (m.record_kind = $2 AND m.record_id = $1))",
    ] {
        values.extend(sqlx::query_scalar::<_, Vec<u8>>(statement).bind(id).bind(kind).fetch_all(store.pool()).await.unwrap());
    }
    values
}

const RECORD_TABLES: [&str; 13] = [
    "reports",
    "report_messages",
    "intelligence",
    "search_documents",
    "record_people",
    "link_records",
    "entities",
    "entity_mentions",
    "person_name_keys",
    "link_keys",
    "link_pairs",
    "victim_links",
    "audit_log",
];

async fn a_deleted_report_and_intelligence_record_take_their_people_and_entities_with_them(database: TestDatabase) {
    use aidant_store::cases::reports::name_person;
    use aidant_store::intelligence::IntelligenceInsert;
    use aidant_store::testing::submit_report;
    let store = &database.store;
    let world = crate::entities::world(store).await;
    let analyst = caller(&world.analyst);
    let supervisor_user = store.create_user(&world.force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let supervisor = caller(&supervisor_user);
    let periods = ReviewPeriods::default();

    // A report naming a phone and a van only it mentions; another report
    // with the same phone; a person named in the first; an intelligence
    // record made from it that names another person.
    let deleted_report = submit_report(store, &crate::entities::nail_bar("Quillfeathering girls, ring 07700 900123.", Some("LJ15 QXZ")), None).await;
    let other_report = submit_report(store, &crate::entities::nail_bar("Another call: 07700 900123.", None), None).await;
    name_person(store, &analyst, &deleted_report.report_id, &named("Oana Zamfirescu")).await.unwrap();
    let grading = aidant_core::grading::parse_grading(&aidant_core::grading::GradingAnswers {
        scheme: "3x5x2",
        source: "2",
        intelligence: "B",
        handling: "P",
        ..aidant_core::grading::GradingAnswers::default()
    })
    .unwrap();
    let people = [named("Mirela Vasilescu")];
    let insert = IntelligenceInsert {
        report_id: Some(&deleted_report.report_id),
        owner_organisation_id: &world.force.id,
        created_by: &world.analyst.id,
        title: "Nail bar workers",
        grading: &grading,
        sanitised_text: "Workers at the nail bar.",
        source: None,
        review_on: None,
        people: &people,
        share_with: std::slice::from_ref(&world.glaa.id),
    };
    let (intelligence, reference) = store.create_intelligence(&insert).await.unwrap();
    crate::entities::drain(store).await;

    let report_values = sealed_people_and_entities(store, "report", deleted_report.report_id.as_str()).await;
    assert!(report_values.len() >= 4, "the person's details and features, the van's value and label: {}", report_values.len());
    let intelligence_values = sealed_people_and_entities(store, "intelligence", intelligence.as_str()).await;
    assert!(intelligence_values.len() >= 2, "the person's details and features");
    // The phone both reports mention stays, and is the reader's control.
    let other_values: Vec<Vec<u8>> = sqlx::query_scalar("SELECT value_sealed FROM entities WHERE kind = 'phone'").fetch_all(store.pool()).await.unwrap();
    assert_eq!(other_values.len(), 1);
    let raw = database.raw_files(&RECORD_TABLES).await;
    assert!(any_trace(&raw, &report_values) && any_trace(&raw, &intelligence_values));
    assert!(raw.windows(16).any(|window| window == b"Quillfeathering "), "the report's words are in the search table before");

    // Due a period after it was received; only the force's supervisors decide.
    let later = add_months(now_ms(), periods.reports_months) + 60_000;
    let (due, total) = review_queue(store, &supervisor, &periods, later).await.unwrap();
    assert_eq!(total, due.len());
    let kinds: Vec<RecordKind> = due.iter().map(|due| due.kind).collect();
    assert_eq!(kinds.iter().filter(|kind| **kind == RecordKind::Report).count(), 2);
    assert!(due.iter().any(|due| due.kind == RecordKind::Intelligence && due.label == reference));
    let report_id = deleted_report.report_id.as_str();
    assert!(matches!(
        delete_record(store, &caller(&world.glaa_user), RecordKind::Report, report_id, DeleteReason::NoPolicingPurpose, &periods, later).await,
        Err(CaseError::Denied { .. })
    ));
    assert!(
        matches!(
            delete_record(store, &supervisor, RecordKind::Intelligence, report_id, DeleteReason::NoPolicingPurpose, &periods, later).await,
            Err(CaseError::NotFound)
        ),
        "a report's id is no intelligence record"
    );

    // The report goes: the intelligence record made from it stays, without the pointer.
    let label = delete_record(store, &supervisor, RecordKind::Report, report_id, DeleteReason::NoPolicingPurpose, &periods, later).await.unwrap();
    assert_eq!(label, deleted_report.reference.to_string());
    let pointer: Option<String> =
        sqlx::query_scalar("SELECT report_id FROM intelligence WHERE id = $1").bind(intelligence.as_str()).fetch_one(store.pool()).await.unwrap();
    assert_eq!(pointer, None);
    for (table, column) in [("reports", "id"), ("search_documents", "record_id"), ("entity_mentions", "record_id"), ("record_people", "record_id")] {
        let left: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1")).bind(report_id).fetch_one(store.pool()).await.unwrap();
        assert_eq!(left, 0, "{table} keeps the deleted report");
    }
    let phone_mentions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entity_mentions m JOIN entities e ON e.id = m.entity_id WHERE e.kind = 'phone'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(phone_mentions, 1, "the phone the other report mentions stays");
    let raw = database.raw_files(&RECORD_TABLES).await;
    assert!(!any_trace(&raw, &report_values), "the deleted report's people or entities are still in the database's files");
    assert!(any_trace(&raw, &other_values), "the other report's are still there, so the reader reads the files");
    assert!(!raw.windows(16).any(|window| window == b"Quillfeathering "), "the deleted report's words are still in the search table");

    // Then the intelligence record, with its shares and its person.
    delete_record(store, &supervisor, RecordKind::Intelligence, intelligence.as_str(), DeleteReason::CreatedInError, &periods, later).await.unwrap();
    let shares: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM intelligence_shares").fetch_one(store.pool()).await.unwrap();
    assert_eq!(shares, 0);
    assert!(!any_trace(&database.raw_files(&RECORD_TABLES).await, &intelligence_values));
    let (due, _) = review_queue(store, &supervisor, &periods, later).await.unwrap();
    assert_eq!(due.iter().map(|due| due.label.clone()).collect::<Vec<_>>(), [other_report.reference.to_string()]);
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM audit_log WHERE action = 'retention.delete' ORDER BY sequence").fetch_all(store.pool()).await.unwrap();
    assert_eq!(
        reasons,
        [
            format!("{}: {}", deleted_report.reference, DeleteReason::NoPolicingPurpose.label()),
            format!("{reference}: {}", DeleteReason::CreatedInError.label())
        ]
    );
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

aidant_store::backend_tests!(
    a_supervisor_keeps_or_deletes_a_due_case_and_a_deleted_one_leaves_no_trace,
    a_deleted_report_and_intelligence_record_take_their_people_and_entities_with_them,
);
