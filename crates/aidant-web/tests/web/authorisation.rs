//! Every route has an authorisation test. The list of routes comes from the
//! router itself (`route_book`); a route without a row in the table below
//! fails the test. Each row says who may use the route; the test then sends
//! the request anonymously, as a user of every role in the owning force,
//! and as users of a partner organisation and a charity, and checks each
//! answer. Runs on SQLite and PostgreSQL.

use aidant_core::audit::AuditActor;
use std::collections::{BTreeMap, BTreeSet};

use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::report::{ContactAnswer, ReportAnswers};
use aidant_store::Store;
use aidant_store::identity::SignInPolicy;
use aidant_store::intelligence::{IntelligenceInsert, SourceDetails};
use aidant_store::testing::TestDatabase;
use aidant_web::{WebSettings, route_book};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Who may use a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone, signed in or not: the public site, health checks, assets.
    Public,
    /// Part of signing in or out: reachable without a session.
    SignIn,
    /// Signed-in users of the owning force with one of these roles. On
    /// record routes, partner organisations are refused unless
    /// `shared_reader` (the intelligence was shared with the GLAA).
    Staff { roles: &'static [Role], shared_reader: bool },
    /// The queue: its roles see it; partners and administrators are sent to
    /// what they can use.
    Queue,
    /// A support referral: these roles of the owning force, and the charity
    /// the person was referred to; nobody else.
    Referred { roles: &'static [Role] },
    /// An operation's team: these roles of the leading force (the team's
    /// officer among them), and the GLAA partner, who is in the team; not
    /// the charity.
    Member { roles: &'static [Role] },
}

use Role::*;

const QUEUE_ROLES: &[Role] = &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead];
const SEARCH_ROLES: &[Role] = &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead, Partner];
const EVERYONE: &[Role] = Role::ALL;
const CHART_ROLES: &[Role] = &[Analyst, Officer, Supervisor, SafeguardingLead, Partner];
const NETWORK_ROLES: &[Role] = &[Analyst, Supervisor, Partner];
const SAFEGUARDING_ROLES: &[Role] = &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead];
/// A saved chart or analysis that does not exist: every role that may open
/// one is told "not found", every other is refused.
const NO_SUCH_SAVED: &str = "0190f1c2-0000-7000-8000-00000000dead";

fn staff(roles: &'static [Role]) -> Rule {
    Rule::Staff { roles, shared_reader: false }
}

/// The table: one row per method and route.
fn rules() -> BTreeMap<(&'static str, &'static str), Rule> {
    let public_get = [
        "/healthz",
        "/readyz",
        "/assets/{name}",
        "/api/v1/indicators",
        "/api/docs",
        "/api/docs/{*rest}",
        "/api/openapi.json",
        "/",
        "/get-help",
        "/safety",
        "/cookies",
        "/feedback",
        "/signs",
        "/signs/{sector}",
        "/exploitation",
        "/exploitation/{kind}",
        "/exit",
        "/report/call-999",
        "/report/done",
        "/report/{step}",
        "/follow-up",
        "/follow-up/report",
        "/favicon.ico",
    ];
    let public_post = [
        "/api/v1/reports",
        "/cookies/hide",
        "/feedback",
        "/exit/discard",
        "/report/start",
        "/report/{step}",
        "/follow-up",
        "/follow-up/report",
        "/follow-up/sign-out",
    ];
    let mut rules = BTreeMap::new();
    for path in public_get {
        rules.insert(("GET", path), Rule::Public);
    }
    for path in public_post {
        rules.insert(("POST", path), Rule::Public);
    }
    for (method, path) in [
        ("GET", "/staff/sign-in"),
        ("POST", "/staff/sign-in"),
        ("GET", "/staff/sign-in/code"),
        ("POST", "/staff/sign-in/code"),
        ("GET", "/staff/sign-in/enrol"),
        ("POST", "/staff/sign-in/enrol"),
        ("GET", "/staff/sign-in/sso/{provider}"),
        ("GET", "/staff/sign-in/sso/{provider}/callback"),
        ("POST", "/staff/sign-out"),
    ] {
        rules.insert((method, path), Rule::SignIn);
    }
    rules.insert(("GET", "/staff"), Rule::Queue);
    rules.insert(("GET", "/staff/reports/{id}"), staff(QUEUE_ROLES));
    rules.insert(("POST", "/staff/reports/{id}/assign"), staff(&[CallHandler, Supervisor]));
    rules.insert(("POST", "/staff/reports/{id}/status"), staff(&[CallHandler, Supervisor]));
    rules.insert(("POST", "/staff/reports/{id}/reply"), staff(&[CallHandler, Supervisor]));
    rules.insert(("POST", "/staff/reports/{id}/people"), staff(&[CallHandler, Analyst, Supervisor]));
    rules.insert(("POST", "/staff/reports/{id}/contact"), staff(&[CallHandler, Supervisor, SafeguardingLead]));
    rules.insert(("GET", "/staff/intelligence"), staff(SEARCH_ROLES));
    rules.insert(("GET", "/staff/intelligence/new"), staff(&[CallHandler, Analyst, Supervisor]));
    rules.insert(("POST", "/staff/intelligence/new"), staff(&[CallHandler, Analyst, Supervisor]));
    rules.insert(("GET", "/staff/intelligence/{id}"), Rule::Staff { roles: QUEUE_ROLES, shared_reader: true });
    rules.insert(("POST", "/staff/intelligence/{id}/share"), staff(&[Analyst, Supervisor]));
    rules.insert(("POST", "/staff/intelligence/{id}/source"), staff(&[Analyst, Supervisor]));
    rules.insert(("GET", "/staff/search"), staff(SEARCH_ROLES));
    // Seen through the intelligence shared with the GLAA; to anyone who may
    // read no record that mentions it, it does not exist (404, checked below).
    rules.insert(("GET", "/staff/entities/{id}"), Rule::Staff { roles: SEARCH_ROLES, shared_reader: true });
    rules.insert(("POST", "/staff/entities/{id}/watch"), Rule::Staff { roles: SEARCH_ROLES, shared_reader: true });
    rules.insert(("GET", "/staff/entities/{id}/with/{other}"), Rule::Staff { roles: SEARCH_ROLES, shared_reader: true });
    rules.insert(("POST", "/staff/entities/{id}/decisions"), staff(&[Analyst, Supervisor]));
    rules.insert(("POST", "/staff/entities/{id}/decisions/{decision}/undo"), staff(&[Supervisor]));
    rules.insert(("GET", "/staff/watching"), staff(SEARCH_ROLES));
    rules.insert(("GET", "/staff/audit/{kind}/{id}"), staff(&[Supervisor]));
    rules.insert(("GET", "/staff/audit/users/{id}"), staff(&[Supervisor]));
    rules.insert(("GET", "/staff/admin/users"), staff(&[Administrator]));
    rules.insert(("POST", "/staff/admin/users"), staff(&[Administrator]));
    rules.insert(("POST", "/staff/admin/users/{id}/{action}"), staff(&[Administrator]));
    rules.insert(("POST", "/staff/admin/second-factor"), staff(&[Administrator]));
    rules.insert(("POST", "/staff/admin/entity-jobs/retry"), staff(&[Administrator]));
    rules.insert(("GET", "/staff/profile"), staff(EVERYONE));
    rules.insert(("GET", "/staff/profile/password"), staff(EVERYONE));
    rules.insert(("POST", "/staff/profile/password"), staff(EVERYONE));
    rules.insert(("POST", "/staff/profile/tokens"), staff(EVERYONE));
    rules.insert(("POST", "/staff/profile/tokens/{id}/revoke"), staff(EVERYONE));
    rules.insert(("GET", "/api/v1/staff/reports"), staff(QUEUE_ROLES));
    rules.insert(("GET", "/api/v1/staff/reports/{id}"), staff(QUEUE_ROLES));
    rules.insert(("GET", "/api/v1/staff/intelligence/{id}"), Rule::Staff { roles: QUEUE_ROLES, shared_reader: true });
    rules.insert(("GET", "/api/v1/staff/search"), staff(SEARCH_ROLES));
    for (method, path) in [
        ("GET", "/staff/charts"),
        ("POST", "/staff/charts"),
        ("GET", "/staff/charts/new"),
        ("POST", "/staff/charts/export"),
        ("GET", "/staff/charts/{id}"),
        ("POST", "/staff/charts/{id}"),
        ("POST", "/staff/charts/{id}/delete"),
        ("POST", "/api/v1/staff/charts/data"),
        ("POST", "/api/v1/staff/charts/export-audit"),
    ] {
        rules.insert((method, path), staff(CHART_ROLES));
    }
    rules.insert(("GET", "/staff/networks"), staff(NETWORK_ROLES));
    rules.insert(("POST", "/staff/networks/analyses"), staff(NETWORK_ROLES));
    rules.insert(("GET", "/staff/networks/analyses/{id}"), staff(NETWORK_ROLES));
    // A person's role: the phone the GLAA may see is no person (a field
    // error); to the charity, which may see no record naming it, it does not exist.
    rules.insert(("POST", "/staff/networks/roles/{entity}"), Rule::Staff { roles: NETWORK_ROLES, shared_reader: true });
    rules.insert(("GET", "/staff/packages/new"), staff(&[Analyst, Supervisor]));
    rules.insert(("POST", "/staff/packages"), staff(&[Analyst, Supervisor]));
    rules.insert(("GET", "/staff/disclosures"), staff(&[Supervisor]));
    for (method, path) in [("GET", "/staff/victims"), ("GET", "/staff/victims/new"), ("POST", "/staff/victims/new"), ("GET", "/staff/victims/{id}")] {
        rules.insert((method, path), staff(SAFEGUARDING_ROLES));
    }
    // The case was opened by a safeguarding lead and has no officer in the
    // case, so only safeguarding leads may open who the person is or change it.
    for (method, path) in [
        ("POST", "/staff/victims/{id}/identity"),
        ("POST", "/staff/victims/{id}/decisions"),
        ("POST", "/staff/victims/{id}/officer"),
        ("POST", "/staff/victims/{id}/support"),
        ("POST", "/staff/victims/{id}/links"),
        ("GET", "/staff/victims/{id}/referral"),
        ("POST", "/staff/victims/{id}/referral/complete"),
        ("GET", "/staff/victims/{id}/referral/print"),
        ("GET", "/staff/victims/{id}/referral/download"),
        ("GET", "/staff/victims/{id}/referral/{page}"),
        ("POST", "/staff/victims/{id}/referral/{page}"),
    ] {
        rules.insert((method, path), staff(&[SafeguardingLead]));
    }
    // The world's case was opened today, so it is not yet due: a supervisor
    // is told when it will be; everyone else is refused.
    for (method, path) in [("GET", "/staff/retention"), ("GET", "/staff/retention/{kind}/{id}"), ("POST", "/staff/retention/{kind}/{id}")] {
        rules.insert((method, path), staff(&[Supervisor]));
    }
    // Dashboards count what each viewer may see: every role but the administrator.
    rules.insert(("GET", "/staff/insight"), staff(SEARCH_ROLES));
    rules.insert(("GET", "/staff/insight/csv/{chart}"), staff(SEARCH_ROLES));
    rules.insert(("GET", "/staff/insight/map"), staff(SEARCH_ROLES));
    rules.insert(("GET", "/staff/insight/map/csv"), staff(SEARCH_ROLES));
    rules.insert(("GET", "/staff/victims/statistics"), staff(&[Analyst, Supervisor, SafeguardingLead, Partner]));
    rules.insert(("GET", "/staff/victims/statistics/csv"), staff(&[Analyst, Supervisor, SafeguardingLead, Partner]));
    rules.insert(("GET", "/staff/victims/statistics/ods"), staff(&[Analyst, Supervisor, SafeguardingLead, Partner]));
    rules.insert(("POST", "/staff/victims/statistics/publish"), staff(&[Supervisor, SafeguardingLead]));
    rules.insert(("GET", "/staff/support"), staff(&[Partner, SafeguardingLead, Supervisor]));
    rules.insert(("GET", "/staff/support/{id}"), Rule::Referred { roles: &[SafeguardingLead] });
    rules.insert(("POST", "/staff/support/{id}/record"), Rule::Referred { roles: &[] });
    // Operations: the world's is led by the force; its team has the
    // force's officer and the GLAA's partner.
    const OPERATION_ROLES: &[Role] = &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead, Partner];
    const LEADS: &[Role] = &[Analyst, Supervisor];
    rules.insert(("GET", "/staff/operations"), staff(OPERATION_ROLES));
    rules.insert(("GET", "/api/v1/staff/field"), staff(OPERATION_ROLES));
    for (method, path) in [
        ("GET", "/staff/operations/new"),
        ("POST", "/staff/operations/new"),
        ("POST", "/staff/operations/{id}/sites"),
        ("POST", "/staff/operations/{id}/teams"),
        ("GET", "/staff/operations/{id}/board"),
        ("GET", "/staff/operations/{id}/debrief"),
        ("POST", "/staff/operations/{id}/debrief"),
        ("GET", "/api/v1/staff/operations/{id}/board"),
    ] {
        rules.insert((method, path), staff(LEADS));
    }
    rules.insert(("GET", "/staff/operations/{id}"), staff(&[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead]));
    rules.insert(("GET", "/staff/operations/{id}/teams/{team}"), Rule::Member { roles: &[Analyst, Officer, Supervisor] });
    rules.insert(("POST", "/api/v1/staff/operations/{id}/teams/{team}/records"), Rule::Member { roles: &[Officer] });
    for path in ["/field", "/field/", "/field/sw.js", "/field/manifest.webmanifest", "/field/icon.svg"] {
        rules.insert(("GET", path), Rule::Public);
    }
    rules.insert(("POST", "/staff/profile/sessions/{id}/end"), staff(EVERYONE));
    rules
}

/// A signed-in user: cookie, CSRF token and API token.
struct Person {
    user_id: aidant_core::ids::UserId,
    label: String,
    role: Role,
    cookie: String,
    csrf: String,
    token: String,
}

struct World {
    report_id: String,
    /// A potential victim's case, opened by the force's safeguarding lead.
    victim_id: String,
    /// Its referral to the charity for support.
    support_id: String,
    intelligence_id: String,
    /// A phone the intelligence mentions.
    entity_id: String,
    target_user_id: String,
    /// An operation the force leads, and its team.
    operation_id: String,
    team_id: String,
    force: Vec<Person>,
    glaa_partner: Person,
    charity_partner: Person,
}

async fn person(store: &Store, organisation_id: &aidant_core::ids::OrganisationId, email: &str, role: Role) -> Person {
    let user = store.create_user(organisation_id, email, &format!("Test {}", role.label()), &[role]).await.unwrap();
    let cookie = store.create_session(&user.id, true).await.unwrap();
    let csrf = store.find_session(&cookie, &SignInPolicy::default()).await.unwrap().unwrap().csrf_token;
    let token = store.create_api_token(&user.id, "test").await.unwrap();
    Person { user_id: user.id, label: email.to_owned(), role, cookie, csrf, token }
}

async fn world(store: &Store) -> World {
    let force = store.create_organisation("Force", OrganisationKind::PoliceForce).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    let charity = store.create_organisation("Charity", OrganisationKind::Charity).await.unwrap();
    store.set_receiving_organisation(&force.id, &AuditActor::Cli).await.unwrap();
    let answers = ReportAnswers {
        sector: Some("car_wash".into()),
        town: Some("Luton".into()),
        narrative: Some("Workers sleep at the car wash.".into()),
        contact: Some(ContactAnswer { name: None, phone: Some("07700 900123".into()), email: None }),
        ..ReportAnswers::default()
    };
    let receipt = aidant_store::testing::submit_report(store, &answers, None).await;
    let author = store.create_user(&force.id, "author@force.example", "Author", &[Analyst]).await.unwrap();
    let target = store.create_user(&force.id, "target@force.example", "Target", &[Officer]).await.unwrap();
    let grading = parse_grading(&GradingAnswers {
        scheme: "3x5x2",
        source: "2",
        intelligence: "B",
        handling: "C",
        conditions_text: "GLAA only",
        recipient_organisations: vec![glaa.id.clone()],
        ..GradingAnswers::default()
    })
    .unwrap();
    let (intelligence_id, _) = store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &force.id,
            created_by: &author.id,
            title: "Car wash",
            grading: &grading,
            sanitised_text: "Workers at a car wash; the manager uses 07700 900777.",
            source: Some(&SourceDetails { identity: Some("A source".into()), text: None }),
            review_on: None,
            people: &[],
            share_with: &[],
        })
        .await
        .unwrap();
    store.share_intelligence(&intelligence_id, &glaa.id, &author.id).await.unwrap();
    while store.work_entity_jobs(64).await.unwrap().total() > 0 {}
    let entity_id = store.find_entity(aidant_store::entities::ValueKind::Phone, "+447700900777").await.unwrap().expect("the worker found the phone");
    let mut people = Vec::new();
    for role in Role::ALL {
        people.push(person(store, &force.id, &format!("{}@force.example", role.as_str()), *role).await);
    }
    let lead = store.create_user(&force.id, "lead@force.example", "Lead", &[SafeguardingLead]).await.unwrap();
    let lead = aidant_store::cases::Caller::new(&lead.id, aidant_core::policy::Actor { organisation_id: force.id.clone(), roles: [SafeguardingLead].into() });
    let case = aidant_core::safeguarding::case::NewCase::parse(
        &aidant_core::safeguarding::case::CaseAnswers { age: "adult", name: "Ana", ..Default::default() },
        aidant_store::cases::victims::today(),
    )
    .unwrap();
    let (victim_id, _) = aidant_store::cases::victims::open_case(store, &lead, &case, None).await.unwrap();
    let support_id = aidant_store::cases::victims::refer_to_support(store, &lead, &victim_id, Some(&charity.id), &[]).await.unwrap();
    let glaa_partner = person(store, &glaa.id, "partner@glaa.example", Partner).await;
    let supervisor = people.iter().find(|person| person.role == Supervisor).unwrap();
    let planner =
        aidant_store::cases::Caller::new(&supervisor.user_id, aidant_core::policy::Actor { organisation_id: force.id.clone(), roles: [Supervisor].into() });
    let today = aidant_store::cases::victims::today();
    let plan = aidant_core::operations::NewOperation { name: "Operation Test".into(), starts_on: today, ends_on: today };
    let operation_id = aidant_store::cases::operations::plan_operation(store, &planner, &plan, std::slice::from_ref(&glaa.id)).await.unwrap();
    let officer = people.iter().find(|person| person.role == Officer).unwrap();
    let team_id =
        aidant_store::cases::operations::add_team(store, &planner, &operation_id, "Visits", "", &[], &[officer.user_id.clone(), glaa_partner.user_id.clone()])
            .await
            .unwrap();
    World {
        operation_id: operation_id.to_string(),
        team_id: team_id.to_string(),
        report_id: receipt.report_id.to_string(),
        victim_id: victim_id.to_string(),
        support_id: support_id.to_string(),
        intelligence_id: intelligence_id.to_string(),
        entity_id: entity_id.to_string(),
        target_user_id: target.id.to_string(),
        force: people,
        glaa_partner,
        charity_partner: person(store, &charity.id, "partner@charity.example", Partner).await,
    }
}

/// The concrete address for a route template.
fn concrete(path: &str, world: &World) -> String {
    let intelligence = path.starts_with("/staff/intelligence") || path.starts_with("/api/v1/staff/intelligence");
    path.replace("/staff/audit/users/{id}", &format!("/staff/audit/users/{}", world.target_user_id))
        .replace("/staff/audit/{kind}/{id}", &format!("/staff/audit/report/{}", world.report_id))
        .replace("/staff/admin/users/{id}/{action}", &format!("/staff/admin/users/{}/enable", world.target_user_id))
        .replace("/staff/profile/tokens/{id}/revoke", "/staff/profile/tokens/no-such-token/revoke")
        .replace("/staff/entities/{id}", &format!("/staff/entities/{}", world.entity_id))
        .replace("/staff/charts/{id}", &format!("/staff/charts/{NO_SUCH_SAVED}"))
        .replace("/staff/networks/analyses/{id}", &format!("/staff/networks/analyses/{NO_SUCH_SAVED}"))
        .replace("/staff/victims/{id}", &format!("/staff/victims/{}", world.victim_id))
        .replace("/staff/retention/{kind}/{id}", &format!("/staff/retention/victim-cases/{}", world.victim_id))
        .replace("/staff/support/{id}", &format!("/staff/support/{}", world.support_id))
        .replace("/staff/operations/{id}", &format!("/staff/operations/{}", world.operation_id))
        .replace("{team}", &world.team_id)
        .replace("/staff/profile/sessions/{id}/end", "/staff/profile/sessions/0000000000000000/end")
        .replace("{page}", "background")
        .replace("{entity}", &world.entity_id)
        .replace("{decision}", "no-such-decision")
        .replace("{other}", &world.entity_id)
        .replace("{id}", if intelligence { &world.intelligence_id } else { &world.report_id })
        .replace("{name}", "aidant.css")
        .replace("{*rest}", "index.html")
        .replace("{sector}", "nail_bar")
        .replace("{kind}", "labour")
        .replace("{step}", "place")
        .replace("{provider}", "no-such-provider")
        .replace("{chart}", "risk")
}

#[derive(Clone, Copy)]
enum Who<'a> {
    Anonymous,
    Session(&'a Person),
    Token(&'a Person),
}

async fn send(app: &axum::Router, method: &str, path: &str, who: Who<'_>, with_csrf: bool) -> (StatusCode, String) {
    let mut builder = Request::builder().method(method).uri(path);
    let mut body = String::new();
    match who {
        Who::Anonymous => {}
        Who::Session(person) => {
            builder = builder.header(header::COOKIE, format!("__Host-aidant_session={}", person.cookie));
            if with_csrf {
                body = format!("csrf_token={}", person.csrf);
            }
        }
        Who::Token(person) => builder = builder.header(header::AUTHORIZATION, format!("Bearer {}", person.token)),
    }
    if path == "/staff/admin/second-factor" {
        body.push_str("&required=no");
    }
    if method == "POST" {
        builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let response = app.clone().oneshot(builder.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let location = response.headers().get(header::LOCATION).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let _ = response.into_body().collect().await;
    (status, location)
}

fn is_sign_in_redirect(status: StatusCode, location: &str) -> bool {
    status == StatusCode::SEE_OTHER && location == "/staff/sign-in"
}

fn allowed(status: StatusCode, location: &str) -> bool {
    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED && !is_sign_in_redirect(status, location) && !status.is_server_error()
}

async fn every_route_has_an_authorisation_test(database: TestDatabase) {
    let store = database.store.clone();
    let world = world(&store).await;
    let settings = WebSettings {
        rate_limit: aidant_web::rate_limit::RateLimit { per_minute: 0, burst: 0 },
        sign_in_rate_limit: aidant_web::rate_limit::RateLimit { per_minute: 0, burst: 0 },
        ..WebSettings::default()
    };
    let app = crate::helpers::app_with(&store, settings);
    let rules = rules();
    let book = route_book();

    let mut missing = Vec::new();
    let mut served: BTreeSet<(&str, &str)> = BTreeSet::new();
    for entry in &book {
        for method in entry.methods {
            served.insert((method, entry.path));
            if !rules.contains_key(&(*method, entry.path)) {
                missing.push(format!("{method} {}", entry.path));
            }
        }
    }
    assert!(missing.is_empty(), "routes without an authorisation test: {missing:?}");
    let stale: Vec<_> = rules.keys().filter(|key| !served.contains(*key)).collect();
    assert!(stale.is_empty(), "rows for routes that no longer exist: {stale:?}");

    for entry in &book {
        let path = concrete(entry.path, &world);
        // The declared methods are the whole truth: others are refused.
        for method in ["GET", "POST"] {
            if !entry.methods.contains(&method) {
                let (status, _) = send(&app, method, &path, Who::Anonymous, false).await;
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {} is not declared, so it must be refused", entry.path);
            }
        }
        for method in entry.methods {
            let rule = rules[&(*method, entry.path)];
            let api = entry.path.starts_with("/api/v1/staff");
            let context = format!("{method} {}", entry.path);
            match rule {
                Rule::Public => {
                    let (status, location) = send(&app, method, &path, Who::Anonymous, false).await;
                    assert!(allowed(status, &location), "{context} is public, got {status}");
                }
                Rule::SignIn => {
                    let (status, location) = send(&app, method, &path, Who::Anonymous, false).await;
                    assert!(status != StatusCode::FORBIDDEN && !status.is_server_error(), "{context} without a session: {status} {location}");
                }
                Rule::Queue | Rule::Staff { .. } | Rule::Referred { .. } | Rule::Member { .. } => {
                    let (status, location) = send(&app, method, &path, Who::Anonymous, true).await;
                    if api {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{context} anonymously");
                    } else {
                        assert!(is_sign_in_redirect(status, &location), "{context} anonymously: {status} {location}");
                    }
                    check_people(&app, &world, rule, method, &path, api, &context).await;
                }
            }
        }
    }
    assert!(store.verify_audit_chain().await.unwrap().is_ok());
    let refusals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied'").fetch_one(store.pool()).await.unwrap();
    assert!(refusals > 50, "refusals are audited ({refusals})");
}

async fn check_people(app: &axum::Router, world: &World, rule: Rule, method: &str, path: &str, api: bool, context: &str) {
    let who = |person| if api { Who::Token(person) } else { Who::Session(person) };
    for person in &world.force {
        let (status, location) = send(app, method, path, who(person), true).await;
        match rule {
            Rule::Queue => match person.role {
                Partner => assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/staff/intelligence"), "{context} as {}", person.label),
                Administrator => assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/staff/admin/users"), "{context} as {}", person.label),
                _ => assert_eq!(status, StatusCode::OK, "{context} as {}", person.label),
            },
            Rule::Staff { roles, .. } if roles.contains(&person.role) => {
                assert!(allowed(status, &location), "{context} as {}: {status} {location}", person.label);
            }
            Rule::Referred { roles } | Rule::Member { roles } if roles.contains(&person.role) => {
                assert!(allowed(status, &location), "{context} as {}: {status} {location}", person.label);
            }
            Rule::Staff { .. } | Rule::Referred { .. } | Rule::Member { .. } => {
                assert_eq!(status, StatusCode::FORBIDDEN, "{context} as {} must be refused", person.label)
            }
            Rule::Public | Rule::SignIn => unreachable!(),
        }
        if method == "POST" && matches!(rule, Rule::Staff { roles, .. } | Rule::Referred { roles } | Rule::Member { roles } if roles.contains(&person.role)) {
            let (status, _) = send(app, method, path, Who::Session(person), false).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{context} as {} without a CSRF token", person.label);
        }
    }
    let record_route = path.contains(&world.report_id) || path.contains(&world.intelligence_id) || path.contains(&world.entity_id);
    for outsider in [&world.glaa_partner, &world.charity_partner] {
        let (status, location) = send(app, method, path, who(outsider), true).await;
        if matches!(rule, Rule::Member { .. }) {
            if std::ptr::eq(outsider, &world.glaa_partner) {
                assert!(allowed(status, &location), "{context} as the GLAA partner in the team: {status} {location}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{context} as {} must be refused", outsider.label);
            }
            continue;
        }
        if matches!(rule, Rule::Referred { .. }) {
            if std::ptr::eq(outsider, &world.charity_partner) {
                assert!(allowed(status, &location), "{context} as the charity it was referred to: {status} {location}");
                if method == "POST" {
                    let (status, _) = send(app, method, path, Who::Session(outsider), false).await;
                    assert_eq!(status, StatusCode::FORBIDDEN, "{context} as the charity without a CSRF token");
                }
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{context} as {} must be refused", outsider.label);
            }
            continue;
        }
        let shared_reader = matches!(rule, Rule::Staff { shared_reader: true, .. }) && std::ptr::eq(outsider, &world.glaa_partner);
        let partner_allowed = match rule {
            Rule::Staff { roles, .. } => !record_route && roles.contains(&Partner),
            _ => false,
        };
        let partner_role = matches!(rule, Rule::Staff { roles, .. } if roles.contains(&Partner));
        if path.contains(&world.entity_id) && !shared_reader && partner_role {
            // May search, but no record it may read mentions the entity.
            assert_eq!(status, StatusCode::NOT_FOUND, "{context} as {}", outsider.label);
        } else if shared_reader || partner_allowed {
            assert!(allowed(status, &location), "{context} as {}: {status}", outsider.label);
        } else if matches!(rule, Rule::Queue) {
            assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/staff/intelligence"), "{context} as {}", outsider.label);
        } else if matches!(rule, Rule::Staff { roles, .. } if roles == EVERYONE) {
            assert!(allowed(status, &location), "{context} as {}: {status}", outsider.label);
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{context} as {} must be refused", outsider.label);
        }
    }
}

aidant_store::backend_tests!(every_route_has_an_authorisation_test);

/// Handlers call use cases (`aidant_store::cases`); the policy and the
/// audit log are theirs. A handler that asks the policy or writes an audit
/// entry itself would bypass the one place that does both together.
#[test]
fn no_handler_asks_the_policy_or_writes_audit() {
    let forbidden = ["policy::may", "may_use(", "may(&", ".audit(", "audit::append", "AuditEvent", "record_report_view"];
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offences = Vec::new();
    let mut folders = vec![source];
    let mut files_read = 0;
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files_read += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                for (number, line) in text.lines().enumerate() {
                    if let Some(pattern) = forbidden.iter().find(|pattern| line.contains(*pattern)) {
                        offences.push(format!("{}:{}: {pattern}", path.display(), number + 1));
                    }
                }
            }
        }
    }
    assert!(files_read > 20, "the web crate's sources were found");
    assert!(offences.is_empty(), "the web crate asks the policy or writes audit itself:\n{}", offences.join("\n"));
}
