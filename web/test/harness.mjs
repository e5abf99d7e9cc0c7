// The link chart's test harness: the assets built into a temporary
// directory, a small node:http server giving a page laid out as Aidant's
// chart page with a fake data endpoint answering from fixture data (as the
// real one would: only what the viewer may see, 25 neighbours at a time,
// hubs only when forced), and Debian's Chromium driven by playwright-core.
// Every response carries the Content-Security-Policy Aidant's pages have,
// so the chart is tested under it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const web = join(here, '..')
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
export const CSRF_TOKEN = 'test-csrf-token'
export const EXPAND_AT_ONCE = 25
const HUB_REASON = 'named in 50 or more records you can see, so sharing it says little on its own'

/** The fixture the functional tests use. */
export function loadFixture () {
  return JSON.parse(readFileSync(join(here, 'fixtures', 'network.json'), 'utf8'))
}

/** Builds the assets (build.mjs) into a fresh temporary directory. */
export function buildAssets () {
  const out = mkdtempSync(join(tmpdir(), 'aidant-chart-assets-'))
  const built = spawnSync(process.execPath, [join(web, 'build.mjs'), out], { encoding: 'utf8' })
  if (built.status !== 0) throw new Error(`build.mjs failed: ${built.stderr}`)
  return { dir: out, remove: () => rmSync(out, { recursive: true, force: true }) }
}

/** Launches headless Chromium as the other browser tests do, failing at
 *  once (not skipping) when it is missing. `args` adds flags. */
export async function launchBrowser (args = []) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is missing at ${chromiumPath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`)
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args]
  })
}

function problem (response, status, title, detail) {
  response.writeHead(status, { 'Content-Type': 'application/problem+json', 'Content-Security-Policy': CSP })
  response.end(JSON.stringify({ type: 'about:blank', title, status, detail }))
}

/** The page, laid out as Aidant's chart page: the chart's element with its
 *  state, then the Save and Export forms, each with a `state` input. */
function page (state) {
  const stateScript = JSON.stringify(state).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
  const stateValue = JSON.stringify(state).replace(/&/g, '&amp;').replace(/"/g, '&quot;')
  return `<!DOCTYPE html>
<html lang="en" class="govuk-template">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Link chart - Aidant</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/aidant.css"></head>
<body class="govuk-template__body">
<div class="govuk-width-container">
<main class="govuk-main-wrapper" id="main-content">
<h1 class="govuk-heading-l">Link chart</h1>
<div id="link-chart" class="aidant-chart" data-data-url="/api/chart-data" data-export-audit-url="/api/export-audit" data-csrf-token="${CSRF_TOKEN}">
<script type="application/json" id="link-chart-state">${stateScript}</script>
</div>
<h2 class="govuk-heading-m">Save this chart</h2>
<form method="post" action="/save" id="save-chart" novalidate>
<input type="hidden" name="state" value="${stateValue}">
<button type="submit" class="govuk-button">Save chart</button>
</form>
<h2 class="govuk-heading-m">Export</h2>
<form method="post" action="/export" id="export-chart" novalidate>
<input type="hidden" name="state" value="${stateValue}">
<button type="submit" class="govuk-button govuk-button--secondary">Download</button>
</form>
</main>
</div>
<script type="module" src="/assets/chart.js"></script>
</body>
</html>`
}

/** What the data endpoint answers, as Aidant's does: the entities asked for
 *  (and those an expansion adds) that the viewer may see, and the relations
 *  among them. An expansion ranks the neighbours not on the chart by
 *  shared records, skips `offset` and adds 25; a hub adds nothing unless
 *  `force`. Returns [status, body]. */
export function chartAnswer (fixture, request) {
  const withheld = new Set(fixture.withheld ?? [])
  const byId = new Map(fixture.entities.map((entity) => [entity.id, entity]))
  const visible = (id) => byId.has(id) && !withheld.has(id)
  if (!Array.isArray(request.entities) || request.entities.some((id) => typeof id !== 'string')) {
    return [422, { title: 'The request is not valid', detail: 'entities must be a list of entity ids' }]
  }
  let expanded = null
  if (request.expand !== null && request.expand !== undefined) {
    if (!visible(request.expand)) return [404, { title: 'Not found', detail: 'There is no such entity, or you may not see it.' }]
    const onChart = new Set(request.entities)
    const hub = byId.get(request.expand).hub
    if (hub && !request.force) {
      expanded = { id: request.expand, added: [], more: 0, hub: HUB_REASON }
    } else {
      const shared = new Map()
      for (const relation of fixture.relations) {
        const other = relation.source === request.expand ? relation.target : relation.target === request.expand ? relation.source : null
        if (other && visible(other) && !onChart.has(other)) shared.set(other, (shared.get(other) ?? 0) + relation.records)
      }
      const ranked = [...shared].sort((left, right) => right[1] - left[1] || (left[0] < right[0] ? -1 : 1)).map(([id]) => id)
      const offset = request.offset ?? 0
      const added = ranked.slice(offset, offset + EXPAND_AT_ONCE)
      expanded = { id: request.expand, added, more: Math.max(0, ranked.length - offset - added.length), hub: null }
    }
  }
  const wanted = [...new Set([...request.entities, ...(expanded?.added ?? [])])].filter(visible)
  const wantedSet = new Set(wanted)
  return [200, {
    entities: wanted.map((id) => byId.get(id)),
    relations: fixture.relations.filter((relation) => wantedSet.has(relation.source) && wantedSet.has(relation.target)),
    expanded,
    withheld: request.entities.filter((id) => !visible(id)).length
  }]
}

/** Starts the harness server on a free port. `fixture` is the data,
 *  `state` the chart's state as the page embeds it. The returned object
 *  records the requests made and can be told to refuse the next ones. */
export async function startHarness ({ assets, fixture, state }) {
  const harness = {
    state,
    fixture,
    requests: [],
    /** {path: [status, problem]}: answer requests to path with a problem. */
    refuse: {},
    url: null
  }
  const answers = new Map()
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => { body += chunk })
    request.on('end', () => {
      const path = new URL(request.url, 'http://harness').pathname
      if (request.method === 'GET' && path === '/') {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' })
        response.end(page(harness.state))
        return
      }
      if (request.method === 'GET' && /^\/assets\/[a-z.-]+\.(js|css)$/.test(path)) {
        const file = join(assets, path.slice('/assets/'.length))
        if (!existsSync(file)) return problem(response, 404, 'Not found', 'No such asset')
        response.writeHead(200, { 'Content-Type': path.endsWith('.css') ? 'text/css' : 'text/javascript', 'Content-Security-Policy': CSP })
        response.end(readFileSync(file))
        return
      }
      if (request.method === 'GET' && path === '/test-assets/axe.min.js') {
        response.writeHead(200, { 'Content-Type': 'text/javascript', 'Content-Security-Policy': CSP })
        response.end(readFileSync(join(web, 'node_modules', 'axe-core', 'axe.min.js')))
        return
      }
      if (request.method === 'POST' && (path === '/api/chart-data' || path === '/api/export-audit')) {
        let json = null
        try {
          json = JSON.parse(body)
        } catch {
          // Answered below as a bad request.
        }
        harness.requests.push({ path, body: json, headers: request.headers, at: Date.now() })
        if (request.headers['x-csrf-token'] !== CSRF_TOKEN) return problem(response, 403, 'Forbidden', 'The CSRF token is missing or wrong.')
        if (!String(request.headers['content-type']).startsWith('application/json') || !json) return problem(response, 415, 'Unsupported media type', 'Send JSON.')
        const refusal = harness.refuse[path]
        if (refusal) return problem(response, refusal[0], refusal[1].title, refusal[1].detail)
        if (path === '/api/export-audit') {
          if (json.format !== 'png' || !Array.isArray(json.entities) || json.entities.length === 0) return problem(response, 422, 'The request is not valid', 'Only png, and only with entities.')
          response.writeHead(204, { 'Content-Security-Policy': CSP })
          response.end()
          return
        }
        // The fixture never changes, so an answer made once is kept: the
        // benchmark then times the chart rather than this server.
        if (!answers.has(body)) {
          const [status, answer] = chartAnswer(harness.fixture, json)
          answers.set(body, [status, status === 200 ? JSON.stringify(answer) : answer])
        }
        const [status, answer] = answers.get(body)
        if (status !== 200) return problem(response, status, answer.title, answer.detail)
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Security-Policy': CSP })
        response.end(answer)
        return
      }
      problem(response, 404, 'Not found', 'No such page')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  harness.url = `http://127.0.0.1:${server.address().port}`
  harness.stop = () => new Promise((resolve) => server.close(resolve))
  return harness
}

/** Opens the chart page in a new context and waits for its first draw.
 *  Console errors, page errors, CSP violations and dialogs (alert boxes)
 *  are collected in `problems`, which a test expects to stay empty. */
export async function openChart (browser, harness, { viewport = { width: 1280, height: 900 }, waitForReady = true } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true })
  const page = await context.newPage()
  const problems = []
  page.on('console', (message) => {
    if (message.type() === 'error' || message.text().includes('Content Security Policy')) problems.push(`console: ${message.text()} ${message.location().url}`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.stack}`))
  page.on('dialog', async (dialog) => {
    problems.push(`dialog: ${dialog.message()}`)
    await dialog.dismiss()
  })
  // Runs before the page's own scripts and outside its CSP: reports every
  // violation the browser sees as a console error.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`)
    })
  })
  await page.goto(harness.url + '/')
  if (waitForReady) await page.locator('#link-chart[data-ready="true"]').waitFor({ timeout: 30000 })
  return { page, context, problems }
}

/** The entity id the fixture gives number `n`. */
export function entityId (n) {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
}

/** Runs axe-core on the page and returns its violations. axe is loaded from
 *  the harness's own origin, so the page's CSP stays on while it runs. */
export async function axeViolations (page) {
  await page.addScriptTag({ url: '/test-assets/axe.min.js' })
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`)
  })
}
