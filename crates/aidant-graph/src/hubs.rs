//! Hub damping: finds values shared by very many otherwise unrelated people or records (a hostel,
//! motorway services, a taxi firm's number), which would otherwise fuse unconnected people into
//! one "network", and lists them with reasons so an analyst can confirm or override each one.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analysis::TimeWindow;
use crate::model::{EntityKind, NetworkGraph};

/// How hubs are recognised. A non-person entity is a hub when it meets either rule.
///
/// **People.** It is linked to at least `threshold` distinct people, where the threshold is the
/// larger of `minimum_distinct_persons` and `percentile_multiple` times the `percentile` of the
/// same count over all non-person entities linked to anyone, *and* few of those people are
/// related to each other otherwise (at most `maximum_related_pair_share` of their pairs have a
/// direct relation). The second test keeps a gang's shared safe house, whose residents know each
/// other, from being damped. The percentile only counts once at least `percentile_minimum_sample`
/// entities are linked to anyone: in a small network it would mostly measure the candidate hubs
/// themselves.
///
/// **Records** (only when `minimum_distinct_records` is set). It is linked to others in at least
/// a threshold of distinct records (the source references of its relations), found as for people
/// from `minimum_distinct_records` and the percentile of the same count; those records come from
/// at least `minimum_distinct_sources` sources ([`NetworkGraph::reference_source`]); *and* few of
/// those records are related otherwise: at most `maximum_related_pair_share` of their pairs name
/// a third thing in common. This is the rule for a network built from records that name few
/// people, such as public reports about a motorway services. A value that is itself in at least
/// the threshold of records does not relate two records, so two hubs always named together (the
/// services and its postcode) do not hide each other; a safe house whose reports share the gang's
/// phones and van still is no hub, as long as those are not hubs themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HubDetectionOptions {
    pub minimum_distinct_persons: usize,
    /// Turns the records rule on: the fewest distinct records before an entity can be a hub.
    #[serde(default)]
    pub minimum_distinct_records: Option<usize>,
    /// For the records rule: the fewest distinct sources those records must come from (0 and 1
    /// both mean any).
    #[serde(default)]
    pub minimum_distinct_sources: usize,
    pub percentile: f64,
    pub percentile_multiple: f64,
    pub percentile_minimum_sample: usize,
    pub maximum_related_pair_share: f64,
    pub window: TimeWindow,
    /// Entity ids the analyst says are not hubs, whatever the counts say.
    pub never_hubs: Vec<String>,
    /// Entity ids the analyst says are hubs, whatever the counts say.
    pub always_hubs: Vec<String>,
}

impl Default for HubDetectionOptions {
    fn default() -> Self {
        Self {
            minimum_distinct_persons: 10,
            minimum_distinct_records: None,
            minimum_distinct_sources: 1,
            percentile: 0.9,
            percentile_multiple: 5.0,
            percentile_minimum_sample: 20,
            maximum_related_pair_share: 0.2,
            window: TimeWindow::ALL_TIME,
            never_hubs: Vec::new(),
            always_hubs: Vec::new(),
        }
    }
}

/// Who decided an entity's hub status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HubDecision {
    /// Detected by the rule; damped unless overridden.
    Detected,
    /// Detected by the rule but the analyst said it is not a hub; not damped.
    OverriddenNotHub,
    /// Named a hub by the analyst; damped.
    AnalystDesignated,
}

/// Which rule of [`HubDetectionOptions`] an entity met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HubRule {
    DistinctPeople,
    DistinctRecords,
}

/// One entity considered a hub, with the figures behind the decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HubFinding {
    pub entity_id: String,
    pub kind: EntityKind,
    pub label: String,
    pub distinct_persons: usize,
    /// Share of pairs of those people with a direct relation of their own.
    pub related_pair_share: f64,
    pub threshold: usize,
    /// Distinct records (source references) in which the entity is linked to anything.
    pub distinct_records: usize,
    /// Distinct sources of those records.
    pub distinct_sources: usize,
    /// Share of pairs of those records that name a third thing in common; `None` when the
    /// records rule is off or the counts fell short, so it was not worked out.
    pub related_record_pair_share: Option<f64>,
    /// The records threshold, when the records rule is on.
    pub record_threshold: Option<usize>,
    /// The rules the entity met; empty for one only the analyst named a hub.
    pub rules: Vec<HubRule>,
    pub decision: HubDecision,
    pub reason: String,
}

impl HubFinding {
    /// Whether analyses should damp this entity.
    pub fn is_damped(&self) -> bool {
        self.decision != HubDecision::OverriddenNotHub
    }
}

/// Ids of the findings that analyses should damp, for [`crate::AnalysisOptions::hub_entity_ids`].
pub fn damped_hub_ids(findings: &[HubFinding]) -> Vec<String> {
    findings.iter().filter(|finding| finding.is_damped()).map(|finding| finding.entity_id.clone()).collect()
}

/// A count threshold and how it was reached, for the reason an analyst reads.
struct Threshold {
    value: usize,
    explanation: String,
}

impl Threshold {
    /// The larger of `minimum` and the percentile rule over `counts` (one per linked entity).
    fn of(mut counts: Vec<usize>, minimum: usize, options: &HubDetectionOptions) -> Self {
        counts.sort_unstable();
        let too_few = counts.len() < options.percentile_minimum_sample.max(1);
        let percentile_value = if too_few {
            0
        } else {
            let rank = (options.percentile.clamp(0.0, 1.0) * counts.len() as f64).ceil() as usize;
            counts[rank.clamp(1, counts.len()) - 1]
        };
        let value = minimum.max((options.percentile_multiple * percentile_value as f64).ceil() as usize).max(2);
        let explanation = if too_few {
            format!("at least {minimum}; too few linked entities ({}) for a percentile", counts.len())
        } else {
            format!(
                "at least {minimum} and {} x the {}th percentile ({percentile_value}) over {} linked entities",
                options.percentile_multiple,
                (options.percentile * 100.0).round(),
                counts.len()
            )
        };
        Threshold { value, explanation }
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Finds hubs in a network; the result is ordered by decreasing number of people, then of
/// records, then id.
pub fn detect_hubs(network: &NetworkGraph, options: &HubDetectionOptions) -> Vec<HubFinding> {
    let entities = network.entities();
    let is_person = |entity: usize| entities[entity].kind == EntityKind::Person;
    let mut persons_of: HashMap<usize, HashSet<usize>> = HashMap::new();
    let mut person_links: HashMap<usize, HashSet<usize>> = HashMap::new();
    // For each entity, the records it is linked in, each with what it is linked to there.
    let mut records_of: HashMap<usize, BTreeMap<&str, Vec<usize>>> = HashMap::new();
    for relation in network.relations() {
        if !options.window.admits(relation) || relation.source == relation.target {
            continue;
        }
        match (is_person(relation.source), is_person(relation.target)) {
            (true, true) => {
                person_links.entry(relation.source).or_default().insert(relation.target);
                person_links.entry(relation.target).or_default().insert(relation.source);
            }
            (true, false) => {
                persons_of.entry(relation.target).or_default().insert(relation.source);
            }
            (false, true) => {
                persons_of.entry(relation.source).or_default().insert(relation.target);
            }
            (false, false) => {}
        }
        if options.minimum_distinct_records.is_some() && !relation.source_reference.is_empty() {
            let reference = relation.source_reference.as_str();
            records_of.entry(relation.source).or_default().entry(reference).or_default().push(relation.target);
            records_of.entry(relation.target).or_default().entry(reference).or_default().push(relation.source);
        }
    }
    let person_threshold = Threshold::of(persons_of.values().map(HashSet::len).collect(), options.minimum_distinct_persons, options);
    let record_counts = || records_of.iter().filter(|(entity, _)| !is_person(**entity)).map(|(_, records)| records.len()).collect();
    let record_threshold = options.minimum_distinct_records.map(|minimum| Threshold::of(record_counts(), minimum, options));
    let minimum_sources = options.minimum_distinct_sources.max(1);
    let never: HashSet<&str> = options.never_hubs.iter().map(String::as_str).collect();
    let always: HashSet<&str> = options.always_hubs.iter().map(String::as_str).collect();
    let empty = HashSet::new();
    let no_records = BTreeMap::new();
    let mut findings = Vec::new();
    for (position, entity) in entities.iter().enumerate() {
        let persons = persons_of.get(&position).unwrap_or(&empty);
        let related_pairs: usize = persons
            .iter()
            .map(|person| person_links.get(person).map_or(0, |links| links.iter().filter(|other| persons.contains(other)).count()))
            .sum::<usize>()
            / 2;
        let pairs = persons.len() * persons.len().saturating_sub(1) / 2;
        let related_pair_share = if pairs == 0 { 0.0 } else { related_pairs as f64 / pairs as f64 };
        let meets_people_rule = !is_person(position) && persons.len() >= person_threshold.value && related_pair_share <= options.maximum_related_pair_share;

        let records = records_of.get(&position).unwrap_or(&no_records);
        let distinct_sources = records.keys().map(|reference| network.reference_source(reference)).collect::<HashSet<_>>().len();
        let related_record_pair_share = match &record_threshold {
            Some(threshold) if !is_person(position) && records.len() >= threshold.value && distinct_sources >= minimum_sources => {
                // A value in as many records as a hub needs says nothing about two records.
                let says_nothing = |other: usize| records_of.get(&other).is_some_and(|its_records| its_records.len() >= threshold.value);
                Some(related_record_pair_share(records, says_nothing))
            }
            _ => None,
        };
        let meets_records_rule = related_record_pair_share.is_some_and(|share| share <= options.maximum_related_pair_share);

        let rules: Vec<HubRule> = [(meets_people_rule, HubRule::DistinctPeople), (meets_records_rule, HubRule::DistinctRecords)]
            .into_iter()
            .filter_map(|(met, rule)| met.then_some(rule))
            .collect();
        let meets_rule = !rules.is_empty();
        let decision = if always.contains(entity.id.as_str()) {
            HubDecision::AnalystDesignated
        } else if meets_rule && never.contains(entity.id.as_str()) {
            HubDecision::OverriddenNotHub
        } else if meets_rule {
            HubDecision::Detected
        } else {
            continue;
        };
        let reason = match decision {
            HubDecision::AnalystDesignated if records.is_empty() => format!("named a hub by the analyst; linked to {} people", persons.len()),
            HubDecision::AnalystDesignated => {
                format!("named a hub by the analyst; linked to {} people, in {}", persons.len(), plural(records.len(), "record", "records"))
            }
            _ => {
                let mut clauses = Vec::new();
                if meets_people_rule {
                    clauses.push(format!(
                        "is linked to {} distinct people (threshold {}: {}); only {:.0}% of those people's pairs are related otherwise (at most {:.0}% allowed)",
                        persons.len(),
                        person_threshold.value,
                        person_threshold.explanation,
                        related_pair_share * 100.0,
                        options.maximum_related_pair_share * 100.0,
                    ));
                }
                if let (true, Some(threshold), Some(share)) = (meets_records_rule, &record_threshold, related_record_pair_share) {
                    clauses.push(format!(
                        "is linked to others in {} distinct records from {} (threshold {}: {}; at least {}); only {:.0}% of those records' pairs name anything else in common (at most {:.0}% allowed)",
                        records.len(),
                        plural(distinct_sources, "source", "sources"),
                        threshold.value,
                        threshold.explanation,
                        plural(minimum_sources, "source", "sources"),
                        share * 100.0,
                        options.maximum_related_pair_share * 100.0,
                    ));
                }
                format!(
                    "{} '{}' {}{}",
                    entity.kind,
                    entity.label,
                    clauses.join("; and "),
                    if decision == HubDecision::OverriddenNotHub { "; the analyst overrode this: not a hub" } else { "" }
                )
            }
        };
        findings.push(HubFinding {
            entity_id: entity.id.clone(),
            kind: entity.kind,
            label: entity.label.clone(),
            distinct_persons: persons.len(),
            related_pair_share,
            threshold: person_threshold.value,
            distinct_records: records.len(),
            distinct_sources,
            related_record_pair_share,
            record_threshold: record_threshold.as_ref().map(|threshold| threshold.value),
            rules,
            decision,
            reason,
        });
    }
    findings.sort_by(|a, b| {
        b.distinct_persons.cmp(&a.distinct_persons).then_with(|| b.distinct_records.cmp(&a.distinct_records)).then_with(|| a.entity_id.cmp(&b.entity_id))
    });
    findings
}

/// The share of pairs of `records` (each with the entities linked in it) that have an entity in
/// common, leaving out entities `says_nothing` picks. Work grows with the sum over shared
/// entities of the square of how many of these records name each, which the caller bounds by
/// leaving out the entities that are in very many records.
fn related_record_pair_share(records: &BTreeMap<&str, Vec<usize>>, says_nothing: impl Fn(usize) -> bool) -> f64 {
    let count = records.len();
    let pairs = count * count.saturating_sub(1) / 2;
    if pairs == 0 {
        return 0.0;
    }
    // Which records (by position, ascending) name each entity, and the reverse.
    let mut records_naming: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut named_in: Vec<Vec<usize>> = Vec::with_capacity(count);
    for (position, linked) in records.values().enumerate() {
        let mut shared: Vec<usize> = linked.iter().copied().filter(|&entity| !says_nothing(entity)).collect();
        shared.sort_unstable();
        shared.dedup();
        for &entity in &shared {
            records_naming.entry(entity).or_default().push(position);
        }
        named_in.push(shared);
    }
    // Each later record related to `position` is counted once, however many things they share:
    // `marked[later] == position` says it has been counted already.
    let mut marked = vec![usize::MAX; count];
    let mut related = 0usize;
    for (position, shared) in named_in.iter().enumerate() {
        for entity in shared {
            let naming = &records_naming[entity];
            for &later in &naming[naming.partition_point(|&other| other <= position)..] {
                if marked[later] != position {
                    marked[later] = position;
                    related += 1;
                }
            }
        }
    }
    related as f64 / pairs as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entity, RelationKind};

    /// A hostel housing 30 strangers, a safe house housing 12 people who all know each other, and
    /// 20 phones each used by one of them, as most phones are.
    fn network() -> NetworkGraph {
        let mut network = NetworkGraph::new();
        let mut add = |id: &str, kind| {
            network.add_entity(Entity { id: id.into(), kind, label: id.into(), role: None }).unwrap();
        };
        add("hostel", EntityKind::Address);
        add("safe_house", EntityKind::Address);
        for person in 0..42 {
            add(&format!("p{person}"), EntityKind::Person);
        }
        for phone in 0..20 {
            network.add_entity(Entity { id: format!("phone{phone}"), kind: EntityKind::Phone, label: "07700900000".into(), role: None }).unwrap();
            network.add_relation_by_id(&format!("p{phone}"), &format!("phone{phone}"), RelationKind::UsesPhone, None, None, "r", 1.0).unwrap();
        }
        for person in 0..30 {
            network.add_relation_by_id(&format!("p{person}"), "hostel", RelationKind::LivesAt, None, None, "r", 1.0).unwrap();
        }
        for person in 30..42 {
            network.add_relation_by_id(&format!("p{person}"), "safe_house", RelationKind::LivesAt, None, None, "r", 1.0).unwrap();
            for other in (person + 1)..42 {
                network.add_relation_by_id(&format!("p{person}"), &format!("p{other}"), RelationKind::Associate, None, None, "r", 1.0).unwrap();
            }
        }
        network
    }

    #[test]
    fn strangers_sharing_an_address_make_a_hub_but_a_gang_does_not() {
        let findings = detect_hubs(&network(), &HubDetectionOptions::default());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].entity_id, "hostel");
        assert_eq!(findings[0].distinct_persons, 30);
        assert_eq!(findings[0].decision, HubDecision::Detected);
        assert!(findings[0].reason.contains("30 distinct people"), "{}", findings[0].reason);
        assert_eq!(damped_hub_ids(&findings), vec!["hostel".to_owned()]);
    }

    #[test]
    fn analysts_can_override_in_both_directions() {
        let options = HubDetectionOptions { never_hubs: vec!["hostel".into()], always_hubs: vec!["safe_house".into()], ..Default::default() };
        let findings = detect_hubs(&network(), &options);
        let decisions: Vec<(&str, HubDecision)> = findings.iter().map(|finding| (finding.entity_id.as_str(), finding.decision)).collect();
        assert_eq!(decisions, vec![("hostel", HubDecision::OverriddenNotHub), ("safe_house", HubDecision::AnalystDesignated)]);
        assert_eq!(damped_hub_ids(&findings), vec!["safe_house".to_owned()]);
    }

    /// Records as a network built from reports: each record names a few things, all linked to
    /// each other in that record, with the record's reference as the relation's source.
    struct Records {
        network: NetworkGraph,
        next: usize,
    }

    impl Records {
        fn new() -> Self {
            Records { network: NetworkGraph::new(), next: 0 }
        }

        fn entity(&mut self, id: &str, kind: EntityKind) {
            if self.network.entity_index(id).is_none() {
                self.network.add_entity(Entity { id: id.into(), kind, label: id.into(), role: None }).unwrap();
            }
        }

        /// One record from `source` naming `things` (id and kind), on `day`.
        fn record(&mut self, source: &str, day: &str, things: &[(&str, EntityKind)]) -> String {
            self.next += 1;
            let reference = format!("R{}", self.next);
            self.network.set_reference_source(&reference, source);
            let day = crate::model::parse_seen_date(day).unwrap();
            for (id, kind) in things {
                self.entity(id, *kind);
            }
            for (first, (first_id, _)) in things.iter().enumerate() {
                for (second_id, _) in &things[first + 1..] {
                    self.network.add_relation_by_id(first_id, second_id, RelationKind::MentionedWith, Some(day), Some(day), &reference, 0.5).unwrap();
                }
            }
            reference
        }
    }

    fn by_records(minimum: usize) -> HubDetectionOptions {
        HubDetectionOptions { minimum_distinct_records: Some(minimum), ..Default::default() }
    }

    /// Motorway services (an address and the business of the same name, always named together)
    /// in 30 reports from three organisations, each report about a different phone and van; and
    /// a safe house in 12 reports that name the gang's three phones between them.
    fn services_and_safe_house() -> Records {
        let mut records = Records::new();
        for number in 0..30 {
            let (phone, van) = (format!("phone{number}"), format!("van{number}"));
            let source = ["force", "glaa", "nca"][number % 3];
            records.record(
                source,
                "2026-03-01",
                &[("services", EntityKind::Address), ("services_ltd", EntityKind::Business), (&phone, EntityKind::Phone), (&van, EntityKind::Vehicle)],
            );
        }
        for number in 0..12 {
            let gang_phone = format!("gang_phone{}", number % 3);
            records.record("force", "2026-03-01", &[("safe_house", EntityKind::Address), (&gang_phone, EntityKind::Phone)]);
        }
        records
    }

    fn ids(findings: &[HubFinding]) -> Vec<&str> {
        findings.iter().map(|finding| finding.entity_id.as_str()).collect()
    }

    #[test]
    fn the_records_rule_is_off_unless_asked_for() {
        assert_eq!(detect_hubs(&services_and_safe_house().network, &HubDetectionOptions::default()), []);
    }

    #[test]
    fn a_place_many_unrelated_records_name_is_a_hub_and_its_twin_does_not_hide_it() {
        let findings = detect_hubs(&services_and_safe_house().network, &by_records(10));
        assert_eq!(ids(&findings), ["services", "services_ltd"], "the safe house's reports share the gang's phones: {findings:#?}");
        let services = &findings[0];
        assert_eq!((services.distinct_records, services.distinct_sources, services.record_threshold), (30, 3, Some(10)));
        assert_eq!(services.rules, [HubRule::DistinctRecords]);
        assert_eq!(services.related_record_pair_share, Some(0.0));
        assert!(
            services.reason.starts_with("address 'services' is linked to others in 30 distinct records from 3 sources (threshold 10: at least 10 and 5 x the 90th percentile (1) over 66 linked entities; at least 1 source); "),
            "{}",
            services.reason
        );
        assert!(services.reason.ends_with("only 0% of those records' pairs name anything else in common (at most 20% allowed)"), "{}", services.reason);
    }

    #[test]
    fn a_place_whose_records_share_other_things_is_no_hub() {
        let findings = detect_hubs(&services_and_safe_house().network, &by_records(10));
        assert!(!ids(&findings).contains(&"safe_house"));
        // Asked about, it shows why: a third of its reports' pairs share a phone.
        let options = HubDetectionOptions { always_hubs: vec!["safe_house".into()], ..by_records(10) };
        let safe_house = detect_hubs(&services_and_safe_house().network, &options).into_iter().find(|finding| finding.entity_id == "safe_house").unwrap();
        assert_eq!((safe_house.decision, safe_house.distinct_records), (HubDecision::AnalystDesignated, 12));
        assert_eq!(safe_house.related_record_pair_share, Some(18.0 / 66.0), "3 phones x 6 pairs of their 4 reports, of 66 pairs");
        assert_eq!(safe_house.reason, "named a hub by the analyst; linked to 0 people, in 12 records");
    }

    #[test]
    fn the_records_rule_can_ask_for_several_sources() {
        let options = HubDetectionOptions { minimum_distinct_sources: 4, ..by_records(10) };
        assert_eq!(detect_hubs(&services_and_safe_house().network, &options), []);
        let options = HubDetectionOptions { minimum_distinct_sources: 3, ..by_records(10) };
        assert_eq!(ids(&detect_hubs(&services_and_safe_house().network, &options)), ["services", "services_ltd"]);
    }

    #[test]
    fn records_outside_the_window_are_not_counted() {
        let mut records = services_and_safe_house();
        let window = TimeWindow { from: crate::model::parse_seen_date("2026-04-01").ok(), to: None };
        for number in 0..5 {
            records.record("force", "2026-04-02", &[("services", EntityKind::Address), (&format!("late_phone{number}"), EntityKind::Phone)]);
        }
        let findings = detect_hubs(&records.network, &HubDetectionOptions { window, ..by_records(5) });
        assert_eq!(ids(&findings), ["services"]);
        assert_eq!(findings[0].distinct_records, 5);
    }

    #[test]
    fn people_and_records_are_both_given_as_reasons() {
        let mut records = Records::new();
        for number in 0..12 {
            records.record("force", "2026-03-01", &[("hostel", EntityKind::Address), (&format!("p{number}"), EntityKind::Person)]);
        }
        let findings = detect_hubs(&records.network, &by_records(10));
        assert_eq!(findings[0].rules, [HubRule::DistinctPeople, HubRule::DistinctRecords]);
        let reason = &findings[0].reason;
        assert!(reason.starts_with("address 'hostel' is linked to 12 distinct people (threshold 10: "), "{reason}");
        assert!(reason.contains("; and is linked to others in 12 distinct records from 1 source (threshold 10: "), "{reason}");
    }

    /// Pairs of records with something in common, by brute force.
    fn related_pairs_by_brute_force(records: &[Vec<usize>]) -> usize {
        let mut related = 0;
        for first in 0..records.len() {
            for second in first + 1..records.len() {
                if records[first].iter().any(|entity| records[second].contains(entity)) {
                    related += 1;
                }
            }
        }
        related
    }

    proptest::proptest! {
        #[test]
        fn the_related_share_counts_each_pair_once(
            records in proptest::collection::vec(proptest::collection::vec(0usize..12, 0..5), 0..30),
            ignored in 0usize..14,
        ) {
            let references: Vec<String> = (0..records.len()).map(|position| format!("R{position:03}")).collect();
            let by_reference: BTreeMap<&str, Vec<usize>> = references.iter().map(String::as_str).zip(records.iter().cloned()).collect();
            let kept: Vec<Vec<usize>> = records.iter().map(|linked| linked.iter().copied().filter(|&entity| entity != ignored).collect()).collect();
            let pairs = records.len() * records.len().saturating_sub(1) / 2;
            let expected = if pairs == 0 { 0.0 } else { related_pairs_by_brute_force(&kept) as f64 / pairs as f64 };
            proptest::prop_assert_eq!(related_record_pair_share(&by_reference, |entity| entity == ignored), expected);
        }

        #[test]
        fn every_detected_hub_meets_a_rule_it_names(
            records in proptest::collection::vec((0usize..3, proptest::collection::vec(0usize..15, 1..5)), 0..60),
            minimum_records in 2usize..8,
            minimum_sources in 0usize..4,
        ) {
            let mut network = Records::new();
            for (source, things) in &records {
                let things: Vec<(String, EntityKind)> = things
                    .iter()
                    .map(|&thing| (format!("e{thing}"), if thing < 3 { EntityKind::Person } else { EntityKind::Address }))
                    .collect();
                let mut distinct: Vec<(&str, EntityKind)> = things.iter().map(|(id, kind)| (id.as_str(), *kind)).collect();
                distinct.sort();
                distinct.dedup();
                network.record(&format!("s{source}"), "2026-01-01", &distinct);
            }
            let options = HubDetectionOptions { minimum_distinct_persons: 3, minimum_distinct_sources: minimum_sources, ..by_records(minimum_records) };
            for finding in detect_hubs(&network.network, &options) {
                proptest::prop_assert_eq!(finding.decision, HubDecision::Detected);
                proptest::prop_assert!(finding.kind != EntityKind::Person);
                proptest::prop_assert!(!finding.rules.is_empty());
                for rule in &finding.rules {
                    match rule {
                        HubRule::DistinctPeople => proptest::prop_assert!(finding.distinct_persons >= finding.threshold && finding.related_pair_share <= 0.2),
                        HubRule::DistinctRecords => {
                            let share = finding.related_record_pair_share.unwrap();
                            proptest::prop_assert!(finding.distinct_records >= finding.record_threshold.unwrap() && finding.distinct_records >= minimum_records);
                            proptest::prop_assert!(finding.distinct_sources >= minimum_sources.max(1) && (0.0..=0.2).contains(&share));
                        }
                    }
                }
            }
        }
    }
}
