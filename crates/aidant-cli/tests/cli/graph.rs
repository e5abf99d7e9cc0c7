//! `aidant graph` end to end over files: the sample network, malformed files
//! and hubs (`--from-database` is in `graph_from_database`).

use std::path::PathBuf;
use std::process::Output;

use crate::helpers::{aidant, assert_failure_naming, assert_success};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../aidant-graph/tests/fixtures").join(name).display().to_string()
}

fn graph(arguments: &[&str]) -> Output {
    aidant().args(arguments).output().expect("the aidant binary runs")
}

fn sample_arguments<'a>(command: &'a str, nodes: &'a str, edges: &'a str) -> Vec<&'a str> {
    vec!["graph", command, "--nodes", nodes, "--edges", edges]
}

#[test]
fn communities_as_json_carry_a_run_record() {
    let (nodes, edges) = (fixture("sample_nodes.csv"), fixture("sample_edges.csv"));
    let mut arguments = sample_arguments("communities", &nodes, &edges);
    arguments.extend(["--json", "--seed", "7"]);
    let output = graph(&arguments);
    let json: serde_json::Value = serde_json::from_str(&assert_success(&output)).expect("JSON output");
    assert_eq!(json["run"]["algorithm"], "leiden");
    assert_eq!(json["run"]["seed"], 7);
    assert_eq!(json["run"]["entity_count"], 15);
    assert_eq!(json["run"]["input_sha256"].as_str().map(str::len), Some(64));
    let members: usize = json["result"]["communities"].as_array().unwrap().iter().map(|c| c.as_array().unwrap().len()).sum();
    assert_eq!(members, 15);
    let again = graph(&arguments);
    assert_eq!(output.stdout, again.stdout, "the same seed gives the same output");
}

#[test]
fn paths_centrality_components_and_exports_run() {
    let (nodes, edges) = (fixture("sample_nodes.csv"), fixture("sample_edges.csv"));
    let mut arguments = sample_arguments("path", &nodes, &edges);
    arguments.extend(["--entity", "P4", "P5", "--k", "2"]);
    let stdout = assert_success(&graph(&arguments));
    assert!(stdout.contains("P4 -> P2 -> A1 -> P5"), "{stdout}");
    assert!(stdout.contains("P5 lives_at A1 (seen 2024-02-01 to unknown, source IR-2024-0003, confidence 0.5)"), "each hop cites its evidence: {stdout}");

    let mut arguments = sample_arguments("centrality", &nodes, &edges);
    arguments.extend(["--measure", "betweenness", "--top", "1"]);
    let stdout = assert_success(&graph(&arguments));
    assert!(stdout.contains("P1") && stdout.contains("Ion Popescu"), "{stdout}");

    let mut arguments = sample_arguments("components", &nodes, &edges);
    arguments.extend(["--from", "2024-05-01"]);
    let stdout = assert_success(&graph(&arguments));
    assert!(stdout.starts_with("3 components"), "{stdout}");

    let directory = tempfile::tempdir().unwrap();
    for (format, file) in [("graphml", "n.graphml"), ("gexf", "n.gexf"), ("anx", "n.anx"), ("ftm", "n.jsonl"), ("neo4j", "n")] {
        let output_path = directory.path().join(file).display().to_string();
        let mut arguments = sample_arguments("export", &nodes, &edges);
        arguments.extend(["--format", format, "--output", &output_path]);
        assert_success(&graph(&arguments));
    }
    assert!(directory.path().join("n_relationships.csv").exists());
    let output_path = directory.path().join("analysed.graphml").display().to_string();
    let mut arguments = sample_arguments("export", &nodes, &edges);
    arguments.extend(["--format", "graphml", "--output", &output_path, "--with-analysis"]);
    assert_success(&graph(&arguments));
    let graphml = std::fs::read_to_string(&output_path).unwrap();
    assert!(graphml.contains(r#"attr.name="betweenness_centrality""#) && graphml.contains(r#"attr.name="community""#));
    assert!(std::fs::read_to_string(directory.path().join("n.gexf")).unwrap().contains("version=\"1.3\""));
    let chart = std::fs::read_to_string(directory.path().join("n.anx")).unwrap();
    assert!(chart.contains("<Chart ") && chart.contains("Ion Popescu"), "an Analyst's Notebook chart of the network");
}

#[test]
fn malformed_files_give_an_error_naming_the_line() {
    let directory = tempfile::tempdir().unwrap();
    let nodes = fixture("sample_nodes.csv");
    let cases = [
        (
            "unknown.csv",
            "source,target,kind\nP1,PH1,uses_phone\nP1,NOPE,called\n",
            "edges file, line 3, column 'target': relation refers to unknown entity 'NOPE'",
        ),
        ("dates.csv", "source,target,kind,first_seen\nP1,PH1,uses_phone,2024-02-30\n", "edges file, line 2, column 'first_seen'"),
    ];
    for (name, contents, expected) in cases {
        let path = directory.path().join(name);
        std::fs::write(&path, contents).unwrap();
        let output = graph(&sample_arguments("components", &nodes, &path.display().to_string()));
        assert_eq!(output.status.code(), Some(1));
        assert_failure_naming(&output, expected);
    }
    let duplicate = directory.path().join("duplicate_nodes.csv");
    std::fs::write(&duplicate, "id,kind\nA,person\nA,phone\n").unwrap();
    let output = graph(&sample_arguments("components", &duplicate.display().to_string(), &fixture("sample_edges.csv")));
    assert_failure_naming(&output, "nodes file, line 3, column 'id': entity id 'A' is used more than once");
}

#[test]
fn hubs_are_listed_and_can_be_excluded_or_overridden() {
    let directory = tempfile::tempdir().unwrap();
    let mut nodes = String::from("id,kind,label\nhostel,address,Station Road Hostel\n");
    let mut edges = String::from("source,target,kind\n");
    for person in 0..12 {
        nodes.push_str(&format!("p{person},person,Person {person}\n"));
        edges.push_str(&format!("p{person},hostel,lives_at\n"));
    }
    let nodes_path = directory.path().join("nodes.csv");
    let edges_path = directory.path().join("edges.csv");
    std::fs::write(&nodes_path, nodes).unwrap();
    std::fs::write(&edges_path, edges).unwrap();
    let (nodes, edges) = (nodes_path.display().to_string(), edges_path.display().to_string());

    let kept = assert_success(&graph(&sample_arguments("components", &nodes, &edges)));
    assert!(kept.starts_with("1 components"), "{kept}");
    assert!(kept.contains("hostel [Detected]: address 'Station Road Hostel' is linked to 12 distinct people"), "{kept}");

    let mut arguments = sample_arguments("components", &nodes, &edges);
    arguments.push("--exclude-hubs");
    let excluded = assert_success(&graph(&arguments));
    assert!(excluded.starts_with("12 components among 12 entities"), "{excluded}");

    arguments.extend(["--not-hub", "hostel"]);
    let overridden = assert_success(&graph(&arguments));
    assert!(overridden.starts_with("1 components"), "{overridden}");
    assert!(overridden.contains("[OverriddenNotHub]"), "{overridden}");
}

/// A chain of `count` people, each linked to the next: enough rows that a
/// table of every entity overflows a pipe's buffer.
fn write_chain(directory: &std::path::Path, count: usize) -> (String, String) {
    let nodes = directory.join("nodes.csv");
    let edges = directory.join("edges.csv");
    let mut node_rows = String::from("id,kind,label,role\n");
    let mut edge_rows = String::from("source,target,kind,first_seen,last_seen,source_reference,confidence\n");
    for index in 0..count {
        node_rows.push_str(&format!("N{index},person,Person number {index},\n"));
        if index > 0 {
            edge_rows.push_str(&format!("N{},N{index},associate,,,R{index},1\n", index - 1));
        }
    }
    std::fs::write(&nodes, node_rows).unwrap();
    std::fs::write(&edges, edge_rows).unwrap();
    (nodes.display().to_string(), edges.display().to_string())
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    let directory = tempfile::tempdir().unwrap();
    let (nodes, edges) = write_chain(directory.path(), 4000);
    let mut child = aidant()
        .args(["graph", "centrality", "--nodes", &nodes, "--edges", &edges, "--measure", "degree", "--top", "4000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // As `| head -1`: one line read, then the pipe closed.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe") && !stderr.contains("error"), "{stderr}");
    assert!(output.status.success(), "a closed pipe is the reader's choice, not a failure: {:?} {stderr}", output.status);
}

#[test]
fn a_quote_never_closed_in_either_file_stops_the_run_naming_its_line() {
    let directory = tempfile::tempdir().unwrap();
    let nodes = directory.path().join("nodes.csv");
    let edges = directory.path().join("edges.csv");
    std::fs::write(&nodes, "id,kind,label\nP1,person,Ann\nP2,person,\"Bob\nP3,person,Cat\n").unwrap();
    std::fs::write(&edges, "source,target,kind\nP1,P3,associate\n").unwrap();
    let output = graph(&["graph", "components", "--nodes", nodes.to_str().unwrap(), "--edges", edges.to_str().unwrap()]);
    assert_failure_naming(&output, "nodes file, line 3: the file is not valid CSV: a quote opened here is never closed");
    std::fs::write(&nodes, "id,kind,label\nP1,person,Ann\nP2,person,Bob\nP3,person,Cat\n").unwrap();
    std::fs::write(&edges, "source,target,kind,source_reference\nP1,P3,associate,\"IR-1\nP2,P3,associate,IR-2\n").unwrap();
    let output = graph(&["graph", "components", "--nodes", nodes.to_str().unwrap(), "--edges", edges.to_str().unwrap()]);
    assert_failure_naming(&output, "edges file, line 2: the file is not valid CSV: a quote opened here is never closed");
}
