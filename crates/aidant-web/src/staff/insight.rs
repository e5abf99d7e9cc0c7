//! The dashboards: charts drawn here as SVG, each with its numbers in a
//! table beside it and as a CSV download, over what the viewer may see
//! (`aidant_store::cases::insight`), filtered by a date range and an area.
//! A filter that cannot be used is shown with its problems by field and
//! empty charts, never an error page.

use aidant_core::insight::{FilterAnswers, InsightFilter, Tally, day_of_ms, short_day};
use aidant_store::cases::insight::{Dashboard, dashboard};
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
