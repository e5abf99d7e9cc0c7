//! The analysis graph: an undirected, simple, weighted graph in compressed sparse row form,
//! projected from a network under a time window, a weighting rule and a hub treatment.
//!
//! Every algorithm in this crate runs on [`AnalysisGraph`], so the choices that shape a result
//! (which relations count, how strong a tie is) are made once, here, and recorded in the run record.

use serde::{Deserialize, Serialize};

use crate::model::{NetworkGraph, Relation, SeenDate};

/// A date range; a relation is active in it when its seen interval overlaps the range. Missing
/// bounds are open. A relation with an unknown first (last) seen date is treated as seen since
/// (until) forever, because leaving it out would silently hide links an analyst recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    #[serde(with = "crate::model::optional_iso_date")]
    pub from: Option<SeenDate>,
    #[serde(with = "crate::model::optional_iso_date")]
    pub to: Option<SeenDate>,
}

impl TimeWindow {
    /// The window that admits every relation.
    pub const ALL_TIME: TimeWindow = TimeWindow { from: None, to: None };

    /// Whether the relation was active at some time within the window.
    pub fn admits(&self, relation: &Relation) -> bool {
        let starts_before_window_ends = match (self.to, relation.first_seen) {
            (Some(window_end), Some(first_seen)) => first_seen <= window_end,
            _ => true,
        };
        let ends_after_window_starts = match (self.from, relation.last_seen) {
            (Some(window_start), Some(last_seen)) => last_seen >= window_start,
            _ => true,
        };
        starts_before_window_ends && ends_after_window_starts
    }
}

/// How strong the tie between two linked entities is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeWeighting {
    /// Every linked pair has strength 1, however many relations join them.
    #[default]
    Uniform,
    /// The strength of a pair is the sum of the confidences of the relations joining them, so
    /// several independent sightings make a stronger tie than one.
    Confidence,
    /// The strength of a pair is the sum of the weights of the relations joining them (the
    /// edges file's `weight` column: calls, meetings; 1 where not given), so one row of weight 5
    /// is the same tie as five rows of weight 1.
    Weight,
}

impl EdgeWeighting {
    /// Whether ties can differ in strength under this weighting, so that algorithms should read
    /// strengths rather than count links (down-weighted hubs make ties differ too).
    pub fn is_weighted(self) -> bool {
        self != EdgeWeighting::Uniform
    }
}

/// What to do with detected hubs (see [`crate::hubs`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "treatment")]
pub enum HubTreatment {
    /// Analyse hubs like any other entity.
    #[default]
    Keep,
    /// Leave hubs and their relations out of the analysis graph.
    Exclude,
    /// Multiply the strength of every tie touching a hub by `factor` (0 < factor ≤ 1).
    DownWeight { factor: f64 },
}

/// Everything that decides how a network becomes an analysis graph.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisOptions {
    pub window: TimeWindow,
    pub weighting: EdgeWeighting,
    pub hub_treatment: HubTreatment,
    /// Entity ids treated as hubs: normally the detected hubs after the analyst's overrides.
    pub hub_entity_ids: Vec<String>,
}

/// An undirected simple graph in compressed sparse row form. Each undirected edge appears in the
/// adjacency of both endpoints; neighbour lists are sorted; there are no self-loops.
///
/// Each edge carries a *strength* (larger is a stronger tie, used by communities and eigenvector
/// centrality) and a *distance* (used by weighted shortest paths, betweenness and closeness).
#[derive(Clone, Debug)]
pub struct AnalysisGraph {
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
    strengths: Vec<f64>,
    distances: Vec<f64>,
    node_entities: Vec<usize>,
}

/// How a distance is derived from a merged strength.
#[derive(Clone, Copy)]
enum DistanceRule {
    SameAsStrength,
    InverseOfStrength,
}

impl AnalysisGraph {
    /// Builds a graph on nodes `0..node_count` from weighted edges, using each weight both as the
    /// strength and as the distance, as networkx does with `weight="weight"`. Parallel edges are
    /// merged by adding their weights; self-loops, edges naming a node out of range and
    /// edges of zero, negative or non-finite weight are dropped.
    pub fn from_weighted_edges(node_count: usize, edges: impl IntoIterator<Item = (usize, usize, f64)>) -> Self {
        Self::build(node_count, edges.into_iter().collect(), DistanceRule::SameAsStrength, (0..node_count).collect())
    }

    /// Builds a graph where every edge has strength and distance 1.
    pub fn from_unweighted_edges(node_count: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let mut graph = Self::from_weighted_edges(node_count, edges.into_iter().map(|(u, v)| (u, v, 1.0)));
        graph.strengths.iter_mut().for_each(|strength| *strength = 1.0);
        graph.distances.iter_mut().for_each(|distance| *distance = 1.0);
        graph
    }

    /// Projects a network into an analysis graph under the given options.
    pub fn project(network: &NetworkGraph, options: &AnalysisOptions) -> Self {
        let entity_count = network.entities().len();
        let mut is_hub = vec![false; entity_count];
        for hub_id in &options.hub_entity_ids {
            if let Some(position) = network.entity_index(hub_id) {
                is_hub[position] = true;
            }
        }
        let excluded = |entity: usize| is_hub[entity] && options.hub_treatment == HubTreatment::Exclude;
        let mut node_of_entity = vec![u32::MAX; entity_count];
        let mut node_entities = Vec::with_capacity(entity_count);
        for (entity, node) in node_of_entity.iter_mut().enumerate() {
            if !excluded(entity) {
                *node = u32::try_from(node_entities.len()).expect("fewer than 2^32 entities");
                node_entities.push(entity);
            }
        }
        let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
        let mut merged_uniform: Vec<(usize, usize)> = Vec::new();
        for (position, relation) in network.relations().iter().enumerate() {
            if !options.window.admits(relation) || excluded(relation.source) || excluded(relation.target) {
                continue;
            }
            let source = node_of_entity[relation.source] as usize;
            let target = node_of_entity[relation.target] as usize;
            if source == target {
                continue;
            }
            match options.weighting {
                EdgeWeighting::Uniform => merged_uniform.push((source.min(target), source.max(target))),
                EdgeWeighting::Confidence => pairs.push((source, target, relation.confidence)),
                EdgeWeighting::Weight => pairs.push((source, target, network.relation_weight(position).get())),
            }
        }
        if options.weighting == EdgeWeighting::Uniform {
            merged_uniform.sort_unstable();
            merged_uniform.dedup();
            pairs = merged_uniform.into_iter().map(|(u, v)| (u, v, 1.0)).collect();
        }
        if let HubTreatment::DownWeight { factor } = options.hub_treatment {
            for (source, target, strength) in &mut pairs {
                if is_hub[node_entities[*source]] || is_hub[node_entities[*target]] {
                    *strength *= factor;
                }
            }
        }
        Self::build(node_entities.len(), pairs, DistanceRule::InverseOfStrength, node_entities)
    }

    fn build(node_count: usize, mut edges: Vec<(usize, usize, f64)>, distance_rule: DistanceRule, node_entities: Vec<usize>) -> Self {
        // A tie of zero (or undefined) strength carries no evidence and would give an infinite
        // distance, so it is left out rather than allowed to poison path lengths.
        edges.retain(|&(u, v, weight)| u != v && u < node_count && v < node_count && weight > 0.0 && weight.is_finite());
        for edge in &mut edges {
            if edge.0 > edge.1 {
                *edge = (edge.1, edge.0, edge.2);
            }
        }
        edges.sort_unstable_by_key(|edge| (edge.0, edge.1));
        let mut merged: Vec<(usize, usize, f64)> = Vec::with_capacity(edges.len());
        for (u, v, weight) in edges {
            match merged.last_mut() {
                Some(last) if last.0 == u && last.1 == v => last.2 += weight,
                _ => merged.push((u, v, weight)),
            }
        }
        let mut offsets = vec![0usize; node_count + 1];
        for &(u, v, _) in &merged {
            offsets[u + 1] += 1;
            offsets[v + 1] += 1;
        }
        for node in 0..node_count {
            offsets[node + 1] += offsets[node];
        }
        let slots = offsets[node_count];
        let mut neighbours = vec![0u32; slots];
        let mut strengths = vec![0f64; slots];
        let mut cursor = offsets.clone();
        for &(u, v, weight) in &merged {
            for (from, to) in [(u, v), (v, u)] {
                neighbours[cursor[from]] = u32::try_from(to).expect("fewer than 2^32 nodes");
                strengths[cursor[from]] = weight;
                cursor[from] += 1;
            }
        }
        let distances = match distance_rule {
            DistanceRule::SameAsStrength => strengths.clone(),
            DistanceRule::InverseOfStrength => strengths.iter().map(|strength| 1.0 / strength).collect(),
        };
        Self { offsets, neighbours, strengths, distances, node_entities }
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The number of undirected edges.
    pub fn edge_count(&self) -> usize {
        self.neighbours.len() / 2
    }

    /// Sorted neighbours of a node.
    pub fn neighbours(&self, node: usize) -> &[u32] {
        &self.neighbours[self.offsets[node]..self.offsets[node + 1]]
    }

    /// Strengths of the edges to [`Self::neighbours`], in the same order.
    pub fn strengths(&self, node: usize) -> &[f64] {
        &self.strengths[self.offsets[node]..self.offsets[node + 1]]
    }

    /// Distances of the edges to [`Self::neighbours`], in the same order.
    pub fn distances(&self, node: usize) -> &[f64] {
        &self.distances[self.offsets[node]..self.offsets[node + 1]]
    }

    pub fn degree(&self, node: usize) -> usize {
        self.offsets[node + 1] - self.offsets[node]
    }

    /// The sum of the strengths of a node's ties (networkx's weighted degree); equal to the
    /// degree when every tie has strength 1.
    pub fn strength(&self, node: usize) -> f64 {
        self.strengths(node).iter().sum()
    }

    /// Sum of strengths over every undirected edge.
    pub fn total_strength(&self) -> f64 {
        self.strengths.iter().sum::<f64>() / 2.0
    }

    /// The network entity position a node stands for (the node itself for graphs built from edges).
    pub fn entity_of(&self, node: usize) -> usize {
        self.node_entities[node]
    }

    /// The node standing for a network entity position, if it was not excluded.
    pub fn node_of_entity(&self, entity: usize) -> Option<usize> {
        self.node_entities.binary_search(&entity).ok()
    }

    /// The distance of the edge between two adjacent nodes.
    pub fn edge_distance(&self, from: usize, to: usize) -> Option<f64> {
        let neighbours = self.neighbours(from);
        let target = u32::try_from(to).ok()?;
        neighbours.binary_search(&target).ok().map(|slot| self.distances(from)[slot])
    }

    /// The same graph as a petgraph `UnGraph` (node weight: the entity position; edge weight: the
    /// strength), for callers who want petgraph's other algorithms. Node indices are preserved.
    pub fn to_petgraph(&self) -> petgraph::graph::UnGraph<usize, f64> {
        let mut graph = petgraph::graph::UnGraph::with_capacity(self.node_count(), self.edge_count());
        for node in 0..self.node_count() {
            graph.add_node(self.entity_of(node));
        }
        for (u, v, strength) in self.edges() {
            graph.add_edge(petgraph::graph::NodeIndex::new(u), petgraph::graph::NodeIndex::new(v), strength);
        }
        graph
    }

    /// Every undirected edge once, as `(smaller node, larger node, strength)`.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        (0..self.node_count()).flat_map(move |node| {
            self.neighbours(node)
                .iter()
                .zip(self.strengths(node))
                .filter(move |(neighbour, _)| (**neighbour as usize) > node)
                .map(move |(neighbour, strength)| (node, *neighbour as usize, *strength))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entity, EntityKind, RelationKind, parse_seen_date};

    fn network() -> NetworkGraph {
        let mut network = NetworkGraph::new();
        for (id, kind) in [("a", EntityKind::Person), ("b", EntityKind::Person), ("hostel", EntityKind::Address)] {
            network.add_entity(Entity { id: id.into(), kind, label: id.into(), role: None }).unwrap();
        }
        let date = |text| Some(parse_seen_date(text).unwrap());
        network.add_relation_by_id("a", "b", RelationKind::Associate, date("2023-01-01"), date("2023-02-01"), "r1", 0.5).unwrap();
        network.add_relation_by_id("a", "b", RelationKind::Called, date("2024-01-01"), None, "r2", 0.25).unwrap();
        network.add_relation_by_id("a", "hostel", RelationKind::LivesAt, None, None, "r3", 1.0).unwrap();
        network
    }

    #[test]
    fn builds_sorted_merged_adjacency() {
        let graph = AnalysisGraph::from_weighted_edges(4, [(2, 0, 1.0), (0, 1, 2.0), (1, 0, 3.0), (3, 3, 9.0)]);
        assert_eq!(graph.edge_count(), 2);
        assert_eq!(graph.neighbours(0), &[1, 2]);
        assert_eq!(graph.strengths(0), &[5.0, 1.0]);
        assert_eq!(graph.degree(3), 0);
        assert_eq!(graph.total_strength(), 6.0);
        assert_eq!(graph.edges().collect::<Vec<_>>(), vec![(0, 1, 5.0), (0, 2, 1.0)]);
    }

    #[test]
    fn time_windows_keep_only_overlapping_relations() {
        let window = TimeWindow { from: Some(parse_seen_date("2023-06-01").unwrap()), to: Some(parse_seen_date("2023-12-31").unwrap()) };
        let options = AnalysisOptions { window, weighting: EdgeWeighting::Confidence, ..Default::default() };
        let graph = AnalysisGraph::project(&network(), &options);
        assert_eq!(graph.neighbours(0), &[2], "only the undated lives_at relation overlaps");
        let options = AnalysisOptions { weighting: EdgeWeighting::Confidence, ..Default::default() };
        let graph = AnalysisGraph::project(&network(), &options);
        assert_eq!(graph.strengths(0), &[0.75, 1.0]);
        assert_eq!(graph.distances(0), &[1.0 / 0.75, 1.0]);
    }

    /// Projects a two-person network whose edges file is `rows` under `weighting`.
    fn strengths_of(rows: &str, weighting: EdgeWeighting) -> Vec<(usize, usize, f64)> {
        let network = crate::csv_input::read_network_from_str("id,kind\na,person\nb,person\nc,person\n", rows).unwrap();
        AnalysisGraph::project(&network, &AnalysisOptions { weighting, ..Default::default() }).edges().collect()
    }

    #[test]
    fn weight_weighting_sums_relation_weights_as_repeated_rows_would() {
        let split = "source,target,kind,weight\na,b,called,3\nb,a,called,2\nb,c,associate,\n";
        let single = "source,target,kind,weight\na,b,called,5\nb,c,associate,1\n";
        let repeated = "source,target,kind\na,b,called\na,b,called\na,b,called\na,b,called\na,b,called\nb,c,associate\n";
        let expected = vec![(0, 1, 5.0), (1, 2, 1.0)];
        for rows in [split, single, repeated] {
            assert_eq!(strengths_of(rows, EdgeWeighting::Weight), expected, "{rows}");
            assert_eq!(strengths_of(rows, EdgeWeighting::Uniform), vec![(0, 1, 1.0), (1, 2, 1.0)], "uniform ignores weights: {rows}");
        }
        assert_eq!(strengths_of(split, EdgeWeighting::Confidence), vec![(0, 1, 2.0), (1, 2, 1.0)], "confidence ignores weights");
        let graph = AnalysisGraph::from_weighted_edges(3, expected);
        assert_eq!((graph.strength(1), graph.degree(1)), (6.0, 2));
        assert!(EdgeWeighting::Weight.is_weighted() && !EdgeWeighting::Uniform.is_weighted());
    }

    #[test]
    fn hubs_can_be_excluded_or_down_weighted() {
        let exclude = AnalysisOptions { hub_treatment: HubTreatment::Exclude, hub_entity_ids: vec!["hostel".into()], ..Default::default() };
        let graph = AnalysisGraph::project(&network(), &exclude);
        assert_eq!((graph.node_count(), graph.edge_count()), (2, 1));
        let damp = AnalysisOptions { hub_treatment: HubTreatment::DownWeight { factor: 0.1 }, hub_entity_ids: vec!["hostel".into()], ..Default::default() };
        let graph = AnalysisGraph::project(&network(), &damp);
        assert_eq!(graph.strengths(2), &[0.1]);
        assert_eq!(graph.node_of_entity(2), Some(2));
        assert_eq!(graph.strengths(0), &[1.0, 0.1], "uniform weighting merges parallel relations into one tie");
    }
}
