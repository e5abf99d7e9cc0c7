//! Batch linking: features, blocking, training (or a saved model), scoring and clustering in memory.

use crate::blocking::{BlockingConfig, RuleReport, candidate_pairs};
use crate::cluster::{ClusterConfig, Clustering, cluster, split_by_all_pairs};
use crate::explain::{Explanation, explain_pair};
use crate::features::{Interner, RecordFeatures, all_record_features_with, repair_name_order};
use crate::model::{Model, Scorer, TermFrequencies, TrainingConfig, score_pairs, train_for};
use crate::record::PersonRecord;
use crate::spec::ModelSpec;
use serde::{Deserialize, Serialize};

/// Settings of a batch run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchConfig {
    pub blocking: BlockingConfig,
    pub training: TrainingConfig,
    pub clustering: ClusterConfig,
    /// Scored pairs below this probability are dropped to save memory; they could never be linked.
    /// 0 keeps every candidate pair, however low its weight (to study a threshold).
    pub keep_pairs_above_probability: f64,
    /// Keep the candidate pairs in the result (to measure blocking recall against truth). Changes
    /// nothing else: the result is the same with or without, and on any number of threads.
    pub keep_candidate_pairs: bool,
    /// The model file to train for (a saved model given to `link_batch` brings its own). Its
    /// blocking rules replace `blocking.rules` unless it keeps only the built-in ones.
    #[serde(default)]
    pub model: ModelSpec,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            blocking: BlockingConfig::default(),
            training: TrainingConfig::default(),
            clustering: ClusterConfig::default(),
            keep_pairs_above_probability: 0.01,
            keep_candidate_pairs: false,
            model: ModelSpec::default(),
        }
    }
}

/// The stages of a batch run, reported to the caller so it can show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStage {
    Features,
    Blocking,
    Training,
    Scoring,
    Clustering,
}

impl BatchStage {
    pub fn name(self) -> &'static str {
        match self {
            BatchStage::Features => "normalising and computing features",
            BatchStage::Blocking => "blocking",
            BatchStage::Training => "training the model (EM)",
            BatchStage::Scoring => "scoring candidate pairs",
            BatchStage::Clustering => "clustering",
        }
    }
}

/// Everything a batch run produced.
#[derive(Debug, Clone)]
pub struct BatchResult {
    pub interner: Interner,
    pub features: Vec<RecordFeatures>,
    pub blocking_rules: Vec<RuleReport>,
    pub candidate_pair_count: u64,
    /// The candidate pairs, sorted, when `keep_candidate_pairs` was set; empty otherwise.
    pub candidate_pairs: Vec<(u32, u32)>,
    /// Records whose given and family names were swapped back into place.
    pub swapped_name_order: usize,
    pub scorer: Scorer,
    /// Pairs kept after scoring: (left index, right index, log2 match weight).
    pub scored_pairs: Vec<(u32, u32, f32)>,
    pub clustering: Clustering,
}

impl BatchResult {
    /// Explains the score of two records, given their indices.
    pub fn explain(&self, records: &[PersonRecord], left: usize, right: usize) -> Explanation {
        self.explain_ids((&records[left].record_id, left), (&records[right].record_id, right))
    }

    /// Explains the score of two records, given their ids and indices.
    pub fn explain_ids(&self, left: (&str, usize), right: (&str, usize)) -> Explanation {
        explain_pair(&self.scorer, &self.interner, (left.0, &self.features[left.1]), (right.0, &self.features[right.1]))
    }
}

/// What is left of a record once `link_batch_owned` has its features: its id and source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey {
    pub record_id: String,
    pub source: u16,
}

/// Links records: dedupes them (and links across sources) with a model trained on them, or with
/// `model` when one is given.
pub fn link_batch(records: &[PersonRecord], model: Option<Model>, config: &BatchConfig, on_stage: &mut dyn FnMut(BatchStage)) -> BatchResult {
    on_stage(BatchStage::Features);
    let spec = model.as_ref().map_or(&config.model, |model| &model.spec).clone();
    let mut interner = Interner::default();
    let features = all_record_features_with(&mut interner, records, &spec.fields);
    link_features(interner, features, &spec, model, config, on_stage)
}

/// `link_batch` for a caller that needs only each record's id and source afterwards: the records
/// are let go as soon as their features are computed, before blocking and scoring need the memory
/// (the parsed records of ten million people take several gigabytes). Returns the records' ids and
/// sources, in their order, with the result.
pub fn link_batch_owned(
    records: Vec<PersonRecord>,
    model: Option<Model>,
    config: &BatchConfig,
    on_stage: &mut dyn FnMut(BatchStage),
) -> (Vec<RecordKey>, BatchResult) {
    on_stage(BatchStage::Features);
    let spec = model.as_ref().map_or(&config.model, |model| &model.spec).clone();
    let mut interner = Interner::default();
    let features = all_record_features_with(&mut interner, &records, &spec.fields);
    let keys = records.into_iter().map(|record| RecordKey { record_id: record.record_id, source: record.source }).collect();
    (keys, link_features(interner, features, &spec, model, config, on_stage))
}

/// Everything after the features: blocking, training, scoring and clustering.
fn link_features(
    interner: Interner,
    mut features: Vec<RecordFeatures>,
    spec: &ModelSpec,
    model: Option<Model>,
    config: &BatchConfig,
    on_stage: &mut dyn FnMut(BatchStage),
) -> BatchResult {
    let swapped_name_order = repair_name_order(&mut features);
    on_stage(BatchStage::Blocking);
    let blocking = if spec.blocking == ModelSpec::default().blocking {
        config.blocking.clone()
    } else {
        BlockingConfig { rules: spec.blocking_rules(), ..config.blocking.clone() }
    };
    let candidates = candidate_pairs(&features, &blocking);
    on_stage(BatchStage::Training);
    let training = TrainingConfig { link_only: config.blocking.link_only, ..config.training.clone() };
    let model = model.unwrap_or_else(|| train_for(spec, &interner, &features, &candidates.pairs, &training));
    let term_frequencies = TermFrequencies::for_model(&model, &features);
    let scorer = Scorer::new(model, term_frequencies);
    on_stage(BatchStage::Scoring);
    let mut scored_pairs = score_pairs(&scorer, &interner, &features, &candidates.pairs, config.keep_pairs_above_probability);
    if config.keep_pairs_above_probability <= 0.0 && scored_pairs.len() < candidates.pairs.len() {
        scored_pairs =
            with_every_candidate(&candidates.pairs, scored_pairs, |left, right| scorer.score(&interner, &features[left as usize], &features[right as usize]));
    }
    on_stage(BatchStage::Clustering);
    let mut clustering = cluster(features.len(), &scored_pairs, &config.clustering);
    if config.clustering.check_all_pairs {
        split_by_all_pairs(&mut clustering, &config.clustering, |left, right| scorer.score(&interner, &features[left as usize], &features[right as usize]));
    }
    let candidate_pair_count = candidates.pairs.len() as u64;
    BatchResult {
        interner,
        features,
        blocking_rules: candidates.rules,
        candidate_pair_count,
        candidate_pairs: if config.keep_candidate_pairs { candidates.pairs } else { Vec::new() },
        swapped_name_order,
        scorer,
        scored_pairs,
        clustering,
    }
}

/// Every candidate pair with its weight: the pairs `score_pairs` kept, and the others (below its
/// floor, a probability of 1e-15 even when 0 is asked for) scored one by one, which gives the same
/// weights. Both lists are sorted by (left, right), and so is the result.
fn with_every_candidate(candidates: &[(u32, u32)], kept: Vec<(u32, u32, f32)>, score: impl Fn(u32, u32) -> f64) -> Vec<(u32, u32, f32)> {
    let mut kept = kept.into_iter().peekable();
    candidates
        .iter()
        .map(|&(left, right)| match kept.next_if(|pair| (pair.0, pair.1) == (left, right)) {
            Some(pair) => pair,
            None => (left, right, score(left, right) as f32),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_floor_of_zero_keeps_the_pairs_scoring_dropped_scored_alone() {
        let candidates = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)];
        let kept = vec![(0, 1, 5.0), (1, 3, -2.0)];
        let every = with_every_candidate(&candidates, kept, |left, right| -100.0 - f64::from(left * 10 + right));
        assert_eq!(every, vec![(0, 1, 5.0), (0, 2, -102.0), (1, 2, -112.0), (1, 3, -2.0), (2, 3, -123.0)]);
    }
}
