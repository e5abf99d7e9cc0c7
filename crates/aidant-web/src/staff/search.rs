//! Search across the reports and intelligence a user may see: the use case
//! (`aidant_store::cases::search`) narrows, filters by the policy and
//! audits; this turns its findings into lines a person reads.

use aidant_store::cases;
use aidant_store::cases::search::{CANDIDATE_LIMIT, Finding};
use axum::extract::{Query, State};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::{Staff, StaffPage, format_time, render};
use crate::AppState;
use crate::error::WebResult;

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

/// Runs a search for `staff` and words its findings.
pub async fn run_search(state: &AppState, staff: &Staff, query: &str) -> WebResult<Vec<SearchResult>> {
    let findings = cases::search::search(state.store(), &staff.caller, query).await?;
    let catalogue = state.catalogue();
    Ok(findings
        .into_iter()
        .map(|finding| match finding {
            Finding::Report { id, reference, sector, town, risk_level, received_at_ms } => {
                let sector = catalogue.sector(&sector).map_or(sector, |known| known.name.clone());
                SearchResult {
                    kind: "report".to_owned(),
                    id: id.to_string(),
                    reference: aidant_core::ReportRef::parse(&reference).map(|parsed| parsed.to_string()).unwrap_or(reference),
                    summary: [Some(sector), town].into_iter().flatten().collect::<Vec<_>>().join(", "),
                    grade: risk_level.as_str().to_owned(),
                    when: format_time(received_at_ms),
                }
            }
            Finding::Intelligence { id, reference, title, grading, created_at_ms } => SearchResult {
                kind: "intelligence".to_owned(),
                id: id.to_string(),
                reference,
                summary: title,
                grade: grading,
                when: format_time(created_at_ms),
            },
        })
        .collect())
}

pub async fn search(State(state): State<AppState>, staff: Staff, Query(query): Query<SearchQuery>) -> WebResult {
    let text = query.q.unwrap_or_default();
    let results = if text.trim().is_empty() {
        cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::Search).await?;
        None
    } else {
        Some(run_search(&state, &staff, &text).await?)
    };
    // A phone, registration, postcode, email or handle typed in is also
    // looked up as an entity (shown only if a visible record mentions it).
    let entity = match results {
        Some(_) => cases::entities::find_entity_by_identifier(state.store(), &staff.caller, &text).await?,
        None => None,
    };
    // Words typed are also looked up as people's names.
    let people = match results {
        Some(_) => cases::people::people_by_name(state.store(), &staff.caller, &text).await?,
        None => Vec::new(),
    };
    let people: Vec<Value> = people.iter().map(|(id, name)| context! { id => id.to_string(), name => name.clone() }).collect();
    let count = results.as_ref().map_or(0, Vec::len);
    let rows: Vec<Value> = results.unwrap_or_default().into_iter().map(|result| crate::html::serde_value(&result)).collect();
    let entity = entity.map(|entity| super::entities::entity_line(&entity, &[]));
    let data = context! { query => text.clone(), searched => !text.trim().is_empty(), count, rows, limit => CANDIDATE_LIMIT, entity, people };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/search.html", "Search", "search"), data))
}
