//! GEXF 1.3 export for Gephi: a dynamic graph whose edges carry their first and last seen dates
//! as `start`/`end`, so Gephi's timeline can replay how the network grew. Undirected, as every
//! analysis treats the network; a relation that reads one way says so in its `direction`. An
//! edge's GEXF `weight` (what Gephi draws as its thickness) is the relation's weight when the
//! network was weighed (calls, meetings), and its confidence otherwise. The entities' own text
//! attributes (the extra columns of a nodes file) are string node attributes.

use std::io::{self, Write};

use super::{ExportOptions, escape_xml};
use crate::model::{NetworkGraph, format_optional_date};
use crate::provenance::{CRATE_NAME, CRATE_VERSION};

/// Writes the network as GEXF 1.3.
pub fn write_gexf(network: &NetworkGraph, options: &ExportOptions, mut writer: impl Write) -> io::Result<()> {
    writeln!(writer, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        writer,
        r#"<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">"#
    )?;
    writeln!(writer, "  <meta>\n    <creator>{CRATE_NAME} {CRATE_VERSION}</creator>\n  </meta>")?;
    writeln!(writer, r#"  <graph defaultedgetype="undirected" mode="dynamic" timeformat="date">"#)?;
    writeln!(writer, r#"    <attributes class="node" mode="static">"#)?;
    writeln!(writer, r#"      <attribute id="kind" title="kind" type="string"/>"#)?;
    writeln!(writer, r#"      <attribute id="role" title="role" type="string"/>"#)?;
    for (index, name) in network.attribute_names().iter().enumerate() {
        writeln!(writer, r#"      <attribute id="attribute_{index}" title="{}" type="string"/>"#, escape_xml(name))?;
    }
    for (index, attribute) in options.node_attributes.iter().enumerate() {
        writeln!(writer, r#"      <attribute id="extra_{index}" title="{}" type="double"/>"#, escape_xml(&attribute.name))?;
    }
    writeln!(writer, "    </attributes>")?;
    writeln!(writer, r#"    <attributes class="edge" mode="static">"#)?;
    writeln!(writer, r#"      <attribute id="relation" title="relation" type="string"/>"#)?;
    writeln!(writer, r#"      <attribute id="direction" title="direction" type="string"/>"#)?;
    writeln!(writer, r#"      <attribute id="source_reference" title="source_reference" type="string"/>"#)?;
    writeln!(writer, r#"      <attribute id="confidence" title="confidence" type="double"/>"#)?;
    writeln!(writer, "    </attributes>")?;
    writeln!(writer, "    <nodes>")?;
    for (position, entity) in network.entities().iter().enumerate() {
        writeln!(writer, r#"      <node id="{}" label="{}">"#, escape_xml(&entity.id), escape_xml(&entity.label))?;
        writeln!(writer, "        <attvalues>")?;
        writeln!(writer, r#"          <attvalue for="kind" value="{}"/>"#, entity.kind)?;
        if let Some(role) = entity.role {
            writeln!(writer, r#"          <attvalue for="role" value="{role}"/>"#)?;
        }
        for index in 0..network.attribute_names().len() {
            if let Some(value) = network.attribute(position, index) {
                writeln!(writer, r#"          <attvalue for="attribute_{index}" value="{}"/>"#, escape_xml(value))?;
            }
        }
        for (index, attribute) in options.node_attributes.iter().enumerate() {
            if let Some(Some(value)) = attribute.values.get(position) {
                writeln!(writer, r#"          <attvalue for="extra_{index}" value="{value:?}"/>"#)?;
            }
        }
        writeln!(writer, "        </attvalues>")?;
        writeln!(writer, "      </node>")?;
    }
    writeln!(writer, "    </nodes>")?;
    writeln!(writer, "    <edges>")?;
    for (index, relation) in options.relations(network) {
        let entities = network.entities();
        let mut validity = String::new();
        if relation.first_seen.is_some() {
            validity.push_str(&format!(r#" start="{}""#, format_optional_date(relation.first_seen)));
        }
        if relation.last_seen.is_some() {
            validity.push_str(&format!(r#" end="{}""#, format_optional_date(relation.last_seen)));
        }
        writeln!(
            writer,
            r#"      <edge id="r{index}" source="{}" target="{}" label="{}" weight="{:?}"{validity}>"#,
            escape_xml(&entities[relation.source].id),
            escape_xml(&entities[relation.target].id),
            relation.kind,
            if network.has_relation_weights() { network.relation_weight(index).get() } else { relation.confidence }
        )?;
        writeln!(writer, "        <attvalues>")?;
        writeln!(writer, r#"          <attvalue for="relation" value="{}"/>"#, relation.kind)?;
        writeln!(writer, r#"          <attvalue for="direction" value="{}"/>"#, relation.kind.direction())?;
        writeln!(writer, r#"          <attvalue for="source_reference" value="{}"/>"#, escape_xml(&relation.source_reference))?;
        writeln!(writer, r#"          <attvalue for="confidence" value="{:?}"/>"#, relation.confidence)?;
        writeln!(writer, "        </attvalues>")?;
        writeln!(writer, "      </edge>")?;
    }
    writeln!(writer, "    </edges>")?;
    writeln!(writer, "  </graph>")?;
    writeln!(writer, "</gexf>")?;
    Ok(())
}

/// The GEXF document as a string.
pub fn gexf_string(network: &NetworkGraph, options: &ExportOptions) -> String {
    let mut bytes = Vec::new();
    write_gexf(network, options, &mut bytes).expect("writing to a Vec cannot fail");
    String::from_utf8(bytes).expect("the exporter writes UTF-8")
}
