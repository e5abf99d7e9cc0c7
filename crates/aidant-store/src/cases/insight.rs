//! The dashboards' counts: the reports and intelligence a member of staff
//! may see (as search scopes them: their organisation's reports if their
//! roles read reports, their organisation's intelligence and what was
//! shared with it, less what its conditions refuse), in a date range and an
//! area, counted by week, risk, sector, place, time to first look and
//! grade. Only counts leave here, never a record; reading a dashboard is
//! audited with its filter.
//!
//! Over a whole force the report counts come from `report_tallies`, counts
//! per organisation, day and value that database triggers keep in the same
//! transaction as every change to a report (migration 0024), so a reading
//! adds up a few rows a day however many reports there are. An area (a
//! postcode district or a town) is counted from the reports themselves, over
//! the covering index `reports_insight`.

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::geography::{Centroid, MapLevel, centroid};
use aidant_core::insight::{FirstLook, InsightFilter, Tally, day_of_ms, short_day, week_of};
use aidant_core::policy::{Capability, OperationAction, VictimAction, may_on_operation, may_on_victim};
use aidant_core::safeguarding::{Stage, clock};
use aidant_core::triage::RiskLevel;
use sqlx::Row;
use time::Date;

use super::{Caller, CaseResult, Subject, record, require};
use crate::Store;

/// A week in milliseconds.
const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// What a dashboard counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub filter: InsightFilter,
    /// The caller's roles read their organisation's reports (otherwise the
    /// report charts are empty and say why).
    pub counts_reports: bool,
    /// The caller's roles read intelligence, their own or shared.
    pub counts_intelligence: bool,
    /// Reports received in the range and area.
    pub reports: i64,
    /// Reports by the week (its Monday) they were received, every week of
    /// the range in order.
    pub by_week: Vec<(Date, i64)>,
    /// By risk level, most urgent first.
    pub by_risk: Tally,
    /// By the catalogue's sector id.
    pub by_sector: Tally,
    /// By postcode district (`LU1`), or "No postcode".
    pub by_district: Tally,
    /// By how long they waited to be opened.
    pub first_look: Tally,
    /// Intelligence records written in the range.
    pub intelligence: i64,
    /// By grading: `3x5x2 2B` and so on.
    pub intelligence_by_grade: Tally,
    /// Potential victims' cases opened in the range, by where they stand
    /// today (`None` when the caller's role does not see cases).
    pub victims_by_stage: Option<Tally>,
    /// What was recorded in the operations the caller's force led that ran
    /// in the range (`None` when the caller's role does not debrief them).
    pub operation_outcomes: Option<aidant_core::operations::Totals>,
    /// How many such operations.
    pub operations: i64,
}

impl Dashboard {
    /// Nothing counted over `filter`: every week and every fixed category
    /// at zero (what an unusable filter shows).
    pub fn empty(filter: InsightFilter) -> Self {
        Dashboard {
            by_week: filter.weeks().into_iter().map(|week| (week, 0)).collect(),
            filter,
            counts_reports: true,
            counts_intelligence: true,
            reports: 0,
            by_risk: risk_tally(),
            by_sector: Tally::default(),
            by_district: Tally::default(),
            first_look: first_look_tally(),
            intelligence: 0,
            intelligence_by_grade: Tally::default(),
            victims_by_stage: None,
            operation_outcomes: None,
            operations: 0,
        }
    }
}

/// Risk levels, most urgent first, each shown even at zero.
fn risk_tally() -> Tally {
    Tally::with_categories(RiskLevel::ALL.iter().map(|risk| risk.as_str()))
}

/// The bands of time to first look, each shown even at zero.
fn first_look_tally() -> Tally {
    Tally::with_categories(FirstLook::ALL.iter().map(|band| band.label()))
}

/// The condition and value for an area: a postcode district, or a town
/// (the queue's area filter, the same expressions).
fn area_condition(area: &str, parameter: usize) -> (String, String) {
    match aidant_core::postcode::parse_outcode(area) {
        Some(district) => (format!("substr(postcode, 1, length(postcode) - 4) = ${parameter}"), district),
        None => (format!("lower(town) = ${parameter}"), area.trim().to_lowercase()),
    }
}

/// The caller's force's cases opened in the range that the caller may read,
/// by stage today; `None` without the safeguarding capability.
async fn victims_by_stage(store: &Store, caller: &Caller, start: i64, end: i64) -> CaseResult<Option<Tally>> {
    if !caller.can(Capability::Safeguarding) {
        return Ok(None);
    }
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let cases = crate::victims::victims_of_organisation(&mut connection, caller.organisation_id()).await?;
    drop(connection);
    let today = day_of_ms(crate::now_ms());
    let mut tally = Tally::with_categories(Stage::ALL.iter().map(|stage| stage.label()));
    for case in cases {
        if case.created_at_ms < start || case.created_at_ms >= end {
            continue;
        }
        if may_on_victim(&caller.actor, &caller.user_id, VictimAction::ViewCase, &case.access()).is_allowed() {
            tally.add(clock(&case.dates, today).stage.label());
        }
    }
    Ok(Some(tally))
}

/// The totals of the operations the caller's force led whose days meet the
/// range, each debriefed as its page does (and audited so); `None` without
/// the capability to plan and debrief them.
async fn operation_outcomes(
    store: &Store,
    caller: &Caller,
    filter: &InsightFilter,
    catalogue: &aidant_core::catalogue::Catalogue,
) -> CaseResult<(Option<aidant_core::operations::Totals>, i64)> {
    if !caller.can(Capability::PlanOperations) {
        return Ok((None, 0));
    }
    let mut totals = aidant_core::operations::Totals::default();
    let mut count = 0;
    for operation in super::operations::operations_for(store, caller).await? {
        let led = operation.lead_organisation_id == *caller.organisation_id();
        let debriefs = may_on_operation(&caller.actor, &caller.user_id, OperationAction::Debrief, &operation.access(None)).is_allowed();
        if !led || !debriefs || operation.ends_on < filter.from || operation.starts_on > filter.to {
            continue;
        }
        let (_, debrief) = super::operations::operation_debrief(store, caller, &operation.id, catalogue).await?;
        totals.vehicles_stopped += debrief.totals.vehicles_stopped;
        totals.premises_visited += debrief.totals.premises_visited;
        totals.people_safeguarded += debrief.totals.people_safeguarded;
        totals.arrests += debrief.totals.arrests;
        totals.intelligence_submitted += debrief.totals.intelligence_submitted;
        totals.referrals += debrief.totals.referrals;
        count += 1;
    }
    Ok((Some(totals), count))
}

/// A day in milliseconds.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// One kept count (migration 0024): an organisation's reports received on
/// one day with one value in one dimension.
struct Tallied {
    dimension: String,
    /// The index of the range's week the day falls in.
    week: i64,
    value: String,
    reports: i64,
}

/// The counts the database keeps of `organisation`'s reports received in
/// `[start, end)` (whole days) in `dimensions` (`risk`, `first_look`,
/// `sector`, `postcode_sector`), the range's weeks counted from
/// `monday_ms`: a few rows a day and dimension, however many reports.
async fn tallies(store: &Store, organisation: &str, dimensions: &[&str], (start, end): (i64, i64), monday_ms: i64) -> CaseResult<Vec<Tallied>> {
    let listed: String = dimensions.iter().map(|dimension| format!("'{dimension}'")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT dimension, day, value, reports FROM report_tallies \
         WHERE organisation_id = $1 AND dimension IN ({listed}) AND day >= $2 AND day < $3 AND reports <> 0"
    );
    let rows = sqlx::query(&sql).bind(organisation).bind(start.div_euclid(DAY_MS)).bind((end + DAY_MS - 1).div_euclid(DAY_MS)).fetch_all(store.pool()).await?;
    let mut tallied = Vec::with_capacity(rows.len());
    for row in rows {
        let day: i64 = row.try_get("day")?;
        tallied.push(Tallied {
            dimension: row.try_get("dimension")?,
            week: (day * DAY_MS - monday_ms).div_euclid(WEEK_MS),
            value: row.try_get("value")?,
            reports: row.try_get("reports")?,
        });
    }
    Ok(tallied)
}

/// The start of the range's first week (its Monday), in milliseconds.
fn first_monday_ms(filter: &InsightFilter) -> i64 {
    InsightFilter { from: week_of(filter.from), to: filter.to, area: None }.range_ms().0
}

/// The dashboard for the caller over `filter`.
pub async fn dashboard(store: &Store, caller: &Caller, filter: &InsightFilter, catalogue: &aidant_core::catalogue::Catalogue) -> CaseResult<Dashboard> {
    require(store, caller, Capability::ViewInsight).await?;
    let scope = super::search::scope(store, caller).await?;
    let (start, end) = filter.range_ms();
    let organisation = caller.organisation_id().as_str();
    let weeks = filter.weeks();
    let mut by_week: Vec<(Date, i64)> = weeks.iter().map(|week| (*week, 0)).collect();
    let mut by_risk = risk_tally();
    let mut by_sector = Tally::default();
    let mut by_district = Tally::default();
    let mut first_look = first_look_tally();
    let mut reports = 0;
    if scope.own_reports && filter.area.is_none() {
        // The whole range: the counts the database keeps as reports change.
        for tallied in tallies(store, organisation, &["risk", "first_look", "sector", "postcode_sector"], (start, end), first_monday_ms(filter)).await? {
            let count = tallied.reports;
            match tallied.dimension.as_str() {
                "risk" => {
                    if let Some(slot) = usize::try_from(tallied.week).ok().and_then(|index| by_week.get_mut(index)) {
                        slot.1 += count;
                    }
                    by_risk.add_many(tallied.value, count);
                    reports += count;
                }
                "first_look" => first_look.add_many(FirstLook::from_code(&tallied.value).map_or("Unknown", FirstLook::label), count),
                "sector" => by_sector.add_many(tallied.value, count),
                _ if tallied.value.is_empty() => by_district.add_many("No postcode", count),
                _ => by_district.add_many(MapLevel::District.of_sector(&tallied.value), count),
            }
        }
    } else if scope.own_reports {
        // An area (a district or a town, which the kept counts do not
        // hold): counted by the database, one grouping at a time over the
        // range's reports (found by owner and time), so only the groups
        // travel.
        let monday_ms = first_monday_ms(filter);
        let bands: String =
            FirstLook::BOUNDED.iter().map(|(band, bound)| format!("WHEN first_opened_at - received_at <= {bound} THEN '{}' ", band.code())).collect();
        let week = format!("(received_at - {monday_ms}) / {WEEK_MS}");
        let band = format!("CASE WHEN first_opened_at IS NULL THEN '{}' {bands}ELSE '{}' END", FirstLook::NotYet.code(), FirstLook::Longer.code());
        let district = "substr(postcode, 1, length(postcode) - 4)";
        // Two readings of the range's reports (each a pass over the index
        // that holds these columns), grouped by several things at once: the
        // groups are few, and each pass costs the same however many.
        let area = filter.area.as_deref().map(|area| area_condition(area, 4));
        for columns in [format!("{week}, risk_level, {band}"), format!("sector, {district}")] {
            let mut sql =
                format!("SELECT {columns}, COUNT(*) AS reports FROM reports WHERE owning_organisation_id = $1 AND received_at >= $2 AND received_at < $3");
            if let Some((condition, _)) = &area {
                sql.push_str(" AND ");
                sql.push_str(condition);
            }
            sql.push_str(if columns.starts_with("sector") { " GROUP BY 1, 2" } else { " GROUP BY 1, 2, 3" });
            let mut query = sqlx::query(&sql).bind(organisation).bind(start).bind(end);
            if let Some((_, value)) = &area {
                query = query.bind(value.clone());
            }
            for row in query.fetch_all(store.pool()).await? {
                let count: i64 = row.try_get("reports")?;
                if columns.starts_with("sector") {
                    by_sector.add_many(row.try_get::<String, _>(0)?, count);
                    by_district.add_many(row.try_get::<Option<String>, _>(1)?.unwrap_or_else(|| "No postcode".to_owned()), count);
                } else {
                    let index: i64 = row.try_get(0)?;
                    if let Some(slot) = usize::try_from(index).ok().and_then(|index| by_week.get_mut(index)) {
                        slot.1 += count;
                    }
                    by_risk.add_many(row.try_get::<String, _>(1)?, count);
                    let code: String = row.try_get(2)?;
                    first_look.add_many(FirstLook::from_code(&code).map_or("Unknown", FirstLook::label), count);
                    reports += count;
                }
            }
        }
    }
    let mut intelligence = 0;
    let mut intelligence_by_grade = Tally::default();
    if scope.own_intelligence || scope.shared_intelligence {
        let rows = sqlx::query(
            "SELECT i.id, i.owner_organisation_id, i.grading_scheme, i.source_grade, i.intelligence_grade FROM intelligence i \
             WHERE i.created_at >= $2 AND i.created_at < $3 \
             AND (i.owner_organisation_id = $1 OR i.id IN (SELECT intelligence_id FROM intelligence_shares WHERE organisation_id = $1))",
        )
        .bind(organisation)
        .bind(start)
        .bind(end)
        .fetch_all(store.pool())
        .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            let owner: String = row.try_get("owner_organisation_id")?;
            let counted = if owner == organisation { scope.own_intelligence } else { scope.shared_intelligence && !scope.hidden.contains(&id) };
            if !counted {
                continue;
            }
            let scheme: String = row.try_get("grading_scheme")?;
            let source: String = row.try_get("source_grade")?;
            let grade: String = row.try_get("intelligence_grade")?;
            intelligence_by_grade.add(format!("{scheme} {source}{grade}"));
            intelligence += 1;
        }
    }
    let victims_by_stage = victims_by_stage(store, caller, start, end).await?;
    let (operation_outcomes, operations) = operation_outcomes(store, caller, filter, catalogue).await?;
    let (_turn, mut transaction) = store.begin_write().await?;
    let described =
        format!("{} to {}{}", short_day(filter.from), short_day(filter.to), filter.area.as_deref().map(|area| format!(", area {area}")).unwrap_or_default());
    record(&mut transaction, caller, AuditAction::InsightView, Subject { kind: AuditRecordKind::Workspace, id: "insight" }, Some(&described)).await?;
    transaction.commit().await?;
    Ok(Dashboard {
        filter: filter.clone(),
        counts_reports: scope.own_reports,
        counts_intelligence: scope.own_intelligence || scope.shared_intelligence,
        reports,
        by_week,
        by_risk,
        by_sector,
        by_district,
        first_look,
        intelligence,
        intelligence_by_grade,
        victims_by_stage,
        operation_outcomes,
        operations,
    })
}

/// Where reports came from: one district or sector and its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotArea {
    /// `LU1` or `LU1 1`.
    pub code: String,
    /// Where the map puts it (`None` where Code-Point Open has no centroid,
    /// as for Northern Ireland's postcodes).
    pub centroid: Option<Centroid>,
    /// Reports received in each week of the range, in order.
    pub by_week: Vec<i64>,
    pub total: i64,
}

/// A planned operation's site, as a map places it.
#[derive(Debug, Clone, PartialEq)]
pub struct MapSite {
    pub operation_id: String,
    pub operation: String,
    pub name: String,
    /// The catalogue's sector for this kind of place.
    pub sector: String,
    pub postcode: Option<String>,
    pub centroid: Option<Centroid>,
    pub starts_on: Date,
    pub ends_on: Date,
}

/// What the hotspot map shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspots {
    pub filter: InsightFilter,
    pub level: MapLevel,
    /// As the dashboard's: the caller's roles read their organisation's
    /// reports.
    pub counts_reports: bool,
    /// Every week (its Monday) of the range.
    pub weeks: Vec<Date>,
    /// Areas with at least one report, most reports first.
    pub areas: Vec<HotspotArea>,
    /// Reports in the range and area.
    pub reports: i64,
    /// Of them, those with no postcode (they are counted but not placed).
    pub without_postcode: i64,
    /// Sites of the operations whose plan the caller may read and whose
    /// days meet the range.
    pub sites: Vec<MapSite>,
}

impl Hotspots {
    /// Nothing to show over `filter` (what an unusable filter shows).
    pub fn empty(filter: InsightFilter, level: MapLevel) -> Self {
        Hotspots { weeks: filter.weeks(), filter, level, counts_reports: true, areas: Vec::new(), reports: 0, without_postcode: 0, sites: Vec::new() }
    }
}

/// The hotspot map for the caller over `filter`: the reports they may see
/// counted by week and postcode district or sector (one grouped pass over
/// the dashboards' index), and the sites of the operations they may read.
pub async fn hotspots(store: &Store, caller: &Caller, filter: &InsightFilter, level: MapLevel) -> CaseResult<Hotspots> {
    require(store, caller, Capability::ViewInsight).await?;
    let scope = super::search::scope(store, caller).await?;
    let (start, end) = filter.range_ms();
    let weeks = filter.weeks();
    let mut areas: std::collections::BTreeMap<String, Vec<i64>> = std::collections::BTreeMap::new();
    let (mut reports, mut without_postcode) = (0, 0);
    let mut count_in = |sector: Option<String>, week: i64, count: i64| {
        reports += count;
        let Some(sector) = sector else {
            without_postcode += count;
            return;
        };
        let counts = areas.entry(level.of_sector(&sector)).or_insert_with(|| vec![0; weeks.len()]);
        if let Some(slot) = usize::try_from(week).ok().and_then(|index| counts.get_mut(index)) {
            *slot += count;
        }
    };
    if scope.own_reports && filter.area.is_none() {
        for tallied in tallies(store, caller.organisation_id().as_str(), &["postcode_sector"], (start, end), first_monday_ms(filter)).await? {
            count_in(Some(tallied.value).filter(|sector| !sector.is_empty()), tallied.week, tallied.reports);
        }
    } else if scope.own_reports {
        let week = format!("(received_at - {}) / {WEEK_MS}", first_monday_ms(filter));
        let area = filter.area.as_deref().map(|area| area_condition(area, 4));
        // A stored postcode less its last two letters is its sector.
        let mut sql = format!(
            "SELECT {week} AS week, substr(postcode, 1, length(postcode) - 2) AS sector, COUNT(*) AS reports FROM reports \
             WHERE owning_organisation_id = $1 AND received_at >= $2 AND received_at < $3"
        );
        if let Some((condition, _)) = &area {
            sql.push_str(" AND ");
            sql.push_str(condition);
        }
        sql.push_str(" GROUP BY 1, 2");
        let mut query = sqlx::query(&sql).bind(caller.organisation_id().as_str()).bind(start).bind(end);
        if let Some((_, value)) = &area {
            query = query.bind(value.clone());
        }
        for row in query.fetch_all(store.pool()).await? {
            count_in(row.try_get("sector")?, row.try_get("week")?, row.try_get("reports")?);
        }
    }
    let mut areas: Vec<HotspotArea> =
        areas.into_iter().map(|(code, by_week)| HotspotArea { centroid: centroid(level, &code), total: by_week.iter().sum(), code, by_week }).collect();
    areas.sort_by(|left, right| right.total.cmp(&left.total).then_with(|| left.code.cmp(&right.code)));
    let mut sites = Vec::new();
    for operation in super::operations::operations_for(store, caller).await? {
        let plan = may_on_operation(&caller.actor, &caller.user_id, OperationAction::ViewPlan, &operation.access(None)).is_allowed();
        if !plan || operation.ends_on < filter.from || operation.starts_on > filter.to {
            continue;
        }
        for site in &operation.sites {
            let postcode = site.postcode.as_deref().and_then(|postcode| aidant_core::postcode::Postcode::parse(postcode).ok());
            sites.push(MapSite {
                operation_id: operation.id.to_string(),
                operation: operation.name.clone(),
                name: site.name.clone(),
                sector: site.sector.clone(),
                centroid: postcode.as_ref().and_then(aidant_core::geography::locate),
                postcode: postcode.map(|postcode| postcode.to_string()),
                starts_on: operation.starts_on,
                ends_on: operation.ends_on,
            });
        }
    }
    let (_turn, mut transaction) = store.begin_write().await?;
    let described = format!(
        "map by {} from {} to {}{}",
        level.label().to_lowercase(),
        short_day(filter.from),
        short_day(filter.to),
        filter.area.as_deref().map(|area| format!(", area {area}")).unwrap_or_default()
    );
    record(&mut transaction, caller, AuditAction::InsightView, Subject { kind: AuditRecordKind::Workspace, id: "insight" }, Some(&described)).await?;
    transaction.commit().await?;
    Ok(Hotspots { filter: filter.clone(), level, counts_reports: scope.own_reports, weeks, areas, reports, without_postcode, sites })
}
