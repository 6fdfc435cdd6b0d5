// The ticket life cycle through the API, as a customer and as an agent: who
// sees what, how messages move the status, per-field guards on PATCH, the
// history, soft delete, the AI hooks and the unhappy paths.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

function call(actor: Actor, method: string, url: string, payload?: unknown, headers = {}) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: { ...actor.headers, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

/** The contact a member acts as (made by its first ticket). */
async function contactOf(tenant: TestTenant, actor: Actor): Promise<string> {
  const [row] = await ctx.sql<{ id: string }[]>`
    select id from contacts where tenant_id = ${tenant.id} and user_id = ${actor.userId}`
  if (!row) throw new Error(`no contact for ${actor.email}`)
  return row.id
}

async function openTicket(actor: Actor, payload: Record<string, unknown> = {}) {
  const res = await call(actor, 'POST', '/v1/tickets', {
    subject: 'Printer on fire',
    body: 'It started smoking this morning.',
    ...payload,
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as Record<string, unknown> & { id: string; number: number; status: string }
}

describe('tickets as a customer and as an agent', () => {
  it('a customer opens a ticket, is its requester, and the agent sees it', async () => {
    const ticket = await openTicket(acme.customer, { tags: [' Billing ', 'billing', 'VIP'] })
    // The customer gets its view (no tags, priority or assignee); the agent all of it.
    const contactId = await contactOf(acme, acme.customer)
    expect(ticket).toMatchObject({
      status: 'new',
      requesterId: contactId,
      requester: { id: contactId, email: acme.customer.email },
    })
    expect(ticket).not.toHaveProperty('tags')
    expect(ticket.firstMessage).toMatchObject({ authorType: 'customer', internal: false })
    expect(ticket).not.toHaveProperty('version')
    const seen = await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}`)
    expect(seen.statusCode).toBe(200)
    expect(seen.json()).toMatchObject({
      status: 'new',
      priority: 'normal',
      requesterId: contactId,
      assigneeId: null,
      tags: ['billing', 'vip'],
    })
    expect(seen.headers.etag).toMatch(/^W\/"\d+"$/)
  })

  it('a customer sees only its own tickets; an agent sees all', async () => {
    const mine = await openTicket(acme.customer)
    const agents = await openTicket(acme.agent, { requester: { email: acme.admin.email } })
    expect(agents.requester).toMatchObject({ email: acme.admin.email })
    const customerContact = await contactOf(acme, acme.customer)
    const list = (await call(acme.customer, 'GET', '/v1/tickets?limit=100')).json()
    const ids = list.data.map((t: { id: string }) => t.id)
    expect(ids).toContain(mine.id)
    expect(ids).not.toContain(agents.id)
    expect(list.data.every((t: { requesterId: string }) => t.requesterId === customerContact)).toBe(
      true,
    )
    expect((await call(acme.customer, 'GET', `/v1/tickets/${agents.id}`)).statusCode).toBe(404)
    const all = (await call(acme.agent, 'GET', '/v1/tickets?limit=100')).json()
    expect(all.data.map((t: { id: string }) => t.id)).toEqual(
      expect.arrayContaining([mine.id, agents.id]),
    )
  })

  it('a customer cannot name another requester', async () => {
    const before = await tenantDigest(ctx.sql, acme.id)
    const res = await call(acme.customer, 'POST', '/v1/tickets', {
      subject: 'x',
      body: 'y',
      requester: { email: acme.agent.email },
    })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('forbidden')
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })

  it('messages move the status; internal notes stay hidden from the customer', async () => {
    const ticket = await openTicket(acme.customer)
    const reply = await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Have you tried turning it off?',
    })
    expect(reply.statusCode, reply.body).toBe(201)
    expect(reply.json()).toMatchObject({ authorType: 'agent', internal: false })
    let t = (await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}`)).json()
    expect(t.status).toBe('pending')

    const note = await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Customer seems confused, escalate',
      internal: true,
    })
    expect(note.statusCode).toBe(201)

    const answer = await call(acme.customer, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Yes, still smoking',
    })
    expect(answer.json().authorType).toBe('customer')
    t = (await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}`)).json()
    expect(t.status).toBe('open')

    const customerView = (
      await call(acme.customer, 'GET', `/v1/tickets/${ticket.id}/messages`)
    ).json()
    expect(customerView.data.some((m: { internal: boolean }) => m.internal)).toBe(false)
    expect(customerView.data.map((m: { body: string }) => m.body)).not.toContain(
      'Customer seems confused, escalate',
    )
    const agentView = (await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}/messages`)).json()
    expect(agentView.data.map((m: { body: string }) => m.body)).toContain(
      'Customer seems confused, escalate',
    )
    // The history: the automatic status changes are public system messages.
    const system = customerView.data.filter(
      (m: { authorType: string }) => m.authorType === 'system',
    )
    expect(system.map((m: { body: string }) => m.body)).toEqual([
      'Status changed from new to pending',
      'Status changed from pending to open',
    ])
  })

  it('a customer reply reopens a solved ticket; closed is final', async () => {
    const ticket = await openTicket(acme.customer)
    const solve = await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { status: 'solved' })
    expect(solve.statusCode, solve.body).toBe(200)
    await call(acme.customer, 'POST', `/v1/tickets/${ticket.id}/messages`, { body: 'Not fixed' })
    expect((await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}`)).json().status).toBe('open')

    const closeEarly = await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, {
      status: 'closed',
    })
    expect(closeEarly.statusCode).toBe(409)
    expect(closeEarly.json().code).toBe('invalid_status_transition')
    await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { status: 'solved' })
    const close = await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { status: 'closed' })
    expect(close.statusCode).toBe(200)
    const reopen = await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { status: 'open' })
    expect(reopen.statusCode).toBe(409)
    expect(reopen.json().code).toBe('ticket_closed')
    const late = await call(acme.customer, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'hello?',
    })
    expect(late.statusCode).toBe(409)
    expect(late.json().code).toBe('ticket_closed')
  })

  it('PATCH is guarded per field, and the assignee must be an active agent', async () => {
    const ticket = await openTicket(acme.customer)
    const url = `/v1/tickets/${ticket.id}`
    expect((await call(acme.customer, 'PATCH', url, { status: 'solved' })).statusCode).toBe(403)
    expect((await call(acme.customer, 'PATCH', url, { assigneeId: null })).statusCode).toBe(403)
    const renamed = await call(acme.customer, 'PATCH', url, { subject: 'Printer still on fire' })
    expect(renamed.statusCode).toBe(200)

    const toCustomer = await call(acme.agent, 'PATCH', url, { assigneeId: acme.customer.userId })
    expect(toCustomer.statusCode).toBe(422)
    expect(toCustomer.json().code).toBe('invalid_assignee')
    const toStranger = await call(acme.agent, 'PATCH', url, { assigneeId: other.agent.userId })
    expect(toStranger.statusCode).toBe(422)

    const assigned = await call(acme.agent, 'PATCH', url, {
      assigneeId: acme.agent.userId,
      priority: 'urgent',
    })
    expect(assigned.statusCode).toBe(200)
    expect(assigned.json()).toMatchObject({ assigneeId: acme.agent.userId, priority: 'urgent' })
    const byAssignee = (
      await call(acme.agent, 'GET', `/v1/tickets?assigneeId=${acme.agent.userId}&limit=100`)
    ).json()
    expect(byAssignee.data.map((t: { id: string }) => t.id)).toContain(ticket.id)
    const unassigned = (
      await call(acme.agent, 'GET', '/v1/tickets?assigneeId=none&limit=100')
    ).json()
    expect(unassigned.data.map((t: { id: string }) => t.id)).not.toContain(ticket.id)

    // Assignment history is internal: the agent sees it, the customer does not.
    const agentThread = (await call(acme.agent, 'GET', `${url}/messages`)).json()
    expect(agentThread.data.map((m: { body: string }) => m.body)).toContain(
      `Assigned to ${'agent-'}${acme.slug}`,
    )
    const customerThread = (await call(acme.customer, 'GET', `${url}/messages`)).json()
    expect(
      customerThread.data.some((m: { body: string }) => m.body.startsWith('Assigned to')),
    ).toBe(false)

    await ctx.sql`update memberships set active = false
                  where tenant_id = ${acme.id} and user_id = ${acme.admin.userId}`
    const inactive = await call(acme.agent, 'PATCH', url, { assigneeId: acme.admin.userId })
    expect(inactive.statusCode).toBe(422)
    await ctx.sql`update memberships set active = true
                  where tenant_id = ${acme.id} and user_id = ${acme.admin.userId}`
  })

  it('filters by status, priority, requester and tag', async () => {
    const a = await openTicket(acme.customer, { priority: 'high', tags: ['Printer'] })
    await call(acme.agent, 'PATCH', `/v1/tickets/${a.id}`, { status: 'on_hold' })
    const list = async (query: string) =>
      (await call(acme.agent, 'GET', `/v1/tickets?limit=100&${query}`))
        .json()
        .data.map((t: { id: string }) => t.id) as string[]
    expect(await list('status=on_hold')).toContain(a.id)
    expect(await list('status=on_hold&status=new')).toContain(a.id)
    expect(await list('status=new')).not.toContain(a.id)
    expect(await list('priority=high')).toContain(a.id)
    expect(await list('priority=low')).not.toContain(a.id)
    expect(await list(`requesterId=${await contactOf(acme, acme.customer)}`)).toContain(a.id)
    expect(await list(`requesterId=${acme.customer.userId}`)).not.toContain(a.id)
    expect(await list('tag=printer')).toContain(a.id)
    expect(await list('tag=PRINTER')).toContain(a.id)
    expect(await list('tag=fax')).not.toContain(a.id)
    // The customer's own view shows no priority; the agent's does.
    const urgent = await openTicket(acme.customer, { priority: 'urgent' })
    const stored = (await call(acme.agent, 'GET', `/v1/tickets/${urgent.id}`)).json()
    expect(stored.priority).toBe('urgent')
    const byPriority = (await call(acme.agent, 'GET', '/v1/tickets?sort=-priority&limit=1')).json()
    expect(byPriority.data[0].priority).toBe('urgent')
  })

  it('soft delete needs tickets:delete and hides the ticket everywhere', async () => {
    const ticket = await openTicket(acme.customer)
    expect((await call(acme.agent, 'DELETE', `/v1/tickets/${ticket.id}`)).statusCode).toBe(403)
    expect((await call(acme.admin, 'DELETE', `/v1/tickets/${ticket.id}`)).statusCode).toBe(204)
    expect((await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}`)).statusCode).toBe(404)
    const list = (await call(acme.agent, 'GET', '/v1/tickets?limit=100')).json()
    expect(list.data.map((t: { id: string }) => t.id)).not.toContain(ticket.id)
    const [row] = await ctx.sql`select deleted_at from tickets where id = ${ticket.id}`
    expect(row?.deleted_at).not.toBeNull()
  })
})

describe('AI hooks', () => {
  it('queues an ai-reply job when a customer posts and aiReplyMode is auto', async () => {
    await ctx.sql`update tenants set settings = '{"aiReplyMode":"auto"}' where id = ${acme.id}`
    const ticket = await openTicket(acme.customer)
    const reply = await call(acme.customer, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Any update?',
    })
    const jobs = await ctx.sql<{ payload: { ticketId: string; triggerMessageId: string } }[]>`
      select payload from jobs where type = 'ai-reply' and payload->>'ticketId' = ${ticket.id}
      order by created_at`
    expect(jobs.map((j) => j.payload.triggerMessageId)).toEqual([
      (ticket.firstMessage as { id: string }).id,
      reply.json().id,
    ])
    // An agent's message queues no AI reply, but an email to the requester.
    const agentReply = await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'On it',
    })
    const emails = await ctx.sql`select 1 from jobs where type = 'email'
      and payload->>'messageId' = ${agentReply.json().id}`
    expect(emails).toHaveLength(1)
    const aiCount = await ctx.sql`select 1 from jobs where type = 'ai-reply'
      and payload->>'ticketId' = ${ticket.id}`
    expect(aiCount).toHaveLength(2)
    await ctx.sql`update tenants set settings = '{"aiReplyMode":"off"}' where id = ${acme.id}`
    await call(acme.customer, 'POST', `/v1/tickets/${ticket.id}/messages`, { body: 'Hello?' })
    expect(
      await ctx.sql`select 1 from jobs where type = 'ai-reply' and payload->>'ticketId' = ${ticket.id}`,
    ).toHaveLength(2)
  })

  it('POST /ai-reply needs ai:use and answers 202 with the job id', async () => {
    const ticket = await openTicket(acme.customer)
    const denied = await call(acme.customer, 'POST', `/v1/tickets/${ticket.id}/ai-reply`)
    expect(denied.statusCode).toBe(403)
    const res = await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/ai-reply`)
    expect(res.statusCode).toBe(202)
    const [job] = await ctx.sql`select type, tenant_id from jobs where id = ${res.json().jobId}`
    expect(job).toEqual({ type: 'ai-reply', tenant_id: acme.id })
  })
})

describe('unhappy paths', () => {
  it('rejects unknown fields with 400 validation_failed, writing nothing', async () => {
    const ticket = await openTicket(acme.customer)
    const refusals = [
      [acme.customer, 'POST', '/v1/tickets', { subject: 's', body: 'b', status: 'solved' }],
      [
        acme.customer,
        'POST',
        `/v1/tickets/${ticket.id}/messages`,
        { body: 'b', authorType: 'agent' },
      ],
      [acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { number: 7 }],
    ] as const
    for (const [actor, method, url, payload] of refusals) {
      const before = await tenantDigest(ctx.sql, acme.id)
      const res = await call(actor, method, url, payload)
      expect(res.statusCode, `${method} ${url}`).toBe(400)
      expect(res.json().code).toBe('validation_failed')
      expect(await tenantDigest(ctx.sql, acme.id), `${method} ${url}`).toBe(before)
    }
  })

  it("another tenant's ticket answers 404 on every route", async () => {
    const theirs = await openTicket(other.customer)
    for (const [method, url, payload] of [
      ['GET', `/v1/tickets/${theirs.id}`, undefined],
      ['PATCH', `/v1/tickets/${theirs.id}`, { priority: 'low' }],
      ['DELETE', `/v1/tickets/${theirs.id}`, undefined],
      ['GET', `/v1/tickets/${theirs.id}/messages`, undefined],
      ['POST', `/v1/tickets/${theirs.id}/messages`, { body: 'hi' }],
      ['POST', `/v1/tickets/${theirs.id}/ai-reply`, undefined],
    ] as const) {
      const res = await call(acme.owner, method, url, payload)
      expect(res.statusCode, `${method} ${url}`).toBe(404)
    }
    expect((await call(other.agent, 'GET', `/v1/tickets/${theirs.id}`)).statusCode).toBe(200)
  })

  it('a customer cannot post an internal note (403)', async () => {
    const ticket = await openTicket(acme.customer)
    const res = await call(acme.customer, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'sneaky',
      internal: true,
    })
    expect(res.statusCode).toBe(403)
  })

  it('an invalid status transition answers 409 with a clear code', async () => {
    const ticket = await openTicket(acme.customer)
    await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { status: 'open' })
    const res = await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { status: 'new' })
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('invalid_status_transition')
  })

  it('a malformed cursor answers 400 invalid_cursor', async () => {
    const res = await call(acme.agent, 'GET', '/v1/tickets?cursor=bm9wZQ')
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('invalid_cursor')
  })
})
