// Decorates app.jobs: dispatch(jobs) pushes outbox rows (written by insertJob
// in a route's transaction) to their queues once that transaction has
// committed. It never throws and never waits on a Redis that is down: the row
// stays queued and the worker's sweeper pushes it later. In local mode (no
// REDIS_URL) the jobs run in this process through the same runJob and
// processors the worker runs (src/jobs/), loaded only then so an api with
// Redis never loads the processors.
// Also: queue depth on /metrics, and the queue dashboard when enabled.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { registerJobOutcomeCounter, registerQueueDepthGauge } from '../jobs/job-metrics.ts'
import type { QueuedJob } from '../jobs/outbox.ts'
import { closeQueues, createQueues, pushJobs, queueDepths } from '../jobs/producer.ts'
import { createRedis } from '../lib/redis-client.ts'
import queueDashboard from './queue-dashboard.ts'

type JobDispatcher = {
  /** Call after the transaction that inserted the jobs has committed. Never throws. */
  dispatch(jobs: readonly QueuedJob[]): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobDispatcher
  }
}

async function jobsPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts
  if (config.REDIS_URL) await useRedisQueues(app, config, config.REDIS_URL)
  else await useInProcessJobs(app, config)
}

async function useRedisQueues(app: FastifyInstance, config: Config, url: string) {
  // Its own connection: no offline queue (a push fails at once while Redis is
  // down), and BullMQ's scripts stay off the connection rate limits use.
  const connection = createRedis(url, 'deskpilot-api-jobs')
  // The redis plugin already warns about an unreachable Redis.
  connection.on('error', (err) => app.log.debug({ err: err.message }, 'jobs redis error'))
  connection.connect().catch(() => {})
  const queues = createQueues(connection, config.REDIS_PREFIX)
  for (const queue of Object.values(queues)) {
    queue.on('error', (err) => app.log.debug({ err: err.message }, 'queue error'))
  }

  app.decorate('jobs', {
    async dispatch(jobs) {
      try {
        await pushJobs(connection, queues, jobs)
      } catch (err) {
        app.log.warn(
          { err: (err as Error).message, jobIds: jobs.map((j) => j.id) },
          'jobs not pushed to redis; they stay queued for the sweeper',
        )
      }
    },
  } satisfies JobDispatcher)
  registerQueueDepthGauge(app.metrics, () => queueDepths(connection, queues))
  if (config.QUEUE_DASHBOARD) {
    await app.register(queueDashboard, { queues, prefix: '/admin/queues' })
  }
  app.addHook('onClose', async () => {
    await closeQueues(queues)
    await connection.quit().catch(() => connection.disconnect())
  })
}

async function useInProcessJobs(app: FastifyInstance, config: Config) {
  const [
    { createInProcessRunner },
    { processors },
    { sweepQueuedJobs, startSweeper },
    { startUploadSweeper },
    { startEventSweeper },
    { createWebhookRelay },
  ] = await Promise.all([
    import('../jobs/in-process-runner.ts'),
    import('../jobs/processors.ts'),
    import('../jobs/sweeper.ts'),
    import('../jobs/upload-sweeper.ts'),
    import('../jobs/event-sweeper.ts'),
    import('../jobs/webhooks/relay.ts'),
  ])
  const outcomes = registerJobOutcomeCounter(app.metrics)
  const runner = createInProcessRunner({
    database: app.database,
    config,
    storage: app.storage,
    log: app.log,
    processors,
    onOutcome: (queue, outcome, job) => {
      outcomes.inc({ queue, outcome })
      // A job may have written events (an AI reply's message, job.failed); a webhook attempt never does.
      if (queue !== 'webhook' && job.tenantId) app.eventSignal.publish(job.tenantId)
    },
    onError: (err, job) => app.log.error({ err, jobId: job.id }, 'job bookkeeping failed'),
  })
  app.decorate('jobs', {
    async dispatch(jobs) {
      // After the response's commit, never inside it: the caller's transaction is done.
      setImmediate(() => runner.dispatch(jobs))
    },
  } satisfies JobDispatcher)
  // New events' webhook deliveries run at once, as the worker's relay pushes them.
  const relay = createWebhookRelay({
    database: app.database,
    push: async (jobs) => runner.dispatch(jobs),
    onError: (err, tenantId) =>
      app.log.warn({ err: (err as Error).message, tenantId }, 'webhook relay failed'),
  })
  const stopRelay = app.eventSignal.subscribe((tenantId) => relay.onSignal(tenantId))
  registerQueueDepthGauge(app.metrics, async () => runner.depths())
  if (config.QUEUE_DASHBOARD) app.log.warn('QUEUE_DASHBOARD needs Redis; not mounted')

  // Rows left queued by an earlier run of this process (or added while it was down).
  const sweep = () =>
    sweepQueuedJobs(app.db, { olderThanSeconds: config.JOB_SWEEP_AFTER_SECONDS }, async (jobs) =>
      runner.dispatch(jobs),
    )
  let stopSweeper: (() => Promise<void>) | undefined
  let stopUploadSweeper: (() => Promise<void>) | undefined
  let stopEventSweeper: (() => Promise<void>) | undefined
  app.addHook('onReady', async () => {
    app.log.info('local mode: jobs run in-process (no REDIS_URL)')
    stopSweeper = startSweeper({
      everySeconds: config.JOB_SWEEP_SECONDS,
      sweep,
      onError: (err) => app.log.warn({ err }, 'job sweep failed'),
    })
    // No worker in local mode: uploads never attached are swept here too.
    stopUploadSweeper = startUploadSweeper({
      database: app.database,
      storage: app.storage,
      log: app.log,
    })
    // ... and events past their retention.
    stopEventSweeper = startEventSweeper({
      database: app.database,
      retentionDays: config.EVENT_RETENTION_DAYS,
      log: app.log,
    })
  })
  app.addHook('onClose', async () => {
    stopRelay()
    await Promise.all([stopSweeper?.(), stopUploadSweeper?.(), stopEventSweeper?.(), relay.close()])
    await runner.close()
  })
}

export default fp(jobsPlugin, {
  name: 'jobs',
  dependencies: ['db', 'redis', 'metrics', 'storage', 'event-signal'],
})
