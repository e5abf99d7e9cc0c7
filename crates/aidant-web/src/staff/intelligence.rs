//! Intelligence records: created from a report or directly, graded 3x5x2
//! (or 5x5x5 for historic records), shared with named organisations, and a
//! restricted source that only the originating unit reads, with a reason.

use aidant_core::grading::{Grading, IntelligenceAssessment, SourceEvaluation};
use aidant_core::ids::{IntelligenceId, OrganisationId, ReportId};
use aidant_core::intelligence::limits::PEOPLE;
use aidant_core::intelligence::limits::REASON;
use aidant_core::intelligence::{IntelligenceAnswers, NewIntelligence, PersonAnswer, PersonRole, person_field};
use aidant_core::policy::{Action, Capability, Handling};
use aidant_core::text::{BoundedText, Lines};
use aidant_store::cases::intelligence::IntelligenceView;
use aidant_store::cases::{self, CaseError};
use aidant_store::intelligence::{IntelligenceRecord, SourceDetails};
use aidant_store::organisations::Organisation;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;

use super::{Staff, StaffPage, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};

/// How many of the newest records the list looks at.
const LIST_LIMIT: i64 = 200;

pub async fn list(State(state): State<AppState>, staff: Staff) -> WebResult {
    let records = cases::intelligence::list_intelligence(state.store(), &staff.caller, LIST_LIMIT).await?;
    let rows: Vec<Value> = records.iter().map(|record| summary(record, &staff)).collect();
    let data = context! { rows, can_create => staff.can(Capability::CreateIntelligence) };
    Ok(render(&state, Some(&staff), StaffPage::new("staff/intelligence_list.html", "Intelligence", "intelligence"), data))
}

fn summary(record: &IntelligenceRecord, staff: &Staff) -> Value {
    context! {
        id => record.id.to_string(),
        reference => record.reference.clone(),
        title => record.title.clone(),
        grading => record.grading.code(),
        created => format_time(record.created_at_ms),
        ours => record.owner_organisation_id == staff.organisation.id,
        review_on => record.review_on.clone(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    report: Option<String>,
    /// A record made in the field during an operation, drafted as this record.
    field_record: Option<String>,
}

/// The report a record is developed from, if one is named.
async fn source_report(state: &AppState, staff: &Staff, report_id: Option<&str>) -> WebResult<Option<(ReportId, String)>> {
    let Some(report_id) = report_id.filter(|id| !id.is_empty()) else { return Ok(None) };
    let not_found = |error: WebError| error.or_not_found_as("Report not found", "There is no report at this address.");
    let report_id: ReportId = path_id(report_id).map_err(not_found)?;
    let report = cases::reports::report_to_develop(state.store(), &staff.caller, &report_id).await;
    Ok(Some(report.map_err(|error| WebError::from(error).or_not_found_as("Report not found", "There is no report at this address."))?))
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    report: Option<(ReportId, String)>,
    organisations: &[Organisation],
    form: &FormData,
    errors: Vec<PageError>,
) -> Response {
    let mut page = StaffPage::new("staff/intelligence_new.html", "New intelligence record", "intelligence");
    page.errors = errors;
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let data = context! {
        report_id => report.as_ref().map(|(id, _)| id.to_string()),
        report_reference => report.as_ref().map(|(_, reference)| reference.clone()),
        values => context! {
            title => value("title"),
            scheme => form.get("scheme").unwrap_or("3x5x2"),
            source => value("source"),
            intelligence => value("intelligence"),
            handling => value("handling"),
            legacy_source => value("legacy_source"),
            legacy_intelligence => value("legacy_intelligence"),
            legacy_handling => value("legacy_handling"),
            conditions_text => value("conditions_text"),
            recipients => form.all("recipients"),
            share_with => form.all("share_with"),
            no_onward_sharing => form.get("no_onward_sharing").is_some(),
            originator_consent => form.get("originator_consent").is_some(),
            expires_on => value("expires_on"),
            sanitised_text => value("sanitised_text"),
            source_identity => value("source_identity"),
            source_text => value("source_text"),
            review_on => value("review_on"),
        },
        people => people_rows(form),
        people_open => (3..=PEOPLE).any(|number| ["name", "date_of_birth", "nationality", "role"].iter().any(|part| !form.get(&format!("person_{number}_{part}")).unwrap_or_default().is_empty())),
        roles => PersonRole::ALL.iter().map(|role| context! { value => role.code(), label => role.label() }).collect::<Vec<_>>(),
        sources => SourceEvaluation::ALL.iter().map(|grade| context! { value => grade.code(), label => format!("{} – {}", grade.code(), grade.label()) }).collect::<Vec<_>>(),
        assessments => IntelligenceAssessment::ALL.iter().map(|grade| context! { value => grade.code(), label => format!("{} – {}", grade.code(), grade.label()) }).collect::<Vec<_>>(),
        organisations => organisations.iter().map(|organisation| context! { value => organisation.id.to_string(), label => organisation.name.clone() }).collect::<Vec<_>>(),
    };
    render(state, Some(staff), page, data)
}

/// The "people named" rows as typed, for the form.
fn people_rows(form: &FormData) -> Vec<Value> {
    (0..PEOPLE)
        .map(|position| {
            let value = |part: &str| form.get(&person_field(position, part)).unwrap_or_default().to_owned();
            context! {
                number => position + 1,
                name => value("name"),
                date_of_birth => value("date_of_birth"),
                nationality => value("nationality"),
                role => value("role"),
            }
        })
        .collect()
}

pub async fn new_form(State(state): State<AppState>, staff: Staff, Query(query): Query<NewQuery>) -> WebResult {
    let organisations = cases::intelligence::recipient_choices(state.store(), &staff.caller).await?;
    let report = source_report(&state, &staff, query.report.as_deref()).await?;
    let draft = match query.field_record.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => {
            let id: aidant_core::ids::FieldRecordId =
                path_id(id).map_err(|error| error.or_not_found_as("Record not found", "There is no field record at this address."))?;
            let (title, text) = cases::operations::intelligence_draft(state.store(), &staff.caller, &id, state.catalogue())
                .await
                .map_err(|error| WebError::from(error).or_not_found_as("Record not found", "There is no field record at this address."))?;
            FormData::from_pairs(vec![("title".into(), title), ("sanitised_text".into(), text)])
        }
        None => FormData::default(),
    };
    Ok(form_page(&state, &staff, report, &organisations, &draft, Vec::new()))
}

pub async fn create(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    let organisations = cases::intelligence::recipient_choices(state.store(), &staff.caller).await?;
    let form = staff_form(&staff, &body)?;
    let report = source_report(&state, &staff, form.get("report_id")).await?;
    let value = |name: &str| form.get(name).unwrap_or_default();
    let answers = IntelligenceAnswers {
        title: value("title"),
        scheme: value("scheme"),
        source: value("source"),
        intelligence: value("intelligence"),
        handling: value("handling"),
        legacy_source: value("legacy_source"),
        legacy_intelligence: value("legacy_intelligence"),
        legacy_handling: value("legacy_handling"),
        conditions_text: value("conditions_text"),
        recipients: form.all("recipients"),
        no_onward_sharing: form.get("no_onward_sharing").is_some(),
        originator_consent: form.get("originator_consent").is_some(),
        expires_on: value("expires_on"),
        sanitised_text: value("sanitised_text"),
        source_identity: value("source_identity"),
        source_text: value("source_text"),
        review_on: value("review_on"),
        people: (0..PEOPLE)
            .map(|position| PersonAnswer {
                name: value(&person_field(position, "name")),
                date_of_birth: value(&person_field(position, "date_of_birth")),
                nationality: value(&person_field(position, "nationality")),
                role: value(&person_field(position, "role")),
            })
            .collect(),
    };
    let new = match NewIntelligence::parse(&answers, &cases::intelligence::choice_ids(&organisations)) {
        Ok(new) => new,
        Err(errors) => return Ok(form_page(&state, &staff, report, &organisations, &form, page_errors(errors))),
    };
    let report_id = report.as_ref().map(|(id, _)| id);
    let mut share_with = Vec::new();
    for raw in form.all("share_with") {
        match raw.parse::<OrganisationId>() {
            Ok(id) if organisations.iter().any(|organisation| organisation.id == id) => share_with.push(id),
            _ => {
                let error = PageError::new("share_with", "Select organisations to share with from the list");
                return Ok(form_page(&state, &staff, report, &organisations, &form, vec![error]));
            }
        }
    }
    match cases::intelligence::create_intelligence(state.store(), &staff.caller, report_id, &new, &share_with).await {
        Ok((id, _)) => Ok(see_other(&format!("/staff/intelligence/{id}"))),
        Err(CaseError::Invalid(errors)) => Ok(form_page(&state, &staff, report, &organisations, &form, page_errors(errors))),
        Err(error) => Err(error.into()),
    }
}

fn record_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as("Record not found", "There is no intelligence record at this address.")
}

pub async fn show(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> WebResult {
    let id: IntelligenceId = path_id(&id).map_err(record_not_found)?;
    let view = cases::intelligence::view_intelligence(state.store(), &staff.caller, &id).await.map_err(record_not_found)?;
    let victims = super::victims::record_cases(&state, &staff, aidant_store::cases::victims::CaseSource::Intelligence(id)).await?;
    Ok(render_record(&state, &staff, view, Vec::new(), None, victims))
}

fn render_record(state: &AppState, staff: &Staff, view: IntelligenceView, errors: Vec<PageError>, source: Option<SourceDetails>, victims: Value) -> Response {
    let IntelligenceView { record, permissions, visible_report_id, organisations, share_targets, entities, people } = view;
    let names: Vec<(String, aidant_core::ids::EntityId)> = people.iter().filter_map(|(person, entity)| Some((person.name.clone(), entity.clone()?))).collect();
    let name_of = |id: &OrganisationId| {
        organisations
            .iter()
            .find(|organisation| &organisation.id == id)
            .map_or_else(|| "Unknown organisation".to_owned(), |organisation| organisation.name.clone())
    };
    let (grading_lines, conditions) = match &record.grading {
        Grading::ThreeFiveTwo { source, intelligence, handling, conditions_text } => {
            let lines = vec![
                format!("Source evaluation {}: {}", source.code(), source.label()),
                format!("Intelligence assessment {}: {}", intelligence.code(), intelligence.label()),
                match handling {
                    Handling::Permitted => "Handling code P: lawful sharing permitted".to_owned(),
                    Handling::Conditional(_) => "Handling code C: lawful sharing permitted with conditions".to_owned(),
                },
            ];
            let conditions = match handling {
                Handling::Conditional(conditions) => Some(context! {
                    text => conditions_text.clone(),
                    recipients => conditions.recipient_organisations.iter().map(&name_of).collect::<Vec<_>>(),
                    no_onward_sharing => conditions.no_onward_sharing,
                    originator_consent => conditions.originator_consent_required,
                    expires => conditions.expires_at_ms.map(format_time),
                }),
                Handling::Permitted => None,
            };
            (lines, conditions)
        }
        Grading::Legacy5x5x5 { source, intelligence, handling } => (
            vec![
                format!("Historic 5x5x5 grading, kept as recorded: source {source}, intelligence {intelligence}, handling {handling}"),
                "5x5x5 grades are not converted to 3x5x2; regrade when the record is next reviewed.".to_owned(),
            ],
            None,
        ),
    };
    let share_targets: Vec<Value> =
        share_targets.iter().map(|organisation| context! { value => organisation.id.to_string(), label => organisation.name.clone() }).collect();
    let data = context! {
        id => record.id.to_string(),
        reference => record.reference.clone(),
        title => record.title.clone(),
        grading => record.grading.code(),
        grading_lines,
        conditions,
        sanitised_text => super::entities::linked_text_with_names(&record.sanitised_text, &entities, &names),
        owner => name_of(&record.owner_organisation_id),
        ours => record.owner_organisation_id == staff.organisation.id,
        created => format_time(record.created_at_ms),
        review_on => record.review_on.clone(),
        report_id => visible_report_id.map(|id| id.to_string()),
        shares => record.shared_with.iter().map(|share| context! { name => share.organisation_name.clone(), when => format_time(share.shared_at_ms) }).collect::<Vec<_>>(),
        share_targets,
        can_share => permissions.share,
        can_read_source => permissions.read_source,
        can_audit => permissions.read_audit,
        source => source.map(|source| context! { identity => source.identity, text => source.text }),
        entities => super::entities::entity_lines(&entities),
        people => super::entities::people_lines(&people),
    };
    let mut page = StaffPage::new("staff/intelligence.html", format!("Intelligence {}", record.reference), "intelligence");
    page.errors = errors;
    let data = context! { ..data, ..victims };
    render(state, Some(staff), page, data)
}

pub async fn share(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: IntelligenceId = path_id(&id).map_err(record_not_found)?;
    cases::intelligence::check_intelligence(state.store(), &staff.caller, &id, Action::ShareIntelligence).await.map_err(record_not_found)?;
    let form = staff_form(&staff, &body)?;
    let organisation_id = form.text("organisation");
    let outcome = match organisation_id.map(|text| text.parse::<OrganisationId>()) {
        Some(Err(_)) => Err(CaseError::invalid("organisation", "Select an organisation from the list")),
        organisation_id => cases::intelligence::share_intelligence(state.store(), &staff.caller, &id, organisation_id.and_then(Result::ok).as_ref()).await,
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/staff/intelligence/{id}"))),
        Err(CaseError::Invalid(errors)) => {
            let view = cases::intelligence::view_intelligence(state.store(), &staff.caller, &id).await.map_err(record_not_found)?;
            Ok(render_record(
                &state,
                &staff,
                view,
                page_errors(errors),
                None,
                super::victims::record_cases(&state, &staff, aidant_store::cases::victims::CaseSource::Intelligence(id.clone())).await?,
            ))
        }
        Err(error) => Err(record_not_found(error)),
    }
}

pub async fn read_source(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, body: Bytes) -> WebResult {
    let id: IntelligenceId = path_id(&id).map_err(record_not_found)?;
    cases::intelligence::check_intelligence(state.store(), &staff.caller, &id, Action::ViewSourceText).await.map_err(record_not_found)?;
    let form = staff_form(&staff, &body)?;
    let Ok(reason) = BoundedText::parse(form.get("reason").unwrap_or_default(), REASON, Lines::Single) else {
        let view = cases::intelligence::view_intelligence(state.store(), &staff.caller, &id).await.map_err(record_not_found)?;
        return Ok(render_record(
            &state,
            &staff,
            view,
            vec![PageError::new("reason", "Enter why you need to read the source details")],
            None,
            super::victims::record_cases(&state, &staff, aidant_store::cases::victims::CaseSource::Intelligence(id.clone())).await?,
        ));
    };
    let (view, source) = cases::intelligence::read_source(state.store(), &staff.caller, &id, &reason).await.map_err(record_not_found)?;
    Ok(render_record(
        &state,
        &staff,
        view,
        Vec::new(),
        Some(source),
        super::victims::record_cases(&state, &staff, aidant_store::cases::victims::CaseSource::Intelligence(id.clone())).await?,
    ))
}
