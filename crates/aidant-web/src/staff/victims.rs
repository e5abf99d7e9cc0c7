//! Safeguarding: the dashboard of potential victims, a case under its
//! pseudonym, the identity opened with a reason, the Home Office's
//! decisions, the NRM referral one question page at a time (saved as a
//! draft at every page), its printable and JSON forms, referrals to support
//! organisations, the support portal and the statistics.

use aidant_core::ids::{EntityId, FieldRecordId, IntelligenceId, OrganisationId, ReportId, SupportReferralId, UserId, VictimId};
use aidant_core::policy::{Capability, VictimAction};
use aidant_core::safeguarding::case::{CaseAnswers, DecisionAnswers, GENDERS, NewCase, SHAREABLE_FIELDS, SupportKind};
use aidant_core::safeguarding::referral::{self, Answers, Page, QuestionKind, ReferralPath};
use aidant_core::safeguarding::statistics::{Cell, Quarter};
use aidant_core::safeguarding::{AgeAssessment, ExploitationType, Stage};
use aidant_core::text::{BoundedText, Lines};
use aidant_store::cases::victims::{self, CaseSource, ReferralState, VictimView};
use aidant_store::cases::{self, CaseError};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{Staff, StaffPage, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};

/// The longest reason for opening an identity.
const REASON: usize = 500;

fn case_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as("Case not found", "There is no potential victim's case at this address.")
}

fn referral_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as("Referral not found", "There is no support referral at this address.")
}

fn options(pairs: &[(&str, &str)]) -> Vec<Value> {
    pairs.iter().map(|(value, label)| context! { value => *value, label => *label }).collect()
}

fn named<T: Copy>(all: &[T], value: impl Fn(T) -> &'static str, label: impl Fn(T) -> &'static str) -> Vec<Value> {
    all.iter().map(|item| context! { value => value(*item), label => label(*item) }).collect()
}

fn age_options() -> Vec<Value> {
    named(AgeAssessment::ALL, AgeAssessment::as_str, AgeAssessment::label)
}

fn type_options() -> Vec<Value> {
    named(ExploitationType::ALL, ExploitationType::as_str, ExploitationType::label)
}

fn stage_tag(stage: Stage) -> &'static str {
    match stage {
        Stage::Identified => "govuk-tag--grey",
        Stage::DutyToNotify => "govuk-tag--purple",
        Stage::AwaitingRg => "govuk-tag--yellow",
        Stage::RecoveryPeriod => "govuk-tag--blue",
        Stage::PositiveCg => "govuk-tag--green",
        Stage::NegativeRg | Stage::NegativeCg => "govuk-tag--red",
        Stage::Withdrawn => "govuk-tag--grey",
    }
}

fn written(date: Option<time::Date>) -> Option<String> {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    date.and_then(|day| day.format(&format).ok())
}

// The dashboard.

pub async fn dashboard(State(state): State<AppState>, staff: Staff) -> WebResult {
    let board = victims::dashboard(state.store(), &staff.caller).await?;
    let rows: Vec<Value> = board
        .rows
        .iter()
        .map(|row| {
            context! {
                id => row.case.id.to_string(),
                pseudonym => row.case.pseudonym.clone(),
                child => row.case.age.is_child_path(),
                age => row.case.age.label(),
                stage => row.clock.stage.label(),
                stage_tag => stage_tag(row.clock.stage),
                rg_due => written(row.clock.rg_due),
                overdue => row.clock.rg_overdue,
                due_this_week => row.due_this_week,
                child_without_local_authority => row.child_without_local_authority,
                turns_18_before_cg => row.clock.turns_18_before_cg,
                referral => match row.referral {
                    ReferralState::NotStarted => "Not started",
                    ReferralState::Draft => "Draft",
                    ReferralState::Completed => "Completed",
                },
                opened => format_time(row.case.created_at_ms),
            }
        })
        .collect();
    let count = |flag: fn(&victims::DashboardRow) -> bool| board.rows.iter().filter(|row| flag(row)).count();
    let data = context! {
        rows,
        stages => board.by_stage.iter().map(|(stage, count)| context! { label => stage.label(), count => *count }).collect::<Vec<_>>(),
        overdue => count(|row| row.clock.rg_overdue),
        due_this_week => count(|row| row.due_this_week),
        children_without_local_authority => count(|row| row.child_without_local_authority),
        turning_18 => count(|row| row.clock.turns_18_before_cg),
        today => written(Some(board.today)),
        can_statistics => staff.can(Capability::SafeguardingStatistics),
    };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/victims.html", "Safeguarding", "victims"), data))
}

// Opening a case.

#[derive(Debug, Default, Deserialize)]
pub struct SourceQuery {
    report: Option<String>,
    intelligence: Option<String>,
    entity: Option<String>,
    field_record: Option<String>,
}

/// The record a case is opened from, named by one of the form's (or the
/// address's) `report`, `intelligence`, `entity` or `field_record`.
fn source_of(report: Option<&str>, intelligence: Option<&str>, entity: Option<&str>, field_record: Option<&str>) -> WebResult<Option<CaseSource>> {
    let not_found = |error: WebError| error.or_not_found_as("Record not found", "There is no record at this address.");
    let given = |value: Option<&str>| value.filter(|id| !id.is_empty()).map(str::to_owned);
    match (given(report), given(intelligence), given(entity), given(field_record)) {
        (Some(id), _, _, _) => Ok(Some(CaseSource::Report(path_id::<ReportId>(&id).map_err(not_found)?))),
        (None, Some(id), _, _) => Ok(Some(CaseSource::Intelligence(path_id::<IntelligenceId>(&id).map_err(not_found)?))),
        (None, None, Some(id), _) => Ok(Some(CaseSource::Entity(path_id::<EntityId>(&id).map_err(not_found)?))),
        (None, None, None, Some(id)) => Ok(Some(CaseSource::FieldRecord(path_id::<FieldRecordId>(&id).map_err(not_found)?))),
        (None, None, None, None) => Ok(None),
    }
}

async fn source_context(state: &AppState, staff: &Staff, source: Option<&CaseSource>) -> WebResult<Value> {
    let Some(source) = source else { return Ok(Value::from(())) };
    let reference = victims::source_reference(state.store(), &staff.caller, source)
        .await
        .map_err(|error| WebError::from(error).or_not_found_as("Record not found", "There is no record at this address."))?;
    Ok(match source {
        CaseSource::Report(id) => context! { field => "report", id => id.to_string(), reference, href => format!("/staff/reports/{id}") },
        CaseSource::Intelligence(id) => context! { field => "intelligence", id => id.to_string(), reference, href => format!("/staff/intelligence/{id}") },
        CaseSource::Entity(id) => context! { field => "entity", id => id.to_string(), reference, href => format!("/staff/entities/{id}") },
        CaseSource::FieldRecord(id) => context! { field => "field_record", id => id.to_string(), reference, href => "/staff/operations" },
    })
}

fn new_case_page(state: &AppState, staff: &Staff, source: Value, form: &FormData, errors: Vec<PageError>) -> Response {
    let mut page = StaffPage::new("staff/victim_new.html", "Open a potential victim's case", "victims");
    page.errors = errors;
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let data = context! {
        source,
        ages => age_options(),
        genders => options(&GENDERS),
        types => type_options(),
        values => context! {
            age => value("age"),
            name => value("name"),
            nickname => value("nickname"),
            born_on => value("born_on"),
            estimated_age => value("estimated_age"),
            gender => value("gender"),
            nationality => value("nationality"),
            languages => value("languages"),
            interpreter => form.get("interpreter").is_some(),
            contact => value("contact"),
            exploitation_types => form.all("exploitation_types"),
            county_lines => form.get("county_lines").is_some(),
        },
    };
    render(state, Some(staff), page, data)
}

pub async fn new_case(State(state): State<AppState>, staff: Staff, Query(query): Query<SourceQuery>) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::Safeguarding).await?;
    let source = source_of(query.report.as_deref(), query.intelligence.as_deref(), query.entity.as_deref(), query.field_record.as_deref())?;
    let source = source_context(&state, &staff, source.as_ref()).await?;
    Ok(new_case_page(&state, &staff, source, &FormData::default(), Vec::new()))
}

pub async fn create_case(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::Safeguarding).await?;
    let form = staff_form(&staff, &body)?;
    let source = source_of(form.get("report"), form.get("intelligence"), form.get("entity"), form.get("field_record"))?;
    let source_value = source_context(&state, &staff, source.as_ref()).await?;
    let value = |name: &str| form.get(name).unwrap_or_default();
    let types = form.all("exploitation_types");
    let answers = CaseAnswers {
        age: value("age"),
        name: value("name"),
        nickname: value("nickname"),
        born_on: value("born_on"),
        estimated_age: value("estimated_age"),
        gender: value("gender"),
        nationality: value("nationality"),
        languages: value("languages"),
        interpreter: form.get("interpreter").is_some(),
        contact: value("contact"),
        exploitation_types: types.iter().map(String::as_str).collect(),
        county_lines: form.get("county_lines").is_some(),
    };
    let new = match NewCase::parse(&answers, victims::today()) {
        Ok(new) => new,
        Err(errors) => return Ok(new_case_page(&state, &staff, source_value, &form, page_errors(errors))),
    };
    let (id, _) = victims::open_case(state.store(), &staff.caller, &new, source.as_ref()).await?;
    Ok(see_other(&format!("/staff/victims/{id}")))
}

// A case.

pub async fn show(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let view = victims::view_case(state.store(), &staff.caller, &id).await.map_err(case_not_found)?;
    Ok(render_case(&state, &staff, view, &FormData::default(), Vec::new()))
}

fn render_case(state: &AppState, staff: &Staff, view: VictimView, form: &FormData, errors: Vec<PageError>) -> Response {
    let VictimView { case, clock, permissions, links, referral, support, support_targets, colleagues, identity } = view;
    let user_name = |id: &UserId| {
        colleagues.iter().find(|user| &user.id == id).map_or_else(|| "Someone outside your organisation".to_owned(), |user| user.display_name.clone())
    };
    let decision = |pair: Option<(time::Date, aidant_core::safeguarding::GroundsDecision)>| pair.map(|(day, decision)| (day.to_string(), decision.as_str()));
    let rg = decision(case.dates.reasonable_grounds);
    let cg = decision(case.dates.conclusive_grounds);
    let day = |date: Option<time::Date>| date.map(|day| day.to_string()).unwrap_or_default();
    // A form sent back with problems shows what was typed.
    let typed = |name: &str, stored: String| if form.get("csrf_token").is_some() { form.get(name).unwrap_or_default().to_owned() } else { stored };
    let identity = identity.map(|identity| {
        context! {
            name => identity.name,
            nickname => identity.nickname,
            born_on => identity.born_on,
            estimated_age => identity.estimated_age,
            gender => GENDERS.iter().find(|(code, _)| *code == identity.gender).map(|(_, label)| *label),
            nationality => identity.nationality,
            languages => identity.languages,
            interpreter => identity.interpreter,
            contact => identity.contact,
        }
    });
    let data = context! {
        id => case.id.to_string(),
        pseudonym => case.pseudonym.clone(),
        age => case.age.label(),
        child => case.age.is_child_path(),
        types => case.exploitation_types.iter().map(|kind| kind.label()).collect::<Vec<_>>(),
        county_lines => case.county_lines,
        stage => clock.stage.label(),
        stage_tag => stage_tag(clock.stage),
        opened => format_time(case.created_at_ms),
        opened_by => user_name(&case.created_by),
        officer => case.officer_in_case.as_ref().map(&user_name),
        clock => context! {
            referred_on => written(case.dates.referred_on),
            duty_to_notify_on => written(case.dates.duty_to_notify_on),
            rg_due => written(clock.rg_due),
            rg_overdue => clock.rg_overdue,
            rg_working_days => clock.rg_working_days,
            rg => case.dates.reasonable_grounds.map(|(day, decision)| format!("{} on {}", decision.label(), written(Some(day)).unwrap_or_default())),
            recovery_until => written(clock.recovery_until),
            cg_not_before => written(clock.cg_not_before),
            cg => case.dates.conclusive_grounds.map(|(day, decision)| format!("{} on {}", decision.label(), written(Some(day)).unwrap_or_default())),
            withdrawn_on => written(case.dates.withdrawn_on),
            turns_18_before_cg => clock.turns_18_before_cg,
            local_authority_referred_on => written(case.local_authority_referred_on),
        },
        identity,
        can_identity => permissions.identity,
        can_edit => permissions.edit,
        can_refer => permissions.refer_to_support,
        can_audit => permissions.read_audit,
        links => links.iter().map(|link| context! {
            kind => match link.kind {
                aidant_store::victims::LinkKind::Report => "Public report",
                aidant_store::victims::LinkKind::Intelligence => "Intelligence record",
                aidant_store::victims::LinkKind::Entity => "Entity",
                aidant_store::victims::LinkKind::FieldRecord => "Operation's field record",
            },
            reference => link.reference.clone(),
            href => match link.kind {
                aidant_store::victims::LinkKind::Report => format!("/staff/reports/{}", link.id),
                aidant_store::victims::LinkKind::Intelligence => format!("/staff/intelligence/{}", link.id),
                aidant_store::victims::LinkKind::Entity => format!("/staff/entities/{}", link.id),
                aidant_store::victims::LinkKind::FieldRecord => "/staff/operations".to_owned(),
            },
        }).collect::<Vec<_>>(),
        referral => match referral {
            ReferralState::NotStarted => "not_started",
            ReferralState::Draft => "draft",
            ReferralState::Completed => "completed",
        },
        decisions => context! {
            age => typed("age", case.age.as_str().to_owned()),
            referred_on => typed("referred_on", day(case.dates.referred_on)),
            duty_to_notify_on => typed("duty_to_notify_on", day(case.dates.duty_to_notify_on)),
            rg_on => typed("rg_on", rg.as_ref().map(|(day, _)| day.clone()).unwrap_or_default()),
            rg_decision => typed("rg_decision", rg.as_ref().map(|(_, decision)| (*decision).to_owned()).unwrap_or_default()),
            cg_on => typed("cg_on", cg.as_ref().map(|(day, _)| day.clone()).unwrap_or_default()),
            cg_decision => typed("cg_decision", cg.as_ref().map(|(_, decision)| (*decision).to_owned()).unwrap_or_default()),
            withdrawn_on => typed("withdrawn_on", day(case.dates.withdrawn_on)),
            local_authority_referred_on => typed("local_authority_referred_on", day(case.local_authority_referred_on)),
        },
        ages => age_options(),
        grounds => options(&[("positive", "Positive"), ("negative", "Negative")]),
        officers => colleagues.iter().filter(|user| !user.disabled).map(|user| context! { value => user.id.to_string(), label => user.display_name.clone() }).collect::<Vec<_>>(),
        officer_id => case.officer_in_case.as_ref().map(|id| id.to_string()).unwrap_or_default(),
        support => support.iter().map(|line| context! {
            organisation => line.organisation_name.clone(),
            when => format_time(line.referral.referred_at_ms),
            by => user_name(&line.referral.referred_by),
            fields => line.referral.fields.iter().filter_map(|field| SHAREABLE_FIELDS.iter().find(|(name, _, _)| name == field).map(|(_, label, _)| *label)).collect::<Vec<_>>(),
            given => line.given.iter().map(|given| context! { kind => given.kind.label(), on => written(Some(given.given_on)), note => given.note.clone() }).collect::<Vec<_>>(),
        }).collect::<Vec<_>>(),
        support_targets => support_targets.iter().map(|organisation| context! { value => organisation.id.to_string(), label => organisation.name.clone() }).collect::<Vec<_>>(),
        shareable => SHAREABLE_FIELDS.iter().map(|(field, label, identifying)| context! {
            value => *field,
            label => if *identifying { format!("{label} (identifies the person)") } else { (*label).to_owned() },
        }).collect::<Vec<_>>(),
        chosen_fields => form.all("fields"),
        chosen_organisation => form.get("organisation").unwrap_or_default(),
        form_reference => form.get("reference").unwrap_or_default(),
    };
    let mut page = StaffPage::new("staff/victim.html", format!("Potential victim {}", case.pseudonym), "victims");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

async fn case_again(state: &AppState, staff: &Staff, id: &VictimId, form: &FormData, errors: Vec<PageError>) -> WebResult {
    let view = victims::view_case(state.store(), &staff.caller, id).await.map_err(case_not_found)?;
    Ok(render_case(state, staff, view, form, errors))
}

pub async fn open_identity(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let form = staff_form(&staff, &body)?;
    victims::check_case(state.store(), &staff.caller, &id, VictimAction::ViewIdentity).await.map_err(case_not_found)?;
    let Ok(reason) = BoundedText::parse(form.get("reason").unwrap_or_default(), REASON, Lines::Single) else {
        return case_again(&state, &staff, &id, &FormData::default(), vec![PageError::new("reason", "Enter why you need to see who this person is")]).await;
    };
    let view = victims::open_identity(state.store(), &staff.caller, &id, &reason).await.map_err(case_not_found)?;
    Ok(render_case(&state, &staff, view, &FormData::default(), Vec::new()))
}

pub async fn record_decisions(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let form = staff_form(&staff, &body)?;
    let value = |name: &str| form.get(name).unwrap_or_default();
    let answers = DecisionAnswers {
        age: value("age"),
        referred_on: value("referred_on"),
        duty_to_notify_on: value("duty_to_notify_on"),
        rg_on: value("rg_on"),
        rg_decision: value("rg_decision"),
        cg_on: value("cg_on"),
        cg_decision: value("cg_decision"),
        withdrawn_on: value("withdrawn_on"),
        local_authority_referred_on: value("local_authority_referred_on"),
    };
    match victims::record_decisions(state.store(), &staff.caller, &id, &answers).await {
        Ok(()) => Ok(see_other(&format!("/staff/victims/{id}#decisions"))),
        Err(CaseError::Invalid(errors)) => case_again(&state, &staff, &id, &form, page_errors(errors)).await,
        Err(error) => Err(case_not_found(error)),
    }
}

pub async fn set_officer(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let form = staff_form(&staff, &body)?;
    let officer = match form.get("officer").filter(|value| !value.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<UserId>() {
            Ok(officer) => Some(officer),
            Err(_) => return case_again(&state, &staff, &id, &FormData::default(), vec![PageError::new("officer", "Select an officer from the list")]).await,
        },
    };
    match victims::set_officer_in_case(state.store(), &staff.caller, &id, officer.as_ref()).await {
        Ok(()) => Ok(see_other(&format!("/staff/victims/{id}"))),
        Err(CaseError::Invalid(errors)) => case_again(&state, &staff, &id, &FormData::default(), page_errors(errors)).await,
        Err(error) => Err(case_not_found(error)),
    }
}

pub async fn link_record(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let form = staff_form(&staff, &body)?;
    match victims::link_by_reference(state.store(), &staff.caller, &id, form.get("reference").unwrap_or_default()).await {
        Ok(()) => Ok(see_other(&format!("/staff/victims/{id}#links"))),
        Err(CaseError::Invalid(errors)) => case_again(&state, &staff, &id, &form, page_errors(errors)).await,
        Err(error) => Err(case_not_found(error)),
    }
}

pub async fn refer_to_support(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let form = staff_form(&staff, &body)?;
    let organisation = form.get("organisation").filter(|value| !value.is_empty()).map(|raw| raw.parse::<OrganisationId>());
    let outcome = match organisation {
        Some(Err(_)) => Err(CaseError::invalid("organisation", "Select a support organisation from the list")),
        organisation => {
            let organisation = organisation.and_then(Result::ok);
            victims::refer_to_support(state.store(), &staff.caller, &id, organisation.as_ref(), &form.all("fields")).await.map(drop)
        }
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/staff/victims/{id}#support"))),
        Err(CaseError::Invalid(errors)) => case_again(&state, &staff, &id, &form, page_errors(errors)).await,
        Err(error) => Err(case_not_found(error)),
    }
}

// The referral.

fn indicator_ids(state: &AppState) -> Vec<&str> {
    state.catalogue().indicators.iter().map(|indicator| indicator.id.as_str()).collect()
}

fn page_not_found() -> WebError {
    WebError::not_found().or_not_found_as("Page not found", "The referral has no such page.")
}

/// The label an answer shows on the check page and in print.
fn answer_text(state: &AppState, kind: QuestionKind, values: &[String]) -> String {
    let label_of =
        |pairs: &[(&str, &str)], value: &str| pairs.iter().find(|(code, _)| *code == value).map_or_else(|| value.to_owned(), |(_, label)| (*label).to_owned());
    match kind {
        QuestionKind::OneOf(pairs) | QuestionKind::AnyOf(pairs) => values.iter().map(|value| label_of(pairs, value)).collect::<Vec<_>>().join(", "),
        QuestionKind::Indicators => values
            .iter()
            .map(|id| state.catalogue().indicators.iter().find(|indicator| &indicator.id == id).map_or_else(|| id.clone(), |indicator| indicator.staff.clone()))
            .collect::<Vec<_>>()
            .join("; "),
        QuestionKind::Text | QuestionKind::LongText | QuestionKind::Date => values.join(", "),
    }
}

/// Every page that applies, with each question and its answer.
fn sections(state: &AppState, answers: &Answers) -> Vec<Value> {
    referral::pages(answers)
        .into_iter()
        .map(|page| {
            context! {
                slug => page.slug(),
                title => page.question(),
                rows => page.questions().iter().map(|question| context! {
                    label => question.label,
                    answer => answers.get(question.field).map(|values| answer_text(state, question.kind, values)).unwrap_or_default(),
                }).collect::<Vec<_>>(),
            }
        })
        .collect()
}

fn path_name(answers: &Answers) -> &'static str {
    match referral::path_of(answers) {
        ReferralPath::Nrm => "nrm",
        ReferralPath::DutyToNotify => "duty_to_notify",
    }
}

pub async fn referral_summary(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let draft = victims::referral(state.store(), &staff.caller, &id).await.map_err(case_not_found)?;
    Ok(render_summary(&state, &staff, &id, draft, Vec::new()))
}

fn render_summary(state: &AppState, staff: &Staff, id: &VictimId, draft: victims::ReferralDraft, errors: Vec<PageError>) -> Response {
    let pages = referral::pages(&draft.answers);
    let first_missing = pages.iter().find(|page| !draft.pages_done.contains(page.slug())).copied();
    let data = context! {
        id => id.to_string(),
        pseudonym => draft.pseudonym.clone(),
        completed => draft.completed,
        completed_at => draft.completed_at_ms.map(format_time),
        path => draft.path.clone().unwrap_or_else(|| path_name(&draft.answers).to_owned()),
        // A Duty to Notify shows what will go, never the identity it drops.
        sections => sections(state, &referral::answers_for_path(&draft.answers)),
        done => pages.iter().filter(|page| draft.pages_done.contains(page.slug())).count(),
        total => pages.len(),
        next => first_missing.map(Page::slug),
        child => referral::age_of(&draft.answers).is_some_and(AgeAssessment::is_child_path),
    };
    let mut page = StaffPage::new("staff/referral_check.html", format!("NRM referral for {}", draft.pseudonym), "victims");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

fn render_question_page(state: &AppState, staff: &Staff, id: &VictimId, pseudonym: &str, page: Page, answers: &Answers, errors: Vec<PageError>) -> Response {
    let pages = referral::pages(answers);
    let position = pages.iter().position(|candidate| *candidate == page).map_or(0, |position| position + 1);
    let questions: Vec<Value> = page
        .questions()
        .iter()
        .map(|question| {
            let values = answers.get(question.field).cloned().unwrap_or_default();
            let (kind, choices) = match question.kind {
                QuestionKind::Text => ("text", Vec::new()),
                QuestionKind::LongText => ("long_text", Vec::new()),
                QuestionKind::Date => ("date", Vec::new()),
                QuestionKind::OneOf(pairs) => ("one_of", options(pairs)),
                QuestionKind::AnyOf(pairs) => ("any_of", options(pairs)),
                QuestionKind::Indicators => (
                    "any_of",
                    state.catalogue().indicators.iter().map(|indicator| context! { value => indicator.id.clone(), label => indicator.staff.clone() }).collect(),
                ),
            };
            context! {
                field => question.field,
                label => if question.optional { format!("{} (optional)", question.label) } else { question.label.to_owned() },
                hint => (!question.hint.is_empty()).then_some(question.hint),
                kind,
                choices,
                value => values.first().cloned().unwrap_or_default(),
                values,
            }
        })
        .collect();
    let data = context! {
        id => id.to_string(),
        pseudonym,
        slug => page.slug(),
        heading => page.question(),
        questions,
        position,
        total => pages.len(),
    };
    let mut staff_page = StaffPage::new("staff/referral_page.html", page.question(), "victims");
    staff_page.errors = errors;
    render(state, Some(staff), staff_page, data)
}

pub async fn referral_page(State(state): State<AppState>, staff: Staff, Path((id, slug)): Path<(String, String)>) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let page = Page::from_slug(&slug).ok_or_else(page_not_found)?;
    let draft = victims::referral(state.store(), &staff.caller, &id).await.map_err(case_not_found)?;
    if draft.completed {
        return Ok(see_other(&format!("/staff/victims/{id}/referral")));
    }
    if !referral::pages(&draft.answers).contains(&page) {
        return Err(page_not_found());
    }
    Ok(render_question_page(&state, &staff, &id, &draft.pseudonym, page, &draft.answers, Vec::new()))
}

pub async fn save_referral_page(State(state): State<AppState>, staff: Staff, Path((id, slug)): Path<(String, String)>, body: Bytes) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let page = Page::from_slug(&slug).ok_or_else(page_not_found)?;
    let form = staff_form(&staff, &body)?;
    let mut values = Answers::new();
    for question in page.questions() {
        values.insert(question.field.to_owned(), form.all(question.field));
    }
    let indicators = indicator_ids(&state);
    match victims::save_referral_page(state.store(), &staff.caller, &id, page, &values, &indicators).await {
        Ok(_) if form.get("then").is_some_and(|then| then == "summary") => Ok(see_other(&format!("/staff/victims/{id}/referral"))),
        Ok(Some(next)) => Ok(see_other(&format!("/staff/victims/{id}/referral/{}", next.slug()))),
        Ok(None) => Ok(see_other(&format!("/staff/victims/{id}/referral"))),
        Err(CaseError::Invalid(errors)) => {
            let draft = victims::referral(state.store(), &staff.caller, &id).await.map_err(case_not_found)?;
            if draft.completed {
                return Ok(see_other(&format!("/staff/victims/{id}/referral")));
            }
            let mut answers = draft.answers;
            for (field, typed) in values {
                answers.insert(field, typed);
            }
            // A problem with the referral as a whole (changed by someone
            // else meanwhile) links to where it can be seen.
            let errors = errors
                .into_iter()
                .map(|error| {
                    let asked = page.questions().iter().any(|question| question.field == error.field);
                    let mut entry = PageError::new(&error.field, error.message);
                    if !asked {
                        entry.href = Some(format!("/staff/victims/{id}/referral"));
                    }
                    entry
                })
                .collect();
            Ok(render_question_page(&state, &staff, &id, &draft.pseudonym, page, &answers, errors))
        }
        Err(CaseError::NotFound) => Err(page_not_found()),
        Err(error) => Err(case_not_found(error)),
    }
}

pub async fn complete_referral(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    staff_form(&staff, &body)?;
    let indicators = indicator_ids(&state);
    match victims::complete_referral(state.store(), &staff.caller, &id, &indicators).await {
        Ok(_) => Ok(see_other(&format!("/staff/victims/{id}/referral"))),
        Err(CaseError::Invalid(errors)) => {
            let draft = victims::referral(state.store(), &staff.caller, &id).await.map_err(case_not_found)?;
            let errors = errors
                .into_iter()
                .map(|error| {
                    let mut entry = PageError::new(&error.field, error.message);
                    entry.href = Some(match Page::from_slug(&error.field) {
                        Some(_) => format!("/staff/victims/{id}/referral/{}", error.field),
                        None => "#main-content".to_owned(),
                    });
                    entry
                })
                .collect();
            Ok(render_summary(&state, &staff, &id, draft, errors))
        }
        Err(error) => Err(case_not_found(error)),
    }
}

pub async fn print_referral(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let document = victims::referral_document(state.store(), &staff.caller, &id).await.map_err(case_not_found)?;
    let data = context! {
        id => id.to_string(),
        pseudonym => document.pseudonym.clone(),
        duty_to_notify => document.path == ReferralPath::DutyToNotify,
        completed_at => format_time(document.completed_at_ms),
        sections => sections(&state, &document.answers),
    };
    let title = match document.path {
        ReferralPath::Nrm => format!("National Referral Mechanism referral, {}", document.pseudonym),
        ReferralPath::DutyToNotify => format!("Duty to Notify, {}", document.pseudonym),
    };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/referral_print.html", title, "victims"), data))
}

pub async fn export_referral(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id: VictimId = path_id(&id).map_err(case_not_found)?;
    let document = victims::referral_document(state.store(), &staff.caller, &id).await.map_err(case_not_found)?;
    let pages: Vec<serde_json::Value> = referral::pages(&document.answers)
        .into_iter()
        .map(|page| {
            let answers: serde_json::Map<String, serde_json::Value> = page
                .questions()
                .iter()
                .filter_map(|question| {
                    let values = document.answers.get(question.field)?;
                    let value = match question.kind {
                        QuestionKind::AnyOf(_) | QuestionKind::Indicators => serde_json::json!(values),
                        _ => serde_json::json!(values.first()),
                    };
                    Some((question.field.to_owned(), value))
                })
                .collect();
            serde_json::json!({ "page": page.slug(), "title": page.question(), "answers": answers })
        })
        .collect();
    let body = serde_json::json!({
        "format": "aidant-nrm-referral/1",
        "pseudonym": document.pseudonym,
        "path": match document.path { ReferralPath::Nrm => "nrm", ReferralPath::DutyToNotify => "duty_to_notify" },
        "completed_at": time::OffsetDateTime::from_unix_timestamp(document.completed_at_ms.div_euclid(1000))
            .ok()
            .and_then(|moment| moment.format(&time::format_description::well_known::Rfc3339).ok()),
        "pages": pages,
    });
    let filename = format!("attachment; filename=\"referral-{}.json\"", document.pseudonym);
    Ok((
        [(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, filename)],
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    )
        .into_response())
}

// Support organisations.

pub async fn support_portal(State(state): State<AppState>, staff: Staff) -> WebResult {
    let rows = victims::support_portal(state.store(), &staff.caller).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|row| {
            context! {
                id => row.referral_id.to_string(),
                pseudonym => row.pseudonym.clone(),
                from => row.from_organisation.clone(),
                when => format_time(row.referred_at_ms),
                recorded => row.support_recorded,
            }
        })
        .collect();
    let data = context! { rows, can_statistics => staff.can(Capability::SafeguardingStatistics) };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/support_list.html", "People referred to you", "support"), data))
}

pub async fn support_referral(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id: SupportReferralId = path_id(&id).map_err(referral_not_found)?;
    let view = victims::view_support_referral(state.store(), &staff.caller, &id).await.map_err(referral_not_found)?;
    Ok(render_support_referral(&state, &staff, view, &FormData::default(), Vec::new()))
}

fn render_support_referral(state: &AppState, staff: &Staff, view: victims::SupportReferralView, form: &FormData, errors: Vec<PageError>) -> Response {
    let data = context! {
        id => view.referral.id.to_string(),
        pseudonym => view.pseudonym.clone(),
        from => view.from_organisation.clone(),
        when => format_time(view.referral.referred_at_ms),
        shared => view.shared.iter().map(|(label, value)| context! { label => label.clone(), value => value.clone() }).collect::<Vec<_>>(),
        given => view.given.iter().map(|given| context! { kind => given.kind.label(), on => written(Some(given.given_on)), note => given.note.clone() }).collect::<Vec<_>>(),
        may_record => view.may_record,
        kinds => named(SupportKind::ALL, SupportKind::as_str, SupportKind::label),
        values => context! { kind => form.get("kind").unwrap_or_default(), given_on => form.get("given_on").unwrap_or_default(), note => form.get("note").unwrap_or_default() },
    };
    let mut page = StaffPage::new("staff/support_referral.html", format!("Support for {}", view.pseudonym), "support");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

pub async fn record_support(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: SupportReferralId = path_id(&id).map_err(referral_not_found)?;
    let form = staff_form(&staff, &body)?;
    let value = |name: &str| form.get(name).unwrap_or_default();
    match victims::record_support(state.store(), &staff.caller, &id, value("kind"), value("given_on"), value("note")).await {
        Ok(()) => Ok(see_other(&format!("/staff/support/{id}"))),
        Err(CaseError::Invalid(errors)) => {
            let view = victims::view_support_referral(state.store(), &staff.caller, &id).await.map_err(referral_not_found)?;
            Ok(render_support_referral(&state, &staff, view, &form, page_errors(errors)))
        }
        Err(error) => Err(referral_not_found(error)),
    }
}

// Statistics.

#[derive(Debug, Default, Deserialize)]
pub struct StatisticsQuery {
    publication: Option<String>,
    /// `2026-Q3`, or `all` (the default: every case).
    quarter: Option<String>,
}

impl StatisticsQuery {
    fn for_publication(&self) -> bool {
        self.publication.as_deref() == Some("yes")
    }

    /// The quarter asked for: `Ok(None)` for every case, `Err` for
    /// something that is not a quarter.
    fn quarter(&self) -> Result<Option<Quarter>, WebError> {
        match self.quarter.as_deref().map(str::trim) {
            None | Some("") | Some("all") => Ok(None),
            Some(text) => Quarter::parse(text).map(Some).ok_or_else(|| {
                WebError::Invalid(vec![aidant_core::report::FieldError { field: "quarter".to_owned(), message: "Choose a quarter from the list".to_owned() }])
            }),
        }
    }

    /// The same choice for a link.
    fn to_query(&self, quarter: Option<Quarter>) -> String {
        let quarter = quarter.map_or_else(|| "all".to_owned(), Quarter::code);
        if self.for_publication() { format!("quarter={quarter}&publication=yes") } else { format!("quarter={quarter}") }
    }
}

/// A statistics table's cells as they are shown and exported.
fn cell_text(cell: &Cell, threshold: u64) -> String {
    match cell {
        Cell::Count(count) => count.to_string(),
        Cell::Suppressed => format!("Fewer than {threshold}"),
    }
}

pub async fn statistics(State(state): State<AppState>, staff: Staff, Query(query): Query<StatisticsQuery>) -> WebResult {
    let for_publication = query.for_publication();
    let quarter = query.quarter()?;
    let statistics = victims::statistics(state.store(), &staff.caller, for_publication, quarter).await?;
    let threshold = statistics.threshold;
    let tables: Vec<Value> = statistics
        .tables
        .iter()
        .enumerate()
        .map(|(number, table)| {
            context! {
                id => format!("statistics-{number}"),
                title => table.title,
                columns => table.column_labels.clone(),
                rows => table.row_labels.iter().zip(&table.cells).map(|(label, cells)| context! {
                    label => label.clone(),
                    cells => cells.iter().map(|cell| cell_text(cell, threshold)).collect::<Vec<_>>(),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let this_quarter = Quarter::of(aidant_core::insight::day_of_ms(aidant_store::now_ms()));
    let mut quarters = vec![context! { value => "all", label => "All cases", selected => quarter.is_none() }];
    let mut listed = this_quarter;
    for _ in 0..8 {
        quarters.push(context! { value => listed.code(), label => listed.label(), selected => quarter == Some(listed) });
        listed = listed.previous();
    }
    let data = context! {
        tables,
        suppressed => statistics.suppressed,
        threshold,
        cases => statistics.cases,
        may_choose => staff.can(Capability::Safeguarding),
        for_publication,
        quarters,
        quarter_label => statistics.quarter.map(Quarter::label),
        quarter_code => statistics.quarter.map_or_else(|| "all".to_owned(), Quarter::code),
        rg_share => statistics.reasonable_grounds_positive_share,
        cg_share => statistics.conclusive_grounds_positive_share,
        downloads => query.to_query(statistics.quarter),
        may_publish => staff.can(Capability::PublishStatistics),
    };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/victim_statistics.html", "Safeguarding statistics", "victims"), data))
}

/// Publishes the organisation's potential victims' data as CSV in the
/// CTDC's shape: k-anonymised (k = 11) or synthetic with differential
/// privacy, recorded in the disclosure log before it is returned.
pub async fn publish(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    cases::require(state.store(), &staff.caller, Capability::PublishStatistics).await?;
    let form = staff_form(&staff, &body)?;
    let Some(kind) = form.get("kind").and_then(aidant_store::cases::publication::PublicationKind::parse) else {
        return Err(WebError::Invalid(vec![aidant_core::report::FieldError {
            field: "kind".to_owned(),
            message: "Choose the k-anonymised file or the synthetic file".to_owned(),
        }]));
    };
    let published = aidant_store::cases::publication::publish(state.store(), &staff.caller, kind).await?;
    let day = aidant_core::insight::day_of_ms(aidant_store::now_ms());
    Ok(download("text/csv; charset=utf-8", &format!("aidant-victims-{}-{day}.csv", kind.as_str()), published.csv.into_bytes()))
}

/// The statistics' file name: `aidant-nrm-statistics-2026-Q3.csv`.
fn statistics_file(statistics: &victims::Statistics, extension: &str) -> String {
    let period = statistics.quarter.map_or_else(|| "all".to_owned(), Quarter::code);
    let publication = if statistics.suppressed { "" } else { "-exact" };
    format!("aidant-nrm-statistics-{period}{publication}.{extension}")
}

fn download(content_type: &str, name: &str, body: Vec<u8>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], body)
        .into_response()
}

/// Every table as CSV: the table, the row, then a column per age group.
pub async fn statistics_csv(State(state): State<AppState>, staff: Staff, Query(query): Query<StatisticsQuery>) -> WebResult {
    let statistics = victims::statistics(state.store(), &staff.caller, query.for_publication(), query.quarter()?).await?;
    let field = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let columns = statistics.tables.first().map(|table| table.column_labels.clone()).unwrap_or_default();
    let mut body = std::iter::once("Table").chain(std::iter::once("Row")).chain(columns.iter().map(String::as_str)).map(field).collect::<Vec<_>>().join(",");
    body.push_str("\r\n");
    for table in &statistics.tables {
        for (label, cells) in table.row_labels.iter().zip(&table.cells) {
            let mut line = vec![field(table.title), field(label)];
            line.extend(cells.iter().map(|cell| field(&cell_text(cell, statistics.threshold))));
            body.push_str(&line.join(","));
            body.push_str("\r\n");
        }
    }
    Ok(download("text/csv; charset=utf-8", &statistics_file(&statistics, "csv"), body.into_bytes()))
}

/// Every table as a sheet of an OpenDocument spreadsheet, counts as numbers.
pub async fn statistics_ods(State(state): State<AppState>, staff: Staff, Query(query): Query<StatisticsQuery>) -> WebResult {
    let statistics = victims::statistics(state.store(), &staff.caller, query.for_publication(), query.quarter()?).await?;
    let mut book = spreadsheet_ods::WorkBook::new_empty();
    for table in &statistics.tables {
        // Sheet names may not hold some characters and are kept short.
        let name: String = table.title.replace([':', '/', '\\', '?', '*', '[', ']'], "").chars().take(31).collect();
        let mut sheet = spreadsheet_ods::Sheet::new(name);
        sheet.set_value(0, 0, table.title);
        for (column, label) in table.column_labels.iter().enumerate() {
            sheet.set_value(1, column as u32 + 1, label.as_str());
        }
        for (row, (label, cells)) in table.row_labels.iter().zip(&table.cells).enumerate() {
            let row = row as u32 + 2;
            sheet.set_value(row, 0, label.as_str());
            for (column, cell) in cells.iter().enumerate() {
                match cell {
                    Cell::Count(count) => sheet.set_value(row, column as u32 + 1, i64::try_from(*count).unwrap_or(i64::MAX)),
                    Cell::Suppressed => sheet.set_value(row, column as u32 + 1, cell_text(cell, statistics.threshold)),
                }
            }
        }
        book.push_sheet(sheet);
    }
    let bytes = spreadsheet_ods::write_ods_buf(&mut book, Vec::new()).map_err(|error| {
        tracing::error!(error = %error, "the statistics spreadsheet could not be written");
        WebError::Internal
    })?;
    Ok(download("application/vnd.oasis.opendocument.spreadsheet", &statistics_file(&statistics, "ods"), bytes))
}

/// What a record's page shows of the cases it concerns: the cases (under
/// their pseudonyms) and whether the viewer may open one from it.
pub async fn record_cases(state: &AppState, staff: &Staff, source: CaseSource) -> WebResult<Value> {
    let cases = victims::cases_of_record(state.store(), &staff.caller, &source).await?;
    let query = match &source {
        CaseSource::Report(id) => format!("report={id}"),
        CaseSource::Intelligence(id) => format!("intelligence={id}"),
        CaseSource::Entity(id) => format!("entity={id}"),
        CaseSource::FieldRecord(id) => format!("field_record={id}"),
    };
    Ok(context! {
        victim_cases => cases.iter().map(|(id, pseudonym)| context! { id => id.to_string(), pseudonym => pseudonym.clone() }).collect::<Vec<_>>(),
        can_open_case => staff.can(Capability::Safeguarding),
        victim_source => query,
    })
}
