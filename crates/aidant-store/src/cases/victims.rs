//! Safeguarding potential victims: opening a case (from a report, an
//! intelligence record or by hand), the dashboard, reading a case under its
//! pseudonym, opening the identity with a reason, recording the Home
//! Office's decisions, writing the NRM referral page by page, printing it,
//! referring the person to a support organisation, the support portal and
//! the statistics.
//!
//! Every decision is `policy::may_on_victim`'s (or `may_use`'s for the
//! pages that list); every read of an identity, a referral or what a
//! support organisation was given is audited in the transaction that reads
//! it.

use std::collections::{BTreeMap, BTreeSet};

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::{IntelligenceId, OrganisationId, ReportId, SupportReferralId, UserId, VictimId};
use aidant_core::policy::{Action, Capability, Decision, VictimAction, may, may_give_support, may_on_victim};
use aidant_core::safeguarding::case::{DecisionAnswers, Decisions, Identity, NewCase, SHAREABLE_FIELDS, SupportKind};
use aidant_core::safeguarding::referral::{self, Answers, Page, ReferralPath};
use aidant_core::safeguarding::statistics::{self, Cell, PUBLICATION_THRESHOLD, Quarter, StatisticsCategory};
use aidant_core::safeguarding::{AgeAssessment, Clock, ExploitationType, GroundsDecision, Stage, clock};
use aidant_core::text::BoundedText;
use sqlx::{Any, Transaction};
use time::{Date, Duration};

use super::{Caller, CaseError, CaseResult, Subject, enforce, record};
use crate::organisations::Organisation;
use crate::victims::{self as rows, LinkKind, ReferralRow, SupportGiven, SupportReferral, VictimCase, VictimInsert};
use crate::{Store, StoreError, now_ms};

/// Today in the United Kingdom, as the clock counts days.
pub fn today() -> Date {
    aidant_core::safeguarding::calendar::uk_date(time::OffsetDateTime::now_utc())
}

fn subject(id: &VictimId) -> Subject<'_> {
    Subject { kind: AuditRecordKind::Victim, id: id.as_str() }
}

/// Where a new case comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseSource {
    Report(ReportId),
    Intelligence(IntelligenceId),
    /// An entity, usually the person themself (found by the linker across
    /// records).
    Entity(aidant_core::ids::EntityId),
    /// A record made in the field during an operation (people safeguarded).
    FieldRecord(aidant_core::ids::FieldRecordId),
}

/// Opens a transaction, loads the case and applies the policy for
/// `action` (a refusal is audited and committed).
async fn authorise<'s>(store: &'s Store, caller: &Caller, id: &VictimId, action: VictimAction) -> CaseResult<(Transaction<'s, Any>, VictimCase)> {
    let (_turn, mut transaction) = store.begin_write().await?;
    let case = rows::load_victims(&mut transaction, std::slice::from_ref(id)).await?.into_iter().next().ok_or(CaseError::NotFound)?;
    let decision = may_on_victim(&caller.actor, &caller.user_id, action, &case.access());
    let transaction = enforce(transaction, caller, subject(id), decision).await?;
    Ok((transaction, case))
}

/// Checks the caller may read the record a case comes from; returns its
/// kind, id and reference.
async fn source_record(store: &Store, caller: &Caller, source: &CaseSource) -> CaseResult<(LinkKind, String, String)> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    match source {
        CaseSource::Report(id) => {
            let triage = crate::triage::load_triage_state(&mut connection, id).await?.ok_or(CaseError::NotFound)?;
            let report = crate::reports::load_report(&mut connection, id).await?.ok_or(CaseError::NotFound)?;
            drop(connection);
            if let Decision::Deny(reason) = may(&caller.actor, Action::ViewReport, &triage.access(), now_ms()) {
                let (_turn, transaction) = store.begin_write().await?;
                enforce(transaction, caller, Subject { kind: AuditRecordKind::Report, id: id.as_str() }, Decision::Deny(reason)).await?;
            }
            Ok((LinkKind::Report, id.as_str().to_owned(), report.reference.to_string()))
        }
        CaseSource::Intelligence(id) => {
            let record =
                crate::intelligence::load_intelligence(&mut connection, std::slice::from_ref(id)).await?.into_iter().next().ok_or(CaseError::NotFound)?;
            drop(connection);
            if let Decision::Deny(reason) = may(&caller.actor, Action::ViewIntelligence, &record.access(), now_ms()) {
                let (_turn, transaction) = store.begin_write().await?;
                enforce(transaction, caller, Subject { kind: AuditRecordKind::Intelligence, id: id.as_str() }, Decision::Deny(reason)).await?;
            }
            Ok((LinkKind::Intelligence, id.as_str().to_owned(), record.reference))
        }
        CaseSource::Entity(id) => {
            drop(connection);
            // Seen only through records the caller may read ("not found"
            // otherwise), and labelled by a name such a record gives.
            let view = super::entities::view_entity(store, caller, id).await?;
            Ok((LinkKind::Entity, view.entity.id.as_str().to_owned(), format!("{} {}", view.entity.kind.label(), view.entity.label)))
        }
        CaseSource::FieldRecord(id) => {
            let reference = field_record_reference(&mut connection, store, caller, id).await?;
            drop(connection);
            match reference {
                Some(reference) => Ok((LinkKind::FieldRecord, id.as_str().to_owned(), reference)),
                None => {
                    let (_turn, transaction) = store.begin_write().await?;
                    let subject = Subject { kind: AuditRecordKind::Operation, id: id.as_str() };
                    enforce(transaction, caller, subject, Decision::Deny("the field record is not one you made or an operation whose plan you read")).await?;
                    Err(CaseError::NotFound)
                }
            }
        }
    }
}

/// How a field record is named to a caller who may read it: those who
/// read its operation's plan, and the officer who made it. `None` for
/// anyone else; not found when there is no such record.
async fn field_record_reference(
    connection: &mut sqlx::AnyConnection,
    store: &Store,
    caller: &Caller,
    id: &aidant_core::ids::FieldRecordId,
) -> CaseResult<Option<String>> {
    let (operation_id, found) = crate::operations::load_field_record(connection, store.keyring()?, id).await?.ok_or(CaseError::NotFound)?;
    let operation = crate::operations::load_operation(connection, &operation_id).await?.ok_or(CaseError::NotFound)?;
    let reads_plan =
        aidant_core::policy::may_on_operation(&caller.actor, &caller.user_id, aidant_core::policy::OperationAction::ViewPlan, &operation.access(None))
            .is_allowed();
    if !reads_plan && found.recorded_by != caller.user_id {
        return Ok(None);
    }
    let site =
        found.site_id.as_ref().and_then(|site| operation.sites.iter().find(|planned| &planned.id == site)).map_or("elsewhere", |site| site.name.as_str());
    Ok(Some(format!("{}: {}, {site}, {}", operation.name, found.kind.label(), found.recorded_on)))
}

/// The reference of the record a case would come from, once the caller is
/// known to be able to read it (for the new case form).
pub async fn source_reference(store: &Store, caller: &Caller, source: &CaseSource) -> CaseResult<String> {
    super::require(store, caller, Capability::Safeguarding).await?;
    Ok(source_record(store, caller, source).await?.2)
}

/// Opens a case in the caller's organisation, linked to the record it came
/// from. An officer who opens one is its officer in the case. Returns the
/// id and pseudonym.
pub async fn open_case(store: &Store, caller: &Caller, new: &NewCase, source: Option<&CaseSource>) -> CaseResult<(VictimId, String)> {
    super::require(store, caller, Capability::Safeguarding).await?;
    let link = match source {
        Some(source) => Some(source_record(store, caller, source).await?),
        None => None,
    };
    let officer = caller.actor.roles.contains(&aidant_core::organisation::Role::Officer).then_some(&caller.user_id);
    let now = now_ms();
    let insert = VictimInsert {
        owner_organisation_id: caller.organisation_id(),
        created_by: &caller.user_id,
        officer_in_case: officer,
        age: new.age,
        identity: &new.identity,
        exploitation_types: &new.exploitation_types,
        county_lines: new.county_lines,
        year: i64::from(today().year() % 100),
    };
    let (_turn, mut transaction) = store.begin_write().await?;
    let (id, pseudonym) = rows::insert_victim(&mut transaction, store.keyring()?, &insert, now).await?;
    record(&mut transaction, caller, AuditAction::VictimCreate, subject(&id), Some(new.age.as_str())).await?;
    if let Some((kind, target, _)) = &link {
        rows::link(&mut transaction, &id, *kind, target, &caller.user_id, now).await?;
        let reason = link_reason(*kind, target);
        record(&mut transaction, caller, AuditAction::VictimLink, subject(&id), Some(&reason)).await?;
    }
    transaction.commit().await?;
    Ok((id, pseudonym))
}

/// How the audit log names a link: a record by its id; an entity, often
/// the person themself, only by its kind, so the log read by supervisors
/// does not lead to who the person is.
fn link_reason(kind: LinkKind, target: &str) -> String {
    match kind {
        LinkKind::Entity => "an entity".to_owned(),
        _ => format!("{} {target}", kind.as_str()),
    }
}

/// Where a case's referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralState {
    NotStarted,
    Draft,
    Completed,
}

/// A case on the dashboard.
#[derive(Debug, Clone)]
pub struct DashboardRow {
    pub case: VictimCase,
    pub clock: Clock,
    pub referral: ReferralState,
    /// The RG decision is due within the next seven days.
    pub due_this_week: bool,
    /// A child (or possibly a child) with no local-authority referral.
    pub child_without_local_authority: bool,
}

/// The safeguarding lead's dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub rows: Vec<DashboardRow>,
    pub by_stage: Vec<(Stage, usize)>,
    pub today: Date,
}

impl Dashboard {
    pub fn overdue(&self) -> impl Iterator<Item = &DashboardRow> {
        self.rows.iter().filter(|row| row.clock.rg_overdue)
    }
}

/// Every case of the caller's organisation with its clock on `today`.
pub async fn dashboard(store: &Store, caller: &Caller) -> CaseResult<Dashboard> {
    super::require(store, caller, Capability::Safeguarding).await?;
    let today = today();
    let keyring = store.keyring()?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let cases = rows::victims_of_organisation(&mut connection, caller.organisation_id()).await?;
    let referrals = rows::referral_states(&mut connection, caller.organisation_id()).await?;
    drop(connection);
    let mut result = Vec::new();
    for case in cases {
        if !may_on_victim(&caller.actor, &caller.user_id, VictimAction::ViewCase, &case.access()).is_allowed() {
            continue;
        }
        // The date of birth is opened for the clock alone (the 18th
        // birthday); the dashboard never shows it.
        let born_on = rows::open_identity(keyring, &case)?.born_on();
        let dates = aidant_core::safeguarding::CaseDates { born_on, ..case.dates.clone() };
        let clock = clock(&dates, today);
        let referral = match referrals.get(case.id.as_str()) {
            None => ReferralState::NotStarted,
            Some(false) => ReferralState::Draft,
            Some(true) => ReferralState::Completed,
        };
        let open = !matches!(clock.stage, Stage::Withdrawn | Stage::PositiveCg | Stage::NegativeCg | Stage::NegativeRg);
        result.push(DashboardRow {
            due_this_week: clock.rg_due.is_some_and(|due| due >= today && due <= today.saturating_add(Duration::days(7))),
            child_without_local_authority: case.age.is_child_path() && case.local_authority_referred_on.is_none() && open,
            case,
            clock,
            referral,
        });
    }
    // What needs attention first, most pressing first; then the newest.
    result.sort_by_key(|row| {
        let urgency = if row.clock.rg_overdue {
            0
        } else if row.child_without_local_authority {
            1
        } else if row.due_this_week {
            2
        } else if row.clock.turns_18_before_cg {
            3
        } else {
            4
        };
        (urgency, std::cmp::Reverse(row.case.created_at_ms))
    });
    let by_stage = Stage::ALL.iter().map(|stage| (*stage, result.iter().filter(|row| row.clock.stage == *stage).count())).collect();
    let (_turn, mut transaction) = store.begin_write().await?;
    let organisation = caller.organisation_id().as_str().to_owned();
    record(&mut transaction, caller, AuditAction::VictimList, Subject { kind: AuditRecordKind::Victims, id: &organisation }, None).await?;
    transaction.commit().await?;
    Ok(Dashboard { rows: result, by_stage, today })
}

/// What the caller may do on a case they are reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VictimPermissions {
    pub identity: bool,
    pub edit: bool,
    pub refer_to_support: bool,
    pub read_audit: bool,
}

/// A record linked to a case, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRecord {
    pub kind: LinkKind,
    pub id: String,
    /// Its reference, or `None` when the caller may not read it.
    pub reference: Option<String>,
}

/// A support referral as the force reads it.
#[derive(Debug, Clone)]
pub struct SupportLine {
    pub referral: SupportReferral,
    pub organisation_name: String,
    pub given: Vec<SupportGiven>,
}

/// A case as a member of staff reads it.
#[derive(Debug, Clone)]
pub struct VictimView {
    pub case: VictimCase,
    pub clock: Clock,
    pub permissions: VictimPermissions,
    pub links: Vec<LinkedRecord>,
    pub referral: ReferralState,
    pub support: Vec<SupportLine>,
    /// Organisations the person may be referred to for support.
    pub support_targets: Vec<Organisation>,
    /// The caller's organisation's users, for the officer in the case.
    pub colleagues: Vec<crate::organisations::User>,
    /// Opened only with a reason, by those who may.
    pub identity: Option<Identity>,
}

/// Reads a case under its pseudonym; the view is audited with the read.
pub async fn view_case(store: &Store, caller: &Caller, id: &VictimId) -> CaseResult<VictimView> {
    let (mut transaction, case) = authorise(store, caller, id, VictimAction::ViewCase).await?;
    record(&mut transaction, caller, AuditAction::VictimView, subject(id), None).await?;
    let mut view = read_view(store, caller, &mut transaction, case, None).await?;
    transaction.commit().await?;
    finish_view(store, caller, &mut view).await?;
    Ok(view)
}

/// Names the entities linked to a case. An entity is often the person
/// themself, so they are named only with the identity opened (with a
/// reason), and only as records the caller may read name them.
async fn name_entities(store: &Store, caller: &Caller, view: &mut VictimView) -> CaseResult<()> {
    for link in view.links.iter_mut().filter(|link| link.kind == LinkKind::Entity) {
        let Ok(entity_id) = link.id.parse::<aidant_core::ids::EntityId>() else { continue };
        link.reference = match super::entities::view_entity(store, caller, &entity_id).await {
            Ok(entity) => Some(format!("{} {}", entity.entity.kind.label(), entity.entity.label)),
            Err(CaseError::NotFound | CaseError::Denied { .. }) => None,
            Err(error) => return Err(error),
        };
    }
    Ok(())
}

/// Opens the person's identity, audited with the reason given.
pub async fn open_identity(store: &Store, caller: &Caller, id: &VictimId, reason: &BoundedText) -> CaseResult<VictimView> {
    let (mut transaction, case) = authorise(store, caller, id, VictimAction::ViewIdentity).await?;
    record(&mut transaction, caller, AuditAction::VictimIdentityView, subject(id), Some(reason.as_str())).await?;
    let identity = rows::open_identity(store.keyring()?, &case)?;
    let mut view = read_view(store, caller, &mut transaction, case, Some(identity)).await?;
    transaction.commit().await?;
    finish_view(store, caller, &mut view).await?;
    Ok(view)
}

async fn read_view(
    store: &Store,
    caller: &Caller,
    transaction: &mut Transaction<'_, Any>,
    case: VictimCase,
    identity: Option<Identity>,
) -> CaseResult<VictimView> {
    let keyring = store.keyring()?;
    let born_on = rows::open_identity(keyring, &case)?.born_on();
    let clock = clock(&aidant_core::safeguarding::CaseDates { born_on, ..case.dates.clone() }, today());
    let allowed = |action| may_on_victim(&caller.actor, &caller.user_id, action, &case.access()).is_allowed();
    let permissions = VictimPermissions {
        identity: allowed(VictimAction::ViewIdentity),
        edit: allowed(VictimAction::EditCase),
        refer_to_support: allowed(VictimAction::ReferToSupport),
        read_audit: allowed(VictimAction::ViewAudit),
    };
    let mut links = Vec::new();
    for (kind, target) in rows::links_of(transaction, &case.id).await? {
        let reference = match kind {
            LinkKind::Report => match target.parse::<ReportId>() {
                Ok(report_id) => {
                    let triage = crate::triage::load_triage_state(transaction, &report_id).await?;
                    match triage.filter(|triage| caller.may(Action::ViewReport, &triage.access())) {
                        Some(_) => crate::reports::load_report(transaction, &report_id).await?.map(|report| report.reference.to_string()),
                        None => None,
                    }
                }
                Err(_) => None,
            },
            LinkKind::Intelligence => match target.parse::<IntelligenceId>() {
                Ok(record_id) => crate::intelligence::load_intelligence(transaction, std::slice::from_ref(&record_id))
                    .await?
                    .into_iter()
                    .find(|record| caller.may(Action::ViewIntelligence, &record.access()))
                    .map(|record| record.reference),
                Err(_) => None,
            },
            // Named after the read, outside this transaction (`name_entities`).
            LinkKind::Entity => None,
            LinkKind::FieldRecord => match target.parse::<aidant_core::ids::FieldRecordId>() {
                Ok(record_id) => match field_record_reference(transaction, store, caller, &record_id).await {
                    Ok(reference) => reference,
                    Err(CaseError::NotFound) => None,
                    Err(error) => return Err(error),
                },
                Err(_) => None,
            },
        };
        links.push(LinkedRecord { kind, id: target, reference });
    }
    let referral = match rows::load_referral(transaction, keyring, &case.id).await? {
        None => ReferralState::NotStarted,
        Some(row) if row.completed_at_ms.is_some() => ReferralState::Completed,
        Some(_) => ReferralState::Draft,
    };
    let mut support = Vec::new();
    if allowed(VictimAction::ViewSupportReferral) {
        let referrals = rows::support_referrals_of(transaction, &case.id).await?;
        let ids: Vec<SupportReferralId> = referrals.iter().map(|referral| referral.id.clone()).collect();
        let mut given = rows::support_given_for(transaction, keyring, &ids).await?;
        for referral in referrals {
            support.push(SupportLine { organisation_name: String::new(), given: given.remove(referral.id.as_str()).unwrap_or_default(), referral });
        }
    }
    // Organisations and colleagues are read once the transaction is over
    // (`finish_view`): on PostgreSQL the pool is shared with writers.
    Ok(VictimView { case, clock, permissions, links, referral, support, support_targets: Vec::new(), colleagues: Vec::new(), identity })
}

/// What a case's page shows beside the case: organisations' names, those
/// a person may be referred to, the caller's colleagues; and, when the
/// identity is open, the entities linked to the case by name.
async fn finish_view(store: &Store, caller: &Caller, view: &mut VictimView) -> CaseResult<()> {
    let organisations = store.list_organisations().await?;
    for line in &mut view.support {
        line.organisation_name = organisations
            .iter()
            .find(|organisation| organisation.id == line.referral.organisation_id)
            .map_or_else(String::new, |organisation| organisation.name.clone());
    }
    view.support_targets = organisations.into_iter().filter(|organisation| may_give_support(organisation.kind)).collect();
    view.colleagues = store.list_users_in(caller.organisation_id()).await?;
    if view.identity.is_some() {
        name_entities(store, caller, view).await?;
    }
    Ok(())
}

/// Records the age, the dates and the Home Office's decisions; every
/// problem by field, and nothing saved, when they do not fit together.
pub async fn record_decisions(store: &Store, caller: &Caller, id: &VictimId, answers: &DecisionAnswers<'_>) -> CaseResult<()> {
    let (mut transaction, case) = authorise(store, caller, id, VictimAction::EditCase).await?;
    let born_on = rows::open_identity(store.keyring()?, &case)?.born_on();
    let decisions = Decisions::parse(answers, born_on, today()).map_err(CaseError::Invalid)?;
    rows::update_decisions(&mut transaction, id, &decisions, now_ms()).await?;
    let reason = clock(&aidant_core::safeguarding::CaseDates { born_on, ..decisions.dates.clone() }, today()).stage.as_str();
    record(&mut transaction, caller, AuditAction::VictimUpdate, subject(id), Some(reason)).await?;
    transaction.commit().await?;
    Ok(())
}

/// Names the officer in the case (a user of the caller's organisation), or
/// nobody.
pub async fn set_officer_in_case(store: &Store, caller: &Caller, id: &VictimId, officer: Option<&UserId>) -> CaseResult<()> {
    check_case(store, caller, id, VictimAction::EditCase).await?;
    if let Some(officer) = officer {
        let user = store.find_user(officer).await?;
        if !user.is_some_and(|user| &user.organisation_id == caller.organisation_id() && !user.disabled) {
            return Err(CaseError::invalid("officer", "Select an officer from the list"));
        }
    }
    let (mut transaction, _) = authorise(store, caller, id, VictimAction::EditCase).await?;
    rows::set_officer(&mut transaction, id, officer, now_ms()).await?;
    record(&mut transaction, caller, AuditAction::VictimUpdate, subject(id), Some("officer in the case")).await?;
    transaction.commit().await?;
    Ok(())
}

/// The referral as its writer sees it.
#[derive(Debug, Clone)]
pub struct ReferralDraft {
    pub pseudonym: String,
    pub answers: Answers,
    pub pages_done: BTreeSet<String>,
    pub completed: bool,
    pub path: Option<String>,
    pub completed_at_ms: Option<i64>,
    /// When it was last saved (`None` before its first page), so a change
    /// is written only over the draft it was made from.
    pub version: Option<i64>,
}

/// The answers a new referral starts with: what the case already holds and
/// who the caller is.
async fn first_answers(store: &Store, caller: &Caller, case: &VictimCase) -> CaseResult<Answers> {
    let identity = rows::open_identity(store.keyring()?, case)?;
    let mut answers = Answers::new();
    let mut put = |field: &str, value: String| {
        if !value.is_empty() {
            answers.insert(field.to_owned(), vec![value]);
        }
    };
    if let Some(user) = store.find_user(&caller.user_id).await? {
        put("responder_name", user.display_name);
        put("responder_email", user.email);
    }
    let organisation = store.find_organisation(caller.organisation_id()).await?;
    put("responder_organisation", organisation.map(|organisation| organisation.name).unwrap_or_default());
    put("age", case.age.as_str().to_owned());
    put("born_on", identity.born_on.clone().unwrap_or_default());
    put("estimated_age", identity.estimated_age.map(|years| years.to_string()).unwrap_or_default());
    put("name", identity.name);
    put("nickname", identity.nickname);
    put("gender", identity.gender);
    put("nationality", identity.nationality);
    put("languages", identity.languages);
    put("interpreter", if identity.interpreter { "yes" } else { "no" }.to_owned());
    put("contact", identity.contact);
    if case.county_lines {
        put("county_lines", "yes".to_owned());
    }
    if let Some(day) = case.local_authority_referred_on {
        put("local_authority_referred_on", day.to_string());
    }
    if !case.exploitation_types.is_empty() {
        answers.insert("exploitation_types".to_owned(), case.exploitation_types.iter().map(|kind| kind.as_str().to_owned()).collect());
    }
    Ok(answers)
}

/// Reads the referral (starting from the case's facts when none is saved);
/// audited, since it holds the identity.
pub async fn referral(store: &Store, caller: &Caller, id: &VictimId) -> CaseResult<ReferralDraft> {
    read_referral(store, caller, id, true).await
}

/// Reads the referral for a change to it (which audits itself), or, with
/// `audit_view`, as a reading.
async fn read_referral(store: &Store, caller: &Caller, id: &VictimId, audit_view: bool) -> CaseResult<ReferralDraft> {
    let (mut transaction, case) = authorise(store, caller, id, VictimAction::EditCase).await?;
    if audit_view {
        record(&mut transaction, caller, AuditAction::ReferralView, subject(id), None).await?;
    }
    let row = rows::load_referral(&mut transaction, store.keyring()?, id).await?;
    transaction.commit().await?;
    let version = row.as_ref().map(|row| row.updated_at_ms);
    let row = match row {
        Some(row) => row,
        None => ReferralRow { answers: first_answers(store, caller, &case).await?, ..ReferralRow::default() },
    };
    Ok(ReferralDraft {
        version,
        pseudonym: case.pseudonym,
        completed: row.completed_at_ms.is_some(),
        answers: row.answers,
        pages_done: row.pages_done,
        path: row.path,
        completed_at_ms: row.completed_at_ms,
    })
}

/// Saves one page's answers (the page's fields replaced, the rest kept)
/// when they pass the page's checks; every problem by field otherwise, and
/// nothing saved. Returns the next page, or `None` at the end.
pub async fn save_referral_page(
    store: &Store,
    caller: &Caller,
    id: &VictimId,
    page: Page,
    values: &Answers,
    known_indicators: &[&str],
) -> CaseResult<Option<Page>> {
    let current = read_referral(store, caller, id, false).await?;
    if current.completed {
        return Err(CaseError::invalid(page.slug(), "This referral has been completed and can no longer be changed"));
    }
    if !referral::pages(&current.answers).contains(&page) {
        return Err(CaseError::NotFound);
    }
    let mut answers = current.answers;
    for question in page.questions() {
        answers.remove(question.field);
        if let Some(values) = values.get(question.field) {
            let kept: Vec<String> = values.iter().map(|value| value.trim().to_owned()).filter(|value| !value.is_empty()).collect();
            if !kept.is_empty() {
                answers.insert(question.field.to_owned(), kept);
            }
        }
    }
    let problems = referral::check_page(page, &answers, known_indicators, today());
    if !problems.is_empty() {
        return Err(CaseError::Invalid(
            problems.into_iter().map(|problem| aidant_core::report::FieldError { field: problem.field.to_owned(), message: problem.message }).collect(),
        ));
    }
    let mut pages_done = current.pages_done;
    pages_done.insert(page.slug().to_owned());
    let (mut transaction, _) = authorise(store, caller, id, VictimAction::EditCase).await?;
    unchanged_since(&mut transaction, store, id, current.version).await?;
    let row = ReferralRow { answers: answers.clone(), pages_done, ..ReferralRow::default() };
    rows::save_referral(&mut transaction, store.keyring()?, id, &row, &caller.user_id, now_ms()).await?;
    record(&mut transaction, caller, AuditAction::ReferralSave, subject(id), Some(page.slug())).await?;
    transaction.commit().await?;
    Ok(referral::next_page(&answers, page))
}

/// Refuses, inside the transaction that would write it, a referral changed
/// since `version` was read (completed, or a page saved from another
/// window): nothing is written over it.
async fn unchanged_since(transaction: &mut Transaction<'_, Any>, store: &Store, id: &VictimId, version: Option<i64>) -> CaseResult<()> {
    let stored = rows::load_referral(transaction, store.keyring()?, id).await?;
    if stored.as_ref().is_some_and(|row| row.completed_at_ms.is_some()) {
        return Err(CaseError::invalid("referral", "This referral has been completed and can no longer be changed"));
    }
    if stored.map(|row| row.updated_at_ms) != version {
        return Err(CaseError::invalid("referral", "Someone else changed this referral at the same time: check it and try again"));
    }
    Ok(())
}

/// Completes the referral: an NRM referral (a child, or an adult who
/// consents) or an anonymous Duty to Notify (an adult who does not), whose
/// stored answers then hold nothing that identifies the person. The case
/// takes its date, age, types and local-authority referral from it.
/// Refused, field by page, while any page is incomplete.
pub async fn complete_referral(store: &Store, caller: &Caller, id: &VictimId, known_indicators: &[&str]) -> CaseResult<ReferralPath> {
    let current = read_referral(store, caller, id, false).await?;
    if current.completed {
        return Err(CaseError::invalid("referral", "This referral has already been completed"));
    }
    let today = today();
    let missing = referral::incomplete(&current.answers, known_indicators, today);
    if !missing.is_empty() {
        return Err(CaseError::Invalid(
            missing
                .into_iter()
                .map(|(page, problems)| aidant_core::report::FieldError { field: page.slug().to_owned(), message: problems[0].message.clone() })
                .collect(),
        ));
    }
    let path = referral::path_of(&current.answers);
    let (mut transaction, case) = authorise(store, caller, id, VictimAction::EditCase).await?;
    unchanged_since(&mut transaction, store, id, current.version).await?;
    let keyring = store.keyring()?;
    let mut identity = rows::open_identity(keyring, &case)?;
    let answer = |field: &str| current.answers.get(field).and_then(|values| values.first()).cloned().unwrap_or_default();
    let age: AgeAssessment = answer("age").parse().map_err(|_| CaseError::invalid("age", "Select the person's age"))?;
    // The referral started from the case's identity; what it adds or
    // corrects goes back to the case, and what it leaves blank is kept.
    let take = |field: &str, into: &mut String| {
        let value = answer(field);
        if !value.is_empty() {
            *into = value;
        }
    };
    if path == ReferralPath::Nrm {
        take("name", &mut identity.name);
        take("nickname", &mut identity.nickname);
        take("languages", &mut identity.languages);
        take("contact", &mut identity.contact);
        if let Some(born_on) = Some(answer("born_on")).filter(|day| !day.is_empty()) {
            identity.born_on = Some(born_on);
        }
        if let Ok(years) = answer("estimated_age").parse() {
            identity.estimated_age = Some(years);
        }
        identity.interpreter = answer("interpreter") == "yes";
    }
    take("gender", &mut identity.gender);
    take("nationality", &mut identity.nationality);
    let types: Vec<ExploitationType> = current.answers.get("exploitation_types").into_iter().flatten().filter_map(|code| code.parse().ok()).collect();
    let county_lines = answer("county_lines") == "yes";
    let now = now_ms();
    rows::set_identity(&mut transaction, keyring, id, &identity, &types, county_lines, now).await?;
    let mut dates = case.dates.clone();
    match path {
        ReferralPath::Nrm => dates.referred_on = dates.referred_on.or(Some(today)),
        ReferralPath::DutyToNotify => dates.duty_to_notify_on = dates.duty_to_notify_on.or(Some(today)),
    }
    let local_authority_referred_on = aidant_core::text::parse_iso_date(&answer("local_authority_referred_on")).or(case.local_authority_referred_on);
    rows::update_decisions(&mut transaction, id, &Decisions { age, dates, local_authority_referred_on }, now).await?;
    let path_name = match path {
        ReferralPath::Nrm => "nrm",
        ReferralPath::DutyToNotify => "duty_to_notify",
    };
    let row = ReferralRow {
        answers: referral::answers_for_path(&current.answers),
        pages_done: current.pages_done,
        path: Some(path_name.to_owned()),
        completed_by: Some(caller.user_id.clone()),
        completed_at_ms: Some(now),
        ..ReferralRow::default()
    };
    rows::save_referral(&mut transaction, keyring, id, &row, &caller.user_id, now).await?;
    record(&mut transaction, caller, AuditAction::ReferralComplete, subject(id), Some(path_name)).await?;
    transaction.commit().await?;
    Ok(path)
}

/// A completed referral as it goes to the Home Office.
#[derive(Debug, Clone)]
pub struct ReferralDocument {
    pub pseudonym: String,
    pub path: ReferralPath,
    pub answers: Answers,
    pub completed_at_ms: i64,
}

/// The completed referral, for printing or export; audited.
pub async fn referral_document(store: &Store, caller: &Caller, id: &VictimId) -> CaseResult<ReferralDocument> {
    let (mut transaction, case) = authorise(store, caller, id, VictimAction::EditCase).await?;
    let row = rows::load_referral(&mut transaction, store.keyring()?, id).await?;
    let Some(row) = row.filter(|row| row.completed_at_ms.is_some()) else {
        transaction.commit().await?;
        return Err(CaseError::NotFound);
    };
    record(&mut transaction, caller, AuditAction::ReferralExport, subject(id), row.path.as_deref()).await?;
    transaction.commit().await?;
    let path = if row.path.as_deref() == Some("duty_to_notify") { ReferralPath::DutyToNotify } else { ReferralPath::Nrm };
    Ok(ReferralDocument {
        pseudonym: case.pseudonym,
        path,
        answers: referral::answers_for_path(&row.answers),
        completed_at_ms: row.completed_at_ms.unwrap_or_default(),
    })
}

/// Refers the person to a support organisation, giving it the fields
/// chosen (the pseudonym always). Returns the referral's id.
pub async fn refer_to_support(
    store: &Store,
    caller: &Caller,
    id: &VictimId,
    organisation_id: Option<&OrganisationId>,
    fields: &[String],
) -> CaseResult<SupportReferralId> {
    let (transaction, case) = authorise(store, caller, id, VictimAction::ReferToSupport).await?;
    transaction.commit().await?;
    let organisation = match organisation_id {
        Some(organisation_id) => store.find_organisation(organisation_id).await?,
        None => None,
    };
    let Some(organisation) = organisation.filter(|organisation| may_give_support(organisation.kind)) else {
        return Err(CaseError::invalid("organisation", "Select a support organisation from the list"));
    };
    if fields.iter().any(|field| !SHAREABLE_FIELDS.iter().any(|(name, _, _)| name == field)) {
        return Err(CaseError::invalid("fields", "Select what to share from the list"));
    }
    let identity = rows::open_identity(store.keyring()?, &case)?;
    let stored = rows::load_referral(&mut *store.pool.acquire().await.map_err(StoreError::Database)?, store.keyring()?, id).await?;
    let first = |field: &str| stored.as_ref().and_then(|row| row.answers.get(field)).and_then(|values| values.first()).cloned().unwrap_or_default();
    let support_needs = first("support_needs");
    // An adult who would not consent to a referral is not identified to
    // anyone by one: only what does not identify them may go.
    let refused = !case.age.is_child_path() && (first("consent") == "no" || stored.as_ref().and_then(|row| row.path.as_deref()) == Some("duty_to_notify"));
    if refused && SHAREABLE_FIELDS.iter().any(|(field, _, identifying)| *identifying && fields.iter().any(|chosen| chosen == field)) {
        return Err(CaseError::invalid("fields", "The person did not consent to a referral: give only what does not identify them"));
    }
    let mut shared = BTreeMap::new();
    shared.insert("pseudonym".to_owned(), case.pseudonym.clone());
    let mut chosen = Vec::new();
    for (field, _, _) in SHAREABLE_FIELDS.iter().filter(|(field, _, _)| fields.iter().any(|chosen| chosen == field)) {
        let value = match *field {
            "name" => identity.name.clone(),
            "nickname" => identity.nickname.clone(),
            "born_on" => identity.born_on.clone().or(identity.estimated_age.map(|years| format!("About {years} years old"))).unwrap_or_default(),
            "contact" => identity.contact.clone(),
            "languages" => format!("{}{}", identity.languages, if identity.interpreter { " (needs an interpreter)" } else { "" }),
            "gender" => aidant_core::safeguarding::case::GENDERS.iter().find(|(code, _)| *code == identity.gender).map_or("", |(_, label)| label).to_owned(),
            "nationality" => identity.nationality.clone(),
            "age" => case.age.label().to_owned(),
            "exploitation_types" => case.exploitation_types.iter().map(|kind| kind.label()).collect::<Vec<_>>().join(", "),
            "support_needs" => support_needs.clone(),
            _ => String::new(),
        };
        chosen.push((*field).to_owned());
        shared.insert((*field).to_owned(), value);
    }
    let (mut transaction, _) = authorise(store, caller, id, VictimAction::ReferToSupport).await?;
    let insert = rows::SupportReferralInsert { victim_id: id, organisation_id: &organisation.id, fields: &chosen, shared: &shared, by: &caller.user_id };
    let referral_id = rows::insert_support_referral(&mut transaction, store.keyring()?, &insert, now_ms()).await?;
    let reason = format!("to {} ({})", organisation.id, chosen.join(", "));
    record(&mut transaction, caller, AuditAction::SupportRefer, subject(id), Some(&reason)).await?;
    transaction.commit().await?;
    Ok(referral_id)
}

/// A person referred to the caller's organisation, on its portal.
#[derive(Debug, Clone)]
pub struct PortalRow {
    pub referral_id: SupportReferralId,
    pub pseudonym: String,
    pub referred_at_ms: i64,
    pub from_organisation: String,
    pub support_recorded: usize,
}

/// The people referred to the caller's organisation for support, newest
/// first.
pub async fn support_portal(store: &Store, caller: &Caller) -> CaseResult<Vec<PortalRow>> {
    super::require(store, caller, Capability::SupportReferrals).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let referrals = rows::support_referrals_to(&mut connection, caller.organisation_id()).await?;
    let victim_ids: Vec<VictimId> = referrals.iter().map(|referral| referral.victim_id.clone()).collect();
    let cases = rows::load_victims(&mut connection, &victim_ids).await?;
    let ids: Vec<SupportReferralId> = referrals.iter().map(|referral| referral.id.clone()).collect();
    let given = rows::support_given_for(&mut connection, store.keyring()?, &ids).await?;
    drop(connection);
    let organisations = store.list_organisations().await?;
    let (_turn, mut transaction) = store.begin_write().await?;
    let organisation = caller.organisation_id().as_str().to_owned();
    record(&mut transaction, caller, AuditAction::SupportList, Subject { kind: AuditRecordKind::Victims, id: &organisation }, None).await?;
    transaction.commit().await?;
    Ok(referrals
        .into_iter()
        .filter_map(|referral| {
            let case = cases.iter().find(|case| case.id == referral.victim_id)?;
            may_on_victim(&caller.actor, &caller.user_id, VictimAction::ViewSupportReferral, &case.access()).is_allowed().then(|| PortalRow {
                pseudonym: case.pseudonym.clone(),
                referred_at_ms: referral.referred_at_ms,
                from_organisation: organisations
                    .iter()
                    .find(|organisation| organisation.id == case.owner_organisation_id)
                    .map_or_else(String::new, |organisation| organisation.name.clone()),
                support_recorded: given.get(referral.id.as_str()).map_or(0, Vec::len),
                referral_id: referral.id,
            })
        })
        .collect())
}

/// A support referral as the organisation it went to reads it.
#[derive(Debug, Clone)]
pub struct SupportReferralView {
    pub referral: SupportReferral,
    pub pseudonym: String,
    pub from_organisation: String,
    /// What the referral gave, by field, in `SHAREABLE_FIELDS` order.
    pub shared: Vec<(String, String)>,
    pub given: Vec<SupportGiven>,
    pub may_record: bool,
}

async fn authorise_support<'s>(
    store: &'s Store,
    caller: &Caller,
    referral_id: &SupportReferralId,
    action: VictimAction,
) -> CaseResult<(Transaction<'s, Any>, SupportReferral, VictimCase)> {
    let (_turn, mut transaction) = store.begin_write().await?;
    let referral = rows::load_support_referral(&mut transaction, referral_id).await?.ok_or(CaseError::NotFound)?;
    let case = rows::load_victims(&mut transaction, std::slice::from_ref(&referral.victim_id)).await?.into_iter().next().ok_or(CaseError::NotFound)?;
    // The organisation a referral went to reads it; the force reads its own
    // through the case.
    let decision = if referral.organisation_id == *caller.organisation_id() || case.owner_organisation_id == *caller.organisation_id() {
        may_on_victim(&caller.actor, &caller.user_id, action, &case.access())
    } else {
        Decision::Deny("this person has not been referred to your organisation")
    };
    let transaction = enforce(transaction, caller, Subject { kind: AuditRecordKind::SupportReferral, id: referral_id.as_str() }, decision).await?;
    Ok((transaction, referral, case))
}

/// Reads a support referral: only what it gave; audited.
pub async fn view_support_referral(store: &Store, caller: &Caller, referral_id: &SupportReferralId) -> CaseResult<SupportReferralView> {
    let (mut transaction, referral, case) = authorise_support(store, caller, referral_id, VictimAction::ViewSupportReferral).await?;
    record(&mut transaction, caller, AuditAction::SupportReferralView, Subject { kind: AuditRecordKind::SupportReferral, id: referral_id.as_str() }, None)
        .await?;
    let keyring = store.keyring()?;
    let mut opened = rows::open_shared(keyring, &referral)?;
    let given = rows::support_given_for(&mut transaction, keyring, std::slice::from_ref(referral_id)).await?.remove(referral_id.as_str()).unwrap_or_default();
    transaction.commit().await?;
    let shared = SHAREABLE_FIELDS.iter().filter_map(|(field, label, _)| opened.remove(*field).map(|value| ((*label).to_owned(), value))).collect();
    let from_organisation = store.find_organisation(&case.owner_organisation_id).await?.map(|organisation| organisation.name).unwrap_or_default();
    let may_record = may_on_victim(&caller.actor, &caller.user_id, VictimAction::RecordSupport, &case.access()).is_allowed()
        && referral.organisation_id == *caller.organisation_id();
    Ok(SupportReferralView { pseudonym: case.pseudonym, from_organisation, shared, given, may_record, referral })
}

/// Records support given under a referral, by the organisation giving it.
pub async fn record_support(store: &Store, caller: &Caller, referral_id: &SupportReferralId, kind: &str, given_on: &str, note: &str) -> CaseResult<()> {
    let mut errors = Vec::new();
    let kind = kind.parse::<SupportKind>().map_err(|_| errors.push(("kind", "Select the kind of support given".to_owned()))).ok();
    let given_on = match aidant_core::text::parse_iso_date(given_on.trim()) {
        Some(day) if day <= today() => Some(day),
        Some(_) => {
            errors.push(("given_on", "The date the support was given must be today or in the past".to_owned()));
            None
        }
        None => {
            errors.push(("given_on", "Enter the date the support was given, like 2026-03-31".to_owned()));
            None
        }
    };
    let note = note.trim();
    if note.chars().count() > referral::LONG_TEXT {
        errors.push(("note", format!("The note must be {} characters or fewer", referral::LONG_TEXT)));
    }
    let (mut transaction, referral, _) = authorise_support(store, caller, referral_id, VictimAction::RecordSupport).await?;
    if referral.organisation_id != *caller.organisation_id() {
        transaction.commit().await?;
        return Err(CaseError::Denied { reason: "support is recorded by the organisation giving it" });
    }
    let (Some(kind), Some(given_on), true) = (kind, given_on, errors.is_empty()) else {
        transaction.commit().await?;
        return Err(CaseError::Invalid(
            errors.into_iter().map(|(field, message)| aidant_core::report::FieldError { field: field.to_owned(), message }).collect(),
        ));
    };
    let insert = rows::SupportGivenInsert { referral_id, kind, given_on, note: Some(note).filter(|note| !note.is_empty()), by: &caller.user_id };
    rows::insert_support_given(&mut transaction, store.keyring()?, &insert, now_ms()).await?;
    record(
        &mut transaction,
        caller,
        AuditAction::SupportRecord,
        Subject { kind: AuditRecordKind::SupportReferral, id: referral_id.as_str() },
        Some(kind.as_str()),
    )
    .await?;
    transaction.commit().await?;
    Ok(())
}

/// A statistics table: rows by columns, with totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatisticsTable {
    pub title: &'static str,
    pub row_labels: Vec<String>,
    pub column_labels: Vec<String>,
    pub cells: Vec<Vec<Cell>>,
}

/// Safeguarding statistics in the Home Office's dimensions.
#[derive(Debug, Clone)]
pub struct Statistics {
    pub tables: Vec<StatisticsTable>,
    /// Whether small counts are held back (always for a partner).
    pub suppressed: bool,
    pub threshold: u64,
    pub cases: usize,
    /// The quarter whose referrals and decisions are counted (`None`: all).
    pub quarter: Option<Quarter>,
    /// The share of Reasonable Grounds decisions that were positive, in
    /// percent, where there were enough decisions to give it.
    pub reasonable_grounds_positive_share: Option<u64>,
    pub conclusive_grounds_positive_share: Option<u64>,
}

/// Counts of the caller's organisation's cases (a partner's: every
/// organisation's, with every count below the threshold held back) by
/// stage, exploitation type, age group, gender and nationality.
pub async fn statistics(store: &Store, caller: &Caller, for_publication: bool, quarter: Option<Quarter>) -> CaseResult<Statistics> {
    super::require(store, caller, Capability::SafeguardingStatistics).await?;
    let partner = !caller.can(Capability::Safeguarding);
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let cases =
        if partner { rows::all_victims(&mut connection).await? } else { rows::victims_of_organisation(&mut connection, caller.organisation_id()).await? };
    drop(connection);
    let keyring = store.keyring()?;
    let today = today();
    let ages = ["Adult", "Child"];
    let force_names: BTreeMap<String, String> =
        store.list_organisations().await?.into_iter().map(|organisation| (organisation.id.as_str().to_owned(), organisation.name)).collect();
    // Decisions are counted by when they were made, of every case; the
    // other tables count the referrals (NRM or Duty to Notify) made in the
    // quarter, or every case when no quarter is chosen.
    let mut decisions = vec![vec![0u64; 2]; 4];
    for case in &cases {
        let column = usize::from(statistics::age_group(case.age) == "Child");
        for (offset, decided) in [(0, case.dates.reasonable_grounds), (2, case.dates.conclusive_grounds)] {
            if let Some((day, decision)) = decided
                && quarter.is_none_or(|quarter| quarter.contains(day))
            {
                decisions[offset + usize::from(decision != GroundsDecision::Positive)][column] += 1;
            }
        }
    }
    let referred_in = |case: &&VictimCase| match quarter {
        None => true,
        Some(quarter) => case.dates.referred_on.or(case.dates.duty_to_notify_on).is_some_and(|day| quarter.contains(day)),
    };
    let cases: Vec<&VictimCase> = cases.iter().filter(referred_in).collect();
    let mut by_route = vec![vec![0u64; 2]; 3];
    let mut county_lines = vec![vec![0u64; 2]; 2];
    let mut by_force: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let mut by_stage = vec![vec![0u64; 2]; Stage::ALL.len()];
    let mut by_category = vec![vec![0u64; 2]; StatisticsCategory::ALL.len()];
    let mut by_gender: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let mut by_nationality: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    for case in &cases {
        let identity = rows::open_identity(keyring, case)?;
        let column = usize::from(statistics::age_group(case.age) == "Child");
        let route = if case.dates.referred_on.is_some() {
            0
        } else if case.dates.duty_to_notify_on.is_some() {
            1
        } else {
            2
        };
        by_route[route][column] += 1;
        if statistics::categories(&case.exploitation_types).contains(&StatisticsCategory::Criminal) {
            county_lines[usize::from(!case.county_lines)][column] += 1;
        }
        let force = force_names.get(case.owner_organisation_id.as_str()).cloned().unwrap_or_else(|| "Unknown".to_owned());
        by_force.entry(force).or_default()[column] += 1;
        let stage = clock(&aidant_core::safeguarding::CaseDates { born_on: identity.born_on(), ..case.dates.clone() }, today).stage;
        if let Some(row) = Stage::ALL.iter().position(|candidate| *candidate == stage) {
            by_stage[row][column] += 1;
        }
        for category in statistics::categories(&case.exploitation_types) {
            if let Some(row) = StatisticsCategory::ALL.iter().position(|candidate| *candidate == category) {
                by_category[row][column] += 1;
            }
        }
        let gender = aidant_core::safeguarding::case::GENDERS.iter().find(|(code, _)| *code == identity.gender).map_or("Not known", |(_, label)| label);
        by_gender.entry(gender.to_owned()).or_default()[column] += 1;
        let nationality = identity.nationality.trim();
        let nationality = if nationality.is_empty() { "Not known".to_owned() } else { title_case(nationality) };
        by_nationality.entry(nationality).or_default()[column] += 1;
    }
    // Exact counts of gender and nationality by age would tell those who
    // see the cases under pseudonyms who is who: only those who may read
    // identities see them.
    let suppressed = partner || for_publication || !caller.actor.roles.contains(&aidant_core::organisation::Role::SafeguardingLead);
    if suppressed {
        // A rare nationality's name would point at someone even with its
        // count held back: those below the threshold are counted together.
        let threshold = PUBLICATION_THRESHOLD;
        let rare: Vec<String> = by_nationality.iter().filter(|(_, counts)| counts.iter().sum::<u64>() < threshold).map(|(name, _)| name.clone()).collect();
        let mut other = [0u64; 2];
        for name in rare {
            if let Some(counts) = by_nationality.remove(&name) {
                other[0] += counts[0];
                other[1] += counts[1];
            }
        }
        if other.iter().sum::<u64>() > 0 {
            by_nationality.insert("Other nationalities".to_owned(), other);
        }
    }
    let threshold = if suppressed { PUBLICATION_THRESHOLD } else { 1 };
    let table = |title: &'static str, row_labels: Vec<String>, counts: Vec<Vec<u64>>| StatisticsTable {
        title,
        row_labels,
        column_labels: ages.iter().map(|label| (*label).to_owned()).collect(),
        cells: statistics::suppress(&counts, threshold),
    };
    let (rg_positive, rg_negative) = (decisions[0].iter().sum::<u64>(), decisions[1].iter().sum::<u64>());
    let (cg_positive, cg_negative) = (decisions[2].iter().sum::<u64>(), decisions[3].iter().sum::<u64>());
    // A share is given only where its decisions are not few enough to
    // point at someone.
    let share = |positive: u64, negative: u64| statistics::share_positive(positive, negative).filter(|_| positive + negative >= threshold);
    let shares = (share(rg_positive, rg_negative), share(cg_positive, cg_negative));
    let route_labels = ["National Referral Mechanism", "Duty to Notify", "Not referred"].map(str::to_owned).to_vec();
    let route_rows = if quarter.is_some() { 2 } else { 3 };
    let tables = vec![
        table("By referral route", route_labels[..route_rows].to_vec(), by_route[..route_rows].to_vec()),
        table("By stage", Stage::ALL.iter().map(|stage| stage.label().to_owned()).collect(), by_stage),
        table("By exploitation type", StatisticsCategory::ALL.iter().map(|category| category.label().to_owned()).collect(), by_category),
        table("By gender", by_gender.keys().cloned().collect(), by_gender.values().map(|counts| counts.to_vec()).collect()),
        table("By nationality", by_nationality.keys().cloned().collect(), by_nationality.values().map(|counts| counts.to_vec()).collect()),
        table("Criminal exploitation: county lines", vec!["County lines".to_owned(), "Other criminal exploitation".to_owned()], county_lines),
        table("By police force area", by_force.keys().cloned().collect(), by_force.values().map(|counts| counts.to_vec()).collect()),
        table(
            "Decisions made",
            ["Reasonable Grounds: positive", "Reasonable Grounds: negative", "Conclusive Grounds: positive", "Conclusive Grounds: negative"]
                .map(str::to_owned)
                .to_vec(),
            decisions,
        ),
    ];
    let (_turn, mut transaction) = store.begin_write().await?;
    let organisation = caller.organisation_id().as_str().to_owned();
    let reason = if suppressed { "held back below the threshold" } else { "exact counts" };
    record(&mut transaction, caller, AuditAction::VictimStatistics, Subject { kind: AuditRecordKind::Victims, id: &organisation }, Some(reason)).await?;
    transaction.commit().await?;
    Ok(Statistics {
        tables,
        suppressed,
        threshold: PUBLICATION_THRESHOLD,
        cases: cases.len(),
        quarter,
        reasonable_grounds_positive_share: shares.0,
        conclusive_grounds_positive_share: shares.1,
    })
}

/// "romanian" and "ROMANIAN" are counted as "Romanian".
fn title_case(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            let mut characters = word.chars();
            characters.next().map(|first| first.to_uppercase().chain(characters.flat_map(char::to_lowercase)).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Links another record the caller may read to a case they may change.
pub async fn link_record(store: &Store, caller: &Caller, id: &VictimId, source: &CaseSource) -> CaseResult<()> {
    let (transaction, _) = authorise(store, caller, id, VictimAction::EditCase).await?;
    transaction.commit().await?;
    let (kind, target, _) = source_record(store, caller, source).await?;
    let (mut transaction, _) = authorise(store, caller, id, VictimAction::EditCase).await?;
    if rows::link(&mut transaction, id, kind, &target, &caller.user_id, now_ms()).await? {
        let reason = link_reason(kind, &target);
        record(&mut transaction, caller, AuditAction::VictimLink, subject(id), Some(&reason)).await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// The cases of the caller's organisation linked to a record, under their
/// pseudonyms (for the record's page).
pub async fn cases_of_record(store: &Store, caller: &Caller, source: &CaseSource) -> CaseResult<Vec<(VictimId, String)>> {
    if !caller.can(Capability::Safeguarding) {
        return Ok(Vec::new());
    }
    let (kind, target) = match source {
        CaseSource::Report(id) => (LinkKind::Report, id.as_str()),
        CaseSource::Intelligence(id) => (LinkKind::Intelligence, id.as_str()),
        CaseSource::Entity(id) => (LinkKind::Entity, id.as_str()),
        CaseSource::FieldRecord(id) => (LinkKind::FieldRecord, id.as_str()),
    };
    // On an entity's page the pseudonym would tell who the person is: only
    // those who may know see it there.
    let action = if kind == LinkKind::Entity { VictimAction::ViewIdentity } else { VictimAction::ViewCase };
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let ids = rows::victims_linked_to(&mut connection, kind, target).await?;
    let cases = rows::load_victims(&mut connection, &ids).await?;
    drop(connection);
    let shown: Vec<(VictimId, String)> = cases
        .into_iter()
        .filter(|case| may_on_victim(&caller.actor, &caller.user_id, action, &case.access()).is_allowed())
        .map(|case| (case.id, case.pseudonym))
        .collect();
    if kind == LinkKind::Entity && !shown.is_empty() {
        // The person's page beside the pseudonym is a reading of who the
        // person is: on the record, like any other.
        let (_turn, mut transaction) = store.begin_write().await?;
        for (id, _) in &shown {
            record(&mut transaction, caller, AuditAction::VictimIdentityView, subject(id), Some("seen from the person's page")).await?;
        }
        transaction.commit().await?;
    }
    Ok(shown)
}

/// Checks the caller may do `action` on a case, without auditing a view
/// (before reading a form about it); a refusal is audited.
pub async fn check_case(store: &Store, caller: &Caller, id: &VictimId, action: VictimAction) -> CaseResult<()> {
    let (transaction, _) = authorise(store, caller, id, action).await?;
    transaction.commit().await?;
    Ok(())
}

/// The case's audit trail, oldest first (safeguarding leads and
/// supervisors of the owning organisation); reading it is audited too.
pub async fn case_audit(store: &Store, caller: &Caller, id: &VictimId) -> CaseResult<super::admin::AuditTrail> {
    let (mut transaction, case) = authorise(store, caller, id, VictimAction::ViewAudit).await?;
    record(&mut transaction, caller, AuditAction::AuditView, subject(id), None).await?;
    let entries = crate::audit::load_history(&mut transaction, AuditRecordKind::Victim.as_str(), case.id.as_str()).await?;
    transaction.commit().await?;
    super::admin::with_names(store, entries).await
}

/// Links the report or intelligence record with the reference typed
/// (`ACD-379-KMW`, `INT-ACD-379-KMW`; case, spaces and dashes do not
/// matter) to a case. A reference that is no record the caller may read
/// is one field error, whichever it is.
pub async fn link_by_reference(store: &Store, caller: &Caller, id: &VictimId, typed: &str) -> CaseResult<()> {
    check_case(store, caller, id, VictimAction::EditCase).await?;
    let unknown =
        || CaseError::invalid("reference", "Enter the reference of a report or intelligence record you can read, like ACD-379-KMW or INT-ACD-379-KMW");
    let compact: String = typed.chars().filter(|character| !character.is_whitespace() && *character != '-').collect::<String>().to_ascii_uppercase();
    let source = match compact.strip_prefix("INT") {
        Some(rest) => {
            let reference = aidant_core::ReportRef::parse(rest).map_err(|_| unknown())?;
            let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
            let found = rows::intelligence_by_reference(&mut connection, &format!("INT-{reference}")).await?;
            CaseSource::Intelligence(found.ok_or_else(unknown)?)
        }
        None => {
            let reference = aidant_core::ReportRef::parse(&compact).map_err(|_| unknown())?;
            CaseSource::Report(store.find_report_by_reference(&reference).await?.ok_or_else(unknown)?.id)
        }
    };
    match link_record(store, caller, id, &source).await {
        Err(CaseError::NotFound | CaseError::Denied { .. }) => Err(unknown()),
        other => other,
    }
}
