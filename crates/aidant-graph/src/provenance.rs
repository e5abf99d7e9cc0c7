//! Run records for disclosure: every result carries what produced it (algorithm, parameters,
//! seed, crate version, a hash of the input and of the result), so it can be re-run to the same
//! answer and the re-run checked byte for byte.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analysis::{AnalysisGraph, AnalysisOptions};
use crate::model::{NetworkGraph, hex_lower};

/// The crate whose algorithms produced a result, and its version.
pub const CRATE_NAME: &str = env!("CARGO_PKG_NAME");
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What produced a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub algorithm: String,
    pub library: String,
    pub library_version: String,
    /// The algorithm's own options, as JSON.
    pub parameters: serde_json::Value,
    pub seed: Option<u64>,
    /// SHA-256 of the network's canonical form ([`NetworkGraph::canonical_sha256`]).
    pub input_sha256: String,
    /// The time window, weighting and hub treatment that shaped the analysis graph.
    pub analysis: AnalysisOptions,
    pub entity_count: usize,
    pub relation_count: usize,
    pub node_count: usize,
    pub edge_count: usize,
    /// SHA-256 of the result serialised as compact JSON.
    pub result_sha256: String,
}

/// A result together with its run record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explained<T> {
    pub result: T,
    pub run: RunRecord,
}

/// Wraps a result with the record of how it was produced.
pub fn explain<T: Serialize, P: Serialize>(
    algorithm: &str,
    network: &NetworkGraph,
    analysis: &AnalysisOptions,
    graph: &AnalysisGraph,
    parameters: &P,
    seed: Option<u64>,
    result: T,
) -> Explained<T> {
    let run = RunRecord {
        algorithm: algorithm.to_owned(),
        library: CRATE_NAME.to_owned(),
        library_version: CRATE_VERSION.to_owned(),
        parameters: serde_json::to_value(parameters).unwrap_or(serde_json::Value::Null),
        seed,
        input_sha256: network.canonical_sha256(),
        analysis: analysis.clone(),
        entity_count: network.entities().len(),
        relation_count: network.relations().len(),
        node_count: graph.node_count(),
        edge_count: graph.edge_count(),
        result_sha256: result_sha256(&result),
    };
    Explained { result, run }
}

/// SHA-256 of a value serialised as compact JSON; two runs agree exactly when these agree.
pub fn result_sha256<T: Serialize>(result: &T) -> String {
    let bytes = serde_json::to_vec(result).unwrap_or_default();
    hex_lower(&Sha256::digest(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_input::read_network_from_str;
    use crate::leiden::{LeidenOptions, leiden};

    #[test]
    fn a_rerun_from_the_record_reproduces_the_result() {
        let network = read_network_from_str(
            "id,kind\na,person\nb,person\nc,person\nd,person\n",
            "source,target,kind\na,b,associate\nb,c,associate\nc,a,associate\nc,d,family\n",
        )
        .unwrap();
        let analysis = AnalysisOptions::default();
        let graph = AnalysisGraph::project(&network, &analysis);
        let options = LeidenOptions { seed: 9, ..Default::default() };
        let first = explain("leiden", &network, &analysis, &graph, &options, Some(options.seed), leiden(&graph, &options));
        let recorded: LeidenOptions = serde_json::from_value(first.run.parameters.clone()).unwrap();
        let again = explain("leiden", &network, &analysis, &graph, &recorded, recorded.seed.into(), leiden(&graph, &recorded));
        assert_eq!(first, again);
        assert_eq!(first.run.library_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(first.run.input_sha256.len(), 64);
        let json = serde_json::to_string(&first).unwrap();
        let parsed: Explained<crate::leiden::LeidenResult> = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, first);
    }
}
