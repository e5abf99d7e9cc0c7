//! GraphML export: one node per entity and one edge per relation (a multigraph when two entities
//! share several relations), with every field as a typed GraphML attribute: the entities' own
//! text attributes (the extra columns of a nodes file) as strings, and each relation's `weight`
//! when the network was weighed. The graph is undirected, as every analysis treats it; a relation
//! that reads one way (a person *uses* a phone) keeps that reading from source to target and says
//! so in its `direction` attribute.

use std::io::{self, Write};

use super::{ExportOptions, escape_xml};
use crate::model::{NetworkGraph, RoleInProcess, format_optional_date};

/// Writes the network as GraphML.
pub fn write_graphml(network: &NetworkGraph, options: &ExportOptions, mut writer: impl Write) -> io::Result<()> {
    writeln!(writer, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        writer,
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">"#
    )?;
    for (key, name) in [("node_kind", "kind"), ("node_label", "label"), ("node_role", "role")] {
        writeln!(writer, r#"  <key id="{key}" for="node" attr.name="{name}" attr.type="string"/>"#)?;
    }
    for (index, name) in network.attribute_names().iter().enumerate() {
        writeln!(writer, r#"  <key id="node_attribute_{index}" for="node" attr.name="{}" attr.type="string"/>"#, escape_xml(name))?;
    }
    for (index, attribute) in options.node_attributes.iter().enumerate() {
        writeln!(writer, r#"  <key id="node_extra_{index}" for="node" attr.name="{}" attr.type="double"/>"#, escape_xml(&attribute.name))?;
    }
    for (key, name, kind) in [
        ("edge_kind", "relation", "string"),
        ("edge_direction", "direction", "string"),
        ("edge_first_seen", "first_seen", "string"),
        ("edge_last_seen", "last_seen", "string"),
        ("edge_source_reference", "source_reference", "string"),
        ("edge_confidence", "confidence", "double"),
    ] {
        writeln!(writer, r#"  <key id="{key}" for="edge" attr.name="{name}" attr.type="{kind}"/>"#)?;
    }
    if network.has_relation_weights() {
        writeln!(writer, r#"  <key id="edge_weight" for="edge" attr.name="weight" attr.type="double"/>"#)?;
    }
    writeln!(writer, r#"  <graph id="aidant" edgedefault="undirected">"#)?;
    for (position, entity) in network.entities().iter().enumerate() {
        writeln!(writer, r#"    <node id="{}">"#, escape_xml(&entity.id))?;
        writeln!(writer, r#"      <data key="node_kind">{}</data>"#, entity.kind)?;
        writeln!(writer, r#"      <data key="node_label">{}</data>"#, escape_xml(&entity.label))?;
        if let Some(role) = entity.role {
            writeln!(writer, r#"      <data key="node_role">{}</data>"#, RoleInProcess::as_str(role))?;
        }
        for index in 0..network.attribute_names().len() {
            if let Some(value) = network.attribute(position, index) {
                writeln!(writer, r#"      <data key="node_attribute_{index}">{}</data>"#, escape_xml(value))?;
            }
        }
        for (index, attribute) in options.node_attributes.iter().enumerate() {
            if let Some(Some(value)) = attribute.values.get(position) {
                writeln!(writer, r#"      <data key="node_extra_{index}">{value:?}</data>"#)?;
            }
        }
        writeln!(writer, "    </node>")?;
    }
    for (index, relation) in options.relations(network) {
        let entities = network.entities();
        writeln!(
            writer,
            r#"    <edge id="r{index}" source="{}" target="{}">"#,
            escape_xml(&entities[relation.source].id),
            escape_xml(&entities[relation.target].id)
        )?;
        writeln!(writer, r#"      <data key="edge_kind">{}</data>"#, relation.kind)?;
        writeln!(writer, r#"      <data key="edge_direction">{}</data>"#, relation.kind.direction())?;
        for (key, date) in [("edge_first_seen", relation.first_seen), ("edge_last_seen", relation.last_seen)] {
            if date.is_some() {
                writeln!(writer, r#"      <data key="{key}">{}</data>"#, format_optional_date(date))?;
            }
        }
        writeln!(writer, r#"      <data key="edge_source_reference">{}</data>"#, escape_xml(&relation.source_reference))?;
        writeln!(writer, r#"      <data key="edge_confidence">{:?}</data>"#, relation.confidence)?;
        if network.has_relation_weights() {
            writeln!(writer, r#"      <data key="edge_weight">{:?}</data>"#, network.relation_weight(index).get())?;
        }
        writeln!(writer, "    </edge>")?;
    }
    writeln!(writer, "  </graph>")?;
    writeln!(writer, "</graphml>")?;
    Ok(())
}

/// The GraphML document as a string.
pub fn graphml_string(network: &NetworkGraph, options: &ExportOptions) -> String {
    let mut bytes = Vec::new();
    write_graphml(network, options, &mut bytes).expect("writing to a Vec cannot fail");
    String::from_utf8(bytes).expect("the exporter writes UTF-8")
}
