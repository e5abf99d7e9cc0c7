//! Master-key rotation, written once and run on SQLite and PostgreSQL:
//! rewrapping every sealed column, resuming an interrupted rotation, and the
//! error for a value sealed under a key nobody has.

use aidant_store::crypto::CryptoError;
use aidant_store::keys::RewrapOptions;
use aidant_store::testing::TestDatabase;
use aidant_store::{Keyring, MasterKey, SEALED_COLUMNS, Store, StoreError};

/// Every sealed value in the database, as (column, record id, bytes).
async fn sealed_values(store: &Store) -> Vec<(String, String, Vec<u8>)> {
    let mut values = Vec::new();
    for column in SEALED_COLUMNS {
        let query = format!(
            "SELECT {key} AS record_id, {sealed} AS sealed FROM {table} WHERE {sealed} IS NOT NULL ORDER BY {key}",
            key = column.key_column,
            sealed = column.sealed_column,
            table = column.table
        );
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(&query).fetch_all(store.pool()).await.unwrap();
        values.extend(rows.into_iter().map(|(record_id, sealed)| (column.name(), record_id, sealed)));
    }
    values
}

/// Opens the store's database again with another set of keys.
async fn reopen(database: &TestDatabase, keyring: Keyring) -> Store {
    Store::connect(&database.url, &Default::default(), None).await.unwrap().with_keyring(keyring)
}

async fn rotation_rewraps_every_sealed_value_and_keeps_each_readable(database: TestDatabase) {
    let old_key = database.master_key.clone();
    let phones = ["07700 900001", "07700 900002", "07700 900003"];
    let mut report_ids = Vec::new();
    for phone in phones {
        report_ids.push(aidant_store::testing::submit_report_with_contact(&database.store, phone).await);
    }
    let draft_id = database.store.create_draft(br#"{"town":"Bedford"}"#).await.unwrap();
    let before = sealed_values(&database.store).await;
    assert_eq!(before.len(), 4);

    let new_key = MasterKey::generate();
    let rotating = reopen(&database, Keyring::new(new_key.clone(), vec![old_key.clone()])).await;
    let summary = rotating.rewrap_sealed_values(&RewrapOptions { batch_size: 2, limit: None }).await.unwrap();
    assert_eq!(summary.rewrapped(), 4);
    assert_eq!(summary.unreadable(), 0);
    assert!(!summary.limit_reached);

    let after = sealed_values(&database.store).await;
    for ((column, record_id, old), (_, _, new)) in before.iter().zip(&after) {
        assert_eq!(&new[1..9], new_key.key_id(), "{column} {record_id} carries the new key id");
        assert_eq!(old.len(), new.len());
        // Bytes 81.. are the data nonce and the ciphertext (after version, key
        // id, wrap nonce and wrapped key).
        assert_eq!(old[81..], new[81..], "{column} {record_id}: the ciphertext is untouched");
    }
    let census = rotating.sealed_value_census().await.unwrap();
    assert_eq!(census.under(&hex_id(&old_key)), 0, "no value carries the old key id");
    assert_eq!(census.under(&hex_id(&new_key)), 4);
    assert_eq!(census.not_current(), 0);

    // The new key alone now opens everything; the old key alone opens nothing.
    let new_only = reopen(&database, Keyring::from(new_key.clone())).await;
    for (report_id, phone) in report_ids.iter().zip(phones) {
        let contact = new_only.reveal_contact(report_id, &aidant_core::audit::AuditActor::user("user-1"), "calling back").await.unwrap().unwrap();
        assert_eq!(contact.phone.as_deref(), Some(phone));
    }
    assert_eq!(new_only.load_draft(&draft_id).await.unwrap().unwrap(), br#"{"town":"Bedford"}"#);
    let old_only = reopen(&database, Keyring::from(old_key)).await;
    let error = old_only.reveal_contact(&report_ids[0], &aidant_core::audit::AuditActor::user("user-1"), "calling back").await.unwrap_err();
    assert!(matches!(&error, StoreError::Crypto(CryptoError::WrongMasterKey(id)) if *id == hex_id(&new_key)), "{error}");

    let again = rotating.rewrap_sealed_values(&RewrapOptions::default()).await.unwrap();
    assert_eq!(again.rewrapped(), 0, "rotation is idempotent");
    assert_eq!(sealed_values(&database.store).await, after);
}

async fn an_interrupted_rotation_still_opens_everything(database: TestDatabase) {
    let old_key = database.master_key.clone();
    let mut report_ids = Vec::new();
    for index in 0..5 {
        report_ids.push(aidant_store::testing::submit_report_with_contact(&database.store, &format!("07700 90010{index}")).await);
    }
    let draft_id = database.store.create_draft(b"draft answers").await.unwrap();
    let new_key = MasterKey::generate();
    let keyring = Keyring::new(new_key.clone(), vec![old_key.clone()]);
    let rotating = reopen(&database, keyring.clone()).await;

    // Stop after three of six values, as a crash or Ctrl-C would.
    let partial = rotating.rewrap_sealed_values(&RewrapOptions { batch_size: 2, limit: Some(3) }).await.unwrap();
    assert_eq!(partial.rewrapped(), 3);
    assert!(partial.limit_reached);
    let census = rotating.sealed_value_census().await.unwrap();
    assert_eq!((census.under(&hex_id(&old_key)), census.under(&hex_id(&new_key))), (3, 3));
    assert_eq!(census.unopenable(), 0);

    // A server restarted with the new key and the retired one reads it all.
    let restarted = reopen(&database, keyring).await;
    for (index, report_id) in report_ids.iter().enumerate() {
        let contact = restarted.reveal_contact(report_id, &aidant_core::audit::AuditActor::user("user-1"), "calling back").await.unwrap().unwrap();
        assert_eq!(contact.phone, Some(format!("07700 90010{index}")));
    }
    assert_eq!(restarted.load_draft(&draft_id).await.unwrap().unwrap(), b"draft answers");

    // Without the retired key the values not yet rewrapped name it.
    let new_only = reopen(&database, Keyring::from(new_key.clone())).await;
    let mut wrong_key = 0;
    for report_id in &report_ids {
        match new_only.reveal_contact(report_id, &aidant_core::audit::AuditActor::user("user-1"), "calling back").await {
            Ok(_) => {}
            Err(StoreError::Crypto(CryptoError::WrongMasterKey(id))) => {
                assert_eq!(id, hex_id(&old_key));
                wrong_key += 1;
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert!(wrong_key > 0);

    let resumed = restarted.rewrap_sealed_values(&RewrapOptions::default()).await.unwrap();
    assert_eq!(resumed.rewrapped(), 3, "resuming rewraps only what was left");
    let census = restarted.sealed_value_census().await.unwrap();
    assert_eq!((census.under(&hex_id(&old_key)), census.not_current()), (0, 0));
    for report_id in &report_ids {
        assert!(new_only.reveal_contact(report_id, &aidant_core::audit::AuditActor::user("user-1"), "calling back").await.unwrap().is_some());
    }
}

async fn a_value_under_an_unknown_key_is_a_clear_error(database: TestDatabase) {
    let stranger = MasterKey::generate();
    let sealed_by_stranger = reopen(&database, Keyring::from(stranger.clone())).await;
    let report_id = aidant_store::testing::submit_report_with_contact(&sealed_by_stranger, "07700 900999").await;

    let error = database.store.reveal_contact(&report_id, &aidant_core::audit::AuditActor::user("user-1"), "calling back").await.unwrap_err();
    assert!(matches!(&error, StoreError::Crypto(CryptoError::WrongMasterKey(id)) if *id == hex_id(&stranger)), "{error}");
    assert_eq!(error.to_string(), format!("the sealed value was made with a different master key (key id {})", hex_id(&stranger)));

    let rotating = reopen(&database, Keyring::new(MasterKey::generate(), vec![database.master_key.clone()])).await;
    let summary = rotating.rewrap_sealed_values(&RewrapOptions::default()).await.unwrap();
    assert_eq!((summary.rewrapped(), summary.unreadable()), (0, 1));
    let (record_id, reason) = summary.columns[0].first_unreadable.clone().unwrap();
    assert_eq!(record_id, report_id.as_str());
    assert!(reason.contains(&hex_id(&stranger)), "{reason}");
    let census = rotating.sealed_value_census().await.unwrap();
    assert_eq!(census.unopenable(), 1);
}

fn hex_id(key: &MasterKey) -> String {
    key.key_id().iter().map(|byte| format!("{byte:02x}")).collect()
}

aidant_store::backend_tests!(
    rotation_rewraps_every_sealed_value_and_keeps_each_readable,
    an_interrupted_rotation_still_opens_everything,
    a_value_under_an_unknown_key_is_a_clear_error,
);
