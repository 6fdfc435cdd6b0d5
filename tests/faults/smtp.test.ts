// A faulty mail server under a real worker: one that answers 550 (a permanent
// refusal: the job fails at once, without resending to a server that said no)
// and one that never answers after the message data (the send times out after
// SMTP_TIMEOUT_MS, the job retries and the email is delivered once).
import { afterAll, describe, expect, it } from 'vitest'
import type { QueuedJob } from '../../src/jobs/outbox.ts'
import { type Child, freePort, spawnNode } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { queueJob, seedUser, waitForJob } from '../jobs/seed.ts'

const sink = await startSmtpSink()
const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent' } })
const children: Child[] = []
afterAll(async () => {
  for (const child of children) child.kill()
  await sink.close()
})

const worker = spawnNode('workers/main.ts', {
  NODE_ENV: 'test',
  DATABASE_URL: ctx.database.url,
  REDIS_URL: ctx.config.REDIS_URL!,
  REDIS_PREFIX: ctx.config.REDIS_PREFIX,
  SMTP_URL: sink.url,
  SMTP_TIMEOUT_MS: '700',
  HOST: '127.0.0.1',
  WORKER_PORT: String(await freePort()),
  LOG_LEVEL: 'info',
  JOB_SWEEP_SECONDS: '1',
  JOB_SWEEP_AFTER_SECONDS: '5',
  WORKER_STALLED_INTERVAL_MS: '1000',
})
children.push(worker)
await worker.waitForLine(/"worker started"/)

async function verifyEmailJob(): Promise<QueuedJob> {
  const user = await seedUser(ctx.sql, 'Faulty Mail')
  const job = await queueJob(ctx.app.database, null, 'email', {
    template: 'verify-email',
    userId: user.id,
  })
  await ctx.app.jobs.dispatch([job])
  return job
}
const messageId = (job: QueuedJob) => `<${job.id}@deskpilot.local>`
const delivered = (job: QueuedJob) =>
  sink.messages.filter((m) => m.headers.get('message-id') === messageId(job))

describe('an SMTP server answering 550', () => {
  it('fails the job after one send, with the refusal as its error, and sends nothing again', async () => {
    sink.mode = 'reject'
    const job = await verifyEmailJob()
    const row = await waitForJob(ctx.sql, job.id)
    expect(row).toMatchObject({ state: 'failed', attempts: 1 })
    expect(row.error).toMatch(/550/)
    expect(sink.rejected.filter((id) => id === messageId(job))).toHaveLength(1)
    expect(delivered(job)).toHaveLength(0)
    // BullMQ holds it as failed, with no retry scheduled.
    await expect(
      worker.waitForLine(new RegExp(`"jobId":"${job.id}".*"job failed"`), 5000),
    ).resolves.toBeTruthy()
  })
})

describe('an SMTP server that never answers', () => {
  it('times the send out, retries, and delivers the email once', async () => {
    sink.mode = 'hang'
    const received = sink.received
    const job = await verifyEmailJob()
    // The data is in; the server will never answer this connection.
    await expect
      .poll(() => sink.received, { timeout: 10_000, interval: 20 })
      .toBeGreaterThan(received)
    sink.mode = 'accept'
    const row = await waitForJob(ctx.sql, job.id, undefined, 20_000)
    expect(row).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(delivered(job)).toHaveLength(1)
    expect(worker.output()).toMatch(
      new RegExp(`"jobId":"${job.id}".*"attempt":1.*"job attempt failed; will retry"`),
    )
  })
})
