//! networkx run live on a graph the test builds, where a committed fixture cannot say enough:
//! eigenvector centrality's stopping rule, which must be networkx's own so that an analyst who
//! gives both the same tolerance gets the same numbers. Python is run as `helpers` describes.

use aidant_graph::centrality::{EigenvectorOptions, eigenvector_centrality_with_report};
use aidant_graph::csv_input::read_network_from_str;
use aidant_graph::{AnalysisGraph, AnalysisOptions, EdgeWeighting};

use crate::helpers::{assert_close, run_python, write_temporary};

/// Prints, for the graph in argv[1] (node count and weighted edges), networkx's eigenvector
/// centrality at tolerance 1e-12, and the fewest iterations with which it converges at its
/// default tolerance of 1e-6, both without and with weights.
const NETWORKX_EIGENVECTOR: &str = r#"
import json, sys
import networkx as nx
spec = json.load(open(sys.argv[1]))
graph = nx.Graph()
graph.add_nodes_from(range(spec["nodes"]))
# Edges in increasing order give every node its neighbours in increasing order, as Aidant keeps them.
for u, v, weight in spec["edges"]:
    graph.add_edge(u, v, weight=weight)
def fewest_iterations(weight):
    for limit in range(1, 1001):
        try:
            nx.eigenvector_centrality(graph, max_iter=limit, tol=1e-6, weight=weight)
            return limit
        except nx.PowerIterationFailedConvergence:
            pass
result = {}
for name, weight in (("unweighted", None), ("weighted", "weight")):
    values = nx.eigenvector_centrality(graph, max_iter=1000, tol=1e-12, weight=weight)
    result[name] = {"values": [values[node] for node in range(spec["nodes"])], "fewest_iterations": fewest_iterations(weight)}
print(json.dumps(result))
"#;

/// The sample network's edges with a weight column: counts of 1 to 4 in turn.
fn weighed_sample_graph() -> AnalysisGraph {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let nodes = std::fs::read_to_string(fixtures.join("sample_nodes.csv")).unwrap();
    let edges = std::fs::read_to_string(fixtures.join("sample_edges.csv")).unwrap();
    let mut weighed = String::new();
    for (line_number, line) in edges.lines().enumerate() {
        let weight = if line_number == 0 { "weight".to_owned() } else { (line_number % 4 + 1).to_string() };
        weighed.push_str(&format!("{line},{weight}\n"));
    }
    let network = read_network_from_str(&nodes, &weighed).unwrap();
    AnalysisGraph::project(&network, &AnalysisOptions { weighting: EdgeWeighting::Weight, ..Default::default() })
}

#[test]
fn eigenvector_centrality_stops_where_networkx_stops() {
    let graph = weighed_sample_graph();
    let spec = serde_json::json!({ "nodes": graph.node_count(), "edges": graph.edges().collect::<Vec<_>>() });
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_temporary(directory.path(), "graph.json", spec.to_string().as_bytes());
    let networkx = run_python(NETWORKX_EIGENVECTOR, &[&path], "networkx");
    for (name, weighted) in [("unweighted", false), ("weighted", true)] {
        let expected: Vec<f64> = networkx[name]["values"].as_array().unwrap().iter().map(|value| value.as_f64().unwrap()).collect();
        let tight = eigenvector_centrality_with_report(&graph, EigenvectorOptions { weighted, max_iterations: 1000, tolerance: 1e-12 }).unwrap();
        assert!(tight.converged, "{name}");
        assert_close(&format!("{name} eigenvector at tolerance 1e-12"), &tight.values, &expected, 1e-9);
        // At networkx's defaults both stop at the same iteration: the test is the same one.
        let fewest = networkx[name]["fewest_iterations"].as_u64().unwrap() as usize;
        let default = eigenvector_centrality_with_report(&graph, EigenvectorOptions { weighted, ..Default::default() }).unwrap();
        assert_eq!((default.converged, default.iterations), (true, fewest), "{name}");
        let one_short = eigenvector_centrality_with_report(&graph, EigenvectorOptions { weighted, max_iterations: fewest - 1, tolerance: 1e-6 }).unwrap();
        assert!(!one_short.converged, "{name}: networkx does not converge in {} iterations either", fewest - 1);
    }
}
