// Erasing a contact (POST /v1/contacts/{id}/erase): its personal fields go,
// the contact stays and answers with nulls; every message it wrote loses its
// body and its attachments, and search no longer finds its words; tickets keep
// their numbers; the erasure is audited, needs contacts:write and
// tenant:manage both, and cannot be undone.
import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { eraseContact } from '../../src/domain/contacts/erasure.ts'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { staleSearchVectors } from '../helpers/search-vectors.ts'
import { type Actor, createTestTenant, signUpUser, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { RATE_LIMIT_MAX: '100000' } })
const { app } = ctx

type Json = Record<string, unknown>

function call(
  actor: Pick<Actor, 'headers'>,
  method: string,
  url: string,
  payload?: Json,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: method as 'GET',
    url,
    headers: { ...actor.headers, ...headers },
    ...(payload !== undefined ? { payload } : {}),
  })
}

async function ok(res: Awaited<ReturnType<typeof call>>, status = 201) {
  expect(res.statusCode, res.body).toBe(status)
  return res.json()
}

const search = async (actor: Actor, words: string) =>
  (
    (await ok(await call(actor, 'GET', `/v1/tickets?q=${encodeURIComponent(words)}`), 200))
      .data as { id: string }[]
  ).map((t) => t.id)

/** An attachment row on a message, as mail or an upload leaves one. */
async function attach(tenantId: string, messageId: string): Promise<string> {
  const key = `${tenantId}/${randomUUID()}`
  await ctx.sql`
    insert into attachments (id, tenant_id, message_id, filename, content_type, size, sha256,
                             storage_key, attached_at)
    values (gen_random_uuid(), ${tenantId}, ${messageId}, 'scan.pdf', 'application/pdf', 4,
            ${'0'.repeat(64)}, ${key}, now())`
  return key
}

describe('erasing a contact', () => {
  let t: TestTenant
  let customer: Actor
  let contactId: string
  let ownTicket: Json & { id: string; number: number }
  let agentTicket: Json & { id: string; number: number }
  let othersTicket: Json & { id: string }
  let customerMessageIds: string[]
  let agentMessageId: string
  let keptKey: string

  beforeAll(async () => {
    t = await createTestTenant(ctx)
    // A customer member with a verified address, linked to its contact.
    const user = await signUpUser(ctx, 'zebulon')
    await ctx.sql`update users set email_verified_at = now(), name = 'Zebulon Quixote'
                  where id = ${user.userId}`
    await ctx.sql`insert into memberships (tenant_id, user_id, role_id)
                  values (${t.id}, ${user.userId}, ${t.roles.customer})`
    customer = { ...user, headers: { ...user.headers, 'x-tenant-id': t.slug } }

    // Its own ticket, opened with an Idempotency-Key (the answer is stored).
    ownTicket = await ok(
      await call(
        customer,
        'POST',
        '/v1/tickets',
        { subject: 'Printer offline', body: 'My marzipan printer shows xylophone errors.' },
        { 'idempotency-key': 'zebulon-first-ticket' },
      ),
    )
    contactId = ownTicket.requesterId as string
    // A ticket an agent opened for the same address, where the customer writes too.
    agentTicket = await ok(
      await call(t.agent, 'POST', '/v1/tickets', {
        subject: 'Invoice question',
        body: 'Opening this for the customer.',
        requester: { email: customer.email.toUpperCase() },
      }),
    )
    expect(agentTicket.requesterId).toBe(contactId)
    const reply = await ok(
      await call(customer, 'POST', `/v1/tickets/${agentTicket.id}/messages`, {
        body: 'My quasar account number is 4711, my phone xylophone-555.',
      }),
    )
    const answer = await ok(
      await call(t.agent, 'POST', `/v1/tickets/${agentTicket.id}/messages`, {
        body: 'Thanks, we are looking into the invoice.',
      }),
    )
    agentMessageId = answer.id
    // Someone else writes the same word: their ticket must still be found.
    othersTicket = await ok(
      await call(t.agent, 'POST', '/v1/tickets', {
        subject: 'Other person',
        body: 'A xylophone question from someone else.',
        requester: { email: 'someone-else@example.com' },
      }),
    )
    customerMessageIds = [(ownTicket.firstMessage as { id: string }).id, reply.id]
    await attach(t.id, reply.id)
    keptKey = await attach(t.id, agentMessageId)
  })

  it('is refused to a customer, to an agent without tenant:manage and to a key lacking either', async () => {
    const ownerKey = async (permissions: string[]) => {
      const key = await ok(
        await call(t.owner, 'POST', '/v1/api-keys', { name: permissions.join('+'), permissions }),
      )
      const headers = { authorization: `Bearer ${key.key}`, 'x-tenant-id': t.slug }
      // A key's last use is stamped at its first: use it once before the digest.
      await ok(await call({ headers }, 'GET', '/v1/tenant'), 200)
      return { headers }
    }
    const onlyManage = await ownerKey(['tenant:manage'])
    const onlyWrite = await ownerKey(['contacts:write'])
    const before = await tenantDigest(ctx.sql, t.id)
    for (const [who, caller] of [
      ['customer', customer],
      ['agent', t.agent],
      ['key with tenant:manage only', onlyManage],
      ['key with contacts:write only', onlyWrite],
    ] as const) {
      const res = await call(caller, 'POST', `/v1/contacts/${contactId}/erase`)
      expect(res.statusCode, who).toBe(403)
      expect(res.json()).toMatchObject({
        code: 'forbidden',
        detail: 'This needs the contacts:write and tenant:manage permissions.',
      })
    }
    expect(await tenantDigest(ctx.sql, t.id)).toBe(before)
    // The agent may still read the contact (contacts:read) and see its words.
    expect((await ok(await call(t.agent, 'GET', `/v1/contacts/${contactId}`), 200)).email).toBe(
      customer.email,
    )
    expect((await search(t.agent, 'xylophone')).sort()).toEqual(
      [ownTicket.id, agentTicket.id, othersTicket.id].sort(),
    )
  })

  it('nulls the contact, empties its messages, drops their attachments and its words from search', async () => {
    const res = await call(t.owner, 'POST', `/v1/contacts/${contactId}/erase`)
    const erased = await ok(res, 200)
    expect(erased).toEqual({
      id: contactId,
      email: null,
      name: null,
      externalId: null,
      userId: null,
      erasedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    expect(await ok(await call(t.agent, 'GET', `/v1/contacts/${contactId}`), 200)).toEqual(erased)

    // Its messages keep their place, with nothing in them.
    const bodies = await ctx.sql<{ id: string; body: string }[]>`
      select id, body from messages where contact_id = ${contactId} order by created_at`
    expect(bodies.map((m) => m.id)).toEqual(customerMessageIds)
    expect(bodies.map((m) => m.body)).toEqual(['', ''])
    const thread = await ok(
      await call(t.agent, 'GET', `/v1/tickets/${agentTicket.id}/messages`),
      200,
    )
    const written = thread.data.filter((m: { authorType: string }) => m.authorType !== 'system')
    expect(written.map((m: { body: string }) => m.body)).toEqual([
      'Opening this for the customer.',
      '',
      'Thanks, we are looking into the invoice.',
    ])
    // Their attachments went; the agent's stays.
    const files = await ctx.sql<{ storage_key: string }[]>`
      select storage_key from attachments where tenant_id = ${t.id}`
    expect(files.map((f) => f.storage_key)).toEqual([keptKey])

    // Search: the erased words find only the other person's ticket now.
    expect(await search(t.agent, 'xylophone')).toEqual([othersTicket.id])
    expect(await search(t.agent, 'marzipan')).toEqual([])
    expect(await search(t.agent, 'quasar')).toEqual([])
    // What others wrote, and the subjects, are still found.
    expect(await search(t.agent, 'invoice')).toEqual([agentTicket.id])
    expect(await search(t.agent, 'printer')).toEqual([ownTicket.id])
    expect(
      await staleSearchVectors(ctx.sql, [ownTicket.id, agentTicket.id, othersTicket.id]),
    ).toEqual([])

    // The tickets stay, with their numbers and a requester of nulls.
    for (const ticket of [ownTicket, agentTicket]) {
      const read = await ok(await call(t.agent, 'GET', `/v1/tickets/${ticket.id}`), 200)
      expect(read).toMatchObject({
        number: ticket.number,
        requesterId: contactId,
        requester: { id: contactId, email: null, name: null },
      })
    }
    // The stored Idempotency-Key answer held its words: gone too.
    const stored = await ctx.sql`
      select 1 from idempotency_keys where tenant_id = ${t.id}
        and response::text like ${'%marzipan%'}`
    expect(stored).toHaveLength(0)

    const audit = await ok(
      await call(t.owner, 'GET', `/v1/audit-events?action=contact.erased`),
      200,
    )
    expect(audit.data).toEqual([
      expect.objectContaining({
        targetType: 'contact',
        targetId: contactId,
        actorUserId: t.owner.userId,
        data: { messages: 2, attachments: 1, tickets: 2, eventCopies: expect.any(Number) },
      }),
    ])
    expect(audit.data[0].data.eventCopies).toBeGreaterThan(0)
    expect(JSON.stringify(audit.data)).not.toContain(customer.email)
    // Nor do the feed's events keep its words or its address.
    for (const trace of ['marzipan', 'quasar', customer.email]) {
      const copies = await ctx.sql`
        select 1 from events where tenant_id = ${t.id}
          and (data::text like ${`%${trace}%`} or coalesce(customer_data::text, '') like ${`%${trace}%`})`
      expect(copies, trace).toHaveLength(0)
    }
  })

  it('cannot be undone: the contact cannot be changed, and erasing again changes nothing', async () => {
    const first = await ok(await call(t.agent, 'GET', `/v1/contacts/${contactId}`), 200)
    const before = await tenantDigest(ctx.sql, t.id)
    for (const payload of [{ email: customer.email }, { name: 'Zebulon' }, { externalId: 'z' }]) {
      const res = await call(t.agent, 'PATCH', `/v1/contacts/${contactId}`, payload)
      expect(res.statusCode).toBe(409)
      expect(res.json().code).toBe('contact_erased')
    }
    const again = await call(t.owner, 'POST', `/v1/contacts/${contactId}/erase`)
    expect(await ok(again, 200)).toEqual(first)
    expect(await tenantDigest(ctx.sql, t.id)).toBe(before)
    // Nor is it a requester any more.
    const refused = await call(t.agent, 'POST', '/v1/tickets', {
      subject: 'New',
      body: 'For the erased contact',
      requesterId: contactId,
    })
    expect(refused.statusCode).toBe(422)
    expect(refused.json().code).toBe('invalid_requester')
  })

  it('unlinks the member: it no longer sees those tickets, and acting again gives it a new contact', async () => {
    expect(await ok(await call(customer, 'GET', '/v1/tickets'), 200)).toMatchObject({ data: [] })
    const fresh = await ok(
      await call(customer, 'POST', '/v1/tickets', { subject: 'Hello again', body: 'New start' }),
    )
    expect(fresh.requesterId).not.toBe(contactId)
    const mine = await ok(await call(customer, 'GET', '/v1/tickets'), 200)
    expect(mine.data.map((x: { id: string }) => x.id)).toEqual([fresh.id])
  })
})

describe('the erasure itself', () => {
  let t: TestTenant
  beforeAll(async () => {
    t = await createTestTenant(ctx)
  })

  it('returns the storage keys of the files to delete, and scrubs what was written meanwhile', async () => {
    const ticket = await ok(
      await call(t.agent, 'POST', '/v1/tickets', {
        subject: 'Mail in',
        body: 'Opened for the sender.',
        requester: { email: 'sender@example.com', name: 'Sender' },
      }),
    )
    const contactId = ticket.requesterId as string
    // Mail from the contact, with two files.
    const [message] = await ctx.sql<{ id: string }[]>`
      insert into messages (id, tenant_id, ticket_id, author_type, contact_id, body)
      values (gen_random_uuid(), ${t.id}, ${ticket.id}, 'customer', ${contactId}, 'attached')
      returning id`
    const keys = [await attach(t.id, message!.id), await attach(t.id, message!.id)]
    const actor = { actorUserId: t.owner.userId }
    const first = await eraseContact(app.database, t.id, contactId, actor)
    expect(first.storageKeys.sort()).toEqual(keys.sort())
    expect(first.contact.erasedAt).not.toBeNull()

    // A message written for the contact while the first erasure ran (its
    // insert waited on the contact's lock): erasing again scrubs it.
    const [late] = await ctx.sql<{ id: string }[]>`
      insert into messages (id, tenant_id, ticket_id, author_type, contact_id, body)
      values (gen_random_uuid(), ${t.id}, ${ticket.id}, 'customer', ${contactId}, 'late words')
      returning id`
    const lateKey = await attach(t.id, late!.id)
    const second = await eraseContact(app.database, t.id, contactId, actor)
    expect(second.storageKeys).toEqual([lateKey])
    expect(second.contact).toEqual(first.contact)
    const [scrubbed] = await ctx.sql`select body from messages where id = ${late!.id}`
    expect(scrubbed?.body).toBe('')
    const events = await ctx.sql<{ data: Json }[]>`
      select data from audit_events where tenant_id = ${t.id} and action = 'contact.erased'
      order by created_at`
    expect(events.map((e) => e.data)).toEqual([
      { messages: 1, attachments: 2, tickets: 1, eventCopies: expect.any(Number) },
      // The late message was written around the API, with no event: none to delete.
      { messages: 1, attachments: 1, tickets: 1, eventCopies: 0, again: true },
    ])
    await expect(eraseContact(app.database, t.id, randomUUID(), actor)).rejects.toMatchObject({
      statusCode: 404,
    })
  })
})
