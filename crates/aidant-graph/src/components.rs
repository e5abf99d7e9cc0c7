//! Connected components and k-cores of an analysis graph.

use petgraph::unionfind::UnionFind;

use crate::analysis::AnalysisGraph;

/// Connected components, largest first; ties are broken by the smallest node so the order is
/// reproducible. Each component lists its nodes in increasing order.
pub fn connected_components(graph: &AnalysisGraph) -> Vec<Vec<usize>> {
    let node_count = graph.node_count();
    let mut union_find: UnionFind<usize> = UnionFind::new(node_count);
    for (u, v, _) in graph.edges() {
        union_find.union(u, v);
    }
    let mut component_of_root = vec![usize::MAX; node_count];
    let mut components: Vec<Vec<usize>> = Vec::new();
    for node in 0..node_count {
        let root = union_find.find(node);
        if component_of_root[root] == usize::MAX {
            component_of_root[root] = components.len();
            components.push(Vec::new());
        }
        components[component_of_root[root]].push(node);
    }
    components.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    components
}

/// The core number of every node (the largest k such that the node belongs to a subgraph in which
/// every node has degree at least k), by the Batagelj–Zaveršnik bucket algorithm in O(m).
pub fn core_numbers(graph: &AnalysisGraph) -> Vec<usize> {
    let node_count = graph.node_count();
    let mut degree: Vec<usize> = (0..node_count).map(|node| graph.degree(node)).collect();
    let max_degree = degree.iter().copied().max().unwrap_or(0);
    let mut bucket_start = vec![0usize; max_degree + 2];
    for &d in &degree {
        bucket_start[d + 1] += 1;
    }
    for d in 0..=max_degree {
        bucket_start[d + 1] += bucket_start[d];
    }
    let mut order = vec![0usize; node_count];
    let mut position = vec![0usize; node_count];
    let mut fill = bucket_start.clone();
    for node in 0..node_count {
        position[node] = fill[degree[node]];
        order[position[node]] = node;
        fill[degree[node]] += 1;
    }
    for index in 0..node_count {
        let node = order[index];
        for &neighbour in graph.neighbours(node) {
            let neighbour = neighbour as usize;
            if degree[neighbour] > degree[node] {
                // Move the neighbour to the front of its bucket, then shrink the bucket by one so
                // the neighbour falls into the bucket below: its degree among the remaining nodes
                // dropped by one.
                let neighbour_degree = degree[neighbour];
                let front = bucket_start[neighbour_degree];
                let front_node = order[front];
                if front_node != neighbour {
                    order.swap(front, position[neighbour]);
                    position.swap(front_node, neighbour);
                }
                bucket_start[neighbour_degree] += 1;
                degree[neighbour] -= 1;
            }
        }
    }
    degree
}

/// The nodes of the k-core: those whose core number is at least `k`, in increasing order.
pub fn k_core(graph: &AnalysisGraph, k: usize) -> Vec<usize> {
    core_numbers(graph).into_iter().enumerate().filter(|(_, core)| *core >= k).map(|(node, _)| node).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_components_largest_first() {
        let graph = AnalysisGraph::from_unweighted_edges(6, [(0, 1), (4, 5), (5, 3)]);
        assert_eq!(connected_components(&graph), vec![vec![3, 4, 5], vec![0, 1], vec![2]]);
    }

    #[test]
    fn core_numbers_of_a_triangle_with_a_tail() {
        let graph = AnalysisGraph::from_unweighted_edges(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)]);
        assert_eq!(core_numbers(&graph), vec![2, 2, 2, 1, 1]);
        assert_eq!(k_core(&graph, 2), vec![0, 1, 2]);
        assert!(k_core(&graph, 3).is_empty());
    }
}
