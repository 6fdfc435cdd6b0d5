// Local mode (no Redis): the api delivers webhooks itself, through the same
// processor, as soon as the change that wrote the event has committed (the
// in-process signal wakes the relay; the outbox sweeper is not what runs it).

import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { createTestTenant } from '../helpers/tenancy.ts'
import { plainHeaders, startReceiver } from './receiver.ts'

const receiver = await startReceiver((_req, res) => res.writeHead(204).end())
afterAll(() => receiver.close())
const ctx = await useTestApp({
  env: {
    REDIS_URL: '',
    LOG_LEVEL: 'silent',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // Far longer than the test: a delivery that arrives came through the relay.
    JOB_SWEEP_AFTER_SECONDS: '600',
  },
})

describe('webhooks in local mode', () => {
  it('delivers an event within moments of its commit', async () => {
    expect(ctx.app.redis).toBeNull()
    const t = await createTestTenant(ctx)
    const hook = await ctx.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: t.admin.headers,
      payload: { url: receiver.url(), events: ['ticket.created'] },
    })
    expect(hook.statusCode, hook.body).toBe(201)
    const started = Date.now()
    const ticket = await ctx.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: t.agent.headers,
      payload: { subject: 'Local', body: 'Mode' },
    })
    expect(ticket.statusCode).toBe(201)
    await expect.poll(() => receiver.requests.length, { timeout: 5000, interval: 20 }).toBe(1)
    expect(Date.now() - started).toBeLessThan(5000)
    const body = new Webhook(hook.json().secret).verify(
      receiver.requests[0]!.body,
      plainHeaders(receiver.requests[0]!.headers),
    ) as { type: string; data: { ticket: { id: string } } }
    expect(body).toMatchObject({
      type: 'ticket.created',
      data: { ticket: { id: ticket.json().id } },
    })
  })
})
