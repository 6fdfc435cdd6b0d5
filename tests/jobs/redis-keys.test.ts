// Every Redis key the api and a worker write carries the deployment's prefix,
// and every BullMQ key carries it as a hash tag (`{prefix}:<queue>:...`), so
// that on Redis Cluster each queue's keys share one slot while rate limits and
// caches stay under the plain prefix. The api and the worker run on a private
// redis-server: every key in it is theirs, so a key written without the prefix
// cannot hide among other test files' keys. Users act through the API: sign-up
// and a customer's ticket in a tenant with AI replies on, which the worker
// answers (an ai-reply job) and emails (email jobs for the reply and the new ticket).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bullPrefix, queueNames } from '../../src/jobs/queues.ts'
import { api, PASSWORD_ARTICLE } from '../ai/arrange.ts'
import { type Child, freePort, spawnNode } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { startPrivateRedis } from '../helpers/redis-server.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { createTestTenant } from '../helpers/tenancy.ts'
import { waitForJob } from './seed.ts'

const redis = await startPrivateRedis()
const sink = await startSmtpSink()
const ctx = await useTestApp({
  env: { REDIS_URL: redis.url, SMTP_URL: sink.url, LOG_LEVEL: 'silent' },
})
const prefix = ctx.config.REDIS_PREFIX
const { setMode, article, openTicket } = api(ctx)
let worker: Child

beforeAll(async () => {
  worker = spawnNode('workers/main.ts', {
    NODE_ENV: 'test',
    DATABASE_URL: ctx.database.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    SMTP_URL: sink.url,
    WORKER_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  })
  await worker.waitForLine(/"worker started"/)
})
afterAll(async () => {
  worker?.kill()
  await sink.close()
  await redis.close()
})

async function allKeys(): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = (await redis.command('SCAN', cursor, 'COUNT', 1000)) as [string, string[]]
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys.sort()
}

describe('Redis keys', () => {
  it('every key has the prefix; every BullMQ key has it as a hash tag', async () => {
    const acme = await createTestTenant(ctx)
    await setMode(acme, 'auto')
    await article(acme, PASSWORD_ARTICLE.title, PASSWORD_ARTICLE.body)
    const ticket = await openTicket(
      acme.customer,
      'Cannot log in',
      'I forgot my password and cannot log in. How do I reset it?',
    )
    // The AI reply, then every job the ticket and the reply caused (emails), run to the end.
    const [aiJob] = await ctx.sql<{ id: string }[]>`
      select id from jobs where type = 'ai-reply' and payload->>'ticketId' = ${ticket.id}`
    expect(aiJob).toBeDefined()
    expect(await waitForJob(ctx.sql, aiJob!.id)).toMatchObject({ state: 'succeeded' })
    const jobs = await ctx.sql<{ id: string; type: string }[]>`
      select id, type from jobs where tenant_id = ${acme.id}`
    for (const job of jobs) {
      expect(await waitForJob(ctx.sql, job.id)).toMatchObject({ state: 'succeeded' })
    }
    expect(new Set(jobs.map((j) => j.type))).toEqual(new Set(['ai-reply', 'email']))
    expect(sink.messages.length).toBeGreaterThan(0)

    const keys = await allKeys()
    const tag = bullPrefix(prefix)
    const tagged = keys.filter((k) => k.startsWith(`${tag}:`))
    const plain = keys.filter((k) => k.startsWith(`${prefix}:`))
    expect(keys.filter((k) => !tagged.includes(k) && !plain.includes(k))).toEqual([])

    // Under the hash tag, queues only: `{prefix}:<queue>` or `{prefix}:<queue>:...`.
    const queueOf = (key: string) => key.slice(tag.length + 1).split(':')[0]
    expect(tagged.filter((k) => !queueNames.includes(queueOf(k) as never))).toEqual([])
    for (const queue of queueNames) {
      expect(tagged.some((k) => k.startsWith(`${tag}:${queue}:`))).toBe(true)
    }
    for (const job of jobs) expect(tagged).toContain(`${tag}:${job.type}:${job.id}`)

    // Under the plain prefix, the rate limits only (caches live in process
    // memory and hear of changes over pub/sub), so no queue key is outside the tag.
    expect(plain.filter((k) => !k.startsWith(`${prefix}:rl:`))).toEqual([])
    expect(plain.some((k) => k.startsWith(`${prefix}:rl:`))).toBe(true)
    // The tag is the prefix itself: `{dp}` for the default `dp`.
    expect(tag).toBe(`{${prefix}}`)
  })
})
