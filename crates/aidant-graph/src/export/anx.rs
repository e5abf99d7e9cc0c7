//! i2 Analyst's Notebook exchange XML (ANX): the chart file UK police analysts open in the tool
//! they already use. Each entity is an icon chart item (its type named after its kind), each
//! relation a link between two of them whose line style is its strength (i2's three: confirmed,
//! unconfirmed, tentative, from the relation's confidence), dated by when it was last seen, and
//! carrying its source reference, confidence and first and last seen dates as attributes.
//!
//! Every collection a chart item refers to (entity types, link types, strengths, attribute
//! classes) is declared before the items, so a reader never meets a name it was not told of.
//! Entities are laid out on a grid; Analyst's Notebook re-lays charts as the analyst asks.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::{ExportOptions, escape_xml};
use crate::model::{EntityKind, NetworkGraph, Relation, RelationKind, format_optional_date};
use crate::provenance::{CRATE_NAME, CRATE_VERSION};

/// The strength a relation is drawn with, from its confidence: solid when the source is sure,
/// dashed when it is likely, dotted when it is a lead.
fn strength(relation: &Relation) -> &'static str {
    if relation.confidence >= 0.8 {
        "Confirmed"
    } else if relation.confidence >= 0.5 {
        "Unconfirmed"
    } else {
        "Tentative"
    }
}

const STRENGTHS: [(&str, &str); 3] = [("Confirmed", "DotStyleSolid"), ("Unconfirmed", "DotStyleDashed"), ("Tentative", "DotStyleDotted")];

/// The entity type an entity of `kind` is drawn as: the names of Analyst's Notebook's standard
/// icons, so a chart opens with familiar pictures.
fn entity_type(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Person => "Person",
        EntityKind::Phone => "Telephone",
        EntityKind::Vehicle => "Vehicle",
        EntityKind::Address => "Address",
        EntityKind::Business => "Organisation",
        EntityKind::BankAccount => "Account",
        EntityKind::OnlineAccount => "Email Address",
        EntityKind::Report => "Document",
        EntityKind::Operation => "Event",
    }
}

/// How a link of `kind` is labelled and typed on the chart.
fn link_type(kind: RelationKind) -> String {
    let words = kind.as_str().replace('_', " ");
    let mut characters = words.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

/// Attribute classes every chart declares; node attributes from `options` follow as numbers.
const TEXT_ATTRIBUTES: [&str; 5] = ["Aidant id", "Role in process", "Source reference", "First seen", "Last seen"];

/// Writes the network as an Analyst's Notebook chart.
pub fn write_anx(network: &NetworkGraph, options: &ExportOptions, mut writer: impl Write) -> io::Result<()> {
    let entities = network.entities();
    let relations: Vec<&Relation> = options.relations(network).map(|(_, relation)| relation).collect();
    writeln!(writer, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(writer, "<!-- Written by {CRATE_NAME} {CRATE_VERSION} -->")?;
    writeln!(writer, r#"<Chart IdReferenceLinking="false" Rigorous="true">"#)?;

    writeln!(writer, "  <StrengthCollection>")?;
    for (name, dots) in STRENGTHS {
        writeln!(writer, r#"    <Strength Name="{name}" DotStyle="{dots}"/>"#)?;
    }
    writeln!(writer, "  </StrengthCollection>")?;

    writeln!(writer, "  <AttributeClassCollection>")?;
    for name in TEXT_ATTRIBUTES {
        writeln!(writer, r#"    <AttributeClass Name="{name}" Type="AttText" ShowValue="true"/>"#)?;
    }
    writeln!(writer, r#"    <AttributeClass Name="Confidence" Type="AttNumber" ShowValue="true" Decimals="2"/>"#)?;
    for attribute in &options.node_attributes {
        writeln!(writer, r#"    <AttributeClass Name="{}" Type="AttNumber" ShowValue="true" Decimals="4"/>"#, escape_xml(&attribute.name))?;
    }
    writeln!(writer, "  </AttributeClassCollection>")?;

    let kinds: BTreeSet<&'static str> = entities.iter().map(|entity| entity_type(entity.kind)).collect();
    writeln!(writer, "  <EntityTypeCollection>")?;
    for kind in &kinds {
        writeln!(writer, r#"    <EntityType Name="{kind}" IconFile="{kind}"/>"#)?;
    }
    writeln!(writer, "  </EntityTypeCollection>")?;

    let link_types: BTreeSet<String> = relations.iter().map(|relation| link_type(relation.kind)).collect();
    writeln!(writer, "  <LinkTypeCollection>")?;
    for name in &link_types {
        writeln!(writer, r#"    <LinkType Name="{name}" Colour="0"/>"#)?;
    }
    writeln!(writer, "  </LinkTypeCollection>")?;

    writeln!(writer, "  <ChartItemCollection>")?;
    let columns = (entities.len() as f64).sqrt().ceil().max(1.0) as usize;
    for (position, entity) in entities.iter().enumerate() {
        let (x, y) = (80 + (position % columns) * 180, 80 + (position / columns) * 140);
        let id = escape_xml(&entity.id);
        writeln!(writer, r#"    <ChartItem Label="{}" DateSet="false" XPosition="{x}">"#, escape_xml(&entity.label))?;
        writeln!(writer, r#"      <End X="{x}" Y="{y}">"#)?;
        writeln!(writer, r#"        <Entity EntityId="{id}" Identity="{id}" LabelIsIdentity="false">"#)?;
        writeln!(writer, r#"          <Icon><IconStyle Type="{}"/></Icon>"#, entity_type(entity.kind))?;
        writeln!(writer, "        </Entity>")?;
        writeln!(writer, "      </End>")?;
        writeln!(writer, "      <AttributeCollection>")?;
        writeln!(writer, r#"        <Attribute AttributeClass="Aidant id" Value="{id}"/>"#)?;
        if let Some(role) = entity.role {
            writeln!(writer, r#"        <Attribute AttributeClass="Role in process" Value="{role}"/>"#)?;
        }
        for attribute in &options.node_attributes {
            if let Some(Some(value)) = attribute.values.get(position) {
                writeln!(writer, r#"        <Attribute AttributeClass="{}" Value="{value:?}"/>"#, escape_xml(&attribute.name))?;
            }
        }
        writeln!(writer, "      </AttributeCollection>")?;
        writeln!(writer, "    </ChartItem>")?;
    }
    for relation in &relations {
        let kind = link_type(relation.kind);
        let date = match relation.last_seen.or(relation.first_seen) {
            Some(day) => format!(r#" DateSet="true" DateTime="{}T00:00:00""#, format_optional_date(Some(day))),
            None => r#" DateSet="false""#.to_owned(),
        };
        writeln!(writer, r#"    <ChartItem Label="{kind}"{date}>"#)?;
        writeln!(writer, r#"      <Link End1Id="{}" End2Id="{}">"#, escape_xml(&entities[relation.source].id), escape_xml(&entities[relation.target].id))?;
        writeln!(writer, r#"        <LinkStyle Type="{kind}" ArrowStyle="ArrowOnHead" MlStyle="MultiplicityMultiple" Strength="{}"/>"#, strength(relation))?;
        writeln!(writer, "      </Link>")?;
        writeln!(writer, "      <AttributeCollection>")?;
        writeln!(writer, r#"        <Attribute AttributeClass="Source reference" Value="{}"/>"#, escape_xml(&relation.source_reference))?;
        writeln!(writer, r#"        <Attribute AttributeClass="Confidence" Value="{:?}"/>"#, relation.confidence)?;
        for (class, day) in [("First seen", relation.first_seen), ("Last seen", relation.last_seen)] {
            if day.is_some() {
                writeln!(writer, r#"        <Attribute AttributeClass="{class}" Value="{}"/>"#, format_optional_date(day))?;
            }
        }
        writeln!(writer, "      </AttributeCollection>")?;
        writeln!(writer, "    </ChartItem>")?;
    }
    writeln!(writer, "  </ChartItemCollection>")?;
    writeln!(writer, "</Chart>")?;
    Ok(())
}

/// The chart as a string.
pub fn anx_string(network: &NetworkGraph, options: &ExportOptions) -> String {
    let mut bytes = Vec::new();
    write_anx(network, options, &mut bytes).expect("writing to a Vec cannot fail");
    String::from_utf8(bytes).expect("the exporter writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entity, RelationKind};

    fn network() -> NetworkGraph {
        let mut network = NetworkGraph::new();
        let florin = network.add_entity(Entity { id: "person:1".into(), kind: EntityKind::Person, label: "Florin & co".into(), role: None }).unwrap();
        let phone =
            network.add_entity(Entity { id: "phone:+447700900123".into(), kind: EntityKind::Phone, label: "+447700900123".into(), role: None }).unwrap();
        network
            .add_relation(Relation {
                source: florin,
                target: phone,
                kind: RelationKind::UsesPhone,
                first_seen: Some(time::Date::from_calendar_date(2026, time::Month::November, 2).unwrap()),
                last_seen: Some(time::Date::from_calendar_date(2026, time::Month::November, 30).unwrap()),
                source_reference: "INT-ABC".into(),
                confidence: 0.4,
            })
            .unwrap();
        network
    }

    #[test]
    fn every_name_an_item_uses_is_declared_and_text_is_escaped() {
        let chart = anx_string(&network(), &ExportOptions::default());
        assert!(chart.contains(r#"<EntityType Name="Person" IconFile="Person"/>"#));
        assert!(chart.contains(r#"<EntityType Name="Telephone" IconFile="Telephone"/>"#));
        assert!(chart.contains(r#"<LinkType Name="Uses phone" Colour="0"/>"#));
        assert!(chart.contains(r#"Label="Florin &amp; co""#));
        assert!(chart.contains(r#"DateSet="true" DateTime="2026-11-30T00:00:00""#));
        assert!(chart.contains(r#"Strength="Tentative""#), "a confidence of 0.4 is a lead");
        assert!(chart.contains(r#"<Attribute AttributeClass="First seen" Value="2026-11-02"/>"#));
    }
}
