// Password reset and email verification tokens: single-use, expiring, bound to
// their purpose; a reset sets the password and revokes every session. The
// tokens are minted by the email job; here they are arranged as rows directly
// (only their SHA-256 hash is stored), exactly as the job stores them.
import { afterEach, describe, expect, it } from 'vitest'
import { hashToken, randomToken } from '../../src/lib/tokens.ts'
import { useTestApp } from '../helpers/app.ts'
import { bearer, logIn, signUp } from '../helpers/auth.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000' } })
const { app } = ctx

afterEach(() => ctx.clock.reset())

async function mint(userId: string, purpose: 'password_reset' | 'verify_email', minutes = 30) {
  const raw = randomToken()
  await ctx.sql`
    insert into user_tokens (id, user_id, purpose, token_hash, expires_at)
    values (gen_random_uuid(), ${userId}, ${purpose}, ${hashToken(raw)}, now() + ${`${minutes} minutes`}::interval)`
  return raw
}

const reset = (token: string, password: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/password/reset', payload: { token, password } })
const verify = (token: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/email/verify', payload: { token } })

describe('password reset', () => {
  it('sets the password, revokes every session, and works once', async () => {
    const s = await signUp(app)
    const second = await logIn(app, s.email)
    const token = await mint(s.user.id, 'password_reset')

    const weak = await reset(token, 'password1234')
    expect(weak.statusCode).toBe(400)
    expect(weak.json().code).toBe('weak_password')

    const done = await reset(token, 'a brand new long passphrase')
    expect(done.statusCode).toBe(204)
    for (const session of [s, second]) {
      const me = await app.inject({ url: '/v1/auth/me', headers: bearer(session.accessToken) })
      expect(me.statusCode).toBe(401)
      const refreshed = await app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: session.refreshToken },
      })
      expect(refreshed.statusCode).toBe(401)
    }
    const old = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: s.email, password: s.password },
    })
    expect(old.statusCode).toBe(401)
    await logIn(app, s.email, 'a brand new long passphrase')

    const again = await reset(token, 'yet another long passphrase')
    expect(again.statusCode).toBe(400)
    expect(again.json().code).toBe('invalid_or_expired_token')
    const [event] = await ctx.sql`
      select data from audit_events where action = 'auth.password_reset' and actor_user_id = ${s.user.id}`
    expect(event?.data).toEqual({ revokedSessions: 2 })
  })

  it('refuses an expired token and an unknown one', async () => {
    const s = await signUp(app)
    const token = await mint(s.user.id, 'password_reset', 30)
    ctx.clock.advance(31 * 60_000)
    expect((await reset(token, 'a brand new long passphrase')).statusCode).toBe(400)
    ctx.clock.reset()
    expect((await reset(randomToken(), 'a brand new long passphrase')).statusCode).toBe(400)
    // The expired attempt consumed nothing: within its time the token still works.
    expect((await reset(token, 'a brand new long passphrase')).statusCode).toBe(204)
  })

  it('a newer reset kills the other reset links', async () => {
    const s = await signUp(app)
    const first = await mint(s.user.id, 'password_reset')
    const second = await mint(s.user.id, 'password_reset')
    expect((await reset(second, 'a brand new long passphrase')).statusCode).toBe(204)
    expect((await reset(first, 'another brand new passphrase')).statusCode).toBe(400)
  })
})

describe('email verification', () => {
  it('marks the email verified, once', async () => {
    const s = await signUp(app)
    const token = await mint(s.user.id, 'verify_email', 24 * 60)
    expect((await verify(token)).statusCode).toBe(204)
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    expect(me.json().user.emailVerified).toBe(true)
    const again = await verify(token)
    expect(again.statusCode).toBe(400)
    expect(again.json().code).toBe('invalid_or_expired_token')
  })

  it('refuses an expired token and a token of another purpose', async () => {
    const s = await signUp(app)
    const token = await mint(s.user.id, 'verify_email', 24 * 60)
    ctx.clock.advance(24 * 3_600_000 + 1_000)
    expect((await verify(token)).statusCode).toBe(400)
    ctx.clock.reset()
    const resetToken = await mint(s.user.id, 'password_reset')
    expect((await verify(resetToken)).statusCode).toBe(400)
    expect((await reset(token, 'a brand new long passphrase')).statusCode).toBe(400)
  })
})
