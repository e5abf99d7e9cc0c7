// A member of the public reports what they saw, as a person would: clicking,
// typing, making mistakes, using only the keyboard, and without JavaScript.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, reportNailBarToCheck, startReport } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer(); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

test('report a nail bar anonymously from the start page to the reference', async () => {
  const context = await newContext(browser)
  const page = await context.newPage()
  await reportNailBarToCheck(page, server.url)
  assert.equal(await page.locator('h1').innerText(), 'Check your answers before sending your report')
  const summary = await page.locator('.govuk-summary-list').innerText()
  assert.match(summary, /Star Nails/)
  assert.match(summary, /Ștefan keeps her passport\. 😟/)
  assert.match(summary, /Anonymous/)
  await page.getByRole('button', { name: 'Send report' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Report sent')
  const reference = await page.getByTestId('reference').innerText()
  assert.match(reference, /^[ACDEFGHJKMNPRTWXY34679]{3}-[ACDEFGHJKMNPRTWXY34679]{3}-[ACDEFGHJKMNPRTWXY34679]{3}$/)
  const passphrase = await page.getByTestId('passphrase').innerText()
  assert.match(passphrase, /^[a-z]+-[a-z]+-[a-z]+-[a-z]+$/)
  // The confirmation is shown once: the passphrase is not kept anywhere to show again.
  await page.goto(server.url + '/report/done')
  assert.equal(new URL(page.url()).pathname, '/')
  await context.close()
})

test('a missing answer shows the error summary, and fixing it moves on', async () => {
  const context = await newContext(browser)
  const page = await context.newPage()
  await startReport(page, server.url)
  await page.getByRole('button', { name: 'Continue' }).click()
  const summary = page.locator('.govuk-error-summary')
  assert.equal(await summary.locator('h2').innerText(), 'There is a problem')
  assert.match(await page.title(), /^Error:/)
  await summary.getByRole('link', { name: 'Select the kind of place' }).click()
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sector')
  await page.getByLabel('A hand car wash').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Postcode (if you know it)').fill('not a postcode')
  await page.getByRole('button', { name: 'Continue' }).click()
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Enter a real postcode, like LU1 2AB/)
  assert.equal(await page.getByLabel('Postcode (if you know it)').inputValue(), 'not a postcode', 'what was typed is kept')
  await page.getByLabel('Postcode (if you know it)').fill('lu5 4ab')
  await page.getByRole('button', { name: 'Continue' }).click()
  assert.equal(await page.locator('h1').innerText(), 'What did you see?')
  await context.close()
})

test('banging inside a lorry shows call 999 at once, and the report can still be sent', async () => {
  const context = await newContext(browser)
  const page = await context.newPage()
  await startReport(page, server.url)
  await page.getByLabel('A lorry, or motorway services').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Description of the place').fill('Toddington Services, northbound lorry park')
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('I heard banging or voices from inside a lorry or container').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Call 999 now')
  assert.match(await page.locator('main').innerText(), /every minute matters/)
  await page.getByRole('button', { name: 'Continue my report' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Tell us about the people')
  assert.match(await page.locator('.govuk-warning-text').innerText(), /call 999 now/)
  for (let step = 0; step < 4; step++) await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByRole('button', { name: 'Send report' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Report sent')
  assert.match(await page.locator('main').innerText(), /if someone is in immediate danger, call 999 now/)
  await context.close()
})

test('saying someone is in danger now shows call 999 before anything else', async () => {
  const context = await newContext(browser)
  const page = await context.newPage()
  await startReport(page, server.url, 'Yes')
  assert.equal(await page.locator('h1').innerText(), 'Call 999 now')
  await context.close()
})

test('the whole report can be made with the keyboard alone', async () => {
  const context = await newContext(browser)
  const page = await context.newPage()
  await page.goto(server.url + '/')
  // Tab to a control and press it: no mouse anywhere in this test.
  async function tabTo (matches) {
    for (let presses = 0; presses < 80; presses++) {
      await page.keyboard.press('Tab')
      const found = await page.evaluate(matches)
      if (found) return
    }
    throw new Error('could not reach the control with Tab')
  }
  // Press Enter on the focused control and wait for the next page to load.
  async function enterAndWait () {
    const before = page.url()
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.href !== before)
    await page.waitForLoadState('load')
  }
  const onButton = (text) => `(() => { const element = document.activeElement; return element && element.textContent.trim().startsWith(${JSON.stringify(text)}) })()`
  const onInput = (id) => `document.activeElement && document.activeElement.id === ${JSON.stringify(id)}`
  await tabTo(onButton('Start now')); await enterAndWait()
  assert.match(page.url(), /\/report\/danger$/)
  // Arrow keys move between radios and select as they go: down to "No".
  await tabTo(onInput('immediate_danger')); await page.keyboard.press('ArrowDown')
  await tabTo(onButton('Continue')); await enterAndWait()
  assert.match(page.url(), /\/report\/place$/)
  await tabTo(onInput('sector')); await page.keyboard.press('Space')
  await tabTo(onButton('Continue')); await enterAndWait()
  assert.match(page.url(), /\/report\/where$/)
  await tabTo(onInput('town')); await page.keyboard.type('Bedford')
  await tabTo(onButton('Continue')); await enterAndWait()
  for (const path of ['signs', 'people', 'vehicles', 'what-happened', 'contact']) {
    assert.match(page.url(), new RegExp(`/report/${path}$`))
    await tabTo(onButton('Continue')); await enterAndWait()
  }
  assert.match(page.url(), /\/report\/check$/)
  await tabTo(onButton('Send report')); await enterAndWait()
  assert.match(page.url(), /\/report\/done$/)
  assert.equal(await page.locator('h1').innerText(), 'Report sent')
  await context.close()
})

test('the report works without JavaScript', async () => {
  const context = await newContext(browser, { javaScriptEnabled: false })
  const page = await context.newPage()
  await reportNailBarToCheck(page, server.url)
  await page.getByRole('button', { name: 'Send report' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Report sent')
  await context.close()
})

test('coming back with the reference and passphrase to add information', async () => {
  const context = await newContext(browser)
  const page = await context.newPage()
  await reportNailBarToCheck(page, server.url)
  await page.getByRole('button', { name: 'Send report' }).click()
  const reference = await page.getByTestId('reference').innerText()
  const passphrase = await page.getByTestId('passphrase').innerText()
  await context.close()

  const later = await newContext(browser)
  const again = await later.newPage()
  await again.goto(server.url + '/')
  await again.getByRole('link', { name: 'Come back to a report' }).click()
  await again.getByLabel('Reference').fill(reference.toLowerCase().replaceAll('-', ' '))
  await again.getByLabel('Passphrase').fill('wrong words entirely')
  await again.getByRole('button', { name: 'Continue' }).click()
  assert.match(await again.locator('.govuk-error-summary').innerText(), /reference or passphrase is not right/)
  await again.getByLabel('Passphrase').fill(passphrase.toUpperCase().replaceAll('-', ' '))
  await again.getByRole('button', { name: 'Continue' }).click()
  assert.equal(await again.locator('h1').innerText(), 'Your report')
  assert.match(await again.locator('main').innerText(), /There are no messages yet/)
  await again.getByLabel('What else can you tell us?').fill('A silver van collects the women at 6am. Registration AB12 CDE.')
  await again.getByRole('button', { name: 'Add to my report' }).click()
  assert.match(await again.locator('.govuk-notification-banner').innerText(), /We have added this to your report/)
  assert.match(await again.locator('main').innerText(), /A silver van collects the women at 6am/)
  await later.close()
})
