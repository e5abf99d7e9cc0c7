//! Paths between entities: the shortest path, the k shortest loopless paths (Yen's algorithm),
//! and the connecting network of a set of entities (an approximate Steiner tree).
//!
//! Ties between equally short paths are broken deterministically (by node number), so the same
//! graph always yields the same path, which matters when a path is disclosed as evidence.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analysis::AnalysisGraph;

/// A path as a sequence of nodes and its length (hops, or the sum of edge distances).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphPath {
    pub nodes: Vec<usize>,
    pub length: f64,
}

/// The shortest path between two nodes, or `None` when they are not connected.
pub fn shortest_path(graph: &AnalysisGraph, from: usize, to: usize, weighted: bool) -> Option<GraphPath> {
    let no_nodes = vec![false; graph.node_count()];
    restricted_shortest_path(graph, from, to, weighted, &no_nodes, &HashSet::new())
}

/// Up to `k` shortest loopless paths from `from` to `to`, shortest first, by Yen's algorithm.
pub fn k_shortest_paths(graph: &AnalysisGraph, from: usize, to: usize, k: usize, weighted: bool) -> Vec<GraphPath> {
    let mut accepted: Vec<GraphPath> = Vec::new();
    if k == 0 {
        return accepted;
    }
    let Some(first) = shortest_path(graph, from, to, weighted) else {
        return accepted;
    };
    accepted.push(first);
    let mut candidates: Vec<GraphPath> = Vec::new();
    let mut banned_nodes = vec![false; graph.node_count()];
    while accepted.len() < k {
        let previous = accepted.last().expect("at least one accepted path").clone();
        for spur_index in 0..previous.nodes.len() - 1 {
            let spur_node = previous.nodes[spur_index];
            let root = &previous.nodes[..=spur_index];
            // Forbid the next edge of every accepted path that shares this root, so the spur
            // path must deviate here, and forbid the root's earlier nodes, so it stays loopless.
            let mut banned_edges = HashSet::new();
            for path in &accepted {
                if path.nodes.len() > spur_index + 1 && &path.nodes[..=spur_index] == root {
                    banned_edges.insert(undirected_key(path.nodes[spur_index], path.nodes[spur_index + 1]));
                }
            }
            for &node in &root[..spur_index] {
                banned_nodes[node] = true;
            }
            let spur = restricted_shortest_path(graph, spur_node, to, weighted, &banned_nodes, &banned_edges);
            for &node in &root[..spur_index] {
                banned_nodes[node] = false;
            }
            if let Some(spur) = spur {
                let root_length = path_length(graph, root, weighted);
                let mut nodes = root[..spur_index].to_vec();
                nodes.extend_from_slice(&spur.nodes);
                let candidate = GraphPath { nodes, length: root_length + spur.length };
                let known = candidates.iter().chain(&accepted).any(|path| path.nodes == candidate.nodes);
                if !known {
                    candidates.push(candidate);
                }
            }
        }
        let Some(best_position) = (0..candidates.len()).min_by(|&a, &b| compare_paths(&candidates[a], &candidates[b])) else {
            break;
        };
        accepted.push(candidates.swap_remove(best_position));
    }
    accepted
}

/// The network connecting a set of entities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectingNetwork {
    /// Every node on the network, terminals included, in increasing order.
    pub nodes: Vec<usize>,
    /// Every edge on the network as (smaller node, larger node), in increasing order.
    pub edges: Vec<(usize, usize)>,
    /// Groups of terminals that no path joins to each other; one group when all are connected.
    pub terminal_groups: Vec<Vec<usize>>,
    /// Sum of the lengths of the edges in the network.
    pub total_length: f64,
}

/// The connecting network of a set of terminals, by Kou, Markowsky and Berman's Steiner tree
/// approximation: shortest paths between every pair of terminals form a complete "distance
/// graph"; its minimum spanning tree (a forest when terminals are disconnected) is expanded back
/// into the shortest paths it stands for. The union weighs at most 2(1 − 1/t) times the optimal
/// Steiner tree for t terminals. It may contain a cycle where two expanded paths cross; it is
/// shown as found rather than pruned, since each edge lies on a shortest path between terminals.
pub fn connecting_network(graph: &AnalysisGraph, terminals: &[usize], weighted: bool) -> ConnectingNetwork {
    let terminals: Vec<usize> = terminals.iter().copied().filter(|&node| node < graph.node_count()).collect::<BTreeSet<_>>().into_iter().collect();
    let trees: Vec<ShortestPathTree> = terminals.iter().map(|&terminal| ShortestPathTree::grow(graph, terminal, weighted)).collect();
    // Prim's algorithm on the distance graph, restarted for each group of connected terminals.
    let count = terminals.len();
    let mut in_tree = vec![false; count];
    let mut best_distance = vec![f64::INFINITY; count];
    let mut best_parent = vec![usize::MAX; count];
    let mut tree_edges: Vec<(usize, usize)> = Vec::new();
    let mut terminal_groups: Vec<Vec<usize>> = Vec::new();
    for start in 0..count {
        if in_tree[start] {
            continue;
        }
        let mut group = Vec::new();
        best_distance[start] = 0.0;
        loop {
            let next = (0..count)
                .filter(|&index| !in_tree[index] && best_distance[index].is_finite())
                .min_by(|&a, &b| best_distance[a].total_cmp(&best_distance[b]).then(a.cmp(&b)));
            let Some(next) = next else { break };
            in_tree[next] = true;
            group.push(terminals[next]);
            if best_parent[next] != usize::MAX {
                tree_edges.push((best_parent[next], next));
            }
            for other in 0..count {
                let distance = trees[next].distance[terminals[other]];
                if !in_tree[other] && distance < best_distance[other] {
                    best_distance[other] = distance;
                    best_parent[other] = next;
                }
            }
        }
        terminal_groups.push(group);
    }
    let mut nodes: BTreeSet<usize> = terminals.iter().copied().collect();
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (parent, child) in tree_edges {
        let path = trees[parent].path_to(terminals[child]);
        nodes.extend(path.iter().copied());
        for pair in path.windows(2) {
            edges.insert(undirected_key(pair[0], pair[1]));
        }
    }
    let total_length = edges.iter().map(|&(u, v)| if weighted { graph.edge_distance(u, v).unwrap_or(0.0) } else { 1.0 }).sum();
    ConnectingNetwork { nodes: nodes.into_iter().collect(), edges: edges.into_iter().collect(), terminal_groups, total_length }
}

fn undirected_key(u: usize, v: usize) -> (usize, usize) {
    (u.min(v), u.max(v))
}

fn path_length(graph: &AnalysisGraph, nodes: &[usize], weighted: bool) -> f64 {
    nodes.windows(2).map(|pair| if weighted { graph.edge_distance(pair[0], pair[1]).unwrap_or(f64::INFINITY) } else { 1.0 }).sum()
}

/// Shorter first, then fewer hops, then the lexicographically smaller node sequence.
fn compare_paths(a: &GraphPath, b: &GraphPath) -> Ordering {
    a.length.total_cmp(&b.length).then(a.nodes.len().cmp(&b.nodes.len())).then_with(|| a.nodes.cmp(&b.nodes))
}

/// A heap entry popping the smallest distance first, then the smallest node.
#[derive(PartialEq)]
struct Frontier {
    distance: f64,
    node: usize,
}

impl Eq for Frontier {}

impl Ord for Frontier {
    fn cmp(&self, other: &Self) -> Ordering {
        other.distance.total_cmp(&self.distance).then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for Frontier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Distances and first-found predecessors from one source to every node it reaches.
struct ShortestPathTree {
    distance: Vec<f64>,
    predecessor: Vec<usize>,
}

impl ShortestPathTree {
    fn grow(graph: &AnalysisGraph, source: usize, weighted: bool) -> Self {
        let no_nodes = vec![false; graph.node_count()];
        Self::grow_restricted(graph, source, None, weighted, &no_nodes, &HashSet::new())
    }

    /// Dijkstra from `source`, avoiding banned nodes and edges, stopping early at `stop_at`.
    fn grow_restricted(
        graph: &AnalysisGraph,
        source: usize,
        stop_at: Option<usize>,
        weighted: bool,
        banned_nodes: &[bool],
        banned_edges: &HashSet<(usize, usize)>,
    ) -> Self {
        let node_count = graph.node_count();
        let mut distance = vec![f64::INFINITY; node_count];
        let mut predecessor = vec![usize::MAX; node_count];
        let mut settled = vec![false; node_count];
        let mut heap = BinaryHeap::new();
        distance[source] = 0.0;
        heap.push(Frontier { distance: 0.0, node: source });
        while let Some(Frontier { distance: node_distance, node }) = heap.pop() {
            if settled[node] {
                continue;
            }
            settled[node] = true;
            if Some(node) == stop_at {
                break;
            }
            for (&neighbour, &edge_distance) in graph.neighbours(node).iter().zip(graph.distances(node)) {
                let neighbour = neighbour as usize;
                if settled[neighbour] || banned_nodes[neighbour] || banned_edges.contains(&undirected_key(node, neighbour)) {
                    continue;
                }
                let candidate = node_distance + if weighted { edge_distance } else { 1.0 };
                if candidate < distance[neighbour] {
                    distance[neighbour] = candidate;
                    predecessor[neighbour] = node;
                    heap.push(Frontier { distance: candidate, node: neighbour });
                }
            }
        }
        Self { distance, predecessor }
    }

    fn path_to(&self, target: usize) -> Vec<usize> {
        let mut path = vec![target];
        let mut current = target;
        while self.predecessor[current] != usize::MAX {
            current = self.predecessor[current];
            path.push(current);
        }
        path.reverse();
        path
    }
}

fn restricted_shortest_path(
    graph: &AnalysisGraph,
    from: usize,
    to: usize,
    weighted: bool,
    banned_nodes: &[bool],
    banned_edges: &HashSet<(usize, usize)>,
) -> Option<GraphPath> {
    if from >= graph.node_count() || to >= graph.node_count() || banned_nodes[from] {
        return None;
    }
    let tree = ShortestPathTree::grow_restricted(graph, from, Some(to), weighted, banned_nodes, banned_edges);
    tree.distance[to].is_finite().then(|| GraphPath { nodes: tree.path_to(to), length: tree.distance[to] })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square 0-1-2-3-0 with a diagonal 0-2 and a tail 2-4.
    fn square() -> AnalysisGraph {
        AnalysisGraph::from_weighted_edges(6, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0), (0, 2, 3.0), (2, 4, 1.0)])
    }

    #[test]
    fn shortest_paths_respect_weights_and_break_ties_by_node() {
        assert_eq!(shortest_path(&square(), 0, 4, false).unwrap(), GraphPath { nodes: vec![0, 2, 4], length: 2.0 });
        assert_eq!(shortest_path(&square(), 0, 4, true).unwrap(), GraphPath { nodes: vec![0, 1, 2, 4], length: 3.0 });
        assert_eq!(shortest_path(&square(), 0, 5, false), None);
        assert_eq!(shortest_path(&square(), 3, 3, false).unwrap().nodes, vec![3]);
    }

    #[test]
    fn yen_lists_loopless_paths_in_order() {
        let paths = k_shortest_paths(&square(), 0, 4, 5, true);
        let listed: Vec<(Vec<usize>, f64)> = paths.into_iter().map(|path| (path.nodes, path.length)).collect();
        assert_eq!(listed, vec![(vec![0, 1, 2, 4], 3.0), (vec![0, 3, 2, 4], 3.0), (vec![0, 2, 4], 4.0)]);
        assert!(k_shortest_paths(&square(), 0, 5, 3, true).is_empty());
        assert!(k_shortest_paths(&square(), 0, 4, 0, true).is_empty());
    }

    #[test]
    fn connecting_network_joins_terminals_through_shortest_paths() {
        let network = connecting_network(&square(), &[1, 3, 4, 5], false);
        assert_eq!(network.terminal_groups, vec![vec![1, 3, 4], vec![5]]);
        assert!(network.nodes.contains(&2), "node 2 connects the tail");
        // The optimum is the star 1-2, 3-2, 4-2 (length 3); the approximation may take the
        // equally short route 1-0-3 for one pair, within its bound of 2(1 - 1/3) x 3 = 4.
        assert_eq!(network.edges, vec![(0, 1), (0, 3), (1, 2), (2, 4)]);
        assert_eq!(network.total_length, 4.0);
    }
}
