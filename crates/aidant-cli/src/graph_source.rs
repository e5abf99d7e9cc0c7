//! The network in Aidant's own database, for `aidant graph --from-database`:
//! the entities' network. Every entity the entity worker found in reports,
//! intelligence records and reporters' messages (people, phones, vehicles,
//! addresses, businesses, emails and online accounts) is one node, whatever
//! form it was written in: the worker keys each by its normal form, so a van
//! written `ab12 cde` and `AB12CDE` is one node, and a business is its folded
//! name and town, with or without a postcode.
//!
//! Two entities one record names are linked, once per record, so every link
//! cites the record it rests on (its reference), the day the record named
//! both, and a confidence: the record's (0.5 for an unverified public
//! report) times how sure the worker was of each mention. The pair of kinds
//! types the link where it implies one (a person uses a phone, drives a
//! vehicle, works at a business, was at an address, is an associate of a
//! person); any other pair is `mentioned_with`. Each record's source is the
//! organisation that holds it, so hubs can be counted by distinct records
//! and sources as well as people.

use std::collections::BTreeMap;

use aidant_core::audit::AuditActor;
use aidant_graph::{Entity, EntityKind, NetworkGraph, Relation, RelationKind, SeenDate};
use aidant_store::Store;
use aidant_store::entities::{MentionRecord, ValueKind};
use aidant_store::entity_network::{EntityNetworkRows, NetworkMention, NetworkRecord};
use aidant_store::{Keyring, StoreError};
use anyhow::{Context, anyhow};

use crate::config::Config;
use crate::startup::{Failure, KeySource, StoreUse, load_master_key, load_retired_keys, open_store};

/// Confidence given to what one unverified public report says.
const PUBLIC_REPORT_CONFIDENCE: f64 = 0.5;
/// Confidence given to what one intelligence record says: written and graded
/// by staff, but its grading is not read here, so below certainty.
const INTELLIGENCE_CONFIDENCE: f64 = 0.8;
/// The longest operating-system login kept in the audit entry.
const LOGIN_MAX_CHARS: usize = 64;

/// Who runs the command, as the audit entry names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// `--operator`: the email of a member of staff in this database, who is
    /// then the audit entry's actor.
    pub staff_email: Option<String>,
    /// The operating system's login (`$USER` or `$LOGNAME`), kept in the
    /// entry's reason either way.
    pub login: Option<String>,
}

impl Operator {
    /// The staff email given on the command line and the login from the
    /// environment, trimmed of control characters and to a sane length.
    pub fn from_environment(staff_email: Option<&str>) -> Self {
        let login = ["USER", "LOGNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok())
            .map(|login| login.chars().filter(|character| !character.is_control()).take(LOGIN_MAX_CHARS).collect::<String>().trim().to_owned());
        Operator { staff_email: staff_email.map(|email| email.trim().to_owned()), login: login.filter(|login| !login.is_empty()) }
    }

    /// What the audit entry says besides its actor.
    fn reason(&self) -> String {
        format!("aidant graph --from-database, at the command line as OS user {}", self.login.as_deref().unwrap_or("unknown"))
    }
}

/// Reads the entities' network from the database the configuration names
/// (the read is audited, naming the operator) and builds it.
pub fn network_from_database(config: &Config, operator: &Operator) -> Result<NetworkGraph, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Runtime(format!("cannot start the async runtime: {error}")))?;
    let rows = runtime.block_on(async {
        let store = open_store_with_key(config).await?;
        let rows = read_rows(&store, operator).await;
        store.close().await;
        rows
    })?;
    network_from_rows(&rows).context("building the network from the database").map_err(Failure::from_error)
}

/// The store with the master key (and any retired keys) that opens the
/// entities' values. Unlike `serve`, no key is made when there is none: a
/// new key opens nothing already sealed, and a read should leave no file
/// behind. No migration is applied either.
async fn open_store_with_key(config: &Config) -> Result<Store, Failure> {
    let key = match load_master_key(config)? {
        KeySource::Existing(key) => key,
        KeySource::New(_, path) => {
            return Err(Failure::Config(format!(
                "graph --from-database needs the master key that sealed the entities: set master_key or put the key file at {}",
                path.display()
            )));
        }
    };
    let retired = load_retired_keys(config)?.into_iter().map(|(key, _)| key).collect();
    Ok(open_store(config, StoreUse::Maintenance).await?.with_keyring(Keyring::new(key, retired)))
}

async fn read_rows(store: &Store, operator: &Operator) -> Result<EntityNetworkRows, Failure> {
    let failed = |error: StoreError| Failure::Runtime(format!("reading the entities' network: {error}"));
    let actor = match &operator.staff_email {
        None => AuditActor::Cli,
        Some(email) => match store.find_user_by_email(email).await.map_err(failed)? {
            Some(user) if !user.disabled => AuditActor::user(user.id.as_str()),
            Some(_) => return Err(Failure::Config(format!("--operator: the user {email} is disabled"))),
            None => return Err(Failure::Config(format!("--operator: no user has the email {email} in this database"))),
        },
    };
    let queue = store.entity_queue_counts().await.map_err(failed)?;
    if queue.waiting > 0 || queue.parked > 0 {
        eprintln!(
            "note: {} records wait for the entity worker and {} could not be read (aidant entities status); the network leaves out what they mention",
            queue.waiting, queue.parked
        );
    }
    store.entity_network(&actor, &operator.reason()).await.map_err(failed)
}

/// The graph's kind for an entity's kind. An email address is an online
/// account (the model has no kind of its own for it, and FollowTheMoney
/// exports it as a user account).
fn entity_kind(kind: ValueKind) -> EntityKind {
    match kind {
        ValueKind::Person => EntityKind::Person,
        ValueKind::Phone => EntityKind::Phone,
        ValueKind::Vehicle => EntityKind::Vehicle,
        ValueKind::Address => EntityKind::Address,
        ValueKind::Business => EntityKind::Business,
        ValueKind::Email | ValueKind::OnlineAccount => EntityKind::OnlineAccount,
    }
}

/// A node's id: the entity's kind and normal form (`vehicle:AB12CDE`,
/// `address:LU1 2AB`, `business:star nails|luton`, `email:...`), which an
/// analyst can type after `--entity` or `--not-hub`.
pub fn node_id(kind: ValueKind, value: &str) -> String {
    format!("{kind}:{value}")
}

/// What naming two entities in one record says, with the one to read as
/// the subject first: a person uses a phone or an account, drives a
/// vehicle, was at an address (not necessarily living there: a motorway
/// services is an address too), works at a business, and is an associate of
/// another person named with them. Anything else is only named with the
/// other. These are the relations entity pages name
/// (`aidant_link::mentions::relation_between`), in the graph's vocabulary.
fn relation_between(first: ValueKind, second: ValueKind) -> (RelationKind, bool) {
    let kind_for_person = |other: ValueKind| match other {
        ValueKind::Phone => RelationKind::UsesPhone,
        ValueKind::Vehicle => RelationKind::DrivesVehicle,
        ValueKind::Address => RelationKind::AtAddress,
        ValueKind::Business => RelationKind::WorksAt,
        ValueKind::Person => RelationKind::Associate,
        ValueKind::Email | ValueKind::OnlineAccount => RelationKind::UsesAccount,
    };
    match (first, second) {
        (ValueKind::Person, other) => (kind_for_person(other), false),
        (other, ValueKind::Person) => (kind_for_person(other), true),
        _ => (RelationKind::MentionedWith, false),
    }
}

/// The UTC day of Unix milliseconds.
fn day_of(unix_ms: i64) -> anyhow::Result<SeenDate> {
    Ok(time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)?.date())
}

fn record_confidence(record: MentionRecord) -> f64 {
    match record {
        MentionRecord::Report => PUBLIC_REPORT_CONFIDENCE,
        MentionRecord::Intelligence => INTELLIGENCE_CONFIDENCE,
    }
}

/// How sure a link is: the record's confidence times each mention's. The
/// worker keeps a mention's confidence as an `f32` (0.9 reads back as
/// 0.8999999761581421), so the product is rounded to three places, which is
/// all the figures mean, and reads as written.
fn link_confidence(record: MentionRecord, first: f64, second: f64) -> f64 {
    ((record_confidence(record) * first * second).clamp(0.0, 1.0) * 1000.0).round() / 1000.0
}

/// The entities' network: a node per entity, a link per pair of entities
/// per record that names both, and each record's source (its organisation).
pub fn network_from_rows(rows: &EntityNetworkRows) -> anyhow::Result<NetworkGraph> {
    let mut network = NetworkGraph::new();
    let mut node_of = BTreeMap::new();
    for entity in &rows.entities {
        let position =
            network.add_entity(Entity { id: node_id(entity.kind, &entity.value), kind: entity_kind(entity.kind), label: entity.label.clone(), role: None })?;
        node_of.insert(&entity.id, (position, entity.kind));
    }
    let records: BTreeMap<(MentionRecord, &str), &NetworkRecord> = rows.records.iter().map(|record| ((record.record, record.id.as_str()), record)).collect();
    let mut by_record: BTreeMap<(MentionRecord, &str), Vec<&NetworkMention>> = BTreeMap::new();
    for mention in &rows.mentions {
        by_record.entry((mention.record, mention.record_id.as_str())).or_default().push(mention);
    }
    // Records in date order, so relations are added in the order they were learnt.
    for record in &rows.records {
        let Some(mentions) = by_record.get(&(record.record, record.id.as_str())) else { continue };
        if let Some(organisation) = &record.organisation_id {
            network.set_reference_source(&record.reference, &format!("organisation:{}", organisation.as_str()));
        }
        let mut named: Vec<(usize, ValueKind, &NetworkMention)> = Vec::with_capacity(mentions.len());
        for mention in mentions {
            let (position, kind) = node_of.get(&mention.entity_id).ok_or_else(|| anyhow!("record {} names an entity that was not read", record.reference))?;
            named.push((*position, *kind, mention));
        }
        named.sort_by_key(|(position, _, _)| *position);
        for (index, &(first, first_kind, first_mention)) in named.iter().enumerate() {
            for &(second, second_kind, second_mention) in &named[index + 1..] {
                let (kind, reversed) = relation_between(first_kind, second_kind);
                let (source, target) = if reversed { (second, first) } else { (first, second) };
                // Learnt when the record named the later of the two.
                let day = day_of(first_mention.first_seen_at_ms.max(second_mention.first_seen_at_ms))
                    .with_context(|| format!("record {}: a mention's time is out of range", record.reference))?;
                network.add_relation(Relation {
                    source,
                    target,
                    kind,
                    first_seen: Some(day),
                    last_seen: Some(day),
                    source_reference: record.reference.clone(),
                    confidence: link_confidence(record.record, first_mention.confidence, second_mention.confidence),
                })?;
            }
        }
    }
    if let Some(orphan) = rows.mentions.iter().find(|mention| !records.contains_key(&(mention.record, mention.record_id.as_str()))) {
        return Err(anyhow!("a mention names a {} record that was not read", orphan.record.as_str()));
    }
    Ok(network)
}

#[cfg(test)]
mod tests {
    use aidant_core::ids::{EntityId, OrganisationId};
    use aidant_graph::parse_seen_date;
    use aidant_store::entities::Entity as StoredEntity;

    use super::*;

    /// 2026-03-14 at noon, UTC.
    const MARCH_14: i64 = 1_773_489_600_000;
    const DAY: i64 = 86_400_000;

    fn uuid(number: u32) -> String {
        format!("00000000-0000-7000-8000-{number:012}")
    }

    struct Rows(EntityNetworkRows);

    impl Rows {
        fn new() -> Self {
            Rows(EntityNetworkRows::default())
        }

        /// An entity; returns its number, for mentions.
        fn entity(&mut self, kind: ValueKind, value: &str, label: &str) -> u32 {
            let number = self.0.entities.len() as u32 + 1;
            self.0.entities.push(StoredEntity {
                id: EntityId::parse(&uuid(number)).unwrap(),
                kind,
                value: value.to_owned(),
                label: label.to_owned(),
                created_at_ms: MARCH_14,
                merged_into: None,
            });
            number
        }

        /// A record naming entities (number, confidence, when) held by `organisation`.
        fn record(&mut self, record: MentionRecord, reference: &str, organisation: Option<u32>, named: &[(u32, f64, i64)]) {
            let id = uuid(1000 + self.0.records.len() as u32);
            self.0.records.push(NetworkRecord {
                record,
                id: id.clone(),
                reference: reference.to_owned(),
                at_ms: named.iter().map(|(_, _, at)| *at).min().unwrap_or(MARCH_14),
                organisation_id: organisation.map(|number| OrganisationId::parse(&uuid(2000 + number)).unwrap()),
            });
            for (entity, confidence, at) in named {
                self.0.mentions.push(NetworkMention {
                    entity_id: EntityId::parse(&uuid(*entity)).unwrap(),
                    record,
                    record_id: id.clone(),
                    first_seen_at_ms: *at,
                    confidence: *confidence,
                });
            }
        }

        fn network(&self) -> NetworkGraph {
            network_from_rows(&self.0).unwrap()
        }
    }

    /// Every relation as `source kind target reference day confidence`.
    fn relations(network: &NetworkGraph) -> Vec<String> {
        let entities = network.entities();
        network
            .relations()
            .iter()
            .map(|relation| {
                format!(
                    "{} {} {} {} {} {}",
                    entities[relation.source].id,
                    relation.kind,
                    entities[relation.target].id,
                    relation.source_reference,
                    aidant_graph::model::format_optional_date(relation.first_seen),
                    relation.confidence
                )
            })
            .collect()
    }

    #[test]
    fn every_kind_is_a_node_keyed_by_its_normal_form() {
        let mut rows = Rows::new();
        for (kind, value) in [
            (ValueKind::Person, "p-1"),
            (ValueKind::Phone, "+447700900123"),
            (ValueKind::Vehicle, "AB12CDE"),
            (ValueKind::Address, "LU1 2AB"),
            (ValueKind::Business, "star nails|luton"),
            (ValueKind::Email, "boss@example.com"),
            (ValueKind::OnlineAccount, "lulu_nails"),
        ] {
            rows.entity(kind, value, "label");
        }
        let network = rows.network();
        let nodes: Vec<(&str, EntityKind)> = network.entities().iter().map(|entity| (entity.id.as_str(), entity.kind)).collect();
        assert_eq!(
            nodes,
            [
                ("person:p-1", EntityKind::Person),
                ("phone:+447700900123", EntityKind::Phone),
                ("vehicle:AB12CDE", EntityKind::Vehicle),
                ("address:LU1 2AB", EntityKind::Address),
                ("business:star nails|luton", EntityKind::Business),
                ("email:boss@example.com", EntityKind::OnlineAccount),
                ("online_account:lulu_nails", EntityKind::OnlineAccount),
            ]
        );
        assert_eq!(network.relations(), [], "an entity no record names with another is a node on its own");
    }

    #[test]
    fn what_one_record_names_is_linked_pairwise_with_typed_relations() {
        let mut rows = Rows::new();
        let person = rows.entity(ValueKind::Person, "p-1", "Florin Dumitru");
        let phone = rows.entity(ValueKind::Phone, "+447700900123", "+44 7700 900123");
        let van = rows.entity(ValueKind::Vehicle, "AB12CDE", "AB12 CDE");
        let address = rows.entity(ValueKind::Address, "LU1 2AB", "LU1 2AB");
        let business = rows.entity(ValueKind::Business, "star nails|luton", "Star Nails, Luton");
        let associate = rows.entity(ValueKind::Person, "p-2", "Ioana Popescu");
        let account = rows.entity(ValueKind::OnlineAccount, "lulu_nails", "@lulu_nails");
        let named: Vec<(u32, f64, i64)> = [person, phone, van, address, business, associate, account].iter().map(|&entity| (entity, 1.0, MARCH_14)).collect();
        rows.record(MentionRecord::Report, "AAA111", Some(1), &named);
        let relations = relations(&rows.network());
        for expected in [
            "person:p-1 uses_phone phone:+447700900123 AAA111 2026-03-14 0.5",
            "person:p-1 drives_vehicle vehicle:AB12CDE AAA111 2026-03-14 0.5",
            "person:p-1 at_address address:LU1 2AB AAA111 2026-03-14 0.5",
            "person:p-1 works_at business:star nails|luton AAA111 2026-03-14 0.5",
            "person:p-1 associate person:p-2 AAA111 2026-03-14 0.5",
            "person:p-2 uses_phone phone:+447700900123 AAA111 2026-03-14 0.5",
            "phone:+447700900123 mentioned_with vehicle:AB12CDE AAA111 2026-03-14 0.5",
            "address:LU1 2AB mentioned_with business:star nails|luton AAA111 2026-03-14 0.5",
            "person:p-2 uses_account online_account:lulu_nails AAA111 2026-03-14 0.5",
        ] {
            assert!(relations.contains(&expected.to_owned()), "{expected} in {relations:#?}");
        }
        assert_eq!(relations.len(), 21, "each of the 7 x 6 / 2 pairs once");
    }

    #[test]
    fn each_record_is_its_own_evidence_with_its_day_confidence_and_source() {
        let mut rows = Rows::new();
        let phone = rows.entity(ValueKind::Phone, "+447700900123", "+44 7700 900123");
        let address = rows.entity(ValueKind::Address, "LU5 6HR", "LU5 6HR");
        rows.record(MentionRecord::Report, "AAA111", Some(1), &[(phone, f64::from(0.9_f32), MARCH_14), (address, 1.0, MARCH_14)]);
        // A reporter's message named the phone two days after the report.
        rows.record(MentionRecord::Report, "BBB222", None, &[(address, 1.0, MARCH_14), (phone, 0.9, MARCH_14 + 2 * DAY)]);
        rows.record(MentionRecord::Intelligence, "INT-CCC333", Some(2), &[(phone, 0.9, MARCH_14), (address, 0.9, MARCH_14)]);
        let network = rows.network();
        assert_eq!(
            relations(&network),
            [
                "phone:+447700900123 mentioned_with address:LU5 6HR AAA111 2026-03-14 0.45",
                "phone:+447700900123 mentioned_with address:LU5 6HR BBB222 2026-03-16 0.45",
                "phone:+447700900123 mentioned_with address:LU5 6HR INT-CCC333 2026-03-14 0.648",
            ]
        );
        assert_eq!(network.reference_source("AAA111"), format!("organisation:{}", uuid(2001)));
        assert_eq!(network.reference_source("BBB222"), "BBB222", "a report nobody holds is its own source");
        assert_eq!(network.reference_source("INT-CCC333"), format!("organisation:{}", uuid(2002)));
        let relation = &network.relations()[1];
        assert_eq!((relation.first_seen, relation.last_seen), (parse_seen_date("2026-03-16").ok(), parse_seen_date("2026-03-16").ok()));
    }

    #[test]
    fn a_mention_of_an_unread_record_or_entity_is_an_error() {
        let mut rows = Rows::new();
        let phone = rows.entity(ValueKind::Phone, "+447700900123", "+44 7700 900123");
        rows.record(MentionRecord::Report, "AAA111", None, &[(phone, 1.0, MARCH_14)]);
        let mut unread_record = rows.0.clone();
        unread_record.records.clear();
        assert_eq!(network_from_rows(&unread_record).unwrap_err().to_string(), "a mention names a report record that was not read");
        rows.0.entities.clear();
        assert_eq!(network_from_rows(&rows.0).unwrap_err().to_string(), "record AAA111 names an entity that was not read");
    }

    #[test]
    fn the_operator_is_named_by_their_login() {
        let operator = Operator { staff_email: None, login: Some("analyst1".to_owned()) };
        assert_eq!(operator.reason(), "aidant graph --from-database, at the command line as OS user analyst1");
        let nobody = Operator { staff_email: None, login: None };
        assert!(nobody.reason().ends_with("as OS user unknown"));
    }
}
