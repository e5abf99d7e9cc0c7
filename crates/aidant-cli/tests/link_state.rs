//! The server's incremental entity resolver kept in the database: a real
//! `IncrementalLinker` saved, read back and linking on as before, sealed at
//! rest, on SQLite and PostgreSQL.

use aidant_link::batch::{BatchConfig, link_batch};
use aidant_link::cluster::ClusterConfig;
use aidant_link::incremental::IncrementalLinker;
use aidant_link::model::Model;
use aidant_link::record::{PersonRecord, RawPerson};
use aidant_store::testing::TestDatabase;
use sqlx::Row;

const MODEL: &str = include_str!("../../aidant-link/tests/fixtures/model-synthetic-10k.json");

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

async fn the_resolver_survives_a_restart_sealed(database: TestDatabase) {
    let store = &database.store;
    assert!(store.load_link_state("people").await.unwrap().is_none());
    let records = vec![
        person("r1", "Ion Popescu", "12/03/1985", "07911 123456", ""),
        person("r2", "Ana Marin", "01/01/1990", "07922 111111", ""),
        person("r3", "Ion Popescu", "", "07955 555555", "M1 1AE"),
    ];
    let batch = link_batch(&records, Some(Model::from_json(MODEL).unwrap()), &BatchConfig::default(), &mut |_| {});
    let mut linker = IncrementalLinker::from_batch(&records, batch, &ClusterConfig::default(), 400);
    linker.add_record(&person("r4", "POPESCU ION", "1985-03-12", "07911 123456", "")).unwrap();
    store.save_link_state("people", &linker.to_bytes(), linker.record_count() as i64, &aidant_core::audit::AuditActor::Cli).await.unwrap();

    let raw: Vec<u8> =
        sqlx::query("SELECT state_sealed FROM link_states WHERE id = 'people'").fetch_one(store.pool()).await.unwrap().try_get("state_sealed").unwrap();
    let raw_text = String::from_utf8_lossy(&raw).to_lowercase();
    for plaintext in ["popescu", "marin", "7911123456", "m1 1ae", "m11ae"] {
        assert!(!raw_text.contains(plaintext), "{plaintext} is not stored in the clear");
    }

    let saved = store.load_link_state("people").await.unwrap().expect("saved");
    assert_eq!(saved.record_count, 4);
    let mut restored = IncrementalLinker::from_bytes(&saved.bytes).unwrap();
    assert_eq!(restored.to_bytes(), linker.to_bytes());
    let next = person("r5", "I. Popesku", "12 March 1985", "+44 7911 123456", "");
    let expected = linker.add_record(&next).unwrap();
    let after_restart = restored.add_record(&next).unwrap();
    assert_eq!(after_restart.entity, expected.entity, "the restored resolver attaches the record to the same entity");
    assert_eq!(restored.entity_of("r5"), restored.entity_of("r1"), "and that is Ion Popescu");

    store.save_link_state("people", &restored.to_bytes(), restored.record_count() as i64, &aidant_core::audit::AuditActor::Cli).await.unwrap();
    assert_eq!(store.load_link_state("people").await.unwrap().unwrap().record_count, 5, "saving again replaces the state");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM link_states").fetch_one(store.pool()).await.unwrap();
    assert_eq!(count, 1);
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

aidant_store::backend_tests!(the_resolver_survives_a_restart_sealed);
