// How the chart looks: a colour per kind of entity, node sizes, line widths
// and the styles for hubs, groups, selection and highlighted paths. The
// colours are the server's SVG export's, so an image and an export agree.

/** The kinds of entity, in the legend's order, with their names and colours. */
export const KINDS = [
  { kind: 'person', name: 'Person', colour: '#1d70b8' },
  { kind: 'phone', name: 'Phone', colour: '#00703c' },
  { kind: 'vehicle', name: 'Vehicle', colour: '#f47738' },
  { kind: 'address', name: 'Address', colour: '#912b88' },
  { kind: 'business', name: 'Business', colour: '#b58840' },
  { kind: 'email', name: 'Email', colour: '#28a197' },
  { kind: 'online_account', name: 'Online account', colour: '#505a5f' }
]

const KIND_BY_NAME = new Map(KINDS.map((entry) => [entry.kind, entry]))

/** A group of entities is drawn in its own colour, with a black ring. */
export const GROUP_COLOUR = '#6f72af'
export const GROUP_RING = '#0b0c0c'
/** A hub is drawn with a thick red ring, as in the SVG export. */
export const HUB_RING = '#d4351c'
export const LINE_COLOUR = '#505a5f'
/** What is not on a highlighted path fades to this. */
export const DIMMED = '#dddfe0'
export const HIGHLIGHT_LINE = '#0b0c0c'

export function kindName (kind) {
  return KIND_BY_NAME.get(kind)?.name ?? kind
}

export function kindColour (kind) {
  return KIND_BY_NAME.get(kind)?.colour ?? '#505a5f'
}

/** A node's size in pixels grows with the log of its records, within limits,
 *  so a busy entity stands out without swamping its neighbours. */
export function nodeSize (records) {
  return Math.min(14, 5 + 2 * Math.log2(1 + Math.max(0, records)))
}

/** A line's width in pixels grows with the relation's strength, clamped so
 *  that weak links stay visible and strong ones do not hide the nodes. */
export function lineWidth (strength) {
  const width = 1 + (Number.isFinite(strength) ? strength : 0)
  return Math.min(6, Math.max(1, width))
}
