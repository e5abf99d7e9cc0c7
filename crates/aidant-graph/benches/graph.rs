//! Criterion benchmarks of the hot algorithms on small and medium seeded graphs; the whole-run
//! comparison with igraph, leidenalg and networkx is scripts/bench-graph.

use std::hint::black_box;

use aidant_graph::AnalysisGraph;
use aidant_graph::centrality::{PathCentralityOptions, betweenness_centrality, closeness_centrality};
use aidant_graph::components::core_numbers;
use aidant_graph::leiden::{LeidenOptions, leiden};
use aidant_graph::paths::k_shortest_paths;
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded planted-partition graph: `groups` groups of `group_size` nodes, each node with about
/// `internal_degree` links inside its group and `external_degree` links to other groups.
fn planted_partition(groups: usize, group_size: usize, internal_degree: usize, external_degree: usize) -> AnalysisGraph {
    let mut generator = ChaCha8Rng::seed_from_u64(7);
    let node_count = groups * group_size;
    let mut edges = Vec::new();
    for node in 0..node_count {
        let group_start = node / group_size * group_size;
        for _ in 0..internal_degree / 2 {
            edges.push((node, group_start + generator.random_range(0..group_size)));
        }
        for _ in 0..external_degree.div_ceil(2) {
            edges.push((node, generator.random_range(0..node_count)));
        }
    }
    AnalysisGraph::from_unweighted_edges(node_count, edges)
}

fn benchmarks(criterion: &mut Criterion) {
    let small = planted_partition(10, 100, 8, 2);
    let medium = planted_partition(100, 200, 8, 3);
    let unweighted = PathCentralityOptions { weighted: false, normalized: true };
    criterion.bench_function("betweenness 1k nodes", |bench| bench.iter(|| betweenness_centrality(black_box(&small), unweighted)));
    criterion.bench_function("closeness 1k nodes", |bench| bench.iter(|| closeness_centrality(black_box(&small), false)));
    criterion.bench_function("leiden 1k nodes", |bench| bench.iter(|| leiden(black_box(&small), &LeidenOptions::default())));
    criterion.bench_function("leiden 20k nodes", |bench| bench.iter(|| leiden(black_box(&medium), &LeidenOptions::default())));
    criterion.bench_function("core numbers 20k nodes", |bench| bench.iter(|| core_numbers(black_box(&medium))));
    criterion.bench_function("yen 5 paths 20k nodes", |bench| bench.iter(|| k_shortest_paths(black_box(&medium), 0, 19_999, 5, false)));
}

criterion_group! {
    name = graph;
    config = Criterion::default().sample_size(10);
    targets = benchmarks
}
criterion_main!(graph);
