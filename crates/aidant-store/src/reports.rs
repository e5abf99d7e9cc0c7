//! Public reports: durable insertion with triage and audit in one
//! transaction, idempotent per submission token, and reading back.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::ReportId;
use aidant_core::organisation::ReportStatus;
use aidant_core::report::{ContactDetails, NewReport, SubmissionToken};
use aidant_core::{ReportRef, RiskLevel, Triage};
use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::audit::{AuditEvent, append};
use crate::{Store, StoreError, flag, now_ms};

/// What the reporter is told: the reference, and whether this call created
/// the report or found the one an earlier identical submission created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub report_id: ReportId,
    pub reference: ReportRef,
    pub created: bool,
}

/// Contact details as sealed at rest (serialised before sealing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<&ContactDetails> for ContactRecord {
    fn from(contact: &ContactDetails) -> Self {
        let text = |value: &Option<aidant_core::text::BoundedText>| value.as_ref().map(|text| text.as_str().to_owned());
        Self { name: text(&contact.name), phone: text(&contact.phone), email: text(&contact.email) }
    }
}

/// One report as the network sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportNetworkRow {
    pub reference: String,
    /// The day it arrived, `YYYY-MM-DD` (UTC).
    pub received_on: String,
    pub postcode: Option<String>,
    pub town: Option<String>,
    pub business_name: Option<String>,
    pub registrations: Vec<String>,
}

/// `YYYY-MM-DD` (UTC) for Unix milliseconds, by the civil-from-days algorithm.
fn day_of(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A stored report as staff read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub id: ReportId,
    pub reference: ReportRef,
    pub received_at_ms: i64,
    pub status: ReportStatus,
    pub risk_level: RiskLevel,
    pub triage_score: i64,
    pub triage_reasons: Vec<String>,
    pub catalogue_version: String,
    pub sector: String,
    pub postcode: Option<String>,
    pub town: Option<String>,
    pub location_description: Option<String>,
    pub business_name: Option<String>,
    pub signs: Vec<String>,
    pub people_count: Option<i64>,
    pub age_groups: Vec<String>,
    pub people_description: Option<String>,
    pub vehicles: Vec<(Option<String>, Option<String>)>,
    pub narrative: Option<String>,
    pub when_seen: Option<String>,
    pub immediate_danger: bool,
    pub child_reported: bool,
    pub has_contact: bool,
}

/// Where the reference's random bits come from; a closure so tests can force
/// collisions.
pub type ReferenceSource<'a> = &'a mut (dyn FnMut() -> u64 + Send);

/// What to store beside the parsed report.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub report: &'a NewReport,
    pub triage: &'a Triage,
    pub catalogue_version: &'a str,
    /// One token per draft: a repeated submission returns the first receipt.
    pub submission_token: Option<&'a SubmissionToken>,
    /// An Argon2id hash of the reporter's keep-in-contact passphrase.
    pub passphrase_hash: Option<&'a str>,
}

fn contact_binding(report_id: &str) -> String {
    format!("report:{report_id}:contact")
}

fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

fn parse_json_list(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("a stored list is not JSON: {error}")))
}

impl Store {
    /// Stores a report, its signs, vehicles and audit entry in one
    /// transaction; returns only after the commit is durable. Retries with a
    /// fresh reference when the one drawn is taken: rare for a force, but
    /// with 22^9 references, storing a million gives about 0.4 collisions
    /// in all (the birthday bound, n^2 / 2N), and the benchmarks at a
    /// million do meet them.
    pub async fn insert_report(&self, submission: &Submission<'_>, next_reference_bits: ReferenceSource<'_>) -> Result<Receipt, StoreError> {
        if let Some(token) = submission.submission_token
            && let Some(receipt) = self.receipt_for_token(token.as_str()).await?
        {
            return Ok(receipt);
        }
        let mut attempts = 0;
        loop {
            attempts += 1;
            let reference = ReportRef::from_random(next_reference_bits());
            let mut transaction = self.pool.begin().await?;
            let written = match insert_report_rows(&mut transaction, self, submission, &reference).await {
                Ok((report_id, search_text)) => {
                    match crate::entities::enqueue_all(&mut transaction, crate::entities::JobRecord::Report, &[report_id.as_str()], now_ms()).await {
                        Ok(()) => match append(&mut transaction, &report_created(&report_id)).await {
                            Ok(_) => {
                                crate::search::index_new_reports(&mut transaction, &[(report_id.as_str(), search_text.as_str())]).await.map(|()| report_id)
                            }
                            Err(error) => Err(error),
                        },
                        Err(error) => Err(error),
                    }
                }
                Err(error) => Err(error),
            };
            match written {
                Ok(report_id) => {
                    transaction.commit().await?;
                    return Ok(Receipt { report_id, reference, created: true });
                }
                Err(StoreError::Database(error)) if is_unique_violation(&error) => {
                    transaction.rollback().await?;
                    if let Some(token) = submission.submission_token
                        && let Some(receipt) = self.receipt_for_token(token.as_str()).await?
                    {
                        return Ok(receipt);
                    }
                    if attempts >= 5 {
                        return Err(StoreError::Database(error));
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }

    async fn receipt_for_token(&self, token: &str) -> Result<Option<Receipt>, StoreError> {
        let row = sqlx::query("SELECT id, reference FROM reports WHERE submission_token = $1").bind(token).fetch_optional(&self.pool).await?;
        row.as_ref().map(earlier_receipt_from_row).transpose()
    }

    /// Reads a report by its public reference, without auditing (callers
    /// that show it to a person audit the view themselves).
    pub async fn find_report_by_reference(&self, reference: &ReportRef) -> Result<Option<StoredReport>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let row = sqlx::query(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE reference = $1"))
            .bind(reference.as_compact())
            .fetch_optional(&mut *connection)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => report_from_row(&mut connection, &row).await.map(Some),
        }
    }

    /// Reads a report by id, without auditing.
    pub async fn find_report_by_id(&self, report_id: &ReportId) -> Result<Option<StoredReport>, StoreError> {
        load_report(&mut *self.pool.acquire().await?, report_id).await
    }

    /// Opens a report's sealed contact details and audits the access.
    pub async fn reveal_contact(&self, report_id: &ReportId, actor: &AuditActor, reason: &str) -> Result<Option<ContactRecord>, StoreError> {
        let report_id = report_id.as_str();
        let key = self.keyring()?;
        let row = sqlx::query("SELECT contact_sealed FROM reports WHERE id = $1").bind(report_id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Option<Vec<u8>> = row.try_get("contact_sealed")?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let plaintext = key.open(&sealed, &contact_binding(report_id))?;
        self.audit(&AuditEvent {
            actor,
            action: AuditAction::ReportContactReveal,
            record_kind: AuditRecordKind::Report,
            record_id: report_id,
            reason: Some(reason),
        })
        .await?;
        serde_json::from_slice(&plaintext).map(Some).map_err(|error| StoreError::Corrupt(format!("sealed contact details are not JSON: {error}")))
    }

    /// What `aidant graph --from-database` links: every report's reference,
    /// day, postcode, town, business and vehicle registrations. The read is
    /// audited as one entry naming who ran it and why.
    pub async fn report_network(&self, actor: &AuditActor, reason: &str) -> Result<Vec<ReportNetworkRow>, StoreError> {
        self.audit(&AuditEvent {
            actor,
            action: AuditAction::ReportsNetworkRead,
            record_kind: AuditRecordKind::Reports,
            record_id: "all",
            reason: Some(reason),
        })
        .await?;
        let rows =
            sqlx::query("SELECT id, reference, received_at, postcode, town, business_name FROM reports ORDER BY received_at, id").fetch_all(&self.pool).await?;
        let vehicle_rows = sqlx::query("SELECT report_id, registration FROM report_vehicles WHERE registration IS NOT NULL ORDER BY report_id, position")
            .fetch_all(&self.pool)
            .await?;
        let mut registrations: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for row in &vehicle_rows {
            registrations.entry(row.try_get("report_id")?).or_default().push(row.try_get("registration")?);
        }
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let received_at: i64 = row.try_get("received_at")?;
                Ok(ReportNetworkRow {
                    reference: row.try_get("reference")?,
                    received_on: day_of(received_at),
                    postcode: row.try_get("postcode")?,
                    town: row.try_get("town")?,
                    business_name: row.try_get("business_name")?,
                    registrations: registrations.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn count_reports(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(&self.pool).await?)
    }
}

/// Reads a report by id on a connection or in a transaction, without auditing.
pub(crate) async fn load_report(connection: &mut AnyConnection, report_id: &ReportId) -> Result<Option<StoredReport>, StoreError> {
    let report_id = report_id.as_str();
    let row = sqlx::query(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1")).bind(report_id).fetch_optional(&mut *connection).await?;
    match row {
        None => Ok(None),
        Some(row) => report_from_row(connection, &row).await.map(Some),
    }
}

async fn report_from_row(connection: &mut AnyConnection, row: &sqlx::any::AnyRow) -> Result<StoredReport, StoreError> {
    let id: ReportId = crate::named(row, "id")?;
    let signs = sqlx::query_scalar("SELECT indicator_id FROM report_signs WHERE report_id = $1 ORDER BY indicator_id")
        .bind(id.as_str())
        .fetch_all(&mut *connection)
        .await?;
    let vehicle_rows = sqlx::query("SELECT registration, description FROM report_vehicles WHERE report_id = $1 ORDER BY position")
        .bind(id.as_str())
        .fetch_all(&mut *connection)
        .await?;
    let mut vehicles = Vec::with_capacity(vehicle_rows.len());
    for vehicle in &vehicle_rows {
        vehicles.push((vehicle.try_get("registration")?, vehicle.try_get("description")?));
    }
    let reference: String = row.try_get("reference")?;
    let reasons: String = row.try_get("triage_reasons")?;
    let age_groups: String = row.try_get("age_groups")?;
    let sealed: Option<Vec<u8>> = row.try_get("contact_sealed")?;
    Ok(StoredReport {
        reference: parse_reference(&reference)?,
        received_at_ms: row.try_get("received_at")?,
        status: crate::named(row, "status")?,
        risk_level: crate::named(row, "risk_level")?,
        triage_score: row.try_get("triage_score")?,
        triage_reasons: parse_json_list(&reasons)?,
        catalogue_version: row.try_get("catalogue_version")?,
        sector: row.try_get("sector")?,
        postcode: row.try_get("postcode")?,
        town: row.try_get("town")?,
        location_description: row.try_get("location_description")?,
        business_name: row.try_get("business_name")?,
        signs,
        people_count: row.try_get("people_count")?,
        age_groups: parse_json_list(&age_groups)?,
        people_description: row.try_get("people_description")?,
        vehicles,
        narrative: row.try_get("narrative")?,
        when_seen: row.try_get("when_seen")?,
        immediate_danger: flag(row.try_get("immediate_danger")?),
        child_reported: flag(row.try_get("child_reported")?),
        has_contact: sealed.is_some(),
        id,
    })
}

const REPORT_COLUMNS: &str = "id, reference, received_at, status, risk_level, triage_score, triage_reasons, catalogue_version, sector, postcode, town, \
     location_description, business_name, people_count, age_groups, people_description, narrative, when_seen, immediate_danger, child_reported, contact_sealed";

/// The receipt for a report an earlier submission created, from a row with
/// `id` and `reference` columns. Shared with the group-commit writer, which
/// looks up a whole batch's tokens at once.
pub(crate) fn earlier_receipt_from_row(row: &sqlx::any::AnyRow) -> Result<Receipt, StoreError> {
    let reference: String = row.try_get("reference")?;
    Ok(Receipt { report_id: crate::named(row, "id")?, reference: parse_reference(&reference)?, created: false })
}

fn parse_reference(text: &str) -> Result<ReportRef, StoreError> {
    ReportRef::parse(text).map_err(|error| StoreError::Corrupt(format!("a stored reference is invalid: {error}")))
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => {
            database.is_unique_violation() || database.code().is_some_and(|code| code == "23505" || code == "2067" || code == "1555")
        }
        _ => false,
    }
}

/// The audit entry of a public report's creation.
pub(crate) fn report_created(report_id: &ReportId) -> AuditEvent<'_> {
    AuditEvent::new(&AuditActor::Public, AuditAction::ReportCreate, AuditRecordKind::Report, report_id.as_str())
}

/// Writes one report's rows inside `transaction` and returns its id and the
/// text of its search document, without committing, auditing, indexing or
/// queueing it for the entity worker (the callers do those for all their
/// reports together, indexing last: see `report_writer::write_rows`).
pub(crate) async fn insert_report_rows(
    transaction: &mut Transaction<'_, Any>,
    store: &Store,
    submission: &Submission<'_>,
    reference: &ReportRef,
) -> Result<(ReportId, String), StoreError> {
    let mut written = insert_reports_rows(transaction, store, &[(submission, reference)]).await?;
    written.pop().ok_or_else(|| StoreError::Corrupt("a report written returned no id".to_owned()))
}

/// Report rows per statement: 23 parameters each, far below either
/// database's limit on parameters.
const REPORTS_PER_STATEMENT: usize = 100;
/// The organisation that receives public reports, as a report row's value.
const RECEIVER: &str = "(SELECT id FROM organisations WHERE receives_public_reports = 1 ORDER BY created_at, id LIMIT 1)";
/// Sign and vehicle rows per statement.
const DETAILS_PER_STATEMENT: usize = 500;

/// Writes many reports' rows inside `transaction`, as `insert_report_rows`
/// does one's, in a few multi-row statements (the report writer's batches
/// cost a round trip to the database per statement, and a batch is written
/// while every other writer waits); ids and search texts in `reports`'
/// order. `insert_report` writes one report at a time, the group-commit
/// writer (`report_writer.rs`) many together.
pub(crate) async fn insert_reports_rows(
    transaction: &mut Transaction<'_, Any>,
    store: &Store,
    reports: &[(&Submission<'_>, &ReportRef)],
) -> Result<Vec<(ReportId, String)>, StoreError> {
    let now = now_ms();
    let ids: Vec<ReportId> = reports.iter().map(|_| crate::new_record_id()).collect();
    let mut sealed_contacts = Vec::with_capacity(reports.len());
    for ((submission, _), report_id) in reports.iter().zip(&ids) {
        sealed_contacts.push(match &submission.report.contact {
            None => None,
            Some(contact) => {
                let plaintext = serde_json::to_vec(&ContactRecord::from(contact)).map_err(|error| StoreError::Corrupt(error.to_string()))?;
                Some(store.keyring()?.seal(&plaintext, &contact_binding(report_id.as_str())))
            }
        });
    }
    let text = |value: &Option<aidant_core::text::BoundedText>| value.as_ref().map(|text| text.as_str().to_owned());
    let rows: Vec<(usize, &(&Submission<'_>, &ReportRef))> = reports.iter().enumerate().collect();
    for chunk in rows.chunks(REPORTS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let parameter = |column: usize| format!("${}", row * 23 + column);
                let mut parameters: Vec<String> = (1..=4).map(parameter).collect();
                parameters.push("'new'".to_owned());
                parameters.extend((5..=23).map(parameter));
                // The receiving organisation is looked up in the statement:
                // on SQLite a transaction that reads first cannot wait for
                // the write lock (the report writer's first statement writes).
                parameters.push(RECEIVER.to_owned());
                format!("({})", parameters.join(", "))
            })
            .collect();
        let statement = format!(
            "INSERT INTO reports (id, reference, submission_token, received_at, status, risk_level, risk_rank, triage_score, triage_reasons,
                 catalogue_version, sector, postcode, town, location_description, business_name, people_count, age_groups,
                 people_description, narrative, when_seen, immediate_danger, child_reported, contact_sealed, passphrase_hash, owning_organisation_id)
             VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&statement);
        for (position, (submission, reference)) in chunk {
            let report = submission.report;
            query = query
                .bind(ids[*position].as_str())
                .bind(reference.as_compact())
                .bind(submission.submission_token.map(SubmissionToken::as_str))
                .bind(now)
                .bind(submission.triage.level.as_str())
                .bind(submission.triage.level.rank())
                .bind(i64::from(submission.triage.score))
                .bind(json_list(&submission.triage.reasons))
                .bind(submission.catalogue_version)
                .bind(&report.sector)
                .bind(&report.postcode)
                .bind(text(&report.town))
                .bind(text(&report.location_description))
                .bind(text(&report.business_name))
                .bind(report.people_count.map(i64::from))
                .bind(json_list(&report.age_groups))
                .bind(text(&report.people_description))
                .bind(text(&report.narrative))
                .bind(text(&report.when_seen))
                .bind(i64::from(report.immediate_danger))
                .bind(i64::from(report.child_reported()))
                .bind(sealed_contacts[*position].clone())
                .bind(submission.passphrase_hash);
        }
        query.execute(&mut **transaction).await?;
    }
    let signs: Vec<(&str, &String)> =
        reports.iter().zip(&ids).flat_map(|((submission, _), id)| submission.report.signs.iter().map(move |sign| (id.as_str(), sign))).collect();
    for chunk in signs.chunks(DETAILS_PER_STATEMENT) {
        let statement = format!("INSERT INTO report_signs (report_id, indicator_id) VALUES {}", crate::link_records::values_list(chunk.len(), 2));
        let mut query = sqlx::query(&statement);
        for (report_id, sign) in chunk {
            query = query.bind(*report_id).bind(*sign);
        }
        query.execute(&mut **transaction).await?;
    }
    let vehicles: Vec<(&str, usize, &aidant_core::report::Vehicle)> = reports
        .iter()
        .zip(&ids)
        .flat_map(|((submission, _), id)| submission.report.vehicles.iter().enumerate().map(move |(position, vehicle)| (id.as_str(), position, vehicle)))
        .collect();
    for chunk in vehicles.chunks(DETAILS_PER_STATEMENT) {
        let statement =
            format!("INSERT INTO report_vehicles (report_id, position, registration, description) VALUES {}", crate::link_records::values_list(chunk.len(), 4));
        let mut query = sqlx::query(&statement);
        for (report_id, position, vehicle) in chunk {
            query = query.bind(*report_id).bind(*position as i64).bind(&vehicle.registration).bind(text(&vehicle.description));
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(ids.into_iter().zip(reports).map(|(id, (submission, reference))| (id, report_search_text(submission.report, reference))).collect())
}

/// What search finds a report by: everything staff read on it except the
/// sealed contact details.
fn report_search_text(report: &NewReport, reference: &ReportRef) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let formatted = reference.to_string();
    parts.push(reference.as_compact());
    parts.push(&formatted);
    parts.push(&report.sector);
    for text in [&report.town, &report.location_description, &report.business_name, &report.people_description, &report.narrative, &report.when_seen]
        .into_iter()
        .flatten()
    {
        parts.push(text.as_str());
    }
    if let Some(postcode) = &report.postcode {
        parts.push(postcode);
    }
    for vehicle in &report.vehicles {
        if let Some(registration) = &vehicle.registration {
            parts.push(registration);
        }
        if let Some(description) = &vehicle.description {
            parts.push(description.as_str());
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::day_of;

    #[test]
    fn days_are_civil_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(951_782_400_000), "2000-02-29");
        assert_eq!(day_of(1_795_996_800_000 - 1), "2026-11-29");
        assert_eq!(day_of(1_795_996_800_000), "2026-11-30");
        assert_eq!(day_of(-86_400_000), "1969-12-31");
    }
}
