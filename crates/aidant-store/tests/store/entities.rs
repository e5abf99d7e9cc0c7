//! Entities found in records by the background worker, on both backends:
//! queued with the record, written once however often a job runs, parked
//! when a record cannot be read, stable across a rebuild, and shown to each
//! viewer only through the records they may see.

use aidant_core::audit::AuditActor;
use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::policy::Actor;
use aidant_core::report::{ReportAnswers, VehicleAnswer};
use aidant_link::mentions::ValueKind;
use aidant_store::Store;
use aidant_store::cases::entities::{HUB_RECORDS, shared_records, view_entity, watch_entity, watching};
use aidant_store::cases::{Caller, CaseError};
use aidant_store::entities::{JOBS_PER_TRANSACTION, MAX_ATTEMPTS, MentionRecord};
use aidant_store::intelligence::IntelligenceInsert;
use aidant_store::organisations::{Organisation, User};
use aidant_store::public_site::Author;
use aidant_store::testing::{TestDatabase, submit_report};
use sqlx::Row;

const PHONE: &str = "+447700900123";

pub(crate) fn nail_bar(narrative: &str, registration: Option<&str>) -> ReportAnswers {
    ReportAnswers {
        sector: Some("nail_bar".into()),
        postcode: Some("LU1 2AB".into()),
        town: Some("Luton".into()),
        business_name: Some("Star Nails".into()),
        signs: vec!["workers_living_on_site".into()],
        narrative: Some(narrative.into()),
        vehicles: registration.map(|registration| vec![VehicleAnswer { registration: Some(registration.into()), description: None }]).unwrap_or_default(),
        ..ReportAnswers::default()
    }
}

pub(crate) struct World {
    pub(crate) force: Organisation,
    pub(crate) glaa: Organisation,
    pub(crate) analyst: User,
    pub(crate) glaa_user: User,
    pub(crate) charity_user: User,
}

pub(crate) async fn world(store: &Store) -> World {
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    let charity = store.create_organisation("Safe Haven", OrganisationKind::Charity).await.unwrap();
    store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap();
    let analyst = store.create_user(&force.id, "analyst@force.example", "Analyst", &[Role::Analyst]).await.unwrap();
    let glaa_user = store.create_user(&glaa.id, "partner@glaa.example", "GLAA Partner", &[Role::Partner]).await.unwrap();
    let charity_user = store.create_user(&charity.id, "partner@charity.example", "Charity Partner", &[Role::Partner]).await.unwrap();
    World { force, glaa, analyst, glaa_user, charity_user }
}

pub(crate) fn caller(user: &User) -> Caller {
    Caller::new(&user.id, Actor { organisation_id: user.organisation_id.clone(), roles: user.roles.iter().copied().collect() })
}

/// Runs the worker until nothing is ready.
pub(crate) async fn drain(store: &Store) -> usize {
    let mut done = 0;
    loop {
        let run = store.work_entity_jobs(JOBS_PER_TRANSACTION).await.unwrap();
        done += run.done;
        if run.total() == 0 {
            return done;
        }
    }
}

pub(crate) async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(store.pool()).await.unwrap().try_get(0).unwrap()
}

async fn one_phone_in_many_forms_is_one_entity_with_every_mention(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    submit_report(store, &nail_bar("The boss answers 07700 900123 and drives LJ15 XKR.", Some("lj15xkr")), None).await;
    let second = submit_report(store, &nail_bar("Ring +44 7700 900123 for the girls.", None), None).await;
    store.add_report_message(&second.report_id, Author::Reporter, None, "His other number is 0044 7700 900 123.").await.unwrap();
    assert_eq!(store.entity_queue_counts().await.unwrap().waiting, 3, "two reports and a message are queued with them");
    assert_eq!(drain(store).await, 3);
    assert_eq!(store.entity_queue_counts().await.unwrap().waiting, 0);

    let phone = store.find_entity(ValueKind::Phone, PHONE).await.unwrap().expect("the phone is an entity");
    let view = view_entity(store, &caller(&world.analyst), &phone).await.unwrap();
    assert_eq!(view.entity.value, PHONE);
    assert_eq!(view.mentions.len(), 2, "two reports, the message filed under its report");
    let second_view = view.mentions.iter().find(|mention| mention.record_id == second.report_id.as_str()).unwrap();
    assert_eq!(second_view.fields.len(), 2, "the narrative and the reporter's message: {:?}", second_view.fields);
    assert!(second_view.fields.iter().any(|field| field.starts_with("messages.")));
    let vehicle = store.find_entity(ValueKind::Vehicle, "LJ15XKR").await.unwrap().expect("the registration is an entity");
    let related: Vec<_> = view.related.iter().map(|related| (related.entity.id.clone(), related.shared_records)).collect();
    assert!(related.contains(&(vehicle.clone(), 1)), "the van shares one report with the phone: {related:?}");
    let business = store.find_entity(ValueKind::Business, "star nails|luton").await.unwrap().expect("the business is an entity");
    assert!(related.contains(&(business, 2)));
    // The value is sealed at rest: no phone number or registration in plain text.
    let rows = sqlx::query("SELECT value_sealed, label_sealed FROM entities").fetch_all(store.pool()).await.unwrap();
    for row in rows {
        for column in ["value_sealed", "label_sealed"] {
            let bytes: Vec<u8> = row.try_get(column).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("7700") && !text.contains("LJ15"), "{column} holds plaintext");
        }
    }
    // The worker's reading is audited, once per record.
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'entities.derive' AND actor = 'worker'").await, 3);
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'entity.view'").await, 1);
    assert!(store.verify_audit_chain().await.unwrap().is_ok(), "the audit chain holds");
}

async fn a_rebuild_keeps_ids_and_writes_nothing_twice(database: TestDatabase) {
    let store = &database.store;
    world(store).await;
    for narrative in ["Call 07700 900123.", "Call 07700900123 or 07700 900124.", "Van LJ15 XKR outside."] {
        submit_report(store, &nail_bar(narrative, None), None).await;
    }
    drain(store).await;
    let phone = store.find_entity(ValueKind::Phone, PHONE).await.unwrap().unwrap();
    let mentions = count(store, "SELECT COUNT(*) FROM entity_mentions").await;
    let entities = count(store, "SELECT COUNT(*) FROM entities").await;
    assert_eq!(mentions, 10, "three postcodes, three businesses, three phones, a van");

    assert_eq!(store.rebuild_entities(&AuditActor::Cli).await.unwrap(), 3);
    assert_eq!(count(store, "SELECT COUNT(*) FROM entity_mentions").await, 0, "a rebuild starts from nothing");
    drain(store).await;
    assert_eq!(count(store, "SELECT COUNT(*) FROM entity_mentions").await, mentions);
    assert_eq!(count(store, "SELECT COUNT(*) FROM entities").await, entities);
    assert_eq!(store.find_entity(ValueKind::Phone, PHONE).await.unwrap(), Some(phone), "the same id after a rebuild");

    // A job run twice (as after a crash between writing and deleting it)
    // writes no mention twice.
    store.rebuild_entities(&AuditActor::Cli).await.unwrap();
    drain(store).await;
    sqlx::query("INSERT INTO entity_jobs (id, record_kind, record_id, attempts, run_after, parked, last_error, created_at) SELECT record_id || '-again', 'report', record_id, 0, 0, 0, NULL, 0 FROM (SELECT DISTINCT record_id FROM entity_mentions) AS records")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(drain(store).await, 3);
    assert_eq!(count(store, "SELECT COUNT(*) FROM entity_mentions").await, mentions);
}

async fn a_record_that_cannot_be_read_is_parked_and_holds_up_nothing(database: TestDatabase) {
    let store = &database.store;
    world(store).await;
    sqlx::query("INSERT INTO entity_jobs (id, record_kind, record_id, attempts, run_after, parked, last_error, created_at) VALUES ('0-broken', 'carrier_pigeon', 'x', 0, 0, 0, NULL, 0)")
        .execute(store.pool())
        .await
        .unwrap();
    submit_report(store, &nail_bar("Call 07700 900123.", None), None).await;
    let first = store.work_entity_jobs(JOBS_PER_TRANSACTION).await.unwrap();
    assert_eq!((first.done, first.retried, first.parked), (1, 1, 0), "the good record is written though the bad one fails beside it");
    assert!(store.find_entity(ValueKind::Phone, PHONE).await.unwrap().is_some());
    for attempt in 2..=MAX_ATTEMPTS {
        let retried = store.work_entity_jobs(JOBS_PER_TRANSACTION).await.unwrap();
        assert_eq!(retried.total(), 0, "attempt {attempt} waits for its back-off");
        sqlx::query("UPDATE entity_jobs SET run_after = 0").execute(store.pool()).await.unwrap();
        let run = store.work_entity_jobs(JOBS_PER_TRANSACTION).await.unwrap();
        assert_eq!((run.retried, run.parked), if attempt == MAX_ATTEMPTS { (0, 1) } else { (1, 0) }, "attempt {attempt}");
    }
    let parked = store.parked_entity_jobs(10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].attempts, MAX_ATTEMPTS);
    assert!(parked[0].last_error.as_deref().unwrap_or_default().contains("carrier_pigeon"), "{:?}", parked[0].last_error);
    assert_eq!(store.entity_queue_counts().await.unwrap().parked, 1);
    sqlx::query("UPDATE entity_jobs SET run_after = 0").execute(store.pool()).await.unwrap();
    assert_eq!(store.work_entity_jobs(JOBS_PER_TRANSACTION).await.unwrap().total(), 0, "a parked job is not run again");
    assert_eq!(store.retry_parked_entity_jobs(&AuditActor::Cli).await.unwrap(), 1);
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'entities.retry_parked'").await, 1);
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'entities.job_parked'").await, 1);
}

async fn partners_see_an_entity_only_through_what_was_shared(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let report = submit_report(store, &nail_bar("The boss is on 07700 900123.", None), None).await;
    let grading = parse_grading(&GradingAnswers { scheme: "3x5x2", source: "2", intelligence: "B", handling: "P", ..GradingAnswers::default() }).unwrap();
    let (intelligence, _) = store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title: "Controller's phone",
            grading: &grading,
            sanitised_text: "DUMITRU Florin uses +44 7700 900123 and 07700 900555.",
            source: None,
            review_on: None,
            people: &[],
            share_with: &[],
        })
        .await
        .unwrap();
    store.share_intelligence(&intelligence, &world.glaa.id, &world.analyst.id).await.unwrap();
    drain(store).await;
    let phone = store.find_entity(ValueKind::Phone, PHONE).await.unwrap().unwrap();

    let analyst = view_entity(store, &caller(&world.analyst), &phone).await.unwrap();
    assert_eq!(analyst.mentions.len(), 2);
    let glaa = view_entity(store, &caller(&world.glaa_user), &phone).await.unwrap();
    assert_eq!(glaa.mentions.len(), 1, "the partner sees the shared record only");
    assert_eq!(glaa.mentions[0].record, MentionRecord::Intelligence);
    assert!(glaa.related.iter().all(|related| related.entity.kind != ValueKind::Business), "the report's business is not hinted at: {:?}", glaa.related);
    assert!(matches!(view_entity(store, &caller(&world.charity_user), &phone).await, Err(CaseError::NotFound)), "nothing shared, nothing shown");
    // The report's own business is not reachable for the partner either.
    let business = store.find_entity(ValueKind::Business, "star nails|luton").await.unwrap().unwrap();
    assert!(matches!(view_entity(store, &caller(&world.glaa_user), &business).await, Err(CaseError::NotFound)));
    let view = aidant_store::cases::reports::view_report(store, &caller(&world.analyst), &report.report_id).await.unwrap();
    assert!(view.entities.iter().any(|(entity, fields)| entity.id == phone && fields == &vec!["narrative".to_owned()]), "{:?}", view.entities);
}

async fn a_place_many_records_share_is_flagged_as_a_hub(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    for number in 0..HUB_RECORDS {
        let narrative = format!("Seen at Toddington Services LU5 6HR with a man on 07700 900{:03}.", 100 + number);
        submit_report(store, &ReportAnswers { business_name: None, postcode: None, ..nail_bar(&narrative, None) }, None).await;
    }
    drain(store).await;
    let phone = store.find_entity(ValueKind::Phone, "+447700900100").await.unwrap().unwrap();
    let view = view_entity(store, &caller(&world.analyst), &phone).await.unwrap();
    let services = view.related.iter().find(|related| related.entity.value == "LU5 6HR").expect("the services are related");
    assert_eq!(services.shared_records, 1);
    assert!(services.hub_reason.as_deref().unwrap_or_default().contains(&HUB_RECORDS.to_string()), "{:?}", services.hub_reason);
    assert!(view.related.last().is_some_and(|last| last.hub_reason.is_some()), "hubs come last");
}

async fn a_watcher_sees_each_new_record_once_and_only_what_they_may(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    submit_report(store, &nail_bar("Call 07700 900123.", None), None).await;
    drain(store).await;
    let phone = store.find_entity(ValueKind::Phone, PHONE).await.unwrap().unwrap();
    let analyst = caller(&world.analyst);
    assert!(matches!(watch_entity(store, &caller(&world.charity_user), &phone, true).await, Err(CaseError::NotFound)), "what cannot be seen cannot be watched");
    watch_entity(store, &analyst, &phone, true).await.unwrap();
    watch_entity(store, &analyst, &phone, true).await.unwrap();
    let list = watching(store, &analyst).await.unwrap();
    assert_eq!(list.len(), 1, "watching twice is watching once");
    assert!(list[0].new_mentions.is_empty(), "what was there before watching is not new");

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let tonight = submit_report(store, &nail_bar("He is on +44 7700 900123 tonight.", None), None).await;
    drain(store).await;
    let list = watching(store, &analyst).await.unwrap();
    assert_eq!(list[0].new_mentions.len(), 1);
    assert_eq!(list[0].new_mentions[0].record_id, tonight.report_id.as_str());
    let view = view_entity(store, &analyst, &phone).await.unwrap();
    assert!(view.watched);
    assert!(watching(store, &analyst).await.unwrap()[0].new_mentions.is_empty(), "opening the entity's page marks it seen");

    watch_entity(store, &analyst, &phone, false).await.unwrap();
    assert!(watching(store, &analyst).await.unwrap().is_empty());
    assert!(!view_entity(store, &analyst, &phone).await.unwrap().watched);
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action IN ('entity.watch', 'entity.unwatch')").await, 3);
}

async fn a_text_of_hundreds_of_numbers_is_read_in_part_and_says_so(database: TestDatabase) {
    let store = &database.store;
    world(store).await;
    let narrative: String = (0..360).map(|number| format!("07700 9{number:05} ")).collect();
    let receipt = submit_report(store, &nail_bar(narrative.trim(), None), None).await;
    drain(store).await;
    assert_eq!(store.entity_queue_counts().await.unwrap(), aidant_store::entities::QueueCounts { waiting: 0, parked: 0 });
    let mentions =
        sqlx::query("SELECT COUNT(*) FROM entity_mentions WHERE record_id = $1").bind(receipt.report_id.as_str()).fetch_one(store.pool()).await.unwrap();
    assert_eq!(mentions.try_get::<i64, _>(0).unwrap(), aidant_link::mentions::MAX_VALUES_PER_RECORD as i64);
    let reason: String = sqlx::query("SELECT reason FROM audit_log WHERE action = 'entities.derive' AND record_id = $1")
        .bind(receipt.report_id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(reason, "200 values, the rest left out");
}

async fn a_relation_shows_the_records_naming_both(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let first = submit_report(store, &nail_bar("The boss answers 07700 900123.", Some("LJ15 XKR")), None).await;
    let second = submit_report(store, &nail_bar("Van LJ15XKR, driver on +44 7700 900123.", None), None).await;
    submit_report(store, &nail_bar("Ring 07700900123 for work.", None), None).await;
    drain(store).await;
    let phone = store.find_entity(ValueKind::Phone, PHONE).await.unwrap().unwrap();
    let van = store.find_entity(ValueKind::Vehicle, "LJ15XKR").await.unwrap().unwrap();
    let shared = shared_records(store, &caller(&world.analyst), &phone, &van).await.unwrap();
    let mut records: Vec<&str> = shared.records.iter().map(|record| record.record_id.as_str()).collect();
    records.sort_unstable();
    let mut expected = vec![first.report_id.as_str(), second.report_id.as_str()];
    expected.sort_unstable();
    assert_eq!(records, expected, "the two reports naming both, not the third");
    assert_eq!((shared.entity.id, shared.other.id, shared.relation), (phone.clone(), van.clone(), "named together"));
    assert!(matches!(shared_records(store, &caller(&world.glaa_user), &phone, &van).await, Err(CaseError::NotFound)), "nothing shared with the partner");
    assert!(matches!(shared_records(store, &caller(&world.analyst), &phone, &phone).await, Err(CaseError::NotFound)));
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'entity.view' AND reason LIKE 'records shared with%'").await, 1);
}

aidant_store::backend_tests!(
    a_relation_shows_the_records_naming_both,
    a_text_of_hundreds_of_numbers_is_read_in_part_and_says_so,
    a_watcher_sees_each_new_record_once_and_only_what_they_may,
    one_phone_in_many_forms_is_one_entity_with_every_mention,
    a_rebuild_keeps_ids_and_writes_nothing_twice,
    a_record_that_cannot_be_read_is_parked_and_holds_up_nothing,
    partners_see_an_entity_only_through_what_was_shared,
    a_place_many_records_share_is_flagged_as_a_hub,
);
