// Safeguarding, clicked through as its users would on a fresh demo: the
// safeguarding lead opens cases and writes NRM referrals one question page at
// a time (an adult who consents, printed; an adult who does not, which
// becomes an anonymous Duty to Notify; a child, who is not asked and cannot
// be referred before the local authority; a referral left half-way and
// resumed after signing out), a charity worker sees only the person referred
// to them and records support, and impossible answers are refused field by
// field. Every new page is checked with axe-core.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, launchBrowser, newContext, signIn, axeViolations, reportNailBarToCheck, answerTheStory, saveAndContinue as next } from './helpers.mjs'

let server
let browser
before(async () => { server = await startServer({ staff: true, log: 'debug' }); browser = await launchBrowser() })
after(async () => { await browser?.close(); await server?.stop() })

const LEAD = 'safeguarding.lead@beds.police.example'
const CHARITY = 'partner@justiceandcare.example'
const COUNCIL = 'partner@luton.gov.example'

async function assertAccessible (page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe-core on ${what}`)
}

async function lead () {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await signIn(page, server.url, LEAD)
  return { context, page }
}

/** Opens a case from the dashboard, as the lead would. */
async function openCase (page, { age, name, born = '', nationality = 'Romanian', types = ['Sexual exploitation'] }) {
  await page.goto(server.url + '/staff')
  await page.getByRole('link', { name: 'Safeguarding', exact: true }).click()
  await page.getByRole('button', { name: 'Open a case' }).click()
  await page.getByRole('group', { name: 'How old is the person?' }).getByLabel(age, { exact: true }).check()
  await page.getByLabel('Name', { exact: true }).fill(name)
  if (born) await page.getByLabel('Date of birth (optional)').fill(born)
  await page.getByRole('group', { name: 'Gender (optional)' }).getByLabel('Female').check()
  await page.getByLabel('Nationality (optional)').fill(nationality)
  await page.getByLabel('Languages spoken (optional)').fill('Romanian')
  await page.getByLabel('Needs an interpreter').check()
  for (const kind of types) await page.getByLabel(kind).check()
  await page.getByRole('button', { name: 'Open the case' }).click()
  const pseudonym = await page.locator('#pseudonym').innerText()
  assert.match(pseudonym, /^PV-\d\d-\d{4}$/)
  return { pseudonym, url: page.url() }
}

test('an adult who consents is referred in full, printable and downloadable', async () => {
  const { context, page } = await lead()
  await page.getByRole('link', { name: 'Safeguarding', exact: true }).click()
  assert.equal(await page.locator('h1').innerText(), 'Safeguarding')
  assert.notEqual(await page.locator('#count-overdue').innerText(), '0', 'the demo holds overdue decisions')
  assert.match(await page.locator('#cases').innerText(), /Overdue/)
  await assertAccessible(page, 'the safeguarding dashboard')

  const { pseudonym, url: caseUrl } = await openCase(page, { age: '18 or over', name: 'Alina Georgescu', born: '1999-03-02' })
  assert.equal(await page.getByText('Alina Georgescu').count(), 0, 'who the person is stays hidden until asked for, with a reason')
  await assertAccessible(page, 'a case page')
  await page.getByLabel('Why do you need to see who this person is?').fill('Writing the NRM referral')
  await page.getByRole('button', { name: 'Show who they are' }).click()
  assert.match(await page.locator('#identity').innerText(), /Alina Georgescu/)
  await page.getByRole('link', { name: 'Audit trail' }).click()
  assert.match(await page.locator('main').innerText(), /victim.identity_view[\s\S]*Writing the NRM referral/, 'the reading and its reason are on the record')
  await assertAccessible(page, "a case's audit trail")
  await page.goto(caseUrl)

  await page.getByRole('button', { name: 'Start the referral' }).click()
  assert.match(await page.locator('#progress').innerText(), /0 of \d+ pages answered/)
  await assertAccessible(page, 'the referral check page')
  await page.getByRole('button', { name: 'Start' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Who is making this referral?')
  assert.equal(await page.getByLabel('Your e-mail address').inputValue(), LEAD, 'what the workspace knows is filled in')
  await page.getByLabel('Your role').fill('Safeguarding lead')
  await assertAccessible(page, 'a referral question page')
  await next(page)
  assert.equal(await page.locator('h1').innerText(), 'How old is the person?')
  assert.equal(await page.getByLabel('Date of birth (optional)').inputValue(), '1999-03-02')
  await next(page)
  await page.getByLabel('Yes', { exact: true }).check()
  await next(page)
  assert.equal(await page.getByLabel('Full name').inputValue(), 'Alina Georgescu')
  await next(page)
  await answerTheStory(page)
  assert.equal(await page.locator('h1').innerText(), 'What support does the person need?')
  await page.getByLabel('Support the person needs (optional)').fill('Safe accommodation and a Romanian interpreter.')
  await next(page)

  assert.match(await page.locator('h1').innerText(), /National Referral Mechanism referral/)
  assert.match(await page.locator('#section-personal-details').innerText(), /Alina Georgescu/)
  await page.getByRole('button', { name: 'Complete the referral' }).click()
  assert.match(await page.locator('#completed').innerText(), /Referral completed/)
  await page.getByRole('link', { name: 'Print it' }).click()
  assert.match(await page.locator('main').innerText(), /National Referral Mechanism referral[\s\S]*Alina Georgescu[\s\S]*Passport or identity documents held by someone else/)
  await assertAccessible(page, 'the printable referral')
  const download = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download as JSON' }).click()]).then(([event]) => event)
  const exported = JSON.parse(await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8')))
  assert.equal(exported.path, 'nrm')
  assert.equal(exported.pseudonym, pseudonym)
  assert.equal(exported.pages.find((page) => page.page === 'personal-details').answers.name, 'Alina Georgescu')

  await page.goto(server.url + '/staff/victims')
  const row = page.locator('#cases tr', { hasText: pseudonym })
  assert.match(await row.innerText(), /Referred, awaiting Reasonable Grounds[\s\S]*Completed/)
  await context.close()
})

test('a case opened from a public report is linked both ways', async () => {
  const publicContext = await newContext(browser)
  const reporter = await publicContext.newPage()
  await reportNailBarToCheck(reporter, server.url)
  await reporter.getByRole('button', { name: 'Send report' }).click()
  const reference = await reporter.getByTestId('reference').innerText()
  await publicContext.close()

  const { context, page } = await lead()
  await page.goto(server.url + '/staff')
  await page.locator('#queue a', { hasText: reference }).click()
  await page.getByRole('button', { name: "Open a potential victim's case" }).click()
  assert.match(await page.locator('main').innerText(), new RegExp(`From ${reference}`))
  await page.getByRole('group', { name: 'How old is the person?' }).getByLabel('Under 18', { exact: true }).check()
  await page.getByLabel('Name', { exact: true }).fill('The young woman at Star Nails')
  await page.getByRole('button', { name: 'Open the case' }).click()
  const pseudonym = await page.locator('#pseudonym').innerText()
  assert.match(await page.locator('#links').innerText(), new RegExp(`Public report: ${reference}`))
  await page.locator('#links').getByRole('link', { name: reference }).click()
  assert.match(await page.locator('#potential-victims').innerText(), new RegExp(pseudonym))
  await assertAccessible(page, 'a report with its potential victim')
  await context.close()
})

test('a case opened from the person it concerns shows who only to those who may know', async () => {
  const publicContext = await newContext(browser)
  const reporter = await publicContext.newPage()
  await reportNailBarToCheck(reporter, server.url)
  await reporter.getByRole('button', { name: 'Send report' }).click()
  const reference = await reporter.getByTestId('reference').innerText()
  await publicContext.close()

  // An analyst names the woman in the report; the worker files her as a person.
  const analystContext = await newContext(browser, { bypassCSP: true })
  const analyst = await analystContext.newPage()
  await signIn(analyst, server.url, 'analyst@beds.police.example')
  await analyst.goto(server.url + '/staff')
  await analyst.locator('#queue a', { hasText: reference }).click()
  const reportUrl = analyst.url()
  await analyst.getByText('Name a person this report concerns').click()
  await analyst.getByLabel('Name', { exact: true }).fill('Valentina Zamfir')
  await analyst.getByLabel('What they are to the matter').selectOption({ label: 'Potential victim' })
  await analyst.getByRole('button', { name: 'Add person' }).click()
  const deadline = Date.now() + 10000
  while (await analyst.locator('#people').getByRole('link', { name: 'Valentina Zamfir' }).count() === 0) {
    if (Date.now() > deadline) throw new Error('the person was not linked within 10 s')
    await analyst.waitForTimeout(200)
    await analyst.goto(reportUrl)
  }
  await analyst.locator('#people').getByRole('link', { name: 'Valentina Zamfir' }).click()
  const personUrl = analyst.url()
  await analyst.locator('#potential-victims').getByRole('button', { name: "Open a potential victim's case" }).click()
  assert.match(await analyst.locator('main').innerText(), /From Person Valentina Zamfir/)
  await analyst.getByRole('group', { name: 'How old is the person?' }).getByLabel('18 or over', { exact: true }).check()
  await analyst.getByLabel('Name', { exact: true }).fill('Valentina Zamfir')
  await analyst.getByRole('button', { name: 'Open the case' }).click()
  const pseudonym = await analyst.locator('#pseudonym').innerText()
  // The analyst may not know who the person is: neither the case names the
  // person's entity nor the person's page names the case.
  assert.match(await analyst.locator('#links').innerText(), /Entity: one you cannot see/)
  await analyst.goto(personUrl)
  assert.doesNotMatch(await analyst.locator('main').innerText(), new RegExp(pseudonym))
  await analystContext.close()

  const { context, page } = await lead()
  await page.goto(personUrl)
  assert.match(await page.locator('#potential-victims').innerText(), new RegExp(pseudonym))
  await assertAccessible(page, "a person's page with their case")
  await page.locator('#potential-victims').getByRole('link', { name: pseudonym }).click()
  assert.match(await page.locator('#links').innerText(), /Entity: one you cannot see/, 'the person is named only once the identity is opened')
  await page.getByLabel('Why do you need to see who this person is?').fill('Checking the linked records')
  await page.getByRole('button', { name: 'Show who they are' }).click()
  assert.match(await page.locator('#links').innerText(), /Entity: Person Valentina Zamfir/)
  await context.close()
})

test('an adult who does not consent becomes a Duty to Notify that names nobody', async () => {
  const { context, page } = await lead()
  const { url } = await openCase(page, { age: '18 or over', name: 'Mirela Constantin', born: '1990-08-20' })
  await page.getByRole('button', { name: 'Start the referral' }).click()
  await page.getByRole('button', { name: 'Start' }).click()
  await page.getByLabel('Your role').fill('Safeguarding lead')
  await next(page)
  await next(page)
  await page.getByLabel('No', { exact: true }).check()
  await next(page)
  assert.equal(await page.locator('h1').innerText(), 'What can be said about the person without identifying them?')
  await assertAccessible(page, 'the anonymous details page')
  await next(page)
  await answerTheStory(page)
  assert.match(await page.locator('h1').innerText(), /Duty to Notify/)
  assert.doesNotMatch(await page.locator('main').innerText(), /Mirela|1990-08-20/, 'the check page shows nothing that identifies her')
  await page.getByRole('button', { name: 'Complete the Duty to Notify' }).click()
  assert.match(await page.locator('#completed').innerText(), /Duty to Notify completed/)
  await page.getByRole('link', { name: 'Print it' }).click()
  const printed = await page.locator('main').innerText()
  assert.match(printed, /Duty to Notify/)
  assert.doesNotMatch(printed, /Mirela|Constantin|1990-08-20/)
  const response = await page.request.get(page.url().replace('/print', '/download'))
  assert.equal(response.status(), 200)
  assert.doesNotMatch(await response.text(), /Mirela|Constantin|1990-08-20/)
  await page.goto(url)
  assert.match(await page.locator('#stage').innerText(), /Duty to Notify sent/)
  await context.close()
})

test('a child is referred without consent, and only once the local authority has been told', async () => {
  const { context, page } = await lead()
  await openCase(page, { age: 'Possibly under 18 (age not known or disputed)', name: 'Lan Hoang', nationality: 'Vietnamese', types: ['Criminal exploitation'] })
  await page.getByRole('button', { name: 'Start the referral' }).click()
  await page.getByRole('button', { name: 'Start' }).click()
  await page.getByLabel('Your role').fill('Safeguarding lead')
  await next(page)
  await page.getByLabel('Estimated age in years (optional)').fill('16')
  await next(page)
  assert.equal(await page.locator('h1').innerText(), "The person's details", 'a child is not asked for consent')
  await page.getByRole('group', { name: 'Does the person need an interpreter?' }).getByLabel('Yes', { exact: true }).check()
  await page.getByLabel('Languages the person speaks (optional)').fill('Vietnamese')
  await next(page)
  await answerTheStory(page)
  await next(page)
  assert.equal(await page.locator('h1').innerText(), 'Safeguarding referral to the local authority')
  await page.getByRole('link', { name: 'Back to the referral' }).click()
  await page.getByRole('button', { name: 'Complete the referral' }).click()
  const summary = page.locator('.govuk-error-summary')
  assert.match(await summary.innerText(), /Enter the local authority the child was referred to/)
  await assertAccessible(page, 'the check page with the local authority missing')
  await summary.getByRole('link', { name: /local authority/ }).click()
  assert.equal(await page.locator('h1').innerText(), 'Safeguarding referral to the local authority')
  await page.getByLabel('Local authority the child was referred to').fill('Luton Borough Council')
  await page.getByLabel('Date of the local authority referral').fill('2026-13-01')
  await next(page)
  assert.match(await page.locator('.govuk-error-summary').innerText(), /must be a real date/)
  assert.equal(await page.getByLabel('Local authority the child was referred to').inputValue(), 'Luton Borough Council', 'nothing typed is lost')
  await page.getByLabel('Date of the local authority referral').fill(new Date(Date.now() - 86400000).toISOString().slice(0, 10))
  await page.getByLabel('Yes, an Independent Child Trafficking Guardian has been asked for').check()
  await next(page)
  await page.getByRole('button', { name: 'Complete the referral' }).click()
  assert.match(await page.locator('#completed').innerText(), /Referral completed/)
  await context.close()
})

test('a referral saved half-way is resumed after signing out', async () => {
  const first = await lead()
  const { url } = await openCase(first.page, { age: '18 or over', name: 'Ionela Radu' })
  await first.page.getByRole('button', { name: 'Start the referral' }).click()
  await first.page.getByRole('button', { name: 'Start' }).click()
  await first.page.getByLabel('Your role').fill('Detective sergeant')
  await next(first.page)
  await first.page.getByRole('button', { name: 'Save and come back later' }).click()
  assert.match(await first.page.locator('#progress').innerText(), /^2 of/)
  await first.page.getByRole('button', { name: 'Sign out' }).click()
  await first.context.close()

  const second = await lead()
  await second.page.goto(url)
  assert.match(await second.page.locator('#referral').innerText(), /A referral has been started and saved/)
  await second.page.getByRole('button', { name: 'Continue the referral' }).click()
  assert.match(await second.page.locator('#section-first-responder').innerText(), /Detective sergeant/)
  await second.page.getByRole('button', { name: 'Continue' }).click()
  assert.equal(await second.page.locator('h1').innerText(), 'Does the person consent to a referral to the National Referral Mechanism?')
  await second.context.close()
})

test('bad answers are refused field by field and nothing is half-saved', async () => {
  const { context, page } = await lead()
  await page.goto(server.url + '/staff/victims/new')
  await page.getByRole('group', { name: 'How old is the person?' }).getByLabel('18 or over', { exact: true }).check()
  await page.getByLabel('Name', { exact: true }).fill('Sorina Neagu')
  await page.getByLabel('Date of birth (optional)').fill('2013-05-01')
  await page.getByRole('button', { name: 'Open the case' }).click()
  const summary = page.locator('.govuk-error-summary')
  assert.match(await summary.innerText(), /choose under 18/)
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Sorina Neagu')
  await assertAccessible(page, 'the new case form with an error')
  await page.getByLabel('Date of birth (optional)').fill('2099-01-01')
  await page.getByRole('button', { name: 'Open the case' }).click()
  assert.match(await summary.innerText(), /date of birth must be today or in the past/)

  await page.getByLabel('Date of birth (optional)').fill('1995-01-01')
  await page.getByRole('button', { name: 'Open the case' }).click()
  await page.getByLabel('Referred to the NRM on').fill('2026-10-01')
  await page.getByLabel('Reasonable Grounds decision on').fill('2026-10-06')
  await page.getByRole('group', { name: 'Reasonable Grounds decision', exact: true }).getByLabel('Positive').check()
  await page.getByLabel('Conclusive Grounds decision on').fill('2026-10-02')
  await page.getByRole('group', { name: 'Conclusive Grounds decision', exact: true }).getByLabel('Positive').check()
  await page.getByRole('button', { name: 'Save decisions and dates' }).click()
  assert.match(await summary.innerText(), /The Conclusive Grounds decision must be after the Reasonable Grounds decision/)
  assert.equal(await page.getByLabel('Conclusive Grounds decision on').inputValue(), '2026-10-02', 'what was typed is shown again')
  await assertAccessible(page, 'the case page with a decision error')
  assert.match(await page.locator('#stage').innerText(), /Identified, not referred/, 'nothing was saved')
  await page.getByLabel('Link another report or intelligence record').fill('ZZZ-ZZZ-ZZZ')
  await page.getByRole('button', { name: 'Link', exact: true }).click()
  assert.match(await summary.innerText(), /Enter the reference of a report or intelligence record you can read/)
  assert.equal(await page.getByLabel('Link another report or intelligence record').inputValue(), 'ZZZ-ZZZ-ZZZ')

  await page.getByRole('button', { name: 'Start the referral' }).click()
  await page.goto(page.url() + '/exploitation')
  for (const kind of ['Sexual exploitation']) {
    const box = page.getByLabel(kind)
    if (await box.isChecked()) await box.uncheck()
  }
  await next(page)
  assert.match(await summary.innerText(), /Select at least one type of exploitation/)
  await context.close()
})

test('a charity sees only the people referred to it, and records the support it gives', async () => {
  // The council's referral (a child in the demo) is the one the charity must not open.
  const councilContext = await newContext(browser, { bypassCSP: true })
  const council = await councilContext.newPage()
  await signIn(council, server.url, COUNCIL)
  await council.getByRole('link', { name: 'Support referrals' }).click()
  const councilReferral = await council.locator('#referrals tbody a').first().getAttribute('href')
  await councilContext.close()

  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await signIn(page, server.url, CHARITY)
  assert.equal(await page.getByRole('link', { name: 'Safeguarding', exact: true }).count(), 0, 'a charity has no safeguarding dashboard')
  await page.getByRole('link', { name: 'Support referrals' }).click()
  assert.equal(await page.locator('h1').innerText(), 'People referred to you')
  await assertAccessible(page, 'the support portal')
  const rows = page.locator('#referrals tbody tr')
  const count = await rows.count()
  assert.ok(count >= 1)
  const pseudonyms = await rows.locator('a').allInnerTexts()
  await rows.first().locator('a').click()
  assert.ok(pseudonyms.includes(await page.locator('#pseudonym').innerText()))
  const shared = await page.locator('#shared').innerText()
  assert.match(shared, /Name/)
  assert.doesNotMatch(shared, /Date of birth|Nationality/, 'only what the referral gave')
  await assertAccessible(page, 'a support referral')

  await page.getByRole('button', { name: 'Record support' }).click()
  assert.match(await page.locator('.govuk-error-summary').innerText(), /Select the kind of support given/)
  await page.getByLabel('Legal advice').check()
  await page.getByLabel('Given on').fill(new Date().toISOString().slice(0, 10))
  await page.getByLabel('Note for the force (optional)').fill('Immigration advice appointment booked.')
  await page.getByRole('button', { name: 'Record support' }).click()
  assert.match(await page.locator('#given').innerText(), /Legal advice[\s\S]*Immigration advice appointment booked/)

  // Typing another organisation's referral or a case's address is refused.
  for (const address of [councilReferral, '/staff/victims', '/staff/victims/new']) {
    const response = await page.goto(server.url + address)
    assert.equal(response.status(), 403, `${address} is refused to the charity`)
  }
  await context.close()

  // The force sees what the charity recorded.
  const force = await lead()
  await force.page.goto(server.url + '/staff/victims')
  await force.page.locator('#cases a', { hasText: pseudonyms[0] }).click()
  assert.match(await force.page.locator('#support').locator('..').innerText(), /Legal advice/)
  await force.context.close()
})

test('statistics hold back small counts for a partner', async () => {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await signIn(page, server.url, CHARITY)
  await page.goto(server.url + '/staff/victims/statistics')
  assert.equal(await page.locator('h1').innerText(), 'Safeguarding statistics')
  assert.match(await page.locator('#suppressed').innerText(), /fewer than 11/)
  const cells = await page.locator('table td').allInnerTexts()
  assert.ok(cells.every((cell) => cell === '0' || cell === 'Fewer than 11' || Number(cell) >= 11), `no small count: ${cells}`)
  await assertAccessible(page, 'the statistics')

  // A quarter, chosen from the list, and every table downloaded as CSV and
  // as an OpenDocument spreadsheet with the same counts held back.
  const quarter = await page.locator('#quarter option').nth(1).getAttribute('value')
  await page.getByLabel('Period').selectOption(quarter)
  await page.getByRole('button', { name: 'Show' }).click()
  assert.match(await page.locator('#period').innerText(), /referrals made from (January to March|April to June|July to September|October to December) \d{4}/)
  assert.match(await page.locator('#shares').innerText(), /Reasonable Grounds decisions positive: (\d+%|not given \(too few decisions\))/)
  await assertAccessible(page, 'the statistics for a quarter')
  const csvLink = await page.getByRole('link', { name: 'CSV' }).getAttribute('href')
  assert.match(csvLink, new RegExp(`quarter=${quarter}`))
  const csv = await page.request.get(server.url + csvLink)
  assert.equal(csv.status(), 200)
  assert.match(csv.headers()['content-disposition'], new RegExp(`aidant-nrm-statistics-${quarter}\\.csv`))
  const rows = (await csv.text()).trim().split('\r\n')
  assert.equal(rows[0], '"Table","Row","Adult","Child"')
  assert.ok(rows.some((row) => row.startsWith('"Decisions made","Reasonable Grounds: positive"')))
  assert.ok(rows.slice(1).every((row) => row.split('","').slice(2).every((cell) => /^(0|Fewer than 11|\d{2,})"?$/.test(cell))), 'no small count in the CSV')
  const ods = await page.request.get(server.url + (await page.getByRole('link', { name: 'OpenDocument spreadsheet' }).getAttribute('href')))
  assert.equal(ods.status(), 200)
  assert.equal(ods.headers()['content-type'], 'application/vnd.oasis.opendocument.spreadsheet')
  const bytes = await ods.body()
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a zip file')
  assert.equal(bytes.subarray(30, 38).toString(), 'mimetype', 'whose first entry is its mimetype')
  assert.ok(bytes.includes(Buffer.from('application/vnd.oasis.opendocument.spreadsheet')))
  const bad = await page.goto(server.url + '/staff/victims/statistics?quarter=2026-Q9')
  assert.equal(bad.status(), 422, 'a quarter that is not one is refused plainly')
  await context.close()
})

test('the safeguarding lead publishes a k-anonymised and a synthetic file, each checked and in the disclosure log', async () => {
  const { context, page } = await lead()
  await page.goto(server.url + '/staff/victims/statistics')
  await assertAccessible(page, 'the statistics with publishing')
  for (const [kind, button] of [['k-anonymised', 'Publish the k-anonymised file'], ['synthetic', 'Publish the synthetic file']]) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()])
    assert.match(download.suggestedFilename(), new RegExp(`^aidant-victims-${kind}-\\d{4}-\\d{2}-\\d{2}\\.csv$`))
    const file = join(tmpdir(), `aidant-${process.pid}-${download.suggestedFilename()}`)
    await download.saveAs(file)
    const text = readFileSync(file, 'utf8')
    assert.match(text, /^yearOfRegistration,Datasource,gender,ageBroad,majorityStatus,/)
    // The independent check reads the file itself.
    const python = process.env.AIDANT_PYTHON ?? 'python3'
    const check = spawnSync(python, [new URL('../../scripts/check-k-anonymity.py', import.meta.url).pathname, file], { encoding: 'utf8' })
    if (kind === 'k-anonymised') assert.equal(check.status, 0, `${check.stdout}${check.stderr}`)
    assert.doesNotMatch(text, /Ana|Minh|Quenby|Rosie/, 'no name or address')
    rmSync(file)
  }
  await context.close()

  // The supervisor reads both in the disclosure log.
  const supervisor = await newContext(browser, { bypassCSP: true })
  const log = await supervisor.newPage()
  await signIn(log, server.url, 'supervisor@beds.police.example')
  await log.goto(server.url + '/staff/disclosures')
  const rows = await log.locator('#disclosures tbody tr').allInnerTexts()
  assert.ok(rows.some((row) => /The public/.test(row) && /k-anonymised: \d+ rows, \d+ people left out/.test(row)), rows.join('\n'))
  assert.ok(rows.some((row) => /The public/.test(row) && /synthetic \(ε = 1\): \d+ rows/.test(row)), rows.join('\n'))
  await assertAccessible(log, 'the disclosure log with publications')
  await supervisor.close()

  // Someone who may not publish is refused.
  const charity = await newContext(browser, { bypassCSP: true })
  const partner = await charity.newPage()
  await signIn(partner, server.url, CHARITY)
  await partner.goto(server.url + '/staff/victims/statistics')
  assert.equal(await partner.getByRole('button', { name: 'Publish the k-anonymised file' }).count(), 0)
  await charity.close()
})

test("the server's log, at its most detailed, names no one the tests identified", async () => {
  const log = server.stderr()
  assert.ok(log.length > 1000, 'the server logged the requests')
  for (const name of ['Valentina', 'Zamfir', 'Alina', 'Georgescu', 'Mirela', 'Constantin', 'Lan Hoang', 'Ionela', 'Sorina', 'Neagu', '1999-03-02', '1990-08-20', 'Immigration advice']) {
    assert.ok(!log.includes(name), `${name} is in the server's log`)
  }
})
