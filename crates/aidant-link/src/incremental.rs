//! Incremental linking: add one record to a resolved set, keeping entity ids stable and recording merges and splits.
//!
//! Candidates come from blocking-key indexes (the same rules as batch mode), are scored by the same
//! model, and the record joins the entity it matches, a new entity, or, when it matches several,
//! merges them into the oldest. An entity id is never reused or renamed: merges and splits are
//! events with their reason. The keys of a record are available (`blocking_keys`) so that a server
//! can keep the index in its database and fetch candidates by key.

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
        let mut keys = Vec::new();
        for (index, record_features) in batch.features.iter().enumerate() {
            for rule in &linker.rules {
                keys.clear();
                keys_for_rule(*rule, record_features, &mut keys);
                for key in &keys {
                    linker.index.entry(*key).or_default().push(index as u32);
                }
            }
        }
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
