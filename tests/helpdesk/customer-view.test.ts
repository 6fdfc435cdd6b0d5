// What a customer sees of its ticket: no tags, priority or assignee in any
// response, no filter or sort that would tell them, a history whose public
// entries are exactly the changes it can see, and an ETag and updatedAt that
// an internal note, a tag or an assignment does not move.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
})

function call(actor: Actor, method: string, url: string, payload?: unknown, headers = {}) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: { ...actor.headers, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

const HIDDEN = ['tags', 'priority', 'assigneeId', 'version']

describe("a customer's view of its tickets", () => {
  it('holds no tags, priority or assignee, on every route that answers a ticket', async () => {
    const created = await call(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Card declined',
      body: 'My card was declined twice',
    })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id as string
    const patched = await call(acme.agent, 'PATCH', `/v1/tickets/${id}`, {
      tags: ['fraud-suspect'],
      priority: 'urgent',
      assigneeId: acme.agent.userId,
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json()).toMatchObject({ tags: ['fraud-suspect'], priority: 'urgent' })

    const bodies = [
      created.json(),
      (await call(acme.customer, 'GET', `/v1/tickets/${id}`)).json(),
      ...(await call(acme.customer, 'GET', '/v1/tickets')).json().data,
      ...(await call(acme.customer, 'GET', '/v1/tickets?q=declined')).json().data,
      (
        await call(acme.customer, 'PATCH', `/v1/tickets/${id}`, { subject: 'Card declined!' })
      ).json(),
    ]
    for (const body of bodies) {
      expect(Object.keys(body).sort()).toEqual(
        [
          'createdAt',
          'id',
          'lastMessageAt',
          'number',
          'requesterId',
          'requester',
          'mergedIntoId',
          'followUpOfId',
          'status',
          'subject',
          'updatedAt',
          ...(body.firstMessage ? ['firstMessage'] : []),
        ].sort(),
      )
      for (const field of HIDDEN) expect(body).not.toHaveProperty(field)
    }
    expect(JSON.stringify(bodies)).not.toContain('fraud-suspect')
  })

  it('may not filter or sort by what it cannot see', async () => {
    for (const query of [
      'tag=fraud-suspect',
      `assigneeId=${acme.agent.userId}`,
      'assigneeId=none',
      'priority=urgent',
      'sort=-priority',
    ]) {
      const res = await call(acme.customer, 'GET', `/v1/tickets?${query}`)
      expect(res.statusCode, query).toBe(400)
      expect(res.json().code).toBe('filter_not_allowed')
      expect(res.json().errors[0].path).toMatch(/^querystring\//)
    }
    // Agents keep them.
    expect((await call(acme.agent, 'GET', '/v1/tickets?tag=fraud-suspect')).statusCode).toBe(200)
  })

  it('the public history is what it can see change: subject and status, not the rest', async () => {
    const id = (
      await call(acme.customer, 'POST', '/v1/tickets', { subject: 'Late parcel', body: 'Where?' })
    ).json().id
    await call(acme.agent, 'PATCH', `/v1/tickets/${id}`, {
      subject: 'Parcel late',
      status: 'open',
      priority: 'high',
      tags: ['courier'],
      assigneeId: acme.agent.userId,
    })
    const thread = (await call(acme.customer, 'GET', `/v1/tickets/${id}/messages`)).json().data
    const history = thread
      .filter((m: { authorType: string }) => m.authorType === 'system')
      .map((m: { body: string }) => m.body)
    expect(history).toEqual(['Subject changed to "Parcel late"', 'Status changed from new to open'])
    const all = (await call(acme.agent, 'GET', `/v1/tickets/${id}/messages`)).json().data
    expect(all.filter((m: { authorType: string }) => m.authorType === 'system')).toHaveLength(5)
  })

  it('its ETag and updatedAt do not move on an internal note, a tag or an assignment', async () => {
    const created = await call(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Refund',
      body: 'Please refund order 42',
    })
    const id = created.json().id as string
    const read = async (actor: Actor) => {
      const res = await call(actor, 'GET', `/v1/tickets/${id}`)
      return { etag: res.headers.etag as string, updatedAt: res.json().updatedAt as string }
    }
    const before = await read(acme.customer)
    const agentBefore = await read(acme.agent)
    await new Promise((resolve) => setTimeout(resolve, 5))
    await call(acme.agent, 'POST', `/v1/tickets/${id}/messages`, {
      body: 'Customer has three chargebacks',
      internal: true,
    })
    await call(acme.agent, 'PATCH', `/v1/tickets/${id}`, { tags: ['chargeback'] })
    await call(acme.agent, 'PATCH', `/v1/tickets/${id}`, { assigneeId: acme.agent.userId })

    expect(await read(acme.customer)).toEqual(before)
    const unchanged = await call(acme.customer, 'GET', `/v1/tickets/${id}`, undefined, {
      'if-none-match': before.etag,
    })
    expect(unchanged.statusCode).toBe(304)
    // The agents' view did move, and its ETag is not the customer's.
    const agentAfter = await read(acme.agent)
    expect(agentAfter.etag).not.toBe(agentBefore.etag)
    expect(agentAfter.etag).not.toBe(before.etag)
    // The customer's If-Match still holds for its own change; the list order did not move.
    const renamed = await call(
      acme.customer,
      'PATCH',
      `/v1/tickets/${id}`,
      { subject: 'Refund?' },
      {
        'if-match': before.etag,
      },
    )
    expect(renamed.statusCode, renamed.body).toBe(200)
    expect(renamed.headers.etag).not.toBe(before.etag)

    // A public reply is a change the customer sees.
    await new Promise((resolve) => setTimeout(resolve, 5))
    await call(acme.agent, 'POST', `/v1/tickets/${id}/messages`, { body: 'Refund sent' })
    const after = await read(acme.customer)
    expect(after.etag).not.toBe(renamed.headers.etag)
    expect(after.updatedAt > before.updatedAt).toBe(true)
  })

  it("a customer's list is ordered by what it sees change", async () => {
    const open = async (subject: string) =>
      (await call(acme.customer, 'POST', '/v1/tickets', { subject, body: 'x' })).json().id
    const older = await open('Older')
    const newer = await open('Newer')
    // An internal note on the older one moves it first for agents, not for the customer.
    await call(acme.agent, 'POST', `/v1/tickets/${older}/messages`, {
      body: 'note',
      internal: true,
    })
    const order = async (actor: Actor) =>
      ((await call(actor, 'GET', '/v1/tickets?limit=100')).json().data as { id: string }[])
        .map((t) => t.id)
        .filter((t) => t === older || t === newer)
    expect(await order(acme.agent)).toEqual([older, newer])
    expect(await order(acme.customer)).toEqual([newer, older])
  })
})
