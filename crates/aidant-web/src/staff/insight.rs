//! The dashboards: charts drawn here as SVG, each with its numbers in a
//! table beside it and as a CSV download, over what the viewer may see
//! (`aidant_store::cases::insight`), filtered by a date range and an area.
//! A filter that cannot be used is shown with its problems by field and
//! empty charts, never an error page.

use aidant_core::geography::MapLevel;
use aidant_core::insight::{FilterAnswers, InsightFilter, Tally, day_of_ms, short_day};
use aidant_core::report::FieldError;
use aidant_store::cases::insight::{Dashboard, HotspotArea, Hotspots, MapSite, dashboard, hotspots};
use aidant_store::now_ms;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use minijinja::{Value, context};
use serde::Deserialize;

use super::{Staff, StaffPage, page_errors, render};
use crate::AppState;
use crate::error::{WebError, WebResult};

/// The filter as it comes in the address.
#[derive(Debug, Default, Deserialize)]
pub struct FilterQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    area: String,
}

impl FilterQuery {
    fn answers(&self) -> FilterAnswers<'_> {
        FilterAnswers { from: &self.from, to: &self.to, area: &self.area }
    }

    /// The same filter for a link (a CSV download keeps it).
    fn to_query(&self) -> String {
        let encode = |text: &str| percent_encoding::utf8_percent_encode(text.trim(), percent_encoding::NON_ALPHANUMERIC).to_string();
        format!("from={}&to={}&area={}", encode(&self.from), encode(&self.to), encode(&self.area))
    }
}

/// One chart: an id for its address, a title, and its rows.
struct Chart {
    id: &'static str,
    title: String,
    /// What the first column holds.
    category: &'static str,
    rows: Vec<(String, i64)>,
    note: Option<&'static str>,
}

/// How many places and sectors a chart names before the rest are "Other".
const TOP: usize = 12;

fn charts(state: &AppState, dashboard: &Dashboard) -> Vec<Chart> {
    let catalogue = state.catalogue();
    let sector_name = |id: &str| catalogue.sector(id).map(|sector| sector.name.clone()).unwrap_or_else(|| id.to_owned());
    let mut by_sector = Tally::default();
    let mut by_exploitation = Tally::with_categories(catalogue.exploitation_types.iter().map(|kind| kind.name.clone()));
    for (sector, count) in dashboard.by_sector.rows() {
        by_sector.add_many(sector_name(&sector), count);
        for kind in catalogue.sector(&sector).map(|sector| sector.exploitation_types.clone()).unwrap_or_default() {
            let name = catalogue.exploitation_type(&kind).map(|kind| kind.name.clone()).unwrap_or(kind);
            by_exploitation.add_many(name, count);
        }
    }
    let mut charts = Vec::new();
    let risk_label = |risk: &str| {
        let mut letters = risk.chars();
        letters.next().map(|first| first.to_uppercase().chain(letters).collect()).unwrap_or_default()
    };
    charts.extend([
        Chart {
            id: "weeks",
            title: "Reports received by week".to_owned(),
            category: "Week beginning",
            rows: dashboard.by_week.iter().map(|(monday, count)| (short_day(*monday), *count)).collect(),
            note: None,
        },
        Chart {
            id: "risk",
            title: "Reports by risk".to_owned(),
            category: "Risk",
            rows: dashboard.by_risk.rows().into_iter().map(|(risk, count)| (risk_label(&risk), count)).collect(),
            note: None,
        },
        Chart { id: "sector", title: "Reports by sector".to_owned(), category: "Sector", rows: by_sector.top(TOP), note: None },
        Chart {
            id: "exploitation",
            title: "Reports by type of exploitation".to_owned(),
            category: "Type of exploitation",
            rows: by_exploitation.rows(),
            note: Some("By the types of exploitation the report's sector points to: a report can count under more than one."),
        },
        Chart {
            id: "place",
            title: "Reports by postcode district".to_owned(),
            category: "Postcode district",
            rows: dashboard.by_district.top(TOP),
            note: None,
        },
        Chart {
            id: "first-look",
            title: "Time from report to first look".to_owned(),
            category: "Opened",
            rows: dashboard.first_look.rows(),
            note: Some("From when a report was received to when someone in the workspace first opened it."),
        },
        Chart {
            id: "intelligence",
            title: "Intelligence records by grade".to_owned(),
            category: "Grade (scheme, source and intelligence)",
            rows: dashboard.intelligence_by_grade.rows(),
            note: None,
        },
    ]);
    if let Some(stages) = &dashboard.victims_by_stage {
        charts.push(Chart {
            id: "victims",
            title: "Potential victims by stage".to_owned(),
            category: "Where the case stands today",
            rows: stages.rows(),
            note: Some("Your force's cases opened in the range that you may read, by where each stands in the National Referral Mechanism today."),
        });
    }
    if let Some(totals) = &dashboard.operation_outcomes {
        let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        charts.push(Chart {
            id: "operations",
            title: format!("Outcomes of operations ({} led by your force in the range)", dashboard.operations),
            category: "Outcome",
            rows: vec![
                ("Vehicles stopped".to_owned(), count(totals.vehicles_stopped)),
                ("Premises visited".to_owned(), count(totals.premises_visited)),
                ("People safeguarded".to_owned(), count(totals.people_safeguarded)),
                ("Arrests".to_owned(), count(totals.arrests)),
                ("Intelligence submitted".to_owned(), count(totals.intelligence_submitted)),
                ("Referrals made".to_owned(), count(totals.referrals)),
            ],
            note: Some("As each operation's debrief counts them."),
        });
    }
    charts
}

/// Widest bar, in the SVG's units.
const BAR_WIDTH: i64 = 360;

fn chart_context(chart: &Chart, query: &str) -> Value {
    let largest = chart.rows.iter().map(|(_, count)| *count).max().unwrap_or(0).max(1);
    let total: i64 = chart.rows.iter().map(|(_, count)| count).sum();
    let rows: Vec<Value> = chart
        .rows
        .iter()
        .enumerate()
        .map(|(index, (label, count))| {
            context! { label => label.clone(), count => *count, width => count * BAR_WIDTH / largest, y => index * 26 }
        })
        .collect();
    context! {
        id => chart.id,
        title => chart.title.clone(),
        category => chart.category,
        note => chart.note,
        height => chart.rows.len() * 26 + 4,
        total => total,
        rows => rows,
        csv => format!("/staff/insight/csv/{}?{query}", chart.id),
    }
}

fn today() -> time::Date {
    day_of_ms(now_ms())
}

pub async fn show(State(state): State<AppState>, staff: Staff, Query(query): Query<FilterQuery>) -> WebResult {
    let (dashboard, errors) = match InsightFilter::parse(&query.answers(), today()) {
        Ok(filter) => (dashboard(state.store(), &staff.caller, &filter, state.catalogue()).await?, Vec::new()),
        Err(errors) => {
            aidant_store::cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::ViewInsight).await?;
            (Dashboard::empty(InsightFilter::default_for(today())), page_errors(errors))
        }
    };
    let link_query = query.to_query();
    let charts: Vec<Value> = charts(&state, &dashboard).iter().map(|chart| chart_context(chart, &link_query)).collect();
    let filter = &dashboard.filter;
    let data = context! {
        charts,
        reports => dashboard.reports,
        intelligence => dashboard.intelligence,
        counts_reports => dashboard.counts_reports,
        counts_intelligence => dashboard.counts_intelligence,
        usable => errors.is_empty(),
        range => format!("{} to {}", short_day(filter.from), short_day(filter.to)),
        area => filter.area.clone(),
        values => context! { from => query.from.trim(), to => query.to.trim(), area => query.area.trim() },
        defaults => context! { from => filter.from.to_string(), to => filter.to.to_string() },
    };
    let mut page = StaffPage::new("staff/insight.html", "Dashboards", "insight");
    page.errors = errors;
    Ok(render(&state, Some(&staff), page, data))
}

/// A chart's numbers as CSV (RFC 4180), named for the chart and the range.
pub async fn csv(State(state): State<AppState>, staff: Staff, Path(chart): Path<String>, Query(query): Query<FilterQuery>) -> WebResult {
    let filter = InsightFilter::parse(&query.answers(), today()).map_err(WebError::Invalid)?;
    let dashboard = dashboard(state.store(), &staff.caller, &filter, state.catalogue()).await?;
    let charts = charts(&state, &dashboard);
    let Some(chart) = charts.iter().find(|candidate| candidate.id == chart) else {
        return Err(WebError::NotFound { title: "Not found", text: "There is no such chart." });
    };
    let field = |text: &str| {
        // Quoted, and a leading formula character made inert for spreadsheets.
        let inert = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
        format!("\"{}\"", inert.replace('"', "\"\""))
    };
    let mut body = format!("{},{}\r\n", field(chart.category), field("Count"));
    for (label, count) in &chart.rows {
        body.push_str(&format!("{},{count}\r\n", field(label)));
    }
    let name = format!("aidant-{}-{}-to-{}.csv", chart.id, filter.from, filter.to);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        body,
    )
        .into_response())
}

// The hotspot map.

/// The map's filter as it comes in the address: the dashboards' filter, the
/// level of grouping and the week the table shows (empty for all).
#[derive(Debug, Default, Deserialize)]
pub struct MapQuery {
    #[serde(flatten)]
    filter: FilterQuery,
    #[serde(default)]
    level: String,
    #[serde(default)]
    week: String,
}

impl MapQuery {
    /// The filter, level and chosen week, or every problem by field.
    fn parse(&self) -> Result<(InsightFilter, MapLevel, Option<time::Date>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let filter = InsightFilter::parse(&self.filter.answers(), today()).map_err(|mut problems| errors.append(&mut problems)).ok();
        let level = match self.level.trim() {
            "" => Some(MapLevel::District),
            text => MapLevel::parse(text),
        };
        if level.is_none() {
            errors.push(FieldError { field: "level".to_owned(), message: "Choose postcode districts or postcode sectors".to_owned() });
        }
        let mut week = None;
        if let Some(filter) = &filter
            && !self.week.trim().is_empty()
        {
            match aidant_core::text::parse_iso_date(self.week.trim()).filter(|monday| filter.weeks().contains(monday)) {
                Some(monday) => week = Some(monday),
                None => errors.push(FieldError { field: "week".to_owned(), message: "Choose a week within the range, or all weeks".to_owned() }),
            }
        }
        match (filter, level) {
            (Some(filter), Some(level)) if errors.is_empty() => Ok((filter, level, week)),
            _ => Err(errors),
        }
    }
}

/// An area's reports in the chosen week, or in all weeks.
fn in_week(area: &HotspotArea, weeks: &[time::Date], week: Option<time::Date>) -> i64 {
    match week.and_then(|week| weeks.iter().position(|monday| *monday == week)) {
        Some(index) => area.by_week.get(index).copied().unwrap_or(0),
        None => area.total,
    }
}

fn dates_of(site: &MapSite) -> String {
    if site.starts_on == site.ends_on { short_day(site.starts_on) } else { format!("{} to {}", short_day(site.starts_on), short_day(site.ends_on)) }
}

pub async fn map(State(state): State<AppState>, staff: Staff, Query(query): Query<MapQuery>) -> WebResult {
    let (hotspots, week, errors) = match query.parse() {
        Ok((filter, level, week)) => (hotspots(state.store(), &staff.caller, &filter, level).await?, week, Vec::new()),
        Err(errors) => {
            aidant_store::cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::ViewInsight).await?;
            (Hotspots::empty(InsightFilter::default_for(today()), MapLevel::District), None, page_errors(errors))
        }
    };
    let weeks: Vec<String> = hotspots.weeks.iter().map(|monday| short_day(*monday)).collect();
    let rows: Vec<Value> = hotspots
        .areas
        .iter()
        .map(|area| context! { code => area.code.clone(), count => in_week(area, &hotspots.weeks, week), placed => area.centroid.is_some() })
        .filter(|row| row.get_attr("count").ok().and_then(|count| i64::try_from(count).ok()).unwrap_or(0) > 0)
        .collect();
    let shown: i64 = hotspots.areas.iter().map(|area| in_week(area, &hotspots.weeks, week)).sum();
    let unplaced: Vec<String> = hotspots.areas.iter().filter(|area| area.centroid.is_none()).map(|area| area.code.clone()).collect();
    // What the map script draws: every week's counts, so the slider needs
    // no request (and works with the network gone).
    let map_data = serde_json::json!({
        "level": hotspots.level.label(),
        "weeks": weeks,
        "week": week.and_then(|week| hotspots.weeks.iter().position(|monday| *monday == week)),
        "areas": hotspots.areas.iter().map(|area| serde_json::json!({
            "code": area.code,
            "latitude": area.centroid.map(|centroid| centroid.latitude),
            "longitude": area.centroid.map(|centroid| centroid.longitude),
            "weeks": area.by_week,
        })).collect::<Vec<_>>(),
        "sites": hotspots.sites.iter().filter_map(|site| site.centroid.map(|centroid| serde_json::json!({
            "name": site.name, "operation": site.operation, "postcode": site.postcode, "dates": dates_of(site),
            "latitude": centroid.latitude, "longitude": centroid.longitude,
        }))).collect::<Vec<_>>(),
    });
    let filter = &hotspots.filter;
    let level = hotspots.level;
    let link_query = format!("{}&level={}", query.filter.to_query(), level.as_str());
    let data = context! {
        usable => errors.is_empty(),
        counts_reports => hotspots.counts_reports,
        reports => hotspots.reports,
        without_postcode => hotspots.without_postcode,
        shown,
        rows,
        unplaced,
        level => level.as_str(),
        level_label => level.label(),
        levels => MapLevel::ALL.iter().map(|level| context! { value => level.as_str(), label => format!("{}s", level.label()) }).collect::<Vec<_>>(),
        weeks => hotspots.weeks.iter().map(|monday| context! { value => monday.to_string(), label => short_day(*monday) }).collect::<Vec<_>>(),
        week => week.map(|week| week.to_string()).unwrap_or_default(),
        week_label => week.map(short_day),
        sites => hotspots.sites.iter().map(|site| context! {
            name => site.name.clone(),
            operation => site.operation.clone(),
            operation_id => site.operation_id.clone(),
            kind => state.catalogue().sector(&site.sector).map(|sector| sector.name.clone()).unwrap_or_else(|| site.sector.clone()),
            postcode => site.postcode.clone(),
            dates => dates_of(site),
            placed => site.centroid.is_some(),
        }).collect::<Vec<_>>(),
        map_data => crate::html::json_script(&map_data.to_string()),
        attribution => aidant_core::geography::CENTROID_ATTRIBUTION,
        range => format!("{} to {}", short_day(filter.from), short_day(filter.to)),
        area => filter.area.clone(),
        values => context! { from => query.filter.from.trim(), to => query.filter.to.trim(), area => query.filter.area.trim(), level => level.as_str() },
        defaults => context! { from => filter.from.to_string(), to => filter.to.to_string() },
        csv => format!("/staff/insight/map/csv?{link_query}"),
    };
    let mut page = StaffPage::new("staff/insight_map.html", "Hotspot map", "insight");
    page.errors = errors;
    Ok(render(&state, Some(&staff), page, data))
}

/// The map's numbers as CSV: each area with its centroid, its count in
/// every week of the range and in all.
pub async fn map_csv(State(state): State<AppState>, staff: Staff, Query(query): Query<MapQuery>) -> WebResult {
    let (filter, level, _) = query.parse().map_err(WebError::Invalid)?;
    let hotspots = hotspots(state.store(), &staff.caller, &filter, level).await?;
    let mut body = format!("\"{}\",\"Latitude\",\"Longitude\"", level.label());
    for monday in &hotspots.weeks {
        body.push_str(&format!(",\"Week beginning {monday}\""));
    }
    body.push_str(",\"All weeks\"\r\n");
    for area in &hotspots.areas {
        let (latitude, longitude) = area.centroid.map_or((String::new(), String::new()), |at| (format!("{:.4}", at.latitude), format!("{:.4}", at.longitude)));
        body.push_str(&format!("\"{}\",{latitude},{longitude}", area.code));
        for count in &area.by_week {
            body.push_str(&format!(",{count}"));
        }
        body.push_str(&format!(",{}\r\n", area.total));
    }
    let name = format!("aidant-map-{}-{}-to-{}.csv", level.as_str(), filter.from, filter.to);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        body,
    )
        .into_response())
}
