//! `aidant graph --from-database` end to end, on both backends: the
//! entities' network the entity worker found (one node per person, phone,
//! vehicle, address and business however it was written), a motorway services named
//! by many unrelated reports flagged as a hub with its reason and collapsed
//! on request, the read audited naming the operator, and the database and
//! master key the settings name.

use std::process::Output;

use aidant_core::audit::AuditActor;
use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::intelligence::{PersonNamed, PersonRole};
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::report::{ReportAnswers, VehicleAnswer};
use aidant_core::text::{BoundedText, Lines};
use aidant_store::Store;
use aidant_store::entities::JOBS_PER_TRANSACTION;
use aidant_store::intelligence::IntelligenceInsert;
use aidant_store::organisations::User;
use aidant_store::testing::TestDatabase;
use serde_json::Value;
use sqlx::Row;

use crate::helpers::{Setup, assert_one_line_failure, assert_success, insert_report};

/// Reports naming the services, each about a different phone: more than the
/// default hub threshold (20 records).
const SERVICES_REPORTS: usize = 22;
const SERVICES: &str = "address:LU5 6HR";
const OPERATOR_EMAIL: &str = "analyst@force.example";
/// The operating-system login the tests run the binary as.
const LOGIN: &str = "graph-tester";

/// Runs the worker until nothing is ready.
async fn drain(store: &Store) {
    while store.work_entity_jobs(JOBS_PER_TRANSACTION).await.unwrap().total() > 0 {}
}

fn van(business_name: &str, postcode: Option<&str>, registration: &str, narrative: Option<&str>) -> ReportAnswers {
    ReportAnswers {
        sector: Some("nail_bar".into()),
        town: Some("Luton".into()),
        postcode: postcode.map(str::to_owned),
        business_name: Some(business_name.into()),
        vehicles: vec![VehicleAnswer { registration: Some(registration.into()), description: None }],
        narrative: narrative.map(str::to_owned),
        ..ReportAnswers::default()
    }
}

/// A force that receives public reports and its analyst, a regulator whose
/// intelligence names the services too (and a driver, by name), a nail bar reported twice (with and
/// without its postcode, the van written two ways) and the services named by
/// many unrelated reports; the worker has read them all.
async fn the_world(store: &Store) -> User {
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let regulator = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap();
    let analyst = store.create_user(&force.id, OPERATOR_EMAIL, "Analyst", &[Role::Analyst]).await.unwrap();
    let regulator_analyst = store.create_user(&regulator.id, "analyst@glaa.example", "GLAA Analyst", &[Role::Analyst]).await.unwrap();
    insert_report(store, &van("Star Nails", Some("LU1 2AB"), "ab12 cde", Some("The manager answers 07700 900123."))).await;
    insert_report(store, &van("STAR NAILS", None, "AB12CDE", None)).await;
    for number in 0..SERVICES_REPORTS {
        let narrative = format!("Seen at Toddington Services LU5 6HR with a man on 07700 900{:03}.", 200 + number);
        insert_report(
            store,
            &ReportAnswers {
                sector: Some("lorries_and_services".into()),
                town: Some("Toddington".into()),
                narrative: Some(narrative),
                ..ReportAnswers::default()
            },
        )
        .await;
    }
    let grading = parse_grading(&GradingAnswers { scheme: "3x5x2", source: "2", intelligence: "B", handling: "P", ..GradingAnswers::default() }).unwrap();
    store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &regulator.id,
            created_by: &regulator_analyst.id,
            title: "Arrivals at the services",
            grading: &grading,
            sanitised_text: "Women are met off the coach at LU5 6HR by a driver on 07700 900999.",
            source: None,
            review_on: None,
            people: &[PersonNamed {
                name: BoundedText::parse("Florin Dumitru", 200, Lines::Single).unwrap(),
                date_of_birth: Some("1984".to_owned()),
                nationality: None,
                role: PersonRole::SuspectedOffender,
            }],
            share_with: &[],
        })
        .await
        .unwrap();
    drain(store).await;
    analyst
}

fn run(setup: &Setup, arguments: &[&str]) -> Output {
    setup.command(arguments).env("USER", LOGIN).env_remove("LOGNAME").output().unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&assert_success(output)).unwrap()
}

fn components_of(json: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(json["result"]["components"].clone()).unwrap()
}

fn component_of<'a>(components: &'a [Vec<String>], id: &str) -> &'a [String] {
    components.iter().find(|component| component.iter().any(|member| member == id)).unwrap_or_else(|| panic!("{id} is a node: {components:?}"))
}

/// The evidence for each hop of the shortest path between two entities.
fn path_evidence(setup: &Setup, from: &str, to: &str) -> Vec<Value> {
    let path = json(&run(setup, &["graph", "path", "--from-database", "--json", "--entity", from, to]));
    path["result"][0]["evidence"].as_array().unwrap_or_else(|| panic!("a path from {from} to {to}: {path}")).clone()
}

/// The network reads, oldest first: (actor, reason).
async fn network_reads(store: &Store) -> Vec<(String, String)> {
    sqlx::query("SELECT actor, reason FROM audit_log WHERE action = 'reports.network_read' ORDER BY sequence")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| (row.try_get("actor").unwrap(), row.try_get("reason").unwrap()))
        .collect()
}

async fn the_network_is_the_entities_with_the_services_a_hub(database: TestDatabase) {
    let store = &database.store;
    let analyst = the_world(store).await;
    let setup = Setup::for_database(&database);
    let output = run(&setup, &["graph", "components", "--from-database", "--json", "--operator", OPERATOR_EMAIL]);
    let network = json(&output);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("wait for the entity worker"), "nothing waits");
    let components = components_of(&network);
    let nodes: Vec<&String> = components.iter().flatten().collect();

    // The nail bar's two reports: one business, one van, linked to its phone and postcode.
    let nail_bar = component_of(&components, "business:star nails|luton");
    for id in ["vehicle:AB12CDE", "phone:+447700900123", "address:LU1 2AB"] {
        assert!(nail_bar.contains(&id.to_owned()), "{id} with the nail bar: {nail_bar:?}");
    }
    assert_eq!(nodes.iter().filter(|id| id.starts_with("business:")).count(), 1, "with and without a postcode, one business: {nodes:?}");
    assert_eq!(nodes.iter().filter(|id| id.starts_with("vehicle:")).count(), 1, "the van written two ways is one node: {nodes:?}");
    assert!(!nodes.iter().any(|id| id.starts_with("report:")), "records are evidence, not nodes: {nodes:?}");
    let people: Vec<&&String> = nodes.iter().filter(|id| id.starts_with("person:")).collect();
    assert_eq!(people.len(), 1, "the driver the regulator names is a node: {nodes:?}");
    let phones = nodes.iter().filter(|id| id.starts_with("phone:")).count();
    assert_eq!(phones, SERVICES_REPORTS + 2, "a phone per services report, the nail bar's and the regulator's: {nodes:?}");
    assert_eq!(network["run"]["entity_count"], nodes.len());

    // The services: one component with every phone and the person seen there, and a hub.
    assert_eq!(component_of(&components, SERVICES).len(), SERVICES_REPORTS + 3, "the services, the phones and the driver seen there");
    let hubs = network["hubs"].as_array().unwrap();
    assert_eq!(hubs.len(), 1, "only the services: {hubs:#?}");
    let services = &hubs[0];
    assert_eq!(services["entity_id"], SERVICES);
    assert_eq!(services["decision"], "detected");
    assert_eq!(services["rules"], serde_json::json!(["distinct_records"]));
    assert_eq!((services["distinct_records"].as_u64(), services["distinct_sources"].as_u64()), (Some(SERVICES_REPORTS as u64 + 1), Some(2)));
    let reason = services["reason"].as_str().unwrap();
    assert!(reason.starts_with(&format!("address 'LU5 6HR' is linked to others in {} distinct records from 2 sources", SERVICES_REPORTS + 1)), "{reason}");

    // Collapsed on request: the phones seen there fall apart.
    let excluded = json(&run(&setup, &["graph", "components", "--from-database", "--json", "--exclude-hubs"]));
    let excluded_components = components_of(&excluded);
    assert!(!excluded_components.iter().flatten().any(|id| id == SERVICES), "the hub is left out");
    assert_eq!(component_of(&excluded_components, "phone:+447700900200").len(), 1);
    // And the table says why it is a hub.
    let table = assert_success(&run(&setup, &["graph", "components", "--from-database", "--hub-min-sources", "2"]));
    assert!(table.contains(&format!("{SERVICES} [Detected]: address 'LU5 6HR' is linked to others in")), "{table}");

    // Each link cites its record.
    let evidence = path_evidence(&setup, "vehicle:AB12CDE", "phone:+447700900123");
    assert_eq!(evidence.len(), 1, "the van and the phone are named together in one report: {evidence:#?}");
    assert_eq!(evidence[0]["relation"], "mentioned_with");
    assert_eq!(evidence[0]["confidence"], 0.45, "a public report (0.5), a registration (1) and a phone in prose (0.9)");
    let driver = path_evidence(&setup, people[0], "phone:+447700900999");
    assert_eq!((driver[0]["source"].as_str(), driver[0]["relation"].as_str()), (Some(people[0].as_str()), Some("uses_phone")), "{driver:#?}");
    assert_eq!(driver[0]["source_reference"].as_str().map(|reference| reference.starts_with("INT-")), Some(true), "{driver:#?}");
    let driver = path_evidence(&setup, people[0], SERVICES);
    assert_eq!(driver[0]["relation"], "at_address", "{driver:#?}");

    // Audited: the named member of staff, then the command line; the OS user both times.
    let reads = network_reads(store).await;
    assert_eq!(reads.len(), 6, "{reads:#?}");
    assert_eq!(reads[0].0, format!("user:{}", analyst.id.as_str()));
    assert_eq!(reads[1].0, "cli");
    for (_, reason) in &reads {
        assert!(reason.contains(&format!("at the command line as OS user {LOGIN}")), "{reason}");
        assert!(
            reason.contains(&format!("entities {}, ", nodes.len())) && reason.contains(&format!("reports {}, intelligence records 1", SERVICES_REPORTS + 2)),
            "{reason}"
        );
    }
    assert!(store.verify_audit_chain().await.unwrap().is_ok());

    // An operator the database does not know, or who is disabled, reads nothing.
    let unknown = run(&setup, &["graph", "components", "--from-database", "--operator", "nobody@force.example"]);
    assert_one_line_failure(&unknown, &["--operator", "nobody@force.example"]);
    store.disable_user(&analyst.id, &AuditActor::Cli).await.unwrap();
    let disabled = run(&setup, &["graph", "components", "--from-database", "--operator", OPERATOR_EMAIL]);
    assert_one_line_failure(&disabled, &["--operator", "disabled"]);
    assert_eq!(network_reads(store).await.len(), 6, "refused reads are not reads");
}

/// `--config FILE` names the database, before or after the subcommand; the
/// data directory's own (empty) database is not read. The master key comes
/// from the key file, and without one nothing is read and no key is made.
async fn the_network_comes_from_the_database_and_key_the_settings_name(database: TestDatabase) {
    let store = &database.store;
    insert_report(store, &van("Star Nails", None, "ab12 cde", None)).await;
    insert_report(store, &van("Star Nails", Some("LU1 2AB"), "AB12CDE", None)).await;
    drain(store).await;
    let setup = Setup::bare();
    // The data directory has an empty database of its own.
    assert_success(&setup.run(&["migrate"]));
    let file = setup.path("elsewhere.toml");
    std::fs::write(&file, format!("database_url = \"{}\"\n", database.url)).unwrap();
    let file = file.to_str().unwrap();

    let without_key = run(&setup, &["--config", file, "graph", "components", "--from-database"]);
    assert_one_line_failure(&without_key, &["master key", "master.key"]);
    assert!(!setup.key_file().exists(), "reading makes no key");

    std::fs::write(setup.key_file(), database.master_key.to_hex()).unwrap();
    for arguments in
        [["--config", file, "graph", "components", "--from-database", "--json"], ["graph", "components", "--from-database", "--json", "--config", file]]
    {
        let network = json(&run(&setup, &arguments));
        let mut components = components_of(&network);
        components.iter_mut().for_each(|component| component.sort());
        assert_eq!(components, [["address:LU1 2AB", "business:star nails|luton", "vehicle:AB12CDE"]], "{arguments:?}");
    }
    let without = json(&run(&setup, &["graph", "components", "--from-database", "--json"]));
    assert_eq!(without["run"]["entity_count"], 0, "without --config, the data directory's database: {without}");
    assert_eq!(network_reads(store).await.len(), 2, "each read of the named database is audited there");
}

aidant_store::backend_tests!(the_network_is_the_entities_with_the_services_a_hub, the_network_comes_from_the_database_and_key_the_settings_name);
