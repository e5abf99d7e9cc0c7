// The seed's week, end to end, on a fresh demo and on each backend: one
// story through the whole chain, acted by each person in turn, as they
// would click through it. A member of the public reports a nail bar on a
// phone; the call handler triages it; the analyst follows its phone to the
// planted organised crime group and shares sanitised intelligence with the
// GLAA, who sees that and nothing else; the supervisor plans a day of
// action; an officer records it offline on a phone; the safeguarding lead
// refers the two people safeguarded (an NRM referral and a Duty to Notify)
// and the charity sees only its referral; the debrief, the dashboard and
// the published statistics count it; the reporter reads the reply; and the
// audit log verifies and holds every step.
//
// Each step is named: a failure says which step broke first. Axe-core
// checks every page the story visits. The screenshots are the README's
// tour: `scripts/tour` runs this test with AIDANT_TOUR_DIR set to write
// them into docs/screenshots/tour, and the test checks that the README
// shows exactly the pictures it takes, in its order.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServer, launchBrowser, newContext, signIn, assertAccessible, answerTheStory, saveAndContinue as saveReferralPage } from './helpers.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const BACKENDS = (process.env.AIDANT_WEEK_BACKENDS ?? 'sqlite,postgres').split(',')
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, bypassCSP: true }
const DESK = { viewport: { width: 1100, height: 860 }, bypassCSP: true }

const GROUP_PHONE = '+447700900123'
const OPERATION = 'Day of action: Star Nails and Toddington Services'
const GLAA = 'Gangmasters and Labour Abuse Authority'
const NARRATIVE = 'Three young women work at Star Nails from nine until late. They seem to live upstairs and never go out alone. ' +
  'The manager answered every question for them. A card on the counter says to book on 07700 900123.'
const SANITISED = 'Workers at Star Nails, Luton, appear to live above the shop and to be controlled by the manager. ' +
  'The shop is linked to an organised crime group under investigation. Visit with the GLAA under its licensing powers.'

/** The pictures the test takes, in the story's order: the README's tour. */
const TOUR = [
  '01-report-on-a-phone', '02-reference-and-passphrase', '03-queue', '04-report-triaged', '05-phone-entity', '06-link-chart',
  '07-group', '08-intelligence-for-the-glaa', '09-glaa-sees-the-record', '10-day-of-action-planned', '11-field-app-offline',
  '12-board', '13-case-from-the-field', '14-nrm-referral', '15-duty-to-notify', '16-charity-referral', '17-debrief',
  '18-dashboard', '19-hotspot-map', '20-statistics', '21-reporter-reads-the-reply', '22-audit-trail'
]

let browser
before(async () => { browser = await launchBrowser() })
after(async () => { await browser?.close() })

test("the README's tour shows the pictures this test takes, in its order", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const shown = [...readme.matchAll(/docs\/screenshots\/tour\/([0-9]{2}-[a-z0-9-]+)\.png/g)].map((match) => match[1])
  assert.deepEqual(shown, TOUR, 'the README tour lists every picture once, in the order the story takes them')
  for (const name of TOUR) assert.ok(existsSync(join(root, 'docs', 'screenshots', 'tour', `${name}.png`)), `${name}.png is in docs/screenshots/tour`)
})

/** Runs the story's steps in order; the first to fail names itself. */
function storyteller (t) {
  let number = 0
  return async function step (name, body) {
    number += 1
    try {
      await body()
    } catch (error) {
      throw new Error(`step ${number}, "${name}", broke: ${error.message}`, { cause: error })
    }
    t.diagnostic(`step ${number} done: ${name}`)
  }
}

/** Rows of the audit log after `sequence`, read from the database itself,
 *  as [action, e-mail of the user who acted or the actor]. */
function auditSince (server, backend, sequence) {
  const query = `SELECT a.action, COALESCE(u.email, a.actor) FROM audit_log a LEFT JOIN users u ON a.actor = 'user:' || u.id WHERE a.sequence > ${Number(sequence)} ORDER BY a.sequence`
  const result = backend === 'postgres'
    ? spawnSync('psql', [server.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-AtF', '\t', '-c', query], { encoding: 'utf8' })
    : spawnSync(process.env.AIDANT_PYTHON ?? 'python3', ['-c', 'import sqlite3, sys\nfor row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("\\t".join(row))', join(server.dataDir, 'aidant.db'), query], { encoding: 'utf8' })
  assert.equal(result.status, 0, `reading the audit log: ${result.stderr}`)
  return result.stdout.trim().split('\n').filter(Boolean).map((line) => line.split('\t'))
}

/** The counts of a dashboard table, by row. */
async function tableCounts (page, id) {
  const rows = await page.locator(`#${id} tbody tr`).evaluateAll((trs) => trs.map((tr) => [tr.children[0].innerText.trim(), Number(tr.children[1].innerText.replace(/,/g, ''))]))
  return Object.fromEntries(rows)
}

function today () {
  return new Date().toISOString().slice(0, 10)
}

for (const backend of BACKENDS) {
  test(`the seed's week, from a public report to honest figures, on ${backend}`, { timeout: 900000 }, async (t) => {
    const server = await startServer({ staff: true, reports: 150, backend })
    const shots = backend === BACKENDS[0] && process.env.AIDANT_TOUR_DIR ? process.env.AIDANT_TOUR_DIR : mkdtempSync(join(tmpdir(), 'aidant-tour-'))
    const contexts = []
    const open = async (options) => { const context = await newContext(browser, options); contexts.push(context); return context }
    let signInChecked = false
    const as = async (email, options = DESK) => {
      const page = await (await open(options)).newPage()
      if (!signInChecked) {
        await page.goto(server.url + '/staff/sign-in')
        await assertAccessible(page, 'the sign-in page')
        signInChecked = true
      }
      await signIn(page, server.url, email)
      return page
    }
    // A picture of the page from `focus` (by default the page's main
    // content, below the header) down, as far as the window reaches.
    const shot = async (page, name, focus = page.locator('main')) => {
      assert.ok(TOUR.includes(name), `${name} is in the tour`)
      await focus.first().evaluate((element) => element.scrollIntoView({ block: 'start' }))
      await page.screenshot({ path: join(shots, `${name}.png`) })
    }
    const step = storyteller(t)
    const checkpoint = join(server.dataDir, 'before-the-week.json')
    server.run(['audit', 'checkpoint', '--out', checkpoint])
    const startedAt = JSON.parse(readFileSync(checkpoint, 'utf8')).sequence
    assert.ok(Number.isInteger(startedAt), 'the checkpoint names the last entry of the demo')
    try {
      let reference, passphrase, reportUrl, intelligenceUrl, intelligenceReference, operationUrl, supervisor, board
      let before, consenting, refusing

      await step('a member of the public, on a phone, reports a nail bar anonymously and keeps the reference and passphrase', async () => {
        const page = await (await open(PHONE)).newPage()
        await page.goto(server.url + '/')
        await assertAccessible(page, 'the start page on a phone')
        await page.getByRole('button', { name: 'Hide this message' }).click()
        await page.getByRole('button', { name: 'Start now' }).click()
        const answer = async (what, fill) => { await assertAccessible(page, what); await fill(); await page.getByRole('button', { name: 'Continue' }).click() }
        await answer('the danger question', () => page.getByLabel('No').check())
        await answer('the kind of place', () => page.getByLabel('A nail bar or beauty salon').check())
        await answer('where it was', async () => {
          await page.getByLabel('Town or area').fill('Luton')
          await page.getByLabel('Business name (if there is one)').fill('Star Nails')
        })
        await answer('the signs', async () => {
          await page.getByLabel('Workers seem to live at the place, or above it').check()
          await page.getByLabel('A manager or boss seems to control or frighten the workers').check()
        })
        await answer('the people', async () => {
          await page.getByLabel('How many people did you see who may be exploited?').fill('3')
          await page.getByLabel('18 to 24').check()
        })
        await answer('the vehicles', async () => {
          await page.getByLabel('Registration number').fill('LJ15')
          await page.getByLabel('Description').fill('White van that collects the women at night; I only saw the start of the plate')
        })
        await answer('what happened', () => page.getByLabel('In your own words, tell us what you saw or heard').fill(NARRATIVE))
        await answer('the contact question', async () => {
          await page.getByLabel('No, I want to stay anonymous').check()
          await page.getByLabel('Give me a reference and passphrase so I can come back to add information or read a reply').check()
        })
        assert.equal(await page.locator('h1').innerText(), 'Check your answers before sending your report')
        assert.match(await page.locator('.govuk-summary-list').innerText(), /LJ15[\s\S]*07700 900123/)
        await assertAccessible(page, 'check your answers')
        await shot(page, '01-report-on-a-phone')
        await page.getByRole('button', { name: 'Send report' }).click()
        assert.equal(await page.locator('h1').innerText(), 'Report sent')
        reference = await page.getByTestId('reference').innerText()
        passphrase = await page.getByTestId('passphrase').innerText()
        assert.match(passphrase, /^[a-z]+(-[a-z]+){3}$/)
        await assertAccessible(page, 'the reference and passphrase')
        await shot(page, '02-reference-and-passphrase')
        await page.context().close()
      })

      await step('the call handler finds it at the top of the queue, triages it and replies', async () => {
        const page = await as('call.handler@beds.police.example')
        assert.equal(await page.locator('h1').innerText(), 'Triage queue')
        await page.getByLabel('Order').selectOption({ label: 'Newest first' })
        await page.getByRole('button', { name: 'Apply filters' }).click()
        const top = page.locator('#queue tbody tr').first()
        assert.match(await top.innerText(), new RegExp(`${reference}[\\s\\S]*Not opened[\\s\\S]*Nail bars`))
        await assertAccessible(page, 'the triage queue')
        await shot(page, '03-queue', page.locator('#queue-total'))
        await top.getByRole('link', { name: reference }).click()
        reportUrl = page.url()
        assert.match(await page.locator('#narrative').innerText(), /07700 900123/)
        assert.match(await page.locator('#triage-reasons').innerText(), /./)
        await assertAccessible(page, 'the report')
        const analyst = await page.locator('#assignee-select option', { hasText: 'Demo Analyst' }).getAttribute('value')
        await page.getByLabel('Assign to').selectOption(analyst)
        await page.getByRole('button', { name: 'Assign' }).click()
        assert.equal(await page.locator('#assignee').innerText(), 'Demo Analyst')
        await page.getByLabel('Set status').selectOption('in_review')
        await page.getByRole('button', { name: 'Save status' }).click()
        assert.equal(await page.locator('#status').innerText(), 'In review')
        await page.getByLabel('Reply to the reporter').fill('Thank you for telling us. Specialist officers are looking into this. If you see anything else, add it here.')
        await page.getByRole('button', { name: 'Send reply' }).click()
        assert.match(await page.locator('.aidant-messages').innerText(), /Specialist officers are looking into this/)
        await assertAccessible(page, 'the triaged report')
        await shot(page, '04-report-triaged')
        await page.context().close()
      })

      await step('the analyst follows the phone to the planted group, opens the link chart and the group view, and shares sanitised intelligence with the GLAA', async () => {
        const page = await as('analyst@beds.police.example')
        await page.getByLabel('Assigned to').selectOption({ label: 'Me' })
        await page.getByRole('button', { name: 'Apply filters' }).click()
        const assigned = page.locator('#queue tbody tr', { hasText: reference })
        assert.equal(await assigned.count(), 1, 'the report is in the analyst\'s own list')
        await assertAccessible(page, 'the queue of reports assigned to the analyst')
        // The entity worker reads each new report in the background; the
        // phone is on the report's page once it has (without a reload).
        const deadline = Date.now() + 20000
        while (!(await (await page.request.get(reportUrl)).text()).includes(GROUP_PHONE)) {
          if (Date.now() > deadline) throw new Error('the report\'s phone was not found within 20 s')
          await page.waitForTimeout(250)
        }
        await assigned.getByRole('link', { name: reference }).click()
        await page.locator('#entities').getByRole('link', { name: new RegExp(GROUP_PHONE.replace('+', '\\+')) }).click()
        assert.equal(await page.locator('h1').innerText(), GROUP_PHONE)
        assert.ok(Number(await page.locator('#entity-records').innerText()) >= 2, 'the phone was named before this report')
        assert.match(await page.locator('#mentions').innerText(), new RegExp(reference))
        assert.match(await page.locator('#related').innerText(), /Dumitru|DUMITRU/, 'the phone is tied to the group\'s controller')
        await assertAccessible(page, 'the phone\'s entity page')
        await shot(page, '05-phone-entity')

        await page.getByRole('link', { name: 'Open in a link chart' }).click()
        await page.waitForSelector('#link-chart[data-ready="true"]', { timeout: 20000 })
        const entities = page.locator('#link-chart-entities tbody tr')
        assert.equal(await entities.count(), 1)
        await entities.first().getByRole('button', { name: /^Expand/ }).click()
        await page.waitForFunction(() => document.querySelectorAll('#link-chart-entities tbody tr').length > 1, null, { timeout: 20000 })
        assert.match(await page.locator('#link-chart-entities').innerText(), /Star Nails/)
        await assertAccessible(page, 'the link chart')
        await shot(page, '06-link-chart')

        await page.getByRole('link', { name: 'Groups', exact: true }).click()
        const groupDeadline = Date.now() + 30000
        let group
        for (;;) {
          await page.getByRole('button', { name: 'Find groups' }).click()
          group = page.locator('section.aidant-group').filter({ hasText: GROUP_PHONE })
          if (await group.count() > 0) break
          if (Date.now() > groupDeadline) throw new Error('no group holds the phone: ' + await page.locator('main').innerText())
          await page.waitForTimeout(500)
        }
        assert.match(await group.first().locator('[id$="-key"]').innerText(), /Key players: [\s\S]*(Dumitru|DUMITRU)/)
        await assertAccessible(page, 'the group view')
        await shot(page, '07-group', group)

        await page.goto(reportUrl)
        await page.getByRole('button', { name: 'Develop into intelligence' }).click()
        await assertAccessible(page, 'the new intelligence form')
        await page.getByLabel('Title').fill('Star Nails, Luton: workers controlled by the manager')
        await page.getByLabel('Source evaluation', { exact: true }).selectOption('2')
        await page.getByLabel('Intelligence assessment', { exact: true }).selectOption('B')
        await page.getByLabel('Handling code', { exact: true }).selectOption('C')
        await page.getByLabel('Handling conditions (for C)').fill('GLAA only, for the day of action')
        await page.getByRole('group', { name: 'Organisations the conditions allow (for C)' }).getByLabel(GLAA).check()
        await page.getByRole('group', { name: 'Share it now with (optional)' }).getByLabel(GLAA).check()
        await page.getByLabel('No onward sharing by recipients').check()
        await page.getByLabel('Sanitised intelligence').fill(SANITISED)
        await page.getByLabel('Who the source is (optional)').fill('Anonymous member of the public, online report')
        await page.getByRole('button', { name: 'Save intelligence' }).click()
        assert.equal(await page.locator('#grading').innerText(), '2 B C')
        assert.match(await page.locator('#shares').innerText(), new RegExp(GLAA))
        intelligenceUrl = page.url()
        intelligenceReference = (await page.locator('.govuk-caption-l').first().innerText()).match(/INT-[A-Z0-9-]+/)[0]
        await assertAccessible(page, 'the intelligence record')
        await shot(page, '08-intelligence-for-the-glaa')
        await page.context().close()
      })

      await step('the GLAA officer sees that record and nothing else of the report', async () => {
        const page = await as('partner@glaa.example')
        assert.equal(await page.locator('h1').innerText(), 'Intelligence')
        await assertAccessible(page, 'the intelligence the GLAA was sent')
        await page.getByRole('link', { name: intelligenceReference }).click()
        assert.equal(page.url(), intelligenceUrl)
        assert.match(await page.locator('#sanitised').innerText(), /controlled by the manager/)
        const shown = await page.locator('main').innerText()
        assert.doesNotMatch(shown, /Anonymous member of the public/, 'the source stays with the force')
        assert.doesNotMatch(shown, new RegExp(reference), 'the report it came from is not named')
        assert.equal(await page.getByRole('button', { name: 'Open source details' }).count(), 0)
        await assertAccessible(page, 'the shared record, as the GLAA sees it')
        await shot(page, '09-glaa-sees-the-record')
        const refused = await page.goto(reportUrl)
        assert.ok([403, 404].includes(refused.status()), `the report itself is refused (${refused.status()})`)
        assert.doesNotMatch(await page.locator('main').innerText(), /never go out alone/)
        await assertAccessible(page, 'the refusal of the report')
        await page.getByRole('link', { name: 'Search' }).click()
        await page.getByLabel('Search reports and intelligence').fill('never go out alone')
        await page.getByRole('button', { name: 'Search' }).click()
        assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(reference), 'search finds nothing of the report')
        await assertAccessible(page, 'search, as the GLAA')
        await page.context().close()
      })

      await step('the supervisor plans the day of action at the nail bar and Toddington Services with the GLAA, NCA and Immigration Enforcement', async () => {
        supervisor = await as('supervisor@beds.police.example')
        const page = supervisor
        await page.getByRole('link', { name: 'Dashboards' }).click()
        before = { operations: await tableCounts(page, 'operations-table'), victims: await tableCounts(page, 'victims-table') }
        await assertAccessible(page, 'the dashboards before the day')
        await page.getByRole('link', { name: 'Operations', exact: true }).click()
        assert.match(await page.locator('#operations').innerText(), /Toddington Services, second day[\s\S]*Planned/, 'the demo has a day in planning')
        await assertAccessible(page, 'the operations')
        await page.getByRole('button', { name: 'Plan an operation' }).click()
        await assertAccessible(page, 'the plan form')
        await page.getByLabel('Name').fill(OPERATION)
        await page.getByLabel('First day').fill(today())
        await page.getByLabel('Last day').fill(today())
        for (const agency of [GLAA, 'National Crime Agency', 'Immigration Enforcement']) await page.getByLabel(agency).check()
        await page.getByRole('button', { name: 'Plan the operation' }).click()
        assert.equal(await page.locator('h1').innerText(), OPERATION)
        operationUrl = page.url()
        await page.getByLabel("Site's name").fill('Star Nails')
        await page.getByLabel('Kind of place').selectOption({ label: 'A nail bar or beauty salon' })
        await page.getByLabel('Postcode (optional)').fill('LU1 2NX')
        await page.getByLabel('Why it was chosen').fill('A public report this week; its booking phone belongs to the group.')
        await page.getByLabel('The reports and intelligence behind it (optional)').fill(`${reference}\n${intelligenceReference}`)
        await page.getByRole('button', { name: 'Add the site' }).click()
        await page.getByLabel("Site's name").fill('Toddington Services')
        await page.getByLabel('Kind of place').selectOption({ label: 'A lorry, or motorway services' })
        await page.getByLabel('Postcode (optional)').fill('LU5 6HR')
        await page.getByLabel('Why it was chosen').fill('The group collects new arrivals from lorries in the northbound lorry park.')
        await page.getByRole('button', { name: 'Add the site' }).click()
        const sites = await page.locator('#site-list').innerText()
        assert.match(sites, /Star Nails[\s\S]*LU1 2NX[\s\S]*Toddington Services[\s\S]*LU5 6HR/)
        for (const behind of [`Report ${reference}`, `Intelligence ${intelligenceReference}`]) {
          assert.match(sites, new RegExp(`Star Nails[^\n]*\nBehind it: [^\n]*${behind}`), `the plan links ${behind} behind the nail bar: ${sites}`)
        }
        const team = async (name, site, members) => {
          await page.getByLabel("Team's name").fill(name)
          await page.getByRole('group', { name: 'Sites it covers' }).getByLabel(site).check()
          for (const member of members) await page.getByRole('group', { name: 'Members' }).getByLabel(member).check()
          await page.getByRole('button', { name: 'Add the team' }).click()
        }
        await team('Nail bar visit', 'Star Nails', ['Demo Officer, Bedfordshire Police', /Demo Partner, Gangmasters/])
        await team('Lorry checks', 'Toddington Services', ['Demo Officer, Bedfordshire Police', /Demo Partner, National Crime Agency/, /Demo Partner, Immigration Enforcement/])
        assert.match(await page.locator('#team-list').innerText(), /Nail bar visit[\s\S]*Gangmasters[\s\S]*Lorry checks[\s\S]*Immigration Enforcement/)
        await assertAccessible(page, 'the plan')
        await shot(page, '10-day-of-action-planned', page.locator('#site-list'))
        // The nail-bar team's briefing links the report and intelligence behind the site.
        await page.locator('#team-list').getByRole('link', { name: /^Nail bar visit/ }).click()
        const behind = await page.locator('main').innerText()
        assert.match(behind, new RegExp(`${reference}[\\s\\S]*${intelligenceReference}|${intelligenceReference}[\\s\\S]*${reference}`))
        await assertAccessible(page, 'the team\'s briefing')
      })

      await step('the field officer, on a phone with the network cut, records a premises visit, two people safeguarded and a lorry stop, which arrive once', async () => {
        board = await (await open(DESK)).newPage()
        await signIn(board, server.url, 'supervisor@beds.police.example')
        await board.goto(operationUrl + '/board')
        assert.equal(await board.locator('#record-rows tr').count(), 0)
        await assertAccessible(board, 'the empty board')

        const context = await open(PHONE)
        const phone = await context.newPage()
        await signIn(phone, server.url, 'officer@beds.police.example')
        await phone.getByRole('link', { name: 'Operations', exact: true }).click()
        await phone.getByRole('link', { name: 'the field app' }).click()
        await phone.locator('h1', { hasText: 'Choose your team' }).waitFor()
        await phone.evaluate(() => navigator.serviceWorker.ready)
        await assertAccessible(phone, 'the field app\'s choice of team')
        await phone.locator('[data-choose]', { hasText: OPERATION }).filter({ hasText: 'Nail bar visit' }).click()
        // What is kept on the phone (across its teams), once a save has finished.
        const kept = (count) => phone.waitForFunction((n) => document.querySelectorAll('#records [data-state]').length === n, count, { timeout: 10000 })
        const sent = []
        phone.on('request', (request) => { if (request.url().endsWith('/records') && request.method() === 'POST') sent.push(request.url()) })
        await context.setOffline(true)
        await phone.getByRole('button', { name: 'Premises visit' }).click()
        await assertAccessible(phone, 'a premises visit, offline')
        await phone.getByLabel('Business').fill('Star Nails')
        await phone.getByLabel('How many people spoken to').fill('4')
        await phone.getByLabel('Someone else holds people’s passports or identity documents').check()
        await phone.getByLabel('People live on the premises').check()
        await phone.getByRole('group', { name: 'How it ended' }).getByLabel(/^Action taken/).check()
        await phone.getByRole('button', { name: 'Save' }).click()
        await kept(1)
        await phone.getByRole('button', { name: 'People safeguarded' }).click()
        await assertAccessible(phone, 'people safeguarded, offline')
        await phone.getByLabel('How many people were safeguarded').fill('2')
        await phone.getByLabel('Nationalities (optional)').fill('Romanian')
        await phone.getByRole('button', { name: 'Save' }).click()
        await kept(2)
        await phone.getByRole('button', { name: 'Change team' }).click()
        await phone.locator('[data-choose]', { hasText: OPERATION }).filter({ hasText: 'Lorry checks' }).click()
        await phone.getByRole('button', { name: 'Vehicle stop' }).click()
        await assertAccessible(phone, 'a vehicle stop, offline')
        await phone.getByLabel('Registration').fill('LK19 TRK')
        await phone.getByLabel('Vehicle (optional)').fill('White curtain-sided lorry')
        await phone.getByLabel('How many people in the vehicle, driver included').fill('5')
        await phone.getByLabel('18 to 24').check()
        await phone.getByLabel('Nationalities (optional)').fill('Romanian')
        await phone.getByRole('group', { name: 'How it ended' }).getByLabel('Concerns: follow up').check()
        await phone.getByRole('button', { name: 'Save' }).click()
        await phone.locator('#records [data-state="waiting"]').first().waitFor()
        assert.match(await phone.locator('#field-status').innerText(), /No signal[\s\S]*3 records are waiting/)
        assert.equal(sent.length, 0, 'nothing left the phone without signal')
        await assertAccessible(phone, 'the field app with records waiting')
        await shot(phone, '11-field-app-offline')

        await context.setOffline(false)
        await phone.waitForFunction(() => document.querySelectorAll('#records [data-state="waiting"]').length === 0, null, { timeout: 30000 })
        await board.waitForFunction(() => document.querySelectorAll('#record-rows tr').length === 3, null, { timeout: 30000 })
        const totals = async (team, kind) => board.locator('#by-team tr', { hasText: team }).locator(`[data-kind="${kind}"]`).innerText()
        assert.deepEqual([await totals('Nail bar visit', 'premises_visit'), await totals('Nail bar visit', 'safeguarded'), await totals('Lorry checks', 'vehicle_stop')], ['1', '2', '1'])
        // Sending again (the app's own retry) stores nothing twice.
        await phone.evaluate(() => window.dispatchEvent(new Event('online')))
        await phone.waitForTimeout(1000)
        await board.reload()
        assert.equal(await board.locator('#record-rows tr').count(), 3, 'each record is on the board once')
        await assertAccessible(board, 'the board')
        await shot(board, '12-board')
        await context.close()
      })

      await step('from the board, the supervisor opens a case for each person safeguarded', async () => {
        const openCase = async (name) => {
          await board.locator('#record-rows tr', { hasText: 'People safeguarded' }).getByRole('link', { name: /Open a potential victim's case/ }).click()
          assert.match(await board.locator('main').innerText(), new RegExp(`From ${OPERATION}: People safeguarded, Star Nails`))
          await assertAccessible(board, 'a case opened from the field')
          await board.getByRole('group', { name: 'How old is the person?' }).getByLabel('18 or over', { exact: true }).check()
          await board.getByLabel('Name', { exact: true }).fill(name)
          await board.getByRole('button', { name: 'Open the case' }).click()
          const pseudonym = await board.locator('#pseudonym').innerText()
          assert.match(pseudonym, /^PV-\d\d-\d{4}$/)
          assert.match(await board.locator('#links').innerText(), new RegExp(`Operation's field record: ${OPERATION}`))
          return { pseudonym, url: board.url() }
        }
        consenting = await openCase('Elena Marin')
        await assertAccessible(board, 'the new case')
        await shot(board, '13-case-from-the-field')
        await board.getByRole('link', { name: 'Operations', exact: true }).click()
        await board.getByRole('link', { name: `Board of ${OPERATION}` }).click()
        refusing = await openCase('Daria Stan')
        assert.notEqual(refusing.pseudonym, consenting.pseudonym)
      })

      await step('the safeguarding lead refers the adult who consents into the NRM and to the charity, and makes a Duty to Notify for the one who does not', async () => {
        const page = await as('safeguarding.lead@beds.police.example')
        await page.getByRole('link', { name: 'Safeguarding', exact: true }).click()
        await assertAccessible(page, 'the safeguarding dashboard')
        const beginReferral = async (who) => {
          await page.getByRole('link', { name: 'Safeguarding', exact: true }).click()
          await page.locator('#cases').getByRole('link', { name: who.pseudonym }).click()
          await assertAccessible(page, 'the case')
          await page.getByRole('button', { name: 'Start the referral' }).click()
          await assertAccessible(page, 'the referral\'s check page')
          await page.getByRole('button', { name: 'Start' }).click()
          await assertAccessible(page, 'who makes the referral')
          await page.getByLabel('Your role').fill('Safeguarding lead')
          await saveAndContinue(page)
          await assertAccessible(page, 'the person\'s age')
          await saveAndContinue(page)
          await assertAccessible(page, 'the consent question')
        }
        // Saves a page; a page that refuses its answers fails with its messages.
        const saveAndContinue = async (page) => {
          const from = await page.locator('h1').innerText()
          await saveReferralPage(page)
          const summary = page.locator('.govuk-error-summary')
          if (await summary.count() > 0) throw new Error(`"${from}" refused its answers: ${await summary.innerText()}`)
        }
        const checked = (page) => assertAccessible(page, `the referral page "${page.url().split('/').pop()}"`)
        await beginReferral(consenting)
        await page.getByLabel('Yes', { exact: true }).check()
        await saveAndContinue(page)
        assert.equal(await page.getByLabel('Full name').inputValue(), 'Elena Marin')
        await checked(page)
        const aboutHer = async () => {
          await page.getByRole('group', { name: 'Gender' }).getByLabel('Female').check()
          await page.getByLabel('Nationality').fill('Romanian')
        }
        await aboutHer()
        await saveAndContinue(page)
        await answerTheStory(page, { onPage: checked })
        await page.getByLabel('Support the person needs (optional)').fill('Safe accommodation and a Romanian interpreter.')
        await checked(page)
        await saveAndContinue(page)
        await assertAccessible(page, 'the referral to check before it is completed')
        await page.getByRole('button', { name: 'Complete the referral' }).click()
        assert.match(await page.locator('#completed').innerText(), /Referral completed/)
        await assertAccessible(page, 'the completed referral')
        await shot(page, '14-nrm-referral')
        await page.goto(consenting.url)
        const charity = await page.locator('#organisation option', { hasText: 'Justice and Care' }).getAttribute('value')
        await page.getByLabel('Refer to').selectOption(charity)
        await page.getByLabel('Name (identifies the person)').check()
        await page.getByLabel('Support needed').check()
        await page.getByRole('button', { name: 'Refer for support' }).click()
        assert.match(await page.locator('#support').locator('..').innerText(), /Justice and Care/)
        await assertAccessible(page, 'the case referred for support')

        await beginReferral(refusing)
        await page.getByLabel('No', { exact: true }).check()
        await saveAndContinue(page)
        await checked(page)
        await aboutHer()
        await saveAndContinue(page)
        await answerTheStory(page, { onPage: checked })
        assert.match(await page.locator('h1').innerText(), /Duty to Notify/)
        assert.doesNotMatch(await page.locator('main').innerText(), /Daria|Stan\b/, 'the Duty to Notify names nobody')
        await assertAccessible(page, 'the Duty to Notify to check before it is completed')
        await page.getByRole('button', { name: 'Complete the Duty to Notify' }).click()
        assert.match(await page.locator('#completed').innerText(), /Duty to Notify completed/)
        await assertAccessible(page, 'the completed Duty to Notify')
        await shot(page, '15-duty-to-notify')
        await page.context().close()
      })

      await step('the charity sees only its referral', async () => {
        const page = await as('partner@justiceandcare.example')
        await page.getByRole('link', { name: 'Support referrals' }).click()
        const listed = await page.locator('#referrals').innerText()
        assert.match(listed, new RegExp(consenting.pseudonym))
        assert.doesNotMatch(listed, new RegExp(refusing.pseudonym), 'the person who did not consent is not referred')
        await assertAccessible(page, 'the support portal')
        await page.locator('#referrals').getByRole('link', { name: consenting.pseudonym }).click()
        const shared = await page.locator('#shared').innerText()
        assert.match(shared, /Elena Marin/)
        assert.doesNotMatch(shared, /Nationality|Date of birth/, 'only what the referral gave')
        await assertAccessible(page, 'the referral, as the charity sees it')
        await shot(page, '16-charity-referral')
        for (const address of [refusing.url, consenting.url, reportUrl, intelligenceUrl]) {
          const response = await page.goto(address)
          assert.ok([403, 404].includes(response.status()), `${address} is refused to the charity (${response.status()})`)
        }
        await assertAccessible(page, 'a refusal, as the charity sees it')
        await page.context().close()
      })

      await step('the debrief shows the totals, the dashboard counts them, and the published statistics contain no group smaller than 11', async () => {
        const page = supervisor
        await page.getByRole('link', { name: 'Operations', exact: true }).click()
        await page.getByRole('link', { name: `Debrief of ${OPERATION}` }).click()
        const total = async (name) => Number(await page.locator(`[data-total="${name}"]`).innerText())
        assert.deepEqual([await total('vehicles_stopped'), await total('premises_visited'), await total('people_safeguarded')], [1, 1, 2])
        const summary = await page.getByLabel(/Press summary/).inputValue()
        assert.match(summary, /stopped 1 vehicle/)
        assert.doesNotMatch(summary, /Elena|Marin|Daria|PV-|Demo/, 'the draft names no one')
        await assertAccessible(page, 'the debrief')
        await shot(page, '17-debrief')

        await page.getByRole('link', { name: 'Dashboards' }).click()
        const operations = await tableCounts(page, 'operations-table')
        const victims = await tableCounts(page, 'victims-table')
        const grew = (table, then, row) => (table[row] ?? 0) - (then[row] ?? 0)
        assert.deepEqual([grew(operations, before.operations, 'Vehicles stopped'), grew(operations, before.operations, 'Premises visited'), grew(operations, before.operations, 'People safeguarded')], [1, 1, 2])
        assert.equal(grew(victims, before.victims, 'Referred, awaiting Reasonable Grounds'), 1)
        assert.equal(grew(victims, before.victims, 'Duty to Notify sent (anonymous)'), 1)
        await assertAccessible(page, 'the dashboards')
        await shot(page, '18-dashboard', page.locator('#operations-heading'))
        // The hotspot map places the day's sites among the reports.
        await page.getByRole('link', { name: 'See where reports came from on the hotspot map' }).click()
        await page.locator('#hotspot-map .aidant-site-marker').first().waitFor()
        const sites = await page.locator('#sites-table').innerText()
        assert.match(sites, new RegExp(`Star Nails[\\s\\S]*LU1 2NX[\\s\\S]*${OPERATION}`))
        assert.match(sites, new RegExp(`Toddington Services[\\s\\S]*LU5 6HR[\\s\\S]*${OPERATION}`))
        const markers = await page.locator('#hotspot-map .aidant-site-marker').evaluateAll((found) => found.map((marker) => marker.getAttribute('title')))
        assert.ok(markers.some((title) => title.startsWith(`Star Nails (${OPERATION}`)), `the nail bar is on the map: ${markers}`)
        await assertAccessible(page, 'the hotspot map')
        await shot(page, '19-hotspot-map')

        // The safeguarding lead publishes the k-anonymised file; an
        // independent reader finds no group of fewer than 11 in it.
        const lead = await as('safeguarding.lead@beds.police.example')
        await lead.getByRole('link', { name: 'Safeguarding', exact: true }).click()
        await lead.getByRole('link', { name: 'Statistics' }).click()
        await assertAccessible(lead, 'the statistics, as the force sees them')
        const [download] = await Promise.all([lead.waitForEvent('download'), lead.getByRole('button', { name: 'Publish the k-anonymised file' }).click()])
        const file = join(server.dataDir, 'published.csv')
        await download.saveAs(file)
        const check = spawnSync(process.env.AIDANT_PYTHON ?? 'python3', [join(root, 'scripts', 'check-k-anonymity.py'), file, '--k', '11'], { encoding: 'utf8' })
        assert.equal(check.status, 0, `the independent check of the published file: ${check.stdout}${check.stderr}`)
        assert.doesNotMatch(readFileSync(file, 'utf8'), /Elena|Marin|Daria/)
        // The statistics partners read hold back every count under 11.
        const partner = await as('partner@justiceandcare.example')
        await partner.getByRole('link', { name: 'Support referrals' }).click()
        await partner.getByRole('link', { name: 'safeguarding statistics' }).click()
        const cells = await partner.locator('table td').allInnerTexts()
        assert.ok(cells.length > 0 && cells.every((cell) => cell === '0' || cell === 'Fewer than 11' || Number(cell.replace(/,/g, '')) >= 11), `no group smaller than 11: ${cells}`)
        assert.ok(cells.includes('Fewer than 11'), 'the demo\'s small counts are held back')
        await assertAccessible(partner, 'the statistics, as a partner sees them')
        await shot(partner, '20-statistics')
        await lead.context().close()
      })

      await step('the reporter returns with the passphrase and reads the reply', async () => {
        const page = await (await open(PHONE)).newPage()
        await page.goto(server.url + '/')
        await page.getByRole('link', { name: 'Come back to a report' }).click()
        await assertAccessible(page, 'coming back to a report')
        await page.getByLabel('Reference').fill(reference)
        await page.getByLabel('Passphrase').fill(passphrase)
        await page.getByRole('button', { name: 'Continue' }).click()
        assert.equal(await page.locator('h1').innerText(), 'Your report')
        assert.match(await page.locator('main').innerText(), /Specialist officers are looking into this/)
        await assertAccessible(page, 'the reporter\'s report and reply')
        await shot(page, '21-reporter-reads-the-reply')
        await page.context().close()
      })

      await step('the audit log verifies and records every step', async () => {
        const page = supervisor
        await page.goto(reportUrl)
        await assertAccessible(page, 'the report, as the supervisor sees it')
        await page.getByRole('link', { name: 'Full audit trail, including every view' }).click()
        const trail = await page.locator('main').innerText()
        for (const seen of ['Report received (report.create)', 'Report assigned', 'Report status changed', 'Replied to the reporter', 'The reporter read their report', 'Demo Call handler', 'Demo Analyst']) {
          assert.ok(trail.includes(seen), `the report's audit trail shows "${seen}": ${trail}`)
        }
        await assertAccessible(page, 'the report\'s audit trail')
        await shot(page, '22-audit-trail')

        const verified = server.run(['audit', 'verify', '--checkpoint', checkpoint])
        assert.match(verified, /audit chain OK/)
        const done = auditSince(server, backend, startedAt).map(([action, who]) => `${who} ${action}`)
        for (const expected of [
          'call.handler@beds.police.example report.view', 'call.handler@beds.police.example report.assign',
          'call.handler@beds.police.example report.status', 'call.handler@beds.police.example report.staff_reply',
          'analyst@beds.police.example entity.view', 'analyst@beds.police.example chart.view', 'analyst@beds.police.example network.analyse',
          'analyst@beds.police.example intelligence.create', 'analyst@beds.police.example intelligence.share',
          'partner@glaa.example intelligence.view', 'partner@glaa.example access.denied',
          'supervisor@beds.police.example operation.plan', 'supervisor@beds.police.example operation.change',
          'officer@beds.police.example operation.sync', 'supervisor@beds.police.example operation.board',
          'supervisor@beds.police.example victim.create', 'safeguarding.lead@beds.police.example referral.complete',
          'safeguarding.lead@beds.police.example support.refer', 'partner@justiceandcare.example support.referral_view',
          'partner@justiceandcare.example access.denied', 'supervisor@beds.police.example operation.debrief',
          'supervisor@beds.police.example insight.view', 'safeguarding.lead@beds.police.example publication.make'
        ]) {
          assert.ok(done.includes(expected), `the audit log holds "${expected}"`)
        }
        assert.ok(done.some((entry) => entry.endsWith(' report.create')), 'the report\'s receipt is in the log')
        assert.ok(done.some((entry) => entry.endsWith(' report.reporter_view')), 'the reporter\'s reading is in the log')
      })
    } finally {
      for (const context of contexts) await context.close().catch(() => {})
      await server.stop()
      if (!process.env.AIDANT_TOUR_DIR || backend !== BACKENDS[0]) rmSync(shots, { recursive: true, force: true })
    }
  })
}
