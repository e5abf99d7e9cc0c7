//! `aidant demo` plants the story of Operation Aidant among its ordinary
//! reports: the real binary makes a demo, and the tests read back through the
//! store what a member of staff would find.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aidant_cli::demo_story::{
    BEDFORDSHIRE_POLICE, CONTROLLER_DATE_OF_BIRTH, GLAA, GLAA_ANALYST_EMAIL, GROUP_PHONES_E164, GROUP_POSTCODES, GROUP_REGISTRATIONS, HUB_POSTCODE,
    STORY_INTELLIGENCE, STORY_MIN_REPORTS, STORY_REPORTS,
};
use aidant_core::ids::OrganisationId;
use aidant_core::organisation::Role;
use aidant_core::policy::Actor;
use aidant_link::text::{Entity, extract_entities};
use aidant_store::cases::Caller;
use aidant_store::intelligence::IntelligenceRecord;
use aidant_store::reports::StoredReport;
use aidant_store::search::{SearchPosition, SearchScope};
use aidant_store::triage::{QueueFilter, QueueOrder, QueuePosition, StatusFilter};
use aidant_store::{Store, StoreOptions};

use crate::helpers::{aidant, assert_success};

/// Runs `aidant demo --no-serve` with `arguments` into `data_dir`; returns stdout.
fn run_demo(data_dir: &Path, arguments: &[&str]) -> String {
    let output = aidant().args(["demo", "--no-serve"]).args(arguments).arg("--data-dir").arg(data_dir).output().unwrap();
    assert_success(&output)
}

async fn open_demo(data_dir: &Path) -> Store {
    Store::connect(&format!("sqlite://{}", data_dir.join("aidant.db").display()), &StoreOptions::default(), None).await.unwrap()
}

/// The demo's database with its master key (kept beside the data
/// directory, in `<data dir>-keys`), for what reads sealed values.
async fn open_demo_with_key(data_dir: &Path) -> Store {
    let name = data_dir.file_name().unwrap().to_string_lossy();
    let key = std::fs::read_to_string(data_dir.with_file_name(format!("{name}-keys")).join("master.key")).unwrap();
    let key = aidant_store::crypto::MasterKey::from_hex(key.trim()).unwrap();
    Store::connect(&format!("sqlite://{}", data_dir.join("aidant.db").display()), &StoreOptions::default(), Some(key)).await.unwrap()
}

/// Every report in the receiving force's queue, whatever its status, in
/// the order they arrived.
async fn every_report(store: &Store) -> Vec<StoredReport> {
    let police = store.find_organisation_by_name(BEDFORDSHIRE_POLICE).await.unwrap().expect("the demo's police force");
    let filter = QueueFilter { status: Some(StatusFilter::All), ..QueueFilter::default() };
    let mut reports = Vec::new();
    let mut position = QueuePosition::First;
    loop {
        let page = store.triage_queue(&police.id, &filter, QueueOrder::Oldest, &position, 200, None).await.unwrap();
        for row in &page.rows {
            reports.push(store.find_report_by_id(&row.id).await.unwrap().expect("a queued report"));
        }
        match page.next {
            Some(cursor) => position = QueuePosition::After(cursor),
            None => break,
        }
    }
    reports.sort_by_key(|report| report.received_at_ms);
    reports
}

/// Everything a reporter typed as free text, one string per answer.
fn free_text(report: &StoredReport) -> Vec<&str> {
    let mut texts: Vec<&str> = [&report.narrative, &report.people_description, &report.location_description, &report.when_seen]
        .into_iter()
        .filter_map(|text| text.as_deref())
        .collect();
    texts.extend(report.vehicles.iter().filter_map(|(_, description)| description.as_deref()));
    texts
}

/// Phone numbers written in `text`, each as written and in E.164, as the
/// entity extractor (the one the server's worker uses) reads them.
fn written_phones(text: &str) -> Vec<(String, String)> {
    extract_entities(text, None)
        .into_iter()
        .filter_map(|extracted| match extracted.entity {
            Entity::Phone(phone) => Some((text[extracted.span].to_owned(), phone.as_str().to_owned())),
            _ => None,
        })
        .collect()
}

/// Registrations in a report: its structured vehicle answers, and those the
/// entity extractor finds in its free text.
fn registrations(report: &StoredReport) -> (BTreeSet<String>, BTreeSet<String>) {
    let structured = report.vehicles.iter().filter_map(|(registration, _)| registration.clone()).collect();
    let mut in_text = BTreeSet::new();
    for text in free_text(report) {
        for extracted in extract_entities(text, None) {
            if let Entity::Vrm(vrm) = extracted.entity {
                in_text.insert(vrm.compact().to_owned());
            }
        }
    }
    (structured, in_text)
}

/// What a user would see on the intelligence page: titles of the records
/// the policy lets them read.
async fn visible_titles(store: &Store, email: &str) -> BTreeSet<String> {
    let user = store.find_user_by_email(email).await.unwrap().unwrap_or_else(|| panic!("no demo user {email}"));
    let actor = Actor { organisation_id: user.organisation_id.clone(), roles: user.roles.iter().copied().collect() };
    let records = aidant_store::cases::intelligence::list_intelligence(store, &Caller::new(&user.id, actor), 100).await.unwrap();
    records.into_iter().map(|record| record.title).collect()
}

#[tokio::test]
async fn the_demo_plants_operation_aidant_among_its_reports() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("demo");
    let printed = run_demo(&data_dir, &[]);
    assert!(printed.contains("Operation Aidant") && printed.contains(GLAA_ANALYST_EMAIL), "the demo says what it planted: {printed}");
    let store = open_demo(&data_dir).await;
    let reports = every_report(&store).await;

    // The planted reports are there, once each, in order, among the 400 ordinary ones.
    assert_eq!(reports.len(), 400 + STORY_REPORTS.len());
    let mut story_positions = Vec::new();
    for planted in STORY_REPORTS {
        let matching: Vec<usize> = (0..reports.len()).filter(|&index| reports[index].narrative.as_deref() == Some(planted.narrative)).collect();
        assert_eq!(matching.len(), 1, "planted once: {}", planted.narrative);
        let stored = &reports[matching[0]];
        assert_eq!((stored.sector.as_str(), stored.town.as_deref()), (planted.sector, Some(planted.town)));
        assert_eq!(stored.postcode.as_deref(), planted.postcode);
        assert_eq!(stored.business_name.as_deref(), planted.business_name);
        story_positions.push(matching[0]);
    }
    assert!(story_positions.windows(2).all(|pair| reports[pair[0]].received_at_ms <= reports[pair[1]].received_at_ms), "the story arrives in order");
    let (first, last) = (story_positions[0], story_positions[story_positions.len() - 1]);
    let ordinary_between = (first..last).filter(|index| !story_positions.contains(index)).count();
    assert!(ordinary_between > 300, "the story is spread among the ordinary reports, not in one block ({ordinary_between} between)");

    // Each group phone: in at least three reports' text, in at least two written forms.
    let mut phone_reports: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    let mut phone_forms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (index, report) in reports.iter().enumerate() {
        for (written, e164) in free_text(report).into_iter().flat_map(written_phones) {
            let national = e164.replacen("+44", "0", 1);
            assert!(national.starts_with("07700900") || national.starts_with("01632960"), "only Ofcom drama numbers: {written}");
            phone_reports.entry(e164.clone()).or_default().insert(index);
            phone_forms.entry(e164).or_default().insert(written);
        }
    }
    for phone in GROUP_PHONES_E164 {
        let in_reports = phone_reports.get(*phone).map_or(0, BTreeSet::len);
        let forms = phone_forms.get(*phone).cloned().unwrap_or_default();
        assert!(in_reports >= 3, "{phone} is in {in_reports} reports");
        assert!(forms.len() >= 2, "{phone} is written {forms:?}");
    }

    // Each group registration: in at least two reports, and given in full in a vehicle answer of at least one.
    for registration in GROUP_REGISTRATIONS {
        let mut naming = 0;
        let mut structured_in = 0;
        for report in &reports {
            let (structured, in_text) = registrations(report);
            naming += usize::from(structured.contains(*registration) || in_text.contains(*registration));
            structured_in += usize::from(structured.contains(*registration));
        }
        assert!(naming >= 2 && structured_in >= 1, "{registration}: named by {naming} reports, {structured_in} in a vehicle answer");
    }

    // The addresses are reports' postcodes, and Toddington Services is a hub.
    for postcode in GROUP_POSTCODES {
        let count = reports.iter().filter(|report| report.postcode.as_deref() == Some(*postcode)).count();
        assert!(count >= 2, "{postcode} is the postcode of {count} reports");
    }
    let at_hub = reports.iter().filter(|report| report.postcode.as_deref() == Some(HUB_POSTCODE)).count();
    assert!(at_hub >= 8, "{HUB_POSTCODE} is the postcode of {at_hub} reports");

    // The intelligence: owned, graded and shared as planned.
    let organisations: BTreeMap<String, OrganisationId> =
        store.list_organisations().await.unwrap().into_iter().map(|organisation| (organisation.name, organisation.id)).collect();
    let mut records: BTreeMap<String, IntelligenceRecord> = BTreeMap::new();
    for organisation_id in organisations.values() {
        let ids = store.intelligence_candidates(organisation_id, 100).await.unwrap();
        for record in store.find_intelligence_many(&ids).await.unwrap() {
            records.insert(record.title.clone(), record);
        }
    }
    assert_eq!(records.len(), STORY_INTELLIGENCE.len(), "{:?}", records.keys());
    for planned in STORY_INTELLIGENCE {
        let record = records.get(planned.title).unwrap_or_else(|| panic!("no record {}", planned.title));
        assert_eq!(record.owner_organisation_id, organisations[planned.owner], "{}", planned.title);
        assert_eq!(record.grading.code(), planned.grading_code(), "{}", planned.title);
        let shared: BTreeSet<&str> = record.shared_with.iter().map(|share| share.organisation_name.as_str()).collect();
        assert_eq!(shared, planned.shared_with.iter().copied().collect(), "{} is shared as planned", planned.title);
        match planned.developed_from {
            None => assert_eq!(record.report_id, None),
            Some(key) => {
                let report_id = record.report_id.as_ref().unwrap_or_else(|| panic!("{} names its report", planned.title));
                let from = STORY_REPORTS.iter().find(|planted| planted.key == Some(key)).unwrap();
                let report = store.find_report_by_id(report_id).await.unwrap().unwrap();
                assert_eq!(report.narrative.as_deref(), Some(from.narrative));
            }
        }
    }
    let glaa_records: Vec<&IntelligenceRecord> = records.values().filter(|record| record.owner_organisation_id == organisations[GLAA]).collect();
    assert!(!glaa_records.is_empty(), "the GLAA holds intelligence");
    let shared_between = |owner: &str, recipient: &str| {
        records
            .values()
            .any(|record| record.owner_organisation_id == organisations[owner] && record.shared_with.iter().any(|share| share.organisation_name == recipient))
    };
    assert!(shared_between(GLAA, BEDFORDSHIRE_POLICE), "the GLAA shares a record with the force");
    assert!(shared_between(BEDFORDSHIRE_POLICE, GLAA), "and the force one with the GLAA");
    let all_text: String = records.values().map(|record| format!("{}\n", record.sanitised_text)).collect();
    for name in ["POPESCU Ioana", "DUMITRU Florin"] {
        assert!(glaa_records.iter().any(|record| record.sanitised_text.contains(name)), "a GLAA record names {name}");
    }
    let phones_in_intelligence: BTreeSet<String> = written_phones(&all_text).into_iter().map(|(_, e164)| e164).collect();
    let registrations_in_intelligence: BTreeSet<String> = extract_entities(&all_text, None)
        .into_iter()
        .filter_map(|extracted| match extracted.entity {
            Entity::Vrm(vrm) => Some(vrm.compact().to_owned()),
            _ => None,
        })
        .collect();
    for phone in GROUP_PHONES_E164 {
        assert!(phones_in_intelligence.contains(*phone), "the intelligence names {phone}");
    }
    for registration in GROUP_REGISTRATIONS {
        assert!(registrations_in_intelligence.contains(*registration), "the intelligence names {registration}");
    }

    // Who sees what, by the access policy: each organisation its own records
    // (if the role may) and those shared with it.
    let visible_to = |organisation: &str, owner_roles: bool| -> BTreeSet<String> {
        STORY_INTELLIGENCE
            .iter()
            .filter(|planned| (owner_roles && planned.owner == organisation) || planned.shared_with.contains(&organisation))
            .map(|planned| planned.title.to_owned())
            .collect()
    };
    assert_eq!(visible_titles(&store, GLAA_ANALYST_EMAIL).await, visible_to(GLAA, true));
    assert_eq!(visible_titles(&store, "analyst@beds.police.example").await, visible_to(BEDFORDSHIRE_POLICE, true));
    assert_eq!(visible_titles(&store, "partner@nca.example").await, visible_to("National Crime Agency", false));
    assert_eq!(visible_titles(&store, "partner@justiceandcare.example").await, BTreeSet::new());
    assert!(!visible_titles(&store, "partner@nca.example").await.is_empty(), "the NCA is sent a record");
    // What the README suggests searching for finds reports and intelligence.
    let police = &organisations[BEDFORDSHIRE_POLICE];
    for query in ["Dumitru", "LJ15"] {
        let everything = SearchScope { own_reports: true, own_intelligence: true, shared_intelligence: true, hidden: Vec::new() };
        let page = store.search_page(police, query, &everything, SearchPosition::First, 100).await.unwrap();
        let kinds: BTreeSet<String> = page.hits.into_iter().map(|hit| hit.record_kind).collect();
        assert_eq!(kinds, BTreeSet::from(["intelligence".to_owned(), "report".to_owned()]), "searching {query}");
    }
    let glaa_analyst = store.find_user_by_email(GLAA_ANALYST_EMAIL).await.unwrap().unwrap();
    assert_eq!(glaa_analyst.roles, vec![Role::Analyst]);
    // Each partner organisation has an administrator of its own.
    let glaa_administrator = store.find_user_by_email("administrator@glaa.example").await.unwrap().expect("the GLAA's administrator");
    assert_eq!((glaa_administrator.roles, &glaa_administrator.organisation_id), (vec![Role::Administrator], &glaa_analyst.organisation_id));

    store.close().await;

    // Operation Aidant is planned and under way, its records counted once.
    assert!(printed.contains("with 9 records from the field"), "{printed}");
    let store = open_demo_with_key(&data_dir).await;
    let supervisor = store.find_user_by_email("supervisor@beds.police.example").await.unwrap().unwrap();
    let lead = Caller::new(&supervisor.id, Actor { organisation_id: supervisor.organisation_id.clone(), roles: [Role::Supervisor].into() });
    let operations = aidant_store::cases::operations::operations_for(&store, &lead).await.unwrap();
    let names: BTreeSet<&str> = operations.iter().map(|operation| operation.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["Operation Aidant", "Operation Aidant: Toddington Services, second day"]));
    let operation = operations.iter().find(|operation| operation.name == "Operation Aidant").unwrap();
    assert_eq!((operation.sites.len(), operation.teams.len(), operation.agencies.len()), (3, 2, 4));
    let today = aidant_store::cases::victims::today();
    assert!(operation.starts_on < today && today < operation.ends_on, "under way");
    // The second day is in planning: a fortnight on, its site and team chosen, nothing recorded.
    let second = operations.iter().find(|operation| operation.name.ends_with("second day")).unwrap();
    assert_eq!((second.starts_on, second.sites.len(), second.teams.len()), (today + time::Duration::days(14), 1, 1));
    let catalogue = aidant_core::catalogue::Catalogue::from_toml(include_str!("../../../../data/indicators.toml")).unwrap();
    let (_, planned) = aidant_store::cases::operations::operation_debrief(&store, &lead, &second.id, &catalogue).await.unwrap();
    assert_eq!(planned.totals.vehicles_stopped + planned.totals.premises_visited + planned.totals.people_safeguarded, 0);
    let (_, debrief) = aidant_store::cases::operations::operation_debrief(&store, &lead, &operation.id, &catalogue).await.unwrap();
    let totals = debrief.totals;
    assert_eq!(
        (totals.vehicles_stopped, totals.premises_visited, totals.people_safeguarded, totals.arrests, totals.intelligence_submitted, totals.referrals),
        (3, 2, 2, 1, 1, 1)
    );
    assert_eq!(debrief.by_site["Toddington Services"].vehicles_stopped, 3);
    store.close().await;
}

#[tokio::test]
async fn a_smaller_demo_has_only_the_reports_asked_for_and_the_same_story_each_run() {
    let parent = tempfile::tempdir().unwrap();
    let small = parent.path().join("small");
    let fewer = (STORY_MIN_REPORTS - 1).to_string();
    let printed = run_demo(&small, &["--reports", &fewer]);
    assert!(!printed.contains("Operation Aidant") && !printed.contains(GLAA_ANALYST_EMAIL), "{printed}");
    let store = open_demo(&small).await;
    assert_eq!(store.count_reports().await.unwrap(), STORY_MIN_REPORTS as i64 - 1);
    assert!(store.find_user_by_email(GLAA_ANALYST_EMAIL).await.unwrap().is_none());
    let police = store.find_organisation_by_name(BEDFORDSHIRE_POLICE).await.unwrap().unwrap();
    assert!(store.intelligence_candidates(&police.id, 10).await.unwrap().is_empty());
    store.close().await;

    // Two runs with the story plant the same reports (references included).
    let smallest = STORY_MIN_REPORTS.to_string();
    let mut runs = Vec::new();
    for name in ["first", "second"] {
        let data_dir = parent.path().join(name);
        run_demo(&data_dir, &["--reports", &smallest]);
        let store = open_demo(&data_dir).await;
        // Everything but the record id and the time it arrived.
        let mut reports: Vec<String> = every_report(&store)
            .await
            .into_iter()
            .map(|report| {
                let answers = (&report.sector, &report.postcode, &report.town, &report.business_name, &report.signs, &report.vehicles);
                format!("{} {answers:?} {:?} {:?} {:?}", report.reference, report.people_description, report.narrative, report.risk_level)
            })
            .collect();
        reports.sort();
        store.close().await;
        runs.push(reports);
    }
    assert_eq!(runs[0].len(), STORY_MIN_REPORTS + STORY_REPORTS.len());
    assert_eq!(runs[0], runs[1]);
}

/// The entity worker, run over a fresh demo, finds the group's core: each
/// phone, written several ways, is one entity that several reports and the
/// intelligence mention; each vehicle likewise; the services are a hub.
#[tokio::test]
async fn the_entity_pipeline_finds_the_groups_phones_vehicles_and_addresses() {
    use aidant_store::cases::entities::view_entity;
    use aidant_store::entities::ValueKind;

    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("demo");
    run_demo(&data_dir, &["--reports", &STORY_MIN_REPORTS.to_string()]);
    let store = open_demo_with_key(&data_dir).await;
    while store.work_entity_jobs(64).await.unwrap().total() > 0 {}
    assert_eq!(store.entity_queue_counts().await.unwrap().parked, 0, "{:?}", store.parked_entity_jobs(5).await.unwrap());

    let police = store.find_organisation_by_name(BEDFORDSHIRE_POLICE).await.unwrap().unwrap();
    let analyst = store.list_users_in(&police.id).await.unwrap().into_iter().find(|user| user.roles.contains(&Role::Analyst)).expect("the force's analyst");
    let caller = Caller::new(&analyst.id, Actor { organisation_id: police.id.clone(), roles: analyst.roles.iter().copied().collect() });
    for (kind, values, least) in
        [(ValueKind::Phone, GROUP_PHONES_E164, 3), (ValueKind::Vehicle, GROUP_REGISTRATIONS, 2), (ValueKind::Address, GROUP_POSTCODES, 2)]
    {
        for value in values {
            let id = store.find_entity(kind, value).await.unwrap().unwrap_or_else(|| panic!("{kind} {value} is an entity"));
            let view = view_entity(&store, &caller, &id).await.unwrap();
            assert!(view.mentions.len() >= least, "{kind} {value}: {} records", view.mentions.len());
            assert!(!view.related.is_empty(), "{kind} {value} is connected to the rest of the group");
        }
    }
    // Some of each phone's writings are in the intelligence the force owns.
    let phone = store.find_entity(ValueKind::Phone, GROUP_PHONES_E164[0]).await.unwrap().unwrap();
    let view = view_entity(&store, &caller, &phone).await.unwrap();
    assert!(view.mentions.iter().any(|mention| mention.record == aidant_store::entities::MentionRecord::Intelligence), "{:?}", view.mentions);
    let hub = store.find_entity(ValueKind::Address, HUB_POSTCODE).await.unwrap().expect("the services are an entity");
    let hub_view = view_entity(&store, &caller, &hub).await.unwrap();
    assert!(hub_view.mentions.len() >= 5, "the services are mentioned often: {}", hub_view.mentions.len());

    // The controller: the records that give his date of birth are one
    // person, whose page shows why, and who uses the group's first phone.
    let controller = related_person(&view, "Florin Dumitru").expect("the controller is related to his phone");
    let controller = view_entity(&store, &caller, &controller).await.unwrap();
    let person = controller.person.as_ref().expect("a person's page");
    assert!(person.seen.len() >= 2, "the records with his date of birth are one person: {:?}", person.seen);
    assert!(person.seen.iter().all(|seen| seen.details.date_of_birth.as_deref() == Some(CONTROLLER_DATE_OF_BIRTH)));
    assert!(!person.reasons.is_empty(), "why they are one person is explained");
    store.close().await;
}

/// A person related to an entity's page, by a name the page gives them
/// (either order of given and family name).
fn related_person(view: &aidant_store::cases::entities::EntityView, name: &str) -> Option<aidant_core::ids::EntityId> {
    let mut words: Vec<String> = name.to_lowercase().split(' ').map(str::to_owned).collect();
    words.sort();
    view.related
        .iter()
        .filter(|related| related.entity.kind == aidant_store::entities::ValueKind::Person)
        .find(|related| {
            let mut label: Vec<String> = related.entity.label.to_lowercase().split(' ').map(str::to_owned).collect();
            label.sort();
            label == words && related.relation == "phone used by"
        })
        .map(|related| related.entity.id.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organised_crime_group_view_finds_the_planted_group_with_its_controller_a_key_player() {
    use aidant_store::cases::networks::{AnalysisRequest, analyse_network};
    use aidant_store::entities::ValueKind;

    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("demo");
    run_demo(&data_dir, &["--reports", "400"]);
    let store = open_demo_with_key(&data_dir).await;
    while store.work_entity_jobs(64).await.unwrap().total() > 0 {}

    let police = store.find_organisation_by_name(BEDFORDSHIRE_POLICE).await.unwrap().unwrap();
    let analyst = store.list_users_in(&police.id).await.unwrap().into_iter().find(|user| user.roles.contains(&Role::Analyst)).expect("the force's analyst");
    let caller = Caller::new(&analyst.id, Actor { organisation_id: police.id.clone(), roles: analyst.roles.iter().copied().collect() });
    let view = analyse_network(&store, &caller, &AnalysisRequest::default()).await.unwrap();

    let mut planted = Vec::new();
    for (kind, values) in [(ValueKind::Phone, GROUP_PHONES_E164), (ValueKind::Vehicle, GROUP_REGISTRATIONS), (ValueKind::Address, GROUP_POSTCODES)] {
        for value in values {
            planted.push(store.find_entity(kind, value).await.unwrap().unwrap_or_else(|| panic!("{kind} {value} is an entity")));
        }
    }
    let group_of =
        |id: &aidant_core::ids::EntityId| view.groups.iter().find(|group| group.members.iter().any(|member| member.entity.id == *id)).map(|group| group.number);
    let groups: BTreeSet<Option<usize>> = planted.iter().map(group_of).collect();
    assert_eq!(groups.len(), 1, "the group's phones, vehicles and addresses are one group: {groups:?}");
    let number = groups.into_iter().next().flatten().expect("the planted group is found");
    let group = &view.groups[number - 1];
    let hubs: Vec<&str> = view.hubs.iter().map(|(entity, _)| entity.label.as_str()).collect();
    assert!(hubs.iter().any(|label| label.starts_with(aidant_cli::demo_story::HUB_NAME)), "the services are a hub, left out of the groups: {hubs:?}");
    assert!(view.hubs.iter().all(|(entity, _)| group_of(&entity.id).is_none()));
    let key_players: Vec<&str> = group.key_players.iter().map(|member| member.entity.label.as_str()).collect();
    assert!(key_players.len() <= 3, "{key_players:?}");
    assert!(key_players.iter().any(|label| label.to_lowercase().contains("dumitru")), "the controller is among the top three key players: {key_players:?}");
    assert!(!key_players.iter().any(|label| label.to_lowercase().contains("popescu")), "the woman he controls is no key player: {key_players:?}");
    store.close().await;
}
