// The worker's PostgreSQL connections terminated in the middle of a job
// (pg_terminate_backend on this file's database, application_name
// deskpilot-worker): while an email is mid-send, and while the LLM is writing
// an AI reply. The job still completes, once: one email per Message-ID, one AI
// message per job.
import { afterAll, describe, expect, it } from 'vitest'
import type { QueuedJob } from '../../src/jobs/outbox.ts'
import { api } from '../ai/arrange.ts'
import { type Child, freePort, spawnNode } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { startLlmStub } from '../helpers/llm-stub.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { createTestTenant } from '../helpers/tenancy.ts'
import { queueJob, seedUser, waitForJob } from '../jobs/seed.ts'

const sink = await startSmtpSink()
const llm = await startLlmStub()
const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent' } })
const { setMode, openTicket } = api(ctx)
const children: Child[] = []
afterAll(async () => {
  for (const child of children) child.kill()
  await sink.close()
  await llm.close()
})

const workerPort = await freePort()
const worker = spawnNode('workers/main.ts', {
  NODE_ENV: 'test',
  DATABASE_URL: ctx.database.url,
  REDIS_URL: ctx.config.REDIS_URL!,
  REDIS_PREFIX: ctx.config.REDIS_PREFIX,
  SMTP_URL: sink.url,
  HOST: '127.0.0.1',
  WORKER_PORT: String(workerPort),
  LOG_LEVEL: 'info',
  AI_PROVIDER: 'openai',
  AI_BASE_URL: llm.url,
  AI_API_KEY: 'sk-test',
  AI_MODEL: 'stub-model',
  JOB_SWEEP_SECONDS: '1',
  JOB_SWEEP_AFTER_SECONDS: '5',
  WORKER_STALLED_INTERVAL_MS: '1000',
})
children.push(worker)
await worker.waitForLine(/"worker started"/)

/**
 * Terminates every connection the worker holds to this file's database, then
 * waits until the worker's /ready (a query through its pool) answers again:
 * the pool has seen its connections go and reconnects. Returns how many.
 */
async function terminateWorkerConnections(): Promise<number> {
  const rows = await ctx.sql<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = ${ctx.database.name} and application_name = 'deskpilot-worker'`
  for (const { pid } of rows) await ctx.sql`select pg_terminate_backend(${pid})`
  await expect
    .poll(
      async () => {
        const gone = await ctx.sql`
          select 1 from pg_stat_activity where pid in ${ctx.sql(rows.map((r) => r.pid))}`
        if (gone.length > 0) return 0
        return (await fetch(`http://127.0.0.1:${workerPort}/ready`)).status
      },
      { timeout: 10_000, interval: 50 },
    )
    .toBe(200)
  return rows.length
}

const delivered = (messageId: string) =>
  sink.messages.filter((m) => m.headers.get('message-id') === messageId)

describe("the worker's database connections terminated mid-job", () => {
  it('while an email is mid-send: the job completes and the email is sent once', async () => {
    sink.holdMs = 60_000
    const user = await seedUser(ctx.sql, 'Mid Send')
    const job: QueuedJob = await queueJob(ctx.app.database, null, 'email', {
      template: 'verify-email',
      userId: user.id,
    })
    const received = sink.received
    await ctx.app.jobs.dispatch([job])
    await expect
      .poll(() => sink.received, { timeout: 10_000, interval: 20 })
      .toBeGreaterThan(received)
    expect(await terminateWorkerConnections()).toBeGreaterThanOrEqual(1)
    sink.holdMs = 0
    sink.releaseHeld()

    const row = await waitForJob(ctx.sql, job.id)
    expect(row.state).toBe('succeeded')
    expect(delivered(`<${job.id}@deskpilot.local>`)).toHaveLength(1)
  })

  it('while the LLM writes the reply: one AI message, one reply email', async () => {
    const t = await createTestTenant(ctx)
    await setMode(t, 'auto')
    let terminated = 0
    llm.reset()
    llm.beforeAnswer = async () => {
      if (terminated === 0) terminated = await terminateWorkerConnections()
    }
    const ticket = await openTicket(t.customer, 'Password', 'I forgot my password.')
    const [aiJob] = await ctx.sql<{ id: string }[]>`
      select id from jobs where type = 'ai-reply' and payload->>'ticketId' = ${ticket.id}`
    const row = await waitForJob(ctx.sql, aiJob!.id)
    expect(row.state).toBe('succeeded')
    expect(terminated).toBeGreaterThanOrEqual(1)

    const replies = await ctx.sql<{ id: string }[]>`
      select id from messages where ticket_id = ${ticket.id} and author_type = 'ai'`
    expect(replies).toHaveLength(1)
    const [email] = await ctx.sql<{ id: string }[]>`
      select id from jobs where type = 'email' and payload->>'messageId' = ${replies[0]!.id}`
    expect(await waitForJob(ctx.sql, email!.id)).toMatchObject({ state: 'succeeded' })
    expect(delivered(`<${email!.id}@deskpilot.local>`)).toHaveLength(1)
  })
})
