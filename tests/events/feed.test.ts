// GET /v1/events: oldest first, after a cursor or a sequence, filtered by
// type, nextCursor never null; and what each reader may see of it: a customer
// only its own tickets' public events in the customer's view, nobody an
// internal note's event without messages:internal, nobody another tenant's.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, signUpUser, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let other: TestTenant

type FeedEvent = {
  id: string
  type: string
  sequence: number
  occurredAt: string
  data: Record<string, Record<string, unknown>>
}
type Feed = { data: FeedEvent[]; nextCursor: string }

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

function call(actor: Actor, method: string, url: string, payload?: unknown) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

async function feed(actor: Actor, query = ''): Promise<Feed> {
  const res = await call(actor, 'GET', `/v1/events${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** Every event the actor sees, paging to the end. */
async function all(actor: Actor, query = ''): Promise<FeedEvent[]> {
  const seen: FeedEvent[] = []
  let page = await feed(actor, `?limit=100${query}`)
  while (page.data.length > 0) {
    seen.push(...page.data)
    page = await feed(actor, `?limit=100&after=${page.nextCursor}${query}`)
  }
  return seen
}

async function openTicket(actor: Actor, payload: Record<string, unknown> = {}) {
  const res = await call(actor, 'POST', '/v1/tickets', { subject: 'Help', body: 'Hi', ...payload })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string }
}

async function post(actor: Actor, ticketId: string, body: string, internal = false) {
  const res = await call(actor, 'POST', `/v1/tickets/${ticketId}/messages`, { body, internal })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string }
}

describe('paging the feed', () => {
  it('walks oldest first by cursor or sequence; nextCursor at the end is where to poll from', async () => {
    await openTicket(acme.agent)
    const before = (await all(acme.agent)).at(-1)!.sequence
    await openTicket(acme.agent)
    await openTicket(acme.agent)
    const first = await feed(acme.agent, `?limit=2&after=${before}`)
    expect(first.data).toHaveLength(2)
    const second = await feed(acme.agent, `?limit=2&after=${first.nextCursor}`)
    expect(second.data).toHaveLength(2)
    const sequences = [...first.data, ...second.data].map((e) => e.sequence)
    expect(sequences).toEqual([before + 1, before + 2, before + 3, before + 4])
    expect([...first.data, ...second.data].map((e) => e.type)).toEqual([
      'ticket.created',
      'message.created',
      'ticket.created',
      'message.created',
    ])
    // The same page by the last sequence number instead of the cursor.
    const byNumber = await feed(acme.agent, `?limit=2&after=${before + 2}`)
    expect(byNumber.data).toEqual(second.data)
    // At the end: an empty page whose cursor still points there, never null.
    const end = await feed(acme.agent, `?after=${second.nextCursor}`)
    expect(end.data).toEqual([])
    expect(end.nextCursor).toBe(second.nextCursor)
    // A change after that shows up from that very cursor.
    const later = await openTicket(acme.agent)
    const polled = await feed(acme.agent, `?after=${end.nextCursor}`)
    expect(polled.data.map((e) => [e.type, e.data.ticket?.id ?? e.data.message?.ticketId])).toEqual(
      [
        ['ticket.created', later.id],
        ['message.created', later.id],
      ],
    )
    const shape = polled.data[0]!
    expect(Object.keys(shape).sort()).toEqual(['data', 'id', 'occurredAt', 'sequence', 'type'])
  })

  it('filters by a comma-separated list of types, and refuses unknown ones and bad cursors', async () => {
    await call(acme.agent, 'POST', '/v1/contacts', { email: 'filter@example.test' })
    const only = await all(acme.agent, '&type=contact.created,ticket.created')
    expect(only.length).toBeGreaterThan(0)
    expect(new Set(only.map((e) => e.type))).toEqual(new Set(['contact.created', 'ticket.created']))
    for (const bad of ['?type=ticket.exploded', '?after=bm9wZQ', '?limit=0', '?extra=1']) {
      const res = await call(acme.agent, 'GET', `/v1/events${bad}`)
      expect(res.statusCode, bad).toBe(400)
    }
  })
})

describe('what each reader sees', () => {
  it("a customer: its own tickets' public events only, in the customer's view", async () => {
    const mine = await openTicket(acme.customer)
    const theirs = await openTicket(acme.agent, { requester: { email: 'someone@example.test' } })
    await call(acme.agent, 'PATCH', `/v1/tickets/${mine.id}`, {
      status: 'open',
      priority: 'urgent',
      tags: ['fraud-suspect'],
      assigneeId: acme.agent.userId,
    })
    await call(acme.agent, 'PATCH', `/v1/tickets/${mine.id}`, { priority: 'low' })
    await post(acme.agent, mine.id, 'Watch this one', true)
    await post(acme.agent, mine.id, 'We are looking into it')
    await post(acme.agent, theirs.id, 'Not for the customer')
    await call(acme.agent, 'POST', '/v1/kb/articles', { title: 'T', body: 'B', published: true })

    const agentSees = await all(acme.agent)
    const customerSees = await all(acme.customer)
    // The agent sees everything written above.
    expect(agentSees.some((e) => e.data.message?.body === 'Watch this one')).toBe(true)
    expect(agentSees.some((e) => e.data.ticket?.id === theirs.id)).toBe(true)

    const ticketIds = new Set(
      customerSees.map((e) => e.data.ticket?.id ?? e.data.message?.ticketId).filter(Boolean),
    )
    expect([...ticketIds]).toEqual([mine.id])
    // No internal note, no change of private fields only, no contact events.
    expect(customerSees.map((e) => e.data.message?.body).filter(Boolean)).toEqual([
      'Hi',
      'We are looking into it',
    ])
    expect(customerSees.some((e) => e.type.startsWith('contact.'))).toBe(false)
    // kb:read: a published article is the customer's to see.
    expect(customerSees.some((e) => e.type === 'kb_article.published')).toBe(true)
    const text = JSON.stringify(customerSees)
    for (const leak of ['fraud-suspect', 'urgent', 'Watch this one', 'Not for the customer']) {
      expect(text).not.toContain(leak)
    }
    for (const event of customerSees.filter((e) => e.data.ticket)) {
      expect(Object.keys(event.data.ticket!)).not.toContain('priority')
      expect(Object.keys(event.data.ticket!)).not.toContain('tags')
      expect(Object.keys(event.data.ticket!)).not.toContain('assigneeId')
    }
    const updates = customerSees.filter((e) => e.type === 'ticket.updated')
    expect(updates.map((e) => e.data.changes)).toEqual([
      { status: ['new', 'open'] },
      { status: ['open', 'pending'] },
    ])
    // The agent's view of the same event holds what the customer's leaves out.
    const agentUpdate = agentSees.find(
      (e) => e.type === 'ticket.updated' && e.data.changes?.priority !== undefined,
    )
    expect(agentUpdate?.data.ticket).toMatchObject({ tags: ['fraud-suspect'] })
  })

  it('a member without messages:internal never sees an internal note', async () => {
    const ticket = await openTicket(acme.agent)
    await post(acme.agent, ticket.id, 'secret note', true)
    await post(acme.agent, ticket.id, 'public reply')
    const [role] = await ctx.sql<{ id: string }[]>`
      insert into roles (id, tenant_id, name, permissions)
      values (gen_random_uuid(), ${acme.id}, 'reader', ${['tickets:read_all', 'events:read']})
      returning id`
    const reader = await signUpUser(ctx, `reader-${acme.slug}`)
    await ctx.sql`insert into memberships (tenant_id, user_id, role_id)
                  values (${acme.id}, ${reader.userId}, ${role!.id})`
    const actor = { ...reader, headers: { ...reader.headers, 'x-tenant-id': acme.id } }
    const seen = await all(actor)
    const bodies = seen.map((e) => e.data.message?.body)
    expect(bodies).toContain('public reply')
    expect(bodies).not.toContain('secret note')
    expect(JSON.stringify(seen)).not.toContain('secret note')
    expect((await all(acme.agent)).map((e) => e.data.message?.body)).toContain('secret note')
  })

  it("never another tenant's events", async () => {
    const ours = await openTicket(other.agent)
    const acmeSees = JSON.stringify(await all(acme.agent))
    expect(acmeSees).not.toContain(ours.id)
    const otherSees = await all(other.agent)
    expect(otherSees.map((e) => e.data.ticket?.id).filter(Boolean)).toEqual([ours.id])
    // Sequences are per tenant: the other tenant's start at 1.
    expect(otherSees[0]?.sequence).toBe(1)
    // Naming another tenant with one's own token is refused.
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/v1/events',
      headers: { ...acme.agent.headers, 'x-tenant-id': other.id },
    })
    expect([403, 404]).toContain(res.statusCode)
  })
})
