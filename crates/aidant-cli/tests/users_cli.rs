//! `aidant organisations ...` and `aidant users ...` through the real
//! binary, on both backends: what an administrator setting up a force
//! types, and the clear refusals for mistakes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use aidant_store::Store;
use aidant_store::accounts::{SignInOutcome, SignInPolicy};
use aidant_store::testing::TestDatabase;

const AIDANT: &str = env!("CARGO_BIN_EXE_aidant");

fn command(database: &TestDatabase, data_dir: &std::path::Path, arguments: &[&str]) -> Command {
    let mut command = Command::new(AIDANT);
    command
        .args(arguments)
        .current_dir(data_dir)
        .env("AIDANT_DATA_DIR", data_dir)
        .env("AIDANT_DATABASE_URL", &database.url)
        .env("AIDANT_MASTER_KEY", database.master_key.to_hex())
        .env_remove("AIDANT_CONFIG")
        .env_remove("AIDANT_KEY_FILE");
    command
}

fn run(database: &TestDatabase, data_dir: &std::path::Path, arguments: &[&str]) -> Output {
    command(database, data_dir, arguments).output().unwrap()
}

fn run_with_stdin(database: &TestDatabase, data_dir: &std::path::Path, arguments: &[&str], input: &str) -> Output {
    let mut child = command(database, data_dir, arguments).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "exit {:?}\nstdout: {stdout}\nstderr: {}", output.status, String::from_utf8_lossy(&output.stderr));
    stdout
}

fn failed_with(output: &Output, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected a failure mentioning {message:?}");
    assert!(stderr.contains(message), "stderr names the problem ({message:?}): {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

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
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path();
    succeeded(&run(&database, dir, &["organisations", "add", "Kent Police", "--kind", "police_force", "--receives-public-reports"]));
    succeeded(&run(&database, dir, &["organisations", "add", "GLAA", "--kind", "regulator"]));
    let organisations = succeeded(&run(&database, dir, &["organisations", "list"]));
    assert!(organisations.contains("Kent Police") && organisations.contains("GLAA"), "{organisations}");
    failed_with(&run(&database, dir, &["organisations", "add", "Somewhere", "--kind", "castle"]), "castle");

    let added = succeeded(&run(
        &database,
        dir,
        &[
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
        ],
    ));
    let first = one_time_password(&added);
    assert_eq!(first.chars().count(), 20);
    assert!(must_change(&store, "ana.lyst@kent.police.example", &first).await, "a generated password must be replaced at first sign-in");

    failed_with(
        &run(
            &database,
            dir,
            &["users", "add", "--email", "ana.lyst@kent.police.example", "--name", "Again", "--organisation", "Kent Police", "--role", "analyst"],
        ),
        "already exists",
    );
    failed_with(
        &run(&database, dir, &["users", "add", "--email", "x@kent.police.example", "--name", "X", "--organisation", "Nowhere", "--role", "analyst"]),
        "Nowhere",
    );
    failed_with(
        &run(&database, dir, &["users", "add", "--email", "x@kent.police.example", "--name", "X", "--organisation", "Kent Police", "--role", "wizard"]),
        "wizard",
    );
    failed_with(
        &run(&database, dir, &["users", "add", "--email", "not-an-email", "--name", "X", "--organisation", "Kent Police", "--role", "analyst"]),
        "not-an-email",
    );
    failed_with(
        &run_with_stdin(
            &database,
            dir,
            &["users", "add", "--email", "y@kent.police.example", "--name", "Y", "--organisation", "Kent Police", "--role", "analyst", "--password-stdin"],
            "short\n",
        ),
        "12 characters",
    );
    assert!(store.find_user_by_email("y@kent.police.example").await.unwrap().is_none(), "a refused add leaves no user behind");

    let listed = succeeded(&run(&database, dir, &["users", "list", "--organisation", "Kent Police"]));
    assert!(listed.contains("Ana.Lyst@kent.police.example\tAna Lyst\tKent Police\tanalyst,supervisor"), "{listed}");
    assert!(succeeded(&run(&database, dir, &["users", "list", "--organisation", "GLAA"])).trim().is_empty());

    let reset = succeeded(&run(&database, dir, &["users", "reset-password", "ana.lyst@kent.police.example"]));
    let second = one_time_password(&reset);
    assert_ne!(first, second);
    assert_eq!(store.check_password("ana.lyst@kent.police.example", &first, &SignInPolicy::default()).await.unwrap(), SignInOutcome::Refused);
    assert!(must_change(&store, "ana.lyst@kent.police.example", &second).await);

    succeeded(&run_with_stdin(&database, dir, &["users", "reset-password", "ana.lyst@kent.police.example", "--password-stdin"], "chosen by ana herself\n"));
    assert!(!must_change(&store, "ana.lyst@kent.police.example", "chosen by ana herself").await, "a password typed in is kept as given");

    succeeded(&run(&database, dir, &["users", "disable", "ana.lyst@kent.police.example"]));
    assert!(succeeded(&run(&database, dir, &["users", "list"])).contains("\tdisabled"));
    assert_eq!(store.check_password("ana.lyst@kent.police.example", "chosen by ana herself", &SignInPolicy::default()).await.unwrap(), SignInOutcome::Disabled);
    succeeded(&run(&database, dir, &["users", "enable", "ana.lyst@kent.police.example"]));
    assert!(matches!(
        store.check_password("ana.lyst@kent.police.example", "chosen by ana herself", &SignInPolicy::default()).await.unwrap(),
        SignInOutcome::Accepted { .. }
    ));
    failed_with(&run(&database, dir, &["users", "disable", "nobody@kent.police.example"]), "nobody@kent.police.example");

    let user = store.find_user_by_email("ana.lyst@kent.police.example").await.unwrap().unwrap();
    let actions: Vec<String> = store.audit_history("user", &user.id).await.unwrap().into_iter().map(|entry| entry.entry.action).collect();
    for action in ["user.password_reset", "user.password_set", "user.disable", "user.enable"] {
        assert!(actions.iter().any(|done| done == action), "{action} is audited: {actions:?}");
    }
}

aidant_store::backend_tests!(setting_up_a_force_from_the_command_line);
