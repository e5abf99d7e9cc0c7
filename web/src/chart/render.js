// Drawing the chart with sigma (WebGL) and turning it into a PNG. The graph
// holds each node's and line's lasting look (colour by kind, size by
// records, width by strength, dashed when unconfirmed); selection and
// highlighted paths are applied on the way to the screen by reducers, so
// they never touch the graph.
import Sigma from 'sigma'
import { createNodeBorderProgram } from '@sigma/node-border'
import { NodePointProgram } from 'sigma/rendering'
import { DashedLineProgram, SolidLineProgram } from './edge-programs.js'
import { DIMMED, HIGHLIGHT_LINE, KINDS } from './style.js'

/** A ringed disc: the ring's colour is the node's `ring` attribute. Hubs
 *  (red ring) and groups (black ring) use it. */
const RingedNodeProgram = createNodeBorderProgram({
  borders: [
    { size: { value: 0.3 }, color: { attribute: 'ring' } },
    { size: { fill: true }, color: { attribute: 'color' } }
  ]
})

/** Starts sigma in `container` on `graph`. `look()` gives the transient
 *  look: the selected keys and the highlighted nodes and lines (or null). */
export function createRenderer (container, graph, look) {
  const renderer = new Sigma(graph, container, {
    allowInvalidContainer: true,
    defaultNodeType: 'circle',
    defaultEdgeType: 'line',
    // Plain discs are drawn as points: not instanced, so far quicker in
    // software WebGL than sigma's instanced discs (see edge-programs.js).
    nodeProgramClasses: { circle: NodePointProgram, ringed: RingedNodeProgram },
    edgeProgramClasses: { line: SolidLineProgram, dashed: DashedLineProgram },
    labelFont: 'Arial, sans-serif',
    labelSize: 13,
    labelColor: { color: '#0b0c0c' },
    // Small charts label every node; on large ones sigma's label grid keeps
    // labels from piling up (one per cell, the biggest nodes first).
    labelRenderedSizeThreshold: 5,
    labelGridCellSize: 60,
    labelDensity: 1.5,
    zIndex: true,
    minEdgeThickness: 1,
    nodeReducer: (key, attributes) => {
      const { selected, highlight } = look()
      const result = { ...attributes }
      if (highlight && !highlight.nodes.has(key)) {
        result.color = DIMMED
        if (result.ring) result.ring = DIMMED
        result.label = ''
        result.zIndex = 0
      } else if (highlight) {
        result.forceLabel = true
        result.zIndex = 2
      }
      if (selected.has(key)) {
        result.highlighted = true
        result.forceLabel = true
        result.zIndex = 3
      }
      return result
    },
    edgeReducer: (key, attributes) => {
      const { highlight } = look()
      if (!highlight) return attributes
      if (highlight.edges.has(key)) return { ...attributes, color: HIGHLIGHT_LINE, size: Math.max(3, attributes.size), zIndex: 2 }
      return { ...attributes, color: DIMMED, zIndex: 0 }
    }
  })
  return renderer
}

/** Lets the analyst drag a node to move it. `onDrop(key)` is called when a
 *  node has been moved (not merely clicked). Returns whether a drag just
 *  ended, so the click that follows a drag does not change the selection. */
export function enableDragging (renderer, onDrop) {
  let dragged = null
  let moved = false
  let justDropped = false
  renderer.on('downNode', ({ node }) => {
    dragged = node
    moved = false
    justDropped = false
  })
  renderer.getMouseCaptor().on('mousemovebody', (event) => {
    if (!dragged) return
    const point = renderer.viewportToGraph(event)
    renderer.getGraph().mergeNodeAttributes(dragged, { x: point.x, y: point.y })
    moved = true
    event.preventSigmaDefault()
    event.original.preventDefault()
    event.original.stopPropagation()
  })
  const drop = () => {
    if (dragged && moved) {
      justDropped = true
      onDrop(dragged)
    }
    dragged = null
    moved = false
  }
  renderer.getMouseCaptor().on('mouseup', drop)
  renderer.getMouseCaptor().on('mouseleave', drop)
  return () => {
    const was = justDropped
    justDropped = false
    return was
  }
}

/** The chart as drawn, on white, with the key to colours beneath, as a PNG
 *  blob. Sigma's layers are drawn again and copied at once, while the WebGL
 *  layers still hold the frame. */
export function chartPng (renderer) {
  renderer.render()
  const layers = renderer.getCanvases()
  const first = layers.edges ?? Object.values(layers)[0]
  const width = first.width
  const height = first.height
  const ratio = width / Math.max(1, renderer.getDimensions().width)
  const keyHeight = Math.round(36 * ratio)
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height + keyHeight
  const context = canvas.getContext('2d')
  context.fillStyle = '#ffffff'
  context.fillRect(0, 0, canvas.width, canvas.height)
  for (const [name, layer] of Object.entries(layers)) {
    if (name !== 'mouse') context.drawImage(layer, 0, 0, width, height)
  }
  drawKey(context, height, ratio)
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The image could not be made'))), 'image/png')
  })
}

function drawKey (context, top, ratio) {
  context.font = `${Math.round(13 * ratio)}px Arial, sans-serif`
  context.textBaseline = 'middle'
  const middle = top + 18 * ratio
  let x = 12 * ratio
  for (const { name, colour } of KINDS) {
    context.fillStyle = colour
    context.beginPath()
    context.arc(x + 6 * ratio, middle, 6 * ratio, 0, 2 * Math.PI)
    context.fill()
    context.fillStyle = '#0b0c0c'
    context.fillText(name, x + 16 * ratio, middle)
    x += (24 + context.measureText(name).width / ratio) * ratio
  }
}

/** Saves a blob as a file, as a download the browser offers. */
export function download (blob, filename) {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}
