// Refresh-token rotation as GoTrue's and Auth0's tests check it: reuse revokes
// the family, the immediate predecessor within the grace gets the very same
// successor, parallel refreshes yield one successor, and a revoked session's
// access tokens fail at once, on this api copy and on another.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { useTestApp } from '../helpers/app.ts'
import { bearer, signUp } from '../helpers/auth.ts'

const ctx = await useTestApp({
  env: { AUTH_RATE_LIMIT_MAX: '1000', SESSION_IDLE_TTL: '100', SESSION_ABSOLUTE_TTL: '250' },
})
const { app } = ctx

afterEach(() => ctx.clock.reset())

async function refresh(refreshToken: string) {
  return app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })
}

async function rotate(refreshToken: string): Promise<string> {
  const response = await refresh(refreshToken)
  expect(response.statusCode).toBe(200)
  return response.json().refreshToken
}

describe('rotation', () => {
  it('replaying the first of four tokens → token_reused, and all four are dead', async () => {
    const s = await signUp(app)
    const me = () => app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    expect((await me()).statusCode).toBe(200)
    const t0 = s.refreshToken
    const t1 = await rotate(t0)
    const t2 = await rotate(t1)
    const t3 = await rotate(t2)
    expect(new Set([t0, t1, t2, t3]).size).toBe(4)

    const replay = await refresh(t0)
    expect(replay.statusCode).toBe(401)
    expect(replay.json().code).toBe('token_reused')
    for (const token of [t0, t1, t2, t3]) {
      expect((await refresh(token)).statusCode).toBe(401)
    }
    // The access token of that session fails at once, although its cache entry was warm.
    const after = await me()
    expect(after.statusCode).toBe(401)
    expect(after.json().code).toBe('invalid_token')
    const [event] = await ctx.sql`
      select action, actor_user_id from audit_events where action = 'auth.token_reused' and actor_user_id = ${s.user.id}`
    expect(event).toBeDefined()
  })

  it('the predecessor replayed within the grace gets the same successor, byte for byte', async () => {
    const s = await signUp(app)
    const t1 = await rotate(s.refreshToken)
    ctx.clock.advance(9_000)
    const again = await refresh(s.refreshToken)
    expect(again.statusCode).toBe(200)
    expect(again.json().refreshToken).toBe(t1)
    // ...and the successor still rotates normally.
    const t2 = await rotate(t1)
    expect(t2).not.toBe(t1)
    // t0 is now two generations back: reuse, even inside the grace.
    const old = await refresh(s.refreshToken)
    expect(old.json().code).toBe('token_reused')
  })

  it('the predecessor replayed after the grace is reuse', async () => {
    const s = await signUp(app)
    const t1 = await rotate(s.refreshToken)
    ctx.clock.advance(11_000)
    const late = await refresh(s.refreshToken)
    expect(late.statusCode).toBe(401)
    expect(late.json().code).toBe('token_reused')
    expect((await refresh(t1)).statusCode).toBe(401)
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    expect(me.statusCode).toBe(401)
  })

  it('20 parallel refreshes with one token yield one successor and no reuse alarm', async () => {
    const s = await signUp(app)
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(s.refreshToken)))
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200))
    const successors = new Set(responses.map((r) => r.json().refreshToken))
    expect(successors.size).toBe(1)
    const [session] = await ctx.sql`
      select s.revoked_at, count(t.*)::int as tokens
      from sessions s join refresh_tokens t on t.session_id = s.id
      where s.user_id = ${s.user.id} group by s.id`
    expect(session).toEqual({ revoked_at: null, tokens: 2 })
  })

  it('an idle session cannot refresh, and sliding never passes the absolute limit', async () => {
    const idle = await signUp(app)
    ctx.clock.advance(101_000)
    expect((await refresh(idle.refreshToken)).statusCode).toBe(401)
    ctx.clock.reset()

    const s = await signUp(app)
    ctx.clock.advance(90_000)
    const t1 = await rotate(s.refreshToken)
    ctx.clock.advance(90_000)
    const t2 = await rotate(t1)
    ctx.clock.advance(90_000)
    const late = await refresh(t2)
    expect(late.statusCode).toBe(401)
    expect(late.json().code).toBe('invalid_token')
    // The access token's session is past its absolute end too.
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    expect(me.statusCode).toBe(401)
  })

  it('a refresh token is not an access token, nor an access token a refresh token', async () => {
    const s = await signUp(app)
    const asAccess = await app.inject({ url: '/v1/auth/me', headers: bearer(s.refreshToken) })
    expect(asAccess.statusCode).toBe(401)
    // An access JWT is longer than any refresh token: refused by the schema already.
    expect((await refresh(s.accessToken)).json().code).toBe('validation_failed')
    const lookalike = await refresh(s.accessToken.slice(0, 43))
    expect(lookalike.statusCode).toBe(401)
  })
})

describe('revocation across api copies', () => {
  it("clears another copy's cached session at once through Redis", async () => {
    const other = await buildApp(ctx.config)
    await other.ready()
    try {
      const s = await signUp(app)
      const me = () => other.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
      expect((await me()).statusCode).toBe(200)
      const started = Date.now()
      const out = await app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: bearer(s.accessToken),
      })
      expect(out.statusCode).toBe(204)
      // Well inside the cache TTL (30 s): only the pub/sub message can explain it.
      await vi.waitFor(async () => expect((await me()).statusCode).toBe(401), {
        timeout: 2_000,
        interval: 10,
      })
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      await other.close()
    }
  })
})
