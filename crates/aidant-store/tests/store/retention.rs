//! Retention review of potential victims' cases on both backends: a case
//! comes due a review period after it was opened, only the force's
//! supervisors review it, keeping it needs a reason and brings it back a
//! period later, and deleting it removes the person's sealed identity,
//! referral and support from the database's files (read raw), leaving an
//! audit entry that says it was deleted and why.

use aidant_core::ids::VictimId;
use aidant_core::organisation::Role;
use aidant_core::retention::{DeleteReason, RetainReason, ReviewPeriods, add_months};
use aidant_store::cases::CaseError;
use aidant_store::cases::retention::{case_to_review, delete_case, retain_case, review_queue};
use aidant_store::cases::victims::{open_case, view_case};
use aidant_store::testing::TestDatabase;
use aidant_store::{Store, now_ms};

use crate::entities::caller;
use crate::victims::{adult, force, zenobia_referred_and_supported};

const TABLES: [&str; 6] = ["potential_victims", "nrm_referrals", "support_referrals", "support_given", "victim_links", "audit_log"];

/// Every sealed value that holds the person of case `id`.
async fn sealed_values_of(store: &Store, id: &VictimId) -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = Vec::new();
    for statement in [
        "SELECT identity_sealed FROM potential_victims WHERE id = $1",
        "SELECT answers_sealed FROM nrm_referrals WHERE victim_id = $1",
        "SELECT shared_sealed FROM support_referrals WHERE victim_id = $1",
        "SELECT note_sealed FROM support_given WHERE support_referral_id IN (SELECT id FROM support_referrals WHERE victim_id = $1) AND note_sealed IS NOT NULL",
    ] {
        values.extend(sqlx::query_scalar::<_, Vec<u8>>(statement).bind(id.as_str()).fetch_all(store.pool()).await.unwrap());
    }
    values
}

/// Whether any 24-byte piece of any value is in `bytes` (a nonce alone is 24
/// bytes: finding one means the value, or part of it, is still there).
fn any_trace(bytes: &[u8], values: &[Vec<u8>]) -> bool {
    values.iter().any(|value| value.chunks(24).filter(|piece| piece.len() == 24).any(|piece| bytes.windows(24).any(|window| window == piece)))
}

async fn a_supervisor_keeps_or_deletes_a_due_case_and_a_deleted_one_leaves_no_trace(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    let supervisor_user = store.create_user(&world.force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let supervisor = caller(&supervisor_user);
    let periods = ReviewPeriods::default();

    let (deleted, deleted_pseudonym) = zenobia_referred_and_supported(store, &world).await;
    let (kept, kept_pseudonym) = open_case(store, &lead, &adult("Ana Popescu"), None).await.unwrap();

    // Not due until a review period has passed.
    let now = now_ms();
    assert!(review_queue(store, &supervisor, &periods, now).await.unwrap().is_empty());
    let Err(CaseError::Invalid(errors)) = retain_case(store, &supervisor, &kept, RetainReason::LegalHold, &periods, now).await else { panic!("not due yet") };
    assert_eq!(errors[0].field, "decision");
    let later = add_months(now, periods.victim_cases_months) + 60_000;
    let due = review_queue(store, &supervisor, &periods, later).await.unwrap();
    assert_eq!(due.iter().map(|case| case.pseudonym.as_str()).collect::<Vec<_>>().len(), 2);
    assert!(due.iter().all(|case| case.due_at_ms <= later && case.last_kept.is_none()));

    // Only the force's supervisors review.
    for other in [&lead, &caller(&world.handler), &caller(&world.glaa_user)] {
        assert!(matches!(review_queue(store, other, &periods, later).await, Err(CaseError::Denied { .. })));
        assert!(matches!(retain_case(store, other, &kept, RetainReason::LegalHold, &periods, later).await, Err(CaseError::Denied { .. })));
        assert!(matches!(delete_case(store, other, &deleted, DeleteReason::NoFurtherConcern, &periods, later).await, Err(CaseError::Denied { .. })));
    }
    assert!(view_case(store, &lead, &deleted).await.is_ok(), "a refused deletion deletes nothing");

    // Kept: due again a period after the decision, with its reason shown.
    let (pseudonym, next) = retain_case(store, &supervisor, &kept, RetainReason::SafeguardingConcern, &periods, later).await.unwrap();
    assert_eq!(pseudonym, kept_pseudonym);
    assert_eq!(next, add_months(later, periods.victim_cases_months));
    let due = review_queue(store, &supervisor, &periods, later).await.unwrap();
    assert_eq!(due.iter().map(|case| case.pseudonym.as_str()).collect::<Vec<_>>(), [deleted_pseudonym.as_str()]);
    let again = review_queue(store, &supervisor, &periods, next + 1).await.unwrap();
    let kept_again = again.iter().find(|case| case.pseudonym == kept_pseudonym).expect("due again after another period");
    assert_eq!(kept_again.last_kept, Some((later, RetainReason::SafeguardingConcern)));
    assert_eq!(case_to_review(store, &supervisor, &kept, &periods, next + 1).await.unwrap().pseudonym, kept_pseudonym);

    // Deleted: everything that held the person goes, in the files too.
    let values = sealed_values_of(store, &deleted).await;
    assert_eq!(values.len(), 4, "identity, referral, what the charity was given and its note");
    let kept_values = sealed_values_of(store, &kept).await;
    assert!(any_trace(&database.raw_files(&TABLES).await, &values), "the reader sees the sealed values before the deletion");
    let pseudonym = delete_case(store, &supervisor, &deleted, DeleteReason::NoFurtherConcern, &periods, later).await.unwrap();
    assert_eq!(pseudonym, deleted_pseudonym);
    assert!(matches!(view_case(store, &lead, &deleted).await, Err(CaseError::NotFound)));
    assert!(sealed_values_of(store, &deleted).await.is_empty());
    let raw = database.raw_files(&TABLES).await;
    assert!(!any_trace(&raw, &values), "a deleted person's sealed data is still in the database's files");
    assert!(any_trace(&raw, &kept_values), "the kept case is still there, so the reader reads the files");
    assert!(review_queue(store, &supervisor, &periods, later).await.unwrap().is_empty());

    // The audit log says that it was deleted, by whom and why, and nothing it held.
    let (actor, reason): (String, String) = sqlx::query_as("SELECT actor, reason FROM audit_log WHERE action = 'retention.delete' AND record_id = $1")
        .bind(deleted.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(actor.contains(supervisor_user.id.as_str()), "{actor}");
    assert_eq!(reason, format!("{deleted_pseudonym}: {}", DeleteReason::NoFurtherConcern.label()));
    let kept_reason: String = sqlx::query_scalar("SELECT reason FROM audit_log WHERE action = 'retention.retain' AND record_id = $1")
        .bind(kept.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(kept_reason.ends_with(RetainReason::SafeguardingConcern.label()), "{kept_reason}");
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

aidant_store::backend_tests!(a_supervisor_keeps_or_deletes_a_due_case_and_a_deleted_one_leaves_no_trace);
