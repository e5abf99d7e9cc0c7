// The chart as two GOV.UK tables, Entities and Relations, holding what the
// chart shows (so the time bar and hidden entities apply to them too).
// Every column but the controls sorts from a button in its header, with
// aria-sort saying how; long tables show a page at a time.
import { button, count, h, hiddenText, localHref, replaceChildren } from './dom.js'
import { sortRows } from './model.js'
import { kindName } from './style.js'

const PAGE = 100

const ENTITY_COLUMNS = [
  { id: 'entity', title: 'Entity', cell: (node) => node.label },
  { id: 'kind', title: 'Kind', cell: (node) => node.group ? 'Group' : kindName(node.kind) },
  { id: 'records', title: 'Records', numeric: true, cell: (node) => node.records },
  { id: 'first-seen', title: 'First seen', cell: (node) => node.first_seen },
  { id: 'last-seen', title: 'Last seen', cell: (node) => node.last_seen },
  { id: 'hub', title: 'Hub reason', cell: (node) => node.hub ?? '' }
]

const RELATION_COLUMNS = [
  { id: 'from', title: 'From', cell: (row) => row.from },
  { id: 'relation', title: 'Relation', cell: (row) => row.relation.label },
  { id: 'to', title: 'To', cell: (row) => row.to },
  { id: 'records', title: 'Records', numeric: true, cell: (row) => row.relation.records },
  { id: 'strength', title: 'Strength', numeric: true, cell: (row) => row.relation.strength },
  { id: 'confirmed', title: 'Confirmed', cell: (row) => row.relation.confirmed ? 'Yes' : 'No' },
  { id: 'first-seen', title: 'First seen', cell: (row) => row.relation.first_seen },
  { id: 'last-seen', title: 'Last seen', cell: (row) => row.relation.last_seen }
]

function cell (text, numeric) {
  return h('td', { class: `govuk-table__cell${numeric ? ' govuk-table__cell--numeric' : ''}`, text })
}

function dateCell (text) {
  return h('td', { class: 'govuk-table__cell aidant-chart__date-cell', text })
}

export function createTables (actions) {
  const sorting = { entities: { column: null, direction: 'none' }, relations: { column: null, direction: 'none' } }
  const shown = { entities: PAGE, relations: PAGE }
  const entities = h('div', { class: 'aidant-chart__table' })
  const relations = h('div', { class: 'aidant-chart__table' })
  const element = h('div', { class: 'aidant-chart__tables' }, entities, relations)
  let lastModel = null
  const again = () => lastModel && render(lastModel)

  const sortBy = (table, column) => {
    const current = sorting[table]
    sorting[table] = { column, direction: current.column === column && current.direction === 'ascending' ? 'descending' : 'ascending' }
    again()
  }

  function header (table, column) {
    const sort = sorting[table]
    const direction = sort.column === column.id ? sort.direction : 'none'
    return h('th', { scope: 'col', class: `govuk-table__header${column.numeric ? ' govuk-table__header--numeric' : ''}`, 'aria-sort': direction },
      h('button', { type: 'button', class: 'aidant-chart__sort', dataset: { focus: `sort-${table}-${column.id}` }, onclick: () => sortBy(table, column.id) }, column.title))
  }

  function sorted (table, rows, columns) {
    const sort = sorting[table]
    const column = columns.find((candidate) => candidate.id === sort.column)
    return column ? sortRows(rows, column.cell, sort.direction) : rows
  }

  function more (table, total, noun) {
    if (total <= shown[table]) return null
    return h('div', { class: 'aidant-chart__more' },
      h('p', { class: 'govuk-body', text: `Showing ${shown[table].toLocaleString('en-GB')} of ${count(total, noun[0], noun[1])}.` }),
      button(`Show ${Math.min(PAGE, total - shown[table])} more ${noun[1]}`, () => {
        shown[table] += PAGE
        again()
      }, { focus: `more-${table}` }))
  }

  function entityRow (node, model) {
    const checkboxId = `link-chart-select-${node.key}`
    const checkbox = h('input', { class: 'govuk-checkboxes__input', type: 'checkbox', id: checkboxId, checked: model.selected.has(node.key), dataset: { focus: `select-${node.key}` } })
    checkbox.addEventListener('change', () => actions.setSelected(node.key, checkbox.checked))
    const name = node.group
      ? h('span', {}, node.label, h('span', { class: 'govuk-body-s aidant-chart__members', text: ` (group: ${node.members.map((entity) => entity.label).join(', ')})` }))
      : h('a', { class: 'govuk-link', href: localHref(node.entity.href), text: node.label })
    return h('tr', { class: 'govuk-table__row' },
      h('td', { class: 'govuk-table__cell' },
        h('div', { class: 'govuk-checkboxes govuk-checkboxes--small aidant-chart__select' },
          h('div', { class: 'govuk-checkboxes__item' }, checkbox,
            h('label', { class: 'govuk-label govuk-checkboxes__label', for: checkboxId }, hiddenText(`Select ${node.label}`))))),
      h('th', { scope: 'row', class: 'govuk-table__header aidant-chart__row-header' }, name),
      cell(node.group ? `Group of ${node.members.length}` : kindName(node.kind)),
      cell(node.records.toLocaleString('en-GB'), true),
      dateCell(node.first_seen),
      dateCell(node.last_seen),
      cell(node.hub ?? ''),
      h('td', { class: 'govuk-table__cell aidant-chart__row-actions' },
        node.group
          ? button(['Ungroup', hiddenText(` ${node.label}`)], () => actions.ungroup(node.key), { focus: `ungroup-${node.key}` })
          : button(['Expand', hiddenText(` ${node.label}`)], () => actions.expand(node.key), { focus: `expand-${node.key}` }),
        button(['Hide', hiddenText(` ${node.label}`)], () => actions.hide([node.key]), { focus: `hide-${node.key}` }))
    )
  }

  function relationRow (row) {
    return h('tr', { class: 'govuk-table__row' },
      h('th', { scope: 'row', class: 'govuk-table__header aidant-chart__row-header', text: row.from }),
      cell(row.relation.label),
      cell(row.to),
      cell(row.relation.records.toLocaleString('en-GB'), true),
      cell(row.relation.strength.toFixed(2), true),
      cell(row.relation.confirmed ? 'Yes' : 'No'),
      dateCell(row.relation.first_seen),
      dateCell(row.relation.last_seen)
    )
  }

  function render (model) {
    lastModel = model
    const nodes = sorted('entities', model.view.nodes, ENTITY_COLUMNS)
    const entityTable = h('table', { class: 'govuk-table aidant-chart__data-table', id: 'link-chart-entities' },
      h('caption', { class: 'govuk-table__caption govuk-table__caption--m', tabindex: '-1', id: 'link-chart-entities-caption', text: `Entities (${model.view.nodes.length.toLocaleString('en-GB')})` }),
      h('thead', { class: 'govuk-table__head' }, h('tr', { class: 'govuk-table__row' },
        h('th', { scope: 'col', class: 'govuk-table__header', text: 'Select' }),
        ENTITY_COLUMNS.map((column) => header('entities', column)),
        h('th', { scope: 'col', class: 'govuk-table__header', text: 'Actions' }))),
      h('tbody', { class: 'govuk-table__body' }, nodes.slice(0, shown.entities).map((node) => entityRow(node, model)))
    )
    const groupOf = new Map()
    for (const node of model.view.nodes) if (node.group) for (const entity of node.members) groupOf.set(entity.id, node.label)
    const labelOf = (id) => {
      const label = model.data.entities.get(id)?.label ?? id
      return groupOf.has(id) ? `${label} (in group ${groupOf.get(id)})` : label
    }
    const rows = model.view.relations.map((relation) => ({ relation, from: labelOf(relation.source), to: labelOf(relation.target) }))
    const relationTable = h('table', { class: 'govuk-table aidant-chart__data-table', id: 'link-chart-relations' },
      h('caption', { class: 'govuk-table__caption govuk-table__caption--m', text: `Relations (${rows.length.toLocaleString('en-GB')})` }),
      h('thead', { class: 'govuk-table__head' }, h('tr', { class: 'govuk-table__row' }, RELATION_COLUMNS.map((column) => header('relations', column)))),
      h('tbody', { class: 'govuk-table__body' }, sorted('relations', rows, RELATION_COLUMNS).slice(0, shown.relations).map(relationRow))
    )
    const entitiesCaption = () => entities.querySelector('caption')
    replaceChildren(entities, [entityTable, nodes.length === 0 ? h('p', { class: 'govuk-body', text: 'No entities are shown.' }) : null, more('entities', nodes.length, ['entity', 'entities'])], entitiesCaption)
    replaceChildren(relations, [relationTable, more('relations', rows.length, ['relation', 'relations'])], entitiesCaption)
  }

  return { element, render }
}
