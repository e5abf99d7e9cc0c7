import { launchBrowser, signIn } from './helpers.mjs'
const browser = await launchBrowser()
const page = await (await browser.newContext({ viewport: { width: 1100, height: 1400 } })).newPage()
const url = 'http://127.0.0.1:18081'
await signIn(page, url, 'analyst@beds.police.example')
await page.goto(url + '/staff')
await page.locator('main table a').first().click()
await browser.close()
