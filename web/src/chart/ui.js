// The chart's page furniture around the drawing: the toolbar (view,
// layout, hidden entities, PNG), the time bar, the key, the error and
// status areas and the expansion notice. Every control is a real button or
// input with a label, so everything the canvas does can be done from here,
// the side panel and the tables by keyboard.
import { button, count, h, hiddenText, replaceChildren } from './dom.js'
import { renderPanel } from './panel.js'
import { createTables } from './tables.js'
import { GROUP_COLOUR, GROUP_RING, HUB_RING, KINDS } from './style.js'

/** Builds the chart's controls inside `root` (the #link-chart element) and
 *  returns the canvas container and the functions that redraw them. */
export function buildChartUi (root, actions) {
  const viewButtons = {
    chart: button('Chart', () => actions.setView('chart'), { focus: 'view-chart', pressed: true }),
    table: button('Table', () => actions.setView('table'), { focus: 'view-table', pressed: false })
  }
  const layoutButtons = {
    force: button('Force layout', () => actions.relayout('force'), { focus: 'layout-force', pressed: true }),
    hierarchical: button('Hierarchical layout', () => actions.relayout('hierarchical'), { focus: 'layout-hierarchical', pressed: false })
  }
  const showHiddenButton = button('Show hidden (0)', () => actions.showHidden(), { focus: 'show-hidden', disabled: true })
  const pngButton = button('Download PNG', () => actions.downloadPng(), { focus: 'download-png' })
  const toolbar = h('div', { class: 'aidant-chart__toolbar' },
    h('div', { class: 'aidant-chart__group', role: 'group', 'aria-label': 'View' }, viewButtons.chart, viewButtons.table),
    h('div', { class: 'aidant-chart__group', role: 'group', 'aria-label': 'Layout' }, layoutButtons.force, layoutButtons.hierarchical),
    h('div', { class: 'aidant-chart__group' }, showHiddenButton, pngButton)
  )

  const from = h('input', { class: 'govuk-input aidant-chart__date', type: 'date', id: 'link-chart-from', name: 'link-chart-from', 'aria-describedby': 'link-chart-time-hint' })
  const to = h('input', { class: 'govuk-input aidant-chart__date', type: 'date', id: 'link-chart-to', name: 'link-chart-to', 'aria-describedby': 'link-chart-time-hint' })
  const timeError = h('p', { class: 'govuk-error-message', id: 'link-chart-time-error', hidden: true })
  const applyWindow = () => actions.setWindow(from.value || null, to.value || null)
  from.addEventListener('change', applyWindow)
  to.addEventListener('change', applyWindow)
  const timeGroup = h('div', { class: 'govuk-form-group aidant-chart__timebar-group' },
    h('fieldset', { class: 'govuk-fieldset', 'aria-describedby': 'link-chart-time-hint' },
      h('legend', { class: 'govuk-fieldset__legend govuk-fieldset__legend--s', text: 'Time bar' }),
      h('div', { class: 'govuk-hint', id: 'link-chart-time-hint', text: 'Show only relations active between these dates, and entities seen then. Leave a date empty for no limit.' }),
      timeError,
      h('div', { class: 'aidant-chart__timebar' },
        h('div', { class: 'govuk-form-group aidant-chart__date-group' }, h('label', { class: 'govuk-label', for: 'link-chart-from', text: 'From' }), from),
        h('div', { class: 'govuk-form-group aidant-chart__date-group' }, h('label', { class: 'govuk-label', for: 'link-chart-to', text: 'To' }), to),
        button('Clear dates', () => actions.setWindow(null, null), { focus: 'clear-dates' })
      )
    )
  )

  const errors = h('div', { class: 'aidant-chart__errors' })
  const withheld = h('div', { class: 'govuk-inset-text aidant-chart__withheld', hidden: true })
  // Two polite live regions: what the last action did, and the notice after
  // an expansion (which stays, with its button, until the next expansion).
  const status = h('p', { class: 'govuk-body aidant-chart__status', 'aria-live': 'polite' })
  const expansion = h('div', { class: 'aidant-chart__expansion', 'aria-live': 'polite' })
  const canvas = h('div', { class: 'aidant-chart__canvas', role: 'img', 'aria-label': 'Link chart: 0 entities, 0 relations' })
  const panel = h('div', { class: 'aidant-chart__panel' })
  const tables = createTables(actions)
  const key = chartKey()
  const drawing = h('div', { class: 'aidant-chart__drawing' }, canvas, key)
  const body = h('div', { class: 'aidant-chart__body' },
    h('div', { class: 'aidant-chart__main' }, drawing),
    panel
  )
  root.append(toolbar, timeGroup, errors, withheld, status, expansion, body, tables.element)

  let currentView = 'chart'
  return {
    canvas,
    /** Redraws every control from the chart's model. */
    render (model) {
      const { state, view } = model
      canvas.setAttribute('aria-label', `Link chart: ${count(view.entities.length, 'entity', 'entities')}, ${count(view.relations.length, 'relation', 'relations')}`)
      for (const [name, control] of Object.entries(layoutButtons)) control.setAttribute('aria-pressed', String(state.layout === name))
      showHiddenButton.textContent = `Show hidden (${state.hidden.length})`
      showHiddenButton.disabled = state.hidden.length === 0
      if (document.activeElement !== from) from.value = state.window.from ?? ''
      if (document.activeElement !== to) to.value = state.window.to ?? ''
      renderExpansion(expansion, model, actions)
      renderPanel(panel, model, actions)
      tables.render(model)
    },
    setView (name) {
      currentView = name
      drawing.hidden = name !== 'chart'
      body.classList.toggle('aidant-chart__body--table', name !== 'chart')
      for (const [viewName, control] of Object.entries(viewButtons)) control.setAttribute('aria-pressed', String(viewName === name))
    },
    view: () => currentView,
    /** Shows the drawing for a moment even in the table view (to make a PNG). */
    showDrawing (shown) {
      drawing.hidden = !shown && currentView !== 'chart'
    },
    timeError (message) {
      timeError.hidden = !message
      timeError.replaceChildren(...(message ? [hiddenText('Error: '), message] : []))
      timeGroup.classList.toggle('govuk-form-group--error', Boolean(message))
      for (const input of [from, to]) input.classList.toggle('govuk-input--error', Boolean(message))
    },
    /** Shows a problem (from the server or our own) as a GOV.UK error
     *  summary in the chart area; role="alert" has it read out at once. */
    showError (title, detail) {
      errors.replaceChildren(h('div', { class: 'govuk-error-summary', role: 'alert' },
        h('h2', { class: 'govuk-error-summary__title', text: title }),
        h('div', { class: 'govuk-error-summary__body' }, h('p', { class: 'govuk-body', text: detail }))
      ))
    },
    clearError () {
      errors.replaceChildren()
    },
    /** Says, for as long as it is so, how many entities on the chart the
     *  viewer may not see. */
    setWithheld (number) {
      withheld.hidden = number === 0
      withheld.textContent = number === 0 ? '' : `${count(number, 'entity', 'entities')} on this chart cannot be shown to you, so ${number === 1 ? 'it is' : 'they are'} left out (and left out of the chart when you save it).`
    },
    /** Says something in the polite live region. */
    announce (message) {
      status.textContent = message
    },
    setBusy (busy) {
      root.setAttribute('aria-busy', String(busy))
    }
  }
}

/** The notice after an expansion: what was added and how many more there
 *  are (with a button for the next page), or why a hub was not expanded
 *  (with a button to expand it anyway). */
function renderExpansion (container, model, actions) {
  const expansion = model.expansion
  if (!expansion) {
    replaceChildren(container, [])
    return
  }
  const parts = []
  if (expansion.hub && !expansion.force) {
    parts.push(
      h('div', { class: 'govuk-warning-text' },
        h('span', { class: 'govuk-warning-text__icon', 'aria-hidden': 'true', text: '!' }),
        h('strong', { class: 'govuk-warning-text__text' }, hiddenText('Warning'), `${expansion.label} is a hub, so it was not expanded: it is ${expansion.hub}.`)
      ),
      button(['Expand anyway', hiddenText(` ${expansion.label}`)], () => actions.expand(expansion.id, { force: true }), { focus: 'expand-anyway' })
    )
  } else {
    const added = count(expansion.lastAdded, 'entity', 'entities')
    const more = expansion.more > 0 ? `, and ${expansion.more.toLocaleString('en-GB')} more` : ''
    parts.push(h('p', { class: 'govuk-body', text: `Expanded ${expansion.label}: added ${added}${more}.` }))
    if (expansion.more > 0) {
      const next = Math.min(25, expansion.more)
      parts.push(button([`Show next ${next}`, hiddenText(` linked to ${expansion.label}`)], () => actions.expand(expansion.id, { more: true }), { focus: 'expand-more' }))
    }
  }
  replaceChildren(container, [h('div', { class: 'aidant-chart__notice' }, parts)], () => container.querySelector('p, strong'))
}

/** The key: kinds by colour, the hub and group rings, and the lines. */
function chartKey () {
  const swatch = (colour, ring) => {
    const element = h('span', { class: 'aidant-chart__swatch', 'aria-hidden': 'true' })
    element.style.backgroundColor = colour
    if (ring) element.style.borderColor = ring
    if (ring) element.classList.add('aidant-chart__swatch--ringed')
    return element
  }
  const line = (dashed) => h('span', { class: `aidant-chart__line${dashed ? ' aidant-chart__line--dashed' : ''}`, 'aria-hidden': 'true' })
  return h('div', { class: 'aidant-chart__key' },
    h('h2', { class: 'govuk-heading-s', text: 'Key' }),
    h('ul', { class: 'govuk-list aidant-chart__key-list' },
      KINDS.map(({ name, colour }) => h('li', {}, swatch(colour), name)),
      h('li', {}, swatch('#ffffff', HUB_RING), 'Hub (red ring): drawn collapsed, expanded only if you ask'),
      h('li', {}, swatch(GROUP_COLOUR, GROUP_RING), 'Group of entities (black ring)'),
      h('li', {}, line(false), 'Solid line: confirmed by an intelligence record'),
      h('li', {}, line(true), 'Dashed line: not confirmed (public reports only)'),
      h('li', {}, 'A thicker line rests on more, or stronger, records')
    )
  )
}
