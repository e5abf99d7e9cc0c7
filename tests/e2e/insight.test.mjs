// The dashboards, clicked through on a fresh demo as an analyst and as a
// partner agency would: every chart has its numbers in a table that agrees
// with its CSV download and with the totals; a partner counts only what was
// shared with it; a filter that cannot be used, or an area with no reports,
// gets a clear message and empty charts, never an error page; axe-core on
// every state of the page.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, signIn, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => {
  server = await startServer({ staff: true, reports: 150 })
  browser = await launchBrowser()
})
after(async () => { await browser?.close(); await server?.stop() })

async function as (email) {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await signIn(page, server.url, email)
  return { context, page }
}

/** A chart's table as [category, count] pairs. */
async function table (page, id) {
  return page.locator(`#${id}-table tbody tr`).evaluateAll((rows) => rows
    .filter((row) => row.querySelector('th'))
    .map((row) => [row.querySelector('th').innerText.trim(), Number(row.querySelector('td').innerText)]))
}

async function counted (page) {
  const text = await page.locator('main').innerText()
  const match = /(\d+) reports? and (\d+) intelligence records? counted/.exec(text)
  return { reports: Number(match[1]), intelligence: Number(match[2]) }
}

test('an analyst reads the dashboards, and each table agrees with its CSV and the totals', async () => {
  const { context, page } = await as('analyst@beds.police.example')
  await page.getByRole('link', { name: 'Dashboards' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Dashboards')
  assert.deepEqual(await axeViolations(page), [], 'axe-core on the dashboards')
  const { reports, intelligence } = await counted(page)
  assert.ok(reports >= 100, `the demo's reports of the last 26 weeks are counted: ${reports}`)
  assert.ok(intelligence >= 1, `and its intelligence: ${intelligence}`)
  const sum = (rows) => rows.reduce((total, [, count]) => total + count, 0)
  for (const id of ['weeks', 'risk', 'sector', 'place', 'first-look']) {
    assert.equal(sum(await table(page, id)), reports, `${id} counts every report once`)
  }
  assert.equal(sum(await table(page, 'intelligence')), intelligence)
  assert.ok(sum(await table(page, 'exploitation')) >= reports, 'a report counts under each type its sector points to')
  assert.equal(await page.locator('svg.aidant-bar-chart').count(), await page.locator('table[id$="-table"]').count(), 'a chart for each table')
  const victims = await table(page, 'victims')
  assert.ok(victims.length >= 1 && sum(victims) >= 1, `the demo's cases by stage: ${JSON.stringify(victims)}`)
  assert.ok((await table(page, 'operations')).some(([outcome]) => outcome === 'People safeguarded'))

  // The CSV download holds the table's rows.
  const href = await page.locator('#risk-heading ~ p a[download]').getAttribute('href')
  const csv = await page.request.get(server.url + href)
  assert.equal(csv.status(), 200)
  assert.match(csv.headers()['content-type'], /^text\/csv/)
  assert.match(csv.headers()['content-disposition'], /attachment; filename="aidant-risk-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv"/)
  const lines = (await csv.text()).trim().split('\r\n')
  assert.equal(lines[0], '"Risk","Count"')
  assert.deepEqual(lines.slice(1).map((line) => { const [label, count] = line.split(','); return [JSON.parse(label), Number(count)] }), await table(page, 'risk'))

  // An area cuts the reports down; the same filter in the address is kept in the downloads.
  await page.getByLabel('Area').fill('LU1')
  await page.getByRole('button', { name: 'Show' }).click()
  const inArea = await counted(page)
  assert.ok(inArea.reports < reports, `LU1 holds some of the reports: ${inArea.reports} of ${reports}`)
  assert.ok((await table(page, 'place')).every(([district]) => district === 'LU1'), 'every report counted is in LU1')
  assert.match(await page.locator('#place-heading ~ p a[download]').getAttribute('href'), /area=LU1/)
  await context.close()
})

test('a partner agency counts only the intelligence shared with it', async () => {
  const force = await as('analyst@beds.police.example')
  await force.page.goto(server.url + '/staff/insight')
  const forceCounts = await counted(force.page)
  await force.context.close()

  const { context, page } = await as('partner@glaa.example')
  await page.goto(server.url + '/staff/insight')
  assert.deepEqual(await axeViolations(page), [], "axe-core on a partner's dashboards")
  const partner = await counted(page)
  assert.equal(partner.reports, 0)
  assert.match(await page.locator('main').innerText(), /Your role does not read public reports/)
  assert.ok(partner.intelligence >= 1 && partner.intelligence < forceCounts.intelligence, `shared only: ${partner.intelligence} of ${forceCounts.intelligence}`)
  await context.close()
})

test('a filter that cannot be used, or an area with no reports, says so and draws empty charts', async () => {
  const { context, page } = await as('supervisor@beds.police.example')
  for (const [query, message] of [
    ['from=2026-03-01&to=2026-02-01', 'The end date must be the same as or after the start date'],
    ['from=2099-01-01&to=2099-02-01', 'The start date is in the future'],
    ['from=31%2F01%2F2026', 'Enter the start date as a real date'],
  ]) {
    const response = await page.goto(`${server.url}/staff/insight?${query}`)
    assert.equal(response.status(), 422, query)
    assert.match(await page.locator('.govuk-error-summary').innerText(), new RegExp(message))
    assert.equal((await counted(page)).reports, 0)
    assert.equal(await page.locator('a[download]').count(), 0, 'nothing to download from an unusable filter')
    assert.deepEqual(await axeViolations(page), [], `axe-core with ${query}`)
  }
  const csv = await page.request.get(`${server.url}/staff/insight/csv/risk?from=2026-03-01&to=2026-02-01`)
  assert.equal(csv.status(), 422, 'a download with an unusable filter is refused plainly')

  const response = await page.goto(`${server.url}/staff/insight?area=Zennor`)
  assert.equal(response.status(), 200)
  assert.match(await page.locator('#no-reports').innerText(), /No reports were received in Zennor/)
  assert.deepEqual((await table(page, 'risk')).map(([, count]) => count), [0, 0, 0, 0])
  await context.close()
})

test('an administrator has no dashboards', async () => {
  const { context, page } = await as('administrator@beds.police.example')
  assert.equal(await page.getByRole('link', { name: 'Dashboards' }).count(), 0)
  const response = await page.goto(server.url + '/staff/insight')
  assert.equal(response.status(), 403)
  await context.close()
})
