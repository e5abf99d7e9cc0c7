//! Potential victims' cases as rows (migration 0017): the case under its
//! pseudonym with the identity sealed, the records that concern the
//! person, the NRM referral's answers (sealed), the referrals to support
//! organisations with what each was given (sealed), and the support given.
//!
//! Nothing here asks the policy or audits: `cases::victims` does, in the
//! transaction these functions are given.

use std::collections::{BTreeMap, BTreeSet};

use aidant_core::ids::{OrganisationId, SupportReferralId, UserId, VictimId};
use aidant_core::safeguarding::case::{Decisions, Identity, SupportKind};
use aidant_core::safeguarding::referral::Answers;
use aidant_core::safeguarding::{AgeAssessment, CaseDates, ExploitationType, GroundsDecision};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};
use time::Date;

use crate::crypto::Keyring;
use crate::{StoreError, flag};

/// A case as stored, under its pseudonym (the identity stays sealed).
#[derive(Debug, Clone)]
pub struct VictimCase {
    pub id: VictimId,
    pub pseudonym: String,
    pub owner_organisation_id: OrganisationId,
    pub created_by: UserId,
    pub created_at_ms: i64,
    pub officer_in_case: Option<UserId>,
    pub age: AgeAssessment,
    pub exploitation_types: Vec<ExploitationType>,
    pub county_lines: bool,
    /// The clock's dates, without the date of birth (which is sealed).
    pub dates: CaseDates,
    pub local_authority_referred_on: Option<Date>,
    /// Organisations the person has been referred to for support.
    pub support_organisations: BTreeSet<OrganisationId>,
    pub(crate) identity_sealed: Vec<u8>,
}

impl VictimCase {
    /// What the policy needs.
    pub fn access(&self) -> aidant_core::policy::VictimCaseAccess {
        aidant_core::policy::VictimCaseAccess {
            owner_organisation_id: self.owner_organisation_id.clone(),
            officer_in_case: self.officer_in_case.clone(),
            support_organisations: self.support_organisations.clone(),
        }
    }
}

/// A record that concerns a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkKind {
    Report,
    Intelligence,
    Entity,
    /// A record an operation's officer made in the field (people
    /// safeguarded, a visit).
    FieldRecord,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Report => "report",
            LinkKind::Intelligence => "intelligence",
            LinkKind::Entity => "entity",
            LinkKind::FieldRecord => "field_record",
        }
    }

    fn parse(text: &str) -> Option<LinkKind> {
        [LinkKind::Report, LinkKind::Intelligence, LinkKind::Entity, LinkKind::FieldRecord].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The referral's draft or completed answers.
#[derive(Debug, Clone, Default)]
pub struct ReferralRow {
    pub answers: Answers,
    /// Slugs of the pages answered and accepted.
    pub pages_done: BTreeSet<String>,
    pub started_by: Option<UserId>,
    pub updated_at_ms: i64,
    /// `nrm` or `duty_to_notify`, once completed.
    pub path: Option<String>,
    pub completed_by: Option<UserId>,
    pub completed_at_ms: Option<i64>,
}

/// A referral to a support organisation.
#[derive(Debug, Clone)]
pub struct SupportReferral {
    pub id: SupportReferralId,
    pub victim_id: VictimId,
    pub organisation_id: OrganisationId,
    pub referred_by: UserId,
    pub referred_at_ms: i64,
    /// The fields it gave, by name (`SHAREABLE_FIELDS`).
    pub fields: Vec<String>,
    pub(crate) shared_sealed: Vec<u8>,
}

/// Support given, as the organisation that gave it recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportGiven {
    pub kind: SupportKind,
    pub given_on: Date,
    pub note: Option<String>,
    pub recorded_by: UserId,
    pub recorded_at_ms: i64,
}

fn identity_binding(id: &str) -> String {
    format!("potential_victims:{id}:identity")
}

fn referral_binding(id: &str) -> String {
    format!("nrm_referrals:{id}:answers")
}

fn shared_binding(id: &str) -> String {
    format!("support_referrals:{id}:shared")
}

fn note_binding(id: &str) -> String {
    format!("support_given:{id}:note")
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("a stored potential victim's case is invalid: {what}"))
}

fn seal_json<T: serde::Serialize>(keyring: &Keyring, value: &T, binding: &str) -> Result<Vec<u8>, StoreError> {
    let plaintext = serde_json::to_vec(value).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    Ok(keyring.seal(&plaintext, binding))
}

fn open_json<T: serde::de::DeserializeOwned>(keyring: &Keyring, sealed: &[u8], binding: &str) -> Result<T, StoreError> {
    let plaintext = keyring.open(sealed, binding).map_err(|_| corrupt("a sealed value does not open"))?;
    serde_json::from_slice(&plaintext).map_err(|_| corrupt("a sealed value is not what was sealed"))
}

/// Opens a case's identity.
pub(crate) fn open_identity(keyring: &Keyring, case: &VictimCase) -> Result<Identity, StoreError> {
    open_json(keyring, &case.identity_sealed, &identity_binding(case.id.as_str()))
}

/// Opens what a support referral gave its organisation, label by field.
pub(crate) fn open_shared(keyring: &Keyring, referral: &SupportReferral) -> Result<BTreeMap<String, String>, StoreError> {
    open_json(keyring, &referral.shared_sealed, &shared_binding(referral.id.as_str()))
}

fn optional_date(row: &AnyRow, column: &str) -> Result<Option<Date>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| aidant_core::text::parse_iso_date(&text).ok_or_else(|| corrupt(column))).transpose()
}

fn decision(row: &AnyRow, date_column: &str, decision_column: &str) -> Result<Option<(Date, GroundsDecision)>, StoreError> {
    let decision: Option<String> = row.try_get(decision_column)?;
    match (optional_date(row, date_column)?, decision) {
        (Some(day), Some(decision)) => Ok(Some((day, decision.parse().map_err(|_| corrupt(decision_column))?))),
        _ => Ok(None),
    }
}

const CASE_COLUMNS: &str = "id, pseudonym, owner_organisation_id, created_by, created_at, officer_in_case, age_assessment, identity_sealed, \
     exploitation_types, county_lines, referred_on, duty_to_notify_on, rg_on, rg_decision, cg_on, cg_decision, withdrawn_on, local_authority_referred_on";

fn case_from_row(row: &AnyRow) -> Result<VictimCase, StoreError> {
    let id: String = row.try_get("id")?;
    let owner: String = row.try_get("owner_organisation_id")?;
    let created_by: String = row.try_get("created_by")?;
    let officer: Option<String> = row.try_get("officer_in_case")?;
    let age: String = row.try_get("age_assessment")?;
    let types: String = row.try_get("exploitation_types")?;
    let types: Vec<String> = serde_json::from_str(&types).map_err(|_| corrupt("exploitation types"))?;
    Ok(VictimCase {
        id: id.parse().map_err(|_| corrupt("id"))?,
        pseudonym: row.try_get("pseudonym")?,
        owner_organisation_id: owner.parse().map_err(|_| corrupt("owner"))?,
        created_by: created_by.parse().map_err(|_| corrupt("created by"))?,
        created_at_ms: row.try_get("created_at")?,
        officer_in_case: officer.map(|id| id.parse().map_err(|_| corrupt("officer in case"))).transpose()?,
        age: age.parse().map_err(|_| corrupt("age"))?,
        exploitation_types: types.iter().map(|code| code.parse().map_err(|_| corrupt("exploitation type"))).collect::<Result<_, _>>()?,
        county_lines: flag(row.try_get("county_lines")?),
        dates: CaseDates {
            born_on: None,
            referred_on: optional_date(row, "referred_on")?,
            duty_to_notify_on: optional_date(row, "duty_to_notify_on")?,
            reasonable_grounds: decision(row, "rg_on", "rg_decision")?,
            conclusive_grounds: decision(row, "cg_on", "cg_decision")?,
            withdrawn_on: optional_date(row, "withdrawn_on")?,
        },
        local_authority_referred_on: optional_date(row, "local_authority_referred_on")?,
        support_organisations: BTreeSet::new(),
        identity_sealed: row.try_get("identity_sealed")?,
    })
}

fn types_json(types: &[ExploitationType]) -> String {
    serde_json::to_string(&types.iter().map(|kind| kind.as_str()).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".to_owned())
}

/// What a new case needs.
#[derive(Debug, Clone)]
pub struct VictimInsert<'a> {
    pub owner_organisation_id: &'a OrganisationId,
    pub created_by: &'a UserId,
    pub officer_in_case: Option<&'a UserId>,
    pub age: AgeAssessment,
    pub identity: &'a Identity,
    pub exploitation_types: &'a [ExploitationType],
    pub county_lines: bool,
    /// The two-digit year of the pseudonym.
    pub year: i64,
}

/// Writes a new case with the next pseudonym of its organisation and year.
pub(crate) async fn insert_victim(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    new: &VictimInsert<'_>,
    now: i64,
) -> Result<(VictimId, String), StoreError> {
    let victim_id: VictimId = crate::new_record_id();
    let id = victim_id.as_str();
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO victim_counters (organisation_id, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (organisation_id, year) DO UPDATE SET last_number = victim_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(new.owner_organisation_id.as_str())
    .bind(new.year)
    .fetch_one(&mut **transaction)
    .await?;
    let pseudonym = format!("PV-{:02}-{number:04}", new.year);
    let sealed = seal_json(keyring, new.identity, &identity_binding(id))?;
    sqlx::query(
        "INSERT INTO potential_victims (id, pseudonym, owner_organisation_id, created_by, created_at, updated_at, officer_in_case, age_assessment,
             identity_sealed, exploitation_types, county_lines)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(&pseudonym)
    .bind(new.owner_organisation_id.as_str())
    .bind(new.created_by.as_str())
    .bind(now)
    .bind(new.officer_in_case.map(UserId::as_str))
    .bind(new.age.as_str())
    .bind(sealed)
    .bind(types_json(new.exploitation_types))
    .bind(i64::from(new.county_lines))
    .execute(&mut **transaction)
    .await?;
    Ok((victim_id, pseudonym))
}

/// Ids bound in one statement: well under SQLite's limit of 32,766
/// variables, so an organisation with any number of cases is read in turns.
const IDS_PER_STATEMENT: usize = 500;

/// Reads cases in the order of `ids` (missing ones left out), with the
/// organisations each was referred to for support.
pub(crate) async fn load_victims(connection: &mut AnyConnection, ids: &[VictimId]) -> Result<Vec<VictimCase>, StoreError> {
    let mut by_id: BTreeMap<String, VictimCase> = BTreeMap::new();
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let list = crate::bind_list(chunk.len());
        let sql = format!("SELECT {CASE_COLUMNS} FROM potential_victims WHERE id IN ({list})");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in &query.fetch_all(&mut *connection).await? {
            let case = case_from_row(row)?;
            by_id.insert(case.id.as_str().to_owned(), case);
        }
        let sql = format!("SELECT victim_id, organisation_id FROM support_referrals WHERE victim_id IN ({list})");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *connection).await? {
            let victim_id: String = row.try_get("victim_id")?;
            let organisation_id: String = row.try_get("organisation_id")?;
            if let Some(case) = by_id.get_mut(&victim_id) {
                case.support_organisations.insert(organisation_id.parse().map_err(|_| corrupt("support organisation"))?);
            }
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id.as_str())).collect())
}

/// Every case an organisation holds, newest first.
pub(crate) async fn victims_of_organisation(connection: &mut AnyConnection, organisation_id: &OrganisationId) -> Result<Vec<VictimCase>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM potential_victims WHERE owner_organisation_id = $1 ORDER BY created_at DESC, id DESC")
        .bind(organisation_id.as_str())
        .fetch_all(&mut *connection)
        .await?;
    let ids: Vec<VictimId> = ids.iter().map(|id| id.parse().map_err(|_| corrupt("id"))).collect::<Result<_, _>>()?;
    load_victims(connection, &ids).await
}

/// Every case in the database (for statistics across organisations).
pub(crate) async fn all_victims(connection: &mut AnyConnection) -> Result<Vec<VictimCase>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM potential_victims")).fetch_all(&mut *connection).await?;
    rows.iter().map(case_from_row).collect()
}

/// Replaces a case's age, dates and decisions.
pub(crate) async fn update_decisions(transaction: &mut Transaction<'_, Any>, id: &VictimId, decisions: &Decisions, now: i64) -> Result<(), StoreError> {
    let day = |date: Option<Date>| date.map(|day| day.to_string());
    let dates = &decisions.dates;
    sqlx::query(
        "UPDATE potential_victims SET age_assessment = $1, referred_on = $2, duty_to_notify_on = $3, rg_on = $4, rg_decision = $5, cg_on = $6,
             cg_decision = $7, withdrawn_on = $8, local_authority_referred_on = $9, updated_at = $10 WHERE id = $11",
    )
    .bind(decisions.age.as_str())
    .bind(day(dates.referred_on))
    .bind(day(dates.duty_to_notify_on))
    .bind(day(dates.reasonable_grounds.map(|(day, _)| day)))
    .bind(dates.reasonable_grounds.map(|(_, decision)| decision.as_str()))
    .bind(day(dates.conclusive_grounds.map(|(day, _)| day)))
    .bind(dates.conclusive_grounds.map(|(_, decision)| decision.as_str()))
    .bind(day(dates.withdrawn_on))
    .bind(day(decisions.local_authority_referred_on))
    .bind(now)
    .bind(id.as_str())
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// Sets the officer in the case.
pub(crate) async fn set_officer(transaction: &mut Transaction<'_, Any>, id: &VictimId, officer: Option<&UserId>, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE potential_victims SET officer_in_case = $1, updated_at = $2 WHERE id = $3")
        .bind(officer.map(UserId::as_str))
        .bind(now)
        .bind(id.as_str())
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Replaces the sealed identity (and with it the age and types the
/// referral settled).
pub(crate) async fn set_identity(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    id: &VictimId,
    identity: &Identity,
    types: &[ExploitationType],
    county_lines: bool,
    now: i64,
) -> Result<(), StoreError> {
    let sealed = seal_json(keyring, identity, &identity_binding(id.as_str()))?;
    sqlx::query("UPDATE potential_victims SET identity_sealed = $1, exploitation_types = $2, county_lines = $3, updated_at = $4 WHERE id = $5")
        .bind(sealed)
        .bind(types_json(types))
        .bind(i64::from(county_lines))
        .bind(now)
        .bind(id.as_str())
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Links a record to a case (once; linking again changes nothing).
pub(crate) async fn link(
    transaction: &mut Transaction<'_, Any>,
    id: &VictimId,
    kind: LinkKind,
    target: &str,
    by: &UserId,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO victim_links (victim_id, kind, target_id, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (victim_id, kind, target_id) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(kind.as_str())
    .bind(target)
    .bind(by.as_str())
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The records linked to a case, oldest link first.
pub(crate) async fn links_of(connection: &mut AnyConnection, id: &VictimId) -> Result<Vec<(LinkKind, String)>, StoreError> {
    let rows = sqlx::query("SELECT kind, target_id FROM victim_links WHERE victim_id = $1 ORDER BY added_at, kind, target_id")
        .bind(id.as_str())
        .fetch_all(&mut *connection)
        .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok((LinkKind::parse(&kind).ok_or_else(|| corrupt("link kind"))?, row.try_get("target_id")?))
        })
        .collect()
}

/// The cases a record is linked to.
pub(crate) async fn victims_linked_to(connection: &mut AnyConnection, kind: LinkKind, target: &str) -> Result<Vec<VictimId>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT victim_id FROM victim_links WHERE kind = $1 AND target_id = $2 ORDER BY added_at")
        .bind(kind.as_str())
        .bind(target)
        .fetch_all(&mut *connection)
        .await?;
    ids.iter().map(|id| id.parse().map_err(|_| corrupt("victim id"))).collect()
}

/// The referral of a case, opened, if one has been started.
pub(crate) async fn load_referral(connection: &mut AnyConnection, keyring: &Keyring, id: &VictimId) -> Result<Option<ReferralRow>, StoreError> {
    let row =
        sqlx::query("SELECT answers_sealed, pages_done, started_by, updated_at, path, completed_by, completed_at FROM nrm_referrals WHERE victim_id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *connection)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let sealed: Vec<u8> = row.try_get("answers_sealed")?;
    let pages: String = row.try_get("pages_done")?;
    let started_by: String = row.try_get("started_by")?;
    let completed_by: Option<String> = row.try_get("completed_by")?;
    Ok(Some(ReferralRow {
        answers: open_json(keyring, &sealed, &referral_binding(id.as_str()))?,
        pages_done: serde_json::from_str(&pages).map_err(|_| corrupt("pages done"))?,
        started_by: Some(started_by.parse().map_err(|_| corrupt("started by"))?),
        updated_at_ms: row.try_get("updated_at")?,
        path: row.try_get("path")?,
        completed_by: completed_by.map(|id| id.parse().map_err(|_| corrupt("completed by"))).transpose()?,
        completed_at_ms: row.try_get("completed_at")?,
    }))
}

/// Whether each case has a referral started and whether it is completed.
pub(crate) async fn referral_states(connection: &mut AnyConnection, organisation_id: &OrganisationId) -> Result<BTreeMap<String, bool>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.victim_id, r.completed_at FROM nrm_referrals r JOIN potential_victims v ON v.id = r.victim_id WHERE v.owner_organisation_id = $1",
    )
    .bind(organisation_id.as_str())
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| {
            let completed: Option<i64> = row.try_get("completed_at")?;
            Ok((row.try_get("victim_id")?, completed.is_some()))
        })
        .collect()
}

/// Writes a referral's answers and pages done (starting it if need be).
pub(crate) async fn save_referral(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    id: &VictimId,
    referral: &ReferralRow,
    by: &UserId,
    now: i64,
) -> Result<(), StoreError> {
    let sealed = seal_json(keyring, &referral.answers, &referral_binding(id.as_str()))?;
    let pages = serde_json::to_string(&referral.pages_done).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    sqlx::query(
        "INSERT INTO nrm_referrals (victim_id, answers_sealed, pages_done, started_by, started_at, updated_at, path, completed_by, completed_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)
         ON CONFLICT (victim_id) DO UPDATE SET answers_sealed = excluded.answers_sealed, pages_done = excluded.pages_done,
             updated_at = excluded.updated_at, path = excluded.path, completed_by = excluded.completed_by, completed_at = excluded.completed_at",
    )
    .bind(id.as_str())
    .bind(sealed)
    .bind(pages)
    .bind(by.as_str())
    .bind(now)
    .bind(referral.path.as_deref())
    .bind(referral.completed_by.as_ref().map(UserId::as_str))
    .bind(referral.completed_at_ms)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// A new referral to a support organisation.
#[derive(Debug, Clone)]
pub(crate) struct SupportReferralInsert<'a> {
    pub victim_id: &'a VictimId,
    pub organisation_id: &'a OrganisationId,
    /// The fields given, by name.
    pub fields: &'a [String],
    /// What each field held, with the pseudonym.
    pub shared: &'a BTreeMap<String, String>,
    pub by: &'a UserId,
}

/// Writes a referral to a support organisation with what it gives.
pub(crate) async fn insert_support_referral(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    new: &SupportReferralInsert<'_>,
    now: i64,
) -> Result<SupportReferralId, StoreError> {
    let SupportReferralInsert { victim_id, organisation_id, fields, shared, by } = new;
    let referral_id: SupportReferralId = crate::new_record_id();
    let sealed = seal_json(keyring, shared, &shared_binding(referral_id.as_str()))?;
    let fields = serde_json::to_string(fields).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    sqlx::query(
        "INSERT INTO support_referrals (id, victim_id, organisation_id, referred_by, referred_at, fields, shared_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(referral_id.as_str())
    .bind(victim_id.as_str())
    .bind(organisation_id.as_str())
    .bind(by.as_str())
    .bind(now)
    .bind(fields)
    .bind(sealed)
    .execute(&mut **transaction)
    .await?;
    Ok(referral_id)
}

fn support_referral_from_row(row: &AnyRow) -> Result<SupportReferral, StoreError> {
    let id: String = row.try_get("id")?;
    let victim_id: String = row.try_get("victim_id")?;
    let organisation_id: String = row.try_get("organisation_id")?;
    let referred_by: String = row.try_get("referred_by")?;
    let fields: String = row.try_get("fields")?;
    Ok(SupportReferral {
        id: id.parse().map_err(|_| corrupt("support referral id"))?,
        victim_id: victim_id.parse().map_err(|_| corrupt("victim id"))?,
        organisation_id: organisation_id.parse().map_err(|_| corrupt("support organisation"))?,
        referred_by: referred_by.parse().map_err(|_| corrupt("referred by"))?,
        referred_at_ms: row.try_get("referred_at")?,
        fields: serde_json::from_str(&fields).map_err(|_| corrupt("fields"))?,
        shared_sealed: row.try_get("shared_sealed")?,
    })
}

const SUPPORT_COLUMNS: &str = "id, victim_id, organisation_id, referred_by, referred_at, fields, shared_sealed";

/// The support referrals of a case, oldest first.
pub(crate) async fn support_referrals_of(connection: &mut AnyConnection, victim_id: &VictimId) -> Result<Vec<SupportReferral>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {SUPPORT_COLUMNS} FROM support_referrals WHERE victim_id = $1 ORDER BY referred_at, id"))
        .bind(victim_id.as_str())
        .fetch_all(&mut *connection)
        .await?;
    rows.iter().map(support_referral_from_row).collect()
}

/// The support referrals made to an organisation, newest first.
pub(crate) async fn support_referrals_to(connection: &mut AnyConnection, organisation_id: &OrganisationId) -> Result<Vec<SupportReferral>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {SUPPORT_COLUMNS} FROM support_referrals WHERE organisation_id = $1 ORDER BY referred_at DESC, id DESC"))
        .bind(organisation_id.as_str())
        .fetch_all(&mut *connection)
        .await?;
    rows.iter().map(support_referral_from_row).collect()
}

/// One support referral.
pub(crate) async fn load_support_referral(connection: &mut AnyConnection, id: &SupportReferralId) -> Result<Option<SupportReferral>, StoreError> {
    let row = sqlx::query(&format!("SELECT {SUPPORT_COLUMNS} FROM support_referrals WHERE id = $1")).bind(id.as_str()).fetch_optional(&mut *connection).await?;
    row.as_ref().map(support_referral_from_row).transpose()
}

/// Support given, as it is recorded.
#[derive(Debug, Clone)]
pub(crate) struct SupportGivenInsert<'a> {
    pub referral_id: &'a SupportReferralId,
    pub kind: SupportKind,
    pub given_on: Date,
    pub note: Option<&'a str>,
    pub by: &'a UserId,
}

/// Records support given under a referral.
pub(crate) async fn insert_support_given(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    new: &SupportGivenInsert<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let SupportGivenInsert { referral_id, kind, given_on, note, by } = new;
    let id = crate::new_id();
    let sealed = note.map(|note| keyring.seal(note.as_bytes(), &note_binding(&id)));
    sqlx::query(
        "INSERT INTO support_given (id, support_referral_id, kind, given_on, note_sealed, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(referral_id.as_str())
    .bind(kind.as_str())
    .bind(given_on.to_string())
    .bind(sealed)
    .bind(by.as_str())
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// The support given under the referrals named, by referral, oldest first.
pub(crate) async fn support_given_for(
    connection: &mut AnyConnection,
    keyring: &Keyring,
    referral_ids: &[SupportReferralId],
) -> Result<BTreeMap<String, Vec<SupportGiven>>, StoreError> {
    let mut given: BTreeMap<String, Vec<SupportGiven>> = BTreeMap::new();
    if referral_ids.is_empty() {
        return Ok(given);
    }
    let list = crate::bind_list(referral_ids.len());
    let sql = format!(
        "SELECT id, support_referral_id, kind, given_on, note_sealed, recorded_by, recorded_at FROM support_given
         WHERE support_referral_id IN ({list}) ORDER BY given_on, recorded_at, id"
    );
    let mut query = sqlx::query(&sql);
    for id in referral_ids {
        query = query.bind(id.as_str());
    }
    for row in query.fetch_all(&mut *connection).await? {
        let id: String = row.try_get("id")?;
        let referral: String = row.try_get("support_referral_id")?;
        let kind: String = row.try_get("kind")?;
        let sealed: Option<Vec<u8>> = row.try_get("note_sealed")?;
        let recorded_by: String = row.try_get("recorded_by")?;
        let note = sealed
            .map(|sealed| {
                keyring.open(&sealed, &note_binding(&id)).map_err(|_| corrupt("note")).and_then(|bytes| String::from_utf8(bytes).map_err(|_| corrupt("note")))
            })
            .transpose()?;
        given.entry(referral).or_default().push(SupportGiven {
            kind: kind.parse().map_err(|_| corrupt("support kind"))?,
            given_on: optional_date(&row, "given_on")?.ok_or_else(|| corrupt("given on"))?,
            note,
            recorded_by: recorded_by.parse().map_err(|_| corrupt("recorded by"))?,
            recorded_at_ms: row.try_get("recorded_at")?,
        });
    }
    Ok(given)
}

/// The intelligence record with this reference (`INT-ACD-379-KMW`).
pub(crate) async fn intelligence_by_reference(connection: &mut AnyConnection, reference: &str) -> Result<Option<aidant_core::ids::IntelligenceId>, StoreError> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM intelligence WHERE reference = $1").bind(reference).fetch_optional(&mut *connection).await?;
    id.map(|id| id.parse().map_err(|_| corrupt("intelligence id"))).transpose()
}
