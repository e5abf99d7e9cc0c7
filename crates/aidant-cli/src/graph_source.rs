//! The network in Aidant's own database, for `aidant graph --from-database`:
//! each public report is a node, linked to the vehicles, postcodes and
//! businesses it mentions, so reports about the same van or the same nail
//! bar fall into one component. Public reports are unverified, so each link
//! carries confidence 0.5.
//!
//! The store's rows go straight into the graph crate's model. Registrations
//! and postcodes are normalised by aidant-link's parsers, the ones the linker
//! uses, so a van written `ab12 cde` in one report and `AB12CDE` in another
//! is one node, and so is a postcode typed with or without its space.

use std::collections::BTreeSet;

use aidant_core::audit::AuditActor;
use aidant_graph::{Entity, EntityKind, NetworkGraph, Relation, RelationKind, parse_seen_date};
use aidant_link::postcode::Postcode;
use aidant_link::vrm::{Vrm, VrmError};
use aidant_store::reports::ReportNetworkRow;
use anyhow::Context;

use crate::config::Config;
use crate::startup::{Failure, StoreUse, open_store};

/// Confidence given to a link that rests on one unverified public report.
const PUBLIC_REPORT_CONFIDENCE: f64 = 0.5;

/// Reads every report from the database the configuration names (the read
/// is audited) and builds its network.
pub fn network_from_database(config: &Config) -> Result<NetworkGraph, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Runtime(format!("cannot start the async runtime: {error}")))?;
    let rows = runtime.block_on(async {
        let store = open_store(config, StoreUse::Maintenance).await?;
        let rows = store.report_network(&AuditActor::Cli, "aidant graph --from-database").await;
        store.close().await;
        rows.map_err(|error| Failure::Runtime(format!("reading reports: {error}")))
    })?;
    network_from_rows(&rows).context("building the network from the database").map_err(Failure::from_error)
}

/// Something a report mentions, as a node of the network.
#[derive(Debug, PartialEq)]
struct Mention {
    id: String,
    kind: EntityKind,
    label: String,
}

/// The network of reports and what they mention.
pub fn network_from_rows(rows: &[ReportNetworkRow]) -> anyhow::Result<NetworkGraph> {
    let mut network = NetworkGraph::new();
    for row in rows {
        let report =
            network.add_entity(Entity { id: format!("report:{}", row.reference), kind: EntityKind::Report, label: row.reference.clone(), role: None })?;
        let day = parse_seen_date(&row.received_on).map_err(|message| anyhow::anyhow!("report {}: {message}", row.reference))?;
        // One report naming the same van twice (two spellings) is one link.
        let mut linked = BTreeSet::new();
        for mention in mentions(row) {
            let entity = match network.entity_index(&mention.id) {
                Some(entity) => entity,
                None => network.add_entity(Entity { id: mention.id, kind: mention.kind, label: mention.label, role: None })?,
            };
            if linked.insert(entity) {
                network.add_relation(Relation {
                    source: entity,
                    target: report,
                    kind: RelationKind::MentionedInReport,
                    first_seen: Some(day),
                    last_seen: Some(day),
                    source_reference: row.reference.clone(),
                    confidence: PUBLIC_REPORT_CONFIDENCE,
                })?;
            }
        }
    }
    Ok(network)
}

/// The vehicles, address and business one report mentions, in that order.
fn mentions(row: &ReportNetworkRow) -> Vec<Mention> {
    let mut mentions: Vec<Mention> = row.registrations.iter().filter_map(|registration| vehicle(registration)).collect();
    let postcode = row.postcode.as_deref().map(str::trim).filter(|raw| !raw.is_empty());
    let parsed_postcode = postcode.and_then(|raw| Postcode::parse(raw).ok());
    if let Some(raw) = postcode {
        // A postcode the parser refuses is still what the reporter saw: kept as written.
        let shown = parsed_postcode.as_ref().map_or_else(|| raw.to_owned(), Postcode::to_string);
        mentions.push(Mention { id: format!("address:{shown}"), kind: EntityKind::Address, label: shown });
    }
    if let Some(business) = row.business_name.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
        // The same name in another town is another business.
        let place = match (&parsed_postcode, &row.town) {
            (Some(postcode), _) => postcode.outcode().to_lowercase(),
            (None, Some(town)) => folded(town),
            (None, None) => String::new(),
        };
        mentions.push(Mention { id: format!("business:{}|{place}", folded(business)), kind: EntityKind::Business, label: business.to_owned() });
    }
    mentions
}

/// A registration as the linker reads it: UK marks compact and upper case
/// (shown with the DVLA's spacing), other plates as the parser compacts them.
fn vehicle(raw: &str) -> Option<Mention> {
    let (mark, label) = match Vrm::parse_uk(raw) {
        Ok(vrm) => (vrm.compact().to_owned(), vrm.to_string()),
        Err(VrmError::UnrecognisedUkFormat(mark)) => (mark.clone(), mark),
        Err(VrmError::Empty) => return None,
        // A character no plate has: kept as written rather than dropped.
        Err(VrmError::InvalidCharacter(_) | VrmError::InvalidCountry(_)) => (raw.trim().to_owned(), raw.trim().to_owned()),
    };
    Some(Mention { id: format!("vehicle:{mark}"), kind: EntityKind::Vehicle, label })
}

/// Case, accents and punctuation folded as search folds them, so "Star
/// Nails" and "STAR NAILS!" are one business.
fn folded(text: &str) -> String {
    let folded = aidant_core::search::fold(text);
    if folded.is_empty() { text.trim().to_lowercase() } else { folded }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(reference: &str, postcode: Option<&str>, town: Option<&str>, business_name: Option<&str>, registrations: &[&str]) -> ReportNetworkRow {
        ReportNetworkRow {
            reference: reference.to_owned(),
            received_on: "2026-03-14".to_owned(),
            postcode: postcode.map(str::to_owned),
            town: town.map(str::to_owned),
            business_name: business_name.map(str::to_owned),
            registrations: registrations.iter().map(|registration| (*registration).to_owned()).collect(),
        }
    }

    /// The ids of what one report links to, in the order the links were added.
    fn linked_ids(network: &NetworkGraph, reference: &str) -> Vec<String> {
        let report = network.entity_index(&format!("report:{reference}")).expect("the report is a node");
        network.relations().iter().filter(|relation| relation.target == report).map(|relation| network.entities()[relation.source].id.clone()).collect()
    }

    fn check_vehicle(raw: &str, expected_id: &str, expected_label: &str) {
        let mention = vehicle(raw).unwrap_or_else(|| panic!("{raw:?} is a vehicle"));
        assert_eq!((mention.id.as_str(), mention.label.as_str()), (expected_id, expected_label), "{raw:?}");
    }

    #[test]
    fn registrations_are_normalised_by_the_linkers_parser() {
        check_vehicle("ab12 cde", "vehicle:AB12CDE", "AB12 CDE");
        check_vehicle("AB12CDE", "vehicle:AB12CDE", "AB12 CDE");
        check_vehicle("a123-bcd", "vehicle:A123BCD", "A123 BCD");
        // Not a UK format: the parser's compact mark.
        check_vehicle("b 1234 xyz9", "vehicle:B1234XYZ9", "B1234XYZ9");
        check_vehicle("ÄB12", "vehicle:ÄB12", "ÄB12");
        assert_eq!(vehicle("  - "), None);
    }

    #[test]
    fn the_same_van_and_postcode_written_two_ways_are_one_node_each() {
        let rows = [
            row("AAA111", Some("lu12ab"), Some("Luton"), None, &["ab12 cde"]),
            row("BBB222", Some("LU1 2AB"), None, None, &["AB12CDE", "ab-12-cde"]),
            row("CCC333", Some("SG18 8AB"), None, None, &[]),
        ];
        let network = network_from_rows(&rows).unwrap();
        let ids: Vec<&str> = network.entities().iter().map(|entity| entity.id.as_str()).collect();
        assert_eq!(ids, ["report:AAA111", "vehicle:AB12CDE", "address:LU1 2AB", "report:BBB222", "report:CCC333", "address:SG18 8AB"]);
        assert_eq!(linked_ids(&network, "BBB222"), ["vehicle:AB12CDE", "address:LU1 2AB"], "one link per thing, however often it is named");
        let relation = &network.relations()[0];
        assert_eq!((relation.kind, relation.confidence, relation.source_reference.as_str()), (RelationKind::MentionedInReport, 0.5, "AAA111"));
        assert_eq!((relation.first_seen, relation.last_seen), (Some(parse_seen_date("2026-03-14").unwrap()), Some(parse_seen_date("2026-03-14").unwrap())));
    }

    #[test]
    fn a_business_is_its_folded_name_in_its_postcode_district_or_town() {
        let rows = [
            row("AAA111", Some("LU1 2AB"), None, Some("Star Nails"), &[]),
            row("BBB222", Some("lu1 9zz"), Some("Luton"), Some("STAR  NAILS!"), &[]),
            row("CCC333", None, Some("Bedford"), Some("Star Nails"), &[]),
            row("DDD444", None, Some("BEDFORD"), Some("Stâr Nails"), &[]),
        ];
        let network = network_from_rows(&rows).unwrap();
        assert_eq!(linked_ids(&network, "BBB222"), ["address:LU1 9ZZ", "business:star nails|lu1"]);
        assert_eq!(linked_ids(&network, "AAA111")[1], "business:star nails|lu1");
        assert_eq!(linked_ids(&network, "CCC333"), ["business:star nails|bedford"]);
        assert_eq!(linked_ids(&network, "DDD444"), ["business:star nails|bedford"]);
        let business = network.entity_index("business:star nails|lu1").unwrap();
        assert_eq!(network.entities()[business].label, "Star Nails", "labelled as first written");
    }

    #[test]
    fn a_postcode_the_parser_refuses_is_kept_as_written() {
        let network = network_from_rows(&[row("AAA111", Some(" 12345 "), Some("Luton"), Some("Star Nails"), &[])]).unwrap();
        assert_eq!(linked_ids(&network, "AAA111"), ["address:12345", "business:star nails|luton"]);
    }

    #[test]
    fn a_bad_day_names_the_report() {
        let mut bad = row("AAA111", None, Some("Luton"), None, &[]);
        bad.received_on = "14/03/2026".to_owned();
        let error = network_from_rows(&[bad]).unwrap_err().to_string();
        assert!(error.starts_with("report AAA111: "), "{error}");
    }
}
