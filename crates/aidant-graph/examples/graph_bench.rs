//! Times aidant-graph's Leiden and exact betweenness on an edge-list file, for scripts/bench-graph.
//!
//! Usage:
//!   `graph_bench leiden EDGES ITERATIONS SEED MEMBERSHIP_OUT` (ITERATIONS 0 means until stable)
//!   `graph_bench betweenness EDGES`
//! Prints one JSON object with the timings on standard output.

use std::io::{BufWriter, Write};
use std::time::Instant;

use aidant_graph::AnalysisGraph;
use aidant_graph::centrality::{PathCentralityOptions, betweenness_centrality};
use aidant_graph::leiden::{LeidenOptions, leiden};

fn read_edge_list(path: &str) -> Result<AnalysisGraph, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut edges = Vec::new();
    let mut node_count = 0;
    for (line_number, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        let (Some(u), Some(v)) = (fields.next(), fields.next()) else {
            continue;
        };
        let parse = |field: &str| field.parse::<usize>().map_err(|error| format!("line {}: {error}", line_number + 1));
        let (u, v) = (parse(u)?, parse(v)?);
        node_count = node_count.max(u + 1).max(v + 1);
        edges.push((u, v));
    }
    Ok(AnalysisGraph::from_unweighted_edges(node_count, edges))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().collect();
    let usage = "usage: graph_bench leiden EDGES ITERATIONS SEED MEMBERSHIP_OUT | graph_bench betweenness EDGES";
    let (Some(mode), Some(path)) = (arguments.get(1), arguments.get(2)) else {
        return Err(usage.into());
    };
    let load_started = Instant::now();
    let graph = read_edge_list(path)?;
    let load_seconds = load_started.elapsed().as_secs_f64();
    match mode.as_str() {
        "leiden" => {
            let iterations: usize = arguments.get(3).ok_or(usage)?.parse()?;
            let seed: u64 = arguments.get(4).ok_or(usage)?.parse()?;
            let options = LeidenOptions { seed, max_iterations: (iterations > 0).then_some(iterations), ..Default::default() };
            let started = Instant::now();
            let result = leiden(&graph, &options);
            let seconds = started.elapsed().as_secs_f64();
            let mut output = BufWriter::new(std::fs::File::create(arguments.get(5).ok_or(usage)?)?);
            for community in &result.membership {
                writeln!(output, "{community}")?;
            }
            output.flush()?;
            println!(
                "{{\"nodes\": {}, \"edges\": {}, \"load_seconds\": {load_seconds:.3}, \"seconds\": {seconds:.3}, \"modularity\": {:.6}, \"communities\": {}, \"iterations\": {}, \"converged\": {}}}",
                graph.node_count(),
                graph.edge_count(),
                result.quality,
                result.community_count,
                result.iterations,
                result.converged
            );
        }
        "betweenness" => {
            let started = Instant::now();
            let values = betweenness_centrality(&graph, PathCentralityOptions { weighted: false, normalized: true });
            let seconds = started.elapsed().as_secs_f64();
            let largest = values.iter().copied().fold(0.0, f64::max);
            println!(
                "{{\"nodes\": {}, \"edges\": {}, \"threads\": {}, \"seconds\": {seconds:.3}, \"max_betweenness\": {largest:.9}}}",
                graph.node_count(),
                graph.edge_count(),
                rayon::current_num_threads()
            );
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
