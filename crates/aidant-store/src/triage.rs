//! The triage queue: public reports owned by an organisation, most urgent
//! and oldest first, with filters; and the triage actions (open, assign,
//! set status), each audited in the transaction that makes it.

use aidant_core::RiskLevel;
use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{OrganisationId, ReportId, UserId};
use aidant_core::organisation::ReportStatus;
use sqlx::{AnyConnection, Row};

use crate::audit::{AuditEvent, append};
use crate::{Store, StoreError, flag, now_ms};

/// Filters on the queue; `None` means "any" except for status, where it
/// means the open statuses (new and in review).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub risk: Option<RiskLevel>,
    pub sector: Option<String>,
    /// A town (any case) or a postcode district such as `LU1`.
    pub area: Option<String>,
    pub status: Option<StatusFilter>,
    pub assignee: Option<AssigneeFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Only(ReportStatus),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Unassigned,
    User(UserId),
}

/// The queue counts matching reports up to this many.
pub const COUNT_CAP: i64 = 10_000;

/// One line of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub id: ReportId,
    pub reference: String,
    pub received_at_ms: i64,
    pub risk_level: RiskLevel,
    pub sector: String,
    pub town: Option<String>,
    pub postcode: Option<String>,
    pub status: ReportStatus,
    pub assignee_name: Option<String>,
    pub opened: bool,
    pub immediate_danger: bool,
}

/// A page of the queue with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Reports matching the filters, counted up to `COUNT_CAP`.
    pub total: i64,
    /// More than `COUNT_CAP` reports match.
    pub total_is_capped: bool,
    /// Immediate reports nobody has opened yet (whatever the filters).
    pub immediate_unopened: i64,
}

/// Triage state of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageState {
    pub owner_organisation_id: Option<OrganisationId>,
    pub status: ReportStatus,
    pub assignee_user_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub first_opened_at_ms: Option<i64>,
}

/// What the access policy needs to know about a public report: its owner
/// (reports are never shared). A report no organisation owns yet is owned
/// by nobody, so the policy allows nobody.
pub fn report_access(owner_organisation_id: Option<&OrganisationId>) -> aidant_core::policy::RecordAccess {
    aidant_core::policy::RecordAccess {
        kind: aidant_core::policy::RecordKind::Report,
        owner_organisation_id: owner_organisation_id.cloned(),
        handling: aidant_core::policy::Handling::Permitted,
        shared_with: std::collections::BTreeSet::new(),
    }
}

impl TriageState {
    pub fn access(&self) -> aidant_core::policy::RecordAccess {
        report_access(self.owner_organisation_id.as_ref())
    }
}

impl Store {
    /// A page of the queue for `organisation_id`: risk first (Immediate at
    /// the top), then oldest first.
    pub async fn triage_queue(&self, organisation_id: &OrganisationId, filter: &QueueFilter, offset: i64, limit: i64) -> Result<QueuePage, StoreError> {
        let organisation_id = organisation_id.as_str();
        let mut conditions = vec!["r.owning_organisation_id = $1".to_owned()];
        let mut values: Vec<String> = vec![organisation_id.to_owned()];
        let bind = |condition: &str, value: String, values: &mut Vec<String>, conditions: &mut Vec<String>| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("${}", values.len())));
        };
        if let Some(risk) = filter.risk {
            // By rank, which the queue's indexes lead with after the owner.
            conditions.push(format!("r.risk_rank = {}", risk.rank()));
        }
        if let Some(sector) = &filter.sector {
            bind("r.sector = ?", sector.clone(), &mut values, &mut conditions);
        }
        if let Some(area) = &filter.area {
            let area = area.trim();
            if let Some(district) = aidant_core::postcode::parse_outcode(area) {
                // A range rather than LIKE, so the postcode index serves it:
                // "LU1 " up to but not including "LU1!" (the next character).
                bind("r.postcode >= ?", format!("{district} "), &mut values, &mut conditions);
                bind("r.postcode < ?", format!("{district}!"), &mut values, &mut conditions);
            } else {
                bind("lower(r.town) = ?", area.to_lowercase(), &mut values, &mut conditions);
            }
        }
        match &filter.status {
            None => conditions.push("r.status IN ('new', 'in_review')".to_owned()),
            Some(StatusFilter::All) => {}
            Some(StatusFilter::Only(status)) => bind("r.status = ?", status.as_str().to_owned(), &mut values, &mut conditions),
        }
        match &filter.assignee {
            None => {}
            Some(AssigneeFilter::Unassigned) => conditions.push("r.assignee_user_id IS NULL".to_owned()),
            Some(AssigneeFilter::User(user_id)) => bind("r.assignee_user_id = ?", user_id.as_str().to_owned(), &mut values, &mut conditions),
        }
        let where_clause = conditions.join(" AND ");
        // Counting stops at COUNT_CAP: nobody pages through ten thousand
        // reports, and an exact count of a hundred thousand would cost every
        // queue page a scan of them all.
        let count_sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM reports r WHERE {where_clause} LIMIT {}) capped", COUNT_CAP + 1);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for value in &values {
            count = count.bind(value);
        }
        let total = count.fetch_one(&self.pool).await?;
        let page_sql = format!(
            "SELECT r.id, r.reference, r.received_at, r.risk_level, r.sector, r.town, r.postcode, r.status, r.first_opened_at, r.immediate_danger,
                    u.display_name AS assignee_name
             FROM reports r LEFT JOIN users u ON u.id = r.assignee_user_id
             WHERE {where_clause} ORDER BY r.risk_rank, r.received_at, r.id LIMIT {limit} OFFSET {offset}",
            limit = limit.clamp(1, 200),
            offset = offset.max(0)
        );
        let mut page = sqlx::query(&page_sql);
        for value in &values {
            page = page.bind(value);
        }
        let rows = page.fetch_all(&self.pool).await?;
        let rows = rows
            .iter()
            .map(|row| {
                Ok(QueueRow {
                    id: crate::named(row, "id")?,
                    reference: row.try_get("reference")?,
                    received_at_ms: row.try_get("received_at")?,
                    risk_level: crate::named(row, "risk_level")?,
                    sector: row.try_get("sector")?,
                    town: row.try_get("town")?,
                    postcode: row.try_get("postcode")?,
                    status: crate::named(row, "status")?,
                    assignee_name: row.try_get("assignee_name")?,
                    opened: row.try_get::<Option<i64>, _>("first_opened_at")?.is_some(),
                    immediate_danger: flag(row.try_get("immediate_danger")?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let immediate_unopened: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE owning_organisation_id = $1 AND risk_level = 'immediate' AND first_opened_at IS NULL")
                .bind(organisation_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(QueuePage { rows, total: total.min(COUNT_CAP), total_is_capped: total > COUNT_CAP, immediate_unopened })
    }

    /// Owner and triage state of a report, for the access policy and the page.
    pub async fn triage_state(&self, report_id: &ReportId) -> Result<Option<TriageState>, StoreError> {
        load_triage_state(&mut *self.pool.acquire().await?, report_id).await
    }

    /// Audits a member of staff opening a report; the first opening takes it
    /// out of the "Immediate, not yet opened" count.
    pub async fn record_report_view(&self, report_id: &ReportId, actor: &AuditActor) -> Result<(), StoreError> {
        let report_id = report_id.as_str();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE reports SET first_opened_at = $1 WHERE id = $2 AND first_opened_at IS NULL")
            .bind(now_ms())
            .bind(report_id)
            .execute(&mut *transaction)
            .await?;
        append(
            &mut transaction,
            &AuditEvent { actor, action: AuditAction::ReportView, record_kind: AuditRecordKind::Report, record_id: report_id, reason: None },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Assigns a report to a user (or to nobody).
    pub async fn assign_report(&self, report_id: &ReportId, assignee_user_id: Option<&UserId>, actor: &AuditActor) -> Result<(), StoreError> {
        let assignee_user_id = assignee_user_id.map(UserId::as_str);
        let report_id = report_id.as_str();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE reports SET assignee_user_id = $1, updated_at = $2 WHERE id = $3")
            .bind(assignee_user_id)
            .bind(now_ms())
            .bind(report_id)
            .execute(&mut *transaction)
            .await?;
        let reason = assignee_user_id.map(|user_id| format!("assigned to user:{user_id}")).unwrap_or_else(|| "unassigned".to_owned());
        append(
            &mut transaction,
            &AuditEvent { actor, action: AuditAction::ReportAssign, record_kind: AuditRecordKind::Report, record_id: report_id, reason: Some(&reason) },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Sets a report's status.
    pub async fn set_report_status(&self, report_id: &ReportId, status: ReportStatus, actor: &AuditActor) -> Result<(), StoreError> {
        let report_id = report_id.as_str();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE reports SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now_ms())
            .bind(report_id)
            .execute(&mut *transaction)
            .await?;
        let reason = format!("status {}", status.as_str());
        append(
            &mut transaction,
            &AuditEvent { actor, action: AuditAction::ReportStatus, record_kind: AuditRecordKind::Report, record_id: report_id, reason: Some(&reason) },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }
}

/// Owner and triage state of a report, on a connection or in a transaction.
pub(crate) async fn load_triage_state(connection: &mut AnyConnection, report_id: &ReportId) -> Result<Option<TriageState>, StoreError> {
    let report_id = report_id.as_str();
    let row = sqlx::query(
        "SELECT r.owning_organisation_id, r.status, r.assignee_user_id, r.first_opened_at, u.display_name AS assignee_name
         FROM reports r LEFT JOIN users u ON u.id = r.assignee_user_id WHERE r.id = $1",
    )
    .bind(report_id)
    .fetch_optional(&mut *connection)
    .await?;
    row.map(|row| {
        Ok(TriageState {
            owner_organisation_id: crate::named_optional(&row, "owning_organisation_id")?,
            status: crate::named(&row, "status")?,
            assignee_user_id: crate::named_optional(&row, "assignee_user_id")?,
            assignee_name: row.try_get("assignee_name")?,
            first_opened_at_ms: row.try_get("first_opened_at")?,
        })
    })
    .transpose()
}
