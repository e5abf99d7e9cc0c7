// A real OpenID Connect provider for the single sign-on tests: the npm
// package oidc-provider (OpenID Certified), run in this process on a port
// of its own, with one confidential client (Aidant) and people whose groups
// a test can change while it runs, as a force's directory administrator
// would. Its sign-in pages are the package's development interactions: a
// login name and any password, then a consent page.
import { createServer } from 'node:http'
import { once } from 'node:events'
import Provider from 'oidc-provider'

export const CLIENT_ID = 'aidant-e2e'
export const CLIENT_SECRET = 'a-client-secret-only-these-tests-use-0123456789'

/** A free port on this machine, for a server that must be named before it starts. */
export async function freePort () {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

/**
 * Starts the provider. `people` maps a login name to
 * `{ email, name, groups }`; the returned `people` map is live, so a test
 * can take someone out of a group. `redirectUri` is Aidant's callback.
 */
export async function startIdentityProvider ({ people, redirectUri }) {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const issuer = `http://127.0.0.1:${server.address().port}`
  const directory = new Map(Object.entries(people))
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic'
    }],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups']
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    pkce: { required: () => true },
    cookies: { keys: ['aidant-e2e-cookie-key-not-secret'] },
    async findAccount (ctx, id) {
      if (!directory.has(id)) return undefined
      return {
        accountId: id,
        async claims () {
          const person = directory.get(id)
          return { sub: id, email: person.email, email_verified: true, name: person.name, groups: [...person.groups] }
        }
      }
    }
  })
  server.on('request', provider.callback())
  return {
    issuer,
    people: directory,
    async stop () {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    }
  }
}
