//! Names for communities that an analyst can read: a community is called after its most central
//! member, with its size and what kinds of thing it holds, so `"Ion Popescu" and 6 others
//! (4 people, 2 phones, 1 address)` can be spoken of in a briefing where "community 3" cannot.

use serde::{Deserialize, Serialize};

use crate::analysis::AnalysisGraph;
use crate::model::{EntityKind, NetworkGraph};

/// How many members of one kind a community has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub kind: EntityKind,
    pub count: usize,
}

/// One community with its name, its key member and its members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedCommunity {
    /// The community's number as printed, from 1 (the largest).
    pub number: usize,
    /// `"label of the key member" and N others (counts by kind)`.
    pub name: String,
    /// The id of the member the community is named after: the one of highest strength, then
    /// highest degree, then smallest id.
    pub key_member: String,
    pub key_member_label: String,
    pub size: usize,
    /// Members by kind, most numerous first (ties in the order kinds are declared).
    pub kinds: Vec<KindCount>,
    /// Member ids in the analysis graph's node order.
    pub members: Vec<String>,
}

/// Names every community of a partition of `graph` (a community number per node, numbered from
/// 0 as [`crate::leiden::leiden`] returns them). Strength and degree are read from `graph`, so
/// the key member is the most central one under the weighting in force.
pub fn name_communities(network: &NetworkGraph, graph: &AnalysisGraph, membership: &[usize]) -> Vec<NamedCommunity> {
    let community_count = membership.iter().copied().max().map_or(0, |largest| largest + 1);
    let mut members_of: Vec<Vec<usize>> = vec![Vec::new(); community_count];
    for (node, &community) in membership.iter().enumerate().take(graph.node_count()) {
        members_of[community].push(node);
    }
    let entities = network.entities();
    let entity_of = |node: usize| &entities[graph.entity_of(node)];
    members_of
        .iter()
        .enumerate()
        .filter(|(_, members)| !members.is_empty())
        .map(|(community, members)| {
            let key_node = *members
                .iter()
                .max_by(|&&a, &&b| {
                    graph
                        .strength(a)
                        .total_cmp(&graph.strength(b))
                        .then(graph.degree(a).cmp(&graph.degree(b)))
                        .then_with(|| entity_of(b).id.cmp(&entity_of(a).id))
                })
                .expect("a community has members");
            let key_entity = entity_of(key_node);
            let mut counts = vec![0usize; EntityKind::ALL.len()];
            for &node in members {
                let kind = entity_of(node).kind;
                counts[EntityKind::ALL.iter().position(|known| *known == kind).expect("every kind is in ALL")] += 1;
            }
            let mut kinds: Vec<KindCount> =
                EntityKind::ALL.iter().zip(counts).filter(|(_, count)| *count > 0).map(|(&kind, count)| KindCount { kind, count }).collect();
            // A stable sort keeps the declaration order among kinds of equal count.
            kinds.sort_by_key(|entry| std::cmp::Reverse(entry.count));
            let label = if key_entity.label.trim().is_empty() { key_entity.id.as_str() } else { key_entity.label.as_str() };
            NamedCommunity {
                number: community + 1,
                name: community_name(label, members.len(), &kinds),
                key_member: key_entity.id.clone(),
                key_member_label: key_entity.label.clone(),
                size: members.len(),
                kinds,
                members: members.iter().map(|&node| entity_of(node).id.clone()).collect(),
            }
        })
        .collect()
}

/// `"Ion Popescu" and 6 others (4 people, 2 phones, 1 address)`.
fn community_name(label: &str, size: usize, kinds: &[KindCount]) -> String {
    let others = match size.saturating_sub(1) {
        0 => String::new(),
        1 => " and 1 other".to_owned(),
        more => format!(" and {more} others"),
    };
    let counts: Vec<String> = kinds.iter().map(|entry| format!("{} {}", entry.count, kind_noun(entry.kind, entry.count))).collect();
    format!("\"{label}\"{others} ({})", counts.join(", "))
}

/// The English noun for `count` entities of a kind.
pub fn kind_noun(kind: EntityKind, count: usize) -> &'static str {
    let (one, many) = match kind {
        EntityKind::Person => ("person", "people"),
        EntityKind::Phone => ("phone", "phones"),
        EntityKind::Vehicle => ("vehicle", "vehicles"),
        EntityKind::Address => ("address", "addresses"),
        EntityKind::Business => ("business", "businesses"),
        EntityKind::BankAccount => ("bank account", "bank accounts"),
        EntityKind::OnlineAccount => ("online account", "online accounts"),
        EntityKind::Report => ("report", "reports"),
        EntityKind::Operation => ("operation", "operations"),
    };
    if count == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_input::read_network_from_str;
    use crate::{AnalysisOptions, EdgeWeighting};

    const NODES: &str = "id,kind,label\nP1,person,Ion Popescu\nP2,person,Ana\nP3,person,Bela\nPH1,phone,07700900001\nPH2,phone,07700900002\nA1,address,1 High St\nZ,person,Zoltan\n";

    fn check(edges: &str, weighting: EdgeWeighting, membership: &[usize], expected_names: &[&str]) -> Vec<NamedCommunity> {
        let network = read_network_from_str(NODES, edges).unwrap();
        let graph = AnalysisGraph::project(&network, &AnalysisOptions { weighting, ..Default::default() });
        let named = name_communities(&network, &graph, membership);
        assert_eq!(named.iter().map(|community| community.name.as_str()).collect::<Vec<_>>(), expected_names);
        named
    }

    #[test]
    fn a_community_is_named_after_its_most_central_member_with_its_kinds() {
        // P1 has the most links; Z is alone.
        let edges = "source,target,kind\nP1,P2,associate\nP1,P3,associate\nP1,PH1,uses_phone\nP2,PH2,uses_phone\nP3,A1,lives_at\n";
        let named = check(
            edges,
            EdgeWeighting::Uniform,
            &[0, 0, 0, 0, 0, 0, 1],
            &["\"Ion Popescu\" and 5 others (3 people, 2 phones, 1 address)", "\"Zoltan\" (1 person)"],
        );
        assert_eq!((named[0].number, named[0].key_member.as_str(), named[0].size), (1, "P1", 6));
        assert_eq!(named[0].kinds[0], KindCount { kind: EntityKind::Person, count: 3 });
        assert_eq!(named[0].members, ["P1", "P2", "P3", "PH1", "PH2", "A1"]);
    }

    #[test]
    fn strength_decides_before_degree_and_the_smaller_id_breaks_ties() {
        // Under weights, P2's single tie of 9 calls outweighs P1's three ties of 1.
        let edges = "source,target,kind,weight\nP1,P3,associate,\nP1,PH1,uses_phone,\nP1,A1,lives_at,\nP2,PH2,called,9\n";
        let named =
            check(edges, EdgeWeighting::Weight, &[0, 0, 0, 0, 0, 0, 1], &["\"Ana\" and 5 others (3 people, 2 phones, 1 address)", "\"Zoltan\" (1 person)"]);
        assert_eq!(named[0].key_member, "P2");
        // Uniformly, P1 has the highest degree.
        check(
            edges,
            EdgeWeighting::Uniform,
            &[0, 0, 0, 0, 0, 0, 1],
            &["\"Ion Popescu\" and 5 others (3 people, 2 phones, 1 address)", "\"Zoltan\" (1 person)"],
        );
        // P2 and PH2 tie on strength and degree; "P2" sorts before "PH2".
        let named = check(
            edges,
            EdgeWeighting::Uniform,
            &[1, 0, 1, 1, 0, 1, 2],
            &["\"Ana\" and 1 other (1 person, 1 phone)", "\"Ion Popescu\" and 3 others (2 people, 1 phone, 1 address)", "\"Zoltan\" (1 person)"],
        );
        assert_eq!(named[0].key_member, "P2");
    }
}
