// Invitations as a newcomer writes them: the role by name or by id (exactly
// one, with errors that say how to fix the request), and an acceptance that
// creates the account answering like signup (tokens in the body, cookies set).
import { describe, expect, it } from 'vitest'
import { hashToken } from '../../src/lib/tokens.ts'
import { useTestApp } from '../helpers/app.ts'
import { bearer, cookieHeader, responseCookies, signUp } from '../helpers/auth.ts'
import { createTestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '10000' } })
const { app } = ctx
const acme = await createTestTenant(ctx)

const invitationsFor = (email: string) =>
  ctx.sql`select id from invitations where tenant_id = ${acme.id} and lower(email) = ${email}`

const invite = (payload: Record<string, unknown>, headers = acme.admin.headers) =>
  app.inject({ method: 'POST', url: '/v1/invitations', headers, payload })

describe('the role of an invitation', () => {
  it('is taken by name, in any case, or by id', async () => {
    const byName = await invite({ email: 'by-name@example.com', role: 'customer' })
    expect(byName.statusCode, byName.body).toBe(201)
    expect(byName.json().role).toEqual({ id: acme.roles.customer, name: 'customer' })
    const anyCase = await invite({ email: 'any-case@example.com', role: 'Agent' })
    expect(anyCase.statusCode, anyCase.body).toBe(201)
    expect(anyCase.json().role).toEqual({ id: acme.roles.agent, name: 'agent' })
    const custom = await app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: acme.owner.headers,
      payload: { name: 'Tier 2', permissions: ['tickets:read_all'] },
    })
    const byCustomName = await invite({ email: 'tier2@example.com', role: 'tier 2' })
    expect(byCustomName.statusCode, byCustomName.body).toBe(201)
    expect(byCustomName.json().role.id).toBe(custom.json().id)
    const byId = await invite({ email: 'by-id@example.com', roleId: acme.roles.customer })
    expect(byId.statusCode, byId.body).toBe(201)
  })

  it('needs exactly one of role and roleId', async () => {
    const neither = await invite({ email: 'neither@example.com' })
    expect(neither.statusCode).toBe(400)
    expect(neither.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'body/role' }],
    })
    expect(neither.json().detail).toMatch(/role \(its name, e\.g\. "customer"\) or roleId/)
    const both = await invite({
      email: 'both@example.com',
      role: 'customer',
      roleId: acme.roles.customer,
    })
    expect(both.statusCode).toBe(400)
    expect(both.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'body/roleId', message: 'send role or roleId, not both' }],
    })
    expect(await invitationsFor('neither@example.com')).toHaveLength(0)
    expect(await invitationsFor('both@example.com')).toHaveLength(0)
  })

  it('answers an unknown name with the roles there are', async () => {
    const res = await invite({ email: 'unknown-role@example.com', role: 'superuser' })
    expect(res.statusCode).toBe(422)
    expect(res.json().code).toBe('unknown_role')
    expect(res.json().errors).toEqual([
      {
        path: 'body/role',
        message: expect.stringMatching(/^must be one of owner, admin, agent, customer/),
      },
    ])
    expect(await invitationsFor('unknown-role@example.com')).toHaveLength(0)
  })

  it('by name is granted under the same rules as by id', async () => {
    const res = await invite({ email: 'would-be-owner@example.com', role: 'owner' })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('owner_required')
    const customer = await invite(
      { email: 'would-be-admin@example.com', role: 'admin' },
      acme.agent.headers,
    )
    expect(customer.statusCode).toBe(403)
    expect(await invitationsFor('would-be-owner@example.com')).toHaveLength(0)
    expect(await invitationsFor('would-be-admin@example.com')).toHaveLength(0)
  })
})

describe('accepting an invitation as a new account', () => {
  async function invitation(email: string) {
    const res = await invite({ email, role: 'customer' })
    expect(res.statusCode, res.body).toBe(201)
    const token = `signin-token-${res.json().id}`
    await ctx.sql`update invitations set token_hash = ${hashToken(token)} where id = ${res.json().id}`
    return token
  }

  it('signs the account in as signup does: tokens in the body, the same cookies', async () => {
    const email = `signed-in-${Date.now()}@example.com`
    const token = await invitation(email)
    const accepted = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token, name: 'New Customer', password: 'a long and unusual passphrase 7' },
    })
    expect(accepted.statusCode, accepted.body).toBe(201)
    const body = accepted.json()
    expect(body).toMatchObject({
      tenant: { id: acme.id },
      roleId: acme.roles.customer,
      user: { email, name: 'New Customer', emailVerified: true, isPlatformAdmin: false },
      expiresIn: ctx.config.ACCESS_TOKEN_TTL,
      tokenType: 'Bearer',
    })
    expect(body.userId).toBe(body.user.id)

    const signup = await signUp(app)
    const signupKeys = Object.keys(signup).filter(
      (k) => !['email', 'password', 'cookies'].includes(k),
    )
    for (const key of signupKeys) expect(body, key).toHaveProperty(key)

    const cookies = responseCookies(accepted)
    const shape = (all: typeof cookies) =>
      Object.fromEntries(
        Object.values(all).map((c) => [
          c.name,
          { path: c.path, httpOnly: c.httpOnly, sameSite: c.sameSite, secure: c.secure },
        ]),
      )
    expect(shape(cookies)).toEqual(shape(signup.cookies))
    expect(cookies.dp_access?.value).toBe(body.accessToken)
    expect(cookies.dp_refresh?.value).toBe(body.refreshToken)

    const tenant = await app.inject({
      url: '/v1/tenant',
      headers: { ...bearer(body.accessToken), 'x-tenant-id': acme.slug },
    })
    expect(tenant.statusCode).toBe(200)
    const byCookie = await app.inject({ url: '/v1/auth/me', headers: cookieHeader(cookies) })
    expect(byCookie.json().user.id).toBe(body.userId)
    const refreshed = await app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: body.refreshToken },
    })
    expect(refreshed.statusCode).toBe(200)
  })

  it('refuses a cross-origin acceptance that would sign a browser in, writing nothing', async () => {
    const email = `cross-site-${Date.now()}@example.com`
    const token = await invitation(email)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      payload: { token, name: 'Victim', password: 'a long and unusual passphrase 7' },
    })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('csrf_failed')
    expect(res.cookies).toHaveLength(0)
    expect(await ctx.sql`select id from users where email = ${email}`).toHaveLength(0)
  })
})
