//! Incremental linking: add one record to a resolved set, keeping entity ids stable and recording merges and splits.
//!
//! Candidates come from blocking-key indexes (the same rules as batch mode), are scored by the same
//! model, and the record joins the entity it matches, a new entity, or, when it matches several,
//! merges them into the oldest. An entity id is never reused or renamed: merges and splits are
//! events with their reason. The keys of a record are available (`blocking_keys`) so that a server
//! can keep the index in its database and fetch candidates by key.
//!
//! The whole resolver state can be turned into bytes (`to_bytes`) and back (`from_bytes`) so that a
//! server can keep it in its database between runs; this crate does no IO itself. The bytes start
//! with a magic tag and a format version, and the blocking index is rebuilt on load rather than stored.

use crate::batch::BatchResult;
use crate::blocking::{ALL_RULES, BlockingRule, keys_for_rule};
use crate::cluster::ClusterConfig;
use crate::compare::compare;
use crate::features::{Interner, NameRoleCounts, RecordFeatures, record_features};
use crate::model::{Model, Scorer, TermFrequencies, probability_of_weight, weight_of_probability};
use crate::record::PersonRecord;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// A stable entity id: assigned once, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityId(pub u64);

/// Something that happened to the entities, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EntityEvent {
    Created {
        entity: EntityId,
        record_id: String,
    },
    Attached {
        entity: EntityId,
        record_id: String,
        match_probability: f64,
    },
    /// `absorbed` entities now belong to `surviving`; their ids stay retired.
    Merged {
        surviving: EntityId,
        absorbed: Vec<EntityId>,
        record_id: String,
        reason: String,
    },
    /// Part of `original` became the `created` entities.
    Split {
        original: EntityId,
        created: Vec<EntityId>,
        reason: String,
    },
}

/// The result of adding a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddOutcome {
    pub entity: EntityId,
    /// Records it matched, with match probabilities, strongest first.
    pub matches: Vec<(String, f64)>,
    pub events: Vec<EntityEvent>,
}

/// Why an incremental operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncrementalError {
    #[error("record id {0:?} is already in the resolved set")]
    DuplicateRecordId(String),
    #[error("record id {0:?} is not in the resolved set")]
    UnknownRecordId(String),
}

/// The first bytes of a persisted resolver state.
const STATE_MAGIC: [u8; 8] = *b"AIDLINK\0";

/// The layout of the persisted state. Bump it whenever `PersistedState`, or anything stored inside
/// it (features, model, events, the meaning of interned ids), changes shape or meaning.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// Why persisted bytes could not be turned back into a resolver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the bytes are not a persisted Aidant resolver state")]
    NotAState,
    #[error("the resolver state has format version {found}; this build reads version {expected}")]
    Version { found: u32, expected: u32 },
    #[error("the resolver state is damaged: {0}")]
    Damaged(String),
}

/// A map as a list sorted by key.
fn sorted_entries<K: Copy + Ord, V: Clone>(map: &HashMap<K, V>) -> Vec<(K, V)> {
    let mut entries: Vec<(K, V)> = map.iter().map(|(key, value)| (*key, value.clone())).collect();
    entries.sort_unstable_by_key(|(key, _)| *key);
    entries
}

/// Everything an `IncrementalLinker` holds that cannot be derived again, in a fixed order: maps are
/// stored as lists sorted by key, so one state always gives the same bytes.
#[derive(Serialize, Deserialize)]
struct PersistedState {
    model: Model,
    term_frequencies: Vec<(u64, Vec<(u32, u32)>)>,
    interned: Vec<Box<str>>,
    rules: Vec<BlockingRule>,
    max_block_size: u64,
    link_weight: f64,
    features: Vec<RecordFeatures>,
    record_ids: Vec<String>,
    entity_of: Vec<Option<EntityId>>,
    members: Vec<(EntityId, Vec<u32>)>,
    links: Vec<(u32, Vec<(u32, f32)>)>,
    role_counts_given: Vec<(u32, u32)>,
    role_counts_family: Vec<(u32, u32)>,
    next_entity: u64,
    events: Vec<EntityEvent>,
}

/// An in-memory resolved set that grows one record at a time.
#[derive(Debug, Clone)]
pub struct IncrementalLinker {
    scorer: Scorer,
    interner: Interner,
    rules: Vec<BlockingRule>,
    max_block_size: usize,
    link_weight: f64,
    index: HashMap<u64, Vec<u32>>,
    features: Vec<RecordFeatures>,
    record_ids: Vec<String>,
    index_of_id: HashMap<String, u32>,
    /// `None` for removed records.
    entity_of: Vec<Option<EntityId>>,
    members: HashMap<EntityId, Vec<u32>>,
    links: HashMap<u32, Vec<(u32, f32)>>,
    role_counts: NameRoleCounts,
    next_entity: u64,
    events: Vec<EntityEvent>,
}

impl IncrementalLinker {
    /// An empty resolved set using a trained model.
    pub fn new(model: Model, clustering: &ClusterConfig, max_block_size: usize) -> Self {
        IncrementalLinker {
            scorer: Scorer::new(model, TermFrequencies::new()),
            interner: Interner::default(),
            rules: ALL_RULES.to_vec(),
            max_block_size,
            link_weight: weight_of_probability(clustering.threshold_probability),
            index: HashMap::new(),
            features: Vec::new(),
            record_ids: Vec::new(),
            index_of_id: HashMap::new(),
            entity_of: Vec::new(),
            members: HashMap::new(),
            links: HashMap::new(),
            role_counts: NameRoleCounts::default(),
            next_entity: 1,
            events: Vec::new(),
        }
    }

    /// Starts from a batch run: cluster `c` becomes entity `c + 1`, its linked pairs the entity's links.
    pub fn from_batch(records: &[PersonRecord], batch: BatchResult, clustering: &ClusterConfig, max_block_size: usize) -> Self {
        let mut linker = IncrementalLinker::new(batch.scorer.model.clone(), clustering, max_block_size);
        linker.scorer = batch.scorer;
        linker.interner = batch.interner;
        linker.role_counts = NameRoleCounts::from_records(&batch.features);
        linker.index = Self::build_index(&linker.rules, &batch.features);
        linker.features = batch.features;
        linker.record_ids = records.iter().map(|record| record.record_id.clone()).collect();
        linker.index_of_id = linker.record_ids.iter().enumerate().map(|(index, id)| (id.clone(), index as u32)).collect();
        for (index, cluster) in batch.clustering.cluster_of.iter().enumerate() {
            let entity = EntityId(u64::from(*cluster) + 1);
            linker.entity_of.push(Some(entity));
            linker.members.entry(entity).or_default().push(index as u32);
        }
        linker.next_entity = u64::from(batch.clustering.cluster_count) + 1;
        let link_weight = linker.link_weight as f32;
        for (left, right, weight) in batch.scored_pairs.iter().filter(|pair| pair.2 >= link_weight) {
            if linker.entity_of[*left as usize] == linker.entity_of[*right as usize] {
                linker.links.entry(*left).or_default().push((*right, *weight));
                linker.links.entry(*right).or_default().push((*left, *weight));
            }
        }
        linker
    }

    /// The blocking index of records `features`, in record order within each block.
    fn build_index(rules: &[BlockingRule], features: &[RecordFeatures]) -> HashMap<u64, Vec<u32>> {
        let mut index: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut keys = Vec::new();
        for (record, record_features) in features.iter().enumerate() {
            keys.clear();
            for rule in rules {
                keys_for_rule(*rule, record_features, &mut keys);
            }
            for key in &keys {
                index.entry(*key).or_default().push(record as u32);
            }
        }
        index
    }

    /// The resolver state as bytes, for a server to keep (the format is described on `from_bytes`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let (role_counts_given, role_counts_family) = self.role_counts.to_sorted();
        let state = PersistedState {
            model: self.scorer.model.clone(),
            term_frequencies: self.scorer.term_frequencies.to_sorted(),
            interned: self.interner.strings().to_vec(),
            rules: self.rules.clone(),
            max_block_size: self.max_block_size as u64,
            link_weight: self.link_weight,
            features: self.features.clone(),
            record_ids: self.record_ids.clone(),
            entity_of: self.entity_of.clone(),
            members: sorted_entries(&self.members),
            links: sorted_entries(&self.links),
            role_counts_given,
            role_counts_family,
            next_entity: self.next_entity,
            events: self.events.clone(),
        };
        let mut bytes = Vec::with_capacity(STATE_MAGIC.len() + 4);
        bytes.extend_from_slice(&STATE_MAGIC);
        bytes.extend_from_slice(&STATE_FORMAT_VERSION.to_le_bytes());
        // Serialising plain owned data into a growing vector cannot fail.
        postcard::to_extend(&state, bytes).expect("postcard writes owned data into a Vec")
    }

    /// Reads a state written by `to_bytes`: the 8 bytes `AIDLINK\0`, the format version as a
    /// little-endian `u32`, then the state in postcard encoding. Refuses other versions and any
    /// state whose parts disagree with each other, rather than linking against a damaged index.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let payload = bytes.strip_prefix(&STATE_MAGIC[..]).ok_or(StateError::NotAState)?;
        let (version, payload) = payload.split_first_chunk::<4>().ok_or(StateError::NotAState)?;
        let version = u32::from_le_bytes(*version);
        if version != STATE_FORMAT_VERSION {
            return Err(StateError::Version { found: version, expected: STATE_FORMAT_VERSION });
        }
        let state: PersistedState = postcard::from_bytes(payload).map_err(|error| StateError::Damaged(error.to_string()))?;
        let damaged = |what: &str| StateError::Damaged(what.to_string());
        state.model.check_shape().map_err(|error| StateError::Damaged(error.to_string()))?;
        let record_count = state.features.len();
        if state.record_ids.len() != record_count || state.entity_of.len() != record_count {
            return Err(damaged("records, ids and entities differ in number"));
        }
        let in_range = |record: &u32| (*record as usize) < record_count;
        if !state.members.iter().all(|(_, members)| members.iter().all(in_range))
            || !state.links.iter().all(|(record, links)| in_range(record) && links.iter().all(|(other, _)| in_range(other)))
        {
            return Err(damaged("a member or link names a record that does not exist"));
        }
        if state.entity_of.iter().flatten().any(|entity| entity.0 >= state.next_entity) {
            return Err(damaged("an entity id is not below the next id to assign"));
        }
        let interned_count = state.interned.len();
        let interner = Interner::from_strings(state.interned);
        if interner.len() != interned_count {
            return Err(damaged("an interned string appears twice"));
        }
        let term_frequencies = TermFrequencies::from_sorted(state.term_frequencies).ok_or_else(|| damaged("term frequencies have the wrong field count"))?;
        let index = Self::build_index(&state.rules, &state.features);
        let index_of_id = state
            .record_ids
            .iter()
            .zip(&state.entity_of)
            .enumerate()
            .filter(|(_, (_, entity))| entity.is_some())
            .map(|(record, (record_id, _))| (record_id.clone(), record as u32))
            .collect();
        Ok(IncrementalLinker {
            scorer: Scorer::new(state.model, term_frequencies),
            interner,
            rules: state.rules,
            max_block_size: usize::try_from(state.max_block_size).map_err(|_| damaged("the block size does not fit this machine"))?,
            link_weight: state.link_weight,
            index,
            features: state.features,
            record_ids: state.record_ids,
            index_of_id,
            entity_of: state.entity_of,
            members: state.members.into_iter().collect(),
            links: state.links.into_iter().collect(),
            role_counts: NameRoleCounts::from_sorted(state.role_counts_given, state.role_counts_family),
            next_entity: state.next_entity,
            events: state.events,
        })
    }

    /// The blocking keys of a record, for a server that keeps the index in its database.
    pub fn blocking_keys(&mut self, record: &PersonRecord) -> Vec<u64> {
        let features = record_features(&mut self.interner, record);
        let mut keys = Vec::new();
        for rule in &self.rules {
            keys_for_rule(*rule, &features, &mut keys);
        }
        keys
    }

    fn new_entity(&mut self) -> EntityId {
        let entity = EntityId(self.next_entity);
        self.next_entity += 1;
        entity
    }

    /// Adds one record: finds candidates by key, scores them, and attaches, creates or merges.
    pub fn add_record(&mut self, record: &PersonRecord) -> Result<AddOutcome, IncrementalError> {
        if self.index_of_id.contains_key(&record.record_id) {
            return Err(IncrementalError::DuplicateRecordId(record.record_id.clone()));
        }
        let mut features = record_features(&mut self.interner, record);
        self.role_counts.add(&features);
        self.role_counts.repair(&mut features);
        self.scorer.term_frequencies.add(&self.scorer.model.term_frequency_fields.clone(), &features);

        let mut record_keys = Vec::new();
        for rule in &self.rules {
            keys_for_rule(*rule, &features, &mut record_keys);
        }
        let mut candidates: Vec<u32> = Vec::new();
        for key in &record_keys {
            if let Some(block) = self.index.get(key)
                && block.len() <= self.max_block_size
            {
                candidates.extend(block);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut matches: Vec<(u32, f32)> = candidates
            .into_iter()
            .filter(|candidate| self.entity_of[*candidate as usize].is_some())
            .filter_map(|candidate| {
                let other = &self.features[candidate as usize];
                let weight = self.scorer.weight(&compare(&self.interner, &features, other), &features);
                (weight >= self.link_weight).then_some((candidate, weight as f32))
            })
            .collect();
        matches.sort_by(|left, right| right.1.total_cmp(&left.1));

        let index = self.features.len() as u32;
        for key in record_keys {
            self.index.entry(key).or_default().push(index);
        }
        self.features.push(features);
        self.record_ids.push(record.record_id.clone());
        self.index_of_id.insert(record.record_id.clone(), index);

        let mut matched_entities: Vec<EntityId> = matches.iter().filter_map(|(candidate, _)| self.entity_of[*candidate as usize]).collect();
        matched_entities.sort_unstable();
        matched_entities.dedup();
        let mut events = Vec::new();
        let entity = match matched_entities.as_slice() {
            [] => {
                let entity = self.new_entity();
                events.push(EntityEvent::Created { entity, record_id: record.record_id.clone() });
                entity
            }
            [entity] => {
                events.push(EntityEvent::Attached {
                    entity: *entity,
                    record_id: record.record_id.clone(),
                    match_probability: probability_of_weight(f64::from(matches[0].1)),
                });
                *entity
            }
            [surviving, absorbed @ ..] => {
                // The oldest entity keeps its id, so references held elsewhere stay valid.
                let surviving = *surviving;
                let reasons: Vec<String> = matches
                    .iter()
                    .map(|(candidate, weight)| format!("{} ({:.3})", self.record_ids[*candidate as usize], probability_of_weight(f64::from(*weight))))
                    .collect();
                for entity in absorbed {
                    let moved = self.members.remove(entity).unwrap_or_default();
                    for member in &moved {
                        self.entity_of[*member as usize] = Some(surviving);
                    }
                    self.members.entry(surviving).or_default().extend(moved);
                }
                events.push(EntityEvent::Merged {
                    surviving,
                    absorbed: absorbed.to_vec(),
                    record_id: record.record_id.clone(),
                    reason: format!("record {} matches {}", record.record_id, reasons.join(", ")),
                });
                surviving
            }
        };
        self.entity_of.push(Some(entity));
        self.members.entry(entity).or_default().push(index);
        for (candidate, weight) in &matches {
            self.links.entry(index).or_default().push((*candidate, *weight));
            self.links.entry(*candidate).or_default().push((index, *weight));
        }
        self.events.extend(events.iter().cloned());
        let matches =
            matches.iter().map(|(candidate, weight)| (self.record_ids[*candidate as usize].clone(), probability_of_weight(f64::from(*weight)))).collect();
        Ok(AddOutcome { entity, matches, events })
    }

    /// Removes a record (withdrawn or found wrong); if its entity falls apart, the part with the
    /// oldest record keeps the id and the other parts become new entities.
    pub fn remove_record(&mut self, record_id: &str) -> Result<Vec<EntityEvent>, IncrementalError> {
        let index = *self.index_of_id.get(record_id).ok_or_else(|| IncrementalError::UnknownRecordId(record_id.into()))?;
        let Some(entity) = self.entity_of[index as usize].take() else {
            return Err(IncrementalError::UnknownRecordId(record_id.into()));
        };
        self.index_of_id.remove(record_id);
        for (neighbour, _) in self.links.remove(&index).unwrap_or_default() {
            if let Some(neighbour_links) = self.links.get_mut(&neighbour) {
                neighbour_links.retain(|(other, _)| *other != index);
            }
        }
        let remaining: Vec<u32> = self.members.remove(&entity).unwrap_or_default().into_iter().filter(|member| *member != index).collect();
        if remaining.is_empty() {
            return Ok(Vec::new());
        }
        // Connected parts of what is left, following the stored links.
        let member_set: HashSet<u32> = remaining.iter().copied().collect();
        let mut seen: HashSet<u32> = HashSet::new();
        let mut parts: Vec<Vec<u32>> = Vec::new();
        for start in &remaining {
            if !seen.insert(*start) {
                continue;
            }
            let mut part = vec![*start];
            let mut stack = vec![*start];
            while let Some(node) = stack.pop() {
                for (neighbour, _) in self.links.get(&node).map(Vec::as_slice).unwrap_or_default() {
                    if member_set.contains(neighbour) && seen.insert(*neighbour) {
                        part.push(*neighbour);
                        stack.push(*neighbour);
                    }
                }
            }
            part.sort_unstable();
            parts.push(part);
        }
        parts.sort_by_key(|part| part[0]);
        let mut parts = parts.into_iter();
        let kept = parts.next().unwrap_or_default();
        self.members.insert(entity, kept);
        let mut created = Vec::new();
        for part in parts {
            let new_entity = self.new_entity();
            for member in &part {
                self.entity_of[*member as usize] = Some(new_entity);
            }
            self.members.insert(new_entity, part);
            created.push(new_entity);
        }
        let events = if created.is_empty() {
            Vec::new()
        } else {
            vec![EntityEvent::Split { original: entity, created, reason: format!("record {record_id} was removed and held the parts together") }]
        };
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    /// The entity a record belongs to.
    pub fn entity_of(&self, record_id: &str) -> Option<EntityId> {
        self.index_of_id.get(record_id).and_then(|index| self.entity_of[*index as usize])
    }

    /// The record ids of an entity.
    pub fn members_of(&self, entity: EntityId) -> Vec<&str> {
        self.members.get(&entity).map(|members| members.iter().map(|member| self.record_ids[*member as usize].as_str()).collect()).unwrap_or_default()
    }

    /// Every event since this linker was created.
    pub fn events(&self) -> &[EntityEvent] {
        &self.events
    }

    pub fn record_count(&self) -> usize {
        self.index_of_id.len()
    }
}
