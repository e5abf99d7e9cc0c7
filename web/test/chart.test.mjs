// Browser tests for the link chart: the built chart.js on a page laid out
// as Aidant's, under its Content-Security-Policy, against the harness's
// fake data endpoint, in headless Chromium. Each test works the chart as an
// analyst would, by mouse or by keyboard, and every test fails on a console
// error, a page error, a CSP violation or an alert box.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, afterEach, before, beforeEach, test } from 'node:test'
import { axeViolations, buildAssets, CSRF_TOKEN, entityId, launchBrowser, loadFixture, openChart, startHarness } from './harness.mjs'

const FLORIN = entityId(1)
const PHONE = entityId(2)
const STAR_NAILS = entityId(3)
const HIGH_STREET = entityId(4)
const VEHICLE = entityId(5)
const ANA = entityId(6)
const EMAIL = entityId(7)
const HUB_PHONE = entityId(9)
const WITHHELD = entityId(10)
const ACCOUNT = entityId(11)
const DIMMED = '#dddfe0'

/** The chart the page opens with: nine entities the viewer may see, one
 *  they may not, nothing placed yet. */
function openingState () {
  return {
    entities: [FLORIN, PHONE, STAR_NAILS, HIGH_STREET, VEHICLE, ANA, EMAIL, HUB_PHONE, WITHHELD, ACCOUNT],
    hidden: [],
    pinned: {},
    positions: {},
    groups: [],
    layout: 'force',
    window: { from: null, to: null }
  }
}

let assets
let harness
let browser
let session

before(async () => {
  assets = buildAssets()
  harness = await startHarness({ assets: assets.dir, fixture: loadFixture(), state: openingState() })
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await harness?.stop()
  assets?.remove()
})

beforeEach(() => {
  harness.requests = []
  harness.refuse = {}
  harness.state = openingState()
  session = null
})

afterEach(async () => {
  if (!session) return
  const problems = session.problems
  await session.context.close()
  assert.deepEqual(problems, [], 'no console errors, page errors, CSP violations or dialogs')
})

async function open () {
  session = await openChart(browser, harness)
  return session.page
}

const nodes = (page) => page.evaluate(() => window.aidantChart.graph().nodes())
const nodeCount = (page) => page.evaluate(() => window.aidantChart.graph().order)
const position = (page, key) => page.evaluate((key) => {
  const { x, y } = window.aidantChart.graph().getNodeAttributes(key)
  return { x, y }
}, key)
const chartState = (page) => page.evaluate(() => window.aidantChart.state())
const dataRequests = () => harness.requests.filter((request) => request.path === '/api/chart-data')
const panel = (page) => page.locator('.aidant-chart__panel')
const tables = (page) => page.locator('.aidant-chart__tables')

/** Where a node is drawn, in page coordinates. */
async function nodeOnScreen (page, key) {
  const point = await page.evaluate((key) => {
    const renderer = window.aidantChart.renderer()
    return renderer.framedGraphToViewport(renderer.getNodeDisplayData(key))
  }, key)
  const box = await page.locator('.aidant-chart__canvas canvas').first().boundingBox()
  return { x: box.x + point.x, y: box.y + point.y }
}

/** Clicks a node on the canvas, holding down `modifier` if given. */
async function clickNode (page, key, modifier = null) {
  const point = await nodeOnScreen(page, key)
  if (modifier) await page.keyboard.down(modifier)
  await page.mouse.click(point.x, point.y)
  if (modifier) await page.keyboard.up(modifier)
}

/** Forgives the console's note of a request the test had refused. */
function forgiveRefusal (path) {
  session.problems = session.problems.filter((problem) => !(problem.includes('Failed to load resource') && problem.includes(path)))
}

/** The text of one column of a table's body. */
function column (page, table, index) {
  return page.locator(`#${table} tbody tr`).evaluateAll((rows, index) => rows.map((row) => row.children[index].textContent.trim()), index)
}

async function stateInputs (page) {
  return page.locator('input[name="state"]').evaluateAll((inputs) => inputs.map((input) => input.value))
}

test('draws the chart, leaving out what the viewer may not see', async () => {
  const page = await open()
  assert.equal(await nodeCount(page), 9)
  assert.ok(!(await nodes(page)).includes(WITHHELD))
  assert.equal(await page.locator('.aidant-chart__canvas').getAttribute('role'), 'img')
  assert.equal(await page.locator('.aidant-chart__canvas').getAttribute('aria-label'), 'Link chart: 9 entities, 9 relations')
  await page.getByText('1 entity on this chart cannot be shown to you').waitFor()

  const [request] = dataRequests()
  assert.deepEqual(request.body, { entities: openingState().entities, expand: null })
  assert.equal(request.headers['x-csrf-token'], CSRF_TOKEN)
  assert.equal(request.headers['content-type'], 'application/json')

  // The key names every kind and both kinds of line.
  const key = page.locator('.aidant-chart__key')
  for (const text of ['Person', 'Phone', 'Vehicle', 'Address', 'Business', 'Email', 'Online account', 'Solid line: confirmed', 'Dashed line: not confirmed', 'Hub (red ring)']) {
    await key.getByText(text).first().waitFor()
  }
  // Unconfirmed relations are drawn dashed, confirmed ones solid.
  const types = await page.evaluate(() => {
    const graph = window.aidantChart.graph()
    return graph.mapEdges((edge, attributes) => attributes.type)
  })
  assert.deepEqual([...new Set(types)].sort(), ['dashed', 'line'])
  // The hub is drawn ringed.
  assert.equal(await page.evaluate((key) => window.aidantChart.graph().getNodeAttribute(key, 'type'), HUB_PHONE), 'ringed')
})

test('expanding by keyboard adds at most 25, says how many more, and fetches them', async () => {
  const page = await open()
  await tables(page).getByRole('button', { name: 'Expand Star Nails, Luton' }).focus()
  await page.keyboard.press('Enter')
  const notice = page.locator('.aidant-chart__expansion')
  await notice.getByText('Expanded Star Nails, Luton: added 25 entities, and 5 more.').waitFor()
  assert.equal(await nodeCount(page), 9 + 25)
  assert.deepEqual(dataRequests().at(-1).body, { entities: openingState().entities.filter((id) => id !== WITHHELD), expand: STAR_NAILS, offset: 0, force: false })
  assert.equal(await notice.getAttribute('aria-live'), 'polite')

  await notice.getByRole('button', { name: 'Show next 5 linked to Star Nails, Luton' }).click()
  await notice.getByText('Expanded Star Nails, Luton: added 5 entities.').waitFor()
  assert.equal(await nodeCount(page), 9 + 30)
  const second = dataRequests().at(-1).body
  assert.equal(second.expand, STAR_NAILS)
  assert.equal(second.offset, 0, 'the first 25 are on the chart now, so the server skips them itself')
  assert.equal(second.entities.length, 9 + 25)
  assert.equal(await notice.getByRole('button').count(), 0)
  // The newcomers were placed, not left in a heap at the origin.
  const workers = (await nodes(page)).filter((key) => key > entityId(100) && key < entityId(200))
  const points = await Promise.all(workers.map((key) => position(page, key)))
  assert.equal(new Set(points.map((point) => `${point.x.toFixed(3)},${point.y.toFixed(3)}`)).size, 30)
})

test('a hub is drawn collapsed and expanded only when asked again', async () => {
  const page = await open()
  await clickNode(page, HUB_PHONE)
  await panel(page).getByRole('heading', { name: '07700 900000' }).waitFor()
  await panel(page).getByText('seen in 140 records from 9 sources').waitFor()
  await panel(page).getByRole('button', { name: 'Expand 07700 900000' }).click()
  const notice = page.locator('.aidant-chart__expansion')
  await notice.getByText('07700 900000 is a hub, so it was not expanded').waitFor()
  assert.equal(await nodeCount(page), 9)
  assert.equal(dataRequests().at(-1).body.force, false)
  assert.deepEqual(await axeViolations(page), [], 'with the hub warning')

  await notice.getByRole('button', { name: 'Expand anyway 07700 900000' }).click()
  await notice.getByText('Expanded 07700 900000: added 10 entities.').waitFor()
  assert.equal(await nodeCount(page), 19)
  assert.equal(dataRequests().at(-1).body.force, true)
})

test('hiding an entity and showing it again, by keyboard', async () => {
  const page = await open()
  await tables(page).getByLabel('Select Ana Popescu').focus()
  await page.keyboard.press('Space')
  await panel(page).getByRole('heading', { name: 'Ana Popescu' }).waitFor()
  await panel(page).getByRole('button', { name: 'Hide Ana Popescu' }).focus()
  await page.keyboard.press('Enter')
  await page.getByRole('button', { name: 'Show hidden (1)' }).waitFor()
  assert.ok(!(await nodes(page)).includes(ANA))
  assert.equal(await tables(page).getByRole('link', { name: 'Ana Popescu' }).count(), 0)
  assert.deepEqual((await chartState(page)).hidden, [ANA])
  assert.equal(await page.locator('.aidant-chart__canvas').getAttribute('aria-label'), 'Link chart: 8 entities, 7 relations')

  await page.getByRole('button', { name: 'Show hidden (1)' }).click()
  await page.getByRole('button', { name: 'Show hidden (0)' }).waitFor()
  assert.ok(await page.getByRole('button', { name: 'Show hidden (0)' }).isDisabled())
  assert.ok((await nodes(page)).includes(ANA))
  assert.deepEqual((await chartState(page)).hidden, [])
})

test('a pinned entity stays put through re-layouts; dragging moves a node', async () => {
  const page = await open()
  await tables(page).getByLabel('Select Florin Dumitru').check()
  await panel(page).getByRole('button', { name: 'Pin Florin Dumitru' }).click()
  await panel(page).getByRole('button', { name: 'Unpin Florin Dumitru' }).waitFor()
  const pinned = await position(page, FLORIN)
  const before = await position(page, STAR_NAILS)
  assert.deepEqual((await chartState(page)).pinned[FLORIN], [Math.round(pinned.x * 100) / 100, Math.round(-pinned.y * 100) / 100])

  await page.getByRole('button', { name: 'Hierarchical layout' }).click()
  assert.equal(await page.getByRole('button', { name: 'Hierarchical layout' }).getAttribute('aria-pressed'), 'true')
  assert.equal((await chartState(page)).layout, 'hierarchical')
  assert.deepEqual(await position(page, FLORIN), pinned)
  assert.notDeepEqual(await position(page, STAR_NAILS), before, 'the layout moved the nodes that are not pinned')

  await page.getByRole('button', { name: 'Force layout' }).click()
  assert.equal((await chartState(page)).layout, 'force')
  assert.deepEqual(await position(page, FLORIN), pinned)

  // Drag the vehicle 60 pixels to the right with the mouse.
  const from = await nodeOnScreen(page, VEHICLE)
  const was = await position(page, VEHICLE)
  await page.mouse.move(from.x, from.y)
  await page.mouse.down()
  for (let step = 1; step <= 6; step++) await page.mouse.move(from.x + step * 10, from.y)
  await page.mouse.up()
  const now = await position(page, VEHICLE)
  assert.ok(now.x > was.x, 'dragged to the right')
  const saved = (await chartState(page)).positions[VEHICLE]
  assert.deepEqual(saved, [Math.round(now.x * 100) / 100, Math.round(-now.y * 100) / 100])
})

test('grouping selected entities under a label, and ungrouping them', async () => {
  const page = await open()
  await clickNode(page, FLORIN)
  await clickNode(page, PHONE, 'Control')
  await panel(page).getByRole('heading', { name: '2 selected' }).waitFor()
  await panel(page).getByRole('button', { name: 'Group selected' }).click()
  await panel(page).getByText('Enter a label for the group').first().waitFor()
  assert.deepEqual(await axeViolations(page), [], 'with the group label error')

  await panel(page).getByLabel('Group label').fill("Florin's phone")
  await page.keyboard.press('Enter')
  await panel(page).getByRole('heading', { name: "Florin's phone" }).waitFor()
  const keys = await nodes(page)
  assert.ok(keys.includes('g1') && !keys.includes(FLORIN) && !keys.includes(PHONE))
  const groupEdges = await page.evaluate(() => window.aidantChart.graph().neighbors('g1').sort())
  assert.deepEqual(groupEdges, [STAR_NAILS, HIGH_STREET, VEHICLE, HUB_PHONE].sort(), 'relations to members are drawn to the group')
  const state = await chartState(page)
  assert.deepEqual(state.groups.map((group) => ({ ...group, members: [...group.members].sort() })), [{ id: 'g1', label: "Florin's phone", members: [FLORIN, PHONE].sort() }])
  await page.locator('#link-chart-entities').getByRole('rowheader', { name: /^Florin's phone/ }).waitFor()

  await tables(page).getByRole('button', { name: "Ungroup Florin's phone" }).click()
  const after = await nodes(page)
  assert.ok(!after.includes('g1') && after.includes(FLORIN) && after.includes(PHONE))
  assert.deepEqual((await chartState(page)).groups, [])
})

test('the time bar filters the chart and the relations table', async () => {
  const page = await open()
  const relationsCaption = page.locator('#link-chart-relations caption')
  assert.equal(await relationsCaption.textContent(), 'Relations (9)')
  await page.getByLabel('From', { exact: true }).fill('2026-03-15')
  await relationsCaption.getByText('Relations (7)').waitFor()
  const kinds = await column(page, 'link-chart-relations', 1)
  assert.ok(!kinds.includes('uses vehicle'), 'the vehicle was last used in February')
  assert.ok(!(await nodes(page)).includes(VEHICLE), 'the vehicle was last seen in February')
  assert.deepEqual((await chartState(page)).window, { from: '2026-03-15', to: null })

  await page.getByLabel('To', { exact: true }).fill('2026-03-18')
  await relationsCaption.getByText('Relations (6)').waitFor()
  assert.ok(!(await column(page, 'link-chart-relations', 1)).includes('uses email'))

  await page.getByLabel('To', { exact: true }).fill('2026-03-01')
  await page.getByText('The From date must be the same as or before the To date').waitFor()
  assert.deepEqual((await chartState(page)).window, { from: '2026-03-15', to: '2026-03-18' })

  await page.getByRole('button', { name: 'Clear dates' }).click()
  await relationsCaption.getByText('Relations (9)').waitFor()
  assert.deepEqual((await chartState(page)).window, { from: null, to: null })
})

test('the shortest path and a connecting network are highlighted and listed', async () => {
  const page = await open()
  await tables(page).getByLabel('Select ana.p@example.com').check()
  await tables(page).getByLabel('Select AB12 CDE').check()
  await panel(page).getByRole('button', { name: 'Show shortest path' }).click()
  const steps = await panel(page).locator('.aidant-chart__path li').allTextContents()
  assert.deepEqual(steps, ['ana.p@example.com', 'uses email: Ana Popescu', 'lives at: 12 High Street, Luton', 'lives at: Florin Dumitru', 'uses vehicle: AB12 CDE'])
  const colours = () => page.evaluate(() => {
    const renderer = window.aidantChart.renderer()
    return Object.fromEntries(window.aidantChart.graph().nodes().map((key) => [key, renderer.getNodeDisplayData(key).color]))
  })
  const onPath = [EMAIL, ANA, HIGH_STREET, FLORIN, VEHICLE]
  for (const [key, colour] of Object.entries(await colours())) {
    assert.equal(colour === DIMMED, !onPath.includes(key), `${key} is ${onPath.includes(key) ? 'on' : 'off'} the path`)
  }

  await tables(page).getByLabel('Select @star_nails_luton').check()
  await panel(page).getByRole('button', { name: 'Show connecting network' }).click()
  const network = [...onPath, STAR_NAILS, ACCOUNT]
  for (const [key, colour] of Object.entries(await colours())) {
    assert.equal(colour === DIMMED, !network.includes(key), `${key} is ${network.includes(key) ? 'in' : 'out of'} the network`)
  }
  await panel(page).getByRole('button', { name: 'Clear highlight' }).click()
  assert.ok(Object.values(await colours()).every((colour) => colour !== DIMMED))
})

test('table columns sort from the keyboard, and aria-sort says how', async () => {
  const page = await open()
  const records = page.locator('#link-chart-entities thead th', { hasText: 'Records' })
  await records.getByRole('button').focus()
  await page.keyboard.press('Enter')
  assert.equal(await records.getAttribute('aria-sort'), 'ascending')
  const numbers = async () => (await column(page, 'link-chart-entities', 3)).map(Number)
  assert.deepEqual(await numbers(), [2, 3, 4, 5, 8, 9, 12, 30, 140])
  await page.keyboard.press('Space')
  assert.equal(await records.getAttribute('aria-sort'), 'descending')
  assert.deepEqual(await numbers(), [140, 30, 12, 9, 8, 5, 4, 3, 2])
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Records', 'focus stays on the header')
  const others = await page.locator('#link-chart-entities thead th[aria-sort]').evaluateAll((cells) => cells.filter((cell) => !cell.textContent.includes('Records')).map((cell) => cell.getAttribute('aria-sort')))
  assert.ok(others.every((value) => value === 'none'))

  const strength = page.locator('#link-chart-relations thead th', { hasText: 'Strength' })
  await strength.getByRole('button').click()
  assert.equal(await strength.getAttribute('aria-sort'), 'ascending')
  const strengths = (await column(page, 'link-chart-relations', 4)).map(Number)
  assert.deepEqual(strengths, [...strengths].sort((left, right) => left - right))
})

test('Download PNG records the export first, and saves nothing when refused', async () => {
  const page = await open()
  let auditsAtDownload = null
  page.on('download', () => { auditsAtDownload = harness.requests.filter((request) => request.path === '/api/export-audit').length })
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PNG' }).click()])
  assert.equal(download.suggestedFilename(), 'link-chart.png')
  const bytes = readFileSync(await download.path())
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  assert.ok(bytes.length > 5000, 'with something drawn in it')
  assert.equal(auditsAtDownload, 1, 'the audit was recorded before the download began')
  const audit = harness.requests.find((request) => request.path === '/api/export-audit')
  assert.equal(audit.headers['x-csrf-token'], CSRF_TOKEN)
  assert.deepEqual({ ...audit.body, entities: [...audit.body.entities].sort() }, { format: 'png', entities: openingState().entities.filter((id) => id !== WITHHELD).sort() })

  harness.refuse['/api/export-audit'] = [403, { title: 'Forbidden', detail: 'You may not export this chart.' }]
  let downloaded = false
  page.on('download', () => { downloaded = true })
  await page.getByRole('button', { name: 'Download PNG' }).click()
  await page.locator('#link-chart [role="alert"]').getByText('You may not export this chart.').waitFor()
  await page.waitForTimeout(1000)
  assert.equal(downloaded, false)
  forgiveRefusal('/api/export-audit')
})

test('every change is written to the forms\' state inputs', async () => {
  const page = await open()
  const check = async () => {
    const values = await stateInputs(page)
    assert.equal(values.length, 2)
    assert.equal(values[0], values[1])
    const state = JSON.parse(values[0])
    assert.deepEqual(state, await chartState(page))
    assert.deepEqual(Object.keys(state), ['entities', 'hidden', 'pinned', 'positions', 'groups', 'layout', 'window'])
    for (const key of await nodes(page)) assert.ok(state.positions[key], `${key} has a position`)
    return state
  }
  assert.ok(!(await check()).entities.includes(WITHHELD))
  await tables(page).getByRole('button', { name: 'Hide AB12 CDE' }).click()
  assert.deepEqual((await check()).hidden, [VEHICLE])
  await page.getByRole('button', { name: 'Hierarchical layout' }).click()
  assert.equal((await check()).layout, 'hierarchical')
  await tables(page).getByRole('button', { name: 'Expand Star Nails, Luton' }).click()
  await page.locator('.aidant-chart__expansion').getByText('added 25 entities').waitFor()
  assert.equal((await check()).entities.length, 9 + 25)
})

test('a refusal from the server is shown in the chart area, not in an alert box', async () => {
  harness.refuse['/api/chart-data'] = [403, { title: 'Forbidden', detail: 'You may not use link charts.' }]
  const page = await open()
  const alert = page.locator('#link-chart [role="alert"]')
  await alert.getByText('You may not use link charts.').waitFor()
  assert.equal(await alert.getByRole('heading').textContent(), 'Forbidden')
  assert.equal(await nodeCount(page), 0)
  assert.deepEqual(await axeViolations(page), [], 'with the error')
  forgiveRefusal('/api/chart-data')
})

test('a saved chart opens where it was left, with its groups and hidden entities', async () => {
  harness.state = {
    ...openingState(),
    hidden: [ACCOUNT],
    pinned: { [FLORIN]: [10, 20] },
    positions: Object.fromEntries(openingState().entities.map((id, index) => [id, [index * 10, index * 5]])),
    groups: [{ id: 'g1', label: 'Ana and her email', members: [ANA, EMAIL] }],
    window: { from: '2026-02-01', to: null }
  }
  harness.state.positions.g1 = [55, 30]
  harness.state.positions[FLORIN] = [10, 20]
  const page = await open()
  assert.deepEqual(await position(page, FLORIN), { x: 10, y: -20 }, 'the state has y downwards, sigma upwards')
  assert.deepEqual(await position(page, 'g1'), { x: 55, y: -30 })
  const keys = await nodes(page)
  assert.ok(!keys.includes(ACCOUNT) && !keys.includes(ANA) && keys.includes('g1'))
  assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '2026-02-01')
  const state = await chartState(page)
  assert.deepEqual(state.groups, harness.state.groups)
  assert.deepEqual(state.pinned, { [FLORIN]: [10, 20] })
})

test('no accessibility violations in the chart view or the table view', async () => {
  const page = await open()
  await tables(page).getByLabel('Select Florin Dumitru').check()
  await tables(page).getByRole('button', { name: 'Expand Star Nails, Luton' }).click()
  await page.locator('.aidant-chart__expansion').getByText('added 25 entities').waitFor()
  assert.deepEqual(await axeViolations(page), [], 'chart view')

  await page.getByRole('button', { name: 'Table', exact: true }).click()
  assert.equal(await page.getByRole('button', { name: 'Table', exact: true }).getAttribute('aria-pressed'), 'true')
  assert.ok(await page.locator('.aidant-chart__canvas').isHidden())
  await tables(page).getByLabel('Select Ana Popescu').check()
  assert.deepEqual(await axeViolations(page), [], 'table view, two selected')
  // The PNG can still be made from the table view.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PNG' }).click()])
  assert.equal(download.suggestedFilename(), 'link-chart.png')
})

test('the CSP watch itself catches a violation', async () => {
  const page = await open()
  await page.evaluate(() => {
    const element = document.createElement('div')
    element.innerHTML = '<img src="https://example.invalid/x.png" alt="">'
    document.body.append(element)
  })
  await page.waitForTimeout(500)
  assert.ok(session.problems.some((problem) => problem.includes('CSP violation')), session.problems.join('\n'))
  session.problems.length = 0
})
