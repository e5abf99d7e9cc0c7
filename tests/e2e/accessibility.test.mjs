// axe-core finds no violations on any public page, in English and in every
// language of the get-help page; pages are usable at 320 pixels wide.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, reportNailBarToCheck, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer(); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

const STATIC_PAGES = ['/', '/signs', '/signs/nail_bar', '/signs/lorries_and_services', '/exploitation', '/exploitation/sexual', '/safety', '/cookies', '/feedback', '/follow-up', '/no-such-page']
const LANGUAGES = ['en', 'ro', 'hu', 'vi', 'zh-Hans', 'sq', 'pl']

test('every information page has no axe violations', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  for (const path of STATIC_PAGES) {
    await page.goto(server.url + path)
    assert.deepEqual(await axeViolations(page), [], path)
  }
  await context.close()
})

test('get help has no axe violations in every language, with the right lang', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  for (const language of LANGUAGES) {
    await page.goto(`${server.url}/get-help?lang=${language}`)
    assert.equal(await page.getAttribute('html', 'lang'), language)
    assert.match(await page.locator('main').innerText(), /999/)
    assert.match(await page.locator('main').innerText(), /08000 121 700/)
    assert.deepEqual(await axeViolations(page), [], language)
  }
  // The switcher names each language in itself and marks its language.
  await page.goto(`${server.url}/get-help?lang=en`)
  await page.getByRole('link', { name: 'Română' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Cereți ajutor acum')
  assert.equal(await page.getAttribute('a[hreflang="vi"]', 'lang'), 'vi')
  await context.close()
})

test('every page of the report flow, with and without errors, has no axe violations', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await page.goto(server.url + '/')
  await page.getByRole('button', { name: 'Start now' }).click()
  await page.getByRole('button', { name: 'Continue' }).click()
  assert.deepEqual(await axeViolations(page), [], 'danger page with an error')
  await reportNailBarToCheck(page, server.url)
  assert.deepEqual(await axeViolations(page), [], 'check your answers')
  for (const path of ['danger', 'place', 'where', 'signs', 'people', 'vehicles', 'what-happened', 'contact']) {
    await page.goto(`${server.url}/report/${path}`)
    assert.deepEqual(await axeViolations(page), [], path)
  }
  await page.goto(`${server.url}/report/where`)
  await page.getByLabel('Postcode (if you know it)').fill('nonsense')
  await page.getByRole('button', { name: 'Continue' }).click()
  assert.deepEqual(await axeViolations(page), [], 'where page with an error')
  await page.goto(`${server.url}/report/check`)
  await page.getByRole('button', { name: 'Send report' }).click()
  assert.deepEqual(await axeViolations(page), [], 'confirmation')
  await context.close()
})

test('pages fit a 320 pixel wide screen without sideways scrolling', async () => {
  const context = await newContext(browser, { viewport: { width: 320, height: 640 } })
  const page = await context.newPage()
  for (const path of ['/', '/get-help?lang=vi', '/signs/car_wash']) {
    await page.goto(server.url + path)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px`)
  }
  await page.goto(server.url + '/')
  await page.getByRole('button', { name: 'Start now' }).click()
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  assert.ok(overflow <= 0, `the first question scrolls sideways by ${overflow}px`)
  await page.screenshot({ path: process.env.AIDANT_SCREENSHOT_DIR ? `${process.env.AIDANT_SCREENSHOT_DIR}/danger-320.png` : '/tmp/aidant-danger-320.png' })
  await context.close()
})
