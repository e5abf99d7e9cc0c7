// Builds Aidant's front-end assets from npm packages into one directory:
//   node build.mjs OUT_DIR
// - aidant.css: govuk-frontend's Sass compiled with the Arial font (no GDS
//   Transport, which is for GOV.UK only) plus our own styles;
// - govuk-frontend.min.js: the components' JavaScript, as published;
// - aidant.js: our own script (quick exit, and starting the components);
// - field.js: the field app (src/field/app.js and what it imports), and
//   field-sw.js its service worker, each bundled into one file;
// - board.js: the operation board's live list;
// - map.js and map.css: the hotspot and site maps (src/map/main.js with
//   Leaflet and its stylesheet), and uk-outline.json the coastline they
//   draw: the United Kingdom, Ireland, the Isle of Man and the Channel
//   Islands from Natural Earth's 1:10m countries (the npm package
//   world-atlas), as GeoJSON rounded to 0.001 degrees;
// - chart.js: the link chart (src/chart/main.js and the sigma and graphology
//   packages it imports), bundled by esbuild into one minified ES module,
//   with the packages' licence comments gathered at its end.
// aidant-web's build script runs this and embeds the result in the binary.
import { mkdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as sass from 'sass'
import * as esbuild from 'esbuild'
import * as topojson from 'topojson-client'

const here = dirname(fileURLToPath(import.meta.url))
const out = process.argv[2] ?? join(here, 'dist')
mkdirSync(out, { recursive: true })

const css = sass.compile(join(here, 'src', 'aidant.scss'), {
  loadPaths: [join(here, 'node_modules')],
  style: 'compressed',
  quietDeps: true,
  silenceDeprecations: ['import', 'global-builtin']
})
writeFileSync(join(out, 'aidant.css'), css.css)

copyFileSync(join(here, 'node_modules', 'govuk-frontend', 'dist', 'govuk', 'govuk-frontend.min.js'), join(out, 'govuk-frontend.min.js'))
copyFileSync(join(here, 'src', 'aidant.js'), join(out, 'aidant.js'))

// Each script bundled with what it imports into one minified file, the
// packages' licence comments gathered at its end.
for (const [entry, file, format] of [
  [join(here, 'src', 'chart', 'main.js'), 'chart.js', 'esm'],
  [join(here, 'src', 'field', 'app.js'), 'field.js', 'esm'],
  [join(here, 'src', 'field', 'sw.js'), 'field-sw.js', 'iife'],
  [join(here, 'src', 'board.js'), 'board.js', 'esm'],
  [join(here, 'src', 'map', 'main.js'), 'map.js', 'esm']
]) {
  await esbuild.build({
    entryPoints: [entry],
    outfile: join(out, file),
    bundle: true,
    format,
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    // Leaflet's stylesheet names its control images; they travel inside it.
    loader: { '.png': 'dataurl' },
    logLevel: 'warning'
  })
}

// The coastline, cut from the world to what a UK map shows.
const world = JSON.parse(readFileSync(join(here, 'node_modules', 'world-atlas', 'countries-10m.json'), 'utf8'))
const shown = new Set(['826', '372', '833', '832', '831'])
const coastline = topojson.feature(world, {
  type: 'GeometryCollection',
  geometries: world.objects.countries.geometries.filter((geometry) => shown.has(geometry.id))
})
const round = (coordinates) => (typeof coordinates[0] === 'number' ? coordinates.map((value) => Math.round(value * 1000) / 1000) : coordinates.map(round))
for (const country of coastline.features) country.geometry.coordinates = round(country.geometry.coordinates)
writeFileSync(join(out, 'uk-outline.json'), JSON.stringify(coastline))
console.log(`built assets into ${out}`)
