// Merging tickets through POST /v1/tickets/{id}/merge: what moves (messages,
// notes still internal, attachments, tags, email ids, search words), what the
// sources become (closed, mergedIntoId, no more writes: 409 ticket_merged),
// and every refusal leaving both tenants exactly as they were; If-Match,
// Idempotency-Key, and two merges crossing each other at the same time.
import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { withScope } from '../../src/db/scoped.ts'
import { liveTicketOf } from '../../src/domain/tickets/merged-tickets.ts'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { staleSearchVectors } from '../helpers/search-vectors.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

type Ticket = { id: string; number: number; status: string; tags?: string[] } & Record<
  string,
  unknown
>
type Message = {
  id: string
  body: string
  internal: boolean
  authorType: string
  createdAt: string
}

function call(actor: Actor, method: string, url: string, payload?: unknown, headers = {}) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: { ...actor.headers, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

async function ok(res: Awaited<ReturnType<typeof call>>, status = 200) {
  expect(res.statusCode, res.body).toBe(status)
  return res.json()
}

async function openTicket(actor: Actor, payload: Record<string, unknown> = {}): Promise<Ticket> {
  return ok(
    await call(actor, 'POST', '/v1/tickets', {
      subject: 'Printer on fire',
      body: 'It started smoking this morning.',
      ...payload,
    }),
    201,
  )
}

const merge = (actor: Actor, targetId: string, sourceIds: string[], headers = {}) =>
  call(actor, 'POST', `/v1/tickets/${targetId}/merge`, { sourceIds }, headers)

async function thread(actor: Actor, ticketId: string): Promise<Message[]> {
  return (await ok(await call(actor, 'GET', `/v1/tickets/${ticketId}/messages?limit=100`))).data
}

async function searchIds(actor: Actor, q: string): Promise<string[]> {
  const page = await ok(await call(actor, 'GET', `/v1/tickets?q=${encodeURIComponent(q)}`))
  return page.data.map((t: Ticket) => t.id)
}

/** The refusal's status and code, with no row of either tenant written by it. */
async function expectRefused(request: () => ReturnType<typeof call>, status: number, code: string) {
  const tenants = [acme.id, other.id]
  const before = await Promise.all(tenants.map((id) => tenantDigest(ctx.sql, id)))
  const res = await request()
  expect(res.statusCode, res.body).toBe(status)
  expect(res.json().code).toBe(code)
  expect(await Promise.all(tenants.map((id) => tenantDigest(ctx.sql, id)))).toEqual(before)
  return res.json()
}

describe('a merge', () => {
  it('moves threads, attachments, tags, email ids and search words to the target', async () => {
    const target = await openTicket(acme.customer, {
      subject: 'Printer still broken',
      tags: ['Billing'],
    })
    const first = await openTicket(acme.customer, {
      subject: 'Scanner jammed',
      body: 'The xylophonic noise came back',
      tags: ['VIP ', 'billing'],
    })
    const second = await openTicket(acme.customer, { subject: 'Fax', tags: ['Hardware'] })
    // An agent's public reply on one source, an internal note on the other.
    await ok(
      await call(acme.agent, 'POST', `/v1/tickets/${first.id}/messages`, {
        body: 'Please send a photo of the scanner',
      }),
      201,
    )
    await ok(
      await call(acme.agent, 'POST', `/v1/tickets/${second.id}/messages`, {
        body: 'Customer sounds quokkasecret angry',
        internal: true,
      }),
      201,
    )
    // An attachment on the first source's opening message, and its email id.
    const [opening] = await ctx.sql<{ id: string }[]>`
      select id from messages where ticket_id = ${first.id} and author_type = 'customer'`
    const attachmentId = randomUUID()
    await ctx.sql`insert into attachments (id, tenant_id, message_id, filename, content_type,
                    size, sha256, storage_key, attached_at)
                  values (${attachmentId}, ${acme.id}, ${opening!.id}, 'photo.png', 'image/png',
                    3, 'abc', ${`test/${attachmentId}`}, now())`
    const emailId = `<${randomUUID()}@mail.example.com>`
    await ctx.sql`insert into email_messages (id, tenant_id, email_id, direction, ticket_id, message_id)
                  values (${randomUUID()}, ${acme.id}, ${emailId}, 'in', ${first.id}, ${opening!.id})`
    const before = await thread(acme.agent, target.id)
    const moved = [
      ...(await thread(acme.agent, first.id)),
      ...(await thread(acme.agent, second.id)),
    ]

    const res = await merge(acme.agent, target.id, [first.id, second.id])
    const merged = await ok(res)
    expect(merged).toMatchObject({
      id: target.id,
      status: 'new',
      tags: ['billing', 'hardware', 'vip'],
      mergedIntoId: null,
    })
    const read = await call(acme.agent, 'GET', `/v1/tickets/${target.id}`)
    expect(res.headers.etag).toBe(read.headers.etag)
    expect(read.json()).toEqual(merged)

    // The sources: closed, pointing at the target, still readable, by the customer too.
    for (const source of [first, second]) {
      const got = await ok(await call(acme.agent, 'GET', `/v1/tickets/${source.id}`))
      expect(got).toMatchObject({ status: 'closed', mergedIntoId: target.id })
      const mine = await ok(await call(acme.customer, 'GET', `/v1/tickets/${source.id}`))
      expect(mine).toMatchObject({ status: 'closed', mergedIntoId: target.id })
      // All that is left of its thread is the public line saying where it went.
      expect(await thread(acme.customer, source.id)).toEqual([
        expect.objectContaining({
          authorType: 'system',
          internal: false,
          body: `Merged into #${target.number}`,
        }),
      ])
    }

    // The target's thread: every message, in time order, notes still internal,
    // then one public line per source.
    const all = await thread(acme.agent, target.id)
    const expected = [...before, ...moved].sort((a, b) =>
      `${a.createdAt}${a.id}` < `${b.createdAt}${b.id}` ? -1 : 1,
    )
    expect(all.slice(0, expected.length)).toEqual(
      expected.map((m) => ({ ...m, ticketId: target.id })),
    )
    expect(all.slice(expected.length).map((m) => [m.authorType, m.internal, m.body])).toEqual([
      ['system', false, `Merged #${first.number} into this ticket`],
      ['system', false, `Merged #${second.number} into this ticket`],
    ])
    const note = all.find((m) => m.body.includes('quokkasecret'))
    expect(note?.internal).toBe(true)
    const customerView = await thread(acme.customer, target.id)
    expect(customerView.map((m) => m.body)).toContain('Please send a photo of the scanner')
    expect(customerView.some((m) => m.internal || m.body.includes('quokkasecret'))).toBe(false)

    // The attachment followed its message; the email id now threads onto the target.
    const [attachment] = await ctx.sql<{ ticketId: string }[]>`
      select m.ticket_id as "ticketId" from attachments a join messages m on m.id = a.message_id
      where a.id = ${attachmentId}`
    expect(attachment?.ticketId).toBe(target.id)
    const [email] = await ctx.sql<{ ticketId: string }[]>`
      select ticket_id as "ticketId" from email_messages where email_id = ${emailId}`
    expect(email?.ticketId).toBe(target.id)

    // Search: a source's words find the target, not the source; a note's only for agents.
    expect(await searchIds(acme.agent, 'xylophonic')).toEqual([target.id])
    expect(await searchIds(acme.customer, 'xylophonic')).toEqual([target.id])
    expect(await searchIds(acme.agent, 'quokkasecret')).toEqual([target.id])
    expect(await searchIds(acme.customer, 'quokkasecret')).toEqual([])
    expect(await staleSearchVectors(ctx.sql, [target.id, first.id, second.id])).toEqual([])
  })

  it('bumps the versions: the target and the sources show a change to agents and customers', async () => {
    const target = await openTicket(acme.customer)
    const source = await openTicket(acme.customer)
    const etags = async (id: string) => [
      (await call(acme.agent, 'GET', `/v1/tickets/${id}`)).headers.etag,
      (await call(acme.customer, 'GET', `/v1/tickets/${id}`)).headers.etag,
    ]
    const before = [await etags(target.id), await etags(source.id)]
    await ok(await merge(acme.agent, target.id, [source.id]))
    const after = [await etags(target.id), await etags(source.id)]
    for (const [i, pair] of after.entries()) {
      expect(pair[0]).not.toBe(before[i]![0])
      expect(pair[1]).not.toBe(before[i]![1])
    }
  })

  it('answers with a merged source 409 ticket_merged to a message, a PATCH and an AI reply', async () => {
    const target = await openTicket(acme.customer)
    const source = await openTicket(acme.customer)
    await ok(await merge(acme.agent, target.id, [source.id]))
    for (const [actor, method, url, payload] of [
      [acme.customer, 'POST', `/v1/tickets/${source.id}/messages`, { body: 'Any news?' }],
      [acme.agent, 'POST', `/v1/tickets/${source.id}/messages`, { body: 'Hi', internal: true }],
      [acme.agent, 'PATCH', `/v1/tickets/${source.id}`, { priority: 'high' }],
      [acme.customer, 'PATCH', `/v1/tickets/${source.id}`, { subject: 'Still broken' }],
      [acme.agent, 'POST', `/v1/tickets/${source.id}/ai-reply`, undefined],
    ] as const) {
      const body = await expectRefused(
        () => call(actor, method, url, payload),
        409,
        'ticket_merged',
      )
      expect(body.mergedIntoId).toBe(target.id)
    }
    // The target takes them.
    await ok(
      await call(acme.customer, 'POST', `/v1/tickets/${target.id}/messages`, { body: 'Any news?' }),
      201,
    )
  })

  it('honours If-Match on the target', async () => {
    const target = await openTicket(acme.customer)
    const source = await openTicket(acme.customer)
    const { etag } = (await call(acme.agent, 'GET', `/v1/tickets/${target.id}`)).headers
    await ok(
      await call(acme.agent, 'POST', `/v1/tickets/${target.id}/messages`, {
        body: 'Looking',
        internal: true,
      }),
      201,
    )
    await expectRefused(
      () => merge(acme.agent, target.id, [source.id], { 'if-match': etag as string }),
      412,
      'precondition_failed',
    )
    const { etag: fresh } = (await call(acme.agent, 'GET', `/v1/tickets/${target.id}`)).headers
    const res = await merge(acme.agent, target.id, [source.id], { 'if-match': fresh as string })
    await ok(res)
    expect(res.headers.etag).not.toBe(fresh)
  })

  it('merges once per Idempotency-Key and replays the first answer', async () => {
    const target = await openTicket(acme.customer)
    const source = await openTicket(acme.customer)
    const key = { 'idempotency-key': randomUUID() }
    const [a, b] = await Promise.all([
      merge(acme.agent, target.id, [source.id], key),
      merge(acme.agent, target.id, [source.id], key),
    ])
    const again = await merge(acme.agent, target.id, [source.id], key)
    for (const res of [a, b, again]) await ok(res)
    expect(b.json()).toEqual(a.json())
    expect(again.json()).toEqual(a.json())
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.headers.etag).toBe(a.headers.etag)
    const notes = await ctx.sql<{ n: number }[]>`
      select count(*)::int as n from messages
      where tenant_id = ${acme.id} and author_type = 'system' and body like 'Merged%'
        and ticket_id in (${target.id}, ${source.id})`
    expect(notes[0]?.n).toBe(2)
    // Without the key, the same request is a new merge, refused: the source is merged.
    await expectRefused(() => merge(acme.agent, target.id, [source.id]), 422, 'invalid_merge')
  })
})

describe('refused merges change nothing', () => {
  it('a ticket into itself', async () => {
    const target = await openTicket(acme.customer)
    const other = await openTicket(acme.customer)
    const body = await expectRefused(
      () => merge(acme.agent, target.id, [other.id, target.id.toUpperCase()]),
      422,
      'invalid_merge',
    )
    expect(body.errors).toEqual([{ path: 'body/sourceIds/1', message: 'is the target itself' }])
  })

  it('a loop: A into B, then B into A', async () => {
    const a = await openTicket(acme.customer)
    const b = await openTicket(acme.customer)
    await ok(await merge(acme.agent, b.id, [a.id]))
    const back = await expectRefused(() => merge(acme.agent, a.id, [b.id]), 422, 'invalid_merge')
    expect(back.errors).toEqual([{ path: 'params/id', message: 'was merged into another ticket' }])
    const c = await openTicket(acme.customer)
    const again = await expectRefused(() => merge(acme.agent, c.id, [a.id]), 422, 'invalid_merge')
    expect(again.errors).toEqual([{ path: 'body/sourceIds/0', message: 'was merged already' }])
  })

  it('a closed target, a closed source, another requester', async () => {
    const closed = await openTicket(acme.customer)
    for (const status of ['solved', 'closed']) {
      await ok(await call(acme.agent, 'PATCH', `/v1/tickets/${closed.id}`, { status }))
    }
    const live = await openTicket(acme.customer)
    const intoClosed = await expectRefused(
      () => merge(acme.agent, closed.id, [live.id]),
      422,
      'invalid_merge',
    )
    expect(intoClosed.errors).toEqual([{ path: 'params/id', message: 'is closed' }])
    const foreign = await openTicket(acme.agent, { requester: { email: 'someone@example.com' } })
    const fromClosed = await expectRefused(
      () => merge(acme.agent, live.id, [foreign.id, closed.id]),
      422,
      'invalid_merge',
    )
    expect(fromClosed.errors).toEqual([
      { path: 'body/sourceIds/0', message: 'has another requester than the target' },
      { path: 'body/sourceIds/1', message: 'is closed' },
    ])
  })

  it("another tenant's source answers 404 like an unknown one", async () => {
    const target = await openTicket(acme.customer)
    const theirs = await openTicket(other.customer)
    const foreign = await expectRefused(
      () => merge(acme.agent, target.id, [theirs.id]),
      404,
      'not_found',
    )
    const unknown = await expectRefused(
      () => merge(acme.agent, target.id, [randomUUID()]),
      404,
      'not_found',
    )
    const { requestId: _a, ...foreignBody } = foreign
    const { requestId: _b, ...unknownBody } = unknown
    expect(foreignBody).toEqual(unknownBody)
    // Nor may another tenant's ticket be the target.
    await expectRefused(() => merge(acme.agent, theirs.id, [target.id]), 404, 'not_found')
    expect((await call(other.agent, 'GET', `/v1/tickets/${theirs.id}`)).json().status).toBe('new')
  })

  it('a deleted source answers 404', async () => {
    const target = await openTicket(acme.customer)
    const gone = await openTicket(acme.customer)
    expect((await call(acme.admin, 'DELETE', `/v1/tickets/${gone.id}`)).statusCode).toBe(204)
    await expectRefused(() => merge(acme.agent, target.id, [gone.id]), 404, 'not_found')
  })

  it('no sources, more than five, or one twice answer 400', async () => {
    const target = await openTicket(acme.customer)
    const six = await Promise.all(Array.from({ length: 6 }, () => openTicket(acme.customer)))
    const ids = six.map((t) => t.id)
    for (const sourceIds of [[], ids, [ids[0]!, ids[0]!], [ids[0]!, ids[0]!.toUpperCase()]]) {
      await expectRefused(() => merge(acme.agent, target.id, sourceIds), 400, 'validation_failed')
    }
    // Five is fine.
    await ok(await merge(acme.agent, target.id, ids.slice(0, 5)))
  })

  it('a customer may not merge; an API key with tickets:merge may', async () => {
    const target = await openTicket(acme.customer)
    const source = await openTicket(acme.customer)
    await expectRefused(() => merge(acme.customer, target.id, [source.id]), 403, 'forbidden')
    const key = await ok(
      await call(acme.owner, 'POST', '/v1/api-keys', {
        name: 'Merger',
        permissions: ['tickets:merge', 'tickets:read_all'],
      }),
      201,
    )
    const machine: Actor = {
      ...acme.owner,
      headers: { authorization: `Bearer ${key.key}`, 'x-tenant-id': acme.slug },
    }
    expect(await ok(await merge(machine, target.id, [source.id]))).toMatchObject({
      id: target.id,
    })
  })
})

describe('merges crossing each other', () => {
  it('A into B and B into A at once: exactly one wins, the other is refused, no deadlock', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 6 }, async () => [
        await openTicket(acme.customer),
        await openTicket(acme.customer),
      ]),
    )
    const results = await Promise.all(
      pairs.map(async ([a, b]) => {
        const [ab, ba] = await Promise.all([
          merge(acme.agent, b!.id, [a!.id]),
          merge(acme.agent, a!.id, [b!.id]),
        ])
        return [ab, ba].map((r) => `${r.statusCode} ${r.json().code ?? 'merged'}`).sort()
      }),
    )
    for (const outcome of results) expect(outcome).toEqual(['200 merged', '422 invalid_merge'])
  })
})

describe('liveTicketOf', () => {
  it('follows merges to the live ticket, and finds nothing for no ticket or a deleted one', async () => {
    const [a, b, c] = [
      await openTicket(acme.customer),
      await openTicket(acme.customer),
      await openTicket(acme.customer),
    ]
    await ok(await merge(acme.agent, b!.id, [a!.id]))
    await ok(await merge(acme.agent, c!.id, [b!.id]))
    const live = (id: string, tenantId = acme.id) =>
      withScope(ctx.app.database, { tenantId }, (tx) => liveTicketOf(tx, tenantId, id))
    expect(await live(a!.id)).toBe(c!.id)
    expect(await live(b!.id)).toBe(c!.id)
    expect(await live(c!.id)).toBe(c!.id)
    expect(await live(randomUUID())).toBeNull()
    expect(await live(a!.id, other.id)).toBeNull()
    expect((await call(acme.admin, 'DELETE', `/v1/tickets/${c!.id}`)).statusCode).toBe(204)
    expect(await live(a!.id)).toBeNull()
  })
})
