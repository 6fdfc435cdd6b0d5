// Refresh-token reuse wherever it shows up (issue 11, item 12): a logout that
// presents an already-rotated refresh token is reuse (the family is revoked,
// 401 token_reused), never a quiet logout; and reuse, found by refresh or by
// logout, is written into the audit log of every tenant the user belongs to.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { bearer, cookieHeader, type SignedIn, signUp } from '../helpers/auth.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000' } })
const { app } = ctx
const browser = { origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site' }

const slug = () => `t${randomBytes(5).toString('hex')}`

/** A user who belongs to two tenants, and a third tenant of someone else. */
async function memberOfTwo() {
  const s = await signUp(app, { tenant: { name: 'First', slug: slug() } })
  const second = await app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: bearer(s.accessToken),
    payload: { name: 'Second', slug: slug() },
  })
  expect(second.statusCode, second.body).toBe(201)
  const stranger = await signUp(app, { tenant: { name: 'Other', slug: slug() } })
  const tenants = await ctx.sql<{ tenant_id: string; user_id: string }[]>`
    select tenant_id, user_id from memberships where user_id in (${s.user.id}, ${stranger.user.id})`
  const mine = tenants.filter((t) => t.user_id === s.user.id).map((t) => t.tenant_id)
  const other = tenants.find((t) => t.user_id === stranger.user.id)!.tenant_id
  expect(mine).toHaveLength(2)
  return { s, mine, other }
}

async function rotate(refreshToken: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/refresh',
    payload: { refreshToken },
  })
  expect(res.statusCode).toBe(200)
  return res.json().refreshToken
}

async function reuseEvents(userId: string) {
  return ctx.sql<{ tenant_id: string | null; data: { via: string } }[]>`
    select tenant_id, data from audit_events
    where action = 'auth.token_reused' and actor_user_id = ${userId}`
}

function expectReuseRecorded(
  events: Awaited<ReturnType<typeof reuseEvents>>,
  mine: string[],
  other: string,
  via: string,
) {
  const tenants = events.map((e) => e.tenant_id)
  expect(tenants.sort()).toEqual([...mine, null].sort())
  expect(tenants).not.toContain(other)
  for (const e of events) expect(e.data.via).toBe(via)
}

async function sessionRevokedReason(s: SignedIn) {
  const [row] = await ctx.sql<{ revoked_reason: string | null }[]>`
    select revoked_reason from sessions where user_id = ${s.user.id}`
  return row?.revoked_reason
}

describe('logout with an already-rotated refresh token', () => {
  it('by body: revokes the family, answers 401 token_reused, audits it in each tenant', async () => {
    const { s, mine, other } = await memberOfTwo()
    const newest = await rotate(s.refreshToken)
    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      payload: { refreshToken: s.refreshToken },
    })
    expect(out.statusCode).toBe(401)
    expect(out.json().code).toBe('token_reused')
    expect(await sessionRevokedReason(s)).toBe('token_reused')
    const refreshed = await app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: newest },
    })
    expect(refreshed.statusCode).toBe(401)
    expectReuseRecorded(await reuseEvents(s.user.id), mine, other, 'logout')
    // Nothing recorded it as an ordinary logout.
    const [logout] = await ctx.sql`
      select 1 from audit_events where action = 'auth.session_revoked' and actor_user_id = ${s.user.id}`
    expect(logout).toBeUndefined()
  })

  it('by the refresh cookie alone: the same, and the cookies are cleared', async () => {
    const s = await signUp(app)
    await rotate(s.refreshToken)
    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { ...cookieHeader({ dp_refresh: s.cookies.dp_refresh! }), ...browser },
    })
    expect(out.statusCode).toBe(401)
    expect(out.json().code).toBe('token_reused')
    const cleared = out.cookies.filter((c) => c.value === '').map((c) => c.name)
    expect(cleared).toEqual(expect.arrayContaining(['dp_access', 'dp_refresh', 'dp_csrf']))
    expect(await sessionRevokedReason(s)).toBe('token_reused')
  })

  it('even when a valid access token authenticates the logout', async () => {
    const s = await signUp(app)
    await rotate(s.refreshToken)
    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: bearer(s.accessToken),
      payload: { refreshToken: s.refreshToken },
    })
    expect(out.statusCode).toBe(401)
    expect(out.json().code).toBe('token_reused')
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    expect(me.statusCode).toBe(401)
  })

  it('the newest refresh token still logs out quietly (204)', async () => {
    const s = await signUp(app)
    const newest = await rotate(s.refreshToken)
    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      payload: { refreshToken: newest },
    })
    expect(out.statusCode).toBe(204)
    expect(await sessionRevokedReason(s)).toBe('logout')
    expect(await reuseEvents(s.user.id)).toHaveLength(0)
  })
})

describe('reuse found by /v1/auth/refresh', () => {
  it('is audited in every tenant the user belongs to, and in no other', async () => {
    const { s, mine, other } = await memberOfTwo()
    await rotate(s.refreshToken)
    ctx.clock.advance(60_000)
    try {
      const replay = await app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: s.refreshToken },
      })
      expect(replay.statusCode).toBe(401)
      expect(replay.json().code).toBe('token_reused')
    } finally {
      ctx.clock.reset()
    }
    expectReuseRecorded(await reuseEvents(s.user.id), mine, other, 'refresh')
    // And a tenant admin reads it through the API.
    const log = await app.inject({
      url: '/v1/audit-events?action=auth.token_reused',
      headers: { ...bearer((await relogin(s)).accessToken), 'x-tenant-id': mine[0]! },
    })
    expect(log.statusCode, log.body).toBe(200)
    expect(log.json().data.map((e: { action: string }) => e.action)).toContain('auth.token_reused')
  })
})

async function relogin(s: SignedIn) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: s.email, password: s.password },
  })
  expect(res.statusCode).toBe(200)
  return res.json() as { accessToken: string }
}
