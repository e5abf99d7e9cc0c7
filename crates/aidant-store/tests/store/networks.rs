//! Networks in the browser, on both backends: a link chart shows each
//! viewer only what they may see, expands at most 25 neighbours at a time
//! and a hub only on purpose; saved charts are shared within their
//! organisation only; exports refuse an empty chart; the organised-crime-
//! group analysis finds groups with a run record that reproduces, is saved,
//! compared with another window, and takes roles given to people.

use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::ids::{ChartId, EntityId};
use aidant_core::intelligence::{PersonNamed, PersonRole};
use aidant_core::organisation::Role;
use aidant_core::report::ReportAnswers;
use aidant_core::text::{BoundedText, Lines};
use aidant_graph::RoleInProcess;
use aidant_link::mentions::ValueKind;
use aidant_store::Store;
use aidant_store::cases::CaseError;
use aidant_store::cases::entities::HUB_RECORDS;
use aidant_store::cases::networks::{
    AnalysisRequest, ChartFormat, ChartRequest, EXPAND_AT_ONCE, SaveChart, analyse_network, assign_role, chart, compare_analysis, delete_chart, export_chart,
    list_analyses, list_charts, open_analysis, open_chart, save_analysis, save_chart,
};
use aidant_store::intelligence::IntelligenceInsert;
use aidant_store::testing::{TestDatabase, submit_report};

use crate::entities::{World, caller, count, drain, world};

fn report(narrative: &str) -> ReportAnswers {
    ReportAnswers { sector: Some("nail_bar".into()), town: Some("Luton".into()), narrative: Some(narrative.into()), ..ReportAnswers::default() }
}

fn person(name: &str, role: PersonRole) -> PersonNamed {
    PersonNamed { name: BoundedText::parse(name, 200, Lines::Single).unwrap(), date_of_birth: Some("1981-02-17".to_owned()), nationality: None, role }
}

/// An intelligence record the force owns, shared with the GLAA when `share`.
async fn intelligence(store: &Store, world: &World, text: &str, people: &[PersonNamed], share: bool) {
    let grading = parse_grading(&GradingAnswers { scheme: "3x5x2", source: "2", intelligence: "B", handling: "P", ..GradingAnswers::default() }).unwrap();
    let (id, _) = store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title: "Group",
            grading: &grading,
            sanitised_text: text,
            source: None,
            review_on: None,
            people,
            share_with: &[],
        })
        .await
        .unwrap();
    if share {
        store.share_intelligence(&id, &world.glaa.id, &world.analyst.id).await.unwrap();
    }
}

async fn entity(store: &Store, kind: ValueKind, value: &str) -> EntityId {
    store.find_entity(kind, value).await.unwrap().unwrap_or_else(|| panic!("{kind} {value} is an entity"))
}

fn request(entities: &[&EntityId]) -> ChartRequest {
    ChartRequest { entities: entities.iter().map(|id| (*id).clone()).collect(), ..ChartRequest::default() }
}

async fn a_chart_shows_each_viewer_only_what_they_may_see(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    // A public report (the force's only) names both phones; shared
    // intelligence names the first with a van.
    submit_report(store, &report("The boss is on 07700 900123 and his driver on 07700 900456."), None).await;
    intelligence(store, &world, "The controller uses 07700 900123 and drives LJ15 XKR.", &[], true).await;
    drain(store).await;
    let first = entity(store, ValueKind::Phone, "+447700900123").await;
    let second = entity(store, ValueKind::Phone, "+447700900456").await;
    let van = entity(store, ValueKind::Vehicle, "LJ15XKR").await;

    let analyst = chart(store, &caller(&world.analyst), None, &request(&[&first, &second, &van])).await.unwrap();
    assert_eq!(analyst.entities.len(), 3);
    assert_eq!(analyst.withheld, 0);
    let phones = analyst.relations.iter().find(|relation| [&relation.source, &relation.target] == [&first, &second]).expect("the phones are linked");
    assert_eq!((phones.records, phones.confirmed), (1, false), "one public report: unconfirmed");
    let with_van = analyst.relations.iter().find(|relation| relation.source == first && relation.target == van).expect("phone and van");
    assert!(with_van.confirmed, "an intelligence record names both");

    // The GLAA may read the shared record only: the second phone is withheld
    // and nothing rests on the report.
    let glaa = chart(store, &caller(&world.glaa_user), None, &request(&[&first, &second, &van])).await.unwrap();
    let ids: Vec<&EntityId> = glaa.entities.iter().map(|entity| &entity.entity.id).collect();
    assert_eq!(ids, [&first, &van]);
    assert_eq!(glaa.withheld, 1);
    assert_eq!(glaa.relations.len(), 1);
    assert_eq!(glaa.entities[0].records, 1, "counted over what the GLAA may read");
    // The charity may read nothing: an empty chart, everything withheld.
    let charity = chart(store, &caller(&world.charity_user), None, &request(&[&first, &second, &van])).await.unwrap();
    assert!(charity.entities.is_empty() && charity.relations.is_empty());
    assert_eq!(charity.withheld, 3);
    // Expanding what it may not see is "not found".
    let expand = ChartRequest { expand: Some(second.clone()), ..request(&[]) };
    assert!(matches!(chart(store, &caller(&world.glaa_user), None, &expand).await, Err(CaseError::NotFound)));
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'chart.view'").await, 3, "each drawing is audited");
}

async fn expanding_adds_at_most_25_and_a_hub_only_on_purpose(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    // One phone named with 30 others, each in its own report.
    for number in 0..30 {
        submit_report(store, &report(&format!("The boss on 07700 900123 gave the driver 07700 900{:03}.", 200 + number)), None).await;
    }
    drain(store).await;
    let boss = entity(store, ValueKind::Phone, "+447700900123").await;
    let analyst = caller(&world.analyst);
    // The boss's phone is in enough records to be a hub.
    const { assert!(30 >= HUB_RECORDS) };
    let hub = chart(store, &analyst, None, &ChartRequest { expand: Some(boss.clone()), ..request(&[&boss]) }).await.unwrap();
    let expanded = hub.expanded.expect("an expansion");
    assert!(expanded.added.is_empty() && expanded.hub.is_some(), "a hub is not expanded unless asked: {expanded:?}");
    assert!(hub.entities[0].hub.is_some(), "and it is drawn as a hub");

    let forced = chart(store, &analyst, None, &ChartRequest { expand: Some(boss.clone()), force: true, ..request(&[&boss]) }).await.unwrap();
    let expanded = forced.expanded.unwrap();
    assert_eq!((expanded.added.len(), expanded.more), (EXPAND_AT_ONCE, 30 - EXPAND_AT_ONCE));
    assert_eq!(forced.entities.len(), EXPAND_AT_ONCE + 1);
    assert_eq!(forced.relations.len(), EXPAND_AT_ONCE, "each driver's phone is linked to the boss's");
    // The next page skips those already on the chart.
    let mut on_chart: Vec<EntityId> = forced.entities.iter().map(|entity| entity.entity.id.clone()).collect();
    let next = chart(store, &analyst, None, &ChartRequest { entities: on_chart.clone(), expand: Some(boss.clone()), force: true, ..ChartRequest::default() })
        .await
        .unwrap()
        .expanded
        .unwrap();
    assert_eq!((next.added.len(), next.more), (30 - EXPAND_AT_ONCE, 0));
    on_chart.extend(next.added.iter().cloned());
    assert!(next.added.iter().all(|id| !forced.entities.iter().any(|entity| entity.entity.id == *id)));
    // Too many entities is a field error.
    let too_many = ChartRequest { entities: vec![boss.clone(); 2_501], ..ChartRequest::default() };
    assert!(matches!(chart(store, &analyst, None, &too_many).await, Err(CaseError::Invalid(_))));
}

async fn saved_charts_are_shared_within_their_organisation_only(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    intelligence(store, &world, "The controller uses 07700 900123.", &[], true).await;
    drain(store).await;
    let phone = entity(store, ValueKind::Phone, "+447700900123").await;
    let state = format!(r#"{{"entities":["{phone}"],"positions":{{"{phone}":[1.5,-2.0]}},"layout":"hierarchical"}}"#);
    let analyst = caller(&world.analyst);
    let colleague_user = store.create_user(&world.force.id, "officer@force.example", "Officer", &[Role::Officer]).await.unwrap();
    let colleague = caller(&colleague_user);

    // Bad input: every field's problem at once, nothing saved.
    let Err(CaseError::Invalid(errors)) = save_chart(store, &analyst, None, &SaveChart { name: " ", shared: false, state: "{\"entities\":[1]}" }).await else {
        panic!("an unnamed chart with a broken state is refused")
    };
    assert_eq!(errors.iter().map(|error| error.field.as_str()).collect::<Vec<_>>(), ["name", "state"]);
    let empty = save_chart(store, &analyst, None, &SaveChart { name: "Empty", shared: false, state: "{\"entities\":[]}" }).await;
    assert!(matches!(empty, Err(CaseError::Invalid(_))), "an empty chart is not saved");
    assert_eq!(count(store, "SELECT COUNT(*) FROM charts").await, 0);

    let private = save_chart(store, &analyst, None, &SaveChart { name: "DUMITRU's phones", shared: false, state: &state }).await.unwrap();
    assert!(list_charts(store, &colleague).await.unwrap().is_empty(), "a private chart is the owner's only");
    assert!(matches!(open_chart(store, &colleague, &private).await, Err(CaseError::NotFound)));
    let shared = save_chart(store, &analyst, Some(&private), &SaveChart { name: "DUMITRU's phones", shared: true, state: &state }).await.unwrap();
    assert_eq!(shared, private, "saving again keeps the chart");
    let opened = open_chart(store, &colleague, &shared).await.unwrap();
    assert_eq!((opened.name.as_str(), opened.mine, opened.state.positions[phone.as_str()]), ("DUMITRU's phones", false, [1.5, -2.0]));
    // A colleague may open it but not change or delete it; the attempts are audited.
    let change = save_chart(store, &colleague, Some(&shared), &SaveChart { name: "Mine now", shared: true, state: &state }).await;
    assert!(matches!(change, Err(CaseError::Denied { .. })));
    assert!(matches!(delete_chart(store, &colleague, &shared).await, Err(CaseError::Denied { .. })));
    // Another organisation cannot tell it from none, even with its id.
    assert!(matches!(open_chart(store, &caller(&world.glaa_user), &shared).await, Err(CaseError::NotFound)));
    assert!(list_charts(store, &caller(&world.glaa_user)).await.unwrap().is_empty());
    // The name is sealed at rest.
    let names: Vec<Vec<u8>> = sqlx::query_scalar("SELECT name_sealed FROM charts").fetch_all(store.pool()).await.unwrap();
    assert!(names.iter().all(|name| !String::from_utf8_lossy(name).contains("DUMITRU")));
    delete_chart(store, &analyst, &shared).await.unwrap();
    assert!(matches!(open_chart(store, &analyst, &shared).await, Err(CaseError::NotFound)));
    assert!(matches!(open_chart(store, &analyst, &ChartId::parse("0190f1c2-0000-7000-8000-00000000dead").unwrap()).await, Err(CaseError::NotFound)));
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND record_kind = 'chart'").await, 2);
}

async fn an_export_holds_what_the_viewer_may_see_and_nothing_is_refused(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    submit_report(store, &report("The boss is on 07700 900123 and his driver on 07700 900456."), None).await;
    intelligence(store, &world, "The controller uses 07700 900123.", &[], true).await;
    drain(store).await;
    let first = entity(store, ValueKind::Phone, "+447700900123").await;
    let second = entity(store, ValueKind::Phone, "+447700900456").await;
    let state = format!(r#"{{"entities":["{first}","{second}"]}}"#);
    let analyst = export_chart(store, &caller(&world.analyst), None, &state, ChartFormat::Anx).await.unwrap();
    assert_eq!((analyst.network.entities().len(), analyst.network.relations().len()), (2, 1));
    let glaa = export_chart(store, &caller(&world.glaa_user), None, &state, ChartFormat::GraphMl).await.unwrap();
    assert_eq!((glaa.network.entities().len(), glaa.network.relations().len()), (1, 0), "the report is not the GLAA's");
    // Nothing to export: a field error, not an empty file.
    let nothing = export_chart(store, &caller(&world.charity_user), None, &state, ChartFormat::Svg).await;
    assert!(matches!(nothing, Err(CaseError::Invalid(errors)) if errors[0].field == "state"));
    let broken = export_chart(store, &caller(&world.analyst), None, "{\"entities\":[\"x\"]}", ChartFormat::Gexf).await;
    assert!(matches!(broken, Err(CaseError::Invalid(_))));
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'chart.export'").await, 2);
}

async fn the_group_analysis_finds_groups_reproducibly_and_saves_and_compares(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let analyst = caller(&world.analyst);
    // Bad input first: an empty window gives no group and says why.
    let empty = analyse_network(store, &analyst, &AnalysisRequest::default()).await.unwrap();
    assert!(empty.groups.is_empty());
    assert_eq!(empty.explained.result.entities, 0);
    let backwards = AnalysisRequest { from: aidant_graph::parse_seen_date("2026-03-02").ok(), to: aidant_graph::parse_seen_date("2026-03-01").ok() };
    assert!(matches!(analyse_network(store, &analyst, &backwards).await, Err(CaseError::Invalid(_))));

    // A controller, his victim, two phones, a van and an address.
    let people = [person("DUMITRU Florin", PersonRole::SuspectedOffender), person("POPESCU Ioana", PersonRole::PotentialVictim)];
    intelligence(store, &world, "DUMITRU Florin uses 07700 900123 and drives LJ15 XKR to LU1 2NX, where POPESCU Ioana lives.", &people, true).await;
    intelligence(store, &world, "The van LJ15 XKR was seen at LU1 2NX; its driver answers 07700 900456.", &people[..1], false).await;
    intelligence(store, &world, "07700 900456 and 07700 900123 were topped up together at LU1 2NX.", &people, false).await;
    // Another group, apart from the first.
    for text in
        ["A car wash at MK40 3TQ; the manager drives AB12 CDE.", "AB12 CDE is kept at MK40 3TQ; its driver is on 07700 900777.", "07700 900777 rings MK40 3TQ."]
    {
        intelligence(store, &world, text, &[], false).await;
    }
    drain(store).await;
    let view = analyse_network(store, &analyst, &AnalysisRequest::default()).await.unwrap();
    assert_eq!(view.groups.len(), 2, "{:?}", view.groups);
    let group = &view.groups[0];
    let labels: Vec<String> = group.members.iter().map(|member| format!("{} {}", member.entity.kind, member.entity.label)).collect();
    assert_eq!(group.members.len(), 6, "{labels:?} {:?}", view.explained.result);
    let key: Vec<&str> = group.key_players.iter().map(|member| member.entity.label.as_str()).collect();
    assert_eq!(key, ["DUMITRU Florin"], "the person who is not a victim");
    assert!(group.members.iter().any(|member| member.victim && member.entity.label == "POPESCU Ioana"));
    assert_eq!(view.explained.run.seed, Some(1));
    // Run again, the same answer to the byte.
    let again = analyse_network(store, &analyst, &AnalysisRequest::default()).await.unwrap();
    assert_eq!(again.explained.run.input_sha256, view.explained.run.input_sha256);
    assert_eq!(again.explained.run.result_sha256, view.explained.run.result_sha256);
    // The GLAA sees the group only through the one record shared with it.
    let glaa = analyse_network(store, &caller(&world.glaa_user), &AnalysisRequest::default()).await.unwrap();
    assert_ne!(glaa.explained.run.input_sha256, view.explained.run.input_sha256);
    assert!(glaa.groups.iter().all(|group| group.members.iter().all(|member| member.entity.value != "+447700900456")), "the driver's phone is not shared");
    assert!(glaa.groups.iter().all(|group| group.members.iter().all(|member| member.entity.value != "AB12CDE")), "nor the other group");

    // Saved, opened by a colleague, compared with a window before it all.
    assert!(matches!(save_analysis(store, &analyst, "", &AnalysisRequest::default()).await, Err(CaseError::Invalid(_))));
    let id = save_analysis(store, &analyst, "Operation Aidant", &AnalysisRequest::default()).await.unwrap();
    let supervisor = store.create_user(&world.force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let opened = open_analysis(store, &caller(&supervisor), &id).await.unwrap();
    assert_eq!(opened.explained, view.explained);
    assert_eq!(list_analyses(store, &caller(&supervisor)).await.unwrap()[0].name, "Operation Aidant");
    assert!(matches!(open_analysis(store, &caller(&world.glaa_user), &id).await, Err(CaseError::NotFound)), "another organisation's analysis");
    let before = AnalysisRequest { from: None, to: aidant_graph::parse_seen_date("2000-01-01").ok() };
    let comparison = compare_analysis(store, &analyst, &id, &before).await.unwrap();
    assert!(comparison.later.groups.is_empty());
    assert_eq!(comparison.changes.len(), 2);
    assert_eq!((comparison.changes[0].later, comparison.changes[0].left.len()), (None, 6), "everyone left");

    // A role for the controller; a phone has none; the charity cannot see him.
    let florin = group.key_players[0].entity.id.clone();
    assign_role(store, &analyst, &florin, Some(RoleInProcess::Controller)).await.unwrap();
    let phone = entity(store, ValueKind::Phone, "+447700900123").await;
    assert!(matches!(assign_role(store, &analyst, &phone, Some(RoleInProcess::Controller)).await, Err(CaseError::Invalid(_))));
    assert!(matches!(assign_role(store, &caller(&world.charity_user), &florin, None).await, Err(CaseError::NotFound)));
    let reopened = open_analysis(store, &analyst, &id).await.unwrap();
    let member = reopened.groups[0].members.iter().find(|member| member.entity.id == florin).unwrap();
    assert_eq!(member.role, Some(RoleInProcess::Controller));
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'network.role_assign'").await, 1);
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

aidant_store::backend_tests!(
    a_chart_shows_each_viewer_only_what_they_may_see,
    expanding_adds_at_most_25_and_a_hub_only_on_purpose,
    saved_charts_are_shared_within_their_organisation_only,
    an_export_holds_what_the_viewer_may_see_and_nothing_is_refused,
    the_group_analysis_finds_groups_reproducibly_and_saves_and_compares,
);
