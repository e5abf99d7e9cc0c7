// The triage queue at a demo force's volume, as a supervisor uses it: an
// order chosen, every page reached with Next and Previous, a date range,
// and a reporter's message marked until someone reads it. Real server,
// real Chromium, axe-core on each new state.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, signIn, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer({ staff: true, reports: 130 }); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

async function assertAccessible (page, what) {
  const violations = await axeViolations(page)
  assert.deepEqual(violations.map((violation) => `${violation.id}: ${violation.help}`), [], `${what} has accessibility violations`)
}

test('a supervisor pages through the whole queue in the order they choose', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await signIn(page, server.url, 'supervisor@beds.police.example')
  await page.getByLabel('Order').selectOption({ label: 'Newest first' })
  await page.getByLabel('Status').selectOption({ label: 'Any status' })
  await page.getByRole('button', { name: 'Apply filters' }).click()
  const total = Number((await page.locator('#queue-total').innerText()).match(/^(\d+) reports match\. Order: newest first\./)[1])
  assert.ok(total >= 130, `every demo report is counted: ${total}`)
  await assertAccessible(page, 'the queue, newest first')
  const received = async () => (await page.locator('#queue tbody tr td:nth-child(3)').allInnerTexts()).map((text) => Date.parse(text + ' UTC'))
  const seen = []
  const pages = []
  for (;;) {
    const times = await received()
    pages.push(times)
    seen.push(...times)
    const next = page.getByRole('link', { name: 'Next page' })
    if (await next.count() === 0) break
    await next.click()
  }
  assert.equal(seen.length, total, 'Next reaches every report once')
  assert.ok(seen.every((time, index) => index === 0 || time <= seen[index - 1]), 'newest first throughout')
  assert.ok(new Set(seen.map((time) => new Date(time).toISOString().slice(0, 10))).size > 20, 'the demo week is spread over the weeks')
  await assertAccessible(page, 'the last page of the queue')
  await page.getByRole('link', { name: 'Previous page' }).click()
  assert.deepEqual(await received(), pages[pages.length - 2], 'Previous goes back one page')
  await page.getByRole('link', { name: 'Back to the first page' }).click()
  assert.deepEqual(await received(), pages[0])

  // A date range with nothing in it, then one with the newest reports.
  await page.getByLabel('Received from').fill('2020-01-01')
  await page.getByLabel('Received to').fill('2020-01-31')
  await page.getByRole('button', { name: 'Apply filters' }).click()
  assert.match(await page.locator('main').innerText(), /No reports match these filters/)
  const newest = new Date(pages[0][0]).toISOString().slice(0, 10)
  await page.getByLabel('Received from').fill(newest)
  await page.getByLabel('Received to').fill(newest)
  await page.getByRole('button', { name: 'Apply filters' }).click()
  const thatDay = await received()
  assert.ok(thatDay.length >= 1 && thatDay.every((time) => new Date(time).toISOString().slice(0, 10) === newest), `only ${newest}`)

  // A date that is not one is a message on the page, not a failure.
  await page.goto(server.url + '/staff?from=2026-02-30')
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter the from date as a real date/)
  await assertAccessible(page, 'the queue with a wrong date')
  await context.close()
})

test('on a phone the queue and search are cards that fit the screen', async () => {
  const context = await newContext(browser, { bypassCSP: true, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  const page = await context.newPage()
  await signIn(page, server.url, 'call.handler@beds.police.example')
  for (const path of ['/staff?status=all', '/staff/search?q=nail']) {
    await page.goto(server.url + path)
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
    assert.ok(widths[0] <= widths[1], `${path} fits a 390 px screen: ${widths}`)
    const firstCell = page.locator('table.aidant-cards tbody tr').first().locator('td').nth(1)
    assert.equal(await firstCell.evaluate((cell) => getComputedStyle(cell).display), 'block', `${path}: rows are cards`)
    assert.ok((await page.getByRole('cell').count()) > 0, `${path}: still a table to assistive technology`)
    await assertAccessible(page, `${path} on a phone`)
  }
  await context.close()
})

test('on a phone the cookie banner leaves room for the first question', async () => {
  const context = await newContext(browser, { bypassCSP: true, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  const page = await context.newPage()
  await page.goto(server.url + '/')
  const banner = page.getByRole('region', { name: 'Cookies on this service' })
  const height = (await banner.boundingBox()).height
  assert.ok(height < 200, `the banner is compact: ${height} px`)
  assert.ok(await banner.getByRole('button', { name: 'Hide this message' }).isVisible())
  await assertAccessible(page, 'the start page on a phone with the cookie banner')
  await context.close()
})
