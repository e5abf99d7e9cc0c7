//! Search across the reports and intelligence a user may see. The store
//! narrows candidates to the user's organisation and what was shared with
//! it; the access policy then decides record by record, before anything is
//! counted or shown.

use aidant_core::policy::{Action, Capability, may};
use aidant_store::audit::AuditEvent;
use axum::extract::{Query, State};
use axum::response::Response;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::{Staff, StaffPage, check_capability, failed, format_time, render};
use crate::AppState;

/// Candidates fetched per search before the policy filters them.
pub const CANDIDATE_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

/// One result the user may see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    /// `report` or `intelligence`.
    pub kind: String,
    pub id: String,
    pub reference: String,
    /// The sector and town of a report, or the title of intelligence.
    pub summary: String,
    /// Risk level of a report, or the grading code of intelligence.
    pub grade: String,
    pub when: String,
}

/// Runs a search for `staff`: candidates from the index, then the policy,
/// best match first. Audited with the words searched for.
pub async fn run_search(state: &AppState, staff: &Staff, query: &str) -> Result<Vec<SearchResult>, aidant_store::StoreError> {
    let store = state.store();
    let hits = store.search_candidates(&staff.organisation.id, query, CANDIDATE_LIMIT).await?;
    let report_ids: Vec<String> = hits.iter().filter(|hit| hit.record_kind == "report").map(|hit| hit.record_id.clone()).collect();
    let reports = store.report_summaries(&report_ids).await?;
    let intelligence_ids: Vec<String> = hits.iter().filter(|hit| hit.record_kind == "intelligence").map(|hit| hit.record_id.clone()).collect();
    let records = store.find_intelligence_many(&intelligence_ids).await?;
    let now = aidant_store::now_ms();
    let catalogue = state.catalogue();
    let mut results = Vec::new();
    for hit in &hits {
        if hit.record_kind == "report" {
            let Some(report) = reports.iter().find(|report| report.id == hit.record_id) else { continue };
            if !may(&staff.actor, Action::ViewReport, &report.access(), now).is_allowed() {
                continue;
            }
            let sector = catalogue.sector(&report.sector).map_or_else(|| report.sector.clone(), |sector| sector.name.clone());
            results.push(SearchResult {
                kind: "report".to_owned(),
                id: report.id.clone(),
                reference: aidant_core::ReportRef::parse(&report.reference).map(|reference| reference.to_string()).unwrap_or_else(|_| report.reference.clone()),
                summary: [Some(sector), report.town.clone()].into_iter().flatten().collect::<Vec<_>>().join(", "),
                grade: report.risk_level.clone(),
                when: format_time(report.received_at_ms),
            });
        } else if let Some(record) = records.iter().find(|record| record.id == hit.record_id)
            && may(&staff.actor, Action::ViewIntelligence, &record.access(), now).is_allowed()
        {
            results.push(SearchResult {
                kind: "intelligence".to_owned(),
                id: record.id.clone(),
                reference: record.reference.clone(),
                summary: record.title.clone(),
                grade: record.grading.code(),
                when: format_time(record.created_at_ms),
            });
        }
    }
    let reason = format!("searched for \u{201c}{}\u{201d}: {} results", query.chars().take(200).collect::<String>(), results.len());
    store.audit(&AuditEvent { actor: &staff.audit_actor(), action: "search", record_kind: "search", record_id: "-", reason: Some(&reason) }).await?;
    Ok(results)
}

pub async fn search(State(state): State<AppState>, staff: Staff, Query(query): Query<SearchQuery>) -> Response {
    if let Err(response) = check_capability(&state, &staff, Capability::Search).await {
        return response;
    }
    let text = query.q.unwrap_or_default();
    let results = if text.trim().is_empty() {
        None
    } else {
        match run_search(&state, &staff, &text).await {
            Ok(results) => Some(results),
            Err(error) => return failed(&state, "searching", &error),
        }
    };
    let count = results.as_ref().map_or(0, Vec::len);
    let rows: Vec<Value> = results.unwrap_or_default().into_iter().map(|result| crate::pages::serde_value(&result)).collect();
    let data = context! { query => text.clone(), searched => !text.trim().is_empty(), count, rows, limit => CANDIDATE_LIMIT };
    render(&state, Some(&staff), StaffPage::new("staff/search.html", "Search", "search"), data)
}
