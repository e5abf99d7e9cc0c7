//! FollowTheMoney (FtM) JSON lines export, the entity format of Aleph and OpenAleph.
//!
//! Entities map to FtM schemata: person → Person, vehicle → Vehicle, address → Address,
//! business → Company, bank account → BankAccount, online account → UserAccount, report →
//! Document, operation → Event (with the places and people linked to it as
//! `addressEntity` and `involved`). FtM has no phone entity, so a phone number becomes the `phone`
//! property of whoever uses it, and calls between phones become `Call` entities with caller and
//! receiver numbers. Relations map to interval schemata where FtM has one (Ownership, Employment,
//! Family, Associate, Call), report mentions to Mention, and the rest to UnknownLink with the
//! relation as its `role`. Dates go to `startDate`/`endDate`, the source reference to `recordId`
//! and the confidence to `description`. Relations FtM cannot express are counted as skipped.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ExportOptions;
use crate::model::{EntityKind, NetworkGraph, Relation, RelationKind, format_optional_date, hex_lower};

/// What the export wrote and what it could not express.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FtmExportSummary {
    pub entities_written: usize,
    pub links_written: usize,
    /// One line per relation left out, saying why.
    pub skipped: Vec<String>,
}

#[derive(Serialize)]
struct FtmEntity<'a> {
    id: String,
    schema: &'a str,
    properties: BTreeMap<&'a str, Vec<String>>,
}

/// The FtM schema an entity kind maps to; `None` for phones, which FtM models as a property.
pub fn schema_of(kind: EntityKind) -> Option<&'static str> {
    match kind {
        EntityKind::Person => Some("Person"),
        EntityKind::Phone => None,
        EntityKind::Vehicle => Some("Vehicle"),
        EntityKind::Address => Some("Address"),
        EntityKind::Business => Some("Company"),
        EntityKind::BankAccount => Some("BankAccount"),
        EntityKind::OnlineAccount => Some("UserAccount"),
        EntityKind::Report => Some("Document"),
        EntityKind::Operation => Some("Event"),
    }
}

/// Schemata that are legal entities (can be a subject, employer, owner, caller, family member).
fn is_legal_entity(kind: EntityKind) -> bool {
    matches!(kind, EntityKind::Person | EntityKind::Business)
}

fn entity_id(id: &str) -> String {
    format!("aidant-{}", &hex_lower(&Sha256::digest(format!("entity\t{id}").as_bytes()))[..40])
}

fn link_id(network: &NetworkGraph, relation: &Relation, index: usize) -> String {
    let entities = network.entities();
    let key = format!(
        "relation\t{}\t{}\t{}\t{}\t{}\t{}\t{index}",
        entities[relation.source].id,
        entities[relation.target].id,
        relation.kind,
        format_optional_date(relation.first_seen),
        format_optional_date(relation.last_seen),
        relation.source_reference
    );
    format!("aidant-{}", &hex_lower(&Sha256::digest(key.as_bytes()))[..40])
}

/// Writes the network as FtM entities, one JSON object per line.
pub fn write_ftm_json_lines(network: &NetworkGraph, options: &ExportOptions, mut writer: impl Write) -> io::Result<FtmExportSummary> {
    let entities = network.entities();
    let mut summary = FtmExportSummary::default();
    let mut entity_properties: Vec<BTreeMap<&str, Vec<String>>> = entities
        .iter()
        .map(|entity| {
            let mut properties: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            let label = vec![entity.label.clone()];
            match entity.kind {
                EntityKind::Vehicle => {
                    properties.insert("registrationNumber", label.clone());
                    properties.insert("name", label);
                }
                EntityKind::Address => {
                    properties.insert("full", label);
                }
                EntityKind::BankAccount => {
                    properties.insert("accountNumber", label);
                }
                EntityKind::OnlineAccount => {
                    properties.insert("username", label);
                }
                EntityKind::Report => {
                    properties.insert("title", label.clone());
                    properties.insert("name", label);
                }
                _ => {
                    properties.insert("name", label);
                }
            }
            if let Some(role) = entity.role {
                properties.insert("description", vec![format!("per_RoleInProcess: {role}")]);
            }
            properties
        })
        .collect();
    let mut links: Vec<FtmEntity> = Vec::new();
    for (index, relation) in options.relations(network) {
        let (source, target) = (&entities[relation.source], &entities[relation.target]);
        let mut properties: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let reference = |subject: &str| vec![entity_id(subject)];
        let schema = match relation.kind {
            RelationKind::UsesPhone
                if target.kind == EntityKind::Phone && matches!(source.kind, EntityKind::Person | EntityKind::Business | EntityKind::OnlineAccount) =>
            {
                entity_properties[relation.source].entry("phone").or_default().push(target.label.clone());
                continue;
            }
            RelationKind::Called
                if source.kind == EntityKind::Phone || target.kind == EntityKind::Phone || (is_legal_entity(source.kind) && is_legal_entity(target.kind)) =>
            {
                for (endpoint, entity_property, number_property) in [(source, "caller", "callerNumber"), (target, "receiver", "receiverNumber")] {
                    if endpoint.kind == EntityKind::Phone {
                        properties.insert(number_property, vec![endpoint.label.clone()]);
                    } else if is_legal_entity(endpoint.kind) {
                        properties.insert(entity_property, reference(&endpoint.id));
                    }
                }
                "Call"
            }
            _ if source.kind == EntityKind::Operation || target.kind == EntityKind::Operation => {
                // An operation is an FtM Event: places and people become its properties.
                let (operation, other) = if source.kind == EntityKind::Operation { (relation.source, target) } else { (relation.target, source) };
                let property = match other.kind {
                    EntityKind::Address => "addressEntity",
                    kind if is_legal_entity(kind) => "involved",
                    kind => {
                        summary.skipped.push(format!("{} {} -> {}: an FtM Event cannot hold a {kind}", relation.kind, source.id, target.id));
                        continue;
                    }
                };
                entity_properties[operation].entry(property).or_default().push(entity_id(&other.id));
                continue;
            }
            RelationKind::MentionedInReport if target.kind == EntityKind::Report => {
                properties.insert("document", reference(&target.id));
                properties.insert("name", vec![source.label.clone()]);
                // A phone is not an FtM entity, so its mention carries only the number.
                if let Some(schema) = schema_of(source.kind) {
                    properties.insert("resolved", reference(&source.id));
                    properties.insert("detectedSchema", vec![schema.to_owned()]);
                }
                links.push(FtmEntity { id: link_id(network, relation, index), schema: "Mention", properties });
                continue;
            }
            RelationKind::RegisteredKeeperOf | RelationKind::Owns
                if is_legal_entity(source.kind) && matches!(target.kind, EntityKind::Vehicle | EntityKind::Business | EntityKind::BankAccount) =>
            {
                properties.insert("owner", reference(&source.id));
                properties.insert("asset", reference(&target.id));
                if relation.kind == RelationKind::RegisteredKeeperOf {
                    properties.insert("role", vec!["registered keeper".to_owned()]);
                }
                "Ownership"
            }
            RelationKind::WorksAt if source.kind == EntityKind::Person && target.kind == EntityKind::Business => {
                properties.insert("employee", reference(&source.id));
                properties.insert("employer", reference(&target.id));
                "Employment"
            }
            RelationKind::Family if source.kind == EntityKind::Person && target.kind == EntityKind::Person => {
                properties.insert("person", reference(&source.id));
                properties.insert("relative", reference(&target.id));
                "Family"
            }
            RelationKind::Associate if source.kind == EntityKind::Person && target.kind == EntityKind::Person => {
                properties.insert("person", reference(&source.id));
                properties.insert("associate", reference(&target.id));
                "Associate"
            }
            kind => {
                // UnknownLink needs a legal entity as its subject; when only the target is one,
                // the link is written from the target with the role marked as inverse.
                let role = kind.as_str().replace('_', " ");
                let (subject, object, role) = if is_legal_entity(source.kind) && schema_of(target.kind).is_some() {
                    (source, target, role)
                } else if is_legal_entity(target.kind) && schema_of(source.kind).is_some() {
                    (target, source, format!("{role} (inverse)"))
                } else {
                    summary
                        .skipped
                        .push(format!("{kind} {} -> {}: FollowTheMoney has no link between a {} and a {}", source.id, target.id, source.kind, target.kind));
                    continue;
                };
                properties.insert("subject", reference(&subject.id));
                properties.insert("object", reference(&object.id));
                properties.insert("role", vec![role]);
                "UnknownLink"
            }
        };
        if let Some(first_seen) = relation.first_seen {
            properties.insert("startDate", vec![format_optional_date(Some(first_seen))]);
        }
        if let Some(last_seen) = relation.last_seen {
            properties.insert("endDate", vec![format_optional_date(Some(last_seen))]);
        }
        if !relation.source_reference.is_empty() {
            properties.insert("recordId", vec![relation.source_reference.clone()]);
        }
        properties.insert("description", vec![format!("aidant relation {}; confidence {}", relation.kind, relation.confidence)]);
        links.push(FtmEntity { id: link_id(network, relation, index), schema, properties });
    }
    for (position, entity) in entities.iter().enumerate() {
        let Some(schema) = schema_of(entity.kind) else {
            continue;
        };
        let line = FtmEntity { id: entity_id(&entity.id), schema, properties: std::mem::take(&mut entity_properties[position]) };
        serde_json::to_writer(&mut writer, &line)?;
        writeln!(writer)?;
        summary.entities_written += 1;
    }
    for link in &links {
        serde_json::to_writer(&mut writer, link)?;
        writeln!(writer)?;
        summary.links_written += 1;
    }
    Ok(summary)
}
