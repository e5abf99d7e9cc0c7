//! Centrality measures with networkx's definitions and normalisations: degree, betweenness (exact
//! and sampled), closeness (with the Wasserman–Faust correction) and eigenvector.
//!
//! Betweenness and closeness run one single-source search per node in parallel on rayon's pool.
//! Sources are split into a fixed number of chunks and the per-chunk sums are added in chunk order,
//! so the floating-point result does not depend on how many threads ran or how work was stolen.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analysis::AnalysisGraph;

/// How many chunks the sources are split into. Fixed so results are bit-for-bit reproducible
/// across machines with different core counts; large enough to keep a few cores busy.
const SOURCE_CHUNKS: usize = 32;

/// Each node's strength: the sum of the strengths of its ties (networkx's `G.degree(weight=
/// "weight")`), which is its degree when every tie has strength 1.
pub fn node_strengths(graph: &AnalysisGraph) -> Vec<f64> {
    (0..graph.node_count()).map(|node| graph.strength(node)).collect()
}

/// Degree centrality as networkx defines it: degree / (n − 1), and 1 for a graph of one node.
pub fn degree_centrality(graph: &AnalysisGraph) -> Vec<f64> {
    let node_count = graph.node_count();
    if node_count <= 1 {
        return vec![1.0; node_count];
    }
    let scale = 1.0 / (node_count as f64 - 1.0);
    (0..node_count).map(|node| graph.degree(node) as f64 * scale).collect()
}

/// Options shared by the path-based centralities.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathCentralityOptions {
    /// Use edge distances (networkx `weight="weight"`) instead of hop counts.
    pub weighted: bool,
    /// Divide betweenness by the number of node pairs, as networkx's `normalized=True` does.
    pub normalized: bool,
}

/// Exact betweenness centrality by Brandes' algorithm, endpoints excluded. With `normalized`
/// the value of v is the sum over unordered pairs {s, t} (s, t ≠ v) of the share of shortest s–t
/// paths through v, divided by (n − 1)(n − 2)/2, which is networkx's `normalized=True` for an
/// undirected graph; without it the plain pair sum is returned.
pub fn betweenness_centrality(graph: &AnalysisGraph, options: PathCentralityOptions) -> Vec<f64> {
    betweenness_centrality_with_progress(graph, options, &|_, _| {})
}

/// [`betweenness_centrality`], calling `progress(done, total)` as each of the fixed chunks of
/// sources completes, so a caller can draw a progress bar on long runs.
pub fn betweenness_centrality_with_progress(graph: &AnalysisGraph, options: PathCentralityOptions, progress: &(dyn Fn(usize, usize) + Sync)) -> Vec<f64> {
    let node_count = graph.node_count();
    let sources: Vec<usize> = (0..node_count).collect();
    let mut dependencies = if options.weighted {
        sum_dependencies(graph, &sources, true, progress)
    } else {
        // Renumbering nodes in breadth-first order puts neighbours next to each other in
        // memory, so the many searches below hit the cache far more often.
        let (relabelled, new_label_of) = relabel_breadth_first(graph);
        let relabelled_sums = sum_dependencies(&relabelled, &sources, false, progress);
        new_label_of.iter().map(|&label| relabelled_sums[label]).collect()
    };
    // Brandes counts each unordered pair twice (once from each end), hence the halving.
    let scale = if options.normalized { if node_count <= 2 { 1.0 } else { 1.0 / ((node_count as f64 - 1.0) * (node_count as f64 - 2.0)) } } else { 0.5 };
    dependencies.iter_mut().for_each(|value| *value *= scale);
    dependencies
}

/// Betweenness estimated from a uniform sample of source nodes (pivots), with a stated error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampledBetweenness {
    /// Normalised estimates (same scale as [`betweenness_centrality`] with `normalized`).
    pub values: Vec<f64>,
    pub pivots: usize,
    pub seed: u64,
    /// With probability at least `1 − failure_probability`, every value is within
    /// `error_bound` of the exact normalised betweenness.
    pub error_bound: f64,
    pub failure_probability: f64,
}

/// Approximate normalised betweenness from `pivots` source nodes drawn without replacement with a
/// seeded ChaCha8 generator.
///
/// The estimator is networkx's unbiased one: for a node that is not a pivot, the sum of its
/// dependencies over the k pivots is scaled by 1 / (k (n − 2)); for a pivot, by 1 / ((k − 1)(n − 2)).
/// Each pivot's dependency divided by (n − 2) lies in [0, 1], and the exact normalised value is its
/// mean over the n − 1 other nodes, so Hoeffding's inequality (which holds for sampling without
/// replacement) with a union bound over the n nodes gives, with probability ≥ 1 − δ, a maximum
/// error of ε = sqrt(ln(2n/δ) / (2(k − 1))).
pub fn approximate_betweenness_centrality(graph: &AnalysisGraph, weighted: bool, pivots: usize, seed: u64, failure_probability: f64) -> SampledBetweenness {
    let node_count = graph.node_count();
    let pivots = pivots.clamp(usize::from(node_count > 0), node_count);
    let mut generator = ChaCha8Rng::seed_from_u64(seed);
    let mut sources = rand::seq::index::sample(&mut generator, node_count, pivots).into_vec();
    sources.sort_unstable();
    let mut values = sum_dependencies(graph, &sources, weighted, &|_, _| {});
    let mut is_pivot = vec![false; node_count];
    sources.iter().for_each(|&source| is_pivot[source] = true);
    if node_count > 2 {
        let pair_scale = node_count as f64 - 2.0;
        for (node, value) in values.iter_mut().enumerate() {
            let effective_pivots = if is_pivot[node] { pivots as f64 - 1.0 } else { pivots as f64 };
            *value = if effective_pivots > 0.0 { *value / (effective_pivots * pair_scale) } else { 0.0 };
        }
    }
    let failure_probability = failure_probability.clamp(f64::MIN_POSITIVE, 1.0);
    let error_bound = if pivots >= node_count {
        0.0
    } else if pivots < 2 {
        1.0
    } else {
        ((2.0 * node_count as f64 / failure_probability).ln() / (2.0 * (pivots as f64 - 1.0))).sqrt().min(1.0)
    };
    SampledBetweenness { values, pivots, seed, error_bound, failure_probability }
}

/// Closeness centrality as networkx defines it with `wf_improved=True`: for a node reaching r
/// nodes (itself included) at total distance D, ((r − 1) / D) · ((r − 1) / (n − 1)), and 0 when
/// it reaches no other node. The correction keeps nodes in small components from scoring high.
pub fn closeness_centrality(graph: &AnalysisGraph, weighted: bool) -> Vec<f64> {
    let node_count = graph.node_count();
    (0..node_count)
        .into_par_iter()
        .map_init(
            || SearchWorkspace::new(node_count),
            |workspace, source| {
                workspace.search(graph, source, weighted);
                let reached = workspace.order.len();
                let total_distance: f64 = workspace.order.iter().map(|&node| workspace.distance[node as usize]).sum();
                workspace.reset();
                if total_distance > 0.0 && node_count > 1 {
                    let others_reached = reached as f64 - 1.0;
                    (others_reached / total_distance) * (others_reached / (node_count as f64 - 1.0))
                } else {
                    0.0
                }
            },
        )
        .collect()
}

/// Why eigenvector centrality could not be computed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EigenvectorError {
    #[error("eigenvector centrality is undefined for an empty graph")]
    EmptyGraph,
    #[error("power iteration did not converge within {0} iterations")]
    NotConverged(usize),
}

/// The power iteration's settings, named as networkx names them (`max_iter`, `tol`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EigenvectorOptions {
    /// Multiply by edge strengths (networkx `weight="weight"`).
    pub weighted: bool,
    pub max_iterations: usize,
    /// The iteration stops once the sum over nodes of the absolute change of their values is
    /// below `node count × tolerance`, exactly networkx's test.
    pub tolerance: f64,
}

impl Default for EigenvectorOptions {
    /// networkx's defaults: 100 iterations, tolerance 1e-6, unweighted.
    fn default() -> Self {
        Self { weighted: false, max_iterations: 100, tolerance: 1e-6 }
    }
}

/// Eigenvector centrality and how its power iteration ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EigenvectorCentrality {
    /// One value per node: the converged vector, or the last iterate when it did not converge.
    pub values: Vec<f64>,
    pub converged: bool,
    /// Iterations run: the one that met the test, or all of `max_iterations`.
    pub iterations: usize,
    /// Σ |x_now − x_before| over nodes in the last iteration run (infinite when none ran).
    pub last_change: f64,
    /// What the change had to fall below: node count × tolerance.
    pub change_bound: f64,
}

/// Eigenvector centrality by networkx's power iteration on A + I (the identity shift makes it
/// converge on bipartite graphs), starting from the uniform vector, normalising to unit Euclidean
/// length each step and stopping when the L1 change is below n · tolerance. networkx's defaults
/// are `max_iterations = 100` and `tolerance = 1e-6`; with the same values the results agree with
/// networkx to rounding, and the iteration stops at the same step. `weighted` multiplies by edge
/// strengths. Returns an error only for an empty graph: a run that did not converge returns its
/// last iterate marked as such, for the caller to warn about.
pub fn eigenvector_centrality_with_report(graph: &AnalysisGraph, options: EigenvectorOptions) -> Result<EigenvectorCentrality, EigenvectorError> {
    let node_count = graph.node_count();
    if node_count == 0 {
        return Err(EigenvectorError::EmptyGraph);
    }
    let change_bound = node_count as f64 * options.tolerance;
    let mut current = vec![1.0 / node_count as f64; node_count];
    let mut last_change = f64::INFINITY;
    for iteration in 1..=options.max_iterations {
        let previous = current.clone();
        for (node, &contribution) in previous.iter().enumerate() {
            for (neighbour, strength) in graph.neighbours(node).iter().zip(graph.strengths(node)) {
                let factor = if options.weighted { *strength } else { 1.0 };
                current[*neighbour as usize] += contribution * factor;
            }
        }
        let norm = current.iter().map(|value| value * value).sum::<f64>().sqrt();
        let norm = if norm == 0.0 { 1.0 } else { norm };
        current.iter_mut().for_each(|value| *value /= norm);
        last_change = current.iter().zip(&previous).map(|(now, before)| (now - before).abs()).sum();
        if last_change < change_bound {
            return Ok(EigenvectorCentrality { values: current, converged: true, iterations: iteration, last_change, change_bound });
        }
    }
    Ok(EigenvectorCentrality { values: current, converged: false, iterations: options.max_iterations, last_change, change_bound })
}

/// [`eigenvector_centrality_with_report`] for callers that want converged values or an error.
pub fn eigenvector_centrality(graph: &AnalysisGraph, weighted: bool, max_iterations: usize, tolerance: f64) -> Result<Vec<f64>, EigenvectorError> {
    let report = eigenvector_centrality_with_report(graph, EigenvectorOptions { weighted, max_iterations, tolerance })?;
    if report.converged { Ok(report.values) } else { Err(EigenvectorError::NotConverged(max_iterations)) }
}

/// A copy of the graph with nodes renumbered in breadth-first order (component by component,
/// from the smallest unvisited node), and the new label of each original node.
fn relabel_breadth_first(graph: &AnalysisGraph) -> (AnalysisGraph, Vec<usize>) {
    let node_count = graph.node_count();
    let mut new_label_of = vec![usize::MAX; node_count];
    let mut order: Vec<usize> = Vec::with_capacity(node_count);
    for start in 0..node_count {
        if new_label_of[start] != usize::MAX {
            continue;
        }
        new_label_of[start] = order.len();
        order.push(start);
        let mut head = order.len() - 1;
        while head < order.len() {
            let node = order[head];
            head += 1;
            for &neighbour in graph.neighbours(node) {
                if new_label_of[neighbour as usize] == usize::MAX {
                    new_label_of[neighbour as usize] = order.len();
                    order.push(neighbour as usize);
                }
            }
        }
    }
    let edges = graph.edges().map(|(u, v, _)| (new_label_of[u], new_label_of[v]));
    (AnalysisGraph::from_unweighted_edges(node_count, edges), new_label_of)
}

/// Sums the Brandes dependencies δ_s(v) over the given sources, in parallel, deterministically.
fn sum_dependencies(graph: &AnalysisGraph, sources: &[usize], weighted: bool, progress: &(dyn Fn(usize, usize) + Sync)) -> Vec<f64> {
    let node_count = graph.node_count();
    if sources.is_empty() {
        return vec![0.0; node_count];
    }
    let chunk_length = sources.len().div_ceil(SOURCE_CHUNKS);
    let chunk_count = sources.len().div_ceil(chunk_length);
    let chunks_done = AtomicUsize::new(0);
    let partial_sums: Vec<Vec<f64>> = sources
        .par_chunks(chunk_length)
        .map(|chunk| {
            let mut sums = vec![0.0; node_count];
            if weighted {
                let mut workspace = SearchWorkspace::new(node_count);
                let mut dependency = vec![0.0; node_count];
                for &source in chunk {
                    workspace.search(graph, source, true);
                    workspace.accumulate(graph, source, true, &mut dependency, &mut sums);
                    workspace.reset();
                }
            } else {
                let mut workspace = BreadthFirstBrandes::new(node_count);
                for &source in chunk {
                    workspace.accumulate_from(graph, source, &mut sums);
                }
            }
            progress(chunks_done.fetch_add(1, AtomicOrdering::Relaxed) + 1, chunk_count);
            sums
        })
        .collect();
    let mut total = vec![0.0; node_count];
    for partial in partial_sums {
        for (sum, value) in total.iter_mut().zip(partial) {
            *sum += value;
        }
    }
    total
}

/// Brandes for unweighted graphs, tuned for speed. Levels are `u32`; the breadth-first search
/// records each shortest-path edge (predecessor, successor) as it finds it, which groups the
/// edges by the predecessor's level. Back-propagation then walks the levels from the deepest:
/// for the nodes of level L it turns the accumulated sum into δ(w) = σ(w) · Σ (1 + δ(x)) / σ(x)
/// over its successors x and stores (1 + δ(w)) / σ(w), and one contiguous scan of the edges
/// from level L − 1 adds that to each predecessor. This costs one division per node instead of
/// one per edge and never re-reads adjacency lists.
struct BreadthFirstBrandes {
    level: Vec<u32>,
    path_count: Vec<f64>,
    /// Σ over successors of (1 + δ) / σ while a level is pending; then (1 + δ) / σ of the node.
    successor_share: Vec<f64>,
    order: Vec<u32>,
    shortest_path_edges: Vec<(u32, u32)>,
    /// Where each level's nodes start in `order`, and where the edges leaving it start.
    level_node_start: Vec<usize>,
    level_edge_start: Vec<usize>,
}

impl BreadthFirstBrandes {
    fn new(node_count: usize) -> Self {
        Self {
            level: vec![u32::MAX; node_count],
            path_count: vec![0.0; node_count],
            successor_share: vec![0.0; node_count],
            order: Vec::with_capacity(node_count),
            shortest_path_edges: Vec::new(),
            level_node_start: Vec::new(),
            level_edge_start: Vec::new(),
        }
    }

    fn accumulate_from(&mut self, graph: &AnalysisGraph, source: usize, sums: &mut [f64]) {
        self.level[source] = 0;
        self.path_count[source] = 1.0;
        self.order.push(source as u32);
        let mut head = 0;
        while head < self.order.len() {
            let node = self.order[head];
            let node_level = self.level[node as usize];
            if node_level as usize == self.level_node_start.len() {
                self.level_node_start.push(head);
                self.level_edge_start.push(self.shortest_path_edges.len());
            }
            head += 1;
            let next_level = node_level + 1;
            let paths_to_node = self.path_count[node as usize];
            for &neighbour in graph.neighbours(node as usize) {
                let slot = neighbour as usize;
                let neighbour_level = self.level[slot];
                if neighbour_level == u32::MAX {
                    self.level[slot] = next_level;
                    self.path_count[slot] = paths_to_node;
                    self.order.push(neighbour);
                    self.shortest_path_edges.push((node, neighbour));
                } else if neighbour_level == next_level {
                    self.path_count[slot] += paths_to_node;
                    self.shortest_path_edges.push((node, neighbour));
                }
            }
        }
        let depth = self.level_node_start.len();
        self.level_node_start.push(self.order.len());
        self.level_edge_start.push(self.shortest_path_edges.len());
        for level in (1..depth).rev() {
            for &node in &self.order[self.level_node_start[level]..self.level_node_start[level + 1]] {
                let node = node as usize;
                let dependency = self.path_count[node] * self.successor_share[node];
                sums[node] += dependency;
                self.successor_share[node] = (1.0 + dependency) / self.path_count[node];
            }
            let edges = &self.shortest_path_edges[self.level_edge_start[level - 1]..self.level_edge_start[level]];
            for &(predecessor, successor) in edges {
                self.successor_share[predecessor as usize] += self.successor_share[successor as usize];
            }
        }
        for &node in &self.order {
            let node = node as usize;
            self.level[node] = u32::MAX;
            self.path_count[node] = 0.0;
            self.successor_share[node] = 0.0;
        }
        self.order.clear();
        self.shortest_path_edges.clear();
        self.level_node_start.clear();
        self.level_edge_start.clear();
    }
}

/// A heap entry ordered so the smallest distance pops first, ties by insertion order.
#[derive(PartialEq)]
struct QueueEntry {
    distance: f64,
    sequence: u64,
    node: u32,
    predecessor: u32,
}

impl Eq for QueueEntry {}

impl Ord for QueueEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.distance.total_cmp(&self.distance).then_with(|| other.sequence.cmp(&self.sequence))
    }
}

impl PartialOrd for QueueEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Buffers for one single-source shortest-path search, reused across sources so a search costs
/// only what it visits.
struct SearchWorkspace {
    distance: Vec<f64>,
    path_count: Vec<f64>,
    /// Nodes in the order their distance became final (non-decreasing distance).
    order: Vec<u32>,
    heap: BinaryHeap<QueueEntry>,
    tentative: Vec<f64>,
}

impl SearchWorkspace {
    fn new(node_count: usize) -> Self {
        Self {
            distance: vec![f64::INFINITY; node_count],
            path_count: vec![0.0; node_count],
            order: Vec::new(),
            heap: BinaryHeap::new(),
            tentative: vec![f64::INFINITY; node_count],
        }
    }

    fn search(&mut self, graph: &AnalysisGraph, source: usize, weighted: bool) {
        if weighted {
            self.dijkstra(graph, source);
        } else {
            self.breadth_first(graph, source);
        }
    }

    fn breadth_first(&mut self, graph: &AnalysisGraph, source: usize) {
        self.distance[source] = 0.0;
        self.path_count[source] = 1.0;
        self.order.push(source as u32);
        let mut head = 0;
        while head < self.order.len() {
            let node = self.order[head] as usize;
            head += 1;
            let next_distance = self.distance[node] + 1.0;
            let paths_to_node = self.path_count[node];
            for &neighbour in graph.neighbours(node) {
                let neighbour = neighbour as usize;
                if self.distance[neighbour] == f64::INFINITY {
                    self.distance[neighbour] = next_distance;
                    self.order.push(neighbour as u32);
                }
                if self.distance[neighbour] == next_distance {
                    self.path_count[neighbour] += paths_to_node;
                }
            }
        }
    }

    /// Dijkstra counting shortest paths; a predecessor is any settled node u with
    /// dist(u) + d(u, v) == dist(v) exactly, as networkx decides it.
    fn dijkstra(&mut self, graph: &AnalysisGraph, source: usize) {
        let mut sequence = 0u64;
        self.tentative[source] = 0.0;
        self.heap.push(QueueEntry { distance: 0.0, sequence, node: source as u32, predecessor: u32::MAX });
        while let Some(entry) = self.heap.pop() {
            let node = entry.node as usize;
            if self.distance[node] != f64::INFINITY {
                continue;
            }
            self.distance[node] = entry.distance;
            self.order.push(entry.node);
            if entry.predecessor == u32::MAX {
                self.path_count[node] = 1.0;
            }
            for (&neighbour, &edge_distance) in graph.neighbours(node).iter().zip(graph.distances(node)) {
                let neighbour = neighbour as usize;
                if self.distance[neighbour] != f64::INFINITY {
                    continue;
                }
                let candidate = entry.distance + edge_distance;
                if candidate < self.tentative[neighbour] {
                    self.tentative[neighbour] = candidate;
                    self.path_count[neighbour] = self.path_count[node];
                    sequence += 1;
                    self.heap.push(QueueEntry { distance: candidate, sequence, node: neighbour as u32, predecessor: node as u32 });
                } else if candidate == self.tentative[neighbour] {
                    self.path_count[neighbour] += self.path_count[node];
                }
            }
        }
    }

    /// Brandes' back-propagation of dependencies from the farthest node inwards.
    fn accumulate(&self, graph: &AnalysisGraph, source: usize, weighted: bool, dependency: &mut [f64], sums: &mut [f64]) {
        for &node in self.order.iter().rev() {
            let node = node as usize;
            let coefficient = (1.0 + dependency[node]) / self.path_count[node];
            let node_distance = self.distance[node];
            for (slot, &neighbour) in graph.neighbours(node).iter().enumerate() {
                let neighbour = neighbour as usize;
                let is_predecessor = if weighted {
                    self.distance[neighbour] + graph.distances(node)[slot] == node_distance && self.distance[neighbour] < node_distance
                } else {
                    self.distance[neighbour] + 1.0 == node_distance
                };
                if is_predecessor {
                    dependency[neighbour] += self.path_count[neighbour] * coefficient;
                }
            }
            if node != source {
                sums[node] += dependency[node];
            }
        }
        for &node in &self.order {
            dependency[node as usize] = 0.0;
        }
    }

    fn reset(&mut self) {
        for &node in &self.order {
            let node = node as usize;
            self.distance[node] = f64::INFINITY;
            self.tentative[node] = f64::INFINITY;
            self.path_count[node] = 0.0;
        }
        self.order.clear();
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of_four() -> AnalysisGraph {
        AnalysisGraph::from_unweighted_edges(4, [(0, 1), (1, 2), (2, 3)])
    }

    #[test]
    fn betweenness_of_a_path() {
        let normalized = PathCentralityOptions { weighted: false, normalized: true };
        assert_eq!(betweenness_centrality(&path_of_four(), normalized), vec![0.0, 2.0 / 3.0, 2.0 / 3.0, 0.0]);
        let raw = PathCentralityOptions { weighted: false, normalized: false };
        assert_eq!(betweenness_centrality(&path_of_four(), raw), vec![0.0, 2.0, 2.0, 0.0]);
    }

    #[test]
    fn weighted_betweenness_follows_short_distances() {
        // 0–1–2 costs 2, the direct 0–2 edge costs 5: node 1 carries the 0–2 pair.
        let graph = AnalysisGraph::from_weighted_edges(3, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 5.0)]);
        let options = PathCentralityOptions { weighted: true, normalized: false };
        assert_eq!(betweenness_centrality(&graph, options), vec![0.0, 1.0, 0.0]);
        let unweighted = PathCentralityOptions { weighted: false, normalized: false };
        assert_eq!(betweenness_centrality(&graph, unweighted), vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn sampling_every_node_is_exact_and_sampling_is_reproducible() {
        let graph = AnalysisGraph::from_unweighted_edges(6, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 4)]);
        let exact = betweenness_centrality(&graph, PathCentralityOptions { weighted: false, normalized: true });
        let full = approximate_betweenness_centrality(&graph, false, 6, 7, 0.05);
        for (a, b) in exact.iter().zip(&full.values) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(full.error_bound, 0.0);
        let first = approximate_betweenness_centrality(&graph, false, 3, 7, 0.05);
        let second = approximate_betweenness_centrality(&graph, false, 3, 7, 0.05);
        assert_eq!(first, second);
        assert!(first.error_bound > 0.0 && first.error_bound <= 1.0);
    }

    proptest::proptest! {
        /// The fast breadth-first Brandes (with its relabelling) must agree with the general
        /// Dijkstra Brandes on unit weights, on any graph, connected or not.
        #[test]
        fn breadth_first_and_dijkstra_brandes_agree(
            node_count in 1usize..40,
            edges in proptest::collection::vec((0usize..40, 0usize..40), 0..120),
        ) {
            let graph = AnalysisGraph::from_weighted_edges(
                node_count,
                edges.into_iter().map(|(u, v)| (u, v, 1.0)),
            );
            let graph = AnalysisGraph::from_weighted_edges(node_count, graph.edges().map(|(u, v, _)| (u, v, 1.0)));
            let fast = betweenness_centrality(&graph, PathCentralityOptions { weighted: false, normalized: true });
            let general = betweenness_centrality(&graph, PathCentralityOptions { weighted: true, normalized: true });
            for (a, b) in fast.iter().zip(&general) {
                proptest::prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn closeness_applies_the_wasserman_faust_correction() {
        // Two components: a path of three and an isolated node.
        let graph = AnalysisGraph::from_unweighted_edges(4, [(0, 1), (1, 2)]);
        let closeness = closeness_centrality(&graph, false);
        assert!((closeness[1] - (2.0 / 2.0) * (2.0 / 3.0)).abs() < 1e-15);
        assert!((closeness[0] - (2.0 / 3.0) * (2.0 / 3.0)).abs() < 1e-15);
        assert_eq!(closeness[3], 0.0);
    }

    #[test]
    fn eigenvector_reports_how_its_iteration_ended() {
        let path = path_of_four();
        let loose = eigenvector_centrality_with_report(&path, EigenvectorOptions::default()).unwrap();
        let tight = eigenvector_centrality_with_report(&path, EigenvectorOptions { tolerance: 1e-12, max_iterations: 1000, weighted: false }).unwrap();
        assert!(loose.converged && tight.converged);
        assert!(tight.iterations > loose.iterations, "{} vs {}", tight.iterations, loose.iterations);
        assert!(tight.last_change < tight.change_bound && tight.change_bound == 4.0 * 1e-12);
        // One iteration short of convergence: the last iterate, marked as not converged.
        let short = EigenvectorOptions { tolerance: 1e-12, max_iterations: tight.iterations - 1, weighted: false };
        let stopped = eigenvector_centrality_with_report(&path, short).unwrap();
        assert!(!stopped.converged && stopped.last_change >= stopped.change_bound);
        assert_eq!(stopped.iterations, tight.iterations - 1);
        assert_eq!(eigenvector_centrality(&path, false, tight.iterations - 1, 1e-12), Err(EigenvectorError::NotConverged(tight.iterations - 1)));
        assert_eq!(eigenvector_centrality(&path, false, tight.iterations, 1e-12), Ok(tight.values));
    }

    #[test]
    fn strength_is_the_sum_of_tie_strengths() {
        let graph = AnalysisGraph::from_weighted_edges(3, [(0, 1, 2.0), (1, 2, 0.5)]);
        assert_eq!(node_strengths(&graph), vec![2.0, 2.5, 0.5]);
        assert_eq!(node_strengths(&path_of_four()), vec![1.0, 2.0, 2.0, 1.0]);
    }

    #[test]
    fn degree_and_eigenvector_of_a_star() {
        let star = AnalysisGraph::from_unweighted_edges(4, [(0, 1), (0, 2), (0, 3)]);
        assert_eq!(degree_centrality(&star), vec![1.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
        let eigen = eigenvector_centrality(&star, false, 1000, 1e-12).unwrap();
        assert!((eigen[0] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!(eigen[1] < eigen[0]);
        assert_eq!(eigenvector_centrality(&AnalysisGraph::from_unweighted_edges(0, []), false, 100, 1e-6), Err(EigenvectorError::EmptyGraph));
        assert_eq!(eigenvector_centrality(&star, false, 1, 1e-12), Err(EigenvectorError::NotConverged(1)));
    }
}
