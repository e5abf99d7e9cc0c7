//! Any bytes as the nodes and edges files of `aidant graph` (split at the
//! first NUL). Reading never panics, and every relation read joins two
//! entities that were read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|byte| *byte == 0).unwrap_or(data.len());
    let (nodes, edges) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    if let Ok(network) = aidant_graph::csv_input::read_network(nodes, edges) {
        let count = network.entities().len();
        assert!(network.relations().iter().all(|relation| relation.source < count && relation.target < count));
    }
});
