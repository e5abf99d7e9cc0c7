//! Safeguarding on both backends: a potential victim's case under its
//! pseudonym, the identity only for safeguarding leads and the officer in
//! the case (each read audited with its reason), the NRM referral written
//! page by page and completed on the path its answers lead to, support
//! referrals that give a charity only what was chosen, the statistics held
//! back for a partner, and no identity in clear anywhere in the database.

use std::collections::BTreeMap;

use aidant_core::audit::AuditAction;
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::safeguarding::case::{CaseAnswers, DecisionAnswers, NewCase};
use aidant_core::safeguarding::referral::{Answers, Page, ReferralPath};
use aidant_core::safeguarding::statistics::{Cell, Quarter};
use aidant_core::safeguarding::{AgeAssessment, Stage};
use aidant_core::text::{BoundedText, Lines};
use aidant_store::Store;
use aidant_store::cases::CaseError;
use aidant_store::cases::victims::{
    CaseSource, ReferralState, case_audit, complete_referral, dashboard, link_by_reference, open_case, open_identity, record_decisions, record_support,
    refer_to_support, referral, referral_document, save_referral_page, statistics, support_portal, today, view_case, view_support_referral,
};
use aidant_store::organisations::{Organisation, User};
use aidant_store::testing::{TestDatabase, submit_report};

use crate::entities::caller;

pub(crate) const SIGNS: [&str; 1] = ["no_id_documents"];

pub(crate) struct Force {
    pub(crate) force: Organisation,
    pub(crate) charity: Organisation,
    pub(crate) glaa: Organisation,
    pub(crate) lead: User,
    pub(crate) officer: User,
    pub(crate) handler: User,
    pub(crate) charity_user: User,
    pub(crate) glaa_user: User,
}

pub(crate) async fn force(store: &Store) -> Force {
    let force = store.create_organisation("Bedfordshire Police", OrganisationKind::PoliceForce).await.unwrap();
    let charity = store.create_organisation("Safe Haven", OrganisationKind::Charity).await.unwrap();
    let glaa = store.create_organisation("GLAA", OrganisationKind::Regulator).await.unwrap();
    store.set_receiving_organisation(&force.id, &aidant_core::audit::AuditActor::Cli).await.unwrap();
    let lead = store.create_user(&force.id, "lead@force.example", "Safeguarding Lead", &[Role::SafeguardingLead]).await.unwrap();
    let officer = store.create_user(&force.id, "officer@force.example", "Officer", &[Role::Officer]).await.unwrap();
    let handler = store.create_user(&force.id, "handler@force.example", "Handler", &[Role::CallHandler]).await.unwrap();
    let charity_user = store.create_user(&charity.id, "worker@charity.example", "Charity Worker", &[Role::Partner]).await.unwrap();
    let glaa_user = store.create_user(&glaa.id, "partner@glaa.example", "GLAA Partner", &[Role::Partner]).await.unwrap();
    Force { force, charity, glaa, lead, officer, handler, charity_user, glaa_user }
}

pub(crate) fn adult(name: &'static str) -> NewCase {
    let answers = CaseAnswers {
        age: "adult",
        name,
        nickname: "Rosie",
        born_on: "1996-05-14",
        gender: "female",
        nationality: "romanian",
        languages: "Romanian",
        interpreter: true,
        contact: "Through the refuge on Quenby Lane",
        exploitation_types: vec!["sexual"],
        ..CaseAnswers::default()
    };
    NewCase::parse(&answers, today()).unwrap()
}

fn child(name: &'static str) -> NewCase {
    NewCase::parse(
        &CaseAnswers {
            age: "possibly_child",
            name,
            nationality: "Vietnamese",
            exploitation_types: vec!["criminal"],
            county_lines: true,
            ..CaseAnswers::default()
        },
        today(),
    )
    .unwrap()
}

pub(crate) fn page_answers(pairs: &[(&str, &str)]) -> Answers {
    let mut answers = Answers::new();
    for (field, value) in pairs {
        answers.entry((*field).to_owned()).or_default().push((*value).to_owned());
    }
    answers
}

fn reason(text: &str) -> BoundedText {
    BoundedText::parse(text, 500, Lines::Single).unwrap()
}

/// Answers every page after the age (and consent) the way a first
/// responder would.
async fn answer_the_rest(store: &Store, who: &aidant_store::cases::Caller, id: &aidant_core::ids::VictimId, pages: &[(Page, &[(&str, &str)])]) {
    for (page, pairs) in pages {
        save_referral_page(store, who, id, *page, &page_answers(pairs), &SIGNS).await.unwrap_or_else(|error| panic!("{page:?}: {error:?}"));
    }
}

const COMMON: &[(Page, &[(&str, &str)])] = &[
    (
        Page::FirstResponder,
        &[
            ("responder_name", "DC Lee"),
            ("responder_role", "Detective"),
            ("responder_organisation", "Bedfordshire Police"),
            ("responder_email", "lee@force.example"),
        ],
    ),
    (Page::Background, &[("background", "Came for work in 2025.")]),
    (Page::Exploitation, &[("exploitation_types", "sexual"), ("how_started", "A job offer."), ("still_in_situation", "no")]),
    (Page::Indicators, &[("indicators", "no_id_documents"), ("professional_insight", "Her passport is held by the manager.")]),
    (Page::Locations, &[("uk_locations", "Luton")]),
];

async fn a_case_is_seen_under_its_pseudonym_and_its_identity_only_with_a_reason(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let receipt = submit_report(
        store,
        &aidant_core::report::ReportAnswers {
            sector: Some("nail_bar".into()),
            town: Some("Luton".into()),
            narrative: Some("Women sleep at the nail bar".into()),
            ..Default::default()
        },
        None,
    )
    .await;
    let officer = caller(&world.officer);
    let (id, pseudonym) = open_case(store, &officer, &adult("Ana Popescu"), Some(&CaseSource::Report(receipt.report_id.clone()))).await.unwrap();
    assert_eq!(pseudonym, format!("PV-{:02}-0001", today().year() % 100));
    let (_, second) = open_case(store, &caller(&world.lead), &child("Minh"), None).await.unwrap();
    assert!(second.ends_with("-0002"), "pseudonyms are numbered in turn: {second}");

    // The call handler sees the case and the report it came from, never who.
    let view = view_case(store, &caller(&world.handler), &id).await.unwrap();
    assert_eq!(view.case.pseudonym, pseudonym);
    assert!(view.identity.is_none() && !view.permissions.identity && !view.permissions.edit);
    assert_eq!(view.links.len(), 1);
    assert_eq!(view.links[0].reference.as_deref(), Some(receipt.reference.to_string().as_str()));
    assert!(matches!(open_identity(store, &caller(&world.handler), &id, &reason("curious")).await, Err(CaseError::Denied { .. })));

    // The officer who opened it is the officer in the case; the lead too may read who.
    let opened = open_identity(store, &officer, &id, &reason("arranging the interpreter")).await.unwrap();
    assert_eq!(opened.identity.as_ref().unwrap().name, "Ana Popescu");
    let opened = open_identity(store, &caller(&world.lead), &id, &reason("NRM referral")).await.unwrap();
    assert_eq!(opened.identity.unwrap().nickname, "Rosie");
    for outsider in [&world.charity_user, &world.glaa_user] {
        assert!(matches!(view_case(store, &caller(outsider), &id).await, Err(CaseError::Denied { .. })));
    }

    let history = store.audit_history("victim", id.as_str()).await.unwrap();
    let identity_reads: Vec<Option<&str>> =
        history.iter().filter(|entry| entry.entry.action == AuditAction::VictimIdentityView.as_str()).map(|entry| entry.entry.reason.as_deref()).collect();
    assert_eq!(identity_reads, [Some("arranging the interpreter"), Some("NRM referral")]);
    assert_eq!(history.iter().filter(|entry| entry.entry.action == AuditAction::AccessDenied.as_str()).count(), 3);
    let trail = case_audit(store, &caller(&world.lead), &id).await.unwrap();
    assert!(trail.entries.iter().any(|entry| entry.entry.reason.as_deref() == Some("arranging the interpreter")), "the lead reads who looked and why");
    assert!(matches!(case_audit(store, &caller(&world.officer), &id).await, Err(CaseError::Denied { .. })), "the officer in the case does not");

    let board = dashboard(store, &caller(&world.handler)).await.unwrap();
    assert_eq!(board.rows.len(), 2);
    let minh = board.rows.iter().find(|row| row.case.pseudonym == second).unwrap();
    assert!(minh.child_without_local_authority, "a possible child with no local-authority referral is flagged");
    assert_eq!(board.by_stage.iter().find(|(stage, _)| *stage == Stage::Identified).unwrap().1, 2);
    assert!(matches!(dashboard(store, &caller(&world.charity_user)).await, Err(CaseError::Denied { .. })));

    // A second report about her is linked by its reference, typed loosely.
    let answers = aidant_core::report::ReportAnswers { sector: Some("nail_bar".into()), town: Some("Bedford".into()), ..Default::default() };
    let second_report = submit_report(store, &answers, None).await;
    let typed = second_report.reference.to_string().to_lowercase().replace('-', " ");
    link_by_reference(store, &officer, &id, &typed).await.unwrap();
    link_by_reference(store, &officer, &id, &typed).await.unwrap();
    let links = view_case(store, &officer, &id).await.unwrap().links;
    assert_eq!(links.len(), 2, "linked once, however often it is asked");
    for wrong in ["ZZZ-ZZZ-ZZZ", "INT-ACD-379-KMW", "not a reference"] {
        let Err(CaseError::Invalid(errors)) = link_by_reference(store, &officer, &id, wrong).await else { panic!("{wrong} is refused") };
        assert_eq!(errors[0].field, "reference");
    }
    assert!(matches!(link_by_reference(store, &caller(&world.handler), &id, &typed).await, Err(CaseError::Denied { .. })));
}

async fn decisions_keep_the_clock_and_refuse_impossible_dates(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    let (id, _) = open_case(store, &lead, &adult("Ioana"), None).await.unwrap();
    let day = |days: i64| (today() - time::Duration::days(days)).to_string();
    let (referred, rg) = (day(60), day(40));
    let answers = DecisionAnswers { age: "adult", referred_on: &referred, rg_on: &rg, rg_decision: "positive", ..DecisionAnswers::default() };
    record_decisions(store, &lead, &id, &answers).await.unwrap();
    let view = view_case(store, &lead, &id).await.unwrap();
    assert_eq!(view.clock.stage, Stage::RecoveryPeriod);
    assert!(view.clock.cg_not_before.is_some());

    let early = day(30);
    let cg_too_soon = DecisionAnswers { cg_on: &early, cg_decision: "positive", ..answers.clone() };
    let Err(CaseError::Invalid(errors)) = record_decisions(store, &lead, &id, &cg_too_soon).await else { panic!("a CG 10 days after the RG is refused") };
    assert_eq!(errors[0].field, "cg_on");
    let as_child = DecisionAnswers { age: "child", ..answers.clone() };
    let Err(CaseError::Invalid(errors)) = record_decisions(store, &lead, &id, &as_child).await else { panic!("a 30-year-old marked a child is refused") };
    assert_eq!(errors[0].field, "age");
    assert_eq!(view_case(store, &lead, &id).await.unwrap().clock.stage, Stage::RecoveryPeriod, "nothing half-saved");

    // Overdue: referred 20 days ago, still awaiting the RG.
    let (late, _) = open_case(store, &lead, &adult("Elena"), None).await.unwrap();
    let referred = day(20);
    record_decisions(store, &lead, &late, &DecisionAnswers { age: "adult", referred_on: &referred, ..DecisionAnswers::default() }).await.unwrap();
    let board = dashboard(store, &lead).await.unwrap();
    let overdue: Vec<&str> = board.overdue().map(|row| row.case.pseudonym.as_str()).collect();
    assert_eq!(overdue.len(), 1);
    assert!(matches!(record_decisions(store, &caller(&world.handler), &late, &answers).await, Err(CaseError::Denied { .. })));
}

async fn an_adult_who_consents_is_referred_and_one_who_does_not_becomes_an_anonymous_duty_to_notify(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);

    let (consents, _) = open_case(store, &lead, &adult("Ana Popescu"), None).await.unwrap();
    let draft = referral(store, &lead, &consents).await.unwrap();
    assert_eq!(draft.answers["name"], ["Ana Popescu"], "the referral starts from what the case holds");
    assert_eq!(draft.answers["responder_email"], ["lead@force.example"]);
    save_referral_page(store, &lead, &consents, Page::Age, &page_answers(&[("age", "adult"), ("born_on", "1996-05-14")]), &SIGNS).await.unwrap();
    let next = save_referral_page(store, &lead, &consents, Page::Consent, &page_answers(&[("consent", "yes")]), &SIGNS).await.unwrap();
    assert_eq!(next, Some(Page::PersonalDetails));
    let Err(CaseError::Invalid(errors)) = complete_referral(store, &lead, &consents, &SIGNS).await else { panic!("an unfinished referral is refused") };
    assert!(errors.iter().any(|error| error.field == "background"), "{errors:?}");
    save_referral_page(
        store,
        &lead,
        &consents,
        Page::PersonalDetails,
        &page_answers(&[("name", "Ana Popescu"), ("gender", "female"), ("nationality", "Romanian"), ("interpreter", "yes"), ("languages", "Romanian")]),
        &SIGNS,
    )
    .await
    .unwrap();
    answer_the_rest(store, &lead, &consents, COMMON).await;
    // A page with a problem is not saved.
    let Err(CaseError::Invalid(errors)) = save_referral_page(store, &lead, &consents, Page::Exploitation, &page_answers(&[("how_started", "x")]), &SIGNS).await
    else {
        panic!("a referral without an exploitation type is refused")
    };
    assert!(errors.iter().any(|error| error.field == "exploitation_types"));
    assert_eq!(referral(store, &lead, &consents).await.unwrap().answers["exploitation_types"], ["sexual"]);
    assert_eq!(complete_referral(store, &lead, &consents, &SIGNS).await.unwrap(), ReferralPath::Nrm);
    let document = referral_document(store, &lead, &consents).await.unwrap();
    assert_eq!(document.answers["name"], ["Ana Popescu"]);
    let view = view_case(store, &lead, &consents).await.unwrap();
    assert_eq!(view.clock.stage, Stage::AwaitingRg);
    assert_eq!(view.case.dates.referred_on, Some(today()));
    assert_eq!(view.referral, ReferralState::Completed);
    assert!(save_referral_page(store, &lead, &consents, Page::Background, &page_answers(&[("background", "later")]), &SIGNS).await.is_err());

    let (refuses, _) = open_case(store, &lead, &adult("Maria Ionescu"), None).await.unwrap();
    save_referral_page(store, &lead, &refuses, Page::Age, &page_answers(&[("age", "adult")]), &SIGNS).await.unwrap();
    let next = save_referral_page(store, &lead, &refuses, Page::Consent, &page_answers(&[("consent", "no")]), &SIGNS).await.unwrap();
    assert_eq!(next, Some(Page::AnonymousDetails));
    save_referral_page(store, &lead, &refuses, Page::AnonymousDetails, &page_answers(&[("gender", "female"), ("nationality", "Romanian")]), &SIGNS)
        .await
        .unwrap();
    answer_the_rest(store, &lead, &refuses, COMMON).await;
    assert_eq!(complete_referral(store, &lead, &refuses, &SIGNS).await.unwrap(), ReferralPath::DutyToNotify);
    let document = referral_document(store, &lead, &refuses).await.unwrap();
    assert_eq!(document.path, ReferralPath::DutyToNotify);
    for field in ["name", "nickname", "born_on", "contact", "languages"] {
        assert!(!document.answers.contains_key(field), "a Duty to Notify holds no {field}");
    }
    let stored = referral(store, &lead, &refuses).await.unwrap();
    assert!(!stored.answers.contains_key("name"), "the stored Duty to Notify holds no name either");
    assert_eq!(view_case(store, &lead, &refuses).await.unwrap().clock.stage, Stage::DutyToNotify);
    assert!(matches!(referral(store, &caller(&world.handler), &refuses).await, Err(CaseError::Denied { .. })));
}

async fn a_child_is_referred_without_consent_only_after_the_local_authority(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    let (id, _) = open_case(store, &lead, &child("Minh"), None).await.unwrap();
    let next = save_referral_page(store, &lead, &id, Page::Age, &page_answers(&[("age", "possibly_child"), ("estimated_age", "16")]), &SIGNS).await.unwrap();
    assert_eq!(next, Some(Page::PersonalDetails), "no consent is asked of a child");
    save_referral_page(
        store,
        &lead,
        &id,
        Page::PersonalDetails,
        &page_answers(&[("name", "Minh"), ("gender", "male"), ("nationality", "Vietnamese"), ("interpreter", "no")]),
        &SIGNS,
    )
    .await
    .unwrap();
    answer_the_rest(store, &lead, &id, COMMON).await;
    let Err(CaseError::Invalid(errors)) = complete_referral(store, &lead, &id, &SIGNS).await else { panic!("a child's referral needs the local authority") };
    assert_eq!(errors.iter().map(|error| error.field.as_str()).collect::<Vec<_>>(), ["local-authority"]);
    let yesterday = (today() - time::Duration::days(1)).to_string();
    save_referral_page(
        store,
        &lead,
        &id,
        Page::LocalAuthority,
        &page_answers(&[("local_authority", "Luton Borough Council"), ("local_authority_referred_on", &yesterday), ("guardian", "yes")]),
        &SIGNS,
    )
    .await
    .unwrap();
    assert_eq!(complete_referral(store, &lead, &id, &SIGNS).await.unwrap(), ReferralPath::Nrm);
    let board = dashboard(store, &lead).await.unwrap();
    let row = &board.rows[0];
    assert_eq!(row.case.age, AgeAssessment::PossiblyChild);
    assert!(!row.child_without_local_authority, "the local authority referral is on the case");
}

async fn a_charity_sees_only_the_people_referred_to_it_and_what_it_was_given(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    let (referred, pseudonym) = open_case(store, &lead, &adult("Ana Popescu"), None).await.unwrap();
    let (other, _) = open_case(store, &lead, &adult("Maria Ionescu"), None).await.unwrap();
    let fields = vec!["name".to_owned(), "languages".to_owned()];
    let Err(CaseError::Invalid(_)) = refer_to_support(store, &lead, &referred, Some(&world.glaa.id), &fields).await else {
        panic!("a regulator gives no support")
    };
    let support = refer_to_support(store, &lead, &referred, Some(&world.charity.id), &fields).await.unwrap();
    let charity = caller(&world.charity_user);
    let portal = support_portal(store, &charity).await.unwrap();
    assert_eq!(portal.len(), 1);
    assert_eq!(portal[0].pseudonym, pseudonym);
    let view = view_support_referral(store, &charity, &support).await.unwrap();
    let given: BTreeMap<&str, &str> = view.shared.iter().map(|(label, value)| (label.as_str(), value.as_str())).collect();
    assert_eq!(given.get("Name"), Some(&"Ana Popescu"));
    assert_eq!(given.get("Languages and interpreter"), Some(&"Romanian (needs an interpreter)"));
    assert_eq!(given.len(), 2, "only the fields chosen: {given:?}");
    // The charity reads no case, and no one else's referral.
    for id in [&referred, &other] {
        assert!(matches!(view_case(store, &charity, id).await, Err(CaseError::Denied { .. })));
    }
    assert!(matches!(view_support_referral(store, &caller(&world.glaa_user), &support).await, Err(CaseError::Denied { .. })));
    let Err(CaseError::Invalid(errors)) = record_support(store, &charity, &support, "accommodation", "2999-01-01", "").await else {
        panic!("a future date is refused")
    };
    assert_eq!(errors[0].field, "given_on");
    let yesterday = (today() - time::Duration::days(1)).to_string();
    record_support(store, &charity, &support, "accommodation", &yesterday, "Safe house, Bedford").await.unwrap();
    assert!(matches!(record_support(store, &lead, &support, "legal", &yesterday, "").await, Err(CaseError::Denied { .. })));
    let force_view = view_case(store, &lead, &referred).await.unwrap();
    assert_eq!(force_view.support.len(), 1);
    assert_eq!(force_view.support[0].given[0].note.as_deref(), Some("Safe house, Bedford"));

    // An adult who would not consent to a referral is identified to no one.
    let (refused, _) = open_case(store, &lead, &adult("Irina Munteanu"), None).await.unwrap();
    save_referral_page(store, &lead, &refused, Page::Age, &page_answers(&[("age", "adult")]), &SIGNS).await.unwrap();
    save_referral_page(store, &lead, &refused, Page::Consent, &page_answers(&[("consent", "no")]), &SIGNS).await.unwrap();
    let Err(CaseError::Invalid(errors)) = refer_to_support(store, &lead, &refused, Some(&world.charity.id), &["name".to_owned()]).await else {
        panic!("no name goes without consent")
    };
    assert_eq!(errors[0].field, "fields");
    refer_to_support(store, &lead, &refused, Some(&world.charity.id), &["gender".to_owned(), "support_needs".to_owned()]).await.unwrap();
}

async fn statistics_hold_back_small_counts_for_a_partner(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    for _ in 0..12 {
        open_case(store, &lead, &adult("Ana"), None).await.unwrap();
    }
    open_case(store, &lead, &child("Minh"), None).await.unwrap();
    let exact = statistics(store, &lead, false, None).await.unwrap();
    assert!(!exact.suppressed);
    let named = |statistics: &aidant_store::cases::victims::Statistics, title: &str| {
        statistics.tables.iter().find(|table| table.title == title).unwrap_or_else(|| panic!("no table {title}")).clone()
    };
    let by_stage = named(&exact, "By stage");
    let identified = by_stage.row_labels.iter().position(|label| label == Stage::Identified.label()).unwrap();
    assert_eq!(by_stage.cells[identified], [Cell::Count(12), Cell::Count(1)]);
    assert_eq!(named(&exact, "By police force area").row_labels, std::slice::from_ref(&world.force.name));
    let partner = statistics(store, &caller(&world.glaa_user), false, None).await.unwrap();
    assert!(partner.suppressed, "a partner never sees counts below the threshold");
    assert_eq!(named(&partner, "By stage").cells[identified][1], Cell::Suppressed);
    for table in &partner.tables {
        for row in &table.cells {
            for cell in row {
                assert!(!matches!(cell, Cell::Count(count) if (1..11).contains(count)), "{}: {cell:?}", table.title);
            }
        }
    }
    let nationality = named(&exact, "By nationality");
    assert!(nationality.row_labels.contains(&"Romanian".to_owned()), "nationalities are counted however they were typed: {:?}", nationality.row_labels);
    assert!(matches!(statistics(store, &caller(&world.handler), false, None).await, Err(CaseError::Denied { .. })));
    let analyst = store.create_user(&world.force.id, "analyst@force.example", "Analyst", &[Role::Analyst]).await.unwrap();
    let analysts = statistics(store, &caller(&analyst), false, None).await.unwrap();
    assert!(analysts.suppressed, "who sees cases under pseudonyms sees no small count of who they are");
    assert_eq!(named(&analysts, "By nationality").row_labels, ["Other nationalities", "Romanian"], "a rare nationality is not named");

    // A quarter counts the referrals made in it and the decisions made in it.
    let this_quarter = Quarter::of(today());
    let (first_day, _) = this_quarter.days();
    let last_quarter_day = this_quarter.previous().days().1.to_string();
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM potential_victims WHERE age_assessment = 'adult' ORDER BY id").fetch_all(store.pool()).await.unwrap();
    let this_day = first_day.to_string();
    for (id, sql) in ids.iter().zip([
        "UPDATE potential_victims SET referred_on = $2, rg_on = $2, rg_decision = 'positive' WHERE id = $1",
        "UPDATE potential_victims SET referred_on = $2, rg_on = $2, rg_decision = 'positive' WHERE id = $1",
        "UPDATE potential_victims SET referred_on = $2, rg_on = $2, rg_decision = 'negative' WHERE id = $1",
        "UPDATE potential_victims SET duty_to_notify_on = $2 WHERE id = $1",
    ]) {
        sqlx::query(sql).bind(id).bind(&this_day).execute(store.pool()).await.unwrap();
    }
    sqlx::query("UPDATE potential_victims SET referred_on = $2, rg_on = $2, rg_decision = 'positive', county_lines = 1, exploitation_types = '[\"criminal\"]' WHERE id = $1")
        .bind(&ids[4])
        .bind(&last_quarter_day)
        .execute(store.pool())
        .await
        .unwrap();
    let quarter = statistics(store, &lead, false, Some(this_quarter)).await.unwrap();
    assert_eq!(quarter.cases, 4, "three NRM referrals and a Duty to Notify this quarter");
    assert_eq!(named(&quarter, "By referral route").cells, [[Cell::Count(3), Cell::Count(0)], [Cell::Count(1), Cell::Count(0)]]);
    assert_eq!(named(&quarter, "Decisions made").cells[..2], [[Cell::Count(2), Cell::Count(0)], [Cell::Count(1), Cell::Count(0)]]);
    assert_eq!(quarter.reasonable_grounds_positive_share, Some(67));
    assert_eq!(quarter.conclusive_grounds_positive_share, None, "no Conclusive Grounds decision yet");
    let earlier = statistics(store, &lead, false, Some(this_quarter.previous())).await.unwrap();
    assert_eq!(earlier.cases, 1);
    assert_eq!(named(&earlier, "Criminal exploitation: county lines").cells[0], [Cell::Count(1), Cell::Count(0)]);
    let for_partner = statistics(store, &caller(&world.glaa_user), false, Some(this_quarter)).await.unwrap();
    assert_eq!(for_partner.reasonable_grounds_positive_share, None, "three decisions are too few to give a share outside the force");
}

/// A case whose person, Zenobia, is written in every sealed place a case
/// has: the identity, the referral, what a charity was given and the note of
/// the support it gave. Returns the case's id and pseudonym.
pub(crate) async fn zenobia_referred_and_supported(store: &Store, world: &Force) -> (aidant_core::ids::VictimId, String) {
    let lead = caller(&world.lead);
    let case = NewCase::parse(
        &CaseAnswers {
            age: "adult",
            name: "Zenobia Quartermaine",
            nickname: "Zizi",
            nationality: "Ruritanian",
            contact: "07700 900461 via Wexcombe refuge",
            exploitation_types: vec!["labour"],
            ..CaseAnswers::default()
        },
        today(),
    )
    .unwrap();
    let (id, pseudonym) = open_case(store, &lead, &case, None).await.unwrap();
    let draft = page_answers(&[("name", "Zenobia Quartermaine"), ("gender", "female"), ("nationality", "Ruritanian"), ("interpreter", "no")]);
    save_referral_page(store, &lead, &id, Page::PersonalDetails, &draft, &SIGNS).await.unwrap();
    let support = refer_to_support(store, &lead, &id, Some(&world.charity.id), &["name".to_owned(), "contact".to_owned()]).await.unwrap();
    let yesterday = (today() - time::Duration::days(1)).to_string();
    record_support(store, &caller(&world.charity_user), &support, "medical", &yesterday, "Seen at Wexcombe clinic").await.unwrap();
    (id, pseudonym)
}

async fn no_identity_is_stored_in_clear(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    zenobia_referred_and_supported(store, &world).await;
    let secrets = ["Zenobia", "Quartermaine", "Zizi", "Ruritanian", "900461", "Wexcombe"];
    let everything = database.raw_contents(&["potential_victims", "nrm_referrals", "support_referrals", "support_given", "victim_links", "audit_log"]).await;
    assert!(everything.windows(3).any(|window| window == b"PV-"), "the reader sees the pseudonym, so it would see the rest");
    for secret in secrets {
        assert!(!everything.windows(secret.len()).any(|window| window == secret.as_bytes()), "{secret} is stored in clear");
    }
}

async fn publications_are_k_anonymous_or_nobody_and_go_in_the_disclosure_log(database: TestDatabase) {
    use aidant_store::cases::publication::{PublicationKind, publish};
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    // Twelve alike, and one child who is unlike anyone.
    for _ in 0..12 {
        open_case(store, &lead, &adult("Ana"), None).await.unwrap();
    }
    open_case(store, &lead, &child("Minh"), None).await.unwrap();
    let published = publish(store, &lead, PublicationKind::KAnonymised).await.unwrap();
    let lines: Vec<&str> = published.csv.lines().collect();
    assert_eq!(lines[0].split(',').count(), aidant_core::publication::COLUMNS.len());
    assert_eq!(published.rows, 12, "the twelve are published, the child left out");
    assert!(lines[1..].iter().all(|line| *line == lines[1]), "twelve identical rows");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!((row[2], row[3], row[4], row[7]), ("Female", "30--38", "Adult", "RO"), "born in May 1996, referred this year");
    assert_eq!(row[63], world.force.name, "the police force area");
    assert!(!published.csv.contains("Ana") && !published.csv.contains("Minh") && !published.csv.contains("Rosie"));

    let synthetic = publish(store, &lead, PublicationKind::Synthetic).await.unwrap();
    assert!(synthetic.summary.contains("ε = 1"), "{}", synthetic.summary);
    assert!(synthetic.csv.lines().skip(1).all(|line| line != lines[1]), "no synthetic row is a real person's");

    // Both are in the disclosure log, and audited; a call handler may not publish.
    let supervisor = store.create_user(&world.force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let log = aidant_store::cases::packages::disclosure_log(store, &caller(&supervisor)).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|line| line.recipient == "The public"));
    assert!(
        log.iter()
            .any(|line| line.package_sha256 == published.sha256 && line.publication.as_deref().is_some_and(|text| text.contains("12 rows, 1 people left out")))
    );
    assert!(matches!(publish(store, &caller(&world.handler), PublicationKind::KAnonymised).await, Err(CaseError::Denied { .. })));
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'publication.make'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(audited, 2);
}

/// More cases than one statement reads at a time (500) are all counted.
async fn statistics_and_publications_read_every_case_however_many(database: TestDatabase) {
    let store = &database.store;
    let world = force(store).await;
    let lead = caller(&world.lead);
    for _ in 0..1_101 {
        open_case(store, &lead, &adult("Ana"), None).await.unwrap();
    }
    assert_eq!(statistics(store, &lead, false, None).await.unwrap().cases, 1_101);
    let published = aidant_store::cases::publication::publish(store, &lead, aidant_store::cases::publication::PublicationKind::KAnonymised).await.unwrap();
    assert_eq!(published.rows, 1_101);
}

aidant_store::backend_tests!(
    statistics_and_publications_read_every_case_however_many,
    publications_are_k_anonymous_or_nobody_and_go_in_the_disclosure_log,
    a_case_is_seen_under_its_pseudonym_and_its_identity_only_with_a_reason,
    decisions_keep_the_clock_and_refuse_impossible_dates,
    an_adult_who_consents_is_referred_and_one_who_does_not_becomes_an_anonymous_duty_to_notify,
    a_child_is_referred_without_consent_only_after_the_local_authority,
    a_charity_sees_only_the_people_referred_to_it_and_what_it_was_given,
    statistics_hold_back_small_counts_for_a_partner,
    no_identity_is_stored_in_clear,
);
