//! CSV for Neo4j's bulk importer (`neo4j-admin database import full`): a nodes file with `:ID` and
//! `:LABEL` columns (then one string column per attribute the entities carry) and a relationships
//! file with `:START_ID`, `:END_ID` and `:TYPE` (then `weight:double` when the network was
//! weighed), plus a reader of the same files so the export can be checked by a round trip.

use std::io::{self, Read, Write};

use thiserror::Error;

use super::ExportOptions;
use crate::model::{
    Entity, EntityKind, ModelError, NetworkGraph, Relation, RelationKind, RelationWeight, RoleInProcess, format_optional_date, parse_seen_date,
};

pub const NODE_HEADER: [&str; 5] = ["entityId:ID", "label", "kind", "role", ":LABEL"];
pub const RELATIONSHIP_HEADER: [&str; 7] = [":START_ID", ":END_ID", ":TYPE", "first_seen:date", "last_seen:date", "source_reference", "confidence:double"];
/// The column after [`RELATIONSHIP_HEADER`] in the relationships file of a weighed network.
pub const WEIGHT_COLUMN: &str = "weight:double";

/// The Neo4j label of an entity kind, in Neo4j's CamelCase convention.
pub fn node_label(kind: EntityKind) -> String {
    kind.as_str()
        .split('_')
        .map(|word| {
            let mut characters = word.chars();
            characters.next().map(|first| first.to_ascii_uppercase().to_string() + characters.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The Neo4j relationship type of a relation kind, in Neo4j's UPPER_SNAKE convention.
pub fn relationship_type(kind: RelationKind) -> String {
    kind.as_str().to_ascii_uppercase()
}

/// Writes the nodes file and the relationships file.
pub fn write_neo4j_csv(network: &NetworkGraph, options: &ExportOptions, nodes: impl Write, relationships: impl Write) -> io::Result<()> {
    let mut nodes = csv::Writer::from_writer(nodes);
    let attribute_count = network.attribute_names().len();
    nodes.write_record(NODE_HEADER.iter().copied().chain(network.attribute_names().iter().map(String::as_str)))?;
    for (position, entity) in network.entities().iter().enumerate() {
        let labels = format!("Entity;{}", node_label(entity.kind));
        let own = [entity.id.as_str(), entity.label.as_str(), entity.kind.as_str(), entity.role.map(RoleInProcess::as_str).unwrap_or(""), &labels];
        let attributes = (0..attribute_count).map(|attribute| network.attribute(position, attribute).unwrap_or(""));
        nodes.write_record(own.into_iter().chain(attributes))?;
    }
    nodes.flush()?;
    let mut relationships = csv::Writer::from_writer(relationships);
    let weighed = network.has_relation_weights();
    relationships.write_record(RELATIONSHIP_HEADER.iter().copied().chain(weighed.then_some(WEIGHT_COLUMN)))?;
    let entities = network.entities();
    for (index, relation) in options.relations(network) {
        let fields = [
            entities[relation.source].id.clone(),
            entities[relation.target].id.clone(),
            relationship_type(relation.kind),
            format_optional_date(relation.first_seen),
            format_optional_date(relation.last_seen),
            relation.source_reference.clone(),
            format!("{:?}", relation.confidence),
        ];
        let weight = weighed.then(|| format!("{:?}", network.relation_weight(index).get()));
        relationships.write_record(fields.into_iter().chain(weight))?;
    }
    relationships.flush()?;
    Ok(())
}

/// Why a Neo4j CSV pair could not be read back.
#[derive(Debug, Error)]
pub enum Neo4jReadError {
    #[error("{file} line {line}: {message}")]
    Invalid { file: &'static str, line: u64, message: String },
    #[error("{file} line {line}: {source}")]
    Model { file: &'static str, line: u64, source: ModelError },
}

/// Reads back files written by [`write_neo4j_csv`] (the headers must be as it writes them; the
/// nodes file's columns after [`NODE_HEADER`] are the entities' attributes).
pub fn read_neo4j_csv(nodes: impl Read, relationships: impl Read) -> Result<NetworkGraph, Neo4jReadError> {
    let invalid = |file, line, message: String| Neo4jReadError::Invalid { file, line, message };
    let mut network = NetworkGraph::new();
    let mut reader = csv::Reader::from_reader(nodes);
    let header = reader.headers().map_err(|error| invalid("nodes", 1, error.to_string()))?.clone();
    if header.len() < NODE_HEADER.len() || header.iter().take(NODE_HEADER.len()).ne(NODE_HEADER) {
        return Err(invalid("nodes", 1, format!("header is not {}", NODE_HEADER.join(","))));
    }
    for name in header.iter().skip(NODE_HEADER.len()) {
        network.add_attribute_name(name).map_err(|source| Neo4jReadError::Model { file: "nodes", line: 1, source })?;
    }
    for record in reader.records() {
        let record = record.map_err(|error| invalid("nodes", 0, error.to_string()))?;
        let line = record.position().map_or(0, csv::Position::line);
        let kind = EntityKind::parse(&record[2]).ok_or_else(|| invalid("nodes", line, format!("unknown kind '{}'", &record[2])))?;
        let role = match &record[3] {
            "" => None,
            text => Some(RoleInProcess::parse(text).ok_or_else(|| invalid("nodes", line, format!("unknown role '{text}'")))?),
        };
        let entity = network
            .add_entity(Entity { id: record[0].to_owned(), kind, label: record[1].to_owned(), role })
            .map_err(|source| Neo4jReadError::Model { file: "nodes", line, source })?;
        for (attribute, value) in record.iter().skip(NODE_HEADER.len()).enumerate() {
            if !value.is_empty() {
                network.set_attribute(entity, attribute, value).map_err(|source| Neo4jReadError::Model { file: "nodes", line, source })?;
            }
        }
    }
    let mut reader = csv::Reader::from_reader(relationships);
    let header = reader.headers().map_err(|error| invalid("relationships", 1, error.to_string()))?;
    let weighed = header.iter().eq(RELATIONSHIP_HEADER.iter().copied().chain([WEIGHT_COLUMN]));
    if !weighed && header.iter().ne(RELATIONSHIP_HEADER) {
        return Err(invalid("relationships", 1, format!("header is not {}", RELATIONSHIP_HEADER.join(","))));
    }
    for record in reader.records() {
        let record = record.map_err(|error| invalid("relationships", 0, error.to_string()))?;
        let line = record.position().map_or(0, csv::Position::line);
        let entity = |id: &str| network.entity_index(id).ok_or_else(|| invalid("relationships", line, format!("unknown entity '{id}'")));
        let (source, target) = (entity(&record[0])?, entity(&record[1])?);
        let kind = RelationKind::parse(&record[2]).ok_or_else(|| invalid("relationships", line, format!("unknown type '{}'", &record[2])))?;
        let date = |text: &str| match text {
            "" => Ok(None),
            text => parse_seen_date(text).map(Some).map_err(|message| invalid("relationships", line, message)),
        };
        let confidence = record[6].parse::<f64>().map_err(|error| invalid("relationships", line, format!("confidence: {error}")))?;
        let relation =
            Relation { source, target, kind, first_seen: date(&record[3])?, last_seen: date(&record[4])?, source_reference: record[5].to_owned(), confidence };
        let added = if weighed {
            let weight =
                RelationWeight::parse(&record[7]).ok_or_else(|| invalid("relationships", line, format!("weight '{}' is not a positive number", &record[7])))?;
            network.add_weighted_relation(relation, weight)
        } else {
            network.add_relation(relation)
        };
        added.map_err(|source| Neo4jReadError::Model { file: "relationships", line, source })?;
    }
    Ok(network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_types_follow_neo4j_conventions() {
        assert_eq!(node_label(EntityKind::BankAccount), "BankAccount");
        assert_eq!(relationship_type(RelationKind::RegisteredKeeperOf), "REGISTERED_KEEPER_OF");
        assert_eq!(RelationKind::parse("REGISTERED_KEEPER_OF"), Some(RelationKind::RegisteredKeeperOf));
    }

    #[test]
    fn a_wrong_header_is_rejected() {
        let error = read_neo4j_csv("id,label\n".as_bytes(), "".as_bytes()).unwrap_err();
        assert!(error.to_string().starts_with("nodes line 1: header is not entityId:ID"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_files_never_panic(nodes in ".{0,120}", relationships in ".{0,120}") {
            let nodes = format!("entityId:ID,label,kind,role,:LABEL\n{nodes}");
            let relationships = format!("{}\n{relationships}", RELATIONSHIP_HEADER.join(","));
            let _ = read_neo4j_csv(nodes.as_bytes(), relationships.as_bytes());
        }
    }
}
