// Building the chart's controls as DOM nodes. Text always goes in as text
// (never as HTML), and no inline style is ever written, as the pages'
// Content-Security-Policy forbids it.

/** Properties set directly rather than as attributes. */
const PROPERTIES = new Set(['checked', 'disabled', 'hidden', 'value'])

/** An element: `h('button', { class: 'govuk-button', onclick }, 'Expand')`.
 *  `text` sets the text; `on...` adds a listener; `dataset` sets data-*;
 *  null, undefined and false leave an attribute out. */
export function h (tag, props = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue
    if (name === 'class') element.className = value
    else if (name === 'text') element.textContent = value
    else if (name === 'dataset') Object.assign(element.dataset, value)
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value)
    else if (PROPERTIES.has(name)) element[name] = value
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  element.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false))
  return element
}

/** Text only screen readers read, as GOV.UK Frontend hides it. */
export function hiddenText (text) {
  return h('span', { class: 'govuk-visually-hidden', text })
}

/** A GOV.UK secondary button. `focus` names it, so that focus can come
 *  back to it when the part of the page holding it is drawn again. */
export function button (label, onclick, { focus, extraClass = '', pressed, disabled } = {}) {
  return h('button', {
    type: 'button',
    class: `govuk-button govuk-button--secondary aidant-chart__button ${extraClass}`.trim(),
    'data-module': 'govuk-button',
    'aria-pressed': pressed === undefined ? null : String(pressed),
    disabled: disabled || null,
    dataset: focus ? { focus } : null,
    onclick
  }, label)
}

/** Replaces what `container` holds, keeping focus on the control of the
 *  same name if there still is one, or else moving it to `fallback` (when
 *  focus was inside and its control has gone). */
export function replaceChildren (container, children, fallback) {
  const active = document.activeElement
  const hadFocus = active && container.contains(active)
  const focusName = hadFocus ? active.dataset?.focus : null
  container.replaceChildren(...children.flat(Infinity).filter(Boolean))
  if (!hadFocus) return
  const again = focusName ? container.querySelector(`[data-focus="${CSS.escape(focusName)}"]`) : null
  if (again) again.focus()
  else if (fallback) fallback().focus()
}

/** "1 entity", "2,000 entities". */
export function count (number, one, many) {
  return `${number.toLocaleString('en-GB')} ${number === 1 ? one : many}`
}

/** A link the server gave, kept only if it stays on this site (a path
 *  from the root), so a bad value can never make a link leave it. */
export function localHref (href) {
  return typeof href === 'string' && href.startsWith('/') && !href.startsWith('//') ? href : '#'
}
