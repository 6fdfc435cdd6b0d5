// `npm run bench:jobs`: job throughput of one worker process next to bare
// BullMQ, on the same Redis in the same run. Bare: a BullMQ Worker whose
// processor does nothing, at the ai-reply queue's default concurrency. Ours:
// workers/main.ts, unchanged, with AI_PROVIDER=noop, running real ai-reply
// jobs (outbox rows on real tickets) through runJob: the row claimed as
// running, the ticket, thread and knowledge base read in the tenant, the reply
// stored as an internal draft with its job key, the row marked succeeded. Only
// the model's latency is gone. Prints jobs/s of each, the ratio, and CPU time
// per job of the process that ran them.
//
//
// Then webhook deliveries, the same way: bare, a BullMQ Worker whose
// processor makes one HTTP POST of the same size (body and headers) to a
// receiver on loopback that answers 200 (bench/receiver.ts, a process of its
// own); ours, the same worker process running real `webhook` jobs: N
// message.created events of a tenant with one endpoint, each with its delivery
// and first-attempt job as the event's statement writes them
// (domain/events/record.ts), through runJob and processWebhook (the claim, the
// delivery and endpoint read, the signed POST to the same receiver, the
// attempt recorded, the row marked), at the webhook queue's default
// concurrency for both.
//
// BENCH_JOBS (default 10000; both pairs), BENCH_JOBS_ONLY (`ai-reply` or
// `webhook`: one pair only), BENCH_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/deskpilot_bench_jobs, created and
// migrated when missing), BENCH_REDIS_URL (default redis://127.0.0.1:6379).
import { randomBytes } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { loadConfig } from '../src/config.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { secretContext } from '../src/domain/webhooks/endpoints.ts'
import { closeQueues, createQueues, pushJobs } from '../src/jobs/producer.ts'
import {
  bullPrefix,
  jobOptions,
  type QueueName,
  queues as queueSettings,
} from '../src/jobs/queues.ts'
import { createSecretBox } from '../src/lib/secret-box.ts'
import { USER_AGENT } from '../src/lib/webhooks/deliver.ts'
import { createWebhookSecret } from '../src/lib/webhooks/secrets.ts'
import { freePort, spawnNode, waitForHttp } from '../tests/fixtures/processes.ts'

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000)
const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/deskpilot_bench_jobs'
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const CHUNK = 1000
const defaults = loadConfig({})
const concurrency = defaults.WORKER_CONCURRENCY_AI
const webhookConcurrency = defaults.WORKER_CONCURRENCY_WEBHOOK
const ONLY = process.env.BENCH_JOBS_ONLY
/** Seals the bench endpoint's secret; the worker opens it with the same key. */
const SECRET_ENCRYPTION_KEY = randomBytes(32).toString('hex')

type Result = { seconds: number; cpuSeconds: number }

async function prepareDatabase() {
  const url = new URL(DATABASE_URL)
  const name = url.pathname.slice(1)
  url.pathname = '/postgres'
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`
    if (!exists) await admin.unsafe(`create database "${name}"`)
  } finally {
    await admin.end({ timeout: 1 })
  }
  await runMigrations({ url: DATABASE_URL, dataDir: '.data' })
}

/** Bare BullMQ: the same job options, and a processor that returns at once (or `work`). */
async function bareBullmq(
  prefix: string,
  queue: QueueName = 'ai-reply',
  workers = concurrency,
  work: () => Promise<unknown> = async () => ({ outcome: 'succeeded' }),
): Promise<Result> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const bull = new Queue('noop', { connection, prefix })
  let done = 0
  let finished: () => void = () => {}
  const allDone = new Promise<void>((resolve) => {
    finished = resolve
  })
  const worker = new Worker('noop', work, {
    connection: { url: REDIS_URL },
    prefix,
    concurrency: workers,
  })
  worker.on('completed', () => {
    if (++done === JOBS) finished()
  })
  worker.on('failed', (_job, err) => console.error(`bare job failed: ${err.message}`))
  await worker.waitUntilReady()
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < JOBS; i += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, JOBS - i) }, (_, k) => `bare-${i + k}`)
    await bull.addBulk(ids.map((id) => ({ name: 'noop', data: {}, opts: jobOptions(queue, id) })))
  }
  await allDone
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  await worker.close()
  await bull.obliterate({ force: true })
  await bull.close()
  connection.disconnect()
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 }
}

/** N tickets in a fresh tenant (draft mode: replies are internal, no emails) and an ai-reply row each. */
async function seedJobs(sql: postgres.Sql) {
  const slug = `bench-${randomBytes(4).toString('hex')}`
  const [tenant] = await sql<{ id: string }[]>`
    insert into tenants (id, name, slug, settings)
    values (gen_random_uuid(), ${slug}, ${slug}, '{"aiReplyMode":"draft"}') returning id`
  const [user] = await sql<{ id: string }[]>`
    insert into users (id, email, name, password_hash)
    values (gen_random_uuid(), ${`${slug}@example.test`}, 'Bench Customer', 'x') returning id`
  const tenantId = tenant!.id
  const [contact] = await sql<{ id: string }[]>`
    insert into contacts (id, tenant_id, email, name, user_id)
    values (gen_random_uuid(), ${tenantId}, ${`${slug}@example.test`}, 'Bench Customer', ${user!.id})
    returning id`
  await sql`
    insert into tickets (id, tenant_id, number, subject, requester_id)
    select gen_random_uuid(), ${tenantId}, n, 'Cannot log in', ${contact!.id}
    from generate_series(1, ${JOBS}) n`
  await sql`
    insert into messages (id, tenant_id, ticket_id, author_type, body)
    select gen_random_uuid(), tenant_id, id, 'customer', 'I forgot my password.'
    from tickets where tenant_id = ${tenantId}`
  const rows = await sql<{ id: string }[]>`
    insert into jobs (id, tenant_id, type, payload, max_attempts)
    select gen_random_uuid(), tenant_id, 'ai-reply', jsonb_build_object('ticketId', id), 4
    from tickets where tenant_id = ${tenantId}
    returning id`
  return { tenantId, userId: user!.id, jobIds: rows.map((r) => r.id) }
}

/** workers/main.ts as production runs it, with the noop AI provider and loopback webhooks allowed. */
async function spawnWorker(redisPrefix: string) {
  const port = await freePort()
  const worker = spawnNode('workers/main.ts', {
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'),
    // Required in production; the noop provider's replies are drafts, which email no one.
    SMTP_URL: 'smtp://127.0.0.1:2525',
    SECRET_ENCRYPTION_KEY,
    DATABASE_URL,
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    AI_PROVIDER: 'noop',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORKER_PORT: String(port),
    LOG_LEVEL: 'warn',
    // e.g. "--cpu-prof --cpu-prof-dir=bench/profiles" (see bench/setup.ts)
    ...(process.env.BENCH_NODE_FLAGS ? { NODE_OPTIONS: process.env.BENCH_NODE_FLAGS } : {}),
  })
  return { port, worker }
}

/**
 * Pushes the seeded jobs to a worker process of their queue and times it until
 * `done()` counts them all finished: wall time and the worker's CPU.
 */
async function timeOnWorker(
  redisPrefix: string,
  queue: 'ai-reply' | 'webhook',
  seeded: { tenantId: string; jobIds: string[] },
  done: () => Promise<number>,
): Promise<Result> {
  const { port, worker } = await spawnWorker(redisPrefix)
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`)
    const cpuBefore = await workerCpuSeconds(port)
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    await new Promise((resolve) => redis.once('ready', resolve))
    const queues = createQueues(redis, redisPrefix)
    const started = performance.now()
    for (let i = 0; i < JOBS; i += CHUNK) {
      const chunk = seeded.jobIds.slice(i, i + CHUNK)
      await pushJobs(
        redis,
        queues,
        chunk.map((id) => ({ id, queue, tenantId: seeded.tenantId })),
        30_000,
      )
    }
    while ((await done()) < JOBS) await new Promise((r) => setTimeout(r, 50))
    const seconds = (performance.now() - started) / 1000
    const cpuSeconds = (await workerCpuSeconds(port)) - cpuBefore
    await closeQueues(queues)
    redis.disconnect()
    return { seconds, cpuSeconds }
  } finally {
    worker.process.kill('SIGTERM')
    await worker.exited
  }
}

async function ourWorker(sql: postgres.Sql, redisPrefix: string): Promise<Result> {
  const seeded = await seedJobs(sql)
  // Each run deletes its tenant afterwards; without this the dead rows of
  // earlier runs pile up in the indexes and the figures drift down run by run.
  await sql`vacuum analyze tickets, messages, jobs`
  try {
    const result = await timeOnWorker(redisPrefix, 'ai-reply', seeded, async () => {
      const [row] = await sql<{ done: number }[]>`
        select count(*)::int as done from jobs
        where tenant_id = ${seeded.tenantId} and state in ('succeeded', 'failed')`
      return row!.done
    })
    const [check] = await sql<{ failed: number; replies: number }[]>`
      select (select count(*)::int from jobs where tenant_id = ${seeded.tenantId} and state = 'failed') as failed,
             (select count(*)::int from messages where tenant_id = ${seeded.tenantId} and author_type = 'ai') as replies`
    if (check!.failed > 0 || check!.replies !== JOBS) {
      throw new Error(`expected ${JOBS} replies and no failures, got ${JSON.stringify(check)}`)
    }
    return result
  } finally {
    await sql`delete from tenants where id = ${seeded.tenantId}`
    await sql`delete from users where id = ${seeded.userId}`
  }
}

/**
 * What a message.created event holds (a message as an agent reads it, the
 * bench's reply text), so the delivery's body has the size of a real one.
 */
function messageEventData() {
  return {
    message: {
      id: '01a2535d-b60a-738c-b657-aea91f417519',
      ticketId: '01a2535d-b60a-738c-b657-aea91f41751a',
      authorId: '01a2535d-b60a-738c-b657-aea91f41751b',
      authorType: 'agent',
      contactId: null,
      body: 'Thanks, we are looking into it and will update you shortly.',
      internal: false,
      sources: [],
      createdAt: '2026-01-01T00:00:00.000Z',
    },
  }
}

/**
 * A tenant with one endpoint (every event, on the receiver) and N
 * message.created events, each with its delivery and first-attempt job, the
 * rows the event's statement writes for them.
 */
async function seedWebhooks(sql: postgres.Sql, url: string) {
  const slug = `bench-${randomBytes(4).toString('hex')}`
  const [tenant] = await sql<{ id: string }[]>`
    insert into tenants (id, name, slug) values (gen_random_uuid(), ${slug}, ${slug}) returning id`
  const tenantId = tenant!.id
  const [endpoint] = await sql<{ id: string }[]>`
    insert into webhook_endpoints (id, tenant_id, url, events, active, secret)
    values (gen_random_uuid(), ${tenantId}, ${url}, '["*"]', true, 'sealed below') returning id`
  const endpointId = endpoint!.id
  const box = createSecretBox({ SECRET_ENCRYPTION_KEY, SECRET_ENCRYPTION_PREVIOUS_KEYS: [] })
  await sql`update webhook_endpoints
    set secret = ${box.seal(createWebhookSecret(), secretContext(endpointId))} where id = ${endpointId}`
  await sql`insert into event_counters (tenant_id, last_sequence) values (${tenantId}, ${JOBS})`
  await sql`
    insert into events (id, tenant_id, sequence, type, data)
    select gen_random_uuid(), ${tenantId}, g, 'message.created', ${sql.json(messageEventData())}
    from generate_series(1, ${JOBS}) g`
  await sql`
    insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_sequence, type, occurred_at, data)
    select gen_random_uuid(), tenant_id, ${endpointId}, id, sequence, type, occurred_at, data
    from events where tenant_id = ${tenantId}`
  const rows = await sql<{ id: string }[]>`
    insert into jobs (id, tenant_id, type, payload, max_attempts)
    select id, tenant_id, 'webhook', jsonb_build_object('deliveryId', id), ${queueSettings.webhook.maxAttempts}
    from webhook_deliveries where tenant_id = ${tenantId}
    returning id`
  return { tenantId, jobIds: rows.map((r) => r.id) }
}

/** The receiver in a process of its own; its URL. */
async function spawnReceiver() {
  const child = spawnNode('bench/receiver.ts', {})
  const [, url] = await child.waitForLine(/^receiver listening at (\S+)$/)
  return { child, url: url! }
}

/**
 * Bare: one keep-alive POST per job, with what ours sends (the body of a
 * message.created event, the Standard Webhooks headers with a signature of
 * the same length computed once), read to the end.
 */
function barePost(url: string) {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 32 })
  const body = JSON.stringify({
    type: 'message.created',
    timestamp: new Date().toISOString(),
    data: messageEventData(),
  })
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': USER_AGENT,
    'webhook-id': '01a2535d-b60a-738c-b657-aea91f41751c',
    'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    'webhook-signature': `v1,${randomBytes(32).toString('base64')}`,
  }
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers, agent }, (res) => {
        res.on('data', () => {})
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        )
      })
      req.on('error', reject)
      req.end(body)
    })
}

async function ourWebhooks(sql: postgres.Sql, redisPrefix: string, url: string) {
  const seeded = await seedWebhooks(sql, url)
  await sql`vacuum analyze events, webhook_deliveries, jobs`
  try {
    const result = await timeOnWorker(redisPrefix, 'webhook', seeded, async () => {
      const [row] = await sql<{ done: number }[]>`
        select count(*)::int as done from webhook_deliveries
        where tenant_id = ${seeded.tenantId} and state <> 'pending'`
      return row!.done
    })
    const [check] = await sql<{ succeeded: number; putOff: number }[]>`
      select (select count(*)::int from webhook_deliveries
              where tenant_id = ${seeded.tenantId} and state = 'succeeded') as succeeded,
             (select count(*)::int from jobs
              where tenant_id = ${seeded.tenantId} and result ? 'putOff') as "putOff"`
    if (check!.succeeded !== JOBS) {
      throw new Error(`expected ${JOBS} deliveries succeeded, got ${JSON.stringify(check)}`)
    }
    return { ...result, putOff: check!.putOff }
  } finally {
    await sql`delete from tenants where id = ${seeded.tenantId}`
  }
}

async function workerCpuSeconds(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const match = /^process_cpu_seconds_total (\S+)$/m.exec(text)
  return match ? Number(match[1]) : Number.NaN
}

/** The run's keys: under the plain prefix, and BullMQ's under hash tags that start with it. */
async function deleteKeys(prefix: string) {
  const redis = new Redis(REDIS_URL)
  for (const pattern of [`${prefix}*`, `{${prefix}*`]) {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  }
  redis.disconnect()
}

function line(label: string, r: Result) {
  const perJobMs = ((r.cpuSeconds / JOBS) * 1000).toFixed(3)
  return `${label.padEnd(28)} ${(JOBS / r.seconds).toFixed(0).padStart(7)} jobs/s  ${r.seconds.toFixed(2).padStart(7)} s  ${perJobMs} ms CPU/job`
}

async function main() {
  await prepareDatabase()
  const sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {} })
  const redisPrefix = `benchjobs:${randomBytes(4).toString('hex')}`
  let receiver: Awaited<ReturnType<typeof spawnReceiver>> | undefined
  try {
    if (!ONLY || ONLY === 'ai-reply') {
      console.log(
        `${JOBS} jobs, concurrency ${concurrency} (the ai-reply default), one process each`,
      )
      const bare = await bareBullmq(bullPrefix(`${redisPrefix}:bare`))
      console.log(line('bare BullMQ no-op', bare))
      const ours = await ourWorker(sql, redisPrefix)
      console.log(line('worker, ai-reply, noop AI', ours))
      console.log(
        `ratio ${(bare.seconds / ours.seconds).toFixed(2)}× of bare BullMQ (target ≥ 0.5×)`,
      )
    }
    if (!ONLY || ONLY === 'webhook') {
      receiver = await spawnReceiver()
      console.log(
        `\n${JOBS} webhook deliveries to one endpoint on loopback, concurrency ` +
          `${webhookConcurrency} (the webhook default), one process each`,
      )
      const bare = await bareBullmq(
        bullPrefix(`${redisPrefix}:barehook`),
        'webhook',
        webhookConcurrency,
        barePost(receiver.url),
      )
      console.log(line('bare BullMQ, one POST', bare))
      const ours = await ourWebhooks(sql, redisPrefix, receiver.url)
      console.log(line('worker, webhook', ours))
      console.log(
        `ratio ${(bare.seconds / ours.seconds).toFixed(2)}× of bare BullMQ making the same POST ` +
          `(${ours.putOff} attempts put off over the endpoint's share of slots)`,
      )
    }
  } finally {
    receiver?.child.process.kill('SIGTERM')
    await receiver?.child.exited
    await sql.end({ timeout: 1 })
    await deleteKeys(redisPrefix)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
