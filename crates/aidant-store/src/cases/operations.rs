//! Operations: planning one (agencies, sites with the records behind them,
//! teams), reading the plan, receiving what teams record in the field
//! (each record once, however often a phone sends it) and the debrief.
//!
//! Every decision is `policy::may_on_operation`'s; reading a plan, a sync
//! and a debrief are audited.

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::catalogue::Catalogue;
use aidant_core::ids::{FieldRecordId, IntelligenceId, OperationId, OrganisationId, ReportId, SiteId, TeamId, UserId};
use aidant_core::operations::{Debrief, FieldRecord, FieldRecordAnswers, NewOperation, check_record_day, debrief};
use aidant_core::policy::{Action, Capability, OperationAction, may_on_operation};
use aidant_core::report::FieldError;
use sqlx::{Any, Transaction};

use super::{Caller, CaseError, CaseResult, Subject, enforce, record};
use crate::operations::{self as rows, FieldRecordInsert, Operation, SiteInsert};
use crate::{Store, StoreError, now_ms};

fn subject(id: &OperationId) -> Subject<'_> {
    Subject { kind: AuditRecordKind::Operation, id: id.as_str() }
}

/// Opens a transaction, loads the plan and applies the policy for `action`
/// (about `team` when given); a refusal is audited.
async fn authorise<'s>(
    store: &'s Store,
    caller: &Caller,
    id: &OperationId,
    action: OperationAction,
    team: Option<&TeamId>,
) -> CaseResult<(Transaction<'s, Any>, Operation)> {
    let (_turn, mut transaction) = store.begin_write().await?;
    let operation = rows::load_operation(&mut transaction, id).await?.ok_or(CaseError::NotFound)?;
    let decision = may_on_operation(&caller.actor, &caller.user_id, action, &operation.access(team));
    let transaction = enforce(transaction, caller, subject(id), decision).await?;
    Ok((transaction, operation))
}

/// Plans an operation led by the caller's organisation with the agencies
/// named (each an organisation, not the caller's).
pub async fn plan_operation(store: &Store, caller: &Caller, new: &NewOperation, agencies: &[OrganisationId]) -> CaseResult<OperationId> {
    super::require(store, caller, Capability::PlanOperations).await?;
    for agency in agencies {
        match store.find_organisation(agency).await? {
            Some(organisation) if &organisation.id != caller.organisation_id() => {}
            _ => return Err(CaseError::invalid("agencies", "Choose the agencies taking part from the list")),
        }
    }
    let (_turn, mut transaction) = store.begin_write().await?;
    let id = rows::insert_operation(&mut transaction, new, caller.organisation_id(), agencies, &caller.user_id, now_ms()).await?;
    record(&mut transaction, caller, AuditAction::OperationPlan, subject(&id), None).await?;
    transaction.commit().await?;
    Ok(id)
}

/// A site as the planner typed it.
#[derive(Debug, Clone, Default)]
pub struct SiteAnswers<'a> {
    pub name: &'a str,
    pub sector: &'a str,
    pub postcode: &'a str,
    pub reason: &'a str,
    pub reports: Vec<ReportId>,
    pub intelligence: Vec<IntelligenceId>,
}

/// Adds a site: a kind of place from the catalogue, an optional postcode,
/// why it was chosen, and the reports and intelligence behind it (which
/// the planner must be able to read).
pub async fn add_site(store: &Store, caller: &Caller, id: &OperationId, site: &SiteAnswers<'_>, catalogue: &Catalogue) -> CaseResult<SiteId> {
    let (transaction, _) = authorise(store, caller, id, OperationAction::EditPlan, None).await?;
    transaction.commit().await?;
    let mut errors = Vec::new();
    let name = site.name.trim();
    if name.is_empty() || name.chars().count() > aidant_core::operations::limits::NAME {
        errors.push(FieldError { field: "name".into(), message: "Enter the site's name, 120 characters or fewer".into() });
    }
    if !catalogue.place_sectors().any(|sector| sector.id == site.sector.trim()) {
        errors.push(FieldError { field: "sector".into(), message: "Choose the kind of place from the list".into() });
    }
    let postcode = match site.postcode.trim() {
        "" => None,
        typed => match aidant_core::postcode::Postcode::parse(typed) {
            Ok(postcode) => Some(postcode.to_string()),
            Err(_) => {
                errors.push(FieldError { field: "postcode".into(), message: "Enter a real postcode, like LU5 6HR, or leave it blank".into() });
                None
            }
        },
    };
    let reason = site.reason.trim();
    if reason.is_empty() || reason.chars().count() > aidant_core::operations::limits::TEXT {
        errors.push(FieldError { field: "reason".into(), message: "Say why this site was chosen, in 2,000 characters or fewer".into() });
    }
    let mut records = Vec::new();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    for report_id in &site.reports {
        let readable =
            crate::triage::load_triage_state(&mut connection, report_id).await?.is_some_and(|triage| caller.may(Action::ViewReport, &triage.access()));
        if !readable {
            errors.push(FieldError { field: "records".into(), message: "Link only reports and intelligence you can read".into() });
        }
        records.push(("report".to_owned(), report_id.as_str().to_owned()));
    }
    for intelligence_id in &site.intelligence {
        let readable = crate::intelligence::load_intelligence(&mut connection, std::slice::from_ref(intelligence_id))
            .await?
            .first()
            .is_some_and(|found| caller.may(Action::ViewIntelligence, &found.access()));
        if !readable {
            errors.push(FieldError { field: "records".into(), message: "Link only reports and intelligence you can read".into() });
        }
        records.push(("intelligence".to_owned(), intelligence_id.as_str().to_owned()));
    }
    drop(connection);
    if !errors.is_empty() {
        errors.dedup_by(|left, right| left.field == right.field);
        return Err(CaseError::Invalid(errors));
    }
    let (mut transaction, _) = authorise(store, caller, id, OperationAction::EditPlan, None).await?;
    let insert = SiteInsert { name, sector: site.sector.trim(), postcode: postcode.as_deref(), entity_id: None, reason, records: &records };
    let site_id = rows::insert_site(&mut transaction, id, &insert).await?;
    record(&mut transaction, caller, AuditAction::OperationChange, subject(id), Some("site added")).await?;
    transaction.commit().await?;
    Ok(site_id)
}

/// Adds a team with its tasks, the plan's sites it covers and its members
/// (users of the leading force or of an agency taking part).
pub async fn add_team(store: &Store, caller: &Caller, id: &OperationId, name: &str, tasks: &str, sites: &[SiteId], members: &[UserId]) -> CaseResult<TeamId> {
    let (transaction, operation) = authorise(store, caller, id, OperationAction::EditPlan, None).await?;
    transaction.commit().await?;
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > aidant_core::operations::limits::NAME {
        errors.push(FieldError { field: "name".into(), message: "Enter the team's name, 120 characters or fewer".into() });
    }
    if tasks.trim().chars().count() > aidant_core::operations::limits::TEXT {
        errors.push(FieldError { field: "tasks".into(), message: "The tasks must be 2,000 characters or fewer".into() });
    }
    if sites.iter().any(|site| !operation.sites.iter().any(|planned| &planned.id == site)) {
        errors.push(FieldError { field: "sites".into(), message: "Choose the team's sites from the plan".into() });
    }
    if members.is_empty() {
        errors.push(FieldError { field: "members".into(), message: "Choose at least one member".into() });
    }
    for member in members {
        let taking_part = match store.find_user(member).await? {
            Some(user) => !user.disabled && (user.organisation_id == operation.lead_organisation_id || operation.agencies.contains(&user.organisation_id)),
            None => false,
        };
        if !taking_part {
            errors.push(FieldError { field: "members".into(), message: "Choose members from the force and the agencies taking part".into() });
            break;
        }
    }
    if !errors.is_empty() {
        return Err(CaseError::Invalid(errors));
    }
    let (mut transaction, _) = authorise(store, caller, id, OperationAction::EditPlan, None).await?;
    let team_id = rows::insert_team(&mut transaction, id, name, tasks.trim(), sites, members).await?;
    record(&mut transaction, caller, AuditAction::OperationChange, subject(id), Some("team added")).await?;
    transaction.commit().await?;
    Ok(team_id)
}

/// Reads the whole plan; audited.
pub async fn view_operation(store: &Store, caller: &Caller, id: &OperationId) -> CaseResult<Operation> {
    let (mut transaction, operation) = authorise(store, caller, id, OperationAction::ViewPlan, None).await?;
    record(&mut transaction, caller, AuditAction::OperationView, subject(id), None).await?;
    transaction.commit().await?;
    Ok(operation)
}

/// The operations the caller may read the plan of, or is in a team of.
pub async fn operations_for(store: &Store, caller: &Caller) -> CaseResult<Vec<Operation>> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let ids = rows::operation_ids_for(&mut connection, caller.organisation_id(), &caller.user_id).await?;
    let mut operations = Vec::new();
    for id in ids {
        if let Some(operation) = rows::load_operation(&mut connection, &id).await? {
            let plan = may_on_operation(&caller.actor, &caller.user_id, OperationAction::ViewPlan, &operation.access(None)).is_allowed();
            if plan || operation.teams_of(&caller.user_id).next().is_some() {
                operations.push(operation);
            }
        }
    }
    Ok(operations)
}

/// What became of one record a phone sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Stored now.
    Stored,
    /// Already stored by an earlier sync: nothing new.
    AlreadyStored,
    /// Not stored, with every problem (the phone keeps it to correct).
    Refused(Vec<FieldError>),
}

/// Receives what a team's member recorded: each record parsed with the
/// rules the phone applied, checked against the operation's days and the
/// team's sites, and stored once under its own id, all in one
/// transaction with one audit entry; returns each record's outcome in the
/// order sent.
pub async fn sync_records(
    store: &Store,
    caller: &Caller,
    id: &OperationId,
    team: &TeamId,
    records: &[FieldRecordAnswers],
    catalogue: &Catalogue,
) -> CaseResult<Vec<(String, SyncOutcome)>> {
    let (mut transaction, operation) = authorise(store, caller, id, OperationAction::Record, Some(team)).await?;
    let keyring = store.keyring()?;
    let now = now_ms();
    let mut outcomes = Vec::with_capacity(records.len());
    let (mut stored, mut repeated) = (0, 0);
    for answers in records {
        let refuse = |field: &str, message: String| SyncOutcome::Refused(vec![FieldError { field: field.to_owned(), message }]);
        let Ok(record_id) = answers.id.trim().parse::<FieldRecordId>() else {
            outcomes.push((answers.id.clone(), refuse("id", "The record has no id the server can read: record it again".to_owned())));
            continue;
        };
        let site = match answers.site.trim() {
            "" => None,
            typed => operation.sites.iter().find(|site| site.id.as_str() == typed),
        };
        if !answers.site.trim().is_empty() && site.is_none() {
            outcomes.push((answers.id.clone(), refuse("site", "Choose one of the operation's sites".to_owned())));
            continue;
        }
        let parsed = match FieldRecord::parse(answers, site.map(|site| site.sector.as_str()), catalogue) {
            Ok(parsed) => parsed,
            Err(errors) => {
                outcomes.push((answers.id.clone(), SyncOutcome::Refused(errors)));
                continue;
            }
        };
        if let Err(reason) = check_record_day(operation.starts_on, operation.ends_on, parsed.recorded_on) {
            outcomes.push((answers.id.clone(), refuse("recorded_on", reason)));
            continue;
        }
        let insert = FieldRecordInsert {
            id: &record_id,
            operation_id: id,
            team_id: team,
            organisation_id: caller.organisation_id(),
            recorded_by: &caller.user_id,
            kind: parsed.kind,
            site_id: site.map(|site| &site.id),
            recorded_on: parsed.recorded_on,
            answers,
        };
        let outcome = match rows::insert_field_record(&mut transaction, keyring, &insert, now).await? {
            Some(true) => {
                stored += 1;
                SyncOutcome::Stored
            }
            Some(false) => {
                repeated += 1;
                SyncOutcome::AlreadyStored
            }
            None => refuse("id", "This record's id is taken: record it again".to_owned()),
        };
        outcomes.push((answers.id.clone(), outcome));
    }
    let reason = format!("team {team}: {stored} new, {repeated} already stored, {} refused", records.len() - stored - repeated);
    record(&mut transaction, caller, AuditAction::OperationSync, subject(id), Some(&reason)).await?;
    transaction.commit().await?;
    Ok(outcomes)
}

/// The debrief: every stored record counted once, by site (its name, or
/// "Elsewhere"), by the recording officer's agency and by day.
pub async fn operation_debrief(store: &Store, caller: &Caller, id: &OperationId, catalogue: &Catalogue) -> CaseResult<(Operation, Debrief)> {
    let (mut transaction, operation) = authorise(store, caller, id, OperationAction::Debrief, None).await?;
    record(&mut transaction, caller, AuditAction::OperationDebrief, subject(id), None).await?;
    let stored = rows::load_field_records(&mut transaction, store.keyring()?, id).await?;
    transaction.commit().await?;
    let organisations = store.list_organisations().await?;
    let mut parsed = Vec::with_capacity(stored.len());
    for record in &stored {
        let site = record.site_id.as_ref().and_then(|site| operation.sites.iter().find(|planned| &planned.id == site));
        // Stored records passed these checks; one that no longer parses
        // (a sign since taken out of the catalogue) still counts by kind.
        let fields = FieldRecord::parse(&record.answers, site.map(|site| site.sector.as_str()), catalogue)
            .unwrap_or_else(|_| FieldRecord::stored_as(record.kind, record.recorded_on, record.answers.people.trim().parse().unwrap_or(0)));
        let site_name = site.map_or_else(|| "Elsewhere".to_owned(), |site| site.name.clone());
        let agency = organisations
            .iter()
            .find(|organisation| organisation.id == record.organisation_id)
            .map_or_else(String::new, |organisation| organisation.name.clone());
        parsed.push((fields, site_name, agency));
    }
    let mut debrief = debrief(parsed.iter().map(|(record, site, agency)| (record, site.as_str(), agency.as_str())));
    // Every planned site and every agency taking part has its line, with
    // nothing recorded or not.
    for site in &operation.sites {
        debrief.by_site.entry(site.name.clone()).or_default();
    }
    for organisation in
        organisations.iter().filter(|organisation| organisation.id == operation.lead_organisation_id || operation.agencies.contains(&organisation.id))
    {
        debrief.by_agency.entry(organisation.name.clone()).or_default();
    }
    Ok((operation, debrief))
}
