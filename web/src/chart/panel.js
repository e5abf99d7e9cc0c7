// The side panel: what is selected and what can be done with it. One
// entity (or group) shows its details and Expand, Hide and Pin; several
// show Group, and the shortest path (two) or the connecting network
// (three or more). A highlighted path is listed here as text.
import { button, h, hiddenText, localHref, replaceChildren } from './dom.js'
import { kindName } from './style.js'

/** What the analyst has typed as a group's label, kept while the panel is
 *  drawn again (a selection changing, say) until a group is made. */
let draftLabel = ''

export function renderPanel (container, model, actions) {
  const nodes = [...model.selected].map((key) => model.nodeByKey.get(key)).filter(Boolean)
  const heading = h('h2', { class: 'govuk-heading-m', id: 'link-chart-panel-heading', tabindex: '-1' })
  const parts = [heading]
  if (nodes.length === 0) {
    heading.textContent = 'Nothing selected'
    parts.push(h('p', { class: 'govuk-body', text: 'Select an entity on the chart (click it; Ctrl or Shift and click to add more), or with its Select box in the Entities table.' }))
  } else if (nodes.length === 1) {
    heading.textContent = nodes[0].label
    parts.push(...oneNode(nodes[0], model, actions))
  } else {
    heading.textContent = `${nodes.length} selected`
    parts.push(...severalNodes(nodes, model, actions))
  }
  if (model.highlight) parts.push(...highlightText(model, actions))
  replaceChildren(container, [h('section', { class: 'aidant-chart__panel-section', 'aria-labelledby': 'link-chart-panel-heading' }, parts)], () => container.querySelector('#link-chart-panel-heading'))
}

function summaryRow (key, value) {
  return h('div', { class: 'govuk-summary-list__row' },
    h('dt', { class: 'govuk-summary-list__key', text: key }),
    h('dd', { class: 'govuk-summary-list__value', text: value })
  )
}

function oneNode (node, model, actions) {
  const pinned = Boolean(model.state.pinned[node.key])
  const rows = [
    summaryRow('Kind', node.group ? `Group of ${node.members.length}` : kindName(node.kind)),
    summaryRow('Records', node.records.toLocaleString('en-GB')),
    summaryRow('First seen', node.first_seen || 'Not known'),
    summaryRow('Last seen', node.last_seen || 'Not known'),
    summaryRow('Pinned', pinned ? 'Yes' : 'No')
  ]
  if (node.hub) rows.push(summaryRow('Hub', `Yes: ${node.hub}. Drawn collapsed; expand it only if you need to.`))
  const parts = [h('dl', { class: 'govuk-summary-list govuk-summary-list--no-border aidant-chart__summary' }, rows)]
  if (node.group) {
    parts.push(
      h('h3', { class: 'govuk-heading-s', text: 'Members' }),
      h('ul', { class: 'govuk-list govuk-list--bullet' }, node.members.map((entity) =>
        h('li', {}, h('a', { class: 'govuk-link', href: localHref(entity.href), text: entity.label }), ` (${kindName(entity.kind)})`)))
    )
  } else {
    parts.push(h('p', { class: 'govuk-body' }, h('a', { class: 'govuk-link', href: localHref(node.entity.href) }, 'Open entity page', hiddenText(` for ${node.label}`))))
  }
  const actionsRow = []
  if (node.group) actionsRow.push(button(['Ungroup', hiddenText(` ${node.label}`)], () => actions.ungroup(node.key), { focus: 'panel-ungroup' }))
  else actionsRow.push(button(['Expand', hiddenText(` ${node.label}`)], () => actions.expand(node.key), { focus: 'panel-expand' }))
  actionsRow.push(
    button(['Hide', hiddenText(` ${node.label}`)], () => actions.hide([node.key]), { focus: 'panel-hide' }),
    button([pinned ? 'Unpin' : 'Pin', hiddenText(` ${node.label}`)], () => actions.togglePin(node.key), { focus: 'panel-pin' }),
    button('Clear selection', () => actions.clearSelection(), { focus: 'panel-clear' })
  )
  parts.push(h('div', { class: 'govuk-button-group aidant-chart__actions' }, actionsRow))
  return parts
}

function severalNodes (nodes, model, actions) {
  const labelInput = h('input', { class: 'govuk-input', type: 'text', id: 'link-chart-group-label', name: 'link-chart-group-label', maxlength: '100', spellcheck: 'false', 'aria-describedby': model.groupError ? 'link-chart-group-error' : null })
  const groupForm = h('div', { class: `govuk-form-group${model.groupError ? ' govuk-form-group--error' : ''}` },
    h('label', { class: 'govuk-label', for: 'link-chart-group-label', text: 'Group label' }),
    model.groupError ? h('p', { class: 'govuk-error-message', id: 'link-chart-group-error' }, hiddenText('Error: '), model.groupError) : null,
    labelInput,
    button('Group selected', () => makeGroup(labelInput.value, actions), { focus: 'panel-group' })
  )
  if (model.groupError) labelInput.classList.add('govuk-input--error')
  labelInput.value = draftLabel
  labelInput.addEventListener('input', () => { draftLabel = labelInput.value })
  labelInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault()
      makeGroup(labelInput.value, actions)
    }
  })
  const pathButton = nodes.length === 2
    ? button('Show shortest path', () => actions.showPath(), { focus: 'panel-path' })
    : button('Show connecting network', () => actions.showPath(), { focus: 'panel-path' })
  return [
    h('ul', { class: 'govuk-list govuk-list--bullet' }, nodes.map((node) => h('li', { text: `${node.label} (${node.group ? 'group' : kindName(node.kind)})` }))),
    h('div', { class: 'govuk-button-group aidant-chart__actions' },
      pathButton,
      button('Hide selected', () => actions.hide(nodes.map((node) => node.key)), { focus: 'panel-hide' }),
      button('Clear selection', () => actions.clearSelection(), { focus: 'panel-clear' })
    ),
    groupForm
  ]
}

function makeGroup (label, actions) {
  if (actions.group(label)) draftLabel = ''
}

/** The highlighted path or network as text: each path a numbered list of
 *  entities, each step saying how it links to the one before. */
function highlightText (model, actions) {
  const { highlight, graph } = model
  const labelOf = (key) => graph.hasNode(key) ? graph.getNodeAttribute(key, 'label') : key
  const heading = highlight.kind === 'path' ? 'Shortest path' : 'Connecting network'
  const parts = [h('h3', { class: 'govuk-heading-s', id: 'link-chart-path-heading', text: heading })]
  if (highlight.paths.length === 0) parts.push(h('p', { class: 'govuk-body', text: 'Nothing on the chart as shown connects them.' }))
  for (const path of highlight.paths) {
    parts.push(h('ol', { class: 'govuk-list govuk-list--number aidant-chart__path', 'aria-labelledby': 'link-chart-path-heading' },
      path.nodes.map((key, index) => {
        if (index === 0) return h('li', { text: labelOf(key) })
        const relation = graph.getEdgeAttribute(path.edges[index - 1], 'relationLabel')
        return h('li', { text: `${relation}: ${labelOf(key)}` })
      })))
  }
  for (const [left, right] of highlight.unconnected) {
    parts.push(h('p', { class: 'govuk-body', text: `Nothing on the chart as shown connects ${labelOf(left)} and ${labelOf(right)}.` }))
  }
  parts.push(button('Clear highlight', () => actions.clearHighlight(), { focus: 'panel-clear-highlight' }))
  return parts
}
