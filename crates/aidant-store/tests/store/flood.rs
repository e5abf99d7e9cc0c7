//! Flood protection's shared counts on both backends: a client's requests
//! through two stores on one database (as two `aidant serve` processes) are
//! one count, taken atomically when they arrive at once, recovering one
//! period at a time, refused requests not counted, and nothing but a keyed
//! hash of the address kept, and that only while it matters.

use aidant_store::crypto::MasterKey;
use aidant_store::flood::FloodRate;
use aidant_store::testing::TestDatabase;
use aidant_store::{Store, StoreOptions};

const RATE: FloodRate = FloodRate { period_ms: 6_000, burst: 3 };
const NOW: i64 = 1_800_000_000_000;
const CLIENT: [u8; 4] = [203, 0, 113, 9];

/// A second process's store on the same database.
async fn second_process(database: &TestDatabase) -> Store {
    let key = MasterKey::from_hex(&database.master_key.to_hex()).unwrap();
    Store::connect(&database.url, &StoreOptions::default(), Some(key)).await.unwrap()
}

async fn rows(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM flood_limits").fetch_one(store.pool()).await.unwrap()
}

async fn a_client_has_one_allowance_across_processes(database: TestDatabase) {
    let first = &database.store;
    let second = second_process(&database).await;
    let mut answers = Vec::new();
    for (turn, at) in [0, 1_000, 2_000, 3_000, 4_000].into_iter().enumerate() {
        let store = if turn % 2 == 0 { first } else { &second };
        answers.push(store.take_flood_allowance("public", &CLIENT, RATE, NOW + at).await.unwrap());
    }
    assert_eq!(answers, [true, true, true, false, false], "three at once, then one a period: the fourth and fifth come too soon");
    // Another client, and another limiter, count apart.
    assert!(second.take_flood_allowance("public", &[203, 0, 113, 10], RATE, NOW + 4_000).await.unwrap());
    assert!(first.take_flood_allowance("sign_in", &CLIENT, RATE, NOW + 4_000).await.unwrap());
    // Refused requests did not push recovery away: the allowance holds one
    // again one period after the first request, whatever came between.
    assert!(!first.take_flood_allowance("public", &CLIENT, RATE, NOW + 5_999).await.unwrap());
    assert!(second.take_flood_allowance("public", &CLIENT, RATE, NOW + 6_000).await.unwrap());
    assert!(!first.take_flood_allowance("public", &CLIENT, RATE, NOW + 6_001).await.unwrap());

    // What is stored: a limiter's name, a number and a time; not the address.
    let stored: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT limiter, client_hash, arrival FROM flood_limits ORDER BY limiter, arrival").fetch_all(first.pool()).await.unwrap();
    assert_eq!(stored.len(), 3);
    for (_, hash, _) in &stored {
        for plain in [i64::from(u32::from_be_bytes(CLIENT)), i64::from_be_bytes([0, 0, 0, 0, 203, 0, 113, 9])] {
            assert_ne!(*hash, plain, "the address itself is not the key");
        }
    }
    assert_ne!(stored[1].1, stored[2].1, "the same address under two limiters has two hashes (public, the later, and sign-in)");

    // Swept once recovered, and not before.
    assert_eq!(first.sweep_flood_limits(NOW + 23_999).await.unwrap(), 2, "the other client and the sign-in recovered");
    assert_eq!(rows(first).await, 1);
    assert_eq!(second.sweep_flood_limits(NOW + 24_000).await.unwrap(), 1);
    assert_eq!(rows(first).await, 0);
    second.close().await;
}

async fn requests_at_the_same_moment_take_no_more_than_the_burst(database: TestDatabase) {
    let first = database.store.clone();
    let second = second_process(&database).await;
    let mut attempts = tokio::task::JoinSet::new();
    for attempt in 0..16 {
        let store = if attempt % 2 == 0 { first.clone() } else { second.clone() };
        attempts.spawn(async move { store.take_flood_allowance("public", &CLIENT, RATE, NOW).await.unwrap() });
    }
    let allowed = attempts.join_all().await.into_iter().filter(|allowed| *allowed).count();
    assert_eq!(allowed, 3);
    second.close().await;
}

aidant_store::backend_tests!(a_client_has_one_allowance_across_processes, requests_at_the_same_moment_take_no_more_than_the_burst);
