// Unit tests for the chart's model (src/chart/model.js), which has no DOM:
// reading and writing the state, merging the server's answers, the view
// the time bar and groups make, paging an expansion and sorting tables.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { applyResponse, chartView, compareCells, emptyState, expansionOffset, groupNodes, inWindow, parseState, sortRows, stateJson } from '../src/chart/model.js'

const entity = (id, extra = {}) => ({ id, kind: 'person', label: id.toUpperCase(), href: `/staff/entities/${id}`, records: 1, hub: null, first_seen: '2026-03-01', last_seen: '2026-03-31', ...extra })
const relation = (source, target, extra = {}) => ({ source, target, kind: 'knows', label: 'knows', records: 1, strength: 1, confirmed: true, first_seen: '2026-03-01', last_seen: '2026-03-31', ...extra })

function dataOf (entities, relations, state) {
  return applyResponse(state, { entities, relations, expanded: null, withheld: 0 })
}

test('a state reads back as it was written, in the server\'s key order', () => {
  const text = '{"entities":["a","b"],"hidden":["b"],"pinned":{"a":[1.234,5]},"positions":{"a":[1.234,5],"b":[2,3]},"groups":[],"layout":"hierarchical","window":{"from":"2026-03-01","to":null}}'
  const { state, problems } = parseState(text)
  assert.deepEqual(problems, [])
  assert.equal(stateJson(state), text.replace('1.234', '1.23').replace('1.234', '1.23'))
})

test('a malformed state gives an empty chart and says so', () => {
  const { state, problems } = parseState('{not json')
  assert.deepEqual(state, emptyState())
  assert.equal(problems.length, 1)
})

test('whatever names nothing on the chart is dropped from the state', () => {
  const { state } = parseState(JSON.stringify({
    entities: ['a', 'b'],
    hidden: ['c', 'g1'],
    pinned: { c: [0, 0], a: [1, 'x'] },
    positions: { b: [1, 2], g1: [3, 4] },
    groups: [{ id: 'g1', label: 'Pair', members: ['a', 'c'] }, { id: 'g2', label: 'Empty', members: ['c'] }],
    layout: 'sideways',
    window: { from: '1 March', to: '2026-04-01' }
  }))
  assert.deepEqual(state.hidden, ['g1'])
  assert.deepEqual(state.pinned, {})
  assert.deepEqual(state.positions, { b: [1, 2], g1: [3, 4] })
  assert.deepEqual(state.groups, [{ id: 'g1', label: 'Pair', members: ['a'] }])
  assert.equal(state.layout, 'force')
  assert.deepEqual(state.window, { from: null, to: '2026-04-01' })
})

test('entities the server did not return leave the chart, with their pins and groups', () => {
  const state = { ...emptyState(), entities: ['a', 'b', 'c'], pinned: { c: [0, 0] }, groups: [{ id: 'g1', label: 'G', members: ['b', 'c'] }] }
  const merged = applyResponse(state, { entities: [entity('a'), entity('b')], relations: [relation('a', 'b'), relation('b', 'c')], expanded: null, withheld: 1 })
  assert.deepEqual(merged.state.entities, ['a', 'b'])
  assert.deepEqual(merged.state.pinned, {})
  assert.deepEqual(merged.state.groups[0].members, ['b'])
  assert.equal(merged.dropped, 1)
  assert.equal(merged.data.relations.size, 1)
})

test('an expansion adds its entities after those already on the chart', () => {
  const state = { ...emptyState(), entities: ['a'] }
  const merged = applyResponse(state, { entities: [entity('b'), entity('a')], relations: [], expanded: { id: 'a', added: ['b'], more: 3, hub: null }, withheld: 0 })
  assert.deepEqual(merged.state.entities, ['a', 'b'])
  assert.deepEqual(merged.added, ['b'])
})

test('a time window keeps what overlaps it, and unknown dates never exclude', () => {
  const window = { from: '2026-03-15', to: '2026-03-20' }
  assert.equal(inWindow('2026-03-01', '2026-03-14', window), false)
  assert.equal(inWindow('2026-03-21', '2026-04-01', window), false)
  assert.equal(inWindow('2026-03-01', '2026-03-15', window), true)
  assert.equal(inWindow('2026-03-20', '2026-04-01', window), true)
  assert.equal(inWindow('', '', window), true)
  assert.equal(inWindow('2026-01-01', '2026-01-02', { from: null, to: null }), true)
})

test('the view draws a group for its members and their relations to it', () => {
  const base = { ...emptyState(), entities: ['a', 'b', 'c', 'd'], groups: [{ id: 'g1', label: 'Pair', members: ['a', 'b'] }] }
  const { state, data } = dataOf([entity('a'), entity('b'), entity('c'), entity('d', { first_seen: '2026-01-01', last_seen: '2026-01-02' })],
    [relation('a', 'b'), relation('a', 'c'), relation('c', 'b', { kind: 'calls' }), relation('c', 'd')], base)
  const view = chartView(data, state)
  assert.deepEqual(view.nodes.map((node) => node.key), ['g1', 'c', 'd'])
  assert.equal(view.nodes[0].records, 2)
  assert.deepEqual(view.edges.map((edge) => [edge.source, edge.target]), [['g1', 'c'], ['c', 'g1'], ['c', 'd']])
  assert.equal(view.relations.length, 4, 'the relation inside the group is listed, not drawn')

  const windowed = chartView(data, { ...state, window: { from: '2026-03-01', to: null } })
  assert.deepEqual(windowed.nodes.map((node) => node.key), ['g1', 'c'])
  const hidden = chartView(data, { ...state, hidden: ['g1'] })
  assert.deepEqual(hidden.nodes.map((node) => node.key), ['c', 'd'])
})

test('grouping takes the next free id and folds a selected group into the new one', () => {
  const state = { ...emptyState(), entities: ['a', 'b', 'c'], groups: [{ id: 'g1', label: 'Old', members: ['a', 'b'] }] }
  const { state: grouped, group } = groupNodes(state, ['g1', 'c'], '  Everyone ')
  assert.deepEqual(group, { id: 'g2', label: 'Everyone', members: ['a', 'b', 'c'] })
  assert.deepEqual(grouped.groups, [group])
})

test('the next page of an expansion skips only those that left the chart', () => {
  assert.equal(expansionOffset(['x', 'y'], ['a', 'x', 'y']), 0)
  assert.equal(expansionOffset(['x', 'y'], ['a', 'x']), 1)
})

test('tables sort numbers as numbers and empty cells last either way', () => {
  const rows = [{ n: 10, s: 'b' }, { n: 9, s: '' }, { n: 100, s: 'a' }]
  assert.deepEqual(sortRows(rows, (row) => row.n, 'ascending').map((row) => row.n), [9, 10, 100])
  assert.deepEqual(sortRows(rows, (row) => row.n, 'descending').map((row) => row.n), [100, 10, 9])
  assert.deepEqual(sortRows(rows, (row) => row.s, 'ascending').map((row) => row.s), ['a', 'b', ''])
  assert.deepEqual(sortRows(rows, (row) => row.s, 'descending').map((row) => row.s), ['b', 'a', ''])
  assert.ok(compareCells('Worker 2', 'Worker 10') < 0)
})
