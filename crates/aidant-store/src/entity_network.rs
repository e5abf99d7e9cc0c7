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

use std::collections::BTreeSet;

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{EntityId, OrganisationId};
use sqlx::{AnyConnection, Row};

use crate::audit::AuditEvent;
use crate::entities::{Entity, MentionRecord, load_entities};
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
        let mut transaction = match self.backend {
            // One snapshot for every statement; SQLite's read transaction is one already.
            Backend::Postgres => self.pool.begin_with("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?,
            Backend::Sqlite => self.pool.begin().await?,
        };
        let rows = read_network(self, &mut transaction).await;
        transaction.rollback().await?;
        let rows = rows?;
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

async fn read_network(store: &Store, connection: &mut AnyConnection) -> Result<EntityNetworkRows, StoreError> {
    let mention_rows = sqlx::query(
        "SELECT entity_id, record_kind, record_id, MIN(seen_at) AS first_seen_at, MAX(confidence) AS confidence FROM entity_mentions
         GROUP BY entity_id, record_kind, record_id ORDER BY record_kind, record_id, entity_id",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut mentions = Vec::with_capacity(mention_rows.len());
    for row in &mention_rows {
        mentions.push(NetworkMention {
            entity_id: crate::named(row, "entity_id")?,
            record: mention_record(&row.try_get::<String, _>("record_kind")?)?,
            record_id: row.try_get("record_id")?,
            first_seen_at_ms: row.try_get("first_seen_at")?,
            confidence: row.try_get("confidence")?,
        });
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
        (
            MentionRecord::Report,
            "SELECT id, reference, received_at AS at_ms, owning_organisation_id AS organisation_id FROM reports
             WHERE id IN (SELECT record_id FROM entity_mentions WHERE record_kind = 'report')",
        ),
        (
            MentionRecord::Intelligence,
            "SELECT id, reference, created_at AS at_ms, owner_organisation_id AS organisation_id FROM intelligence
             WHERE id IN (SELECT record_id FROM entity_mentions WHERE record_kind = 'intelligence')",
        ),
    ] {
        for row in sqlx::query(statement).fetch_all(&mut *connection).await? {
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
