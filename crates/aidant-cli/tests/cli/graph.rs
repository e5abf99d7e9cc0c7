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

/// Writes a nodes file and an edges file into `directory` and returns their paths.
fn write_network(directory: &std::path::Path, name: &str, nodes: &str, edges: &str) -> (String, String) {
    let nodes_path = directory.join(format!("{name}_nodes.csv"));
    let edges_path = directory.join(format!("{name}_edges.csv"));
    std::fs::write(&nodes_path, nodes).unwrap();
    std::fs::write(&edges_path, edges).unwrap();
    (nodes_path.display().to_string(), edges_path.display().to_string())
}

fn json_of(arguments: &[&str]) -> serde_json::Value {
    serde_json::from_str(&assert_success(&graph(arguments))).expect("JSON output")
}

const FOUR_PEOPLE: &str = "id,kind,label\nA,person,Adam\nB,person,Bogdan\nC,person,Cristina\nD,person,Dorin\n";
/// B–C, C–D and A–D, once each: what every weighed file below adds to its A–B calls.
const OTHER_TIES: &str = "B,C,associate,,,IR-1,1\nC,D,associate,,,IR-2,1\nA,D,associate,,,IR-3,1\n";
const EDGE_HEADER: &str = "source,target,kind,first_seen,last_seen,source_reference,confidence";

/// The same four people three ways: A and B called 3 and 2 times in two rows, 5 times in one
/// row, and in five rows without a weight column.
fn calls_three_ways(directory: &std::path::Path) -> Vec<(String, String)> {
    let with_weights = |rows: &str| format!("{EDGE_HEADER},weight\n{rows}{}", OTHER_TIES.replace('\n', ",\n"));
    let split = with_weights("A,B,called,,,CDR-1,1,3\nB,A,called,,,CDR-2,1,2\n");
    let single = with_weights("A,B,called,,,CDR-1,1,5\n");
    let repeated = format!("{EDGE_HEADER}\n{}{OTHER_TIES}", "A,B,called,,,CDR-1,1\n".repeat(5));
    vec![
        write_network(directory, "split", FOUR_PEOPLE, &split),
        write_network(directory, "single", FOUR_PEOPLE, &single),
        write_network(directory, "repeated", FOUR_PEOPLE, &repeated),
    ]
}

#[test]
fn a_weight_counts_as_that_many_repeated_rows_under_weighting_weight() {
    let directory = tempfile::tempdir().unwrap();
    let files = calls_three_ways(directory.path());
    let results_for = |command: &[&str]| -> Vec<serde_json::Value> {
        files
            .iter()
            .map(|(nodes, edges)| {
                let mut arguments = vec!["graph", command[0], "--nodes", nodes, "--edges", edges, "--weighting", "weight", "--json"];
                arguments.extend(&command[1..]);
                let json = json_of(&arguments);
                assert_eq!(json["run"]["analysis"]["weighting"], "weight");
                json["result"].clone()
            })
            .collect()
    };
    for command in [&["centrality", "--measure", "strength"][..], &["centrality", "--measure", "eigenvector"], &["communities", "--runs", "3"]] {
        let results = results_for(command);
        assert_eq!(results[0], results[1], "{command:?}: 3 + 2 is 5");
        assert_eq!(results[1], results[2], "{command:?}: a weight of 5 is five rows");
    }
    let strengths = results_for(&["centrality", "--measure", "strength"]);
    assert_eq!((&strengths[0]["values"][0]["entity_id"], &strengths[0]["values"][0]["value"]), (&serde_json::json!("A"), &serde_json::json!(6.0)));
    // A strong tie is a short one: A reaches C through B (1/5 + 1), not through D (1 + 1).
    for path in results_for(&["path", "--entity", "A", "C", "--weighted"]) {
        assert_eq!((&path[0]["entities"], &path[0]["length"]), (&serde_json::json!(["A", "B", "C"]), &serde_json::json!(1.2)));
    }
    let stdout = assert_success(&graph(&["graph", "path", "--nodes", &files[0].0, "--edges", &files[0].1, "--entity", "A", "B"]));
    assert!(stdout.contains("A called B (seen unknown to unknown, source CDR-1, confidence 1, weight 3)"), "the evidence gives each weight: {stdout}");
}

#[test]
fn a_file_without_weights_behaves_as_before_and_an_empty_weight_column_changes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let edges = format!("{EDGE_HEADER}\nA,B,called,,,CDR-1,0.5\n{OTHER_TIES}");
    let without = write_network(directory.path(), "without", FOUR_PEOPLE, &edges);
    let empty_column = write_network(
        directory.path(),
        "empty",
        FOUR_PEOPLE,
        &edges.replace(EDGE_HEADER, &format!("{EDGE_HEADER},weight")).replace('\n', ",\n").replacen("weight,\n", "weight\n", 1),
    );
    for command in [
        &["communities"][..],
        &["centrality", "--measure", "eigenvector"],
        &["centrality", "--measure", "degree"],
        &["path", "--entity", "A", "C", "--weighted"],
    ] {
        for weighting in ["uniform", "confidence", "weight"] {
            let run = |(nodes, edges): &(String, String)| {
                let mut arguments = vec!["graph", command[0], "--nodes", nodes, "--edges", edges, "--weighting", weighting];
                arguments.extend(&command[1..]);
                // A path cites each relation's weight where the file has the column, so only its
                // evidence lines may differ.
                assert_success(&graph(&arguments)).lines().filter(|line| !line.contains("(seen ")).collect::<Vec<_>>().join("\n")
            };
            assert_eq!(run(&without), run(&empty_column), "{command:?} --weighting {weighting}: same bytes, the input hash included");
        }
    }
    let output_path = directory.path().join("without.graphml").display().to_string();
    assert_success(&graph(&["graph", "export", "--nodes", &without.0, "--edges", &without.1, "--format", "graphml", "--output", &output_path]));
    assert!(!std::fs::read_to_string(&output_path).unwrap().contains("weight"), "no weight is exported where none was given");
}

#[test]
fn bad_weights_are_refused_naming_the_line_and_column() {
    let directory = tempfile::tempdir().unwrap();
    for bad in ["0", "-3", "often"] {
        let (nodes, edges) = write_network(directory.path(), "bad", FOUR_PEOPLE, &format!("source,target,kind,weight\nA,B,called,2\nB,C,called,{bad}\n"));
        let output = graph(&["graph", "components", "--nodes", &nodes, "--edges", &edges]);
        assert_failure_naming(&output, &format!("edges file, line 3, column 'weight': '{bad}' is not a positive number"));
    }
}

#[test]
fn degree_is_shown_with_links_and_strength() {
    let directory = tempfile::tempdir().unwrap();
    let (nodes, edges) = calls_three_ways(directory.path()).remove(1);
    let mut arguments = vec!["graph", "centrality", "--nodes", &nodes, "--edges", &edges, "--measure", "degree", "--weighting", "weight"];
    let stdout = assert_success(&graph(&arguments));
    assert!(stdout.contains("links      strength"), "{stdout}");
    let adam = stdout.lines().find(|line| line.contains("Adam")).unwrap();
    assert!(adam.ends_with("0.666667       2      6.000000"), "A: degree 2 of 3, strength 5 + 1: {adam}");
    arguments.push("--json");
    let json = json_of(&arguments);
    let values = json["result"]["values"].as_array().unwrap();
    let entry = |id: &str| values.iter().find(|value| value["entity_id"] == id).unwrap().clone();
    assert_eq!((entry("A")["degree"].as_u64(), entry("A")["strength"].as_f64()), (Some(2), Some(6.0)));
    assert_eq!((entry("C")["degree"].as_u64(), entry("C")["strength"].as_f64()), (Some(2), Some(2.0)));
    assert!(values.iter().any(|value| value["strength"].as_f64() != value["degree"].as_f64()), "under weights strength is not degree");
    // Uniformly every tie has strength 1, so strength is the degree.
    let uniform = json_of(&["graph", "centrality", "--nodes", &nodes, "--edges", &edges, "--measure", "strength", "--json"]);
    for value in uniform["result"]["values"].as_array().unwrap() {
        assert_eq!(value["strength"].as_f64(), value["degree"].as_f64());
        assert_eq!(value["value"], value["strength"]);
    }
    let betweenness = json_of(&["graph", "centrality", "--nodes", &nodes, "--edges", &edges, "--json"]);
    assert!(betweenness["result"]["values"][0].get("strength").is_none(), "other measures are as before");
}

#[test]
fn eigenvector_takes_a_tolerance_and_says_whether_it_converged() {
    let (nodes, edges) = (fixture("sample_nodes.csv"), fixture("sample_edges.csv"));
    let mut arguments = sample_arguments("centrality", &nodes, &edges);
    arguments.extend(["--measure", "eigenvector"]);
    let default = json_of(&[&arguments[..], &["--json"]].concat());
    let tight = json_of(&[&arguments[..], &["--json", "--tolerance", "1e-12", "--max-iterations", "5000"]].concat());
    assert_eq!(default["run"]["parameters"]["eigenvector_tolerance"], 1e-9);
    assert_eq!(tight["run"]["parameters"]["eigenvector_tolerance"], 1e-12);
    assert_eq!(tight["run"]["parameters"]["eigenvector_max_iterations"], 5000);
    let (default, tight) = (&default["result"]["convergence"], &tight["result"]["convergence"]);
    assert_eq!((default["converged"].as_bool(), tight["converged"].as_bool()), (Some(true), Some(true)));
    assert!(tight["iterations"].as_u64() > default["iterations"].as_u64(), "{default} {tight}");
    assert!(tight["last_change"].as_f64() < tight["change_bound"].as_f64());
    let stdout = assert_success(&graph(&arguments));
    assert!(stdout.starts_with("eigenvector centrality converged after "), "{stdout}");

    let output = graph(&[&arguments[..], &["--max-iterations", "3"]].concat());
    let stdout = assert_success(&output);
    assert!(stdout.contains("did NOT converge in 3 iterations"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("warning: eigenvector centrality did not converge in 3 iterations"), "{stderr}");
    assert!(stdout.contains("Ion Popescu"), "the last iterate is still shown: {stdout}");

    let mut degree = sample_arguments("centrality", &nodes, &edges);
    degree.extend(["--measure", "degree", "--tolerance", "1e-6"]);
    assert_failure_naming(&graph(&degree), "--tolerance and --max-iterations apply to --measure eigenvector only");
    assert_failure_naming(&graph(&[&arguments[..], &["--tolerance", "0"]].concat()), "--tolerance must be a positive number");
}

#[test]
fn the_best_of_several_leiden_runs_is_kept_and_reproducible() {
    let (nodes, edges) = (fixture("sample_nodes.csv"), fixture("sample_edges.csv"));
    let mut arguments = sample_arguments("communities", &nodes, &edges);
    arguments.extend(["--weighting", "confidence", "--seed", "3"]);
    let single = json_of(&[&arguments[..], &["--json"]].concat());
    let five_arguments = [&arguments[..], &["--runs", "5"]].concat();
    let five = json_of(&[&five_arguments[..], &["--json"]].concat());
    let quality = |json: &serde_json::Value| json["result"]["quality"].as_f64().unwrap();
    assert!(quality(&five) >= quality(&single));
    let runs = five["result"]["runs"].as_array().unwrap();
    assert_eq!(runs.iter().map(|run| run["seed"].as_u64().unwrap()).collect::<Vec<_>>(), [3, 4, 5, 6, 7]);
    assert_eq!(runs[0]["quality"], single["result"]["quality"], "the first run is the single run");
    assert_eq!(five["result"]["highest_quality"], five["result"]["quality"]);
    let best_seed = five["result"]["best_seed"].as_u64().unwrap();
    let first_best = runs.iter().find(|run| run["quality"] == five["result"]["quality"]).unwrap();
    assert_eq!(first_best["seed"].as_u64(), Some(best_seed), "ties go to the lowest seed");
    assert_eq!(five["run"]["parameters"]["runs"], 5);
    // The winning seed alone gives the same communities.
    let alone =
        json_of(&[&sample_arguments("communities", &nodes, &edges)[..], &["--weighting", "confidence", "--json", "--seed", &best_seed.to_string()]].concat());
    assert_eq!(alone["result"]["communities"], five["result"]["communities"]);

    let first = graph(&five_arguments);
    let stdout = assert_success(&first);
    assert!(stdout.contains(&format!("best of 5 runs (seeds 3 to 7): seed {best_seed} won; quality ranged from ")), "{stdout}");
    assert_eq!(first.stdout, graph(&five_arguments).stdout, "the same input and options give the same bytes");
    assert_failure_naming(&graph(&[&arguments[..], &["--runs", "0"]].concat()), "--runs");
    let mut overflowing = sample_arguments("communities", &nodes, &edges);
    overflowing.extend(["--seed", "18446744073709551615", "--runs", "2"]);
    assert_failure_naming(&graph(&overflowing), "would need seeds beyond");
}

#[test]
fn communities_are_named_after_their_most_central_member() {
    let (nodes, edges) = (fixture("sample_nodes.csv"), fixture("sample_edges.csv"));
    let stdout = assert_success(&graph(&sample_arguments("communities", &nodes, &edges)));
    assert!(stdout.contains("        2  \"Ion Popescu\" and 3 others (2 people, 1 business, 1 bank account)\n           P1, P2, B1, BA1\n"), "{stdout}");
    let mut arguments = sample_arguments("communities", &nodes, &edges);
    arguments.push("--json");
    let json = json_of(&arguments);
    let named = json["result"]["named_communities"].as_array().unwrap();
    let strengths = json_of(&[&sample_arguments("centrality", &nodes, &edges)[..], &["--measure", "strength", "--json"]].concat());
    let strength_of = |id: &serde_json::Value| {
        let values = strengths["result"]["values"].as_array().unwrap();
        let entry = values.iter().find(|value| &value["entity_id"] == id).unwrap();
        (entry["strength"].as_f64().unwrap(), entry["degree"].as_u64().unwrap())
    };
    for (community, ids) in named.iter().zip(json["result"]["communities"].as_array().unwrap()) {
        assert_eq!(&community["members"], ids, "the named list is the plain list, in the same order");
        assert_eq!(community["size"].as_u64(), Some(ids.as_array().unwrap().len() as u64));
        let key = strength_of(&community["key_member"]);
        assert!(ids.as_array().unwrap().iter().all(|member| strength_of(member) <= key), "{community}: the key member is the most central");
        let label = community["key_member_label"].as_str().unwrap();
        assert!(community["name"].as_str().unwrap().starts_with(&format!("\"{label}\"")), "{community}");
    }
    let ion = named.iter().find(|community| community["key_member"] == "P1").unwrap();
    assert_eq!(ion["name"], "\"Ion Popescu\" and 3 others (2 people, 1 business, 1 bank account)");
    assert_eq!(ion["kinds"][0], serde_json::json!({ "kind": "person", "count": 2 }));
}

#[test]
fn node_columns_of_their_own_reach_the_exports() {
    let directory = tempfile::tempdir().unwrap();
    let nodes_text = "id,kind,label,role,nationality,case_number\nP1,person,Ion Popescu,controller,Romanian,OP-7\nP2,person,Ana,victim,Moldovan,\nPH1,phone,+447700900001,,,OP-7\n";
    let edges_text = "source,target,kind,weight\nP1,PH1,uses_phone,\nP1,P2,controls,4\n";
    let (nodes, edges) = write_network(directory.path(), "attributes", nodes_text, edges_text);
    for (format, file) in [("graphml", "n.graphml"), ("gexf", "n.gexf"), ("anx", "n.anx"), ("ftm", "n.jsonl"), ("neo4j", "n")] {
        let output_path = directory.path().join(file).display().to_string();
        let mut arguments = sample_arguments("export", &nodes, &edges);
        arguments.extend(["--format", format, "--output", &output_path]);
        if matches!(format, "graphml" | "gexf" | "anx") {
            arguments.push("--with-analysis");
        }
        assert_success(&graph(&arguments));
    }
    let graphml = std::fs::read_to_string(directory.path().join("n.graphml")).unwrap();
    assert!(graphml.contains(r#"attr.name="nationality" attr.type="string""#) && graphml.contains(">Romanian</data>"), "{graphml}");
    assert!(graphml.contains(r#"attr.name="weight" attr.type="double""#) && graphml.contains(r#"<data key="edge_weight">4.0</data>"#));
    assert!(graphml.contains(r#"attr.name="community""#), "analysis attributes sit beside the file's own");
    let gexf = std::fs::read_to_string(directory.path().join("n.gexf")).unwrap();
    assert!(gexf.contains(r#"title="case_number" type="string""#) && gexf.contains(r#"label="controls" weight="4.0""#), "{gexf}");
    let neo4j_nodes = std::fs::read_to_string(directory.path().join("n_nodes.csv")).unwrap();
    assert!(neo4j_nodes.starts_with("entityId:ID,label,kind,role,:LABEL,nationality,case_number\n"), "{neo4j_nodes}");
    assert!(std::fs::read_to_string(directory.path().join("n_relationships.csv")).unwrap().contains(",weight:double\n"));

    let (nodes, edges) = write_network(directory.path(), "reserved", "id,kind,label,community\nP1,person,Ion,3\n", "source,target,kind\n");
    let output = graph(&["graph", "components", "--nodes", &nodes, "--edges", &edges]);
    assert_failure_naming(&output, "nodes file, line 1, column 'community': 'community' is the name of a built-in attribute");
}

#[test]
fn the_help_describes_the_new_options() {
    let help = |command: &str| assert_success(&graph(&["graph", command, "--help"]));
    let communities = help("communities");
    assert!(communities.contains("--runs <N>") && communities.contains("Run Leiden N times"), "{communities}");
    let centrality = help("centrality");
    assert!(centrality.contains("--tolerance <TOL>") && centrality.contains("--max-iterations <N>") && centrality.contains("strength"), "{centrality}");
    assert!(centrality.contains("weight (or strength), optional") && centrality.contains("any other column"), "{centrality}");
}
