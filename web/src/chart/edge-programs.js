// Sigma edge programs for the chart's relations: a line as wide as the
// relation is strong, solid where an intelligence record confirms it and
// dashed where none does (i2 analysts read solid as confirmed and dashed as
// not; sigma has no dashed lines of its own).
//
// Sigma's rectangle program draws every line as an instance of one shared
// quad. Software WebGL (SwiftShader: headless Chromium, and machines with no
// usable GPU) pays heavily per instance, so these programs write each line's
// six corners into the vertex buffer themselves and draw all the lines in
// one plain call: several times faster there, and no slower on a GPU.
import { EdgeProgram } from 'sigma/rendering'
import { floatColor } from 'sigma/utils'

/** Dash and gap lengths in CSS pixels, as the SVG export's "6 4". */
const DASH = 6
const PERIOD = 10

const VERTEX_SHADER = /* glsl */ `
attribute vec4 a_id;
attribute vec4 a_color;
attribute vec2 a_normal;
attribute float a_normalCoef;
attribute vec2 a_positionStart;
attribute vec2 a_positionEnd;
attribute float a_positionCoef;

uniform mat3 u_matrix;
uniform float u_zoomRatio;
uniform float u_sizeRatio;
uniform float u_pixelRatio;
uniform float u_correctionRatio;
uniform float u_minEdgeThickness;
uniform float u_feather;
uniform vec2 u_dimensions;

varying vec4 v_color;
varying vec2 v_normal;
varying float v_thickness;
varying float v_feather;
varying float v_distance;

const float bias = 255.0 / 254.0;

void main() {
  vec2 normal = a_normal * a_normalCoef;
  vec2 position = a_positionStart * (1.0 - a_positionCoef) + a_positionEnd * a_positionCoef;
  float normalLength = length(normal);
  vec2 unitNormal = normal / normalLength;

  // The line's thickness, at least the minimum on screen, in WebGL units.
  float pixelsThickness = max(normalLength, u_minEdgeThickness * u_sizeRatio);
  float webGLThickness = pixelsThickness * u_correctionRatio / u_sizeRatio;
  gl_Position = vec4((u_matrix * vec3(position + unitNormal * webGLThickness, 1)).xy, 0, 1);

  v_thickness = webGLThickness / u_zoomRatio;
  v_normal = unitNormal;
  v_feather = u_feather * u_correctionRatio / u_zoomRatio / u_pixelRatio * 2.0;

  // How far along the line this corner is, in CSS pixels on screen: clip
  // space runs from -1 to 1 across the viewport, so half of it per unit.
  vec2 start = (u_matrix * vec3(a_positionStart, 1)).xy;
  vec2 end = (u_matrix * vec3(a_positionEnd, 1)).xy;
  v_distance = a_positionCoef * length((end - start) * u_dimensions * 0.5);

  #ifdef PICKING_MODE
  v_color = a_id;
  #else
  v_color = a_color;
  #endif
  v_color.a *= bias;
}
`

/** The fragment shader: anti-aliased edges along the line's sides and,
 *  when dashed, nothing in the gaps (transparent rather than discarded,
 *  which software WebGL does faster). Picking sees the whole line. */
function fragmentShader (dashed) {
  return /* glsl */ `
precision highp float;

varying vec4 v_color;
varying vec2 v_normal;
varying float v_thickness;
varying float v_feather;
varying float v_distance;

const vec4 transparent = vec4(0.0, 0.0, 0.0, 0.0);

void main(void) {
  #ifdef PICKING_MODE
  gl_FragColor = v_color;
  #else
  float dist = length(v_normal) * v_thickness;
  float t = smoothstep(v_thickness - v_feather, v_thickness, dist);
  ${dashed ? `t = max(t, step(${DASH.toFixed(1)}, mod(v_distance, ${PERIOD.toFixed(1)})));` : ''}
  gl_FragColor = mix(v_color, transparent, t);
  #endif
}
`
}

const UNIFORMS = ['u_matrix', 'u_zoomRatio', 'u_sizeRatio', 'u_correctionRatio', 'u_pixelRatio', 'u_feather', 'u_minEdgeThickness', 'u_dimensions']

/** The six corners of a line's two triangles: [along, side]. */
const CORNERS = [[0, 1], [0, -1], [1, 1], [1, 1], [0, -1], [1, -1]]

function createLineProgram (dashed) {
  const fragment = fragmentShader(dashed)
  return class LineProgram extends EdgeProgram {
    getDefinition () {
      const { FLOAT, UNSIGNED_BYTE, TRIANGLES } = WebGLRenderingContext
      return {
        VERTICES: 6,
        VERTEX_SHADER_SOURCE: VERTEX_SHADER,
        FRAGMENT_SHADER_SOURCE: fragment,
        METHOD: TRIANGLES,
        UNIFORMS,
        ATTRIBUTES: [
          { name: 'a_positionStart', size: 2, type: FLOAT },
          { name: 'a_positionEnd', size: 2, type: FLOAT },
          { name: 'a_normal', size: 2, type: FLOAT },
          { name: 'a_color', size: 4, type: UNSIGNED_BYTE, normalized: true },
          { name: 'a_id', size: 4, type: UNSIGNED_BYTE, normalized: true },
          { name: 'a_positionCoef', size: 1, type: FLOAT },
          { name: 'a_normalCoef', size: 1, type: FLOAT }
        ]
      }
    }

    processVisibleItem (edgeIndex, startIndex, sourceData, targetData, data) {
      const thickness = data.size || 1
      const dx = targetData.x - sourceData.x
      const dy = targetData.y - sourceData.y
      const length = Math.hypot(dx, dy)
      const normalX = length ? (-dy / length) * thickness : 0
      const normalY = length ? (dx / length) * thickness : 0
      const color = floatColor(data.color)
      const array = this.array
      let index = startIndex
      for (const [along, side] of CORNERS) {
        array[index++] = sourceData.x
        array[index++] = sourceData.y
        array[index++] = targetData.x
        array[index++] = targetData.y
        array[index++] = normalX
        array[index++] = normalY
        array[index++] = color
        array[index++] = edgeIndex
        array[index++] = along
        array[index++] = side
      }
    }

    setUniforms (params, { gl, uniformLocations }) {
      gl.uniformMatrix3fv(uniformLocations.u_matrix, false, params.matrix)
      gl.uniform1f(uniformLocations.u_zoomRatio, params.zoomRatio)
      gl.uniform1f(uniformLocations.u_sizeRatio, params.sizeRatio)
      gl.uniform1f(uniformLocations.u_correctionRatio, params.correctionRatio)
      gl.uniform1f(uniformLocations.u_pixelRatio, params.pixelRatio)
      gl.uniform1f(uniformLocations.u_feather, params.antiAliasingFeather)
      gl.uniform1f(uniformLocations.u_minEdgeThickness, params.minEdgeThickness)
      gl.uniform2f(uniformLocations.u_dimensions, params.width, params.height)
    }
  }
}

export const SolidLineProgram = createLineProgram(false)
export const DashedLineProgram = createLineProgram(true)
