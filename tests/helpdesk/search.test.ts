// Full-text search over tickets (subject and messages, ranked, internal notes
// only for messages:internal) and over the knowledge base (published only for
// readers without kb:write).
import { sql } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { rowsOf, withScope } from '../../src/db/scoped.ts'
import type { Caller } from '../../src/domain/tickets/caller.ts'
import type { ListTicketsQuery } from '../../src/domain/tickets/schemas.ts'
import { buildListQuery } from '../../src/domain/tickets/ticket-list.ts'
import { useTestApp } from '../helpers/app.ts'
import { staleSearchVectors } from '../helpers/search-vectors.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

async function send(actor: Actor, method: string, url: string, payload?: Record<string, unknown>) {
  const res = await ctx.app.inject({
    method: method as 'POST',
    url,
    headers: actor.headers,
    ...(payload ? { payload } : {}),
  })
  expect(res.statusCode, res.body).toBeLessThan(300)
  return res.json()
}

const search = async (actor: Actor, q: string) =>
  (await send(actor, 'GET', `/v1/tickets?q=${encodeURIComponent(q)}`)).data.map(
    (t: { subject: string }) => t.subject,
  ) as string[]

describe('ticket search', () => {
  it('finds by a word from a message body and ranks a subject match first', async () => {
    const inBody = await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Question about my account',
      body: 'Hello',
    })
    await send(acme.customer, 'POST', `/v1/tickets/${inBody.id}/messages`, {
      body: 'The invoices are wrong since March',
    })
    await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Invoice missing',
      body: 'I never got one',
    })
    await send(acme.customer, 'POST', '/v1/tickets', { subject: 'Unrelated', body: 'Nothing' })

    expect(await search(acme.agent, 'march')).toEqual(['Question about my account'])
    // Stemming: "invoice" matches "invoices"; the subject match ranks first.
    expect(await search(acme.agent, 'invoice')).toEqual([
      'Invoice missing',
      'Question about my account',
    ])
    expect(await search(acme.customer, 'invoice')).toEqual([
      'Invoice missing',
      'Question about my account',
    ])
    expect(await search(other.agent, 'invoice')).toEqual([])
  })

  it('never shows a customer a ticket matched only by an internal note', async () => {
    const ticket = await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Router blinking',
      body: 'Lights everywhere',
    })
    await send(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Suspect firmware zebracorn bug',
      internal: true,
    })
    expect(await search(acme.agent, 'zebracorn')).toEqual(['Router blinking'])
    expect(await search(acme.customer, 'zebracorn')).toEqual([])
    // A subject change rebuilds the vectors; the note still stays internal.
    await send(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { subject: 'Router flashing' })
    expect(await search(acme.agent, 'zebracorn')).toEqual(['Router flashing'])
    expect(await search(acme.customer, 'zebracorn')).toEqual([])
    expect(await search(acme.customer, 'lights')).toEqual(['Router flashing'])
  })

  it('combines q with filters and pages through ranked results', async () => {
    for (let i = 0; i < 5; i++) {
      await send(acme.customer, 'POST', '/v1/tickets', {
        subject: `Quokka ${i}`,
        body: i % 2 ? 'quokka quokka quokka' : 'other words',
      })
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { data: { id: string }[]; nextCursor: string | null } = await send(
        acme.agent,
        'GET',
        `/v1/tickets?q=quokka&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      )
      seen.push(...page.data.map((t) => t.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toHaveLength(5)
    expect(new Set(seen).size).toBe(5)
    const sorted = await send(acme.agent, 'GET', '/v1/tickets?q=quokka&sort=createdAt')
    expect(sorted.data.map((t: { subject: string }) => t.subject)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `Quokka ${i}`),
    )
    expect(await search(acme.agent, 'the')).toEqual([])
  })
})

describe('ticket search vectors', () => {
  it('every kind of message leaves them equal to a rebuild from the thread', async () => {
    const ticket = await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Scanner jammed',
      body: 'Paper stuck in the feeder',
    })
    const fromAgent = await send(acme.agent, 'POST', '/v1/tickets', {
      subject: 'Toner low',
      body: 'Cyan cartridge nearly empty',
      requesterId: ticket.requesterId,
    })
    await send(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, { body: 'Try the rollers' })
    await send(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Customer seems impatient',
      internal: true,
    })
    await send(acme.customer, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Rollers cleaned, still jammed',
    })
    await send(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, { status: 'on_hold' })
    const ids = [ticket.id, fromAgent.id]
    expect(await staleSearchVectors(ctx.sql, ids)).toEqual([])
    expect(await search(acme.agent, 'impatient')).toEqual(['Scanner jammed'])
    expect(await search(acme.customer, 'cartridge')).toEqual(['Toner low'])

    // The check itself: a message written without stamping its ticket is caught.
    await ctx.sql`insert into messages (id, tenant_id, ticket_id, author_type, body)
      values (gen_random_uuid(), ${acme.id}, ${ticket.id}, 'agent', 'Unstamped words')`
    expect(await staleSearchVectors(ctx.sql, ids)).toEqual([ticket.id])
  })
})

describe('knowledge base', () => {
  it('CRUD with kb:write; customers read and search published articles only', async () => {
    const draft = await send(acme.agent, 'POST', '/v1/kb/articles', {
      title: 'Resetting the router',
      body: 'Hold the reset button for ten seconds.',
      tags: ['Network'],
    })
    expect(draft).toMatchObject({ published: false, tags: ['network'] })
    const published = await send(acme.agent, 'POST', '/v1/kb/articles', {
      title: 'Billing cycles',
      body: 'Invoices go out on the first; the router is not billed.',
      published: true,
    })
    const denied = await ctx.app.inject({
      method: 'POST',
      url: '/v1/kb/articles',
      headers: acme.customer.headers,
      payload: { title: 't', body: 'b' },
    })
    expect(denied.statusCode).toBe(403)

    const customerList = await send(acme.customer, 'GET', '/v1/kb/articles')
    expect(customerList.data.map((a: { id: string }) => a.id)).toEqual([published.id])
    const hidden = await ctx.app.inject({
      method: 'GET',
      url: `/v1/kb/articles/${draft.id}`,
      headers: acme.customer.headers,
    })
    expect(hidden.statusCode).toBe(404)

    const ranked = await send(acme.agent, 'GET', '/v1/kb/articles?q=router')
    expect(ranked.data.map((a: { id: string }) => a.id)).toEqual([draft.id, published.id])
    const forCustomer = await send(acme.customer, 'GET', '/v1/kb/articles?q=router')
    expect(forCustomer.data.map((a: { id: string }) => a.id)).toEqual([published.id])

    await send(acme.agent, 'PATCH', `/v1/kb/articles/${draft.id}`, { published: true })
    expect((await send(acme.customer, 'GET', '/v1/kb/articles?tag=network')).data).toHaveLength(1)
    const del = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/kb/articles/${draft.id}`,
      headers: acme.agent.headers,
    })
    expect(del.statusCode).toBe(204)
    const theirs = await ctx.app.inject({
      method: 'GET',
      url: `/v1/kb/articles/${published.id}`,
      headers: other.agent.headers,
    })
    expect(theirs.statusCode).toBe(404)
  })
})

describe('search and tag indexes under row-level security', () => {
  // What the planner chooses for the real list statement, run as the app role
  // under the tenant's policy: each GIN index leads with tenant_id, and `@@`
  // and `@>` are LEAKPROOF (drizzle/0008), so the match is an index condition
  // instead of a filter over every row of the tenant.
  async function plannedIndexes(caller: Caller, query: Partial<ListTicketsQuery>) {
    const { statement } = buildListQuery(caller, { limit: 20, ...query } as ListTicketsQuery)
    // A test database is small enough that a sequential scan would win anyway.
    const [row] = await withScope(ctx.app.database, { tenantId: caller.tenantId }, async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`)
      return rowsOf<{ 'QUERY PLAN': unknown }>(tx, sql`explain (format json) ${statement}`)
    })
    const names = new Set<string>()
    const walk = (node: Record<string, unknown>) => {
      if (typeof node['Index Name'] === 'string') names.add(node['Index Name'])
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child)
    }
    walk((row!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan)
    return names
  }

  it('serves q and tag from the tenant-leading GIN indexes', async () => {
    const [leakproof] = await ctx.sql<{ n: number }[]>`
      select count(*)::int as n from pg_proc
      where proname in ('ts_match_vq', 'arraycontains') and proleakproof`
    expect(leakproof?.n).toBe(2)
    // 3,000 tickets of ~1.5 kB in each of two tenants, 30 of them matching:
    // enough pages that reading the whole tenant costs more than the index.
    const third = await createTestTenant(ctx)
    await ctx.sql`
      insert into contacts (id, tenant_id, email, name, user_id)
      values (gen_random_uuid(), ${third.id}, ${third.customer.email}, 'C', ${third.customer.userId}),
             (gen_random_uuid(), ${other.id}, ${other.customer.email}, 'C', ${other.customer.userId})
      on conflict do nothing`
    await ctx.sql`
      insert into tickets (id, tenant_id, number, subject, requester_id, tags)
      select gen_random_uuid(), t.id, 100000 + g,
        case when g % 100 = 0 then 'Scanner jammed ' else 'Question ' end ||
          (select string_agg(md5(g::text || i), ' ') from generate_series(1, 12) i),
        (select c.id from contacts c where c.tenant_id = t.id and c.user_id = t.requester),
        case when g % 100 = 0 then array['rare'] else '{}' end
      from (values (${third.id}::uuid, ${third.customer.userId}::uuid),
                   (${other.id}::uuid, ${other.customer.userId}::uuid)) t(id, requester),
        generate_series(1, 3000) g`
    await ctx.sql`analyze tickets`
    const agent: Caller = {
      tenantId: third.id,
      userId: third.agent.userId,
      principal: third.agent.userId,
      seesAll: true,
      seesInternal: true,
      authorType: 'agent',
      can: () => true,
    }
    // A role that reads every ticket but not internal notes searches the public vector.
    // (A customer's own tickets are found through tickets_requester_updated_idx.)
    const publicOnly: Caller = { ...agent, seesInternal: false }
    expect(await plannedIndexes(agent, { q: 'scanner' })).toContain('tickets_search_all_idx')
    expect(await plannedIndexes(publicOnly, { q: 'scanner' })).toContain(
      'tickets_search_public_idx',
    )
    expect(await plannedIndexes(agent, { tag: 'rare', sort: 'createdAt' })).toContain(
      'tickets_tags_idx',
    )
    // And the index scan still returns only the tenant's rows.
    const found = await send(third.agent, 'GET', `/v1/tickets?q=scanner&limit=100`)
    expect(found.data).toHaveLength(30)
  })
})
