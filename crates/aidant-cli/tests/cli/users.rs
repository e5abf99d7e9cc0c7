//! `aidant organisations ...` and `aidant users ...` through the real
//! binary, on both backends: what an administrator setting up a force
//! types, and the clear refusals for mistakes.

use aidant_store::Store;
use aidant_store::identity::{SignInOutcome, SignInPolicy};
use aidant_store::testing::TestDatabase;

use crate::helpers::{Setup, assert_failure_naming, assert_success};

fn one_time_password(stdout: &str) -> String {
    stdout.lines().find_map(|line| line.strip_prefix("One-time password: ")).expect("a one-time password is printed").to_owned()
}

async fn must_change(store: &Store, email: &str, password: &str) -> bool {
    let SignInOutcome::Accepted { user_id, .. } = store.check_password(email, password, &SignInPolicy::default()).await.unwrap() else {
        panic!("{email} signs in with the password the command gave");
    };
    let token = store.create_session(&user_id, true).await.unwrap();
    store.find_session(&token, &SignInPolicy::default()).await.unwrap().unwrap().must_change_password
}

async fn setting_up_a_force_from_the_command_line(database: TestDatabase) {
    let store = database.store.clone();
    let setup = Setup::for_database(&database);
    assert_success(&setup.run(&["organisations", "add", "Kent Police", "--kind", "police_force", "--receives-public-reports"]));
    assert_success(&setup.run(&["organisations", "add", "GLAA", "--kind", "regulator"]));
    let organisations = assert_success(&setup.run(&["organisations", "list"]));
    assert!(organisations.contains("Kent Police") && organisations.contains("GLAA"), "{organisations}");
    assert_failure_naming(&setup.run(&["organisations", "add", "Somewhere", "--kind", "castle"]), "castle");

    let added = assert_success(&setup.run(&[
        "users",
        "add",
        "--email",
        "Ana.Lyst@kent.police.example",
        "--name",
        "Ana Lyst",
        "--organisation",
        "Kent Police",
        "--role",
        "analyst",
        "--role",
        "supervisor",
    ]));
    let first = one_time_password(&added);
    assert_eq!(first.chars().count(), 20);
    assert!(must_change(&store, "ana.lyst@kent.police.example", &first).await, "a generated password must be replaced at first sign-in");

    // Each refusal names what is wrong: (email, organisation, role) -> the words.
    let refusals = [
        ("ana.lyst@kent.police.example", "Kent Police", "analyst", "already exists"),
        ("x@kent.police.example", "Nowhere", "analyst", "Nowhere"),
        ("x@kent.police.example", "Kent Police", "wizard", "wizard"),
        ("not-an-email", "Kent Police", "analyst", "not-an-email"),
    ];
    for (email, organisation, role, expected) in refusals {
        assert_failure_naming(&setup.run(&["users", "add", "--email", email, "--name", "X", "--organisation", organisation, "--role", role]), expected);
    }
    assert_failure_naming(
        &setup.run_with_stdin(
            &["users", "add", "--email", "y@kent.police.example", "--name", "Y", "--organisation", "Kent Police", "--role", "analyst", "--password-stdin"],
            "short\n",
        ),
        "12 characters",
    );
    assert!(store.find_user_by_email("y@kent.police.example").await.unwrap().is_none(), "a refused add leaves no user behind");

    let listed = assert_success(&setup.run(&["users", "list", "--organisation", "Kent Police"]));
    assert!(listed.contains("Ana.Lyst@kent.police.example\tAna Lyst\tKent Police\tanalyst,supervisor"), "{listed}");
    assert!(assert_success(&setup.run(&["users", "list", "--organisation", "GLAA"])).trim().is_empty());

    let reset = assert_success(&setup.run(&["users", "reset-password", "ana.lyst@kent.police.example"]));
    let second = one_time_password(&reset);
    assert_ne!(first, second);
    assert_eq!(store.check_password("ana.lyst@kent.police.example", &first, &SignInPolicy::default()).await.unwrap(), SignInOutcome::Refused);
    assert!(must_change(&store, "ana.lyst@kent.police.example", &second).await);

    assert_success(&setup.run_with_stdin(&["users", "reset-password", "ana.lyst@kent.police.example", "--password-stdin"], "chosen by ana herself\n"));
    assert!(!must_change(&store, "ana.lyst@kent.police.example", "chosen by ana herself").await, "a password typed in is kept as given");

    assert_success(&setup.run(&["users", "disable", "ana.lyst@kent.police.example"]));
    assert!(assert_success(&setup.run(&["users", "list"])).contains("\tdisabled"));
    assert_eq!(store.check_password("ana.lyst@kent.police.example", "chosen by ana herself", &SignInPolicy::default()).await.unwrap(), SignInOutcome::Disabled);
    assert_success(&setup.run(&["users", "enable", "ana.lyst@kent.police.example"]));
    assert!(matches!(
        store.check_password("ana.lyst@kent.police.example", "chosen by ana herself", &SignInPolicy::default()).await.unwrap(),
        SignInOutcome::Accepted { .. }
    ));
    assert_failure_naming(&setup.run(&["users", "disable", "nobody@kent.police.example"]), "nobody@kent.police.example");

    let user = store.find_user_by_email("ana.lyst@kent.police.example").await.unwrap().unwrap();
    let actions: Vec<String> = store.audit_history("user", user.id.as_str()).await.unwrap().into_iter().map(|entry| entry.entry.action).collect();
    for action in ["user.password_reset", "user.password_set", "user.disable", "user.enable"] {
        assert!(actions.iter().any(|done| done == action), "{action} is audited: {actions:?}");
    }
}

aidant_store::backend_tests!(setting_up_a_force_from_the_command_line);
