//! The dashboards' counts on both backends: equal to counts taken straight
//! from the tables, cut to the range and the area, and to what each viewer
//! may see (a partner agency counts only the intelligence shared with it).

use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::insight::{FilterAnswers, FirstLook, InsightFilter, day_of_ms, week_of};
use aidant_core::report::ReportAnswers;
use aidant_store::Store;
use aidant_store::cases::CaseError;
use aidant_store::cases::insight::dashboard;
use aidant_store::intelligence::IntelligenceInsert;
use aidant_store::testing::{TestDatabase, submit_report};
use aidant_store::{now_ms, organisations::User};

use crate::entities::{World, caller, world};

const DAY: i64 = 24 * 60 * 60 * 1000;

async fn report(store: &Store, sector: &str, postcode: Option<&str>, town: &str, danger: bool, days_ago: i64) -> String {
    let answers = ReportAnswers {
        immediate_danger: danger,
        sector: Some(sector.into()),
        postcode: postcode.map(Into::into),
        town: Some(town.into()),
        signs: vec!["workers_living_on_site".into()],
        ..ReportAnswers::default()
    };
    let receipt = submit_report(store, &answers, None).await;
    sqlx::query("UPDATE reports SET received_at = $1 WHERE id = $2")
        .bind(now_ms() - days_ago * DAY)
        .bind(receipt.report_id.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    receipt.report_id.to_string()
}

async fn intelligence(store: &Store, world: &World, author: &User, source: &str, grade: &str, share: bool) {
    let grading = parse_grading(&GradingAnswers { scheme: "3x5x2", source, intelligence: grade, handling: "P", ..GradingAnswers::default() }).unwrap();
    let shares = if share { vec![world.glaa.id.clone()] } else { Vec::new() };
    let insert = IntelligenceInsert {
        report_id: None,
        owner_organisation_id: &author.organisation_id,
        created_by: &author.id,
        title: "Nail bar",
        grading: &grading,
        sanitised_text: "Workers live on site.",
        source: None,
        review_on: None,
        people: &[],
        share_with: &shares,
    };
    store.create_intelligence(&insert).await.unwrap();
}

async fn count(store: &Store, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(store.pool()).await.unwrap()
}

async fn counts_agree_with_the_tables_and_follow_the_range_the_area_and_the_viewer(database: TestDatabase) {
    let store = &database.store;
    let world = world(store).await;
    let analyst = caller(&world.analyst);
    let today = day_of_ms(now_ms());
    for (sector, postcode, town, danger, days_ago) in [
        ("nail_bar", Some("LU1 2AB"), "Luton", true, 1),
        ("nail_bar", Some("LU1 3CD"), "Luton", false, 9),
        ("car_wash", Some("MK40 1AA"), "Bedford", false, 20),
        ("car_wash", None, "Dunstable", false, 40),
        ("agriculture", Some("LU1 2AB"), "Luton", false, 400),
    ] {
        report(store, sector, postcode, town, danger, days_ago).await;
    }
    // One report opened two hours after it arrived.
    let opened = report(store, "nail_bar", Some("LU2 7XY"), "Luton", false, 3).await;
    sqlx::query("UPDATE reports SET first_opened_at = received_at + $1 WHERE id = $2")
        .bind(2 * 60 * 60 * 1000_i64)
        .bind(&opened)
        .execute(store.pool())
        .await
        .unwrap();
    intelligence(store, &world, &world.analyst, "2", "B", true).await;
    intelligence(store, &world, &world.analyst, "1", "A", false).await;
    intelligence(store, &world, &world.analyst, "2", "B", false).await;

    let filter = InsightFilter::default_for(today);
    let catalogue = aidant_store::testing::catalogue();
    let seen = dashboard(store, &analyst, &filter, &catalogue).await.unwrap();
    let (start, end) = filter.range_ms();
    let in_range =
        |extra: &str| format!("SELECT COUNT(*) FROM reports WHERE owning_organisation_id = $1 AND received_at >= {start} AND received_at < {end}{extra}");
    let force = world.force.id.as_str();
    assert_eq!(seen.reports, count(store, &in_range(""), force).await);
    assert_eq!(seen.reports, 5, "the report from over a year ago is outside the last 26 weeks");
    for (sector, expected) in seen.by_sector.rows() {
        assert_eq!(expected, count(store, &in_range(&format!(" AND sector = '{sector}'")), force).await, "{sector}");
    }
    for (risk, expected) in seen.by_risk.rows() {
        assert_eq!(expected, count(store, &in_range(&format!(" AND risk_level = '{risk}'")), force).await, "{risk}");
    }
    assert_eq!(seen.by_district.rows().iter().find(|(district, _)| district == "LU1").map(|(_, count)| *count), Some(2));
    assert_eq!(seen.by_district.rows().iter().find(|(district, _)| district == "No postcode").map(|(_, count)| *count), Some(1));
    let first_look: Vec<(String, i64)> = seen.first_look.rows();
    assert_eq!(first_look.iter().find(|(band, _)| band == FirstLook::WithinFourHours.label()).map(|(_, count)| *count), Some(1));
    assert_eq!(first_look.iter().find(|(band, _)| band == FirstLook::NotYet.label()).map(|(_, count)| *count), Some(4));
    assert_eq!(seen.by_week.len(), filter.weeks().len());
    assert_eq!(seen.by_week.iter().map(|(_, count)| count).sum::<i64>(), seen.reports, "every report falls in one week of the range");
    let week_of_yesterday = week_of(today - time::Duration::days(1));
    assert!(seen.by_week.iter().any(|(monday, count)| *monday == week_of_yesterday && *count >= 1), "yesterday's report is in its week");
    assert_eq!(seen.intelligence, 3);
    assert_eq!(seen.intelligence_by_grade.rows(), [("3x5x2 2B".to_owned(), 2), ("3x5x2 1A".to_owned(), 1)]);

    // An area: a postcode district or a town.
    let luton = InsightFilter { area: Some("lu1".to_owned()), ..filter.clone() };
    assert_eq!(dashboard(store, &analyst, &luton, &catalogue).await.unwrap().reports, 2);
    let dunstable = InsightFilter { area: Some("Dunstable".to_owned()), ..filter.clone() };
    assert_eq!(dashboard(store, &analyst, &dunstable, &catalogue).await.unwrap().reports, 1);
    let nowhere = InsightFilter { area: Some("Zennor".to_owned()), ..filter.clone() };
    let empty = dashboard(store, &analyst, &nowhere, &catalogue).await.unwrap();
    assert_eq!((empty.reports, empty.by_week.iter().map(|(_, count)| count).sum::<i64>()), (0, 0));

    // A range of one week ago to yesterday.
    let answers = FilterAnswers { from: &(today - time::Duration::days(10)).to_string(), to: &(today - time::Duration::days(2)).to_string(), area: "" };
    let last_week = InsightFilter::parse(&answers, today).unwrap();
    assert_eq!(dashboard(store, &analyst, &last_week, &catalogue).await.unwrap().reports, 2, "the reports of 3 and 9 days ago");

    // A partner agency counts only the intelligence shared with it, and no report.
    let partner = dashboard(store, &caller(&world.glaa_user), &filter, &catalogue).await.unwrap();
    assert!(!partner.counts_reports);
    assert_eq!((partner.reports, partner.intelligence), (0, 1));
    assert_eq!(partner.intelligence_by_grade.rows(), [("3x5x2 2B".to_owned(), 1)]);
    assert!(partner.victims_by_stage.is_none() && partner.operation_outcomes.is_none(), "a partner sees no force's cases or operations here");
    assert_eq!(seen.victims_by_stage.as_ref().map(|stages| stages.total()), Some(0), "the analyst's force has no cases yet");
    assert_eq!((seen.operation_outcomes, seen.operations), (Some(aidant_core::operations::Totals::default()), 0));
    // No dashboard for an administrator; every reading is audited.
    let admin = store.create_user(&world.force.id, "admin@force.example", "Admin", &[aidant_core::organisation::Role::Administrator]).await.unwrap();
    assert!(matches!(dashboard(store, &caller(&admin), &filter, &catalogue).await, Err(CaseError::Denied { .. })));
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "insight.view").await, 6, "six dashboards read; the refusal is audited as one");
}

async fn the_hotspot_map_counts_each_area_by_week_as_the_tables_do(database: TestDatabase) {
    use aidant_core::geography::{MapLevel, centroid};
    use aidant_store::cases::insight::hotspots;
    let store = &database.store;
    let world = world(store).await;
    let analyst = caller(&world.analyst);
    let today = day_of_ms(now_ms());
    for (postcode, days_ago) in
        [(Some("LU1 2AB"), 1), (Some("LU1 3CD"), 9), (Some("LU1 2ZZ"), 9), (Some("MK40 1AA"), 20), (None, 5), (Some("BT1 1AA"), 2), (Some("LU1 2AB"), 400)]
    {
        report(store, "nail_bar", postcode, "Luton", false, days_ago).await;
    }
    let filter = InsightFilter::default_for(today);
    let (start, end) = filter.range_ms();
    let force = world.force.id.as_str();
    let districts = hotspots(store, &analyst, &filter, MapLevel::District).await.unwrap();
    assert_eq!(districts.weeks, filter.weeks());
    assert_eq!(
        districts.reports,
        count(store, &format!("SELECT COUNT(*) FROM reports WHERE owning_organisation_id = $1 AND received_at >= {start} AND received_at < {end}"), force)
            .await
    );
    assert_eq!(districts.without_postcode, 1);
    // Each district's total is a count of its reports straight from the
    // table, and it is placed at the shipped centroid.
    for area in &districts.areas {
        let expected = count(
            store,
            &format!(
                "SELECT COUNT(*) FROM reports WHERE owning_organisation_id = $1 AND received_at >= {start} AND received_at < {end} AND postcode LIKE '{} %'",
                area.code
            ),
            force,
        )
        .await;
        assert_eq!(area.total, expected, "{}", area.code);
        assert_eq!(area.by_week.iter().sum::<i64>(), area.total);
        assert_eq!(area.centroid, centroid(MapLevel::District, &area.code));
    }
    let codes: Vec<(&str, i64)> = districts.areas.iter().map(|area| (area.code.as_str(), area.total)).collect();
    assert_eq!(codes, [("LU1", 3), ("BT1", 1), ("MK40", 1)], "most reports first, then by code");
    assert!(districts.areas.iter().find(|area| area.code == "BT1").unwrap().centroid.is_none(), "Northern Ireland has no centroid");
    // Yesterday's report is in the week that holds yesterday.
    let yesterday = filter.weeks().iter().position(|monday| *monday == week_of(today - time::Duration::days(1))).unwrap();
    assert!(districts.areas[0].by_week[yesterday] >= 1);

    let sectors = hotspots(store, &analyst, &filter, MapLevel::Sector).await.unwrap();
    let codes: Vec<(&str, i64)> = sectors.areas.iter().map(|area| (area.code.as_str(), area.total)).collect();
    assert_eq!(codes, [("LU1 2", 2), ("BT1 1", 1), ("LU1 3", 1), ("MK40 1", 1)]);
    assert_eq!(sectors.areas[0].centroid, centroid(MapLevel::Sector, "LU1 2"));

    // The area filter, and a partner that reads no reports.
    let luton = InsightFilter { area: Some("LU1".to_owned()), ..filter.clone() };
    assert_eq!(hotspots(store, &analyst, &luton, MapLevel::District).await.unwrap().reports, 3);
    let partner = hotspots(store, &caller(&world.glaa_user), &filter, MapLevel::District).await.unwrap();
    assert!(!partner.counts_reports && partner.areas.is_empty() && partner.reports == 0);
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "insight.view").await, 4, "every reading of the map is audited");
}

/// A kept count's key: organisation, dimension, day (since 1970) and value.
type TallyKey = (String, String, i64, String);

/// What the kept counts must be: every owned report counted again from the
/// table, its time to first look banded by `FirstLook::of` (so the
/// triggers' bands cannot drift from the core's).
async fn recount(store: &Store) -> std::collections::BTreeMap<TallyKey, i64> {
    type Counted = (String, i64, String, Option<i64>, String, Option<String>);
    let rows: Vec<Counted> = sqlx::query_as(
        "SELECT owning_organisation_id, received_at, risk_level, first_opened_at, sector, postcode FROM reports WHERE owning_organisation_id IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for (organisation, received, risk, opened, sector, postcode) in rows {
        let day = received.div_euclid(DAY);
        let postcode_sector = postcode.map(|postcode| postcode[..postcode.len() - 2].to_owned()).unwrap_or_default();
        for (dimension, value) in
            [("risk", risk), ("first_look", FirstLook::of(received, opened).code().to_owned()), ("sector", sector), ("postcode_sector", postcode_sector)]
        {
            *counts.entry((organisation.clone(), dimension.to_owned(), day, value)).or_insert(0) += 1;
        }
    }
    counts
}

async fn kept(store: &Store) -> std::collections::BTreeMap<TallyKey, i64> {
    let rows: Vec<(String, String, i64, String, i64)> =
        sqlx::query_as("SELECT organisation_id, dimension, day, value, reports FROM report_tallies WHERE reports <> 0").fetch_all(store.pool()).await.unwrap();
    rows.into_iter().map(|(organisation, dimension, day, value, reports)| ((organisation, dimension, day, value), reports)).collect()
}

async fn the_kept_counts_follow_every_change_to_a_report(database: TestDatabase) {
    use aidant_core::retention::{DeleteReason, RecordKind, ReviewPeriods, add_months};
    use aidant_store::cases::reports::view_report;
    use aidant_store::cases::retention::delete_record;
    let store = &database.store;
    // Reports that arrive while no organisation receives them are counted
    // once one does.
    let early = report(store, "nail_bar", Some("LU1 2AB"), "Luton", false, 2).await;
    report(store, "car_wash", None, "Dunstable", true, 0).await;
    assert!(kept(store).await.is_empty(), "no owner, nothing counted");
    let world = world(store).await;
    let force = world.force.id.to_string();
    assert_eq!(kept(store).await, recount(store).await);
    assert_eq!(kept(store).await.get(&(force.clone(), "risk".to_owned(), day_of_ms_index(now_ms()), "immediate".to_owned())), Some(&1));

    // New reports, a change of the day received, openings at different waits.
    let mut ids = Vec::new();
    for (sector, postcode, days_ago) in [("nail_bar", Some("MK40 1AA"), 1), ("agriculture", Some("LU1 3CD"), 9), ("nail_bar", None, 30)] {
        ids.push(report(store, sector, postcode, "Luton", false, days_ago).await);
    }
    assert_eq!(kept(store).await, recount(store).await);
    for (id, wait) in [(&ids[0], 30 * 60 * 1000_i64), (&ids[1], 2 * DAY)] {
        sqlx::query("UPDATE reports SET first_opened_at = received_at + $1 WHERE id = $2").bind(wait).bind(id).execute(store.pool()).await.unwrap();
    }
    view_report(store, &caller(&world.analyst), &early.parse::<aidant_core::ids::ReportId>().unwrap()).await.unwrap();
    assert_eq!(kept(store).await, recount(store).await);
    let bands: Vec<String> = kept(store).await.into_keys().filter(|(_, dimension, _, _)| dimension == "first_look").map(|(_, _, _, band)| band).collect();
    for band in [FirstLook::WithinAnHour, FirstLook::WithinThreeDays, FirstLook::NotYet] {
        assert!(bands.contains(&band.code().to_owned()), "{band:?} in {bands:?}");
    }

    // Deleted at retention review: its counts go with it.
    let supervisor =
        store.create_user(&world.force.id, "supervisor@force.example", "Supervisor", &[aidant_core::organisation::Role::Supervisor]).await.unwrap();
    let periods = ReviewPeriods::default();
    let later = add_months(now_ms(), periods.reports_months.max(periods.victim_cases_months).max(periods.intelligence_months)) + DAY;
    let before: i64 = kept(store).await.iter().filter(|((_, dimension, _, _), _)| dimension == "risk").map(|(_, count)| count).sum();
    delete_record(store, &caller(&supervisor), RecordKind::Report, &ids[2], DeleteReason::NoPolicingPurpose, &periods, later).await.unwrap();
    let after = kept(store).await;
    assert_eq!(after, recount(store).await);
    assert_eq!(after.iter().filter(|((_, dimension, _, _), _)| dimension == "risk").map(|(_, count)| count).sum::<i64>(), before - 1);
    let zeros: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_tallies WHERE reports = 0").fetch_one(store.pool()).await.unwrap();
    assert_eq!(zeros, 0, "a count that falls to zero is removed, leaving nothing of the deleted report");
}

/// The day since 1970 of a time in milliseconds.
fn day_of_ms_index(ms: i64) -> i64 {
    ms.div_euclid(DAY)
}

aidant_store::backend_tests!(
    counts_agree_with_the_tables_and_follow_the_range_the_area_and_the_viewer,
    the_hotspot_map_counts_each_area_by_week_as_the_tables_do,
    the_kept_counts_follow_every_change_to_a_report
);
