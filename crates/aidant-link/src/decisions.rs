//! Analysts' decisions about people, and how the linker honours them.
//!
//! An analyst can say that two records are the same person, that they are
//! not, or that a record should be taken out of the person it was put in.
//! The linker's own links stay as evidence; the decisions constrain how the
//! links are grouped into people:
//!
//! - "same" joins two records whatever the links say;
//! - "apart" never lets two records be in one person, however the links
//!   chain them;
//! - "alone" keeps a record out of every automatic link: it is a person of
//!   its own unless an analyst says it is the same as another.
//!
//! [`constrained_groups`] groups records under these rules, strongest link
//! first, like single-linkage clustering that refuses a join a decision
//! forbids; [`restrict_merge`] applies "apart" to one addition that would
//! merge people, keeping the strongest-linked people that may be one.

use std::collections::HashSet;

use crate::incremental::{Decision, EntityEvent, EntityId};
use crate::model::probability_of_weight;

/// What analysts decided about a set of records, by their positions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraints {
    pub same: Vec<(usize, usize)>,
    pub apart: Vec<(usize, usize)>,
    pub alone: Vec<usize>,
}

struct Groups {
    parent: Vec<usize>,
}

impl Groups {
    fn new(count: usize) -> Self {
        Groups { parent: (0..count).collect() }
    }

    fn find(&mut self, mut record: usize) -> usize {
        while self.parent[record] != record {
            self.parent[record] = self.parent[self.parent[record]];
            record = self.parent[record];
        }
        record
    }

    /// Joins two groups, the smaller root under the larger so the
    /// root of a group is the same whichever order its joins came in.
    fn join(&mut self, left: usize, right: usize) {
        let (left, right) = (self.find(left), self.find(right));
        if left != right {
            let (root, child) = if left < right { (left, right) } else { (right, left) };
            self.parent[child] = root;
        }
    }

    /// True when joining the groups of `left` and `right` would put both
    /// records of an "apart" pair in one group.
    fn would_break(&mut self, left: usize, right: usize, apart: &[(usize, usize)]) -> bool {
        let (left, right) = (self.find(left), self.find(right));
        apart.iter().any(|&(a, b)| {
            let (a, b) = (self.find(a), self.find(b));
            (a == left && b == right) || (a == right && b == left)
        })
    }
}

/// Groups `record_count` records into people: first every "same" pair,
/// then each link (`(left, right, weight)`) strongest first, skipping links
/// that touch an "alone" record and joins that would put an "apart" pair
/// together. Returns each record's group as the smallest position in it.
///
/// Ties between equal weights are broken by the positions, so the grouping
/// depends only on its inputs, never on their order.
pub fn constrained_groups(record_count: usize, links: &[(usize, usize, f32)], constraints: &Constraints) -> Vec<usize> {
    let mut groups = Groups::new(record_count);
    let in_range = |record: usize| record < record_count;
    for &(left, right) in &constraints.same {
        if in_range(left) && in_range(right) {
            groups.join(left, right);
        }
    }
    let alone: HashSet<usize> = constraints.alone.iter().copied().collect();
    let apart: Vec<(usize, usize)> = constraints.apart.iter().copied().filter(|&(a, b)| in_range(a) && in_range(b)).collect();
    let mut ordered: Vec<(usize, usize, f32)> = links
        .iter()
        .filter(|(left, right, _)| in_range(*left) && in_range(*right) && !alone.contains(left) && !alone.contains(right))
        .map(|&(left, right, weight)| (left.min(right), left.max(right), weight))
        .collect();
    ordered.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    for (left, right, _) in ordered {
        if groups.find(left) != groups.find(right) && !groups.would_break(left, right, &apart) {
            groups.join(left, right);
        }
    }
    (0..record_count).map(|record| groups.find(record)).collect()
}

/// Applies "apart" decisions to an addition that merges people: `apart`
/// lists pairs of the matched entities that hold records decided apart.
/// The people the record matches are taken strongest link first, each kept
/// when it may be one with those kept before; the record joins the oldest
/// kept, and the others stay as they are. Returns the decision unchanged
/// when nothing it merges is apart.
pub fn restrict_merge(decision: Decision, entity_of_link: &[EntityId], apart: &[(EntityId, EntityId)]) -> Decision {
    if decision.absorbed.is_empty() || apart.is_empty() {
        return decision;
    }
    let conflicts = |a: EntityId, b: EntityId| apart.iter().any(|&(x, y)| (x == a && y == b) || (x == b && y == a));
    let mut kept: Vec<EntityId> = Vec::new();
    for (entity, _) in entity_of_link.iter().zip(&decision.links) {
        if !kept.contains(entity) && kept.iter().all(|other| !conflicts(*other, *entity)) {
            kept.push(*entity);
        }
    }
    kept.sort_unstable();
    let Some((&surviving, absorbed)) = kept.split_first() else { return decision };
    let record_id = match decision.outcome.events.first() {
        Some(EntityEvent::Merged { record_id, .. }) => record_id.clone(),
        _ => return decision,
    };
    let strongest = decision
        .links
        .iter()
        .zip(entity_of_link)
        .find(|(_, entity)| **entity == surviving)
        .map_or(0.0, |((_, weight), _)| probability_of_weight(f64::from(*weight)));
    let event = if absorbed.is_empty() {
        EntityEvent::Attached { entity: surviving, record_id, match_probability: strongest }
    } else {
        EntityEvent::Merged {
            surviving,
            absorbed: absorbed.to_vec(),
            reason: format!("record {record_id} matches people that analysts have not decided apart"),
            record_id,
        }
    };
    let mut outcome = decision.outcome;
    outcome.entity = surviving;
    outcome.events = vec![event];
    Decision { outcome, links: decision.links, absorbed: absorbed.to_vec(), created: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::AddOutcome;
    use proptest::prelude::*;

    fn constraints(same: &[(usize, usize)], apart: &[(usize, usize)], alone: &[usize]) -> Constraints {
        Constraints { same: same.to_vec(), apart: apart.to_vec(), alone: alone.to_vec() }
    }

    #[test]
    fn links_chain_records_into_one_person_unless_a_pair_is_apart() {
        let links = [(0, 1, 9.0), (1, 2, 5.0), (2, 3, 8.0)];
        assert_eq!(constrained_groups(4, &links, &Constraints::default()), vec![0, 0, 0, 0]);
        // 0 and 3 apart: the weakest link on the chain between them gives way.
        assert_eq!(constrained_groups(4, &links, &constraints(&[], &[(0, 3)], &[])), vec![0, 0, 2, 2]);
    }

    #[test]
    fn an_alone_record_joins_only_by_a_same_decision() {
        let links = [(0, 1, 9.0), (1, 2, 9.0)];
        assert_eq!(constrained_groups(3, &links, &constraints(&[], &[], &[1])), vec![0, 1, 2]);
        assert_eq!(constrained_groups(3, &links, &constraints(&[(1, 2)], &[], &[1])), vec![0, 1, 1]);
    }

    #[test]
    fn a_same_decision_joins_records_with_no_link() {
        assert_eq!(constrained_groups(3, &[], &constraints(&[(2, 0)], &[], &[])), vec![0, 1, 0]);
    }

    #[test]
    fn positions_out_of_range_are_ignored() {
        assert_eq!(constrained_groups(2, &[(0, 5, 3.0)], &constraints(&[(7, 1)], &[(0, 9)], &[8])), vec![0, 1]);
    }

    fn merging(entities: &[u64], weights: &[f32]) -> (Decision, Vec<EntityId>) {
        let mut sorted: Vec<EntityId> = entities.iter().map(|entity| EntityId(*entity)).collect();
        let entity_of_link = sorted.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let decision = Decision {
            outcome: AddOutcome {
                entity: sorted[0],
                matches: Vec::new(),
                events: vec![EntityEvent::Merged { surviving: sorted[0], absorbed: sorted[1..].to_vec(), record_id: "new".to_owned(), reason: String::new() }],
            },
            links: weights.iter().enumerate().map(|(position, weight)| (position, *weight)).collect(),
            absorbed: sorted[1..].to_vec(),
            created: false,
        };
        (decision, entity_of_link)
    }

    #[test]
    fn a_merge_of_people_decided_apart_keeps_the_strongest_and_leaves_the_other() {
        let (decision, entity_of_link) = merging(&[7, 3], &[12.0, 6.0]);
        let restricted = restrict_merge(decision, &entity_of_link, &[(EntityId(3), EntityId(7))]);
        assert_eq!(restricted.outcome.entity, EntityId(7));
        assert!(restricted.absorbed.is_empty());
        assert!(matches!(restricted.outcome.events[0], EntityEvent::Attached { entity: EntityId(7), .. }));
        let (decision, entity_of_link) = merging(&[7, 3, 5], &[12.0, 6.0, 4.0]);
        let restricted = restrict_merge(decision, &entity_of_link, &[(EntityId(3), EntityId(7))]);
        assert_eq!((restricted.outcome.entity, restricted.absorbed.clone()), (EntityId(5), vec![EntityId(7)]));
    }

    #[test]
    fn a_merge_with_no_decision_against_it_is_unchanged() {
        let (decision, entity_of_link) = merging(&[7, 3], &[12.0, 6.0]);
        assert_eq!(restrict_merge(decision.clone(), &entity_of_link, &[(EntityId(1), EntityId(2))]).absorbed, decision.absorbed);
    }

    proptest! {
        #[test]
        fn no_group_holds_an_apart_pair_and_same_pairs_are_together(
            links in prop::collection::vec((0usize..12, 0usize..12, 0.0f32..20.0), 0..40),
            apart in prop::collection::vec((0usize..12, 0usize..12), 0..6),
            same in prop::collection::vec((0usize..12, 0usize..12), 0..3),
        ) {
            // Contradictory decisions are refused before they are stored:
            // keep only apart pairs the same pairs do not already join.
            let same_only = constrained_groups(12, &[], &constraints(&same, &[], &[]));
            let apart: Vec<(usize, usize)> = apart.into_iter().filter(|(a, b)| same_only[*a] != same_only[*b]).collect();
            let groups = constrained_groups(12, &links, &constraints(&same, &apart, &[]));
            for (a, b) in &apart {
                prop_assert_ne!(groups[*a], groups[*b]);
            }
            for (a, b) in &same {
                prop_assert_eq!(groups[*a], groups[*b]);
            }
            let mut reversed = links.clone();
            reversed.reverse();
            prop_assert_eq!(constrained_groups(12, &reversed, &constraints(&same, &apart, &[])), groups);
        }
    }
}
