// What must hold under concurrency: ticket numbers, If-Match, Idempotency-Key,
// and keyset pagination while rows are inserted and updated between pages.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

function post(actor: Actor, url: string, payload: Record<string, unknown>, headers = {}) {
  return ctx.app.inject({
    method: 'POST',
    url,
    headers: { ...actor.headers, ...headers },
    payload,
  })
}

describe('ticket numbers', () => {
  it('50 concurrent creates give 50 distinct consecutive numbers', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(acme.customer, '/v1/tickets', { subject: `Ticket ${i}`, body: 'body' }),
      ),
    )
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(201))
    const numbers = results.map((r) => r.json().number as number).sort((a, b) => a - b)
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    // Another tenant counts from 1 on its own.
    const theirs = await post(other.customer, '/v1/tickets', { subject: 's', body: 'b' })
    expect(theirs.json().number).toBe(1)
  })
})

describe('If-Match', () => {
  it('two PATCHes with the same If-Match: one 200, one 412', async () => {
    const created = await post(acme.customer, '/v1/tickets', { subject: 'race', body: 'b' })
    // The customer's ETag is of its own view (the public version); the agent's is its own.
    expect(created.headers.etag).toBe('W/"c1"')
    const got = await ctx.app.inject({
      method: 'GET',
      url: `/v1/tickets/${created.json().id}`,
      headers: acme.agent.headers,
    })
    const etag = got.headers.etag as string
    expect(etag).toBe('W/"1"')
    const patch = (priority: string) =>
      ctx.app.inject({
        method: 'PATCH',
        url: `/v1/tickets/${created.json().id}`,
        headers: { ...acme.agent.headers, 'if-match': etag },
        payload: { priority },
      })
    const [a, b] = await Promise.all([patch('high'), patch('low')])
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 412])
    const failed = a.statusCode === 412 ? a : b
    expect(failed.json().code).toBe('precondition_failed')
    const ok = a.statusCode === 200 ? a : b
    expect(ok.headers.etag).not.toBe(etag)
    const notModified = await ctx.app.inject({
      method: 'GET',
      url: `/v1/tickets/${created.json().id}`,
      headers: { ...acme.agent.headers, 'if-none-match': ok.headers.etag as string },
    })
    expect(notModified.statusCode).toBe(304)
  })
})

describe('Idempotency-Key', () => {
  it('10 concurrent identical requests create one ticket and all get its response', async () => {
    const key = `key-${Date.now()}`
    const body = { subject: 'Only once', body: 'Please create me once' }
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        post(acme.customer, '/v1/tickets', body, { 'idempotency-key': key }),
      ),
    )
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(201))
    const ids = new Set(results.map((r) => r.json().id))
    expect(ids.size).toBe(1)
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(9)
    const rows = await ctx.sql`select 1 from tickets where tenant_id = ${acme.id}
                               and subject = 'Only once'`
    expect(rows).toHaveLength(1)
    const messages = await ctx.sql`select 1 from messages where body = 'Please create me once'`
    expect(messages).toHaveLength(1)
  })

  it('a later retry replays; another body with the same key answers 422', async () => {
    const key = `key-b-${Date.now()}`
    const first = await post(
      acme.customer,
      '/v1/tickets',
      { subject: 'A', body: 'a' },
      {
        'idempotency-key': key,
      },
    )
    const again = await post(
      acme.customer,
      '/v1/tickets',
      { body: 'a', subject: 'A' },
      {
        'idempotency-key': key,
      },
    )
    expect(again.statusCode).toBe(201)
    expect(again.json()).toEqual(first.json())
    const reused = await post(
      acme.customer,
      '/v1/tickets',
      { subject: 'B', body: 'a' },
      {
        'idempotency-key': key,
      },
    )
    expect(reused.statusCode).toBe(422)
    expect(reused.json().code).toBe('idempotency_key_reused')
    // Keys are per caller: another user's same key is another request.
    const otherCaller = await post(
      acme.agent,
      '/v1/tickets',
      { subject: 'B', body: 'a' },
      {
        'idempotency-key': key,
      },
    )
    expect(otherCaller.statusCode).toBe(201)
    // After 24 h the key is free again.
    await ctx.sql`update idempotency_keys set expires_at = now() - interval '1 second'
                  where key = ${key}`
    const later = await post(
      acme.customer,
      '/v1/tickets',
      { subject: 'B', body: 'a' },
      {
        'idempotency-key': key,
      },
    )
    expect(later.statusCode).toBe(201)
    expect(later.json().id).not.toBe(first.json().id)
  })

  it('messages: the same key posts once', async () => {
    const ticket = (await post(acme.customer, '/v1/tickets', { subject: 'm', body: 'b' })).json()
    const url = `/v1/tickets/${ticket.id}/messages`
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        post(acme.customer, url, { body: 'once only' }, { 'idempotency-key': 'msg-1' }),
      ),
    )
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1)
    const rows = await ctx.sql`select 1 from messages where ticket_id = ${ticket.id}
                               and body = 'once only'`
    expect(rows).toHaveLength(1)
    const elsewhere = await post(
      acme.customer,
      `/v1/tickets/${ticket.id}/messages`,
      { body: 'different' },
      { 'idempotency-key': 'msg-1' },
    )
    expect(elsewhere.statusCode).toBe(422)
  })
})

describe('cursor pagination while rows change', () => {
  async function walk(actor: Actor, query: string, between: (page: number) => Promise<void>) {
    const seen: string[] = []
    let cursor: string | null = null
    let page = 0
    do {
      const res = await ctx.app.inject({
        method: 'GET',
        url: `/v1/tickets?limit=7&${query}${cursor ? `&cursor=${cursor}` : ''}`,
        headers: actor.headers,
      })
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json() as { data: { id: string }[]; nextCursor: string | null }
      seen.push(...body.data.map((t) => t.id))
      cursor = body.nextCursor
      await between(page++)
    } while (cursor)
    return seen
  }

  it('sort=createdAt returns every row exactly once, new rows at the end', async () => {
    const tenant = await createTestTenant(ctx)
    for (let i = 0; i < 30; i++) {
      await post(tenant.customer, '/v1/tickets', { subject: `p${i}`, body: 'b' })
    }
    const before = (
      await ctx.sql<{ id: string }[]>`
      select id from tickets where tenant_id = ${tenant.id}`
    ).map((r) => r.id)
    const added: string[] = []
    const seen = await walk(tenant.agent, 'sort=createdAt', async (page) => {
      if (page > 3) return
      const res = await post(tenant.customer, '/v1/tickets', { subject: `new${page}`, body: 'b' })
      added.push(res.json().id)
      // Touch a row that is still ahead, and one already seen.
      await ctx.sql`update tickets set updated_at = now(), priority = 'high'
                    where id in (select id from tickets where tenant_id = ${tenant.id}
                                 order by random() limit 2)`
    })
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual(expect.arrayContaining([...before, ...added]))
    expect(seen).toHaveLength(before.length + added.length)
  })

  it('-updatedAt never repeats a row and returns every row not updated meanwhile', async () => {
    const tenant = await createTestTenant(ctx)
    for (let i = 0; i < 30; i++) {
      await post(tenant.customer, '/v1/tickets', { subject: `u${i}`, body: 'b' })
    }
    const touched = new Set<string>()
    const before = (
      await ctx.sql<{ id: string }[]>`
      select id from tickets where tenant_id = ${tenant.id}`
    ).map((r) => r.id)
    const seen = await walk(tenant.agent, '', async (page) => {
      if (page > 2) return
      await post(tenant.customer, '/v1/tickets', { subject: `fresh${page}`, body: 'b' })
      const [row] = await ctx.sql<{ id: string }[]>`
        update tickets set updated_at = now()
        where id = (select id from tickets where tenant_id = ${tenant.id}
                    order by updated_at limit 1) returning id`
      touched.add(row!.id)
    })
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual(expect.arrayContaining(before.filter((id) => !touched.has(id))))
  })

  it('a cursor from another sort is refused', async () => {
    const first = await ctx.app.inject({
      method: 'GET',
      url: '/v1/tickets?limit=1&sort=createdAt',
      headers: acme.agent.headers,
    })
    const cursor = first.json().nextCursor as string
    const res = await ctx.app.inject({
      method: 'GET',
      url: `/v1/tickets?limit=1&cursor=${cursor}`,
      headers: acme.agent.headers,
    })
    expect(res.statusCode).toBe(400)
  })
})
