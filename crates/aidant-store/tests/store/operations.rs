//! Operations on both backends: a plan with agencies, sites and teams; a
//! partner agency's officer sees only their own team's part; field records
//! are stored once however often a phone sends them, refused with a
//! reason when they cannot be taken, and sealed at rest; the debrief's
//! totals equal a count of the records.

use aidant_core::catalogue::Catalogue;
use aidant_core::ids::{OperationId, TeamId};
use aidant_core::operations::{FieldRecordAnswers, NewOperation, OperationAnswers};
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_store::Store;
use aidant_store::cases::CaseError;
use aidant_store::cases::operations::{
    SiteAnswers, SyncOutcome, add_site, add_team, check_recorder, field_briefings, operation_board, operation_debrief, operations_for, plan_operation,
    records_by_reference, save_press_summary, sync_records, view_briefing, view_operation,
};
use aidant_store::organisations::User;
use aidant_store::testing::{TestDatabase, catalogue};

use crate::entities::caller;

struct Day {
    supervisor: User,
    officer: User,
    glaa_officer: User,
    charity_worker: User,
    operation: OperationId,
    lorries: TeamId,
    nail_bars: TeamId,
}

async fn plan(store: &Store, catalogue: &Catalogue) -> Day {
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    let charity = store.create_organisation("Safe Haven", OrganisationKind::Charity).await.unwrap();
    let supervisor = store.create_user(&force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let officer = store.create_user(&force.id, "officer@force.example", "Officer", &[Role::Officer]).await.unwrap();
    let glaa_officer = store.create_user(&glaa.id, "officer@glaa.example", "GLAA Officer", &[Role::Partner]).await.unwrap();
    let charity_worker = store.create_user(&charity.id, "worker@charity.example", "Worker", &[Role::Partner]).await.unwrap();
    let lead = caller(&supervisor);
    let new = NewOperation::parse(&OperationAnswers { name: "Operation Aidant", starts_on: "2026-12-07", ends_on: "2026-12-11" }).unwrap();
    assert!(matches!(plan_operation(store, &caller(&officer), &new, &[]).await, Err(CaseError::Denied { .. })), "an officer plans no operation");
    let operation = plan_operation(store, &lead, &new, std::slice::from_ref(&glaa.id)).await.unwrap();
    let services = SiteAnswers {
        name: "Toddington Services",
        sector: "lorries_and_services",
        postcode: "lu5 6hr",
        reason: "Lorries drop people here; three reports in a month.",
        ..SiteAnswers::default()
    };
    let services = add_site(store, &lead, &operation, &services, catalogue).await.unwrap();
    let bad = SiteAnswers { name: "", sector: "moon_base", postcode: "LU5", reason: "", ..SiteAnswers::default() };
    let Err(CaseError::Invalid(errors)) = add_site(store, &lead, &operation, &bad, catalogue).await else { panic!("a bad site is refused") };
    assert_eq!(errors.iter().map(|error| error.field.as_str()).collect::<Vec<_>>(), ["name", "sector", "postcode", "reason"]);
    let nail_bar = SiteAnswers { name: "Star Nails, Luton", sector: "nail_bar", reason: "Workers said to sleep upstairs.", ..SiteAnswers::default() };
    let nail_bar = add_site(store, &lead, &operation, &nail_bar, catalogue).await.unwrap();
    let lorries =
        add_team(store, &lead, &operation, "Lorry checks", "Stop lorries entering the northbound park.", &[services], std::slice::from_ref(&officer.id))
            .await
            .unwrap();
    let nail_bars = add_team(store, &lead, &operation, "Nail bars", "Visit with the GLAA.", &[nail_bar], std::slice::from_ref(&glaa_officer.id)).await.unwrap();
    let Err(CaseError::Invalid(errors)) = add_team(store, &lead, &operation, "Extra", "", &[], std::slice::from_ref(&charity_worker.id)).await else {
        panic!("a charity not taking part is no member")
    };
    assert_eq!(errors[0].field, "members");
    Day { supervisor, officer, glaa_officer, charity_worker, operation, lorries, nail_bars }
}

fn stop(id: &str, registration: &str, day: &str) -> FieldRecordAnswers {
    FieldRecordAnswers {
        id: id.into(),
        kind: "vehicle_stop".into(),
        recorded_on: day.into(),
        registration: registration.into(),
        vehicle: "Curtain-sided lorry".into(),
        people: "4".into(),
        nationalities: vec!["Ruritanian".into()],
        outcome: "follow_up".into(),
        note: "Driver said they came from Wexcombe".into(),
        ..FieldRecordAnswers::default()
    }
}

fn id(number: u32) -> String {
    format!("0190f1c2-0000-7000-8000-{number:012}")
}

async fn a_partner_sees_only_their_team_and_records_once(database: TestDatabase) {
    let store = &database.store;
    let catalogue = catalogue();
    let day = plan(store, &catalogue).await;
    let operation = &day.operation;

    // Who sees what.
    let plan_read = view_operation(store, &caller(&day.officer), operation).await.unwrap();
    assert_eq!((plan_read.sites.len(), plan_read.teams.len()), (2, 2));
    assert_eq!(plan_read.sites[0].postcode.as_deref(), Some("LU5 6HR"));
    assert!(
        matches!(view_operation(store, &caller(&day.glaa_officer), operation).await, Err(CaseError::Denied { .. })),
        "a partner reads only their team's part"
    );
    assert_eq!(operations_for(store, &caller(&day.glaa_officer)).await.unwrap().len(), 1, "the operation they are in is listed");
    assert!(operations_for(store, &caller(&day.charity_worker)).await.unwrap().is_empty());

    // The GLAA officer records a visit at the nail bar; twice sent, stored once.
    let site = plan_read.sites[1].id.to_string();
    let visit = FieldRecordAnswers {
        id: id(1),
        kind: "premises_visit".into(),
        site: site.clone(),
        recorded_on: "2026-12-08".into(),
        people: "3".into(),
        documents_held_by_others: true,
        outcome: "action_taken".into(),
        ..FieldRecordAnswers::default()
    };
    let safeguarded = FieldRecordAnswers {
        id: id(2),
        kind: "safeguarded".into(),
        site,
        recorded_on: "2026-12-08".into(),
        people: "2".into(),
        ..FieldRecordAnswers::default()
    };
    let glaa = caller(&day.glaa_officer);
    let first = sync_records(store, &glaa, operation, &day.nail_bars, &[visit.clone(), safeguarded.clone()], &catalogue).await.unwrap();
    assert!(first.iter().all(|(_, outcome)| *outcome == SyncOutcome::Stored), "{first:?}");
    let again = sync_records(store, &glaa, operation, &day.nail_bars, &[visit.clone(), safeguarded], &catalogue).await.unwrap();
    assert!(again.iter().all(|(_, outcome)| *outcome == SyncOutcome::AlreadyStored), "{again:?}");
    assert!(
        matches!(
            sync_records(store, &glaa, operation, &day.lorries, &[stop(&id(3), "LJ15XKR", "2026-12-08")], &catalogue).await,
            Err(CaseError::Denied { .. })
        ),
        "a member records only for their own team"
    );
    assert!(matches!(sync_records(store, &caller(&day.charity_worker), operation, &day.nail_bars, &[visit], &catalogue).await, Err(CaseError::Denied { .. })));

    // The lorry team: three stops, one impossible registration, one after the end.
    let officer = caller(&day.officer);
    let sent = [
        stop(&id(10), "LJ15 XKR", "2026-12-09"),
        stop(&id(11), "wn64hzd", "2026-12-09"),
        stop(&id(12), "AB12 CDE", "2026-12-10"),
        stop(&id(13), "LJ15 XK!", "2026-12-10"),
        stop(&id(14), "LJ15XKR", "2026-12-20"),
        stop(&id(1), "LJ15XKR", "2026-12-09"),
    ];
    let outcomes = sync_records(store, &officer, operation, &day.lorries, &sent, &catalogue).await.unwrap();
    assert_eq!(outcomes[..3].iter().filter(|(_, outcome)| *outcome == SyncOutcome::Stored).count(), 3);
    let SyncOutcome::Refused(errors) = &outcomes[3].1 else { panic!("an impossible registration is refused: {:?}", outcomes[3]) };
    assert_eq!(errors[0].field, "registration");
    let SyncOutcome::Refused(errors) = &outcomes[4].1 else { panic!("a record after the end is refused") };
    assert!(errors[0].message.contains("ended on 2026-12-11"), "{}", errors[0].message);
    let SyncOutcome::Refused(errors) = &outcomes[5].1 else { panic!("another's record id is refused, saying nothing about it") };
    assert_eq!(errors[0].field, "id");

    // The debrief counts each record once.
    assert!(matches!(operation_debrief(store, &officer, operation, &catalogue).await, Err(CaseError::Denied { .. })));
    let (_, debrief) = operation_debrief(store, &caller(&day.supervisor), operation, &catalogue).await.unwrap();
    assert_eq!((debrief.totals.vehicles_stopped, debrief.totals.premises_visited, debrief.totals.people_safeguarded), (3, 1, 2));
    assert_eq!(debrief.by_agency["GLAA"].premises_visited, 1);
    assert_eq!(debrief.by_site["Toddington Services"].vehicles_stopped, 0, "stops made without a site are counted elsewhere");
    assert_eq!(debrief.by_site["Elsewhere"].vehicles_stopped, 3);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM field_records").fetch_one(store.pool()).await.unwrap();
    assert_eq!(stored, 5, "the debrief's totals are a count of the records");

    let everything = database.raw_contents(&["field_records", "audit_log"]).await;
    for secret in ["Wexcombe", "Ruritanian"] {
        assert!(!everything.windows(secret.len()).any(|window| window == secret.as_bytes()), "{secret} is stored in clear");
    }
}

async fn briefings_boards_and_lost_phones(database: TestDatabase) {
    let store = &database.store;
    let catalogue = catalogue();
    let day = plan(store, &catalogue).await;
    let operation = &day.operation;
    let lead = caller(&day.supervisor);
    store.set_receiving_organisation(&day.supervisor.organisation_id, &aidant_core::audit::AuditActor::Cli).await.unwrap();

    // A site chosen for a report the GLAA may not read: its briefing
    // lists the report to the force and not to the GLAA's officer.
    let report = aidant_store::testing::submit_report_with_contact(store, "07700 900123").await;
    let reference = store.find_report_by_id(&report).await.unwrap().unwrap().reference.to_string();
    let typed = format!("  {} \n", reference.to_lowercase().replace('-', " "));
    let (reports, intelligence) = records_by_reference(store, &typed, "records").await.unwrap();
    assert_eq!((reports, intelligence.len()), (vec![report.clone()], 0), "a reference is found however it is typed");
    let Err(CaseError::Invalid(errors)) = records_by_reference(store, "ZZZ-999-ZZZ", "records").await else { panic!("a made-up reference is refused") };
    assert_eq!(errors[0].field, "records");
    let car_wash = SiteAnswers { name: "Sparkle Car Wash", sector: "car_wash", reason: "A report.", reports: vec![report], ..SiteAnswers::default() };
    let car_wash = add_site(store, &lead, operation, &car_wash, &catalogue).await.unwrap();
    let team = add_team(store, &lead, operation, "Car washes", "", &[car_wash], &[day.officer.id.clone(), day.glaa_officer.id.clone()]).await.unwrap();
    let glaa_briefing = view_briefing(store, &caller(&day.glaa_officer), operation, &team).await.unwrap();
    assert_eq!(glaa_briefing.sites.len(), 1);
    assert!(glaa_briefing.sites[0].records.is_empty(), "the GLAA is not shown a report it may not read");
    let force_briefing = view_briefing(store, &caller(&day.officer), operation, &team).await.unwrap();
    assert_eq!(force_briefing.sites[0].records[0].reference, reference);
    assert_eq!(force_briefing.members.len(), 2);
    assert!(matches!(view_briefing(store, &caller(&day.glaa_officer), operation, &day.lorries).await, Err(CaseError::Denied { .. })));
    assert!(matches!(view_briefing(store, &caller(&day.charity_worker), operation, &day.nail_bars).await, Err(CaseError::Denied { .. })));

    // A site can be a business the planner sees as an entity; a phone is
    // no place.
    aidant_store::testing::submit_report(store, &crate::entities::nail_bar("The boss answers 07700 900123.", None), None).await;
    crate::entities::drain(store).await;
    let business = store.find_entity(aidant_store::entities::ValueKind::Business, "star nails|luton").await.unwrap().expect("the business is an entity");
    let phone = store.find_entity(aidant_store::entities::ValueKind::Phone, "+447700900123").await.unwrap().expect("the phone is an entity");
    let from_entity =
        SiteAnswers { name: "Star Nails", sector: "nail_bar", reason: "Named in a report.", entity: Some(business.clone()), ..SiteAnswers::default() };
    let site = add_site(store, &lead, operation, &from_entity, &catalogue).await.unwrap();
    let planned = view_operation(store, &lead, operation).await.unwrap();
    assert_eq!(planned.sites.iter().find(|candidate| candidate.id == site).unwrap().entity_id.as_ref(), Some(&business));
    let not_a_place = SiteAnswers { entity: Some(phone), ..from_entity.clone() };
    let Err(CaseError::Invalid(errors)) = add_site(store, &lead, operation, &not_a_place, &catalogue).await else { panic!("a phone is no site") };
    assert_eq!(errors[0].field, "entity");
    let during = time::macros::date!(2026 - 12 - 09);
    assert_eq!(aidant_store::cases::operations::operations_to_extend(store, &lead, during).await.unwrap().len(), 1);
    assert!(aidant_store::cases::operations::operations_to_extend(store, &lead, time::macros::date!(2026 - 12 - 12)).await.unwrap().is_empty());
    assert!(aidant_store::cases::operations::operations_to_extend(store, &caller(&day.officer), during).await.unwrap().is_empty());

    // The field app downloads the briefings of running operations only.
    let briefings = field_briefings(store, &caller(&day.glaa_officer), during).await.unwrap();
    assert_eq!(briefings.iter().map(|briefing| briefing.team.name.as_str()).collect::<Vec<_>>(), ["Nail bars", "Car washes"]);
    assert!(field_briefings(store, &caller(&day.glaa_officer), time::macros::date!(2026 - 12 - 13)).await.unwrap().is_empty());
    check_recorder(store, &caller(&day.officer), operation, &day.lorries).await.unwrap();
    assert!(matches!(check_recorder(store, &caller(&day.glaa_officer), operation, &day.lorries).await, Err(CaseError::Denied { .. })));

    // The board: everything, then only what is new.
    let officer = caller(&day.officer);
    sync_records(store, &officer, operation, &day.lorries, &[stop(&id(20), "LJ15 XKR", "2026-12-09")], &catalogue).await.unwrap();
    let (_, all) = operation_board(store, &lead, operation, None).await.unwrap();
    assert_eq!(all.len(), 1);
    let since = all[0].received_at_ms;
    assert!(operation_board(store, &lead, operation, Some(since)).await.unwrap().1.is_empty());
    sync_records(store, &officer, operation, &day.lorries, &[stop(&id(21), "WN64 HZD", "2026-12-09")], &catalogue).await.unwrap();
    let (_, fresh) = operation_board(store, &lead, operation, Some(since - 1)).await.unwrap();
    assert_eq!(fresh.len(), 2);
    assert!(matches!(operation_board(store, &officer, operation, None).await, Err(CaseError::Denied { .. })), "the board is the lead's");

    // A potential victim's case starts from a field record, named by its
    // operation, for those who read the plan and the officer who made it.
    let record: aidant_core::ids::FieldRecordId = id(20).parse().unwrap();
    let source = aidant_store::cases::victims::CaseSource::FieldRecord(record.clone());
    let case = aidant_core::safeguarding::case::NewCase::parse(
        &aidant_core::safeguarding::case::CaseAnswers { age: "adult", name: "Ana", ..Default::default() },
        aidant_store::cases::victims::today(),
    )
    .unwrap();
    let reference = aidant_store::cases::victims::source_reference(store, &lead, &source).await.unwrap();
    assert_eq!(reference, "Operation Aidant: Vehicle stop, elsewhere, 2026-12-09");
    let (victim, _) = aidant_store::cases::victims::open_case(store, &officer, &case, Some(&source)).await.unwrap();
    let linked = aidant_store::cases::victims::cases_of_record(store, &lead, &source).await.unwrap();
    assert_eq!(linked.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), vec![victim.clone()]);
    let view = aidant_store::cases::victims::view_case(store, &lead, &victim).await.unwrap();
    assert_eq!(view.links[0].reference.as_deref(), Some("Operation Aidant: Vehicle stop, elsewhere, 2026-12-09"));
    let (title, text) = aidant_store::cases::operations::intelligence_draft(store, &lead, &record, &catalogue).await.unwrap();
    assert_eq!(title, "Operation Aidant: vehicle stop LJ15 XKR");
    assert!(text.contains("Vehicle LJ15 XKR (Curtain-sided lorry).") && text.contains("4 people (Ruritanian).") && text.contains("Wexcombe"), "{text}");
    assert!(matches!(
        aidant_store::cases::operations::intelligence_draft(store, &caller(&day.glaa_officer), &record, &catalogue).await,
        Err(CaseError::Denied { .. })
    ));
    let unknown = aidant_store::cases::victims::CaseSource::FieldRecord(id(99).parse().unwrap());
    assert!(matches!(aidant_store::cases::victims::source_reference(store, &lead, &unknown).await, Err(CaseError::NotFound)));

    // The press summary: saved by the lead, refused empty.
    assert!(matches!(save_press_summary(store, &lead, operation, "  ").await, Err(CaseError::Invalid(_))));
    assert!(matches!(save_press_summary(store, &officer, operation, "Figures.").await, Err(CaseError::Denied { .. })));
    save_press_summary(store, &lead, operation, "During Operation Aidant officers stopped 2 vehicles.").await.unwrap();
    assert_eq!(view_operation(store, &lead, operation).await.unwrap().press_summary.as_deref(), Some("During Operation Aidant officers stopped 2 vehicles."));

    // A lost phone: its session is ended from another, by its public name.
    let policy = aidant_store::identity::SignInPolicy::default();
    let phone = store.create_session(&day.officer.id, true).await.unwrap();
    let laptop = store.create_session(&day.officer.id, true).await.unwrap();
    store.set_session_device(&phone, "Chrome on Android").await.unwrap();
    let sessions = store.list_sessions(&day.officer.id).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let phone_id = aidant_store::sessions::session_id(&phone);
    assert_eq!(sessions.iter().find(|session| session.id == phone_id).unwrap().device, "Chrome on Android");
    assert_ne!(aidant_store::sessions::field_key(&phone), aidant_store::sessions::field_key(&laptop), "each session has its own key");
    let actor = aidant_core::audit::AuditActor::user(day.officer.id.as_str());
    assert_eq!(store.end_sessions(&day.supervisor.id, Some(&phone_id), &actor).await.unwrap(), 0, "only the user's own sessions");
    assert_eq!(store.end_sessions(&day.officer.id, Some("not a session"), &actor).await.unwrap(), 0);
    assert_eq!(store.end_sessions(&day.officer.id, Some(&phone_id), &actor).await.unwrap(), 1);
    assert!(store.find_session(&phone, &policy).await.unwrap().is_none(), "the phone's session no longer works");
    assert!(store.find_session(&laptop, &policy).await.unwrap().is_some(), "the laptop's still does");
    assert_eq!(store.end_sessions(&day.officer.id, None, &actor).await.unwrap(), 1);
    assert!(store.find_session(&laptop, &policy).await.unwrap().is_none());
    let ended: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user.session_ended'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(ended, 2, "each ending is audited");
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

/// An operation past its review period is deleted with every record made in
/// it: the field records' sealed answers leave the database's files.
async fn a_deleted_operation_takes_its_field_records_with_it(database: TestDatabase) {
    use aidant_core::retention::{DeleteReason, RecordKind, ReviewPeriods, add_months};
    use aidant_store::cases::retention::{delete_record, review_queue};
    let store = &database.store;
    let catalogue = catalogue();
    let day = plan(store, &catalogue).await;
    let stops = [stop(&id(1), "LJ15XKR", "2026-12-08"), stop(&id(2), "YX71ABC", "2026-12-09")];
    sync_records(store, &caller(&day.officer), &day.operation, &day.lorries, &stops, &catalogue).await.unwrap();
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar("SELECT answers_sealed FROM field_records WHERE operation_id = $1")
        .bind(day.operation.as_str())
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(sealed.len(), 2);
    let tables = ["operations", "field_records", "operation_sites", "operation_teams"];
    assert!(crate::retention::any_trace(&database.raw_files(&tables).await, &sealed));

    let periods = ReviewPeriods::default();
    let supervisor = caller(&day.supervisor);
    // The clock starts at the end of the operation's last day (11 December 2026).
    let end = time::macros::datetime!(2026-12-12 00:00 UTC).unix_timestamp() * 1000;
    let not_yet = review_queue(store, &supervisor, &periods, add_months(end, periods.operations_months) - 1).await.unwrap().0;
    assert!(not_yet.iter().all(|due| due.kind != RecordKind::Operation));
    let later = add_months(end, periods.operations_months);
    let (due, _) = review_queue(store, &supervisor, &periods, later).await.unwrap();
    let operation = due.iter().find(|due| due.kind == RecordKind::Operation).expect("due on the day");
    assert_eq!(operation.label, "Operation Aidant");
    assert!(
        matches!(
            delete_record(store, &caller(&day.glaa_officer), RecordKind::Operation, day.operation.as_str(), DeleteReason::NoPolicingPurpose, &periods, later)
                .await,
            Err(CaseError::Denied { .. })
        ),
        "a partner does not review the force's operation"
    );
    let label =
        delete_record(store, &supervisor, RecordKind::Operation, day.operation.as_str(), DeleteReason::NoPolicingPurpose, &periods, later).await.unwrap();
    assert_eq!(label, "Operation Aidant");
    assert!(matches!(view_operation(store, &supervisor, &day.operation).await, Err(CaseError::NotFound)));
    for table in ["field_records", "operation_sites", "operation_teams", "operation_team_members", "operation_team_sites", "operation_agencies"] {
        let left: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(store.pool()).await.unwrap();
        assert_eq!(left, 0, "{table} keeps rows of a deleted operation");
    }
    assert!(!crate::retention::any_trace(&database.raw_files(&tables).await, &sealed), "a field record's sealed answers are still in the files");
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

aidant_store::backend_tests!(
    a_partner_sees_only_their_team_and_records_once,
    briefings_boards_and_lost_phones,
    a_deleted_operation_takes_its_field_records_with_it
);
