//! Export packages for partners and court, and the disclosure log.
//!
//! An analyst chooses records (by reference) and saved charts and a
//! recipient organisation. What the recipient may not have is left out,
//! not blanked in place: a record only its holder may disclose, and only
//! where its handling conditions allow (`policy::may_disclose`); an entity
//! only when a record in the package names it; and, unless the recipient
//! safeguards victims (`policy::may_receive_victim_identity`), a potential
//! victim, with every phone, account and address never seen apart from a
//! victim, taken out of the entities and out of the records' text.
//! The package is recorded in the disclosure log (who, what, to whom, when,
//! its SHA-256) and the audit log in one transaction before its bytes are
//! returned.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::ids::{ChartId, EntityId, IntelligenceId, OrganisationId};
use aidant_core::policy::{Action, Capability, Decision, may_disclose, may_receive_victim_identity};
use aidant_core::reference::ReportRef;
use aidant_core::report::FieldError;
use sqlx::Row;

use super::{Caller, CaseError, CaseResult, Subject, record, require};
use crate::entities::{Entity, MentionRecord, ValueKind, load_entities, load_mentions_in, load_mentions_of};
use crate::entity_network::{EntityNetworkRows, NetworkMention, NetworkRecord, day_of, network_from_rows};
use crate::package::{Disclosure, PackageContents, PackageRecord, Withheld, WrittenPackage, write_package};
use crate::{Store, StoreError, new_id, now_ms};

/// Records one package holds at most.
pub const PACKAGE_MOST_RECORDS: usize = 500;
/// Disclosures listed at most.
const LISTED: i64 = 500;
/// What replaces a withheld victim's name, phone or address in a text.
pub const WITHHELD_TEXT: &str = "[withheld]";

/// What to put in a package.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageRequest<'a> {
    /// The recipient organisation's id, as the form sends it.
    pub recipient: &'a str,
    /// Report and intelligence references, separated by spaces, commas or lines.
    pub references: &'a str,
    pub charts: Vec<ChartId>,
}

/// A package made: its file name, bytes and what it holds.
#[derive(Debug, Clone)]
pub struct MadePackage {
    pub file_name: String,
    pub written: WrittenPackage,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_owned(), message: message.into() }
}

/// A record the caller chose, found and readable.
enum Chosen {
    Report(crate::reports::StoredReport, Option<OrganisationId>),
    Intelligence(crate::intelligence::IntelligenceRecord),
}

impl Chosen {
    fn kind(&self) -> MentionRecord {
        match self {
            Chosen::Report(..) => MentionRecord::Report,
            Chosen::Intelligence(_) => MentionRecord::Intelligence,
        }
    }

    fn id(&self) -> String {
        match self {
            Chosen::Report(report, _) => report.id.to_string(),
            Chosen::Intelligence(intelligence) => intelligence.id.to_string(),
        }
    }

    fn reference(&self) -> String {
        match self {
            Chosen::Report(report, _) => report.reference.to_string(),
            Chosen::Intelligence(intelligence) => intelligence.reference.clone(),
        }
    }

    fn access(&self) -> aidant_core::policy::RecordAccess {
        match self {
            Chosen::Report(_, owner) => crate::triage::report_access(owner.as_ref()),
            Chosen::Intelligence(intelligence) => intelligence.access(),
        }
    }
}

/// Finds each reference the caller typed among the records they may read;
/// anything else is a field error naming it.
async fn find_records(store: &Store, caller: &Caller, references: &str) -> CaseResult<(Vec<Chosen>, Vec<FieldError>)> {
    let mut chosen = Vec::new();
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    let words: Vec<&str> =
        references.split(|character: char| character.is_whitespace() || character == ',' || character == ';').filter(|word| !word.is_empty()).collect();
    if words.len() > PACKAGE_MOST_RECORDS {
        return Ok((chosen, vec![field("references", format!("A package holds at most {PACKAGE_MOST_RECORDS} records"))]));
    }
    for word in words {
        let not_found = || field("references", format!("{word} is not a report or intelligence record you can see"));
        let upper = word.to_ascii_uppercase();
        let found = if let Some(rest) = upper.strip_prefix("INT-") {
            let reference = ReportRef::parse(rest).map(|reference| format!("INT-{reference}"));
            let id: Option<String> = match &reference {
                Ok(reference) => sqlx::query("SELECT id FROM intelligence WHERE reference = $1")
                    .bind(reference)
                    .fetch_optional(&store.pool)
                    .await?
                    .map(|row| row.try_get("id"))
                    .transpose()?,
                Err(_) => None,
            };
            match id.and_then(|id| IntelligenceId::parse(&id).ok()) {
                Some(id) => {
                    store.find_intelligence(&id).await?.filter(|record| caller.may(Action::ViewIntelligence, &record.access())).map(Chosen::Intelligence)
                }
                None => None,
            }
        } else {
            match ReportRef::parse(word) {
                Ok(reference) => match store.find_report_by_reference(&reference).await? {
                    Some(report) => {
                        let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
                        let owner = crate::entities::load_report_owners(&mut connection, &[report.id.as_str()]).await?.pop().and_then(|(_, owner)| owner);
                        caller.may(Action::ViewReport, &crate::triage::report_access(owner.as_ref())).then_some(Chosen::Report(report, owner))
                    }
                    None => None,
                },
                Err(_) => None,
            }
        };
        match found {
            Some(record) if seen.insert((record.kind(), record.id())) => chosen.push(record),
            Some(_) => {}
            None => errors.push(not_found()),
        }
    }
    Ok((chosen, errors))
}

/// Makes a package for `request.recipient`, records it in the disclosure
/// log and the audit log, and returns it. Bad input, or nothing the
/// recipient may have, is a field error and records nothing.
pub async fn make_package(store: &Store, caller: &Caller, request: &PackageRequest<'_>) -> CaseResult<MadePackage> {
    require(store, caller, Capability::CreateDisclosurePackage).await?;
    let mut errors = Vec::new();
    let recipient = match OrganisationId::parse(request.recipient.trim()) {
        Ok(id) if id == *caller.organisation_id() => {
            errors.push(field("recipient", "Choose another organisation: a package goes to a partner"));
            None
        }
        Ok(id) => {
            let found = store.find_organisation(&id).await?;
            if found.is_none() {
                errors.push(field("recipient", "Choose the organisation to send it to"));
            }
            found
        }
        Err(_) => {
            errors.push(field("recipient", "Choose the organisation to send it to"));
            None
        }
    };
    let (chosen, record_errors) = find_records(store, caller, request.references).await?;
    errors.extend(record_errors);
    let mut chart_entities: BTreeSet<EntityId> = BTreeSet::new();
    for chart in &request.charts {
        match super::networks::open_chart(store, caller, chart).await {
            Ok(open) => chart_entities.extend(open.state.entities.iter().filter_map(|id| EntityId::parse(id).ok())),
            Err(CaseError::NotFound) => errors.push(field("charts", "A chart chosen is not one you can open")),
            Err(error) => return Err(error),
        }
    }
    if errors.is_empty() && chosen.is_empty() && request.charts.is_empty() {
        errors.push(field("references", "Enter at least one report or intelligence reference, or choose a chart"));
    }
    let (Some(recipient), true) = (recipient, errors.is_empty()) else {
        return Err(CaseError::Invalid(errors));
    };

    // What may go: the records the caller's organisation holds and may disclose.
    let now = now_ms();
    let mut withheld = Vec::new();
    let mut disclosed = Vec::new();
    for record in chosen {
        match may_disclose(&caller.actor, &recipient.id, &record.access(), now) {
            Decision::Allow => disclosed.push(record),
            Decision::Deny(reason) => withheld.push(Withheld { what: record.reference(), why: reason.to_owned() }),
        }
    }

    // The entities those records name; a chart's others are left out.
    let keys: Vec<(MentionRecord, String)> = disclosed.iter().map(|record| (record.kind(), record.id())).collect();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mentions = load_mentions_in(&mut connection, &keys).await?;
    drop(connection);
    let named: BTreeSet<EntityId> = mentions.iter().map(|mention| mention.entity_id.clone()).collect();
    let unnamed = chart_entities.iter().filter(|id| !named.contains(*id)).count();
    if unnamed > 0 {
        withheld.push(Withheld {
            what: format!("{unnamed} entities on the charts chosen"),
            why: "no record in this package that may go to the recipient names them".to_owned(),
        });
    }
    if disclosed.is_empty() {
        let reasons: Vec<String> = withheld.iter().map(|withheld| format!("{}: {}", withheld.what, withheld.why)).collect();
        return Err(CaseError::invalid(
            "references",
            format!("Nothing chosen may go to {}. {}", recipient.name, if reasons.is_empty() { String::new() } else { reasons.join("; ") }),
        ));
    }

    // Victims: people every readable record names only as potential
    // victims, or whom the organisation assessed as victims.
    let ids: Vec<EntityId> = named.iter().cloned().collect();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let mut entities: Vec<Entity> = Vec::new();
    for chunk in ids.chunks(500) {
        entities.extend(load_entities(store, &mut connection, chunk).await?);
    }
    drop(connection);
    entities.retain(|entity| entity.merged_into.is_none());
    super::people::name_people(store, caller, &mut entities).await?;
    for entity in entities.iter_mut().filter(|entity| entity.kind == ValueKind::Person) {
        entity.value = entity.id.as_str().to_owned();
    }
    let people: Vec<&EntityId> = entities.iter().filter(|entity| entity.kind == ValueKind::Person).map(|entity| &entity.id).collect();
    let mut victims = super::people::named_only_as_victims(store, caller, &people).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    for (entity, role) in crate::networks::load_roles(&mut connection, caller.organisation_id(), &people).await? {
        if role == aidant_graph::RoleInProcess::Victim.as_str() {
            victims.insert(entity);
        }
    }
    drop(connection);
    let mut hidden: BTreeSet<EntityId> = BTreeSet::new();
    let mut victim_names: BTreeMap<(MentionRecord, String), Vec<String>> = BTreeMap::new();
    if !victims.is_empty() && !may_receive_victim_identity(recipient.kind) {
        hidden.extend(victims.iter().cloned());
        // A phone, account or address goes with the victim when every record
        // the caller may read that names it also names a victim: it was
        // never seen apart from one. The controller's phone, seen in other
        // records too, stays.
        let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
        let mut victim_records: BTreeSet<(MentionRecord, String)> = BTreeSet::new();
        for victim in &victims {
            victim_records.extend(load_mentions_of(&mut connection, victim, 1_000).await?.into_iter().map(|mention| (mention.record, mention.record_id)));
        }
        let mut candidates: Vec<(EntityId, BTreeSet<(MentionRecord, String)>)> = Vec::new();
        for entity in
            entities.iter().filter(|entity| matches!(entity.kind, ValueKind::Phone | ValueKind::Email | ValueKind::OnlineAccount | ValueKind::Address))
        {
            let records = load_mentions_of(&mut connection, &entity.id, 1_000).await?.into_iter().map(|mention| (mention.record, mention.record_id)).collect();
            candidates.push((entity.id.clone(), records));
        }
        drop(connection);
        let asked: BTreeSet<(MentionRecord, String)> = candidates.iter().flat_map(|(_, records)| records.iter().cloned()).collect();
        let readable = super::entities::visible_records(store, caller, &asked).await?;
        for (entity, records) in candidates {
            if records.iter().filter(|record| readable.contains_key(*record)).all(|record| victim_records.contains(record)) {
                hidden.insert(entity);
            }
        }
        for (record, names) in victim_names_in(store, &mentions, &victims).await? {
            victim_names.insert(record, names);
        }
        withheld.push(Withheld {
            what: format!("{} potential victims, and {} phones, accounts or addresses never seen apart from them", victims.len(), hidden.len() - victims.len()),
            why: format!("{} does not safeguard victims, so their identity is taken out of the entities and the text", recipient.name),
        });
    }
    let hidden_values: Vec<(ValueKind, String)> =
        entities.iter().filter(|entity| hidden.contains(&entity.id)).map(|entity| (entity.kind, entity.value.clone())).collect();
    entities.retain(|entity| !hidden.contains(&entity.id));

    // The package's records, texts cleared of what is withheld.
    let records: Vec<PackageRecord> = disclosed
        .iter()
        .map(|record| {
            let key = (record.kind(), record.id());
            let clear =
                |text: &str| without(text, victim_names.get(&key).map(Vec::as_slice).unwrap_or_default(), &hidden_values, victim_names.contains_key(&key));
            match record {
                Chosen::Report(report, _) => {
                    let mut parts = vec![format!("Sector: {}", report.sector)];
                    parts.extend(report.town.iter().map(|town| format!("Town: {town}")));
                    parts.extend(report.business_name.iter().map(|business| format!("Business: {business}")));
                    parts.extend(report.postcode.iter().map(|postcode| format!("Postcode: {postcode}")));
                    parts.extend(report.narrative.iter().map(|narrative| format!("In their words: {narrative}")));
                    PackageRecord {
                        kind: "report",
                        reference: report.reference.to_string(),
                        date: day_text(report.received_at_ms),
                        title: format!("Public report: {}", report.sector),
                        grading: String::new(),
                        conditions: None,
                        text: clear(&parts.join("\n")),
                    }
                }
                Chosen::Intelligence(intelligence) => PackageRecord {
                    kind: "intelligence",
                    reference: intelligence.reference.clone(),
                    date: day_text(intelligence.created_at_ms),
                    title: clear(&intelligence.title),
                    grading: intelligence.grading.code(),
                    conditions: match &intelligence.grading {
                        aidant_core::grading::Grading::ThreeFiveTwo { conditions_text, .. } => conditions_text.clone(),
                        aidant_core::grading::Grading::Legacy5x5x5 { .. } => None,
                    },
                    text: clear(&intelligence.sanitised_text),
                },
            }
        })
        .collect();

    // The network among what goes, one relation per record.
    let kept: BTreeSet<&EntityId> = entities.iter().map(|entity| &entity.id).collect();
    let rows = EntityNetworkRows {
        records: disclosed
            .iter()
            .map(|record| NetworkRecord {
                record: record.kind(),
                id: record.id(),
                reference: record.reference(),
                at_ms: match record {
                    Chosen::Report(report, _) => report.received_at_ms,
                    Chosen::Intelligence(intelligence) => intelligence.created_at_ms,
                },
                organisation_id: Some(caller.organisation_id().clone()),
            })
            .collect(),
        mentions: network_mentions(&mentions, &kept),
        entities: entities.clone(),
    };
    let network = network_from_rows(&rows)?;

    let sender = store.find_organisation(caller.organisation_id()).await?.map(|organisation| organisation.name).unwrap_or_default();
    let author = store.find_user(&caller.user_id).await?.map(|user| user.display_name).unwrap_or_default();
    let id = new_id();
    let contents = PackageContents {
        id: id.clone(),
        created_at: time_text(now),
        sender,
        recipient: recipient.name.clone(),
        created_by: author,
        records,
        network,
        withheld,
    };
    let written = write_package(&contents)?;
    let summary = serde_json::json!({
        "records": written.manifest.records,
        "entities": written.manifest.entities,
        "relations": written.manifest.relations,
        "withheld": written.manifest.withheld,
        "files": written.manifest.files,
    });
    let disclosure = Disclosure {
        id: id.clone(),
        recipient_organisation_id: recipient.id.clone(),
        created_by: caller.user_id.clone(),
        created_at_ms: now,
        contents: summary.to_string(),
        package_sha256: written.sha256.clone(),
        kind: "package".to_owned(),
    };
    let (_turn, mut transaction) = store.begin_write().await?;
    crate::package::insert_disclosure(&mut transaction, caller.organisation_id(), &disclosure).await?;
    let reason = format!(
        "to organisation {}: records {}, entities {}, withheld {}; sha256 {}",
        recipient.id,
        written.manifest.records.len(),
        written.manifest.entities,
        written.manifest.withheld.len(),
        written.sha256
    );
    record(&mut transaction, caller, AuditAction::PackageCreate, Subject { kind: AuditRecordKind::Package, id: &id }, Some(&reason)).await?;
    transaction.commit().await?;
    Ok(MadePackage { file_name: format!("aidant-package-{}.zip", &id[..8]), written })
}

/// The names each record gives the victims it names, as written.
async fn victim_names_in(
    store: &Store,
    mentions: &[crate::entities::Mention],
    victims: &BTreeSet<EntityId>,
) -> CaseResult<BTreeMap<(MentionRecord, String), Vec<String>>> {
    let person_records: Vec<String> = mentions
        .iter()
        .filter(|mention| victims.contains(&mention.entity_id))
        .filter_map(|mention| {
            let position: i64 = mention.field.strip_prefix("people.")?.parse().ok()?;
            Some(crate::people::person_record_id(mention.record, &mention.record_id, position))
        })
        .collect();
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let wanted: Vec<&str> = person_records.iter().map(String::as_str).collect();
    let people = crate::people::load_people_by_id(store.keyring()?, &mut connection, &wanted).await?;
    let mut names: BTreeMap<(MentionRecord, String), Vec<String>> = BTreeMap::new();
    for person in people {
        let entry = names.entry((person.record, person.record_id.clone())).or_default();
        entry.push(person.details.name.clone());
        // The other order too: "POPESCU Ioana" is also written "Ioana Popescu".
        let words: Vec<&str> = person.details.name.split_whitespace().collect();
        if words.len() > 1 {
            entry.push(words.iter().rev().copied().collect::<Vec<_>>().join(" "));
        }
    }
    Ok(names)
}

/// `text` with the victims' names and the withheld values taken out. In a
/// record that names a victim, every phone, email or postcode that is
/// withheld goes, however it is written.
fn without(text: &str, names: &[String], hidden: &[(ValueKind, String)], names_a_victim: bool) -> String {
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    if names_a_victim {
        for value in crate::entities::values_in_text(text, None) {
            if hidden.iter().any(|(kind, key)| *kind == value.kind && *key == value.key) {
                spans.push(value.span);
            }
        }
    }
    let lower = text.to_lowercase();
    for name in names.iter().filter(|name| !name.trim().is_empty()) {
        // Lower-casing keeps byte offsets only for text whose case changes
        // keep lengths; otherwise match as written.
        let haystack = if lower.len() == text.len() { &lower } else { text };
        let needle = if lower.len() == text.len() { name.to_lowercase() } else { name.clone() };
        spans.extend(haystack.match_indices(&needle).map(|(start, found)| start..start + found.len()));
    }
    spans.sort_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
    let mut cleared = String::with_capacity(text.len());
    let mut written = 0;
    for span in spans {
        if span.start < written || !text.is_char_boundary(span.start) || !text.is_char_boundary(span.end) {
            continue;
        }
        cleared.push_str(&text[written..span.start]);
        cleared.push_str(WITHHELD_TEXT);
        written = span.end;
    }
    cleared.push_str(&text[written..]);
    cleared
}

/// One mention per entity and record, of the entities kept.
fn network_mentions(mentions: &[crate::entities::Mention], kept: &BTreeSet<&EntityId>) -> Vec<NetworkMention> {
    let mut by_key: HashMap<(EntityId, MentionRecord, String), NetworkMention> = HashMap::new();
    for mention in mentions.iter().filter(|mention| kept.contains(&mention.entity_id)) {
        let entry = by_key.entry((mention.entity_id.clone(), mention.record, mention.record_id.clone())).or_insert_with(|| NetworkMention {
            entity_id: mention.entity_id.clone(),
            record: mention.record,
            record_id: mention.record_id.clone(),
            first_seen_at_ms: mention.seen_at_ms,
            confidence: mention.confidence,
        });
        entry.first_seen_at_ms = entry.first_seen_at_ms.min(mention.seen_at_ms);
        entry.confidence = entry.confidence.max(mention.confidence);
    }
    let mut mentions: Vec<NetworkMention> = by_key.into_values().collect();
    mentions.sort_by(|left, right| (left.record, &left.record_id, &left.entity_id).cmp(&(right.record, &right.record_id, &right.entity_id)));
    mentions
}

fn day_text(unix_ms: i64) -> String {
    day_of(unix_ms).map(aidant_graph::model::format_date).unwrap_or_default()
}

fn time_text(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .ok()
        .and_then(|moment| moment.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// One line of the disclosure log, as supervisors read it.
#[derive(Debug, Clone, PartialEq)]
pub struct DisclosureLine {
    pub id: String,
    pub recipient: String,
    pub created_by: String,
    pub created_at_ms: i64,
    pub records: Vec<String>,
    pub entities: u64,
    pub withheld: usize,
    pub package_sha256: String,
    /// For a publication to the public (no recipient organisation, no
    /// records named): what it was, in words; `None` for a package.
    pub publication: Option<String>,
}

/// The caller's organisation's disclosure log, newest first (audited).
pub async fn disclosure_log(store: &Store, caller: &Caller) -> CaseResult<Vec<DisclosureLine>> {
    require(store, caller, Capability::ViewDisclosureLog).await?;
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let disclosures = crate::package::load_disclosures(&mut connection, caller.organisation_id(), LISTED).await?;
    drop(connection);
    let mut names: HashMap<String, String> = HashMap::new();
    for organisation in store.list_organisations().await? {
        names.insert(organisation.id.to_string(), organisation.name);
    }
    let mut lines = Vec::with_capacity(disclosures.len());
    for disclosure in disclosures {
        let contents: serde_json::Value = serde_json::from_str(&disclosure.contents).unwrap_or_default();
        let publication = (disclosure.kind == "publication").then(|| {
            let kind = contents["publication"].as_str().unwrap_or("unknown");
            let rows = contents["rows"].as_u64().unwrap_or(0);
            match contents["suppressed"].as_u64() {
                Some(left_out) => format!("Potential victims' data, {kind}: {rows} rows, {left_out} people left out"),
                None => format!("Potential victims' data, {kind} (ε = {}): {rows} rows", contents["epsilon"].as_str().unwrap_or("?")),
            }
        });
        let author = store.find_user(&disclosure.created_by).await?.map(|user| user.display_name).unwrap_or_else(|| disclosure.created_by.to_string());
        lines.push(DisclosureLine {
            created_by: author,
            created_at_ms: disclosure.created_at_ms,
            records: contents["records"]
                .as_array()
                .map(|records| records.iter().filter_map(|record| record.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            entities: contents["entities"].as_u64().unwrap_or(0),
            withheld: contents["withheld"].as_array().map_or(0, Vec::len),
            package_sha256: disclosure.package_sha256,
            recipient: if publication.is_some() {
                "The public".to_owned()
            } else {
                names.get(disclosure.recipient_organisation_id.as_str()).cloned().unwrap_or_else(|| disclosure.recipient_organisation_id.to_string())
            },
            publication,
            id: disclosure.id,
        });
    }
    let (_turn, mut transaction) = store.begin_write().await?;
    record(
        &mut transaction,
        caller,
        AuditAction::DisclosureLogView,
        Subject { kind: AuditRecordKind::DisclosureLog, id: caller.organisation_id().as_str() },
        None,
    )
    .await?;
    transaction.commit().await?;
    Ok(lines)
}

/// The organisations a package may go to: every other one.
pub async fn recipients(store: &Store, caller: &Caller) -> CaseResult<Vec<crate::organisations::Organisation>> {
    require(store, caller, Capability::CreateDisclosurePackage).await?;
    Ok(store.list_organisations().await?.into_iter().filter(|organisation| organisation.id != *caller.organisation_id()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_victims_name_and_withheld_values_leave_the_text_however_written() {
        let hidden = vec![(ValueKind::Phone, "+447700900999".to_owned())];
        let names = vec!["POPESCU Ioana".to_owned(), "Ioana POPESCU".to_owned()];
        let text = "ioana popescu rang 07700 900999; POPESCU Ioana lives there. The boss is on 07700 900123.";
        assert_eq!(without(text, &names, &hidden, true), "[withheld] rang [withheld]; [withheld] lives there. The boss is on 07700 900123.");
        assert_eq!(without(text, &[], &hidden, false), text, "a record naming no victim keeps its numbers");
    }
}
