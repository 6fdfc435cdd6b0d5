// The outbox and its producer, in the api: a job exists exactly when its
// transaction committed; dispatch pushes with jobId = row id (twice is once);
// with Redis unreachable dispatch neither throws nor hangs and the row waits;
// the sweeper's cross-tenant read path shows queued rows and nothing else.
import { Queue } from 'bullmq'
import { sql } from 'drizzle-orm'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { withScope } from '../../src/db/scoped.ts'
import { insertJob, type QueuedJob } from '../../src/jobs/outbox.ts'
import { bullPrefix } from '../../src/jobs/queues.ts'
import { sweepQueuedJobs } from '../../src/jobs/sweeper.ts'
import { createTestApp, useTestApp } from '../helpers/app.ts'
import { TEST_REDIS_URL } from '../helpers/services.ts'
import { jobRow, queueJob, seedTenant, seedUser } from './seed.ts'

/** postgres.js returns rows as an array; Drizzle types execute() loosely. */
const rows_ = (result: unknown) => result as { id: string }[]

const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent' } })
const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null })
const emailQueue = new Queue('email', { connection, prefix: bullPrefix(ctx.config.REDIS_PREFIX) })
afterAll(async () => {
  await emailQueue.close()
  connection.disconnect()
})

describe('outbox', () => {
  it('a job inserted in a transaction that rolls back does not exist', async () => {
    const user = await seedUser(ctx.sql)
    let inserted: QueuedJob | undefined
    await expect(
      withScope(ctx.app.database, {}, async (tx) => {
        inserted = await insertJob(tx, {
          tenantId: null,
          queue: 'email',
          payload: { template: 'verify-email', userId: user.id },
        })
        throw new Error('the write that caused it failed')
      }),
    ).rejects.toThrow('the write that caused it failed')
    expect(inserted?.id).toBeDefined()
    expect(await jobRow(ctx.sql, inserted!.id)).toBeUndefined()
  })

  it('rejects an invalid payload before writing anything', async () => {
    await expect(
      withScope(ctx.app.database, {}, (tx) =>
        insertJob(tx, {
          tenantId: null,
          queue: 'email',
          payload: { template: 'verify-email', userId: 'nope' } as never,
        }),
      ),
    ).rejects.toThrow(/invalid email job payload/)
  })

  it('dispatch pushes the row with jobId = row id; a second push adds nothing', async () => {
    const user = await seedUser(ctx.sql)
    const job = await queueJob(ctx.app.database, null, 'email', {
      template: 'verify-email',
      userId: user.id,
    })
    await ctx.app.jobs.dispatch([job])
    await ctx.app.jobs.dispatch([job])
    const pushed = await emailQueue.getJob(job.id)
    expect(pushed?.data).toEqual({ tenantId: null })
    expect(pushed?.opts.attempts).toBe(8)
    expect(await emailQueue.getWaitingCount()).toBe(1)

    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' })
    expect(res.body).toMatch(/deskpilot_queue_jobs\{queue="email",state="waiting"\} 1/)
  })

  it('with Redis unreachable, dispatch returns at once without throwing; the row stays queued', async () => {
    const down = await createTestApp({
      env: { REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'warn' },
    })
    try {
      const user = await seedUser(down.sql)
      const job = await queueJob(down.app.database, null, 'email', {
        template: 'verify-email',
        userId: user.id,
      })
      const started = Date.now()
      await expect(down.app.jobs.dispatch([job])).resolves.toBeUndefined()
      expect(Date.now() - started).toBeLessThan(1000)
      expect(await jobRow(down.sql, job.id)).toMatchObject({ state: 'queued', attempts: 0 })
      expect(down.logs.some((l) => String(l.msg).includes('stay queued for the sweeper'))).toBe(
        true,
      )
      // /metrics still answers, with an empty queue gauge.
      const res = await down.app.inject({ method: 'GET', url: '/metrics' })
      expect(res.statusCode).toBe(200)
    } finally {
      await down.close()
    }
  })
})

describe('the sweeper read path', () => {
  it('shows overdue queued rows of every tenant (and system rows), and nothing else', async () => {
    const a = await seedTenant(ctx.sql)
    const b = await seedTenant(ctx.sql)
    const user = await seedUser(ctx.sql)
    const payload = { template: 'password-reset' as const, userId: user.id }
    const rows = [
      await queueJob(ctx.app.database, a.id, 'email', payload),
      await queueJob(ctx.app.database, b.id, 'email', payload),
      await queueJob(ctx.app.database, null, 'email', payload),
    ]
    const done = await queueJob(ctx.app.database, a.id, 'email', payload)
    await ctx.sql`update jobs set state = 'succeeded' where id = ${done.id}`
    const fresh = await queueJob(ctx.app.database, b.id, 'email', payload)
    const mine = [...rows, done, fresh].map((r) => r.id)
    const overdue = mine.filter((id) => id !== fresh.id)
    await ctx.sql`update jobs set run_at = now() - interval '10 minutes' where id in ${ctx.sql(overdue)}`

    // Without the setting the app role sees system rows only.
    const plain = await ctx.app.db.execute<{ id: string }>(
      sql`select id from jobs where id in (${sql.join(mine, sql`, `)})`,
    )
    expect(rows_(plain).map((r) => r.id)).toEqual([rows[2]!.id])

    const pushed: QueuedJob[] = []
    const swept = await sweepQueuedJobs(ctx.app.db, { olderThanSeconds: 60 }, async (jobs) => {
      pushed.push(...jobs)
    })
    // Rows of earlier tests in this file may be swept too; of these, exactly the overdue queued ones.
    const sweptMine = swept.filter((j) => mine.includes(j.id))
    expect(new Set(sweptMine.map((j) => j.id))).toEqual(new Set(rows.map((r) => r.id)))
    expect(pushed).toEqual(swept)
    expect(swept.find((j) => j.id === rows[0]!.id)).toEqual(rows[0])

    // run_at was bumped: an immediate second sweep finds nothing.
    expect(await sweepQueuedJobs(ctx.app.db, { olderThanSeconds: 60 }, async () => {})).toEqual([])
    // The setting does not open rows that are not queued, nor writes to them.
    const leaked = await withScope(ctx.app.database, {}, async (tx) => {
      await tx.execute(sql`select set_config('app.job_sweeper', 'on', true)`)
      const seen = await tx.execute(sql`select id from jobs where id = ${done.id}`)
      const changed = await tx.execute(
        sql`update jobs set state = 'queued' where id = ${done.id} returning id`,
      )
      return rows_(seen).length + rows_(changed).length
    })
    expect(leaked).toBe(0)
  })
})

describe('queue dashboard', () => {
  it('is not mounted unless QUEUE_DASHBOARD=true', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/admin/queues' })
    expect(res.statusCode).toBe(404)
  })

  it('turns away anonymous callers on the page, its API and its assets', async () => {
    const board = await createTestApp({ env: { QUEUE_DASHBOARD: 'true', LOG_LEVEL: 'silent' } })
    try {
      for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/']) {
        const res = await board.app.inject({ method: 'GET', url })
        expect([401, 403], `${url}: ${res.statusCode} ${res.body}`).toContain(res.statusCode)
        expect(res.headers['content-type']).toMatch(/problem\+json/)
      }
    } finally {
      await board.close()
    }
  })
})
