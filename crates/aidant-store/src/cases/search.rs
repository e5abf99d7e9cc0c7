//! Search across the reports and intelligence a member of staff may see.
//! The index narrows candidates to the caller's organisation and what was
//! shared with it; the policy then decides record by record, before
//! anything is counted or shown. Every search is audited with its words.

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::{IntelligenceId, ReportId};
use aidant_core::policy::{Action, Capability};

use super::{Caller, CaseResult, Subject, record};
use crate::Store;

/// Candidates fetched per search before the policy filters them.
pub const CANDIDATE_LIMIT: i64 = 200;

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

/// Runs a search for the caller, best match first.
pub async fn search(store: &Store, caller: &Caller, query: &str) -> CaseResult<Vec<Finding>> {
    super::require(store, caller, Capability::Search).await?;
    let hits = store.search_candidates(caller.organisation_id(), query, CANDIDATE_LIMIT).await?;
    let report_ids: Vec<ReportId> = hits.iter().filter(|hit| hit.record_kind == "report").filter_map(|hit| hit.record_id.parse().ok()).collect();
    let intelligence_ids: Vec<IntelligenceId> =
        hits.iter().filter(|hit| hit.record_kind == "intelligence").filter_map(|hit| hit.record_id.parse().ok()).collect();
    let reports = store.report_summaries(&report_ids).await?;
    let records = store.find_intelligence_many(&intelligence_ids).await?;
    let mut findings = Vec::new();
    for hit in &hits {
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
    let reason = format!("searched for \u{201c}{}\u{201d}: {} results", query.chars().take(200).collect::<String>(), findings.len());
    let mut transaction = store.begin_write().await?;
    record(&mut transaction, caller, AuditAction::Search, Subject { kind: AuditRecordKind::Search, id: "-" }, Some(&reason)).await?;
    transaction.commit().await?;
    Ok(findings)
}
