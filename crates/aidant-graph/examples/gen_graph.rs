//! Writes a seeded LFR-like benchmark graph: power-law degrees, power-law community sizes and a
//! chosen mixing parameter (the share of each node's edges that leave its community).
//!
//! Usage: `cargo run --release --example gen_graph -- NODES MIXING SEED EDGES_OUT [COMMUNITIES_OUT]`
//! The edge list has one `u v` pair per line over nodes 0..NODES; the optional communities file
//! has the planted community of each node, one per line.

use std::collections::HashSet;
use std::io::{BufWriter, Write};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DEGREE_EXPONENT: f64 = 2.5;
const MINIMUM_DEGREE: f64 = 4.4;
const MAXIMUM_DEGREE: usize = 150;
const COMMUNITY_SIZE_EXPONENT: f64 = 1.5;
const MINIMUM_COMMUNITY_SIZE: f64 = 40.0;
const MAXIMUM_COMMUNITY_SIZE: usize = 2000;

fn power_law_sample(generator: &mut ChaCha8Rng, minimum: f64, exponent: f64, maximum: usize) -> usize {
    loop {
        let uniform: f64 = generator.random::<f64>().max(f64::MIN_POSITIVE);
        let value = (minimum * uniform.powf(-1.0 / (exponent - 1.0))) as usize;
        if value <= maximum {
            return value;
        }
    }
}

/// Pairs stubs at random, skipping self-loops and repeated pairs (the usual configuration-model
/// simplification, which loses well under 1% of stubs at these sizes).
fn pair_stubs(stubs: &mut [u32], generator: &mut ChaCha8Rng, seen: &mut HashSet<(u32, u32)>, edges: &mut Vec<(u32, u32)>) {
    stubs.shuffle(generator);
    for pair in stubs.chunks_exact(2) {
        let (u, v) = (pair[0].min(pair[1]), pair[0].max(pair[1]));
        if u != v && seen.insert((u, v)) {
            edges.push((u, v));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().collect();
    if arguments.len() < 5 {
        return Err("usage: gen_graph NODES MIXING SEED EDGES_OUT [COMMUNITIES_OUT]".into());
    }
    let node_count: usize = arguments[1].parse()?;
    let mixing: f64 = arguments[2].parse()?;
    let seed: u64 = arguments[3].parse()?;
    let mut generator = ChaCha8Rng::seed_from_u64(seed);

    let degrees: Vec<usize> = (0..node_count).map(|_| power_law_sample(&mut generator, MINIMUM_DEGREE, DEGREE_EXPONENT, MAXIMUM_DEGREE)).collect();
    let largest_community = MAXIMUM_COMMUNITY_SIZE.min(node_count);
    let mut community_sizes = Vec::new();
    let mut covered = 0;
    while covered < node_count {
        let size = power_law_sample(&mut generator, MINIMUM_COMMUNITY_SIZE, COMMUNITY_SIZE_EXPONENT, largest_community).min(node_count - covered);
        community_sizes.push(size);
        covered += size;
    }
    // Place high-degree nodes first so they find a community large enough for their internal edges.
    let mut nodes: Vec<usize> = (0..node_count).collect();
    nodes.shuffle(&mut generator);
    nodes.sort_by_key(|&node| std::cmp::Reverse(degrees[node]));
    let mut free: Vec<usize> = community_sizes.clone();
    let mut community_of = vec![0u32; node_count];
    let mut open: Vec<usize> = (0..community_sizes.len()).collect();
    for &node in &nodes {
        let internal = ((1.0 - mixing) * degrees[node] as f64).round() as usize;
        let mut chosen = None;
        for _ in 0..64 {
            let candidate = open[generator.random_range(0..open.len())];
            if community_sizes[candidate] > internal {
                chosen = Some(candidate);
                break;
            }
        }
        let community = chosen.unwrap_or_else(|| *open.iter().max_by_key(|&&c| community_sizes[c]).expect("capacity remains"));
        community_of[node] = community as u32;
        free[community] -= 1;
        if free[community] == 0 {
            open.retain(|&c| c != community);
        }
    }
    let mut internal_stubs: Vec<Vec<u32>> = vec![Vec::new(); community_sizes.len()];
    let mut external_stubs: Vec<u32> = Vec::new();
    for node in 0..node_count {
        let internal = ((1.0 - mixing) * degrees[node] as f64).round() as usize;
        for _ in 0..internal {
            internal_stubs[community_of[node] as usize].push(node as u32);
        }
        for _ in internal..degrees[node] {
            external_stubs.push(node as u32);
        }
    }
    let mut seen = HashSet::new();
    let mut edges = Vec::new();
    for stubs in &mut internal_stubs {
        pair_stubs(stubs, &mut generator, &mut seen, &mut edges);
    }
    pair_stubs(&mut external_stubs, &mut generator, &mut seen, &mut edges);

    let mut output = BufWriter::new(std::fs::File::create(&arguments[4])?);
    for (u, v) in &edges {
        writeln!(output, "{u} {v}")?;
    }
    output.flush()?;
    if let Some(path) = arguments.get(5) {
        let mut output = BufWriter::new(std::fs::File::create(path)?);
        for community in &community_of {
            writeln!(output, "{community}")?;
        }
        output.flush()?;
    }
    let crossing = edges.iter().filter(|(u, v)| community_of[*u as usize] != community_of[*v as usize]).count();
    eprintln!(
        "{node_count} nodes, {} edges, {} communities, measured mixing {:.3}",
        edges.len(),
        community_sizes.len(),
        crossing as f64 / edges.len().max(1) as f64
    );
    Ok(())
}
