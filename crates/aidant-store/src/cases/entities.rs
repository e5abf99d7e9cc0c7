//! Entity pages: a phone, vehicle, address, business, email or online
//! account, shown only through the records that mention it and that the
//! viewer may see. A partner agency sees an entity through what was shared
//! with it; a mention in a record it may not see is not counted, listed or
//! hinted at, and an entity with no such mention is "not found".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::{EntityId, IntelligenceId, ReportId};
use aidant_core::policy::{Action, Capability};
use aidant_link::mentions::ValueKind;

use super::{Caller, CaseError, CaseResult, Subject, record, require};
use crate::Store;
use crate::entities::{
    Entity, Mention, MentionRecord, count_co_mentions, load_entities, load_mentions_in, load_mentions_of, load_recent_records_of, load_report_owners,
};

/// Mentions of one entity read for its page; older ones are summarised.
const MENTIONS_SHOWN: i64 = 1_000;
/// A related entity that this many of the viewer's records mention is a hub
/// (a motorway services, a hostel, a switchboard): shown apart, collapsed,
/// because sharing it says little about two records being connected.
pub const HUB_RECORDS: usize = 20;
/// Related entities listed, most shared first.
const RELATED_SHOWN: usize = 30;

/// One record that mentions the entity, as the viewer may read it.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionView {
    pub record: MentionRecord,
    pub record_id: String,
    /// The report's reference or the intelligence record's reference.
    pub reference: String,
    /// A line about the record: a report's sector and town, a record's title.
    pub summary: String,
    /// The parts of the record that mention it.
    pub fields: Vec<String>,
    pub seen_at_ms: i64,
    /// The highest confidence among those parts.
    pub confidence: f64,
}

/// Another entity mentioned in the same records.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub entity: Entity,
    /// How many of this entity's records (that the viewer may see) mention it too.
    pub shared_records: usize,
    /// Why it is shown apart as a hub, if it is one.
    pub hub_reason: Option<String>,
    /// What it is to the entity (`aidant_link::mentions::relation_between`).
    pub relation: &'static str,
    /// When the first and the last of the shared records were seen.
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// An entity's page.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityView {
    pub entity: Entity,
    /// Newest first.
    pub mentions: Vec<MentionView>,
    /// Most shared first; hubs last.
    pub related: Vec<Related>,
    /// Whether the viewer's own records are all that was read (more mentions
    /// than [`MENTIONS_SHOWN`] exist).
    pub truncated: bool,
    /// Whether the caller watches it.
    pub watched: bool,
    /// For a person: the names records give, why they are linked, and
    /// analysts' decisions.
    pub person: Option<super::people::PersonView>,
}

/// Which of `records` the caller may see, with a reference and summary for
/// each.
pub(crate) async fn visible_records(
    store: &Store,
    caller: &Caller,
    records: &BTreeSet<(MentionRecord, String)>,
) -> CaseResult<HashMap<(MentionRecord, String), (String, String)>> {
    let report_ids: Vec<ReportId> = records.iter().filter(|(kind, _)| *kind == MentionRecord::Report).filter_map(|(_, id)| ReportId::parse(id).ok()).collect();
    let intelligence_ids: Vec<IntelligenceId> =
        records.iter().filter(|(kind, _)| *kind == MentionRecord::Intelligence).filter_map(|(_, id)| IntelligenceId::parse(id).ok()).collect();
    let mut visible = HashMap::new();
    for chunk in report_ids.chunks(500) {
        for report in store.report_summaries(chunk).await? {
            if caller.may(Action::ViewReport, &report.access()) {
                let summary = match &report.town {
                    Some(town) => format!("{}, {town}", report.sector),
                    None => report.sector.clone(),
                };
                visible.insert((MentionRecord::Report, report.id.as_str().to_owned()), (report.reference.clone(), summary));
            }
        }
    }
    for chunk in intelligence_ids.chunks(500) {
        for intelligence in store.find_intelligence_many(chunk).await? {
            if caller.may(Action::ViewIntelligence, &intelligence.access()) {
                visible
                    .insert((MentionRecord::Intelligence, intelligence.id.as_str().to_owned()), (intelligence.reference.clone(), intelligence.title.clone()));
            }
        }
    }
    Ok(visible)
}

/// The mentions in records the caller may see (`visible`, from
/// [`visible_records`]), one line per record with every field that
/// mentions the entity and the highest confidence, in the mentions' order.
fn mention_views<'m>(mentions: impl Iterator<Item = &'m Mention>, visible: &HashMap<(MentionRecord, String), (String, String)>) -> Vec<MentionView> {
    let mut views: Vec<MentionView> = Vec::new();
    for mention in mentions {
        let Some((reference, summary)) = visible.get(&(mention.record, mention.record_id.clone())) else { continue };
        match views.iter_mut().find(|view| view.record == mention.record && view.record_id == mention.record_id) {
            Some(view) => {
                view.fields.push(mention.field.clone());
                view.confidence = view.confidence.max(mention.confidence);
            }
            None => views.push(MentionView {
                record: mention.record,
                record_id: mention.record_id.clone(),
                reference: reference.clone(),
                summary: summary.clone(),
                fields: vec![mention.field.clone()],
                seen_at_ms: mention.seen_at_ms,
                confidence: mention.confidence,
            }),
        }
    }
    views
}

/// Opens an entity's page: its value, the records that mention it which
/// the caller may see, and what else those records mention. Returned only
/// once the view's audit entry has committed; an entity the caller may not
/// see is refused as "not found" without one.
pub async fn view_entity(store: &Store, caller: &Caller, id: &EntityId) -> CaseResult<EntityView> {
    require(store, caller, Capability::Search).await?;
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let mut entity = load_entities(store, &mut connection, std::slice::from_ref(id)).await?.pop().ok_or(CaseError::NotFound)?;
    // A person found to be another is shown as that one (its id is kept so
    // that links and watches to it still lead somewhere).
    for _ in 0..8 {
        let Some(survivor) = entity.merged_into.clone() else { break };
        entity = load_entities(store, &mut connection, std::slice::from_ref(&survivor)).await?.pop().ok_or(CaseError::NotFound)?;
    }
    let id = &entity.id.clone();
    let mentions = load_mentions_of(&mut connection, id, MENTIONS_SHOWN + 1).await?;
    drop(connection);
    let truncated = mentions.len() as i64 > MENTIONS_SHOWN;
    let records: BTreeSet<(MentionRecord, String)> = mentions.iter().map(|mention| (mention.record, mention.record_id.clone())).collect();
    let visible = visible_records(store, caller, &records).await?;
    if visible.is_empty() {
        // Nothing the caller may read mentions it: as if it did not exist.
        return Err(CaseError::NotFound);
    }
    let views = mention_views(mentions.iter().take(MENTIONS_SHOWN as usize), &visible);
    let mut related = related_entities(store, caller, id, entity.kind, &visible).await?;
    let mut named: Vec<Entity> = related.iter().map(|related| related.entity.clone()).collect();
    super::people::name_people(store, caller, &mut named).await?;
    for (related, named) in related.iter_mut().zip(named) {
        related.entity = named;
    }
    let person = if entity.kind == ValueKind::Person {
        let person = super::people::person_view(store, caller, &mentions).await?;
        entity.label = person.name().unwrap_or("A person").to_owned();
        entity.value = String::new();
        Some(person)
    } else {
        None
    };
    // Nothing is returned unless the view's audit entry committed. The
    // reading is done before the write lock is taken, so that on SQLite one
    // analyst's large page does not hold up everyone else's.
    let (_turn, mut transaction) = store.begin_write().await?;
    record(&mut transaction, caller, AuditAction::EntityView, Subject { kind: AuditRecordKind::Entity, id: id.as_str() }, None).await?;
    // Watching it: what the page shows is now seen.
    let watched = sqlx::query("UPDATE entity_watches SET seen_until = $1 WHERE user_id = $2 AND entity_id = $3")
        .bind(crate::now_ms())
        .bind(caller.user_id.as_str())
        .bind(id.as_str())
        .execute(&mut *transaction)
        .await?
        .rows_affected()
        > 0;
    transaction.commit().await?;
    Ok(EntityView { entity, mentions: views, related, truncated, watched, person })
}

/// What else the visible records mention, with how many of them share it;
/// a related entity that at least [`HUB_RECORDS`] records the caller may see
/// mention is flagged as a hub.
async fn related_entities(
    store: &Store,
    caller: &Caller,
    id: &EntityId,
    this_kind: ValueKind,
    visible: &HashMap<(MentionRecord, String), (String, String)>,
) -> CaseResult<Vec<Related>> {
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let mut shared: BTreeMap<EntityId, usize> = BTreeMap::new();
    let mut seen_together: HashMap<EntityId, (i64, i64)> = HashMap::new();
    for kind in [MentionRecord::Report, MentionRecord::Intelligence] {
        let ids: Vec<&str> = visible.keys().filter(|(record, _)| *record == kind).map(|(_, id)| id.as_str()).collect();
        for co in count_co_mentions(&mut connection, kind, &ids).await? {
            if co.entity_id != *id {
                *shared.entry(co.entity_id.clone()).or_default() += co.records as usize;
                let span = seen_together.entry(co.entity_id).or_insert((co.first_seen_ms, co.last_seen_ms));
                *span = (span.0.min(co.first_seen_ms), span.1.max(co.last_seen_ms));
            }
        }
    }
    let mut ranked: Vec<(EntityId, usize)> = shared.into_iter().collect();
    ranked.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
    ranked.truncate(RELATED_SHOWN);
    let ids: Vec<EntityId> = ranked.iter().map(|(entity, _)| entity.clone()).collect();
    // Hubs: whether at least HUB_RECORDS of the newest records mentioning a
    // related entity are ones the caller may see. Only entities with that
    // many mentions at all are asked, and only about that many records.
    let mut recent: Vec<(EntityId, Vec<(MentionRecord, String)>)> = Vec::new();
    for (related, records) in load_recent_records_of(&mut connection, &ids, (HUB_RECORDS + HUB_RECORDS / 4) as i64).await? {
        let distinct: BTreeSet<(MentionRecord, String)> = records.into_iter().collect();
        if distinct.len() >= HUB_RECORDS {
            recent.push((related, distinct.into_iter().collect()));
        }
    }
    let asked: BTreeSet<(MentionRecord, String)> = recent.iter().flat_map(|(_, records)| records.iter().cloned()).collect();
    let report_ids: Vec<&str> = asked.iter().filter(|(kind, _)| *kind == MentionRecord::Report).map(|(_, id)| id.as_str()).collect();
    let mut seen: BTreeSet<(MentionRecord, String)> = load_report_owners(&mut connection, &report_ids)
        .await?
        .into_iter()
        .filter(|(_, owner)| caller.may(Action::ViewReport, &crate::triage::report_access(owner.as_ref())))
        .map(|(id, _)| (MentionRecord::Report, id))
        .collect();
    drop(connection);
    let intelligence: BTreeSet<(MentionRecord, String)> = asked.iter().filter(|(kind, _)| *kind == MentionRecord::Intelligence).cloned().collect();
    seen.extend(visible_records(store, caller, &intelligence).await?.into_keys());
    let mut hub_reasons: HashMap<EntityId, String> = recent
        .into_iter()
        .filter(|(_, records)| records.iter().filter(|record| seen.contains(record)).count() >= HUB_RECORDS)
        .map(|(entity, _)| (entity, format!("mentioned in {HUB_RECORDS} or more records you can see, so sharing it says little on its own")))
        .collect();
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let entities = load_entities(store, &mut connection, &ids).await?;
    let mut related: Vec<Related> = entities
        .into_iter()
        .map(|entity| {
            let shared_records = ranked.iter().find(|(id, _)| *id == entity.id).map_or(0, |(_, count)| *count);
            let hub_reason = hub_reasons.remove(&entity.id);
            let (first_seen_ms, last_seen_ms) = seen_together.get(&entity.id).copied().unwrap_or_default();
            let relation = aidant_link::mentions::relation_between(this_kind, entity.kind);
            Related { entity, shared_records, hub_reason, relation, first_seen_ms, last_seen_ms }
        })
        .collect();
    related.sort_by_key(|related| related.hub_reason.is_some());
    Ok(related)
}

/// What two entities share: the records naming both that the caller may read.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedRecords {
    pub entity: Entity,
    pub other: Entity,
    /// What `other` is to `entity` (`aidant_link::mentions::relation_between`).
    pub relation: &'static str,
    /// Newest first, with the parts of each record that name `entity`.
    pub records: Vec<MentionView>,
}

/// The evidence for a relation: every record the caller may read that
/// names both `id` and `other`. "Not found" when there is none, so a
/// relation through unseen records is not hinted at; the view is audited.
pub async fn shared_records(store: &Store, caller: &Caller, id: &EntityId, other: &EntityId) -> CaseResult<SharedRecords> {
    require(store, caller, Capability::Search).await?;
    if id == other {
        return Err(CaseError::NotFound);
    }
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let mut loaded = load_entities(store, &mut connection, &[id.clone(), other.clone()]).await?;
    let (Some(other_entity), Some(entity)) = (loaded.pop(), loaded.pop()) else { return Err(CaseError::NotFound) };
    let mentions = load_mentions_of(&mut connection, id, MENTIONS_SHOWN).await?;
    let other_records: BTreeSet<(MentionRecord, String)> =
        load_mentions_of(&mut connection, other, MENTIONS_SHOWN).await?.into_iter().map(|mention| (mention.record, mention.record_id)).collect();
    drop(connection);
    let both: BTreeSet<(MentionRecord, String)> =
        mentions.iter().map(|mention| (mention.record, mention.record_id.clone())).filter(|record| other_records.contains(record)).collect();
    let visible = visible_records(store, caller, &both).await?;
    if visible.is_empty() {
        return Err(CaseError::NotFound);
    }
    let records = mention_views(mentions.iter(), &visible);
    let mut named = vec![entity, other_entity];
    super::people::name_people(store, caller, &mut named).await?;
    let [entity, other_entity] = <[Entity; 2]>::try_from(named).map_err(|_| CaseError::NotFound)?;
    let reason = format!("records shared with entity {other}");
    let (_turn, mut transaction) = store.begin_write().await?;
    record(&mut transaction, caller, AuditAction::EntityView, Subject { kind: AuditRecordKind::Entity, id: id.as_str() }, Some(&reason)).await?;
    transaction.commit().await?;
    let relation = aidant_link::mentions::relation_between(entity.kind, other_entity.kind);
    Ok(SharedRecords { entity, other: other_entity, relation, records })
}

/// The entities a record mentions, for its page: each with the fields that
/// mention it. The caller has already been allowed to read the record.
pub(crate) async fn entities_of_record(
    store: &Store,
    connection: &mut sqlx::AnyConnection,
    record: MentionRecord,
    record_id: &str,
) -> CaseResult<Vec<(Entity, Vec<String>)>> {
    let mentions = load_mentions_in(connection, &[(record, record_id.to_owned())]).await?;
    let mut fields: BTreeMap<EntityId, Vec<String>> = BTreeMap::new();
    for mention in mentions {
        fields.entry(mention.entity_id).or_default().push(mention.field);
    }
    let ids: Vec<EntityId> = fields.keys().cloned().collect();
    let mut entities: Vec<(Entity, Vec<String>)> = load_entities(store, connection, &ids)
        .await?
        .into_iter()
        .map(|entity| {
            let found = fields.remove(&entity.id).unwrap_or_default();
            (entity, found)
        })
        .collect();
    // A person is named here as this record names them.
    if entities.iter().any(|(entity, _)| entity.kind == ValueKind::Person) {
        let people = crate::people::load_people(store, connection, record, &[record_id]).await?;
        for (entity, fields) in entities.iter_mut().filter(|(entity, _)| entity.kind == ValueKind::Person) {
            let name = people.iter().find(|person| fields.contains(&person.field())).map(|person| person.details.name.clone());
            entity.label = name.unwrap_or_else(|| "A person".to_owned());
            entity.value = String::new();
        }
    }
    entities.sort_by(|left, right| (left.0.kind, &left.0.label).cmp(&(right.0.kind, &right.0.label)));
    Ok(entities)
}

/// The entity an identifier typed into search names, if the caller may see
/// any record that mentions it.
pub async fn find_entity_by_identifier(store: &Store, caller: &Caller, query: &str) -> CaseResult<Option<Entity>> {
    let Some((kind, key)) = aidant_link::mentions::identifier_in_query(query) else { return Ok(None) };
    entity_if_visible(store, caller, kind, &key).await
}

async fn entity_if_visible(store: &Store, caller: &Caller, kind: ValueKind, key: &str) -> CaseResult<Option<Entity>> {
    let Some(id) = store.find_entity(kind, key).await? else { return Ok(None) };
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let mentions = load_mentions_of(&mut connection, &id, MENTIONS_SHOWN).await?;
    let records: BTreeSet<(MentionRecord, String)> = mentions.iter().map(|mention| (mention.record, mention.record_id.clone())).collect();
    drop(connection);
    if visible_records(store, caller, &records).await?.is_empty() {
        return Ok(None);
    }
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let mut found: Vec<Entity> = load_entities(store, &mut connection, &[id]).await?;
    drop(connection);
    super::people::name_people(store, caller, &mut found).await?;
    Ok(found.pop())
}

/// Starts or stops watching an entity. Only an entity the caller may see
/// can be watched; the change is audited.
pub async fn watch_entity(store: &Store, caller: &Caller, id: &EntityId, watch: bool) -> CaseResult<()> {
    require(store, caller, Capability::Search).await?;
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    let mentions = load_mentions_of(&mut connection, id, MENTIONS_SHOWN).await?;
    drop(connection);
    let records: BTreeSet<(MentionRecord, String)> = mentions.iter().map(|mention| (mention.record, mention.record_id.clone())).collect();
    if visible_records(store, caller, &records).await?.is_empty() {
        return Err(CaseError::NotFound);
    }
    let now = crate::now_ms();
    let (_turn, mut transaction) = store.begin_write().await?;
    if watch {
        sqlx::query(
            "INSERT INTO entity_watches (user_id, entity_id, watched_at, seen_until) VALUES ($1, $2, $3, $3)
             ON CONFLICT (user_id, entity_id) DO NOTHING",
        )
        .bind(caller.user_id.as_str())
        .bind(id.as_str())
        .bind(now)
        .execute(&mut *transaction)
        .await?;
    } else {
        sqlx::query("DELETE FROM entity_watches WHERE user_id = $1 AND entity_id = $2")
            .bind(caller.user_id.as_str())
            .bind(id.as_str())
            .execute(&mut *transaction)
            .await?;
    }
    let action = if watch { AuditAction::EntityWatch } else { AuditAction::EntityUnwatch };
    record(&mut transaction, caller, action, Subject { kind: AuditRecordKind::Entity, id: id.as_str() }, None).await?;
    transaction.commit().await?;
    Ok(())
}

/// One watched entity and what is new about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    pub entity: Entity,
    pub watched_at_ms: i64,
    /// Records the caller may see that mention it and arrived after they
    /// last opened its page, newest first.
    pub new_mentions: Vec<MentionView>,
}

/// The caller's watched entities, those with something new first. Records
/// the caller may not see are neither listed nor counted.
pub async fn watching(store: &Store, caller: &Caller) -> CaseResult<Vec<Watched>> {
    require(store, caller, Capability::Search).await?;
    let rows = sqlx::query("SELECT entity_id, watched_at, seen_until FROM entity_watches WHERE user_id = $1 ORDER BY watched_at DESC")
        .bind(caller.user_id.as_str())
        .fetch_all(&store.pool)
        .await?;
    let mut watched = Vec::with_capacity(rows.len());
    let mut connection = store.pool.acquire().await.map_err(crate::StoreError::Database)?;
    for row in &rows {
        use sqlx::Row;
        let entity_id: EntityId = crate::named(row, "entity_id")?;
        let seen_until: i64 = row.try_get("seen_until")?;
        let Some(entity) = load_entities(store, &mut connection, std::slice::from_ref(&entity_id)).await?.pop() else { continue };
        let mut entity = [entity];
        super::people::name_people(store, caller, &mut entity).await?;
        let [entity] = entity;
        let fresh: Vec<Mention> =
            load_mentions_of(&mut connection, &entity_id, MENTIONS_SHOWN).await?.into_iter().filter(|mention| mention.seen_at_ms > seen_until).collect();
        let records: BTreeSet<(MentionRecord, String)> = fresh.iter().map(|mention| (mention.record, mention.record_id.clone())).collect();
        let visible = visible_records(store, caller, &records).await?;
        let new_mentions = mention_views(fresh.iter(), &visible);
        watched.push(Watched { entity, watched_at_ms: row.try_get("watched_at")?, new_mentions });
    }
    watched.sort_by_key(|watched| watched.new_mentions.is_empty());
    Ok(watched)
}
