// The link chart's entry point (bundled as /assets/chart.js). It finds
// #link-chart, reads the chart's state from the page, asks the server for
// the data, draws it with sigma, and keeps the state, the drawing, the
// panel, the tables and the forms' hidden `state` inputs in step as the
// analyst works. Every change goes through `commit`.
//
// For the browser tests and the benchmark, `window.aidantChart` gives
// read-only access: `ready` (a promise), `state()`, `graph()`, `renderer()`;
// and #link-chart gets data-ready="true" once the first draw is done.
import { MultiUndirectedGraph } from 'graphology'
import { recordPngExport, requestChartData } from './api.js'
import { forceLayout, hierarchicalLayout, layoutFromNothing, placeNewNodes } from './layout.js'
import { applyResponse, chartView, emptyData, expansionOffset, groupNodes, parseState, stateJson, tidyState } from './model.js'
import { connectingNetwork, shortestPath } from './paths.js'
import { chartPng, createRenderer, download, enableDragging } from './render.js'
import { GROUP_COLOUR, GROUP_RING, HUB_RING, LINE_COLOUR, kindColour, lineWidth, nodeSize } from './style.js'
import { buildChartUi } from './ui.js'
import { count } from './dom.js'

const root = document.getElementById('link-chart')
if (root) window.aidantChart = startChart(root)

function startChart (root) {
  const config = {
    dataUrl: root.dataset.dataUrl,
    exportAuditUrl: root.dataset.exportAuditUrl,
    csrfToken: root.dataset.csrfToken ?? '',
    chartId: root.dataset.chartId || null
  }
  const parsed = parseState(document.getElementById('link-chart-state')?.textContent)
  let state = parsed.state
  let data = emptyData()
  let view = chartView(data, state)
  const selected = new Set()
  /** The highlighted path or network: {kind, nodes, edges, paths, unconnected}. */
  let highlight = null
  /** The last expansion: {id, label, paged, lastAdded, more, hub, force}. */
  let expansion = null
  let groupError = null
  let busy = false
  /** Entities the chart named that the viewer may not see, left out. */
  let withheld = 0

  // Ask for the data first: the answer travels while the controls are built
  // and sigma compiles its shaders.
  const firstAnswer = requestChartData(config, { entities: state.entities })
  firstAnswer.catch(() => {}) // handled in load(); this only marks it seen

  // The graph sigma draws. The first one is filled and laid out before
  // sigma is given it, so sigma indexes it once rather than item by item.
  let graph = new MultiUndirectedGraph()
  const actions = {
    select,
    setSelected,
    clearSelection,
    expand: (id, options) => guarded(() => expand(id, options)),
    hide,
    showHidden,
    togglePin,
    group,
    ungroup,
    setWindow,
    relayout,
    showPath,
    clearHighlight,
    setView,
    downloadPng: () => guarded(downloadPng)
  }
  const ui = buildChartUi(root, actions)
  const renderer = createRenderer(ui.canvas, graph, () => ({ selected, highlight }))
  const dragEnded = enableDragging(renderer, () => {
    recordPositions()
    commit()
  })
  const clickNode = ({ node, event }) => {
    if (dragEnded()) return
    const original = event.original
    select(node, Boolean(original && (original.ctrlKey || original.metaKey || original.shiftKey)))
  }
  renderer.on('clickNode', clickNode)
  // Sigma takes any two clicks within its timeout for a double click, even
  // on two nodes; an analyst picking nodes quickly means two clicks, and a
  // zoom would lose their place.
  renderer.on('doubleClickNode', (payload) => {
    payload.preventSigmaDefault()
    clickNode(payload)
  })
  renderer.on('clickStage', () => {
    if (!dragEnded() && selected.size) clearSelection()
  })

  const ready = load()
  return {
    ready,
    state: () => JSON.parse(stateJson(state)),
    graph: () => graph,
    renderer: () => renderer
  }

  async function load () {
    ui.setBusy(true)
    try {
      const response = await firstAnswer
      const merged = applyResponse(state, response)
      state = merged.state
      data = merged.data
      withheld = Math.max(data.withheld, merged.dropped)
      ui.setWithheld(withheld)
    } catch (error) {
      showError(error)
    }
    if (parsed.problems.length) ui.announce(parsed.problems.join('. '))
    // The marks let scripts/bench-chart say where the time went.
    performance.mark('aidant-chart-data')
    graph = new MultiUndirectedGraph()
    place(syncGraph())
    performance.mark('aidant-chart-laid-out')
    recordPositions()
    commit({ redraw: false })
    renderer.setGraph(graph) // indexes and draws it
    performance.mark('aidant-chart-drawn')
    await new Promise((resolve) => requestAnimationFrame(() => resolve()))
    performance.mark('aidant-chart-ready')
    root.dataset.ready = 'true'
    ui.setBusy(false)
  }

  /** Runs an action that may fail (a request, say), one at a time, showing
   *  any failure in the chart area rather than losing it. */
  async function guarded (action) {
    if (busy) return
    busy = true
    ui.setBusy(true)
    try {
      await action()
    } catch (error) {
      showError(error)
    } finally {
      busy = false
      ui.setBusy(false)
    }
  }

  function showError (error) {
    if (error && error.title !== undefined) ui.showError(error.title, error.detail || error.message)
    else ui.showError('There is a problem with the chart', error?.message || String(error))
  }

  // -------------------------------------------------------------------------
  // Keeping the graph, the state and the page in step

  /** Makes the graph match the view of the current state: nodes and lines
   *  added, changed or removed. Returns the keys of nodes added with no
   *  position of their own, which `place` then lays out. */
  function syncGraph () {
    view = chartView(data, state)
    const wanted = new Map(view.nodes.map((node) => [node.key, node]))
    const scale = sizeScale(view.nodes.length)
    for (const key of graph.nodes()) if (!wanted.has(key)) graph.dropNode(key)
    const fresh = []
    for (const node of view.nodes) {
      const look = nodeLook(node, scale)
      if (graph.hasNode(node.key)) {
        if (differs(graph.getNodeAttributes(node.key), look)) graph.mergeNodeAttributes(node.key, look)
        continue
      }
      const point = state.pinned[node.key] ?? state.positions[node.key] ?? centreOfMembers(node)
      if (point) graph.addNode(node.key, { ...look, x: point[0], y: -point[1] })
      else {
        graph.addNode(node.key, { ...look, x: 0, y: 0 })
        fresh.push(node.key)
      }
    }
    const wantedEdges = new Map(view.edges.map((edge) => [edge.key, edge]))
    for (const key of graph.edges()) {
      const edge = wantedEdges.get(key)
      const [source, target] = graph.extremities(key)
      const same = edge && ((edge.source === source && edge.target === target) || (edge.source === target && edge.target === source))
      if (!same) graph.dropEdge(key)
    }
    for (const edge of view.edges) {
      const look = edgeLook(edge.relation, scale)
      if (graph.hasEdge(edge.key)) {
        if (differs(graph.getEdgeAttributes(edge.key), look)) graph.mergeEdgeAttributes(edge.key, look)
      }
      else graph.addUndirectedEdgeWithKey(edge.key, edge.source, edge.target, look)
    }
    for (const key of [...selected]) if (!graph.hasNode(key)) selected.delete(key)
    // With thousands of lines, redrawing them all while the analyst drags
    // or zooms is too slow for software WebGL: sigma leaves them (and the
    // labels) out until the movement stops.
    const hideWhileMoving = view.edges.length > 2000
    if (renderer.getSetting('hideEdgesOnMove') !== hideWhileMoving) {
      renderer.setSetting('hideEdgesOnMove', hideWhileMoving)
      renderer.setSetting('hideLabelsOnMove', hideWhileMoving)
    }
    return fresh
  }

  /** Whether a look changes any of these attributes: sigma reacts to every
   *  update, so unchanged items are left alone. */
  function differs (attributes, look) {
    return Object.keys(look).some((name) => attributes[name] !== look[name])
  }

  /** Nodes shrink on crowded charts (to about a third at most), so that
   *  thousands of them do not cover one another or the lines, and so that
   *  software WebGL can still move them at 30 frames a second or better.
   *  Hubs and groups shrink less, to stay easy to find; lines thin to half
   *  their width at most. */
  function sizeScale (count) {
    return Math.max(0.35, Math.min(1, Math.sqrt(250 / Math.max(count, 1))))
  }

  function nodeLook (node, scale) {
    if (node.group) {
      return { label: `${node.label} (${node.members.length})`, kind: 'group', size: Math.max(scale, 0.7) * Math.min(18, 10 + 2 * Math.log2(node.members.length)), color: GROUP_COLOUR, ring: GROUP_RING, type: 'ringed' }
    }
    if (node.hub) return { label: node.label, kind: node.kind, size: Math.max(scale, 0.7) * 14, color: kindColour(node.kind), ring: HUB_RING, type: 'ringed' }
    return { label: node.label, kind: node.kind, size: scale * nodeSize(node.records), color: kindColour(node.kind), type: 'circle' }
  }

  function edgeLook (relation, scale) {
    return {
      size: Math.max(scale, 0.5) * lineWidth(relation.strength),
      weight: Math.max(relation.strength, 0.1),
      color: LINE_COLOUR,
      type: relation.confirmed ? 'line' : 'dashed',
      relationLabel: relation.label
    }
  }

  /** Where a new group goes: the middle of where its members were. */
  function centreOfMembers (node) {
    if (!node.group) return null
    const points = node.members.map((entity) => state.positions[entity.id]).filter(Boolean)
    if (points.length === 0) return null
    return [points.reduce((sum, point) => sum + point[0], 0) / points.length, points.reduce((sum, point) => sum + point[1], 0) / points.length]
  }

  /** Lays out nodes that have no position: the whole chart if none has one,
   *  else just the newcomers beside their neighbours. */
  function place (fresh) {
    if (fresh.length === 0) return
    if (fresh.length === graph.order) layoutFromNothing(graph, { layout: state.layout, root: layoutRoot() })
    else placeNewNodes(graph, fresh)
  }

  function layoutRoot () {
    return [...selected][0] ?? null
  }

  /** Copies every drawn node's position into the state (y flipped, as the
   *  state has y growing downwards); a pinned node's pin moves with it. */
  function recordPositions () {
    const positions = { ...state.positions }
    const pinned = { ...state.pinned }
    graph.forEachNode((key, attributes) => {
      positions[key] = [attributes.x, -attributes.y]
      if (pinned[key]) pinned[key] = [attributes.x, -attributes.y]
    })
    state = { ...state, positions, pinned }
  }

  /** After every change: the state into the forms' inputs, the panel,
   *  tables and toolbar drawn again, and sigma redrawn (its reducers apply
   *  the selection and highlight) unless the caller has sigma draw anyway. */
  function commit ({ redraw = true } = {}) {
    const json = stateJson(state)
    for (const input of document.querySelectorAll('input[name="state"]')) input.value = json
    const nodeByKey = new Map(view.nodes.map((node) => [node.key, node]))
    ui.render({ state, data, view, selected, highlight, expansion, graph, nodeByKey, groupError })
    if (redraw) renderer.refresh()
  }

  /** The common tail of an action that changed what is on the chart: the
   *  graph brought in line, newcomers placed, and a highlight (which may no
   *  longer hold) cleared. */
  function changed () {
    highlight = null
    place(syncGraph())
    recordPositions()
    commit()
  }

  // -------------------------------------------------------------------------
  // Actions

  function select (key, additive) {
    if (additive) {
      if (selected.has(key)) selected.delete(key)
      else selected.add(key)
    } else {
      selected.clear()
      selected.add(key)
    }
    groupError = null
    commit()
  }

  function setSelected (key, on) {
    if (on) selected.add(key)
    else selected.delete(key)
    groupError = null
    commit()
  }

  function clearSelection () {
    selected.clear()
    groupError = null
    commit()
  }

  async function expand (id, { force = false, more = false } = {}) {
    const previous = more && expansion?.id === id ? expansion : null
    const offset = previous ? expansionOffset(previous.paged, state.entities) : 0
    const forced = force || Boolean(previous?.force)
    const response = await requestChartData(config, { entities: state.entities, expand: id, offset, force: forced })
    ui.clearError()
    const merged = applyResponse(state, response)
    state = merged.state
    data = merged.data
    if (merged.dropped) ui.setWithheld(withheld += merged.dropped)
    const answer = response.expanded ?? { id, added: [], more: 0, hub: null }
    const label = data.entities.get(id)?.label ?? 'The entity'
    expansion = { id, label, paged: [...(previous?.paged ?? []), ...answer.added], lastAdded: merged.added.length, more: answer.more ?? 0, hub: answer.hub ?? null, force: forced }
    changed()
    // The expansion notice, a live region itself, says what happened.
    ui.announce('')
  }

  function hide (keys) {
    const labels = keys.map((key) => graph.hasNode(key) ? graph.getNodeAttribute(key, 'label') : key)
    state = { ...state, hidden: [...new Set([...state.hidden, ...keys])] }
    keys.forEach((key) => selected.delete(key))
    changed()
    ui.announce(`Hidden: ${labels.join(', ')}. Show hidden (${state.hidden.length}) brings ${state.hidden.length === 1 ? 'it' : 'them'} back.`)
  }

  function showHidden () {
    const shown = state.hidden.length
    state = { ...state, hidden: [] }
    changed()
    ui.announce(`Showing ${count(shown, 'hidden entity', 'hidden entities')} again.`)
  }

  function togglePin (key) {
    const pinned = { ...state.pinned }
    const label = graph.getNodeAttribute(key, 'label')
    if (pinned[key]) delete pinned[key]
    else pinned[key] = [graph.getNodeAttribute(key, 'x'), -graph.getNodeAttribute(key, 'y')]
    state = { ...state, pinned }
    commit()
    ui.announce(pinned[key] ? `Pinned ${label}: layouts leave it where it is.` : `Unpinned ${label}.`)
  }

  /** Groups the selection under the label typed; returns whether it did. */
  function group (label) {
    if (!label.trim()) {
      groupError = 'Enter a label for the group'
      commit()
      document.getElementById('link-chart-group-label')?.focus()
      return false
    }
    const keys = [...selected]
    const result = groupNodes(state, keys, label)
    state = result.state
    groupError = null
    selected.clear()
    selected.add(result.group.id)
    changed()
    ui.announce(`Grouped ${count(result.group.members.length, 'entity', 'entities')} as ${result.group.label}.`)
    return true
  }

  function ungroup (id) {
    const members = state.groups.find((existing) => existing.id === id)?.members ?? []
    state = tidyState({ ...state, groups: state.groups.filter((existing) => existing.id !== id) })
    selected.delete(id)
    members.forEach((member) => selected.add(member))
    changed()
    ui.announce(`Ungrouped ${count(members.length, 'entity', 'entities')}.`)
  }

  function setWindow (from, to) {
    if (from && to && from > to) {
      ui.timeError('The From date must be the same as or before the To date')
      return
    }
    ui.timeError(null)
    state = { ...state, window: { from, to } }
    changed()
    const range = from || to ? `${from ? `from ${from}` : ''}${from && to ? ' ' : ''}${to ? `to ${to}` : ''}` : 'at any time'
    ui.announce(`Showing ${count(view.relations.length, 'relation', 'relations')} active ${range}.`)
  }

  function relayout (layout) {
    state = { ...state, layout }
    const pinned = new Set(Object.keys(state.pinned))
    if (layout === 'hierarchical') hierarchicalLayout(graph, { pinned, root: layoutRoot() })
    else forceLayout(graph, { fixed: pinned })
    recordPositions()
    commit()
    ui.announce(layout === 'hierarchical' ? 'Laid out in layers from left to right.' : 'Laid out by force.')
  }

  function showPath () {
    const keys = [...selected].filter((key) => graph.hasNode(key))
    if (keys.length < 2) return
    if (keys.length === 2) {
      const path = shortestPath(graph, keys[0], keys[1])
      highlight = { kind: 'path', nodes: new Set(path ? path.nodes : keys), edges: new Set(path ? path.edges : []), paths: path ? [path] : [], unconnected: path ? [] : [keys] }
    } else {
      highlight = { kind: 'network', ...connectingNetwork(graph, keys) }
    }
    commit()
    const steps = highlight.paths[0] ? highlight.paths[0].nodes.length - 1 : 0
    ui.announce(highlight.kind === 'path'
      ? (highlight.paths.length ? `Shortest path highlighted: ${count(steps, 'step', 'steps')}, listed in the panel.` : 'Nothing on the chart as shown connects them.')
      : `Connecting network highlighted: ${count(highlight.nodes.size, 'entity', 'entities')}, listed in the panel.`)
  }

  function clearHighlight () {
    highlight = null
    commit()
    ui.announce('Highlight cleared.')
  }

  function setView (name) {
    ui.setView(name)
    if (name === 'chart') renderer.refresh()
    ui.announce(name === 'chart' ? 'Showing the chart and the tables.' : 'Showing the tables only.')
  }

  async function downloadPng () {
    const ids = view.entities.map((entity) => entity.id)
    if (ids.length === 0) {
      ui.showError('There is nothing to save', 'The chart shows no entities, so there is no image to save.')
      return
    }
    await recordPngExport(config, ids)
    ui.clearError()
    ui.showDrawing(true)
    let blob
    try {
      blob = await chartPng(renderer)
    } finally {
      ui.showDrawing(false)
    }
    download(blob, 'link-chart.png')
    ui.announce('The chart was saved as link-chart.png.')
  }
}
