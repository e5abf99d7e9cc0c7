//! Our centralities, components, cores and communities against networkx on three public graphs.

use aidant_graph::centrality::{
    PathCentralityOptions, approximate_betweenness_centrality, betweenness_centrality, closeness_centrality, degree_centrality, eigenvector_centrality,
};
use aidant_graph::components::{connected_components, core_numbers};
use aidant_graph::leiden::{LeidenOptions, QualityFunction, leiden, leiden_best_of_runs, modularity};

use crate::helpers::{FIXTURE_NAMES, Fixture, assert_close};

const TOLERANCE: f64 = 1e-9;

#[test]
fn unweighted_centralities_equal_networkx() {
    for name in FIXTURE_NAMES {
        let fixture = Fixture::load(name);
        let graph = fixture.unweighted_graph();
        let normalized = PathCentralityOptions { weighted: false, normalized: true };
        assert_close(&format!("{name} degree"), &degree_centrality(&graph), &fixture.degree, TOLERANCE);
        assert_close(&format!("{name} betweenness"), &betweenness_centrality(&graph, normalized), &fixture.betweenness, TOLERANCE);
        assert_close(&format!("{name} closeness"), &closeness_centrality(&graph, false), &fixture.closeness, TOLERANCE);
        let eigenvector = eigenvector_centrality(&graph, false, 100, 1e-6).expect("converges as in networkx");
        assert_close(&format!("{name} eigenvector"), &eigenvector, &fixture.eigenvector, TOLERANCE);
    }
}

#[test]
fn weighted_centralities_equal_networkx_on_les_miserables() {
    let fixture = Fixture::load("les_miserables");
    let graph = fixture.weighted_graph();
    let weighted = PathCentralityOptions { weighted: true, normalized: true };
    assert_close("weighted betweenness", &betweenness_centrality(&graph, weighted), fixture.weighted_betweenness.as_ref().unwrap(), TOLERANCE);
    assert_close("weighted closeness", &closeness_centrality(&graph, true), fixture.weighted_closeness.as_ref().unwrap(), TOLERANCE);
    assert_close("weighted eigenvector", &eigenvector_centrality(&graph, true, 100, 1e-6).unwrap(), fixture.weighted_eigenvector.as_ref().unwrap(), TOLERANCE);
}

#[test]
fn components_and_core_numbers_equal_networkx() {
    for name in FIXTURE_NAMES {
        let fixture = Fixture::load(name);
        let graph = fixture.unweighted_graph();
        assert_eq!(connected_components(&graph), fixture.components, "{name} components");
        assert_eq!(core_numbers(&graph), fixture.core_number, "{name} core numbers");
    }
}

#[test]
fn sampled_betweenness_stays_within_its_stated_error() {
    let fixture = Fixture::load("les_miserables");
    let graph = fixture.unweighted_graph();
    for seed in 0..5 {
        let sampled = approximate_betweenness_centrality(&graph, false, 40, seed, 0.05);
        let worst = sampled.values.iter().zip(&fixture.betweenness).map(|(estimate, exact)| (estimate - exact).abs()).fold(0.0, f64::max);
        assert!(worst <= sampled.error_bound, "seed {seed}: error {worst} above bound {}", sampled.error_bound);
    }
}

#[test]
fn leiden_finds_the_karate_club_communities() {
    let fixture = Fixture::load("karate_club");
    let graph = fixture.unweighted_graph();
    for seed in 0..10 {
        let result = leiden(&graph, &LeidenOptions { seed, ..Default::default() });
        assert!(result.quality >= 0.41, "seed {seed}: modularity {}", result.quality);
        assert!((result.quality - modularity(&graph, &result.membership, 1.0, false)).abs() < 1e-12);
        assert!(result.quality > fixture.club_split_modularity.unwrap(), "better than the real split");
        assert!((3..=5).contains(&result.community_count), "seed {seed}: {} communities", result.community_count);
        // The two leaders (node 0, Mr. Hi, and node 33, the officer) are never put together.
        assert_ne!(result.membership[0], result.membership[33]);
    }
    // The best known modularity of the karate club is 0.4198; Leiden reaches it.
    let best = (0..10).map(|seed| leiden(&graph, &LeidenOptions { seed, ..Default::default() }).quality).fold(0.0, f64::max);
    assert!((best - 0.41979).abs() < 1e-4, "best {best}");
    // `--runs 10` from seed 0 keeps that best partition, never a worse one than seed 0 alone.
    let best_of = leiden_best_of_runs(&graph, &LeidenOptions { seed: 0, ..Default::default() }, 10);
    assert_eq!(best_of.best.quality, best);
    assert!(best_of.best.quality >= leiden(&graph, &LeidenOptions { seed: 0, ..Default::default() }).quality);
    // At a low resolution the two-faction split emerges: most members land with their leader.
    let coarse = leiden(&graph, &LeidenOptions { resolution: 0.5, ..Default::default() });
    let split = fixture.club_split.unwrap();
    let agreeing = (0..34).filter(|&node| (coarse.membership[node] == coarse.membership[0]) == (split[node] == split[0])).count();
    assert!(agreeing >= 30, "{agreeing} of 34 members agree with the recorded split");
}

#[test]
fn leiden_is_reproducible_from_its_seed() {
    let graph = Fixture::load("les_miserables").weighted_graph();
    for quality in [QualityFunction::Modularity, QualityFunction::ConstantPotts] {
        let options = LeidenOptions {
            quality,
            resolution: if quality == QualityFunction::Modularity { 1.0 } else { 0.05 },
            weighted: true,
            seed: 42,
            ..Default::default()
        };
        assert_eq!(leiden(&graph, &options), leiden(&graph, &options));
    }
}
