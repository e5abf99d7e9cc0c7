//! Clustering: connected components of matched pairs, with a guard against chaining through one weak link.

use crate::model::weight_of_probability;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Disjoint sets over record indices, with path halving and union by size.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    pub fn new(count: usize) -> Self {
        UnionFind { parent: (0..count as u32).collect(), size: vec![1; count] }
    }

    pub fn push(&mut self) -> u32 {
        let index = self.parent.len() as u32;
        self.parent.push(index);
        self.size.push(1);
        index
    }

    pub fn find(&mut self, mut node: u32) -> u32 {
        while self.parent[node as usize] != node {
            let grandparent = self.parent[self.parent[node as usize] as usize];
            self.parent[node as usize] = grandparent;
            node = grandparent;
        }
        node
    }

    /// Joins two sets; returns false when they were already one.
    pub fn union(&mut self, left: u32, right: u32) -> bool {
        let (mut left_root, mut right_root) = (self.find(left), self.find(right));
        if left_root == right_root {
            return false;
        }
        if self.size[left_root as usize] < self.size[right_root as usize] {
            std::mem::swap(&mut left_root, &mut right_root);
        }
        self.parent[right_root as usize] = left_root;
        self.size[left_root as usize] += self.size[right_root as usize];
        true
    }
}

/// Clustering settings.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// Pairs at or above this match probability are linked.
    pub threshold_probability: f64,
    /// A cluster that falls apart when links below this probability are removed, and is held by a
    /// single such link, is reported as held by a weak link.
    pub strict_probability: f64,
    /// Clusters larger than this are rebuilt from strong links only (at or above
    /// `strict_probability`): a cluster this big held together by modest links is almost always
    /// several people chained together, while one person's many reports link strongly and stay
    /// together.
    pub max_cluster_size: usize,
    /// Cut the reported weak links as well as reporting them. On by default: on the synthetic
    /// benchmark a single weak bridge joins two different people far more often than not.
    pub split_weak_links: bool,
    /// Re-check every cluster of three or more records against all its pairs (`split_by_all_pairs`):
    /// parts whose pairs taken together speak against being one person are split apart.
    pub check_all_pairs: bool,
    /// The mean log2 match weight between two linked parts of a cluster below which
    /// `split_by_all_pairs` keeps them apart. -3 (odds of 1 to 8) rather than even odds: reports of
    /// one person that were each damaged differently (FEBRL3's duplicates) can disagree mildly on
    /// average, while two relatives chained through a shared record disagree strongly (different
    /// given names, dates of birth decades apart). Measured: FEBRL3 cluster F1 0.9973 at 0 and
    /// 0.9986 at -3 to -15; synthetic 100k 0.9883 at 0, 0.9896 at -3, 0.9874 at -6.
    #[serde(default = "default_split_below_weight")]
    pub split_below_weight: f64,
}

fn default_split_below_weight() -> f64 {
    ClusterConfig::default().split_below_weight
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            threshold_probability: 0.5,
            strict_probability: 0.95,
            max_cluster_size: 25,
            split_weak_links: true,
            check_all_pairs: true,
            split_below_weight: -3.0,
        }
    }
}

/// A link that alone holds two parts of a cluster together and is below the strict threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeakLink {
    pub cluster: u32,
    pub left: u32,
    pub right: u32,
    pub match_weight: f32,
}

/// Cluster of each record (numbered from 0 in order of each cluster's first record) and the weak links.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Clustering {
    pub cluster_of: Vec<u32>,
    pub cluster_count: u32,
    pub weak_links: Vec<WeakLink>,
    /// Sizes of the clusters that exceeded `max_cluster_size` and were rebuilt from strong links.
    pub oversized_clusters: Vec<u32>,
}

fn components(record_count: usize, edges: impl Iterator<Item = (u32, u32)>) -> (Vec<u32>, u32) {
    let mut sets = UnionFind::new(record_count);
    for (left, right) in edges {
        sets.union(left, right);
    }
    let mut number_of_root: HashMap<u32, u32> = HashMap::new();
    let mut cluster_of = Vec::with_capacity(record_count);
    for record in 0..record_count as u32 {
        let root = sets.find(record);
        let next = number_of_root.len() as u32;
        cluster_of.push(*number_of_root.entry(root).or_insert(next));
    }
    let count = number_of_root.len() as u32;
    (cluster_of, count)
}

/// Largest contracted graph examined for bridges; bigger clusters are reported by the caller's
/// summary instead, because a single link cannot be what holds them together.
const MAX_WEAK_EDGES_PER_CLUSTER: usize = 512;

/// Connected components of pairs with weight at or above the threshold.
pub fn cluster(record_count: usize, scored_pairs: &[(u32, u32, f32)], config: &ClusterConfig) -> Clustering {
    let threshold = weight_of_probability(config.threshold_probability) as f32;
    let strict = weight_of_probability(config.strict_probability) as f32;
    let linked = || scored_pairs.iter().filter(|pair| pair.2 >= threshold);
    let (cluster_of, _) = components(record_count, linked().map(|pair| (pair.0, pair.1)));
    let (strong_of, _) = components(record_count, linked().filter(|pair| pair.2 >= strict).map(|pair| (pair.0, pair.1)));

    // Weak links between different strong parts, grouped by cluster. Maps that are iterated are
    // ordered ones, so that nothing here depends on a hash map's order, which changes from run
    // to run.
    let mut weak_by_cluster: BTreeMap<u32, Vec<(u32, u32, f32)>> = BTreeMap::new();
    for pair in linked().filter(|pair| pair.2 < strict) {
        if strong_of[pair.0 as usize] != strong_of[pair.1 as usize] {
            weak_by_cluster.entry(cluster_of[pair.0 as usize]).or_default().push(*pair);
        }
    }
    let mut cluster_sizes: HashMap<u32, u32> = HashMap::new();
    for cluster in &cluster_of {
        *cluster_sizes.entry(*cluster).or_insert(0) += 1;
    }
    let mut weak_links = Vec::new();
    for (cluster, edges) in weak_by_cluster {
        // Two records joined by one modest link are a weak pair, not a chain: only clusters of
        // three or more records can be chained through a link.
        if edges.len() > MAX_WEAK_EDGES_PER_CLUSTER || cluster_sizes[&cluster] < 3 {
            continue;
        }
        let mut multiplicity: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        for edge in &edges {
            let (a, b) = (strong_of[edge.0 as usize], strong_of[edge.1 as usize]);
            *multiplicity.entry((a.min(b), a.max(b))).or_insert(0) += 1;
        }
        let parts: Vec<(u32, u32)> = multiplicity.keys().copied().collect();
        for edge in &edges {
            let (a, b) = (strong_of[edge.0 as usize], strong_of[edge.1 as usize]);
            let key = (a.min(b), a.max(b));
            if multiplicity[&key] != 1 {
                continue;
            }
            // A bridge: without it the two strong parts are no longer connected.
            let mut local: HashMap<u32, u32> = HashMap::new();
            let mut local_sets = UnionFind::new(parts.len() * 2);
            let local_id = |part: u32, local: &mut HashMap<u32, u32>| {
                let next = local.len() as u32;
                *local.entry(part).or_insert(next)
            };
            for other in parts.iter().filter(|other| **other != key) {
                let (x, y) = (local_id(other.0, &mut local), local_id(other.1, &mut local));
                local_sets.union(x, y);
            }
            let (x, y) = (local_id(key.0, &mut local), local_id(key.1, &mut local));
            if local_sets.find(x) != local_sets.find(y) {
                weak_links.push(WeakLink { cluster, left: edge.0, right: edge.1, match_weight: edge.2 });
            }
        }
    }
    weak_links.sort_by_key(|link| (link.cluster, link.left, link.right));
    let mut oversized: Vec<(u32, u32)> =
        cluster_sizes.iter().filter(|(_, size)| **size as usize > config.max_cluster_size).map(|(cluster, size)| (*cluster, *size)).collect();
    oversized.sort_unstable();
    let oversized_clusters: Vec<u32> = oversized.iter().map(|(_, size)| *size).collect();
    let oversized_ids: std::collections::HashSet<u32> = oversized.iter().map(|(cluster, _)| *cluster).collect();
    let cut: std::collections::HashSet<(u32, u32)> = if config.split_weak_links {
        // Besides single bridges, cut weak links between two strongly linked groups of two or
        // more records each: two well-evidenced identities are not merged on weak evidence alone,
        // while a lone record may still join a group through a modest link.
        let mut strong_sizes: HashMap<u32, u32> = HashMap::new();
        for strong in &strong_of {
            *strong_sizes.entry(*strong).or_insert(0) += 1;
        }
        let joins_two_groups = |pair: &&(u32, u32, f32)| {
            let (a, b) = (strong_of[pair.0 as usize], strong_of[pair.1 as usize]);
            pair.2 < strict && a != b && strong_sizes[&a] >= 2 && strong_sizes[&b] >= 2
        };
        weak_links.iter().map(|link| (link.left, link.right)).chain(linked().filter(joins_two_groups).map(|pair| (pair.0, pair.1))).collect()
    } else {
        std::collections::HashSet::new()
    };
    if cut.is_empty() && oversized_ids.is_empty() {
        let cluster_count = cluster_of.iter().max().map_or(0, |max| max + 1);
        return Clustering { cluster_of, cluster_count, weak_links, oversized_clusters };
    }
    let kept = linked().filter(|pair| !cut.contains(&(pair.0, pair.1)) && (pair.2 >= strict || !oversized_ids.contains(&cluster_of[pair.0 as usize])));
    let (cluster_of, cluster_count) = components(record_count, kept.map(|pair| (pair.0, pair.1)));
    Clustering { cluster_of, cluster_count, weak_links, oversized_clusters }
}

/// Largest cluster whose pairs are all scored by `split_by_all_pairs`.
const MAX_ALL_PAIRS_CLUSTER: usize = 200;

/// Splits clusters that hold two or more people, judging each cluster by all its pairs.
///
/// Links chain: one record with a common name, no date of birth and a household's phone can link
/// strongly to two relatives and so join them, although every pair across the two relatives
/// (different given names, dates of birth decades apart) says they are different people. Within
/// each cluster of three or more records, this rebuilds the cluster by average linkage over
/// `pair_weight` (the log2 match weight of every pair, compared or not): starting from single
/// records, the two linked parts whose pairs have the highest mean weight are joined, as long as
/// that mean is at least `split_below_weight` (clearly against, not merely below even odds). One person's reports agree on average even when some pairs
/// share little; two people joined through one record do not. Returns how many clusters were split.
pub fn split_by_all_pairs(clustering: &mut Clustering, config: &ClusterConfig, pair_weight: impl Fn(u32, u32) -> f64 + Sync) -> usize {
    use rayon::prelude::*;
    let link = weight_of_probability(config.threshold_probability);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); clustering.cluster_count as usize];
    for (record, cluster) in clustering.cluster_of.iter().enumerate() {
        members[*cluster as usize].push(record as u32);
    }
    let splits: Vec<(u32, Vec<Vec<u32>>)> = members
        .par_iter()
        .enumerate()
        .filter(|(_, records)| (3..=MAX_ALL_PAIRS_CLUSTER).contains(&records.len()))
        .filter_map(|(cluster, records)| {
            let parts = average_linkage(records, link, config.split_below_weight, &pair_weight);
            (parts.len() > 1).then_some((cluster as u32, parts))
        })
        .collect();
    for (_, parts) in &splits {
        // The part holding the cluster's first record keeps the cluster's number.
        for part in parts.iter().skip(1) {
            let new_cluster = clustering.cluster_count;
            clustering.cluster_count += 1;
            for record in part {
                clustering.cluster_of[*record as usize] = new_cluster;
            }
        }
    }
    splits.len()
}

/// Average-linkage clustering of `records` (see `split_by_all_pairs`); parts are returned with the
/// part holding the first record first.
fn average_linkage(records: &[u32], link: f64, split_below: f64, pair_weight: &impl Fn(u32, u32) -> f64) -> Vec<Vec<u32>> {
    let count = records.len();
    let mut sums = vec![vec![0.0f64; count]; count];
    let mut linked = vec![vec![false; count]; count];
    for left in 0..count {
        for right in left + 1..count {
            let weight = pair_weight(records[left], records[right]);
            sums[left][right] = weight;
            sums[right][left] = weight;
            linked[left][right] = weight >= link;
            linked[right][left] = weight >= link;
        }
    }
    // Parts by position; `sums[a][b]` is the total weight between parts a and b.
    let mut parts: Vec<Option<Vec<usize>>> = (0..count).map(|position| Some(vec![position])).collect();
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..count {
            let Some(part_a) = &parts[a] else { continue };
            for b in a + 1..count {
                let Some(part_b) = &parts[b] else { continue };
                if !linked[a][b] {
                    continue;
                }
                let mean = sums[a][b] / (part_a.len() * part_b.len()) as f64;
                if best.is_none_or(|(best_mean, _, _)| mean > best_mean) {
                    best = Some((mean, a, b));
                }
            }
        }
        let Some((mean, a, b)) = best else { break };
        if mean < split_below {
            break;
        }
        let absorbed = parts[b].take().unwrap_or_default();
        parts[a].get_or_insert_with(Vec::new).extend(absorbed);
        for other in 0..count {
            sums[a][other] += sums[b][other];
            sums[other][a] = sums[a][other];
            linked[a][other] |= linked[b][other];
            linked[other][a] = linked[a][other];
        }
    }
    let mut result: Vec<Vec<u32>> = parts
        .into_iter()
        .flatten()
        .map(|mut part| {
            part.sort_unstable();
            part.into_iter().map(|position| records[position]).collect()
        })
        .collect();
    result.sort_by_key(|part| part[0]);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weight(probability: f64) -> f32 {
        weight_of_probability(probability) as f32
    }

    #[test]
    fn links_pairs_above_the_threshold_only() {
        let pairs = [(0, 1, weight(0.99)), (1, 2, weight(0.6)), (3, 4, weight(0.2))];
        let clustering = cluster(5, &pairs, &ClusterConfig { split_weak_links: false, ..ClusterConfig::default() });
        assert_eq!(clustering.cluster_of, vec![0, 0, 0, 1, 2]);
        assert_eq!(clustering.cluster_count, 3);
    }

    #[test]
    fn reports_and_optionally_cuts_a_single_weak_bridge() {
        // Two strong pairs (0-1, 2-3) chained by one weak pair 1-2; 4-5-6 is a strong triangle with a
        // weak extra edge that is not a bridge.
        let pairs = [(0, 1, weight(0.999)), (2, 3, weight(0.999)), (1, 2, weight(0.7)), (4, 5, weight(0.99)), (5, 6, weight(0.99)), (4, 6, weight(0.6))];
        let report_only = ClusterConfig { split_weak_links: false, ..ClusterConfig::default() };
        let clustering = cluster(7, &pairs, &report_only);
        assert_eq!(clustering.weak_links.len(), 1);
        assert_eq!((clustering.weak_links[0].left, clustering.weak_links[0].right), (1, 2));
        assert_eq!(clustering.cluster_count, 2);

        let split = cluster(7, &pairs, &ClusterConfig::default());
        assert_eq!(split.cluster_count, 3);
        assert_ne!(split.cluster_of[1], split.cluster_of[2]);
    }

    #[test]
    fn oversized_clusters_keep_only_their_strong_links() {
        // Five strong pairs chained by two weak links each (so no single bridge): too big for 4.
        let mut pairs = Vec::new();
        for part in 0..5u32 {
            pairs.push((part * 2, part * 2 + 1, weight(0.999)));
            if part > 0 {
                pairs.push((part * 2 - 1, part * 2, weight(0.7)));
                pairs.push((part * 2 - 2, part * 2, weight(0.7)));
            }
        }
        let config = ClusterConfig { max_cluster_size: 4, ..ClusterConfig::default() };
        let clustering = cluster(10, &pairs, &config);
        assert_eq!(clustering.oversized_clusters, vec![10]);
        assert_eq!(clustering.cluster_count, 5);
    }

    #[test]
    fn two_strong_groups_are_not_merged_by_weak_links_but_a_lone_record_may_join() {
        // Groups {0,1} and {2,3} joined by two weak links (no single bridge); record 4 joins {0,1}
        // through two modest links (one alone would be a bridge, and cut).
        let pairs = [(0, 1, weight(0.999)), (2, 3, weight(0.999)), (1, 2, weight(0.7)), (0, 3, weight(0.7)), (1, 4, weight(0.8)), (0, 4, weight(0.8))];
        let clustering = cluster(5, &pairs, &ClusterConfig::default());
        assert_ne!(clustering.cluster_of[0], clustering.cluster_of[2]);
        assert_eq!(clustering.cluster_of[0], clustering.cluster_of[4]);
        let report_only = ClusterConfig { split_weak_links: false, ..ClusterConfig::default() };
        assert_eq!(cluster(5, &pairs, &report_only).cluster_count, 1);
    }

    #[test]
    fn a_record_that_links_two_people_does_not_make_them_one() {
        // Records 0-1 are one person and 3-4 another: every pair across them is strongly negative,
        // but record 2 links strongly to all four. Average linkage keeps 0-1 and 3-4 apart.
        let weights = |left: u32, right: u32| -> f64 {
            match (left.min(right), left.max(right)) {
                (0, 1) | (3, 4) => 20.0,
                (_, 2) | (2, _) => 8.0,
                _ => -15.0,
            }
        };
        let pairs: Vec<(u32, u32, f32)> =
            (0..5u32).flat_map(|left| (left + 1..5).map(move |right| (left, right))).map(|(left, right)| (left, right, weights(left, right) as f32)).collect();
        let mut clustering = cluster(5, &pairs, &ClusterConfig::default());
        assert_eq!(clustering.cluster_count, 1, "strong links chain all five");
        assert_eq!(split_by_all_pairs(&mut clustering, &ClusterConfig::default(), weights), 1);
        assert_eq!(clustering.cluster_count, 2);
        assert_eq!(clustering.cluster_of[0], clustering.cluster_of[1]);
        assert_eq!(clustering.cluster_of[3], clustering.cluster_of[4]);
        assert_ne!(clustering.cluster_of[0], clustering.cluster_of[3]);

        // One person's records that agree on average stay together even when a pair shares little.
        let one_person = |left: u32, right: u32| if (left.min(right), left.max(right)) == (0, 2) { -7.0 } else { 18.0 };
        let pairs = [(0, 1, 18.0), (1, 2, 18.0)];
        let mut clustering = cluster(3, &pairs, &ClusterConfig::default());
        assert_eq!(split_by_all_pairs(&mut clustering, &ClusterConfig::default(), one_person), 0);
        assert_eq!(clustering.cluster_count, 1);
    }

    #[test]
    fn parts_that_disagree_mildly_on_average_stay_together() {
        // Two pairs of reports of one person, each pair damaged differently: one strong link across
        // them and three mildly negative pairs, a mean of -2.5 bits. Kept together by default (the
        // parts must disagree clearly), split when even odds are asked for.
        let weights = |left: u32, right: u32| -> f64 {
            match (left.min(right), left.max(right)) {
                (0, 1) | (2, 3) => 20.0,
                (0, 2) => 8.0,
                _ => -6.0,
            }
        };
        let pairs = [(0, 1, 20.0), (2, 3, 20.0), (0, 2, 8.0)];
        let mut clustering = cluster(4, &pairs, &ClusterConfig { split_weak_links: false, ..ClusterConfig::default() });
        assert_eq!(split_by_all_pairs(&mut clustering, &ClusterConfig::default(), weights), 0);
        assert_eq!(clustering.cluster_count, 1);
        let even_odds = ClusterConfig { split_below_weight: 0.0, ..ClusterConfig::default() };
        assert_eq!(split_by_all_pairs(&mut clustering, &even_odds, weights), 1);
        assert_eq!(clustering.cluster_count, 2);
        assert_ne!(clustering.cluster_of[0], clustering.cluster_of[2]);
    }

    #[test]
    fn a_lone_weak_pair_is_not_a_chain() {
        assert!(cluster(2, &[(0, 1, weight(0.6))], &ClusterConfig::default()).weak_links.is_empty());
    }

    #[test]
    fn two_weak_links_between_the_same_parts_are_not_a_single_point_of_failure() {
        let pairs = [(0, 1, weight(0.999)), (2, 3, weight(0.999)), (1, 2, weight(0.7)), (0, 3, weight(0.7))];
        assert!(cluster(4, &pairs, &ClusterConfig::default()).weak_links.is_empty());
    }
}
