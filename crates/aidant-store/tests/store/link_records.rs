//! The entity resolver kept as rows, written once and run on SQLite and
//! PostgreSQL: records added through the store land in the right entities,
//! merges are recorded, nothing personal is readable in the rows, key
//! rotation and reopening keep it working, the database links exactly as the
//! in-memory `IncrementalLinker`, and concurrent additions from several
//! stores lose nobody.

use aidant_core::audit::AuditActor;
use aidant_link::batch::{BatchConfig, link_batch};
use aidant_link::cluster::ClusterConfig;
use aidant_link::incremental::{EntityEvent, IncrementalLinker};
use aidant_link::model::Model;
use aidant_link::name::phonetic_codes;
use aidant_link::record::{PersonRecord, RawPerson};
use aidant_store::keys::RewrapOptions;
use aidant_store::link_records::LinkError;
use aidant_store::testing::TestDatabase;
use aidant_store::{Backend, Keyring, MasterKey, Store};

const MODEL: &str = include_str!("../../../aidant-link/tests/fixtures/model-synthetic-10k.json");
const MAX_BLOCK_SIZE: usize = 100;

fn model() -> Model {
    Model::from_json(MODEL).unwrap()
}

fn person(record_id: &str, full_name: &str, dob: &str, phone: &str, postcode: &str) -> PersonRecord {
    let optional = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    RawPerson {
        record_id: record_id.into(),
        full_name: optional(full_name),
        date_of_birth: optional(dob),
        phone: optional(phone),
        postcode: optional(postcode),
        ..RawPerson::default()
    }
    .parse(0)
    .0
}

/// Three people resolved in batch: two Ion Popescus not yet known to be one, and Ana Zamfirescu.
fn first_three() -> Vec<PersonRecord> {
    vec![
        person("r1", "Ion Popescu", "12/03/1985", "07911 123456", ""),
        person("r2", "Ana Zamfirescu", "01/01/1990", "07922 111111", ""),
        person("r3", "Ion Popescu", "", "07955 555555", "M1 1AE"),
    ]
}

/// Loads `records` resolved in batch into the store; returns the same as an in-memory linker.
async fn load(store: &Store, records: &[PersonRecord]) -> IncrementalLinker {
    load_with_block_cap(store, records, MAX_BLOCK_SIZE).await
}

async fn load_with_block_cap(store: &Store, records: &[PersonRecord], max_block_size: usize) -> IncrementalLinker {
    let clustering = ClusterConfig::default();
    let batch = link_batch(records, Some(model()), &BatchConfig::default(), &mut |_| {});
    let summary = store.load_linked_people(records, &batch, &clustering, max_block_size, &AuditActor::Cli).await.unwrap();
    assert_eq!(summary.records, records.len() as u64);
    IncrementalLinker::from_batch(records, batch, &clustering, max_block_size)
}

async fn records_added_through_the_store_land_in_the_right_entities(database: TestDatabase) {
    let store = &database.store;
    assert!(matches!(store.link_person(&person("r0", "Ion Popescu", "", "", ""), &AuditActor::Cli).await, Err(LinkError::NotStarted)));
    load(store, &first_three()).await;
    assert_eq!(store.linked_record_count().await.unwrap(), Some(3));
    let sizes = store.link_state_bytes().await.unwrap();
    for table in ["link_records", "link_keys", "link_counts", "link_entities"] {
        assert!(sizes.iter().any(|(name, bytes)| name == table && *bytes > 0), "{table} is measured: {sizes:?}");
    }
    assert!(sizes.iter().all(|(name, _)| name.starts_with("link_")), "only the resolver's tables: {sizes:?}");
    assert!(sizes.windows(2).all(|pair| pair[0].1 >= pair[1].1), "largest first: {sizes:?}");
    let ion = store.linked_entity_of("r1").await.unwrap().unwrap();
    let ana = store.linked_entity_of("r2").await.unwrap().unwrap();
    let other_ion = store.linked_entity_of("r3").await.unwrap().unwrap();
    assert_ne!(ion, other_ion, "no shared evidence yet beyond a name");
    assert!(matches!(
        store
            .load_linked_people(
                &first_three(),
                &link_batch(&first_three(), Some(model()), &BatchConfig::default(), &mut |_| {}),
                &ClusterConfig::default(),
                MAX_BLOCK_SIZE,
                &AuditActor::Cli
            )
            .await,
        Err(LinkError::AlreadyStarted)
    ));

    let attached = store.link_person(&person("r4", "POPESCU ION", "1985-03-12", "07911 123456", ""), &AuditActor::Cli).await.unwrap();
    assert_eq!(attached.entity, ion);
    assert!(matches!(attached.events.as_slice(), [EntityEvent::Attached { .. }]));
    assert_eq!(attached.matches[0].0, "r1");

    let fresh = store.link_person(&person("r5", "Arben Hoxha", "02/02/1992", "", ""), &AuditActor::Cli).await.unwrap();
    assert!(matches!(fresh.events.as_slice(), [EntityEvent::Created { .. }]));
    assert!(fresh.entity > ion && fresh.entity > ana && fresh.entity > other_ion);
    assert!(fresh.matches.is_empty());

    // The first Ion's date of birth and the second Ion's phone: both are one person.
    let bridge = store.link_person(&person("r6", "Ion Popescu", "12.03.1985", "07955 555555", "M1 1AE"), &AuditActor::Cli).await.unwrap();
    let surviving = ion.min(other_ion);
    assert_eq!(bridge.entity, surviving);
    assert!(
        matches!(&bridge.events[..], [EntityEvent::Merged { surviving: kept, absorbed, .. }] if *kept == surviving && absorbed == &vec![ion.max(other_ion)])
    );
    assert_eq!(store.linked_entity_of("r3").await.unwrap(), Some(surviving));
    assert_eq!(store.linked_entity_of("r2").await.unwrap(), Some(ana), "unrelated entities keep their ids");
    assert_eq!(store.linked_entity_members(surviving).await.unwrap(), ["r1", "r3", "r4", "r6"]);
    assert!(store.linked_entity_members(ion.max(other_ion)).await.unwrap().is_empty(), "the absorbed entity has no members left");

    let events = store.link_events(0, 100).await.unwrap();
    let kinds: Vec<&EntityEvent> = events.iter().map(|(_, event)| event).collect();
    assert_eq!(kinds, [&attached.events[0], &fresh.events[0], &bridge.events[0]], "every event recorded, in order");
    assert_eq!(store.link_events(events[1].0, 100).await.unwrap().len(), 1);
    let absorbed_into: Option<i64> = sqlx::query_scalar("SELECT absorbed_into FROM link_entities WHERE entity_id = $1")
        .bind(ion.max(other_ion).0 as i64)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(absorbed_into, Some(surviving.0 as i64));
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM link_pairs WHERE record_number = 6").fetch_one(store.pool()).await.unwrap();
    assert_eq!(links as usize, bridge.matches.len(), "the bridging record's links are stored");

    assert!(
        matches!(store.link_person(&person("r4", "Someone Else", "", "", ""), &AuditActor::Cli).await, Err(LinkError::DuplicateRecordId(id)) if id == "r4")
    );
    assert_eq!(store.linked_record_count().await.unwrap(), Some(6), "a refused record changes nothing");
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'link.people.add'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(audited, 3);
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

/// Every row of the link tables as text: on PostgreSQL bytea shows as hex, so
/// the caller looks for the hex of each word too.
async fn raw_link_rows(database: &TestDatabase) -> String {
    match database.store.backend() {
        Backend::Sqlite => {
            // The database file and its write-ahead log, byte for byte.
            let path = database.sqlite_path().unwrap();
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).to_lowercase()
        }
        Backend::Postgres => {
            let mut text = String::new();
            for table in
                ["link_resolver", "link_records", "link_keys", "link_counts", "link_entities", "link_pairs", "link_events", "link_name_roles", "audit_log"]
            {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t")).fetch_all(database.store.pool()).await.unwrap();
                assert!(!rows.is_empty() || table == "link_pairs", "{table} has rows");
                text.push_str(&rows.join("\n").to_lowercase());
            }
            text
        }
    }
}

async fn nothing_personal_is_readable_in_the_rows(database: TestDatabase) {
    let store = &database.store;
    load(store, &first_three()).await;
    store.link_person(&person("r4", "POPESCU ION", "1985-03-12", "07911 123456", "M1 1AE"), &AuditActor::Cli).await.unwrap();
    store.link_person(&person("r5", "Ana Zamfirescu", "1990-01-01", "07922 111111", "B1 1AA"), &AuditActor::Cli).await.unwrap();
    let raw = raw_link_rows(&database).await;
    assert!(raw.contains("r4") && raw.contains("link.people.add"), "the scan does read the rows");
    let (popescu_code, _) = phonetic_codes("popescu");
    let (zamfirescu_code, _) = phonetic_codes("zamfirescu");
    for word in
        ["popescu", "zamfirescu", "7911123456", "7922111111", "m1 1ae", "m11ae", "b1 1aa", &popescu_code.to_lowercase(), &zamfirescu_code.to_lowercase()]
    {
        assert!(word.len() >= 4, "{word} is long enough not to turn up by chance");
        assert!(!raw.contains(word), "{word} is not stored in the clear");
        assert!(!raw.contains(&hex::encode(word)), "{word} is not stored in the clear as bytes");
    }
}

async fn key_rotation_still_opens_the_link_rows(database: TestDatabase) {
    load(&database.store, &first_three()).await;
    database.store.link_person(&person("r4", "POPESCU ION", "1985-03-12", "07911 123456", ""), &AuditActor::Cli).await.unwrap();
    let old_key = database.master_key.clone();
    let new_key = MasterKey::generate();
    let rotating = Store::connect(&database.url, &Default::default(), None).await.unwrap().with_keyring(Keyring::new(new_key.clone(), vec![old_key]));
    let summary = rotating.rewrap_sealed_values(&RewrapOptions::default()).await.unwrap();
    let rewrapped = |table: &str| summary.columns.iter().find(|column| column.column.table == table).map(|column| column.rewrapped);
    assert_eq!(rewrapped("link_records"), Some(4), "every record's features");
    assert_eq!(rewrapped("link_resolver"), Some(1), "the blind index's key");
    assert_eq!(rotating.sealed_value_census().await.unwrap().not_current(), 0);

    // With only the new key, the same hashes find the same candidates and their features open.
    let new_only = Store::connect(&database.url, &Default::default(), Some(new_key)).await.unwrap();
    let ion = new_only.linked_entity_of("r1").await.unwrap().unwrap();
    let outcome = new_only.link_person(&person("r5", "Ion Popescu", "12 March 1985", "+44 7911 123456", ""), &AuditActor::Cli).await.unwrap();
    assert_eq!(outcome.entity, ion);
    let matched: Vec<&str> = outcome.matches.iter().map(|(record_id, _)| record_id.as_str()).collect();
    assert!(matched.contains(&"r1") && matched.contains(&"r4"), "{matched:?}");
    // The old key alone opens nothing any more.
    let old_only = Store::connect(&database.url, &Default::default(), Some(database.master_key.clone())).await.unwrap();
    assert!(matches!(old_only.link_person(&person("r6", "Ion Popescu", "12/03/1985", "", ""), &AuditActor::Cli).await, Err(LinkError::Store(_))));
}

async fn the_linked_people_survive_reopening_the_store(database: TestDatabase) {
    load(&database.store, &first_three()).await;
    database.store.link_person(&person("r4", "POPESCU ION", "1985-03-12", "07911 123456", ""), &AuditActor::Cli).await.unwrap();
    let ion = database.store.linked_entity_of("r1").await.unwrap().unwrap();
    database.store.close().await;

    let reopened = Store::connect(&database.url, &Default::default(), Some(database.master_key.clone())).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(reopened.linked_record_count().await.unwrap(), Some(4));
    assert_eq!(reopened.linked_entity_members(ion).await.unwrap(), ["r1", "r4"]);
    let outcome = reopened.link_person(&person("r5", "I. Popesku", "12 March 1985", "+44 7911 123456", ""), &AuditActor::Cli).await.unwrap();
    assert_eq!(outcome.entity, ion, "the reopened store attaches the record to Ion Popescu");
    let fresh = reopened.link_person(&person("r6", "Arben Hoxha", "02/02/1992", "", ""), &AuditActor::Cli).await.unwrap();
    assert!(fresh.entity.0 > 3, "entity ids continue after reopening, not from the start");
}

/// A deterministic set of people with the errors reports make: names swapped,
/// misspelt or initialled, dates in other formats or missing, phones written
/// differently or missing, and relatives sharing a surname and a phone.
fn synthetic_people(count: usize) -> Vec<PersonRecord> {
    let given = [
        "Ion",
        "Ana",
        "Maria",
        "Stefan",
        "Elena",
        "Andrei",
        "Mihai",
        "Ioana",
        "Vasile",
        "John",
        "Mary",
        "James",
        "Sarah",
        "Mohammed",
        "Fatima",
        "Wei",
        "Thi Lan",
        "Van Nam",
        "Piotr",
        "Agnieszka",
    ];
    let family =
        ["Popescu", "Ionescu", "Popa", "Stan", "Dumitru", "Nguyen", "Tran", "Zhang", "Smith", "Jones", "Khan", "Ali", "Kowalski", "Nowak", "Hoxha", "Marin"];
    let postcodes = ["M1 1AE", "B1 1AA", "LU1 2AB", "E1 6AN", "LS1 4AP", ""];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let mut records = Vec::with_capacity(count);
    let mut person_number = 0;
    while records.len() < count {
        person_number += 1;
        let (first, last) = (given[next(given.len())], family[next(family.len())]);
        let (year, month, day) = (1950 + next(50), 1 + next(12), 1 + next(28));
        let phone = format!("07{:03} {:06}", 700 + next(300), next(1_000_000));
        let postcode = postcodes[next(postcodes.len())];
        for copy in 0..1 + next(3) {
            let name = match next(6) {
                0 => format!("{} {first}", last.to_uppercase()),
                1 if last.len() > 4 => format!("{first} {}{}", &last[..2], &last[3..]),
                2 => format!("{}. {last}", &first[..1]),
                _ => format!("{first} {last}"),
            };
            let dob = match next(5) {
                0 => String::new(),
                1 => format!("{year}-{month:02}-{day:02}"),
                _ => format!("{day:02}/{month:02}/{year}"),
            };
            let phone = match next(4) {
                0 => String::new(),
                1 => format!("+44 {}", &phone[1..]),
                _ => phone.clone(),
            };
            records.push(person(&format!("p{person_number}-{copy}"), &name, &dob, &phone, postcode));
        }
    }
    records.truncate(count);
    records
}

async fn the_database_links_as_the_in_memory_linker_does(database: TestDatabase) {
    // Over 1,000 resolved records, so term frequencies count, and a block
    // cap low enough that some blocks of common names are skipped.
    let block_cap = 8;
    let people = synthetic_people(1_250);
    let (resolved, arriving) = people.split_at(1_100);
    let mut in_memory = load_with_block_cap(&database.store, resolved, block_cap).await;
    for record in arriving {
        let expected = in_memory.add_record(record).unwrap();
        let outcome = database.store.link_person(record, &AuditActor::Cli).await.unwrap();
        assert_eq!(outcome, expected, "record {}", record.record_id);
    }
    let mut merges = 0;
    for record in &people {
        let entity = in_memory.entity_of(&record.record_id);
        assert_eq!(database.store.linked_entity_of(&record.record_id).await.unwrap(), entity, "{}", record.record_id);
        let entity = entity.unwrap();
        assert_eq!(database.store.linked_entity_members(entity).await.unwrap(), in_memory.members_of(entity), "members of {entity:?}");
    }
    let stored: Vec<EntityEvent> = database.store.link_events(0, 10_000).await.unwrap().into_iter().map(|(_, event)| event).collect();
    assert_eq!(stored, in_memory.events());
    for event in &stored {
        merges += usize::from(matches!(event, EntityEvent::Merged { .. }));
    }
    let attached = stored.iter().filter(|event| matches!(event, EntityEvent::Attached { .. })).count();
    assert!(attached > 20 && merges > 0, "the set exercises attaching ({attached}) and merging ({merges})");
    let oversized: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT key_hash FROM link_keys GROUP BY key_hash HAVING COUNT(*) > $1) oversized")
        .bind(block_cap as i64)
        .fetch_one(database.store.pool())
        .await
        .unwrap();
    assert!(oversized > 0, "some blocks are over the cap and skipped alike");
}

async fn concurrent_additions_from_several_stores_lose_nobody(database: TestDatabase) {
    load(&database.store, &first_three()).await;
    // Four processes' stores, each adding a copy of one new person and some strangers at once.
    let mut tasks = Vec::new();
    for process in 0..4 {
        let store = Store::connect(&database.url, &Default::default(), Some(database.master_key.clone())).await.unwrap();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            outcomes.push(
                store
                    .link_person(&person(&format!("arben-{process}"), "Arben Hoxha", "02/02/1992", "07933 222222", "LU1 2AB"), &AuditActor::Cli)
                    .await
                    .unwrap(),
            );
            for stranger in 0..5 {
                let name = ["Piotr Nowak", "Fatima Ali", "Wei Zhang", "Sarah Jones", "Mihai Stan"][stranger];
                // Each process's strangers born at least six years apart from the others'.
                let dob = format!("{:02}/0{}/19{}", 10 + process, 1 + stranger, 40 + process * 12 + stranger);
                outcomes.push(store.link_person(&person(&format!("s{process}-{stranger}"), name, &dob, "", ""), &AuditActor::Cli).await.unwrap());
            }
            outcomes
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().len(), 6);
    }
    let store = &database.store;
    assert_eq!(store.linked_record_count().await.unwrap(), Some(3 + 24));
    let arben = store.linked_entity_of("arben-0").await.unwrap().unwrap();
    for process in 1..4 {
        assert_eq!(
            store.linked_entity_of(&format!("arben-{process}")).await.unwrap(),
            Some(arben),
            "the four copies of one person arriving together are one entity"
        );
    }
    let created = store.link_events(0, 100).await.unwrap().iter().filter(|(_, event)| matches!(event, EntityEvent::Created { .. })).count();
    assert_eq!(created, 1 + 20, "Arben once and each stranger once");
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM link_records").fetch_one(store.pool()).await.unwrap();
    assert_eq!(records, 27);
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

aidant_store::backend_tests!(
    records_added_through_the_store_land_in_the_right_entities,
    nothing_personal_is_readable_in_the_rows,
    key_rotation_still_opens_the_link_rows,
    the_linked_people_survive_reopening_the_store,
    the_database_links_as_the_in_memory_linker_does,
    concurrent_additions_from_several_stores_lose_nobody,
);
