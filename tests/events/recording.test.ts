// Every change in the contract writes its event in its own transaction: the
// type, the resource under its name as an agent's GET shows it, the copies the
// feed filters on; a refused or replayed change writes none and leaves no hole
// in the tenant's sequence; concurrent writers get consecutive sequences.
import { UnrecoverableError } from 'bullmq'
import { beforeAll, describe, expect, it } from 'vitest'
import { withScope } from '../../src/db/scoped.ts'
import { insertJob } from '../../src/jobs/outbox.ts'
import { type RunDeps, runJob } from '../../src/jobs/run-job.ts'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
})

type Row = {
  type: string
  sequence: number
  data: Record<string, unknown>
  customer_data: Record<string, unknown> | null
  ticket_id: string | null
  contact_id: string | null
  internal: boolean
}

function call(actor: Actor, method: string, url: string, payload?: unknown, headers = {}) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: { ...actor.headers, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

async function lastSequence(tenantId = acme.id): Promise<number> {
  const [row] = await ctx.sql<{ n: number }[]>`
    select coalesce(max(sequence), 0)::int as n from events where tenant_id = ${tenantId}`
  return row!.n
}

/** The events written after `since`, oldest first. */
async function eventsAfter(since: number, tenantId = acme.id): Promise<Row[]> {
  return ctx.sql<Row[]>`
    select type, sequence::int as sequence, data, customer_data, ticket_id, contact_id, internal
    from events where tenant_id = ${tenantId} and sequence > ${since} order by sequence`
}

async function openTicket(actor: Actor, payload: Record<string, unknown> = {}) {
  const res = await call(actor, 'POST', '/v1/tickets', {
    subject: 'Printer on fire',
    body: 'It smokes',
    ...payload,
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string; requesterId: string }
}

describe('ticket and message events', () => {
  it('ticket.created then message.created, in the agent view, with the requester copied', async () => {
    // The customer's first ticket also makes its contact (contact.created): not this test's.
    await openTicket(acme.customer)
    const since = await lastSequence()
    const ticket = await openTicket(acme.customer)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => [r.type, r.sequence])).toEqual([
      ['ticket.created', since + 1],
      ['message.created', since + 2],
    ])
    const [created, message] = rows as [Row, Row]
    // A customer opened it, yet data is what an agent reads; the customer's view is beside it.
    expect(created.data.ticket).toMatchObject({ id: ticket.id, priority: 'normal', tags: [] })
    expect(created.data.ticket).not.toHaveProperty('version')
    expect(created.customer_data?.ticket).toMatchObject({ id: ticket.id })
    expect(created.customer_data?.ticket).not.toHaveProperty('priority')
    expect(created.ticket_id).toBe(ticket.id)
    expect(created.contact_id).toBe(ticket.requesterId)
    expect(message.data.message).toMatchObject({
      ticketId: ticket.id,
      body: 'It smokes',
      internal: false,
    })
    expect(message.contact_id).toBe(ticket.requesterId)
  })

  it('ticket.updated with changes [old, new]; only public changes for the customer', async () => {
    const ticket = await openTicket(acme.customer)
    const since = await lastSequence()
    const res = await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, {
      status: 'open',
      priority: 'high',
      tags: ['vip'],
    })
    expect(res.statusCode, res.body).toBe(200)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => r.type)).toEqual(['ticket.updated'])
    const [updated] = rows as [Row]
    expect(updated.data.changes).toEqual({
      status: ['new', 'open'],
      priority: ['normal', 'high'],
      tags: [[], ['vip']],
    })
    expect(updated.data.ticket).toMatchObject({ status: 'open', priority: 'high', tags: ['vip'] })
    expect(updated.customer_data?.changes).toEqual({ status: ['new', 'open'] })
    expect(updated.internal).toBe(false)

    // Only private fields changed: not an event for the customer at all.
    const before = await lastSequence()
    await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { priority: 'low' })
    const [privateOnly] = await eventsAfter(before)
    expect(privateOnly).toMatchObject({ type: 'ticket.updated', internal: true })
    expect(privateOnly!.customer_data?.changes).toEqual({})
  })

  it('a reply that moves the status writes message.created and ticket.updated', async () => {
    const ticket = await openTicket(acme.customer)
    const since = await lastSequence()
    const res = await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'On it',
    })
    expect(res.statusCode, res.body).toBe(201)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => r.type)).toEqual(['message.created', 'ticket.updated'])
    expect(rows[1]!.data.changes).toEqual({ status: ['new', 'pending'] })
  })

  it('an internal note is message.created with internal set', async () => {
    const ticket = await openTicket(acme.customer)
    const since = await lastSequence()
    const res = await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Customer seems upset',
      internal: true,
    })
    expect(res.statusCode, res.body).toBe(201)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => [r.type, r.internal])).toEqual([['message.created', true]])
    expect(rows[0]!.data.message).toMatchObject({ internal: true, body: 'Customer seems upset' })
  })

  it('ticket.merged names the merged tickets; ticket.deleted the deleted one', async () => {
    const target = await openTicket(acme.customer)
    const source = await openTicket(acme.customer)
    const since = await lastSequence()
    const merged = await call(acme.agent, 'POST', `/v1/tickets/${target.id}/merge`, {
      sourceIds: [source.id],
    })
    expect(merged.statusCode, merged.body).toBe(200)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => r.type)).toEqual(['ticket.merged'])
    expect(rows[0]!.data).toMatchObject({ ticket: { id: target.id }, mergedIds: [source.id] })

    const gone = await openTicket(acme.customer)
    const beforeDelete = await lastSequence()
    const deleted = await call(acme.admin, 'DELETE', `/v1/tickets/${gone.id}`)
    expect(deleted.statusCode, deleted.body).toBe(204)
    const after = await eventsAfter(beforeDelete)
    expect(after.map((r) => [r.type, r.ticket_id])).toEqual([['ticket.deleted', gone.id]])
    expect(after[0]!.data.ticket).toMatchObject({ id: gone.id })
  })
})

describe('contact, article and job events', () => {
  it('contact.created and contact.updated, from the API and from a new requester address', async () => {
    const since = await lastSequence()
    const made = await call(acme.agent, 'POST', '/v1/contacts', {
      email: 'ada@example.test',
      name: 'Ada',
    })
    expect(made.statusCode, made.body).toBe(201)
    const id = made.json().id as string
    const changed = await call(acme.agent, 'PATCH', `/v1/contacts/${id}`, { name: 'Ada L.' })
    expect(changed.statusCode, changed.body).toBe(200)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => [r.type, r.contact_id])).toEqual([
      ['contact.created', id],
      ['contact.updated', id],
    ])
    expect(rows[0]!.data.contact).toEqual(made.json())
    expect(rows[1]!.data.contact).toEqual(changed.json())

    const beforeTicket = await lastSequence()
    const ticket = await openTicket(acme.agent, { requester: { email: 'grace@example.test' } })
    const typed = (await eventsAfter(beforeTicket)).map((r) => r.type)
    expect(typed).toEqual(['contact.created', 'ticket.created', 'message.created'])
    // A known address makes no contact and no event.
    const again = await lastSequence()
    await openTicket(acme.agent, { requester: { email: 'grace@example.test' } })
    expect((await eventsAfter(again)).map((r) => r.type)).toEqual([
      'ticket.created',
      'message.created',
    ])
    expect(ticket.requesterId).toBeTruthy()
  })

  it('kb_article.published when an article is written published or a draft becomes one', async () => {
    const since = await lastSequence()
    const draft = await call(acme.agent, 'POST', '/v1/kb/articles', { title: 'Draft', body: 'x' })
    expect(draft.statusCode, draft.body).toBe(201)
    expect(await eventsAfter(since)).toEqual([])
    const id = draft.json().id as string
    const published = await call(acme.agent, 'PATCH', `/v1/kb/articles/${id}`, { published: true })
    expect(published.statusCode, published.body).toBe(200)
    const edited = await call(acme.agent, 'PATCH', `/v1/kb/articles/${id}`, { title: 'Final' })
    expect(edited.statusCode, edited.body).toBe(200)
    const direct = await call(acme.agent, 'POST', '/v1/kb/articles', {
      title: 'Live',
      body: 'y',
      published: true,
    })
    expect(direct.statusCode, direct.body).toBe(201)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => [r.type, r.sequence])).toEqual([
      ['kb_article.published', since + 1],
      ['kb_article.published', since + 2],
    ])
    expect(rows[0]!.data.article).toEqual(published.json())
    expect(rows[1]!.data.article).toEqual(direct.json())
  })

  it('job.failed when a job row ends failed, not while it retries', async () => {
    const ticket = await openTicket(acme.agent)
    const queue = () =>
      withScope(ctx.app.database, { tenantId: acme.id }, (tx) =>
        insertJob(tx, {
          tenantId: acme.id,
          queue: 'email',
          payload: { template: 'ticket-created', ticketId: ticket.id },
        }),
      )
    const silent = { debug() {}, info() {}, warn() {}, error() {} }
    const deps = (error: Error): RunDeps => ({
      database: ctx.app.database,
      config: ctx.config,
      storage: ctx.app.storage,
      log: { child: () => silent },
      processors: {
        email: async () => {
          throw error
        },
      } as unknown as RunDeps['processors'],
    })
    const retried = await queue()
    const since = await lastSequence()
    expect((await runJob(deps(new Error('try again')), retried)).outcome).toBe('retry')
    expect(await eventsAfter(since)).toEqual([])

    const failing = await queue()
    expect((await runJob(deps(new UnrecoverableError('no such template')), failing)).outcome).toBe(
      'failed',
    )
    const rows = await eventsAfter(since)
    expect(rows.map((r) => r.type)).toEqual(['job.failed'])
    const shown = await call(acme.agent, 'GET', `/v1/jobs/${failing.id}`)
    expect(rows[0]!.data.job).toEqual(shown.json())
    expect(rows[0]!.data.job).toMatchObject({ id: failing.id, state: 'failed' })
  })
})

describe('refused and replayed changes', () => {
  it('write no event and leave no gap in the sequence', async () => {
    const a = await openTicket(acme.customer)
    const b = await openTicket(acme.customer)
    const since = await lastSequence()
    // An invalid PATCH (a transition the rules refuse), a 422 merge, a 404.
    const closed = await call(acme.agent, 'PATCH', `/v1/tickets/${a.id}`, {
      priority: 'high',
      status: 'closed',
    })
    expect(closed.statusCode, closed.body).toBe(409)
    const self = await call(acme.agent, 'POST', `/v1/tickets/${a.id}/merge`, { sourceIds: [a.id] })
    expect(self.statusCode, self.body).toBe(422)
    const unknown = await call(acme.agent, 'PATCH', `/v1/tickets/${crypto.randomUUID()}`, {
      priority: 'high',
    })
    expect(unknown.statusCode).toBe(404)
    // An idempotent retry returns the first answer and writes nothing again.
    const key = { 'idempotency-key': crypto.randomUUID() }
    const first = await call(
      acme.agent,
      'POST',
      `/v1/tickets/${b.id}/messages`,
      { body: 'hi' },
      key,
    )
    expect(first.statusCode, first.body).toBe(201)
    const replay = await call(
      acme.agent,
      'POST',
      `/v1/tickets/${b.id}/messages`,
      { body: 'hi' },
      key,
    )
    expect(replay.json()).toEqual(first.json())
    const rows = await eventsAfter(since)
    expect(rows.map((r) => [r.type, r.sequence])).toEqual([
      ['message.created', since + 1],
      ['ticket.updated', since + 2],
    ])
    // The next change takes the very next number: nothing was lost to the refusals.
    await call(acme.agent, 'PATCH', `/v1/tickets/${b.id}`, { priority: 'urgent' })
    expect(await lastSequence()).toBe(since + 3)
  })
})

describe('concurrent writers', () => {
  it('get distinct, consecutive sequences', async () => {
    const since = await lastSequence()
    const opened = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(acme.agent, 'POST', '/v1/tickets', { subject: `Parallel ${i}`, body: `n${i}` }),
      ),
    )
    for (const res of opened) expect(res.statusCode, res.body).toBe(201)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: 16 }, (_, i) => since + 1 + i))
    // Each ticket's two events are in order: created before its first message.
    for (const res of opened) {
      const id = res.json().id as string
      const mine = rows.filter((r) => r.ticket_id === id).map((r) => r.type)
      expect(mine).toEqual(['ticket.created', 'message.created'])
    }
  })

  it('never deadlock: tickets for new requesters (a contact first) beside tickets for known ones', async () => {
    await openTicket(acme.agent)
    const since = await lastSequence()
    const opened = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        call(
          acme.agent,
          'POST',
          '/v1/tickets',
          i % 2 === 0
            ? { subject: `New ${i}`, body: 'x', requester: { email: `new-${i}@example.test` } }
            : { subject: `Known ${i}`, body: 'x' },
        ),
      ),
    )
    for (const res of opened) expect(res.statusCode, res.body).toBe(201)
    const rows = await eventsAfter(since)
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => since + 1 + i))
  })
})
