// Contacts through the api: create, read, list (q, email, externalId, cursor
// pages), change and delete; one contact per mailbox however it is spelled,
// look-alikes refused, a duplicate answered as 409 naming the contact that has
// it, even when two requests race; another tenant's contacts are 404.
import { sql } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { rowsOf, withScope } from '../../src/db/scoped.ts'
import { contactListStatement } from '../../src/domain/contacts/contact-list.ts'
import type { ListContactsQuery } from '../../src/domain/contacts/schemas.ts'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { RATE_LIMIT_MAX: '100000' } })
const { app } = ctx
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

type Json = Record<string, unknown>

function call(actor: Pick<Actor, 'headers'>, method: string, url: string, payload?: Json) {
  return app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    ...(payload !== undefined ? { payload } : {}),
  })
}

async function created(actor: Actor, payload: Json): Promise<Json & { id: string }> {
  const res = await call(actor, 'POST', '/v1/contacts', payload)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

const ids = (res: Awaited<ReturnType<typeof call>>) =>
  (res.json().data as { id: string }[]).map((c) => c.id)

describe('a contact', () => {
  it('is created, read, listed and changed', async () => {
    const res = await call(acme.agent, 'POST', '/v1/contacts', {
      email: 'Ada.Lovelace@Example.COM',
      name: 'Ada Lovelace',
      externalId: 'crm-1815',
    })
    expect(res.statusCode, res.body).toBe(201)
    const contact = res.json()
    expect(res.headers.location).toBe(`/v1/contacts/${contact.id}`)
    expect(contact).toEqual({
      id: expect.any(String),
      email: 'ada.lovelace@example.com',
      name: 'Ada Lovelace',
      externalId: 'crm-1815',
      userId: null,
      erasedAt: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: contact.createdAt,
    })
    const read = await call(acme.agent, 'GET', `/v1/contacts/${contact.id}`)
    expect(read.statusCode).toBe(200)
    expect(read.json()).toEqual(contact)

    const changed = await call(acme.agent, 'PATCH', `/v1/contacts/${contact.id}`, {
      name: 'Augusta Ada King',
      externalId: null,
    })
    expect(changed.statusCode, changed.body).toBe(200)
    expect(changed.json()).toMatchObject({
      email: 'ada.lovelace@example.com',
      name: 'Augusta Ada King',
      externalId: null,
    })
    const newAddress = await call(acme.agent, 'PATCH', `/v1/contacts/${contact.id}`, {
      email: 'ADA@analytical.example',
    })
    expect(newAddress.json().email).toBe('ada@analytical.example')
    // An empty change is no change.
    const empty = await call(acme.agent, 'PATCH', `/v1/contacts/${contact.id}`, {})
    expect(empty.statusCode).toBe(400)
  })

  it('needs contacts:read to read and contacts:write to write', async () => {
    const mine = await created(acme.agent, { email: 'perms@example.com' })
    const before = await tenantDigest(ctx.sql, acme.id)
    for (const [method, url, payload] of [
      ['GET', '/v1/contacts', undefined],
      ['GET', `/v1/contacts/${mine.id}`, undefined],
      ['POST', '/v1/contacts', { email: 'sneaky@example.com' }],
      ['PATCH', `/v1/contacts/${mine.id}`, { name: 'Sneaky' }],
      ['DELETE', `/v1/contacts/${mine.id}`, undefined],
    ] as const) {
      const res = await call(acme.customer, method, url, payload)
      expect(res.statusCode, `${method} ${url}`).toBe(403)
      expect(res.json().code).toBe('forbidden')
    }
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })
})

describe('one contact per mailbox', () => {
  it('answers 409 contact_exists naming the contact, for case and full-width spellings', async () => {
    const grace = await created(acme.agent, { email: 'grace@example.com', name: 'Grace' })
    const before = await tenantDigest(ctx.sql, acme.id)
    for (const email of [
      'GRACE@example.com',
      'Grace@EXAMPLE.com',
      'ｇｒａｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ',
    ]) {
      const res = await call(acme.agent, 'POST', '/v1/contacts', { email, name: 'Other' })
      expect(res.statusCode, email).toBe(409)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.json()).toMatchObject({
        code: 'contact_exists',
        existingId: grace.id,
        errors: [{ path: 'body/email', message: 'belongs to another contact' }],
      })
    }
    // Changing another contact to that address is the same conflict.
    const hopper = await created(acme.agent, { email: 'hopper@example.com' })
    const beforePatch = await tenantDigest(ctx.sql, acme.id)
    const patch = await call(acme.agent, 'PATCH', `/v1/contacts/${hopper.id}`, {
      email: 'GRACE@example.com',
    })
    expect(patch.statusCode).toBe(409)
    expect(patch.json()).toMatchObject({ code: 'contact_exists', existingId: grace.id })
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(beforePatch)
    expect(before).not.toBe(beforePatch)
  })

  it('answers 409 contact_exists for an external id another contact has', async () => {
    const first = await created(acme.agent, { email: 'ext-1@example.com', externalId: 'CRM-9' })
    const second = await created(acme.agent, { email: 'ext-2@example.com' })
    const before = await tenantDigest(ctx.sql, acme.id)
    const dup = await call(acme.agent, 'POST', '/v1/contacts', {
      email: 'ext-3@example.com',
      externalId: 'CRM-9',
    })
    expect(dup.statusCode).toBe(409)
    expect(dup.json()).toMatchObject({
      code: 'contact_exists',
      existingId: first.id,
      errors: [{ path: 'body/externalId' }],
    })
    const patch = await call(acme.agent, 'PATCH', `/v1/contacts/${second.id}`, {
      externalId: 'CRM-9',
    })
    expect(patch.json()).toMatchObject({ code: 'contact_exists', existingId: first.id })
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
    // External ids are the tenant's own: another case is another id.
    const otherCase = await call(acme.agent, 'PATCH', `/v1/contacts/${second.id}`, {
      externalId: 'crm-9',
    })
    expect(otherCase.statusCode).toBe(200)
    // Another tenant may use the same address and external id.
    await created(other.agent, { email: 'ext-1@example.com', externalId: 'CRM-9' })
  })

  it('lets exactly one of concurrent creates of an address win; the others get 409 naming it', async () => {
    const email = 'racer@example.com'
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(acme.agent, 'POST', '/v1/contacts', {
          email: i % 2 ? email.toUpperCase() : email,
          name: `Racer ${i}`,
        }),
      ),
    )
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes).toEqual([201, 409, 409, 409, 409, 409])
    const winner = results.find((r) => r.statusCode === 201)!.json().id
    for (const r of results.filter((res) => res.statusCode === 409)) {
      expect(r.json()).toMatchObject({ code: 'contact_exists', existingId: winner })
    }
    const [count] = await ctx.sql<{ n: number }[]>`
      select count(*)::int as n from contacts where tenant_id = ${acme.id} and email = ${email}`
    expect(count?.n).toBe(1)
  })

  it('refuses a look-alike address (400 invalid_email) and changes nothing', async () => {
    const alice = await created(acme.agent, { email: 'alice@example.com' })
    const before = await tenantDigest(ctx.sql, acme.id)
    // A Cyrillic "а" (U+0430), a zero-width space, no domain at all.
    for (const email of ['\u0430lice@example.com', 'ali\u200bce@example.com', 'alice@']) {
      const res = await call(acme.agent, 'POST', '/v1/contacts', { email })
      expect(res.statusCode, email).toBe(400)
      expect(res.json()).toMatchObject({
        code: 'invalid_email',
        errors: [{ path: 'body/email' }],
      })
      const patch = await call(acme.agent, 'PATCH', `/v1/contacts/${alice.id}`, { email })
      expect(patch.statusCode, email).toBe(400)
      expect(patch.json().code).toBe('invalid_email')
    }
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })

  it('refuses unknown fields and a client-set link or id, changing nothing', async () => {
    const mine = await created(acme.agent, { email: 'fields@example.com' })
    const before = await tenantDigest(ctx.sql, acme.id)
    for (const [method, url, payload] of [
      ['POST', '/v1/contacts', { email: 'new-one@example.com', role: 'admin' }],
      ['POST', '/v1/contacts', { email: 'new-two@example.com', userId: acme.customer.userId }],
      ['POST', '/v1/contacts', { email: 'new-three@example.com', id: mine.id }],
      ['PATCH', `/v1/contacts/${mine.id}`, { userId: acme.customer.userId }],
      ['PATCH', `/v1/contacts/${mine.id}`, { erasedAt: null }],
      ['PATCH', `/v1/contacts/${mine.id}`, { name: 'ok', tenantId: other.id }],
    ] as const) {
      const res = await call(acme.agent, method, url, payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.json().code).toBe('validation_failed')
    }
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })
})

describe('the list', () => {
  let t: TestTenant
  const people: Record<string, string> = {}

  beforeAll(async () => {
    // A tenant of its own, so the list holds exactly these.
    t = await createTestTenant(ctx)
    for (const [key, email, name, externalId] of [
      ['grace', 'grace.hopper@navy.example', 'Grace Hopper', 'crm-1'],
      ['ada', 'ada@analytical.example', 'Ada Lovelace', 'crm-2'],
      ['obrien', 'o.brien+support@mail.example', "Miles O'Brien", undefined],
      ['nameless', 'x_y@zeta.example', undefined, undefined],
      ['margaret', 'mh@apollo.example', 'Margaret Hamilton', 'crm-5'],
    ] as const) {
      const contact = await created(t.agent, {
        email,
        ...(name ? { name } : {}),
        ...(externalId ? { externalId } : {}),
      })
      people[key] = contact.id
    }
  })

  const list = (query: string) => call(t.agent, 'GET', `/v1/contacts${query}`)

  it('pages newest first with cursors, every contact once', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      seen.push(...ids(res))
      cursor = res.json().nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual(['margaret', 'nameless', 'obrien', 'ada', 'grace'].map((k) => people[k]))
    const bad = await list('?cursor=bm9wZQ')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().code).toBe('invalid_cursor')
  })

  it('finds by words of the name or the address, each word a prefix', async () => {
    const q = async (text: string) => ids(await list(`?q=${encodeURIComponent(text)}`))
    expect(await q('gra hop')).toEqual([people.grace])
    expect(await q('HOPPER')).toEqual([people.grace])
    expect(await q('lovel')).toEqual([people.ada])
    expect(await q('analytical')).toEqual([people.ada])
    expect(await q("o'brien")).toEqual([people.obrien])
    expect(await q('miles brien')).toEqual([people.obrien])
    expect(await q('grace ada')).toEqual([])
    expect(await q('zeta')).toEqual([people.nameless])
  })

  it('finds by the start of the address, as the parser would not split it', async () => {
    const q = async (text: string) => ids(await list(`?q=${encodeURIComponent(text)}`))
    expect(await q('grace.hopper@na')).toEqual([people.grace])
    expect(await q('O.Brien+supp')).toEqual([people.obrien])
    expect(await q('x_y@')).toEqual([people.nameless])
    expect(await q('ｍｈ@apo')).toEqual([people.margaret])
  })

  it('answers search syntax and punctuation as text, never as an error', async () => {
    for (const text of ["':*&|!()", '\\', '<->', '@', '...', '-', 'a:*b', '%', '_']) {
      const res = await list(`?q=${encodeURIComponent(text)}`)
      expect(res.statusCode, `${text}: ${res.body}`).toBe(200)
    }
    expect(ids(await list(`?q=${encodeURIComponent('%')}`))).toEqual([])
  })

  it('filters by exact email (in its stored form) and by external id', async () => {
    expect(ids(await list('?email=GRACE.HOPPER%40navy.example'))).toEqual([people.grace])
    expect(ids(await list('?email=grace.hopper%40navy.exampl'))).toEqual([])
    expect(ids(await list('?externalId=crm-2'))).toEqual([people.ada])
    expect(ids(await list('?externalId=CRM-2'))).toEqual([])
    expect(ids(await list('?externalId=crm-5&q=margaret'))).toEqual([people.margaret])
    const lookalike = await list(`?email=${encodeURIComponent('gr\u0430ce@navy.example')}`)
    expect(lookalike.statusCode).toBe(400)
    expect(lookalike.json()).toMatchObject({
      code: 'invalid_email',
      errors: [{ path: 'querystring/email' }],
    })
    const unknown = await list('?sort=name')
    expect(unknown.statusCode).toBe(400)
  })

  it('serves q from the tenant-leading indexes under row-level security', async () => {
    // The plans of the real statement, run as the app role under the tenant's
    // policy, on a tenant of 3,000 contacts. Sequential scans are off (test
    // tables are small). For q, what is checked is that both halves CAN be
    // index conditions under row-level security (their operators are
    // leakproof: a policy runs before any condition that is not, which would
    // leave a filter over every row of the tenant): plain index scans are off
    // and filtering is made dear, so the planner takes index conditions
    // wherever it may. (With its own costs it walks contacts_created_idx when
    // a match looks common, which is the right plan then.)
    const big = await createTestTenant(ctx)
    await ctx.sql`
      insert into contacts (id, tenant_id, email, name, external_id)
      select gen_random_uuid(), ${big.id}, f || '.' || l || g || '@mail' || (g % 40) || '.example',
             initcap(f) || ' ' || initcap(l), 'ext-' || g
      from generate_series(1, 3000) g, lateral (
        select (array['anna', 'ben', 'carla', 'dmitri', 'emma', 'felix'])[g % 6 + 1] as f,
               (array['smith', 'jones', 'garcia', 'lopez', 'moore', 'white', 'clark'])[g % 7 + 1] as l
      ) person`
    await ctx.sql`analyze contacts`
    const plan = async (query: Partial<ListContactsQuery>, indexConditionsOnly = false) => {
      const statement = contactListStatement(big.id, { limit: 20, ...query } as ListContactsQuery)
      const [row] = await withScope(app.database, { tenantId: big.id }, async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`)
        if (indexConditionsOnly) {
          await tx.execute(sql`set local enable_indexscan = off`)
          await tx.execute(sql`set local cpu_operator_cost = 1`)
        }
        return rowsOf<{ 'QUERY PLAN': unknown }>(tx, sql`explain (format json) ${statement}`)
      })
      const conditions: Record<string, string> = {}
      const walk = (node: Record<string, unknown>) => {
        if (typeof node['Index Name'] === 'string') {
          conditions[node['Index Name']] = String(node['Index Cond'] ?? '')
        }
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) {
          walk(child)
        }
      }
      walk((row!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan)
      return conditions
    }
    const q = await plan({ q: 'grace.hop' }, true)
    expect(Object.keys(q).sort()).toEqual(['contacts_email_prefix_idx', 'contacts_search_idx'])
    expect(q.contacts_search_idx).toContain('@@')
    expect(q.contacts_email_prefix_idx).toContain('email ~>=~')
    expect(Object.keys(await plan({}))).toEqual(['contacts_created_idx'])
    // Either email index serves equality (text_pattern_ops has = too).
    const byEmail = Object.entries(await plan({ email: 'anna.smith6@mail6.example' }))
    expect(byEmail).toHaveLength(1)
    expect(['contacts_tenant_email_key', 'contacts_email_prefix_idx']).toContain(byEmail[0]![0])
    expect(byEmail[0]![1]).toContain('email =')
    expect(Object.keys(await plan({ externalId: 'ext-7' }))).toEqual([
      'contacts_tenant_external_id_key',
    ])
  })
})

describe('deleting a contact', () => {
  it('deletes one without history, audited, and refuses one with tickets', async () => {
    const spare = await created(acme.agent, { email: 'spare@example.com' })
    const del = await call(acme.agent, 'DELETE', `/v1/contacts/${spare.id}`)
    expect(del.statusCode).toBe(204)
    expect((await call(acme.agent, 'GET', `/v1/contacts/${spare.id}`)).statusCode).toBe(404)
    expect((await call(acme.agent, 'DELETE', `/v1/contacts/${spare.id}`)).statusCode).toBe(404)
    const audit = await call(acme.owner, 'GET', '/v1/audit-events?action=contact.deleted')
    expect(audit.json().data).toEqual([
      expect.objectContaining({ targetId: spare.id, actorUserId: acme.agent.userId }),
    ])

    const ticket = await call(acme.agent, 'POST', '/v1/tickets', {
      subject: 'Printer',
      body: 'It prints nothing.',
      requester: { email: 'busy@example.com' },
    })
    expect(ticket.statusCode, ticket.body).toBe(201)
    const requesterId = ticket.json().requesterId
    const before = await tenantDigest(ctx.sql, acme.id)
    const refused = await call(acme.agent, 'DELETE', `/v1/contacts/${requesterId}`)
    expect(refused.statusCode).toBe(409)
    expect(refused.json().code).toBe('contact_has_tickets')
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
    // Deleting the ticket (soft) leaves it a ticket of the contact's.
    await call(acme.owner, 'DELETE', `/v1/tickets/${ticket.json().id}`)
    const still = await call(acme.agent, 'DELETE', `/v1/contacts/${requesterId}`)
    expect(still.json().code).toBe('contact_has_tickets')
  })

  it('refuses one that only wrote a message on a ticket of someone else', async () => {
    const ticket = await call(acme.agent, 'POST', '/v1/tickets', {
      subject: 'Shared',
      body: 'Opened for the first person.',
      requester: { email: 'first-person@example.com' },
    })
    const writer = await created(acme.agent, { email: 'writer@example.com' })
    await ctx.sql`insert into messages (id, tenant_id, ticket_id, author_type, contact_id, body)
      values (gen_random_uuid(), ${acme.id}, ${ticket.json().id}, 'customer', ${writer.id}, 'cc')`
    const refused = await call(acme.agent, 'DELETE', `/v1/contacts/${writer.id}`)
    expect(refused.statusCode).toBe(409)
    expect(refused.json().code).toBe('contact_has_tickets')
  })
})

describe("another tenant's contact", () => {
  it('is 404 to every contact route, and stays as it was', async () => {
    const theirs = await created(other.agent, { email: 'theirs@example.com', name: 'Theirs' })
    const before = await tenantDigest(ctx.sql, other.id)
    for (const [method, url, payload] of [
      ['GET', `/v1/contacts/${theirs.id}`, undefined],
      ['PATCH', `/v1/contacts/${theirs.id}`, { name: 'Mine now' }],
      // Not found comes before the body's address is judged.
      ['PATCH', `/v1/contacts/${theirs.id}`, { email: '\u0430lice@example.com' }],
      ['DELETE', `/v1/contacts/${theirs.id}`, undefined],
      ['POST', `/v1/contacts/${theirs.id}/erase`, undefined],
    ] as const) {
      const res = await call(acme.owner, method, url, payload)
      expect(res.statusCode, `${method} ${url}`).toBe(404)
      expect(res.json().code).toBe('not_found')
      expect(res.body).not.toContain('theirs@example.com')
    }
    const listed = await call(acme.owner, 'GET', '/v1/contacts?email=theirs%40example.com')
    expect(listed.json().data).toEqual([])
    expect(await tenantDigest(ctx.sql, other.id)).toBe(before)
  })
})
