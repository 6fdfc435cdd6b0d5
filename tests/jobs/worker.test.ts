// The worker as real processes against the real PostgreSQL, Redis and an SMTP
// server on loopback: it runs dispatched jobs, pushed-twice jobs once, swept
// rows that were never pushed; SIGTERM mid-job finishes the job and exits 0;
// SIGKILL mid-job hands the job to another worker, which completes it once;
// two workers run each job once.
import { Queue } from 'bullmq'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { QueuedJob } from '../../src/jobs/outbox.ts'
import { bullPrefix } from '../../src/jobs/queues.ts'
import { type Child, freePort, spawnNode, waitForHttp } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { jobRow, queueJob, seedUser, waitForJob } from './seed.ts'

const sink = await startSmtpSink()
const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent' } })
const children: Child[] = []
const emailQueue = new Queue('email', {
  connection: { url: ctx.config.REDIS_URL! },
  prefix: bullPrefix(ctx.config.REDIS_PREFIX),
})
// Each test runs its own workers: none is left to take another test's jobs.
afterEach(async () => {
  const running = children.splice(0)
  for (const child of running) child.kill()
  await Promise.all(running.map((child) => child.exited))
  sink.holdMs = 0
})
afterAll(async () => {
  await emailQueue.close()
  await sink.close()
})

/**
 * Resolves once BullMQ holds each job as completed and nothing is waiting,
 * active or delayed in the queue: no run of these jobs is left to send mail.
 */
async function queueSettled(jobs: QueuedJob[]) {
  await expect
    .poll(
      async () => {
        const states = await Promise.all(jobs.map((j) => emailQueue.getJobState(j.id)))
        const counts = await emailQueue.getJobCounts('waiting', 'active', 'delayed')
        const pending = Object.values(counts).reduce((a, b) => a + b, 0)
        return { states: new Set(states), pending }
      },
      { timeout: 10_000, interval: 25 },
    )
    .toEqual({ states: new Set(['completed']), pending: 0 })
}

async function startWorker() {
  const port = await freePort()
  const worker = spawnNode('workers/main.ts', {
    NODE_ENV: 'test',
    DATABASE_URL: ctx.database.url,
    REDIS_URL: ctx.config.REDIS_URL!,
    REDIS_PREFIX: ctx.config.REDIS_PREFIX,
    SMTP_URL: sink.url,
    HOST: '127.0.0.1',
    WORKER_PORT: String(port),
    LOG_LEVEL: 'info',
    JOB_SWEEP_SECONDS: '1',
    JOB_SWEEP_AFTER_SECONDS: '1',
    WORKER_STALLED_INTERVAL_MS: '1000',
  })
  children.push(worker)
  await worker.waitForLine(/"worker started"/)
  return { worker, port }
}

async function verifyEmailJob(): Promise<QueuedJob> {
  const user = await seedUser(ctx.sql, 'Worker Test')
  return queueJob(ctx.app.database, null, 'email', { template: 'verify-email', userId: user.id })
}

function emailsFor(job: QueuedJob) {
  return sink.messages.filter((m) => m.headers.get('message-id') === `<${job.id}@deskpilot.local>`)
}

/** Resolves once the SMTP server has the message's data but has not answered yet. */
async function waitUntilMidSend(receivedBefore: number) {
  const until = Date.now() + 10_000
  while (sink.received <= receivedBefore) {
    if (Date.now() > until) throw new Error('the worker never started sending')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('worker process', () => {
  it('answers /health and runs a dispatched job, counted on /metrics', async () => {
    const first = await startWorker()
    const health = await waitForHttp(`http://127.0.0.1:${first.port}/health`)
    expect(await health.json()).toEqual({ status: 'ok' })

    const job = await verifyEmailJob()
    await ctx.app.jobs.dispatch([job])
    expect(await waitForJob(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 1 })
    expect(emailsFor(job)).toHaveLength(1)

    const metrics = await (await fetch(`http://127.0.0.1:${first.port}/metrics`)).text()
    expect(metrics).toMatch(
      /deskpilot_jobs_processed_total\{queue="email",outcome="succeeded"\} [1-9]/,
    )
    expect(metrics).toMatch(/deskpilot_queue_jobs\{queue="email",state="waiting"\} 0/)
    expect(first.worker.output()).toMatch(new RegExp(`"jobId":"${job.id}".*"job succeeded"`))
  })

  it('runs a job pushed twice once', async () => {
    await startWorker()
    const job = await verifyEmailJob()
    await Promise.all([ctx.app.jobs.dispatch([job]), ctx.app.jobs.dispatch([job])])
    await ctx.app.jobs.dispatch([job])
    expect(await waitForJob(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 1 })
    await queueSettled([job])
    expect(emailsFor(job)).toHaveLength(1)
  })

  it('sweeps a row that was committed but never pushed (Redis was down)', async () => {
    const first = await startWorker()
    const job = await verifyEmailJob()
    expect(await waitForJob(ctx.sql, job.id, undefined, 10_000)).toMatchObject({
      state: 'succeeded',
      attempts: 1,
    })
    expect(emailsFor(job)).toHaveLength(1)
    expect(first.worker.output()).toMatch(/"swept queued jobs"/)
  })

  it('on SIGTERM mid-job, finishes the job, then exits 0', async () => {
    const first = await startWorker()
    sink.holdMs = 1500
    const job = await verifyEmailJob()
    const received = sink.received
    await ctx.app.jobs.dispatch([job])
    await waitUntilMidSend(received)
    first.worker.process.kill('SIGTERM')
    expect(await first.worker.exited).toBe(0)
    sink.holdMs = 0
    expect(await jobRow(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 1 })
    expect(emailsFor(job)).toHaveLength(1)
  })

  it('after SIGKILL mid-job, another worker retakes the job and completes it once', async () => {
    const doomed = await startWorker()
    sink.holdMs = 60_000
    const job = await verifyEmailJob()
    const received = sink.received
    await ctx.app.jobs.dispatch([job])
    await waitUntilMidSend(received)
    doomed.worker.process.kill('SIGKILL')
    expect(await doomed.worker.exited).toBe('SIGKILL')
    sink.holdMs = 0
    expect(await jobRow(ctx.sql, job.id)).toMatchObject({ state: 'running', attempts: 1 })

    const rescuer = await startWorker()
    expect(await waitForJob(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(emailsFor(job)).toHaveLength(1)
    // The row is marked before the line is logged: wait for the line.
    await expect
      .poll(() => rescuer.worker.output())
      .toMatch(new RegExp(`"jobId":"${job.id}".*"job succeeded"`))
  })

  it('with two workers on the same queues, runs each job once', async () => {
    await Promise.all([startWorker(), startWorker()])
    const jobs = await Promise.all(Array.from({ length: 30 }, () => verifyEmailJob()))
    await ctx.app.jobs.dispatch(jobs)
    for (const job of jobs) {
      expect(await waitForJob(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 1 })
    }
    await queueSettled(jobs)
    for (const job of jobs) expect(emailsFor(job)).toHaveLength(1)
  })
})
