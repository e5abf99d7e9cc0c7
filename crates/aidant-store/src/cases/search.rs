//! Search across the reports and intelligence a member of staff may see.
//! The index narrows candidates to the caller's organisation and what was
//! shared with it, less what the policy refuses; the policy then decides
//! again record by record before anything is shown. Every search is
//! audited with its words.

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::{IntelligenceId, OrganisationId, ReportId};
use aidant_core::policy::{Action, Capability, Handling, RecordAccess, RecordKind};

use super::{Caller, CaseResult, Subject, record};
use crate::Store;
use crate::search::{SearchPosition, SearchScope};

/// Results per page.
pub const PAGE_SIZE: i64 = 50;

/// Searches count their results up to this many, then say "more than".
pub const COUNT_CAP: i64 = 1_000;

/// One thing found that the caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Report {
        id: ReportId,
        /// The compact reference as stored.
        reference: String,
        sector: String,
        town: Option<String>,
        risk_level: aidant_core::RiskLevel,
        received_at_ms: i64,
    },
    Intelligence {
        id: IntelligenceId,
        reference: String,
        title: String,
        grading: String,
        created_at_ms: i64,
    },
}

/// A page of what a search found, with the count of everything it found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOutcome {
    pub findings: Vec<Finding>,
    /// Results the caller may see, counted up to `COUNT_CAP`.
    pub total: i64,
    /// More than `COUNT_CAP` match.
    pub total_is_capped: bool,
    /// The next (older) page's place, if any.
    pub older: Option<i64>,
    /// The previous (newer) page's place, if this is not the first page.
    pub newer: Option<i64>,
}

/// What the caller's roles let a search find: worked out with the policy
/// once per kind, and record by record for intelligence shared under
/// conditions, so that counts and pages hold only what they may see.
pub(crate) async fn scope(store: &Store, caller: &Caller) -> CaseResult<SearchScope> {
    let own = Some(caller.organisation_id().clone());
    let intelligence = |owner: Option<OrganisationId>| RecordAccess {
        kind: RecordKind::Intelligence,
        owner_organisation_id: owner,
        handling: Handling::Permitted,
        shared_with: std::iter::once(caller.organisation_id().clone()).collect(),
    };
    let shared_intelligence = caller.may(Action::ViewIntelligence, &intelligence(None));
    let mut hidden = Vec::new();
    if shared_intelligence {
        let conditional = store.shared_with_conditions(caller.organisation_id()).await?;
        for record in store.find_intelligence_many(&conditional).await? {
            if !caller.may(Action::ViewIntelligence, &record.access()) {
                hidden.push(record.id.to_string());
            }
        }
    }
    Ok(SearchScope {
        own_reports: caller.may(Action::ViewReport, &crate::triage::report_access(own.as_ref())),
        own_intelligence: caller.may(Action::ViewIntelligence, &intelligence(own)),
        shared_intelligence,
        hidden,
    })
}

/// Runs a search for the caller: a page of results, newest first, at
/// `position`, and how many there are in all.
pub async fn search(store: &Store, caller: &Caller, query: &str, position: SearchPosition) -> CaseResult<SearchOutcome> {
    super::require(store, caller, Capability::Search).await?;
    let scope = scope(store, caller).await?;
    let organisation = caller.organisation_id();
    let (page, total) = match position {
        SearchPosition::First => store.search_first_page(organisation, query, &scope, PAGE_SIZE, COUNT_CAP).await?,
        _ => (store.search_page(organisation, query, &scope, position, PAGE_SIZE).await?, store.search_count(organisation, query, &scope, COUNT_CAP).await?),
    };
    let hits = &page.hits;
    let report_ids: Vec<ReportId> = hits.iter().filter(|hit| hit.record_kind == "report").filter_map(|hit| hit.record_id.parse().ok()).collect();
    let intelligence_ids: Vec<IntelligenceId> =
        hits.iter().filter(|hit| hit.record_kind == "intelligence").filter_map(|hit| hit.record_id.parse().ok()).collect();
    let reports = store.report_summaries(&report_ids).await?;
    let records = store.find_intelligence_many(&intelligence_ids).await?;
    // The scope already keeps out what the policy refuses; each record is
    // still asked about before it is shown.
    let mut findings = Vec::new();
    for hit in hits {
        if hit.record_kind == "report" {
            if let Some(report) = reports.iter().find(|report| report.id.as_str() == hit.record_id)
                && caller.may(Action::ViewReport, &report.access())
            {
                findings.push(Finding::Report {
                    id: report.id.clone(),
                    reference: report.reference.clone(),
                    sector: report.sector.clone(),
                    town: report.town.clone(),
                    risk_level: report.risk_level,
                    received_at_ms: report.received_at_ms,
                });
            }
        } else if let Some(intelligence) = records.iter().find(|record| record.id.as_str() == hit.record_id)
            && caller.may(Action::ViewIntelligence, &intelligence.access())
        {
            findings.push(Finding::Intelligence {
                id: intelligence.id.clone(),
                reference: intelligence.reference.clone(),
                title: intelligence.title.clone(),
                grading: intelligence.grading.code(),
                created_at_ms: intelligence.created_at_ms,
            });
        }
    }
    let counted = if total > COUNT_CAP { format!("more than {COUNT_CAP}") } else { total.to_string() };
    let reason = format!("searched for \u{201c}{}\u{201d}: {counted} results, {} shown", query.chars().take(200).collect::<String>(), findings.len());
    let (_turn, mut transaction) = store.begin_write().await?;
    record(&mut transaction, caller, AuditAction::Search, Subject { kind: AuditRecordKind::Search, id: "-" }, Some(&reason)).await?;
    transaction.commit().await?;
    Ok(SearchOutcome { findings, total: total.min(COUNT_CAP), total_is_capped: total > COUNT_CAP, older: page.older, newer: page.newer })
}
