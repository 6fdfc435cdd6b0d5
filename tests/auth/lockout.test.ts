// The lockout as an attacker would use it (issue 11, Medium 5): failures count
// per address, so an unknown address locks with the same 423 as a real one (no
// existence oracle); a real account's owner is mailed a single-use unlock link
// that works through POST /v1/auth/unlock; a password reset unlocks too.
import { Writable } from 'node:stream'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { closeSmtpTransports } from '../../src/jobs/email/email-processor.ts'
import { processors } from '../../src/jobs/processors.ts'
import { runJob } from '../../src/jobs/run-job.ts'
import { hashToken, randomToken } from '../../src/lib/tokens.ts'
import { useTestApp } from '../helpers/app.ts'
import { signUp, uniqueEmail } from '../helpers/auth.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { tokenFrom } from '../jobs/seed.ts'

const sink = await startSmtpSink()
const ctx = await useTestApp({
  env: {
    AUTH_RATE_LIMIT_MAX: '1000',
    LOGIN_MAX_FAILURES: '3',
    LOGIN_LOCK_MINUTES: '15',
    SMTP_URL: sink.url,
    APP_URL: 'https://app.example.test',
  },
})
const { app } = ctx
afterAll(async () => {
  closeSmtpTransports()
  await sink.close()
})
afterEach(() => ctx.clock.reset())
const deps = {
  database: app.database,
  config: ctx.config,
  storage: app.storage,
  log: app.log,
  processors,
}

const WRONG = 'a wrong password entirely'

function login(email: string, password: string) {
  return app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } })
}
const unlock = (token: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/unlock', payload: { token } })

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

async function lockOut(email: string) {
  for (let i = 0; i < 3; i++) expect((await login(email, WRONG)).statusCode).toBe(401)
}

/** The account-locked outbox job of a user, run by the worker's own code to the SMTP sink. */
async function deliverLockEmail(userId: string) {
  const jobs = await ctx.sql<{ id: string }[]>`
    select id from jobs
    where payload->>'template' = 'account-locked' and payload->>'userId' = ${userId}`
  expect(jobs).toHaveLength(1)
  const before = sink.messages.length
  const result = await runJob(deps, { id: jobs[0]!.id, queue: 'email', tenantId: null })
  expect(result.outcome).toBe('succeeded')
  const messages = await sink.waitFor(before + 1)
  return messages.at(-1)!
}

describe('lockout per address', () => {
  it('locks an unknown address exactly like a real account: same status, body and header', async () => {
    const user = await signUp(app)
    const nobody = uniqueEmail('nobody')
    await lockOut(user.email)
    await lockOut(nobody)
    const real = await login(user.email, user.password)
    const unknown = await login(nobody, 'any password at all')
    expect(real.statusCode).toBe(423)
    expect(unknown.statusCode).toBe(423)
    expect(unknown.json().code).toBe('account_locked')
    expect(comparable(unknown.json())).toEqual(comparable(real.json()))
    expect(unknown.headers['retry-after']).toBe(real.headers['retry-after'])
    expect(unknown.headers['content-type']).toBe(real.headers['content-type'])

    // Both answers skip the password check: neither takes longer.
    const realTimes: number[] = []
    const unknownTimes: number[] = []
    for (let i = 0; i < 7; i++) {
      realTimes.push(await timed(() => login(user.email, user.password)))
      unknownTimes.push(await timed(() => login(nobody, 'any password at all')))
    }
    const [a, b] = [median(realTimes), median(unknownTimes)]
    expect(Math.abs(a - b)).toBeLessThan(Math.max(10, 0.35 * Math.max(a, b)))

    // The lock of the address is held in one row per address hash, nothing in clear.
    const rows = await ctx.sql`select email_hash from login_lockouts where locked_until > now()`
    const hashes = rows.map((r) => r.email_hash)
    expect(hashes).toEqual(expect.arrayContaining([hashToken(user.email), hashToken(nobody)]))
    expect(JSON.stringify(rows)).not.toContain(nobody)

    // Only the real account was mailed.
    const jobs =
      await ctx.sql`select payload from jobs where payload->>'template' = 'account-locked'`
    expect(jobs.map((j) => j.payload)).toContainEqual({
      template: 'account-locked',
      userId: user.user.id,
    })
    expect(jobs.filter((j) => j.payload.userId === user.user.id)).toHaveLength(1)

    ctx.clock.advance(15 * 60_000 + 1_000)
    expect((await login(nobody, 'any password at all')).statusCode).toBe(401)
    expect((await login(user.email, user.password)).statusCode).toBe(200)
  })

  it('counts an address in any letter case as one', async () => {
    const nobody = uniqueEmail('nobody')
    await login(nobody, WRONG)
    await login(nobody.toUpperCase(), WRONG)
    await login(nobody.replace('nobody', 'NoBody'), WRONG)
    expect((await login(nobody, WRONG)).statusCode).toBe(423)
  })

  it('parallel failures lock once, and a late one does not lift the lock', async () => {
    const user = await signUp(app)
    const answers = await Promise.all(Array.from({ length: 8 }, () => login(user.email, WRONG)))
    for (const a of answers) expect([401, 423]).toContain(a.statusCode)
    expect((await login(user.email, user.password)).statusCode).toBe(423)
    const locks = await ctx.sql`
      select 1 from audit_events where action = 'auth.account_locked' and actor_user_id = ${user.user.id}`
    expect(locks).toHaveLength(1)
  })

  it('keeps counting across api copies (the count is in PostgreSQL)', async () => {
    const nobody = uniqueEmail('nobody')
    // A second copy on the same database and Redis prefix.
    const second = await buildApp(ctx.config, {
      logStream: new Writable({ write: (_chunk, _enc, done) => done() }),
    })
    try {
      await second.ready()
      expect((await login(nobody, WRONG)).statusCode).toBe(401)
      const other = (password: string) =>
        second.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload: { email: nobody, password },
        })
      expect((await other(WRONG)).statusCode).toBe(401)
      expect((await login(nobody, WRONG)).statusCode).toBe(401)
      expect((await other(WRONG)).statusCode).toBe(423)
    } finally {
      await second.close()
    }
  })
})

describe('unlock', () => {
  it('mails the owner a link when the account locks; the link unlocks it, once', async () => {
    const user = await signUp(app, { name: 'Locked Owner' })
    await lockOut(user.email)
    expect((await login(user.email, user.password)).statusCode).toBe(423)

    const mail = await deliverLockEmail(user.user.id)
    expect(mail.to).toEqual([user.email])
    expect(mail.subject).toBe('Your Deskpilot account was locked')
    expect(mail.text).toContain('Hello Locked Owner,')
    const token = tokenFrom(mail.text, 'https://app.example.test/unlock-account')
    const [stored] = await ctx.sql`
      select purpose, extract(epoch from expires_at - created_at) / 60 as minutes
      from user_tokens where token_hash = ${hashToken(token)}`
    expect(stored?.purpose).toBe('unlock_account')
    expect(Math.round(Number(stored?.minutes))).toBe(15)

    const done = await unlock(token)
    expect(done.statusCode, done.body).toBe(204)
    expect((await login(user.email, user.password)).statusCode).toBe(200)
    const [event] = await ctx.sql`
      select 1 from audit_events where action = 'auth.account_unlocked' and actor_user_id = ${user.user.id}`
    expect(event).toBeDefined()

    // Single use: locked again, the same link does nothing.
    await lockOut(user.email)
    const again = await unlock(token)
    expect(again.statusCode).toBe(400)
    expect(again.json().code).toBe('invalid_or_expired_token')
    expect((await login(user.email, user.password)).statusCode).toBe(423)
    const unlocked = await ctx.sql`
      select 1 from audit_events where action = 'auth.account_unlocked' and actor_user_id = ${user.user.id}`
    expect(unlocked).toHaveLength(1)
  })

  it('refuses an unknown token, another purpose’s token and an unknown field, changing nothing', async () => {
    const user = await signUp(app)
    await lockOut(user.email)
    const reset = randomToken()
    await ctx.sql`
      insert into user_tokens (id, user_id, purpose, token_hash, expires_at)
      values (gen_random_uuid(), ${user.user.id}, 'password_reset', ${hashToken(reset)}, now() + interval '30 minutes')`
    for (const token of [randomToken(), reset]) {
      const res = await unlock(token)
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('invalid_or_expired_token')
    }
    const extra = await app.inject({
      method: 'POST',
      url: '/v1/auth/unlock',
      payload: { token: reset, email: user.email },
    })
    expect(extra.statusCode).toBe(400)
    expect(extra.json().code).toBe('validation_failed')
    const [row] =
      await ctx.sql`select used_at from user_tokens where token_hash = ${hashToken(reset)}`
    expect(row?.used_at).toBeNull()
    expect((await login(user.email, user.password)).statusCode).toBe(423)
  })

  it('a password reset lifts the lock', async () => {
    const user = await signUp(app)
    await lockOut(user.email)
    expect((await login(user.email, user.password)).statusCode).toBe(423)
    const token = randomToken()
    await ctx.sql`
      insert into user_tokens (id, user_id, purpose, token_hash, expires_at)
      values (gen_random_uuid(), ${user.user.id}, 'password_reset', ${hashToken(token)}, now() + interval '30 minutes')`
    const reset = await app.inject({
      method: 'POST',
      url: '/v1/auth/password/reset',
      payload: { token, password: 'a brand new long passphrase' },
    })
    expect(reset.statusCode).toBe(204)
    expect((await login(user.email, 'a brand new long passphrase')).statusCode).toBe(200)
  })
})
