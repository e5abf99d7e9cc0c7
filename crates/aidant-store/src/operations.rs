//! Operations as rows (migration 0018): the plan (agencies, sites with the
//! records behind them, teams with their sites and members) and the field
//! records, each stored once under the id the phone gave it, with what the
//! phone sent sealed.
//!
//! Nothing here asks the policy or audits: `cases::operations` does.

use std::collections::BTreeMap;

use aidant_core::ids::{FieldRecordId, OperationId, OrganisationId, SiteId, TeamId, UserId};
use aidant_core::operations::{FieldRecordAnswers, NewOperation, RecordKind};
use sqlx::{Any, AnyConnection, Row, Transaction};
use time::Date;

use crate::StoreError;
use crate::crypto::Keyring;

/// An operation's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: OperationId,
    pub lead_organisation_id: OrganisationId,
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub created_by: UserId,
    /// Agencies taking part besides the lead force.
    pub agencies: Vec<OrganisationId>,
    pub sites: Vec<Site>,
    pub teams: Vec<Team>,
    /// The press summary as the lead last saved it, if they have.
    pub press_summary: Option<String>,
}

impl Operation {
    /// What the policy needs, about `team` when one is asked about.
    pub fn access(&self, team: Option<&TeamId>) -> aidant_core::policy::OperationAccess {
        aidant_core::policy::OperationAccess {
            lead_organisation_id: self.lead_organisation_id.clone(),
            team_members: self.teams.iter().filter(|candidate| Some(&candidate.id) == team).flat_map(|team| team.members.iter().cloned()).collect(),
        }
    }

    /// The teams `user` is in.
    pub fn teams_of<'a>(&'a self, user: &'a UserId) -> impl Iterator<Item = &'a Team> + 'a {
        self.teams.iter().filter(move |team| team.members.contains(user))
    }
}

/// A place the operation visits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    /// The catalogue's sector for this kind of place.
    pub sector: String,
    pub postcode: Option<String>,
    pub entity_id: Option<aidant_core::ids::EntityId>,
    pub reason: String,
    /// The reports and intelligence behind it: (`report` or
    /// `intelligence`, id).
    pub records: Vec<(String, String)>,
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub tasks: String,
    pub sites: Vec<SiteId>,
    pub members: Vec<UserId>,
}

/// A record made in the field, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFieldRecord {
    pub id: FieldRecordId,
    pub team_id: TeamId,
    pub organisation_id: OrganisationId,
    pub recorded_by: UserId,
    pub kind: RecordKind,
    pub site_id: Option<SiteId>,
    pub recorded_on: Date,
    pub answers: FieldRecordAnswers,
    pub received_at_ms: i64,
}

/// A new field record.
#[derive(Debug, Clone)]
pub struct FieldRecordInsert<'a> {
    pub id: &'a FieldRecordId,
    pub operation_id: &'a OperationId,
    pub team_id: &'a TeamId,
    pub organisation_id: &'a OrganisationId,
    pub recorded_by: &'a UserId,
    pub kind: RecordKind,
    pub site_id: Option<&'a SiteId>,
    pub recorded_on: Date,
    pub answers: &'a FieldRecordAnswers,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("a stored operation is invalid: {what}"))
}

fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| corrupt(what))
}

fn day(text: &str, what: &str) -> Result<Date, StoreError> {
    aidant_core::text::parse_iso_date(text).ok_or_else(|| corrupt(what))
}

fn answers_binding(id: &str) -> String {
    format!("field_records:{id}:answers")
}

/// Writes a new operation and the agencies taking part.
pub(crate) async fn insert_operation(
    transaction: &mut Transaction<'_, Any>,
    new: &NewOperation,
    lead: &OrganisationId,
    agencies: &[OrganisationId],
    by: &UserId,
    now: i64,
) -> Result<OperationId, StoreError> {
    let id: OperationId = crate::new_record_id();
    sqlx::query(
        "INSERT INTO operations (id, lead_organisation_id, name, starts_on, ends_on, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id.as_str())
    .bind(lead.as_str())
    .bind(&new.name)
    .bind(new.starts_on.to_string())
    .bind(new.ends_on.to_string())
    .bind(by.as_str())
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    for agency in agencies {
        sqlx::query("INSERT INTO operation_agencies (operation_id, organisation_id) VALUES ($1, $2) ON CONFLICT (operation_id, organisation_id) DO NOTHING")
            .bind(id.as_str())
            .bind(agency.as_str())
            .execute(&mut **transaction)
            .await?;
    }
    Ok(id)
}

/// A new site.
#[derive(Debug, Clone)]
pub struct SiteInsert<'a> {
    pub name: &'a str,
    pub sector: &'a str,
    pub postcode: Option<&'a str>,
    pub entity_id: Option<&'a aidant_core::ids::EntityId>,
    pub reason: &'a str,
    /// (`report` or `intelligence`, id).
    pub records: &'a [(String, String)],
}

/// Adds a site at the end of the plan's sites.
pub(crate) async fn insert_site(transaction: &mut Transaction<'_, Any>, operation_id: &OperationId, site: &SiteInsert<'_>) -> Result<SiteId, StoreError> {
    let id: SiteId = crate::new_record_id();
    let position: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM operation_sites WHERE operation_id = $1").bind(operation_id.as_str()).fetch_one(&mut **transaction).await?;
    sqlx::query("INSERT INTO operation_sites (id, operation_id, name, sector, postcode, entity_id, reason, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id.as_str())
        .bind(operation_id.as_str())
        .bind(site.name)
        .bind(site.sector)
        .bind(site.postcode)
        .bind(site.entity_id.map(aidant_core::ids::EntityId::as_str))
        .bind(site.reason)
        .bind(position)
        .execute(&mut **transaction)
        .await?;
    for (kind, record_id) in site.records {
        sqlx::query("INSERT INTO operation_site_records (site_id, kind, record_id) VALUES ($1, $2, $3) ON CONFLICT (site_id, kind, record_id) DO NOTHING")
            .bind(id.as_str())
            .bind(kind)
            .bind(record_id)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(id)
}

/// Adds a team at the end of the plan's teams.
pub(crate) async fn insert_team(
    transaction: &mut Transaction<'_, Any>,
    operation_id: &OperationId,
    name: &str,
    tasks: &str,
    sites: &[SiteId],
    members: &[UserId],
) -> Result<TeamId, StoreError> {
    let id: TeamId = crate::new_record_id();
    let position: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM operation_teams WHERE operation_id = $1").bind(operation_id.as_str()).fetch_one(&mut **transaction).await?;
    sqlx::query("INSERT INTO operation_teams (id, operation_id, name, tasks, position) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.as_str())
        .bind(operation_id.as_str())
        .bind(name)
        .bind(tasks)
        .bind(position)
        .execute(&mut **transaction)
        .await?;
    for site in sites {
        sqlx::query("INSERT INTO operation_team_sites (team_id, site_id) VALUES ($1, $2) ON CONFLICT (team_id, site_id) DO NOTHING")
            .bind(id.as_str())
            .bind(site.as_str())
            .execute(&mut **transaction)
            .await?;
    }
    for member in members {
        sqlx::query("INSERT INTO operation_team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT (team_id, user_id) DO NOTHING")
            .bind(id.as_str())
            .bind(member.as_str())
            .execute(&mut **transaction)
            .await?;
    }
    Ok(id)
}

/// Reads an operation's whole plan.
pub(crate) async fn load_operation(connection: &mut AnyConnection, id: &OperationId) -> Result<Option<Operation>, StoreError> {
    let Some(row) = sqlx::query("SELECT id, lead_organisation_id, name, starts_on, ends_on, created_by, press_summary FROM operations WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(&mut *connection)
        .await?
    else {
        return Ok(None);
    };
    let agencies: Vec<String> = sqlx::query_scalar("SELECT organisation_id FROM operation_agencies WHERE operation_id = $1 ORDER BY organisation_id")
        .bind(id.as_str())
        .fetch_all(&mut *connection)
        .await?;
    let mut records: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for record in sqlx::query(
        "SELECT r.site_id, r.kind, r.record_id FROM operation_site_records r JOIN operation_sites s ON s.id = r.site_id WHERE s.operation_id = $1 ORDER BY r.kind, r.record_id",
    )
    .bind(id.as_str())
    .fetch_all(&mut *connection)
    .await?
    {
        records.entry(record.try_get("site_id")?).or_default().push((record.try_get("kind")?, record.try_get("record_id")?));
    }
    let mut sites = Vec::new();
    for site in sqlx::query("SELECT id, name, sector, postcode, entity_id, reason FROM operation_sites WHERE operation_id = $1 ORDER BY position")
        .bind(id.as_str())
        .fetch_all(&mut *connection)
        .await?
    {
        let site_id: String = site.try_get("id")?;
        let entity: Option<String> = site.try_get("entity_id")?;
        sites.push(Site {
            records: records.remove(&site_id).unwrap_or_default(),
            id: parse(&site_id, "site id")?,
            name: site.try_get("name")?,
            sector: site.try_get("sector")?,
            postcode: site.try_get("postcode")?,
            entity_id: entity.map(|entity| parse(&entity, "site entity")).transpose()?,
            reason: site.try_get("reason")?,
        });
    }
    let mut team_sites: BTreeMap<String, Vec<SiteId>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT s.team_id, s.site_id FROM operation_team_sites s JOIN operation_teams t ON t.id = s.team_id WHERE t.operation_id = $1 ORDER BY s.site_id",
    )
    .bind(id.as_str())
    .fetch_all(&mut *connection)
    .await?
    {
        let site: String = row.try_get("site_id")?;
        team_sites.entry(row.try_get("team_id")?).or_default().push(parse(&site, "team site")?);
    }
    let mut members: BTreeMap<String, Vec<UserId>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT m.team_id, m.user_id FROM operation_team_members m JOIN operation_teams t ON t.id = m.team_id WHERE t.operation_id = $1 ORDER BY m.user_id",
    )
    .bind(id.as_str())
    .fetch_all(&mut *connection)
    .await?
    {
        let user: String = row.try_get("user_id")?;
        members.entry(row.try_get("team_id")?).or_default().push(parse(&user, "team member")?);
    }
    let mut teams = Vec::new();
    for team in sqlx::query("SELECT id, name, tasks FROM operation_teams WHERE operation_id = $1 ORDER BY position")
        .bind(id.as_str())
        .fetch_all(&mut *connection)
        .await?
    {
        let team_id: String = team.try_get("id")?;
        teams.push(Team {
            sites: team_sites.remove(&team_id).unwrap_or_default(),
            members: members.remove(&team_id).unwrap_or_default(),
            id: parse(&team_id, "team id")?,
            name: team.try_get("name")?,
            tasks: team.try_get("tasks")?,
        });
    }
    let lead: String = row.try_get("lead_organisation_id")?;
    let created_by: String = row.try_get("created_by")?;
    let starts_on: String = row.try_get("starts_on")?;
    let ends_on: String = row.try_get("ends_on")?;
    Ok(Some(Operation {
        id: id.clone(),
        lead_organisation_id: parse(&lead, "lead force")?,
        name: row.try_get("name")?,
        starts_on: day(&starts_on, "first day")?,
        ends_on: day(&ends_on, "last day")?,
        created_by: parse(&created_by, "created by")?,
        agencies: agencies.iter().map(|agency| parse(agency, "agency")).collect::<Result<_, _>>()?,
        sites,
        teams,
        press_summary: row.try_get("press_summary")?,
    }))
}

/// Saves the lead's press summary.
pub(crate) async fn set_press_summary(transaction: &mut Transaction<'_, Any>, id: &OperationId, summary: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE operations SET press_summary = $1, updated_at = $2 WHERE id = $3")
        .bind(summary)
        .bind(now)
        .bind(id.as_str())
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// The operations an organisation leads and those a user is in a team of,
/// newest first.
pub(crate) async fn operation_ids_for(connection: &mut AnyConnection, organisation_id: &OrganisationId, user: &UserId) -> Result<Vec<OperationId>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM operations WHERE lead_organisation_id = $1
             OR id IN (SELECT t.operation_id FROM operation_teams t JOIN operation_team_members m ON m.team_id = t.id WHERE m.user_id = $2)
         ORDER BY starts_on DESC, id DESC",
    )
    .bind(organisation_id.as_str())
    .bind(user.as_str())
    .fetch_all(&mut *connection)
    .await?;
    ids.iter().map(|id| parse(id, "operation id")).collect()
}

/// Stores a field record once: `Ok(true)` when it is new, `Ok(false)` when
/// a record with its id was already stored by the same officer for the
/// same operation (a second sync), and an error naming it otherwise.
pub(crate) async fn insert_field_record(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    record: &FieldRecordInsert<'_>,
    now: i64,
) -> Result<Option<bool>, StoreError> {
    let plaintext = serde_json::to_vec(record.answers).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    let sealed = keyring.seal(&plaintext, &answers_binding(record.id.as_str()));
    let done = sqlx::query(
        "INSERT INTO field_records (id, operation_id, team_id, organisation_id, recorded_by, kind, site_id, recorded_on, answers_sealed, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(record.id.as_str())
    .bind(record.operation_id.as_str())
    .bind(record.team_id.as_str())
    .bind(record.organisation_id.as_str())
    .bind(record.recorded_by.as_str())
    .bind(record.kind.as_str())
    .bind(record.site_id.map(SiteId::as_str))
    .bind(record.recorded_on.to_string())
    .bind(sealed)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(Some(true));
    }
    let owner =
        sqlx::query("SELECT operation_id, recorded_by FROM field_records WHERE id = $1").bind(record.id.as_str()).fetch_optional(&mut **transaction).await?;
    match owner {
        Some(row)
            if row.try_get::<String, _>("operation_id")? == record.operation_id.as_str()
                && row.try_get::<String, _>("recorded_by")? == record.recorded_by.as_str() =>
        {
            Ok(Some(false))
        }
        // Another's record: say nothing about it.
        _ => Ok(None),
    }
}

/// Every field record of an operation, oldest first, opened.
pub(crate) async fn load_field_records(
    connection: &mut AnyConnection,
    keyring: &Keyring,
    operation_id: &OperationId,
) -> Result<Vec<StoredFieldRecord>, StoreError> {
    load_field_records_since(connection, keyring, operation_id, i64::MIN).await
}

/// One field record and the operation it belongs to, opened.
pub(crate) async fn load_field_record(
    connection: &mut AnyConnection,
    keyring: &Keyring,
    id: &FieldRecordId,
) -> Result<Option<(OperationId, StoredFieldRecord)>, StoreError> {
    let operation: Option<String> =
        sqlx::query_scalar("SELECT operation_id FROM field_records WHERE id = $1").bind(id.as_str()).fetch_optional(&mut *connection).await?;
    let Some(operation) = operation else { return Ok(None) };
    let operation: OperationId = parse(&operation, "operation id")?;
    let found = load_field_records_since(connection, keyring, &operation, i64::MIN).await?.into_iter().find(|record| &record.id == id);
    Ok(found.map(|record| (operation, record)))
}

/// An operation's field records received after `since` (milliseconds
/// since the epoch), oldest first, opened.
pub(crate) async fn load_field_records_since(
    connection: &mut AnyConnection,
    keyring: &Keyring,
    operation_id: &OperationId,
    since: i64,
) -> Result<Vec<StoredFieldRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, team_id, organisation_id, recorded_by, kind, site_id, recorded_on, answers_sealed, received_at FROM field_records
         WHERE operation_id = $1 AND received_at > $2 ORDER BY received_at, id",
    )
    .bind(operation_id.as_str())
    .bind(since)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let team: String = row.try_get("team_id")?;
            let organisation: String = row.try_get("organisation_id")?;
            let by: String = row.try_get("recorded_by")?;
            let kind: String = row.try_get("kind")?;
            let site: Option<String> = row.try_get("site_id")?;
            let recorded_on: String = row.try_get("recorded_on")?;
            let sealed: Vec<u8> = row.try_get("answers_sealed")?;
            let plaintext = keyring.open(&sealed, &answers_binding(&id)).map_err(|_| corrupt("a field record does not open"))?;
            Ok(StoredFieldRecord {
                answers: serde_json::from_slice(&plaintext).map_err(|_| corrupt("a field record is not what was sealed"))?,
                id: parse(&id, "field record id")?,
                team_id: parse(&team, "team")?,
                organisation_id: parse(&organisation, "organisation")?,
                recorded_by: parse(&by, "recorded by")?,
                kind: parse(&kind, "kind")?,
                site_id: site.map(|site| parse(&site, "site")).transpose()?,
                recorded_on: day(&recorded_on, "recorded on")?,
                received_at_ms: row.try_get("received_at")?,
            })
        })
        .collect()
}

impl crate::Store {
    /// How many field records an operation holds (each under its own id,
    /// the table's key): for the benchmark's check after a kill.
    pub async fn count_field_records(&self, operation_id: &OperationId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM field_records WHERE operation_id = $1").bind(operation_id.as_str()).fetch_one(&self.pool).await?)
    }
}
