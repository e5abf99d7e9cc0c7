//! The staff workspace's storage, written once and run on SQLite and
//! PostgreSQL: sign-in and lockout, sessions, API tokens, TOTP, the triage
//! queue, intelligence records and shares, search, and protection at rest.

use aidant_core::audit::AuditActor;
use std::time::Duration;

use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::ids::{OrganisationId, ReportId};
use aidant_core::intelligence::PersonNamed;
use aidant_core::organisation::{OrganisationKind, ReportStatus, Role};
use aidant_core::policy::{Action, Actor, may};
use aidant_core::report::{ContactAnswer, ReportAnswers};
use aidant_store::Store;
use aidant_store::identity::{SignInOutcome, SignInPolicy, new_totp_secret, totp_code};
use aidant_store::intelligence::{IntelligenceInsert, SourceDetails};
use aidant_store::organisations::{Organisation, User};
use aidant_store::public_site::Author;
use aidant_store::reports::Receipt;
use aidant_store::search::{SearchHit, SearchPosition, SearchScope};
use aidant_store::testing::TestDatabase;
use aidant_store::triage::{AssigneeFilter, QueueCursor, QueueFilter, QueueOrder, QueuePage, QueuePosition, StatusFilter};

const PASSWORD: &str = "correct horse battery staple";

fn answers(town: &str, narrative: &str, danger: bool) -> ReportAnswers {
    ReportAnswers {
        immediate_danger: danger,
        sector: Some("nail_bar".into()),
        postcode: Some("LU1 2AB".into()),
        town: Some(town.into()),
        signs: vec!["workers_living_on_site".into()],
        narrative: Some(narrative.into()),
        ..ReportAnswers::default()
    }
}

async fn submit(store: &Store, answers: &ReportAnswers) -> Receipt {
    aidant_store::testing::submit_report(store, answers, None).await
}

struct World {
    force: Organisation,
    glaa: Organisation,
    charity: Organisation,
    handler: User,
    analyst: User,
    glaa_user: User,
    charity_user: User,
}

async fn world(store: &Store) -> World {
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    let charity = store.create_organisation("Safe Haven", OrganisationKind::Charity).await.unwrap();
    store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap();
    let handler = store.create_user(&force.id, "handler@force.example", "Call Handler", &[Role::CallHandler]).await.unwrap();
    let analyst = store.create_user(&force.id, "analyst@force.example", "Analyst", &[Role::Analyst]).await.unwrap();
    let glaa_user = store.create_user(&glaa.id, "partner@glaa.example", "GLAA Partner", &[Role::Partner]).await.unwrap();
    let charity_user = store.create_user(&charity.id, "partner@charity.example", "Charity Partner", &[Role::Partner]).await.unwrap();
    World { force, glaa, charity, handler, analyst, glaa_user, charity_user }
}

/// The first page of the queue in its usual order.
async fn queue(store: &Store, organisation: &OrganisationId, filter: &QueueFilter, limit: i64) -> QueuePage {
    store.triage_queue(organisation, filter, QueueOrder::Urgent, &QueuePosition::First, limit, None).await.unwrap()
}

/// What a search finds among everything an organisation owns or was sent.
async fn search_hits(store: &Store, organisation: &OrganisationId, query: &str) -> Vec<SearchHit> {
    let everything = SearchScope { own_reports: true, own_intelligence: true, shared_intelligence: true, hidden: Vec::new() };
    store.search_page(organisation, query, &everything, SearchPosition::First, 50).await.unwrap().hits
}

fn actor(user: &User) -> Actor {
    Actor { organisation_id: user.organisation_id.clone(), roles: user.roles.iter().copied().collect() }
}

async fn passwords_lock_after_repeated_failures(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    store.set_password(&world.handler.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    let policy = SignInPolicy { max_failures: 3, lockout: Duration::from_secs(600), ..SignInPolicy::default() };
    let accepted = store.check_password("HANDLER@force.example", PASSWORD, &policy).await.unwrap();
    assert!(matches!(accepted, SignInOutcome::Accepted { needs_second_factor: false, .. }), "{accepted:?}");
    assert_eq!(store.check_password("nobody@force.example", PASSWORD, &policy).await.unwrap(), SignInOutcome::Refused);
    assert_eq!(store.check_password("handler@force.example", "wrong", &policy).await.unwrap(), SignInOutcome::Refused);
    assert_eq!(store.check_password("handler@force.example", "wrong", &policy).await.unwrap(), SignInOutcome::Refused);
    let third = store.check_password("handler@force.example", "wrong", &policy).await.unwrap();
    assert!(matches!(third, SignInOutcome::Locked { .. }), "the third failure locks: {third:?}");
    let right_but_locked = store.check_password("handler@force.example", PASSWORD, &policy).await.unwrap();
    assert!(matches!(right_but_locked, SignInOutcome::Locked { .. }), "the right password does not open a locked account");
    store.set_password(&world.handler.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    assert!(matches!(store.check_password("handler@force.example", PASSWORD, &policy).await.unwrap(), SignInOutcome::Accepted { .. }));
    store.disable_user(&world.handler.id, &AuditActor::Cli).await.unwrap();
    assert_eq!(store.check_password("handler@force.example", PASSWORD, &policy).await.unwrap(), SignInOutcome::Disabled);
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(world.handler.id.as_str()).fetch_one(store.pool()).await.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

async fn sessions_end_at_sign_out_timeout_and_disable(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let policy = SignInPolicy::default();
    let token = store.create_session(&world.handler.id, true).await.unwrap();
    let session = store.find_session(&token, &policy).await.unwrap().expect("a live session");
    assert_eq!(session.user.id, world.handler.id);
    assert_eq!(session.csrf_token.len(), 64);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_sessions WHERE id_hash = $1").bind(&token).fetch_one(store.pool()).await.unwrap();
    assert_eq!(stored, 0, "the cookie value itself is never stored");
    store.end_session(&token).await.unwrap();
    assert!(store.find_session(&token, &policy).await.unwrap().is_none(), "a stolen id stops working after sign-out");

    let idle = store.create_session(&world.handler.id, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let impatient = SignInPolicy { idle_timeout: Duration::from_millis(1), ..policy };
    assert!(store.find_session(&idle, &impatient).await.unwrap().is_none(), "idle sessions end");
    assert!(store.find_session(&idle, &policy).await.unwrap().is_none(), "and are forgotten");
    let absolute = store.create_session(&world.handler.id, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let short_day = SignInPolicy { absolute_timeout: Duration::from_millis(1), ..policy };
    assert!(store.find_session(&absolute, &short_day).await.unwrap().is_none(), "sessions end at the absolute timeout");

    let live = store.create_session(&world.handler.id, true).await.unwrap();
    store.disable_user(&world.handler.id, &AuditActor::Cli).await.unwrap();
    assert!(store.find_session(&live, &policy).await.unwrap().is_none(), "disabling a user ends their sessions");
}

async fn api_tokens_are_hashed_and_revocable(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let token = store.create_api_token(&world.analyst.id, "laptop").await.unwrap();
    assert!(token.starts_with("aidant_pat_"));
    assert_eq!(store.user_for_api_token(&token).await.unwrap().map(|user| user.id), Some(world.analyst.id.clone()));
    assert!(store.user_for_api_token("aidant_pat_guess").await.unwrap().is_none());
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(store.pool()).await.unwrap();
    assert_ne!(stored, token);
    let listed = store.list_api_tokens(&world.analyst.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!store.revoke_api_token(&world.handler.id, &listed[0].id).await.unwrap(), "nobody revokes another's token");
    assert!(store.revoke_api_token(&world.analyst.id, &listed[0].id).await.unwrap());
    assert!(store.user_for_api_token(&token).await.unwrap().is_none());
}

async fn second_factor_codes_work_once(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let secret = new_totp_secret();
    let now = 1_800_000_000;
    let right: u32 = totp_code(&secret, now).unwrap().parse().unwrap();
    let wrong = format!("{:06}", (right + 1) % 1_000_000);
    assert!(!store.enrol_totp(&world.handler.id, &secret, &wrong, now).await.unwrap(), "enrolment needs a code from the app");
    assert!(store.enrol_totp(&world.handler.id, &secret, &totp_code(&secret, now).unwrap(), now).await.unwrap());
    let later = now + 60;
    let code = totp_code(&secret, later).unwrap();
    assert!(store.verify_totp(&world.handler.id, &code, later).await.unwrap());
    assert!(!store.verify_totp(&world.handler.id, &code, later).await.unwrap(), "a code is spent once used");
    assert!(!store.verify_totp(&world.handler.id, &totp_code(&secret, now).unwrap(), later + 600).await.unwrap(), "old codes fail");
    store.set_password(&world.handler.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    let outcome = store.check_password("handler@force.example", PASSWORD, &SignInPolicy::default()).await.unwrap();
    assert!(matches!(outcome, SignInOutcome::Accepted { needs_second_factor: true, .. }), "{outcome:?}");
}

async fn the_queue_puts_immediate_first_and_filters(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let older = submit(store, &answers("Bedford", "Workers sleep in the back room.", false)).await;
    let immediate = submit(store, &answers("Luton", "Men locked in a van at the services.", true)).await;
    let other = submit(store, &answers("Dunstable", "Quiet nail bar.", false)).await;
    let page = queue(store, &world.force.id, &QueueFilter::default(), 50).await;
    assert_eq!(page.total, 3);
    assert_eq!(page.rows[0].id, immediate.report_id, "Immediate at the top");
    assert_eq!(page.rows[1].id, older.report_id, "then oldest first");
    assert_eq!(page.immediate_unopened, 1);
    assert!(queue(store, &world.glaa.id, &QueueFilter::default(), 50).await.rows.is_empty(), "reports stay with their force");

    store.record_report_view(&immediate.report_id, &AuditActor::user(&world.handler.id)).await.unwrap();
    assert_eq!(queue(store, &world.force.id, &QueueFilter::default(), 50).await.immediate_unopened, 0);

    let by_town = QueueFilter { area: Some("luton".into()), ..QueueFilter::default() };
    assert_eq!(queue(store, &world.force.id, &by_town, 50).await.total, 1);
    let by_district = QueueFilter { area: Some("lu1".into()), ..QueueFilter::default() };
    assert_eq!(queue(store, &world.force.id, &by_district, 50).await.total, 3);
    let by_risk = QueueFilter { risk: Some(aidant_core::RiskLevel::Immediate), ..QueueFilter::default() };
    assert_eq!(queue(store, &world.force.id, &by_risk, 50).await.total, 1);

    let actor = AuditActor::user(&world.handler.id);
    store.assign_report(&other.report_id, Some(&world.handler.id), &actor).await.unwrap();
    let mine = QueueFilter { assignee: Some(AssigneeFilter::User(world.handler.id.clone())), ..QueueFilter::default() };
    let assigned = queue(store, &world.force.id, &mine, 50).await;
    assert_eq!((assigned.total, assigned.rows[0].assignee_name.as_deref()), (1, Some("Call Handler")));
    store.set_report_status(&other.report_id, ReportStatus::NoFurtherAction, &actor).await.unwrap();
    assert_eq!(queue(store, &world.force.id, &QueueFilter::default(), 50).await.total, 2, "closed reports leave the open queue");
    let closed = QueueFilter { status: Some(StatusFilter::Only(ReportStatus::NoFurtherAction)), ..QueueFilter::default() };
    assert_eq!(queue(store, &world.force.id, &closed, 50).await.total, 1);
    let history: Vec<String> = store.audit_history("report", other.report_id.as_str()).await.unwrap().into_iter().map(|entry| entry.entry.action).collect();
    assert_eq!(history, ["report.create", "report.assign", "report.status"]);
    let state = store.triage_state(&other.report_id).await.unwrap().unwrap();
    assert_eq!(state.status, ReportStatus::NoFurtherAction);
    assert!(may(&self::actor(&world.handler), Action::ViewReport, &state.access(), 0).is_allowed());
    assert!(!may(&self::actor(&world.glaa_user), Action::ViewReport, &state.access(), 0).is_allowed());
}

async fn reports_arriving_before_a_receiving_force_are_claimed(database: TestDatabase) {
    let store = &database.store;
    let orphan = submit(store, &answers("Luton", "Arrived before any force was set up.", false)).await;
    assert_eq!(store.triage_state(&orphan.report_id).await.unwrap().unwrap().owner_organisation_id, None);
    let force = store.create_organisation("Force", OrganisationKind::PoliceForce).await.unwrap();
    assert_eq!(store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap(), 1);
    assert_eq!(queue(store, &force.id, &QueueFilter::default(), 10).await.total, 1);
    assert_eq!(search_hits(store, &force.id, "arrived").await.len(), 1, "its search document moves with it");
}

fn two_b_c_glaa_only(glaa: &aidant_core::ids::OrganisationId) -> aidant_core::grading::Grading {
    parse_grading(&GradingAnswers {
        scheme: "3x5x2",
        source: "2",
        intelligence: "B",
        handling: "C",
        conditions_text: "GLAA only",
        recipient_organisations: vec![glaa.clone()],
        no_onward_sharing: true,
        ..GradingAnswers::default()
    })
    .unwrap()
}

async fn intelligence_is_graded_shared_and_audited(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let report = submit(store, &answers("Luton", "Nguyễn works there every day.", false)).await;
    let grading = two_b_c_glaa_only(&world.glaa.id);
    let source = SourceDetails { identity: Some("Ioana Petrescu, 07700 900123".into()), text: Some("She saw Nguyễn taken away each night.".into()) };
    let (id, reference) = store
        .create_intelligence(&IntelligenceInsert {
            report_id: Some(&report.report_id),
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title: "Nail bar workers controlled",
            grading: &grading,
            sanitised_text: "Workers at a Luton nail bar are moved at night by Nguyễn.",
            source: Some(&source),
            review_on: Some("2027-03-01"),
            people: &[],
            share_with: &[],
        })
        .await
        .unwrap();
    assert!(reference.starts_with("INT-"));
    let record = store.find_intelligence(&id).await.unwrap().unwrap();
    assert_eq!(record.grading.code(), "2 B C");
    assert_eq!(record.grading, grading, "the grading round-trips exactly");
    assert!(record.has_source);
    assert_eq!(store.triage_state(&report.report_id).await.unwrap().unwrap().status, ReportStatus::Developed);

    assert!(!may(&actor(&world.glaa_user), Action::ViewIntelligence, &record.access(), 0).is_allowed(), "not shared yet");
    assert!(store.share_intelligence(&id, &world.glaa.id, &world.analyst.id).await.unwrap());
    assert!(!store.share_intelligence(&id, &world.glaa.id, &world.analyst.id).await.unwrap(), "sharing twice changes nothing");
    let record = store.find_intelligence(&id).await.unwrap().unwrap();
    assert_eq!(record.shared_with.iter().map(|share| share.organisation_name.as_str()).collect::<Vec<_>>(), ["GLAA"]);
    assert!(may(&actor(&world.glaa_user), Action::ViewIntelligence, &record.access(), 0).is_allowed());
    assert!(!may(&actor(&world.glaa_user), Action::ViewSourceText, &record.access(), 0).is_allowed());
    assert!(!may(&actor(&world.charity_user), Action::ViewIntelligence, &record.access(), 0).is_allowed());
    assert_eq!(store.intelligence_candidates(&world.glaa.id, 10).await.unwrap(), vec![id.clone()]);
    assert!(store.intelligence_candidates(&world.charity.id, 10).await.unwrap().is_empty());

    let opened = store.read_intelligence_source(&id, &AuditActor::user(&world.analyst.id), "checking the source's account").await.unwrap();
    assert_eq!(opened, Some(source));
    let actions: Vec<(String, Option<String>)> =
        store.audit_history("intelligence", id.as_str()).await.unwrap().into_iter().map(|entry| (entry.entry.action, entry.entry.reason)).collect();
    assert_eq!(actions[0], ("intelligence.create".to_owned(), Some("2 B C".to_owned())));
    assert_eq!(actions[1].0, "intelligence.share");
    assert_eq!(actions[2], ("intelligence.source.read".to_owned(), Some("checking the source's account".to_owned())));
    assert_eq!(store.audit_by_actor(&AuditActor::user(&world.analyst.id), 10).await.unwrap()[0].entry.action, "intelligence.source.read");
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
}

async fn legacy_gradings_are_kept_as_given(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let grading = parse_grading(&GradingAnswers { scheme: "5x5x5", source: "B", intelligence: "2", handling: "4", ..GradingAnswers::default() }).unwrap();
    let (id, _) = store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title: "Historic record",
            grading: &grading,
            sanitised_text: "From the 2014 archive.",
            source: None,
            review_on: None,
            people: &[],
            share_with: &[],
        })
        .await
        .unwrap();
    let record = store.find_intelligence(&id).await.unwrap().unwrap();
    assert_eq!(record.grading.code(), "B 2 4 (5x5x5)");
    assert!(!record.has_source);
}

async fn search_folds_diacritics_and_respects_organisations(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let report = submit(store, &answers("Luton", "A man called Ștefan Țăranu collects the wages.", false)).await;
    let plain = submit(store, &answers("Bedford", "Stefan drives the minibus.", false)).await;
    for query in ["stefan", "Ștefan", "STEF", "taranu wages"] {
        let hits = search_hits(store, &world.force.id, query).await;
        assert!(hits.iter().any(|hit| hit.record_id == report.report_id.as_str()), "{query} finds the report");
    }
    let both = search_hits(store, &world.force.id, "Ștefan").await;
    assert!(both.iter().any(|hit| hit.record_id == plain.report_id.as_str()), "Ștefan finds Stefan too");
    assert!(search_hits(store, &world.glaa.id, "stefan").await.is_empty(), "other organisations do not find the force's reports");
    assert!(search_hits(store, &world.force.id, "\"; DROP TABLE reports; --").await.is_empty());
    assert!(search_hits(store, &world.force.id, "").await.is_empty());

    // What the reporter adds later is found too; staff replies are not indexed.
    store.add_report_message(&plain.report_id, Author::Reporter, None, "He also uses the name Bogdán.").await.unwrap();
    store.add_report_message(&plain.report_id, Author::Staff, Some(&world.handler.id), "Thank you, Zacharias will look.").await.unwrap();
    let later = search_hits(store, &world.force.id, "bogdan").await;
    assert_eq!(later.iter().map(|hit| hit.record_id.as_str()).collect::<Vec<_>>(), [plain.report_id.as_str()], "a reporter's later message is searchable");
    assert!(search_hits(store, &world.force.id, "stefan minibus").await.iter().any(|hit| hit.record_id == plain.report_id.as_str()), "the first words stay");
    assert!(search_hits(store, &world.force.id, "zacharias").await.is_empty(), "staff replies are not indexed");

    let grading = two_b_c_glaa_only(&world.glaa.id);
    let (id, _) = store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title: "Nguyễn Văn Nam runs the rota",
            grading: &grading,
            sanitised_text: "Seen at the car wash.",
            source: Some(&SourceDetails { identity: Some("Secret Witness Zebedee".into()), text: None }),
            review_on: None,
            people: &[],
            share_with: &[],
        })
        .await
        .unwrap();
    assert!(search_hits(store, &world.glaa.id, "nguyen").await.is_empty(), "not before it is shared");
    store.share_intelligence(&id, &world.glaa.id, &world.analyst.id).await.unwrap();
    let hits = search_hits(store, &world.glaa.id, "Nguyen").await;
    assert_eq!(hits.iter().map(|hit| hit.record_id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    assert!(search_hits(store, &world.force.id, "zebedee").await.is_empty(), "sealed source identities are never indexed");
    assert!(search_hits(store, &world.charity.id, "nguyen").await.is_empty());
}

/// Reads every byte the database holds for the protected fields, the way
/// someone with a copy of the file or the table would, and finds none of
/// the plaintext.
async fn protected_fields_have_no_plaintext_at_rest(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let mut with_contact = answers("Luton", "Please call me back.", false);
    with_contact.contact = Some(ContactAnswer {
        name: Some("Marguerite Okonkwo-Villanueva".into()),
        phone: Some("07700 900461".into()),
        email: Some("marguerite.ov@example.org".into()),
    });
    submit(store, &with_contact).await;
    let grading = two_b_c_glaa_only(&world.glaa.id);
    store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title: "Car wash",
            grading: &grading,
            sanitised_text: "Workers at a car wash.",
            source: Some(&SourceDetails { identity: Some("Bartholomew Quennell-Ashdown".into()), text: Some("Heard it from Xanthippe Oduya".into()) }),
            review_on: None,
            people: &[],
            share_with: &[],
        })
        .await
        .unwrap();
    let secret = new_totp_secret();
    store.enrol_totp(&world.handler.id, &secret, &totp_code(&secret, 1_800_000_000).unwrap(), 1_800_000_000).await.unwrap();
    let secret_base32 = aidant_store::identity::totp_secret_base32(&secret);
    let secrets = ["Marguerite", "900461", "marguerite.ov", "Bartholomew", "Quennell", "Xanthippe", secret_base32.as_str()];

    let everything = database.raw_contents(&["reports", "intelligence", "users", "search_documents", "audit_log"]).await;
    assert!(everything.windows(8).any(|window| window == b"Car wash"), "the reader sees the unprotected text, so it would see the rest");
    for secret in secrets {
        assert!(!everything.windows(secret.len()).any(|window| window == secret.as_bytes()), "{secret} is stored in clear");
    }
}

/// Key rotation walks the staff workspace's sealed columns too: after it,
/// sources and second factors open under the new key alone.
async fn rotation_covers_intelligence_sources_and_second_factors(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let grading = two_b_c_glaa_only(&world.glaa.id);
    let source = SourceDetails { identity: Some("Ioana Petrescu".into()), text: None };
    let (id, _) = store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title: "Rotation",
            grading: &grading,
            sanitised_text: "Text.",
            source: Some(&source),
            review_on: None,
            people: &[PersonNamed {
                name: aidant_core::text::BoundedText::parse("Ioana Popescu", 200, aidant_core::text::Lines::Single).unwrap(),
                date_of_birth: None,
                nationality: None,
                role: aidant_core::intelligence::PersonRole::PotentialVictim,
            }],
            share_with: &[],
        })
        .await
        .unwrap();
    let secret = new_totp_secret();
    store.enrol_totp(&world.handler.id, &secret, &totp_code(&secret, 1_800_000_000).unwrap(), 1_800_000_000).await.unwrap();
    let new_key = aidant_store::MasterKey::generate();
    let keyring = aidant_store::Keyring::new(new_key.clone(), vec![database.master_key.clone()]);
    let rotating = Store::connect(&database.url, &Default::default(), None).await.unwrap().with_keyring(keyring);
    let summary = rotating.rewrap_sealed_values(&aidant_store::keys::RewrapOptions { batch_size: 10, limit: None }).await.unwrap();
    assert_eq!(summary.rewrapped(), 4, "the source, the person named, the TOTP secret and the entity index key (made with the first record)");
    let only_new = Store::connect(&database.url, &Default::default(), None).await.unwrap().with_keyring(aidant_store::Keyring::new(new_key, Vec::new()));
    assert_eq!(only_new.read_intelligence_source(&id, &AuditActor::Cli, "rotation check").await.unwrap(), Some(source));
    assert!(only_new.verify_totp(&world.handler.id, &totp_code(&secret, 1_800_000_600).unwrap(), 1_800_000_600).await.unwrap());
}

/// Every page of the queue in `order`, walked forwards by key, `limit` rows a
/// page; and the same pages walked back from the last.
async fn walk(store: &Store, organisation: &OrganisationId, filter: &QueueFilter, order: QueueOrder, limit: i64) -> Vec<Vec<ReportId>> {
    let mut pages = Vec::new();
    let mut position = QueuePosition::First;
    let last;
    loop {
        let page = store.triage_queue(organisation, filter, order, &position, limit, None).await.unwrap();
        assert_eq!(page.previous.is_some(), !pages.is_empty(), "only the first page has no previous page");
        pages.push(page.rows.iter().map(|row| row.id.clone()).collect::<Vec<_>>());
        match page.next {
            Some(cursor) => position = QueuePosition::After(cursor),
            None => {
                last = page.previous;
                break;
            }
        }
    }
    // Backwards from the last page: the same pages, in reverse.
    let mut backwards = vec![pages.last().cloned().unwrap()];
    let mut cursor: Option<QueueCursor> = last;
    while let Some(place) = cursor {
        let page = store.triage_queue(organisation, filter, order, &QueuePosition::Before(place), limit, None).await.unwrap();
        assert!(page.next.is_some(), "a page reached backwards has a next page");
        backwards.push(page.rows.iter().map(|row| row.id.clone()).collect());
        cursor = page.previous;
    }
    backwards.reverse();
    assert_eq!(backwards, pages, "walking back gives the same pages");
    pages
}

async fn the_queue_reaches_every_report_by_key_in_each_order_and_date_range(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    const DAY: i64 = 86_400_000;
    let start = 1_790_000_000_000; // 21 September 2026, 09:33 UTC
    let mut reports = Vec::new();
    for index in 0..11_i64 {
        let receipt = submit(store, &answers("Luton", &format!("Report number {index}."), index % 4 == 0)).await;
        // Two reports share each received time, so the id breaks ties.
        reports.push((receipt.report_id, start + (index / 2) * DAY));
    }
    store.set_received_times(&reports).await.unwrap();
    let everything = QueueFilter { status: Some(StatusFilter::All), ..QueueFilter::default() };

    // Urgent: Immediate first (indexes 0, 4, 8), then the rest, oldest first.
    let pages = walk(store, &world.force.id, &everything, QueueOrder::Urgent, 3).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3, 2]);
    let urgent: Vec<ReportId> = pages.concat();
    let position = |id: &ReportId| reports.iter().position(|(report, _)| report == id).unwrap();
    let immediate_first: Vec<usize> = urgent.iter().map(position).collect();
    assert_eq!(&immediate_first[..3], [0, 4, 8]);
    let rest = &immediate_first[3..];
    assert!(rest.windows(2).all(|pair| reports[pair[0]].1 <= reports[pair[1]].1), "then oldest first: {rest:?}");

    // Oldest and newest: every report once, in received order, ties by id.
    let oldest: Vec<ReportId> = walk(store, &world.force.id, &everything, QueueOrder::Oldest, 4).await.concat();
    let mut expected = reports.clone();
    expected.sort_by(|a, b| (a.1, a.0.as_str()).cmp(&(b.1, b.0.as_str())));
    assert_eq!(oldest, expected.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>());
    let newest: Vec<ReportId> = walk(store, &world.force.id, &everything, QueueOrder::Newest, 2).await.concat();
    assert_eq!(newest, expected.iter().rev().map(|(id, _)| id.clone()).collect::<Vec<_>>());

    // A date range: days 1 and 2 (reports 2 to 5).
    let range = QueueFilter { received_from_ms: Some(start + DAY), received_before_ms: Some(start + 3 * DAY), ..everything.clone() };
    let in_range = walk(store, &world.force.id, &range, QueueOrder::Oldest, 3).await.concat();
    assert!(in_range.windows(2).all(|pair| reports[position(&pair[0])].1 <= reports[position(&pair[1])].1), "oldest first within the range");
    let mut days: Vec<usize> = in_range.iter().map(position).collect();
    days.sort_unstable();
    assert_eq!(days, [2, 3, 4, 5]);
    assert_eq!(queue(store, &world.force.id, &range, 50).await.total, 4);

    // A cursor past the end gives an empty last page, not an error.
    let past = QueueCursor { risk_rank: 9, received_at_ms: i64::MAX, id: reports[0].0.clone() };
    let page = store.triage_queue(&world.force.id, &everything, QueueOrder::Oldest, &QueuePosition::After(past), 3, None).await.unwrap();
    assert!(page.rows.is_empty() && page.next.is_none());
}

async fn a_reporter_message_is_unread_until_staff_open_the_report(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let first = submit(store, &answers("Luton", "Workers sleep in the back room.", false)).await;
    let second = submit(store, &answers("Bedford", "A van at night.", false)).await;
    let handler = AuditActor::user(&world.handler.id);

    // Assigning a new report puts it in review; unassigning leaves it there.
    store.assign_report(&first.report_id, Some(&world.handler.id), &handler).await.unwrap();
    assert_eq!(store.triage_state(&first.report_id).await.unwrap().unwrap().status, ReportStatus::InReview);
    store.set_report_status(&second.report_id, ReportStatus::NoFurtherAction, &handler).await.unwrap();
    store.assign_report(&second.report_id, Some(&world.analyst.id), &handler).await.unwrap();
    assert_eq!(store.triage_state(&second.report_id).await.unwrap().unwrap().status, ReportStatus::NoFurtherAction, "only a new report moves on");

    let viewer = Some(&world.handler.id);
    let force = world.force.id.clone();
    let all = QueueFilter { status: Some(StatusFilter::All), ..QueueFilter::default() };
    let first_page = |viewer| {
        let (force, all) = (force.clone(), all.clone());
        async move { store.triage_queue(&force, &all, QueueOrder::Oldest, &QueuePosition::First, 50, viewer).await.unwrap() }
    };
    let page = first_page(viewer).await;
    assert_eq!((page.unread, page.unread_mine), (0, 0));

    store.add_report_message(&first.report_id, Author::Reporter, None, "They moved the workers last night.").await.unwrap();
    store.add_report_message(&first.report_id, Author::Reporter, None, "And took their phones.").await.unwrap();
    store.add_report_message(&second.report_id, Author::Reporter, None, "The van is back.").await.unwrap();
    store.add_report_message(&second.report_id, Author::Staff, Some(&world.handler.id), "Thank you.").await.unwrap();
    let page = first_page(viewer).await;
    assert_eq!((page.unread, page.unread_mine), (2, 1), "a closed report's message counts too; one is the handler's");
    let unread: Vec<(ReportId, i64)> = page.rows.iter().map(|row| (row.id.clone(), row.unread_messages)).collect();
    assert_eq!(unread, [(first.report_id.clone(), 2), (second.report_id.clone(), 1)], "staff replies are not unread messages");
    let only_unread = QueueFilter { status: Some(StatusFilter::All), unread_only: true, ..QueueFilter::default() };
    assert_eq!(queue(store, &world.force.id, &only_unread, 50).await.total, 2);

    store.record_report_view(&first.report_id, &handler).await.unwrap();
    let page = first_page(viewer).await;
    assert_eq!((page.unread, page.unread_mine), (1, 0), "opening the report reads its messages");
    assert_eq!(
        queue(store, &world.force.id, &only_unread, 50).await.rows.iter().map(|row| row.id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&second.report_id)
    );
    assert_eq!(first_page(Some(&world.analyst.id)).await.unread_mine, 1, "the other report is the analyst's");
}

/// PostgreSQL counts a search partly by reading documents newest first and
/// partly through its index, depending on how densely the newest page
/// matches; the count must not depend on where one stops and the other
/// starts.
async fn a_search_count_is_the_same_however_much_is_read_document_by_document(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    // Oldest first: 120 reports of which every sixth holds the word, then
    // 60 that all do, so the newest page is dense and what lies below it
    // is not.
    let mut matching = 0;
    for index in 0..120 {
        let narrative = if index % 6 == 0 { "The kettle is broken." } else { "The van is back." };
        matching += i64::from(index % 6 == 0);
        submit(store, &answers("Luton", narrative, false)).await;
    }
    for _ in 0..60 {
        submit(store, &answers("Luton", "The kettle is broken.", false)).await;
        matching += 1;
    }
    let everything = SearchScope { own_reports: true, own_intelligence: true, shared_intelligence: true, hidden: Vec::new() };
    for cap in [10, 49, 50, 60, 79, 80, 100] {
        for walk in [1, 4, 40, 100, 1_000_000] {
            let count = store.search_count_walking(&world.force.id, "kettle", &everything, cap, walk).await.unwrap();
            assert_eq!(count, matching.min(cap + 1), "a cap of {cap}, reading at most {walk} documents in turn");
        }
    }
    let (_, first_page_count) = store.search_first_page(&world.force.id, "kettle", &everything, 50, 1_000).await.unwrap();
    assert_eq!(first_page_count, matching);
}

async fn search_pages_by_key_and_counts_what_the_scope_allows(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let mut ids = Vec::new();
    for index in 0..7 {
        ids.push(submit(store, &answers("Luton", &format!("The kettle number {index} is broken."), false)).await.report_id);
    }
    let everything = SearchScope { own_reports: true, own_intelligence: true, shared_intelligence: true, hidden: Vec::new() };
    // Newest first, three at a time, through every result and back.
    let mut seen = Vec::new();
    let mut position = SearchPosition::First;
    let mut pages = Vec::new();
    loop {
        let page = store.search_page(&world.force.id, "kettle", &everything, position, 3).await.unwrap();
        assert_eq!(page.newer.is_some(), !pages.is_empty());
        seen.extend(page.hits.iter().map(|hit| hit.record_id.clone()));
        pages.push(page.clone());
        match page.older {
            Some(place) => position = SearchPosition::Older(place),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().map(|id| id.to_string()).collect();
    assert_eq!(seen, newest_first);
    let back = store.search_page(&world.force.id, "kettle", &everything, SearchPosition::Newer(pages[2].newer.unwrap()), 3).await.unwrap();
    assert_eq!(back.hits, pages[1].hits, "the previous page again");
    assert_eq!(store.search_count(&world.force.id, "kettle", &everything, 100).await.unwrap(), 7);
    assert_eq!(store.search_count(&world.force.id, "kettle", &everything, 5).await.unwrap(), 6, "counting stops one past the cap");
    // The first page and its count read together are the same page and count.
    assert_eq!(store.search_first_page(&world.force.id, "kettle", &everything, 3, 100).await.unwrap(), (pages[0].clone(), 7));
    assert_eq!(store.search_first_page(&world.force.id, "kettle", &everything, 3, 5).await.unwrap(), (pages[0].clone(), 6));
    let (all, count) = store.search_first_page(&world.force.id, "kettle", &everything, 10, 100).await.unwrap();
    assert_eq!((all.hits.len(), all.older, count), (7, None, 7), "everything on one page has no older page");
    let (all, count) = store.search_first_page(&world.force.id, "kettle", &everything, 10, 5).await.unwrap();
    assert_eq!((all.hits.len(), count), (7, 6), "a page longer than the cap still counts to one past it");

    // A scope without reports finds none of them; intelligence the policy
    // refuses (listed as hidden) is neither counted nor shown.
    let no_reports = SearchScope { own_reports: false, ..everything.clone() };
    assert_eq!(store.search_count(&world.force.id, "kettle", &no_reports, 100).await.unwrap(), 0);
    let grading = two_b_c_glaa_only(&world.glaa.id);
    let mut shared = Vec::new();
    for title in ["Kettle supplier one", "Kettle supplier two"] {
        let insert = IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &world.force.id,
            created_by: &world.analyst.id,
            title,
            grading: &grading,
            sanitised_text: "Seen at the car wash.",
            source: None,
            review_on: None,
            people: &[],
            share_with: &[],
        };
        let (id, _) = store.create_intelligence(&insert).await.unwrap();
        store.share_intelligence(&id, &world.glaa.id, &world.analyst.id).await.unwrap();
        shared.push(id);
    }
    assert_eq!(store.search_count(&world.glaa.id, "kettle", &everything, 100).await.unwrap(), 2, "shared records only, not the force's reports");
    // Reports and intelligence are indexed apart and merged newest first:
    // the force's own records page through both kinds in one order.
    let mut merged = Vec::new();
    let mut position = SearchPosition::First;
    loop {
        let page = store.search_page(&world.force.id, "kettle", &everything, position, 4).await.unwrap();
        merged.extend(page.hits.iter().map(|hit| (hit.record_kind.clone(), hit.record_id.clone())));
        match page.older {
            Some(place) => position = SearchPosition::Older(place),
            None => break,
        }
    }
    let mut expected: Vec<(String, String)> = shared.iter().rev().map(|id| ("intelligence".to_owned(), id.to_string())).collect();
    expected.extend(newest_first.iter().map(|id| ("report".to_owned(), id.clone())));
    assert_eq!(merged, expected);
    assert_eq!(store.search_count(&world.force.id, "kettle", &everything, 100).await.unwrap(), 9);
    assert_eq!(store.search_count(&world.force.id, "kettle", &no_reports, 100).await.unwrap(), 2, "its intelligence without its reports");
    assert_eq!(store.search_count(&world.force.id, "supplier", &everything, 100).await.unwrap(), 2, "intelligence found by a word only it holds");
    let hiding_one = SearchScope { hidden: vec![shared[0].to_string()], ..everything.clone() };
    assert_eq!(store.search_count(&world.glaa.id, "kettle", &hiding_one, 100).await.unwrap(), 1);
    let page = store.search_page(&world.glaa.id, "kettle", &hiding_one, SearchPosition::First, 10).await.unwrap();
    assert_eq!(page.hits.iter().map(|hit| hit.record_id.clone()).collect::<Vec<_>>(), [shared[1].to_string()]);
    assert_eq!(store.shared_with_conditions(&world.glaa.id).await.unwrap().len(), 2, "both carry conditions naming the GLAA");
}

async fn intelligence_shared_as_it_is_made_passes_the_share_checks_or_is_not_made(database: TestDatabase) {
    use aidant_core::intelligence::{NewIntelligence, SourceAccount};
    use aidant_core::text::{BoundedText, Lines};
    use aidant_store::cases::{Caller, CaseError, intelligence::create_intelligence};
    let store = &database.store;
    let world = world(store).await;
    let new = NewIntelligence {
        title: BoundedText::parse("Rota at the car wash", 200, Lines::Single).unwrap(),
        grading: two_b_c_glaa_only(&world.glaa.id),
        sanitised_text: BoundedText::parse("The manager keeps a rota.", 2000, Lines::Multiple).unwrap(),
        source: SourceAccount::default(),
        review_on: None,
        people: Vec::new(),
    };
    let caller = |user: &User| Caller::new(&user.id, actor(user));
    let held = || async { store.intelligence_candidates(&world.force.id, 100).await.unwrap().len() };

    // Outside the conditions: refused, and nothing is written.
    let refused = create_intelligence(store, &caller(&world.analyst), None, &new, std::slice::from_ref(&world.charity.id)).await;
    assert!(matches!(&refused, Err(CaseError::Invalid(errors)) if errors[0].field == "share_with" && errors[0].message.contains("Safe Haven")), "{refused:?}");
    // A call handler may write intelligence but not share it.
    let refused = create_intelligence(store, &caller(&world.handler), None, &new, std::slice::from_ref(&world.glaa.id)).await;
    assert!(matches!(&refused, Err(CaseError::Invalid(errors)) if errors[0].field == "share_with"), "{refused:?}");
    assert_eq!(held().await, 0, "no half-made record");

    let (id, _) = create_intelligence(store, &caller(&world.analyst), None, &new, std::slice::from_ref(&world.glaa.id)).await.unwrap();
    let record = store.find_intelligence(&id).await.unwrap().unwrap();
    assert_eq!(record.shared_with.iter().map(|share| share.organisation_id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&world.glaa.id));
    assert!(may(&actor(&world.glaa_user), Action::ViewIntelligence, &record.access(), 0).is_allowed(), "the GLAA can read it at once");
    let history: Vec<String> = store.audit_history("intelligence", id.as_str()).await.unwrap().into_iter().map(|entry| entry.entry.action).collect();
    assert_eq!(history, ["intelligence.create", "intelligence.share"]);
    let (unshared, _) = create_intelligence(store, &caller(&world.handler), None, &new, &[]).await.unwrap();
    assert!(store.find_intelligence(&unshared).await.unwrap().unwrap().shared_with.is_empty());
}

/// Someone who knows only an email address cannot lock its owner out when
/// the owner has a second factor: the right password still leads to the
/// code, which ends the pause; the password alone does not.
async fn a_paused_account_opens_with_the_password_and_a_code(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    store.set_password(&world.handler.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    let secret = new_totp_secret();
    let now = 1_800_000_000;
    assert!(store.enrol_totp(&world.handler.id, &secret, &totp_code(&secret, now).unwrap(), now).await.unwrap());
    let policy = SignInPolicy { max_failures: 2, lockout: Duration::from_secs(600), ..SignInPolicy::default() };
    for _ in 0..2 {
        store.check_password("handler@force.example", "guess", &policy).await.unwrap();
    }
    let paused = store.check_password("handler@force.example", "another guess", &policy).await.unwrap();
    assert!(matches!(paused, SignInOutcome::Locked { .. }), "wrong passwords stay refused: {paused:?}");
    let owner = store.check_password("handler@force.example", PASSWORD, &policy).await.unwrap();
    assert!(matches!(owner, SignInOutcome::Accepted { needs_second_factor: true, .. }), "the owner goes on to the code: {owner:?}");
    let still_paused: Option<i64> =
        sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1").bind(world.handler.id.as_str()).fetch_one(store.pool()).await.unwrap();
    assert!(still_paused.is_some(), "the password alone does not end the pause");
    assert!(store.verify_totp(&world.handler.id, &totp_code(&secret, now + 60).unwrap(), now + 60).await.unwrap());
    let ended: Option<i64> =
        sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1").bind(world.handler.id.as_str()).fetch_one(store.pool()).await.unwrap();
    assert_eq!(ended, None, "the code ends it");
    // Without a second factor, the pause holds even for the right password.
    store.set_password(&world.analyst.id, PASSWORD, &AuditActor::Cli).await.unwrap();
    for _ in 0..2 {
        store.check_password("analyst@force.example", "guess", &policy).await.unwrap();
    }
    assert!(matches!(store.check_password("analyst@force.example", PASSWORD, &policy).await.unwrap(), SignInOutcome::Locked { .. }));
}

/// Past a thousand matching reports the queue says "more than" instead
/// of counting on, and every report can still be reached page by page.
async fn the_queue_counts_to_a_thousand_and_reaches_every_report(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let writer = aidant_store::report_writer::ReportWriter::spawn(store.clone(), Default::default());
    let catalogue = aidant_store::testing::catalogue();
    let report = aidant_core::NewReport::parse(&answers("Luton", "Seen from the bus stop.", false), &catalogue).unwrap();
    let triage = report.triage(&catalogue);
    let written = aidant_store::triage::COUNT_CAP as usize + 1;
    let submissions: Vec<_> = (0..written)
        .map(|_| {
            writer.submit(aidant_store::report_writer::OwnedSubmission {
                report: report.clone(),
                triage: triage.clone(),
                catalogue_version: catalogue.version.clone(),
                submission_token: None,
                passphrase_hash: None,
            })
        })
        .collect();
    for submission in submissions {
        submission.await.unwrap();
    }
    writer.close().await;
    let first = queue(store, &world.force.id, &QueueFilter::default(), 200).await;
    assert_eq!((first.total, first.total_is_capped), (aidant_store::triage::COUNT_CAP, true), "counted to the cap, and said so");
    let mut seen = first.rows.len();
    let mut page = first;
    while let Some(cursor) = page.next.clone() {
        page = store.triage_queue(&world.force.id, &QueueFilter::default(), QueueOrder::Urgent, &QueuePosition::After(cursor), 200, None).await.unwrap();
        seen += page.rows.len();
    }
    assert_eq!(seen, written, "every report reached");
    let narrowed = QueueFilter { sector: Some("car_wash".into()), ..QueueFilter::default() };
    let none = queue(store, &world.force.id, &narrowed, 50).await;
    assert_eq!((none.total, none.total_is_capped), (0, false), "a filter below the cap is counted exactly");
}

aidant_store::backend_tests!(
    a_paused_account_opens_with_the_password_and_a_code,
    intelligence_shared_as_it_is_made_passes_the_share_checks_or_is_not_made,
    the_queue_reaches_every_report_by_key_in_each_order_and_date_range,
    a_reporter_message_is_unread_until_staff_open_the_report,
    search_pages_by_key_and_counts_what_the_scope_allows,
    a_search_count_is_the_same_however_much_is_read_document_by_document,
    rotation_covers_intelligence_sources_and_second_factors,
    passwords_lock_after_repeated_failures,
    sessions_end_at_sign_out_timeout_and_disable,
    api_tokens_are_hashed_and_revocable,
    second_factor_codes_work_once,
    the_queue_puts_immediate_first_and_filters,
    reports_arriving_before_a_receiving_force_are_claimed,
    intelligence_is_graded_shared_and_audited,
    legacy_gradings_are_kept_as_given,
    search_folds_diacritics_and_respects_organisations,
    protected_fields_have_no_plaintext_at_rest,
    the_queue_counts_to_a_thousand_and_reaches_every_report,
);
