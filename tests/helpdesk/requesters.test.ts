// Tickets' requesters are contacts: an agent names one by id or by address, a
// customer is always its own (its member contact), an API key must name one.
// Addresses that differ only by case or by compatibility forms are one
// contact; a look-alike local part is refused, never stored beside the real one.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { type Actor, createTestTenant, signUpUser, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

function post(actor: { headers: Record<string, string> }, payload: Record<string, unknown>) {
  return ctx.app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: actor.headers,
    payload: { subject: 'Help', body: 'Please', ...payload },
  })
}

async function contactsOf(tenantId: string) {
  return ctx.sql<
    { id: string; email: string | null; name: string | null; user_id: string | null }[]
  >`
    select id, email, name, user_id from contacts where tenant_id = ${tenantId} order by created_at`
}

describe('requesters are contacts', () => {
  it('an agent names a requester by address: found or made, one contact per mailbox', async () => {
    const first = await post(acme.agent, {
      requester: { email: 'Grace@Example.COM', name: 'Grace' },
    })
    expect(first.statusCode, first.body).toBe(201)
    expect(first.json().requester).toMatchObject({ email: 'grace@example.com', name: 'Grace' })
    // Case and full-width letters (NFKC) name the same mailbox.
    const again = await post(acme.agent, { requester: { email: 'ＧＲＡＣＥ@example.com' } })
    expect(again.statusCode, again.body).toBe(201)
    expect(again.json().requesterId).toBe(first.json().requesterId)
    // By id, the same contact.
    const byId = await post(acme.agent, { requesterId: first.json().requesterId })
    expect(byId.json().requester.email).toBe('grace@example.com')
    const graces = (await contactsOf(acme.id)).filter((c) => c.email === 'grace@example.com')
    expect(graces).toHaveLength(1)
  })

  it('a look-alike address is refused and changes nothing', async () => {
    await post(acme.agent, { requester: { email: 'alice@example.com' } })
    const before = await tenantDigest(ctx.sql, acme.id)
    // Cyrillic "а" (U+0430) and a zero-width space in the local part.
    for (const email of ['\u0430lice@example.com', 'ali\u200bce@example.com']) {
      const res = await post(acme.agent, { requester: { email } })
      expect(res.statusCode, email).toBe(400)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.json()).toMatchObject({ code: 'invalid_email' })
    }
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })

  it('a look-alike domain is stored in its ASCII form, visibly another domain', async () => {
    const res = await post(acme.agent, { requester: { email: 'bob@ex\u0430mple.com' } })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().requester.email).toBe('bob@xn--exmple-4nf.com')
  })

  it("another tenant's contact, or a user id, is not a requester", async () => {
    const theirs = await post(other.agent, { requester: { email: 'theirs@example.com' } })
    const before = await tenantDigest(ctx.sql, acme.id)
    for (const requesterId of [theirs.json().requesterId, acme.customer.userId]) {
      const res = await post(acme.agent, { requesterId })
      expect(res.statusCode).toBe(422)
      expect(res.json().code).toBe('invalid_requester')
    }
    const both = await post(acme.agent, {
      requesterId: theirs.json().requesterId,
      requester: { email: 'x@example.com' },
    })
    expect(both.statusCode).toBe(400)
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })

  it('an agent naming nobody is its own requester, through its own contact', async () => {
    const res = await post(acme.admin, {})
    expect(res.statusCode, res.body).toBe(201)
    const [mine] = (await contactsOf(acme.id)).filter((c) => c.user_id === acme.admin.userId)
    expect(res.json().requesterId).toBe(mine?.id)
  })

  it('an API key must name the requester', async () => {
    const key = await ctx.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: acme.owner.headers,
      payload: { name: 'Integration', permissions: ['tickets:read_all', 'tickets:write'] },
    })
    const headers = { authorization: `Bearer ${key.json().key}`, 'x-tenant-id': acme.slug }
    const none = await post({ headers }, {})
    expect(none.statusCode).toBe(400)
    expect(none.json().code).toBe('requester_required')
    const named = await post({ headers }, { requester: { email: 'api-made@example.com' } })
    expect(named.statusCode, named.body).toBe(201)
    expect(named.json().firstMessage.authorType).toBe('agent')
  })
})

describe("a customer member's contact", () => {
  async function customerOf(tenant: TestTenant, label: string): Promise<Actor> {
    const actor = await signUpUser(ctx, label)
    await ctx.sql`insert into memberships (tenant_id, user_id, role_id)
                  values (${tenant.id}, ${actor.userId}, ${tenant.roles.customer})`
    return { ...actor, headers: { ...actor.headers, 'x-tenant-id': tenant.slug } }
  }

  it('is made with its first ticket, and its messages carry it', async () => {
    const customer = await customerOf(acme, 'first-ticket')
    const res = await post(customer, {})
    expect(res.statusCode, res.body).toBe(201)
    const [contact] = (await contactsOf(acme.id)).filter((c) => c.user_id === customer.userId)
    expect(contact?.email).toBe(customer.email)
    expect(res.json().requesterId).toBe(contact?.id)
    expect(res.json().firstMessage.contactId).toBe(contact?.id)
  })

  it('with an unverified address, is not linked to the contact mail already made', async () => {
    const customer = await signUpUser(ctx, 'claimer')
    // Mail (or an agent) made a contact with this address, with tickets of its own.
    const earlier = await post(acme.agent, { requester: { email: customer.email } })
    await ctx.sql`insert into memberships (tenant_id, user_id, role_id)
                  values (${acme.id}, ${customer.userId}, ${acme.roles.customer})`
    const headers = { ...customer.headers, 'x-tenant-id': acme.slug }
    const before = await tenantDigest(ctx.sql, acme.id)
    const refused = await post({ headers }, {})
    expect(refused.statusCode).toBe(403)
    expect(refused.json().code).toBe('email_unverified')
    const list = await ctx.app.inject({ method: 'GET', url: '/v1/tickets', headers })
    expect(list.json().data).toEqual([])
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
    // Once the address is verified, the member is that contact and sees its tickets.
    await ctx.sql`update users set email_verified_at = now() where id = ${customer.userId}`
    const mine = await post({ headers }, {})
    expect(mine.statusCode, mine.body).toBe(201)
    expect(mine.json().requesterId).toBe(earlier.json().requesterId)
    const ids = (await ctx.app.inject({ method: 'GET', url: '/v1/tickets', headers }))
      .json()
      .data.map((t: { id: string }) => t.id)
    expect(ids).toEqual(expect.arrayContaining([earlier.json().id, mine.json().id]))
  })

  it('parallel first tickets settle on one contact', async () => {
    const customer = await customerOf(acme, 'parallel')
    const results = await Promise.all(Array.from({ length: 8 }, () => post(customer, {})))
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(201))
    expect(new Set(results.map((r) => r.json().requesterId)).size).toBe(1)
  })
})
