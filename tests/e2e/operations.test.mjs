// Operations, clicked through as their users would on a fresh demo: the
// supervisor plans a day of action with partner agencies, sites and teams;
// a GLAA officer sees only their team's briefing; a police officer, on a
// phone with the network cut, records three vehicle stops and a premises
// visit in the field app, reloads it offline, and sees the records arrive
// once on the supervisor's board when the network returns (a second sync,
// an interrupted one and a sync from a signed-out phone store nothing
// twice); and the debrief counts what was recorded. Every new page is
// checked with axe-core, and the field app at 320 pixels and by keyboard.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, launchWithProfile, newContext, signIn, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer({ staff: true }); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

const SUPERVISOR = 'supervisor@beds.police.example'
const OFFICER = 'officer@beds.police.example'
const GLAA = 'partner@glaa.example'
const NCA = 'partner@nca.example'
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, bypassCSP: true }

function day (offset) {
  const date = new Date(Date.now() + offset * 86400000)
  return date.toISOString().slice(0, 10)
}

async function assertAccessible (page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe-core on ${what}`)
}

async function as (email, options = { bypassCSP: true }) {
  const context = await newContext(browser, options)
  const page = await context.newPage()
  await signIn(page, server.url, email)
  return { context, page }
}

let operationUrl

test('a supervisor plans a day of action with partner agencies, sites and teams, field by field', async () => {
  const { context, page } = await as(SUPERVISOR)
  await page.getByRole('link', { name: 'Operations', exact: true }).click()
  await assertAccessible(page, 'the operations list')
  await page.getByRole('button', { name: 'Plan an operation' }).click()
  await page.getByRole('button', { name: 'Plan the operation' }).click()
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter the operation's name/)
  await assertAccessible(page, 'the plan form with errors')
  await page.getByLabel('Name').fill('Operation Aidant')
  await page.getByLabel('First day').fill(day(-1))
  await page.getByLabel('Last day').fill(day(1))
  await page.getByLabel('Gangmasters and Labour Abuse Authority').check()
  await page.getByLabel('National Crime Agency').check()
  await page.getByRole('button', { name: 'Plan the operation' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Operation Aidant')
  operationUrl = page.url()

  // A site needs a kind of place and a reason; a made-up reference is refused.
  await page.getByLabel("Site's name").fill('Toddington Services')
  await page.getByRole('button', { name: 'Add the site' }).click()
  const errors = await page.locator('.govuk-error-summary').innerText()
  assert.match(errors, /Choose the kind of place/)
  assert.match(errors, /Say why this site was chosen/)
  assert.equal(await page.getByLabel("Site's name").inputValue(), 'Toddington Services', 'what was typed is kept')
  await assertAccessible(page, 'the plan with a site form in error')
  await page.getByLabel('Kind of place').selectOption({ label: 'A lorry, or motorway services' })
  await page.getByLabel('Postcode (optional)').fill('lu5 6hr')
  await page.getByLabel('Why it was chosen').fill('Lorries drop people in the northbound lorry park.')
  await page.getByLabel('The reports and intelligence behind it (optional)').fill('ZZZ-999-ZZZ')
  await page.getByRole('button', { name: 'Add the site' }).click()
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Link only reports and intelligence you can read/)
  await page.getByLabel('The reports and intelligence behind it (optional)').fill('')
  await page.getByRole('button', { name: 'Add the site' }).click()
  await page.getByLabel("Site's name").fill('Star Nails')
  await page.getByLabel('Kind of place').selectOption({ label: 'A nail bar or beauty salon' })
  await page.getByLabel('Why it was chosen').fill('Workers said to sleep upstairs.')
  await page.getByRole('button', { name: 'Add the site' }).click()
  assert.match(await page.locator('#site-list').innerText(), /Toddington Services[\s\S]*LU5 6HR[\s\S]*Star Nails/)

  // Teams: lorry checks with the police officer and the NCA; nail bars with the GLAA.
  await page.getByRole('button', { name: 'Add the team' }).click()
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Choose at least one member/)
  await page.getByLabel("Team's name").fill('Lorry checks')
  await page.getByLabel('Tasks (optional)').fill('Stop lorries entering the lorry park; look inside every trailer.')
  await page.getByRole('group', { name: 'Sites it covers' }).getByLabel('Toddington Services').check()
  await page.getByRole('group', { name: 'Members' }).getByLabel('Demo Officer, Bedfordshire Police').check()
  await page.getByRole('group', { name: 'Members' }).getByLabel(/Demo Partner, National Crime Agency/).check()
  await page.getByRole('button', { name: 'Add the team' }).click()
  await page.getByLabel("Team's name").fill('Nail bars')
  await page.getByRole('group', { name: 'Sites it covers' }).getByLabel('Star Nails').check()
  await page.getByRole('group', { name: 'Members' }).getByLabel(/Demo Partner, Gangmasters/).check()
  await page.getByRole('button', { name: 'Add the team' }).click()
  const teams = await page.locator('#team-list').innerText()
  assert.match(teams, /Lorry checks[\s\S]*Toddington Services[\s\S]*Demo Officer/)
  assert.match(teams, /Nail bars[\s\S]*Star Nails[\s\S]*Demo Partner \(Gangmasters/)
  await assertAccessible(page, 'the plan')
  await context.close()
})

test('a partner agency officer sees only their own team\'s briefing', async () => {
  const { context, page } = await as(GLAA)
  await page.getByRole('link', { name: 'Operations', exact: true }).click()
  await page.getByRole('link', { name: 'Briefing: Nail bars' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Briefing: Nail bars')
  const briefing = await page.locator('main').innerText()
  assert.match(briefing, /Star Nails/)
  assert.doesNotMatch(briefing, /Toddington/, 'another team\'s site is not shown')
  await assertAccessible(page, 'a team briefing')
  assert.equal(await page.getByRole('link', { name: 'Briefing: Lorry checks' }).count(), 0)
  // The plan, the board and another team's briefing are refused.
  for (const address of [operationUrl, `${operationUrl}/board`, `${operationUrl}/debrief`]) {
    const response = await page.goto(address)
    assert.ok([403, 404].includes(response.status()), `${address} is refused to the GLAA (${response.status()})`)
  }
  await context.close()
})

/** The phone: the officer signs in and opens the field app with signal. */
async function phone () {
  const { context, page } = await as(OFFICER, PHONE)
  await page.goto(server.url + '/field/')
  await page.locator('h1', { hasText: 'Lorry checks' }).waitFor()
  await page.evaluate(() => navigator.serviceWorker.ready)
  return { context, page }
}

async function recordStop (page, registration, { people = '2', outcome = 'No concerns' } = {}) {
  await page.getByRole('button', { name: 'Vehicle stop' }).click()
  await page.getByLabel('Registration').fill(registration)
  await page.getByLabel('Vehicle (optional)').fill('White curtain-sided lorry')
  await page.getByLabel('How many people in the vehicle, driver included').fill(people)
  await page.getByLabel('18 to 24').check()
  await page.getByLabel('Nationalities (optional)').fill('Romanian, Bulgarian')
  await page.getByRole('group', { name: 'How it ended' }).getByLabel(outcome).check()
  await page.getByRole('button', { name: 'Save' }).click()
}

const states = (page) => page.locator('#records [data-state]').evaluateAll((items) => items.map((item) => item.dataset.state))

test('recorded offline on a phone, kept through a reload, and stored once when the network returns', async () => {
  const { context, page } = await phone()
  const board = await as(SUPERVISOR)
  await board.page.goto(`${operationUrl}/board`)
  await assertAccessible(board.page, 'the board')
  assert.equal(await board.page.locator('#record-rows tr').count(), 0)
  // The map of the sites: the one with a postcode is on it, with nothing recorded yet.
  const marker = board.page.locator('#site-map .aidant-site-marker')
  assert.equal(await marker.count(), 1, 'Toddington Services (LU5 6HR) is placed; Star Nails gave no postcode')
  assert.equal(await marker.getAttribute('title'), 'Toddington Services: 0 records')
  assert.ok(await board.page.locator('#site-map .leaflet-outline-pane path').count() >= 1, 'the coastline is drawn')

  const syncs = []
  page.on('request', (request) => { if (request.url().endsWith('/records') && request.method() === 'POST') syncs.push(request.postData()) })
  await context.setOffline(true)
  await assertAccessible(page, 'the field app')

  // An impossible registration is refused on the phone before it is saved.
  await page.getByRole('button', { name: 'Vehicle stop' }).click()
  await assertAccessible(page, 'a vehicle stop form')
  await page.getByLabel('Registration').fill('LJ15 XK!')
  await page.getByRole('group', { name: 'How it ended' }).getByLabel('No concerns').check()
  await page.getByRole('button', { name: 'Save' }).click()
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Check the registration/)
  await assertAccessible(page, 'a vehicle stop form in error')
  await page.getByRole('button', { name: 'Cancel' }).click()
  assert.equal((await states(page)).length, 0, 'nothing was saved')

  await recordStop(page, 'lj15 xkr', { people: '4', outcome: 'Concerns: follow up' })
  await recordStop(page, 'WN64 HZD')
  await recordStop(page, 'YX19ABC', { people: '1' })
  await page.getByRole('button', { name: 'Premises visit' }).click()
  await page.getByLabel('Business').fill('Toddington Services café')
  await page.getByLabel('How many people spoken to').fill('3')
  await page.getByLabel('Someone else holds people’s passports or identity documents').check()
  await page.getByRole('group', { name: 'How it ended' }).getByLabel('Advice given').check()
  await page.getByRole('button', { name: 'Save' }).click()
  assert.match(await page.locator('.govuk-notification-banner').innerText(), /It will be sent when there is signal/)
  assert.deepEqual(await states(page), ['waiting', 'waiting', 'waiting', 'waiting'])
  assert.match(await page.locator('#field-status').innerText(), /No signal[\s\S]*4 records are waiting/)

  // A reload with no signal: the app opens from the service worker, and
  // the records are still there.
  await page.reload()
  await page.locator('h1', { hasText: 'Lorry checks' }).waitFor()
  assert.deepEqual(await states(page), ['waiting', 'waiting', 'waiting', 'waiting'])
  assert.match(await page.locator('#records').innerText(), /LJ15 XKR/)
  assert.equal(syncs.length, 0, 'nothing was sent offline')

  // Signal returns: sent, and on the board without reloading it.
  await context.setOffline(false)
  await page.waitForFunction(() => [...document.querySelectorAll('#records [data-state]')].every((item) => item.dataset.state === 'sent'), null, { timeout: 30000 })
  await board.page.waitForFunction(() => document.querySelectorAll('#record-rows tr').length === 4, null, { timeout: 30000 })
  assert.match(await board.page.locator('#record-rows').innerText(), /LJ15 XKR/)
  assert.equal(await board.page.locator('#by-team tr', { hasText: 'Lorry checks' }).locator('[data-kind="vehicle_stop"]').innerText(), '3')
  // The site's count grows in its table and on the map as the records come.
  const atToddington = await board.page.locator('#record-rows tr').evaluateAll((rows) => rows.filter((row) => row.children[2].innerText === 'Toddington Services').length)
  assert.ok(atToddington >= 1, 'the lorry team records at its site')
  assert.equal(await board.page.locator('#sites tr[data-site="Toddington Services"] [data-site-records]').innerText(), String(atToddington))
  assert.equal(await marker.getAttribute('title'), `Toddington Services: ${atToddington} record${atToddington === 1 ? '' : 's'}`)

  // The same records sent again create nothing new.
  assert.ok(syncs.length >= 1)
  const csrf = await page.evaluate(async () => (await (await fetch('/api/v1/staff/field')).json()).csrf_token)
  const again = await page.evaluate(async ({ url, body, csrf }) => {
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body })
    return (await response.json()).results.map((result) => result.outcome)
  }, { url: `${operationUrl.replace('/staff/', '/api/v1/staff/')}/teams/${await teamId(board.page)}/records`, body: syncs[0], csrf })
  assert.ok(again.length >= 1 && again.every((outcome) => outcome === 'already_stored'), `a second sync: ${again}`)
  await board.page.reload()
  assert.equal(await board.page.locator('#record-rows tr').count(), 4, 'each record is on the board once')

  // A sync cut off after the server stored it (the answer lost) is sent
  // again and stored once.
  let cut = false
  await page.route('**/records', async (route) => {
    if (cut) return route.continue()
    cut = true
    await route.fetch()
    await route.abort('internetdisconnected')
  })
  await recordStop(page, 'AB12 CDE')
  await page.waitForFunction(() => document.querySelectorAll('#records [data-state="waiting"]').length === 1)
  await page.getByRole('button', { name: 'Send now' }).click()
  await page.waitForFunction(() => document.querySelectorAll('#records [data-state="waiting"]').length === 0, null, { timeout: 30000 })
  await page.unroute('**/records')
  await board.page.reload()
  assert.equal(await board.page.locator('#record-rows tr').count(), 5, 'the interrupted record is stored once')

  // The phone is lost: from a laptop, the officer signs it out. The phone
  // can no longer send, and what it records stays on it.
  const laptop = await as(OFFICER)
  await laptop.page.getByRole('link', { name: 'Your profile' }).click()
  const sessions = laptop.page.locator('#sessions tbody tr')
  assert.equal(await sessions.count(), 2)
  await assertAccessible(laptop.page, 'the profile with sessions')
  await laptop.page.locator('#sessions').getByRole('button', { name: /End session/ }).click()
  assert.equal(await sessions.count(), 1)
  await laptop.context.close()
  await recordStop(page, 'CD34 EFG')
  await page.waitForFunction(() => /signed out/.test(document.getElementById('field-status').textContent), null, { timeout: 30000 })
  assert.equal((await states(page)).filter((state) => state === 'waiting').length, 1)
  await board.page.reload()
  assert.equal(await board.page.locator('#record-rows tr').count(), 5, 'a signed-out phone stores nothing')
  const refused = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"records":[]}' })).status,
    `${operationUrl.replace('/staff/', '/api/v1/staff/')}/teams/${await teamId(board.page)}/records`)
  assert.equal(refused, 401)
  await board.context.close()
  await context.close()
})

async function teamId (page) {
  return page.locator('#by-team tr', { hasText: 'Lorry checks' }).getAttribute('data-team')
}

test('the field app can be installed from a phone\'s browser', async () => {
  const browserWithProfile = await launchWithProfile({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true })
  try {
    const page = await browserWithProfile.context.newPage()
    await page.goto(server.url + '/field/')
    await page.evaluate(() => navigator.serviceWorker.ready)
    const cdp = await browserWithProfile.context.newCDPSession(page)
    const manifest = await cdp.send('Page.getAppManifest')
    assert.deepEqual(manifest.errors, [], 'the manifest reads without errors')
    assert.match(manifest.url, /\/field\/manifest\.webmanifest$/)
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors')
    assert.deepEqual(installabilityErrors, [], 'Chromium would offer to install it')
  } finally {
    await browserWithProfile.close()
  }
})

test('the field app fits 320 pixels and works from the keyboard', async () => {
  const { context, page } = await phone()
  await page.setViewportSize({ width: 320, height: 640 })
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), 'no sideways scrolling at 320 px')
  // Tab to "Premises visit", open it with Enter, answer with the keyboard.
  await page.locator('body').focus()
  let reached = false
  for (let presses = 0; presses < 30 && !reached; presses++) {
    await page.keyboard.press('Tab')
    reached = await page.evaluate(() => document.activeElement?.textContent === 'Premises visit')
  }
  assert.ok(reached, 'the record buttons are reached with Tab')
  await page.keyboard.press('Enter')
  await page.getByLabel('Business').focus()
  await page.keyboard.type('Star Nails')
  await page.getByRole('group', { name: 'How it ended' }).getByLabel('No concerns').focus()
  await page.keyboard.press('Space')
  await page.getByRole('button', { name: 'Save' }).focus()
  await page.keyboard.press('Enter')
  await page.locator('.govuk-notification-banner').waitFor()
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), 'no sideways scrolling with records listed')
  await page.waitForFunction(() => document.querySelectorAll('#records [data-state="waiting"]').length === 0, null, { timeout: 30000 })

  // Two people safeguarded: on the board, a potential victim's case starts from it.
  await page.getByRole('button', { name: 'People safeguarded' }).click()
  await page.getByLabel('How many people were safeguarded').fill('2')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.waitForFunction(() => document.querySelectorAll('#records [data-state="waiting"]').length === 0, null, { timeout: 30000 })

  // Days after the operation ended, a record is refused with a reason the
  // officer can act on, and can be taken off the phone.
  await page.clock.setFixedTime(new Date(Date.now() + 5 * 86400000))
  await recordStop(page, 'EF56 GHJ')
  const refused = page.locator('#records [data-state="refused"]')
  await refused.waitFor({ timeout: 30000 })
  assert.match(await refused.innerText(), /This operation ended on [\d-]+: it takes no new records\. Record this as a report in the workspace/)
  await assertAccessible(page, 'the field app with a refused record')
  await refused.getByRole('button', { name: /Remove from this phone/ }).click()
  await page.waitForFunction(() => document.querySelectorAll('#records [data-state="refused"]').length === 0)
  await context.close()
})

test('the debrief counts every record once, and its press summary names no one', async () => {
  const { context, page } = await as(SUPERVISOR)
  await page.goto(`${operationUrl}/board`)
  await page.getByRole('link', { name: /Open a potential victim's case/ }).click()
  assert.match(await page.locator('main').innerText(), /From Operation Aidant: People safeguarded, Toddington Services/)
  await page.getByRole('group', { name: 'How old is the person?' }).getByLabel('18 or over', { exact: true }).check()
  await page.getByLabel('Name', { exact: true }).fill('Alina Georgescu')
  await page.getByRole('button', { name: 'Open the case' }).click()
  assert.match(await page.locator('#pseudonym').innerText(), /^PV-\d\d-\d{4}$/)
  assert.match(await page.locator('#links').innerText(), /Operation's field record: Operation Aidant: People safeguarded/)
  // A vehicle stop becomes graded intelligence, and its registration an
  // entity of the investigation.
  await page.goto(`${operationUrl}/board`)
  await page.locator('#record-rows tr', { hasText: 'LJ15 XKR' }).getByRole('link', { name: /Record as intelligence/ }).click()
  assert.match(await page.getByLabel('Title').inputValue(), /Operation Aidant: vehicle stop LJ15 XKR/)
  const drafted = await page.getByLabel('Sanitised intelligence').inputValue()
  assert.match(drafted, /Vehicle LJ15 XKR \(White curtain-sided lorry\)[\s\S]*4 people \(Romanian, Bulgarian\)/)
  await assertAccessible(page, 'intelligence drafted from a field record')
  await page.goto(`${operationUrl}/debrief`)
  await assertAccessible(page, 'the debrief')
  const total = async (name) => Number(await page.locator(`[data-total="${name}"]`).innerText())
  assert.equal(await total('vehicles_stopped'), 4)
  assert.equal(await total('premises_visited'), 2)
  assert.equal(await total('people_safeguarded'), 2)
  assert.match(await page.locator('#by-agency').innerText(), /Bedfordshire Police\s+4\s+2/)
  assert.match(await page.locator('#by-agency').innerText(), /Gangmasters and Labour Abuse Authority\s+0\s+0/)
  const summary = await page.getByLabel(/Press summary/).inputValue()
  assert.match(summary, /stopped 4 vehicles, visited 2 premises/)
  assert.doesNotMatch(summary, /Demo|@|Alina|Georgescu|PV-/, 'the draft names no one, not even by pseudonym')
  await page.getByLabel(/Press summary/).fill('')
  await page.getByRole('button', { name: 'Save the press summary' }).click()
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter the press summary/)
  await page.getByLabel(/Press summary/).fill(`${summary} Officers thank the public for their reports.`)
  await page.getByRole('button', { name: 'Save the press summary' }).click()
  assert.match(await page.locator('.govuk-notification-banner').innerText(), /saved/)
  assert.match(await page.getByLabel(/Press summary \(edited\)/).inputValue(), /thank the public/)
  // The lead's pages are usable at 320 pixels: wide tables scroll in their
  // own region, the page does not.
  await page.setViewportSize({ width: 320, height: 640 })
  for (const address of [`${operationUrl}`, `${operationUrl}/board`, `${operationUrl}/debrief`, server.url + '/staff/operations', server.url + '/staff/profile']) {
    await page.goto(address)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    // What sticks out, to say so when something does.
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 3).map((element) => `${element.tagName.toLowerCase()}#${element.id}.${element.className}`))
    assert.ok(overflow <= 0, `${address} scrolls sideways by ${overflow}px at 320 pixels: ${wide}`)
  }
  await context.close()
  // The NCA officer, in the lorry team, has no debrief.
  const nca = await as(NCA)
  const response = await nca.page.goto(`${operationUrl}/debrief`)
  assert.ok([403, 404].includes(response.status()))
  await nca.context.close()
})
