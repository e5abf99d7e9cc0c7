//! The triage queue: public reports owned by an organisation, most urgent
//! and oldest first, with filters; and the triage actions (open, assign,
//! set status), each audited in the transaction that makes it.

use aidant_core::RiskLevel;
use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{OrganisationId, ReportId, UserId};
use aidant_core::organisation::ReportStatus;
use sqlx::{AnyConnection, Row};

use crate::audit::{AuditEvent, append};
use crate::{Backend, Store, StoreError, flag, now_ms};

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
    /// Received at or after this time (milliseconds).
    pub received_from_ms: Option<i64>,
    /// Received before this time (milliseconds).
    pub received_before_ms: Option<i64>,
    /// Only reports with a reporter's message nobody has read.
    pub unread_only: bool,
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

/// How the queue is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueOrder {
    /// Most urgent first (Immediate at the top), then oldest first.
    #[default]
    Urgent,
    /// Oldest received first.
    Oldest,
    /// Newest received first.
    Newest,
}

impl QueueOrder {
    pub const ALL: [QueueOrder; 3] = [QueueOrder::Urgent, QueueOrder::Oldest, QueueOrder::Newest];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueOrder::Urgent => "urgent",
            QueueOrder::Oldest => "oldest",
            QueueOrder::Newest => "newest",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            QueueOrder::Urgent => "Most urgent, then oldest",
            QueueOrder::Oldest => "Oldest first",
            QueueOrder::Newest => "Newest first",
        }
    }

    /// The sort key's columns, and whether they ascend.
    fn keys(self) -> (&'static str, bool) {
        match self {
            QueueOrder::Urgent => ("r.risk_rank, r.received_at, r.id", true),
            QueueOrder::Oldest => ("r.received_at, r.id", true),
            QueueOrder::Newest => ("r.received_at, r.id", false),
        }
    }
}

impl std::str::FromStr for QueueOrder {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        QueueOrder::ALL.into_iter().find(|order| order.as_str() == text).ok_or(())
    }
}

/// Where a page of the queue sits: a row's place in every order (its risk
/// rank, received time and id), written into page links as one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCursor {
    pub risk_rank: i64,
    pub received_at_ms: i64,
    pub id: ReportId,
}

impl QueueCursor {
    fn of(row: &QueueRow) -> Self {
        QueueCursor { risk_rank: row.risk_level.rank(), received_at_ms: row.received_at_ms, id: row.id.clone() }
    }

    /// The token for a link: `rank.time.id`.
    pub fn token(&self) -> String {
        format!("{}.{}.{}", self.risk_rank, self.received_at_ms, self.id)
    }

    /// Reads a token made by `token`; `None` when it is not one.
    pub fn parse(token: &str) -> Option<Self> {
        // Numbers as `token` writes them: digits only, at most 18 of them.
        let number =
            |part: &str| Some(part).filter(|part| (1..=18).contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_digit()))?.parse::<i64>().ok();
        let mut parts = token.trim().splitn(3, '.');
        let risk_rank = number(parts.next()?)?;
        let received_at_ms = number(parts.next()?)?;
        let id = parts.next().filter(|id| id.len() == 36)?.parse::<ReportId>().ok()?;
        Some(QueueCursor { risk_rank, received_at_ms, id })
    }

    /// The key's values for `order`, as SQL literals (numbers) and the id
    /// (bound as a parameter).
    fn values(&self, order: QueueOrder) -> String {
        match order {
            QueueOrder::Urgent => format!("{}, {}", self.risk_rank, self.received_at_ms),
            QueueOrder::Oldest | QueueOrder::Newest => format!("{}", self.received_at_ms),
        }
    }
}

/// Which page: the first, the one after a row or the one before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum QueuePosition {
    #[default]
    First,
    After(QueueCursor),
    Before(QueueCursor),
}

/// The queue counts matching reports up to this many; past it the page
/// says "more than" and pages on by key all the same.
pub const COUNT_CAP: i64 = 1_000;

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
    /// Reporter messages nobody has read since the report was last opened.
    pub unread_messages: i64,
}

/// Unopened Immediate reports are counted up to this many, then "more than".
pub const IMMEDIATE_COUNT_CAP: i64 = 1_000;

/// A page of the queue with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Reports matching the filters, counted up to `COUNT_CAP`.
    pub total: i64,
    /// More than `COUNT_CAP` reports match.
    pub total_is_capped: bool,
    /// Immediate reports nobody has opened yet (whatever the filters),
    /// counted up to `IMMEDIATE_COUNT_CAP`.
    pub immediate_unopened: i64,
    /// More than `IMMEDIATE_COUNT_CAP` Immediate reports are unopened.
    pub immediate_unopened_is_capped: bool,
    /// Reports with a reporter's message nobody has read, whatever the
    /// filters and status (a reporter may write to a closed report).
    pub unread: i64,
    /// Of those, the ones assigned to the viewer.
    pub unread_mine: i64,
    /// The page after this one, if there is one.
    pub next: Option<QueueCursor>,
    /// The page before this one, if this is not the first.
    pub previous: Option<QueueCursor>,
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
    /// A page of the queue for `organisation_id` in `order`, at `position`,
    /// at most `limit` rows; `viewer` is whose unread messages are counted
    /// as "yours".
    pub async fn triage_queue(
        &self,
        organisation_id: &OrganisationId,
        filter: &QueueFilter,
        order: QueueOrder,
        position: &QueuePosition,
        limit: i64,
        viewer: Option<&UserId>,
    ) -> Result<QueuePage, StoreError> {
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
                // The expression the district indexes hold (migration 0015):
                // a stored postcode less its space and inward code.
                bind("substr(r.postcode, 1, length(r.postcode) - 4) = ?", district, &mut values, &mut conditions);
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
        // Times are numbers this code made, so they are written in.
        if let Some(from) = filter.received_from_ms {
            conditions.push(format!("r.received_at >= {from}"));
        }
        if let Some(before) = filter.received_before_ms {
            conditions.push(format!("r.received_at < {before}"));
        }
        if filter.unread_only {
            conditions.push("r.unread_messages > 0".to_owned());
        }
        let where_clause = conditions.join(" AND ");
        // Counting stops at COUNT_CAP: an exact count of a million would
        // cost every queue page a scan of them all. Paging does not depend
        // on the count.
        let count_sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM reports r WHERE {where_clause} LIMIT {}) capped", COUNT_CAP + 1);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for value in &values {
            count = count.bind(value);
        }
        let total = count.fetch_one(&self.pool).await?;

        // Keyset paging: the rows after (or before) the cursor's place in
        // the order, one more than asked to know whether another page follows.
        let (keys, ascending) = order.keys();
        let backwards = matches!(position, QueuePosition::Before(_));
        let mut page_conditions = where_clause.clone();
        let mut page_values = values.clone();
        if let QueuePosition::After(cursor) | QueuePosition::Before(cursor) = position {
            page_values.push(cursor.id.as_str().to_owned());
            let comparison = if ascending != backwards { ">" } else { "<" };
            page_conditions.push_str(&format!(" AND ({keys}) {comparison} ({}, ${})", cursor.values(order), page_values.len()));
        }
        let direction = if ascending != backwards { "ASC" } else { "DESC" };
        let order_by = keys.split(", ").map(|key| format!("{key} {direction}")).collect::<Vec<_>>().join(", ");
        let limit = limit.clamp(1, 200);
        let page_sql = format!(
            "SELECT r.id, r.reference, r.received_at, r.risk_level, r.sector, r.town, r.postcode, r.status, r.first_opened_at, r.immediate_danger,
                    r.unread_messages, u.display_name AS assignee_name
             FROM reports r LEFT JOIN users u ON u.id = r.assignee_user_id
             WHERE {page_conditions} ORDER BY {order_by} LIMIT {}",
            limit + 1
        );
        let mut page = sqlx::query(&page_sql);
        for value in &page_values {
            page = page.bind(value);
        }
        let rows = page.fetch_all(&self.pool).await?;
        let mut rows = rows
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
                    unread_messages: row.try_get("unread_messages")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        if backwards {
            rows.reverse();
        }
        // Going forwards, a page follows if a row was left over; going
        // backwards, the cursor's own row follows. Likewise before.
        let (has_next, has_previous) = match position {
            QueuePosition::First => (more, false),
            QueuePosition::After(_) => (more, true),
            QueuePosition::Before(_) => (true, more),
        };
        let next = if has_next { rows.last().map(QueueCursor::of) } else { None };
        let previous = if has_previous { rows.first().map(QueueCursor::of) } else { None };
        // Counted up to a cap, like the page's total: every queue page shows
        // it, and counting 128,000 unopened Immediate reports (a synthetic
        // million) took a second on PostgreSQL before the table was vacuumed.
        let immediate_unopened: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM reports WHERE owning_organisation_id = $1 AND risk_level = 'immediate' AND first_opened_at IS NULL LIMIT $2) capped",
        )
        .bind(organisation_id)
        .bind(IMMEDIATE_COUNT_CAP + 1)
        .fetch_one(&self.pool)
        .await?;
        // SQLite is told which index: its own (3.46) chose to read every
        // report of the organisation instead of the partial index of those
        // with unread messages once statistics were gathered (1.9 s a page
        // at a million reports; the index is the only sensible plan).
        let unread_sql = match self.backend {
            Backend::Sqlite => "SELECT assignee_user_id FROM reports INDEXED BY reports_owner_unread WHERE owning_organisation_id = $1 AND unread_messages > 0",
            Backend::Postgres => "SELECT assignee_user_id FROM reports WHERE owning_organisation_id = $1 AND unread_messages > 0",
        };
        let unread_rows = sqlx::query(unread_sql).bind(organisation_id).fetch_all(&self.pool).await?;
        let unread = unread_rows.len() as i64;
        let unread_mine = match viewer {
            Some(viewer) => unread_rows
                .iter()
                .map(|row| row.try_get::<Option<String>, _>("assignee_user_id"))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|assignee| assignee.as_deref() == Some(viewer.as_str()))
                .count() as i64,
            None => 0,
        };
        Ok(QueuePage {
            rows,
            total: total.min(COUNT_CAP),
            total_is_capped: total > COUNT_CAP,
            immediate_unopened: immediate_unopened.min(IMMEDIATE_COUNT_CAP),
            immediate_unopened_is_capped: immediate_unopened > IMMEDIATE_COUNT_CAP,
            unread,
            unread_mine,
            next,
            previous,
        })
    }

    /// Sets when reports were received, for demonstration and benchmark
    /// data that stands for weeks of reports written in a moment. Nothing a
    /// person does calls it: the time a report arrives is the server's.
    pub async fn set_received_times(&self, times: &[(ReportId, i64)]) -> Result<(), StoreError> {
        // Five hundred a statement: a million took 778 s one a statement on
        // PostgreSQL, 338 s this way (the rest is `report_tallies`' triggers).
        for chunk in times.chunks(500) {
            let values = (0..chunk.len()).map(|index| format!("(${}, CAST(${} AS BIGINT))", 2 * index + 1, 2 * index + 2)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "WITH given (id, received_at) AS (VALUES {values}) UPDATE reports SET received_at = given.received_at FROM given WHERE reports.id = given.id"
            );
            let mut query = sqlx::query(&sql);
            for (report_id, received_at_ms) in chunk {
                query = query.bind(report_id.as_str()).bind(*received_at_ms);
            }
            query.execute(&self.pool).await?;
        }
        Ok(())
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
        mark_messages_read(&mut transaction, report_id).await?;
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
        // Assigning a new report to someone puts it in review: someone has it.
        sqlx::query(
            "UPDATE reports SET assignee_user_id = $1, updated_at = $2,
                 status = CASE WHEN $1 IS NOT NULL AND status = 'new' THEN 'in_review' ELSE status END
             WHERE id = $3",
        )
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

/// A member of staff has the report open: its reporter messages are read.
pub(crate) async fn mark_messages_read(connection: &mut AnyConnection, report_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE reports SET unread_messages = 0 WHERE id = $1 AND unread_messages > 0").bind(report_id).execute(&mut *connection).await?;
    Ok(())
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
