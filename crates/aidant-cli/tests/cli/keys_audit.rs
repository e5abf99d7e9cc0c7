//! The audit log and the master key through the real binary on both
//! backends: `aidant audit verify` against a tampered chain, signed audit
//! checkpoints against rows edited, deleted, reordered, truncated or rebuilt
//! with recomputed hashes in SQL (as someone with database access would), and
//! `aidant keys rotate|status` with the key in a file or the environment.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use aidant_core::audit::{AuditAction, AuditActor, AuditEntry, AuditRecordKind, GENESIS_HASH};
use aidant_store::audit::AuditEvent;
use aidant_store::keys::RewrapOptions;
use aidant_store::testing::TestDatabase;
use aidant_store::{Keyring, MasterKey, Store};

use crate::helpers::{REPORT, Server, Setup, assert_fails_saying, assert_one_line_failure, assert_success, post_report};

async fn audit_verify_names_the_first_tampered_entry(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let server = Server::start(&setup, &[]);
    for _ in 0..4 {
        post_report(server.address, &[], REPORT);
    }
    drop(server);
    // Four reports, and as many entries as the server's entity worker wrote
    // before it was stopped (one per report it read).
    let plain = setup.run(&["audit", "verify"]);
    assert!(String::from_utf8_lossy(&plain.stderr).contains("warning: no signed checkpoint given"), "a check without a checkpoint says what it cannot show");
    let verified = assert_success(&plain);
    let entries: usize = verified.split("audit chain OK: ").nth(1).and_then(|rest| rest.split(' ').next()).and_then(|count| count.parse().ok()).unwrap_or(0);
    assert!((4..=8).contains(&entries), "{verified}");

    // The database refuses the change; its owner can drop the triggers,
    // and verification still names the entry changed.
    assert!(sqlx::query("UPDATE audit_log SET action = 'report.view' WHERE sequence = 3").execute(database.store.pool()).await.is_err());
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("UPDATE audit_log SET action = 'report.view' WHERE sequence = 3").execute(database.store.pool()).await.unwrap();
    assert_fails_saying(&setup.run(&["audit", "verify"]), &["BROKEN", "entry 3"]);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn key_id(key: &MasterKey) -> String {
    hex(&key.key_id())
}

async fn open_with(database: &TestDatabase, keyring: Keyring) -> Store {
    Store::connect(&database.url, &Default::default(), None).await.unwrap().with_keyring(keyring)
}

fn read_key(path: &Path) -> MasterKey {
    MasterKey::from_hex(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn audit_actions(store: &Store) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_log ORDER BY sequence").fetch_all(store.pool()).await.unwrap()
}

async fn keys_rotate_with_a_key_file_keeps_every_value_readable(database: TestDatabase) {
    let setup = Setup::with_key_file(&database);
    let old_key = database.master_key.clone();
    let report_id = aidant_store::testing::submit_report_with_contact(&database.store, "07700 900982").await;
    let draft_id = database.store.create_draft(b"draft answers").await.unwrap();

    let output = setup.run(&["keys", "rotate", "--batch-size", "1"]);
    let text = assert_success(&output);
    assert!(text.contains("reports.contact_sealed: 1 rewrapped") && text.contains("report_drafts.sealed_answers: 1 rewrapped"), "{text}");
    assert!(text.contains("rewrapped 2 sealed values"), "{text}");

    let new_key = read_key(&setup.key_file());
    assert_ne!(key_id(&new_key), key_id(&old_key), "the key file holds a new key");
    let retired = setup.key_path(&format!("master.key.retired-{}", key_id(&old_key)));
    assert_eq!(key_id(&read_key(&retired)), key_id(&old_key), "the old key is kept");
    assert_eq!(mode(&retired), 0o600);
    assert_eq!(mode(&setup.key_file()), 0o600);

    // The new key alone opens every value, and none carries the old key id.
    let new_only = open_with(&database, Keyring::from(new_key.clone())).await;
    let contact = new_only.reveal_contact(&report_id, &AuditActor::user("user-1"), "calling back").await.unwrap().unwrap();
    assert_eq!(contact.phone.as_deref(), Some("07700 900982"));
    assert_eq!(new_only.load_draft(&draft_id).await.unwrap().unwrap(), b"draft answers");
    let census = new_only.sealed_value_census().await.unwrap();
    assert_eq!((census.under(&key_id(&old_key)), census.under(&key_id(&new_key))), (0, 2));

    let status = assert_success(&setup.run(&["keys", "status"]));
    assert!(status.contains(&format!("retired master key {}", key_id(&old_key))), "{status}");
    assert!(status.contains("0 sealed values are not under the current key; 0 cannot be opened"), "{status}");

    let actions = audit_actions(&database.store).await;
    assert!(actions.contains(&"keys.rotate.start".to_owned()) && actions.contains(&"keys.rotate.finish".to_owned()), "{actions:?}");
    assert!(assert_success(&setup.run(&["audit", "verify"])).contains("audit chain OK"));
    drop(Server::start(&setup, &[]));

    // Rotating again makes yet another key and keeps both older ones.
    assert_success(&setup.run(&["keys", "rotate"]));
    let newest = read_key(&setup.key_file());
    assert!(setup.key_path(&format!("master.key.retired-{}", key_id(&new_key))).is_file());
    let newest_only = open_with(&database, Keyring::from(newest)).await;
    assert!(newest_only.reveal_contact(&report_id, &AuditActor::user("user-1"), "calling back").await.unwrap().is_some());
}

async fn keys_rotate_with_the_key_in_the_environment_needs_a_new_key_file(database: TestDatabase) {
    let setup = Setup::for_database(&database);
    let old_key = database.master_key.clone();
    let report_id = aidant_store::testing::submit_report_with_contact(&database.store, "07700 900983").await;

    assert_one_line_failure(&setup.run(&["keys", "rotate"]), &["AIDANT_MASTER_KEY", "--new-key-file"]);
    assert_one_line_failure(&setup.run(&["keys", "rotate", "--new-key-file", "missing.key"]), &["--new-key-file", "missing.key"]);
    std::fs::write(setup.path("same.key"), old_key.to_hex()).unwrap();
    assert_one_line_failure(&setup.run(&["keys", "rotate", "--new-key-file", "same.key"]), &["already in use"]);

    let new_key = MasterKey::generate();
    std::fs::write(setup.path("new.key"), new_key.to_hex()).unwrap();
    let text = assert_success(&setup.run(&["keys", "rotate", "--new-key-file", "new.key"]));
    assert!(text.contains("set AIDANT_MASTER_KEY") && text.contains("new.key"), "{text}");
    assert!(!setup.key_file().exists(), "no key file is made when the key comes from the environment");
    assert!(setup.key_path(&format!("master.key.retired-{}", key_id(&old_key))).is_file());

    // Until the setting changes, the old key cannot open what was rewrapped,
    // and status says so; after it changes, everything opens.
    let before_switch = setup.run(&["keys", "status"]);
    assert_fails_saying(&before_switch, &["(unknown)", "cannot be opened", &key_id(&new_key)]);
    let switched = Setup { master_key_hex: Some(new_key.to_hex()), ..setup };
    assert!(assert_success(&switched.run(&["keys", "status"])).contains("0 sealed values are not under the current key"));
    let new_only = open_with(&database, Keyring::from(new_key)).await;
    assert_eq!(new_only.reveal_contact(&report_id, &AuditActor::user("user-1"), "calling back").await.unwrap().unwrap().phone.as_deref(), Some("07700 900983"));
}

async fn keys_rotate_resume_finishes_an_interrupted_rotation(database: TestDatabase) {
    let setup = Setup::with_key_file(&database);
    let old_key = database.master_key.clone();
    let mut report_ids = Vec::new();
    for index in 0..4 {
        report_ids.push(aidant_store::testing::submit_report_with_contact(&database.store, &format!("07700 90020{index}")).await);
    }
    // A rotation that died half way: the old key retired, the new key in the
    // key file, two of four values rewrapped.
    let new_key = MasterKey::generate();
    let retired = setup.key_path(&format!("master.key.retired-{}", key_id(&old_key)));
    std::fs::write(&retired, old_key.to_hex()).unwrap();
    std::fs::write(setup.key_file(), new_key.to_hex()).unwrap();
    let keyring = Keyring::new(new_key.clone(), vec![old_key.clone()]);
    let partial = open_with(&database, keyring).await.rewrap_sealed_values(&RewrapOptions { batch_size: 1, limit: Some(2) }).await.unwrap();
    assert_eq!(partial.rewrapped(), 2);

    let status = assert_success(&setup.run(&["keys", "status"]));
    assert!(status.contains("2 sealed values are not under the current key; 0 cannot be opened"), "{status}");
    drop(Server::start(&setup, &[]));

    // Without the retired key file the old values are named as unopenable.
    let aside = setup.path("aside");
    std::fs::rename(&retired, &aside).unwrap();
    assert_fails_saying(&setup.run(&["keys", "status"]), &["(unknown)", &key_id(&old_key)]);
    std::fs::rename(&aside, &retired).unwrap();

    let text = assert_success(&setup.run(&["keys", "rotate", "--resume"]));
    assert!(text.contains("rewrapped 2 sealed values") && text.contains("0 remain under other keys"), "{text}");
    assert_eq!(key_id(&read_key(&setup.key_file())), key_id(&new_key), "resuming makes no new key");
    let new_only = open_with(&database, Keyring::from(new_key)).await;
    for (index, report_id) in report_ids.iter().enumerate() {
        let contact = new_only.reveal_contact(report_id, &AuditActor::user("user-1"), "calling back").await.unwrap().unwrap();
        assert_eq!(contact.phone, Some(format!("07700 90020{index}")));
    }
    assert!(audit_actions(&database.store).await.contains(&"keys.rotate.resume".to_owned()));
}

async fn seed_audit(store: &Store, entries: usize) {
    for index in 0..entries {
        let record = format!("record-{index}");
        store.audit(&AuditEvent::new(&AuditActor::user("user-1"), AuditAction::ReportView, AuditRecordKind::Report, &record)).await.unwrap();
    }
}

/// Seeds five entries and signs a checkpoint (the sixth entry records it).
async fn checkpointed(database: &TestDatabase) -> (Setup, String) {
    seed_audit(&database.store, 5).await;
    let setup = Setup::for_database(database);
    let public_key = assert_success(&setup.run(&["audit", "public-key"])).trim().to_owned();
    assert_eq!(public_key.len(), 64, "{public_key}");
    assert_eq!(mode(&setup.key_path("audit-signing.key")), 0o600);
    let text = assert_success(&setup.run(&["audit", "checkpoint", "--out", "checkpoint.json"]));
    assert!(text.contains("signed checkpoint of audit entry 6"), "{text}");
    (setup, public_key)
}

fn verify_against_checkpoint(setup: &Setup, public_key: &str) -> Output {
    setup.run(&["audit", "verify", "--checkpoint", "checkpoint.json", "--public-key", public_key])
}

async fn a_checkpoint_verifies_and_a_forged_one_is_rejected(database: TestDatabase) {
    let (setup, public_key) = checkpointed(&database).await;
    let text = assert_success(&verify_against_checkpoint(&setup, &public_key));
    assert!(text.contains("audit chain OK: 6 entries") && text.contains("entry 6 matches the checkpoint"), "{text}");
    assert_success(&setup.run(&["audit", "verify", "--checkpoint", "checkpoint.json"]));
    seed_audit(&database.store, 2).await;
    assert!(assert_success(&verify_against_checkpoint(&setup, &public_key)).contains("audit chain OK: 8 entries"));

    let original = std::fs::read_to_string(setup.path("checkpoint.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&original).unwrap();
    assert_eq!(json["backend"], database.store.backend().as_str());
    assert_eq!(json["sequence"], 6);

    // Claiming a later head, or flipping the signature, breaks the signature.
    let write = |value: &serde_json::Value| std::fs::write(setup.path("checkpoint.json"), serde_json::to_string(value).unwrap()).unwrap();
    json["sequence"] = 7.into();
    write(&json);
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["REJECTED", "altered or forged"]);
    let mut flipped: serde_json::Value = serde_json::from_str(&original).unwrap();
    let signature = flipped["signature"].as_str().unwrap().to_owned();
    let first = if signature.starts_with('0') { "1" } else { "0" };
    flipped["signature"] = format!("{first}{}", &signature[1..]).into();
    write(&flipped);
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["REJECTED"]);

    // A checkpoint signed by another key, whatever key id it claims.
    let other = Setup::for_database(&database);
    assert_success(&other.run(&["audit", "checkpoint", "--out", "checkpoint.json"]));
    let mut foreign: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(other.path("checkpoint.json")).unwrap()).unwrap();
    write(&foreign);
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["REJECTED", "not by the given key"]);
    foreign["key_id"] = serde_json::from_str::<serde_json::Value>(&original).unwrap()["key_id"].clone();
    write(&foreign);
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["REJECTED", "altered or forged"]);

    // A file that is not a checkpoint, or a bad public key: one line, exit 2.
    std::fs::write(setup.path("checkpoint.json"), "not json").unwrap();
    assert_one_line_failure(&verify_against_checkpoint(&setup, &public_key), &["checkpoint.json", "not an Aidant audit checkpoint"]);
    std::fs::write(setup.path("checkpoint.json"), original).unwrap();
    assert_one_line_failure(&verify_against_checkpoint(&setup, "abcd"), &["--public-key"]);
}

async fn a_checkpoint_names_an_edited_entry(database: TestDatabase) {
    let (setup, public_key) = checkpointed(&database).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("UPDATE audit_log SET action = 'report.delete' WHERE sequence = 3").execute(database.store.pool()).await.unwrap();
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["BROKEN", "entry 3", "edited"]);
}

async fn a_checkpoint_names_a_deleted_entry(database: TestDatabase) {
    let (setup, public_key) = checkpointed(&database).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("DELETE FROM audit_log WHERE sequence = 2").execute(database.store.pool()).await.unwrap();
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["BROKEN", "entry 3: expected sequence 2"]);
}

async fn a_checkpoint_names_reordered_entries(database: TestDatabase) {
    let (setup, public_key) = checkpointed(&database).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    for statement in [
        "UPDATE audit_log SET sequence = -2 WHERE sequence = 2",
        "UPDATE audit_log SET sequence = 2 WHERE sequence = 4",
        "UPDATE audit_log SET sequence = 4 WHERE sequence = -2",
    ] {
        sqlx::query(statement).execute(database.store.pool()).await.unwrap();
    }
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["BROKEN", "entry 2"]);
}

/// An audit row's fields in `AuditEntry` order.
type AuditRow = (i64, i64, String, String, String, String, Option<String>);

/// Recomputes every entry's hashes from the first and rewrites the head, as
/// someone hiding a change from `aidant audit verify` would.
async fn rebuild_chain(store: &Store) {
    let rows: Vec<AuditRow> = sqlx::query_as("SELECT sequence, occurred_at, actor, action, record_kind, record_id, reason FROM audit_log ORDER BY sequence")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let mut previous = GENESIS_HASH;
    for (sequence, occurred_at_ms, actor, action, record_kind, record_id, reason) in rows {
        let entry = AuditEntry { sequence, occurred_at_ms, actor, action, record_kind, record_id, reason };
        let hash = entry.chain_hash(&previous);
        sqlx::query("UPDATE audit_log SET previous_hash = $1, hash = $2 WHERE sequence = $3")
            .bind(hex(&previous))
            .bind(hex(&hash))
            .bind(sequence)
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE audit_head SET last_sequence = $1, last_hash = $2 WHERE id = 1")
            .bind(sequence)
            .bind(hex(&hash))
            .execute(store.pool())
            .await
            .unwrap();
        previous = hash;
    }
}

async fn a_checkpoint_catches_a_chain_rebuilt_with_recomputed_hashes(database: TestDatabase) {
    let (setup, public_key) = checkpointed(&database).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE sequence = 2").execute(database.store.pool()).await.unwrap();
    rebuild_chain(&database.store).await;
    assert!(assert_success(&setup.run(&["audit", "verify"])).contains("audit chain OK: 6 entries"), "plain verify cannot see a consistent rebuild");
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["BROKEN", "entry 6 no longer has the hash the checkpoint recorded", "rewritten"]);
}

async fn a_checkpoint_catches_truncation_with_the_head_rewritten(database: TestDatabase) {
    let (setup, public_key) = checkpointed(&database).await;
    aidant_store::testing::lift_audit_protection(&database.store).await;
    sqlx::query("DELETE FROM audit_log WHERE sequence > 4").execute(database.store.pool()).await.unwrap();
    let plain = setup.run(&["audit", "verify"]);
    assert_fails_saying(&plain, &["BROKEN", "entries removed from the end"]);
    rebuild_chain(&database.store).await;
    assert!(assert_success(&setup.run(&["audit", "verify"])).contains("audit chain OK: 4 entries"));
    assert_fails_saying(&verify_against_checkpoint(&setup, &public_key), &["BROKEN", "the log ends at entry 4 but the checkpoint recorded entry 6"]);
}

aidant_store::backend_tests!(
    audit_verify_names_the_first_tampered_entry,
    keys_rotate_with_a_key_file_keeps_every_value_readable,
    keys_rotate_with_the_key_in_the_environment_needs_a_new_key_file,
    keys_rotate_resume_finishes_an_interrupted_rotation,
    a_checkpoint_verifies_and_a_forged_one_is_rejected,
    a_checkpoint_names_an_edited_entry,
    a_checkpoint_names_a_deleted_entry,
    a_checkpoint_names_reordered_entries,
    a_checkpoint_catches_a_chain_rebuilt_with_recomputed_hashes,
    a_checkpoint_catches_truncation_with_the_head_rewritten,
);
