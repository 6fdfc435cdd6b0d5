// The worker process: runs the queues' processors as BullMQ Workers, sweeps the
// outbox for rows left queued and storage for uploads never attached, serves /health, /ready and /metrics on
// WORKER_PORT, and on SIGTERM or SIGINT stops taking jobs, lets running ones
// finish (worker.close() waits for them), then exits 0. Any number of copies can
// run against the same Redis: BullMQ hands each job to one worker, and a job
// whose worker died is retaken once its lock lapses (BullMQ's stalled-job
// check; WORKER_STALLED_INTERVAL_MS sets both lockDuration and stalledInterval,
// BullMQ's default of 30 s otherwise, and maxStalledCount stays at its default).
import { hostname } from 'node:os'
import { UnrecoverableError, Worker } from 'bullmq'
import { sql } from 'drizzle-orm'
import type { Redis } from 'ioredis'
import { type Logger, pino } from 'pino'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { type Config, loadConfigOrExit } from '../src/config.ts'
import { type DatabaseHandle, openDatabase } from '../src/db/client.ts'
import { closeSmtpTransports } from '../src/jobs/email/email-processor.ts'
import { startEventSweeper } from '../src/jobs/event-sweeper.ts'
import { registerJobOutcomeCounter, registerQueueDepthGauge } from '../src/jobs/job-metrics.ts'
import { processors } from '../src/jobs/processors.ts'
import {
  closeQueues,
  createQueues,
  pushJobs,
  type Queues,
  queueDepths,
} from '../src/jobs/producer.ts'
import { bullPrefix, type JobData, type QueueName, queueNames } from '../src/jobs/queues.ts'
import { type RunDeps, runJob } from '../src/jobs/run-job.ts'
import { startSweeper, sweepQueuedJobs } from '../src/jobs/sweeper.ts'
import { startUploadSweeper } from '../src/jobs/upload-sweeper.ts'
import { createWebhookRelay } from '../src/jobs/webhooks/relay.ts'
import { createEventSignal, type EventSignal } from '../src/lib/event-signal.ts'
import { closeOnSignals } from '../src/lib/graceful-shutdown.ts'
import { loggerOptions } from '../src/lib/logger.ts'
import { createRedis } from '../src/lib/redis-client.ts'
import { openStorage } from '../src/lib/storage/open-storage.ts'
import type { Storage } from '../src/lib/storage/storage.ts'
import { startHealthServer } from './health-server.ts'

/** What the worker opens at start and closes last. */
type Resources = {
  /** the producer side (sweeper pushes, queue depth, /ready): no offline queue */
  redis: Redis
  database: DatabaseHandle
  /** where files live: the same driver and place as the api's */
  storage: Storage
  queues: Queues
  registry: Registry
  /** what each BullMQ Worker opens its own connection with */
  redisConnection: { url: string; name: string }
  /** "tenant T has new events": said after jobs that may write events, heard by the webhook relay */
  signal: EventSignal
}

/** Without both services there is nothing to work on: local mode runs jobs in the api. */
function requireServices(config: Config, log: Logger): { redisUrl: string } {
  if (!config.REDIS_URL || !config.DATABASE_URL) {
    log.error(
      'the worker needs DATABASE_URL and REDIS_URL; in local mode the api runs jobs in-process',
    )
    process.exit(78)
  }
  return { redisUrl: config.REDIS_URL }
}

async function openResources(config: Config, log: Logger, redisUrl: string): Promise<Resources> {
  const connectionName = `deskpilot-worker:${hostname()}:${process.pid}`
  const redis = createRedis(redisUrl, connectionName)
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'))
  await redis.connect()
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    // Webhook attempts hold a connection only to read and to record, never while they wait.
    poolMax: Math.max(
      2,
      config.WORKER_CONCURRENCY_EMAIL +
        config.WORKER_CONCURRENCY_AI +
        Math.ceil(config.WORKER_CONCURRENCY_WEBHOOK / 4),
    ),
    applicationName: 'deskpilot-worker',
  })
  const storage = openStorage(config)
  const queues = createQueues(redis, config.REDIS_PREFIX)
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  registerQueueDepthGauge(registry, () => queueDepths(redis, queues))
  return {
    redis,
    database,
    storage,
    queues,
    registry,
    redisConnection: { url: redisUrl, name: connectionName },
    signal: createEventSignal({ redis, channelPrefix: config.REDIS_PREFIX }),
  }
}

/** One BullMQ Worker per queue this version has a processor for, each running runJob. */
function startQueueWorkers(config: Config, log: Logger, resources: Resources): Worker<JobData>[] {
  const { redis, database, storage, queues, registry, redisConnection: connection } = resources
  const outcomes = registerJobOutcomeCounter(registry)
  const deps: RunDeps = {
    database,
    config,
    storage,
    log,
    processors,
    // Jobs a processor wrote (an AI reply's email); if Redis is away the sweeper pushes them.
    async dispatch(jobs) {
      await pushJobs(redis, queues, jobs).catch((err: Error) =>
        log.warn({ err: err.message, jobIds: jobs.map((j) => j.id) }, 'jobs left for the sweeper'),
      )
    },
  }
  const workers: Worker<JobData>[] = []
  for (const name of queueNames) {
    if (!processors[name]) {
      // Better than failing them: the jobs wait, queued, for a worker that has the processor.
      log.warn({ queue: name }, 'no processor for this queue in this version; not consuming it')
      continue
    }
    const worker = new Worker<JobData>(
      name,
      async (job) => {
        const attempts = job.opts.attempts ?? 1
        const result = await runJob(
          deps,
          { id: String(job.id), queue: name, tenantId: job.data.tenantId },
          { finalAttempt: job.attemptsMade + 1 >= attempts },
        )
        outcomes.inc({ queue: name, outcome: result.outcome })
        // A job may have written events (an AI reply's message, job.failed); a webhook attempt never does.
        if (name !== 'webhook' && job.data.tenantId) resources.signal.publish(job.data.tenantId)
        // The row is already marked; these tell BullMQ whether to retry.
        if (result.outcome === 'retry') throw result.error
        if (result.outcome === 'failed') throw new UnrecoverableError(result.error?.message)
        return { outcome: result.outcome }
      },
      {
        connection: { url: connection.url, connectionName: `${connection.name}:${name}` },
        prefix: bullPrefix(config.REDIS_PREFIX),
        concurrency: concurrencyOf(config)[name],
        lockDuration: config.WORKER_STALLED_INTERVAL_MS,
        stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
      },
    )
    worker.on('error', (err) => log.warn({ queue: name, err: err.message }, 'worker error'))
    worker.on('stalled', (jobId) => log.warn({ queue: name, jobId }, 'job stalled; retaking it'))
    workers.push(worker)
  }
  return workers
}

function concurrencyOf(config: Config): Record<QueueName, number> {
  return {
    email: config.WORKER_CONCURRENCY_EMAIL,
    'ai-reply': config.WORKER_CONCURRENCY_AI,
    'ai-triage': config.WORKER_CONCURRENCY_AI,
    webhook: config.WORKER_CONCURRENCY_WEBHOOK,
  }
}

/** Pushes outbox rows left queued (Redis was down at commit); returns a stop function. */
function startOutboxSweeper(config: Config, log: Logger, resources: Resources) {
  const { redis, database, queues } = resources
  return startSweeper({
    everySeconds: config.JOB_SWEEP_SECONDS,
    sweep: async () => {
      const swept = await sweepQueuedJobs(
        database.db,
        { olderThanSeconds: config.JOB_SWEEP_AFTER_SECONDS },
        (jobs) => pushJobs(redis, queues, jobs),
      )
      if (swept.length > 0) {
        log.info({ count: swept.length, jobIds: swept.map((j) => j.id) }, 'swept queued jobs')
      }
    },
    onError: (err) => log.warn({ err: (err as Error).message }, 'job sweep failed'),
  })
}

/** /health, /ready (Redis and the database answer) and /metrics on WORKER_PORT. */
function serveHealth(config: Config, resources: Resources) {
  const { redis, database, registry } = resources
  return startHealthServer({
    host: config.HOST,
    port: config.WORKER_PORT,
    registry,
    checks: {
      async ready() {
        try {
          await redis.ping()
          await database.db.execute(sql`select 1`)
          return true
        } catch {
          return false
        }
      },
    },
  })
}

/** On SIGTERM or SIGINT: stop sweeping, let running jobs finish, then close everything. */
function drainOnSignals(
  config: Config,
  log: Logger,
  running: {
    stopSweeper: () => Promise<void>
    workers: Worker<JobData>[]
    server: Awaited<ReturnType<typeof serveHealth>>
    resources: Resources
  },
) {
  const { stopSweeper, workers, server, resources } = running
  closeOnSignals({
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    async close() {
      await stopSweeper()
      // Waits for the jobs in progress; takes no new ones meanwhile.
      await Promise.all(workers.map((w) => w.close()))
      await closeQueues(resources.queues)
      await new Promise<void>((resolve) => server.close(() => resolve()))
      closeSmtpTransports()
      await resources.storage.close()
      await resources.database.close()
      await resources.redis.quit().catch(() => resources.redis.disconnect())
    },
  })
}

async function main() {
  const config = loadConfigOrExit()
  const log = pino(
    loggerOptions(config.LOG_LEVEL, 'deskpilot-worker', {
      nodeEnv: config.NODE_ENV,
      terminal: process.stdout.isTTY === true,
    }),
  )
  const { redisUrl } = requireServices(config, log)
  const resources = await openResources(config, log, redisUrl)
  const workers = startQueueWorkers(config, log, resources)
  const stopOutboxSweeper = startOutboxSweeper(config, log, resources)
  const stopUploadSweeper = startUploadSweeper({
    database: resources.database,
    storage: resources.storage,
    log,
  })
  const stopEventSweeper = startEventSweeper({
    database: resources.database,
    retentionDays: config.EVENT_RETENTION_DAYS,
    log,
  })
  const relay = createWebhookRelay({
    database: resources.database,
    push: (jobs) => pushJobs(resources.redis, resources.queues, jobs),
    onError: (err, tenantId) =>
      log.warn(
        { err: (err as Error).message, tenantId },
        'webhook relay failed; the sweeper will push',
      ),
  })
  const stopRelay = resources.signal.subscribe((tenantId) => relay.onSignal(tenantId))
  const stopSweeper = async () => {
    stopRelay()
    await Promise.all([stopOutboxSweeper(), stopUploadSweeper(), stopEventSweeper(), relay.close()])
    await resources.signal.close()
  }
  const server = await serveHealth(config, resources)
  log.info(
    {
      port: config.WORKER_PORT,
      queues: workers.map((w) => w.name),
      concurrency: concurrencyOf(config),
    },
    'worker started',
  )
  drainOnSignals(config, log, { stopSweeper, workers, server, resources })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
