// The worker process: connects to Redis and the database, serves /health,
// /ready and /metrics on WORKER_PORT, runs the job processors, and on SIGTERM
// or SIGINT stops taking jobs, lets running ones finish, then exits 0.
// Any number of copies can run against the same Redis.
import { hostname } from 'node:os'
import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { ConfigError, loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/client.ts'
import { closeOnSignals } from '../src/lib/graceful-shutdown.ts'
import { loggerOptions } from '../src/lib/logger.ts'
import { createRedis } from '../src/lib/redis-client.ts'
import { startHealthServer } from './health-server.ts'

async function main() {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(78)
    }
    throw err
  }
  const log = pino(loggerOptions(config.LOG_LEVEL, 'deskpilot-worker'))
  if (!config.REDIS_URL || !config.DATABASE_URL) {
    log.error(
      'the worker needs DATABASE_URL and REDIS_URL; in local mode the api runs jobs in-process',
    )
    process.exit(78)
  }

  const redis = createRedis(config.REDIS_URL, `deskpilot-worker:${hostname()}:${process.pid}`)
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'))
  await redis.connect()
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: Math.max(2, config.WORKER_CONCURRENCY_EMAIL + config.WORKER_CONCURRENCY_AI),
    applicationName: 'deskpilot-worker',
  })

  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const server = await startHealthServer({
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
  log.info({ port: config.WORKER_PORT }, 'worker started')

  closeOnSignals({
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await database.close()
      await redis.quit().catch(() => redis.disconnect())
    },
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
