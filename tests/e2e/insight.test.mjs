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

/** The map's table as [area, count] pairs. */
async function areas (page) {
  return page.locator('#areas-rows tr[data-area]').evaluateAll((rows) => rows.map((row) => [row.dataset.area, Number(row.querySelector('td').innerText)]))
}

test('the hotspot map draws the reports by district with no internet, and its slider moves through the weeks with the network cut', async () => {
  const { context, page } = await as('analyst@beds.police.example')
  // Anything asked of another origin is refused and remembered: the map must
  // need nothing but Aidant.
  const elsewhere = []
  await context.route('**/*', (route) => {
    if (route.request().url().startsWith(server.url)) return route.continue()
    elsewhere.push(route.request().url())
    return route.abort()
  })
  await page.goto(server.url + '/staff/insight')
  const { reports } = await counted(page)
  await page.getByRole('link', { name: 'See where reports came from on the hotspot map' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Hotspot map')
  // The coastline and a circle for each district with reports.
  await page.locator('#hotspot-map .leaflet-overlay-pane path').first().waitFor()
  await page.waitForFunction(() => document.querySelectorAll('#hotspot-map .leaflet-pane path').length > 1)
  const all = await areas(page)
  const placed = all.reduce((sum, [, count]) => sum + count, 0)
  const status = await page.locator('#map-status').innerText()
  assert.match(status, new RegExp(`^${placed} reports? placed in all weeks of the range`))
  const unplaced = Number((/(\d+) reports? in the range gave no postcode/.exec(await page.locator('main').innerText()) ?? [0, 0])[1])
  assert.equal(placed + unplaced, reports, 'the map places every report the dashboards count that has a postcode')
  assert.ok(all.every(([district]) => /^[A-Z]{1,2}\d[A-Z\d]?$/.test(district)), `districts: ${JSON.stringify(all)}`)
  const circles = await page.locator('#hotspot-map path.leaflet-interactive').count()
  assert.equal(circles, all.length, 'one circle for each district with reports')
  const coastline = await page.locator('#hotspot-map .leaflet-outline-pane path').count()
  assert.ok(coastline >= 1, 'the coastline is drawn from the shipped outline')
  assert.match(await page.locator('.aidant-map-attribution').innerText(), /Natural Earth.*Code-Point Open.*Open Government Licence/s)
  assert.deepEqual(await axeViolations(page), [], 'axe-core on the hotspot map')

  // The CSV has each district's count in every week.
  const href = await page.locator('a[download]').first().getAttribute('href')
  const csv = (await (await page.request.get(server.url + href)).text()).trim().split('\r\n').map((line) => line.split(','))
  const header = csv[0]
  assert.equal(header[0], '"Postcode district"')
  assert.equal(header.at(-1), '"All weeks"')
  assert.deepEqual(csv.slice(1).map((cells) => [JSON.parse(cells[0]), Number(cells.at(-1))]), all)

  // The network goes; the slider still moves the map and the table.
  await context.setOffline(true)
  const slider = page.getByLabel('Time: move through the weeks of the range')
  await slider.focus()
  const weeks = header.length - 4
  let seen = false
  for (let week = 0; week < weeks; week += 1) {
    await page.keyboard.press('ArrowRight')
    const expected = csv.slice(1).map((cells) => [JSON.parse(cells[0]), Number(cells[3 + week])]).filter(([, count]) => count > 0)
    const shown = await areas(page)
    assert.deepEqual(new Map(shown), new Map(expected), `week ${week + 1}: the table holds that week's counts`)
    const total = expected.reduce((sum, [, count]) => sum + count, 0)
    assert.match(await page.locator('#map-status').innerText(), new RegExp(`^${total} reports? placed in the week beginning `))
    const drawn = await page.locator('#hotspot-map path.leaflet-interactive').count()
    assert.equal(drawn, expected.length, `week ${week + 1}: a circle only where there were reports`)
    seen ||= total > 0
  }
  assert.ok(seen, 'some week had reports')
  assert.equal(await page.locator('#week').inputValue(), (await page.locator('#week option').last().getAttribute('value')), 'the week list follows the slider')
  await context.setOffline(false)
  assert.deepEqual(elsewhere, [], 'nothing was asked of the internet')

  // By sector, the codes have the inward digit.
  await page.getByLabel('Postcode sectors').check()
  await page.locator('#week').selectOption('')
  await page.getByRole('button', { name: 'Show' }).click()
  const sectors = await areas(page)
  assert.ok(sectors.length >= all.length && sectors.every(([sector]) => /^[A-Z]{1,2}\d[A-Z\d]? \d$/.test(sector)), JSON.stringify(sectors))
  assert.equal(sectors.reduce((sum, [, count]) => sum + count, 0), placed, 'the sectors hold the same reports')
  await context.close()
})

test('the map refuses a week outside the range and a level it does not know, plainly', async () => {
  const { context, page } = await as('supervisor@beds.police.example')
  for (const [query, message] of [
    ['week=1999-01-04', 'Choose a week within the range'],
    ['level=ward', 'Choose postcode districts or postcode sectors'],
    ['from=2099-01-01', 'The start date is in the future'],
  ]) {
    const response = await page.goto(`${server.url}/staff/insight/map?${query}`)
    assert.equal(response.status(), 422, query)
    assert.match(await page.locator('.govuk-error-summary').innerText(), new RegExp(message))
    assert.equal(await page.locator('#areas-rows tr[data-area]').count(), 0)
    assert.deepEqual(await axeViolations(page), [], `axe-core with ${query}`)
  }
  const response = await page.goto(`${server.url}/staff/insight/map?area=Zennor`)
  assert.equal(response.status(), 200)
  assert.match(await page.locator('#no-reports').innerText(), /No reports were received in Zennor/)
  await context.close()
})

test("a partner agency's map places none of the force's reports", async () => {
  const { context, page } = await as('partner@glaa.example')
  await page.goto(server.url + '/staff/insight/map')
  assert.match(await page.locator('main').innerText(), /Your role does not read public reports/)
  assert.equal(await page.locator('#areas-rows tr[data-area]').count(), 0)
  assert.deepEqual(await axeViolations(page), [], "axe-core on a partner's map")
  await context.close()
})
