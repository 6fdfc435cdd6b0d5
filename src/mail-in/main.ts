// The mail-in process (`npm run mail-in`): the SMTP receiver
// (smtp-receiver.ts) on INBOUND_SMTP_HOST:INBOUND_SMTP_PORT, with the
// database, the file storage and a job producer of its own. It needs
// DATABASE_URL and INBOUND_DOMAIN; without REDIS_URL the jobs a mail causes
// wait in the outbox for the worker's sweeper, and the api's live streams find
// its events at their next heartbeat instead of at once. In local mode (embedded
// PGlite, one process) mail comes in through POST /v1/inbound/email instead.
// Any number of copies can run behind MX records: deduplication by
// Message-ID happens in the database.
import { hostname } from 'node:os'
import { pino } from 'pino'
import { loadConfigOrExit } from '../config.ts'
import { openDatabase } from '../db/client.ts'
import { closeQueues, createQueues, pushJobs } from '../jobs/producer.ts'
import { createEventSignal } from '../lib/event-signal.ts'
import { closeOnSignals } from '../lib/graceful-shutdown.ts'
import { loggerOptions } from '../lib/logger.ts'
import { createRedis } from '../lib/redis-client.ts'
import { openStorage } from '../lib/storage/open-storage.ts'
import { closeReceiver, createSmtpReceiver, listen } from './smtp-receiver.ts'

async function main() {
  const config = loadConfigOrExit()
  const log = pino(
    loggerOptions(config.LOG_LEVEL, 'deskpilot-mail-in', {
      nodeEnv: config.NODE_ENV,
      terminal: process.stdout.isTTY === true,
    }),
  )
  if (!config.DATABASE_URL || !config.INBOUND_DOMAIN) {
    log.error(
      'mail-in needs DATABASE_URL and INBOUND_DOMAIN; in local mode post mail to POST /v1/inbound/email',
    )
    process.exit(78)
  }
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: 4,
    applicationName: 'deskpilot-mail-in',
  })
  const storage = openStorage(config)
  const redis = config.REDIS_URL
    ? createRedis(config.REDIS_URL, `deskpilot-mail-in:${hostname()}:${process.pid}`)
    : null
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis error'))
  await redis?.connect()
  const queues = redis ? createQueues(redis, config.REDIS_PREFIX) : null
  // Publish only: no subscriber connection is made (lib/event-signal.ts).
  const eventSignal = createEventSignal({ redis, channelPrefix: config.REDIS_PREFIX })
  const server = createSmtpReceiver(
    {
      database,
      storage,
      log,
      async dispatch(jobs) {
        if (!redis || !queues) return
        await pushJobs(redis, queues, jobs).catch((err: Error) =>
          log.warn({ err: err.message }, 'jobs left for the sweeper'),
        )
      },
      announce: (tenantId) => eventSignal.publish(tenantId),
    },
    {
      domain: config.INBOUND_DOMAIN,
      host: config.INBOUND_SMTP_HOST,
      port: config.INBOUND_SMTP_PORT,
      maxBytes: config.INBOUND_MAX_BYTES,
      attachmentMaxBytes: config.ATTACHMENT_MAX_BYTES,
    },
  )
  const port = await listen(server, config.INBOUND_SMTP_HOST, config.INBOUND_SMTP_PORT)
  log.info(
    { host: config.INBOUND_SMTP_HOST, port, domain: config.INBOUND_DOMAIN },
    'mail-in listening',
  )
  closeOnSignals({
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    async close() {
      await closeReceiver(server)
      if (queues) await closeQueues(queues)
      await eventSignal.close()
      await redis?.quit().catch(() => redis.disconnect())
      await storage.close()
      await database.close()
    },
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
