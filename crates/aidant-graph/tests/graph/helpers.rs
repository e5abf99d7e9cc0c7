//! Shared helpers: loading the committed networkx fixtures and comparing vectors of floats.

use std::path::PathBuf;

use aidant_graph::AnalysisGraph;
use serde::Deserialize;

/// One fixture written by scripts/graph_fixtures.py.
#[derive(Deserialize)]
pub struct Fixture {
    pub node_names: Vec<String>,
    pub edges: Vec<(usize, usize, f64)>,
    pub degree: Vec<f64>,
    pub betweenness: Vec<f64>,
    pub closeness: Vec<f64>,
    pub eigenvector: Vec<f64>,
    pub core_number: Vec<usize>,
    pub components: Vec<Vec<usize>>,
    pub weighted_betweenness: Option<Vec<f64>>,
    pub weighted_closeness: Option<Vec<f64>>,
    pub weighted_eigenvector: Option<Vec<f64>>,
    pub club_split_modularity: Option<f64>,
    pub club_split: Option<Vec<usize>>,
}

impl Fixture {
    pub fn load(name: &str) -> Fixture {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
    }

    /// The graph with every edge weighing 1.
    pub fn unweighted_graph(&self) -> AnalysisGraph {
        AnalysisGraph::from_unweighted_edges(self.node_names.len(), self.edges.iter().map(|&(u, v, _)| (u, v)))
    }

    /// The graph with the fixture's weights as both strength and distance, as networkx uses them.
    pub fn weighted_graph(&self) -> AnalysisGraph {
        AnalysisGraph::from_weighted_edges(self.node_names.len(), self.edges.iter().copied())
    }
}

pub const FIXTURE_NAMES: [&str; 3] = ["karate_club", "les_miserables", "florentine_families"];

/// Asserts two vectors agree element-wise within `tolerance`, naming the first disagreement.
pub fn assert_close(what: &str, actual: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (node, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tolerance, "{what}: node {node}: ours {a}, networkx {e}, difference {}", (a - e).abs());
    }
}
