// Webhook deliveries end to end: the api writes events, a real worker process
// delivers them to real receivers on loopback, and the receiver verifies them
// with the standardwebhooks package as any receiver would. The backoff runs
// at WEBHOOK_BACKOFF_SCALE=0.001 (the first hour of retries in 3.6 s), never
// with sleeps standing in for it. Each test runs its own worker.
import type { ServerResponse } from 'node:http'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type Child, freePort } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'
import { startWorkerFor } from '../helpers/worker.ts'
import { plainHeaders, type ReceivedRequest, type Receiver, startReceiver } from './receiver.ts'

const SCALE = 0.001
const sink = await startSmtpSink()
const ctx = await useTestApp({
  env: {
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'silent',
    AUTH_RATE_LIMIT_MAX: '10000',
  },
})
const children: Child[] = []
const receivers: Receiver[] = []

afterEach(async () => {
  const running = children.splice(0)
  for (const child of running) child.kill()
  await Promise.all(running.map((child) => child.exited))
  await Promise.all(receivers.splice(0).map((r) => r.close()))
})
afterAll(() => sink.close())

async function startWorker(env: Record<string, string> = {}) {
  const worker = await startWorkerFor(ctx, {
    SMTP_URL: sink.url,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_BACKOFF_SCALE: String(SCALE),
    WEBHOOK_TIMEOUT_MS: '1000',
    ...env,
  })
  children.push(worker)
  return worker
}

async function receiver(
  handler: (res: ServerResponse, received: ReceivedRequest, index: number) => void,
): Promise<Receiver> {
  let count = 0
  const started = await startReceiver((_req, res, received) => handler(res, received, count++))
  receivers.push(started)
  return started
}

const ok = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')

async function call(actor: Actor, method: string, url: string, payload?: unknown) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

async function endpoint(tenant: TestTenant, url: string, events: string[] = ['ticket.created']) {
  const res = await call(tenant.admin, 'POST', '/v1/webhooks', { url, events })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string; secret: string }
}

async function openTicket(tenant: TestTenant, subject = 'Printer on fire') {
  const res = await call(tenant.agent, 'POST', '/v1/tickets', { subject, body: 'It smokes' })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string; number: number }
}

type DeliveryRow = {
  id: string
  state: string
  event_id: string
  attempts: { at: string; statusCode?: number; error?: string; responseExcerpt: string }[]
}

async function deliveries(endpointId: string): Promise<DeliveryRow[]> {
  return ctx.sql<DeliveryRow[]>`
    select id, state, event_id, attempts from webhook_deliveries
    where endpoint_id = ${endpointId} order by created_at, id`
}

async function settled(endpointId: string, count: number, timeout = 20_000) {
  await expect
    .poll(async () => (await deliveries(endpointId)).filter((d) => d.state !== 'pending').length, {
      timeout,
      interval: 50,
    })
    .toBe(count)
  return deliveries(endpointId)
}

function verify(secret: string, request: ReceivedRequest) {
  return new Webhook(secret).verify(request.body, plainHeaders(request.headers)) as {
    type: string
    timestamp: string
    data: Record<string, unknown>
  }
}

describe('webhook delivery', () => {
  it('delivers each event, signed as the standardwebhooks package verifies', async () => {
    await startWorker()
    const tenant = await createTestTenant(ctx)
    const hook = await receiver((res) => ok(res))
    const { id, secret } = await endpoint(tenant, hook.url())
    const ticket = await openTicket(tenant)
    const [delivery] = await settled(id, 1)
    expect(delivery).toMatchObject({ state: 'succeeded' })
    expect(delivery!.attempts).toEqual([
      expect.objectContaining({ statusCode: 200, responseExcerpt: 'ok' }),
    ])
    expect(hook.requests).toHaveLength(1)
    const request = hook.requests[0]!
    expect(request.headers['webhook-id']).toBe(delivery!.event_id)
    expect(request.headers['content-type']).toBe('application/json')
    const body = verify(secret, request)
    expect(body.type).toBe('ticket.created')
    expect(body.data).toMatchObject({ ticket: { id: ticket.id, number: ticket.number } })
    // A forged body, or another endpoint's secret, does not verify.
    expect(() =>
      verify(secret, { ...request, body: request.body.replace('fire', 'ice') }),
    ).toThrow()
    const other = await endpoint(tenant, hook.url('/other'))
    expect(() => verify(other.secret, request)).toThrow()
  })

  it('retries a 503 with the same webhook-id until the 200, logging each attempt', async () => {
    await startWorker()
    const tenant = await createTestTenant(ctx)
    const hook = await receiver((res, _r, index) => {
      if (index < 2) res.writeHead(503, { 'retry-after': '0' }).end('busy')
      else ok(res)
    })
    const { id, secret } = await endpoint(tenant, hook.url())
    await openTicket(tenant)
    const [delivery] = await settled(id, 1)
    expect(delivery!.state).toBe('succeeded')
    expect(delivery!.attempts.map((a) => a.statusCode)).toEqual([503, 503, 200])
    expect(delivery!.attempts[0]).toMatchObject({ error: 'HTTP 503', responseExcerpt: 'busy' })
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([delivery!.event_id]),
    )
    for (const request of hook.requests) verify(secret, request)
  })

  it('takes a 400 as final: one attempt, failed, never retried', async () => {
    await startWorker()
    const tenant = await createTestTenant(ctx)
    const hook = await receiver((res) => res.writeHead(400).end('bad payload'))
    const { id } = await endpoint(tenant, hook.url())
    await openTicket(tenant)
    const [delivery] = await settled(id, 1)
    expect(delivery).toMatchObject({ state: 'failed' })
    expect(delivery!.attempts).toEqual([
      expect.objectContaining({ statusCode: 400, responseExcerpt: 'bad payload' }),
    ])
    // A retry would come within 30 s × the scale; give it ten times that.
    await new Promise((r) => setTimeout(r, 300))
    expect(hook.requests).toHaveLength(1)
    const [row] = await ctx.sql<{ failing_since: Date | null }[]>`
      select failing_since from webhook_endpoints where id = ${id}`
    expect(row!.failing_since).not.toBeNull()
  })

  it('keeps trying a receiver that is down for the whole first hour of backoff', async () => {
    await startWorker()
    const tenant = await createTestTenant(ctx)
    const port = await freePort()
    const { id, secret } = await endpoint(tenant, `http://127.0.0.1:${port}/hook`)
    await openTicket(tenant)
    // One hour of backoff at this scale; meanwhile nothing listens on the port.
    await new Promise((r) => setTimeout(r, 3600_000 * SCALE))
    const failedMeanwhile = (await deliveries(id))[0]!
    expect(failedMeanwhile.state).toBe('pending')
    expect(failedMeanwhile.attempts.length).toBeGreaterThanOrEqual(5)
    expect(failedMeanwhile.attempts.length).toBeLessThanOrEqual(9)
    for (const attempt of failedMeanwhile.attempts) expect(attempt.error).toMatch(/ECONNREFUSED/)
    // Waits grow: the last gap is much longer than the first.
    const times = failedMeanwhile.attempts.map((a) => Date.parse(a.at))
    expect(times.at(-1)! - times.at(-2)!).toBeGreaterThan((times[1]! - times[0]!) * 4)

    const { createServer } = await import('node:http')
    const received: ReceivedRequest[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        })
        ok(res)
      })
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    try {
      const [delivery] = await settled(id, 1, 30_000)
      expect(delivery!.state).toBe('succeeded')
      expect(received).toHaveLength(1)
      expect(received[0]!.headers['webhook-id']).toBe(delivery!.event_id)
      verify(secret, received[0]!)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('one hanging endpoint does not delay the others', async () => {
    await startWorker({ WORKER_CONCURRENCY_WEBHOOK: '8' })
    const tenant = await createTestTenant(ctx)
    let open = 0
    let mostOpen = 0
    const hanging = await receiver(() => {
      open++
      mostOpen = Math.max(mostOpen, open)
      // Never answered: the worker gives up after WEBHOOK_TIMEOUT_MS.
    })
    const fine = await receiver((res) => ok(res))
    const slow = await endpoint(tenant, hanging.url())
    const healthy = await endpoint(tenant, fine.url())
    const started = Date.now()
    for (let i = 0; i < 20; i++) await openTicket(tenant, `Ticket ${i}`)
    await settled(healthy.id, 20, 15_000)
    const tookMs = Date.now() - started
    // 20 deliveries to a hanging receiver, 1 s each, through 8 slots would take 2.5 s
    // or more in front of the healthy ones; they got through alongside instead.
    expect(tookMs).toBeLessThan(4000)
    expect(fine.requests).toHaveLength(20)
    // At most 3/4 of the slots ever waited on the hanging endpoint.
    expect(mostOpen).toBeLessThanOrEqual(6)
    const slowOnes = await deliveries(slow.id)
    expect(slowOnes.every((d) => d.state === 'pending')).toBe(true)
  })

  it('signs with both secrets for 24 hours after a rotation', async () => {
    await startWorker()
    const tenant = await createTestTenant(ctx)
    const hook = await receiver((res) => ok(res))
    const { id, secret: before } = await endpoint(tenant, hook.url())
    const rotated = await call(tenant.admin, 'POST', `/v1/webhooks/${id}/rotate-secret`)
    const after = rotated.json().secret as string
    await openTicket(tenant)
    await settled(id, 1)
    const request = hook.requests[0]!
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2)
    verify(before, request)
    verify(after, request)
    // Once the 24 hours are over, only the new secret signs.
    await ctx.sql`update webhook_endpoints set previous_secret_expires_at = now() - interval '1 second'
                  where id = ${id}`
    await openTicket(tenant, 'Second')
    await settled(id, 2)
    const later = hook.requests[1]!
    expect(String(later.headers['webhook-signature']).split(' ')).toHaveLength(1)
    verify(after, later)
    expect(() => verify(before, later)).toThrow()
  })

  it('sends a test now whatever the filter, and redelivers with the same webhook-id', async () => {
    await startWorker()
    const tenant = await createTestTenant(ctx)
    const hook = await receiver((res, _r, index) =>
      index === 0 ? res.writeHead(500).end('oops') : ok(res),
    )
    const { id, secret } = await endpoint(tenant, hook.url(), ['contact.created'])
    const test = await call(tenant.admin, 'POST', `/v1/webhooks/${id}/test`)
    expect(test.statusCode, test.body).toBe(202)
    const delivery = test.json()
    expect(delivery).toMatchObject({ type: 'webhook.test', state: 'pending', attempts: [] })
    const [failed] = await settled(id, 1)
    // A test is one attempt: the 500 is not retried.
    expect(failed).toMatchObject({
      state: 'failed',
      attempts: [expect.objectContaining({ statusCode: 500 })],
    })
    expect(verify(secret, hook.requests[0]!)).toMatchObject({
      type: 'webhook.test',
      data: { webhook: { id, url: hook.url() } },
    })

    const again = await call(
      tenant.admin,
      'POST',
      `/v1/webhooks/${id}/deliveries/${delivery.id}/redeliver`,
    )
    expect(again.statusCode, again.body).toBe(202)
    await expect
      .poll(async () => (await deliveries(id))[0]!.attempts.length, { timeout: 10_000 })
      .toBe(2)
    const [redelivered] = await deliveries(id)
    expect(redelivered).toMatchObject({ state: 'succeeded' })
    expect(hook.requests.map((r) => r.headers['webhook-id'])).toEqual([
      delivery.eventId,
      delivery.eventId,
    ])
    const log = await call(tenant.admin, 'GET', `/v1/webhooks/${id}/deliveries`)
    expect(log.json().data[0].attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([
      500, 200,
    ])
  })

  it('turns off an endpoint failing for 3 days: audited, admins emailed, nothing more sent', async () => {
    await startWorker()
    const tenant = await createTestTenant(ctx)
    const hook = await receiver((res) => res.writeHead(500).end('down'))
    const { id } = await endpoint(tenant, hook.url())
    // Failing since before the 3 days (at this scale: 259 s) began.
    await ctx.sql`update webhook_endpoints set failing_since = now() - interval '1 hour' where id = ${id}`
    await openTicket(tenant)
    await expect
      .poll(async () => (await call(tenant.admin, 'GET', `/v1/webhooks/${id}`)).json().active, {
        timeout: 10_000,
      })
      .toBe(false)
    const shown = (await call(tenant.admin, 'GET', `/v1/webhooks/${id}`)).json()
    expect(shown.disabledReason).toMatch(/3 days/)
    const [audit] = await ctx.sql<{ action: string }[]>`
      select action from audit_events where target_id = ${id} and action = 'webhook.disabled'`
    expect(audit).toBeDefined()
    // Other mail (a new ticket's notice) may arrive meanwhile: wait for these two.
    const turnedOff = () => sink.messages.filter((m) => m.subject.includes('was turned off'))
    await expect.poll(() => turnedOff().length, { timeout: 10_000 }).toBe(2)
    const notices = turnedOff()
    expect(notices.flatMap((m) => m.to).sort()).toEqual(
      [tenant.owner.email, tenant.admin.email].sort(),
    )
    expect(notices[0]!.text).toContain(hook.url())
    // The attempt that turned it off is the delivery's last; a later event makes none.
    expect((await deliveries(id)).map((d) => d.state)).toEqual(['failed'])
    await openTicket(tenant, 'After')
    await new Promise((r) => setTimeout(r, 300))
    expect((await deliveries(id)).map((d) => d.state)).toEqual(['failed'])
    expect(hook.requests).toHaveLength(1)
  })

  it('a worker killed mid-delivery: the next worker delivers it, same webhook-id, once', async () => {
    const first = await startWorker()
    const tenant = await createTestTenant(ctx)
    let arrived: () => void = () => {}
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const hook = await receiver((res, _r, index) => {
      if (index === 0)
        arrived() // held: the first worker dies waiting for this answer
      else ok(res)
    })
    const { id } = await endpoint(tenant, hook.url())
    await openTicket(tenant)
    await arrival
    first.kill()
    await first.exited
    await startWorker()
    const [delivery] = await settled(id, 1, 20_000)
    expect(delivery!.state).toBe('succeeded')
    // The killed attempt left no record; the one that answered is logged once.
    expect(delivery!.attempts).toEqual([expect.objectContaining({ statusCode: 200 })])
    expect(hook.requests.length).toBeGreaterThanOrEqual(2)
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([delivery!.event_id]),
    )
  })
})
