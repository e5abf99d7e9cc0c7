//! Intelligence records: graded (3x5x2, or 5x5x5 kept as given), with a
//! sanitised text that may be shared and a restricted source text and
//! source identity sealed with the master key; shares with named
//! organisations; every creation, share and source read audited.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use std::collections::BTreeSet;

use aidant_core::ReportRef;
use aidant_core::grading::{Grading, IntelligenceAssessment, SourceEvaluation};
use aidant_core::ids::{IntelligenceId, OrganisationId, ReportId, UserId};
use aidant_core::organisation::ReportStatus;
use aidant_core::policy::{Handling, RecordAccess, RecordKind, SharingConditions};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::audit::{AuditEvent, append};
use crate::{Store, StoreError, flag, now_ms};

/// What is needed to create a record.
#[derive(Debug, Clone)]
pub struct IntelligenceInsert<'a> {
    pub report_id: Option<&'a ReportId>,
    pub owner_organisation_id: &'a OrganisationId,
    pub created_by: &'a UserId,
    pub title: &'a str,
    pub grading: &'a Grading,
    pub sanitised_text: &'a str,
    pub source: Option<&'a SourceDetails>,
    /// `YYYY-MM-DD`.
    pub review_on: Option<&'a str>,
    /// The people it names; sealed.
    pub people: &'a [aidant_core::intelligence::PersonNamed],
    /// Organisations it is shared with as it is made (the caller has
    /// checked each against the policy and the handling conditions).
    pub share_with: &'a [OrganisationId],
}

/// The restricted part: who the source is and what they said. Sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDetails {
    pub identity: Option<String>,
    pub text: Option<String>,
}

/// A record as staff read it (never the sealed source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelligenceRecord {
    pub id: IntelligenceId,
    pub reference: String,
    pub report_id: Option<ReportId>,
    pub owner_organisation_id: OrganisationId,
    pub created_by: UserId,
    pub created_at_ms: i64,
    pub title: String,
    pub grading: Grading,
    pub sanitised_text: String,
    pub has_source: bool,
    pub review_on: Option<String>,
    pub shared_with: Vec<Share>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub shared_at_ms: i64,
}

impl IntelligenceRecord {
    /// What the access policy needs.
    pub fn access(&self) -> RecordAccess {
        RecordAccess {
            kind: RecordKind::Intelligence,
            owner_organisation_id: Some(self.owner_organisation_id.clone()),
            handling: self.grading.handling(),
            shared_with: self.shared_with.iter().map(|share| share.organisation_id.clone()).collect(),
        }
    }
}

fn source_binding(intelligence_id: &str) -> String {
    format!("intelligence:{intelligence_id}:source")
}

/// The grading columns: scheme, source, intelligence, handling.
fn grading_columns(grading: &Grading) -> (&'static str, String, String, String) {
    match grading {
        Grading::ThreeFiveTwo { source, intelligence, handling, .. } => {
            ("3x5x2", source.code().to_owned(), intelligence.code().to_owned(), if matches!(handling, Handling::Permitted) { "P" } else { "C" }.to_owned())
        }
        Grading::Legacy5x5x5 { source, intelligence, handling } => ("5x5x5", source.to_string(), intelligence.to_string(), handling.to_string()),
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("a stored intelligence grading is invalid: {what}"))
}

fn grading_from_row(row: &sqlx::any::AnyRow) -> Result<Grading, StoreError> {
    let scheme: String = row.try_get("grading_scheme")?;
    let source: String = row.try_get("source_grade")?;
    let intelligence: String = row.try_get("intelligence_grade")?;
    let handling: String = row.try_get("handling_code")?;
    match scheme.as_str() {
        "3x5x2" => {
            let handling = if handling == "P" {
                Handling::Permitted
            } else {
                let recipients: String = row.try_get("recipient_organisations")?;
                let recipients: Vec<String> = serde_json::from_str(&recipients).map_err(|_| corrupt("recipients"))?;
                let recipients: BTreeSet<OrganisationId> =
                    recipients.iter().map(|id| OrganisationId::parse(id)).collect::<Result<_, _>>().map_err(|_| corrupt("recipients"))?;
                Handling::Conditional(SharingConditions {
                    recipient_organisations: recipients,
                    no_onward_sharing: flag(row.try_get("no_onward_sharing")?),
                    originator_consent_required: flag(row.try_get("originator_consent")?),
                    sanitised_only: true,
                    expires_at_ms: row.try_get("expires_at")?,
                })
            };
            Ok(Grading::ThreeFiveTwo {
                source: SourceEvaluation::parse(&source).ok_or_else(|| corrupt("source"))?,
                intelligence: IntelligenceAssessment::parse(&intelligence).ok_or_else(|| corrupt("intelligence"))?,
                handling,
                conditions_text: row.try_get("conditions_text")?,
            })
        }
        "5x5x5" => Ok(Grading::Legacy5x5x5 {
            source: source.chars().next().ok_or_else(|| corrupt("source"))?,
            intelligence: intelligence.parse().map_err(|_| corrupt("intelligence"))?,
            handling: handling.parse().map_err(|_| corrupt("handling"))?,
        }),
        _ => Err(corrupt("scheme")),
    }
}

const COLUMNS: &str = "id, reference, report_id, owner_organisation_id, created_by, created_at, title, grading_scheme, source_grade, \
     intelligence_grade, handling_code, conditions_text, recipient_organisations, no_onward_sharing, originator_consent, expires_at, sanitised_text, \
     source_sealed, review_on";

impl Store {
    /// Creates a record (and, when it comes from a report, marks the report
    /// developed into intelligence) in one audited transaction.
    pub async fn create_intelligence(&self, new: &IntelligenceInsert<'_>) -> Result<(IntelligenceId, String), StoreError> {
        let record_id: IntelligenceId = crate::new_record_id();
        let id = record_id.as_str().to_owned();
        let reference = format!("INT-{}", ReportRef::from_random(rand::random()));
        let sealed = match new.source {
            Some(source) if source.identity.is_some() || source.text.is_some() => {
                let plaintext = serde_json::to_vec(source).map_err(|error| StoreError::Corrupt(error.to_string()))?;
                Some(self.keyring()?.seal(&plaintext, &source_binding(&id)))
            }
            _ => None,
        };
        let (scheme, source_grade, intelligence_grade, handling_code) = grading_columns(new.grading);
        let (conditions_text, recipients, no_onward, consent, expires) = match new.grading {
            Grading::ThreeFiveTwo { handling: Handling::Conditional(conditions), conditions_text, .. } => (
                conditions_text.clone(),
                serde_json::to_string(&conditions.recipient_organisations.iter().map(OrganisationId::as_str).collect::<Vec<_>>())
                    .unwrap_or_else(|_| "[]".to_owned()),
                conditions.no_onward_sharing,
                conditions.originator_consent_required,
                conditions.expires_at_ms,
            ),
            _ => (None, "[]".to_owned(), false, false, None),
        };
        let now = now_ms();
        let actor = AuditActor::user(new.created_by.as_str());
        // Read (and on first use written) before the transaction takes
        // SQLite's write lock.
        let index = self.entity_index().await?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO intelligence (id, reference, report_id, owner_organisation_id, created_by, created_at, updated_at, title, grading_scheme,
                 source_grade, intelligence_grade, handling_code, conditions_text, recipient_organisations, no_onward_sharing, originator_consent,
                 expires_at, sanitised_text, source_sealed, review_on)
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(&id)
        .bind(&reference)
        .bind(new.report_id.map(ReportId::as_str))
        .bind(new.owner_organisation_id.as_str())
        .bind(new.created_by.as_str())
        .bind(now)
        .bind(new.title)
        .bind(scheme)
        .bind(&source_grade)
        .bind(&intelligence_grade)
        .bind(&handling_code)
        .bind(&conditions_text)
        .bind(&recipients)
        .bind(i64::from(no_onward))
        .bind(i64::from(consent))
        .bind(expires)
        .bind(new.sanitised_text)
        .bind(sealed)
        .bind(new.review_on)
        .execute(&mut *transaction)
        .await?;
        let search_text = format!("{reference} {} {} {}", new.title, new.grading.code(), new.sanitised_text);
        crate::search::index_intelligence(&mut transaction, &id, new.owner_organisation_id.as_str(), &search_text).await?;
        crate::people::insert_people(&mut transaction, self.keyring()?, &index, crate::entities::MentionRecord::Intelligence, &id, new.people).await?;
        crate::entities::enqueue(&mut transaction, crate::entities::JobRecord::Intelligence, &id, now).await?;
        let grading = new.grading.code();
        append(&mut transaction, &AuditEvent::new(&actor, AuditAction::IntelligenceCreate, AuditRecordKind::Intelligence, &id).because(&grading)).await?;
        for organisation_id in new.share_with {
            insert_share(&mut transaction, &id, organisation_id.as_str(), new.created_by.as_str()).await?;
        }
        if let Some(report_id) = new.report_id.map(ReportId::as_str) {
            sqlx::query("UPDATE reports SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(ReportStatus::Developed.as_str())
                .bind(now)
                .bind(report_id)
                .execute(&mut *transaction)
                .await?;
            let reason = format!("developed into {reference}");
            append(&mut transaction, &AuditEvent::new(&actor, AuditAction::ReportStatus, AuditRecordKind::Report, report_id).because(&reason)).await?;
        }
        transaction.commit().await?;
        Ok((record_id, reference))
    }

    /// Reads a record without auditing (callers audit what they show).
    pub async fn find_intelligence(&self, id: &IntelligenceId) -> Result<Option<IntelligenceRecord>, StoreError> {
        Ok(self.find_intelligence_many(std::slice::from_ref(id)).await?.into_iter().next())
    }

    /// Reads several records in two queries, in the order of `ids` (missing
    /// ones left out), without auditing.
    pub async fn find_intelligence_many(&self, ids: &[IntelligenceId]) -> Result<Vec<IntelligenceRecord>, StoreError> {
        load_intelligence(&mut *self.pool.acquire().await?, ids).await
    }

    /// Records developed from a report.
    pub async fn intelligence_for_report(&self, report_id: &ReportId) -> Result<Vec<(IntelligenceId, String)>, StoreError> {
        load_developed_from(&mut *self.pool.acquire().await?, report_id).await
    }
}

/// Reads records in the order of `ids` (missing ones left out), without
/// auditing, on a connection or in a transaction.
pub(crate) async fn load_intelligence(connection: &mut AnyConnection, ids: &[IntelligenceId]) -> Result<Vec<IntelligenceRecord>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = crate::bind_list(ids.len());
    let record_sql = format!("SELECT {COLUMNS} FROM intelligence WHERE id IN ({list})");
    let share_sql = format!(
        "SELECT s.intelligence_id, s.organisation_id, o.name, s.shared_at FROM intelligence_shares s JOIN organisations o ON o.id = s.organisation_id
             WHERE s.intelligence_id IN ({list}) ORDER BY s.shared_at, o.name"
    );
    let mut records = sqlx::query(&record_sql);
    let mut shares = sqlx::query(&share_sql);
    for id in ids {
        records = records.bind(id.as_str());
        shares = shares.bind(id.as_str());
    }
    let rows = records.fetch_all(&mut *connection).await?;
    let share_rows = shares.fetch_all(&mut *connection).await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: IntelligenceId = crate::named(row, "id")?;
        let mut shared_with = Vec::new();
        for share in &share_rows {
            let intelligence_id: String = share.try_get("intelligence_id")?;
            if intelligence_id == id.as_str() {
                shared_with.push(Share {
                    organisation_id: crate::named(share, "organisation_id")?,
                    organisation_name: share.try_get("name")?,
                    shared_at_ms: share.try_get("shared_at")?,
                });
            }
        }
        found.push(IntelligenceRecord {
            reference: row.try_get("reference")?,
            report_id: crate::named_optional(row, "report_id")?,
            owner_organisation_id: crate::named(row, "owner_organisation_id")?,
            created_by: crate::named(row, "created_by")?,
            created_at_ms: row.try_get("created_at")?,
            title: row.try_get("title")?,
            grading: grading_from_row(row)?,
            sanitised_text: row.try_get("sanitised_text")?,
            has_source: row.try_get::<Option<Vec<u8>>, _>("source_sealed")?.is_some(),
            review_on: row.try_get("review_on")?,
            shared_with,
            id,
        });
    }
    found.sort_by_key(|record| ids.iter().position(|id| *id == record.id));
    Ok(found)
}

/// Records developed from a report: (id, reference), oldest first.
pub(crate) async fn load_developed_from(connection: &mut AnyConnection, report_id: &ReportId) -> Result<Vec<(IntelligenceId, String)>, StoreError> {
    let report_id = report_id.as_str();
    let rows =
        sqlx::query("SELECT id, reference FROM intelligence WHERE report_id = $1 ORDER BY created_at").bind(report_id).fetch_all(&mut *connection).await?;
    rows.iter().map(|row| Ok((crate::named(row, "id")?, row.try_get("reference")?))).collect()
}

impl Store {
    /// Ids of records an organisation owns or was sent, newest first; the
    /// caller applies the access policy to each.
    pub async fn intelligence_candidates(&self, organisation_id: &OrganisationId, limit: i64) -> Result<Vec<IntelligenceId>, StoreError> {
        let organisation_id = organisation_id.as_str();
        let rows = sqlx::query(
            "SELECT i.id FROM intelligence i WHERE i.owner_organisation_id = $1
                OR EXISTS (SELECT 1 FROM intelligence_shares s WHERE s.intelligence_id = i.id AND s.organisation_id = $1)
             ORDER BY i.created_at DESC, i.id DESC LIMIT $2",
        )
        .bind(organisation_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| crate::named(row, "id")).collect()
    }

    /// Records shared with an organisation whose handling conditions could
    /// keep it out (named recipients or an expiry), for the policy to
    /// decide before a search counts them.
    pub async fn shared_with_conditions(&self, organisation_id: &OrganisationId) -> Result<Vec<IntelligenceId>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.id FROM intelligence_shares s JOIN intelligence i ON i.id = s.intelligence_id
             WHERE s.organisation_id = $1 AND i.owner_organisation_id <> $1 AND (i.expires_at IS NOT NULL OR i.recipient_organisations <> '[]')",
        )
        .bind(organisation_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| crate::named(row, "id")).collect()
    }

    /// Opens the sealed source details and audits the reading with its reason.
    pub async fn read_intelligence_source(&self, id: &IntelligenceId, actor: &AuditActor, reason: &str) -> Result<Option<SourceDetails>, StoreError> {
        let id = id.as_str();
        let row = sqlx::query("SELECT source_sealed FROM intelligence WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        let Some(sealed) = row.map(|row| row.try_get::<Option<Vec<u8>>, _>("source_sealed")).transpose()?.flatten() else { return Ok(None) };
        let plaintext = self.keyring()?.open(&sealed, &source_binding(id))?;
        self.audit(&AuditEvent {
            actor,
            action: AuditAction::IntelligenceSourceRead,
            record_kind: AuditRecordKind::Intelligence,
            record_id: id,
            reason: Some(reason),
        })
        .await?;
        serde_json::from_slice(&plaintext).map(Some).map_err(|error| StoreError::Corrupt(format!("sealed source details are not JSON: {error}")))
    }

    /// Shares a record with an organisation; false if it already was.
    pub async fn share_intelligence(&self, id: &IntelligenceId, organisation_id: &OrganisationId, actor_user_id: &UserId) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let inserted = insert_share(&mut transaction, id.as_str(), organisation_id.as_str(), actor_user_id.as_str()).await?;
        transaction.commit().await?;
        Ok(inserted)
    }
}

/// Shares a record inside `transaction`, audited; `false` when it already was.
async fn insert_share(transaction: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str, organisation_id: &str, actor_user_id: &str) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO intelligence_shares (intelligence_id, organisation_id, shared_by, shared_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (intelligence_id, organisation_id) DO NOTHING",
    )
    .bind(id)
    .bind(organisation_id)
    .bind(actor_user_id)
    .bind(now_ms())
    .execute(&mut **transaction)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    let reason = format!("shared with organisation:{organisation_id}");
    let actor = AuditActor::user(actor_user_id);
    append(transaction, &AuditEvent::new(&actor, AuditAction::IntelligenceShare, AuditRecordKind::Intelligence, id).because(&reason)).await?;
    Ok(true)
}
