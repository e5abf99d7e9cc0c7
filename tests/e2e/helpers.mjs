// Shared helpers for the browser tests: a real `aidant serve` on a fresh
// SQLite data directory (or a fresh PostgreSQL database), and Debian's
// Chromium driven by playwright-core.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import assert from 'node:assert/strict'

const here = dirname(fileURLToPath(import.meta.url))
const binary = process.env.AIDANT_BIN ?? join(here, '..', '..', 'target', 'debug', 'aidant')
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** The neutral site quick exit goes to; the tests answer for it locally. */
export const EXIT_URL = 'https://www.bbc.co.uk/weather'

/** The password `aidant demo` gives every demo user. */
export const DEMO_PASSWORD = 'aidant-demo-password'

/** The PostgreSQL server the tests may make databases on: scripts/test's,
 *  or the one these machines run. */
const postgresServer = process.env.AIDANT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Runs one statement on the PostgreSQL server with psql; fails loudly,
 *  naming the server, when it does not answer. */
function psql (statement) {
  const result = spawnSync('psql', [postgresServer, '-v', 'ON_ERROR_STOP=1', '-Atqc', statement], { encoding: 'utf8' })
  if (result.error || result.status !== 0) {
    throw new Error(`PostgreSQL at ${postgresServer} did not run "${statement}": ${result.error?.message ?? result.stderr}`)
  }
}

/** A fresh, empty PostgreSQL database, and how to drop it. */
function freshPostgresDatabase () {
  const name = `aidant_e2e_${process.pid}_${Date.now().toString(36)}`
  psql(`CREATE DATABASE ${name}`)
  const url = new URL(postgresServer)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

/** Starts the server and resolves once it is listening. With `staff`, the
 *  data directory is first given the demo's organisations and users (and
 *  `reports` demo reports: none by default, or enough for the demo's
 *  planted organised crime group), so staff can sign in. `backend` is
 *  'sqlite' (the data directory's own file) or 'postgres' (a fresh database
 *  on the test server, dropped by `stop()`). `log` is the server's log level
 *  (its log is read back with `stderr()`); `settings` are AIDANT_* variables
 *  of the test's own. */
export async function startServer ({ staff = false, reports = 0, log = 'warn', settings = {}, backend = 'sqlite' } = {}) {
  if (!existsSync(binary)) throw new Error(`the aidant binary is missing at ${binary}: run cargo build first`)
  if (!['sqlite', 'postgres'].includes(backend)) throw new Error(`no backend ${backend}`)
  const database = backend === 'postgres' ? freshPostgresDatabase() : null
  const dataDir = mkdtempSync(join(tmpdir(), 'aidant-e2e-'))
  const keyDir = mkdtempSync(join(tmpdir(), 'aidant-e2e-keys-'))
  const env = { ...process.env, AIDANT_LISTEN: '127.0.0.1:0', ...settings, AIDANT_DATA_DIR: dataDir, AIDANT_KEY_DIR: keyDir, AIDANT_LOG: log }
  delete env.AIDANT_DATABASE_URL
  delete env.AIDANT_CONFIG
  if (staff) {
    const where = database ? ['--database-url', database.url] : []
    const seeded = spawnSync(binary, ['demo', '--no-serve', '--reports', String(reports), '--data-dir', dataDir, ...where], { env, encoding: 'utf8' })
    if (seeded.status !== 0) throw new Error(`aidant demo failed: ${seeded.stderr}`)
  }
  if (database) env.AIDANT_DATABASE_URL = database.url
  const child = spawn(binary, ['serve'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${stderr}`)), 30000)
    child.stdout.on('data', (chunk) => {
      const match = /Aidant is listening on (http:\/\/\S+)/.exec(chunk.toString())
      if (match) { clearTimeout(timer); resolve(match[1]) }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited with ${code}: ${stderr}`)) })
  })
  return {
    url,
    dataDir,
    /** The PostgreSQL database's URL, for the 'postgres' backend. */
    databaseUrl: database?.url,
    stderr: () => stderr,
    /** Runs another aidant command on this server's data, as an operator would beside it. */
    run (args) {
      const result = spawnSync(binary, args, { env, encoding: 'utf8' })
      if (result.status !== 0) throw new Error(`aidant ${args.join(' ')} failed: ${result.stderr}`)
      return result.stdout
    },
    async stop () {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await new Promise((resolve) => child.on('exit', resolve))
      }
      rmSync(dataDir, { recursive: true, force: true })
      rmSync(keyDir, { recursive: true, force: true })
      database?.drop()
    }
  }
}

/** Launches headless Chromium the way this machine allows. */
export async function launchBrowser () {
  if (!existsSync(chromiumPath)) throw new Error(`Chromium is missing at ${chromiumPath}: scripts/test installs Debian's chromium`)
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

/** A browser with a profile of its own on disk, as a person's is (a
 *  context from `launchBrowser` is like a private window, where Chromium
 *  offers no installation of web apps). Close it with `close()`. */
export async function launchWithProfile (options = {}) {
  if (!existsSync(chromiumPath)) throw new Error(`Chromium is missing at ${chromiumPath}: scripts/test installs Debian's chromium`)
  const profile = mkdtempSync(join(tmpdir(), 'aidant-e2e-profile-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options
  })
  return { context, async close () { await context.close(); rmSync(profile, { recursive: true, force: true }) } }
}

/** A fresh browser context whose visits to the neutral site are answered here. */
export async function newContext (browser, options = {}) {
  const context = await browser.newContext(options)
  await context.route('https://www.bbc.co.uk/**', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!DOCTYPE html><html lang="en"><title>BBC Weather</title><h1>Weather</h1></html>' }))
  return context
}

/** Starts a report from the start page and answers whether anyone is in
 *  danger now ('Yes' or 'No'), clicking as a person would. */
export async function startReport (page, url, danger = 'No') {
  await page.goto(url + '/')
  await page.getByRole('button', { name: 'Start now' }).click()
  await page.getByLabel(danger).check()
  await page.getByRole('button', { name: 'Continue' }).click()
}

/** Answers the report flow for a nail bar, up to the check-your-answers
 *  page; with danger 'Yes', through the "Call 999 now" page first. */
export async function reportNailBarToCheck (page, url, danger = 'No') {
  await startReport(page, url, danger)
  if (danger === 'Yes') await page.getByRole('button', { name: 'Continue my report' }).click()
  await page.getByLabel('A nail bar or beauty salon').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Town or area').fill('Luton')
  await page.getByLabel('Business name (if there is one)').fill('Star Nails')
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Workers seem to live at the place, or above it').check()
  await page.getByLabel('A manager or boss seems to control or frighten the workers').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('How many people did you see who may be exploited?').fill('2')
  await page.getByLabel('Under 18').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('In your own words, tell us what you saw or heard').fill('The young woman said Ștefan keeps her passport. 😟')
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('No, I want to stay anonymous').check()
  await page.getByLabel('Give me a reference and passphrase so I can come back to add information or read a reply').check()
  await page.getByRole('button', { name: 'Continue' }).click()
}

/** Signs in to the staff workspace as a person would. */
export async function signIn (page, url, email, password = DEMO_PASSWORD) {
  await page.goto(url + '/staff/sign-in')
  await page.getByLabel('Email address').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

/** Runs axe-core on the page and returns its violations. */
export async function axeViolations (page) {
  await page.addScriptTag({ path: join(here, 'node_modules', 'axe-core', 'axe.min.js') })
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`)
  })
}

/** Fails with axe-core's violations on the page, naming `what`. */
export async function assertAccessible (page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe-core on ${what}`)
}

/** Saves a page of the NRM referral and goes to the next. */
export const saveAndContinue = (page) => page.getByRole('button', { name: 'Save and continue' }).click()

/** From the check page, answers the referral's pages every path shares
 *  after the person's details, as a first responder would; `onPage` is
 *  called on each page before it is answered (to check it, say). The types
 *  of exploitation are ticked where the case did not give them already. A
 *  page that refuses its answers fails with its messages. */
export async function answerTheStory (page, { onPage = async () => {}, types = ['Sexual exploitation'] } = {}) {
  const next = async () => {
    const from = await page.locator('h1').innerText()
    await saveAndContinue(page)
    const summary = page.locator('.govuk-error-summary')
    if (await summary.count() > 0) throw new Error(`"${from}" refused its answers: ${await summary.innerText()}`)
  }
  assert.equal(await page.locator('h1').innerText(), "What is the person's background?")
  await onPage(page)
  await page.getByLabel("The person's background").fill('Came to Luton in 2025 for work in a nail bar.')
  await next()
  assert.equal(await page.locator('h1').innerText(), 'What happened to the person?')
  await onPage(page)
  const typesGiven = await page.getByRole('group', { name: /types? of exploitation/i }).locator('input:checked').count()
  if (typesGiven === 0) for (const kind of types) await page.getByLabel(kind).check()
  await page.getByLabel('How it started').fill('Offered a job by an acquaintance; told she owed the fare.')
  await page.getByRole('group', { name: 'Is the person still in the situation?' }).getByLabel('No', { exact: true }).check()
  await next()
  await onPage(page)
  await page.getByLabel('Passport or identity documents held by someone else').check()
  await page.getByLabel('Why do you believe the person may be a victim of modern slavery?').fill('Her passport is held by the manager, who answered for her.')
  await next()
  await onPage(page)
  await page.getByLabel('Places in the UK (optional)').fill('Luton, Bedford')
  await next()
  for (const heading of ['What is known about the exploiters?', 'Are there other potential victims?', 'Has a crime been recorded?']) {
    assert.equal(await page.locator('h1').innerText(), heading)
    await onPage(page)
    await next()
  }
}
