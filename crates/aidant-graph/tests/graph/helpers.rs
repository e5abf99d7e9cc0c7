//! Shared helpers: loading the committed networkx fixtures, comparing vectors of floats, and
//! running Python (networkx, followthemoney) on files we write.
//!
//! The Python interpreter is the one named by `AIDANT_PYTHON` (default `python3`); it needs the
//! PyPI packages `networkx` and `followthemoney`. Without them the tests that run it fail, on
//! purpose: an export nobody checked is an export that may not open in court.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use aidant_graph::AnalysisGraph;
use serde::Deserialize;
use serde_json::Value;

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

/// Runs a Python snippet with the given arguments and returns its standard output as JSON.
pub fn run_python(script: &str, arguments: &[&Path], modules: &str) -> Value {
    let python = std::env::var("AIDANT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(arguments)
        .output()
        .unwrap_or_else(|error| panic!("could not run the Python interpreter '{python}' (set AIDANT_PYTHON): {error}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("ModuleNotFoundError") || stderr.contains("ImportError") {
        panic!(
            "the Python interpreter '{python}' lacks {modules}. Install them with \
             `python3 -m venv .venv && .venv/bin/pip install {modules}` and run the tests with \
             AIDANT_PYTHON=.venv/bin/python.\n{stderr}"
        );
    }
    assert!(output.status.success(), "Python failed:\n{stderr}");
    serde_json::from_slice(&output.stdout).expect("the Python snippet prints JSON")
}

/// Writes `contents` to a file `name` in `directory` and returns its path.
pub fn write_temporary(directory: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = directory.join(name);
    std::fs::File::create(&path).and_then(|mut file| file.write_all(contents)).expect("writing a temporary file");
    path
}
