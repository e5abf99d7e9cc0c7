//! The operation `aidant demo` plans, modelled on the seed's week: lorry
//! checks at Toddington Services with the NCA, Immigration Enforcement and
//! the DVLA, and nail-bar visits in Luton with the GLAA, running from two
//! days ago to two days ahead, with stops, visits and outcomes already
//! recorded by the teams' members through the same use cases their phones
//! will use; and a second day at Toddington Services, a fortnight on, in
//! planning.

use std::collections::BTreeMap;

use aidant_core::catalogue::Catalogue;
use aidant_core::ids::{OrganisationId, ReportId, UserId};
use aidant_core::operations::{FieldRecordAnswers, NewOperation, OperationAnswers};
use aidant_core::organisation::Role;
use aidant_core::policy::Actor;
use aidant_store::Store;
use aidant_store::cases::operations::{self, SiteAnswers, SyncOutcome};
use aidant_store::cases::{Caller, CaseError};
use time::Duration;

use crate::Failure;
use crate::demo_story::{GROUP_BUSINESSES, HUB_NAME, HUB_POSTCODE, OPERATION};

fn failure(error: CaseError) -> Failure {
    Failure::Runtime(format!("planning the demo's operation failed: {error:?}"))
}

async fn caller(store: &Store, email: &str, role: Role) -> Result<(Caller, UserId), Failure> {
    let user = store
        .find_user_by_email(email)
        .await
        .map_err(|error| Failure::Runtime(format!("planning the demo's operation failed: {error}")))?
        .ok_or_else(|| Failure::Runtime(format!("the demo has no user {email}")))?;
    Ok((Caller::new(&user.id, Actor { organisation_id: user.organisation_id.clone(), roles: [role].into() }), user.id))
}

/// Record ids made as a phone would, one per record, from a fixed seed so
/// the demo is the same every time.
fn record_id(number: u32) -> String {
    format!("0190f1c2-0de0-7000-8000-{number:012}")
}

/// Plans the operation and records its first days; returns the number of
/// records stored.
pub(crate) async fn plan(store: &Store, catalogue: &Catalogue, story: &BTreeMap<&'static str, ReportId>) -> Result<usize, Failure> {
    let runtime_error = |error: aidant_store::StoreError| Failure::Runtime(format!("planning the demo's operation failed: {error}"));
    let organisations: BTreeMap<String, OrganisationId> =
        store.list_organisations().await.map_err(runtime_error)?.into_iter().map(|organisation| (organisation.name, organisation.id)).collect();
    let agencies: Vec<OrganisationId> =
        [crate::demo_story::NATIONAL_CRIME_AGENCY, crate::demo_story::GLAA, "Immigration Enforcement", "Driver and Vehicle Licensing Agency"]
            .iter()
            .filter_map(|name| organisations.get(*name).cloned())
            .collect();
    let (lead, _) = caller(store, "supervisor@beds.police.example", Role::Supervisor).await?;
    let today = aidant_store::cases::victims::today();
    let (starts, ends) = ((today - Duration::days(2)).to_string(), (today + Duration::days(2)).to_string());
    let new = NewOperation::parse(&OperationAnswers { name: OPERATION, starts_on: &starts, ends_on: &ends })
        .map_err(|errors| Failure::Runtime(format!("the demo's operation does not parse: {errors:?}")))?;
    let operation = operations::plan_operation(store, &lead, &new, &agencies).await.map_err(failure)?;
    let services = SiteAnswers {
        name: HUB_NAME,
        sector: "lorries_and_services",
        postcode: HUB_POSTCODE,
        reason: "Lorries drop people in the northbound lorry park; reports of voices and knocking from a refrigerated lorry.",
        reports: story.values().take(1).cloned().collect(),
        ..SiteAnswers::default()
    };
    let services = operations::add_site(store, &lead, &operation, &services, catalogue).await.map_err(failure)?;
    let star = SiteAnswers {
        name: GROUP_BUSINESSES[0],
        sector: "nail_bar",
        postcode: "LU1 2NX",
        reason: "Workers said to sleep upstairs; a phone tied to the group answers for the shop.",
        reports: story.get("sunday-swap").cloned().into_iter().collect(),
        ..SiteAnswers::default()
    };
    let star = operations::add_site(store, &lead, &operation, &star, catalogue).await.map_err(failure)?;
    let diamond = SiteAnswers { name: GROUP_BUSINESSES[1], sector: "nail_bar", reason: "The same manager's van seen outside.", ..SiteAnswers::default() };
    let diamond = operations::add_site(store, &lead, &operation, &diamond, catalogue).await.map_err(failure)?;

    let (officer, officer_id) = caller(store, "officer@beds.police.example", Role::Officer).await?;
    let (nca, nca_id) = caller(store, "partner@nca.example", Role::Partner).await?;
    let (_, dvla_id) = caller(store, "partner@dvla.example", Role::Partner).await?;
    let (glaa, glaa_id) = caller(store, "partner@glaa.example", Role::Partner).await?;
    let lorries = operations::add_team(
        store,
        &lead,
        &operation,
        "Lorry checks",
        "Stop lorries and vans entering the northbound lorry park; look inside every trailer; speak to every occupant with an interpreter.",
        std::slice::from_ref(&services),
        &[officer_id.clone(), nca_id, dvla_id],
    )
    .await
    .map_err(failure)?;
    let nail_bars = operations::add_team(
        store,
        &lead,
        &operation,
        "Nail bars",
        "Visit with the GLAA under its licensing powers; ask to see every worker's documents; look upstairs.",
        &[star.clone(), diamond.clone()],
        &[officer_id, glaa_id],
    )
    .await
    .map_err(failure)?;

    let yesterday = (today - Duration::days(1)).to_string();
    let day_before = (today - Duration::days(2)).to_string();
    let stop = |number: u32, registration: &str, people: &str, outcome: &str, on: &str| FieldRecordAnswers {
        id: record_id(number),
        kind: "vehicle_stop".into(),
        site: services.to_string(),
        recorded_on: on.to_owned(),
        registration: registration.into(),
        vehicle: "Curtain-sided lorry".into(),
        trailer: "Refrigerated trailer".into(),
        people: people.into(),
        age_groups: vec!["18_to_24".into()],
        nationalities: vec!["Romanian".into()],
        languages: vec!["Romanian".into()],
        outcome: outcome.into(),
        ..FieldRecordAnswers::default()
    };
    let lorry_records = [
        stop(1, "LJ15 XKR", "4", "action_taken", &day_before),
        stop(2, "WN64 HZD", "1", "no_concerns", &day_before),
        stop(3, "YX19 ABC", "2", "advice_given", &yesterday),
    ];
    let visit = |number: u32, site: &str, people: &str, outcome: &str| FieldRecordAnswers {
        id: record_id(number),
        kind: "premises_visit".into(),
        site: site.to_owned(),
        recorded_on: yesterday.clone(),
        people: people.into(),
        documents_held_by_others: true,
        accommodation_on_site: true,
        outcome: outcome.into(),
        ..FieldRecordAnswers::default()
    };
    let outcome = |number: u32, kind: &str, site: &str| FieldRecordAnswers {
        id: record_id(number),
        kind: kind.into(),
        site: site.to_owned(),
        recorded_on: yesterday.clone(),
        ..FieldRecordAnswers::default()
    };
    let nail_bar_records = [
        visit(10, star.as_str(), "5", "action_taken"),
        visit(11, diamond.as_str(), "3", "follow_up"),
        FieldRecordAnswers { people: "2".into(), ..outcome(12, "safeguarded", star.as_str()) },
        outcome(13, "intelligence", diamond.as_str()),
        FieldRecordAnswers { referred_to: "Justice and Care".into(), ..outcome(14, "referral", star.as_str()) },
    ];
    let arrest = [FieldRecordAnswers { offence: "msa_s2".into(), ..outcome(20, "arrest", star.as_str()) }];
    let mut stored = 0;
    for (who, team, records) in [(&nca, &lorries, &lorry_records[..]), (&glaa, &nail_bars, &nail_bar_records[..]), (&officer, &nail_bars, &arrest[..])] {
        for (id, outcome) in operations::sync_records(store, who, &operation, team, records, catalogue).await.map_err(failure)? {
            match outcome {
                SyncOutcome::Stored => stored += 1,
                other => return Err(Failure::Runtime(format!("the demo's field record {id} was not stored: {other:?}"))),
            }
        }
    }
    plan_second_day(store, catalogue, &lead, &agencies, today).await?;
    Ok(stored)
}

/// The name of the operation the demo has in planning.
pub(crate) const SECOND_DAY: &str = "Operation Aidant: Toddington Services, second day";

/// A second day of lorry checks at Toddington Services a fortnight on, as
/// the seed's force held two: planned (its site, agencies and team chosen),
/// not started, so nothing is recorded for it yet.
async fn plan_second_day(store: &Store, catalogue: &Catalogue, lead: &Caller, agencies: &[OrganisationId], today: time::Date) -> Result<(), Failure> {
    let day = (today + Duration::days(14)).to_string();
    let new = NewOperation::parse(&OperationAnswers { name: SECOND_DAY, starts_on: &day, ends_on: &day })
        .map_err(|errors| Failure::Runtime(format!("the demo's second day does not parse: {errors:?}")))?;
    let operation = operations::plan_operation(store, lead, &new, agencies).await.map_err(failure)?;
    let services = SiteAnswers {
        name: HUB_NAME,
        sector: "lorries_and_services",
        postcode: HUB_POSTCODE,
        reason: "The first day's stops found people in a refrigerated trailer; the group's drivers collect arrivals here.",
        ..SiteAnswers::default()
    };
    let services = operations::add_site(store, lead, &operation, &services, catalogue).await.map_err(failure)?;
    let (_, officer_id) = caller(store, "officer@beds.police.example", Role::Officer).await?;
    let (_, nca_id) = caller(store, "partner@nca.example", Role::Partner).await?;
    let (_, immigration_id) = caller(store, "partner@ie.example", Role::Partner).await?;
    operations::add_team(
        store,
        lead,
        &operation,
        "Lorry checks",
        "Stop every lorry entering the northbound lorry park between 05:00 and 13:00; the NCA and Immigration Enforcement search trailers.",
        std::slice::from_ref(&services),
        &[officer_id, nca_id, immigration_id],
    )
    .await
    .map_err(failure)?;
    Ok(())
}
