// Retention review, clicked through as a supervisor would on a fresh demo
// whose review period is one month (so the demo's older cases are due): the
// queue lists them, a decision without a reason is refused field by field,
// one case is kept for a reason and leaves the queue, another is deleted
// only once the deletion is confirmed and cannot be opened afterwards, and
// the audit log and the safeguarding lead's dashboard agree. Other roles
// see no such page. Every page is checked with axe-core.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, signIn, axeViolations } from './helpers.mjs'

let server
let browser
before(async () => {
  server = await startServer({ staff: true, reports: 100, settings: { AIDANT_RETENTION: '{victim_cases_months=1, reports_months=1}' } })
  browser = await launchBrowser()
})
after(async () => { await browser?.close(); await server?.stop() })

const SUPERVISOR = 'supervisor@beds.police.example'
const LEAD = 'safeguarding.lead@beds.police.example'

async function assertAccessible (page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe-core on ${what}`)
}

async function as (email) {
  const context = await newContext(browser, { bypassCSP: true })
  const page = await context.newPage()
  await signIn(page, server.url, email)
  return { context, page }
}

const CASE = "Potential victim's case"
const REPORT = 'Public report'

/** The names of the records of one kind in the queue's table, in order. */
async function queued (page, kind = CASE) {
  const rows = await page.locator('table tbody tr').evaluateAll((rows) =>
    rows.map((row) => [row.querySelector('th').innerText, row.querySelector('td').innerText]))
  return rows.filter(([, rowKind]) => rowKind === kind).map(([name]) => name)
}

test('a supervisor keeps one due case for a reason and deletes another once confirmed', async () => {
  const { context, page } = await as(SUPERVISOR)
  await page.getByRole('link', { name: 'Retention review' }).click()
  assert.equal(await page.locator('h1').innerText(), 'Retention review')
  await assertAccessible(page, 'the retention queue')
  const due = await queued(page)
  assert.ok(due.length >= 3, `the demo's cases opened over a month ago are due: ${due}`)
  const caption = await page.locator('table caption').innerText()
  const total = Number(/^(\d+) records due for review/.exec(caption)?.[1])
  assert.ok(total >= due.length + 1, `the caption counts every kind: ${caption}`)
  const [toKeep, toDelete] = due

  // Keep: a reason is required.
  await page.getByRole('link', { name: `Review ${toKeep}` }).click()
  assert.equal(await page.locator('h1').innerText(), `Review ${toKeep}`)
  await assertAccessible(page, 'a case to review')
  await page.getByRole('button', { name: 'Keep the record' }).click()
  assert.equal(await page.locator('.govuk-error-summary a').innerText(), 'Choose why the record must be kept')
  await assertAccessible(page, 'the review with an error')
  await page.getByLabel('A safeguarding concern for the person remains').check()
  await page.getByRole('button', { name: 'Keep the record' }).click()
  const banner = await page.locator('.govuk-notification-banner').innerText()
  assert.match(banner, new RegExp(`${toKeep} is kept\\. It will be reviewed again on \\d{1,2} \\w+ \\d{4}\\.`))
  assert.ok(!(await queued(page)).includes(toKeep), 'a kept case leaves the queue until its next review')

  // Delete: a reason and a confirmation are required.
  await page.getByRole('link', { name: `Review ${toDelete}` }).click()
  await page.getByLabel('The review period passed with no further concern').check()
  await page.getByRole('button', { name: 'Delete the record' }).click()
  assert.equal(await page.locator('.govuk-error-summary a').innerText(), 'Confirm that the record and everything in it will be deleted for good')
  await page.getByLabel('The review period passed with no further concern').check()
  await page.getByLabel(`I understand that ${toDelete} and everything in it will be deleted for good`).check()
  await page.getByRole('button', { name: 'Delete the record' }).click()
  assert.match(await page.locator('.govuk-notification-banner').innerText(), new RegExp(`${toDelete} is deleted`))
  const after = await queued(page)
  assert.ok(!after.includes(toDelete) && !after.includes(toKeep))
  assert.equal(after.length, due.length - 2)
  await assertAccessible(page, 'the queue after a deletion')
  await context.close()

  // The safeguarding lead no longer finds the deleted case, and still finds the kept one.
  const lead = await as(LEAD)
  await lead.page.goto(server.url + '/staff/victims')
  const dashboard = await lead.page.locator('main').innerText()
  assert.ok(dashboard.includes(toKeep), 'the kept case is on the dashboard')
  assert.ok(!dashboard.includes(toDelete), 'the deleted case is gone from the dashboard')
  await lead.context.close()

  // The audit log records the decisions with their reasons, and verifies.
  const verify = server.run(['audit', 'verify'])
  assert.match(verify, /audit chain OK/)
})

test('a supervisor deletes a public report past its review date, and no one can open it after', async () => {
  const { context, page } = await as(SUPERVISOR)
  await page.goto(server.url + '/staff/retention')
  const reports = await queued(page, REPORT)
  assert.ok(reports.length > 0, 'the demo reports received over a month ago are due')
  const [reference] = reports
  await page.getByRole('link', { name: `Review ${reference}` }).click()
  assert.equal(await page.locator('h1').innerText(), `Review ${reference}`)
  await assertAccessible(page, 'a report to review')
  const reportPage = await page.getByRole('link', { name: 'Read the record' }).getAttribute('href')
  assert.match(reportPage, /^\/staff\/reports\/[0-9a-f-]{36}$/)
  await page.getByLabel('No longer needed for a policing purpose').check()
  await page.getByLabel(`I understand that ${reference} and everything in it will be deleted for good`).check()
  await page.getByRole('button', { name: 'Delete the record' }).click()
  assert.match(await page.locator('.govuk-notification-banner').innerText(), new RegExp(`${reference} is deleted`))
  assert.ok(!(await queued(page, REPORT)).includes(reference))
  const gone = await page.goto(server.url + reportPage)
  assert.equal(gone.status(), 404, 'the deleted report cannot be opened')
  await context.close()

  const handler = await as('call.handler@beds.police.example')
  await handler.page.goto(server.url + '/staff/search?q=' + encodeURIComponent(reference))
  assert.ok(!(await handler.page.locator('main').innerText()).includes(reference), 'search no longer finds it')
  await handler.context.close()
  assert.match(server.run(['audit', 'verify']), /audit chain OK/)
})

test('no one but a supervisor reviews what the force keeps', async () => {
  for (const email of [LEAD, 'analyst@beds.police.example', 'partner@glaa.example']) {
    const { context, page } = await as(email)
    assert.equal(await page.getByRole('link', { name: 'Retention review' }).count(), 0, `${email} sees no retention link`)
    const response = await page.goto(server.url + '/staff/retention')
    assert.equal(response.status(), 403, `${email} is refused the queue`)
    await context.close()
  }
})
