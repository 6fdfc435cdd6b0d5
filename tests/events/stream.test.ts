// GET /v1/events/stream over real HTTP against listening apps on the real
// PostgreSQL and Redis: an event made on one api copy reaches a stream open on
// another (Redis pub/sub); Last-Event-ID resumes with nothing skipped or
// doubled; a customer sees only its own tickets' public events; heartbeats
// come; a logout or a revoked key ends the stream within a heartbeat; the
// per-process cap answers 503 with Retry-After; app.close() ends open streams.
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.ts'
import type { Config } from '../../src/config.ts'
import { hashToken } from '../../src/lib/tokens.ts'
import { useTestApp } from '../helpers/app.ts'
import { logIn } from '../helpers/auth.ts'
import { type EventStreamClient, openEventStream } from '../helpers/event-stream.ts'
import {
  type Actor,
  createTestTenant,
  signUpUser,
  TEST_PASSWORD,
  type TestTenant,
} from '../helpers/tenancy.ts'

const ctx = await useTestApp({
  env: { EVENT_STREAM_HEARTBEAT_SECONDS: '1', RATE_LIMIT_MAX: '100000', LOG_LEVEL: 'warn' },
})

/** Another api copy: the same database and Redis (prefix), its own process state. */
async function otherCopy(overrides: Partial<Config> = {}): Promise<App> {
  const silent = new Writable({ write: (_chunk, _enc, done) => done() })
  const app = await buildApp({ ...ctx.config, ...overrides }, { logStream: silent })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return app
}

function baseUrl(app: App): string {
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('not listening')
  return `http://127.0.0.1:${address.port}`
}

let copyA: App
let copyB: App
let acme: TestTenant
const streams: EventStreamClient[] = []

beforeAll(async () => {
  await ctx.app.listen({ host: '127.0.0.1', port: 0 })
  copyA = ctx.app
  copyB = await otherCopy()
  acme = await createTestTenant(ctx)
})
afterAll(async () => {
  for (const s of streams) s.close()
  await copyB.close()
})

async function open(app: App, headers: Record<string, string>, query = '') {
  const stream = await openEventStream(`${baseUrl(app)}/v1/events/stream${query}`, headers)
  streams.push(stream)
  return stream
}

async function openTicket(app: App, actor: Actor, subject = 'Help') {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: actor.headers,
    payload: { subject, body: 'Hi' },
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string }
}

async function postMessage(
  app: App,
  actor: Actor,
  ticketId: string,
  body: string,
  internal = false,
) {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/tickets/${ticketId}/messages`,
    headers: actor.headers,
    payload: { body, internal },
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string }
}

async function lastSequence(): Promise<number> {
  const [row] = await ctx.sql<{ last: string }[]>`
    select last_sequence as last from event_counters where tenant_id = ${acme.id}`
  return Number(row?.last ?? 0)
}

type StreamedEvent = {
  id: string
  type: string
  sequence: number
  data: Record<string, Record<string, unknown>>
}
const parsed = (m: { data: string }) => JSON.parse(m.data) as StreamedEvent
const isTicketCreated = (ticketId: string) => (m: { data: string; event?: string }) =>
  m.event === 'ticket.created' && parsed(m).data.ticket?.id === ticketId

describe('live across api copies', () => {
  it('an event made on copy A arrives on a stream open on copy B, whole and with its sequence as id', async () => {
    const end = await lastSequence()
    const stream = await open(copyB, acme.agent.headers)
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const ticket = await openTicket(copyA, acme.agent)
    const message = await stream.next(isTicketCreated(ticket.id))
    const event = parsed(message)
    expect(message.id).toBe(String(event.sequence))
    expect(Object.keys(event).sort()).toEqual(['data', 'id', 'occurredAt', 'sequence', 'type'])
    // Only what happened after it opened: it started at the tenant's end.
    expect(Number(stream.messages[0]!.id)).toBe(end + 1)
  })

  it('arrives by the signal, well before a heartbeat would have read it', async () => {
    const slow = await otherCopy({ EVENT_STREAM_HEARTBEAT_SECONDS: 30 })
    try {
      const stream = await open(slow, acme.agent.headers)
      expect(stream.status).toBe(200)
      const started = Date.now()
      const ticket = await openTicket(copyA, acme.agent)
      await stream.next(isTicketCreated(ticket.id), 3000)
      expect(Date.now() - started).toBeLessThan(3000)
      stream.close()
    } finally {
      await slow.close()
    }
  })

  it('hears of the events of a route with no request tenant: accepting an invitation', async () => {
    const slow = await otherCopy({ EVENT_STREAM_HEARTBEAT_SECONDS: 30 })
    try {
      const stream = await open(slow, acme.owner.headers, '?type=contact.created,contact.updated')
      const invitee = await signUpUser(ctx, 'stream-invitee')
      const invited = await copyA.inject({
        method: 'POST',
        url: '/v1/invitations',
        headers: acme.owner.headers,
        payload: { email: invitee.email, roleId: acme.roles.customer },
      })
      expect(invited.statusCode, invited.body).toBe(201)
      // The email job mints the token; arrange one directly here.
      const token = `stream-invitation-token-${invited.json().id}`
      await ctx.sql`update invitations set token_hash = ${hashToken(token)}
                    where id = ${invited.json().id}`
      const started = Date.now()
      const accepted = await copyA.inject({
        method: 'POST',
        url: '/v1/invitations/accept',
        headers: invitee.headers,
        payload: { token },
      })
      expect(accepted.statusCode, accepted.body).toBe(200)
      const contact = await stream.next((m) => parsed(m).data.contact?.email === invitee.email)
      expect(contact.event).toMatch(/^contact\./)
      expect(Date.now() - started).toBeLessThan(3000)
      stream.close()
    } finally {
      await slow.close()
    }
  })

  it('filters by type like the feed', async () => {
    const stream = await open(copyA, acme.agent.headers, '?type=message.created')
    const ticket = await openTicket(copyB, acme.agent)
    const message = await stream.next((m) => parsed(m).data.message?.ticketId === ticket.id)
    expect(message.event).toBe('message.created')
    expect(stream.messages.every((m) => m.event === 'message.created')).toBe(true)
  })
})

describe('resuming', () => {
  it('Last-Event-ID replays what came while disconnected, then goes on live: nothing skipped or doubled', async () => {
    const first = await open(copyA, acme.agent.headers)
    const t1 = await openTicket(copyA, acme.agent, 'Before the drop')
    const seen = await first.next(isTicketCreated(t1.id))
    // Wait for the ticket's message.created too, so the last id is the end.
    const lastBefore = await first.next(
      (m) => m.event === 'message.created' && parsed(m).data.message?.ticketId === t1.id,
    )
    expect(Number(lastBefore.id)).toBeGreaterThan(Number(seen.id))
    first.close()
    await first.ended

    const missed = [
      await openTicket(copyB, acme.agent, 'While away 1'),
      await openTicket(copyB, acme.agent, 'While away 2'),
    ]
    const again = await open(copyB, { ...acme.agent.headers, 'last-event-id': lastBefore.id! })
    for (const t of missed) await again.next(isTicketCreated(t.id))
    const live = await openTicket(copyA, acme.agent, 'After the return')
    await again.next(isTicketCreated(live.id))

    const rows = await ctx.sql<{ sequence: string }[]>`
      select sequence from events where tenant_id = ${acme.id} and sequence > ${lastBefore.id!}
      order by sequence`
    const expected = rows.map((r) => Number(r.sequence))
    // Wait until everything written so far arrived, then compare exactly.
    await again.next((m) => Number(m.id) === expected.at(-1))
    expect(again.messages.map((m) => Number(m.id))).toEqual(expected)
  })

  it('takes `after` as the feed does, a sequence or a nextCursor', async () => {
    const feed = await copyA.inject({ url: '/v1/events?limit=1', headers: acme.agent.headers })
    const page = feed.json() as { data: { sequence: number }[]; nextCursor: string }
    const stream = await open(copyA, acme.agent.headers, `?after=${page.nextCursor}`)
    const first = await stream.next(() => true)
    expect(Number(first.id)).toBe(page.data[0]!.sequence + 1)
  })

  it('refuses a Last-Event-ID that is no sequence with 400 problem+json', async () => {
    const stream = await open(copyA, { ...acme.agent.headers, 'last-event-id': 'yesterday' })
    expect(stream.status).toBe(400)
    expect(stream.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(JSON.parse(stream.body).code).toBe('validation_failed')
  })

  it('refuses an `after` cursor it did not write with 400 invalid_cursor', async () => {
    const stream = await open(copyA, acme.agent.headers, '?after=not-a-cursor')
    expect(stream.status).toBe(400)
    expect(JSON.parse(stream.body).code).toBe('invalid_cursor')
  })
})

describe("what a reader sees: the feed's rights", () => {
  it("shows a customer only its own tickets' public events, never an internal note", async () => {
    const customerStream = await open(copyB, acme.customer.headers)
    const agentStream = await open(copyB, acme.agent.headers)
    const own = await openTicket(copyA, acme.customer, 'Mine')
    const foreign = await openTicket(copyA, acme.agent, 'Not the customer’s')
    await postMessage(copyA, acme.agent, own.id, 'A note for agents only', true)
    const reply = await postMessage(copyA, acme.agent, own.id, 'A public answer')

    // The agent sees the internal note; the customer, after it, the public answer.
    await agentStream.next(
      (m) => m.event === 'message.created' && parsed(m).data.message?.internal === true,
    )
    await customerStream.next((m) => parsed(m).data.message?.id === reply.id)
    const customerSaw = customerStream.messages.map(parsed)
    expect(customerSaw.some((e) => e.data.ticket?.id === own.id)).toBe(true)
    for (const e of customerSaw) {
      const ticketId = e.data.ticket?.id ?? e.data.message?.ticketId
      expect(ticketId).toBe(own.id)
      expect(ticketId).not.toBe(foreign.id)
      expect(e.data.message?.internal ?? false).toBe(false)
      // The customer's view of a ticket: no priority, tags or assignee.
      if (e.data.ticket) expect(e.data.ticket).not.toHaveProperty('priority')
    }
    expect(JSON.stringify(customerSaw)).not.toContain('A note for agents only')
  })

  it("never shows another tenant's events", async () => {
    const other = await createTestTenant(ctx)
    const stream = await open(copyA, acme.owner.headers)
    const theirs = await openTicket(copyB, other.owner, 'Other tenant')
    const ours = await openTicket(copyB, acme.owner, 'Our tenant')
    await stream.next(isTicketCreated(ours.id))
    expect(JSON.stringify(stream.messages)).not.toContain(theirs.id)
    const foreign = await open(copyA, { ...acme.owner.headers, 'x-tenant-id': other.slug })
    expect(foreign.status).toBe(404)
  })
})

describe('heartbeats and revocation', () => {
  it('sends a comment heartbeat every EVENT_STREAM_HEARTBEAT_SECONDS', async () => {
    const stream = await open(copyA, acme.agent.headers)
    const started = Date.now()
    await stream.comment(2, 4000)
    expect(stream.comments.slice(0, 2)).toEqual(['heartbeat', 'heartbeat'])
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500)
  })

  it('ends the stream within a heartbeat of a logout on another copy', async () => {
    const session = await logIn(copyA, acme.agent.email, TEST_PASSWORD)
    const headers = { authorization: `Bearer ${session.accessToken}`, 'x-tenant-id': acme.slug }
    const stream = await open(copyA, headers)
    expect(stream.status).toBe(200)
    await stream.comment(1)
    const out = await copyB.inject({ method: 'POST', url: '/v1/auth/logout', headers })
    expect(out.statusCode).toBe(204)
    const loggedOut = Date.now()
    await stream.ended
    expect(Date.now() - loggedOut).toBeLessThan(2500)
  })

  it('ends the stream of an API key once the key is revoked', async () => {
    const created = await copyA.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: acme.owner.headers,
      payload: { name: 'Stream reader', permissions: ['events:read'] },
    })
    expect(created.statusCode, created.body).toBe(201)
    const key = created.json() as { id: string; key: string }
    const headers = { authorization: `Bearer ${key.key}`, 'x-tenant-id': acme.slug }
    const stream = await open(copyB, headers)
    expect(stream.status).toBe(200)
    const ticket = await openTicket(copyA, acme.agent)
    await stream.next(isTicketCreated(ticket.id))
    const revoked = await copyA.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${key.id}`,
      headers: acme.owner.headers,
    })
    expect(revoked.statusCode, revoked.body).toBe(204)
    const at = Date.now()
    await stream.ended
    expect(Date.now() - at).toBeLessThan(2500)
  })
})

describe('limits and shutdown', () => {
  it('answers 503 stream_limit with Retry-After past EVENT_STREAM_MAX_PER_PROCESS', async () => {
    const small = await otherCopy({ EVENT_STREAM_MAX_PER_PROCESS: 2 })
    try {
      const held = [await open(small, acme.agent.headers), await open(small, acme.agent.headers)]
      expect(held.map((s) => s.status)).toEqual([200, 200])
      const refused = await open(small, acme.agent.headers)
      expect(refused.status).toBe(503)
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(JSON.parse(refused.body).code).toBe('stream_limit')
      // A place freed is a place again.
      held[0]!.close()
      await held[0]!.ended
      await expect.poll(async () => (await open(small, acme.agent.headers)).status).toBe(200)
    } finally {
      await small.close()
    }
  })

  it('app.close() ends every open stream at once, with a retry hint', async () => {
    const closing = await otherCopy({ EVENT_STREAM_HEARTBEAT_SECONDS: 30 })
    const open1 = await open(closing, acme.agent.headers)
    const open2 = await open(closing, acme.customer.headers)
    // Without the drain, close() would wait for these sockets as long as their clients stay.
    const outcome = await Promise.race([
      closing.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(resolve, 10_000, 'still waiting on the streams')),
    ])
    expect(outcome).toBe('closed')
    await Promise.all([open1.ended, open2.ended])
    for (const s of [open1, open2]) {
      expect(s.messages.at(-1)?.retry).toBeGreaterThanOrEqual(1000)
    }
  })
})
