// A sigma edge program that draws dashed lines, for relations no
// intelligence record confirms (i2 analysts read solid as confirmed and
// dashed as not). It is sigma's own rectangle program with other shaders:
// the vertex shader passes each point's distance along the line in screen
// pixels, and the fragment shader leaves gaps in the colour every few
// pixels. Picking (hover and click) still sees the whole line.
import { EdgeRectangleProgram } from 'sigma/rendering'

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

  // How far along the line this end is, in CSS pixels on screen: clip space
  // runs from -1 to 1 across the viewport, so half the viewport per unit.
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

const FRAGMENT_SHADER = /* glsl */ `
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
  if (mod(v_distance, ${PERIOD.toFixed(1)}) > ${DASH.toFixed(1)}) discard;
  float dist = length(v_normal) * v_thickness;
  float t = smoothstep(v_thickness - v_feather, v_thickness, dist);
  gl_FragColor = mix(v_color, transparent, t);
  #endif
}
`

export class DashedEdgeProgram extends EdgeRectangleProgram {
  getDefinition () {
    const definition = super.getDefinition()
    return {
      ...definition,
      VERTEX_SHADER_SOURCE: VERTEX_SHADER,
      FRAGMENT_SHADER_SOURCE: FRAGMENT_SHADER,
      UNIFORMS: [...definition.UNIFORMS, 'u_dimensions']
    }
  }

  setUniforms (params, programInfo) {
    super.setUniforms(params, programInfo)
    programInfo.gl.uniform2f(programInfo.uniformLocations.u_dimensions, params.width, params.height)
  }
}
