// Unit tests for the chart's layouts (src/chart/layout.js) and paths
// (src/chart/paths.js), on graphology graphs in Node, with no browser.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import graphology from 'graphology'
import { forceLayout, hierarchicalLayout, layoutFromNothing, placeNewNodes } from '../src/chart/layout.js'
import { connectingNetwork, shortestPath } from '../src/chart/paths.js'

const { MultiUndirectedGraph } = graphology

/** A graph from "a-b" pairs, every node at the origin unless placed. */
function graphOf (pairs, placed = {}) {
  const graph = new MultiUndirectedGraph()
  for (const pair of pairs) {
    const [source, target] = pair.split('-')
    for (const key of [source, target]) if (!graph.hasNode(key)) graph.addNode(key, { x: placed[key]?.[0] ?? 0, y: placed[key]?.[1] ?? 0 })
    graph.addUndirectedEdgeWithKey(`${pair}#${graph.size}`, source, target, { weight: 1, relationLabel: 'knows' })
  }
  return graph
}

const at = (graph, key) => [graph.getNodeAttribute(key, 'x'), graph.getNodeAttribute(key, 'y')]

test('the force layout spreads nodes out and leaves pinned ones alone', () => {
  const graph = graphOf(['a-b', 'b-c', 'c-d', 'd-a', 'a-e', 'e-f'])
  layoutFromNothing(graph, { layout: 'force', root: null })
  const points = graph.mapNodes((key, attributes) => `${attributes.x.toFixed(2)},${attributes.y.toFixed(2)}`)
  assert.equal(new Set(points).size, graph.order, 'no two nodes in one place')
  graph.mergeNodeAttributes('a', { x: 1000, y: 1000 })
  forceLayout(graph, { fixed: new Set(['a']) })
  assert.deepEqual(at(graph, 'a'), [1000, 1000])
})

test('a chart laid out from nothing comes out the same twice', () => {
  const first = graphOf(['a-b', 'b-c', 'c-a', 'c-d'])
  const second = graphOf(['a-b', 'b-c', 'c-a', 'c-d'])
  layoutFromNothing(first, { layout: 'force', root: null })
  layoutFromNothing(second, { layout: 'force', root: null })
  assert.deepEqual(first.mapNodes((key) => at(first, key)), second.mapNodes((key) => at(second, key)))
})

test('the layered layout puts each node one layer right of the nearest root', () => {
  const graph = graphOf(['r-a', 'r-b', 'a-c', 'b-c', 'c-d', 'x-y'], { p: [5, 5] })
  graph.addNode('p', { x: 5, y: 5 })
  graph.addUndirectedEdgeWithKey('p-d', 'p', 'd', { weight: 1 })
  hierarchicalLayout(graph, { root: 'r', pinned: new Set(['p']) })
  const layer = (key) => Math.round(at(graph, key)[0] / (at(graph, 'a')[0] - at(graph, 'r')[0]))
  assert.deepEqual(['r', 'a', 'b', 'c', 'd'].map(layer), [0, 1, 1, 2, 3])
  assert.deepEqual(at(graph, 'p'), [5, 5], 'pinned')
  assert.equal(layer('x'), 0, 'a part not linked to the root starts its own layers')
  assert.ok(at(graph, 'x')[1] < Math.min(...['r', 'a', 'b', 'c', 'd'].map((key) => at(graph, key)[1])), 'below the first part')
})

test('new nodes are placed beside their neighbours and the rest stay put', () => {
  const graph = graphOf(['a-b', 'b-c', 'c-a'], { a: [0, 0], b: [100, 0], c: [50, 80] })
  graph.addNode('n', { x: 0, y: 0 })
  graph.addUndirectedEdgeWithKey('c-n', 'c', 'n', { weight: 1 })
  placeNewNodes(graph, ['n'])
  assert.deepEqual([at(graph, 'a'), at(graph, 'b'), at(graph, 'c')], [[0, 0], [100, 0], [50, 80]])
  const [x, y] = at(graph, 'n')
  assert.ok(Math.hypot(x - 50, y - 80) < 300, `n is near c, at ${x},${y}`)
  assert.ok(Math.hypot(x - 50, y - 80) > 1, 'but not on it')
})

test('the shortest path and the network connecting several nodes', () => {
  const graph = graphOf(['a-b', 'b-c', 'c-d', 'a-e', 'e-d', 'd-f', 'x-y'])
  const path = shortestPath(graph, 'a', 'f')
  assert.equal(path.nodes.length, 4)
  assert.equal(path.nodes[0], 'a')
  assert.equal(path.nodes.at(-1), 'f')
  assert.equal(path.edges.length, 3)
  assert.equal(shortestPath(graph, 'a', 'x'), null)

  const network = connectingNetwork(graph, ['b', 'f', 'x'])
  assert.ok(['b', 'c', 'd', 'f'].every((key) => network.nodes.has(key)))
  assert.equal(network.paths.length, 1)
  assert.deepEqual(network.unconnected, [['b', 'x'], ['f', 'x']])
})
