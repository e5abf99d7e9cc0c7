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
    /// The business or address it is, when chosen from its entity's page.
    pub entity: Option<aidant_core::ids::EntityId>,
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
    // An entity is taken only if the planner may see it (through records
    // they may read), and only a business or an address is a place.
    let entity = match &site.entity {
        None => None,
        Some(entity_id) => match super::entities::view_entity(store, caller, entity_id).await {
            Ok(view) if matches!(view.entity.kind, crate::entities::ValueKind::Business | crate::entities::ValueKind::Address) => Some(view.entity.id),
            Ok(_) => {
                errors.push(FieldError { field: "entity".into(), message: "A site is a business or an address: choose one of those".into() });
                None
            }
            Err(CaseError::NotFound | CaseError::Denied { .. }) => {
                errors.push(FieldError { field: "entity".into(), message: "Choose a business or an address you can see".into() });
                None
            }
            Err(error) => return Err(error),
        },
    };
    let mut records = Vec::new();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    for report_id in &site.reports {
        let readable =
            crate::triage::load_triage_state(&mut connection, report_id).await?.is_some_and(|triage| caller.may(Action::ViewReport, &triage.access()));
        if !readable {
            errors.push(FieldError {
                field: "records".into(),
                message: "Link only reports and intelligence you can read, by their references, one a line".into(),
            });
        }
        records.push(("report".to_owned(), report_id.as_str().to_owned()));
    }
    for intelligence_id in &site.intelligence {
        let readable = crate::intelligence::load_intelligence(&mut connection, std::slice::from_ref(intelligence_id))
            .await?
            .first()
            .is_some_and(|found| caller.may(Action::ViewIntelligence, &found.access()));
        if !readable {
            errors.push(FieldError {
                field: "records".into(),
                message: "Link only reports and intelligence you can read, by their references, one a line".into(),
            });
        }
        records.push(("intelligence".to_owned(), intelligence_id.as_str().to_owned()));
    }
    drop(connection);
    if !errors.is_empty() {
        errors.dedup_by(|left, right| left.field == right.field);
        return Err(CaseError::Invalid(errors));
    }
    let (mut transaction, _) = authorise(store, caller, id, OperationAction::EditPlan, None).await?;
    let insert = SiteInsert { name, sector: site.sector.trim(), postcode: postcode.as_deref(), entity_id: entity.as_ref(), reason, records: &records };
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

/// The operations the caller may add sites to that have not ended on
/// `today` (for an entity's page: "add to an operation as a site").
pub async fn operations_to_extend(store: &Store, caller: &Caller, today: time::Date) -> CaseResult<Vec<Operation>> {
    if !caller.can(Capability::PlanOperations) {
        return Ok(Vec::new());
    }
    Ok(operations_for(store, caller)
        .await?
        .into_iter()
        .filter(|operation| operation.ends_on >= today)
        .filter(|operation| may_on_operation(&caller.actor, &caller.user_id, OperationAction::EditPlan, &operation.access(None)).is_allowed())
        .collect())
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

/// Checks the caller may record for `team` of the operation (a refusal is
/// audited), before what they sent is read.
pub async fn check_recorder(store: &Store, caller: &Caller, id: &OperationId, team: &TeamId) -> CaseResult<()> {
    let (transaction, _) = authorise(store, caller, id, OperationAction::Record, Some(team)).await?;
    transaction.commit().await?;
    Ok(())
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

/// A record behind a site that the reader may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingRecord {
    /// `report` or `intelligence`.
    pub kind: String,
    pub id: String,
    pub reference: String,
}

/// A site as a team's briefing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingSite {
    pub site: rows::Site,
    /// Only the records behind it the reader may read.
    pub records: Vec<BriefingRecord>,
}

/// A member of a team, as colleagues see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: UserId,
    pub name: String,
    pub organisation: String,
}

/// What a team is told: its tasks, its members and its sites, each with
/// the records behind it that the reader may read (the one policy and
/// each record's handling conditions decide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Briefing {
    pub operation: Operation,
    pub team: rows::Team,
    pub lead_organisation: String,
    pub agencies: Vec<String>,
    pub members: Vec<Member>,
    pub sites: Vec<BriefingSite>,
}

/// The records of `records` (kind, id) the caller may read, with their
/// references.
async fn readable_records(store: &Store, caller: &Caller, records: &[(String, String)]) -> CaseResult<Vec<BriefingRecord>> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mut readable = Vec::new();
    for (kind, id) in records {
        let reference = match kind.as_str() {
            "report" => {
                let Ok(report_id) = id.parse::<ReportId>() else { continue };
                let allowed =
                    crate::triage::load_triage_state(&mut connection, &report_id).await?.is_some_and(|triage| caller.may(Action::ViewReport, &triage.access()));
                match crate::reports::load_report(&mut connection, &report_id).await? {
                    Some(report) if allowed => report.reference.to_string(),
                    _ => continue,
                }
            }
            "intelligence" => {
                let Ok(intelligence_id) = id.parse::<IntelligenceId>() else { continue };
                match crate::intelligence::load_intelligence(&mut connection, std::slice::from_ref(&intelligence_id)).await?.into_iter().next() {
                    Some(found) if caller.may(Action::ViewIntelligence, &found.access()) => found.reference,
                    _ => continue,
                }
            }
            _ => continue,
        };
        readable.push(BriefingRecord { kind: kind.clone(), id: id.clone(), reference });
    }
    Ok(readable)
}

/// The records behind each of the plan's sites that the caller may read,
/// in the plan's order of sites (the plan page lists them as the briefings
/// do, by the same rule).
pub async fn readable_site_records(store: &Store, caller: &Caller, operation: &Operation) -> CaseResult<Vec<Vec<BriefingRecord>>> {
    let mut all = Vec::with_capacity(operation.sites.len());
    for site in &operation.sites {
        all.push(readable_records(store, caller, &site.records).await?);
    }
    Ok(all)
}

async fn organisation_names(store: &Store, operation: &Operation) -> CaseResult<(String, Vec<String>)> {
    let organisations = store.list_organisations().await?;
    let name = |id: &OrganisationId| organisations.iter().find(|organisation| &organisation.id == id).map(|organisation| organisation.name.clone());
    Ok((name(&operation.lead_organisation_id).unwrap_or_default(), operation.agencies.iter().filter_map(name).collect()))
}

/// The members of `team`, named, with their organisations.
pub async fn team_members(store: &Store, team: &rows::Team) -> CaseResult<Vec<Member>> {
    let organisations = store.list_organisations().await?;
    let mut members = Vec::new();
    for id in &team.members {
        if let Some(user) = store.find_user(id).await? {
            let organisation = organisations.iter().find(|organisation| organisation.id == user.organisation_id).map(|found| found.name.clone());
            members.push(Member { id: user.id, name: user.display_name, organisation: organisation.unwrap_or_default() });
        }
    }
    Ok(members)
}

/// A team's briefing, as the caller may see it; audited.
pub async fn view_briefing(store: &Store, caller: &Caller, id: &OperationId, team: &TeamId) -> CaseResult<Briefing> {
    let (mut transaction, operation) = authorise(store, caller, id, OperationAction::ViewBriefing, Some(team)).await?;
    let Some(team) = operation.teams.iter().find(|candidate| &candidate.id == team).cloned() else {
        return Err(CaseError::NotFound);
    };
    record(&mut transaction, caller, AuditAction::OperationBriefing, subject(id), Some(&format!("team {}", team.id))).await?;
    transaction.commit().await?;
    let mut sites = Vec::new();
    for site in operation.sites.iter().filter(|site| team.sites.contains(&site.id)) {
        sites.push(BriefingSite { site: site.clone(), records: readable_records(store, caller, &site.records).await? });
    }
    let (lead_organisation, agencies) = organisation_names(store, &operation).await?;
    let members = team_members(store, &team).await?;
    Ok(Briefing { operation, team, lead_organisation, agencies, members, sites })
}

/// The briefings of every team the caller is in, of operations still
/// taking records on `today`: what the field app downloads.
pub async fn field_briefings(store: &Store, caller: &Caller, today: time::Date) -> CaseResult<Vec<Briefing>> {
    let mut briefings = Vec::new();
    for operation in operations_for(store, caller).await? {
        if check_record_day(operation.starts_on, operation.ends_on, today.max(operation.starts_on)).is_err() {
            continue;
        }
        let teams: Vec<TeamId> = operation.teams_of(&caller.user_id).map(|team| team.id.clone()).collect();
        for team in teams {
            briefings.push(view_briefing(store, caller, &operation.id, &team).await?);
        }
    }
    Ok(briefings)
}

/// The live board: the plan, and the records received after `since` (all
/// of them when `None`); audited when it shows any record.
pub async fn operation_board(store: &Store, caller: &Caller, id: &OperationId, since: Option<i64>) -> CaseResult<(Operation, Vec<rows::StoredFieldRecord>)> {
    let (mut transaction, operation) = authorise(store, caller, id, OperationAction::ViewBoard, None).await?;
    let records = rows::load_field_records_since(&mut transaction, store.keyring()?, id, since.unwrap_or(i64::MIN)).await?;
    if since.is_none() || !records.is_empty() {
        record(&mut transaction, caller, AuditAction::OperationBoard, subject(id), Some(&format!("{} records", records.len()))).await?;
    }
    transaction.commit().await?;
    Ok((operation, records))
}

/// The longest press summary.
pub const SUMMARY: usize = 5_000;

/// Saves the lead's edit of the press summary; audited.
pub async fn save_press_summary(store: &Store, caller: &Caller, id: &OperationId, summary: &str) -> CaseResult<()> {
    let summary = summary.trim();
    if summary.is_empty() || summary.chars().count() > SUMMARY {
        return Err(CaseError::invalid("summary", "Enter the press summary, in 5,000 characters or fewer"));
    }
    let (mut transaction, _) = authorise(store, caller, id, OperationAction::Debrief, None).await?;
    rows::set_press_summary(&mut transaction, id, summary, now_ms()).await?;
    record(&mut transaction, caller, AuditAction::OperationSummary, subject(id), None).await?;
    transaction.commit().await?;
    Ok(())
}

/// The reports and intelligence records named by references typed one a
/// line (`ACD-379-KMW`, `INT-ACD-379-KMW`, as people type them); a line
/// that names nothing is an error on `field`. Whether the caller may read
/// them is `add_site`'s to check.
pub async fn records_by_reference(store: &Store, typed: &str, field: &str) -> CaseResult<(Vec<ReportId>, Vec<IntelligenceId>)> {
    let (mut reports, mut intelligence) = (Vec::new(), Vec::new());
    for line in typed.lines().map(str::trim).filter(|line| !line.is_empty()) {
        // The same words whether the record does not exist or the caller
        // may not read it (`add_site`): a reference is not confirmed.
        let unknown = || CaseError::invalid(field, "Link only reports and intelligence you can read, by their references, one a line");
        let compact: String = line.chars().filter(|character| !character.is_whitespace() && *character != '-').collect::<String>().to_ascii_uppercase();
        match compact.strip_prefix("INT") {
            Some(rest) => {
                let reference = aidant_core::ReportRef::parse(rest).map_err(|_| unknown())?;
                let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
                let found = crate::victims::intelligence_by_reference(&mut connection, &format!("INT-{reference}")).await?;
                intelligence.push(found.ok_or_else(unknown)?);
            }
            None => {
                let reference = aidant_core::ReportRef::parse(&compact).map_err(|_| unknown())?;
                reports.push(store.find_report_by_reference(&reference).await?.ok_or_else(unknown)?.id);
            }
        }
    }
    Ok((reports, intelligence))
}

/// A draft intelligence record from a field record: a title and a text
/// saying what was found, where and when (the registration, vehicle,
/// business, how many people and of which nationalities, the signs seen in
/// the catalogue's words for staff, how it ended, the note), for an analyst
/// to check, grade and save, so that what was recorded in the field
/// reaches the investigation and its entities. For those who read the
/// operation's plan and the officer who made the record; audited as a
/// reading of the board.
pub async fn intelligence_draft(store: &Store, caller: &Caller, id: &FieldRecordId, catalogue: &Catalogue) -> CaseResult<(String, String)> {
    super::require(store, caller, Capability::CreateIntelligence).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let (operation_id, found) = rows::load_field_record(&mut connection, store.keyring()?, id).await?.ok_or(CaseError::NotFound)?;
    drop(connection);
    let (mut transaction, operation) = authorise(store, caller, &operation_id, OperationAction::ViewPlan, None).await?;
    record(&mut transaction, caller, AuditAction::OperationBoard, subject(&operation_id), Some(&format!("field record {id} drafted as intelligence"))).await?;
    transaction.commit().await?;
    let answers = &found.answers;
    let site = found.site_id.as_ref().and_then(|site| operation.sites.iter().find(|planned| &planned.id == site));
    let place = site
        .map_or_else(String::new, |site| format!(" at {}{}", site.name, site.postcode.as_ref().map(|postcode| format!(", {postcode}")).unwrap_or_default()));
    let mut lines = vec![format!("{}{place} on {}, during {}.", found.kind.label(), found.recorded_on, operation.name)];
    let registration = aidant_core::vrm::Vrm::parse_with_country(&answers.registration, Some(answers.country.as_str())).ok();
    if let Some(registration) = &registration {
        let described: Vec<&str> = [answers.vehicle.trim(), answers.trailer.trim()].into_iter().filter(|text| !text.is_empty()).collect();
        lines.push(format!("Vehicle {registration}{}.", if described.is_empty() { String::new() } else { format!(" ({})", described.join(", ")) }));
    }
    if !answers.business.trim().is_empty() {
        lines.push(format!("Business: {}.", answers.business.trim()));
    }
    if let Ok(people) = answers.people.trim().parse::<u16>()
        && people > 0
    {
        let nationalities = if answers.nationalities.is_empty() { String::new() } else { format!(" ({})", answers.nationalities.join(", ")) };
        lines.push(format!("{people} {}{nationalities}.", if people == 1 { "person" } else { "people" }));
    }
    if answers.documents_held_by_others {
        lines.push("Someone else held people's passports or identity documents.".to_owned());
    }
    if answers.accommodation_on_site {
        lines.push("People were living on the premises.".to_owned());
    }
    for sign in &answers.signs {
        if let Some(indicator) = catalogue.indicator(sign) {
            lines.push(format!("Seen: {}.", indicator.staff));
        }
    }
    if let Ok(outcome) = answers.outcome.parse::<aidant_core::operations::FieldOutcome>() {
        lines.push(format!("Outcome: {}.", outcome.label()));
    }
    if !answers.note.trim().is_empty() {
        lines.push(answers.note.trim().to_owned());
    }
    let subject = match (&registration, answers.business.trim(), site) {
        (Some(registration), _, _) => format!(" {registration}"),
        (None, "", Some(site)) => format!(", {}", site.name),
        (None, "", None) => String::new(),
        (None, business, _) => format!(" {business}"),
    };
    let title: String = format!("{}: {}{subject}", operation.name, found.kind.label().to_lowercase()).chars().take(200).collect();
    Ok((title, lines.join("\n")))
}
