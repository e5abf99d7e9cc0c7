//! Networks in the browser: link charts over the entities the caller may
//! see, saved and shared charts and their exports, the organised-crime-group
//! analysis with its run record, saved analyses compared across windows, and
//! the roles analysts give people in a group.
//!
//! Every answer is built from the records the caller may read: an entity is
//! on a chart or in a group only through such a record, a relation rests
//! only on such records, and a person is named only as such a record names
//! them. A saved chart or analysis holds ids; what it shows is worked out
//! again for whoever opens it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::{AnalysisId, ChartId, EntityId, IntelligenceId};
use aidant_core::policy::{Action, Capability};
use aidant_graph::centrality::{PathCentralityOptions, approximate_betweenness_centrality, betweenness_centrality, degree_centrality, eigenvector_centrality};
use aidant_graph::components::core_numbers;
use aidant_graph::hubs::{HubDetectionOptions, damped_hub_ids, detect_hubs};
use aidant_graph::leiden::{LeidenOptions, leiden};
use aidant_graph::provenance::{RunRecord, explain};
use aidant_graph::{AnalysisGraph, AnalysisOptions, EdgeWeighting, NetworkGraph, RelationKind, RoleInProcess, SeenDate, TimeWindow};
use serde::{Deserialize, Serialize};

use super::entities::{HUB_RECORDS, visible_records};
use super::{Caller, CaseError, CaseResult, Subject, record, require};
use crate::entities::{Entity, MentionRecord, ValueKind, count_co_mentions, load_entities, load_mentions_of};
use crate::entity_network::{EntityNetworkRows, day_of, network_from_rows};
use crate::networks::{StoredAnalysis, StoredChart};
use crate::{Store, StoreError, new_id, now_ms};

/// The most entities one chart holds.
pub const CHART_MOST_ENTITIES: usize = 2_500;
/// Neighbours one expansion adds at most.
pub const EXPAND_AT_ONCE: usize = 25;
/// The newest records of an entity checked to decide whether a viewer may
/// see it, where only its name is shown.
const VISIBLE_CHECKED_RECORDS: i64 = 50;
/// The most mentions of one entity read to expand it.
const EXPAND_MENTIONS_READ: i64 = 5_000;
/// The longest chart, analysis or group name.
pub const NAME_MOST_CHARS: usize = 100;
/// Charts and analyses listed at most.
const LISTED: i64 = 200;
/// The seed of every organised-crime-group analysis, so that a re-run
/// gives the same groups.
pub const ANALYSIS_SEED: u64 = 1;
/// Groups smaller than this are not listed as groups.
pub const GROUP_FEWEST_MEMBERS: usize = 3;
/// Groups listed at most, largest first.
pub const GROUPS_LISTED: usize = 40;
/// Above this many members a group's betweenness is estimated from sampled
/// sources (the bound is stated) rather than computed exactly.
const EXACT_BETWEENNESS_MOST_MEMBERS: usize = 1_500;
/// Sampled sources for a large group's betweenness.
const BETWEENNESS_PIVOTS: usize = 256;

// ---------------------------------------------------------------------------
// The visible network

/// The rows of a network cut down to the records the caller may read, with
/// people named as those records name them (a person's node id is then the
/// entity's id, never a name).
async fn visible_rows(store: &Store, caller: &Caller, mut rows: EntityNetworkRows) -> CaseResult<EntityNetworkRows> {
    let intelligence_ids: Vec<IntelligenceId> =
        rows.records.iter().filter(|record| record.record == MentionRecord::Intelligence).filter_map(|record| IntelligenceId::parse(&record.id).ok()).collect();
    let mut readable_intelligence: BTreeSet<String> = BTreeSet::new();
    for chunk in intelligence_ids.chunks(500) {
        for intelligence in store.find_intelligence_many(chunk).await? {
            if caller.may(Action::ViewIntelligence, &intelligence.access()) {
                readable_intelligence.insert(intelligence.id.as_str().to_owned());
            }
        }
    }
    rows.records.retain(|record| match record.record {
        MentionRecord::Report => caller.may(Action::ViewReport, &crate::triage::report_access(record.organisation_id.as_ref())),
        MentionRecord::Intelligence => readable_intelligence.contains(&record.id),
    });
    let readable: BTreeSet<(MentionRecord, &str)> = rows.records.iter().map(|record| (record.record, record.id.as_str())).collect();
    rows.mentions.retain(|mention| readable.contains(&(mention.record, mention.record_id.as_str())));
    let named: BTreeSet<&EntityId> = rows.mentions.iter().map(|mention| &mention.entity_id).collect();
    rows.entities.retain(|entity| named.contains(&entity.id));
    Ok(rows)
}

/// Names the people among `entities` as records the caller may read name
/// them, and keys each by its entity id rather than the linker's key.
async fn name_people(store: &Store, caller: &Caller, entities: &mut [Entity]) -> CaseResult<()> {
    super::people::name_people(store, caller, entities).await?;
    for entity in entities.iter_mut().filter(|entity| entity.kind == ValueKind::Person) {
        entity.value = entity.id.as_str().to_owned();
    }
    Ok(())
}

/// Entities named, following people merged into another to the one that
/// absorbed them; ids of nothing are left out.
async fn current_entities(store: &Store, ids: &[EntityId]) -> CaseResult<Vec<EntityId>> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mut current = BTreeSet::new();
    for chunk in ids.chunks(500) {
        let mut found = load_entities(store, &mut connection, chunk).await?;
        for _ in 0..8 {
            let merged: Vec<EntityId> = found.iter().filter_map(|entity| entity.merged_into.clone()).collect();
            current.extend(found.iter().filter(|entity| entity.merged_into.is_none()).map(|entity| entity.id.clone()));
            if merged.is_empty() {
                break;
            }
            found = load_entities(store, &mut connection, &merged).await?;
        }
    }
    Ok(current.into_iter().collect())
}

// ---------------------------------------------------------------------------
// Link charts

/// What a chart asks for: the entities on it and, perhaps, one to expand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartRequest {
    pub entities: Vec<EntityId>,
    pub expand: Option<EntityId>,
    /// Skip this many neighbours (for "and N more").
    pub offset: usize,
    /// Expand a hub all the same.
    pub force: bool,
}

/// An entity as a chart draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartEntity {
    pub entity: Entity,
    /// Records the caller may read that name it.
    pub records: usize,
    /// Why it is a hub, drawn collapsed, or `None`.
    pub hub: Option<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// Two entities named together, over every record the caller may read
/// that names both.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRelation {
    pub source: EntityId,
    pub target: EntityId,
    pub kind: RelationKind,
    pub records: usize,
    /// The sum of the records' confidences.
    pub strength: f64,
    /// Whether an intelligence record (written and graded by staff) names
    /// both, rather than public reports alone.
    pub confirmed: bool,
    pub first_seen: SeenDate,
    pub last_seen: SeenDate,
}

/// What expanding an entity added.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    pub id: EntityId,
    pub added: Vec<EntityId>,
    /// Neighbours not added yet.
    pub more: usize,
    /// Why nothing was added: the entity is a hub (expand it on purpose).
    pub hub: Option<String>,
}

/// A chart's entities and relations as the caller may see them.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub entities: Vec<ChartEntity>,
    pub relations: Vec<ChartRelation>,
    pub expanded: Option<Expansion>,
    /// Entities asked for that the caller may not see (or that no longer exist).
    pub withheld: usize,
}

/// Why an entity is a hub, from the records the caller may read.
fn hub_reason(records: usize, sources: usize) -> String {
    format!("named in {records} records you can see, from {sources} sources, so sharing it says little on its own")
}

/// The chart's data: `request.entities` (and `expand`'s neighbours) as the
/// caller may see them, audited as one chart view.
pub async fn chart(store: &Store, caller: &Caller, chart: Option<&ChartId>, request: &ChartRequest) -> CaseResult<ChartData> {
    require(store, caller, Capability::UseLinkCharts).await?;
    if request.entities.len() > CHART_MOST_ENTITIES {
        return Err(CaseError::invalid("entities", format!("A chart holds at most {CHART_MOST_ENTITIES} entities")));
    }
    let mut wanted = current_entities(store, &request.entities).await?;
    let resolved: BTreeSet<EntityId> = wanted.iter().cloned().collect();
    let expanded = match &request.expand {
        None => None,
        Some(id) => {
            let expansion = expand(store, caller, id, &wanted, request.offset, request.force).await?;
            wanted.extend(expansion.added.iter().cloned());
            if !wanted.contains(&expansion.id) {
                wanted.push(expansion.id.clone());
            }
            Some(expansion)
        }
    };
    if wanted.len() > CHART_MOST_ENTITIES {
        return Err(CaseError::invalid("entities", format!("A chart holds at most {CHART_MOST_ENTITIES} entities: hide or group some first")));
    }
    let (data, _) = chart_rows(store, caller, &wanted).await?;
    // Asked for but not drawn: the caller may not see it (a person merged
    // into another is drawn as that one, and is not counted).
    let drawn = data.entities.iter().filter(|entity| resolved.contains(&entity.entity.id)).count();
    let withheld = resolved.len().saturating_sub(drawn);
    let data = ChartData { withheld, expanded, ..data };
    let reason = format!("entities {}, relations {}, withheld {}", data.entities.len(), data.relations.len(), data.withheld);
    audit(store, caller, AuditAction::ChartView, AuditRecordKind::Chart, chart.map_or("unsaved", ChartId::as_str), &reason).await?;
    Ok(data)
}

/// Appends one entry and commits it.
async fn audit(store: &Store, caller: &Caller, action: AuditAction, kind: AuditRecordKind, id: &str, reason: &str) -> CaseResult<()> {
    let (_turn, mut transaction) = store.begin_write().await?;
    record(&mut transaction, caller, action, Subject { kind, id }, Some(reason)).await?;
    transaction.commit().await?;
    Ok(())
}

/// The neighbours of `id` the caller may see, strongest first, skipping
/// those already on the chart; a hub adds nothing unless `force`.
async fn expand(store: &Store, caller: &Caller, id: &EntityId, on_chart: &[EntityId], offset: usize, force: bool) -> CaseResult<Expansion> {
    let id = current_entities(store, std::slice::from_ref(id)).await?.pop().ok_or(CaseError::NotFound)?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mentions = load_mentions_of(&mut connection, &id, EXPAND_MENTIONS_READ).await?;
    drop(connection);
    let records: BTreeSet<(MentionRecord, String)> = mentions.iter().map(|mention| (mention.record, mention.record_id.clone())).collect();
    let visible = visible_records(store, caller, &records).await?;
    if visible.is_empty() {
        return Err(CaseError::NotFound);
    }
    if visible.len() >= HUB_RECORDS && !force {
        let reason = format!("named in {HUB_RECORDS} or more records you can see, so sharing it says little on its own");
        return Ok(Expansion { id, added: Vec::new(), more: 0, hub: Some(reason) });
    }
    let mut shared: BTreeMap<EntityId, i64> = BTreeMap::new();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    for kind in [MentionRecord::Report, MentionRecord::Intelligence] {
        let ids: Vec<&str> = visible.keys().filter(|(record, _)| *record == kind).map(|(_, id)| id.as_str()).collect();
        for co in count_co_mentions(&mut connection, kind, &ids).await? {
            *shared.entry(co.entity_id).or_default() += co.records;
        }
    }
    drop(connection);
    let on_chart: BTreeSet<&EntityId> = on_chart.iter().collect();
    let mut ranked: Vec<(EntityId, i64)> = shared.into_iter().filter(|(other, _)| *other != id && !on_chart.contains(other)).collect();
    ranked.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
    let added: Vec<EntityId> = ranked.iter().skip(offset).take(EXPAND_AT_ONCE).map(|(entity, _)| entity.clone()).collect();
    let more = ranked.len().saturating_sub(offset + added.len());
    Ok(Expansion { id, added, more, hub: None })
}

/// The chart of `ids` as the caller may see it, and the network it rests
/// on (one relation per record, for exports).
async fn chart_rows(store: &Store, caller: &Caller, ids: &[EntityId]) -> CaseResult<(ChartData, NetworkGraph)> {
    let rows = store.read_entity_network_of(ids).await?;
    let mut rows = visible_rows(store, caller, rows).await?;
    // Only the chart's entities, though their records name others too.
    let wanted: BTreeSet<&EntityId> = ids.iter().collect();
    rows.entities.retain(|entity| wanted.contains(&entity.id));
    name_people(store, caller, &mut rows.entities).await?;
    let network = network_from_rows(&rows)?;

    let intelligence: BTreeSet<&str> =
        rows.records.iter().filter(|record| record.record == MentionRecord::Intelligence).map(|record| record.reference.as_str()).collect();
    let organisation_of: HashMap<(MentionRecord, &str), Option<&str>> =
        rows.records.iter().map(|record| ((record.record, record.id.as_str()), record.organisation_id.as_ref().map(|id| id.as_str()))).collect();
    let mut per_entity: HashMap<&EntityId, Seen> = HashMap::new();
    for mention in &rows.mentions {
        let entry = per_entity.entry(&mention.entity_id).or_insert_with(|| Seen {
            records: BTreeSet::new(),
            sources: BTreeSet::new(),
            first_ms: i64::MAX,
            last_ms: i64::MIN,
        });
        entry.records.insert((mention.record, mention.record_id.clone()));
        let source =
            organisation_of.get(&(mention.record, mention.record_id.as_str())).copied().flatten().map_or_else(|| mention.record_id.clone(), str::to_owned);
        entry.sources.insert(source);
        entry.first_ms = entry.first_ms.min(mention.first_seen_at_ms);
        entry.last_ms = entry.last_ms.max(mention.first_seen_at_ms);
    }
    let entities: Vec<ChartEntity> = rows
        .entities
        .iter()
        .filter_map(|entity| {
            let seen = per_entity.get(&entity.id)?;
            let hub = (seen.records.len() >= HUB_RECORDS).then(|| hub_reason(seen.records.len(), seen.sources.len()));
            Some(ChartEntity { entity: entity.clone(), records: seen.records.len(), hub, first_seen_ms: seen.first_ms, last_seen_ms: seen.last_ms })
        })
        .collect();

    let mut by_pair: BTreeMap<(usize, usize), ChartRelation> = BTreeMap::new();
    for relation in network.relations() {
        let day = relation.first_seen.unwrap_or(SeenDate::MIN);
        let entry = by_pair.entry((relation.source, relation.target)).or_insert_with(|| ChartRelation {
            source: rows.entities[relation.source].id.clone(),
            target: rows.entities[relation.target].id.clone(),
            kind: relation.kind,
            records: 0,
            strength: 0.0,
            confirmed: false,
            first_seen: day,
            last_seen: day,
        });
        entry.records += 1;
        entry.strength = ((entry.strength + relation.confidence) * 1000.0).round() / 1000.0;
        entry.confirmed |= intelligence.contains(relation.source_reference.as_str());
        entry.first_seen = entry.first_seen.min(day);
        entry.last_seen = entry.last_seen.max(day);
    }
    let data = ChartData { entities, relations: by_pair.into_values().collect(), expanded: None, withheld: 0 };
    Ok((data, network))
}

/// Where and when the caller may see an entity named.
struct Seen {
    records: BTreeSet<(MentionRecord, String)>,
    /// Organisations holding those records (a record nobody holds is its own source).
    sources: BTreeSet<String>,
    first_ms: i64,
    last_ms: i64,
}

/// How a chart is laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartLayout {
    #[default]
    Force,
    Hierarchical,
}

/// Entities drawn as one, with the analyst's label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartGroup {
    pub id: String,
    pub label: String,
    pub members: Vec<String>,
}

/// The time bar's range, as ISO dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartWindow {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A chart as the browser keeps and saves it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartState {
    pub entities: Vec<String>,
    #[serde(default)]
    pub hidden: Vec<String>,
    #[serde(default)]
    pub pinned: BTreeMap<String, [f64; 2]>,
    #[serde(default)]
    pub positions: BTreeMap<String, [f64; 2]>,
    #[serde(default)]
    pub groups: Vec<ChartGroup>,
    #[serde(default)]
    pub layout: ChartLayout,
    #[serde(default)]
    pub window: ChartWindow,
}

/// Groups on one chart at most.
const CHART_MOST_GROUPS: usize = 200;

impl ChartState {
    /// Reads a chart's state as the browser sent it, checking every id,
    /// position, group and date; the error says what is wrong.
    pub fn parse(json: &str) -> Result<(ChartState, Vec<EntityId>), String> {
        let state: ChartState = serde_json::from_str(json).map_err(|error| format!("The chart could not be read: {error}"))?;
        if state.entities.len() > CHART_MOST_ENTITIES {
            return Err(format!("A chart holds at most {CHART_MOST_ENTITIES} entities"));
        }
        let mut ids = Vec::with_capacity(state.entities.len());
        for id in &state.entities {
            ids.push(EntityId::parse(id).map_err(|_| "The chart names an entity that does not exist".to_owned())?);
        }
        if state.groups.len() > CHART_MOST_GROUPS {
            return Err(format!("A chart holds at most {CHART_MOST_GROUPS} groups"));
        }
        let entities: BTreeSet<&str> = state.entities.iter().map(String::as_str).collect();
        let group_ids: BTreeSet<&str> = state.groups.iter().map(|group| group.id.as_str()).collect();
        for group in &state.groups {
            if group.label.trim().is_empty() || group.label.chars().count() > NAME_MOST_CHARS {
                return Err(format!("A group's label must be 1 to {NAME_MOST_CHARS} characters"));
            }
            if group.id.is_empty() || group.id.len() > 40 || group.members.iter().any(|member| !entities.contains(member.as_str())) {
                return Err("A group names an entity that is not on the chart".to_owned());
            }
        }
        let known = |id: &str| entities.contains(id) || group_ids.contains(id);
        if state.hidden.iter().any(|id| !known(id)) {
            return Err("The chart hides an entity that is not on it".to_owned());
        }
        for (id, [x, y]) in state.pinned.iter().chain(&state.positions) {
            if !known(id) || !x.is_finite() || !y.is_finite() {
                return Err("The chart places an entity that is not on it, or places it nowhere".to_owned());
            }
        }
        let from = state.window.from.as_deref().map(parse_date).transpose()?;
        let to = state.window.to.as_deref().map(parse_date).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err("The time bar's start must be on or before its end".to_owned());
        }
        Ok((state, ids))
    }
}

fn parse_date(text: &str) -> Result<SeenDate, String> {
    aidant_graph::parse_seen_date(text).map_err(|_| format!("{text:?} is not a date like 2026-03-14"))
}

/// A saved chart as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSummary {
    pub id: ChartId,
    pub name: String,
    pub mine: bool,
    pub shared: bool,
    pub entities: usize,
    pub updated_at_ms: i64,
}

/// A saved chart opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenChart {
    pub id: ChartId,
    pub name: String,
    pub shared: bool,
    pub mine: bool,
    pub state: ChartState,
}

/// A chart to save, as the form gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveChart<'a> {
    pub name: &'a str,
    pub shared: bool,
    pub state: &'a str,
}

/// Saves a new chart (`id` `None`) or the caller's own chart; returns its id.
pub async fn save_chart(store: &Store, caller: &Caller, id: Option<&ChartId>, request: &SaveChart<'_>) -> CaseResult<ChartId> {
    require(store, caller, Capability::UseLinkCharts).await?;
    let mut errors = Vec::new();
    let name = request.name.trim();
    if name.is_empty() {
        errors.push(field_error("name", "Enter a name for the chart"));
    } else if name.chars().count() > NAME_MOST_CHARS {
        errors.push(field_error("name", &format!("The name must be {NAME_MOST_CHARS} characters or fewer")));
    }
    match ChartState::parse(request.state) {
        Ok((state, _)) if state.entities.is_empty() => errors.push(field_error("state", "The chart is empty: add an entity before saving it")),
        Ok(_) => {}
        Err(message) => errors.push(field_error("state", &message)),
    }
    if !errors.is_empty() {
        return Err(CaseError::Invalid(errors));
    }
    let keyring = store.keyring()?;
    let now = now_ms();
    let (_turn, mut transaction) = store.begin_write().await?;
    let chart = match id {
        None => {
            let chart = StoredChart {
                id: ChartId::parse(&new_id()).map_err(|_| StoreError::Corrupt("a new id is not a UUID".to_owned()))?,
                organisation_id: caller.organisation_id().clone(),
                owner_user_id: caller.user_id.clone(),
                name: name.to_owned(),
                shared: request.shared,
                state: request.state.to_owned(),
                created_at_ms: now,
                updated_at_ms: now,
            };
            crate::networks::insert_chart(&mut transaction, keyring, &chart).await?;
            chart
        }
        Some(id) => {
            let existing = crate::networks::load_chart(&mut transaction, keyring, id).await?;
            let Some(existing) = existing.filter(|chart| may_open(caller, chart)) else {
                return Err(CaseError::NotFound);
            };
            if existing.owner_user_id != caller.user_id {
                let subject = Subject { kind: AuditRecordKind::Chart, id: id.as_str() };
                return Err(refuse(transaction, caller, subject, "only the analyst who saved a chart may change it; save a copy instead").await);
            }
            let chart = StoredChart { name: name.to_owned(), shared: request.shared, state: request.state.to_owned(), updated_at_ms: now, ..existing };
            crate::networks::update_chart(&mut transaction, keyring, &chart).await?;
            chart
        }
    };
    let reason = format!("{} entities, {}", ChartState::parse(&chart.state).map(|(state, _)| state.entities.len()).unwrap_or(0), sharing(chart.shared));
    record(&mut transaction, caller, AuditAction::ChartSave, Subject { kind: AuditRecordKind::Chart, id: chart.id.as_str() }, Some(&reason)).await?;
    transaction.commit().await?;
    Ok(chart.id)
}

/// Audits and commits a refusal, returning the error to give.
async fn refuse(transaction: sqlx::Transaction<'_, sqlx::Any>, caller: &Caller, subject: Subject<'_>, reason: &'static str) -> CaseError {
    match super::enforce(transaction, caller, subject, aidant_core::policy::Decision::Deny(reason)).await {
        Err(error) => error,
        Ok(_) => CaseError::Denied { reason },
    }
}

fn sharing(shared: bool) -> &'static str {
    if shared { "shared with the organisation" } else { "private" }
}

fn field_error(field: &str, message: &str) -> aidant_core::report::FieldError {
    aidant_core::report::FieldError { field: field.to_owned(), message: message.to_owned() }
}

/// Whether the caller may open a saved chart: their own, or one shared in
/// their organisation.
fn may_open(caller: &Caller, chart: &StoredChart) -> bool {
    chart.organisation_id == *caller.organisation_id() && (chart.owner_user_id == caller.user_id || chart.shared)
}

/// The charts the caller may open: their own and those shared with their
/// organisation, newest first.
pub async fn list_charts(store: &Store, caller: &Caller) -> CaseResult<Vec<ChartSummary>> {
    require(store, caller, Capability::UseLinkCharts).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let charts = crate::networks::load_charts_for(&mut connection, store.keyring()?, caller.organisation_id(), &caller.user_id, LISTED).await?;
    Ok(charts
        .into_iter()
        .map(|chart| ChartSummary {
            entities: ChartState::parse(&chart.state).map(|(state, _)| state.entities.len()).unwrap_or(0),
            mine: chart.owner_user_id == caller.user_id,
            id: chart.id,
            name: chart.name,
            shared: chart.shared,
            updated_at_ms: chart.updated_at_ms,
        })
        .collect())
}

/// A saved chart, if the caller may open it ("not found" otherwise, so
/// another organisation's charts cannot be told from none).
pub async fn open_chart(store: &Store, caller: &Caller, id: &ChartId) -> CaseResult<OpenChart> {
    require(store, caller, Capability::UseLinkCharts).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let chart = crate::networks::load_chart(&mut connection, store.keyring()?, id).await?.filter(|chart| may_open(caller, chart)).ok_or(CaseError::NotFound)?;
    let (state, _) = ChartState::parse(&chart.state).map_err(|message| StoreError::Corrupt(format!("a saved chart: {message}")))?;
    Ok(OpenChart { mine: chart.owner_user_id == caller.user_id, id: chart.id, name: chart.name, shared: chart.shared, state })
}

/// Deletes the caller's own chart.
pub async fn delete_chart(store: &Store, caller: &Caller, id: &ChartId) -> CaseResult<()> {
    let chart = open_chart(store, caller, id).await?;
    let (_turn, mut transaction) = store.begin_write().await?;
    let subject = Subject { kind: AuditRecordKind::Chart, id: id.as_str() };
    if !chart.mine {
        return Err(refuse(transaction, caller, subject, "only the analyst who saved a chart may delete it").await);
    }
    crate::networks::delete_chart(&mut transaction, id).await?;
    record(&mut transaction, caller, AuditAction::ChartDelete, subject, None).await?;
    transaction.commit().await?;
    Ok(())
}

/// The formats a chart is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    Png,
    Svg,
    GraphMl,
    Gexf,
    FollowTheMoney,
    Anx,
}

impl ChartFormat {
    pub const ALL: [ChartFormat; 6] =
        [ChartFormat::Png, ChartFormat::Svg, ChartFormat::GraphMl, ChartFormat::Gexf, ChartFormat::FollowTheMoney, ChartFormat::Anx];

    pub fn as_str(self) -> &'static str {
        match self {
            ChartFormat::Png => "png",
            ChartFormat::Svg => "svg",
            ChartFormat::GraphMl => "graphml",
            ChartFormat::Gexf => "gexf",
            ChartFormat::FollowTheMoney => "ftm",
            ChartFormat::Anx => "anx",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.as_str() == text)
    }
}

/// A chart to export: what the caller may see of it, and the network with
/// one relation per record (for GraphML, GEXF, FollowTheMoney and ANX).
#[derive(Debug, Clone)]
pub struct ChartExport {
    pub data: ChartData,
    pub network: NetworkGraph,
    pub state: ChartState,
}

/// Exports a chart's state in `format`, audited with the format and what
/// it held. An empty chart, or one with nothing the caller may see, is a
/// field error.
pub async fn export_chart(store: &Store, caller: &Caller, chart: Option<&ChartId>, state: &str, format: ChartFormat) -> CaseResult<ChartExport> {
    require(store, caller, Capability::UseLinkCharts).await?;
    let (state, ids) = ChartState::parse(state).map_err(|message| CaseError::invalid("state", message))?;
    let hidden: BTreeSet<&str> = state.hidden.iter().map(String::as_str).collect();
    let shown: Vec<EntityId> = ids.into_iter().filter(|id| !hidden.contains(id.as_str())).collect();
    let current = current_entities(store, &shown).await?;
    let (data, network) = chart_rows(store, caller, &current).await?;
    if data.entities.is_empty() {
        return Err(CaseError::invalid("state", "There is nothing on this chart you can see to export"));
    }
    let reason = format!("format {}, entities {}, relations {}", format.as_str(), data.entities.len(), data.relations.len());
    audit(store, caller, AuditAction::ChartExport, AuditRecordKind::Chart, chart.map_or("unsaved", ChartId::as_str), &reason).await?;
    Ok(ChartExport { data, network, state })
}

// ---------------------------------------------------------------------------
// The organised-crime-group view

/// What an analysis is asked to cover.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisRequest {
    pub from: Option<SeenDate>,
    pub to: Option<SeenDate>,
}

/// One member of a group, with why they matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedMember {
    pub entity_id: String,
    pub degree: f64,
    pub betweenness: f64,
    pub eigenvector: f64,
    /// The member's core number in the whole network.
    pub core: usize,
}

/// One group found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedGroup {
    /// Members, key players first (betweenness, then degree, then eigenvector).
    pub members: Vec<SavedMember>,
    /// Links among the members.
    pub links: usize,
    /// Whether betweenness was estimated from sampled sources.
    pub sampled_betweenness: bool,
}

/// An analysis's result as saved: ids and figures, no value or label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedResult {
    pub groups: Vec<SavedGroup>,
    /// Groups found with fewer than [`GROUP_FEWEST_MEMBERS`] members.
    pub small_groups: usize,
    pub hubs: Vec<(String, String)>,
    pub max_core: usize,
    /// How many entities the innermost core (the k-core for the largest k) holds.
    pub core_count: usize,
    /// The first [`MEMBERS_SHOWN`] of them, in id order; none when the
    /// largest k is 1 (every linked entity).
    pub core_members: Vec<String>,
    pub entities: usize,
    pub relations: usize,
    pub leiden_quality: f64,
}

/// An analysis and its run record, as stored and as re-run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explained {
    pub result: SavedResult,
    pub run: RunRecord,
}

/// A member as a page shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberView {
    pub entity: Entity,
    pub figures: SavedMember,
    pub role: Option<RoleInProcess>,
    /// A person whom every record the viewer may read names only as a
    /// potential victim, or whom the organisation assessed as one.
    pub victim: bool,
}

/// Key players listed per group.
pub const KEY_PLAYERS: usize = 3;
/// Members of a group shown (key players first), and people listed as
/// joining or leaving a group, at most.
pub const MEMBERS_SHOWN: usize = 60;

/// A group as a page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub number: usize,
    /// Every member, whether shown or not.
    pub size: usize,
    /// The first [`MEMBERS_SHOWN`] members the viewer may see, key players first.
    pub members: Vec<MemberView>,
    /// The people who hold the group together: its highest-ranked members
    /// who are people and not potential victims, at most [`KEY_PLAYERS`].
    pub key_players: Vec<MemberView>,
    /// Of the first [`MEMBERS_SHOWN`], those the viewer may not see.
    pub withheld: usize,
    pub links: usize,
    pub sampled_betweenness: bool,
}

/// An analysis as a page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisView {
    pub id: Option<AnalysisId>,
    pub name: Option<String>,
    pub window: TimeWindow,
    pub groups: Vec<GroupView>,
    pub hubs: Vec<(Entity, String)>,
    pub core: Vec<Entity>,
    pub explained: Explained,
    pub created_at_ms: Option<i64>,
}

/// The parameters recorded in the run record.
#[derive(Debug, Clone, Serialize)]
struct AnalysisParameters {
    leiden: LeidenOptions,
    hubs: HubDetectionOptions,
    group_fewest_members: usize,
    key_players: &'static str,
}

/// Runs the analysis over what the caller may see in the window.
async fn run_analysis(store: &Store, caller: &Caller, window: TimeWindow) -> CaseResult<Explained> {
    let rows = store.read_entity_network_shape().await?;
    let mut rows = visible_rows(store, caller, rows).await?;
    // The window: what records named within it.
    let in_window = |at_ms: i64| {
        let Some(day) = day_of(at_ms) else { return false };
        window.from.is_none_or(|from| day >= from) && window.to.is_none_or(|to| day <= to)
    };
    rows.mentions.retain(|mention| in_window(mention.first_seen_at_ms));
    let named: BTreeSet<&EntityId> = rows.mentions.iter().map(|mention| &mention.entity_id).collect();
    rows.entities.retain(|entity| named.contains(&entity.id));
    let network = network_from_rows(&rows)?;
    Ok(analyse(&network, &rows.entities, window))
}

/// The analysis proper (pure): hubs by records and sources are left out,
/// Leiden on confidence-weighted ties, and within each group degree,
/// betweenness and eigenvector centrality.
pub fn analyse(network: &NetworkGraph, entities: &[Entity], window: TimeWindow) -> Explained {
    // Any source: in one force's own database most records come from it.
    let hub_options = HubDetectionOptions { minimum_distinct_records: Some(HUB_RECORDS), minimum_distinct_sources: 1, window, ..Default::default() };
    let hubs = detect_hubs(network, &hub_options);
    let options = AnalysisOptions {
        window,
        weighting: EdgeWeighting::Confidence,
        hub_treatment: aidant_graph::analysis::HubTreatment::Exclude,
        hub_entity_ids: damped_hub_ids(&hubs),
    };
    let graph = AnalysisGraph::project(network, &options);
    let leiden_options = LeidenOptions { seed: ANALYSIS_SEED, weighted: true, ..Default::default() };
    let communities = leiden(&graph, &leiden_options);
    let cores = core_numbers(&graph);
    let max_core = cores.iter().copied().max().unwrap_or(0);
    let entity_id = |node: usize| entities[graph.entity_of(node)].id.as_str().to_owned();

    let mut members_of: Vec<Vec<usize>> = vec![Vec::new(); communities.community_count];
    for (node, community) in communities.membership.iter().enumerate() {
        members_of[*community].push(node);
    }
    let small_groups = members_of.iter().filter(|members| members.len() < GROUP_FEWEST_MEMBERS).count();
    let mut groups = Vec::new();
    for members in members_of.iter().filter(|members| members.len() >= GROUP_FEWEST_MEMBERS).take(GROUPS_LISTED) {
        let local: HashMap<usize, usize> = members.iter().enumerate().map(|(index, node)| (*node, index)).collect();
        let mut edges = Vec::new();
        for (index, node) in members.iter().enumerate() {
            for (neighbour, strength) in graph.neighbours(*node).iter().zip(graph.strengths(*node)) {
                if let Some(&other) = local.get(&(*neighbour as usize))
                    && other > index
                {
                    edges.push((index, other, *strength));
                }
            }
        }
        let links = edges.len();
        let sub = AnalysisGraph::from_weighted_edges(members.len(), edges);
        let degree = degree_centrality(&sub);
        let sampled = members.len() > EXACT_BETWEENNESS_MOST_MEMBERS;
        let betweenness = if sampled {
            approximate_betweenness_centrality(&sub, false, BETWEENNESS_PIVOTS, ANALYSIS_SEED, 0.05).values
        } else {
            betweenness_centrality(&sub, PathCentralityOptions { weighted: false, normalized: true })
        };
        let eigenvector = eigenvector_centrality(&sub, true, 1_000, 1e-9).unwrap_or_else(|_| vec![0.0; members.len()]);
        let mut saved: Vec<SavedMember> = members
            .iter()
            .enumerate()
            .map(|(index, node)| SavedMember {
                entity_id: entity_id(*node),
                degree: round(degree[index]),
                betweenness: round(betweenness[index]),
                eigenvector: round(eigenvector[index]),
                core: cores[*node],
            })
            .collect();
        saved.sort_by(|left, right| {
            right
                .betweenness
                .total_cmp(&left.betweenness)
                .then(right.degree.total_cmp(&left.degree))
                .then(right.eigenvector.total_cmp(&left.eigenvector))
                .then_with(|| left.entity_id.cmp(&right.entity_id))
        });
        groups.push(SavedGroup { members: saved, links, sampled_betweenness: sampled });
    }
    let mut core_members: Vec<String> = (0..graph.node_count()).filter(|node| max_core > 0 && cores[*node] == max_core).map(entity_id).collect();
    core_members.sort();
    let core_count = core_members.len();
    if max_core < 2 {
        core_members.clear();
    }
    core_members.truncate(MEMBERS_SHOWN);
    let result = SavedResult {
        groups,
        small_groups,
        hubs: hubs
            .iter()
            .filter(|hub| hub.is_damped())
            .filter_map(|hub| Some((entity_of_node_id(network, entities, &hub.entity_id)?, hub.reason.clone())))
            .collect(),
        max_core,
        core_count,
        core_members,
        entities: network.entities().len(),
        relations: network.relations().len(),
        leiden_quality: round(communities.quality),
    };
    let parameters = AnalysisParameters {
        leiden: leiden_options,
        hubs: hub_options,
        group_fewest_members: GROUP_FEWEST_MEMBERS,
        key_players: "betweenness, then degree, then eigenvector, within the group",
    };
    let explained = explain("organised_crime_groups", network, &options, &graph, &parameters, Some(ANALYSIS_SEED), result);
    Explained { result: explained.result, run: explained.run }
}

/// Figures to nine places, so a saved result reads back as it was and
/// compares equal on a re-run.
fn round(value: f64) -> f64 {
    if value.is_finite() { (value * 1e9).round() / 1e9 } else { 0.0 }
}

/// The entity id behind a node id of the network (hubs are named by node id).
fn entity_of_node_id(network: &NetworkGraph, entities: &[Entity], node_id: &str) -> Option<String> {
    network.entity_index(node_id).map(|position| entities[position].id.as_str().to_owned())
}

/// Analyses the network the caller may see in the window, audited.
pub async fn analyse_network(store: &Store, caller: &Caller, request: &AnalysisRequest) -> CaseResult<AnalysisView> {
    require(store, caller, Capability::AnalyseNetworks).await?;
    let window = window_of(request)?;
    let explained = run_analysis(store, caller, window).await?;
    let reason = format!(
        "window {} to {}; entities {}, relations {}, groups {}; input sha256 {}",
        date_text(window.from),
        date_text(window.to),
        explained.result.entities,
        explained.result.relations,
        explained.result.groups.len(),
        explained.run.input_sha256
    );
    audit(store, caller, AuditAction::NetworkAnalyse, AuditRecordKind::Network, "all", &reason).await?;
    view_of(store, caller, None, None, None, window, explained).await
}

fn window_of(request: &AnalysisRequest) -> CaseResult<TimeWindow> {
    if let (Some(from), Some(to)) = (request.from, request.to)
        && from > to
    {
        return Err(CaseError::invalid("from", "The start of the window must be on or before its end"));
    }
    Ok(TimeWindow { from: request.from, to: request.to })
}

fn date_text(date: Option<SeenDate>) -> String {
    date.map_or_else(|| "open".to_owned(), aidant_graph::model::format_date)
}

/// Entities (by id text) the caller may see, named as they may see them.
/// An entity counts as one the caller may see when a record among the
/// newest [`VISIBLE_CHECKED_RECORDS`] that name it is one they may read: a
/// hub's thousands of records are not all read to show its name, and an
/// entity only old records the caller may read name is left out rather
/// than shown on a guess.
async fn visible_entities(store: &Store, caller: &Caller, ids: &BTreeSet<String>) -> CaseResult<HashMap<String, Entity>> {
    let ids: Vec<EntityId> = ids.iter().filter_map(|id| EntityId::parse(id).ok()).collect();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let recent = crate::entities::load_recent_records_of(&mut connection, &ids, VISIBLE_CHECKED_RECORDS).await?;
    drop(connection);
    let asked: BTreeSet<(MentionRecord, String)> = recent.values().flatten().cloned().collect();
    let readable = visible_records(store, caller, &asked).await?;
    let seen: Vec<EntityId> =
        recent.into_iter().filter(|(_, records)| records.iter().any(|record| readable.contains_key(record))).map(|(entity, _)| entity).collect();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mut entities = Vec::with_capacity(seen.len());
    for chunk in seen.chunks(500) {
        entities.extend(load_entities(store, &mut connection, chunk).await?);
    }
    drop(connection);
    name_people(store, caller, &mut entities).await?;
    Ok(entities.into_iter().map(|entity| (entity.id.as_str().to_owned(), entity)).collect())
}

/// How a page shows an analysis: each member the viewer may see, with the
/// organisation's role for people.
async fn view_of(
    store: &Store,
    caller: &Caller,
    id: Option<AnalysisId>,
    name: Option<String>,
    created_at_ms: Option<i64>,
    window: TimeWindow,
    explained: Explained,
) -> CaseResult<AnalysisView> {
    let result = &explained.result;
    let mut ids: BTreeSet<String> =
        result.groups.iter().flat_map(|group| group.members.iter().take(MEMBERS_SHOWN).map(|member| member.entity_id.clone())).collect();
    ids.extend(result.hubs.iter().map(|(id, _)| id.clone()));
    ids.extend(result.core_members.iter().cloned());
    let visible = visible_entities(store, caller, &ids).await?;
    let people: Vec<&EntityId> = visible.values().filter(|entity| entity.kind == ValueKind::Person).map(|entity| &entity.id).collect();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let roles: HashMap<String, RoleInProcess> = crate::networks::load_roles(&mut connection, caller.organisation_id(), &people)
        .await?
        .into_iter()
        .filter_map(|(entity, role)| Some((entity.as_str().to_owned(), RoleInProcess::parse(&role)?)))
        .collect();
    drop(connection);
    let victims = super::people::named_only_as_victims(store, caller, &people).await?;
    let groups = result
        .groups
        .iter()
        .enumerate()
        .map(|(index, group)| {
            let shown = group.members.len().min(MEMBERS_SHOWN);
            let members: Vec<MemberView> = group
                .members
                .iter()
                .take(MEMBERS_SHOWN)
                .filter_map(|member| {
                    let entity = visible.get(&member.entity_id)?.clone();
                    let role = roles.get(&member.entity_id).copied();
                    let victim = victims.contains(&entity.id) || role == Some(RoleInProcess::Victim);
                    Some(MemberView { role, victim, entity, figures: member.clone() })
                })
                .collect();
            let key_players = members.iter().filter(|member| member.entity.kind == ValueKind::Person && !member.victim).take(KEY_PLAYERS).cloned().collect();
            GroupView {
                number: index + 1,
                size: group.members.len(),
                withheld: shown - members.len(),
                members,
                key_players,
                links: group.links,
                sampled_betweenness: group.sampled_betweenness,
            }
        })
        .filter(|group| !group.members.is_empty())
        .collect();
    let hubs = result.hubs.iter().filter_map(|(id, reason)| Some((visible.get(id)?.clone(), reason.clone()))).collect();
    let core = result.core_members.iter().filter_map(|id| visible.get(id).cloned()).collect();
    Ok(AnalysisView { id, name, window, groups, hubs, core, explained, created_at_ms })
}

/// Runs and saves an analysis for the caller's organisation.
pub async fn save_analysis(store: &Store, caller: &Caller, name: &str, request: &AnalysisRequest) -> CaseResult<AnalysisId> {
    require(store, caller, Capability::AnalyseNetworks).await?;
    let name = name.trim();
    if name.is_empty() {
        return Err(CaseError::invalid("name", "Enter a name for the analysis"));
    }
    if name.chars().count() > NAME_MOST_CHARS {
        return Err(CaseError::invalid("name", format!("The name must be {NAME_MOST_CHARS} characters or fewer")));
    }
    let window = window_of(request)?;
    let explained = run_analysis(store, caller, window).await?;
    let id = AnalysisId::parse(&new_id()).map_err(|_| StoreError::Corrupt("a new id is not a UUID".to_owned()))?;
    let stored = StoredAnalysis {
        id: id.clone(),
        organisation_id: caller.organisation_id().clone(),
        created_by: caller.user_id.clone(),
        created_at_ms: now_ms(),
        name: name.to_owned(),
        window_from: window.from.map(aidant_graph::model::format_date),
        window_to: window.to.map(aidant_graph::model::format_date),
        result: serde_json::to_string(&explained).map_err(|error| StoreError::Corrupt(format!("an analysis cannot be written: {error}")))?,
    };
    let (_turn, mut transaction) = store.begin_write().await?;
    crate::networks::insert_analysis(&mut transaction, store.keyring()?, &stored).await?;
    let reason =
        format!("groups {}; input sha256 {}; result sha256 {}", explained.result.groups.len(), explained.run.input_sha256, explained.run.result_sha256);
    record(&mut transaction, caller, AuditAction::NetworkAnalysisSave, Subject { kind: AuditRecordKind::NetworkAnalysis, id: id.as_str() }, Some(&reason))
        .await?;
    transaction.commit().await?;
    Ok(id)
}

/// A saved analysis as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisSummary {
    pub id: AnalysisId,
    pub name: String,
    pub window_from: Option<String>,
    pub window_to: Option<String>,
    pub groups: usize,
    pub created_at_ms: i64,
}

/// The organisation's saved analyses, newest first.
pub async fn list_analyses(store: &Store, caller: &Caller) -> CaseResult<Vec<AnalysisSummary>> {
    require(store, caller, Capability::AnalyseNetworks).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let analyses = crate::networks::load_analyses_of(&mut connection, store.keyring()?, caller.organisation_id(), LISTED).await?;
    Ok(analyses
        .into_iter()
        .map(|analysis| AnalysisSummary {
            groups: serde_json::from_str::<Explained>(&analysis.result).map(|explained| explained.result.groups.len()).unwrap_or(0),
            id: analysis.id,
            name: analysis.name,
            window_from: analysis.window_from,
            window_to: analysis.window_to,
            created_at_ms: analysis.created_at_ms,
        })
        .collect())
}

async fn load_saved(store: &Store, caller: &Caller, id: &AnalysisId) -> CaseResult<(StoredAnalysis, Explained, TimeWindow)> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let stored = crate::networks::load_analysis(&mut connection, store.keyring()?, id)
        .await?
        .filter(|analysis| analysis.organisation_id == *caller.organisation_id())
        .ok_or(CaseError::NotFound)?;
    drop(connection);
    let explained: Explained =
        serde_json::from_str(&stored.result).map_err(|error| StoreError::Corrupt(format!("a saved analysis cannot be read: {error}")))?;
    let date =
        |text: &Option<String>| text.as_deref().map(parse_date).transpose().map_err(|message| StoreError::Corrupt(format!("a saved analysis: {message}")));
    let window = TimeWindow { from: date(&stored.window_from)?, to: date(&stored.window_to)? };
    Ok((stored, explained, window))
}

/// A saved analysis, shown as the caller may see it (audited).
pub async fn open_analysis(store: &Store, caller: &Caller, id: &AnalysisId) -> CaseResult<AnalysisView> {
    require(store, caller, Capability::AnalyseNetworks).await?;
    let (stored, explained, window) = load_saved(store, caller, id).await?;
    audit(store, caller, AuditAction::NetworkAnalysisView, AuditRecordKind::NetworkAnalysis, id.as_str(), "opened").await?;
    view_of(store, caller, Some(stored.id), Some(stored.name), Some(stored.created_at_ms), window, explained).await
}

/// How one saved group fared in a later window.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupChange {
    pub earlier: usize,
    /// The later group sharing most members, if any does.
    pub later: Option<usize>,
    /// Who joined and who left (counted over every member), and the first
    /// [`MEMBERS_SHOWN`] of each the viewer may see.
    pub joined_count: usize,
    pub joined: Vec<Entity>,
    pub left_count: usize,
    pub left: Vec<Entity>,
    /// Each window's first key player (or first member when no person is one).
    pub key_before: Option<Entity>,
    pub key_after: Option<Entity>,
}

/// A saved group's index, the index of the later group sharing most of its
/// members (if any does), and who joined and who left, by id.
type Move = (usize, Option<usize>, Vec<String>, Vec<String>);

/// A saved analysis beside the same analysis over a later window.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub earlier: AnalysisView,
    pub later: AnalysisView,
    pub changes: Vec<GroupChange>,
}

/// Compares a saved analysis with a run over another window: for each of
/// its groups, the later group sharing most members, who joined, who left
/// and whether the key player changed. Audited as an analysis.
pub async fn compare_analysis(store: &Store, caller: &Caller, id: &AnalysisId, request: &AnalysisRequest) -> CaseResult<Comparison> {
    require(store, caller, Capability::AnalyseNetworks).await?;
    let (stored, earlier, earlier_window) = load_saved(store, caller, id).await?;
    let window = window_of(request)?;
    let later = run_analysis(store, caller, window).await?;
    let reason = format!(
        "compared with saved analysis {}; window {} to {}; input sha256 {}",
        id.as_str(),
        date_text(window.from),
        date_text(window.to),
        later.run.input_sha256
    );
    audit(store, caller, AuditAction::NetworkAnalyse, AuditRecordKind::NetworkAnalysis, id.as_str(), &reason).await?;
    // Who joined and left, over every member of each group.
    let member_ids = |group: &SavedGroup| group.members.iter().map(|member| member.entity_id.clone()).collect::<BTreeSet<String>>();
    let mut moves: Vec<Move> = Vec::new();
    for (index, before) in earlier.result.groups.iter().enumerate() {
        let members = member_ids(before);
        let after = later
            .result
            .groups
            .iter()
            .enumerate()
            .map(|(number, after)| (after.members.iter().filter(|member| members.contains(&member.entity_id)).count(), number))
            .filter(|(shared, _)| *shared > 0)
            .max_by(|left, right| left.0.cmp(&right.0).then(right.1.cmp(&left.1)))
            .map(|(_, number)| number);
        let after_members = after.map(|number| member_ids(&later.result.groups[number])).unwrap_or_default();
        let joined = after_members.difference(&members).cloned().collect();
        let left = members.difference(&after_members).cloned().collect();
        moves.push((index, after, joined, left));
    }
    let named: BTreeSet<String> =
        moves.iter().flat_map(|(_, _, joined, left)| joined.iter().take(MEMBERS_SHOWN).chain(left.iter().take(MEMBERS_SHOWN)).cloned()).collect();
    let visible = visible_entities(store, caller, &named).await?;
    let earlier = view_of(store, caller, Some(stored.id), Some(stored.name), Some(stored.created_at_ms), earlier_window, earlier).await?;
    let later = view_of(store, caller, None, None, None, window, later).await?;
    let key_of = |view: &AnalysisView, index: usize| {
        view.groups
            .iter()
            .find(|group| group.number == index + 1)
            .and_then(|group| group.key_players.first().or(group.members.first()))
            .map(|member| member.entity.clone())
    };
    let shown = |ids: &[String]| ids.iter().take(MEMBERS_SHOWN).filter_map(|id| visible.get(id).cloned()).collect::<Vec<_>>();
    let changes = moves
        .iter()
        .filter(|(index, ..)| earlier.groups.iter().any(|group| group.number == index + 1))
        .map(|(index, after, joined, left)| GroupChange {
            earlier: index + 1,
            later: after.map(|number| number + 1),
            joined_count: joined.len(),
            joined: shown(joined),
            left_count: left.len(),
            left: shown(left),
            key_before: key_of(&earlier, *index),
            key_after: after.and_then(|number| key_of(&later, number)),
        })
        .collect();
    Ok(Comparison { earlier, later, changes })
}

/// Gives a person (whom the caller may see) a role in the organisation's
/// assessment, or clears it; audited.
pub async fn assign_role(store: &Store, caller: &Caller, entity_id: &EntityId, role: Option<RoleInProcess>) -> CaseResult<()> {
    require(store, caller, Capability::AnalyseNetworks).await?;
    let ids: BTreeSet<String> = [entity_id.as_str().to_owned()].into();
    let visible = visible_entities(store, caller, &ids).await?;
    let entity = visible.get(entity_id.as_str()).ok_or(CaseError::NotFound)?;
    if entity.kind != ValueKind::Person {
        return Err(CaseError::invalid("role", "Only a person has a role in a group"));
    }
    let (_turn, mut transaction) = store.begin_write().await?;
    crate::networks::set_role(&mut transaction, caller.organisation_id(), entity_id, role.map(RoleInProcess::as_str), &caller.user_id, now_ms()).await?;
    let reason = role.map_or_else(|| "role cleared".to_owned(), |role| format!("role {}", role.as_str()));
    record(&mut transaction, caller, AuditAction::NetworkRoleAssign, Subject { kind: AuditRecordKind::Entity, id: entity_id.as_str() }, Some(&reason)).await?;
    transaction.commit().await?;
    Ok(())
}
