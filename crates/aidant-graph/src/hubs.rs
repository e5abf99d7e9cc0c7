//! Hub damping: finds values shared by very many otherwise unrelated people (a hostel, motorway
//! services, a taxi firm's number), which would otherwise fuse unconnected people into one
//! "network", and lists them with reasons so an analyst can confirm or override each one.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analysis::TimeWindow;
use crate::model::{EntityKind, NetworkGraph};

/// How hubs are recognised. A non-person entity is a hub when it is linked to at least
/// `threshold` distinct people, where the threshold is the larger of `minimum_distinct_persons`
/// and `percentile_multiple` times the `percentile` of the same count over all non-person
/// entities linked to anyone, *and* few of those people are related to each other otherwise
/// (at most `maximum_related_pair_share` of their pairs have a direct relation). The second test
/// keeps a gang's shared safe house, whose residents know each other, from being damped. The
/// percentile only counts once at least `percentile_minimum_sample` entities are linked to
/// anyone: in a small network it would mostly measure the candidate hubs themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HubDetectionOptions {
    pub minimum_distinct_persons: usize,
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

/// Finds hubs in a network; the result is ordered by decreasing number of people, then id.
pub fn detect_hubs(network: &NetworkGraph, options: &HubDetectionOptions) -> Vec<HubFinding> {
    let entities = network.entities();
    let is_person = |entity: usize| entities[entity].kind == EntityKind::Person;
    let mut persons_of: HashMap<usize, HashSet<usize>> = HashMap::new();
    let mut person_links: HashMap<usize, HashSet<usize>> = HashMap::new();
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
    }
    let mut counts: Vec<usize> = persons_of.values().map(HashSet::len).collect();
    counts.sort_unstable();
    let percentile_value = if counts.len() < options.percentile_minimum_sample.max(1) {
        0
    } else {
        let rank = (options.percentile.clamp(0.0, 1.0) * counts.len() as f64).ceil() as usize;
        counts[rank.clamp(1, counts.len()) - 1]
    };
    let threshold = options.minimum_distinct_persons.max((options.percentile_multiple * percentile_value as f64).ceil() as usize).max(2);
    let threshold_explanation = if counts.len() < options.percentile_minimum_sample.max(1) {
        format!("at least {}; too few linked entities ({}) for a percentile", options.minimum_distinct_persons, counts.len())
    } else {
        format!(
            "at least {} and {} x the {}th percentile ({percentile_value}) over {} linked entities",
            options.minimum_distinct_persons,
            options.percentile_multiple,
            (options.percentile * 100.0).round(),
            counts.len()
        )
    };
    let never: HashSet<&str> = options.never_hubs.iter().map(String::as_str).collect();
    let always: HashSet<&str> = options.always_hubs.iter().map(String::as_str).collect();
    let empty = HashSet::new();
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
        let meets_rule = !is_person(position) && persons.len() >= threshold && related_pair_share <= options.maximum_related_pair_share;
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
            HubDecision::AnalystDesignated => format!("named a hub by the analyst; linked to {} people", persons.len()),
            _ => format!(
                "{} '{}' is linked to {} distinct people (threshold {threshold}: {threshold_explanation}); only {:.0}% of those people's pairs are related otherwise (at most {:.0}% allowed){}",
                entity.kind,
                entity.label,
                persons.len(),
                related_pair_share * 100.0,
                options.maximum_related_pair_share * 100.0,
                if decision == HubDecision::OverriddenNotHub { "; the analyst overrode this: not a hub" } else { "" }
            ),
        };
        findings.push(HubFinding {
            entity_id: entity.id.clone(),
            kind: entity.kind,
            label: entity.label.clone(),
            distinct_persons: persons.len(),
            related_pair_share,
            threshold,
            decision,
            reason,
        });
    }
    findings.sort_by(|a, b| b.distinct_persons.cmp(&a.distinct_persons).then_with(|| a.entity_id.cmp(&b.entity_id)));
    findings
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
}
