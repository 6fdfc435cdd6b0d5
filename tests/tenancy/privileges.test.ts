// Privileges that follow live membership, tried as an attacker would: API keys
// and invitations outliving their creator's rights, a "team lead" managing
// people who hold more than it, and the permission inclusions of API.md.
import { describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { ALL_PERMISSIONS } from '../../src/lib/permissions.ts'
import { hashToken } from '../../src/lib/tokens.ts'
import { useTestApp } from '../helpers/app.ts'
import { createTestTenant, signUpUser, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '10000' } })
const { app } = ctx

type Headers = Record<string, string>

async function customRole(t: TestTenant, name: string, permissions: string[]) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/roles',
    headers: t.owner.headers,
    payload: { name, permissions },
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id as string
}

/** A new member of `t` holding `roleId`, with Bearer headers for the tenant. */
async function memberWithRole(t: TestTenant, label: string, roleId: string) {
  const actor = await signUpUser(ctx, label)
  await ctx.sql`insert into memberships (tenant_id, user_id, role_id)
                values (${t.id}, ${actor.userId}, ${roleId})`
  return { ...actor, headers: { ...actor.headers, 'x-tenant-id': t.slug } as Headers }
}

async function mintKey(headers: Headers, permissions: readonly string[], slug: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers,
    payload: { name: 'machine', permissions },
  })
  expect(res.statusCode, res.body).toBe(201)
  const body = res.json()
  return {
    id: body.id as string,
    createdBy: body.createdBy as string | null,
    headers: { authorization: `Bearer ${body.key}`, 'x-tenant-id': slug } as Headers,
  }
}

async function ticketWithInternalNote(t: TestTenant) {
  const ticket = await app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: t.owner.headers,
    payload: { subject: 'Refund request', body: 'Please refund order 1234.' },
  })
  expect(ticket.statusCode, ticket.body).toBe(201)
  const note = await app.inject({
    method: 'POST',
    url: `/v1/tickets/${ticket.json().id}/messages`,
    headers: t.owner.headers,
    payload: { body: 'Internal: the customer is on the fraud watch list.', internal: true },
  })
  expect(note.statusCode, note.body).toBe(201)
  return ticket.json().id as string
}

const byCatalogue = (a: string, b: string) =>
  ALL_PERMISSIONS.indexOf(a as never) - ALL_PERMISSIONS.indexOf(b as never)

const count = async (query: Promise<{ n: number }[]>) => Number((await query)[0]?.n)

describe('API keys act with their creator’s current rights', () => {
  it('stop working at once when the creator is removed: no notes, audit log, invitations or keys', async () => {
    const t = await createTestTenant(ctx)
    const ticketId = await ticketWithInternalNote(t)
    const key = await mintKey(t.admin.headers, ALL_PERMISSIONS, t.slug)
    expect(key.createdBy).toBe(t.admin.userId)
    const messages = () =>
      app.inject({ url: `/v1/tickets/${ticketId}/messages`, headers: key.headers })
    const before = await messages()
    expect(before.statusCode).toBe(200)
    expect(before.json().data.some((m: { internal: boolean }) => m.internal)).toBe(true)
    expect((await app.inject({ url: '/v1/audit-events', headers: key.headers })).statusCode).toBe(
      200,
    )

    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
    })
    expect(removed.statusCode).toBe(204)

    const notes = await messages()
    expect(notes.statusCode).toBe(401)
    expect(notes.json().code).toBe('invalid_token')
    const audit = await app.inject({ url: '/v1/audit-events', headers: key.headers })
    expect(audit.statusCode).toBe(401)
    expect(audit.json().code).toBe('invalid_token')

    const invitationsBefore = await count(
      ctx.sql`select count(*)::int as n from invitations where tenant_id = ${t.id}`,
    )
    const invite = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: key.headers,
      payload: { email: 'accomplice@example.com', roleId: t.roles.admin },
    })
    expect(invite.statusCode).toBe(401)
    expect(invite.json().code).toBe('invalid_token')
    expect(
      await count(ctx.sql`select count(*)::int as n from invitations where tenant_id = ${t.id}`),
    ).toBe(invitationsBefore)

    const keysBefore = await count(
      ctx.sql`select count(*)::int as n from api_keys where tenant_id = ${t.id}`,
    )
    const mint = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: key.headers,
      payload: { name: 'backdoor', permissions: ['audit:read'] },
    })
    expect(mint.statusCode).toBe(401)
    expect(mint.json().code).toBe('invalid_token')
    expect(
      await count(ctx.sql`select count(*)::int as n from api_keys where tenant_id = ${t.id}`),
    ).toBe(keysBefore)
  })

  it('a key minted by a key records the person behind it, and dies with that person’s membership', async () => {
    const t = await createTestTenant(ctx)
    const parent = await mintKey(t.admin.headers, ['api_keys:manage', 'members:read'], t.slug)
    const child = await mintKey(parent.headers, ['members:read'], t.slug)
    expect(child.createdBy).toBe(t.admin.userId)
    const [row] = await ctx.sql`select created_by from api_keys where id = ${child.id}`
    expect(row?.created_by).toBe(t.admin.userId)
    expect((await app.inject({ url: '/v1/members', headers: child.headers })).statusCode).toBe(200)

    const deactivated = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
      payload: { active: false },
    })
    expect(deactivated.statusCode).toBe(200)
    for (const key of [parent, child]) {
      const res = await app.inject({ url: '/v1/members', headers: key.headers })
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('invalid_token')
    }
  })

  it('are narrowed to what a demoted creator still holds', async () => {
    const t = await createTestTenant(ctx)
    const key = await mintKey(
      t.admin.headers,
      ['audit:read', 'tickets:read_all', 'members:read', 'api_keys:manage'],
      t.slug,
    )
    expect((await app.inject({ url: '/v1/audit-events', headers: key.headers })).statusCode).toBe(
      200,
    )
    const demoted = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
      payload: { roleId: t.roles.agent },
    })
    expect(demoted.statusCode, demoted.body).toBe(200)

    const audit = await app.inject({ url: '/v1/audit-events', headers: key.headers })
    expect(audit.statusCode).toBe(403)
    expect(audit.json().code).toBe('forbidden')
    const keysBefore = await count(
      ctx.sql`select count(*)::int as n from api_keys where tenant_id = ${t.id}`,
    )
    const mint = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: key.headers,
      payload: { name: 'again', permissions: ['members:read'] },
    })
    expect(mint.statusCode).toBe(403)
    expect(
      await count(ctx.sql`select count(*)::int as n from api_keys where tenant_id = ${t.id}`),
    ).toBe(keysBefore)
    // What the agent role still holds keeps working.
    expect((await app.inject({ url: '/v1/tickets', headers: key.headers })).statusCode).toBe(200)
    expect((await app.inject({ url: '/v1/members', headers: key.headers })).statusCode).toBe(200)
  })

  it('stop working in another api copy at once, through Redis', async () => {
    const t = await createTestTenant(ctx)
    const key = await mintKey(t.admin.headers, ['members:read'], t.slug)
    const other = await buildApp(ctx.config)
    await other.ready()
    try {
      const members = () => other.inject({ url: '/v1/members', headers: key.headers })
      expect((await members()).statusCode).toBe(200)
      const removed = await app.inject({
        method: 'DELETE',
        url: `/v1/members/${t.admin.userId}`,
        headers: t.owner.headers,
      })
      expect(removed.statusCode).toBe(204)
      const started = Date.now()
      // Well inside the membership cache's TTL (5 s): only the pub/sub message explains it.
      await vi.waitFor(async () => expect((await members()).statusCode).toBe(401), {
        timeout: 2_000,
        interval: 10,
      })
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      await other.close()
    }
  })
})

describe('invitations act with their inviter’s current rights', () => {
  async function invite(headers: Headers, roleId: string, label: string) {
    const email = `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`
    const res = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers,
      payload: { email, roleId },
    })
    expect(res.statusCode, res.body).toBe(201)
    const token = `${label}-token-${res.json().id}`
    await ctx.sql`update invitations set token_hash = ${hashToken(token)} where id = ${res.json().id}`
    return { id: res.json().id as string, email, token }
  }

  async function assertNothingAccepted(t: TestTenant, invitation: { id: string; email: string }) {
    const [row] = await ctx.sql`select accepted_at from invitations where id = ${invitation.id}`
    expect(row?.accepted_at).toBeNull()
    const users = await ctx.sql`select id from users where lower(email) = ${invitation.email}`
    const members = await ctx.sql`select 1 from memberships m join users u on u.id = m.user_id
                                  where m.tenant_id = ${t.id} and lower(u.email) = ${invitation.email}`
    expect(members).toHaveLength(0)
    return users
  }

  it('cannot be accepted after the inviter was removed, as a new account or signed in', async () => {
    const t = await createTestTenant(ctx)
    const fresh = await invite(t.admin.headers, t.roles.admin, 'fresh')
    const existing = await signUpUser(ctx, 'existing')
    const forExisting = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: t.admin.headers,
      payload: { email: existing.email, roleId: t.roles.admin },
    })
    expect(forExisting.statusCode).toBe(201)
    const existingToken = `existing-token-${forExisting.json().id}`
    await ctx.sql`update invitations set token_hash = ${hashToken(existingToken)}
                  where id = ${forExisting.json().id}`

    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
    })
    expect(removed.statusCode).toBe(204)

    const asNew = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token: fresh.token, name: 'Accomplice', password: 'a long enough passphrase 42' },
    })
    expect(asNew.statusCode).toBe(404)
    expect(asNew.json().code).toBe('not_found')
    expect(await assertNothingAccepted(t, fresh)).toHaveLength(0)

    const signedIn = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      headers: existing.headers,
      payload: { token: existingToken },
    })
    expect(signedIn.statusCode).toBe(404)
    expect(signedIn.json().code).toBe('not_found')
    await assertNothingAccepted(t, { id: forExisting.json().id, email: existing.email })
  })

  it('cannot be accepted once a demoted inviter could no longer grant its role', async () => {
    const t = await createTestTenant(ctx)
    const forAdmin = await invite(t.admin.headers, t.roles.admin, 'adminrole')
    const forCustomer = await invite(t.admin.headers, t.roles.customer, 'customerrole')
    const demoted = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
      payload: { roleId: t.roles.agent },
    })
    expect(demoted.statusCode).toBe(200)
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: {
        token: forAdmin.token,
        name: 'Would-be admin',
        password: 'a long passphrase 4242',
      },
    })
    expect(refused.statusCode).toBe(404)
    expect(await assertNothingAccepted(t, forAdmin)).toHaveLength(0)
    // An agent still holds every permission of the customer role.
    const fine = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token: forCustomer.token, name: 'Customer', password: 'a long passphrase 4242' },
    })
    expect(fine.statusCode, fine.body).toBe(201)
  })

  it('sent by an API key, record the person behind it and follow that person’s rights', async () => {
    const t = await createTestTenant(ctx)
    const key = await mintKey(
      t.admin.headers,
      ['members:manage', 'tickets:read', 'tickets:write', 'kb:read'],
      t.slug,
    )
    const sent = await invite(key.headers, t.roles.customer, 'bykey')
    const [row] = await ctx.sql`select invited_by from invitations where id = ${sent.id}`
    expect(row?.invited_by).toBe(t.admin.userId)
    await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
    })
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token: sent.token, name: 'Customer', password: 'a long passphrase 4242' },
    })
    expect(refused.statusCode).toBe(404)
    expect(await assertNothingAccepted(t, sent)).toHaveLength(0)
  })
})

describe('managing members needs every permission the member holds', () => {
  it('a team lead with members:manage cannot demote, deactivate or remove those above it', async () => {
    const t = await createTestTenant(ctx)
    const lead = await memberWithRole(
      t,
      'team-lead',
      await customRole(t, 'Team lead', [
        'members:manage',
        'tickets:read',
        'tickets:write',
        'kb:read',
      ]),
    )
    const supervisor = await memberWithRole(
      t,
      'supervisor',
      await customRole(t, 'Supervisor', ['tickets:read_all', 'messages:internal', 'members:read']),
    )
    const refusals = [
      {
        method: 'PATCH',
        url: `/v1/members/${t.admin.userId}`,
        payload: { roleId: t.roles.customer },
      },
      { method: 'PATCH', url: `/v1/members/${supervisor.userId}`, payload: { active: false } },
      { method: 'DELETE', url: `/v1/members/${t.admin.userId}` },
    ] as const
    const snapshot = () =>
      ctx.sql`select user_id, role_id, active from memberships where tenant_id = ${t.id} order by user_id`
    const before = await snapshot()
    for (const attempt of refusals) {
      const res = await app.inject({ ...attempt, headers: lead.headers })
      expect(res.statusCode, `${attempt.method} ${attempt.url}`).toBe(403)
      expect(res.json().code).toBe('member_outranks_you')
    }
    expect(await snapshot()).toEqual(before)
    const audit = await ctx.sql`select 1 from audit_events where tenant_id = ${t.id}
                                and action in ('member.role_changed', 'member.updated', 'member.removed')`
    expect(audit).toHaveLength(0)

    const deactivate = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.customer.userId}`,
      headers: lead.headers,
      payload: { active: false },
    })
    expect(deactivate.statusCode, deactivate.body).toBe(200)
    expect(deactivate.json().active).toBe(false)
    const remove = await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.customer.userId}`,
      headers: lead.headers,
    })
    expect(remove.statusCode).toBe(204)
  })

  it('a team lead with roles:manage cannot strip a role that holds more than it', async () => {
    const t = await createTestTenant(ctx)
    const lead = await memberWithRole(
      t,
      'role-lead',
      await customRole(t, 'Role lead', ['roles:manage', 'tickets:read', 'kb:read']),
    )
    const supervisorRole = await customRole(t, 'Supervisor', ['tickets:read_all', 'kb:read'])
    const strip = await app.inject({
      method: 'PATCH',
      url: `/v1/roles/${supervisorRole}`,
      headers: lead.headers,
      payload: { permissions: ['kb:read'] },
    })
    expect(strip.statusCode).toBe(403)
    expect(strip.json().code).toBe('role_outranks_you')
    const [row] = await ctx.sql`select permissions from roles where id = ${supervisorRole}`
    expect(row?.permissions).toEqual(['tickets:read_all', 'kb:read'])
    const readerRole = await customRole(t, 'Reader', ['tickets:read', 'kb:read'])
    const narrow = await app.inject({
      method: 'PATCH',
      url: `/v1/roles/${readerRole}`,
      headers: lead.headers,
      payload: { permissions: ['kb:read'] },
    })
    expect(narrow.statusCode, narrow.body).toBe(200)
  })

  it('an admin still manages an agent and another admin; an owner manages an admin', async () => {
    const t = await createTestTenant(ctx)
    const second = await memberWithRole(t, 'second-admin', t.roles.admin)
    const demoteAgent = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${t.agent.userId}`,
      headers: t.admin.headers,
      payload: { roleId: t.roles.customer },
    })
    expect(demoteAgent.statusCode).toBe(200)
    const deactivateAdmin = await app.inject({
      method: 'PATCH',
      url: `/v1/members/${second.userId}`,
      headers: t.admin.headers,
      payload: { active: false },
    })
    expect(deactivateAdmin.statusCode).toBe(200)
    const removeAdmin = await app.inject({
      method: 'DELETE',
      url: `/v1/members/${t.admin.userId}`,
      headers: t.owner.headers,
    })
    expect(removeAdmin.statusCode).toBe(204)
  })
})

describe('permissions that include others', () => {
  const inclusions = [
    { larger: 'tickets:read_all', smaller: 'tickets:read', url: '/v1/tickets' },
    { larger: 'kb:write', smaller: 'kb:read', url: '/v1/kb/articles' },
    { larger: 'members:manage', smaller: 'members:read', url: '/v1/members' },
  ] as const

  for (const { larger, smaller, url } of inclusions) {
    it(`${larger} alone grants what it includes, as a role and as an API key`, async () => {
      const t = await createTestTenant(ctx)
      const role = await customRole(t, `Only ${larger}`, [larger])
      const member = await memberWithRole(t, 'narrow', role)
      const asRole = await app.inject({ url, headers: member.headers })
      expect(asRole.statusCode, asRole.body).toBe(200)
      const me = await app.inject({
        url: '/v1/auth/me',
        headers: { authorization: member.headers.authorization as string },
      })
      expect(me.json().memberships[0].permissions).toEqual([larger, smaller].sort(byCatalogue))
      const key = await mintKey(t.owner.headers, [larger], t.slug)
      const asKey = await app.inject({ url, headers: key.headers })
      expect(asKey.statusCode, asKey.body).toBe(200)
    })
  }

  it('counts inclusions when granting: roles, keys and invitations', async () => {
    const t = await createTestTenant(ctx)
    const granter = await memberWithRole(
      t,
      'granter',
      await customRole(t, 'Granter', [
        'roles:manage',
        'api_keys:manage',
        'members:manage',
        'tickets:read_all',
        'kb:write',
      ]),
    )
    const role = await app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: granter.headers,
      payload: { name: 'Readers', permissions: ['tickets:read', 'kb:read', 'members:read'] },
    })
    expect(role.statusCode, role.body).toBe(201)
    const key = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: granter.headers,
      payload: { name: 'reader', permissions: ['tickets:read', 'kb:read', 'members:read'] },
    })
    expect(key.statusCode, key.body).toBe(201)
    const invitation = await app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: granter.headers,
      payload: { email: 'reader@example.com', roleId: role.json().id },
    })
    expect(invitation.statusCode, invitation.body).toBe(201)
    // An inclusion is one way: the smaller never grants the larger.
    const upward = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: (await mintKey(granter.headers, ['api_keys:manage', 'kb:read'], t.slug)).headers,
      payload: { name: 'up', permissions: ['kb:write'] },
    })
    expect(upward.statusCode).toBe(403)
    expect(upward.json().code).toBe('permission_escalation')
  })

  it('GET /v1/permissions says which includes which', async () => {
    const t = await createTestTenant(ctx)
    const res = await app.inject({ url: '/v1/permissions', headers: t.customer.headers })
    expect(res.statusCode).toBe(200)
    const includes = Object.fromEntries(
      res.json().data.map((p: { name: string; includes: string[] }) => [p.name, p.includes]),
    )
    expect(includes['tickets:read_all']).toEqual(['tickets:read'])
    expect(includes['kb:write']).toEqual(['kb:read'])
    expect(includes['members:manage']).toEqual(['members:read'])
    expect(includes['tickets:read']).toEqual([])
  })
})
