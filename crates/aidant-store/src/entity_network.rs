//! The entities' network, for `aidant graph --from-database`: every entity
//! that a record mentions (people, phones, vehicles, addresses, businesses,
//! emails, online accounts) with its value and label opened, which records
//! mention it and when, and each record's reference, date and holding
//! organisation, so that the graph can link entities named together and
//! count a value's distinct records and sources.
//!
//! The rows are read in one snapshot and returned only once one audit entry,
//! naming who ran the read and how much it covered, has committed. Reading
//! the whole network can take a while, so it is not done inside the write
//! transaction that appends the entry: that would hold SQLite's write lock
//! (and public intake) for as long as the read takes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{EntityId, OrganisationId};
use aidant_graph::{Entity as GraphEntity, EntityKind, NetworkGraph, Relation, RelationKind, SeenDate};
use sqlx::{AnyConnection, Row};

use crate::audit::AuditEvent;
use crate::entities::{Entity, MentionRecord, ValueKind, load_entities};
use crate::{Backend, Store, StoreError};

/// A record that mentions entities, as the network cites it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRecord {
    pub record: MentionRecord,
    pub id: String,
    /// What staff call it: a report's reference, an intelligence record's
    /// `INT-...` reference.
    pub reference: String,
    /// When a report was received or an intelligence record written (Unix
    /// milliseconds).
    pub at_ms: i64,
    /// Who holds it: a report's owning organisation (the one that received
    /// it), an intelligence record's owner. `None` for a report that arrived
    /// while no organisation received public reports.
    pub organisation_id: Option<OrganisationId>,
}

/// One record's mention of one entity, whichever fields name it.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkMention {
    pub entity_id: EntityId,
    pub record: MentionRecord,
    pub record_id: String,
    /// When the record first named it (Unix milliseconds): a reporter's later
    /// message names things later than its report.
    pub first_seen_at_ms: i64,
    /// The highest confidence of the fields that name it.
    pub confidence: f64,
}

/// The whole network's rows. Entities are in kind and value order, records
/// in date order and mentions by record, so the same database always gives
/// the same network in the same order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityNetworkRows {
    pub entities: Vec<Entity>,
    pub records: Vec<NetworkRecord>,
    pub mentions: Vec<NetworkMention>,
}

/// Ids per statement when entities are opened.
const ENTITIES_PER_READ: usize = 500;

impl Store {
    /// Every entity that records mention, with the mentions and the records,
    /// read in one snapshot (the values and labels opened, so the store needs
    /// its master key). `reason` says who ran it and why; the audit entry
    /// adds how much was read, and the rows are returned only once it has
    /// committed. Mentions of a record deleted since are left out.
    pub async fn entity_network(&self, actor: &AuditActor, reason: &str) -> Result<EntityNetworkRows, StoreError> {
        let rows = self.read_entity_network().await?;
        let reports = rows.records.iter().filter(|record| record.record == MentionRecord::Report).count();
        let reason = format!(
            "{reason}; the entities' network: entities {}, mentions {}, reports {reports}, intelligence records {}",
            rows.entities.len(),
            rows.mentions.len(),
            rows.records.len() - reports
        );
        self.audit(&AuditEvent::new(actor, AuditAction::ReportsNetworkRead, AuditRecordKind::Reports, "all").because(&reason)).await?;
        Ok(rows)
    }
}

impl Store {
    /// The whole entities' network in one snapshot, without an audit entry:
    /// for use cases that filter it to what their caller may see and audit
    /// what they show.
    pub(crate) async fn read_entity_network(&self) -> Result<EntityNetworkRows, StoreError> {
        let mut transaction = self.begin_snapshot().await?;
        let rows = read_network(self, &mut transaction, None).await;
        transaction.rollback().await?;
        rows
    }

    /// The whole entities' network with no value or label opened (each
    /// entity's value is its id, its label empty, and each record's
    /// reference its id): for analyses, which need only who is linked to
    /// whom, and open the few they show. Two statements in one snapshot:
    /// the mentions with their entities' kinds, and the records' dates and
    /// holders.
    pub(crate) async fn read_entity_network_shape(&self) -> Result<EntityNetworkRows, StoreError> {
        let mut transaction = self.begin_snapshot().await?;
        let rows = read_shape(&mut transaction).await;
        transaction.rollback().await?;
        rows
    }

    /// The network of some entities only: them, every record that mentions
    /// one of them, and those records' mentions of them (not of anything
    /// else), in one snapshot, without an audit entry.
    pub(crate) async fn read_entity_network_of(&self, ids: &[EntityId]) -> Result<EntityNetworkRows, StoreError> {
        let mut transaction = self.begin_snapshot().await?;
        let rows = read_network(self, &mut transaction, Some(ids)).await;
        transaction.rollback().await?;
        rows
    }

    /// A read-only transaction that sees one snapshot for every statement.
    async fn begin_snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Postgres => self.pool.begin_with("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?,
            // SQLite's read transaction is one snapshot already.
            Backend::Sqlite => self.pool.begin().await?,
        })
    }
}

fn network_mention_of_row(row: &sqlx::any::AnyRow) -> Result<NetworkMention, StoreError> {
    Ok(NetworkMention {
        entity_id: crate::named(row, "entity_id")?,
        record: mention_record(&row.try_get::<String, _>("record_kind")?)?,
        record_id: row.try_get("record_id")?,
        first_seen_at_ms: row.try_get("first_seen_at")?,
        confidence: row.try_get("confidence")?,
    })
}

/// The network's shape in one row per record: each record's date and
/// holder with what it names, aggregated by the database (`string_agg`,
/// in SQLite since 3.44 and in PostgreSQL), as `entity kind first-seen
/// confidence` entries. Reading a hundred thousand rows costs far less
/// than the quarter of a million the mentions would be one by one.
async fn read_shape(connection: &mut AnyConnection) -> Result<EntityNetworkRows, StoreError> {
    let mut kinds: BTreeMap<EntityId, ValueKind> = BTreeMap::new();
    let mut records = Vec::new();
    let mut mentions = Vec::new();
    for (record, table, at, holder) in [
        (MentionRecord::Report, "reports", "received_at", "owning_organisation_id"),
        (MentionRecord::Intelligence, "intelligence", "created_at", "owner_organisation_id"),
    ] {
        let statement = format!(
            "SELECT r.id, r.{at}, r.{holder}, string_agg(p.entry, ',') AS named
             FROM (SELECT m.record_id, m.entity_id || ' ' || e.kind || ' ' || MIN(m.seen_at) || ' ' || MAX(m.confidence) AS entry
                   FROM entity_mentions m JOIN entities e ON e.id = m.entity_id
                   WHERE m.record_kind = '{}'
                   GROUP BY m.record_id, m.entity_id, e.kind) p
             JOIN {table} r ON r.id = p.record_id
             GROUP BY r.id, r.{at}, r.{holder}",
            record.as_str()
        );
        for row in sqlx::query(&statement).fetch_all(&mut *connection).await? {
            let id: String = row.try_get(0)?;
            let organisation: Option<String> = row.try_get(2)?;
            let named: String = row.try_get(3)?;
            for entry in named.split(',') {
                let corrupt = || StoreError::Corrupt(format!("a record's mention cannot be read: {entry:?}"));
                let mut parts = entry.split(' ');
                let (Some(entity), Some(kind), Some(seen), Some(confidence)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
                    return Err(corrupt());
                };
                let entity_id = EntityId::parse(entity).map_err(|_| corrupt())?;
                let kind = ValueKind::parse(kind).ok_or_else(corrupt)?;
                kinds.entry(entity_id.clone()).or_insert(kind);
                mentions.push(NetworkMention {
                    entity_id,
                    record,
                    record_id: id.clone(),
                    first_seen_at_ms: seen.parse().map_err(|_| corrupt())?,
                    confidence: confidence.parse().map_err(|_| corrupt())?,
                });
            }
            records.push(NetworkRecord {
                record,
                reference: id.clone(),
                id,
                at_ms: row.try_get(1)?,
                organisation_id: organisation
                    .map(|id| OrganisationId::parse(&id).map_err(|_| StoreError::Corrupt("an organisation id is not a UUID".to_owned())))
                    .transpose()?,
            });
        }
    }
    let mut entities: Vec<Entity> = kinds
        .into_iter()
        .map(|(id, kind)| Entity { value: id.as_str().to_owned(), label: String::new(), created_at_ms: 0, merged_into: None, id, kind })
        .collect();
    entities.sort_by(|left, right| (left.kind, &left.value).cmp(&(right.kind, &right.value)));
    records.sort_by(|left, right| (left.at_ms, &left.id).cmp(&(right.at_ms, &right.id)));
    Ok(EntityNetworkRows { entities, records, mentions })
}

/// Reads the network, of every entity (`only` is `None`) or of the given ones.
async fn read_network(store: &Store, connection: &mut AnyConnection, only: Option<&[EntityId]>) -> Result<EntityNetworkRows, StoreError> {
    let mut mentions = Vec::new();
    match only {
        None => {
            let rows = sqlx::query(
                "SELECT entity_id, record_kind, record_id, MIN(seen_at) AS first_seen_at, MAX(confidence) AS confidence FROM entity_mentions
                 GROUP BY entity_id, record_kind, record_id ORDER BY record_kind, record_id, entity_id",
            )
            .fetch_all(&mut *connection)
            .await?;
            for row in &rows {
                mentions.push(network_mention_of_row(row)?);
            }
        }
        Some(ids) => {
            for chunk in ids.chunks(ENTITIES_PER_READ) {
                let statement = format!(
                    "SELECT entity_id, record_kind, record_id, MIN(seen_at) AS first_seen_at, MAX(confidence) AS confidence FROM entity_mentions
                     WHERE entity_id IN ({}) GROUP BY entity_id, record_kind, record_id",
                    crate::bind_list(chunk.len())
                );
                let mut query = sqlx::query(&statement);
                for id in chunk {
                    query = query.bind(id.as_str());
                }
                for row in query.fetch_all(&mut *connection).await? {
                    mentions.push(network_mention_of_row(&row)?);
                }
            }
            mentions.sort_by(|left, right| (left.record, &left.record_id, &left.entity_id).cmp(&(right.record, &right.record_id, &right.entity_id)));
        }
    }

    let entity_ids: Vec<EntityId> = mentions.iter().map(|mention| mention.entity_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let mut entities = Vec::with_capacity(entity_ids.len());
    // In slices: `load_entities` orders what it returns by the ids it was given.
    for chunk in entity_ids.chunks(ENTITIES_PER_READ) {
        entities.extend(load_entities(store, connection, chunk).await?);
    }
    entities.sort_by(|left, right| (left.kind, &left.value).cmp(&(right.kind, &right.value)));

    let mut records = Vec::new();
    for (record, statement) in [
        (MentionRecord::Report, "SELECT id, reference, received_at AS at_ms, owning_organisation_id AS organisation_id FROM reports"),
        (MentionRecord::Intelligence, "SELECT id, reference, created_at AS at_ms, owner_organisation_id AS organisation_id FROM intelligence"),
    ] {
        let rows = match only {
            None => {
                let statement = format!("{statement} WHERE id IN (SELECT record_id FROM entity_mentions WHERE record_kind = '{}')", record.as_str());
                sqlx::query(&statement).fetch_all(&mut *connection).await?
            }
            Some(_) => {
                let ids: Vec<&str> = mentions
                    .iter()
                    .filter(|mention| mention.record == record)
                    .map(|mention| mention.record_id.as_str())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let mut rows = Vec::new();
                for chunk in ids.chunks(ENTITIES_PER_READ) {
                    let statement = format!("{statement} WHERE id IN ({})", crate::bind_list(chunk.len()));
                    let mut query = sqlx::query(&statement);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    rows.extend(query.fetch_all(&mut *connection).await?);
                }
                rows
            }
        };
        for row in rows {
            records.push(NetworkRecord {
                record,
                id: row.try_get("id")?,
                reference: row.try_get("reference")?,
                at_ms: row.try_get("at_ms")?,
                organisation_id: crate::named_optional(&row, "organisation_id")?,
            });
        }
    }
    records.sort_by(|left, right| (left.at_ms, &left.id).cmp(&(right.at_ms, &right.id)));

    // A record deleted, or an entity gone, since its mention was written.
    let known_records: BTreeSet<(MentionRecord, &str)> = records.iter().map(|record| (record.record, record.id.as_str())).collect();
    let known_entities: BTreeSet<&EntityId> = entities.iter().map(|entity| &entity.id).collect();
    mentions.retain(|mention| known_records.contains(&(mention.record, mention.record_id.as_str())) && known_entities.contains(&mention.entity_id));
    Ok(EntityNetworkRows { entities, records, mentions })
}

/// The stored name of a mention's record kind.
fn mention_record(text: &str) -> Result<MentionRecord, StoreError> {
    [MentionRecord::Report, MentionRecord::Intelligence]
        .into_iter()
        .find(|record| record.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt(format!("a mention in a record of unknown kind {text:?}")))
}

/// Confidence given to what one unverified public report says.
pub const PUBLIC_REPORT_CONFIDENCE: f64 = 0.5;
/// Confidence given to what one intelligence record says: written and graded
/// by staff, but its grading is not read here, so below certainty.
pub const INTELLIGENCE_CONFIDENCE: f64 = 0.8;

/// The graph's kind for an entity's kind. An email address is an online
/// account (the model has no kind of its own for it, and FollowTheMoney
/// exports it as a user account).
pub fn entity_kind(kind: ValueKind) -> EntityKind {
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
pub fn relation_between(first: ValueKind, second: ValueKind) -> (RelationKind, bool) {
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
pub fn day_of(unix_ms: i64) -> Option<SeenDate> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000).ok().map(|moment| moment.date())
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
pub fn link_confidence(record: MentionRecord, first: f64, second: f64) -> f64 {
    ((record_confidence(record) * first * second).clamp(0.0, 1.0) * 1000.0).round() / 1000.0
}

/// The entities' network: a node per entity, a link per pair of entities
/// per record that names both, and each record's source (its organisation).
pub fn network_from_rows(rows: &EntityNetworkRows) -> Result<NetworkGraph, StoreError> {
    let mut network = NetworkGraph::new();
    let mut node_of = HashMap::with_capacity(rows.entities.len());
    for entity in &rows.entities {
        let position = network
            .add_entity(GraphEntity { id: node_id(entity.kind, &entity.value), kind: entity_kind(entity.kind), label: entity.label.clone(), role: None })
            .map_err(|error| StoreError::Corrupt(format!("the entities' network: {error}")))?;
        node_of.insert(&entity.id, (position, entity.kind));
    }
    let records: HashMap<(MentionRecord, &str), &NetworkRecord> = rows.records.iter().map(|record| ((record.record, record.id.as_str()), record)).collect();
    let mut by_record: HashMap<(MentionRecord, &str), Vec<&NetworkMention>> = HashMap::with_capacity(rows.records.len());
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
            let (position, kind) =
                node_of.get(&mention.entity_id).ok_or_else(|| StoreError::Corrupt(format!("record {} names an entity that was not read", record.reference)))?;
            named.push((*position, *kind, mention));
        }
        named.sort_by_key(|(position, _, _)| *position);
        for (index, &(first, first_kind, first_mention)) in named.iter().enumerate() {
            for &(second, second_kind, second_mention) in &named[index + 1..] {
                let (kind, reversed) = relation_between(first_kind, second_kind);
                let (source, target) = if reversed { (second, first) } else { (first, second) };
                // Learnt when the record named the later of the two.
                let day = day_of(first_mention.first_seen_at_ms.max(second_mention.first_seen_at_ms))
                    .ok_or_else(|| StoreError::Corrupt(format!("record {}: a mention's time is out of range", record.reference)))?;
                network
                    .add_relation(Relation {
                        source,
                        target,
                        kind,
                        first_seen: Some(day),
                        last_seen: Some(day),
                        source_reference: record.reference.clone(),
                        confidence: link_confidence(record.record, first_mention.confidence, second_mention.confidence),
                    })
                    .map_err(|error| StoreError::Corrupt(format!("the entities' network: {error}")))?;
            }
        }
    }
    if let Some(orphan) = rows.mentions.iter().find(|mention| !records.contains_key(&(mention.record, mention.record_id.as_str()))) {
        return Err(StoreError::Corrupt(format!("a mention names a {} record that was not read", orphan.record.as_str())));
    }
    Ok(network)
}

#[cfg(test)]
mod tests {
    use crate::entities::Entity as StoredEntity;
    use aidant_core::ids::{EntityId, OrganisationId};
    use aidant_graph::parse_seen_date;

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
        assert!(network_from_rows(&unread_record).unwrap_err().to_string().ends_with("a mention names a report record that was not read"));
        rows.0.entities.clear();
        assert!(network_from_rows(&rows.0).unwrap_err().to_string().ends_with("record AAA111 names an entity that was not read"));
    }
}
