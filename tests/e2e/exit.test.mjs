// Quick exit: the button, Escape and Shift pressed three times each blank the
// page, replace it with a neutral site so Back does not return, and discard
// the draft on the server.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, startReport, EXIT_URL } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer(); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

async function startDraft (context) {
  const page = await context.newPage()
  await startReport(page, server.url)
  await page.getByLabel('A private house (someone working in a home)').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Town or area').fill('Dunstable')
  // A person reaches for Escape once the page has loaded; the quick-exit
  // script is a module, which runs before the load event but may run after
  // the field is already there to be filled.
  await page.waitForLoadState('load')
  return page
}

async function assertLeftSafely (page, context) {
  await page.waitForURL(EXIT_URL)
  assert.equal(await page.title(), 'BBC Weather')
  // location.replace took the current page out of the history; Back reaches
  // at most an earlier question, which the server now shows empty.
  await page.goBack().catch(() => {})
  if (page.url().includes('/report/')) {
    assert.equal(await page.locator('h1').innerText(), 'Your answers have been cleared', `Back showed ${page.url()}`)
  }
  assert.ok(!(await page.content()).includes('Dunstable'), 'no answer is visible after going back')
  // The draft was discarded on the server: a new tab finds nothing.
  const check = await context.newPage()
  await check.goto(server.url + '/report/where')
  assert.equal(await check.locator('h1').innerText(), 'Your answers have been cleared')
}

test('leaving by the Exit this page button', async () => {
  const context = await newContext(browser)
  const page = await startDraft(context)
  await page.getByRole('button', { name: 'Emergency Exit this page' }).click()
  await assertLeftSafely(page, context)
  await context.close()
})

test('leaving by the Escape key', async () => {
  const context = await newContext(browser)
  const page = await startDraft(context)
  await page.keyboard.press('Escape')
  await assertLeftSafely(page, context)
  await context.close()
})

test('leaving by pressing Shift three times', async () => {
  const context = await newContext(browser)
  const page = await startDraft(context)
  await page.locator('body').click({ position: { x: 5, y: 5 } })
  for (let press = 0; press < 3; press++) await page.keyboard.press('Shift')
  await assertLeftSafely(page, context)
  await context.close()
})

test('the page is blanked before the neutral site loads', async () => {
  const context = await newContext(browser)
  let release
  const held = new Promise((resolve) => { release = resolve })
  await context.route('https://www.bbc.co.uk/**', async (route) => {
    await held
    await route.fulfill({ contentType: 'text/html', body: '<title>BBC Weather</title>' })
  })
  setTimeout(() => release(), 10000)
  const page = await startDraft(context)
  const before = await page.screenshot()
  await page.keyboard.press('Escape')
  // While the neutral site is still loading, what is on screen is blank: a
  // screenshot of an empty white page compresses to a small fraction of one
  // showing the form.
  const during = await page.screenshot()
  release()
  assert.ok(during.length * 4 < before.length, `the screen still shows content (${during.length} bytes against ${before.length})`)
  await context.close()
})

test('without JavaScript the button still leaves and discards the draft', async () => {
  const context = await newContext(browser, { javaScriptEnabled: false })
  const page = await startDraft(context)
  await page.getByRole('button', { name: 'Emergency Exit this page' }).click()
  await page.waitForURL(EXIT_URL)
  const check = await context.newPage()
  await check.goto(server.url + '/report/where')
  assert.equal(await check.locator('h1').innerText(), 'Your answers have been cleared')
  await context.close()
})

test('public pages are never cached and leak no referrer', async () => {
  for (const path of ['/', '/report/danger', '/get-help?lang=ro', '/follow-up']) {
    const response = await fetch(server.url + path)
    assert.equal(response.headers.get('cache-control'), 'no-store', path)
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer', path)
  }
})
