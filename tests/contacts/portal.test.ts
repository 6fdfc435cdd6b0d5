// The customer portal: POST /v1/portal/join lets a signed-in stranger with a
// verified email join a tenant as a customer when the tenant's customerPortal
// setting is `open`, linked to the contact with its address and so to the
// tickets written for it; closed (the default) it is 403 portal_closed; never
// for an API key, a member, an unknown or a deleted tenant.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { type Actor, createTestTenant, signUpUser, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { RATE_LIMIT_MAX: '100000', AUTH_RATE_LIMIT_MAX: '10000' } })
const { app } = ctx

function join(actor: Pick<Actor, 'headers'>, tenant?: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/portal/join',
    headers: { ...actor.headers, ...(tenant ? { 'x-tenant-id': tenant } : {}) },
  })
}

async function stranger(label: string, verified = true): Promise<Actor> {
  const user = await signUpUser(ctx, label)
  if (verified) {
    await ctx.sql`update users set email_verified_at = now() where id = ${user.userId}`
  }
  return user
}

async function membershipsOf(userId: string) {
  return ctx.sql<{ tenant_id: string; role_id: string; active: boolean }[]>`
    select tenant_id, role_id, active from memberships where user_id = ${userId}`
}

async function setPortal(t: TestTenant, customerPortal: 'open' | 'invite') {
  const res = await app.inject({
    method: 'PATCH',
    url: '/v1/tenant',
    headers: t.admin.headers,
    payload: { settings: { customerPortal } },
  })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

describe('a closed portal (the default)', () => {
  it('answers 403 portal_closed and adds no one', async () => {
    const t = await createTestTenant(ctx)
    const tenant = await app.inject({ url: '/v1/tenant', headers: t.owner.headers })
    expect(tenant.json().settings).toEqual({
      aiReplyMode: 'off',
      aiTriage: 'off',
      customerPortal: 'invite',
    })
    const user = await stranger('closed-door')
    const before = await tenantDigest(ctx.sql, t.id)
    const res = await join(user, t.slug)
    expect(res.statusCode).toBe(403)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json().code).toBe('portal_closed')
    expect(await membershipsOf(user.userId)).toEqual([])
    expect(await tenantDigest(ctx.sql, t.id)).toBe(before)
  })
})

describe('an open portal', () => {
  let t: TestTenant
  beforeAll(async () => {
    t = await createTestTenant(ctx)
    await ctx.app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: t.admin.headers,
      payload: { settings: { aiReplyMode: 'draft' } },
    })
    const changed = await setPortal(t, 'open')
    // PATCH changes only the key it names.
    expect(changed.settings).toEqual({
      aiReplyMode: 'draft',
      aiTriage: 'off',
      customerPortal: 'open',
    })
  })

  it('lets a verified stranger join as a customer who sees the tickets written for its address', async () => {
    const user = await stranger('newcomer')
    // An agent opened a ticket for this address before the person ever signed in.
    const earlier = await app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: t.agent.headers,
      payload: {
        subject: 'Your order',
        body: 'We wrote to you about your order.',
        requester: { email: user.email.toUpperCase(), name: 'New Comer' },
      },
    })
    expect(earlier.statusCode, earlier.body).toBe(201)
    const headers = { ...user.headers, 'x-tenant-id': t.slug }
    // Not a member yet: the tenant is a 404 to it (and its membership cache says so).
    expect((await app.inject({ url: '/v1/tenant', headers })).statusCode).toBe(404)

    const res = await join(user, t.slug)
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toEqual({
      tenant: { id: t.id, name: t.slug, slug: t.slug },
      role: { id: t.roles.customer, name: 'customer' },
      permissions: ['tickets:read', 'tickets:write', 'kb:read'],
      contactId: earlier.json().requesterId,
    })
    // At once a member (the cached "not a member" was dropped)...
    expect((await app.inject({ url: '/v1/tenant', headers })).statusCode).toBe(200)
    const me = await app.inject({ url: '/v1/auth/me', headers: user.headers })
    expect(me.json().memberships).toEqual([
      expect.objectContaining({ tenant: expect.objectContaining({ id: t.id }) }),
    ])
    // ...who sees the ticket written for its address, and no one else's.
    const tickets = await app.inject({ url: '/v1/tickets', headers })
    expect(tickets.json().data.map((x: { id: string }) => x.id)).toEqual([earlier.json().id])
    const contact = await app.inject({
      url: `/v1/contacts/${earlier.json().requesterId}`,
      headers: t.agent.headers,
    })
    expect(contact.json()).toMatchObject({ userId: user.userId, name: 'New Comer' })

    const audit = await app.inject({
      url: '/v1/audit-events?action=member.joined',
      headers: t.owner.headers,
    })
    expect(audit.json().data).toEqual([
      expect.objectContaining({
        actorUserId: user.userId,
        targetType: 'member',
        targetId: user.userId,
        data: { via: 'portal', roleId: t.roles.customer, contactId: earlier.json().requesterId },
      }),
    ])

    // Joining again: already a member.
    const again = await join(user, t.slug)
    expect(again.statusCode).toBe(409)
    expect(again.json().code).toBe('already_member')
  })

  it('makes the contact when there is none', async () => {
    const user = await stranger('no-contact-yet')
    const res = await join(user, t.id)
    expect(res.statusCode, res.body).toBe(201)
    const [contact] = await ctx.sql<{ id: string; email: string; user_id: string }[]>`
      select id, email, user_id from contacts where tenant_id = ${t.id} and user_id = ${user.userId}`
    expect(contact).toMatchObject({ id: res.json().contactId, email: user.email })
  })

  it('refuses an unverified address (403 email_unverified), changing nothing', async () => {
    const user = await stranger('unverified', false)
    const before = await tenantDigest(ctx.sql, t.id)
    const res = await join(user, t.slug)
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('email_unverified')
    expect(await membershipsOf(user.userId)).toEqual([])
    expect(await tenantDigest(ctx.sql, t.id)).toBe(before)
  })

  it('refuses members as they are: no role changes, no deactivation undone', async () => {
    const before = await tenantDigest(ctx.sql, t.id)
    for (const member of [t.agent, t.owner, t.customer]) {
      const res = await join(member)
      expect(res.statusCode).toBe(409)
      expect(res.json().code).toBe('already_member')
    }
    expect(await tenantDigest(ctx.sql, t.id)).toBe(before)
    const deactivated = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.customer.userId}`,
      headers: t.admin.headers,
      payload: { active: false },
    })
    expect(deactivated.json().active).toBe(false)
    const res = await join(t.customer)
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('already_member')
    expect(await membershipsOf(t.customer.userId)).toEqual([
      expect.objectContaining({ tenant_id: t.id, active: false }),
    ])
  })

  it('refuses an API key, even one with every permission', async () => {
    const key = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: t.owner.headers,
      payload: { name: 'Portal key', permissions: ['members:manage', 'tenant:manage'] },
    })
    expect(key.statusCode, key.body).toBe(201)
    const res = await join({ headers: { authorization: `Bearer ${key.json().key}` } }, t.slug)
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('user_required')
  })

  it('answers no tenant 400, and an unknown or deleted tenant 404 like other tenant routes', async () => {
    const user = await stranger('wanderer')
    const none = await join(user)
    expect(none.statusCode).toBe(400)
    expect(none.json().code).toBe('tenant_required')
    const unknown = await join(user, 'no-such-tenant')
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().code).toBe('not_found')
    const gone = await createTestTenant(ctx)
    await setPortal(gone, 'open')
    const deleted = await app.inject({
      method: 'DELETE',
      url: '/v1/tenant',
      headers: gone.owner.headers,
    })
    expect(deleted.statusCode).toBe(204)
    const res = await join(user, gone.slug)
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('not_found')
    expect(await membershipsOf(user.userId)).toEqual([])
    const noAuth = await app.inject({
      method: 'POST',
      url: '/v1/portal/join',
      headers: { 'x-tenant-id': t.slug },
    })
    expect(noAuth.statusCode).toBe(401)
  })

  it('closes again: a stranger is then refused', async () => {
    const other = await createTestTenant(ctx)
    await setPortal(other, 'open')
    await setPortal(other, 'invite')
    const res = await join(await stranger('late'), other.slug)
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('portal_closed')
  })

  it('is documented as the one visitor route, with its tenant header', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json()
    const visitors = Object.entries(
      doc.paths as Record<string, Record<string, { 'x-access': string }>>,
    ).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => op['x-access'] === 'visitor')
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    )
    expect(visitors).toEqual(['POST /v1/portal/join'])
  })
})
