// Full-text search over tickets (subject and messages, ranked, internal notes
// only for messages:internal) and over the knowledge base (published only for
// readers without kb:write).
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
