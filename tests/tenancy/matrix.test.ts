// The two matrices, built from the app's own OpenAPI document so that every
// tenant-scoped route joins them by itself:
//  - cross-tenant: a member of tenant A presenting tenant B's ids (in the path,
//    in the body, in X-Tenant-ID) gets 404 or 403 and B's data does not change;
//  - permissions: for each built-in role, each route allows exactly what the
//    role's permissions (the catalogue) say its guard (x-permission) needs.
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { BUILTIN_ROLES, type Permission } from '../../src/lib/permissions.ts'
import { useTestApp } from '../helpers/app.ts'
import { fillPath, listOperations, type Operation, sampleBody } from '../helpers/openapi.ts'
import { createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { RATE_LIMIT_MAX: '100000', AUTH_RATE_LIMIT_MAX: '10000' } })
const { app } = ctx
const operations = (await listOperations(app)).filter((op) => op.tenantScoped)
const docs = (await app.inject({ url: '/openapi.json' })).json() as {
  paths: Record<string, Record<string, { 'x-permission'?: Permission }>>
}

/** Rules enforced inside the handler rather than by a single route guard. */
const HANDLER_RULES: Record<string, Permission | 'owner'> = {
  'DELETE /v1/tenant': 'owner',
  'DELETE /v1/members/{userId}': 'members:manage',
}

/** Every id of tenant B that a route could be handed, by the collection it names. */
async function foreignIds(b: TestTenant) {
  const role = await app.inject({
    method: 'POST',
    url: '/v1/roles',
    headers: b.owner.headers,
    payload: { name: 'B custom', permissions: ['tickets:read'] },
  })
  const invitation = await app.inject({
    method: 'POST',
    url: '/v1/invitations',
    headers: b.owner.headers,
    payload: { email: 'b-invitee@example.com', roleId: b.roles.agent },
  })
  const key = await app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers: b.owner.headers,
    payload: { name: 'B key', permissions: ['members:read'] },
  })
  const [job] = await ctx.sql<
    { id: string }[]
  >`select id from jobs where tenant_id = ${b.id} limit 1`
  const ids: Record<string, string> = {
    roles: role.json().id,
    members: b.agent.userId,
    invitations: invitation.json().id,
    'api-keys': key.json().id,
    jobs: job!.id,
  }
  // Helpdesk resources, when those routes exist.
  const ticket = await app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: b.customer.headers,
    payload: { subject: 'B ticket', body: 'Only B may see this.' },
  })
  if (ticket.statusCode === 201) ids.tickets = ticket.json().id
  const article = await app.inject({
    method: 'POST',
    url: '/v1/kb/articles',
    headers: b.owner.headers,
    payload: { title: 'B article', body: 'B knowledge', published: true },
  })
  if (article.statusCode === 201) ids.articles = article.json().id
  return ids
}

/** A digest of every tenant-scoped row of a tenant (and the tenant row itself). */
async function fingerprint(tenantId: string) {
  const tables = await ctx.sql<{ relname: string }[]>`
    select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r' and exists (
      select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id')
    order by 1`
  const parts: string[] = []
  for (const { relname } of tables) {
    const [row] = await ctx.sql.unsafe(
      `select count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as d
       from "${relname}" t where tenant_id = $1`,
      [tenantId],
    )
    parts.push(`${relname}=${row?.d}`)
  }
  const [tenant] = await ctx.sql`select t::text as d from tenants t where id = ${tenantId}`
  return `${parts.join(';')};tenant=${tenant?.d}`
}

describe('cross-tenant matrix', async () => {
  const a = await createTestTenant(ctx)
  const b = await createTestTenant(ctx)
  const bIds = await foreignIds(b)
  const before = await fingerprint(b.id)
  const idFor = (collection: string) => bIds[collection] ?? randomUUID()

  const send = (op: Operation, headers: Record<string, string>, url: string, body: unknown) =>
    app.inject({
      method: op.method as 'GET',
      url,
      headers,
      ...(body !== undefined ? { payload: body as object } : {}),
    })

  it('walks at least the tenancy routes', () => {
    expect(operations.length).toBeGreaterThanOrEqual(18)
  })

  it.each(operations.map((op) => [op.key, op] as const))(
    '%s with tenant B ids in the path or body',
    async (_key, op) => {
      const url = fillPath(op.path, (_param, collection) => idFor(collection))
      const body = sampleBody(op.bodySchema, (field) =>
        field === 'roleId' ? (bIds.roles as string) : idFor(field.replace(/Id$/, 's')),
      )
      const res = await send(op, a.owner.headers, url, body)
      if (op.pathParams.length > 0) {
        expect([403, 404], `${op.key} → ${res.statusCode} ${res.body}`).toContain(res.statusCode)
      } else {
        expect(res.statusCode, `${op.key} → ${res.body}`).not.toBe(500)
      }
    },
  )

  it.each(operations.map((op) => [op.key, op] as const))(
    '%s with X-Tenant-ID of tenant B',
    async (_key, op) => {
      const url = fillPath(op.path, (_param, collection) => idFor(collection))
      const body = sampleBody(op.bodySchema, () => bIds.roles as string)
      const headers = { ...a.owner.headers, 'x-tenant-id': b.id }
      const res = await send(op, headers, url, body)
      expect(res.statusCode, `${op.key} → ${res.body}`).toBe(404)
      const bySlug = await send(op, { ...a.owner.headers, 'x-tenant-id': b.slug }, url, body)
      expect(bySlug.statusCode).toBe(404)
    },
  )

  it("leaves tenant B's data exactly as it was", async () => {
    expect(await fingerprint(b.id)).toBe(before)
  })
})

describe('permission matrix', async () => {
  const t = await createTestTenant(ctx)
  const required = (op: Operation): Permission | 'owner' | null =>
    HANDLER_RULES[op.key] ??
    docs.paths[op.path]?.[op.method.toLowerCase()]?.['x-permission'] ??
    null

  const cases = (['customer', 'agent', 'admin', 'owner'] as const).flatMap((role) =>
    operations.map((op) => [role, op.key, op] as const),
  )

  it.each(cases)('%s → %s', async (role, key, op) => {
    const need = required(op)
    const held = BUILTIN_ROLES[role].permissions as readonly Permission[]
    const allowed = need === null || (need === 'owner' ? role === 'owner' : held.includes(need))
    if (op.key === 'DELETE /v1/tenant' && allowed) return // covered in tenants.test.ts
    // Random ids: an allowed caller gets past the guard to a 404 (or a success).
    const url = fillPath(op.path, () => randomUUID())
    const body = sampleBody(op.bodySchema, (field) =>
      field === 'roleId' ? t.roles.customer : randomUUID(),
    )
    const res = await app.inject({
      method: op.method as 'GET',
      url,
      headers: t[role].headers,
      ...(body !== undefined ? { payload: body as object } : {}),
    })
    const denied =
      res.statusCode === 403 && ['forbidden', 'owner_required'].includes(res.json().code)
    expect(denied, `${role} ${key} needs ${need}: ${res.statusCode} ${res.body}`).toBe(!allowed)
    expect(res.statusCode).not.toBe(500)
  })
})
