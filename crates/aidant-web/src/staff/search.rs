//! Search across the reports and intelligence a user may see: the use case
//! (`aidant_store::cases::search`) narrows, filters by the policy and
//! audits; this turns its findings into lines a person reads.

use aidant_store::cases;
use aidant_store::cases::search::Finding;
use aidant_store::search::SearchPosition;
use axum::extract::{Query, State};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::queue::display_reference;
use super::{Staff, StaffPage, format_count, format_time, render};
use crate::AppState;
use crate::error::WebResult;
use crate::html::PageError;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    /// The page of older results after this place (a token from a page link).
    pub after: Option<String>,
    /// The page of newer results before this place.
    pub before: Option<String>,
}

impl SearchQuery {
    /// Which page the query asks for; `Err` names the parameter that is not
    /// a page link.
    pub fn position(&self) -> Result<SearchPosition, PageError> {
        let token = |value: &Option<String>| value.as_deref().map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned);
        let place = |field: &str, token: &str| {
            Some(token)
                .filter(|token| is_page_token(token))
                .and_then(|token| token.parse::<i64>().ok())
                .ok_or_else(|| PageError::new(field, "That page link is not valid; this is the first page"))
        };
        match (token(&self.after), token(&self.before)) {
            (None, None) => Ok(SearchPosition::First),
            (Some(after), None) => place("after", &after).map(SearchPosition::Older),
            (None, Some(before)) => place("before", &before).map(SearchPosition::Newer),
            (Some(_), Some(_)) => Err(PageError::new("after", "A page link gives either after or before, not both; this is the first page")),
        }
    }
}

/// Whether `token` is a search page link: a positive number as the pages
/// write it (no sign, no leading zero, at most 18 digits).
pub fn is_page_token(token: &str) -> bool {
    (1..=18).contains(&token.len()) && token.bytes().all(|byte| byte.is_ascii_digit()) && !token.starts_with('0')
}

/// A page of results the user may see, with the count of them all.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
    /// Results in all, counted up to `COUNT_CAP`.
    pub total: i64,
    pub total_is_capped: bool,
    /// `after` for the next page.
    pub next: Option<String>,
    /// `before` for the previous page.
    pub previous: Option<String>,
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

/// Runs a search for `staff` and words a page of its findings.
pub async fn run_search(state: &AppState, staff: &Staff, query: &str, position: SearchPosition) -> WebResult<SearchResults> {
    let outcome = cases::search::search(state.store(), &staff.caller, query, position).await?;
    let catalogue = state.catalogue();
    let results = outcome
        .findings
        .into_iter()
        .map(|finding| match finding {
            Finding::Report { id, reference, sector, town, risk_level, received_at_ms } => {
                let sector = catalogue.sector(&sector).map_or(sector, |known| known.name.clone());
                SearchResult {
                    kind: "report".to_owned(),
                    id: id.to_string(),
                    reference: display_reference(&reference),
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
        .collect();
    Ok(SearchResults {
        results,
        total: outcome.total,
        total_is_capped: outcome.total_is_capped,
        next: outcome.older.map(|place| place.to_string()),
        previous: outcome.newer.map(|place| place.to_string()),
    })
}

pub async fn search(State(state): State<AppState>, staff: Staff, Query(query): Query<SearchQuery>) -> WebResult {
    let text = query.q.clone().unwrap_or_default();
    let mut errors = Vec::new();
    let position = query.position().unwrap_or_else(|error| {
        errors.push(error);
        SearchPosition::First
    });
    let results = if text.trim().is_empty() {
        cases::require(state.store(), &staff.caller, aidant_core::policy::Capability::Search).await?;
        None
    } else {
        Some(run_search(&state, &staff, &text, position).await?)
    };
    // A phone, registration, postcode, email or handle typed in is also
    // looked up as an entity (shown only if a visible record mentions it),
    // and the words as people's names, on the first page.
    let first_page = position == SearchPosition::First;
    let entity = match results {
        Some(_) if first_page => cases::entities::find_entity_by_identifier(state.store(), &staff.caller, &text).await?,
        _ => None,
    };
    let people = match results {
        Some(_) if first_page => cases::people::people_by_name(state.store(), &staff.caller, &text).await?,
        _ => Vec::new(),
    };
    let people: Vec<Value> = people.iter().map(|(id, name)| context! { id => id.to_string(), name => name.clone() }).collect();
    let results = results.unwrap_or_default();
    let encoded = percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC).to_string();
    let rows: Vec<Value> = results.results.iter().map(crate::html::serde_value).collect();
    let entity = entity.map(|entity| super::entities::entity_line(&entity, &[]));
    let data = context! {
        query => text.clone(),
        searched => !text.trim().is_empty(),
        total => results.total,
        total_text => format_count(results.total),
        total_is_capped => results.total_is_capped,
        shown => rows.len(),
        rows,
        first_page,
        first_href => format!("/staff/search?q={encoded}"),
        next_href => results.next.as_ref().map(|place| format!("/staff/search?q={encoded}&after={place}")),
        previous_href => results.previous.as_ref().map(|place| format!("/staff/search?q={encoded}&before={place}")),
        entity,
        people,
    };
    let mut page = StaffPage::new("staff/search.html", "Search", "search");
    page.errors = errors;
    let mut response = render(&state, Some(&staff), page, data);
    if response.status() == axum::http::StatusCode::UNPROCESSABLE_ENTITY {
        *response.status_mut() = axum::http::StatusCode::OK;
    }
    Ok(response)
}
