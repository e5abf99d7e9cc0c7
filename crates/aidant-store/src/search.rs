//! Full-text search behind one interface: SQLite FTS5 or a PostgreSQL
//! tsvector with a GIN index. Text is folded by `aidant_core::search::fold`
//! before it is indexed and before it is queried, so both backends find
//! "Ștefan" by "stefan" and "Nguyễn" by "nguyen".
//!
//! The store narrows candidates to records the searcher's organisation owns
//! or has been sent; the access policy in aidant-core then decides record
//! by record before anything is counted or shown (see aidant-web).

use aidant_core::ids::{OrganisationId, ReportId};
use aidant_core::search::{fold, query_terms};
use sqlx::{Any, Row, Transaction};

use crate::{Backend, Store, StoreError};

/// The most words a query may have; more are ignored.
pub const MAX_QUERY_TERMS: usize = 8;

/// One match: which record, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub record_kind: String,
    pub record_id: String,
}

/// Writes (or replaces) a report's search document inside `transaction`.
/// The owner is read from the report row written in the same transaction.
pub(crate) async fn index_report(transaction: &mut Transaction<'_, Any>, report_id: &str, text: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO search_documents (record_kind, record_id, owner_organisation_id, body)
         VALUES ('report', $1, (SELECT owning_organisation_id FROM reports WHERE id = $1), $2)
         ON CONFLICT (record_kind, record_id) DO UPDATE SET body = excluded.body, owner_organisation_id = excluded.owner_organisation_id",
    )
    .bind(report_id)
    .bind(fold(text))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// Adds text to a report's search document (a reporter's later message).
pub(crate) async fn append_to_report_document(transaction: &mut Transaction<'_, Any>, report_id: &str, text: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE search_documents SET body = body || ' ' || $1 WHERE record_kind = 'report' AND record_id = $2")
        .bind(fold(text))
        .bind(report_id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Writes (or replaces) an intelligence record's search document: its
/// reference, title, grading and sanitised text, never the sealed source.
pub(crate) async fn index_intelligence(transaction: &mut Transaction<'_, Any>, intelligence_id: &str, owner: &str, text: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO search_documents (record_kind, record_id, owner_organisation_id, body) VALUES ('intelligence', $1, $2, $3)
         ON CONFLICT (record_kind, record_id) DO UPDATE SET body = excluded.body, owner_organisation_id = excluded.owner_organisation_id",
    )
    .bind(intelligence_id)
    .bind(owner)
    .bind(fold(text))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

impl Store {
    /// Records matching every word of `query` (each as a prefix) that
    /// `organisation_id` owns or that were shared with it, newest first, at
    /// most `limit`. Newest first rather than by a relevance score: every
    /// result holds every word, and scoring all matches of a common word
    /// costs more than the queue's users should wait. The caller applies the access policy to each.
    pub async fn search_candidates(&self, organisation_id: &OrganisationId, query: &str, limit: i64) -> Result<Vec<SearchHit>, StoreError> {
        let organisation_id = organisation_id.as_str();
        let terms = query_terms(query, MAX_QUERY_TERMS);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        // Terms hold only [a-z0-9], so they are safe inside either syntax;
        // the expression is still bound as a parameter, never spliced.
        let visible = "(d.owner_organisation_id = $2 OR (d.record_kind = 'intelligence' AND EXISTS (
                SELECT 1 FROM intelligence_shares s WHERE s.intelligence_id = d.record_id AND s.organisation_id = $2)))";
        let (sql, expression) = match self.backend {
            Backend::Sqlite => (
                format!(
                    "SELECT d.record_kind, d.record_id FROM search_text JOIN search_documents d ON d.doc_id = search_text.rowid
                     WHERE search_text MATCH $1 AND {visible} ORDER BY search_text.rowid DESC LIMIT $3"
                ),
                terms.iter().map(|term| format!("\"{term}\"*")).collect::<Vec<_>>().join(" AND "),
            ),
            Backend::Postgres => (
                format!(
                    "SELECT d.record_kind, d.record_id FROM search_documents d
                     WHERE d.document @@ to_tsquery('simple', $1) AND {visible}
                     ORDER BY d.doc_id DESC LIMIT $3"
                ),
                terms.iter().map(|term| format!("{term}:*")).collect::<Vec<_>>().join(" & "),
            ),
        };
        let rows = sqlx::query(&sql).bind(expression).bind(organisation_id).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok(SearchHit { record_kind: row.try_get("record_kind")?, record_id: row.try_get("record_id")? })).collect()
    }
}

/// A report as a search result or queue line shows it, with its owner for
/// the access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    pub id: ReportId,
    pub reference: String,
    pub owner_organisation_id: Option<OrganisationId>,
    pub received_at_ms: i64,
    pub risk_level: aidant_core::RiskLevel,
    pub sector: String,
    pub town: Option<String>,
    pub status: aidant_core::organisation::ReportStatus,
}

impl Store {
    /// Summaries of the given reports in one query, in no particular order.
    pub async fn report_summaries(&self, ids: &[ReportId]) -> Result<Vec<ReportSummary>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, reference, owning_organisation_id, received_at, risk_level, sector, town, status FROM reports WHERE id IN ({})",
            crate::bind_list(ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(ReportSummary {
                    id: crate::named(row, "id")?,
                    reference: row.try_get("reference")?,
                    owner_organisation_id: crate::named_optional(row, "owning_organisation_id")?,
                    received_at_ms: row.try_get("received_at")?,
                    risk_level: crate::named(row, "risk_level")?,
                    sector: row.try_get("sector")?,
                    town: row.try_get("town")?,
                    status: crate::named(row, "status")?,
                })
            })
            .collect()
    }
}

impl ReportSummary {
    pub fn access(&self) -> aidant_core::policy::RecordAccess {
        crate::triage::report_access(self.owner_organisation_id.as_ref())
    }
}
