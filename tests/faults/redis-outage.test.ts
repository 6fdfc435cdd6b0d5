// Redis stopped in the middle of work (a private redis-server, killed with
// SIGKILL and started again empty on the same port), with two api copies and a
// real worker on it:
//  - requests keep being answered at once (no 5xx, no hang), their jobs wait
//    in the outbox, and when Redis is back the sweeper pushes them: every job
//    runs, every email and AI reply exists exactly once;
//  - the general rate limit is skipped while Redis is away and counts again
//    once it is back;
//  - a logout or a removed member takes effect at once on the copy that made
//    the change; another copy keeps its cached entry at most for the cache's
//    TTL while Redis is away, and is told at once again when Redis is back.
import { afterAll, describe, expect, it, vi } from 'vitest'
import { type App, buildApp } from '../../src/app.ts'
import type { Config } from '../../src/config.ts'
import { type Child, freePort, spawnNode } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { bearer, logIn, signUp } from '../helpers/auth.ts'
import { startPrivateRedis } from '../helpers/redis-server.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const redis = await startPrivateRedis()
const sink = await startSmtpSink()
afterAll(async () => {
  await sink.close()
  await redis.close()
})
const ctx = await useTestApp({
  env: {
    REDIS_URL: redis.url,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '100000',
    AUTH_RATE_LIMIT_MAX: '10000',
    SMTP_URL: sink.url,
  },
})
const { app } = ctx

/** Another api copy on the same database and Redis. */
async function apiCopy(overrides: Partial<Config> = {}): Promise<App> {
  const copy = await buildApp({ ...ctx.config, ...overrides } as Config)
  await copy.ready()
  afterAll(() => copy.close())
  return copy
}
const second = await apiCopy()

const children: Child[] = []
afterAll(() => {
  for (const child of children) child.kill()
})
async function startWorker() {
  const worker = spawnNode('workers/main.ts', {
    NODE_ENV: 'test',
    DATABASE_URL: ctx.database.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: ctx.config.REDIS_PREFIX,
    SMTP_URL: sink.url,
    HOST: '127.0.0.1',
    WORKER_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    JOB_SWEEP_SECONDS: '1',
    JOB_SWEEP_AFTER_SECONDS: '1',
    WORKER_STALLED_INTERVAL_MS: '1000',
  })
  children.push(worker)
  await worker.waitForLine(/"worker started"/)
  return worker
}
const worker = await startWorker()

/** Kills Redis, runs `during`, starts Redis again (also when `during` throws). */
async function withRedisDown<T>(during: () => Promise<T>): Promise<T> {
  await redis.kill()
  try {
    return await during()
  } finally {
    if (!redis.running) await redis.start()
  }
}

/** Connections subscribed to a channel, as the server lists them. */
async function subscribers(): Promise<number> {
  const list = String(await redis.command('CLIENT', 'LIST'))
  return list.split('\n').filter((line) => /\bsub=[1-9]/.test(line)).length
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Waits until Redis is usable again for the api copies: their clients ready
 * and every cache subscriber back (`expected`, counted before the outage).
 */
function redisBack(expected: number, copies: App[] = [app, second]) {
  return until('redis back for the api copies', async () =>
    copies.every((c) => c.redis?.status === 'ready') && (await subscribers()) >= expected
      ? true
      : undefined,
  )
}

type JobView = { id: string; type: string; state: string; attempts: number; result: unknown }
function tenantJobs(tenantId: string) {
  return ctx.sql<JobView[]>`
    select id, type, state, attempts, result from jobs where tenant_id = ${tenantId} order by id`
}

async function openTicket(t: TestTenant, n: number) {
  const started = Date.now()
  const res = await app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: t.customer.headers,
    payload: { subject: `Printer ${n} is jammed`, body: `Printer number ${n} jams on page two.` },
  })
  return { status: res.statusCode, ms: Date.now() - started, body: res.body }
}

describe('Redis killed while requests and jobs are running', () => {
  it('answers every request, keeps the jobs in the outbox, and runs each once when Redis is back', async () => {
    const t = await createTestTenant(ctx)
    const mode = await app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: t.owner.headers,
      payload: { settings: { aiReplyMode: 'auto' } },
    })
    expect(mode.statusCode, mode.body).toBe(200)

    // A burst under way when Redis dies: some requests answered before the kill,
    // some after, and an email mid-send in the worker (the SMTP server holds it).
    sink.holdMs = 400
    const received = sink.received
    const burst = Array.from({ length: 8 }, (_, i) => openTicket(t, i))
    await until('an email mid-send', async () => (sink.received > received ? true : undefined))
    const during = await withRedisDown(async () => {
      const answered = await Promise.all(burst)
      const more = []
      for (let i = 8; i < 14; i++) more.push(await openTicket(t, i))
      const queuedWhileDown = (await tenantJobs(t.id)).filter((j) => j.state === 'queued')
      return { answered: [...answered, ...more], queuedWhileDown }
    })
    sink.holdMs = 0
    for (const r of during.answered) expect(r.status, r.body).toBe(201)
    // A push gives up at once without Redis: no request waits out a timeout.
    expect(Math.max(...during.answered.slice(8).map((r) => r.ms))).toBeLessThan(1500)
    expect(during.queuedWhileDown.length).toBeGreaterThanOrEqual(12)

    // Back: the sweeper pushes what was left; each ticket's ai-reply and
    // ticket-created jobs and each reply's email all run.
    const finished = await until(
      'every job finished',
      async () => {
        const rows = await tenantJobs(t.id)
        const replies = rows.filter((j) => j.type === 'ai-reply')
        const open = rows.filter((j) => j.state !== 'succeeded' && j.state !== 'failed')
        // 14 ai-replies, 14 ticket-created emails and 14 reply emails.
        return replies.length === 14 && open.length === 0 && rows.length >= 42 ? rows : undefined
      },
      30_000,
    )
    expect(finished.filter((j) => j.state === 'failed')).toEqual([])
    expect(finished.map((j) => j.type).sort()).toEqual([
      ...Array(14).fill('ai-reply'),
      ...Array(28).fill('email'),
    ])
    expect(worker.output()).toMatch(/"swept queued jobs"/)

    const [counts] = await ctx.sql<{ replies: number; distinctJobs: number }[]>`
      select count(*)::int as replies, count(distinct job_id)::int as "distinctJobs"
      from messages where tenant_id = ${t.id} and author_type = 'ai'`
    expect(counts).toEqual({ replies: 14, distinctJobs: 14 })

    // Every message an email job recorded as sent arrived exactly once: a
    // single-recipient job records its Message-ID, a ticket-created job one
    // hash per agent (each message's id is <job-id.hash@domain>).
    const emails = finished.filter((j) => j.type === 'email')
    const expectedIds = emails.flatMap((j) => {
      const result = j.result as { messageId?: string; sent?: string[] } | null
      if (result?.messageId) return [result.messageId]
      return (result?.sent ?? []).map((key) => `<${j.id}.${key}@`)
    })
    expect(expectedIds.length).toBeGreaterThanOrEqual(28)
    await sink.waitFor(expectedIds.length)
    const arrived = sink.messages.map((m) => String(m.headers.get('message-id')))
    for (const id of expectedIds) {
      expect(
        arrived.filter((a) => a.startsWith(id.replace(/>$/, ''))),
        id,
      ).toHaveLength(1)
    }
    expect(new Set(arrived).size, 'no Message-ID twice').toBe(arrived.length)
  }, 60_000)
})

describe('the general rate limit while Redis is away', () => {
  it('is skipped (requests are served, none refused or failed) and counts again once Redis is back', async () => {
    const limited = await apiCopy({ RATE_LIMIT_MAX: 5 })
    const t = await createTestTenant(ctx)
    const hit = (ip: string) =>
      limited.inject({ url: '/v1/tenant', headers: t.agent.headers, remoteAddress: ip })

    const before = []
    for (let i = 0; i < 6; i++) before.push((await hit('10.0.0.1')).statusCode)
    expect(before).toEqual([200, 200, 200, 200, 200, 429])

    const down = await withRedisDown(async () => {
      const codes = []
      for (let i = 0; i < 12; i++) codes.push((await hit('10.0.0.2')).statusCode)
      return codes
    })
    expect(down).toEqual(Array(12).fill(200))

    await redisBack(0, [limited])
    const after = []
    for (let i = 0; i < 6; i++) after.push((await hit('10.0.0.3')).statusCode)
    expect(after).toEqual([200, 200, 200, 200, 200, 429])
  })
})

describe('session and membership caches while Redis is away', () => {
  it('a logout ends the session at once on its own copy, on the other within the TTL, and at once again when Redis is back', async () => {
    const user = await signUp(app)
    const session = await logIn(app, user.email)
    const me = (copy: App, token: string) =>
      copy.inject({ url: '/v1/auth/me', headers: bearer(token) }).then((r) => r.statusCode)
    expect([await me(app, session.accessToken), await me(second, session.accessToken)]).toEqual([
      200, 200,
    ])
    const subscribed = await subscribers()

    const seen = await withRedisDown(async () => {
      const out = await app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: bearer(session.accessToken),
      })
      expect(out.statusCode, out.body).toBe(204)
      // The other copy was not told: its cached entry stands, as the README says (TTL bound).
      return [await me(app, session.accessToken), await me(second, session.accessToken)]
    })
    expect(seen).toEqual([401, 200])

    await redisBack(subscribed)
    const next = await logIn(app, user.email)
    expect(await me(second, next.accessToken)).toBe(200)
    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: bearer(next.accessToken),
    })
    expect(out.statusCode).toBe(204)
    // Well inside the 30 s TTL: only the pub/sub message can explain it.
    await vi.waitFor(async () => expect(await me(second, next.accessToken)).toBe(401), {
      timeout: 2000,
      interval: 10,
    })
  })

  it('a removed member is refused at once on its own copy, on the other within the 5 s TTL, and at once again when Redis is back', async () => {
    const t = await createTestTenant(ctx)
    const tenantOf = (copy: App, headers: Record<string, string>) =>
      copy.inject({ url: '/v1/tenant', headers }).then((r) => r.statusCode)
    expect([await tenantOf(app, t.agent.headers), await tenantOf(second, t.agent.headers)]).toEqual(
      [200, 200],
    )
    const subscribed = await subscribers()

    const { onOwnCopy, staleFor } = await withRedisDown(async () => {
      const removed = await app.inject({
        method: 'DELETE',
        url: `/v1/members/${t.agent.userId}`,
        headers: t.owner.headers,
      })
      expect(removed.statusCode, removed.body).toBe(204)
      const at = Date.now()
      const own = await tenantOf(app, t.agent.headers)
      await until(
        'the other copy refuses the removed member',
        async () => ((await tenantOf(second, t.agent.headers)) === 404 ? true : undefined),
        8000,
      )
      return { onOwnCopy: own, staleFor: Date.now() - at }
    })
    expect(onOwnCopy).toBe(404)
    expect(staleFor).toBeLessThan(5000 + 500)

    await redisBack(subscribed)
    expect(await tenantOf(second, t.customer.headers)).toBe(200)
    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.customer.userId}`,
      headers: t.owner.headers,
    })
    expect(removed.statusCode).toBe(204)
    const at = Date.now()
    await vi.waitFor(async () => expect(await tenantOf(second, t.customer.headers)).toBe(404), {
      timeout: 2000,
      interval: 10,
    })
    expect(Date.now() - at).toBeLessThan(1000)
  })
})
