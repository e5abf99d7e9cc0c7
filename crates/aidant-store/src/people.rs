//! People: the people records name, resolved into person entities by the
//! incremental linker (`link_records`), and analysts' decisions about them.
//!
//! A person a record names is a row of `record_people`, its details sealed,
//! with the linker's record id `<record kind>:<record id>:<position>`. The
//! entity worker links it (`Store::link_person_in`, inside the worker's
//! transaction) and files it as a mention of a person entity, an `entities`
//! row keyed by the linker's entity: when the linker merges two people, the
//! absorbed entity's mentions move to the survivor and its row points there
//! (`merged_into`), so a page or a watch held on it still leads somewhere.
//!
//! Analysts' decisions ("same", "apart", "take out") are rows of
//! `person_decisions`, never deleted: undoing one stamps it. Each decision,
//! and each undoing, regroups the people it touches: their records, and the
//! records the linker linked them to, are grouped again from the stored
//! links under every decision in force (`aidant_link::decisions`), and the
//! linker's entities, the person entities and their mentions follow. New
//! records honour decisions as they are linked.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::EntityId;
use aidant_core::intelligence::{PersonNamed, PersonRole};
use aidant_link::decisions::{Constraints, constrained_groups};
use aidant_link::explain::explain_pair;
use aidant_link::features::{Interner, PortableFeatures};
use aidant_link::incremental::EntityId as LinkEntity;
use aidant_link::mentions::ValueKind;
use aidant_link::model::FieldContribution;
use aidant_link::record::{PersonRecord, RawPerson};
use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::audit::{AuditEvent, append};
use crate::crypto::Keyring;
use crate::entities::MentionRecord;
use crate::link_records::{BlindIndex, LinkError};
use crate::{Store, StoreError, bind_list, new_id, now_ms};

/// What a record says about a person it names. Sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    pub name: String,
    pub date_of_birth: Option<String>,
    pub nationality: Option<String>,
    pub role: PersonRole,
}

/// A person a record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPerson {
    /// The linker's record id: `<record kind>:<record id>:<position>`.
    pub id: String,
    pub record: MentionRecord,
    pub record_id: String,
    /// 1 for the first person the record names.
    pub position: i64,
    pub details: PersonDetails,
}

impl NamedPerson {
    /// The mention's field: `people.2` for the second person named.
    pub fn field(&self) -> String {
        person_field(self.position)
    }

    /// The person as the linker reads them. A date of birth that is only a
    /// year is a partial date; details the linker cannot read are left out.
    pub fn person_record(&self) -> PersonRecord {
        let raw = RawPerson {
            record_id: self.id.clone(),
            full_name: Some(self.details.name.clone()),
            date_of_birth: self.details.date_of_birth.clone(),
            ..RawPerson::default()
        };
        raw.parse(0).0
    }
}

pub fn person_field(position: i64) -> String {
    format!("people.{position}")
}

/// The linker's record id of the `position`th person (from 1) a record names.
pub fn person_record_id(record: MentionRecord, record_id: &str, position: i64) -> String {
    format!("{}:{record_id}:{position}", record.as_str())
}

fn details_binding(id: &str) -> String {
    format!("record_people:{id}:details")
}

/// The key a person entity is found by: the linker's entity.
pub(crate) fn person_key(link_entity: i64) -> String {
    format!("link:{link_entity}")
}

/// Writes the people a record names, in the transaction that writes it.
pub(crate) async fn insert_people(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    index: &BlindIndex,
    record: MentionRecord,
    record_id: &str,
    people: &[PersonNamed],
) -> Result<(), StoreError> {
    for (position, person) in people.iter().enumerate() {
        insert_person(transaction, keyring, index, record, record_id, position as i64 + 1, person).await?;
    }
    Ok(())
}

/// The words of a name as search compares them: folded (transliterated,
/// lower case), each at least two characters, at most eight.
pub(crate) fn name_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = aidant_core::search::fold(name).split(' ').filter(|word| word.len() >= 2).map(str::to_owned).collect();
    words.sort();
    words.dedup();
    words.truncate(8);
    words
}

pub(crate) fn name_word_hash(index: &BlindIndex, word: &str) -> i64 {
    index.hash(&[b"person-name\0", word.as_bytes()])
}

async fn insert_person(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    index: &BlindIndex,
    record: MentionRecord,
    record_id: &str,
    position: i64,
    person: &PersonNamed,
) -> Result<(), StoreError> {
    let id = person_record_id(record, record_id, position);
    let details = PersonDetails {
        name: person.name.as_str().to_owned(),
        date_of_birth: person.date_of_birth.clone(),
        nationality: person.nationality.as_ref().map(|text| text.as_str().to_owned()),
        role: person.role,
    };
    let plaintext = serde_json::to_vec(&details).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    sqlx::query("INSERT INTO record_people (id, record_kind, record_id, position, details_sealed) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(record.as_str())
        .bind(record_id)
        .bind(position)
        .bind(keyring.seal(&plaintext, &details_binding(&id)))
        .execute(&mut **transaction)
        .await?;
    let hashes: BTreeSet<i64> = name_words(person.name.as_str()).iter().map(|word| name_word_hash(index, word)).collect();
    if !hashes.is_empty() {
        let statement = format!("INSERT INTO person_name_keys (key_hash, person_record) VALUES {}", crate::link_records::values_list(hashes.len(), 2));
        let mut query = sqlx::query(&statement);
        for hash in &hashes {
            query = query.bind(*hash).bind(&id);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

/// The people (linker record ids) whose names hold every word of `query`
/// (folded, whole words), at most `limit`. Who may see them is the use
/// case's to decide.
pub(crate) async fn people_named(store: &Store, query: &str, limit: i64) -> Result<Vec<String>, StoreError> {
    let words = name_words(query);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let index = store.entity_index().await?;
    let hashes: Vec<i64> = words.iter().map(|word| name_word_hash(&index, word)).collect();
    let statement = format!(
        "SELECT person_record FROM person_name_keys WHERE key_hash IN ({}) GROUP BY person_record HAVING COUNT(*) = ${} ORDER BY person_record DESC LIMIT ${}",
        bind_list(hashes.len()),
        hashes.len() + 1,
        hashes.len() + 2
    );
    let mut query = sqlx::query_scalar::<_, String>(&statement);
    for hash in &hashes {
        query = query.bind(*hash);
    }
    Ok(query.bind(hashes.len() as i64).bind(limit).fetch_all(&store.pool).await?)
}

/// Adds one person to those a record names (after the others), inside the
/// caller's transaction, and queues the record for the worker so the person
/// is linked. Returns their position.
pub(crate) async fn name_person_in(
    transaction: &mut Transaction<'_, Any>,
    keyring: &Keyring,
    index: &BlindIndex,
    record: MentionRecord,
    record_id: &str,
    person: &PersonNamed,
) -> Result<i64, StoreError> {
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM record_people WHERE record_kind = $1 AND record_id = $2")
        .bind(record.as_str())
        .bind(record_id)
        .fetch_one(&mut **transaction)
        .await?;
    let position = last.unwrap_or(0) + 1;
    insert_person(transaction, keyring, index, record, record_id, position, person).await?;
    let job = match record {
        MentionRecord::Report => crate::entities::JobRecord::Report,
        MentionRecord::Intelligence => crate::entities::JobRecord::Intelligence,
    };
    crate::entities::enqueue(transaction, job, record_id, now_ms()).await?;
    Ok(position)
}

fn named_person_of_row(keyring: &Keyring, row: &sqlx::any::AnyRow) -> Result<NamedPerson, StoreError> {
    let id: String = row.try_get("id")?;
    let sealed: Vec<u8> = row.try_get("details_sealed")?;
    let details: PersonDetails = serde_json::from_slice(&keyring.open(&sealed, &details_binding(&id))?)
        .map_err(|_| StoreError::Corrupt("a person's stored details cannot be read".to_owned()))?;
    Ok(NamedPerson {
        record: MentionRecord::parse(&row.try_get::<String, _>("record_kind")?)?,
        record_id: row.try_get("record_id")?,
        position: row.try_get("position")?,
        id,
        details,
    })
}

/// The people the records of one kind name, opened, in record and position order.
pub(crate) async fn load_people(
    store: &Store,
    connection: &mut AnyConnection,
    record: MentionRecord,
    record_ids: &[&str],
) -> Result<Vec<NamedPerson>, StoreError> {
    let keyring = store.keyring()?;
    let mut people = Vec::new();
    for chunk in record_ids.chunks(500) {
        let statement = format!(
            "SELECT id, record_kind, record_id, position, details_sealed FROM record_people WHERE record_kind = $1 AND record_id IN ({})
             ORDER BY record_id, position",
            crate::link_records::bind_list_from(2, chunk.len())
        );
        let mut query = sqlx::query(&statement).bind(record.as_str());
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *connection).await? {
            people.push(named_person_of_row(keyring, &row)?);
        }
    }
    Ok(people)
}

/// People by their linker record ids, opened.
pub(crate) async fn load_people_by_id(keyring: &Keyring, connection: &mut AnyConnection, ids: &[&str]) -> Result<Vec<NamedPerson>, StoreError> {
    let mut people = Vec::new();
    for chunk in ids.chunks(500) {
        let statement = format!("SELECT id, record_kind, record_id, position, details_sealed FROM record_people WHERE id IN ({})", bind_list(chunk.len()));
        let mut query = sqlx::query(&statement);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *connection).await? {
            people.push(named_person_of_row(keyring, &row)?);
        }
    }
    Ok(people)
}

/// Which of `record_ids` (linker record ids) an analyst took out of the
/// person they were in, by a decision in force.
pub(crate) async fn taken_out<'a>(transaction: &mut Transaction<'_, Any>, record_ids: impl Iterator<Item = &'a str>) -> Result<HashSet<String>, LinkError> {
    let ids: Vec<&str> = record_ids.collect();
    let mut found = HashSet::new();
    for chunk in ids.chunks(500) {
        let statement =
            format!("SELECT record_a FROM person_decisions WHERE kind = 'take_out' AND undone_at IS NULL AND record_a IN ({})", bind_list(chunk.len()));
        let mut query = sqlx::query_scalar::<_, String>(&statement);
        for id in chunk {
            query = query.bind(*id);
        }
        found.extend(query.fetch_all(&mut **transaction).await?);
    }
    Ok(found)
}

/// Pairs of `entities` (the linker's) holding records an analyst decided
/// are not the same person, by decisions in force.
pub(crate) async fn apart_entities(transaction: &mut Transaction<'_, Any>, entities: &[LinkEntity]) -> Result<Vec<(LinkEntity, LinkEntity)>, LinkError> {
    let numbers: Vec<i64> = entities.iter().map(|entity| entity.0 as i64).collect::<BTreeSet<_>>().into_iter().collect();
    if numbers.len() < 2 {
        return Ok(Vec::new());
    }
    let statement = format!(
        "SELECT a.entity_id AS left_entity, b.entity_id AS right_entity FROM person_decisions d
         JOIN link_records a ON a.record_id = d.record_a JOIN link_records b ON b.record_id = d.record_b
         WHERE d.kind = 'apart' AND d.undone_at IS NULL AND a.entity_id IN ({list}) AND b.entity_id IN ({list})",
        list = bind_list(numbers.len())
    );
    let mut query = sqlx::query(&statement);
    for number in &numbers {
        query = query.bind(*number);
    }
    let mut pairs = Vec::new();
    for row in query.fetch_all(&mut **transaction).await? {
        let (left, right): (i64, i64) = (row.try_get("left_entity")?, row.try_get("right_entity")?);
        if left != right {
            pairs.push((LinkEntity(left as u64), LinkEntity(right as u64)));
        }
    }
    Ok(pairs)
}

/// The kind of an analyst's decision about people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    /// Two records are the same person.
    Same,
    /// Two records are not the same person.
    Apart,
    /// A record is not the person it was put in: it stands alone.
    TakeOut,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Same => "same",
            DecisionKind::Apart => "apart",
            DecisionKind::TakeOut => "take_out",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [DecisionKind::Same, DecisionKind::Apart, DecisionKind::TakeOut].into_iter().find(|kind| kind.as_str() == text)
    }

    /// As the entity page says it.
    pub fn label(self) -> &'static str {
        match self {
            DecisionKind::Same => "Same person",
            DecisionKind::Apart => "Not the same person",
            DecisionKind::TakeOut => "Record taken out",
        }
    }
}

/// A decision as stored, its reason opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDecision {
    pub id: String,
    pub kind: DecisionKind,
    pub record_a: String,
    pub record_b: Option<String>,
    pub reason: String,
    pub decided_by: String,
    pub decided_at_ms: i64,
    pub undone_by: Option<String>,
    pub undone_at_ms: Option<i64>,
}

fn reason_binding(id: &str) -> String {
    format!("person_decisions:{id}:reason")
}

/// Why a decision cannot be recorded or undone.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("a record named is not a linked person")]
    UnknownRecord,
    #[error("a decision in force says the opposite: undo it first")]
    Contradicts,
    #[error("the two records are the same record")]
    SameRecord,
    #[error("the decision has already been undone")]
    AlreadyUndone,
    #[error("no such decision")]
    UnknownDecision,
}

impl From<StoreError> for DecisionError {
    fn from(error: StoreError) -> Self {
        DecisionError::Link(LinkError::Store(error))
    }
}

impl From<sqlx::Error> for DecisionError {
    fn from(error: sqlx::Error) -> Self {
        DecisionError::Link(LinkError::from(error))
    }
}

/// What a regrouping changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regrouping {
    /// Person records that moved to another person.
    pub moved: usize,
    /// People created by a split.
    pub created: usize,
    /// People emptied into another.
    pub emptied: usize,
}

impl Store {
    /// Records an analyst's decision and regroups the people it touches, in
    /// one audited transaction. `record_b` is needed for "same" and "apart".
    pub async fn decide_people(
        &self,
        kind: DecisionKind,
        record_a: &str,
        record_b: Option<&str>,
        reason: &str,
        actor: &AuditActor,
    ) -> Result<(String, Regrouping), DecisionError> {
        if record_b == Some(record_a) {
            return Err(DecisionError::SameRecord);
        }
        let keyring = self.keyring()?;
        let index = self.entity_index().await?;
        let (_turn, mut transaction) = self.begin_write().await?;
        let named: Vec<&str> = [Some(record_a), record_b].into_iter().flatten().collect();
        let entities = link_entities_of(&mut transaction, &named).await?;
        if entities.len() != named.len() || (kind != DecisionKind::TakeOut && record_b.is_none()) {
            return Err(DecisionError::UnknownRecord);
        }
        let opposite = match kind {
            DecisionKind::Same => Some("apart"),
            DecisionKind::Apart => Some("same"),
            DecisionKind::TakeOut => None,
        };
        if let (Some(opposite), Some(record_b)) = (opposite, record_b) {
            let contradicting: Option<String> = sqlx::query_scalar(
                "SELECT id FROM person_decisions WHERE kind = $1 AND undone_at IS NULL
                 AND ((record_a = $2 AND record_b = $3) OR (record_a = $3 AND record_b = $2)) LIMIT 1",
            )
            .bind(opposite)
            .bind(record_a)
            .bind(record_b)
            .fetch_optional(&mut *transaction)
            .await?;
            if contradicting.is_some() {
                return Err(DecisionError::Contradicts);
            }
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO person_decisions (id, kind, record_a, record_b, reason_sealed, decided_by, decided_at, undone_by, undone_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
        )
        .bind(&id)
        .bind(kind.as_str())
        .bind(record_a)
        .bind(record_b)
        .bind(keyring.seal(reason.as_bytes(), &reason_binding(&id)))
        .bind(actor.to_stored())
        .bind(now_ms())
        .execute(&mut *transaction)
        .await?;
        sqlx::query("UPDATE link_resolver SET decisions = decisions + 1 WHERE id = 'people'").execute(&mut *transaction).await?;
        let reason_for_events = format!("{} (decision {id})", kind.label());
        let regrouping = self.regroup(&mut transaction, keyring, &index, &entities.into_values().collect::<Vec<_>>(), &reason_for_events).await?;
        if regrouping_breaks_apart(&mut transaction).await? {
            return Err(DecisionError::Contradicts);
        }
        append(&mut transaction, &AuditEvent::new(actor, AuditAction::PeopleDecide, AuditRecordKind::PersonDecision, &id).because(kind.as_str())).await?;
        transaction.commit().await?;
        Ok((id, regrouping))
    }

    /// Undoes a decision (a supervisor's act) and regroups the people it touched.
    pub async fn undo_person_decision(&self, id: &str, actor: &AuditActor) -> Result<Regrouping, DecisionError> {
        let keyring = self.keyring()?;
        let index = self.entity_index().await?;
        let (_turn, mut transaction) = self.begin_write().await?;
        let row = sqlx::query("SELECT record_a, record_b, undone_at FROM person_decisions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or(DecisionError::UnknownDecision)?;
        if row.try_get::<Option<i64>, _>("undone_at")?.is_some() {
            return Err(DecisionError::AlreadyUndone);
        }
        let record_a: String = row.try_get("record_a")?;
        let record_b: Option<String> = row.try_get("record_b")?;
        sqlx::query("UPDATE person_decisions SET undone_by = $1, undone_at = $2 WHERE id = $3")
            .bind(actor.to_stored())
            .bind(now_ms())
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("UPDATE link_resolver SET decisions = decisions - 1 WHERE id = 'people'").execute(&mut *transaction).await?;
        let named: Vec<&str> = [Some(record_a.as_str()), record_b.as_deref()].into_iter().flatten().collect();
        let entities: Vec<i64> = link_entities_of(&mut transaction, &named).await?.into_values().collect();
        let regrouping = self.regroup(&mut transaction, keyring, &index, &entities, &format!("decision {id} undone")).await?;
        append(&mut transaction, &AuditEvent::new(actor, AuditAction::PeopleDecisionUndo, AuditRecordKind::PersonDecision, id)).await?;
        transaction.commit().await?;
        Ok(regrouping)
    }

    /// Regroups every person a decision in force touches, as a rebuild
    /// does: what the decisions say holds however the people were reached.
    /// `index` is read before `transaction` began: reading it may write,
    /// which on SQLite would wait on `transaction`'s own lock.
    pub(crate) async fn regroup_decided(
        &self,
        transaction: &mut Transaction<'_, Any>,
        index: &BlindIndex,
        actor: &AuditActor,
    ) -> Result<Regrouping, DecisionError> {
        let records: Vec<String> = sqlx::query_scalar(
            "SELECT record_a FROM person_decisions WHERE undone_at IS NULL
             UNION SELECT record_b FROM person_decisions WHERE undone_at IS NULL AND record_b IS NOT NULL",
        )
        .fetch_all(&mut **transaction)
        .await?;
        if records.is_empty() {
            return Ok(Regrouping::default());
        }
        let keyring = self.keyring()?;
        let named: Vec<&str> = records.iter().map(String::as_str).collect();
        let entities: Vec<i64> = link_entities_of(transaction, &named).await?.into_values().collect();
        let regrouping = self.regroup(transaction, keyring, index, &entities, "rebuild under the decisions in force").await?;
        let reason = format!("{} records moved", regrouping.moved);
        append(transaction, &AuditEvent::new(actor, AuditAction::PeopleRegroup, AuditRecordKind::Workspace, "people").because(&reason)).await?;
        Ok(regrouping)
    }

    /// Groups again the records of `entities` (the linker's), and of the
    /// entities they have links to, under the decisions in force, and
    /// writes what changed: the linker's rows and events, and the person
    /// entities' mentions.
    async fn regroup(
        &self,
        transaction: &mut Transaction<'_, Any>,
        keyring: &Keyring,
        index: &BlindIndex,
        entities: &[i64],
        reason: &str,
    ) -> Result<Regrouping, DecisionError> {
        // The records of the entities, and of the entities linked to them.
        let mut scope: BTreeSet<i64> = entities.iter().copied().collect();
        let first = records_of_entities(transaction, &scope).await?;
        let numbers: Vec<i64> = first.iter().map(|record| record.number).collect();
        scope.extend(linked_entities(transaction, &numbers).await?);
        let records = records_of_entities(transaction, &scope).await?;
        let position_of: HashMap<i64, usize> = records.iter().enumerate().map(|(position, record)| (record.number, position)).collect();
        let position_of_id: HashMap<&str, usize> = records.iter().enumerate().map(|(position, record)| (record.id.as_str(), position)).collect();
        let numbers: Vec<i64> = records.iter().map(|record| record.number).collect();
        let links: Vec<(usize, usize, f32)> = links_among(transaction, &numbers)
            .await?
            .into_iter()
            .filter_map(|(left, right, weight)| Some((*position_of.get(&left)?, *position_of.get(&right)?, weight as f32)))
            .collect();
        let ids: Vec<&str> = records.iter().map(|record| record.id.as_str()).collect();
        let mut constraints = Constraints::default();
        for decision in decisions_about(transaction, keyring, &ids, true).await? {
            let Some(&a) = position_of_id.get(decision.record_a.as_str()) else { continue };
            let b = decision.record_b.as_deref().and_then(|id| position_of_id.get(id).copied());
            match (decision.kind, b) {
                (DecisionKind::Same, Some(b)) => constraints.same.push((a, b)),
                (DecisionKind::Apart, Some(b)) => constraints.apart.push((a, b)),
                (DecisionKind::TakeOut, _) => constraints.alone.push(a),
                _ => {}
            }
        }
        let groups = constrained_groups(records.len(), &links, &constraints);

        // Each group keeps the entity most of its records were in, largest
        // group first; a group whose entity another took gets a new one.
        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (position, group) in groups.iter().enumerate() {
            members.entry(*group).or_default().push(position);
        }
        let mut ordered: Vec<Vec<usize>> = members.into_values().collect();
        ordered.sort_by(|left, right| right.len().cmp(&left.len()).then(left[0].cmp(&right[0])));
        let mut taken: BTreeSet<i64> = BTreeSet::new();
        let mut assigned: Vec<(i64, &Vec<usize>)> = Vec::new();
        let mut created = Vec::new();
        for group in &ordered {
            let mut votes: BTreeMap<i64, usize> = BTreeMap::new();
            for position in group {
                *votes.entry(records[*position].entity).or_default() += 1;
            }
            let mut ranked: Vec<(i64, usize)> = votes.into_iter().collect();
            ranked.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(&right.0)));
            let entity = match ranked.iter().find(|(entity, _)| !taken.contains(entity)) {
                Some((entity, _)) => *entity,
                None => {
                    let number = next_link_entity(transaction).await?;
                    created.push(number);
                    number
                }
            };
            taken.insert(entity);
            assigned.push((entity, group));
        }
        let mut regrouping = Regrouping { created: created.len(), ..Regrouping::default() };
        let now = now_ms();
        for number in &created {
            sqlx::query("INSERT INTO link_entities (entity_id, absorbed_into, created_at) VALUES ($1, NULL, $2)")
                .bind(*number)
                .bind(now)
                .execute(&mut **transaction)
                .await?;
        }
        // Records that move, and where.
        let mut moves: Vec<(usize, i64)> = Vec::new();
        for (entity, group) in &assigned {
            for position in group.iter() {
                if records[*position].entity != *entity {
                    moves.push((*position, *entity));
                }
            }
        }
        regrouping.moved = moves.len();
        if moves.is_empty() {
            return Ok(regrouping);
        }
        for (position, entity) in &moves {
            sqlx::query("UPDATE link_records SET entity_id = $1 WHERE record_number = $2")
                .bind(*entity)
                .bind(records[*position].number)
                .execute(&mut **transaction)
                .await?;
        }
        for entity in &taken {
            sqlx::query("UPDATE link_entities SET absorbed_into = NULL WHERE entity_id = $1").bind(*entity).execute(&mut **transaction).await?;
        }
        // An entity left with no records is now part of where most went.
        let before: BTreeSet<i64> = records.iter().map(|record| record.entity).collect();
        for emptied in before.difference(&taken) {
            let mut destinations: BTreeMap<i64, usize> = BTreeMap::new();
            for (position, entity) in &moves {
                if records[*position].entity == *emptied {
                    *destinations.entry(*entity).or_default() += 1;
                }
            }
            if let Some((destination, _)) = destinations.into_iter().max_by(|left, right| left.1.cmp(&right.1).then(right.0.cmp(&left.0))) {
                sqlx::query("UPDATE link_entities SET absorbed_into = $1 WHERE entity_id = $2")
                    .bind(destination)
                    .bind(*emptied)
                    .execute(&mut **transaction)
                    .await?;
                regrouping.emptied += 1;
            }
        }
        record_regroup_event(transaction, &assigned, &records, reason).await?;

        // The person entities follow: each moved person's mention goes to
        // its new person, which is created if new and revived if merged.
        let moved_ids: Vec<&str> = moves.iter().map(|(position, _)| records[*position].id.as_str()).collect();
        let people: HashMap<String, NamedPerson> =
            load_people_by_id(keyring, transaction, &moved_ids).await?.into_iter().map(|person| (person.id.clone(), person)).collect();
        let mut rows: BTreeMap<i64, String> = BTreeMap::new();
        for (position, entity) in &moves {
            let Some(person) = people.get(&records[*position].id) else { continue };
            let to = match rows.get(entity) {
                Some(row) => row.clone(),
                None => {
                    let row = self.person_entity_row(transaction, keyring, index, *entity, &person.details.name).await?;
                    rows.insert(*entity, row.clone());
                    row
                }
            };
            sqlx::query("UPDATE entity_mentions SET entity_id = $1 WHERE record_kind = $2 AND record_id = $3 AND field = $4")
                .bind(&to)
                .bind(person.record.as_str())
                .bind(&person.record_id)
                .bind(person.field())
                .execute(&mut **transaction)
                .await?;
        }
        for emptied in before.difference(&taken) {
            let destination: Option<i64> =
                sqlx::query_scalar("SELECT absorbed_into FROM link_entities WHERE entity_id = $1").bind(*emptied).fetch_one(&mut **transaction).await?;
            let (Some(from), Some(destination)) = (person_entity_id(transaction, index, *emptied).await?, destination) else { continue };
            let Some(to) = person_entity_id(transaction, index, destination).await? else { continue };
            mark_merged(transaction, &from, &to).await?;
        }
        Ok(regrouping)
    }

    /// The person entity row of the linker's `link_entity`, created (with
    /// `label`) if there is none, and no longer merged into another.
    pub(crate) async fn person_entity_row(
        &self,
        transaction: &mut Transaction<'_, Any>,
        keyring: &Keyring,
        index: &BlindIndex,
        link_entity: i64,
        label: &str,
    ) -> Result<String, StoreError> {
        let key = person_key(link_entity);
        let value_hash = index.hash(&[b"entity\0", ValueKind::Person.as_str().as_bytes(), b"\0", key.as_bytes()]);
        let row = sqlx::query(
            "INSERT INTO entities (id, kind, value_hash, value_sealed, label_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (kind, value_hash) DO UPDATE SET merged_into = NULL
             RETURNING id",
        )
        .bind(crate::new_record_id::<EntityId>().as_str().to_owned())
        .bind(ValueKind::Person.as_str())
        .bind(value_hash)
        .bind(keyring.seal(key.as_bytes(), &crate::entities::value_binding(ValueKind::Person, value_hash, "value")))
        .bind(keyring.seal(label.as_bytes(), &crate::entities::value_binding(ValueKind::Person, value_hash, "label")))
        .bind(now_ms())
        .fetch_one(&mut **transaction)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// After the linker merged `absorbed` into `surviving` while the worker
    /// linked a person: the absorbed people's mentions and watchers move to
    /// the survivor's entity, and their rows point there.
    pub(crate) async fn merge_person_entities(
        &self,
        transaction: &mut Transaction<'_, Any>,
        index: &BlindIndex,
        surviving: i64,
        absorbed: &[i64],
    ) -> Result<(), StoreError> {
        let Some(to) = person_entity_id(transaction, index, surviving).await? else { return Ok(()) };
        for entity in absorbed {
            if let Some(from) = person_entity_id(transaction, index, *entity).await? {
                sqlx::query("UPDATE entity_mentions SET entity_id = $1 WHERE entity_id = $2").bind(&to).bind(&from).execute(&mut **transaction).await?;
                mark_merged(transaction, &from, &to).await?;
            }
        }
        Ok(())
    }

    /// Why the linker holds the records of a person together: for each link
    /// between two of `record_ids` (linker record ids), each field's part
    /// in the match weight. `record_ids` are the records the viewer may see.
    pub async fn explain_person(&self, record_ids: &[&str]) -> Result<Vec<LinkReason>, LinkError> {
        let keyring = self.keyring()?;
        let mut transaction = self.pool.begin().await?;
        let generation: Option<String> =
            sqlx::query_scalar("SELECT generation FROM link_resolver WHERE id = 'people'").fetch_optional(&mut *transaction).await?;
        let Some(generation) = generation.filter(|_| !record_ids.is_empty()) else { return Ok(Vec::new()) };
        let context = self.link_context(&mut transaction, &generation).await?;
        let statement = format!("SELECT record_number, record_id, features_sealed FROM link_records WHERE record_id IN ({})", bind_list(record_ids.len()));
        let mut query = sqlx::query(&statement);
        for id in record_ids {
            query = query.bind(*id);
        }
        let mut interner = Interner::default();
        let mut features = HashMap::new();
        let mut id_of = HashMap::new();
        for row in query.fetch_all(&mut *transaction).await? {
            let id: String = row.try_get("record_id")?;
            let number: i64 = row.try_get("record_number")?;
            let sealed: Vec<u8> = row.try_get("features_sealed")?;
            let opened = keyring.open(&sealed, &crate::link_records::features_binding(&id))?;
            let portable = PortableFeatures::from_bytes(&opened).map_err(|error| LinkError::Corrupt(error.to_string()))?;
            features.insert(number, portable.intern(&mut interner));
            id_of.insert(number, id);
        }
        let numbers: Vec<i64> = features.keys().copied().collect();
        let mut reasons = Vec::new();
        for (left, right, weight) in links_among(&mut transaction, &numbers).await? {
            let (Some(left_features), Some(right_features)) = (features.get(&left), features.get(&right)) else { continue };
            let explanation = explain_pair(&context.scorer, &interner, (&id_of[&left], left_features), (&id_of[&right], right_features));
            reasons.push(LinkReason {
                left: id_of[&left].clone(),
                right: id_of[&right].clone(),
                weight,
                probability: explanation.match_probability,
                parts: explanation.contributions.into_iter().filter(|part| part.level != 0).map(LinkPart::from).collect(),
            });
        }
        transaction.commit().await?;
        reasons.sort_by(|left, right| right.weight.total_cmp(&left.weight));
        Ok(reasons)
    }

    /// Decisions about any of `record_ids` (linker record ids), newest first,
    /// including undone ones.
    pub(crate) async fn decisions_about(&self, connection: &mut AnyConnection, record_ids: &[&str]) -> Result<Vec<PersonDecision>, StoreError> {
        decisions_about(connection, self.keyring()?, record_ids, false).await
    }
}

/// One field's part in a link, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkPart {
    /// `given_name`, `dob`...
    pub field: &'static str,
    /// How the two records compare on it: "exact", "day and month swapped"...
    pub level: String,
    /// What it adds to the match weight (log2 Bayes factor), or `None` when
    /// the household model counted it in the prior instead.
    pub weight: Option<f64>,
}

impl From<FieldContribution> for LinkPart {
    fn from(part: FieldContribution) -> Self {
        LinkPart {
            field: part.field.name(),
            level: part.level_name.clone(),
            weight: part.counted.then_some(part.log2_bayes_factor + part.term_frequency_adjustment),
        }
    }
}

/// Why two records of a person are linked.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkReason {
    pub left: String,
    pub right: String,
    /// The stored match weight (log2 odds).
    pub weight: f64,
    pub probability: f64,
    pub parts: Vec<LinkPart>,
}

/// A linker record as a regrouping reads it.
struct GroupedRecord {
    number: i64,
    id: String,
    entity: i64,
}

/// The linker's entity of each of `record_ids` that is linked.
async fn link_entities_of(transaction: &mut Transaction<'_, Any>, record_ids: &[&str]) -> Result<HashMap<String, i64>, StoreError> {
    if record_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let statement = format!("SELECT record_id, entity_id FROM link_records WHERE record_id IN ({})", bind_list(record_ids.len()));
    let mut query = sqlx::query(&statement);
    for id in record_ids {
        query = query.bind(*id);
    }
    let mut found = HashMap::new();
    for row in query.fetch_all(&mut **transaction).await? {
        found.insert(row.try_get("record_id")?, row.try_get("entity_id")?);
    }
    Ok(found)
}

async fn records_of_entities(transaction: &mut Transaction<'_, Any>, entities: &BTreeSet<i64>) -> Result<Vec<GroupedRecord>, StoreError> {
    let entities: Vec<i64> = entities.iter().copied().collect();
    let mut records = Vec::new();
    for chunk in entities.chunks(500) {
        let statement =
            format!("SELECT record_number, record_id, entity_id FROM link_records WHERE entity_id IN ({}) ORDER BY record_number", bind_list(chunk.len()));
        let mut query = sqlx::query(&statement);
        for entity in chunk {
            query = query.bind(*entity);
        }
        for row in query.fetch_all(&mut **transaction).await? {
            records.push(GroupedRecord { number: row.try_get("record_number")?, id: row.try_get("record_id")?, entity: row.try_get("entity_id")? });
        }
    }
    records.sort_by_key(|record| record.number);
    Ok(records)
}

/// The entities of the records linked to any of `record_numbers`.
async fn linked_entities(transaction: &mut Transaction<'_, Any>, record_numbers: &[i64]) -> Result<BTreeSet<i64>, StoreError> {
    let mut entities = BTreeSet::new();
    for chunk in record_numbers.chunks(400) {
        let list = bind_list(chunk.len());
        let statement = format!(
            "SELECT r.entity_id FROM link_pairs p JOIN link_records r ON r.record_number = p.other_record_number WHERE p.record_number IN ({list})
             UNION SELECT r.entity_id FROM link_pairs p JOIN link_records r ON r.record_number = p.record_number WHERE p.other_record_number IN ({list})"
        );
        let mut query = sqlx::query_scalar::<_, i64>(&statement);
        for _ in 0..2 {
            for number in chunk {
                query = query.bind(*number);
            }
        }
        entities.extend(query.fetch_all(&mut **transaction).await?);
    }
    Ok(entities)
}

/// The stored links with both ends among `record_numbers`.
async fn links_among(connection: &mut AnyConnection, record_numbers: &[i64]) -> Result<Vec<(i64, i64, f64)>, StoreError> {
    let wanted: HashSet<i64> = record_numbers.iter().copied().collect();
    let mut links = Vec::new();
    for chunk in record_numbers.chunks(500) {
        let statement = format!("SELECT record_number, other_record_number, weight FROM link_pairs WHERE record_number IN ({})", bind_list(chunk.len()));
        let mut query = sqlx::query(&statement);
        for number in chunk {
            query = query.bind(*number);
        }
        for row in query.fetch_all(&mut *connection).await? {
            let other: i64 = row.try_get("other_record_number")?;
            if wanted.contains(&other) {
                links.push((row.try_get("record_number")?, other, row.try_get("weight")?));
            }
        }
    }
    links.sort_by_key(|link| (link.0, link.1));
    Ok(links)
}

async fn decisions_about(
    connection: &mut AnyConnection,
    keyring: &Keyring,
    record_ids: &[&str],
    in_force_only: bool,
) -> Result<Vec<PersonDecision>, StoreError> {
    let mut found: BTreeMap<String, PersonDecision> = BTreeMap::new();
    let in_force = if in_force_only { " AND undone_at IS NULL" } else { "" };
    for chunk in record_ids.chunks(400) {
        let list = bind_list(chunk.len());
        let statement = format!(
            "SELECT id, kind, record_a, record_b, reason_sealed, decided_by, decided_at, undone_by, undone_at FROM person_decisions
             WHERE (record_a IN ({list}) OR record_b IN ({list})){in_force}"
        );
        let mut query = sqlx::query(&statement);
        for _ in 0..2 {
            for id in chunk {
                query = query.bind(*id);
            }
        }
        for row in query.fetch_all(&mut *connection).await? {
            let id: String = row.try_get("id")?;
            let kind: String = row.try_get("kind")?;
            let sealed: Vec<u8> = row.try_get("reason_sealed")?;
            let reason = String::from_utf8(keyring.open(&sealed, &reason_binding(&id))?)
                .map_err(|_| StoreError::Corrupt("a decision's reason is not UTF-8".to_owned()))?;
            found.insert(
                id.clone(),
                PersonDecision {
                    kind: DecisionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("a decision of unknown kind {kind:?}")))?,
                    record_a: row.try_get("record_a")?,
                    record_b: row.try_get("record_b")?,
                    reason,
                    decided_by: row.try_get("decided_by")?,
                    decided_at_ms: row.try_get("decided_at")?,
                    undone_by: row.try_get("undone_by")?,
                    undone_at_ms: row.try_get("undone_at")?,
                    id,
                },
            );
        }
    }
    let mut decisions: Vec<PersonDecision> = found.into_values().collect();
    decisions.sort_by(|left, right| right.decided_at_ms.cmp(&left.decided_at_ms).then(right.id.cmp(&left.id)));
    Ok(decisions)
}

/// True when a decision "apart" in force has both its records in one
/// person: "same" decisions chain them together, so the new decision
/// contradicts the others.
async fn regrouping_breaks_apart(transaction: &mut Transaction<'_, Any>) -> Result<bool, StoreError> {
    let broken: Option<String> = sqlx::query_scalar(
        "SELECT d.id FROM person_decisions d JOIN link_records a ON a.record_id = d.record_a JOIN link_records b ON b.record_id = d.record_b
         WHERE d.kind = 'apart' AND d.undone_at IS NULL AND a.entity_id = b.entity_id LIMIT 1",
    )
    .fetch_optional(&mut **transaction)
    .await?;
    Ok(broken.is_some())
}

/// Takes the linker's next entity number.
async fn next_link_entity(transaction: &mut Transaction<'_, Any>) -> Result<i64, StoreError> {
    let next: i64 = sqlx::query_scalar("UPDATE link_resolver SET next_entity = next_entity + 1 WHERE id = 'people' RETURNING next_entity")
        .fetch_one(&mut **transaction)
        .await?;
    Ok(next - 1)
}

/// One event per regrouped entity that gained or lost records, with the reason.
async fn record_regroup_event(
    transaction: &mut Transaction<'_, Any>,
    assigned: &[(i64, &Vec<usize>)],
    records: &[GroupedRecord],
    reason: &str,
) -> Result<(), StoreError> {
    let changed: Vec<&(i64, &Vec<usize>)> =
        assigned.iter().filter(|(entity, group)| group.iter().any(|position| records[*position].entity != *entity)).collect();
    if changed.is_empty() {
        return Ok(());
    }
    let next: i64 = sqlx::query_scalar("UPDATE link_resolver SET next_event = next_event + $1 WHERE id = 'people' RETURNING next_event")
        .bind(changed.len() as i64)
        .fetch_one(&mut **transaction)
        .await?;
    let first = next - changed.len() as i64;
    for (offset, (entity, group)) in changed.iter().enumerate() {
        let from: BTreeSet<i64> = group.iter().map(|position| records[*position].entity).filter(|from| from != entity).collect();
        let from: Vec<String> = from.iter().map(i64::to_string).collect();
        sqlx::query(
            "INSERT INTO link_events (sequence, kind, entity_id, record_id, other_entities, reason, occurred_at, match_probability)
             VALUES ($1, 'merged', $2, $3, $4, $5, $6, NULL)",
        )
        .bind(first + offset as i64)
        .bind(*entity)
        .bind(&records[group[0]].id)
        .bind(from.join(","))
        .bind(format!("regrouped: {reason}"))
        .bind(now_ms())
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

async fn person_entity_id(transaction: &mut Transaction<'_, Any>, index: &BlindIndex, link_entity: i64) -> Result<Option<String>, StoreError> {
    let key = person_key(link_entity);
    let value_hash = index.hash(&[b"entity\0", ValueKind::Person.as_str().as_bytes(), b"\0", key.as_bytes()]);
    Ok(sqlx::query_scalar("SELECT id FROM entities WHERE kind = $1 AND value_hash = $2")
        .bind(ValueKind::Person.as_str())
        .bind(value_hash)
        .fetch_optional(&mut **transaction)
        .await?)
}

/// Points `from` (and whatever pointed at it) at `to`, and gives `to` the
/// watchers of `from`.
async fn mark_merged(transaction: &mut Transaction<'_, Any>, from: &str, to: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE entities SET merged_into = $1 WHERE id = $2 OR merged_into = $2").bind(to).bind(from).execute(&mut **transaction).await?;
    sqlx::query(
        "INSERT INTO entity_watches (user_id, entity_id, watched_at, seen_until) SELECT user_id, $1, watched_at, seen_until FROM entity_watches
         WHERE entity_id = $2 ON CONFLICT (user_id, entity_id) DO NOTHING",
    )
    .bind(to)
    .bind(from)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}
