// Paths through the chart as drawn: the shortest path between two nodes,
// and the network connecting several (the union of the shortest paths
// between each pair). The search is graphology's; lines count the same
// whatever their strength, as an analyst counts steps.
import { bidirectional } from 'graphology-shortest-path/unweighted.js'

/** The shortest path between two nodes as nodes and, between each two, the
 *  strongest line joining them; null when nothing connects them. */
export function shortestPath (graph, source, target) {
  const nodes = bidirectional(graph, source, target)
  if (!nodes) return null
  const edges = []
  for (let index = 1; index < nodes.length; index++) edges.push(strongestEdge(graph, nodes[index - 1], nodes[index]))
  return { nodes, edges }
}

function strongestEdge (graph, left, right) {
  let best = null
  let bestWeight = -Infinity
  for (const edge of graph.edges(left, right)) {
    const weight = graph.getEdgeAttribute(edge, 'weight') ?? 0
    if (weight > bestWeight) {
      best = edge
      bestWeight = weight
    }
  }
  return best
}

/** The nodes and lines on the shortest paths between every pair of `keys`,
 *  each path listed, and the pairs nothing connects. */
export function connectingNetwork (graph, keys) {
  const nodes = new Set(keys)
  const edges = new Set()
  const paths = []
  const unconnected = []
  for (let left = 0; left < keys.length; left++) {
    for (let right = left + 1; right < keys.length; right++) {
      const path = shortestPath(graph, keys[left], keys[right])
      if (!path) {
        unconnected.push([keys[left], keys[right]])
        continue
      }
      paths.push(path)
      path.nodes.forEach((key) => nodes.add(key))
      path.edges.forEach((edge) => edges.add(edge))
    }
  }
  return { nodes, edges, paths, unconnected }
}
