// Redis killed (a private redis-server, SIGKILL, started again empty on the
// same port) while events are being written and delivered: requests keep being
// answered, each event's deliveries wait in the database with their jobs, and
// once Redis is back every one reaches the receiver, none is lost, and each
// carries its own event's webhook-id on every attempt.
import { afterAll, describe, expect, it } from 'vitest'
import type { Child } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { startPrivateRedis } from '../helpers/redis-server.ts'
import { createTestTenant } from '../helpers/tenancy.ts'
import { startWorkerFor } from '../helpers/worker.ts'
import { startReceiver } from '../webhooks/receiver.ts'

const redis = await startPrivateRedis()
const received = new Map<string, number>()
const receiver = await startReceiver((_req, res, request) => {
  const id = String(request.headers['webhook-id'])
  received.set(id, (received.get(id) ?? 0) + 1)
  res.writeHead(200).end('ok')
})
const ctx = await useTestApp({
  env: {
    REDIS_URL: redis.url,
    LOG_LEVEL: 'silent',
    AUTH_RATE_LIMIT_MAX: '10000',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  },
})
const children: Child[] = []
afterAll(async () => {
  for (const child of children) child.kill()
  await Promise.all(children.map((c) => c.exited))
  await receiver.close()
  await redis.close()
})

children.push(
  await startWorkerFor(ctx, {
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_BACKOFF_SCALE: '0.001',
  }),
)

describe('Redis killed while events are written', () => {
  it('loses no delivery: each event reaches the receiver once Redis is back', async () => {
    const t = await createTestTenant(ctx)
    const hook = await ctx.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: t.admin.headers,
      payload: { url: receiver.url(), events: ['ticket.created'] },
    })
    expect(hook.statusCode, hook.body).toBe(201)
    const endpointId = hook.json().id as string
    const open = async (n: number) => {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/tickets',
        headers: t.agent.headers,
        payload: { subject: `Ticket ${n}`, body: 'Body' },
      })
      expect(res.statusCode, res.body).toBe(201)
    }

    for (let n = 0; n < 5; n++) await open(n)
    await redis.kill()
    try {
      // Written while Redis is away: answered at once, their deliveries wait in the database.
      for (let n = 5; n < 15; n++) await open(n)
    } finally {
      await redis.start()
    }
    for (let n = 15; n < 20; n++) await open(n)

    await expect
      .poll(
        async () => {
          const [row] = await ctx.sql<{ done: number; total: number }[]>`
            select count(*) filter (where state = 'succeeded')::int as done, count(*)::int as total
            from webhook_deliveries where endpoint_id = ${endpointId}`
          return row
        },
        { timeout: 45_000, interval: 200 },
      )
      .toEqual({ done: 20, total: 20 })
    const rows = await ctx.sql<{ event_id: string }[]>`
      select event_id from webhook_deliveries where endpoint_id = ${endpointId}`
    const eventIds = rows.map((r) => r.event_id)
    expect(new Set(eventIds).size).toBe(20)
    for (const id of eventIds) expect(received.get(id), id).toBeGreaterThanOrEqual(1)
    // At least once, and here, with nothing failing, exactly once.
    expect([...received.values()].every((n) => n === 1)).toBe(true)
  })
})
