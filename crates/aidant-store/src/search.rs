//! Full-text search behind one interface: SQLite FTS5 or a PostgreSQL
//! tsvector with GIN indexes, reports and intelligence indexed apart. Text
//! is folded by `aidant_core::search::fold` before it is indexed and before
//! it is queried, so both backends find "Ștefan" by "stefan" and "Nguyễn"
//! by "nguyen".
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

/// One match: which record, and its place in the index (newer is higher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub record_kind: String,
    pub record_id: String,
    pub doc_id: i64,
}

/// Which records a search may find, worked out with the access policy
/// before the index is asked, so counts and pages hold only what the
/// searcher may see: the kinds their roles open in their own organisation,
/// intelligence shared with it, less the shared records the policy refuses
/// (`hidden`: named recipients that leave the organisation out, or expired
/// conditions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchScope {
    pub own_reports: bool,
    pub own_intelligence: bool,
    pub shared_intelligence: bool,
    pub hidden: Vec<String>,
}

impl SearchScope {
    fn is_empty(&self) -> bool {
        !(self.own_reports || self.own_intelligence || self.shared_intelligence)
    }
}

/// Which page of results: the newest, those older than a result, or those
/// newer than one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchPosition {
    #[default]
    First,
    Older(i64),
    Newer(i64),
}

/// A page of results, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Where the next (older) page starts, if there is one.
    pub older: Option<i64>,
    /// Where the previous (newer) page starts, if this is not the first.
    pub newer: Option<i64>,
}

/// Search documents written per statement when reports are indexed together.
const DOCUMENTS_PER_STATEMENT: usize = 200;

/// Writes the search documents of reports just written in `transaction`
/// (report id, text), a few hundred per statement. The owner is read from
/// each report's row.
pub(crate) async fn index_new_reports(transaction: &mut Transaction<'_, Any>, documents: &[(&str, &str)]) -> Result<(), StoreError> {
    for chunk in documents.chunks(DOCUMENTS_PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|index| {
                let (id, body) = (2 * index + 1, 2 * index + 2);
                format!("('report', ${id}, (SELECT owning_organisation_id FROM reports WHERE id = ${id}), ${body})")
            })
            .collect();
        let statement = format!("INSERT INTO search_documents (record_kind, record_id, owner_organisation_id, body) VALUES {}", rows.join(", "));
        let mut query = sqlx::query(&statement);
        for (report_id, text) in chunk {
            query = query.bind(*report_id).bind(fold(text));
        }
        query.execute(&mut **transaction).await?;
    }
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

/// A search worked out for one backend: one arm per kind of record the
/// scope opens, each reading only that kind's part of the index, and the
/// values bound to every arm ($1 the expression, $2 the organisation, then
/// the hidden ids).
struct SearchPlan {
    /// Each arm's document id (the column it is read in order of) and its
    /// `FROM ... WHERE`.
    arms: Vec<(String, String)>,
    values: Vec<String>,
}

/// A row of a search statement as a hit.
fn search_hit(row: &sqlx::any::AnyRow) -> Result<SearchHit, StoreError> {
    Ok(SearchHit { doc_id: row.try_get("doc_id")?, record_kind: row.try_get("record_kind")?, record_id: row.try_get("record_id")? })
}

impl SearchPlan {
    /// The arms joined into one statement, each keeping to the document ids
    /// that meet every one of `places` (a comparison and a document id),
    /// then `tail`.
    fn statement(&self, places: &[(&str, i64)], tail: &str) -> String {
        let place = |key: &str| places.iter().map(|(comparison, doc_id)| format!(" AND {key} {comparison} {doc_id}")).collect::<String>();
        let arms: Vec<String> = self
            .arms
            .iter()
            .map(|(key, from_where)| format!("SELECT {key} AS doc_id, d.record_kind AS record_kind, d.record_id AS record_id FROM {from_where}{}", place(key)))
            .collect();
        format!("{}{tail}", arms.join(" UNION ALL "))
    }
}

impl Store {
    /// The plan of a search (match and visibility, per kind of record);
    /// `None` when nothing could match.
    fn search_plan(&self, organisation_id: &OrganisationId, query: &str, scope: &SearchScope) -> Option<SearchPlan> {
        self.search_plan_reading(organisation_id, query, scope, Reading::Index)
    }

    /// The plan of a search that reads the index (`Reading::Index`), or,
    /// on PostgreSQL, that tests each document in turn (`Reading::Documents`).
    fn search_plan_reading(&self, organisation_id: &OrganisationId, query: &str, scope: &SearchScope, reading: Reading) -> Option<SearchPlan> {
        let terms = query_terms(query, MAX_QUERY_TERMS);
        if terms.is_empty() || scope.is_empty() {
            return None;
        }
        let mut values = vec![organisation_id.as_str().to_owned()];
        let mut intelligence = Vec::new();
        if scope.own_intelligence {
            intelligence.push("d.owner_organisation_id = $2".to_owned());
        }
        if scope.shared_intelligence {
            let mut hidden = String::new();
            if !scope.hidden.is_empty() {
                let first = values.len() + 2;
                values.extend(scope.hidden.iter().cloned());
                let list = (first..first + scope.hidden.len()).map(|number| format!("${number}")).collect::<Vec<_>>().join(", ");
                hidden = format!(" AND d.record_id NOT IN ({list})");
            }
            intelligence.push(format!(
                "(d.owner_organisation_id <> $2 AND EXISTS (
                    SELECT 1 FROM intelligence_shares s WHERE s.intelligence_id = d.record_id AND s.organisation_id = $2){hidden})"
            ));
        }
        // Each kind has its own part of the index (its own FTS5 table on
        // SQLite, its own partial GIN index on PostgreSQL), so a partner
        // agency that sees only intelligence never reads the entries of a
        // million reports holding the same word.
        let mut kinds = Vec::new();
        if scope.own_reports {
            kinds.push(("report", "d.owner_organisation_id = $2".to_owned()));
        }
        if !intelligence.is_empty() {
            kinds.push(("intelligence", intelligence.join(" OR ")));
        }
        let arms = match self.backend {
            // SQLite reads a full-text index in rowid order (the document's
            // id), so each kind is an arm of its own, read newest first,
            // and the arms are merged in that order: a page stops early.
            Backend::Sqlite => kinds
                .iter()
                .map(|(kind, visible)| {
                    let index = if *kind == "report" { "search_text" } else { "intelligence_search_text" };
                    let from_where = format!(
                        "{index} JOIN search_documents d ON d.doc_id = {index}.rowid WHERE {index} MATCH $1 AND d.record_kind = '{kind}' AND ({visible})"
                    );
                    (format!("{index}.rowid"), from_where)
                })
                .collect(),
            // PostgreSQL gets one statement whose kinds are ORed, each
            // naming its kind so its partial index applies (a bitmap OR of
            // the two): arms joined by UNION ALL made it fetch and sort
            // every match of a common word before the first page (0.4 s
            // and more at a million reports), where one statement walks the
            // newest documents.
            // `ts_match_vq` is the function behind `@@`: written as a call,
            // the planner cannot answer it from the GIN index, so a count
            // reads the documents newest first and stops at its limit.
            Backend::Postgres => {
                let visible: Vec<String> = kinds.iter().map(|(kind, visible)| format!("(d.record_kind = '{kind}' AND ({visible}))")).collect();
                let matches = match reading {
                    Reading::Index => "d.document @@ to_tsquery('simple', $1)",
                    Reading::Documents => "ts_match_vq(d.document, to_tsquery('simple', $1))",
                };
                vec![("d.doc_id".to_owned(), format!("search_documents d WHERE {matches} AND ({})", visible.join(" OR ")))]
            }
        };
        // Terms hold only [a-z0-9], so they are safe inside either syntax;
        // the expression is still bound as a parameter, never spliced.
        let expression = match self.backend {
            Backend::Sqlite => terms.iter().map(|term| format!("\"{term}\"*")).collect::<Vec<_>>().join(" AND "),
            Backend::Postgres => terms.iter().map(|term| format!("{term}:*")).collect::<Vec<_>>().join(" & "),
        };
        let mut bound = vec![expression];
        bound.extend(values);
        Some(SearchPlan { arms, values: bound })
    }

    /// A page of records matching every word of `query` (each as a prefix)
    /// within `scope`, newest first, at most `limit`. Newest first rather
    /// than by a relevance score: every result holds every word, and
    /// scoring all matches of a common word costs more than staff should
    /// wait. The caller still asks the policy about each before showing it.
    pub async fn search_page(
        &self,
        organisation_id: &OrganisationId,
        query: &str,
        scope: &SearchScope,
        position: SearchPosition,
        limit: i64,
    ) -> Result<SearchPage, StoreError> {
        let Some(plan) = self.search_plan(organisation_id, query, scope) else {
            return Ok(SearchPage::default());
        };
        let limit = limit.clamp(1, 200);
        let (place, direction) = match position {
            SearchPosition::First => (None, "DESC"),
            SearchPosition::Older(doc_id) => (Some(("<", doc_id)), "DESC"),
            SearchPosition::Newer(doc_id) => (Some((">", doc_id)), "ASC"),
        };
        let sql = plan.statement(place.as_slice(), &format!(" ORDER BY doc_id {direction} LIMIT {}", limit + 1));
        let mut select = sqlx::query(&sql);
        for value in &plan.values {
            select = select.bind(value);
        }
        let rows = select.fetch_all(&self.pool).await?;
        let mut hits = rows.iter().map(search_hit).collect::<Result<Vec<_>, StoreError>>()?;
        let more = hits.len() as i64 > limit;
        hits.truncate(limit as usize);
        if matches!(position, SearchPosition::Newer(_)) {
            hits.reverse();
        }
        let (has_older, has_newer) = match position {
            SearchPosition::First => (more, false),
            SearchPosition::Older(_) => (more, true),
            SearchPosition::Newer(_) => (true, more),
        };
        Ok(SearchPage {
            older: if has_older { hits.last().map(|hit| hit.doc_id) } else { None },
            newer: if has_newer { hits.first().map(|hit| hit.doc_id) } else { None },
            hits,
        })
    }

    /// The first page of a search and its count (up to `cap`, `cap + 1`
    /// meaning more). On SQLite from one reading of the index: FTS5 gives
    /// matches newest first, so the newest `cap + 1` hold both, and a
    /// prefix's entries are gathered once, not twice (for two common words
    /// at a million reports, half the work). On PostgreSQL the page and
    /// the count are asked apart: for a thousand matches in order it may
    /// fetch every match and sort them (two words at a million reports:
    /// 280 ms, against 65 ms for a page of 51 and a count without an
    /// order, which stops at the cap), the count taken below the page
    /// (`count_below_newest`).
    pub async fn search_first_page(
        &self,
        organisation_id: &OrganisationId,
        query: &str,
        scope: &SearchScope,
        limit: i64,
        cap: i64,
    ) -> Result<(SearchPage, i64), StoreError> {
        if self.backend == Backend::Postgres {
            let page = self.search_page(organisation_id, query, scope, SearchPosition::First, limit).await?;
            let count = self.count_below_newest(organisation_id, query, scope, &page, cap, COUNT_WALK_DOCUMENTS).await?;
            return Ok((page, count));
        }
        let Some(plan) = self.search_plan(organisation_id, query, scope) else {
            return Ok((SearchPage::default(), 0));
        };
        let limit = limit.clamp(1, 200);
        let sql = plan.statement(&[], &format!(" ORDER BY doc_id DESC LIMIT {}", cap.max(limit) + 1));
        let mut select = sqlx::query(&sql);
        for value in &plan.values {
            select = select.bind(value);
        }
        let rows = select.fetch_all(&self.pool).await?;
        let count = rows.len() as i64;
        let hits = rows.iter().take(limit as usize).map(search_hit).collect::<Result<Vec<_>, StoreError>>()?;
        let older = if count > limit { hits.last().map(|hit| hit.doc_id) } else { None };
        Ok((SearchPage { hits, older, newer: None }, count.min(cap + 1)))
    }

    /// How many records match `query` within `scope`, counted up to `cap`
    /// (`cap + 1` means more than `cap`).
    pub async fn search_count(&self, organisation_id: &OrganisationId, query: &str, scope: &SearchScope, cap: i64) -> Result<i64, StoreError> {
        self.search_count_walking(organisation_id, query, scope, cap, COUNT_WALK_DOCUMENTS).await
    }

    /// `search_count`, where PostgreSQL reads at most `walk` documents
    /// newest first before its index counts the rest. The answer is the
    /// same whatever the walk; only what it costs differs (for tests, which
    /// hold it to that, and for measuring).
    pub async fn search_count_walking(
        &self,
        organisation_id: &OrganisationId,
        query: &str,
        scope: &SearchScope,
        cap: i64,
        walk: i64,
    ) -> Result<i64, StoreError> {
        if self.backend == Backend::Postgres {
            let newest = self.search_page(organisation_id, query, scope, SearchPosition::First, COUNT_PROBE).await?;
            return self.count_below_newest(organisation_id, query, scope, &newest, cap, walk).await;
        }
        self.count_matches(organisation_id, query, scope, Reading::Index, &[], cap + 1).await
    }

    /// PostgreSQL's count of a search, up to `cap` (`cap + 1` meaning
    /// more), given its newest page. A GIN index answers a count only by
    /// gathering every match of every word first (for two common prefixes
    /// at a million reports, 46 ms), so where the newest page shows matches
    /// dense enough, the documents below it are read newest first instead,
    /// at most `walk` of them, stopping at the cap: the index counts only
    /// what such a walk did not reach.
    async fn count_below_newest(
        &self,
        organisation_id: &OrganisationId,
        query: &str,
        scope: &SearchScope,
        newest: &SearchPage,
        cap: i64,
        walk: i64,
    ) -> Result<i64, StoreError> {
        let found = newest.hits.len() as i64;
        let (Some(first), Some(last)) = (newest.hits.first(), newest.hits.last()) else {
            return Ok(0);
        };
        // A first page with nothing older holds every match: nothing to
        // count (most searches for a name or a number).
        if newest.older.is_none() || found > cap {
            return Ok(found.min(cap + 1));
        }
        let wanted = cap + 1 - found;
        let span = first.doc_id - last.doc_id + 1;
        let expected_walk = wanted.saturating_mul(span) / found;
        // Only the reports' index grows with a force's volume: a scope of
        // intelligence alone is counted by its own small index.
        if !scope.own_reports || expected_walk > walk / 4 * 3 {
            return self.count_matches(organisation_id, query, scope, Reading::Index, &[], cap + 1).await;
        }
        // Matches may thin out below the newest page (older reports use
        // other words, or the page was of intelligence above the reports):
        // the walk reads twice what the page predicts at most, and the
        // index counts the rest.
        let floor = last.doc_id - walk.min(expected_walk.saturating_mul(2).max(1));
        let walked = self.count_matches(organisation_id, query, scope, Reading::Documents, &[(">=", floor), ("<", last.doc_id)], wanted).await?;
        if walked == wanted || floor < 1 {
            return Ok(found + walked);
        }
        let rest = self.count_matches(organisation_id, query, scope, Reading::Index, &[("<", floor)], wanted - walked).await?;
        Ok(found + walked + rest)
    }

    /// How many documents match, at most `limit`, among those whose ids
    /// meet every one of `places`.
    async fn count_matches(
        &self,
        organisation_id: &OrganisationId,
        query: &str,
        scope: &SearchScope,
        reading: Reading,
        places: &[(&str, i64)],
        limit: i64,
    ) -> Result<i64, StoreError> {
        let Some(plan) = self.search_plan_reading(organisation_id, query, scope, reading) else {
            return Ok(0);
        };
        let sql = format!("SELECT COUNT(*) FROM ({}) capped", plan.statement(places, &format!(" LIMIT {limit}")));
        let mut count = sqlx::query_scalar::<_, i64>(&sql);
        for value in &plan.values {
            count = count.bind(value);
        }
        Ok(count.fetch_one(&self.pool).await?)
    }
}

/// How a PostgreSQL search finds its matches: through the GIN index, or by
/// testing documents in the order of their ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Index,
    Documents,
}

/// The most documents a PostgreSQL count reads newest first before the
/// index counts the rest (see `count_below_newest`). At a million reports
/// a document costs about 0.9 us to test, and the index about 1 us per
/// match of each word (37,000 matches of `stefan:*`: 37 ms), so a walk of
/// up to 40,000 (35 ms) is tried only where the newest page says it will
/// find the cap in three quarters of that.
const COUNT_WALK_DOCUMENTS: i64 = 40_000;

/// Matches PostgreSQL reads to judge how densely a search matches before
/// it counts, when the page shown is not the first.
const COUNT_PROBE: i64 = 50;

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
