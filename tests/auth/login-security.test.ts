// Login as an attacker would probe it: enumeration by answer or by time (login
// and forgot-password), lockout after LOGIN_MAX_FAILURES and unlock after the
// period (on the controllable clock), and the per-IP and per-email rate limits.
import argon2 from 'argon2'
import { afterEach, describe, expect, it } from 'vitest'
import { hashToken } from '../../src/lib/tokens.ts'
import { createTestApp, useTestApp } from '../helpers/app.ts'
import { signUp, uniqueEmail } from '../helpers/auth.ts'

const ctx = await useTestApp({
  env: { AUTH_RATE_LIMIT_MAX: '1000', LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '15' },
})
const { app } = ctx

afterEach(() => ctx.clock.reset())

function login(email: string, password: string, remoteAddress?: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password },
    ...(remoteAddress ? { remoteAddress } : {}),
  })
}

function comparable(body: Record<string, unknown>) {
  const { requestId: _r, ...rest } = body
  return rest
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await run()
  return performance.now() - started
}

describe('enumeration', () => {
  it('login: unknown email and wrong password answer the same, in about the same time', async () => {
    const users = await Promise.all(Array.from({ length: 7 }, () => signUp(app)))
    const unknown = await login(uniqueEmail('nobody'), 'some long wrong password')
    const wrong = await login(users[0]!.email, 'some long wrong password')
    expect(unknown.statusCode).toBe(401)
    expect(wrong.statusCode).toBe(401)
    expect(comparable(unknown.json())).toEqual(comparable(wrong.json()))
    expect(unknown.json().code).toBe('invalid_credentials')

    const unknownTimes: number[] = []
    const wrongTimes: number[] = []
    for (const user of users) {
      unknownTimes.push(await timed(() => login(uniqueEmail('nobody'), 'some long wrong password')))
      wrongTimes.push(await timed(() => login(user.email, 'another long wrong password')))
    }
    const [a, b] = [median(unknownTimes), median(wrongTimes)]
    // Both are dominated by one argon2 verification; the tolerance absorbs a shared machine.
    expect(Math.abs(a - b)).toBeLessThan(Math.max(15, 0.35 * Math.max(a, b)))
  })

  it('forgot-password: the same 202 in the same time, and a job only for a real account', async () => {
    const user = await signUp(app)
    const forgot = (email: string) =>
      app.inject({ method: 'POST', url: '/v1/auth/password/forgot', payload: { email } })
    const known = await forgot(user.email)
    const unknown = await forgot(uniqueEmail('nobody'))
    expect(known.statusCode).toBe(202)
    expect(unknown.statusCode).toBe(202)
    expect(known.body).toBe(unknown.body)
    const jobs =
      await ctx.sql`select payload from jobs where payload->>'template' = 'password-reset'`
    expect(jobs.map((j) => j.payload)).toEqual([
      { template: 'password-reset', userId: user.user.id },
    ])

    const knownTimes: number[] = []
    const unknownTimes: number[] = []
    for (let i = 0; i < 5; i++) {
      knownTimes.push(await timed(() => forgot(user.email)))
      unknownTimes.push(await timed(() => forgot(uniqueEmail('nobody'))))
    }
    expect(Math.abs(median(knownTimes) - median(unknownTimes))).toBeLessThan(15)
  })
})

describe('lockout', () => {
  it('locks after LOGIN_MAX_FAILURES failures and unlocks after the period', async () => {
    const user = await signUp(app)
    for (let i = 0; i < 3; i++) {
      expect((await login(user.email, 'a wrong password entirely')).statusCode).toBe(401)
    }
    const locked = await login(user.email, user.password)
    expect(locked.statusCode).toBe(423)
    expect(locked.json().code).toBe('account_locked')
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(890)
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900)
    const events = await ctx.sql`
      select action from audit_events where actor_user_id = ${user.user.id} order by created_at`
    expect(events.map((e) => e.action)).toEqual([
      'auth.signup',
      'auth.login_failed',
      'auth.login_failed',
      'auth.login_failed',
      'auth.account_locked',
    ])

    ctx.clock.advance(14 * 60_000)
    expect((await login(user.email, user.password)).statusCode).toBe(423)
    ctx.clock.advance(60_000 + 1_000)
    expect((await login(user.email, user.password)).statusCode).toBe(200)
    // The success forgot the address's failures.
    const rows =
      await ctx.sql`select 1 from login_lockouts where email_hash = ${hashToken(user.email)}`
    expect(rows).toHaveLength(0)
  })

  it('a success resets the count', async () => {
    const user = await signUp(app)
    for (let i = 0; i < 2; i++) await login(user.email, 'a wrong password entirely')
    expect((await login(user.email, user.password)).statusCode).toBe(200)
    for (let i = 0; i < 2; i++) {
      expect((await login(user.email, 'a wrong password entirely')).statusCode).toBe(401)
    }
    expect((await login(user.email, user.password)).statusCode).toBe(200)
  })
})

describe('rate limits', () => {
  it('limit the auth routes per IP and login per email, with Retry-After', async () => {
    const limited = await createTestApp({ env: { AUTH_RATE_LIMIT_MAX: '3' } })
    try {
      const attempt = (email: string, remoteAddress: string) =>
        limited.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload: { email, password: 'a wrong password entirely' },
          remoteAddress,
        })
      for (let i = 0; i < 3; i++) {
        expect((await attempt(uniqueEmail(), '10.0.0.1')).statusCode).toBe(401)
      }
      const blocked = await attempt(uniqueEmail(), '10.0.0.1')
      expect(blocked.statusCode).toBe(429)
      expect(blocked.json().code).toBe('rate_limited')
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0)
      // Another IP is not affected...
      const email = uniqueEmail('target')
      for (let i = 0; i < 3; i++) {
        expect((await attempt(email, `10.0.1.${i}`)).statusCode).toBe(401)
      }
      // ...but spraying one email from many IPs is.
      const sprayed = await attempt(email, '10.0.2.1')
      expect(sprayed.statusCode).toBe(429)
      expect(sprayed.headers['retry-after']).toBeDefined()
    } finally {
      await limited.close()
    }
  })
})

describe('password hashes', () => {
  it('a hash made with weaker parameters is upgraded at the next successful login', async () => {
    const user = await signUp(app)
    const password = 'a long and memorable passphrase 77'
    // As if stored by an older release with lighter argon2id parameters.
    const weak = await argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    })
    await ctx.sql`update users set password_hash = ${weak} where id = ${user.user.id}`
    const res = await login(user.email, password)
    expect(res.statusCode, res.body).toBe(200)
    const [row] = await ctx.sql<{ password_hash: string }[]>`
      select password_hash from users where id = ${user.user.id}`
    expect(row?.password_hash).not.toBe(weak)
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
    expect(await argon2.verify(row!.password_hash, password)).toBe(true)
    // A wrong password never rewrites the hash.
    const before = row!.password_hash
    expect((await login(user.email, 'not the password at all')).statusCode).toBe(401)
    const [after] = await ctx.sql<{ password_hash: string }[]>`
      select password_hash from users where id = ${user.user.id}`
    expect(after?.password_hash).toBe(before)
  })
})
