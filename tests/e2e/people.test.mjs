// People in the staff workspace: an analyst names a woman in two
// intelligence records, written two ways; the worker links them into one
// person whose page says why; the analyst decides they are not the same
// person, and a rebuild from the command line keeps them apart; a
// supervisor undoes the decision and they are one person again.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, signIn, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer({ staff: true }); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

/** Writes an intelligence record naming one person through the form, as an analyst would. */
async function recordNaming (page, title, name, dateOfBirth) {
  await page.goto(server.url + '/staff/intelligence/new')
  await page.getByLabel('Title').fill(title)
  await page.getByLabel('Source evaluation', { exact: true }).selectOption('2')
  await page.getByLabel('Intelligence assessment', { exact: true }).selectOption('B')
  await page.getByLabel('Handling code', { exact: true }).selectOption('P')
  await page.getByLabel('Sanitised intelligence').fill(`${name} works long hours at a nail bar and sleeps above it.`)
  const person = page.getByRole('group', { name: 'Person 1' })
  await person.getByLabel('Name').fill(name)
  await person.getByLabel('Date of birth (optional)').fill(dateOfBirth)
  await person.getByLabel('Nationality (optional)').fill('Romanian')
  await person.getByLabel('What they are to the matter').selectOption({ label: 'Potential victim' })
  await page.getByRole('button', { name: 'Save intelligence' }).click()
  assert.match(await page.locator('#people-named').innerText(), new RegExp(name), `${name} is listed on the record`)
  return page.url()
}

/** Reloads until the record's person links to their page, then opens it. */
async function openPerson (page, recordUrl, name) {
  await page.goto(recordUrl)
  const deadline = Date.now() + 5000
  while (await page.locator('#people-named').getByRole('link', { name }).count() === 0) {
    if (Date.now() > deadline) throw new Error(`${name} was not linked within 5 s`)
    await page.waitForTimeout(100)
    await page.reload()
  }
  await page.locator('#people-named').getByRole('link', { name }).click()
  return page.url()
}

test('two records of one woman are one person; "not the same" splits them and a rebuild keeps them apart', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const analyst = await context.newPage()
  await signIn(analyst, server.url, 'analyst@beds.police.example')

  // A bad date of birth is refused on its own row, and nothing typed is lost.
  await analyst.goto(server.url + '/staff/intelligence/new')
  const person = analyst.getByRole('group', { name: 'Person 1' })
  await person.getByLabel('Name').fill('POPESCU Ioana')
  await person.getByLabel('Date of birth (optional)').fill('11/06/2005')
  await analyst.getByRole('button', { name: 'Save intelligence' }).click()
  assert.match(await analyst.locator('.govuk-error-summary').innerText(), /The first person's date of birth must be a real date/)
  assert.equal(await person.getByLabel('Name').inputValue(), 'POPESCU Ioana')
  assert.deepEqual(await axeViolations(analyst), [], 'axe-core on the form with a person error')

  const visit = await recordNaming(analyst, 'Licensing visit to a nail bar', 'POPESCU Ioana', '2005-06-11')
  const safeguarding = await recordNaming(analyst, 'Safeguarding concern', 'Ioana Popescu', '2005-06-11')
  const personPage = await openPerson(analyst, safeguarding, 'Ioana Popescu')
  assert.equal(await analyst.locator('.govuk-caption-l').first().innerText(), 'Person')
  assert.equal(await analyst.locator('#person-seen tbody tr').count(), 2, 'both records are this person')
  const why = await analyst.locator('.aidant-why').first().innerText()
  assert.match(why, /Date of birth\s+exact/)
  assert.match(why, /likely to be one person/)
  assert.deepEqual(await axeViolations(analyst), [], 'axe-core on a person page')
  // Where the record's text names her, the name links to her page too.
  await analyst.goto(safeguarding)
  await analyst.locator('#sanitised').getByRole('link', { name: 'Ioana Popescu' }).click()
  assert.equal(analyst.url(), personPage)

  // Searching her name finds her, however it is written.
  await analyst.getByRole('link', { name: 'Search' }).click()
  await analyst.getByLabel('Search reports and intelligence').fill('ioana POPESCU')
  await analyst.getByRole('button', { name: 'Search' }).click()
  await analyst.locator('#people-found').getByRole('link').first().click()
  assert.equal(analyst.url(), personPage)

  // Not the same person, with a reason.
  await analyst.getByRole('button', { name: 'Record decision' }).click()
  const summary = await analyst.locator('.govuk-error-summary').innerText()
  assert.match(summary, /Select what you have decided/)
  assert.match(summary, /Enter why/)
  await analyst.getByLabel('Not the same person: two of these records are different people').check()
  const options = await analyst.locator('#record option').allInnerTexts()
  const visitOption = options.find((text) => text.includes('POPESCU Ioana'))
  const safeguardingOption = options.find((text) => text.includes('Ioana Popescu'))
  await analyst.getByLabel('The record the decision is about').selectOption({ label: visitOption })
  await analyst.getByLabel('For "not the same person": the other record').selectOption({ label: safeguardingOption })
  await analyst.getByLabel('Why').fill('Different mothers named on the two passports')
  await analyst.getByRole('button', { name: 'Record decision' }).click()
  assert.equal(await analyst.locator('#person-seen tbody tr').count(), 1, 'split: one record each')
  assert.match(await analyst.locator('#decision-list').innerText(), /Not the same person[\s\S]*Different mothers named on the two passports/)
  assert.deepEqual(await axeViolations(analyst), [], 'axe-core on a person page with a decision')
  const onePage = analyst.url()
  const otherPage = await openPerson(analyst, onePage === personPage ? visit : safeguarding, onePage === personPage ? 'POPESCU Ioana' : 'Ioana Popescu')
  assert.notEqual(otherPage, onePage)

  // A rebuild from the command line re-derives every entity; they stay apart.
  const output = server.run(['entities', 'rebuild', '--wait'])
  assert.match(output, /queued/)
  for (const page of [onePage, otherPage]) {
    await analyst.goto(page)
    assert.equal(await analyst.locator('#person-seen tbody tr').count(), 1, `still one record on ${page} after the rebuild`)
  }

  // An analyst cannot undo; a supervisor can, and the two are one person again.
  assert.equal(await analyst.getByRole('button', { name: /^Undo/ }).count(), 0)
  await context.close()
  const supervisorContext = await newContext(browser, { bypassCSP: true })
  const supervisor = await supervisorContext.newPage()
  await signIn(supervisor, server.url, 'supervisor@beds.police.example')
  await supervisor.goto(onePage)
  await supervisor.getByRole('button', { name: /^Undo/ }).click()
  assert.equal(await supervisor.locator('#person-seen tbody tr').count(), 2, 'one person again')
  assert.match(await supervisor.locator('#decision-list').innerText(), /Undone by Demo Supervisor/)
  await supervisorContext.close()
})
