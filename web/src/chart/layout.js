// Where the chart's nodes go: ForceAtlas2 (from graphology) for the force
// layout, a small layered layout of our own for the hierarchical one, and
// placing newly added nodes beside their neighbours. Every function moves
// only nodes that are not pinned, and works on the graphology graph the
// renderer draws (x to the right, y upwards, as sigma has it).
import forceAtlas2 from 'graphology-layout-forceatlas2'
import random from 'graphology-layout/random.js'
import { UndirectedGraph } from 'graphology'

/** A small seeded generator (mulberry32), so a chart laid out twice from
 *  nothing comes out the same. */
export function seededRandom (seed) {
  let value = seed >>> 0
  return () => {
    value = (value + 0x6d2b79f5) >>> 0
    let mixed = value
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

/** ForceAtlas2's settings for a graph of this size. Barnes-Hut makes
 *  repulsion n log n rather than n², which is what lets 2,000 nodes lay out
 *  within the budget (a coarser approximation above 1,000 nodes halves the
 *  cost of an iteration again); for small charts the exact forces are cheap
 *  and nicer. "Dissuade hubs" stays off: it pushes hubs to the edge of the
 *  chart, and analysts look for them in the middle of their neighbours. */
function forceSettings (order) {
  return {
    barnesHutOptimize: order > 250,
    barnesHutTheta: order > 1000 ? 1.2 : 0.8,
    gravity: 1,
    scalingRatio: order > 250 ? 4 : 8,
    slowDown: 1 + Math.log(Math.max(order, 1)),
    outboundAttractionDistribution: false,
    adjustSizes: false,
    linLogMode: false,
    edgeWeightInfluence: 1
  }
}

/** A plain copy of the graph for the layouts to work on: positions and
 *  weights only, parallel lines merged into one of their summed weight.
 *  Working on a copy keeps sigma from redrawing at every step; the result
 *  goes back into the drawn graph in one update. */
function layoutCopy (graph) {
  const copy = new UndirectedGraph()
  graph.forEachNode((key, attributes) => copy.addNode(key, { x: attributes.x, y: attributes.y }))
  graph.forEachEdge((edge, attributes, source, target) => {
    copy.updateEdge(source, target, (existing) => ({ weight: (existing.weight ?? 0) + (attributes.weight ?? 1) }))
  })
  return copy
}

/** Writes positions (a copy's, or a Map of key to {x, y}) into the drawn
 *  graph in one update. */
function applyPositions (graph, positions) {
  const at = positions instanceof Map ? (key) => positions.get(key) : (key) => positions.hasNode(key) ? positions.getNodeAttributes(key) : undefined
  graph.updateEachNodeAttributes((key, attributes) => {
    const point = at(key)
    if (point) {
      attributes.x = point.x
      attributes.y = point.y
    }
    return attributes
  }, { attributes: ['x', 'y'] })
}

/** Runs ForceAtlas2 on a layout copy, moving every node not in `fixed`,
 *  for as many iterations as a chart this size needs or as fit in
 *  `budgetMs`, whichever is fewer. A first few iterations time one, so the
 *  rest run in one call (each call rebuilds ForceAtlas2's arrays). */
function runForce (copy, { fixed = new Set(), budgetMs = 600, iterations } = {}) {
  if (copy.order === 0) return 0
  const most = iterations ?? Math.max(100, Math.min(600, Math.round(60000 / copy.order)))
  const settings = forceSettings(copy.order)
  copy.forEachNode((key) => copy.setNodeAttribute(key, 'fixed', fixed.has(key)))
  const started = performance.now()
  const first = Math.min(5, most)
  forceAtlas2.assign(copy, { iterations: first, settings, getEdgeWeight: 'weight' })
  const perIteration = (performance.now() - started) / first
  const rest = Math.min(most - first, Math.floor((budgetMs - (performance.now() - started)) / Math.max(perIteration, 0.001)))
  if (rest > 0) forceAtlas2.assign(copy, { iterations: rest, settings, getEdgeWeight: 'weight' })
  return first + Math.max(rest, 0)
}

/** The force layout: ForceAtlas2 from where the nodes are now; the nodes in
 *  `fixed` (the pinned ones) stay put. Returns the iterations run. */
export function forceLayout (graph, { fixed = new Set(), budgetMs, iterations } = {}) {
  const copy = layoutCopy(graph)
  const done = runForce(copy, { fixed, budgetMs, iterations })
  applyPositions(graph, copy)
  return done
}

/** Lays out a chart none of whose nodes has a place yet (so none is
 *  pinned): scattered at random (seeded), then the chosen layout. */
export function layoutFromNothing (graph, { layout, root }) {
  const copy = layoutCopy(graph)
  random.assign(copy, { rng: seededRandom(20260301), scale: 100 * Math.sqrt(Math.max(copy.order, 1)), center: 0 })
  if (layout === 'hierarchical') {
    applyPositions(graph, copy)
    hierarchicalLayout(graph, { root })
  } else {
    runForce(copy)
    applyPositions(graph, copy)
  }
}

/** Places nodes just added (`fresh`) beside the nodes already placed that
 *  they link to, then lets ForceAtlas2 settle them with every other node
 *  held still, so the analyst's arrangement does not move. */
export function placeNewNodes (graph, fresh) {
  const freshSet = new Set(fresh)
  const placed = graph.filterNodes((key) => !freshSet.has(key))
  if (placed.length === 0) return false
  const copy = layoutCopy(graph)
  const spacing = typicalSpacing(copy, placed)
  const centre = centroid(copy, placed)
  const rng = seededRandom(fresh.length * 7919 + placed.length)
  // Nodes around one anchor are spread round a circle, so each anchor counts
  // the newcomers placed beside it so far.
  const aroundAnchor = new Map()
  for (const key of fresh) {
    const anchors = copy.neighbors(key).filter((other) => !freshSet.has(other))
    const anchor = anchors.length ? centroid(copy, anchors) : { x: centre.x + (rng() - 0.5) * spacing * 10, y: centre.y + (rng() - 0.5) * spacing * 10 }
    const anchorKey = anchors.length ? anchors.join(',') : ''
    const index = aroundAnchor.get(anchorKey) ?? 0
    aroundAnchor.set(anchorKey, index + 1)
    const angle = index * 2.399963 // the golden angle, so no two land together
    const radius = spacing * (1 + 0.15 * Math.sqrt(index))
    copy.mergeNodeAttributes(key, { x: anchor.x + radius * Math.cos(angle), y: anchor.y + radius * Math.sin(angle) })
  }
  runForce(copy, { fixed: new Set(placed), budgetMs: 300, iterations: 60 })
  applyPositions(graph, copy)
  return true
}

/** The usual length of a drawn line among placed nodes (the median), or a
 *  fraction of the chart's extent when there are no lines to measure. */
function typicalSpacing (graph, placed) {
  const placedSet = new Set(placed)
  const lengths = []
  graph.forEachEdge((edge, attributes, source, target, sourceAttributes, targetAttributes) => {
    if (lengths.length < 2000 && placedSet.has(source) && placedSet.has(target)) {
      lengths.push(Math.hypot(sourceAttributes.x - targetAttributes.x, sourceAttributes.y - targetAttributes.y))
    }
  })
  lengths.sort((left, right) => left - right)
  const median = lengths[Math.floor(lengths.length / 2)]
  if (median > 0) return median
  const box = extent(graph, placed)
  return Math.max(box.width, box.height, 100) / Math.max(2, Math.sqrt(placed.length))
}

function centroid (graph, keys) {
  let x = 0
  let y = 0
  for (const key of keys) {
    x += graph.getNodeAttribute(key, 'x')
    y += graph.getNodeAttribute(key, 'y')
  }
  return { x: x / keys.length, y: y / keys.length }
}

function extent (graph, keys) {
  let minX = Infinity
  let maxX = -Infinity
  let minY = Infinity
  let maxY = -Infinity
  for (const key of keys) {
    const { x, y } = graph.getNodeAttributes(key)
    minX = Math.min(minX, x)
    maxX = Math.max(maxX, x)
    minY = Math.min(minY, y)
    maxY = Math.max(maxY, y)
  }
  return keys.length ? { minX, minY, width: maxX - minX, height: maxY - minY } : { minX: 0, minY: 0, width: 0, height: 0 }
}

/** The layered layout: breadth-first layers from `root` (or, for each part
 *  of the chart not linked to it, from that part's best-linked node) laid
 *  left to right, each layer ordered by where its nodes' links in the layer
 *  before sit (the barycentre heuristic), so fewer lines cross. Parts are
 *  stacked one under another. Pinned nodes stay where they are. */
export function hierarchicalLayout (graph, { pinned = new Set(), root = null } = {}) {
  if (graph.order === 0) return
  const nodes = graph.nodes()
  const spacing = Math.max(typicalSpacing(graph, nodes), 1)
  const layerGap = spacing * 2
  const rowGap = spacing
  const byDegree = [...nodes].sort((left, right) => graph.degree(right) - graph.degree(left) || (left < right ? -1 : 1))
  const starts = root && graph.hasNode(root) ? [root, ...byDegree] : byDegree
  const seen = new Set()
  const positions = new Map()
  let top = 0
  for (const start of starts) {
    if (seen.has(start)) continue
    const layers = breadthFirstLayers(graph, start, seen)
    const rowOf = new Map()
    let tallest = 0
    layers.forEach((layer, depth) => {
      if (depth > 0) {
        const barycentre = new Map(layer.map((key) => {
          const rows = graph.neighbors(key).filter((other) => rowOf.has(other)).map((other) => rowOf.get(other))
          return [key, rows.length ? rows.reduce((sum, row) => sum + row, 0) / rows.length : 0]
        }))
        layer.sort((left, right) => barycentre.get(left) - barycentre.get(right))
      }
      layer.forEach((key, index) => rowOf.set(key, index - (layer.length - 1) / 2))
      tallest = Math.max(tallest, layer.length)
    })
    const middle = top - ((tallest - 1) / 2) * rowGap
    layers.forEach((layer, depth) => {
      for (const key of layer) {
        if (!pinned.has(key)) positions.set(key, { x: depth * layerGap, y: middle - rowOf.get(key) * rowGap })
      }
    })
    top -= (tallest + 1) * rowGap
  }
  applyPositions(graph, positions)
}

function breadthFirstLayers (graph, start, seen) {
  const layers = [[start]]
  seen.add(start)
  for (;;) {
    const next = []
    for (const key of layers[layers.length - 1]) {
      for (const other of graph.neighbors(key)) {
        if (!seen.has(other)) {
          seen.add(other)
          next.push(other)
        }
      }
    }
    if (next.length === 0) return layers
    layers.push(next)
  }
}
