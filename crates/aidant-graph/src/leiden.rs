//! Community detection with the Leiden algorithm (Traag, Waltman and van Eck, 2019), for
//! modularity with a resolution parameter and for the constant Potts model (CPM), seeded so the
//! same input, options and seed always give the same communities.
//!
//! The implementation works on flat vectors: compressed sparse rows for each level's graph, dense
//! per-community totals, and a first-in-first-out queue for the fast local moving phase. Each
//! iteration runs local moving, refinement within each community (only well-connected merges,
//! chosen at random with probability ∝ exp(gain / θ)), and aggregation of the refined partition,
//! until every community is a single node of the aggregate graph. Iterations repeat from the
//! previous partition until it no longer changes or the iteration limit is reached.

use std::collections::VecDeque;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::analysis::AnalysisGraph;

/// Which partition quality Leiden optimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityFunction {
    /// Newman–Girvan modularity with resolution γ:
    /// Q = Σ_c [ L_c / m − γ (K_c / 2m)² ], with L_c the internal weight and K_c the total strength.
    #[default]
    Modularity,
    /// Constant Potts model: H = Σ_c [ L_c − γ · n_c (n_c − 1) / 2 ], with n_c the node count;
    /// γ is then a density threshold, free of the resolution limit of modularity.
    ConstantPotts,
}

/// Options of a Leiden run. Every field is recorded in the run record.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeidenOptions {
    pub quality: QualityFunction,
    pub resolution: f64,
    pub seed: u64,
    /// How many full iterations to run; `None` repeats until the partition stops changing
    /// (capped at [`UNTIL_STABLE_ITERATION_CAP`]).
    pub max_iterations: Option<usize>,
    /// θ in the refinement phase: smaller is greedier. Gains are in edge-weight units.
    pub randomness: f64,
    /// Use edge strengths; otherwise every edge weighs 1.
    pub weighted: bool,
}

/// The most iterations a run "until stable" may take; real graphs settle within a handful.
pub const UNTIL_STABLE_ITERATION_CAP: usize = 100;

impl Default for LeidenOptions {
    fn default() -> Self {
        Self { quality: QualityFunction::Modularity, resolution: 1.0, seed: 1, max_iterations: None, randomness: 0.01, weighted: false }
    }
}

/// The communities found and the quality reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeidenResult {
    /// Community of each node, numbered from 0 by decreasing size (ties by smallest node).
    pub membership: Vec<usize>,
    pub community_count: usize,
    /// The optimised quality of the final partition (modularity or CPM, per the options).
    pub quality: f64,
    pub iterations: usize,
    /// Whether the last iteration left the partition unchanged.
    pub converged: bool,
}

/// Runs Leiden on an analysis graph.
pub fn leiden(graph: &AnalysisGraph, options: &LeidenOptions) -> LeidenResult {
    let base = LevelGraph::from_analysis(graph, options);
    let resolution_scale = match options.quality {
        QualityFunction::Modularity => {
            let total_node_weight: f64 = base.node_weight.iter().sum();
            if total_node_weight > 0.0 { options.resolution / total_node_weight } else { 0.0 }
        }
        QualityFunction::ConstantPotts => options.resolution,
    };
    let mut generator = ChaCha8Rng::seed_from_u64(options.seed);
    let iteration_limit = options.max_iterations.unwrap_or(UNTIL_STABLE_ITERATION_CAP).max(1);
    let mut membership: Vec<u32> = (0..base.node_count() as u32).collect();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < iteration_limit {
        iterations += 1;
        let next = renumber_by_first_appearance(&one_iteration(&base, &membership, resolution_scale, options.randomness, &mut generator)).0;
        if next == membership {
            converged = true;
            break;
        }
        membership = next;
    }
    let membership = renumber_by_size(&membership);
    let community_count = membership.iter().copied().max().map_or(0, |largest| largest + 1);
    let quality = match options.quality {
        QualityFunction::Modularity => modularity(graph, &membership, options.resolution, options.weighted),
        QualityFunction::ConstantPotts => cpm_quality(graph, &membership, options.resolution, options.weighted),
    };
    LeidenResult { membership, community_count, quality, iterations, converged }
}

/// The quality one run of several reached, by its seed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunQuality {
    pub seed: u64,
    pub quality: f64,
}

/// The best of several Leiden runs, and what every run reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestOfRuns {
    /// The partition of highest quality; on a tie, the one from the lowest seed.
    pub best: LeidenResult,
    pub best_seed: u64,
    /// Every run in seed order.
    pub runs: Vec<RunQuality>,
}

impl BestOfRuns {
    /// The lowest and highest quality over the runs.
    pub fn quality_range(&self) -> (f64, f64) {
        self.runs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), run| (low.min(run.quality), high.max(run.quality)))
    }
}

/// Runs Leiden `runs` times (at least once), from seeds `options.seed`, `options.seed + 1`, ...,
/// and keeps the partition of highest quality, ties going to the lowest seed. Leiden is a
/// randomised heuristic, so the best of a few runs is often better than one; each run depends
/// only on its seed, and the runs run in parallel but are compared in seed order, so the answer
/// is the same on any machine. Seeds stop at `u64::MAX` rather than wrap around.
pub fn leiden_best_of_runs(graph: &AnalysisGraph, options: &LeidenOptions, runs: usize) -> BestOfRuns {
    use rayon::prelude::*;
    let seeds: Vec<u64> = (0..runs.max(1) as u64).map_while(|offset| options.seed.checked_add(offset)).collect();
    let results: Vec<(u64, LeidenResult)> = seeds.par_iter().map(|&seed| (seed, leiden(graph, &LeidenOptions { seed, ..*options }))).collect();
    let runs = results.iter().map(|(seed, result)| RunQuality { seed: *seed, quality: result.quality }).collect();
    // Strictly greater replaces, so among equal qualities the earliest (lowest) seed stays.
    let (best_seed, best) =
        results.into_iter().reduce(|kept, candidate| if candidate.1.quality > kept.1.quality { candidate } else { kept }).expect("at least one seed");
    BestOfRuns { best, best_seed, runs }
}

/// Modularity of a partition with resolution γ, as networkx's `modularity` computes it.
pub fn modularity(graph: &AnalysisGraph, membership: &[usize], resolution: f64, weighted: bool) -> f64 {
    let community_count = membership.iter().copied().max().map_or(0, |largest| largest + 1);
    let mut internal = vec![0.0; community_count];
    let mut strength = vec![0.0; community_count];
    for node in 0..graph.node_count() {
        let community = membership[node];
        for (neighbour, edge_strength) in graph.neighbours(node).iter().zip(graph.strengths(node)) {
            let weight = if weighted { *edge_strength } else { 1.0 };
            strength[community] += weight;
            if membership[*neighbour as usize] == community {
                internal[community] += weight;
            }
        }
    }
    let twice_total: f64 = strength.iter().sum();
    if twice_total == 0.0 {
        return 0.0;
    }
    internal.iter().zip(&strength).map(|(inside, total)| inside / twice_total - resolution * (total / twice_total).powi(2)).sum()
}

/// Constant Potts model quality Σ_c [ L_c − γ n_c (n_c − 1) / 2 ].
pub fn cpm_quality(graph: &AnalysisGraph, membership: &[usize], resolution: f64, weighted: bool) -> f64 {
    let community_count = membership.iter().copied().max().map_or(0, |largest| largest + 1);
    let mut internal = vec![0.0; community_count];
    let mut size = vec![0.0f64; community_count];
    for node in 0..graph.node_count() {
        let community = membership[node];
        size[community] += 1.0;
        for (neighbour, edge_strength) in graph.neighbours(node).iter().zip(graph.strengths(node)) {
            if membership[*neighbour as usize] == community {
                internal[community] += if weighted { *edge_strength } else { 1.0 } / 2.0;
            }
        }
    }
    internal.iter().zip(&size).map(|(inside, nodes)| inside - resolution * nodes * (nodes - 1.0) / 2.0).sum()
}

/// One level's graph: CSR adjacency without self-loops (a node's internal weight never affects
/// which community it should join) plus a weight per node (strength for modularity, size for CPM).
struct LevelGraph {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
    node_weight: Vec<f64>,
}

impl LevelGraph {
    fn from_analysis(graph: &AnalysisGraph, options: &LeidenOptions) -> Self {
        let node_count = graph.node_count();
        let mut offsets = Vec::with_capacity(node_count + 1);
        let mut targets = Vec::with_capacity(graph.edge_count() * 2);
        let mut weights = Vec::with_capacity(graph.edge_count() * 2);
        let mut node_weight = Vec::with_capacity(node_count);
        offsets.push(0);
        for node in 0..node_count {
            targets.extend_from_slice(graph.neighbours(node));
            let start = weights.len();
            if options.weighted {
                weights.extend_from_slice(graph.strengths(node));
            } else {
                weights.resize(start + graph.degree(node), 1.0);
            }
            offsets.push(targets.len());
            node_weight.push(match options.quality {
                QualityFunction::Modularity => weights[start..].iter().sum(),
                QualityFunction::ConstantPotts => 1.0,
            });
        }
        Self { offsets, targets, weights, node_weight }
    }

    fn node_count(&self) -> usize {
        self.node_weight.len()
    }

    fn adjacency(&self, node: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.offsets[node]..self.offsets[node + 1];
        self.targets[range.clone()].iter().zip(&self.weights[range]).map(|(target, weight)| (*target as usize, *weight))
    }

    /// The graph whose nodes are the groups of `group_of` (numbered 0..group_count), with the
    /// weights between groups summed and the weights inside a group dropped.
    fn aggregate(&self, group_of: &[u32], group_count: usize) -> LevelGraph {
        let mut members_start = vec![0usize; group_count + 1];
        for &group in group_of {
            members_start[group as usize + 1] += 1;
        }
        for group in 0..group_count {
            members_start[group + 1] += members_start[group];
        }
        let mut members = vec![0u32; group_of.len()];
        let mut fill = members_start.clone();
        for (node, &group) in group_of.iter().enumerate() {
            members[fill[group as usize]] = node as u32;
            fill[group as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(group_count + 1);
        let mut targets = Vec::new();
        let mut weights = Vec::new();
        let mut node_weight = vec![0.0; group_count];
        let mut accumulated = vec![0.0f64; group_count];
        let mut touched: Vec<u32> = Vec::new();
        let mut is_touched = vec![false; group_count];
        offsets.push(0);
        for group in 0..group_count {
            for &member in &members[members_start[group]..members_start[group + 1]] {
                let member = member as usize;
                node_weight[group] += self.node_weight[member];
                for (neighbour, weight) in self.adjacency(member) {
                    let neighbour_group = group_of[neighbour];
                    if neighbour_group as usize == group {
                        continue;
                    }
                    if !is_touched[neighbour_group as usize] {
                        is_touched[neighbour_group as usize] = true;
                        touched.push(neighbour_group);
                    }
                    accumulated[neighbour_group as usize] += weight;
                }
            }
            for &neighbour_group in &touched {
                targets.push(neighbour_group);
                weights.push(accumulated[neighbour_group as usize]);
                accumulated[neighbour_group as usize] = 0.0;
                is_touched[neighbour_group as usize] = false;
            }
            touched.clear();
            offsets.push(targets.len());
        }
        LevelGraph { offsets, targets, weights, node_weight }
    }
}

/// Dense scratch space that sums edge weights per community for one node at a time.
struct NeighbourWeights {
    weight: Vec<f64>,
    is_listed: Vec<bool>,
    listed: Vec<u32>,
}

impl NeighbourWeights {
    fn new(size: usize) -> Self {
        Self { weight: vec![0.0; size], is_listed: vec![false; size], listed: Vec::new() }
    }

    fn add(&mut self, community: u32, weight: f64) {
        let slot = community as usize;
        if !self.is_listed[slot] {
            self.is_listed[slot] = true;
            self.listed.push(community);
        }
        self.weight[slot] += weight;
    }

    fn clear(&mut self) {
        for &community in &self.listed {
            self.weight[community as usize] = 0.0;
            self.is_listed[community as usize] = false;
        }
        self.listed.clear();
    }
}

/// One Leiden iteration on the base graph from a starting partition; returns the new partition
/// of the base graph's nodes.
fn one_iteration(base: &LevelGraph, starting_membership: &[u32], resolution_scale: f64, randomness: f64, generator: &mut ChaCha8Rng) -> Vec<u32> {
    let mut aggregated: Option<LevelGraph> = None;
    let mut membership = starting_membership.to_vec();
    let mut level_node_of_base: Vec<u32> = (0..base.node_count() as u32).collect();
    loop {
        let graph = aggregated.as_ref().unwrap_or(base);
        move_nodes_fast(graph, &mut membership, resolution_scale, generator);
        let (membership_compact, community_count) = renumber_by_first_appearance(&membership);
        membership = membership_compact;
        if community_count == graph.node_count() {
            break;
        }
        let refined = refine(graph, &membership, community_count, resolution_scale, randomness, generator);
        let (mut groups, mut group_count) = renumber_by_first_appearance(&refined);
        if group_count == graph.node_count() {
            // Refinement merged nothing; aggregating the unrefined partition still makes progress.
            groups.clone_from(&membership);
            group_count = community_count;
        }
        let next_graph = graph.aggregate(&groups, group_count);
        let mut next_membership = vec![0u32; group_count];
        for (node, &group) in groups.iter().enumerate() {
            next_membership[group as usize] = membership[node];
        }
        for level_node in &mut level_node_of_base {
            *level_node = groups[*level_node as usize];
        }
        membership = next_membership;
        aggregated = Some(next_graph);
    }
    level_node_of_base.iter().map(|&level_node| membership[level_node as usize]).collect()
}

/// The fast local moving phase: visit nodes from a queue, move each to the neighbouring
/// community (or an empty one) with the best strictly positive gain, and requeue the neighbours
/// that a move may now attract.
fn move_nodes_fast(graph: &LevelGraph, membership: &mut [u32], resolution_scale: f64, generator: &mut ChaCha8Rng) {
    let node_count = graph.node_count();
    let mut community_weight = vec![0.0; node_count];
    let mut community_size = vec![0u32; node_count];
    for node in 0..node_count {
        community_weight[membership[node] as usize] += graph.node_weight[node];
        community_size[membership[node] as usize] += 1;
    }
    let mut empty_communities: Vec<u32> = (0..node_count as u32).rev().filter(|&community| community_size[community as usize] == 0).collect();
    let mut order: Vec<u32> = (0..node_count as u32).collect();
    order.shuffle(generator);
    let mut queue: VecDeque<u32> = order.into();
    let mut in_queue = vec![true; node_count];
    let mut neighbour_weights = NeighbourWeights::new(node_count);
    while let Some(node) = queue.pop_front() {
        let node = node as usize;
        in_queue[node] = false;
        let current = membership[node];
        let node_weight = graph.node_weight[node];
        for (neighbour, weight) in graph.adjacency(node) {
            neighbour_weights.add(membership[neighbour], weight);
        }
        community_weight[current as usize] -= node_weight;
        community_size[current as usize] -= 1;
        let gain = |community: u32, weights: &NeighbourWeights| {
            weights.weight[community as usize] - resolution_scale * node_weight * community_weight[community as usize]
        };
        let mut best = current;
        let mut best_gain = gain(current, &neighbour_weights);
        for &community in &neighbour_weights.listed {
            let candidate_gain = gain(community, &neighbour_weights);
            if candidate_gain > best_gain {
                best = community;
                best_gain = candidate_gain;
            }
        }
        if best_gain < 0.0
            && community_size[current as usize] > 0
            && let Some(empty) = empty_communities.pop()
        {
            best = empty;
        }
        community_weight[best as usize] += node_weight;
        community_size[best as usize] += 1;
        if community_size[current as usize] == 0 {
            empty_communities.push(current);
        }
        neighbour_weights.clear();
        if best != current {
            membership[node] = best;
            for (neighbour, _) in graph.adjacency(node) {
                if !in_queue[neighbour] && membership[neighbour] != best {
                    in_queue[neighbour] = true;
                    queue.push_back(neighbour as u32);
                }
            }
        }
    }
}

/// The refinement phase: inside each community, start from singletons and merge each
/// still-singleton, well-connected node into a well-connected sub-community of the same
/// community, chosen at random with probability ∝ exp(gain / θ) among non-negative gains.
/// This is what guarantees Leiden's communities are connected.
fn refine(graph: &LevelGraph, membership: &[u32], community_count: usize, resolution_scale: f64, randomness: f64, generator: &mut ChaCha8Rng) -> Vec<u32> {
    let node_count = graph.node_count();
    let mut community_weight = vec![0.0; community_count];
    for node in 0..node_count {
        community_weight[membership[node] as usize] += graph.node_weight[node];
    }
    let mut refined: Vec<u32> = (0..node_count as u32).collect();
    let mut refined_weight = graph.node_weight.clone();
    let mut refined_size = vec![1u32; node_count];
    // Weight from a node to the rest of its community, and from a sub-community to the rest.
    let node_external: Vec<f64> = (0..node_count)
        .map(|node| graph.adjacency(node).filter(|(neighbour, _)| membership[*neighbour] == membership[node]).map(|(_, weight)| weight).sum())
        .collect();
    let mut refined_external = node_external.clone();
    let mut order: Vec<u32> = (0..node_count as u32).collect();
    order.shuffle(generator);
    let mut neighbour_weights = NeighbourWeights::new(node_count);
    let mut candidates: Vec<(u32, f64)> = Vec::new();
    for node in order {
        let node = node as usize;
        let own = refined[node];
        if refined_size[own as usize] != 1 {
            continue;
        }
        let community = membership[node];
        let node_weight = graph.node_weight[node];
        let community_total = community_weight[community as usize];
        if node_external[node] < resolution_scale * node_weight * (community_total - node_weight) {
            continue;
        }
        for (neighbour, weight) in graph.adjacency(node) {
            if membership[neighbour] == community {
                neighbour_weights.add(refined[neighbour], weight);
            }
        }
        candidates.clear();
        candidates.push((own, 0.0));
        for &sub_community in &neighbour_weights.listed {
            if sub_community == own {
                continue;
            }
            let sub_weight = refined_weight[sub_community as usize];
            let well_connected = refined_external[sub_community as usize] >= resolution_scale * sub_weight * (community_total - sub_weight);
            let gain = neighbour_weights.weight[sub_community as usize] - resolution_scale * node_weight * sub_weight;
            if well_connected && gain >= 0.0 {
                candidates.push((sub_community, gain));
            }
        }
        let chosen = choose_by_exponential_weight(&candidates, randomness, generator);
        if chosen != own {
            let link_weight = neighbour_weights.weight[chosen as usize];
            refined[node] = chosen;
            refined_weight[chosen as usize] += node_weight;
            refined_size[chosen as usize] += 1;
            refined_external[chosen as usize] += node_external[node] - 2.0 * link_weight;
            refined_size[own as usize] = 0;
            refined_weight[own as usize] = 0.0;
        }
        neighbour_weights.clear();
    }
    refined
}

/// Picks one candidate with probability ∝ exp(gain / θ); the largest gain is subtracted first so
/// the exponentials cannot overflow.
fn choose_by_exponential_weight(candidates: &[(u32, f64)], randomness: f64, generator: &mut ChaCha8Rng) -> u32 {
    if candidates.len() == 1 {
        return candidates[0].0;
    }
    let largest_gain = candidates.iter().map(|(_, gain)| *gain).fold(f64::NEG_INFINITY, f64::max);
    let theta = randomness.max(f64::MIN_POSITIVE);
    let total: f64 = candidates.iter().map(|(_, gain)| ((gain - largest_gain) / theta).exp()).sum();
    let mut remaining = generator.random::<f64>() * total;
    for (candidate, gain) in candidates {
        remaining -= ((gain - largest_gain) / theta).exp();
        if remaining <= 0.0 {
            return *candidate;
        }
    }
    candidates.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(candidate, _)| *candidate).unwrap_or(candidates[0].0)
}

/// Renumbers labels 0.. in order of first appearance; returns the labels and how many there are.
fn renumber_by_first_appearance(labels: &[u32]) -> (Vec<u32>, usize) {
    let largest = labels.iter().copied().max().map_or(0, |largest| largest as usize + 1);
    let mut new_label = vec![u32::MAX; largest];
    let mut count = 0u32;
    let renumbered = labels
        .iter()
        .map(|&label| {
            if new_label[label as usize] == u32::MAX {
                new_label[label as usize] = count;
                count += 1;
            }
            new_label[label as usize]
        })
        .collect();
    (renumbered, count as usize)
}

/// Renumbers labels 0.. by decreasing community size, ties by smallest member.
fn renumber_by_size(labels: &[u32]) -> Vec<usize> {
    let (first_appearance, count) = renumber_by_first_appearance(labels);
    let mut sizes = vec![0usize; count];
    for &label in &first_appearance {
        sizes[label as usize] += 1;
    }
    let mut ranking: Vec<usize> = (0..count).collect();
    ranking.sort_by(|a, b| sizes[*b].cmp(&sizes[*a]).then(a.cmp(b)));
    let mut rank_of = vec![0usize; count];
    for (rank, label) in ranking.into_iter().enumerate() {
        rank_of[label] = rank;
    }
    first_appearance.iter().map(|&label| rank_of[label as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 5-cliques joined by a single edge.
    fn two_cliques() -> AnalysisGraph {
        let mut edges = Vec::new();
        for offset in [0, 5] {
            for a in 0..5 {
                for b in (a + 1)..5 {
                    edges.push((offset + a, offset + b));
                }
            }
        }
        edges.push((4, 5));
        AnalysisGraph::from_unweighted_edges(10, edges)
    }

    #[test]
    fn separates_two_cliques_with_both_qualities() {
        for quality in [QualityFunction::Modularity, QualityFunction::ConstantPotts] {
            let options = LeidenOptions { quality, resolution: if quality == QualityFunction::Modularity { 1.0 } else { 0.5 }, ..Default::default() };
            let result = leiden(&two_cliques(), &options);
            assert_eq!(result.membership, vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1], "{quality:?}");
            assert!(result.converged);
        }
        let result = leiden(&two_cliques(), &LeidenOptions::default());
        let expected = 2.0 * (10.0 / 21.0 - (21.0f64 / 42.0).powi(2));
        assert!((result.quality - expected).abs() < 1e-12);
    }

    #[test]
    fn resolution_controls_granularity() {
        let coarse = LeidenOptions { resolution: 0.01, ..Default::default() };
        assert_eq!(leiden(&two_cliques(), &coarse).community_count, 1);
        let fine = LeidenOptions { quality: QualityFunction::ConstantPotts, resolution: 1.5, ..Default::default() };
        assert_eq!(leiden(&two_cliques(), &fine).community_count, 10);
    }

    #[test]
    fn isolated_nodes_and_empty_graphs_are_handled() {
        let graph = AnalysisGraph::from_unweighted_edges(3, []);
        let result = leiden(&graph, &LeidenOptions::default());
        assert_eq!(result.membership, vec![0, 1, 2]);
        assert_eq!(result.quality, 0.0);
        let empty = AnalysisGraph::from_unweighted_edges(0, []);
        assert_eq!(leiden(&empty, &LeidenOptions::default()).community_count, 0);
    }

    /// Whether the nodes of each community form a connected subgraph.
    fn communities_are_connected(graph: &AnalysisGraph, membership: &[usize]) -> bool {
        let community_count = membership.iter().copied().max().map_or(0, |largest| largest + 1);
        (0..community_count).all(|community| {
            let members: Vec<usize> = (0..graph.node_count()).filter(|&node| membership[node] == community).collect();
            let mut reached = vec![false; graph.node_count()];
            let mut stack = vec![members[0]];
            reached[members[0]] = true;
            while let Some(node) = stack.pop() {
                for &neighbour in graph.neighbours(node) {
                    let neighbour = neighbour as usize;
                    if membership[neighbour] == community && !reached[neighbour] {
                        reached[neighbour] = true;
                        stack.push(neighbour);
                    }
                }
            }
            members.iter().all(|&member| reached[member])
        })
    }

    proptest::proptest! {
        /// Leiden's defining guarantee over Louvain: no community is internally disconnected.
        #[test]
        fn communities_are_always_connected_and_reproducible(
            node_count in 1usize..40,
            edges in proptest::collection::vec((0usize..40, 0usize..40, 1u8..4), 0..120),
            seed in 0u64..1000,
            use_cpm in proptest::bool::ANY,
        ) {
            let graph = AnalysisGraph::from_weighted_edges(
                node_count,
                edges.into_iter().map(|(u, v, weight)| (u, v, f64::from(weight))),
            );
            let options = LeidenOptions {
                quality: if use_cpm { QualityFunction::ConstantPotts } else { QualityFunction::Modularity },
                resolution: if use_cpm { 0.3 } else { 1.0 },
                seed,
                weighted: true,
                ..Default::default()
            };
            let result = leiden(&graph, &options);
            proptest::prop_assert!(communities_are_connected(&graph, &result.membership));
            proptest::prop_assert_eq!(&result, &leiden(&graph, &options));
            if !use_cpm {
                let singletons: Vec<usize> = (0..node_count).collect();
                proptest::prop_assert!(result.quality >= modularity(&graph, &singletons, 1.0, true) - 1e-12);
            }
        }
    }

    proptest::proptest! {
        /// The best of N runs is at least as good as the first of them alone (the run of a
        /// single `--seed`), is the best of the runs' qualities, goes to the lowest seed on a
        /// tie, and is the same every time.
        #[test]
        fn the_best_of_several_runs_is_never_worse_than_one(
            node_count in 2usize..40,
            edges in proptest::collection::vec((0usize..40, 0usize..40, 1u8..4), 1..120),
            seed in 0u64..1000,
            runs in 1usize..6,
        ) {
            let graph = AnalysisGraph::from_weighted_edges(node_count, edges.into_iter().map(|(u, v, weight)| (u, v, f64::from(weight))));
            let options = LeidenOptions { seed, weighted: true, ..Default::default() };
            let best_of = leiden_best_of_runs(&graph, &options, runs);
            let single = leiden(&graph, &options);
            proptest::prop_assert!(best_of.best.quality >= single.quality);
            proptest::prop_assert_eq!(best_of.runs.len(), runs);
            proptest::prop_assert_eq!(best_of.runs[0], RunQuality { seed, quality: single.quality });
            let highest = best_of.runs.iter().map(|run| run.quality).fold(f64::NEG_INFINITY, f64::max);
            let first_best = best_of.runs.iter().find(|run| run.quality == highest).unwrap();
            proptest::prop_assert_eq!(best_of.best_seed, first_best.seed);
            proptest::prop_assert_eq!(&best_of.best, &leiden(&graph, &LeidenOptions { seed: best_of.best_seed, ..options }));
            proptest::prop_assert_eq!(&best_of, &leiden_best_of_runs(&graph, &options, runs));
        }
    }

    #[test]
    fn runs_stop_at_the_largest_seed_and_at_least_one_runs() {
        let options = LeidenOptions { seed: u64::MAX - 1, ..Default::default() };
        let best_of = leiden_best_of_runs(&two_cliques(), &options, 5);
        assert_eq!(best_of.runs.iter().map(|run| run.seed).collect::<Vec<_>>(), [u64::MAX - 1, u64::MAX]);
        assert_eq!(leiden_best_of_runs(&two_cliques(), &LeidenOptions::default(), 0).runs.len(), 1);
        let (low, high) = best_of.quality_range();
        assert!(low <= high && high == best_of.best.quality);
    }

    #[test]
    fn cpm_quality_counts_internal_edges_against_possible_pairs() {
        let graph = two_cliques();
        let membership = vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        assert!((cpm_quality(&graph, &membership, 0.5, false) - (2.0 * (10.0 - 5.0))).abs() < 1e-12);
    }
}
