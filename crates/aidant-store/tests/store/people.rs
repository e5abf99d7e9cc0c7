//! People named in intelligence records, resolved by the stored linker into
//! person entities, on both backends: linked when name and date of birth
//! agree, explained in the linker's words, sealed at rest, shown to each
//! viewer only through the records they may read, and kept apart or joined
//! by analysts' decisions, through a rebuild and new records alike.

use aidant_core::audit::AuditActor;
use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::ids::{EntityId, IntelligenceId};
use aidant_core::intelligence::{PersonNamed, PersonRole};
use aidant_core::organisation::Role;
use aidant_core::report::ReportAnswers;
use aidant_core::text::{BoundedText, Lines};
use aidant_link::mentions::ValueKind;
use aidant_store::Store;
use aidant_store::cases::CaseError;
use aidant_store::cases::entities::view_entity;
use aidant_store::cases::people::{DecisionRequest, decide, people_by_name, undo};
use aidant_store::cases::reports::name_person;
use aidant_store::intelligence::IntelligenceInsert;
use aidant_store::testing::{TestDatabase, submit_report};
use sqlx::Row;

use super::entities::{World, caller, count, drain, world};

fn person(name: &str, date_of_birth: Option<&str>) -> PersonNamed {
    PersonNamed {
        name: BoundedText::parse(name, 200, Lines::Single).unwrap(),
        date_of_birth: date_of_birth.map(str::to_owned),
        nationality: Some(BoundedText::parse("Romanian", 100, Lines::Single).unwrap()),
        role: PersonRole::PotentialVictim,
    }
}

async fn intelligence(store: &Store, world: &World, title: &str, people: &[PersonNamed]) -> IntelligenceId {
    let grading = parse_grading(&GradingAnswers { scheme: "3x5x2", source: "2", intelligence: "B", handling: "P", ..GradingAnswers::default() }).unwrap();
    let insert = IntelligenceInsert {
        report_id: None,
        owner_organisation_id: &world.force.id,
        created_by: &world.analyst.id,
        title,
        grading: &grading,
        sanitised_text: "Seen at the nail bar.",
        source: None,
        review_on: None,
        people,
        share_with: &[],
    };
    store.create_intelligence(&insert).await.unwrap().0
}

/// The person entity a record's `position`th person is filed under.
async fn person_of(store: &Store, record: &IntelligenceId, position: i64) -> EntityId {
    let row = sqlx::query(
        "SELECT m.entity_id FROM entity_mentions m JOIN entities e ON e.id = m.entity_id
         WHERE m.record_kind = 'intelligence' AND m.record_id = $1 AND m.field = $2 AND e.kind = 'person'",
    )
    .bind(record.as_str())
    .bind(format!("people.{position}"))
    .fetch_one(store.pool())
    .await
    .unwrap();
    EntityId::parse(&row.try_get::<String, _>(0).unwrap()).unwrap()
}

fn person_record(record: &IntelligenceId, position: i64) -> String {
    format!("intelligence:{record}:{position}")
}

async fn people_named_become_one_person_when_name_and_date_of_birth_agree(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let visit = intelligence(store, &world, "Licensing visit", &[person("POPESCU Ioana", Some("2005-06-11")), person("DUMITRU Florin", None)]).await;
    let safeguarding = intelligence(store, &world, "Safeguarding", &[person("Ioana Popescu", Some("2005-06-11"))]).await;
    let advert = intelligence(store, &world, "Adverts", &[person("Ioana Popescu", None)]).await;
    drain(store).await;

    let ioana = person_of(store, &visit, 1).await;
    assert_eq!(person_of(store, &safeguarding, 1).await, ioana, "same name (reordered) and date of birth: one person");
    assert_ne!(person_of(store, &advert, 1).await, ioana, "a name alone is not enough");
    assert_ne!(person_of(store, &visit, 2).await, ioana);

    let view = view_entity(store, &caller(&world.analyst), &ioana).await.unwrap();
    let florin = view.related.iter().find(|related| related.entity.kind == ValueKind::Person).expect("the man named beside her is related");
    assert_eq!((florin.relation, florin.entity.label.as_str(), florin.shared_records), ("associate", "DUMITRU Florin", 1));
    assert!(florin.first_seen_ms > 0 && florin.first_seen_ms <= florin.last_seen_ms);
    let person = view.person.expect("a person's page has its person part");
    assert_eq!(person.seen.len(), 2);
    assert_eq!(view.entity.label, person.seen[0].details.name, "shown by the newest name a visible record gives");
    assert!(view.entity.value.is_empty(), "the linker's key is not shown");
    let [reason] = person.reasons.as_slice() else { panic!("one link explained: {:?}", person.reasons) };
    assert!(reason.probability > 0.99);
    let date = reason.parts.iter().find(|part| part.field == "dob").expect("the date of birth is part of the reason");
    assert_eq!(date.level, "exact");
    assert!(date.weight.unwrap() > 5.0);

    // Staff name her in a public report too: the same person.
    let report = submit_report(
        store,
        &ReportAnswers {
            sector: Some("nail_bar".into()),
            town: Some("Luton".into()),
            narrative: Some("A girl called Ioana.".into()),
            ..ReportAnswers::default()
        },
        None,
    )
    .await;
    let named = self::person("Ioana POPESCU", Some("2005-06-11"));
    let officer = store.create_user(&world.force.id, "officer@force.example", "Officer", &[Role::Officer]).await.unwrap();
    assert!(
        matches!(name_person(store, &caller(&officer), &report.report_id, &named).await, Err(CaseError::Denied { .. })),
        "officers do not write intelligence"
    );
    assert!(matches!(name_person(store, &caller(&world.glaa_user), &report.report_id, &named).await, Err(CaseError::Denied { .. })));
    name_person(store, &caller(&world.analyst), &report.report_id, &named).await.unwrap();
    drain(store).await;
    let row = sqlx::query("SELECT m.entity_id FROM entity_mentions m JOIN entities e ON e.id = m.entity_id WHERE m.record_kind = 'report' AND m.record_id = $1 AND m.field = 'people.1'")
        .bind(report.report_id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(row.try_get::<String, _>(0).unwrap(), ioana.as_str(), "the report's person is the intelligence records' person");
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'report.person_named'").await, 1);

    // Who they are is sealed: no name in the tables' bytes.
    for sql in ["SELECT details_sealed FROM record_people", "SELECT label_sealed FROM entities WHERE kind = 'person'"] {
        for row in sqlx::query(sql).fetch_all(store.pool()).await.unwrap() {
            let sealed: Vec<u8> = row.try_get(0).unwrap();
            assert!(!String::from_utf8_lossy(&sealed).to_lowercase().contains("popescu"), "{sql}");
        }
    }
}

async fn a_partner_sees_a_person_only_through_shared_records(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let shared = intelligence(store, &world, "Shared", &[person("POPESCU Ioana", Some("2005-06-11"))]).await;
    let kept = intelligence(store, &world, "Kept", &[person("Ioana POPESCUE", Some("2005-06-11"))]).await;
    store.share_intelligence(&shared, &world.glaa.id, &world.analyst.id).await.unwrap();
    drain(store).await;
    let ioana = person_of(store, &shared, 1).await;
    assert_eq!(person_of(store, &kept, 1).await, ioana);

    let partner = view_entity(store, &caller(&world.glaa_user), &ioana).await.unwrap();
    let person = partner.person.unwrap();
    assert_eq!(person.seen.len(), 1);
    assert_eq!(person.seen[0].details.name, "POPESCU Ioana");
    assert!(person.reasons.is_empty(), "a link to a record the partner may not read is not explained");
    assert_eq!(partner.entity.label, "POPESCU Ioana", "not the spelling only the unshared record gives");
    assert!(!person.may_decide);
    assert!(matches!(view_entity(store, &caller(&world.charity_user), &ioana).await, Err(CaseError::NotFound)));

    // Found by name, by whoever may read a record naming her, as that record names her.
    assert_eq!(people_by_name(store, &caller(&world.analyst), "popescu").await.unwrap().len(), 1);
    assert_eq!(people_by_name(store, &caller(&world.analyst), "IOANA  Popescu").await.unwrap()[0].0, ioana);
    assert_eq!(people_by_name(store, &caller(&world.glaa_user), "popescu").await.unwrap(), vec![(ioana.clone(), "POPESCU Ioana".to_owned())]);
    assert!(people_by_name(store, &caller(&world.glaa_user), "popescue").await.unwrap().is_empty(), "the unshared spelling finds nothing for the partner");
    assert!(people_by_name(store, &caller(&world.charity_user), "popescu").await.unwrap().is_empty());
    assert!(people_by_name(store, &caller(&world.analyst), "popescu maria").await.unwrap().is_empty(), "every word must be in the name");
    assert!(people_by_name(store, &caller(&world.analyst), "").await.unwrap().is_empty());
    let request = DecisionRequest { kind: "take_out", record: &person_record(&shared, 1), reason: "Not her", ..DecisionRequest::default() };
    assert!(matches!(decide(store, &caller(&world.glaa_user), &ioana, &request).await, Err(CaseError::Denied { .. })));
}

async fn decisions_split_and_join_people_through_a_rebuild_and_new_records(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let supervisor = store.create_user(&world.force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let first = intelligence(store, &world, "First", &[person("Ana Marin", Some("1999-01-02"))]).await;
    let second = intelligence(store, &world, "Second", &[person("MARIN Ana", Some("1999-01-02"))]).await;
    drain(store).await;
    let ana = person_of(store, &first, 1).await;
    assert_eq!(person_of(store, &second, 1).await, ana);
    let analyst = caller(&world.analyst);

    // Not the same person: split, each keeps a page.
    let apart = DecisionRequest {
        kind: "apart",
        record: &person_record(&first, 1),
        other_record: &person_record(&second, 1),
        reason: "Different mothers' names on the two passports",
        ..DecisionRequest::default()
    };
    decide(store, &analyst, &ana, &apart).await.unwrap();
    let split = person_of(store, &second, 1).await;
    assert_ne!(split, person_of(store, &first, 1).await);
    assert_eq!(person_of(store, &first, 1).await, ana, "the first record keeps the person's id");
    let view = view_entity(store, &analyst, &ana).await.unwrap().person.unwrap();
    assert_eq!(view.seen.len(), 1);
    assert_eq!(view.decisions.len(), 1);
    assert_eq!(view.decisions[0].reason, "Different mothers' names on the two passports");

    // A rebuild and a new record that matches both keep them apart.
    store.rebuild_entities(&AuditActor::Cli).await.unwrap();
    drain(store).await;
    assert_ne!(person_of(store, &first, 1).await, person_of(store, &second, 1).await, "apart after a rebuild");
    let third = intelligence(store, &world, "Third", &[person("Ana MARIN", Some("1999-01-02"))]).await;
    drain(store).await;
    let joined = person_of(store, &third, 1).await;
    assert!(joined == person_of(store, &first, 1).await || joined == person_of(store, &second, 1).await);
    assert_ne!(person_of(store, &first, 1).await, person_of(store, &second, 1).await, "a bridging record merges nothing decided apart");

    // Saying the opposite is refused while the decision is in force.
    let second_person = person_of(store, &second, 1).await;
    let same = DecisionRequest {
        kind: "same",
        record: &person_record(&first, 1),
        other_person: second_person.as_str(),
        reason: "Same passport number",
        ..DecisionRequest::default()
    };
    assert!(matches!(decide(store, &analyst, &ana, &same).await, Err(CaseError::Invalid(errors)) if errors[0].field == "kind"));
    // An analyst cannot undo; a supervisor can, and the links join them again.
    let decision = view_entity(store, &analyst, &ana).await.unwrap().person.unwrap().decisions[0].id.clone();
    assert!(matches!(undo(store, &analyst, &ana, &decision).await, Err(CaseError::Denied { .. })));
    undo(store, &caller(&supervisor), &ana, &decision).await.unwrap();
    assert_eq!(person_of(store, &first, 1).await, person_of(store, &second, 1).await, "undone: one person again");
    let page = view_entity(store, &analyst, &person_of(store, &first, 1).await).await.unwrap().person.unwrap();
    assert!(page.decisions[0].undone_at_ms.is_some());

    // Taken out: stands alone, and a rebuild keeps it so.
    let ana = person_of(store, &first, 1).await;
    let take_out = DecisionRequest { kind: "take_out", record: &person_record(&third, 1), reason: "Different person, same name", ..DecisionRequest::default() };
    decide(store, &analyst, &ana, &take_out).await.unwrap();
    assert_ne!(person_of(store, &third, 1).await, person_of(store, &first, 1).await);
    store.rebuild_entities(&AuditActor::Cli).await.unwrap();
    drain(store).await;
    assert_ne!(person_of(store, &third, 1).await, person_of(store, &first, 1).await);
    assert_eq!(person_of(store, &second, 1).await, person_of(store, &first, 1).await);

    // Same person: joins two people no link joins.
    let other = intelligence(store, &world, "Other", &[person("Ana M.", None)]).await;
    drain(store).await;
    let other_person = person_of(store, &other, 1).await;
    assert_ne!(other_person, person_of(store, &first, 1).await);
    let same = DecisionRequest {
        kind: "same",
        record: &person_record(&other, 1),
        other_person: &format!("/staff/entities/{}", person_of(store, &first, 1).await),
        reason: "Same phone on both adverts",
        ..DecisionRequest::default()
    };
    let shown = decide(store, &analyst, &other_person, &same).await.unwrap();
    assert_eq!(person_of(store, &other, 1).await, person_of(store, &first, 1).await);
    assert_eq!(shown, person_of(store, &first, 1).await);
    // The old page leads to the person it became part of.
    let followed = view_entity(store, &analyst, &other_person).await.unwrap();
    assert_eq!(followed.entity.id, person_of(store, &first, 1).await);

    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'people.decide'").await, 3);
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'people.decision_undo'").await, 1);
    let invalid =
        DecisionRequest { kind: "apart", record: &person_record(&first, 1), other_record: "intelligence:nope:1", reason: "", ..DecisionRequest::default() };
    let Err(CaseError::Invalid(errors)) = decide(store, &analyst, &person_of(store, &first, 1).await, &invalid).await else { panic!("refused field by field") };
    let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(fields, vec!["reason", "other_record"]);
}

async fn names_in_any_script_are_linked_and_never_park_a_record(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let odd = [
        person("Ioana Попеску", Some("2005-06-11")),
        person("李 Wei", Some("1990")),
        person("Ștefan \u{200B}Țăranu", None),
        person("O'Brien-Smith", None),
        person("ا", None),
    ];
    let first = intelligence(store, &world, "Odd names", &odd).await;
    let second = intelligence(store, &world, "The same, again", &odd).await;
    drain(store).await;
    assert_eq!(store.entity_queue_counts().await.unwrap().parked, 0, "{:?}", store.parked_entity_jobs(5).await.unwrap());
    for position in 1..=odd.len() as i64 {
        person_of(store, &first, position).await;
    }
    assert_eq!(person_of(store, &first, 1).await, person_of(store, &second, 1).await, "a mixed-script name with its date of birth links");
}

/// A force's own model (`people_model_file`, trained by `aidant link --model-out`) links what the
/// reference model would not: here one that takes a shared full name for enough.
async fn a_configured_people_model_is_the_one_the_resolver_starts_with(database: TestDatabase) {
    let mut trusting = aidant_link::reference_model::reference_model();
    trusting.population.prior_match_probability = 0.05;
    let store = &database.store.clone().with_people_model(trusting.clone());
    let world = world(store).await;
    let visit = intelligence(store, &world, "Licensing visit", &[person("POPESCU Ioana", Some("2005-06-11"))]).await;
    let advert = intelligence(store, &world, "Adverts", &[person("Ioana Popescu", None)]).await;
    drain(store).await;
    assert_eq!(person_of(store, &advert, 1).await, person_of(store, &visit, 1).await, "the configured model links on the name alone");
    let stored: String = sqlx::query_scalar("SELECT model_json FROM link_resolver WHERE id = 'people'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(aidant_link::model::Model::from_json(&stored).unwrap(), trusting, "the resolver keeps the model it started with");
}

aidant_store::backend_tests!(
    a_configured_people_model_is_the_one_the_resolver_starts_with,
    names_in_any_script_are_linked_and_never_park_a_record,
    people_named_become_one_person_when_name_and_date_of_birth_agree,
    a_partner_sees_a_person_only_through_shared_records,
    decisions_split_and_join_people_through_a_rebuild_and_new_records,
);
