// The two matrices, built from the app's own OpenAPI document (checked against
// the router, so a route hidden from the document still joins them), selecting
// routes by their guard (`x-access: tenant`), so that every tenant-scoped route
// joins them by itself:
//  - cross-tenant: a member of tenant A, as a Bearer user, as an API key and as
//    a cookie session with its CSRF token, presents tenant B's ids (in the
//    path, in every id-shaped body field, in every id-shaped query filter, in
//    X-Tenant-ID) and gets 404 (or 403/422 with the exact code), never one of
//    B's rows, and B's rows (read as the superuser) are exactly as they were;
//  - permissions: for each built-in role, each route allows exactly what the
//    role's permissions (the catalogue) say its guard (x-permission) needs:
//    one permission, any of several, all of several, and the owner role where
//    it says so.
// A stream route (text/event-stream) answers its head and stays open, so it is
// read as a stream: its body only when it refuses; the streams it opens are
// ended by app.close() (which is also what shutdown relies on).
import { randomUUID } from 'node:crypto'
import { text } from 'node:stream/consumers'
import type { InjectOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { BUILTIN_ROLES, type Permission } from '../../src/lib/permissions.ts'
import type { PermissionRule } from '../../src/plugins/access.ts'
import { useTestApp } from '../helpers/app.ts'
import { cookieHeader, logIn } from '../helpers/auth.ts'
import { fileForm } from '../helpers/multipart.ts'
import {
  bodyWithIds,
  fillPath,
  idFields,
  isIdField,
  listOperations,
  type Operation,
  routerRoutes,
  sampleBody,
} from '../helpers/openapi.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { createTestTenant, TEST_PASSWORD, type TestTenant } from '../helpers/tenancy.ts'

const SPA_ORIGIN = 'https://app.example.com'
const ctx = await useTestApp({
  env: { RATE_LIMIT_MAX: '100000', AUTH_RATE_LIMIT_MAX: '10000', CORS_ORIGINS: SPA_ORIGIN },
})
const { app } = ctx
const allOperations = await listOperations(app)
const operations = allOperations.filter((op) => op.access === 'tenant')
const docs = (await app.inject({ url: '/openapi.json' })).json() as {
  paths: Record<string, Record<string, { 'x-permission'?: PermissionRule }>>
}

/** Which collection an id-shaped body field or query filter names. */
const FIELD_COLLECTIONS: Record<string, string> = {
  roleId: 'roles',
  userId: 'members',
  assigneeId: 'members',
  requesterId: 'contacts',
  contactId: 'contacts',
  actorId: 'members',
  ticketId: 'tickets',
  sourceIds: 'tickets',
  articleId: 'articles',
  invitationId: 'invitations',
  jobId: 'jobs',
  attachmentIds: 'attachments',
}

/** The refusal a foreign id in a body field gets, where it is not a plain 404. */
const BODY_REFUSALS: Record<string, string[]> = {
  assigneeId: ['422 invalid_assignee'],
  requesterId: ['422 invalid_requester'],
  attachmentIds: ['422 invalid_attachment'],
}

type Ids = Record<string, string>

function created(res: Awaited<ReturnType<typeof app.inject>>, what: string): string {
  if (res.statusCode !== 201) throw new Error(`setup: ${what} → ${res.statusCode} ${res.body}`)
  return res.json().id as string
}

/** One row of each collection a route can name, made through the API; any failure fails the file. */
async function arrange(t: TestTenant): Promise<Ids> {
  const post = (url: string, payload: object, headers = t.owner.headers) =>
    app.inject({ method: 'POST', url, headers, payload })
  const ids: Ids = {
    members: t.agent.userId,
    roles: created(
      await post('/v1/roles', { name: 'Custom', permissions: ['tickets:read'] }),
      'role',
    ),
    invitations: created(
      await post('/v1/invitations', { email: `inv-${t.slug}@example.com`, roleId: t.roles.agent }),
      'invitation',
    ),
    'api-keys': created(
      await post('/v1/api-keys', { name: 'Key', permissions: ['members:read'] }),
      'api key',
    ),
    // Before the ticket, so that the ticket's events write deliveries to it.
    webhooks: created(
      await post('/v1/webhooks', { url: `https://hooks.example.com/${t.slug}`, events: ['*'] }),
      'webhook',
    ),
    tickets: created(
      await post(
        '/v1/tickets',
        { subject: `Ticket of ${t.slug}`, body: 'Only this tenant may see this.' },
        t.customer.headers,
      ),
      'ticket',
    ),
    articles: created(
      await post('/v1/kb/articles', { title: `Article ${t.slug}`, body: 'Text', published: true }),
      'article',
    ),
    attachments: created(await upload(t), 'attachment'),
  }
  // Assigned, so that an assignee filter has a row of this tenant to leak.
  const assigned = await app.inject({
    method: 'PATCH',
    url: `/v1/tickets/${ids.tickets}`,
    headers: t.owner.headers,
    payload: { assigneeId: t.agent.userId },
  })
  if (assigned.statusCode !== 200) throw new Error(`setup: assign → ${assigned.body}`)
  const [job] = await ctx.sql<{ id: string }[]>`
    select id from jobs where tenant_id = ${t.id} order by created_at limit 1`
  if (!job) throw new Error(`setup: no job row in tenant ${t.slug}`)
  ids.jobs = job.id
  // The customer's contact, made when it opened its ticket.
  const [contact] = await ctx.sql<{ id: string }[]>`
    select requester_id as id from tickets where id = ${idIn(ids, 'tickets')}`
  if (!contact) throw new Error(`setup: no contact in tenant ${t.slug}`)
  ids.contacts = contact.id
  const [delivery] = await ctx.sql<{ id: string }[]>`
    select id from webhook_deliveries where tenant_id = ${t.id} limit 1`
  if (!delivery) throw new Error(`setup: no webhook delivery in tenant ${t.slug}`)
  ids.deliveries = delivery.id
  return ids
}

/** An upload of the tenant's owner, not attached to anything. */
function upload(t: TestTenant) {
  const form = fileForm(`notes-${t.slug}.txt`, `Only ${t.slug} may read this.`)
  return app.inject({
    method: 'POST',
    url: '/v1/attachments',
    headers: { ...t.owner.headers, ...form.headers },
    payload: form.payload,
  })
}

function idIn(ids: Ids, collection: string): string {
  const id = ids[collection]
  if (!id) throw new Error(`no arranged row for "${collection}": add one to arrange()`)
  return id
}

function fieldCollection(field: string): string {
  const collection = FIELD_COLLECTIONS[field]
  if (!collection) throw new Error(`id field "${field}": add its collection to FIELD_COLLECTIONS`)
  return collection
}

const fingerprint = (tenantId: string) => tenantDigest(ctx.sql, tenantId)

type Identity = { name: string; headers: Record<string, string>; userBound: boolean }

/** Tenant A's owner three ways: Bearer, an API key with every permission, a cookie session. */
async function identitiesOf(t: TestTenant): Promise<Identity[]> {
  const key = await app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers: t.owner.headers,
    payload: { name: 'Matrix key', permissions: [...BUILTIN_ROLES.owner.permissions] },
  })
  created(key, 'full API key')
  const session = await logIn(app, t.owner.email, TEST_PASSWORD)
  const list: Identity[] = [
    { name: 'bearer', headers: t.owner.headers, userBound: true },
    {
      name: 'api key',
      headers: { authorization: `Bearer ${key.json().key}`, 'x-tenant-id': t.slug },
      userBound: false,
    },
    {
      name: 'cookie',
      headers: {
        ...cookieHeader(session.cookies),
        'x-csrf-token': session.csrfToken,
        origin: SPA_ORIGIN,
        'x-tenant-id': t.slug,
      },
      userBound: true,
    },
  ]
  // Each identity works, for reads and for writes: a refusal below is not a broken credential.
  for (const who of list) {
    const read = await app.inject({ url: '/v1/tenant', headers: who.headers })
    expect(read.statusCode, `${who.name}: ${read.body}`).toBe(200)
    expect(read.json().id).toBe(t.id)
    const write = await app.inject({
      method: 'POST',
      url: '/v1/kb/articles',
      headers: who.headers,
      payload: { title: `By ${who.name}`, body: 'A write that must work' },
    })
    created(write, `article by ${who.name}`)
  }
  return list
}

type Answer = Pick<Awaited<ReturnType<typeof app.inject>>, 'statusCode' | 'body' | 'json'>

/** app.inject, or for a stream route its status and, when it refuses, its body. */
async function injectOnce(op: Operation, options: InjectOptions): Promise<Answer> {
  if (!op.streams) return app.inject(options)
  const res = await app.inject({ ...options, payloadAsStream: true })
  const body = res.statusCode === 200 ? '' : await text(res.stream())
  return { statusCode: res.statusCode, body, json: () => JSON.parse(body) }
}

const send = (op: Operation, headers: Record<string, string>, url: string, body: unknown) =>
  injectOnce(op, {
    method: op.method as 'GET',
    url,
    headers,
    ...(body !== undefined ? { payload: body as object } : {}),
  })
const outcome = (res: Answer) =>
  `${res.statusCode} ${res.statusCode >= 400 ? res.json().code : ''}`.trim()

describe('the route list', () => {
  it('documents every route of the router, each with its access', () => {
    const documented = new Set(allOperations.map((op) => op.key))
    const served = routerRoutes(app).filter((r) => /^[A-Z]+ \/v1\//.test(r))
    expect(served.length).toBeGreaterThanOrEqual(40)
    expect(served.filter((r) => !documented.has(r))).toEqual([])
  })

  it('has at least the tenancy and helpdesk routes as tenant-scoped', () => {
    expect(operations.length).toBeGreaterThanOrEqual(29)
  })
})

describe('cross-tenant matrix', async () => {
  const a = await createTestTenant(ctx)
  const b = await createTestTenant(ctx)
  const aIds = await arrange(a)
  const bIds = await arrange(b)
  const identities = await identitiesOf(a)
  // Every string of B that must never show up in an answer to A.
  const bSecrets = [b.id, b.slug, ...Object.values(bIds), b.owner.userId, b.customer.userId]
  /** Nothing of B in the answer (but the caller's own URL, which a problem's `instance` echoes). */
  const expectNoLeak = (res: Answer) => {
    const body = res.body === '' ? {} : res.json()
    if (res.statusCode >= 400) delete body.instance
    const text = JSON.stringify(body)
    for (const secret of bSecrets) expect(text).not.toContain(secret)
  }
  const aPath = (op: Operation) => fillPath(op.path, (_p, collection) => idIn(aIds, collection))
  const aBody = (op: Operation) =>
    bodyWithIds(op.bodySchema, (field) => idIn(aIds, fieldCollection(field)))

  const withPath = operations.filter((op) => op.pathParams.length > 0)
  const bodyFields = operations.flatMap((op) =>
    idFields(op.bodySchema).map((field) => [op, field] as const),
  )
  const queryFields = operations.flatMap((op) =>
    op.queryParams.filter((q) => isIdField(q.name, q.schema)).map((q) => [op, q.name] as const),
  )

  it('finds the routes and fields to try', () => {
    expect(withPath.length).toBeGreaterThanOrEqual(15)
    expect(bodyFields.map(([op, f]) => `${op.key} ${f}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/tickets requesterId',
        'POST /v1/tickets attachmentIds',
        'POST /v1/tickets/{id}/messages attachmentIds',
        'PATCH /v1/tickets/{id} assigneeId',
        'PATCH /v1/members/{userId} roleId',
        'POST /v1/invitations roleId',
        'POST /v1/tickets/{id}/merge sourceIds',
      ]),
    )
    expect(queryFields.map(([op, f]) => `${op.key} ${f}`)).toEqual(
      expect.arrayContaining([
        'GET /v1/tickets requesterId',
        'GET /v1/tickets assigneeId',
        'GET /v1/audit-events actorId',
      ]),
    )
  })

  describe.each(identities.map((who) => [who.name, who] as const))('as %s', (_name, who) => {
    // 403 where the route needs a user and the caller is an API key; never anything else.
    const refusals = (extra: string[] = []) => [
      '404 not_found',
      ...extra,
      ...(who.userBound ? [] : ['403 user_required', '403 owner_required']),
    ]

    it.each(withPath.map((op) => [op.key, op] as const))(
      "%s with B's ids in the path",
      async (_key, op) => {
        const before = await fingerprint(b.id)
        const url = fillPath(op.path, (_p, collection) => idIn(bIds, collection))
        const res = await send(op, who.headers, url, aBody(op))
        expect(refusals(), `${op.key} → ${res.body}`).toContain(outcome(res))
        expectNoLeak(res)
        expect(await fingerprint(b.id)).toBe(before)
      },
    )

    it.each(bodyFields.map(([op, field]) => [op.key, field, op] as const))(
      "%s with B's id in body field %s",
      async (_key, field, op) => {
        const before = await fingerprint(b.id)
        const foreign = idIn(bIds, fieldCollection(field))
        const body = bodyWithIds(op.bodySchema, (f) =>
          f === field ? foreign : idIn(aIds, fieldCollection(f)),
        )
        const res = await send(op, who.headers, aPath(op), body)
        expect(refusals(BODY_REFUSALS[field]), `${op.key} ${field} → ${res.body}`).toContain(
          outcome(res),
        )
        expectNoLeak(res)
        expect(await fingerprint(b.id)).toBe(before)
      },
    )

    it.each(queryFields.map(([op, field]) => [op.key, field, op] as const))(
      "%s filtered on B's id in %s",
      async (_key, field, op) => {
        const before = await fingerprint(b.id)
        const foreign = idIn(bIds, fieldCollection(field))
        const res = await send(op, who.headers, `${aPath(op)}?${field}=${foreign}`, undefined)
        expect(res.statusCode, `${op.key}?${field} → ${res.body}`).toBe(200)
        expect(res.json().data).toEqual([])
        expectNoLeak(res)
        expect(await fingerprint(b.id)).toBe(before)
      },
    )

    it.each(operations.map((op) => [op.key, op] as const))(
      '%s with X-Tenant-ID of tenant B (id and slug)',
      async (_key, op) => {
        const before = await fingerprint(b.id)
        const url = fillPath(op.path, (_p, collection) => idIn(bIds, collection))
        const body = bodyWithIds(op.bodySchema, (field) => idIn(bIds, fieldCollection(field)))
        for (const tenant of [b.id, b.slug]) {
          const res = await send(op, { ...who.headers, 'x-tenant-id': tenant }, url, body)
          expect(outcome(res), `${op.key} → ${res.body}`).toBe('404 not_found')
          expectNoLeak(res)
        }
        expect(await fingerprint(b.id)).toBe(before)
      },
    )
  })
})

describe('permission matrix', async () => {
  const t = await createTestTenant(ctx)
  // A route that hides its refusal as a 404 is tried on a real row of t, so
  // that an allowed caller gets a 200 and only a refused one the 404.
  const tIds = await arrange(t)
  const required = (op: Operation): Exclude<PermissionRule, Permission> | null => {
    const rule = docs.paths[op.path]?.[op.method.toLowerCase()]?.['x-permission']
    if (rule === undefined) return null
    const need = typeof rule === 'string' ? { anyOf: [rule] } : rule
    if (need.hideAs !== undefined && op.method !== 'GET') {
      throw new Error(`${op.key} hides its refusal: only a read can be tried on a real row`)
    }
    return need
  }

  const cases = (['customer', 'agent', 'admin', 'owner'] as const).flatMap((role) =>
    operations.map((op) => [role, op.key, op] as const),
  )

  it.each(cases)('%s → %s', async (role, key, op) => {
    const need = required(op)
    const held = BUILTIN_ROLES[role].permissions as readonly Permission[]
    const allowed =
      need === null ||
      ((need.anyOf?.some((p) => held.includes(p)) ?? true) &&
        (need.allOf?.every((p) => held.includes(p)) ?? true) &&
        (!need.owner || role === 'owner'))
    if (op.key === 'DELETE /v1/tenant' && allowed) return // covered in tenants.test.ts
    // Random ids (real ones where the refusal is a 404): an allowed caller gets
    // past the guard to a 404 (or a success).
    const hidden = need?.hideAs !== undefined
    const url = fillPath(op.path, (_p, collection) =>
      hidden ? idIn(tIds, collection) : randomUUID(),
    )
    const body = sampleBody(op.bodySchema, (field) =>
      field === 'roleId' ? t.roles.customer : randomUUID(),
    )
    const res = await injectOnce(op, {
      method: op.method as 'GET',
      url,
      headers: t[role].headers,
      ...(body !== undefined ? { payload: body as object } : {}),
    })
    const denied = hidden
      ? res.statusCode === 404
      : res.statusCode === 403 && ['forbidden', 'owner_required'].includes(res.json().code)
    expect(
      denied,
      `${role} ${key} needs ${JSON.stringify(need)}: ${res.statusCode} ${res.body}`,
    ).toBe(!allowed)
    expect(res.statusCode).not.toBe(500)
  })
})
