//! People on entity pages: every name, date of birth and nationality the
//! viewer's records give a person, why the linker holds those records
//! together, and analysts' decisions ("same person", "not the same person",
//! "take this record out"), which a supervisor can undo.
//!
//! A person is shown only through records the viewer may read: the names
//! come from those records, a link is explained only between two of them,
//! and a decision is listed only when the viewer may read every record it
//! names. A decision can name only records the decider may read.

use std::collections::{BTreeSet, HashMap};

use aidant_core::ids::{EntityId, UserId};
use aidant_core::intelligence::PersonRole;
use aidant_core::intelligence::limits::REASON;
use aidant_core::policy::Capability;
use aidant_core::text::{BoundedText, Lines};
use aidant_link::mentions::ValueKind;

use super::entities::visible_records;
use super::{Caller, CaseError, CaseResult, require};
use crate::entities::{Entity, Mention, MentionRecord, load_entities, load_mentions_of};
use crate::people::{DecisionError, DecisionKind, LinkPart, NamedPerson, PersonDetails, load_people_by_id};
use crate::{Store, StoreError};

/// A record's account of the person.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonSeen {
    /// The linker's record id, which decisions name.
    pub person_record: String,
    pub record: MentionRecord,
    pub record_id: String,
    /// The record's reference, and which person of it: "INT-ABC-123, person 2".
    pub label: String,
    pub details: PersonDetails,
    pub seen_at_ms: i64,
}

/// Why two of the person's records are linked.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonView {
    pub left: String,
    pub right: String,
    pub probability: f64,
    pub parts: Vec<LinkPart>,
}

/// A decision about the person, as the page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionView {
    pub id: String,
    pub kind: DecisionKind,
    /// The records it names, by label.
    pub records: Vec<String>,
    pub reason: String,
    pub decided_by: String,
    pub decided_at_ms: i64,
    pub undone_by: Option<String>,
    pub undone_at_ms: Option<i64>,
}

/// The person part of an entity page.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonView {
    /// Newest first.
    pub seen: Vec<PersonSeen>,
    /// Strongest first.
    pub reasons: Vec<ReasonView>,
    /// Newest first, undone ones included.
    pub decisions: Vec<DecisionView>,
    pub may_decide: bool,
    pub may_undo: bool,
}

impl PersonView {
    /// The name to show the person by: the newest a visible record gives.
    pub fn name(&self) -> Option<&str> {
        self.seen.first().map(|seen| seen.details.name.as_str())
    }
}

/// The record and position a linker record id names.
fn parse_person_record(id: &str) -> Option<(MentionRecord, &str, i64)> {
    let (kind, rest) = id.split_once(':')?;
    let (record_id, position) = rest.rsplit_once(':')?;
    let record = match kind {
        "intelligence" => MentionRecord::Intelligence,
        "report" => MentionRecord::Report,
        _ => return None,
    };
    Some((record, record_id, position.parse().ok()?))
}

/// The people (by linker record id) the caller may read, each opened, with
/// a label naming its record.
async fn readable_people(store: &Store, caller: &Caller, ids: &BTreeSet<String>) -> CaseResult<HashMap<String, (NamedPerson, String)>> {
    let records: BTreeSet<(MentionRecord, String)> =
        ids.iter().filter_map(|id| parse_person_record(id)).map(|(record, record_id, _)| (record, record_id.to_owned())).collect();
    let visible = visible_records(store, caller, &records).await?;
    let wanted: Vec<&str> = ids
        .iter()
        .filter(|id| parse_person_record(id).is_some_and(|(record, record_id, _)| visible.contains_key(&(record, record_id.to_owned()))))
        .map(String::as_str)
        .collect();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let people = load_people_by_id(store.keyring()?, &mut connection, &wanted).await?;
    Ok(people
        .into_iter()
        .filter_map(|person| {
            let (reference, _) = visible.get(&(person.record, person.record_id.clone()))?;
            let label = format!("{reference}, person {}", person.position);
            Some((person.id.clone(), (person, label)))
        })
        .collect())
}

/// The person part of `entity`'s page, from its `mentions` in records the
/// caller may see.
pub(crate) async fn person_view(store: &Store, caller: &Caller, mentions: &[Mention]) -> CaseResult<PersonView> {
    let ids: BTreeSet<String> = mentions
        .iter()
        .filter_map(|mention| {
            let position: i64 = mention.field.strip_prefix("people.")?.parse().ok()?;
            Some(crate::people::person_record_id(mention.record, &mention.record_id, position))
        })
        .collect();
    let readable = readable_people(store, caller, &ids).await?;
    let seen_at: HashMap<(MentionRecord, &str), i64> =
        mentions.iter().map(|mention| ((mention.record, mention.record_id.as_str()), mention.seen_at_ms)).collect();
    let mut seen: Vec<PersonSeen> = readable
        .values()
        .map(|(person, label)| PersonSeen {
            person_record: person.id.clone(),
            record: person.record,
            record_id: person.record_id.clone(),
            label: label.clone(),
            details: person.details.clone(),
            seen_at_ms: seen_at.get(&(person.record, person.record_id.as_str())).copied().unwrap_or_default(),
        })
        .collect();
    seen.sort_by(|left, right| right.seen_at_ms.cmp(&left.seen_at_ms).then(left.person_record.cmp(&right.person_record)));
    let visible_ids: Vec<&str> = seen.iter().map(|seen| seen.person_record.as_str()).collect();
    let label_of = |id: &str| readable.get(id).map(|(_, label)| label.clone());
    let reasons = store
        .explain_person(&visible_ids)
        .await
        .map_err(link_error)?
        .into_iter()
        .filter_map(|reason| {
            Some(ReasonView { left: label_of(&reason.left)?, right: label_of(&reason.right)?, probability: reason.probability, parts: reason.parts })
        })
        .collect();
    let decisions = decision_views(store, caller, &visible_ids).await?;
    Ok(PersonView { seen, reasons, decisions, may_decide: caller.can(Capability::DecidePeople), may_undo: caller.can(Capability::UndoPeopleDecision) })
}

/// The decisions about `person_records` whose every record the caller may read.
async fn decision_views(store: &Store, caller: &Caller, person_records: &[&str]) -> CaseResult<Vec<DecisionView>> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let decisions = store.decisions_about(&mut connection, person_records).await?;
    drop(connection);
    let named: BTreeSet<String> = decisions.iter().flat_map(|decision| [Some(decision.record_a.clone()), decision.record_b.clone()]).flatten().collect();
    let readable = readable_people(store, caller, &named).await?;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut views = Vec::new();
    for decision in decisions {
        let records: Option<Vec<String>> =
            [Some(&decision.record_a), decision.record_b.as_ref()].into_iter().flatten().map(|id| readable.get(id).map(|(_, label)| label.clone())).collect();
        let Some(records) = records else { continue };
        let decided_by = user_name(store, &mut names, &decision.decided_by).await?;
        let undone_by = match &decision.undone_by {
            Some(actor) => Some(user_name(store, &mut names, actor).await?),
            None => None,
        };
        views.push(DecisionView {
            id: decision.id,
            kind: decision.kind,
            records,
            reason: decision.reason,
            decided_by,
            decided_at_ms: decision.decided_at_ms,
            undone_by,
            undone_at_ms: decision.undone_at_ms,
        });
    }
    Ok(views)
}

/// A stored actor as a person's name.
async fn user_name(store: &Store, names: &mut HashMap<String, String>, actor: &str) -> CaseResult<String> {
    if let Some(name) = names.get(actor) {
        return Ok(name.clone());
    }
    let user = match actor.strip_prefix("user:").and_then(|id| UserId::parse(id).ok()) {
        Some(user_id) => store.find_user(&user_id).await?,
        None => None,
    };
    let name = user.map_or_else(|| "An operator".to_owned(), |user| user.display_name);
    names.insert(actor.to_owned(), name.clone());
    Ok(name)
}

fn link_error(error: crate::link_records::LinkError) -> CaseError {
    match error {
        crate::link_records::LinkError::Store(error) => CaseError::Store(error),
        other => CaseError::Store(StoreError::Corrupt(other.to_string())),
    }
}

/// What an analyst asks for on a person's page.
#[derive(Debug, Clone, Default)]
pub struct DecisionRequest<'a> {
    /// `same`, `apart` or `take_out`.
    pub kind: &'a str,
    /// A record of this person (a linker record id from the page).
    pub record: &'a str,
    /// For "not the same person": another record of this person.
    pub other_record: &'a str,
    /// For "same person": the other person's entity id.
    pub other_person: &'a str,
    pub reason: &'a str,
}

/// Records a decision about the person `entity_id`, after checking the
/// caller may decide and may read every record it names. Field errors name
/// the form's fields. Returns the person to show next (the same entity, or
/// the one it became part of).
pub async fn decide(store: &Store, caller: &Caller, entity_id: &EntityId, request: &DecisionRequest<'_>) -> CaseResult<EntityId> {
    require(store, caller, Capability::DecidePeople).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let entity = load_entities(store, &mut connection, std::slice::from_ref(entity_id)).await?.pop().ok_or(CaseError::NotFound)?;
    if entity.kind != ValueKind::Person {
        return Err(CaseError::NotFound);
    }
    let mentions = load_mentions_of(&mut connection, entity_id, 1_000).await?;
    drop(connection);
    let own: BTreeSet<String> = person_records_of(&mentions);
    let readable = readable_people(store, caller, &own).await?;
    if readable.is_empty() {
        return Err(CaseError::NotFound);
    }
    let mut errors = Vec::new();
    let kind = DecisionKind::parse(request.kind);
    if kind.is_none() {
        errors.push(field_error("kind", "Select what you have decided"));
    }
    let record = readable.contains_key(request.record).then_some(request.record);
    if record.is_none() {
        errors.push(field_error("record", "Select a record of this person"));
    }
    let reason = BoundedText::parse(request.reason, REASON, Lines::Multiple).ok();
    if reason.is_none() {
        errors.push(field_error("reason", format!("Enter why, in {REASON} characters or fewer")));
    }
    let other = match kind {
        Some(DecisionKind::Apart) => {
            let other = readable.contains_key(request.other_record).then_some(request.other_record.to_owned());
            if other.is_none() || other.as_deref() == record {
                errors.push(field_error("other_record", "Select another record of this person"));
            }
            other
        }
        Some(DecisionKind::Same) => {
            let other = other_person_record(store, caller, request.other_person, entity_id).await?;
            if other.is_none() {
                errors.push(field_error("other_person", "Enter the reference of another person you can see, from the address of their page"));
            }
            other
        }
        _ => None,
    };
    let (Some(kind), Some(record), Some(reason)) = (kind, record, reason) else { return Err(CaseError::Invalid(errors)) };
    if !errors.is_empty() {
        return Err(CaseError::Invalid(errors));
    }
    match store.decide_people(kind, record, other.as_deref(), reason.as_str(), &caller.audit_actor()).await {
        Ok(_) => {}
        Err(DecisionError::Contradicts) => {
            return Err(CaseError::invalid("kind", "Another decision in force says the opposite: ask a supervisor to undo it first"));
        }
        Err(DecisionError::UnknownRecord | DecisionError::SameRecord) => return Err(CaseError::invalid("record", "Select a record of this person")),
        Err(other) => return Err(decision_error(other)),
    }
    person_of_record(store, record).await.map(|found| found.unwrap_or_else(|| entity_id.clone()))
}

/// Undoes a decision the caller may see, as a supervisor; returns the
/// person to show next.
pub async fn undo(store: &Store, caller: &Caller, entity_id: &EntityId, decision_id: &str) -> CaseResult<EntityId> {
    require(store, caller, Capability::UndoPeopleDecision).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mentions = load_mentions_of(&mut connection, entity_id, 1_000).await?;
    drop(connection);
    let own: Vec<String> = person_records_of(&mentions).into_iter().collect();
    let own: Vec<&str> = own.iter().map(String::as_str).collect();
    let visible = decision_views(store, caller, &own).await?;
    let Some(decision) = visible.iter().find(|decision| decision.id == decision_id && decision.undone_at_ms.is_none()) else {
        return Err(CaseError::NotFound);
    };
    let first_record = own.first().copied().map(str::to_owned);
    store.undo_person_decision(&decision.id, &caller.audit_actor()).await.map_err(decision_error)?;
    match first_record {
        Some(record) => person_of_record(store, &record).await.map(|found| found.unwrap_or_else(|| entity_id.clone())),
        None => Ok(entity_id.clone()),
    }
}

fn field_error(field: &str, message: impl Into<String>) -> aidant_core::report::FieldError {
    aidant_core::report::FieldError { field: field.to_owned(), message: message.into() }
}

fn decision_error(error: DecisionError) -> CaseError {
    match error {
        DecisionError::Link(error) => link_error(error),
        DecisionError::UnknownDecision | DecisionError::AlreadyUndone => CaseError::NotFound,
        other => CaseError::Store(StoreError::Corrupt(other.to_string())),
    }
}

/// The linker record ids of the people `mentions` name.
fn person_records_of(mentions: &[Mention]) -> BTreeSet<String> {
    mentions
        .iter()
        .filter_map(|mention| {
            let position: i64 = mention.field.strip_prefix("people.")?.parse().ok()?;
            Some(crate::people::person_record_id(mention.record, &mention.record_id, position))
        })
        .collect()
}

/// A record of another person that the caller may read (any one: a
/// decision joins whole people), from that person's entity id as typed (or
/// pasted as their page's address).
async fn other_person_record(store: &Store, caller: &Caller, typed: &str, this: &EntityId) -> CaseResult<Option<String>> {
    let typed = typed.trim().trim_end_matches('/');
    let typed = typed.rsplit('/').next().unwrap_or(typed);
    let Ok(other) = EntityId::parse(typed) else { return Ok(None) };
    if &other == this {
        return Ok(None);
    }
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let Some(entity) = load_entities(store, &mut connection, std::slice::from_ref(&other)).await?.pop() else { return Ok(None) };
    if entity.kind != ValueKind::Person {
        return Ok(None);
    }
    let mentions = load_mentions_of(&mut connection, &other, 1_000).await?;
    drop(connection);
    let readable = readable_people(store, caller, &person_records_of(&mentions)).await?;
    Ok(readable.into_keys().max())
}

/// The person entity a linker record is in now.
async fn person_of_record(store: &Store, person_record: &str) -> CaseResult<Option<EntityId>> {
    let Some((record, record_id, position)) = parse_person_record(person_record) else { return Ok(None) };
    let id: Option<String> = sqlx::query_scalar(
        "SELECT m.entity_id FROM entity_mentions m JOIN entities e ON e.id = m.entity_id
         WHERE m.record_kind = $1 AND m.record_id = $2 AND m.field = $3 AND e.kind = 'person'",
    )
    .bind(record.as_str())
    .bind(record_id)
    .bind(crate::people::person_field(position))
    .fetch_optional(&store.pool)
    .await?;
    Ok(id.and_then(|id| EntityId::parse(&id).ok()))
}

/// Gives each person in `entities` a name from a record the caller may
/// read, so no page shows a spelling only an unseen record holds; a person
/// with none keeps a neutral label.
pub(crate) async fn name_people(store: &Store, caller: &Caller, entities: &mut [Entity]) -> CaseResult<()> {
    if !entities.iter().any(|entity| entity.kind == ValueKind::Person) {
        return Ok(());
    }
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mut wanted: HashMap<EntityId, BTreeSet<String>> = HashMap::new();
    for entity in entities.iter().filter(|entity| entity.kind == ValueKind::Person) {
        let mentions = load_mentions_of(&mut connection, &entity.id, 50).await?;
        wanted.insert(entity.id.clone(), person_records_of(&mentions));
    }
    drop(connection);
    let all: BTreeSet<String> = wanted.values().flatten().cloned().collect();
    let readable = readable_people(store, caller, &all).await?;
    for entity in entities.iter_mut().filter(|entity| entity.kind == ValueKind::Person) {
        let name = wanted.get(&entity.id).and_then(|ids| ids.iter().rev().find_map(|id| readable.get(id))).map(|(person, _)| person.details.name.clone());
        entity.label = name.unwrap_or_else(|| "A person".to_owned());
        entity.value = String::new();
    }
    Ok(())
}

/// The people a record names, for its page (the caller may read the
/// record), each with the person entity it is filed under.
pub(crate) async fn people_of_record(
    store: &Store,
    connection: &mut sqlx::AnyConnection,
    record: MentionRecord,
    record_id: &str,
) -> CaseResult<Vec<(PersonDetails, Option<EntityId>)>> {
    let people = crate::people::load_people(store, connection, record, &[record_id]).await?;
    let entities = people_of_records(store, &people.iter().collect::<Vec<_>>()).await?;
    Ok(people
        .into_iter()
        .map(|person| {
            let entity = entities.get(&person.id).cloned();
            (person.details, entity)
        })
        .collect())
}

/// People found by name: those whose names hold every word of `query`
/// (folded, so "popescu" finds "POPESCU" and "Ştefan" "Stefan"), through
/// records the caller may read, each named as such a record names them.
/// At most [`PEOPLE_FOUND`].
pub async fn people_by_name(store: &Store, caller: &Caller, query: &str) -> CaseResult<Vec<(EntityId, String)>> {
    require(store, caller, Capability::Search).await?;
    let ids: BTreeSet<String> = crate::people::people_named(store, query, 200).await?.into_iter().collect();
    let readable = readable_people(store, caller, &ids).await?;
    let mut newest_first: Vec<&NamedPerson> = readable.values().map(|(person, _)| person).collect();
    newest_first.sort_by(|left, right| right.id.cmp(&left.id));
    let entities = people_of_records(store, &newest_first).await?;
    let mut found: Vec<(EntityId, String)> = Vec::new();
    for person in newest_first {
        if found.len() >= PEOPLE_FOUND {
            break;
        }
        if let Some(entity) = entities.get(&person.id)
            && !found.iter().any(|(seen, _)| seen == entity)
        {
            found.push((entity.clone(), person.details.name.clone()));
        }
    }
    Ok(found)
}

/// The person entity each of `people` is filed under, in one read per 300.
async fn people_of_records(store: &Store, people: &[&NamedPerson]) -> CaseResult<HashMap<String, EntityId>> {
    use sqlx::Row;
    let mut found = HashMap::new();
    for chunk in people.chunks(300) {
        let conditions: Vec<String> = (0..chunk.len())
            .map(|position| format!("(m.record_kind = ${} AND m.record_id = ${} AND m.field = ${})", position * 3 + 1, position * 3 + 2, position * 3 + 3))
            .collect();
        let statement = format!(
            "SELECT m.entity_id, m.record_kind, m.record_id, m.field FROM entity_mentions m JOIN entities e ON e.id = m.entity_id
             WHERE e.kind = 'person' AND ({})",
            conditions.join(" OR ")
        );
        let mut query = sqlx::query(&statement);
        for person in chunk {
            query = query.bind(person.record.as_str()).bind(&person.record_id).bind(person.field());
        }
        for row in query.fetch_all(&store.pool).await? {
            let record = MentionRecord::parse(&row.try_get::<String, _>("record_kind")?)?;
            let record_id: String = row.try_get("record_id")?;
            let field: String = row.try_get("field")?;
            let Some(position) = field.strip_prefix("people.").and_then(|position| position.parse().ok()) else { continue };
            found.insert(crate::people::person_record_id(record, &record_id, position), crate::named(&row, "entity_id")?);
        }
    }
    Ok(found)
}

/// People a name search lists.
pub const PEOPLE_FOUND: usize = 20;

/// Which of the given people every record the caller may read names only
/// as a potential victim: such a person is no player in a group, however
/// central the records make them.
pub(crate) async fn named_only_as_victims(store: &Store, caller: &Caller, entities: &[&EntityId]) -> CaseResult<BTreeSet<EntityId>> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mut records_of: Vec<(EntityId, BTreeSet<String>)> = Vec::with_capacity(entities.len());
    for entity in entities {
        let mentions = load_mentions_of(&mut connection, entity, 50).await?;
        records_of.push(((*entity).clone(), person_records_of(&mentions)));
    }
    drop(connection);
    let all: BTreeSet<String> = records_of.iter().flat_map(|(_, records)| records.iter().cloned()).collect();
    let readable = readable_people(store, caller, &all).await?;
    Ok(records_of
        .into_iter()
        .filter(|(_, records)| {
            let roles: Vec<PersonRole> = records.iter().filter_map(|id| readable.get(id)).map(|(person, _)| person.details.role).collect();
            !roles.is_empty() && roles.iter().all(|role| *role == PersonRole::PotentialVictim)
        })
        .map(|(entity, _)| entity)
        .collect())
}
