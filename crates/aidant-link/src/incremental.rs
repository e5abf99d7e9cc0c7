//! Incremental linking: add one record to a resolved set, keeping entity ids stable and recording merges and splits.
//!
//! Candidates come from blocking-key indexes (the same rules as batch mode), are scored by the same
//! model, and the record joins the entity it matches, a new entity, or, when it matches several,
//! merges them into the oldest. An entity id is never reused or renamed: merges and splits are
//! events with their reason.
//!
//! The decision itself is `decide_addition`: given the new record, its candidates (with their
//! entities) and the model, it says which candidates the record matches and whether it attaches,
//! creates or merges. `IncrementalLinker` keeps the whole resolved set in memory and calls it; a
//! server that keeps the resolved set as rows in its database fetches the candidates by their
//! `stable_keys` and calls the same function, so the two link alike. This crate does no IO itself.

use crate::batch::BatchResult;
use crate::blocking::{ALL_RULES, BlockingRule, record_keys};
use crate::cluster::ClusterConfig;
use crate::compare::{FIELD_COUNT, compare};
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

/// True when a block of `block_size` records (before the new one joins it) is searched for
/// candidates: larger blocks are shared hostels and switchboards, where other keys find the true
/// matches, as in batch mode.
pub fn searches_block(block_size: usize, max_block_size: usize) -> bool {
    block_size <= max_block_size
}

/// A resolved record that a new one may match.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub record_id: &'a str,
    pub features: &'a RecordFeatures,
    pub entity: EntityId,
}

/// What deciding an addition needs besides the record and its candidates.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInputs<'a> {
    pub scorer: &'a Scorer,
    /// The new record's term frequencies, counting the new record (`Scorer::term_fractions`, or a
    /// server's stored counts through `model::term_fraction`); NaN where unknown.
    pub term_fractions: &'a [f64; FIELD_COUNT],
    /// Pairs weighing at least this (log2) are links.
    pub link_weight: f64,
    /// Interns the strings of the new record's features and of every candidate's.
    pub interner: &'a Interner,
    /// The id a new entity gets.
    pub next_entity: EntityId,
}

/// What adding one record decided, before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: AddOutcome,
    /// The candidates it matched, as positions in the candidate list, with their log2 weights,
    /// strongest first: the links to store.
    pub links: Vec<(usize, f32)>,
    /// Entities that now belong to `outcome.entity` (a merge); empty otherwise.
    pub absorbed: Vec<EntityId>,
    /// True when `outcome.entity` is `next_entity`, which is now used.
    pub created: bool,
}

/// Decides what adding one record does: scores it against each candidate (the records sharing a
/// searched block with it, each once, in the order they were added), keeps those at or above the
/// link weight, and attaches the record to the one entity they belong to, creates an entity when
/// there is none, or merges several into the oldest, whose id survives so that references held
/// elsewhere stay valid. `features` must already be repaired (`NameRoleCounts::repair`).
pub fn decide_addition(inputs: &DecisionInputs<'_>, record_id: &str, features: &RecordFeatures, candidates: &[Candidate<'_>]) -> Decision {
    let mut links: Vec<(usize, f32)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(position, candidate)| {
            let weight = inputs.scorer.weight_with_fractions(&compare(inputs.interner, features, candidate.features), inputs.term_fractions);
            (weight >= inputs.link_weight).then_some((position, weight as f32))
        })
        .collect();
    links.sort_by(|left, right| right.1.total_cmp(&left.1));
    let probability = |weight: f32| probability_of_weight(f64::from(weight));

    let mut matched_entities: Vec<EntityId> = links.iter().map(|(position, _)| candidates[*position].entity).collect();
    matched_entities.sort_unstable();
    matched_entities.dedup();
    let (entity, absorbed, event) = match matched_entities.as_slice() {
        [] => (inputs.next_entity, Vec::new(), EntityEvent::Created { entity: inputs.next_entity, record_id: record_id.to_owned() }),
        [entity] => {
            (*entity, Vec::new(), EntityEvent::Attached { entity: *entity, record_id: record_id.to_owned(), match_probability: probability(links[0].1) })
        }
        [surviving, absorbed @ ..] => {
            let reasons: Vec<String> =
                links.iter().map(|(position, weight)| format!("{} ({:.3})", candidates[*position].record_id, probability(*weight))).collect();
            let event = EntityEvent::Merged {
                surviving: *surviving,
                absorbed: absorbed.to_vec(),
                record_id: record_id.to_owned(),
                reason: format!("record {record_id} matches {}", reasons.join(", ")),
            };
            (*surviving, absorbed.to_vec(), event)
        }
    };
    let matches = links.iter().map(|(position, weight)| (candidates[*position].record_id.to_owned(), probability(*weight))).collect();
    Decision { created: matched_entities.is_empty(), outcome: AddOutcome { entity, matches, events: vec![event] }, links, absorbed }
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
        for (record, record_features) in features.iter().enumerate() {
            for key in record_keys(rules, record_features) {
                index.entry(key).or_default().push(record as u32);
            }
        }
        index
    }

    fn new_entity(&mut self) -> EntityId {
        let entity = EntityId(self.next_entity);
        self.next_entity += 1;
        entity
    }

    /// Adds one record: finds candidates by key, scores them, and attaches, creates or merges
    /// (`decide_addition`).
    pub fn add_record(&mut self, record: &PersonRecord) -> Result<AddOutcome, IncrementalError> {
        if self.index_of_id.contains_key(&record.record_id) {
            return Err(IncrementalError::DuplicateRecordId(record.record_id.clone()));
        }
        let mut features = record_features(&mut self.interner, record);
        self.role_counts.add(&features);
        self.role_counts.repair(&mut features);
        self.scorer.term_frequencies.add(&self.scorer.model.term_frequency_fields.clone(), &features);

        let keys = record_keys(&self.rules, &features);
        let mut candidates: Vec<u32> = Vec::new();
        for key in &keys {
            if let Some(block) = self.index.get(key)
                && searches_block(block.len(), self.max_block_size)
            {
                candidates.extend(block);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|candidate| self.entity_of[*candidate as usize].is_some());
        let decision = {
            let views: Vec<Candidate<'_>> = candidates
                .iter()
                .filter_map(|candidate| {
                    let index = *candidate as usize;
                    Some(Candidate { record_id: &self.record_ids[index], features: &self.features[index], entity: self.entity_of[index]? })
                })
                .collect();
            let term_fractions = self.scorer.term_fractions(&features);
            let inputs = DecisionInputs {
                scorer: &self.scorer,
                term_fractions: &term_fractions,
                link_weight: self.link_weight,
                interner: &self.interner,
                next_entity: EntityId(self.next_entity),
            };
            decide_addition(&inputs, &record.record_id, &features, &views)
        };

        let index = self.features.len() as u32;
        for key in keys {
            self.index.entry(key).or_default().push(index);
        }
        self.features.push(features);
        self.record_ids.push(record.record_id.clone());
        self.index_of_id.insert(record.record_id.clone(), index);
        let entity = decision.outcome.entity;
        if decision.created {
            self.new_entity();
        }
        for absorbed in &decision.absorbed {
            let moved = self.members.remove(absorbed).unwrap_or_default();
            for member in &moved {
                self.entity_of[*member as usize] = Some(entity);
            }
            self.members.entry(entity).or_default().extend(moved);
        }
        self.entity_of.push(Some(entity));
        self.members.entry(entity).or_default().push(index);
        for (position, weight) in &decision.links {
            let candidate = candidates[*position];
            self.links.entry(index).or_default().push((candidate, *weight));
            self.links.entry(candidate).or_default().push((index, *weight));
        }
        self.events.extend(decision.outcome.events.iter().cloned());
        Ok(decision.outcome)
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
