// The link chart's data and state, with no DOM and no drawing: reading the
// state the page gives, merging the server's answers into it, working out
// what the chart shows (the view), and writing the state back for the forms.
//
// The state is exactly what the server saves and exports from:
//   {entities, hidden, pinned, positions, groups, layout, window}
// Positions are [x, y] in chart units with y growing downwards, as in SVG,
// so the server's SVG export puts things where the analyst saw them.
// `hidden`, `pinned` and `positions` may name a group's id as well as
// entity ids; a group's members are always entities on the chart.

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** A state with nothing on the chart. */
export function emptyState () {
  return { entities: [], hidden: [], pinned: {}, positions: {}, groups: [], layout: 'force', window: { from: null, to: null } }
}

/** Reads the state the page embeds. It never fails: whatever is malformed
 *  is left out, and the problems found are returned beside the state. */
export function parseState (text) {
  const problems = []
  let raw = {}
  try {
    raw = JSON.parse(text || '{}') ?? {}
  } catch {
    problems.push('The saved chart could not be read, so it starts empty')
  }
  const state = emptyState()
  const strings = (value) => Array.isArray(value) ? value.filter((item) => typeof item === 'string') : []
  state.entities = [...new Set(strings(raw.entities))]
  state.hidden = [...new Set(strings(raw.hidden))]
  state.pinned = points(raw.pinned)
  state.positions = points(raw.positions)
  state.groups = (Array.isArray(raw.groups) ? raw.groups : [])
    .filter((group) => group && typeof group.id === 'string' && typeof group.label === 'string')
    .map((group) => ({ id: group.id, label: group.label, members: [...new Set(strings(group.members))] }))
  state.layout = raw.layout === 'hierarchical' ? 'hierarchical' : 'force'
  const window = raw.window ?? {}
  state.window = { from: DATE.test(window.from ?? '') ? window.from : null, to: DATE.test(window.to ?? '') ? window.to : null }
  return { state: tidyState(state), problems }
}

function points (value) {
  const result = {}
  if (!value || typeof value !== 'object') return result
  for (const [key, point] of Object.entries(value)) {
    if (Array.isArray(point) && point.length === 2 && point.every(Number.isFinite)) result[key] = [point[0], point[1]]
  }
  return result
}

/** Drops from the state whatever no longer refers to an entity or group on
 *  the chart, as the server refuses a state that does: a group keeps only
 *  members on the chart, and a group with no members left goes. */
export function tidyState (state) {
  const entities = new Set(state.entities)
  const inGroup = new Set()
  const groups = []
  for (const group of state.groups) {
    // An entity belongs to one group at most; the first to claim it keeps it.
    const members = group.members.filter((id) => entities.has(id) && !inGroup.has(id))
    if (members.length === 0) continue
    members.forEach((id) => inGroup.add(id))
    groups.push({ ...group, members })
  }
  const known = new Set([...entities, ...groups.map((group) => group.id)])
  const keep = (points) => Object.fromEntries(Object.entries(points).filter(([key]) => known.has(key)))
  return {
    ...state,
    hidden: state.hidden.filter((key) => known.has(key)),
    pinned: keep(state.pinned),
    positions: keep(state.positions),
    groups
  }
}

/** The state as the forms send it: the keys in the server's order and
 *  positions rounded to a hundredth, which is finer than a pixel. */
export function stateJson (state) {
  const round = (points) => Object.fromEntries(Object.entries(points).map(([key, [x, y]]) => [key, [roundTo(x), roundTo(y)]]))
  return JSON.stringify({
    entities: state.entities,
    hidden: state.hidden,
    pinned: round(state.pinned),
    positions: round(state.positions),
    groups: state.groups,
    layout: state.layout,
    window: state.window
  })
}

function roundTo (value) {
  return Math.round(value * 100) / 100
}

/** The server's data, indexed: entities by id, relations by a key of their
 *  own (the two ends and the kind). */
export function emptyData () {
  return { entities: new Map(), relations: new Map(), withheld: 0 }
}

export function relationKey (relation) {
  return `${relation.source}|${relation.target}|${relation.kind}`
}

/** Merges the server's answer into the state: the entities asked for that
 *  did not come back leave the chart (the viewer may not see them, or they
 *  are gone), and those an expansion added join it. */
export function applyResponse (state, response) {
  const data = emptyData()
  for (const entity of response.entities ?? []) data.entities.set(entity.id, entity)
  for (const relation of response.relations ?? []) {
    if (data.entities.has(relation.source) && data.entities.has(relation.target)) data.relations.set(relationKey(relation), relation)
  }
  data.withheld = response.withheld ?? 0
  const added = (response.expanded?.added ?? []).filter((id) => data.entities.has(id) && !state.entities.includes(id))
  const kept = state.entities.filter((id) => data.entities.has(id))
  const dropped = state.entities.length - kept.length
  return { state: tidyState({ ...state, entities: [...kept, ...added] }), data, added, dropped }
}

/** Whether something seen from `first` to `last` overlaps the time bar's
 *  window. Unknown dates (empty) never exclude anything. */
export function inWindow (first, last, window) {
  if (window.from && last && last < window.from) return false
  if (window.to && first && first > window.to) return false
  return true
}

/** What the chart shows for a state: the nodes (entities, and groups
 *  standing for their members), the edges between them, and the entities
 *  and relations the tables list.
 *
 *  An entity shows when it is on the chart, not hidden (nor its group), and
 *  seen within the time window; a relation shows when both its entities do
 *  and it was active within the window. A relation between two members of
 *  one group is listed but not drawn. */
export function chartView (data, state) {
  const hidden = new Set(state.hidden)
  const groupOf = new Map()
  for (const group of state.groups) for (const id of group.members) groupOf.set(id, group)
  const nodes = new Map()
  const nodeOf = new Map()
  const entities = []
  for (const id of state.entities) {
    const entity = data.entities.get(id)
    if (!entity || hidden.has(id)) continue
    const group = groupOf.get(id)
    if (group && hidden.has(group.id)) continue
    if (!inWindow(entity.first_seen, entity.last_seen, state.window)) continue
    entities.push(entity)
    if (group) {
      let node = nodes.get(group.id)
      if (!node) {
        node = { key: group.id, group, entity: null, kind: 'group', label: group.label, members: [], records: 0, hub: null, first_seen: '', last_seen: '' }
        nodes.set(group.id, node)
      }
      node.members.push(entity)
      node.records += entity.records
      node.first_seen = earliest(node.first_seen, entity.first_seen)
      node.last_seen = latest(node.last_seen, entity.last_seen)
      nodeOf.set(id, group.id)
    } else {
      nodes.set(id, { key: id, group: null, entity, kind: entity.kind, label: entity.label, members: [entity], records: entity.records, hub: entity.hub ?? null, first_seen: entity.first_seen, last_seen: entity.last_seen })
      nodeOf.set(id, id)
    }
  }
  const relations = []
  const edges = []
  for (const [key, relation] of data.relations) {
    const source = nodeOf.get(relation.source)
    const target = nodeOf.get(relation.target)
    if (!source || !target || !inWindow(relation.first_seen, relation.last_seen, state.window)) continue
    relations.push(relation)
    if (source !== target) edges.push({ key, source, target, relation })
  }
  return { nodes: [...nodes.values()], edges, entities, relations, nodeOf }
}

function earliest (left, right) {
  if (!left) return right
  if (!right) return left
  return left < right ? left : right
}

function latest (left, right) {
  return left > right ? left : right
}

/** The offset to ask for the next page of an expansion. The server ranks
 *  the neighbours not already on the chart and skips `offset` of them, so
 *  those it gave before and that are still on the chart are skipped anyway;
 *  only those that have since left the chart must be skipped by offset. */
export function expansionOffset (paged, entities) {
  const onChart = new Set(entities)
  return paged.filter((id) => !onChart.has(id)).length
}

/** Puts the selected nodes into one new group: a selected group's members
 *  join the new group, which takes the next free id (g1, g2, ...). */
export function groupNodes (state, keys, label) {
  const groups = new Map(state.groups.map((group) => [group.id, group]))
  const members = []
  for (const key of keys) {
    if (groups.has(key)) members.push(...groups.get(key).members)
    else if (state.entities.includes(key)) members.push(key)
  }
  const taken = new Set(state.groups.map((group) => group.id))
  let number = 1
  while (taken.has(`g${number}`)) number++
  const group = { id: `g${number}`, label: label.trim(), members: [...new Set(members)] }
  const memberSet = new Set(group.members)
  const groupsLeft = state.groups
    .filter((existing) => !keys.includes(existing.id))
    .map((existing) => ({ ...existing, members: existing.members.filter((id) => !memberSet.has(id)) }))
  return { state: tidyState({ ...state, groups: [...groupsLeft, group] }), group }
}

/** Compares two table cells: numbers as numbers, text as people sort it,
 *  empty cells last whichever way. */
export function compareCells (left, right) {
  const emptyLeft = left === '' || left === null || left === undefined
  const emptyRight = right === '' || right === null || right === undefined
  if (emptyLeft || emptyRight) return emptyLeft === emptyRight ? 0 : emptyLeft ? 1 : -1
  if (typeof left === 'number' && typeof right === 'number') return left - right
  return String(left).localeCompare(String(right), 'en-GB', { numeric: true, sensitivity: 'base' })
}

/** Sorts rows by one column, keeping rows with equal cells in their order. */
export function sortRows (rows, cell, direction) {
  const sign = direction === 'descending' ? -1 : 1
  return rows
    .map((row, index) => ({ row, index, value: cell(row) }))
    .sort((left, right) => {
      const byCell = compareCells(left.value, right.value)
      const emptyInvolved = [left.value, right.value].some((value) => value === '' || value === null || value === undefined)
      return (emptyInvolved ? byCell : sign * byCell) || left.index - right.index
    })
    .map((item) => item.row)
}
