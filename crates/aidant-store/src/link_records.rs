//! The server's incremental entity resolver kept as rows, so that adding a
//! record writes only its own rows and several processes can link at once.
//!
//! Each resolved record is a row in `link_records` with its features sealed
//! (bound to the record id); its blocking keys are rows in `link_keys` under a
//! keyed hash (a blind index), so a new record's candidates are one indexed
//! lookup and the index names nobody. The statistics the scorer needs (term
//! frequencies, how often a name is a given or a family name, records per
//! key) are counts under keyed hashes that an addition increments. Entities,
//! links between records and the events that changed entities are rows too.
//!
//! The decision is `aidant_link::incremental::decide_addition`, the same
//! function the in-memory `IncrementalLinker` calls; this module only fetches
//! its inputs and writes its result. The blind index's key is random and
//! sealed with the master key in the resolver row, rather than derived from
//! the master key, so that rotating the master key rewraps it and changes no
//! hash.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aidant_link::batch::BatchResult;
use aidant_link::blocking::{ALL_RULES, STABLE_KEY_VERSION, stable_keys};
use aidant_link::cluster::ClusterConfig;
use aidant_link::compare::{ALL_FIELDS, FIELD_COUNT, Field};
use aidant_link::features::{
    ABSENT, Interner, NameRoleCounts, PortableFeatures, RecordFeatures, RoleCount, name_role_values, record_features, repair_name_order_with,
};
use aidant_link::incremental::{AddOutcome, Candidate, DecisionInputs, EntityEvent, EntityId, decide_addition, searches_block};
use aidant_link::model::{Model, Scorer, TermFrequencies, term_fraction, term_value, weight_of_probability};
use aidant_link::record::PersonRecord;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use sqlx::{Any, Row, Transaction};

use crate::audit::{AuditEvent, append};
use crate::{Store, StoreError, bind_list, new_id, now_ms};

/// The one resolver: people. The column is text so that key rotation, which
/// walks sealed columns by a text key, covers the index key.
const PEOPLE: &str = "people";

/// Why linking through the store failed. Messages name record ids, never a
/// person's details.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("people are not being linked yet: load a batch run or start an empty resolver first")]
    NotStarted,
    #[error("people are already being linked in this database")]
    AlreadyStarted,
    #[error("record id {0:?} is already linked")]
    DuplicateRecordId(String),
    #[error("the stored link index was built with key version {found}; this build computes version {expected}, so the index must be rebuilt")]
    KeyVersion { found: i64, expected: u32 },
    #[error("a stored link row could not be read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for LinkError {
    fn from(error: sqlx::Error) -> Self {
        LinkError::Store(StoreError::Database(error))
    }
}

impl From<crate::crypto::CryptoError> for LinkError {
    fn from(error: crate::crypto::CryptoError) -> Self {
        LinkError::Store(StoreError::Crypto(error))
    }
}

/// What the resolver row holds that does not change between additions,
/// opened and parsed once per process (and again when its generation
/// changes).
#[derive(Debug)]
pub(crate) struct LinkContext {
    generation: String,
    /// The model; term frequencies come from the count rows per addition.
    pub(crate) scorer: Scorer,
    link_weight: f64,
    max_block_size: usize,
    blind_index: BlindIndex,
}

/// The parsed resolver row, shared by every clone of a `Store`.
#[derive(Debug, Clone, Default)]
pub(crate) struct LinkCache(Arc<Mutex<Option<Arc<LinkContext>>>>);

impl LinkCache {
    fn get(&self, generation: &str) -> Option<Arc<LinkContext>> {
        let cached = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cached.as_ref().filter(|context| context.generation == generation).cloned()
    }

    fn put(&self, context: Arc<LinkContext>) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(context);
    }
}

/// Keyed hashes of blocking keys, term values and names: HMAC-SHA256 under
/// the resolver's index key, the first 8 bytes as an integer. Each kind of
/// value has its own prefix, so equal bytes of two kinds never share a hash.
#[derive(Clone)]
pub(crate) struct BlindIndex {
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("BlindIndex([redacted])")
    }
}

impl BlindIndex {
    pub(crate) fn new(key: &[u8]) -> Result<Self, LinkError> {
        let keyed = Hmac::<Sha256>::new_from_slice(key).map_err(|_| LinkError::Corrupt("the blind index key has no usable length".to_owned()))?;
        Ok(BlindIndex { keyed })
    }

    pub(crate) fn hash(&self, parts: &[&[u8]]) -> i64 {
        let mut mac = self.keyed.clone();
        for part in parts {
            mac.update(part);
        }
        let digest = mac.finalize().into_bytes();
        i64::from_be_bytes(digest[..8].try_into().expect("SHA-256 gives 32 bytes"))
    }

    fn blocking_key(&self, key: &[u8]) -> i64 {
        self.hash(&[b"key\0", key])
    }

    fn term(&self, field: Field, value: &str) -> i64 {
        self.hash(&[b"term\0", field.name().as_bytes(), b"\0", value.as_bytes()])
    }

    fn name(&self, folded: &str) -> i64 {
        self.hash(&[b"name\0", folded.as_bytes()])
    }

    /// The count of records that have `field` at all (term frequencies' totals).
    fn field_total(&self, field: Field) -> i64 {
        self.hash(&[b"total\0", field.name().as_bytes()])
    }
}

/// The associated data of a record's sealed features.
pub(crate) fn features_binding(record_id: &str) -> String {
    format!("link_record:{record_id}:features")
}

fn index_key_binding(resolver: &str) -> String {
    format!("link_resolver:{resolver}:index_key")
}

/// `($1, $2), ($3, $4), ...`: the VALUES of a multi-row insert of `rows` rows
/// of `columns` parameters each.
pub(crate) fn values_list(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let parameters: Vec<String> = (1..=columns).map(|column| format!("${}", row * columns + column)).collect();
            format!("({})", parameters.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn entity_of_row(value: i64) -> Result<EntityId, LinkError> {
    u64::try_from(value).map(EntityId).map_err(|_| LinkError::Corrupt("an entity id is negative".to_owned()))
}

fn entity_number(entity: EntityId) -> Result<i64, LinkError> {
    i64::try_from(entity.0).map_err(|_| LinkError::Corrupt("an entity id does not fit a database integer".to_owned()))
}

/// An event as the columns of `link_events`.
struct EventRow<'a> {
    kind: &'static str,
    entity: EntityId,
    record_id: Option<&'a str>,
    match_probability: Option<f64>,
    other_entities: Option<String>,
    reason: Option<&'a str>,
}

fn entity_list(entities: &[EntityId]) -> String {
    entities.iter().map(|entity| entity.0.to_string()).collect::<Vec<_>>().join(",")
}

fn parse_entity_list(text: &str) -> Result<Vec<EntityId>, LinkError> {
    text.split(',').map(|id| id.parse().map(EntityId).map_err(|_| LinkError::Corrupt("an event's entity list".to_owned()))).collect()
}

impl<'a> EventRow<'a> {
    fn new(event: &'a EntityEvent) -> Self {
        let row = |kind, entity, record_id: Option<&'a String>| EventRow {
            kind,
            entity,
            record_id: record_id.map(String::as_str),
            match_probability: None,
            other_entities: None,
            reason: None,
        };
        match event {
            EntityEvent::Created { entity, record_id } => row("created", *entity, Some(record_id)),
            EntityEvent::Attached { entity, record_id, match_probability } => {
                EventRow { match_probability: Some(*match_probability), ..row("attached", *entity, Some(record_id)) }
            }
            EntityEvent::Merged { surviving, absorbed, record_id, reason } => {
                EventRow { other_entities: Some(entity_list(absorbed)), reason: Some(reason), ..row("merged", *surviving, Some(record_id)) }
            }
            EntityEvent::Split { original, created, reason } => {
                EventRow { other_entities: Some(entity_list(created)), reason: Some(reason), ..row("split", *original, None) }
            }
        }
    }
}

/// An event from its `link_events` row.
fn event_of_row(row: &sqlx::any::AnyRow) -> Result<EntityEvent, LinkError> {
    let kind: String = row.try_get("kind")?;
    let entity = entity_of_row(row.try_get("entity_id")?)?;
    let record_id: Option<String> = row.try_get("record_id")?;
    let match_probability: Option<f64> = row.try_get("match_probability")?;
    let other_entities: Option<String> = row.try_get("other_entities")?;
    let reason: Option<String> = row.try_get("reason")?;
    let missing = |column: &str| LinkError::Corrupt(format!("a {kind} event without its {column}"));
    Ok(match kind.as_str() {
        "created" => EntityEvent::Created { entity, record_id: record_id.ok_or_else(|| missing("record"))? },
        "attached" => EntityEvent::Attached {
            entity,
            record_id: record_id.ok_or_else(|| missing("record"))?,
            match_probability: match_probability.ok_or_else(|| missing("probability"))?,
        },
        "merged" => EntityEvent::Merged {
            surviving: entity,
            absorbed: parse_entity_list(&other_entities.ok_or_else(|| missing("entities"))?)?,
            record_id: record_id.ok_or_else(|| missing("record"))?,
            reason: reason.ok_or_else(|| missing("reason"))?,
        },
        "split" => EntityEvent::Split {
            original: entity,
            created: parse_entity_list(&other_entities.ok_or_else(|| missing("entities"))?)?,
            reason: reason.ok_or_else(|| missing("reason"))?,
        },
        other => return Err(LinkError::Corrupt(format!("an event of unknown kind {other:?}"))),
    })
}

/// What linking one person did, in the store's entity numbers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LinkedPerson {
    /// The entity the person is now in.
    pub entity: i64,
    /// Entities that became part of `entity` (a merge).
    pub absorbed: Vec<i64>,
    pub outcome: AddOutcome,
}

/// What a bulk load wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkLoadSummary {
    pub records: u64,
    pub entities: u64,
    pub keys: u64,
    pub links: u64,
}

/// Parameters per multi-row insert in a bulk load. SQLite looks each `$N`
/// up among the statement's parameter names one by one, so preparing a
/// statement costs the square of its parameters: 30,000 took seconds, 2,000
/// takes milliseconds (and full chunks reuse one prepared statement).
const LOAD_PARAMETERS_PER_INSERT: usize = 2_000;
/// Rows per transaction in a bulk load (a quarter of this for records, which
/// carry their sealed features).
const LOAD_ROWS_PER_TRANSACTION: usize = 200_000;

impl Store {
    /// Starts linking people with no one resolved yet: `model` scores,
    /// `clustering.threshold_probability` decides a link, and blocks of more
    /// than `max_block_size` records are not searched.
    pub async fn start_linking_people(&self, model: &Model, clustering: &ClusterConfig, max_block_size: usize, actor: &AuditActor) -> Result<(), LinkError> {
        self.create_resolver(model, clustering, max_block_size, 0, 1, true).await?;
        let mut transaction = self.pool.begin().await?;
        append(&mut transaction, &AuditEvent::new(actor, AuditAction::LinkPeopleStart, AuditRecordKind::LinkResolver, PEOPLE)).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Writes the resolver row; fails if one exists.
    async fn create_resolver(
        &self,
        model: &Model,
        clustering: &ClusterConfig,
        max_block_size: usize,
        record_count: i64,
        next_entity: i64,
        ready: bool,
    ) -> Result<(), LinkError> {
        let keyring = self.keyring()?;
        let mut index_key = [0u8; 32];
        rand::rng().fill_bytes(&mut index_key);
        let now = now_ms();
        let result = sqlx::query(
            "INSERT INTO link_resolver (id, model_json, key_version, max_block_size, link_weight, index_key_sealed, generation, ready,
                                        record_count, next_record_number, next_entity, next_event, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(PEOPLE)
        .bind(model.to_json())
        .bind(i64::from(STABLE_KEY_VERSION))
        .bind(max_block_size as i64)
        .bind(weight_of_probability(clustering.threshold_probability))
        .bind(keyring.seal(&index_key, &index_key_binding(PEOPLE)))
        .bind(new_id())
        .bind(i64::from(ready))
        .bind(record_count)
        .bind(record_count + 1)
        .bind(next_entity)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(LinkError::AlreadyStarted);
        }
        Ok(())
    }

    /// The resolver's unchanging parts for `generation`, from the cache or
    /// read (inside the caller's transaction) and cached.
    pub(crate) async fn link_context(&self, transaction: &mut Transaction<'_, Any>, generation: &str) -> Result<Arc<LinkContext>, LinkError> {
        if let Some(context) = self.link_cache.get(generation) {
            return Ok(context);
        }
        let row = sqlx::query("SELECT model_json, key_version, max_block_size, link_weight, index_key_sealed FROM link_resolver WHERE id = $1")
            .bind(PEOPLE)
            .fetch_one(&mut **transaction)
            .await?;
        let key_version: i64 = row.try_get("key_version")?;
        if key_version != i64::from(STABLE_KEY_VERSION) {
            return Err(LinkError::KeyVersion { found: key_version, expected: STABLE_KEY_VERSION });
        }
        let model_json: String = row.try_get("model_json")?;
        let model = Model::from_json(&model_json).map_err(|error| LinkError::Corrupt(format!("the stored model: {error}")))?;
        let max_block_size: i64 = row.try_get("max_block_size")?;
        let sealed: Vec<u8> = row.try_get("index_key_sealed")?;
        let index_key = self.keyring()?.open(&sealed, &index_key_binding(PEOPLE))?;
        let context = Arc::new(LinkContext {
            generation: generation.to_owned(),
            scorer: Scorer::new(model, TermFrequencies::new()),
            link_weight: row.try_get("link_weight")?,
            max_block_size: usize::try_from(max_block_size).map_err(|_| LinkError::Corrupt("a negative block size".to_owned()))?,
            blind_index: BlindIndex::new(&index_key)?,
        });
        self.link_cache.put(context.clone());
        Ok(context)
    }

    /// Links one person: in one transaction, finds the records sharing a
    /// blocking key with them, decides with `decide_addition` whether they
    /// are someone already known (attach), several people known apart who
    /// turn out to be one (merge), or someone new (create), and writes the
    /// record, its keys, links, counts, entity changes, the event and an
    /// audit entry.
    ///
    /// Concurrency: the first statement updates the resolver row, and every
    /// addition does, so additions take their turn on that row's lock (a row
    /// lock on PostgreSQL, the write lock on SQLite) and each sees everything
    /// committed before it. Locking less (only the candidates' entities, say)
    /// would let two records that match each other, arriving together, each
    /// miss the other and create two entities for one person; and every
    /// addition changes the per-field totals and the next entity id anyway,
    /// so those rows would serialise additions all the same, only later in
    /// the transaction and in an order that could deadlock. One addition
    /// takes a few milliseconds, so this allows hundreds a second.
    pub async fn link_person(&self, record: &PersonRecord, actor: &AuditActor) -> Result<AddOutcome, LinkError> {
        let mut transaction = self.pool.begin().await?;
        let linked = self.link_person_in(&mut transaction, record, actor).await?;
        transaction.commit().await?;
        Ok(linked.outcome)
    }

    /// `link_person` inside the caller's transaction (the entity worker's,
    /// so a record's people are linked with its other entities or not at
    /// all). Analysts' decisions in force are honoured: a record taken out
    /// of a person is no candidate, and people decided apart are not merged
    /// (`aidant_link::decisions::restrict_merge`).
    pub(crate) async fn link_person_in(
        &self,
        transaction: &mut Transaction<'_, Any>,
        record: &PersonRecord,
        actor: &AuditActor,
    ) -> Result<LinkedPerson, LinkError> {
        let keyring = self.keyring()?;
        let now = now_ms();
        let resolver = sqlx::query(
            "UPDATE link_resolver SET next_record_number = next_record_number + 1, record_count = record_count + 1,
                                      next_event = next_event + 1, updated_at = $2
             WHERE id = $1 AND ready = 1
             RETURNING generation, next_record_number, next_entity, next_event, decisions",
        )
        .bind(PEOPLE)
        .bind(now)
        .fetch_optional(&mut **transaction)
        .await?
        .ok_or(LinkError::NotStarted)?;
        let decisions_in_force: i64 = resolver.try_get("decisions")?;
        let generation: String = resolver.try_get("generation")?;
        let record_number: i64 = resolver.try_get::<i64, _>("next_record_number")? - 1;
        let next_entity = entity_of_row(resolver.try_get("next_entity")?)?;
        // An addition has exactly one event (`decide_addition`), claimed here.
        let event_sequence: i64 = resolver.try_get::<i64, _>("next_event")? - 1;
        let context = self.link_context(transaction, &generation).await?;
        let blind_index = &context.blind_index;

        let mut interner = Interner::default();
        let mut features = record_features(&mut interner, record);
        let role_counts = add_name_roles(transaction, blind_index, &interner, &features).await?;
        repair_name_order_with(&mut features, |folded| role_counts.get(&blind_index.name(interner.resolve(folded))).copied().unwrap_or_default());
        let mut key_hashes: Vec<i64> = stable_keys(&ALL_RULES, &features, &interner).iter().map(|key| blind_index.blocking_key(key)).collect();
        key_hashes.sort_unstable();
        key_hashes.dedup();
        let counted = add_counts(transaction, &context, &interner, &features, &key_hashes).await?;
        let candidate_rows = candidates(transaction, &counted.searched_keys).await?;
        let mut candidate_features = Vec::with_capacity(candidate_rows.len());
        for candidate in &candidate_rows {
            let opened = keyring.open(&candidate.features_sealed, &features_binding(&candidate.record_id))?;
            let portable = PortableFeatures::from_bytes(&opened).map_err(|error| LinkError::Corrupt(error.to_string()))?;
            candidate_features.push(portable.intern(&mut interner));
        }
        let views: Vec<Candidate<'_>> = candidate_rows
            .iter()
            .zip(&candidate_features)
            .map(|(row, features)| Candidate { record_id: &row.record_id, features, entity: row.entity })
            .collect();
        let inputs = DecisionInputs {
            scorer: &context.scorer,
            term_fractions: &counted.term_fractions,
            link_weight: context.link_weight,
            interner: &interner,
            next_entity,
        };
        let decision = if decisions_in_force > 0 {
            let alone = crate::people::taken_out(transaction, views.iter().map(|view| view.record_id)).await?;
            let allowed: Vec<usize> = (0..views.len()).filter(|position| !alone.contains(views[*position].record_id)).collect();
            let allowed_views: Vec<Candidate<'_>> = allowed.iter().map(|position| views[*position]).collect();
            let mut decision = decide_addition(&inputs, &record.record_id, &features, &allowed_views);
            for link in &mut decision.links {
                link.0 = allowed[link.0];
            }
            let entity_of_link: Vec<aidant_link::incremental::EntityId> = decision.links.iter().map(|(position, _)| views[*position].entity).collect();
            if decision.absorbed.is_empty() {
                decision
            } else {
                let apart = crate::people::apart_entities(transaction, &entity_of_link).await?;
                aidant_link::decisions::restrict_merge(decision, &entity_of_link, &apart)
            }
        } else {
            decide_addition(&inputs, &record.record_id, &features, &views)
        };
        let entity = entity_number(decision.outcome.entity)?;

        let sealed = keyring.seal(&PortableFeatures::new(&features, &interner).to_bytes(), &features_binding(&record.record_id));
        let inserted = sqlx::query("INSERT INTO link_records (record_number, record_id, entity_id, features_sealed, added_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(record_number)
            .bind(&record.record_id)
            .bind(entity)
            .bind(sealed)
            .bind(now)
            .execute(&mut **transaction)
            .await;
        match inserted {
            Err(error) if crate::reports::is_unique_violation(&error) => return Err(LinkError::DuplicateRecordId(record.record_id.clone())),
            other => other?,
        };
        if !key_hashes.is_empty() {
            let statement = format!("INSERT INTO link_keys (key_hash, record_number) VALUES {}", values_list(key_hashes.len(), 2));
            let mut query = sqlx::query(&statement);
            for key_hash in &key_hashes {
                query = query.bind(*key_hash).bind(record_number);
            }
            query.execute(&mut **transaction).await?;
        }
        if !decision.links.is_empty() {
            let statement = format!("INSERT INTO link_pairs (record_number, other_record_number, weight) VALUES {}", values_list(decision.links.len(), 3));
            let mut query = sqlx::query(&statement);
            for (position, weight) in &decision.links {
                query = query.bind(record_number).bind(candidate_rows[*position].record_number).bind(f64::from(*weight));
            }
            query.execute(&mut **transaction).await?;
        }
        if decision.created {
            sqlx::query("INSERT INTO link_entities (entity_id, absorbed_into, created_at) VALUES ($1, NULL, $2)")
                .bind(entity)
                .bind(now)
                .execute(&mut **transaction)
                .await?;
            sqlx::query("UPDATE link_resolver SET next_entity = next_entity + 1 WHERE id = $1").bind(PEOPLE).execute(&mut **transaction).await?;
        }
        if !decision.absorbed.is_empty() {
            let absorbed: Vec<i64> = decision.absorbed.iter().map(|entity| entity_number(*entity)).collect::<Result<_, _>>()?;
            for table_update in [
                format!("UPDATE link_records SET entity_id = $1 WHERE entity_id IN ({})", bind_list_from(2, absorbed.len())),
                format!("UPDATE link_entities SET absorbed_into = $1 WHERE entity_id IN ({})", bind_list_from(2, absorbed.len())),
            ] {
                let mut query = sqlx::query(&table_update).bind(entity);
                for absorbed in &absorbed {
                    query = query.bind(*absorbed);
                }
                query.execute(&mut **transaction).await?;
            }
        }
        let [event] = decision.outcome.events.as_slice() else {
            return Err(LinkError::Corrupt("an addition decided other than one event".to_owned()));
        };
        let event = EventRow::new(event);
        // A probability is written as a literal NULL when absent: sqlx 0.8.6's
        // `Any` sends a missing f64 to PostgreSQL as a missing f32, and the
        // statement, prepared once, would then refuse the next f64.
        let probability = if event.match_probability.is_some() { "$8" } else { "NULL" };
        let statement = format!(
            "INSERT INTO link_events (sequence, kind, entity_id, record_id, other_entities, reason, occurred_at, match_probability)
             VALUES ($1, $2, $3, $4, $5, $6, $7, {probability})"
        );
        let mut query = sqlx::query(&statement)
            .bind(event_sequence)
            .bind(event.kind)
            .bind(entity_number(event.entity)?)
            .bind(event.record_id)
            .bind(event.other_entities)
            .bind(event.reason)
            .bind(now);
        if let Some(match_probability) = event.match_probability {
            query = query.bind(match_probability);
        }
        query.execute(&mut **transaction).await?;
        append(transaction, &AuditEvent::new(actor, AuditAction::LinkPeopleAdd, AuditRecordKind::LinkRecord, &record.record_id)).await?;
        let absorbed = decision.absorbed.iter().map(|entity| entity_number(*entity)).collect::<Result<_, _>>()?;
        Ok(LinkedPerson { entity, absorbed, outcome: decision.outcome })
    }

    /// Starts linking people from a batch run of `records` (`batch` is
    /// `aidant_link::batch::link_batch` of exactly these records): cluster
    /// `c` becomes entity `c + 1` and its links at or above the threshold the
    /// entity's links, as `IncrementalLinker::from_batch` does. Writes in
    /// multi-row inserts, many transactions, each table's rows in key order;
    /// additions wait until the last transaction marks the resolver ready.
    pub async fn load_linked_people(
        &self,
        records: &[PersonRecord],
        batch: &BatchResult,
        clustering: &ClusterConfig,
        max_block_size: usize,
        actor: &AuditActor,
    ) -> Result<LinkLoadSummary, LinkError> {
        if records.len() != batch.features.len() {
            return Err(LinkError::Corrupt("the batch run is not of these records".to_owned()));
        }
        let keyring = self.keyring()?;
        let cluster_count = i64::from(batch.clustering.cluster_count);
        self.create_resolver(&batch.scorer.model, clustering, max_block_size, records.len() as i64, cluster_count + 1, false).await?;
        let mut transaction = self.pool.begin().await?;
        let generation: String = sqlx::query_scalar("SELECT generation FROM link_resolver WHERE id = $1").bind(PEOPLE).fetch_one(&mut *transaction).await?;
        let context = self.link_context(&mut transaction, &generation).await?;
        transaction.commit().await?;
        let blind_index = &context.blind_index;
        let now = now_ms();
        let mut summary = LinkLoadSummary { records: records.len() as u64, entities: cluster_count as u64, ..LinkLoadSummary::default() };

        // Records, sealed, and their keys.
        let mut key_rows: Vec<(i64, i64)> = Vec::new();
        let mut transaction = self.pool.begin().await?;
        let mut rows_in_transaction = 0;
        let records_per_insert = LOAD_PARAMETERS_PER_INSERT / 5;
        for (chunk_index, chunk) in records.chunks(records_per_insert).enumerate() {
            let first = chunk_index * records_per_insert;
            let statement =
                format!("INSERT INTO link_records (record_number, record_id, entity_id, features_sealed, added_at) VALUES {}", values_list(chunk.len(), 5));
            let mut query = sqlx::query(&statement);
            for (offset, record) in chunk.iter().enumerate() {
                let index = first + offset;
                let features = &batch.features[index];
                let record_number = index as i64 + 1;
                for key in stable_keys(&ALL_RULES, features, &batch.interner) {
                    key_rows.push((blind_index.blocking_key(&key), record_number));
                }
                let sealed = keyring.seal(&PortableFeatures::new(features, &batch.interner).to_bytes(), &features_binding(&record.record_id));
                query = query.bind(record_number).bind(record.record_id.clone()).bind(i64::from(batch.clustering.cluster_of[index]) + 1).bind(sealed).bind(now);
            }
            query.execute(&mut *transaction).await?;
            rows_in_transaction += chunk.len();
            if rows_in_transaction >= LOAD_ROWS_PER_TRANSACTION / 4 {
                transaction.commit().await?;
                transaction = self.pool.begin().await?;
                rows_in_transaction = 0;
            }
        }
        transaction.commit().await?;
        key_rows.sort_unstable();
        key_rows.dedup();
        summary.keys = key_rows.len() as u64;
        self.load_rows(&key_rows, "link_keys (key_hash, record_number)", |query, (key_hash, record_number)| query.bind(*key_hash).bind(*record_number)).await?;
        // Records per key, then per term value and per field, by keyed hash.
        let mut counts: HashMap<i64, i64> = HashMap::with_capacity(key_rows.len() / 2);
        for (key_hash, _) in &key_rows {
            *counts.entry(*key_hash).or_default() += 1;
        }
        drop(key_rows);
        for (field, (total, values)) in ALL_FIELDS.iter().zip(batch.scorer.term_frequencies.to_sorted()) {
            if total > 0 {
                *counts.entry(blind_index.field_total(*field)).or_default() += total as i64;
            }
            for (value, count) in values {
                *counts.entry(blind_index.term(*field, batch.interner.resolve(value))).or_default() += i64::from(count);
            }
        }
        let mut counts: Vec<(i64, i64)> = counts.into_iter().collect();
        counts.sort_unstable();
        self.load_rows(&counts, "link_counts (count_hash, record_count)", |query, (count_hash, count)| query.bind(*count_hash).bind(*count)).await?;
        drop(counts);

        // Entities and their links.
        let entities: Vec<i64> = (1..=cluster_count).collect();
        self.load_rows(&entities, "link_entities (entity_id, absorbed_into, created_at)", |query, entity| query.bind(*entity).bind(None::<i64>).bind(now))
            .await?;
        let link_weight = context.link_weight as f32;
        let mut pairs: Vec<(i64, i64, f64)> = batch
            .scored_pairs
            .iter()
            .filter(|(left, right, weight)| {
                *weight >= link_weight && batch.clustering.cluster_of[*left as usize] == batch.clustering.cluster_of[*right as usize]
            })
            .map(|(left, right, weight)| (i64::from(*left.max(right)) + 1, i64::from(*left.min(right)) + 1, f64::from(*weight)))
            .collect();
        pairs.sort_unstable_by_key(|(record, other, _)| (*record, *other));
        summary.links = pairs.len() as u64;
        self.load_rows(&pairs, "link_pairs (record_number, other_record_number, weight)", |query, (record, other, weight)| {
            query.bind(*record).bind(*other).bind(*weight)
        })
        .await?;

        // How often each name is a given and a family name, by keyed hash.
        let mut name_roles: HashMap<i64, (i64, i64)> = HashMap::new();
        for (folded, counts) in NameRoleCounts::from_records(&batch.features).entries() {
            let entry = name_roles.entry(blind_index.name(batch.interner.resolve(folded))).or_default();
            entry.0 += i64::from(counts.as_given);
            entry.1 += i64::from(counts.as_family);
        }
        let mut name_roles: Vec<(i64, (i64, i64))> = name_roles.into_iter().collect();
        name_roles.sort_unstable();
        self.load_rows(&name_roles, "link_name_roles (name_hash, as_given, as_family)", |query, (name_hash, (as_given, as_family))| {
            query.bind(*name_hash).bind(*as_given).bind(*as_family)
        })
        .await?;

        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE link_resolver SET ready = 1, updated_at = $2 WHERE id = $1").bind(PEOPLE).bind(now_ms()).execute(&mut *transaction).await?;
        let reason = format!("{} records, {} entities", summary.records, summary.entities);
        append(&mut transaction, &AuditEvent::new(actor, AuditAction::LinkPeopleLoad, AuditRecordKind::LinkResolver, PEOPLE).because(&reason)).await?;
        transaction.commit().await?;
        // Fresh statistics, so PostgreSQL plans the first additions with the
        // key index rather than for the empty tables it last saw (SQLite
        // plans these lookups by primary key without statistics).
        if self.backend == crate::Backend::Postgres {
            sqlx::query("ANALYZE link_records, link_keys, link_counts, link_entities, link_pairs, link_name_roles").execute(&self.pool).await?;
        }
        Ok(summary)
    }

    /// Inserts `rows` into `table (columns)` with multi-row inserts, many
    /// rows per transaction; `bind` binds one row's values in column order.
    async fn load_rows<T>(
        &self,
        rows: &[T],
        table_and_columns: &str,
        bind: impl for<'q> Fn(sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>, &'q T) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<(), LinkError> {
        let columns = table_and_columns.matches(',').count() + 1;
        let rows_per_insert = LOAD_PARAMETERS_PER_INSERT / columns;
        for transaction_rows in rows.chunks(LOAD_ROWS_PER_TRANSACTION) {
            let mut transaction = self.pool.begin().await?;
            for chunk in transaction_rows.chunks(rows_per_insert) {
                let statement = format!("INSERT INTO {table_and_columns} VALUES {}", values_list(chunk.len(), columns));
                let mut query = sqlx::query(&statement);
                for row in chunk {
                    query = bind(query, row);
                }
                query.execute(&mut *transaction).await?;
            }
            transaction.commit().await?;
        }
        Ok(())
    }

    /// The entity a linked record belongs to.
    pub async fn linked_entity_of(&self, record_id: &str) -> Result<Option<EntityId>, LinkError> {
        let entity: Option<i64> =
            sqlx::query_scalar("SELECT entity_id FROM link_records WHERE record_id = $1").bind(record_id).fetch_optional(&self.pool).await?;
        entity.map(entity_of_row).transpose()
    }

    /// The record ids of an entity, in the order they were linked.
    pub async fn linked_entity_members(&self, entity: EntityId) -> Result<Vec<String>, LinkError> {
        Ok(sqlx::query_scalar("SELECT record_id FROM link_records WHERE entity_id = $1 ORDER BY record_number")
            .bind(entity_number(entity)?)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Up to `limit` entity events after sequence number `after`, in order,
    /// with their sequence numbers.
    pub async fn link_events(&self, after: i64, limit: i64) -> Result<Vec<(i64, EntityEvent)>, LinkError> {
        let rows = sqlx::query(
            "SELECT sequence, kind, entity_id, record_id, match_probability, other_entities, reason FROM link_events
             WHERE sequence > $1 ORDER BY sequence LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("sequence")?, event_of_row(row)?))).collect()
    }

    /// How many records are linked, or `None` before linking starts.
    pub async fn linked_record_count(&self) -> Result<Option<i64>, LinkError> {
        Ok(sqlx::query_scalar("SELECT record_count FROM link_resolver WHERE id = $1").bind(PEOPLE).fetch_optional(&self.pool).await?)
    }

    /// The space the resolver's state takes, in bytes, per table (its
    /// indexes included), largest first: what an operator sizes a disk by.
    pub async fn link_state_bytes(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = match self.backend {
            // dbstat counts the pages of each table and index.
            crate::Backend::Sqlite => {
                "SELECT m.tbl_name, CAST(SUM(d.pgsize) AS BIGINT) FROM dbstat d JOIN sqlite_master m ON m.name = d.name \
                 WHERE m.tbl_name IN (SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'link\\_%' ESCAPE '\\') \
                 GROUP BY m.tbl_name"
            }
            crate::Backend::Postgres => {
                "SELECT c.relname::text, pg_total_relation_size(c.oid)::bigint FROM pg_class c \
                 WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE 'link\\_%' ESCAPE '\\'"
            }
        };
        let mut sizes: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        sizes.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        Ok(sizes)
    }
}

/// `$first, $first + 1, ...`: `count` placeholders starting at `first`.
pub(crate) fn bind_list_from(first: usize, count: usize) -> String {
    (first..first + count).map(|position| format!("${position}")).collect::<Vec<_>>().join(", ")
}

/// Counts the new record's given name as a given name and its family name as
/// a family name; returns the counts (including this record) by name hash.
async fn add_name_roles(
    transaction: &mut Transaction<'_, Any>,
    blind_index: &BlindIndex,
    interner: &Interner,
    features: &RecordFeatures,
) -> Result<HashMap<i64, RoleCount>, LinkError> {
    let (given, family) = name_role_values(features);
    let mut increments: Vec<(i64, i64, i64)> = Vec::with_capacity(2);
    for (folded, as_given, as_family) in [(given, 1, 0), (family, 0, 1)] {
        let Some(folded) = folded else { continue };
        let name_hash = blind_index.name(interner.resolve(folded));
        match increments.iter_mut().find(|(hash, _, _)| *hash == name_hash) {
            Some(increment) => {
                increment.1 += as_given;
                increment.2 += as_family;
            }
            None => increments.push((name_hash, as_given, as_family)),
        }
    }
    if increments.is_empty() {
        return Ok(HashMap::new());
    }
    let statement = format!(
        "INSERT INTO link_name_roles (name_hash, as_given, as_family) VALUES {}
         ON CONFLICT (name_hash) DO UPDATE SET as_given = link_name_roles.as_given + excluded.as_given, as_family = link_name_roles.as_family + excluded.as_family
         RETURNING name_hash, as_given, as_family",
        values_list(increments.len(), 3)
    );
    let mut query = sqlx::query(&statement);
    for (name_hash, as_given, as_family) in &increments {
        query = query.bind(*name_hash).bind(*as_given).bind(*as_family);
    }
    let count = |value: i64| u32::try_from(value).map_err(|_| LinkError::Corrupt("a name count is out of range".to_owned()));
    let mut counts = HashMap::new();
    for row in query.fetch_all(&mut **transaction).await? {
        counts.insert(row.try_get("name_hash")?, RoleCount { as_given: count(row.try_get("as_given")?)?, as_family: count(row.try_get("as_family")?)? });
    }
    Ok(counts)
}

/// What counting a new record found.
struct Counted {
    /// Its keys whose blocks (before it joined them) are small enough to search.
    searched_keys: Vec<i64>,
    /// Its term fractions (counting itself), NaN where unknown, as
    /// `Scorer::term_fractions` gives them in memory.
    term_fractions: [f64; FIELD_COUNT],
}

/// Counts the new record under each of its blocking keys, each of its values
/// of the term-frequency fields, and each such field it has, in one upsert
/// that returns the counts after.
async fn add_counts(
    transaction: &mut Transaction<'_, Any>,
    context: &LinkContext,
    interner: &Interner,
    features: &RecordFeatures,
    key_hashes: &[i64],
) -> Result<Counted, LinkError> {
    let blind_index = &context.blind_index;
    let mut terms: Vec<(Field, i64, i64)> = Vec::new();
    for field in &context.scorer.model.term_frequency_fields {
        let value = term_value(*field, features);
        if value != ABSENT && !terms.iter().any(|(counted, _, _)| counted == field) {
            terms.push((*field, blind_index.term(*field, interner.resolve(value)), blind_index.field_total(*field)));
        }
    }
    let mut hashes: Vec<i64> = key_hashes.iter().copied().chain(terms.iter().flat_map(|(_, value, total)| [*value, *total])).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let mut counted = Counted { searched_keys: Vec::with_capacity(key_hashes.len()), term_fractions: [f64::NAN; FIELD_COUNT] };
    if hashes.is_empty() {
        return Ok(counted);
    }
    let statement = format!(
        "INSERT INTO link_counts (count_hash, record_count) VALUES {}
         ON CONFLICT (count_hash) DO UPDATE SET record_count = link_counts.record_count + 1
         RETURNING count_hash, record_count",
        values_list(hashes.len(), 2)
    );
    let mut query = sqlx::query(&statement);
    for hash in &hashes {
        query = query.bind(*hash).bind(1_i64);
    }
    let mut counts: HashMap<i64, i64> = HashMap::with_capacity(hashes.len());
    for row in query.fetch_all(&mut **transaction).await? {
        counts.insert(row.try_get("count_hash")?, row.try_get("record_count")?);
    }
    let count_of = |hash: &i64| counts.get(hash).copied().ok_or_else(|| LinkError::Corrupt("a count was not returned".to_owned()));
    for key_hash in key_hashes {
        if searches_block(usize::try_from(count_of(key_hash)? - 1).unwrap_or(0), context.max_block_size) {
            counted.searched_keys.push(*key_hash);
        }
    }
    for (field, value, total) in &terms {
        if let Some(fraction) = term_fraction(count_of(value)? as u64, count_of(total)? as u64) {
            counted.term_fractions[field.index()] = fraction;
        }
    }
    Ok(counted)
}

/// A candidate as stored.
struct CandidateRow {
    record_number: i64,
    record_id: String,
    entity: EntityId,
    features_sealed: Vec<u8>,
}

/// The records under any of `key_hashes`, each once, in the order they were
/// linked (the order the in-memory linker scores them in).
async fn candidates(transaction: &mut Transaction<'_, Any>, key_hashes: &[i64]) -> Result<Vec<CandidateRow>, LinkError> {
    if key_hashes.is_empty() {
        return Ok(Vec::new());
    }
    let statement = format!(
        "SELECT record_number, record_id, entity_id, features_sealed FROM link_records
         WHERE record_number IN (SELECT record_number FROM link_keys WHERE key_hash IN ({}))
         ORDER BY record_number",
        bind_list(key_hashes.len())
    );
    let mut query = sqlx::query(&statement);
    for key_hash in key_hashes {
        query = query.bind(*key_hash);
    }
    query
        .fetch_all(&mut **transaction)
        .await?
        .iter()
        .map(|row| {
            Ok(CandidateRow {
                record_number: row.try_get("record_number")?,
                record_id: row.try_get("record_id")?,
                entity: entity_of_row(row.try_get("entity_id")?)?,
                features_sealed: row.try_get("features_sealed")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lists_number_their_parameters_in_row_order() {
        assert_eq!(values_list(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(bind_list_from(2, 3), "$2, $3, $4");
    }

    #[test]
    fn blind_hashes_depend_on_the_key_and_the_kind_of_value() {
        let index = BlindIndex::new(&[7; 32]).unwrap();
        let other = BlindIndex::new(&[8; 32]).unwrap();
        assert_eq!(index.name("popescu"), index.name("popescu"));
        assert_ne!(index.name("popescu"), other.name("popescu"), "another key, another hash");
        assert_ne!(index.name("popescu"), index.term(Field::FamilyName, "popescu"), "names and terms apart");
        assert_ne!(index.term(Field::GivenName, "ion"), index.term(Field::FamilyName, "ion"), "fields apart");
        assert!(!format!("{index:?}").contains('7'));
    }
}
