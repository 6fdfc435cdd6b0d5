// Members, roles, invitations, API keys and the audit log, tried as an
// attacker would: escalation attempts, stale memberships, foreign tenants.
import { describe, expect, it } from 'vitest'
import { hashToken } from '../../src/lib/tokens.ts'
import { membershipCacheKey } from '../../src/plugins/tenant.ts'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { createTestTenant, signUpUser } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '10000' } })
const { app } = ctx
const acme = await createTestTenant(ctx)
const other = await createTestTenant(ctx)

/** The refusal's status and code, and not a row of either tenant written by it. */
async function expectRefused(
  request: () => Promise<Awaited<ReturnType<typeof app.inject>>>,
  status: number,
  code: string,
  tenants: { id: string }[] = [acme, other],
) {
  const before = await Promise.all(tenants.map((t) => tenantDigest(ctx.sql, t.id)))
  const res = await request()
  expect(res.statusCode, res.body).toBe(status)
  expect(res.json().code).toBe(code)
  expect(await Promise.all(tenants.map((t) => tenantDigest(ctx.sql, t.id)))).toEqual(before)
  return res
}

describe('members', () => {
  it('lists with search and cursor pagination', async () => {
    // A tenant of its own: exactly its four members, whatever other tests add elsewhere.
    const t = await createTestTenant(ctx)
    const first = await app.inject({ url: '/v1/members?limit=2', headers: t.agent.headers })
    expect(first.statusCode).toBe(200)
    const page1 = first.json()
    expect(page1.data).toHaveLength(2)
    expect(page1.nextCursor).toEqual(expect.any(String))
    const second = await app.inject({
      url: `/v1/members?limit=2&cursor=${page1.nextCursor}`,
      headers: t.agent.headers,
    })
    const page2 = second.json()
    expect(page2.data).toHaveLength(2)
    expect(page2.nextCursor).toBeNull()
    const ids = [...page1.data, ...page2.data].map((m: { userId: string }) => m.userId)
    expect(new Set(ids).size).toBe(4)
    const search = await app.inject({
      url: `/v1/members?q=${encodeURIComponent(t.customer.email)}`,
      headers: t.agent.headers,
    })
    expect(search.json().data.map((m: { userId: string }) => m.userId)).toEqual([t.customer.userId])
    const badCursor = await app.inject({
      url: '/v1/members?cursor=nope',
      headers: t.agent.headers,
    })
    expect(badCursor.statusCode).toBe(400)
    expect(badCursor.json().code).toBe('invalid_cursor')
  })

  it('a customer cannot list members', async () => {
    const res = await app.inject({ url: '/v1/members', headers: acme.customer.headers })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('forbidden')
  })

  it('a role change and a removal take effect on the very next request', async () => {
    const t = await createTestTenant(ctx)
    expect((await app.inject({ url: '/v1/members', headers: t.agent.headers })).statusCode).toBe(
      200,
    )
    const demote = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.agent.userId}`,
      headers: t.admin.headers,
      payload: { roleId: t.roles.customer },
    })
    expect(demote.statusCode, demote.body).toBe(200)
    expect(demote.json().role.name).toBe('customer')
    expect((await app.inject({ url: '/v1/members', headers: t.agent.headers })).statusCode).toBe(
      403,
    )
    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.agent.userId}`,
      headers: t.admin.headers,
    })
    expect(removed.statusCode).toBe(204)
    expect((await app.inject({ url: '/v1/tenant', headers: t.agent.headers })).statusCode).toBe(404)
    const deactivate = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.customer.userId}`,
      headers: t.admin.headers,
      payload: { active: false },
    })
    expect(deactivate.json().active).toBe(false)
    expect((await app.inject({ url: '/v1/tenant', headers: t.customer.headers })).statusCode).toBe(
      404,
    )
  })

  it('keeps at least one owner', async () => {
    const t = await createTestTenant(ctx)
    const demote = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.owner.userId}`,
      headers: t.owner.headers,
      payload: { roleId: t.roles.admin },
    })
    expect(demote.statusCode).toBe(409)
    expect(demote.json().code).toBe('last_owner')
    const leave = await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.owner.userId}`,
      headers: t.owner.headers,
    })
    expect(leave.statusCode).toBe(409)
    const deactivate = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.owner.userId}`,
      headers: t.owner.headers,
      payload: { active: false },
    })
    expect(deactivate.statusCode).toBe(409)
    // With a second owner, the first may step down.
    const promote = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
      payload: { roleId: t.roles.owner },
    })
    expect(promote.statusCode).toBe(200)
    const stepDown = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.owner.userId}`,
      headers: t.owner.headers,
      payload: { roleId: t.roles.admin },
    })
    expect(stepDown.statusCode).toBe(200)
  })
})

describe('privilege escalation', () => {
  it('an admin cannot make itself owner, nor act in another tenant', async () => {
    const patch =
      (userId: string, roleId: string, headers = acme.admin.headers) =>
      () =>
        app.inject({ method: 'PATCH', url: `/v1/members/${userId}`, headers, payload: { roleId } })
    await expectRefused(patch(acme.admin.userId, acme.roles.owner), 403, 'cannot_change_own_role')
    await expectRefused(patch(acme.agent.userId, acme.roles.owner), 403, 'owner_required')
    await expectRefused(
      patch(acme.admin.userId, other.roles.owner, {
        ...acme.admin.headers,
        'x-tenant-id': other.slug,
      }),
      404,
      'not_found',
    )
    await expectRefused(patch(acme.agent.userId, other.roles.agent), 404, 'not_found')
  })

  it('an agent cannot change its own role', async () => {
    await expectRefused(
      () =>
        app.inject({
          method: 'PATCH',
          url: `/v1/members/${acme.agent.userId}`,
          headers: acme.agent.headers,
          payload: { roleId: acme.roles.admin },
        }),
      403,
      'forbidden',
    )
  })

  it('a custom role cannot hold more than its creator holds', async () => {
    const t = await createTestTenant(ctx)
    const manager = await app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: t.owner.headers,
      payload: { name: 'Role manager', permissions: ['roles:manage', 'members:read'] },
    })
    expect(manager.statusCode, manager.body).toBe(201)
    await ctx.sql`update memberships set role_id = ${manager.json().id}
                  where tenant_id = ${t.id} and user_id = ${t.agent.userId}`
    await app.tenantCaches.memberships.invalidate(membershipCacheKey(t.id))
    await expectRefused(
      () =>
        app.inject({
          method: 'POST',
          url: '/v1/roles',
          headers: t.agent.headers,
          payload: { name: 'Sneaky', permissions: ['roles:manage', 'audit:read'] },
        }),
      403,
      'permission_escalation',
      [t],
    )
    await expectRefused(
      () =>
        app.inject({
          method: 'PATCH',
          url: `/v1/roles/${manager.json().id}`,
          headers: t.agent.headers,
          payload: { permissions: ['roles:manage', 'members:read', 'tenant:manage'] },
        }),
      403,
      'permission_escalation',
      [t],
    )
    const fine = await app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: t.agent.headers,
      payload: { name: 'Reader', permissions: ['members:read'] },
    })
    expect(fine.statusCode).toBe(201)
  })

  it('an API key cannot create a key with more permissions than itself', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: acme.owner.headers,
      payload: { name: 'Key maker', permissions: ['api_keys:manage', 'members:read'] },
    })
    expect(created.statusCode, created.body).toBe(201)
    const keyHeaders = { authorization: `Bearer ${created.json().key}`, 'x-tenant-id': acme.slug }
    // The key's own last-used time may be stamped by its first use: use it once before.
    expect((await app.inject({ url: '/v1/api-keys', headers: keyHeaders })).statusCode).toBe(200)
    await expectRefused(
      () =>
        app.inject({
          method: 'POST',
          url: '/v1/api-keys',
          headers: keyHeaders,
          payload: { name: 'Bigger', permissions: ['api_keys:manage', 'audit:read'] },
        }),
      403,
      'permission_escalation',
    )
    const subset = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: keyHeaders,
      payload: { name: 'Smaller', permissions: ['members:read'] },
    })
    expect(subset.statusCode).toBe(201)
  })
})

describe('roles', () => {
  it('built-in roles are read-only and a role in use cannot be deleted', async () => {
    const list = await app.inject({ url: '/v1/roles', headers: acme.admin.headers })
    expect(list.json().data.filter((r: { builtin: boolean }) => r.builtin)).toHaveLength(4)
    const edit = await app.inject({
      method: 'PATCH',
      url: `/v1/roles/${acme.roles.agent}`,
      headers: acme.owner.headers,
      payload: { permissions: ['tickets:read'] },
    })
    expect(edit.statusCode).toBe(409)
    expect(edit.json().code).toBe('builtin_role')
    const del = await app.inject({
      method: 'DELETE',
      url: `/v1/roles/${acme.roles.customer}`,
      headers: acme.owner.headers,
    })
    expect(del.statusCode).toBe(409)
    const custom = await app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: acme.owner.headers,
      payload: { name: 'Tier 2', permissions: ['tickets:read_all'] },
    })
    await ctx.sql`update memberships set role_id = ${custom.json().id}
                  where tenant_id = ${acme.id} and user_id = ${acme.customer.userId}`
    const inUse = await app.inject({
      method: 'DELETE',
      url: `/v1/roles/${custom.json().id}`,
      headers: acme.owner.headers,
    })
    expect(inUse.statusCode).toBe(409)
    expect(inUse.json().code).toBe('role_in_use')
    await ctx.sql`update memberships set role_id = ${acme.roles.customer}
                  where tenant_id = ${acme.id} and user_id = ${acme.customer.userId}`
    await app.tenantCaches.memberships.invalidate(membershipCacheKey(acme.id))
    const unused = await app.inject({
      method: 'DELETE',
      url: `/v1/roles/${custom.json().id}`,
      headers: acme.owner.headers,
    })
    expect(unused.statusCode).toBe(204)
  })
})

describe('invitations', () => {
  it('invites, queues the email job, and is accepted once by the invited user', async () => {
    const invitee = await signUpUser(ctx, 'invitee')
    const created = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: acme.admin.headers,
      payload: { email: invitee.email.toUpperCase(), roleId: acme.roles.agent },
    })
    expect(created.statusCode, created.body).toBe(201)
    const invitation = created.json()
    expect(invitation).toMatchObject({
      email: invitee.email,
      status: 'pending',
      role: { name: 'agent' },
    })
    const [job] =
      await ctx.sql`select type, payload from jobs where payload->>'invitationId' = ${invitation.id}`
    expect(job).toMatchObject({ type: 'email', payload: { template: 'invitation' } })
    // The email job mints the token; arrange one directly here.
    const token = 'test-invitation-token-0123456789abcdef'
    await ctx.sql`update invitations set token_hash = ${hashToken(token)} where id = ${invitation.id}`

    const stranger = await signUpUser(ctx, 'stranger')
    const wrongUser = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      headers: stranger.headers,
      payload: { token },
    })
    expect(wrongUser.statusCode).toBe(403)
    const accepted = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      headers: invitee.headers,
      payload: { token },
    })
    expect(accepted.statusCode, accepted.body).toBe(200)
    expect(accepted.json()).toEqual({
      tenant: { id: acme.id },
      roleId: acme.roles.agent,
      userId: invitee.userId,
    })
    const asMember = await app.inject({
      url: '/v1/members',
      headers: { ...invitee.headers, 'x-tenant-id': acme.slug },
    })
    expect(asMember.statusCode).toBe(200)
    const replay = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      headers: invitee.headers,
      payload: { token },
    })
    expect(replay.statusCode).toBe(404)
  })

  it('refuses inviting an existing member, an owner by an admin, and revoked tokens', async () => {
    const member = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: acme.admin.headers,
      payload: { email: acme.agent.email, roleId: acme.roles.agent },
    })
    expect(member.statusCode).toBe(409)
    const owner = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: acme.admin.headers,
      payload: { email: 'new-owner@example.com', roleId: acme.roles.owner },
    })
    expect(owner.statusCode).toBe(403)
    const created = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: acme.admin.headers,
      payload: { email: 'later@example.com', roleId: acme.roles.customer },
    })
    const id = created.json().id
    const revoked = await app.inject({
      method: 'DELETE',
      url: `/v1/invitations/${id}`,
      headers: acme.admin.headers,
    })
    expect(revoked.statusCode).toBe(204)
    const list = await app.inject({ url: '/v1/invitations', headers: acme.admin.headers })
    expect(list.json().data.find((i: { id: string }) => i.id === id).status).toBe('revoked')
  })
})

describe('invitations for people without an account', () => {
  it('creates the account on accept, verified, and refuses an address that has one', async () => {
    const email = `newcomer-${Date.now()}@example.com`
    const created = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: acme.admin.headers,
      payload: { email, roleId: acme.roles.customer },
    })
    const token = 'newcomer-invitation-token-0123456789abcdef'
    await ctx.sql`update invitations set token_hash = ${hashToken(token)} where id = ${created.json().id}`
    const missing = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token },
    })
    expect(missing.statusCode).toBe(400)
    expect(missing.json().code).toBe('account_details_required')
    const weak = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token, name: 'New Comer', password: 'short' },
    })
    expect(weak.statusCode).toBe(400)
    expect(weak.json().code).toBe('weak_password')
    const accepted = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token, name: 'New Comer', password: 'a long and unusual passphrase 7' },
    })
    expect(accepted.statusCode, accepted.body).toBe(201)
    const [user] =
      await ctx.sql`select email, email_verified_at from users where id = ${accepted.json().userId}`
    expect(user?.email).toBe(email)
    expect(user?.email_verified_at).not.toBeNull()
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: 'a long and unusual passphrase 7' },
    })
    expect(login.statusCode).toBe(200)
    const tenant = await app.inject({
      url: '/v1/tenant',
      headers: { authorization: `Bearer ${login.json().accessToken}`, 'x-tenant-id': acme.slug },
    })
    expect(tenant.statusCode).toBe(200)
    // The login shows in the tenant's audit log.
    const audit = await app.inject({
      url: `/v1/audit-events?action=auth.login&actorId=${accepted.json().userId}`,
      headers: acme.owner.headers,
    })
    expect(audit.json().data).toHaveLength(1)

    const second = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: other.admin.headers,
      payload: { email, roleId: other.roles.customer },
    })
    const token2 = 'newcomer-second-token-0123456789abcdef'
    await ctx.sql`update invitations set token_hash = ${hashToken(token2)} where id = ${second.json().id}`
    const exists = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token: token2, name: 'Someone Else', password: 'another long passphrase 99' },
    })
    expect(exists.statusCode).toBe(409)
    expect(exists.json().code).toBe('account_exists')
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      headers: { authorization: 'Bearer not-a-token' },
      payload: { token: token2 },
    })
    expect(bad.statusCode).toBe(401)
  })
})

describe('API keys', () => {
  it('authenticate with exactly their permissions, in their own tenant, until revoked', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: acme.owner.headers,
      payload: { name: 'CRM sync', permissions: ['members:read'] },
    })
    expect(created.statusCode).toBe(201)
    const body = created.json()
    expect(body.key).toMatch(/^dp_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
    const [stored] = await ctx.sql`select secret_hash from api_keys where id = ${body.id}`
    expect(JSON.stringify(stored)).not.toContain(body.key.split('_').pop())
    const headers = { authorization: `Bearer ${body.key}`, 'x-tenant-id': acme.slug }
    expect((await app.inject({ url: '/v1/members', headers })).statusCode).toBe(200)
    expect((await app.inject({ url: '/v1/audit-events', headers })).statusCode).toBe(403)
    const elsewhere = await app.inject({
      url: '/v1/members',
      headers: { ...headers, 'x-tenant-id': other.slug },
    })
    expect(elsewhere.statusCode).toBe(404)
    const listed = await app.inject({ url: '/v1/api-keys', headers: acme.owner.headers })
    expect(JSON.stringify(listed.json())).not.toContain(body.key)
    const tampered = await app.inject({
      url: '/v1/members',
      headers: { ...headers, authorization: `Bearer ${body.key.slice(0, -2)}xx` },
    })
    expect(tampered.statusCode).toBe(401)
    const revoke = await app.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${body.id}`,
      headers: acme.owner.headers,
    })
    expect(revoke.statusCode).toBe(204)
    expect((await app.inject({ url: '/v1/members', headers })).statusCode).toBe(401)
  })

  it('an expired key stops working', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: acme.owner.headers,
      payload: { name: 'Short-lived', permissions: ['members:read'] },
    })
    await ctx.sql`update api_keys set expires_at = now() - interval '1 second' where id = ${created.json().id}`
    const res = await app.inject({
      url: '/v1/members',
      headers: { authorization: `Bearer ${created.json().key}`, 'x-tenant-id': acme.slug },
    })
    expect(res.statusCode).toBe(401)
  })
})

describe('audit log', () => {
  it('records admin events, filters them, and is closed to customers', async () => {
    const t = await createTestTenant(ctx)
    await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.agent.userId}`,
      headers: t.owner.headers,
      payload: { roleId: t.roles.admin },
    })
    await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: t.owner.headers,
      payload: { name: 'Audited', permissions: ['members:read'] },
    })
    const all = await app.inject({ url: '/v1/audit-events', headers: t.owner.headers })
    expect(all.statusCode).toBe(200)
    const actions = all.json().data.map((e: { action: string }) => e.action)
    expect(actions).toEqual(expect.arrayContaining(['member.role_changed', 'api_key.created']))
    const filtered = await app.inject({
      url: `/v1/audit-events?action=member.role_changed&actorId=${t.owner.userId}`,
      headers: t.owner.headers,
    })
    expect(filtered.json().data).toHaveLength(1)
    expect(filtered.json().data[0]).toMatchObject({
      targetId: t.agent.userId,
      actorUserId: t.owner.userId,
    })
    const customer = await app.inject({ url: '/v1/audit-events', headers: t.customer.headers })
    expect(customer.statusCode).toBe(403)
  })
})
