// Networks in the browser, on the demo's week: the analyst finds the
// planted organised crime group with its controller a key player, gives him
// a role, saves and compares the analysis; opens the group as a link chart
// (under the real Content-Security-Policy), works its table by keyboard,
// expands an entity, saves and shares the chart and exports it; a partner
// agency sees only what was shared with it; an export package goes to the
// GLAA without the woman he controls, and the supervisor reads the
// disclosure log.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, signIn, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer({ staff: true, reports: 150 }); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

/** A page that fails the test on any Content-Security-Policy violation. */
async function strictPage (context) {
  const page = await context.newPage()
  const violations = []
  page.on('console', (message) => { if (/Content Security Policy|Refused to/.test(message.text())) violations.push(message.text()) })
  page.on('pageerror', (error) => violations.push(`page error: ${error.message}`))
  return { page, violations }
}

/** Runs the group analysis until the worker has read the story (the
 *  controller is a key player), and returns the page's group section. */
async function groupWithController (page) {
  const deadline = Date.now() + 20000
  for (;;) {
    await page.goto(server.url + '/staff/networks')
    await page.getByRole('button', { name: 'Find groups' }).click()
    const group = page.locator('section.aidant-group').filter({ has: page.locator('[id$="-key"]', { hasText: /DUMITRU|Dumitru/ }) })
    if (await group.count() > 0) return group.first()
    if (Date.now() > deadline) throw new Error('the planted group was not found within 20 s: ' + await page.locator('main').innerText())
    await page.waitForTimeout(500)
  }
}

test('the planted group, its key players and a role; a saved analysis compared with another window', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const analyst = await context.newPage()
  await signIn(analyst, server.url, 'analyst@beds.police.example')

  // Bad input first: a window that ends before it starts.
  await analyst.goto(server.url + '/staff/networks')
  await analyst.getByLabel('From').fill('2026-03-02')
  await analyst.getByLabel('To').fill('2026-03-01')
  await analyst.getByRole('button', { name: 'Find groups' }).click()
  assert.match(await analyst.locator('.govuk-error-summary').innerText(), /The start of the window must be on or before its end/)
  assert.equal(await analyst.getByLabel('From').inputValue(), '2026-03-02', 'what was typed is kept')
  // An empty window gives no group and says why, never an error page.
  await analyst.getByLabel('From').fill('1990-01-01')
  await analyst.getByLabel('To').fill('1990-12-31')
  await analyst.getByRole('button', { name: 'Find groups' }).click()
  assert.match(await analyst.locator('#no-groups').innerText(), /nothing you can see was named in this window/)

  const group = await groupWithController(analyst)
  const key = await group.locator('[id$="-key"]').innerText()
  assert.match(key, /Key players: /)
  assert.doesNotMatch(key, /Popescu|POPESCU/, 'the woman he controls is no key player')
  const members = await group.locator('tbody').innerText()
  for (const planted of ['+447700900123', 'LJ15 XKR', 'MK40 3TQ']) assert.match(members, new RegExp(planted.replace('+', '\\+')), `${planted} is in the group`)
  assert.deepEqual(await axeViolations(analyst), [], 'axe-core on the group view')
  await analyst.getByText('How this was worked out').click()
  assert.match(await analyst.locator('#run-record').innerText(), /Seed\s+1/)

  // The controller's role, by keyboard: choose it and press the button.
  const row = group.locator('tbody tr').filter({ hasText: /DUMITRU|Dumitru/ }).filter({ has: analyst.locator('select') }).first()
  await row.locator('select').selectOption({ label: 'Controller' })
  await row.getByRole('button', { name: /Set role/ }).press('Enter')
  await analyst.waitForURL(/#member-/)
  const again = await groupWithController(analyst)
  const sameRow = again.locator('tbody tr').filter({ hasText: /DUMITRU|Dumitru/ }).filter({ has: analyst.locator('select') }).first()
  assert.equal(await sameRow.locator('select').evaluate((select) => select.selectedOptions[0].textContent), 'Controller')

  // Saved, then compared with a window before anything happened.
  await analyst.getByLabel('Name').fill('Operation Aidant, week one')
  await analyst.getByRole('button', { name: 'Save analysis' }).click()
  assert.equal(await analyst.locator('h1').innerText(), 'Operation Aidant, week one')
  await analyst.getByLabel('From').fill('1990-01-01')
  await analyst.getByLabel('To').fill('1990-12-31')
  await analyst.getByRole('button', { name: 'Compare' }).click()
  const changes = await analyst.locator('#changes').innerText()
  assert.match(changes, /None: no member is in a group now/)
  assert.deepEqual(await axeViolations(analyst), [], 'axe-core on a compared analysis')
  await context.close()
})

test('a group as a link chart: drawn under the CSP, worked by keyboard, expanded, saved, shared and exported', async () => {
  const context = await newContext(browser, { acceptDownloads: true })
  const { page: analyst, violations } = await strictPage(context)
  await signIn(analyst, server.url, 'analyst@beds.police.example')
  const group = await groupWithController(analyst)
  await group.getByRole('link', { name: /as a link chart/ }).click()
  await analyst.waitForSelector('#link-chart[data-ready="true"]', { timeout: 20000 })
  const entities = analyst.locator('#link-chart-entities')
  const before = await entities.locator('tbody tr').count()
  assert.ok(before >= 10, `the group's entities are drawn and listed (${before})`)
  assert.match(await analyst.locator('.aidant-chart__canvas').getAttribute('aria-label'), /Link chart: \d+ entities, \d+ relations/)

  // Sort the entities by records with the keyboard.
  const recordsHeader = entities.locator('thead th').filter({ hasText: 'Records' })
  await recordsHeader.locator('button').focus()
  await analyst.keyboard.press('Enter')
  assert.equal(await entities.locator('thead th').filter({ hasText: 'Records' }).getAttribute('aria-sort'), 'ascending')
  await analyst.keyboard.press('Enter')
  assert.equal(await entities.locator('thead th').filter({ hasText: 'Records' }).getAttribute('aria-sort'), 'descending')

  // Expand the business the group works at: its neighbours join the chart.
  const business = entities.locator('tbody tr').filter({ hasText: 'Star Nails' }).first()
  await business.getByRole('button', { name: /^Expand/ }).click()
  await analyst.waitForFunction((count) => document.querySelectorAll('#link-chart-entities tbody tr').length !== count, before, { timeout: 10000 }).catch(() => {})
  const state = JSON.parse(await analyst.locator('#save-chart input[name="state"]').inputValue())
  assert.ok(state.entities.length >= before, 'the state the forms send follows the chart')

  // Save and share it; it is listed for colleagues.
  await analyst.getByLabel('Chart name').fill('Star Nails group')
  await analyst.getByLabel('Share with colleagues in my organisation').check()
  await analyst.getByRole('button', { name: 'Save chart' }).click()
  await analyst.waitForURL(/\/staff\/charts\/[0-9a-f-]{36}$/)
  const chartUrl = analyst.url()
  await analyst.waitForSelector('#link-chart[data-ready="true"]', { timeout: 20000 })
  assert.equal(await analyst.locator('#link-chart-entities tbody tr').count(), state.entities.length - state.hidden.length)

  // Export as an i2 chart: a download of exchange XML.
  await analyst.locator('#format').selectOption('anx')
  const [download] = await Promise.all([analyst.waitForEvent('download'), analyst.getByRole('button', { name: 'Download', exact: true }).click()])
  assert.equal(download.suggestedFilename(), 'link-chart.anx')
  const anx = await (await download.createReadStream()).toArray()
  assert.match(Buffer.concat(anx).toString('utf8'), /<Chart[\s>]/)
  // A picture of it, drawn by the browser once the server has recorded it.
  const [picture] = await Promise.all([analyst.waitForEvent('download'), analyst.getByRole('button', { name: 'Download PNG' }).click()])
  assert.equal(picture.suggestedFilename(), 'link-chart.png')
  const png = Buffer.concat(await (await picture.createReadStream()).toArray())
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG')
  assert.deepEqual(violations, [], 'no Content-Security-Policy violation or script error')

  // A chart of one entity, from its page; a chart of nothing the analyst
  // may see says so, and exporting it is refused with a message.
  await analyst.goto(server.url + '/staff/search?q=07700900123')
  await analyst.locator('#entity-found').getByRole('link').click()
  await analyst.getByRole('link', { name: 'Open in a link chart' }).click()
  await analyst.waitForSelector('#link-chart[data-ready="true"]', { timeout: 20000 })
  assert.equal(await analyst.locator('#link-chart-entities tbody tr').count(), 1)
  await analyst.goto(server.url + '/staff/charts/new?entity=0190f1c2-0000-7000-8000-00000000dead')
  await analyst.waitForSelector('#link-chart[data-ready="true"]', { timeout: 20000 })
  assert.match(await analyst.locator('#link-chart').innerText(), /No entities are shown/)
  await analyst.getByRole('button', { name: 'Download', exact: true }).click()
  assert.match(await analyst.locator('.govuk-error-summary').innerText(), /There is nothing on this chart you can see to export/)
  assert.deepEqual(violations, [], 'no Content-Security-Policy violation or script error')

  const colleague = await (await newContext(browser, { bypassCSP: true })).newPage()
  await signIn(colleague, server.url, 'officer@beds.police.example')
  await colleague.goto(server.url + '/staff/charts')
  assert.deepEqual(await axeViolations(colleague), [], 'axe-core on the saved charts')
  await colleague.getByRole('link', { name: 'Star Nails group' }).click()
  assert.equal(colleague.url(), chartUrl)
  await colleague.waitForSelector('#link-chart[data-ready="true"]', { timeout: 20000 })
  assert.deepEqual(await axeViolations(colleague), [], 'axe-core on a chart')
  await colleague.getByRole('button', { name: 'Table', exact: true }).click()
  assert.deepEqual(await axeViolations(colleague), [], 'axe-core on the table view')

  // The GLAA cannot open the force's chart, and drawing the same entities
  // shows only what was shared with it.
  const partner = await (await newContext(browser, { bypassCSP: true })).newPage()
  await signIn(partner, server.url, 'analyst@glaa.example')
  await partner.goto(chartUrl)
  assert.equal(await partner.locator('h1').innerText(), 'Chart not found')
  await partner.goto(server.url + '/staff/charts/new?' + state.entities.map((id) => `entity=${id}`).join('&'))
  await partner.waitForSelector('#link-chart[data-ready="true"]', { timeout: 20000 })
  const shown = await partner.locator('#link-chart-entities tbody tr').count()
  assert.ok(shown < state.entities.length, `the partner sees fewer entities (${shown} of ${state.entities.length})`)
  await context.close()
})

test('an export package for the GLAA leaves the woman out, and the supervisor reads the disclosure log', async () => {
  const context = await newContext(browser, { bypassCSP: true, acceptDownloads: true })
  const analyst = await context.newPage()
  await signIn(analyst, server.url, 'analyst@beds.police.example')
  await analyst.goto(server.url + '/staff/intelligence')
  const references = (await analyst.locator('main').innerText()).match(/INT-[A-Z0-9-]+/g)
  assert.ok(references?.length > 0, 'the force holds intelligence')

  // Nothing chosen: a clear message, on the form.
  await analyst.getByRole('link', { name: 'Packages' }).click()
  await analyst.getByRole('button', { name: 'Make the package' }).click()
  assert.match(await analyst.locator('.govuk-error-summary').innerText(), /Choose the organisation to send it to/)
  assert.deepEqual(await axeViolations(analyst), [], 'axe-core on the package form with errors')

  await analyst.getByLabel('Recipient').selectOption({ label: 'Gangmasters and Labour Abuse Authority (Regulator (such as the GLAA))' })
  await analyst.getByLabel('Records').fill([...new Set(references)].join('\n'))
  const [download] = await Promise.all([analyst.waitForEvent('download'), analyst.getByRole('button', { name: 'Make the package' }).click()])
  assert.match(download.suggestedFilename(), /^aidant-package-[0-9a-f]{8}\.zip$/)
  const zip = Buffer.concat(await (await download.createReadStream()).toArray())
  assert.equal(zip.subarray(0, 2).toString('latin1'), 'PK', 'a zip')

  const supervisor = await (await newContext(browser, { bypassCSP: true })).newPage()
  await signIn(supervisor, server.url, 'supervisor@beds.police.example')
  await supervisor.goto(server.url + '/staff/disclosures')
  const log = await supervisor.locator('#disclosures').innerText()
  assert.match(log, /Gangmasters and Labour Abuse Authority/)
  assert.match(log, /[0-9a-f]{64}/)
  assert.deepEqual(await axeViolations(supervisor), [], 'axe-core on the disclosure log')
  await context.close()
})

test('a business the investigation found is added to the demo\'s operation as a site from its page', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await signIn(page, server.url, 'supervisor@beds.police.example')
  await page.goto(server.url + '/staff/search?q=Star+Nails')
  await page.locator('main a[href^="/staff/reports/"]').first().click()
  // The worker reads the demo's reports in the background after start-up;
  // run alone, this test can open a report it has not reached yet.
  const deadline = Date.now() + 30000
  while (!/href="\/staff\/entities\/[^"]*"[^>]*>[^<]*Star Nails/.test(await (await page.request.get(page.url())).text())) {
    if (Date.now() > deadline) throw new Error('the worker did not read the report within 30 s')
    await page.waitForTimeout(250)
  }
  await page.reload()
  await page.locator('a[href^="/staff/entities/"]', { hasText: 'Star Nails' }).first().click()
  const label = await page.locator('h1').innerText()
  // The demo's running week, not its second day in planning.
  const week = page.locator('details', { hasText: /Add to Operation Aidant,/ })
  await week.getByText(/^Add to Operation Aidant,/).click()
  assert.deepEqual(await axeViolations(page), [], 'axe-core on a business entity page with the site form open')
  await week.getByLabel('Kind of place').selectOption({ label: 'A nail bar or beauty salon' })
  await week.getByLabel('Why it was chosen').fill('Named in three reports and the group view.')
  await week.getByRole('button', { name: /Add the site to Operation Aidant$/ }).click()
  const site = page.locator('#site-list tr', { hasText: 'Named in three reports' })
  assert.equal(await site.locator('th').innerText(), label)
  await site.getByRole('link', { name: label }).click()
  assert.equal(await page.locator('h1').innerText(), label, 'the site links to its entity')
  await context.close()
})
