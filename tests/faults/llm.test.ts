// A faulty LLM endpoint under a real worker (AI_PROVIDER=openai): one that
// refuses connections (nothing listens on its port) and one that answers a
// completion without content. Either is an error the job retries; when the
// endpoint recovers the reply is posted once, and when the last attempt fails
// the job row is failed with a safe error, the audit log says so, and no
// message was written.
import { afterAll, describe, expect, it } from 'vitest'
import type { QueuedJob } from '../../src/jobs/outbox.ts'
import { api } from '../ai/arrange.ts'
import { type Child, freePort, spawnNode } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { type LlmStub, startLlmStub } from '../helpers/llm-stub.ts'
import { createTestTenant } from '../helpers/tenancy.ts'
import { queueJob, waitForJob } from '../jobs/seed.ts'

const API_KEY = 'sk-fault-test-secret'
const llmPort = await freePort()
let stub: LlmStub | null = null
afterAll(() => stub?.close())
const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent' } })
const { setMode, openTicket } = api(ctx)

const children: Child[] = []
afterAll(() => {
  for (const child of children) child.kill()
})
const worker = spawnNode('workers/main.ts', {
  NODE_ENV: 'test',
  DATABASE_URL: ctx.database.url,
  REDIS_URL: ctx.config.REDIS_URL!,
  REDIS_PREFIX: ctx.config.REDIS_PREFIX,
  HOST: '127.0.0.1',
  WORKER_PORT: String(await freePort()),
  LOG_LEVEL: 'info',
  AI_PROVIDER: 'openai',
  AI_BASE_URL: `http://127.0.0.1:${llmPort}/v1`,
  AI_API_KEY: API_KEY,
  AI_MODEL: 'stub-model',
  AI_TIMEOUT_MS: '500',
  AI_MAX_RETRIES: '1',
  AI_RETRY_BASE_MS: '10',
  JOB_SWEEP_SECONDS: '1',
  JOB_SWEEP_AFTER_SECONDS: '5',
  WORKER_STALLED_INTERVAL_MS: '1000',
})
children.push(worker)
await worker.waitForLine(/"worker started"/)

async function llmUp(): Promise<LlmStub> {
  if (!stub) stub = await startLlmStub({ port: llmPort })
  stub.reset()
  return stub
}
async function llmDown() {
  await stub?.close()
  stub = null
}

/**
 * A customer's ticket in a tenant answering in `auto` mode, and its AI job,
 * pushed only after `prepare` ran on its row (so a test can set max_attempts).
 */
async function ticketWithAiJob(prepare: (job: QueuedJob) => Promise<unknown> = async () => {}) {
  const t = await createTestTenant(ctx)
  await setMode(t, 'off')
  const ticket = await openTicket(t.customer, 'Router blinking', 'My router is blinking red.')
  await setMode(t, 'auto')
  const job = await queueJob(ctx.app.database, t.id, 'ai-reply', { ticketId: ticket.id })
  await prepare(job)
  await ctx.app.jobs.dispatch([job])
  return { t, ticketId: ticket.id, job }
}
const lastAttempt = (job: QueuedJob) =>
  ctx.sql`update jobs set max_attempts = 1 where id = ${job.id}`

async function messagesOf(ticketId: string) {
  return ctx.sql<{ authorType: string; jobId: string | null }[]>`
    select author_type as "authorType", job_id as "jobId" from messages
    where ticket_id = ${ticketId} order by created_at`
}

function expectSafe(error: string | null) {
  expect(error).toBeTruthy()
  expect(error).not.toContain(API_KEY)
  expect(error).not.toMatch(/\n\s+at /)
}

async function expectFailedCleanly(t: { id: string }, ticketId: string, job: QueuedJob) {
  const row = await waitForJob(ctx.sql, job.id)
  expect(row).toMatchObject({ state: 'failed', attempts: 1 })
  expectSafe(row.error)
  expect(await messagesOf(ticketId)).toEqual([{ authorType: 'customer', jobId: null }])
  const audit = await ctx.sql<{ data: { jobId: string } }[]>`
    select data from audit_events where tenant_id = ${t.id} and action = 'ai.reply_failed'`
  expect(audit.map((a) => a.data.jobId)).toEqual([job.id])
  return row
}

describe('an LLM endpoint that refuses connections', () => {
  it('on the last attempt, fails the job with a safe error and writes no message', async () => {
    await llmDown()
    const { t, ticketId, job } = await ticketWithAiJob(lastAttempt)
    const row = await expectFailedCleanly(t, ticketId, job)
    expect(row.error).toMatch(/^\[ai_provider_unreachable\] /)
  })

  it('retries the job, which posts the reply once when the endpoint is back', async () => {
    await llmDown()
    const { ticketId, job } = await ticketWithAiJob()
    const failed = await waitForJob(ctx.sql, job.id, (r) => r.attempts === 1 && r.error !== null)
    expect(failed.state).toBe('queued')
    expectSafe(failed.error)
    expect(await messagesOf(ticketId)).toHaveLength(1)

    const llm = await llmUp()
    expect(await waitForJob(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(llm.requests).toHaveLength(1)
    expect(await messagesOf(ticketId)).toEqual([
      { authorType: 'customer', jobId: null },
      { authorType: 'ai', jobId: job.id },
    ])
  })
})

describe('an LLM endpoint that answers without content', () => {
  it('on the last attempt, fails the job with a safe error and writes no message', async () => {
    const llm = await llmUp()
    llm.fallback = { kind: 'empty' }
    const { t, ticketId, job } = await ticketWithAiJob(lastAttempt)
    const row = await expectFailedCleanly(t, ticketId, job)
    expect(row.error).toMatch(/^\[ai_provider_error\] /)
    expect(llm.requests).toHaveLength(1)
  })

  it('retries the job, which posts the reply once when an answer has content', async () => {
    const llm = await llmUp()
    llm.answer({ kind: 'empty' })
    const { ticketId, job } = await ticketWithAiJob()
    expect(await waitForJob(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(llm.requests).toHaveLength(2)
    const messages = await messagesOf(ticketId)
    expect(messages).toEqual([
      { authorType: 'customer', jobId: null },
      { authorType: 'ai', jobId: job.id },
    ])
  })
})
