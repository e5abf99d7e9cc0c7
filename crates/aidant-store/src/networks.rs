//! Rows behind the network pages (migration 0010): saved link charts,
//! saved organised-crime-group analyses and the roles an organisation's
//! analysts give people in a group. Who may read or write them is decided
//! in `cases::networks`; this module only stores and opens them.

use aidant_core::ids::{AnalysisId, ChartId, EntityId, OrganisationId, UserId};
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::StoreError;
use crate::crypto::Keyring;

/// A saved link chart, its name and state opened.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChart {
    pub id: ChartId,
    pub organisation_id: OrganisationId,
    pub owner_user_id: UserId,
    pub name: String,
    pub shared: bool,
    /// The chart's state as JSON (see `cases::networks::ChartState`).
    pub state: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

fn chart_binding(id: &str, part: &str) -> String {
    format!("charts:{id}:{part}")
}

fn analysis_binding(id: &str) -> String {
    format!("network_analyses:{id}:name")
}

fn opened_text(keyring: &Keyring, sealed: &[u8], binding: &str) -> Result<String, StoreError> {
    String::from_utf8(keyring.open(sealed, binding)?).map_err(|_| StoreError::Corrupt("a sealed text is not UTF-8".to_owned()))
}

pub(crate) async fn insert_chart(transaction: &mut Transaction<'_, Any>, keyring: &Keyring, chart: &StoredChart) -> Result<(), StoreError> {
    let id = chart.id.as_str();
    sqlx::query(
        "INSERT INTO charts (id, organisation_id, owner_user_id, name_sealed, shared, state_sealed, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(chart.organisation_id.as_str())
    .bind(chart.owner_user_id.as_str())
    .bind(keyring.seal(chart.name.as_bytes(), &chart_binding(id, "name")))
    .bind(i64::from(chart.shared))
    .bind(keyring.seal(chart.state.as_bytes(), &chart_binding(id, "state")))
    .bind(chart.created_at_ms)
    .bind(chart.updated_at_ms)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

pub(crate) async fn update_chart(transaction: &mut Transaction<'_, Any>, keyring: &Keyring, chart: &StoredChart) -> Result<(), StoreError> {
    let id = chart.id.as_str();
    sqlx::query("UPDATE charts SET name_sealed = $1, shared = $2, state_sealed = $3, updated_at = $4 WHERE id = $5")
        .bind(keyring.seal(chart.name.as_bytes(), &chart_binding(id, "name")))
        .bind(i64::from(chart.shared))
        .bind(keyring.seal(chart.state.as_bytes(), &chart_binding(id, "state")))
        .bind(chart.updated_at_ms)
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

pub(crate) async fn delete_chart(transaction: &mut Transaction<'_, Any>, id: &ChartId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM charts WHERE id = $1").bind(id.as_str()).execute(&mut **transaction).await?;
    Ok(())
}

fn chart_of_row(keyring: &Keyring, row: &sqlx::any::AnyRow) -> Result<StoredChart, StoreError> {
    let id: String = row.try_get("id")?;
    Ok(StoredChart {
        name: opened_text(keyring, &row.try_get::<Vec<u8>, _>("name_sealed")?, &chart_binding(&id, "name"))?,
        state: opened_text(keyring, &row.try_get::<Vec<u8>, _>("state_sealed")?, &chart_binding(&id, "state"))?,
        id: crate::named(row, "id")?,
        organisation_id: crate::named(row, "organisation_id")?,
        owner_user_id: crate::named(row, "owner_user_id")?,
        shared: row.try_get::<i64, _>("shared")? != 0,
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}

const CHART_COLUMNS: &str = "id, organisation_id, owner_user_id, name_sealed, shared, state_sealed, created_at, updated_at";

pub(crate) async fn load_chart(connection: &mut AnyConnection, keyring: &Keyring, id: &ChartId) -> Result<Option<StoredChart>, StoreError> {
    let statement = format!("SELECT {CHART_COLUMNS} FROM charts WHERE id = $1");
    let row = sqlx::query(&statement).bind(id.as_str()).fetch_optional(&mut *connection).await?;
    row.map(|row| chart_of_row(keyring, &row)).transpose()
}

/// The charts an organisation's member may open: their own and those shared
/// in their organisation, newest first, at most `limit`.
pub(crate) async fn load_charts_for(
    connection: &mut AnyConnection,
    keyring: &Keyring,
    organisation_id: &OrganisationId,
    user_id: &UserId,
    limit: i64,
) -> Result<Vec<StoredChart>, StoreError> {
    let statement =
        format!("SELECT {CHART_COLUMNS} FROM charts WHERE organisation_id = $1 AND (owner_user_id = $2 OR shared = 1) ORDER BY updated_at DESC, id LIMIT $3");
    let rows = sqlx::query(&statement).bind(organisation_id.as_str()).bind(user_id.as_str()).bind(limit).fetch_all(&mut *connection).await?;
    rows.iter().map(|row| chart_of_row(keyring, row)).collect()
}

/// A saved organised-crime-group analysis, its name opened.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnalysis {
    pub id: AnalysisId,
    pub organisation_id: OrganisationId,
    pub created_by: UserId,
    pub created_at_ms: i64,
    pub name: String,
    pub window_from: Option<String>,
    pub window_to: Option<String>,
    /// The result as JSON (see `cases::networks::SavedResult`).
    pub result: String,
}

pub(crate) async fn insert_analysis(transaction: &mut Transaction<'_, Any>, keyring: &Keyring, analysis: &StoredAnalysis) -> Result<(), StoreError> {
    let id = analysis.id.as_str();
    sqlx::query(
        "INSERT INTO network_analyses (id, organisation_id, created_by, created_at, name_sealed, window_from, window_to, result)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(analysis.organisation_id.as_str())
    .bind(analysis.created_by.as_str())
    .bind(analysis.created_at_ms)
    .bind(keyring.seal(analysis.name.as_bytes(), &analysis_binding(id)))
    .bind(analysis.window_from.as_deref())
    .bind(analysis.window_to.as_deref())
    .bind(&analysis.result)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

fn analysis_of_row(keyring: &Keyring, row: &sqlx::any::AnyRow) -> Result<StoredAnalysis, StoreError> {
    let id: String = row.try_get("id")?;
    Ok(StoredAnalysis {
        name: opened_text(keyring, &row.try_get::<Vec<u8>, _>("name_sealed")?, &analysis_binding(&id))?,
        id: crate::named(row, "id")?,
        organisation_id: crate::named(row, "organisation_id")?,
        created_by: crate::named(row, "created_by")?,
        created_at_ms: row.try_get("created_at")?,
        window_from: row.try_get("window_from")?,
        window_to: row.try_get("window_to")?,
        result: row.try_get("result")?,
    })
}

const ANALYSIS_COLUMNS: &str = "id, organisation_id, created_by, created_at, name_sealed, window_from, window_to, result";

pub(crate) async fn load_analysis(connection: &mut AnyConnection, keyring: &Keyring, id: &AnalysisId) -> Result<Option<StoredAnalysis>, StoreError> {
    let statement = format!("SELECT {ANALYSIS_COLUMNS} FROM network_analyses WHERE id = $1");
    let row = sqlx::query(&statement).bind(id.as_str()).fetch_optional(&mut *connection).await?;
    row.map(|row| analysis_of_row(keyring, &row)).transpose()
}

/// An organisation's saved analyses, newest first.
pub(crate) async fn load_analyses_of(
    connection: &mut AnyConnection,
    keyring: &Keyring,
    organisation_id: &OrganisationId,
    limit: i64,
) -> Result<Vec<StoredAnalysis>, StoreError> {
    let statement = format!("SELECT {ANALYSIS_COLUMNS} FROM network_analyses WHERE organisation_id = $1 ORDER BY created_at DESC, id LIMIT $2");
    let rows = sqlx::query(&statement).bind(organisation_id.as_str()).bind(limit).fetch_all(&mut *connection).await?;
    rows.iter().map(|row| analysis_of_row(keyring, row)).collect()
}

/// Sets (or, with `None`, clears) a person's role in the organisation's
/// assessment.
pub(crate) async fn set_role(
    transaction: &mut Transaction<'_, Any>,
    organisation_id: &OrganisationId,
    entity_id: &EntityId,
    role: Option<&str>,
    user_id: &UserId,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM network_roles WHERE organisation_id = $1 AND entity_id = $2")
        .bind(organisation_id.as_str())
        .bind(entity_id.as_str())
        .execute(&mut **transaction)
        .await?;
    if let Some(role) = role {
        sqlx::query("INSERT INTO network_roles (organisation_id, entity_id, role, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(organisation_id.as_str())
            .bind(entity_id.as_str())
            .bind(role)
            .bind(user_id.as_str())
            .bind(now)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// The organisation's roles for the given people, as stored names.
pub(crate) async fn load_roles(
    connection: &mut AnyConnection,
    organisation_id: &OrganisationId,
    entity_ids: &[&EntityId],
) -> Result<Vec<(EntityId, String)>, StoreError> {
    let mut roles = Vec::new();
    for chunk in entity_ids.chunks(500) {
        let statement =
            format!("SELECT entity_id, role FROM network_roles WHERE organisation_id = $1 AND entity_id IN ({})", crate::bind_list_from(2, chunk.len()));
        let mut query = sqlx::query(&statement).bind(organisation_id.as_str());
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *connection).await? {
            roles.push((crate::named(&row, "entity_id")?, row.try_get("role")?));
        }
    }
    Ok(roles)
}
