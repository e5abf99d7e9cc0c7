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
    SiteAnswers, SyncOutcome, add_site, add_team, operation_debrief, operations_for, plan_operation, sync_records, view_operation,
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

aidant_store::backend_tests!(a_partner_sees_only_their_team_and_records_once);
