//! Entity pages: a phone, vehicle, address, business, email or online
//! account with every record that mentions it which the user may see, and
//! what else those records mention. The use case (`cases::entities`) decides
//! what is visible and audits the view; this words it.

use aidant_core::ids::EntityId;
use aidant_store::cases;
use aidant_store::cases::CaseError;
use aidant_store::cases::entities::EntityView;
use aidant_store::cases::entities::MentionView;
use aidant_store::cases::people::{DecisionRequest, PersonView};
use aidant_store::entities::{Entity, MentionRecord, values_in_text};

use aidant_store::people::DecisionKind;
use axum::body::Bytes;
use axum::extract::{Path, State};
use minijinja::{Value, context};

use super::{Staff, StaffPage, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult, path_id};
use crate::html::form::FormData;
use crate::html::{PageError, see_other};
use axum::response::Response;

const ENTITY_NOT_FOUND: (&str, &str) =
    ("Entity not found", "There is no entity at this address that you can see. It may be mentioned only in records that were not shared with you.");

fn entity_not_found(error: impl Into<WebError>) -> WebError {
    error.into().or_not_found_as(ENTITY_NOT_FOUND.0, ENTITY_NOT_FOUND.1)
}

/// The part of a record a field name stands for, as a person says it.
pub fn field_label(field: &str) -> String {
    if field.starts_with("messages.") {
        return "The reporter's later message".to_owned();
    }
    if let Some(number) = field.strip_prefix("people.") {
        return format!("Person {number} named");
    }
    if let Some(rest) = field.strip_prefix("vehicles.") {
        return match rest.split_once('.') {
            Some((number, _)) => format!("Vehicle {number}, description"),
            None => format!("Vehicle {rest}"),
        };
    }
    match field {
        "postcode" => "Postcode",
        "business_name" => "Business",
        "narrative" => "In their words",
        "people_description" => "About the people",
        "location_description" => "Where",
        "title" => "Title",
        "sanitised_text" => "Sanitised text",
        other => other,
    }
    .to_owned()
}

/// An entity as a line with a link, for record pages and lists.
pub fn entity_line(entity: &Entity, fields: &[String]) -> Value {
    context! {
        id => entity.id.to_string(),
        kind => entity.kind.label(),
        label => entity.label.clone(),
        fields => fields.iter().map(|field| field_label(field)).collect::<Vec<_>>().join(", "),
    }
}

/// `text` in parts, each value the record's `entities` include linked to
/// its page where it is written (`{text, href}`), for the `linked` macro.
pub fn linked_text(text: &str, entities: &[(Entity, Vec<String>)]) -> Vec<Value> {
    linked_text_with_names(text, entities, &[])
}

/// `linked_text`, with each place the text writes a person's name as the
/// record names them (`names`: the name and their person's page) linked too.
pub fn linked_text_with_names(text: &str, entities: &[(Entity, Vec<String>)], names: &[(String, EntityId)]) -> Vec<Value> {
    let mut links: Vec<(std::ops::Range<usize>, String)> = values_in_text(text, None)
        .into_iter()
        .filter_map(|value| {
            let (entity, _) = entities.iter().find(|(entity, _)| entity.kind == value.kind && entity.value == value.key)?;
            Some((value.span, format!("/staff/entities/{}", entity.id)))
        })
        .collect();
    for (name, person) in names.iter().filter(|(name, _)| !name.trim().is_empty()) {
        links.extend(text.match_indices(name.as_str()).map(|(start, found)| (start..start + found.len(), format!("/staff/entities/{person}"))));
    }
    links.sort_by_key(|(span, _)| (span.start, std::cmp::Reverse(span.end)));
    let mut parts = Vec::new();
    let mut written = 0;
    for (span, href) in links {
        if span.start < written {
            continue;
        }
        if span.start > written {
            parts.push(context! { text => &text[written..span.start], href => None::<String> });
        }
        parts.push(context! { text => &text[span.clone()], href => href });
        written = span.end;
    }
    if written < text.len() {
        parts.push(context! { text => &text[written..], href => None::<String> });
    }
    parts
}

/// `text` in parts with the whole linked to the entity `field` names (a
/// structured answer: `postcode`, `business_name`, `vehicles.1`), if any.
pub fn linked_field(text: &str, field: &str, entities: &[(Entity, Vec<String>)]) -> Vec<Value> {
    match entities.iter().find(|(_, fields)| fields.iter().any(|named| named == field)) {
        Some((entity, _)) => vec![context! { text => text, href => format!("/staff/entities/{}", entity.id) }],
        None => vec![context! { text => text, href => None::<String> }],
    }
}

/// The people a record names, as table rows for its page.
pub fn people_lines(people: &[(aidant_store::people::PersonDetails, Option<EntityId>)]) -> Vec<Value> {
    people
        .iter()
        .map(|(person, entity)| {
            context! {
                name => person.name.clone(),
                date_of_birth => person.date_of_birth.clone(),
                nationality => person.nationality.clone(),
                role => person.role.label(),
                entity => entity.as_ref().map(ToString::to_string),
            }
        })
        .collect()
}

/// The entities a record mentions, as lines for its page.
pub fn entity_lines(entities: &[(Entity, Vec<String>)]) -> Vec<Value> {
    entities.iter().map(|(entity, fields)| entity_line(entity, fields)).collect()
}

/// A record that mentions an entity, as a table row.
fn mention_line(mention: &MentionView) -> Value {
    let (kind, path, reference) = match mention.record {
        // Reports are quoted as people write them (ACD-379-KMW).
        MentionRecord::Report => ("Report", "reports", super::queue::display_reference(&mention.reference)),
        MentionRecord::Intelligence => ("Intelligence", "intelligence", mention.reference.clone()),
    };
    context! {
        href => format!("/staff/{path}/{}", mention.record_id),
        record => format!("{kind} {reference}"),
        summary => mention.summary.clone(),
        fields => mention.fields.iter().map(|field| field_label(field)).collect::<Vec<_>>().join(", "),
        when => format_time(mention.seen_at_ms),
        read_from => if mention.confidence >= 1.0 { "An answer" } else { "Read from the text" },
    }
}

/// Starts (`watch=yes`) or stops watching an entity, then shows its page.
pub async fn watch(State(state): State<AppState>, staff: Staff, Path(entity_id): Path<String>, body: Bytes) -> WebResult {
    let entity_id: EntityId = path_id(&entity_id).map_err(entity_not_found)?;
    let form = staff_form(&staff, &body)?;
    let watch = form.text("watch").as_deref() == Some("yes");
    cases::entities::watch_entity(state.store(), &staff.caller, &entity_id, watch).await.map_err(entity_not_found)?;
    Ok(see_other(&format!("/staff/entities/{entity_id}")))
}

/// The entities the user watches, with the records that mention them which
/// arrived since the user last opened each one.
pub async fn watching(State(state): State<AppState>, staff: Staff) -> WebResult {
    let watched = cases::entities::watching(state.store(), &staff.caller).await?;
    let rows: Vec<Value> = watched
        .iter()
        .map(|watched| {
            context! {
                entity => entity_line(&watched.entity, &[]),
                since => format_time(watched.watched_at_ms),
                new_mentions => watched.new_mentions.iter().map(mention_line).collect::<Vec<_>>(),
            }
        })
        .collect();
    let new_count: usize = watched.iter().map(|watched| watched.new_mentions.len()).sum();
    let page = StaffPage::new("staff/watching.html", "Watching".to_owned(), "watching");
    Ok(render(&state, Some(&staff), page, context! { rows, new_count }))
}

pub async fn show_entity(State(state): State<AppState>, staff: Staff, Path(entity_id): Path<String>) -> WebResult {
    let entity_id: EntityId = path_id(&entity_id).map_err(entity_not_found)?;
    let view = cases::entities::view_entity(state.store(), &staff.caller, &entity_id).await.map_err(entity_not_found)?;
    if view.entity.id != entity_id {
        // A person found to be another: their page is the survivor's.
        return Ok(see_other(&format!("/staff/entities/{}", view.entity.id)));
    }
    let victims = person_cases(&state, &staff, &view).await?;
    // A person's cases, or a place's operations: never both.
    let extras = if victims.is_none() { site_forms(&state, &staff, &view).await? } else { victims };
    Ok(render_entity(&state, &staff, view, Vec::new(), &FormData::default(), extras))
}

/// For a business or an address: the operations the viewer plans that it
/// can be added to as a site.
async fn site_forms(state: &AppState, staff: &Staff, view: &EntityView) -> WebResult<Value> {
    use aidant_store::entities::ValueKind;
    if !matches!(view.entity.kind, ValueKind::Business | ValueKind::Address) {
        return Ok(Value::from(()));
    }
    let operations = cases::operations::operations_to_extend(state.store(), &staff.caller, cases::victims::today()).await?;
    if operations.is_empty() {
        return Ok(Value::from(()));
    }
    Ok(context! {
        site_operations => operations.iter().map(|operation| context! {
            id => operation.id.to_string(),
            name => operation.name.clone(),
            dates => super::operations::dates(operation),
        }).collect::<Vec<_>>(),
        site_sectors => state.catalogue().place_sectors().map(|sector| context! { value => sector.id.clone(), label => sector.place_label.clone() }).collect::<Vec<_>>(),
    })
}

/// For a person: the potential victims' cases about them, to those who may
/// know who the person is, and opening one.
async fn person_cases(state: &AppState, staff: &Staff, view: &EntityView) -> WebResult<Value> {
    if view.person.is_none() {
        return Ok(Value::from(()));
    }
    super::victims::record_cases(state, staff, aidant_store::cases::victims::CaseSource::Entity(view.entity.id.clone())).await
}

/// How a linker field is named on a person's page.
fn link_field_label(field: &str) -> &str {
    match field {
        "given_name" => "Given name",
        "family_name" => "Family name",
        "dob" => "Date of birth",
        "postcode" => "Postcode",
        "address" => "Address",
        "phone" => "Phone",
        "email" => "Email",
        "id_number" => "Identity document",
        "vrm" => "Vehicle",
        other => other,
    }
}

/// The person part of the page.
fn person_context(person: &PersonView, form: &FormData) -> Value {
    let seen: Vec<Value> = person
        .seen
        .iter()
        .map(|seen| {
            let path = match seen.record {
                MentionRecord::Report => "reports",
                MentionRecord::Intelligence => "intelligence",
            };
            context! {
                person_record => seen.person_record.clone(),
                label => seen.label.clone(),
                href => format!("/staff/{path}/{}", seen.record_id),
                name => seen.details.name.clone(),
                date_of_birth => seen.details.date_of_birth.clone(),
                nationality => seen.details.nationality.clone(),
                role => seen.details.role.label(),
            }
        })
        .collect();
    let reasons: Vec<Value> = person
        .reasons
        .iter()
        .map(|reason| {
            context! {
                left => reason.left.clone(),
                right => reason.right.clone(),
                probability => format!("{:.1}%", reason.probability * 100.0),
                parts => reason.parts.iter().map(|part| context! {
                    field => link_field_label(part.field),
                    level => part.level.clone(),
                    weight => part.weight.map_or_else(|| "counted in the household prior".to_owned(), |weight| format!("{weight:+.1}")),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let decisions: Vec<Value> = person
        .decisions
        .iter()
        .map(|decision| {
            context! {
                id => decision.id.clone(),
                kind => decision.kind.label(),
                records => decision.records.join(" and "),
                reason => decision.reason.clone(),
                decided_by => decision.decided_by.clone(),
                decided_at => format_time(decision.decided_at_ms),
                undone => decision.undone_at_ms.map(|at| format!("Undone by {} on {}", decision.undone_by.clone().unwrap_or_default(), format_time(at))),
            }
        })
        .collect();
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    context! {
        seen,
        reasons,
        decisions,
        may_decide => person.may_decide,
        may_undo => person.may_undo,
        values => context! {
            kind => value("kind"),
            record => value("record"),
            other_record => value("other_record"),
            other_person => value("other_person"),
            reason => value("reason"),
        },
        kinds => [DecisionKind::Same, DecisionKind::Apart, DecisionKind::TakeOut].iter().map(|kind| context! {
            value => kind.as_str(),
            label => match kind {
                DecisionKind::Same => "Same person as another person (give their reference below)",
                DecisionKind::Apart => "Not the same person: two of these records are different people",
                DecisionKind::TakeOut => "Take a record out: it is not this person",
            },
        }).collect::<Vec<_>>(),
    }
}

fn render_entity(state: &AppState, staff: &Staff, view: EntityView, errors: Vec<PageError>, form: &FormData, victims: Value) -> Response {
    let EntityView { entity, mentions, related, truncated, watched, person } = view;
    let records = mentions.len();
    let first_seen = mentions.iter().map(|mention| mention.seen_at_ms).min();
    let last_seen = mentions.iter().map(|mention| mention.seen_at_ms).max();
    let mentions: Vec<Value> = mentions.iter().map(mention_line).collect();
    let (hubs, related): (Vec<_>, Vec<_>) = related.into_iter().partition(|related| related.hub_reason.is_some());
    let line = |related: &cases::entities::Related| {
        context! {
            id => related.entity.id.to_string(),
            kind => related.entity.kind.label(),
            label => related.entity.label.clone(),
            shared => related.shared_records,
            hub_reason => related.hub_reason.clone(),
            relation => related.relation,
            first_seen => format_time(related.first_seen_ms),
            last_seen => format_time(related.last_seen_ms),
        }
    };
    let data = context! {
        kind => entity.kind.label(),
        label => entity.label.clone(),
        value => entity.value.clone(),
        records => records,
        first_seen => first_seen.map(format_time),
        last_seen => last_seen.map(format_time),
        mentions,
        related => related.iter().map(line).collect::<Vec<_>>(),
        hubs => hubs.iter().map(line).collect::<Vec<_>>(),
        truncated,
        id => entity.id.to_string(),
        watched,
        person => person.as_ref().map(|person| person_context(person, form)),
    };
    let data = context! { ..data, ..victims };
    let mut page = StaffPage::new("staff/entity.html", format!("{} {}", entity.kind.label(), entity.label), "search");
    page.errors = errors;
    render(state, Some(staff), page, data)
}

/// The records naming both an entity and another: the evidence for their relation.
pub async fn shared(State(state): State<AppState>, staff: Staff, Path((entity_id, other_id)): Path<(String, String)>) -> WebResult {
    let entity_id: EntityId = path_id(&entity_id).map_err(entity_not_found)?;
    let other_id: EntityId = path_id(&other_id).map_err(entity_not_found)?;
    let shared = cases::entities::shared_records(state.store(), &staff.caller, &entity_id, &other_id).await.map_err(entity_not_found)?;
    let line = |entity: &Entity| context! { id => entity.id.to_string(), kind => entity.kind.label(), label => entity.label.clone() };
    let data = context! {
        entity => line(&shared.entity),
        other => line(&shared.other),
        relation => shared.relation,
        records => shared.records.iter().map(mention_line).collect::<Vec<_>>(),
    };
    let page = StaffPage::new("staff/entity_shared.html", format!("{} and {}", shared.entity.label, shared.other.label), "search");
    Ok(render(&state, Some(&staff), page, data))
}

/// Records an analyst's decision about the person, then shows the person
/// the record is now in; a form with problems is shown again with them.
pub async fn decide(State(state): State<AppState>, staff: Staff, Path(entity_id): Path<String>, body: Bytes) -> WebResult {
    let entity_id: EntityId = path_id(&entity_id).map_err(entity_not_found)?;
    let form = staff_form(&staff, &body)?;
    let request = DecisionRequest {
        kind: form.get("kind").unwrap_or_default(),
        record: form.get("record").unwrap_or_default(),
        other_record: form.get("other_record").unwrap_or_default(),
        other_person: form.get("other_person").unwrap_or_default(),
        reason: form.get("reason").unwrap_or_default(),
    };
    match cases::people::decide(state.store(), &staff.caller, &entity_id, &request).await {
        Ok(next) => Ok(see_other(&format!("/staff/entities/{next}#decisions"))),
        Err(CaseError::Invalid(errors)) => {
            let view = cases::entities::view_entity(state.store(), &staff.caller, &entity_id).await.map_err(entity_not_found)?;
            let victims = person_cases(&state, &staff, &view).await?;
            Ok(render_entity(&state, &staff, view, page_errors(errors), &form, victims))
        }
        Err(error) => Err(entity_not_found(error)),
    }
}

/// Undoes a decision about the person (supervisors).
pub async fn undo_decision(State(state): State<AppState>, staff: Staff, Path((entity_id, decision_id)): Path<(String, String)>, body: Bytes) -> WebResult {
    let entity_id: EntityId = path_id(&entity_id).map_err(entity_not_found)?;
    staff_form(&staff, &body)?;
    let next = cases::people::undo(state.store(), &staff.caller, &entity_id, &decision_id).await.map_err(entity_not_found)?;
    Ok(see_other(&format!("/staff/entities/{next}#decisions")))
}
