//! Single sign-on's records, on both backends: the user an identity
//! provider's subject is, kept up to date from the provider's groups at
//! every sign-in, and cut off when the groups no longer allow them.

use aidant_core::audit::AuditActor;
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_store::cases::CaseError;
use aidant_store::cases::admin::UserChange;
use aidant_store::federation::{FederatedOutcome, FederatedSignIn};
use aidant_store::identity::{SignInOutcome, SignInPolicy};
use aidant_store::organisations::Organisation;
use aidant_store::testing::TestDatabase;

const PASSWORD: &str = "correct horse battery staple";

fn sign_in<'a>(subject: &'a str, email: &'a str, organisation: &'a Organisation, roles: &'a [Role]) -> FederatedSignIn<'a> {
    FederatedSignIn { provider: "beds", subject, email, email_verified: true, display_name: "Ada Analyst", organisation_id: &organisation.id, roles }
}

fn accepted(outcome: FederatedOutcome) -> aidant_core::ids::UserId {
    match outcome {
        FederatedOutcome::Accepted { user_id } => user_id,
        other => panic!("expected the sign-in to be accepted: {other:?}"),
    }
}

async fn the_provider_decides_the_organisation_and_roles_at_every_sign_in(database: TestDatabase) {
    let store = &database.store;
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();

    let user_id = accepted(store.sign_in_federated(&sign_in("sub-1", "ada@beds.example", &force, &[Role::Analyst])).await.unwrap());
    let user = store.find_user(&user_id).await.unwrap().unwrap();
    assert_eq!((user.organisation_id.clone(), user.roles.clone(), user.email.as_str()), (force.id.clone(), vec![Role::Analyst], "ada@beds.example"));
    assert_eq!(store.federated_provider(&user_id).await.unwrap().as_deref(), Some("beds"));

    // Next time the groups say supervisor, and the e-mail has changed: the
    // same user (found by subject, not e-mail) is brought up to date.
    let again = accepted(store.sign_in_federated(&sign_in("sub-1", "ada.lovelace@beds.example", &force, &[Role::Supervisor])).await.unwrap());
    assert_eq!(again, user_id);
    let user = store.find_user(&user_id).await.unwrap().unwrap();
    assert_eq!((user.roles.clone(), user.email.as_str()), (vec![Role::Supervisor], "ada.lovelace@beds.example"));

    // A session and a token, then the provider's groups no longer allow
    // Aidant: both stop working and the roles are gone.
    let session = store.create_federated_session(&user_id).await.unwrap();
    let found = store.find_session(&session, &SignInPolicy::default()).await.unwrap().unwrap();
    assert!(found.federated && found.second_factor_done, "the provider asked for the second factor");
    let token = store.create_api_token(&user_id, "script").await.unwrap();
    assert_eq!(store.refuse_federated("beds", "sub-1").await.unwrap(), Some(user_id.clone()));
    assert!(store.find_session(&session, &SignInPolicy::default()).await.unwrap().is_none(), "the session ended");
    assert!(store.user_for_api_token(&token).await.unwrap().is_none(), "the token was revoked");
    assert!(store.find_user(&user_id).await.unwrap().unwrap().roles.is_empty());
    assert_eq!(store.refuse_federated("beds", "sub-unknown").await.unwrap(), None, "an unknown subject has nothing to lose");

    // Back in a group: the same account returns with the new roles.
    assert_eq!(accepted(store.sign_in_federated(&sign_in("sub-1", "ada.lovelace@beds.example", &force, &[Role::Analyst])).await.unwrap()), user_id);
    assert_eq!(store.find_user(&user_id).await.unwrap().unwrap().roles, vec![Role::Analyst]);

    // Disabled in Aidant: no provider opens the account.
    store.disable_user(&user_id, &AuditActor::Cli).await.unwrap();
    assert_eq!(store.sign_in_federated(&sign_in("sub-1", "ada.lovelace@beds.example", &force, &[Role::Analyst])).await.unwrap(), FederatedOutcome::Disabled);

    // The same subject at another provider is another person.
    let other = FederatedSignIn { provider: "glaa", ..sign_in("sub-1", "someone@glaa.example", &glaa, &[Role::Partner]) };
    let other_id = accepted(store.sign_in_federated(&other).await.unwrap());
    assert_ne!(other_id, user_id);
    assert_eq!(store.find_user(&other_id).await.unwrap().unwrap().organisation_id, glaa.id);

    let actions: Vec<String> =
        store.audit_history("user", user_id.as_str()).await.unwrap().into_iter().map(|stored| stored.entry.action.as_str().to_owned()).collect();
    for action in ["user.federated_created", "user.sign_in", "user.federated_refused", "user.sign_in_failed"] {
        assert!(actions.iter().any(|logged| logged == action), "{action} is audited: {actions:?}");
    }
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

async fn an_existing_account_is_joined_only_when_that_is_safe(database: TestDatabase) {
    let store = &database.store;
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    let local = store.create_user(&force.id, "ada@beds.example", "Ada", &[Role::CallHandler]).await.unwrap();
    store.set_password(&local.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    let policy = SignInPolicy::default();

    // An e-mail the provider has not verified does not join an account
    // (anyone could type it at a careless provider).
    let unverified = FederatedSignIn { email_verified: false, ..sign_in("sub-1", "ADA@beds.example", &force, &[Role::Analyst]) };
    assert_eq!(store.sign_in_federated(&unverified).await.unwrap(), FederatedOutcome::EmailInUse);
    // Nor does one in another organisation.
    assert_eq!(store.sign_in_federated(&sign_in("sub-1", "ada@beds.example", &glaa, &[Role::Partner])).await.unwrap(), FederatedOutcome::EmailInUse);
    assert!(matches!(store.check_password("ada@beds.example", PASSWORD, &policy).await.unwrap(), SignInOutcome::Accepted { .. }), "nothing changed");
    assert_eq!(store.find_user(&local.id).await.unwrap().unwrap().roles, vec![Role::CallHandler]);

    // Verified, same organisation: joined, and the password no longer opens it.
    assert_eq!(accepted(store.sign_in_federated(&sign_in("sub-1", "Ada@Beds.example", &force, &[Role::Analyst])).await.unwrap()), local.id);
    assert_eq!(store.find_user(&local.id).await.unwrap().unwrap().roles, vec![Role::Analyst]);
    assert_eq!(store.check_password("ada@beds.example", PASSWORD, &policy).await.unwrap(), SignInOutcome::Refused);

    // A second identity with the same e-mail cannot take the joined account.
    assert_eq!(store.sign_in_federated(&sign_in("sub-2", "ada@beds.example", &force, &[Role::Administrator])).await.unwrap(), FederatedOutcome::EmailInUse);
    // Nor can a joined identity change its e-mail to another user's.
    store.create_user(&force.id, "bob@beds.example", "Bob", &[Role::Officer]).await.unwrap();
    assert_eq!(store.sign_in_federated(&sign_in("sub-1", "bob@beds.example", &force, &[Role::Analyst])).await.unwrap(), FederatedOutcome::EmailInUse);
    assert_eq!(store.find_user(&local.id).await.unwrap().unwrap().email, "ada@beds.example");

    // An administrator cannot give the joined account a password beside the
    // provider (it would open the account after the groups shut it).
    let admin = store.create_user(&force.id, "admin@beds.example", "Admin", &[Role::Administrator]).await.unwrap();
    let caller = crate::entities::caller(&admin);
    let refused = aidant_store::cases::admin::change_user(store, &caller, &local.id, UserChange::ResetPassword).await;
    assert!(matches!(&refused, Err(CaseError::Invalid(errors)) if errors[0].message.contains("identity provider")), "{refused:?}");
    assert_eq!(store.check_password("ada@beds.example", PASSWORD, &policy).await.unwrap(), SignInOutcome::Refused);
    let bob = store.find_user_by_email("bob@beds.example").await.unwrap().unwrap();
    assert!(matches!(aidant_store::cases::admin::change_user(store, &caller, &bob.id, UserChange::ResetPassword).await, Ok(Some(_))));
}

aidant_store::backend_tests!(the_provider_decides_the_organisation_and_roles_at_every_sign_in, an_existing_account_is_joined_only_when_that_is_safe,);
