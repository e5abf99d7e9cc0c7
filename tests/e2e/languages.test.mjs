// A person who reads Romanian (or Polish, or any of the seven languages)
// reports in it from start to finish: the questions, the kinds of place and
// signs from the catalogue, the error messages and the confirmation, and
// can change language part-way without losing an answer.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { startServer, launchBrowser, newContext, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer(); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

/** One message from data/messages/<language>.toml, as the server words it. */
function message (language, section, key) {
  const text = readFileSync(new URL(`../../data/messages/${language}.toml`, import.meta.url), 'utf8')
  const start = text.indexOf(`\n[${section}]\n`)
  assert.ok(start >= 0, `[${section}] in ${language}`)
  const line = text.slice(start).split('\n').find((candidate) => candidate.startsWith(`${key} = `))
  assert.ok(line, `${section}.${key} in ${language}`)
  return JSON.parse(line.slice(key.length + 3))
}

/** A sign or kind of place from data/messages/catalogue/<language>.toml. */
function catalogueText (language, table, key) {
  const text = readFileSync(new URL(`../../data/messages/catalogue/${language}.toml`, import.meta.url), 'utf8')
  const start = text.indexOf(`\n[${table}]\n`)
  assert.ok(start >= 0, `[${table}] in catalogue/${language}`)
  const line = text.slice(start).split('\n').find((candidate) => candidate.startsWith(`${key} = `))
  assert.ok(line, `${table}.${key} in catalogue/${language}`)
  return JSON.parse(line.slice(key.length + 3))
}

const submit = (page) => page.locator('main button[type="submit"]').first().click()

test('a report made in Romanian, with a mistake, then finished in Polish', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await page.goto(server.url + '/')
  await page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: 'Română' }).click()
  assert.equal(await page.getAttribute('html', 'lang'), 'ro')
  assert.equal(await page.locator('h1').innerText(), message('ro', 'start', 'title'))
  await page.getByRole('button', { name: message('ro', 'start', 'start_button') }).click()

  // Every question is in Romanian, and so is what is wrong with an answer.
  assert.equal(await page.getAttribute('html', 'lang'), 'ro')
  assert.equal(await page.locator('h1, legend h1, .govuk-fieldset__heading').first().innerText(), message('ro', 'report', 'danger_title'))
  await submit(page)
  assert.match(await page.locator('.govuk-error-summary').innerText(), new RegExp(message('ro', 'report', 'danger_required').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  assert.match(await page.title(), new RegExp('^' + message('ro', 'common', 'error_prefix')))
  await page.getByLabel(message('ro', 'common', 'no'), { exact: true }).check()
  await submit(page)
  await page.getByLabel(catalogueText('ro', 'sectors.nail_bar', 'place_label')).check()
  await submit(page)
  await page.locator('#postcode').fill('nu este un cod')
  await submit(page)
  assert.match(await page.locator('.govuk-error-summary').innerText(), new RegExp(message('ro', 'report_errors', 'postcode_invalid').split(',')[0]))
  assert.deepEqual(await axeViolations(page), [], 'a Romanian question with an error')
  await page.locator('#postcode').fill('LU1 2AB')
  await page.locator('#business_name').fill('Star Nails')
  await submit(page)
  assert.equal(await page.locator('h1, .govuk-fieldset__heading').first().innerText(), message('ro', 'report', 'signs_title'))
  const signs = await page.locator('.govuk-checkboxes__label').allInnerTexts()
  assert.ok(signs.includes(catalogueText('ro', 'indicators', 'workers_living_on_site')), `the nail bar's signs in Romanian: ${signs.slice(0, 3)}`)
  await page.getByLabel(catalogueText('ro', 'indicators', 'workers_living_on_site')).check()

  // Changing language part-way keeps every answer and the rest of the form follows.
  await page.getByRole('navigation', { name: message('ro', 'common', 'language_label') }).getByRole('link', { name: 'Polski' }).click()
  assert.equal(await page.getAttribute('html', 'lang'), 'pl')
  assert.equal(await page.locator('h1, .govuk-fieldset__heading').first().innerText(), message('pl', 'report', 'signs_title'))
  await page.getByLabel(catalogueText('pl', 'indicators', 'workers_living_on_site')).check()
  await submit(page)
  for (let step = 0; step < 3; step++) await submit(page)
  await page.getByLabel(message('pl', 'report', 'contact_anonymous')).check()
  await submit(page)
  assert.equal(await page.locator('h1').innerText(), message('pl', 'report', 'check_title'))
  const summary = await page.locator('.govuk-summary-list').innerText()
  assert.match(summary, /Star Nails/)
  assert.match(summary, new RegExp(catalogueText('pl', 'sectors.nail_bar', 'place_label').slice(0, 12)))
  assert.ok(summary.includes(catalogueText('pl', 'indicators', 'workers_living_on_site')), summary)
  await page.getByRole('button', { name: message('pl', 'report', 'send') }).click()
  assert.equal(await page.locator('h1').innerText(), message('pl', 'report', 'done_title'))
  assert.match(await page.getByTestId('reference').innerText(), /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}$/)
  await context.close()
})

test('every report question and the signs pages have no axe violations in every language', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  for (const language of ['ro', 'hu', 'vi', 'zh-Hans', 'sq', 'pl']) {
    await page.goto(`${server.url}/signs/nail_bar?lang=${language}`)
    assert.equal(await page.getAttribute('html', 'lang'), language)
    assert.equal(await page.locator('h1').innerText(), catalogueText(language, 'sectors.nail_bar', 'name'))
    assert.deepEqual(await axeViolations(page), [], `signs in ${language}`)
    await page.goto(`${server.url}/?lang=${language}`)
    await page.getByRole('button', { name: message(language, 'start', 'start_button') }).click()
    assert.equal(await page.getAttribute('html', 'lang'), language)
    assert.deepEqual(await axeViolations(page), [], `the first question in ${language}`)
  }
  await context.close()
})
