// Arranges a tenant with one member of each built-in role, for the tenancy and
// helpdesk tests. Users sign up through the API; the extra memberships are
// inserted directly (the invitation flow has tests of its own).
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import type { TestContext } from './app.ts'

export const TEST_PASSWORD = 'correct horse battery staple 42'

export type Actor = {
  userId: string
  email: string
  token: string
  headers: Record<string, string>
}
export type TestTenant = {
  id: string
  slug: string
  roles: Record<'owner' | 'admin' | 'agent' | 'customer', string>
  owner: Actor
  admin: Actor
  agent: Actor
  customer: Actor
}

export function uniqueEmail(label: string) {
  return `${label}-${randomBytes(4).toString('hex')}@example.com`
}

/** Signs a user up (optionally creating a tenant) and returns their Bearer credentials. */
export async function signUpUser(
  ctx: TestContext,
  label: string,
  tenant?: { name: string; slug: string },
): Promise<Actor & { tenantId?: string }> {
  const email = uniqueEmail(label)
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    payload: { email, password: TEST_PASSWORD, name: label, ...(tenant ? { tenant } : {}) },
  })
  expect(res.statusCode, res.body).toBe(201)
  const body = res.json() as { user: { id: string }; accessToken: string }
  return {
    userId: body.user.id,
    email,
    token: body.accessToken,
    headers: { authorization: `Bearer ${body.accessToken}` },
  }
}

export async function createTestTenant(ctx: TestContext, slug?: string): Promise<TestTenant> {
  const tenantSlug = slug ?? `t-${randomBytes(4).toString('hex')}`
  const owner = await signUpUser(ctx, `owner-${tenantSlug}`, { name: tenantSlug, slug: tenantSlug })
  const [tenant] = await ctx.sql<
    { id: string }[]
  >`select id from tenants where slug = ${tenantSlug}`
  const roleRows = await ctx.sql<{ id: string; name: string }[]>`
    select id, name from roles where tenant_id = ${tenant!.id} and builtin`
  const roles = Object.fromEntries(roleRows.map((r) => [r.name, r.id])) as TestTenant['roles']
  const members: Partial<Record<'admin' | 'agent' | 'customer', Actor>> = {}
  for (const role of ['admin', 'agent', 'customer'] as const) {
    const actor = await signUpUser(ctx, `${role}-${tenantSlug}`)
    await ctx.sql`insert into memberships (tenant_id, user_id, role_id)
                  values (${tenant!.id}, ${actor.userId}, ${roles[role]})`
    members[role] = actor
  }
  const withTenant = (a: Actor): Actor => ({
    ...a,
    headers: { ...a.headers, 'x-tenant-id': tenantSlug },
  })
  return {
    id: tenant!.id,
    slug: tenantSlug,
    roles,
    owner: withTenant(owner),
    admin: withTenant(members.admin!),
    agent: withTenant(members.agent!),
    customer: withTenant(members.customer!),
  }
}
