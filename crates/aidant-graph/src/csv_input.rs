//! Reads a network from two CSV texts (nodes and edges) given by the caller, with errors that name
//! the file, line and column of every problem instead of panicking on dirty input.
//!
//! Nodes CSV, with a header row: `id,kind,label,role` (`label` and `role` may be omitted or left
//! empty); every other named column is a text attribute of the node, carried into exports (an
//! empty cell is no value). Edges CSV, with a header row:
//! `source,target,kind,first_seen,last_seen,source_reference,confidence,weight` (only `source`,
//! `target` and `kind` are required; dates are `YYYY-MM-DD`; confidence defaults to 1; `weight`,
//! also spelt `strength`, is a positive number such as a count of calls, 1 when empty).

use std::fmt;
use std::io::Read;

use aidant_core::csv_quotes::{QuoteCheck, UnclosedQuote};

use thiserror::Error;

use crate::model::{Entity, EntityKind, ModelError, NetworkGraph, Relation, RelationKind, RelationWeight, RoleInProcess, parse_seen_date};

/// Which of the two input files a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFileKind {
    Nodes,
    Edges,
}

impl fmt::Display for GraphFileKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            GraphFileKind::Nodes => "nodes",
            GraphFileKind::Edges => "edges",
        })
    }
}

/// What is wrong at one place in an input file.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GraphFileProblem {
    #[error("the header has no '{0}' column")]
    MissingColumn(&'static str),
    #[error("the file is not valid CSV: {0}")]
    Malformed(String),
    #[error("empty value")]
    EmptyValue,
    #[error("unknown entity kind '{0}'; expected one of {1}")]
    UnknownEntityKind(String, String),
    #[error("unknown relation kind '{0}'; expected one of {1}")]
    UnknownRelationKind(String, String),
    #[error("unknown role in process '{0}'; expected one of {1}")]
    UnknownRole(String, String),
    #[error("{0}")]
    BadDate(String),
    #[error("'{0}' is not a number between 0 and 1")]
    BadConfidence(String),
    #[error("'{0}' is not a positive number (a weight counts calls, meetings or payments; leave it empty for 1)")]
    BadWeight(String),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A problem in an input file, located by line (1-based, the header is line 1) and column name.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{file} file, line {line}{}: {problem}", column.as_ref().map(|name| format!(", column '{name}'")).unwrap_or_default())]
pub struct GraphFileError {
    pub file: GraphFileKind,
    pub line: u64,
    pub column: Option<String>,
    pub problem: GraphFileProblem,
}

const NODE_COLUMNS: [&str; 4] = ["id", "kind", "label", "role"];
const EDGE_COLUMNS: [&str; 7] = ["source", "target", "kind", "first_seen", "last_seen", "source_reference", "confidence"];
/// The names the weight column may go by; the first one present is read.
const WEIGHT_COLUMNS: [&str; 2] = ["weight", "strength"];

/// Reads a network from a nodes CSV and an edges CSV.
pub fn read_network(nodes: impl Read, edges: impl Read) -> Result<NetworkGraph, GraphFileError> {
    let mut network = NetworkGraph::new();
    read_nodes(&mut network, nodes)?;
    read_edges(&mut network, edges)?;
    Ok(network)
}

/// Reads a network from two CSV strings.
pub fn read_network_from_str(nodes: &str, edges: &str) -> Result<NetworkGraph, GraphFileError> {
    read_network(nodes.as_bytes(), edges.as_bytes())
}

/// Column positions found in a header row, by the canonical column names.
struct HeaderColumns {
    positions: Vec<Option<usize>>,
}

impl HeaderColumns {
    fn find(file: GraphFileKind, header: &csv::StringRecord, names: &[&'static str], required: &[&'static str]) -> Result<Self, GraphFileError> {
        let positions: Vec<Option<usize>> = names.iter().map(|name| header.iter().position(|cell| header_name(cell).eq_ignore_ascii_case(name))).collect();
        for required_name in required {
            let slot = names.iter().position(|name| name == required_name).expect("required columns are a subset of the known columns");
            if positions[slot].is_none() {
                return Err(GraphFileError { file, line: 1, column: None, problem: GraphFileProblem::MissingColumn(required_name) });
            }
        }
        Ok(Self { positions })
    }

    fn cell<'record>(&self, record: &'record csv::StringRecord, slot: usize) -> Option<&'record str> {
        self.positions[slot].and_then(|position| record.get(position)).and_then(non_empty_cell)
    }
}

/// A header cell as written, without surrounding spaces or a byte order mark.
fn header_name(cell: &str) -> &str {
    cell.trim().trim_start_matches('\u{feff}').trim()
}

fn non_empty_cell(cell: &str) -> Option<&str> {
    Some(cell.trim()).filter(|value| !value.is_empty())
}

/// A CSV reader that stops at a quote never closed, naming its line.
fn csv_reader(input: impl Read) -> csv::Reader<impl Read> {
    csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(QuoteCheck::new(input, b','))
}

fn malformed(file: GraphFileKind, error: &csv::Error) -> GraphFileError {
    if let csv::ErrorKind::Io(io) = error.kind()
        && let Some(quote) = UnclosedQuote::in_error(io)
    {
        return GraphFileError { file, line: quote.line, column: None, problem: GraphFileProblem::Malformed("a quote opened here is never closed".to_owned()) };
    }
    let line = error.position().map(csv::Position::line).unwrap_or(1);
    GraphFileError { file, line, column: None, problem: GraphFileProblem::Malformed(error.to_string()) }
}

fn expected_list<T: fmt::Display>(all: &[T]) -> String {
    all.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn read_nodes(network: &mut NetworkGraph, input: impl Read) -> Result<(), GraphFileError> {
    let file = GraphFileKind::Nodes;
    let mut reader = csv_reader(input);
    let header = reader.headers().map_err(|error| malformed(file, &error))?.clone();
    let columns = HeaderColumns::find(file, &header, &NODE_COLUMNS, &["id", "kind"])?;
    // Every named column that is not one of the four is an attribute; a column without a name
    // (a trailing comma in a spreadsheet's header) carries nothing and is passed over.
    let mut attribute_columns: Vec<(usize, usize)> = Vec::new();
    for (position, cell) in header.iter().enumerate() {
        let name = header_name(cell);
        if name.is_empty() || columns.positions.contains(&Some(position)) {
            continue;
        }
        let attribute =
            network.add_attribute_name(name).map_err(|error| GraphFileError { file, line: 1, column: Some(name.to_owned()), problem: error.into() })?;
        attribute_columns.push((position, attribute));
    }
    for record in reader.records() {
        let record = record.map_err(|error| malformed(file, &error))?;
        let line = record.position().map(csv::Position::line).unwrap_or(0);
        let at = |column: &str, problem: GraphFileProblem| GraphFileError { file, line, column: Some(column.to_owned()), problem };
        let id = columns.cell(&record, 0).ok_or_else(|| at("id", GraphFileProblem::EmptyValue))?;
        let kind_text = columns.cell(&record, 1).ok_or_else(|| at("kind", GraphFileProblem::EmptyValue))?;
        let kind = EntityKind::parse(kind_text)
            .ok_or_else(|| at("kind", GraphFileProblem::UnknownEntityKind(kind_text.to_owned(), expected_list(EntityKind::ALL))))?;
        let role = columns
            .cell(&record, 3)
            .map(|role_text| {
                RoleInProcess::parse(role_text)
                    .ok_or_else(|| at("role", GraphFileProblem::UnknownRole(role_text.to_owned(), expected_list(RoleInProcess::ALL))))
            })
            .transpose()?;
        let label = columns.cell(&record, 2).unwrap_or(id).to_owned();
        let entity = network.add_entity(Entity { id: id.to_owned(), kind, label, role }).map_err(|error| {
            let column = if matches!(error, ModelError::RoleOnNonPerson(_)) { "role" } else { "id" };
            at(column, error.into())
        })?;
        for &(position, attribute) in &attribute_columns {
            if let Some(value) = record.get(position).and_then(non_empty_cell) {
                network.set_attribute(entity, attribute, value).expect("the entity and the attribute were both just added");
            }
        }
    }
    Ok(())
}

fn read_edges(network: &mut NetworkGraph, input: impl Read) -> Result<(), GraphFileError> {
    let file = GraphFileKind::Edges;
    let mut reader = csv_reader(input);
    let header = reader.headers().map_err(|error| malformed(file, &error))?.clone();
    let columns = HeaderColumns::find(file, &header, &EDGE_COLUMNS, &["source", "target", "kind"])?;
    let weight_column =
        WEIGHT_COLUMNS.iter().find_map(|&name| header.iter().position(|cell| header_name(cell).eq_ignore_ascii_case(name)).map(|position| (name, position)));
    for record in reader.records() {
        let record = record.map_err(|error| malformed(file, &error))?;
        let line = record.position().map(csv::Position::line).unwrap_or(0);
        let at = |column: &str, problem: GraphFileProblem| GraphFileError { file, line, column: Some(column.to_owned()), problem };
        let mut endpoints = [0usize; 2];
        for (slot, column_name) in [(0, "source"), (1, "target")] {
            let id = columns.cell(&record, slot).ok_or_else(|| at(column_name, GraphFileProblem::EmptyValue))?;
            endpoints[slot] = network.entity_index(id).ok_or_else(|| at(column_name, ModelError::UnknownEntity(id.to_owned()).into()))?;
        }
        let kind_text = columns.cell(&record, 2).ok_or_else(|| at("kind", GraphFileProblem::EmptyValue))?;
        let kind = RelationKind::parse(kind_text)
            .ok_or_else(|| at("kind", GraphFileProblem::UnknownRelationKind(kind_text.to_owned(), expected_list(RelationKind::ALL))))?;
        let mut dates = [None, None];
        for (slot, column_name) in [(3, "first_seen"), (4, "last_seen")] {
            dates[slot - 3] = columns
                .cell(&record, slot)
                .map(|text| parse_seen_date(text).map_err(|message| at(column_name, GraphFileProblem::BadDate(message))))
                .transpose()?;
        }
        let source_reference = columns.cell(&record, 5).unwrap_or_default().to_owned();
        let confidence = match columns.cell(&record, 6) {
            None => 1.0,
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|value| (0.0..=1.0).contains(value))
                .ok_or_else(|| at("confidence", GraphFileProblem::BadConfidence(text.to_owned())))?,
        };
        let relation = Relation { source: endpoints[0], target: endpoints[1], kind, first_seen: dates[0], last_seen: dates[1], source_reference, confidence };
        let added = match weight_column {
            None => network.add_relation(relation),
            Some((name, position)) => {
                let weight = match record.get(position).and_then(non_empty_cell) {
                    None => RelationWeight::ONE,
                    Some(text) => RelationWeight::parse(text).ok_or_else(|| at(name, GraphFileProblem::BadWeight(text.to_owned())))?,
                };
                network.add_weighted_relation(relation, weight)
            }
        };
        added.map_err(|error| at("last_seen", error.into()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "id,kind,label,role\nA,person,Anna,controller\nB,person,Bela,\nP1,phone,07700900001,\n";

    fn error_of(nodes: &str, edges: &str) -> GraphFileError {
        read_network_from_str(nodes, edges).expect_err("the input is malformed")
    }

    #[test]
    fn reads_a_small_network() {
        let edges = "source,target,kind,first_seen,last_seen,source_reference,confidence\n\
                     A,P1,uses_phone,2024-01-01,2024-03-01,IR-1,0.9\nB,P1,uses_phone,,,IR-2,\n";
        let network = read_network_from_str(NODES, edges).unwrap();
        assert_eq!(network.entities().len(), 3);
        assert_eq!(network.entities()[0].role, Some(RoleInProcess::Controller));
        assert_eq!(network.relations().len(), 2);
        assert_eq!(network.relations()[1].confidence, 1.0);
        assert_eq!(network.relations()[0].source_reference, "IR-1");
    }

    #[test]
    fn unknown_node_in_an_edge_names_the_line_and_column() {
        let edges = "source,target,kind\nA,P1,uses_phone\nA,Q9,uses_phone\n";
        let error = error_of(NODES, edges);
        assert_eq!((error.file, error.line, error.column.as_deref()), (GraphFileKind::Edges, 3, Some("target")));
        assert_eq!(error.to_string(), "edges file, line 3, column 'target': relation refers to unknown entity 'Q9'");
    }

    #[test]
    fn bad_dates_and_confidence_name_the_line() {
        let edges = "source,target,kind,first_seen\nA,P1,uses_phone,2024-02-30\n";
        let error = error_of(NODES, edges);
        assert_eq!((error.line, error.column.as_deref()), (2, Some("first_seen")));
        let edges = "source,target,kind,confidence\nA,P1,uses_phone,high\n";
        assert_eq!(error_of(NODES, edges).column.as_deref(), Some("confidence"));
        let edges = "source,target,kind,first_seen,last_seen\nA,P1,uses_phone,2024-05-01,2024-01-01\n";
        assert!(matches!(error_of(NODES, edges).problem, GraphFileProblem::Model(ModelError::FirstSeenAfterLastSeen { .. })));
    }

    #[test]
    fn duplicate_ids_missing_columns_and_ragged_rows_are_errors() {
        let nodes = "id,kind\nA,person\nB,person\nA,phone\n";
        let error = error_of(nodes, "source,target,kind\n");
        assert_eq!((error.file, error.line), (GraphFileKind::Nodes, 4));
        assert!(error.to_string().contains("used more than once"));
        let error = error_of("name,kind\nA,person\n", "source,target,kind\n");
        assert_eq!(error.problem, GraphFileProblem::MissingColumn("id"));
        let error = error_of("id,kind\nA,person,extra\n", "source,target,kind\n");
        assert_eq!(error.line, 2);
        assert!(matches!(error.problem, GraphFileProblem::Malformed(_)));
        let error = error_of("id,kind\nA,spaceship\n", "source,target,kind\n");
        assert!(error.to_string().contains("unknown entity kind 'spaceship'"));
    }

    #[test]
    fn weights_are_read_from_a_weight_or_strength_column() {
        let edges = "source,target,kind,weight\nA,B,called,12\nA,P1,uses_phone,\nB,P1,called, 2.5 \n";
        let network = read_network_from_str(NODES, edges).unwrap();
        assert!(network.has_relation_weights());
        let weights: Vec<f64> = (0..3).map(|position| network.relation_weight(position).get()).collect();
        assert_eq!(weights, [12.0, 1.0, 2.5], "an empty weight is 1");
        let network = read_network_from_str(NODES, "source,target,kind,Strength\nA,B,called,4\n").unwrap();
        assert_eq!(network.relation_weight(0).get(), 4.0);
        let network = read_network_from_str(NODES, "source,target,kind\nA,B,called\n").unwrap();
        assert!(!network.has_relation_weights(), "a file without the column is not weighed");
        assert_eq!(network.relation_weight(0).get(), 1.0);
    }

    #[test]
    fn zero_negative_and_non_numeric_weights_name_the_line_and_column() {
        for bad in ["0", "-2", "many", "inf", "NaN", "1e400"] {
            let edges = format!("source,target,kind,weight\nA,B,called,3\nA,P1,uses_phone,{bad}\n");
            let error = error_of(NODES, &edges);
            assert_eq!((error.file, error.line, error.column.as_deref()), (GraphFileKind::Edges, 3, Some("weight")), "{bad}");
            assert_eq!(error.problem, GraphFileProblem::BadWeight(bad.to_owned()));
            assert!(error.to_string().starts_with(&format!("edges file, line 3, column 'weight': '{bad}' is not a positive number")), "{error}");
        }
        let error = error_of(NODES, "source,target,kind,strength\nA,B,called,0\n");
        assert_eq!(error.column.as_deref(), Some("strength"), "the column is named as the file names it");
    }

    #[test]
    fn other_node_columns_become_text_attributes() {
        let nodes = "id,kind,label,nationality,Case Number,\nA,person,Anna,Romanian,OP-7,\nB,person,Bela,,,\n";
        let network = read_network_from_str(nodes, "source,target,kind\n").unwrap();
        assert_eq!(network.attribute_names(), ["nationality", "Case Number"], "a column without a name is passed over");
        assert_eq!((network.attribute(0, 0), network.attribute(0, 1)), (Some("Romanian"), Some("OP-7")));
        assert_eq!(network.attribute(1, 0), None, "an empty cell is no value");
    }

    #[test]
    fn attribute_columns_named_like_built_in_attributes_are_refused() {
        for (header, column) in [("id,kind,label,Label", "Label"), ("id,kind,community", "community"), ("id,kind,entityId", "entityId")] {
            let error = error_of(&format!("{header}\n"), "source,target,kind\n");
            assert_eq!((error.file, error.line, error.column.as_deref()), (GraphFileKind::Nodes, 1, Some(column)), "{header}");
            assert!(error.to_string().contains(&format!("'{column}' is the name of a built-in attribute")), "{error}");
        }
        let error = error_of("id,kind,alias,ALIAS\n", "source,target,kind\n");
        assert_eq!(error.to_string(), "nodes file, line 1, column 'ALIAS': the attribute 'ALIAS' is named twice");
        let error = error_of("id,kind,age:int\n", "source,target,kind\n");
        assert!(error.to_string().contains("must not be empty nor contain ':'"), "{error}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(nodes in ".{0,200}", edges in ".{0,200}") {
            let _ = read_network_from_str(&nodes, &edges);
        }

        #[test]
        fn arbitrary_rows_never_panic(rows in proptest::collection::vec(
            ("[A-Z]{0,2}", "[A-Z]{0,2}", "[a-z_]{0,12}", "[0-9-]{0,11}", "[0-9.x-]{0,5}"), 0..20))
        {
            let mut edges = String::from("source,target,kind,first_seen,confidence\n");
            for (source, target, kind, date, confidence) in rows {
                edges.push_str(&format!("{source},{target},{kind},{date},{confidence}\n"));
            }
            let _ = read_network_from_str(NODES, &edges);
        }
    }
}
