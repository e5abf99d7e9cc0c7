// Single sign-on, clicked through against a real OpenID Connect provider
// (oidc-provider from npm, OpenID Certified, started here): an analyst whose
// directory groups allow Aidant signs in through the provider and lands in
// the workspace with the role the group gives; someone in no such group is
// refused; when the directory administrator takes the analyst out of the
// group, the next sign-in is refused and the session they still had ends
// with it; an answer that did not start in this browser is refused; and an
// organisation without a provider still signs in with a password.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, launchBrowser, newContext, signIn, axeViolations } from './helpers.mjs'
import { startIdentityProvider, freePort, CLIENT_ID, CLIENT_SECRET } from './identity_provider.mjs'

let server
let browser
let provider

before(async () => {
  const port = await freePort()
  const aidant = `http://127.0.0.1:${port}`
  provider = await startIdentityProvider({
    redirectUri: `${aidant}/staff/sign-in/sso/beds/callback`,
    people: {
      ada: { email: 'ada.lovelace@beds.police.example', name: 'Ada Lovelace', groups: ['all-staff', 'aidant-analysts'] },
      eve: { email: 'eve.example@beds.police.example', name: 'Eve Example', groups: ['all-staff'] }
    }
  })
  const providers = `[{ name = "beds", label = "Bedfordshire Police", issuer = "${provider.issuer}", client_id = "${CLIENT_ID}", ` +
    `client_secret = "${CLIENT_SECRET}", scopes = ["groups"], groups = [` +
    '{ group = "aidant-analysts", organisation = "Bedfordshire Police", roles = ["analyst"] }, ' +
    '{ group = "aidant-supervisors", organisation = "Bedfordshire Police", roles = ["supervisor"] }] }]'
  server = await startServer({
    staff: true,
    settings: { AIDANT_LISTEN: `127.0.0.1:${port}`, AIDANT_PUBLIC_URL: aidant, AIDANT_SINGLE_SIGN_ON: providers }
  })
  browser = await launchBrowser()
})
after(async () => { await browser?.close(); await server?.stop(); await provider?.stop() })

async function freshPage () {
  const context = await newContext(browser, { bypassCSP: true })
  // The provider's development pages ask for a web font; there is no internet here.
  await context.route('https://fonts.googleapis.com/**', (route) => route.abort())
  return { context, page: await context.newPage() }
}

/** From Aidant's sign-in page through the provider's pages and back.
 *  Answers whether the provider asked for a password: a browser that
 *  already signed in there comes straight back (that is single sign-on). */
async function signInThroughProvider (page, login) {
  await page.goto(server.url + '/staff/sign-in')
  await page.getByRole('button', { name: 'Sign in with Bedfordshire Police' }).click()
  const askedForPassword = page.url().startsWith(provider.issuer)
  if (askedForPassword) {
    await page.locator('input[name="login"]').fill(login)
    await page.locator('input[name="password"]').fill('any password the development pages accept')
    await page.getByRole('button', { name: 'Sign-in' }).click()
    await page.getByRole('button', { name: 'Continue' }).click()
  }
  await page.waitForURL((url) => url.href.startsWith(server.url))
  await page.waitForLoadState('load')
  return askedForPassword
}

test('an analyst signs in through the provider and works as the analyst their group makes them', async () => {
  const { context, page } = await freshPage()
  await page.goto(server.url + '/staff/sign-in')
  assert.deepEqual(await axeViolations(page), [], 'axe-core on the sign-in page with a provider')
  assert.equal(await signInThroughProvider(page, 'ada'), true, 'the provider asked who this is')
  await page.waitForURL(server.url + '/staff')
  const banner = await page.getByText('Signed in as').innerText()
  assert.match(banner, /Ada Lovelace, Bedfordshire Police \(Analyst\)/)
  assert.deepEqual(await axeViolations(page), [], 'axe-core on the workspace after single sign-on')
  // The analyst's search works; the administrator's pages do not.
  await page.getByRole('link', { name: 'Search' }).first().click()
  assert.equal(new URL(page.url()).pathname, '/staff/search')
  const admin = await page.goto(server.url + '/staff/admin/users')
  assert.equal(admin.status(), 403)
  // The account has no password: the password form does not open it.
  const other = await freshPage()
  await signIn(other.page, server.url, 'ada.lovelace@beds.police.example', 'any password the development pages accept')
  assert.match(await other.page.locator('.govuk-error-summary').innerText(), /Enter a correct email address and password/)
  await other.context.close()
  await context.close()
})

test('someone in no group that may use Aidant is refused and given no account', async () => {
  const { context, page } = await freshPage()
  await signInThroughProvider(page, 'eve')
  assert.equal(new URL(page.url()).pathname, '/staff/sign-in/sso/beds/callback')
  assert.match(await page.locator('.govuk-error-summary').innerText(), /not in a group that may use Aidant/)
  assert.deepEqual(await axeViolations(page), [], 'axe-core on the refusal')
  const queue = await page.goto(server.url + '/staff')
  assert.equal(new URL(queue.url()).pathname, '/staff/sign-in', 'no session was opened')
  await context.close()
})

test('taken out of the group, the analyst is refused at the next sign-in and their open session ends with it', async () => {
  const first = await freshPage()
  await signInThroughProvider(first.page, 'ada')
  await first.page.waitForURL(server.url + '/staff')

  provider.people.get('ada').groups = ['all-staff']
  // Aidant does not ask the provider on every request: until the next
  // sign-in, the open session is still the analyst's.
  await first.page.reload()
  assert.equal(new URL(first.page.url()).pathname, '/staff')

  const second = await freshPage()
  await signInThroughProvider(second.page, 'ada')
  assert.match(await second.page.locator('.govuk-error-summary').innerText(), /not in a group that may use Aidant/)
  await first.page.reload()
  assert.equal(new URL(first.page.url()).pathname, '/staff/sign-in', 'the refusal ended the session opened before it')

  // Back in a group (now as a supervisor): the same account, the new role.
  provider.people.get('ada').groups = ['aidant-supervisors']
  assert.equal(await signInThroughProvider(second.page, 'ada'), false, 'still signed in at the provider, so no password asked')
  await second.page.waitForURL(server.url + '/staff')
  assert.match(await second.page.getByText('Signed in as').innerText(), /Ada Lovelace, Bedfordshire Police \(Supervisor\)/)
  await first.context.close()
  await second.context.close()
})

test('an answer from the provider that this browser did not ask for is refused', async () => {
  const { context, page } = await freshPage()
  const response = await page.goto(server.url + '/staff/sign-in/sso/beds/callback?code=stolen-code&state=forged')
  assert.equal(response.status(), 422)
  assert.match(await page.locator('.govuk-error-summary').innerText(), /took too long or was started in another window/)
  const unknown = await page.goto(server.url + '/staff/sign-in/sso/elsewhere')
  assert.equal(unknown.status(), 404)
  await context.close()
})

test('an organisation without a provider still signs in with a password', async () => {
  const { context, page } = await freshPage()
  await signIn(page, server.url, 'partner@glaa.example')
  await page.waitForURL((url) => url.pathname.startsWith('/staff'))
  assert.match(await page.getByText('Signed in as').innerText(), /Gangmasters and Labour Abuse Authority/)
  await context.close()
})
