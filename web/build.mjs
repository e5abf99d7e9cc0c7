// Builds Aidant's front-end assets from npm packages into one directory:
//   node build.mjs OUT_DIR
// - aidant.css: govuk-frontend's Sass compiled with the Arial font (no GDS
//   Transport, which is for GOV.UK only) plus our own styles;
// - govuk-frontend.min.js: the components' JavaScript, as published;
// - aidant.js: our own script (quick exit, and starting the components);
// - field.js: the field app (src/field/app.js and what it imports), and
//   field-sw.js its service worker, each bundled into one file;
// - board.js: the operation board's live list;
// - chart.js: the link chart (src/chart/main.js and the sigma and graphology
//   packages it imports), bundled by esbuild into one minified ES module,
//   with the packages' licence comments gathered at its end.
// aidant-web's build script runs this and embeds the result in the binary.
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as sass from 'sass'
import * as esbuild from 'esbuild'

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
  [join(here, 'src', 'board.js'), 'board.js', 'esm']
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
    logLevel: 'warning'
  })
}
console.log(`built assets into ${out}`)
