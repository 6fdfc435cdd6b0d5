// One timestamp format in every response: RFC 3339 UTC with milliseconds, as
// Date#toISOString() writes it, whether the route renders times in SQL or from
// Dates. Cursors keep microseconds inside themselves, so rows written within
// one millisecond are still paged one by one.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
})

const MILLISECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** Every `*At` field anywhere in a response, with its path. */
function timeFields(value: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => timeFields(v, `${path}[${i}]`))
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => [
      ...(key.endsWith('At') && v !== null ? [[`${path}.${key}`, v] as [string, unknown]] : []),
      ...timeFields(v, `${path}.${key}`),
    ])
  }
  return []
}

async function call(actor: Actor, method: string, url: string, payload?: Record<string, unknown>) {
  const res = await ctx.app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    ...(payload ? { payload } : {}),
  })
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300)
  return res.body ? res.json() : null
}

describe('time fields', () => {
  it('every *At field of every response has the same millisecond format', async () => {
    const ticket = await call(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Clock skew',
      body: 'The times look odd',
    })
    const responses: Record<string, unknown> = {
      'POST /v1/tickets': ticket,
      'POST messages': await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
        body: 'Looking into it',
      }),
      'PATCH /v1/tickets/{id}': await call(acme.agent, 'PATCH', `/v1/tickets/${ticket.id}`, {
        status: 'on_hold',
      }),
      'GET /v1/tickets': await call(acme.agent, 'GET', '/v1/tickets'),
      'GET /v1/tickets/{id}': await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}`),
      'GET messages': await call(acme.agent, 'GET', `/v1/tickets/${ticket.id}/messages`),
      'POST /v1/kb/articles': await call(acme.agent, 'POST', '/v1/kb/articles', {
        title: 'Clocks',
        body: 'About clocks',
      }),
      'GET /v1/kb/articles': await call(acme.agent, 'GET', '/v1/kb/articles'),
      'POST /v1/invitations': await call(acme.owner, 'POST', '/v1/invitations', {
        email: 'time@example.com',
        roleId: acme.roles.agent,
      }),
      'GET /v1/invitations': await call(acme.owner, 'GET', '/v1/invitations'),
      'GET /v1/members': await call(acme.owner, 'GET', '/v1/members'),
      'GET /v1/members/{id}': await call(acme.owner, 'GET', `/v1/members/${acme.agent.userId}`),
      'POST /v1/api-keys': await call(acme.owner, 'POST', '/v1/api-keys', {
        name: 'clock',
        permissions: ['tickets:read'],
      }),
      'GET /v1/api-keys': await call(acme.owner, 'GET', '/v1/api-keys'),
      'GET /v1/roles': await call(acme.owner, 'GET', '/v1/roles'),
      'GET /v1/audit-events': await call(acme.owner, 'GET', '/v1/audit-events'),
      'GET /v1/tenant': await call(acme.owner, 'GET', '/v1/tenant'),
      'GET /v1/auth/me': await call(acme.owner, 'GET', '/v1/auth/me'),
      'GET /v1/auth/sessions': await call(acme.owner, 'GET', '/v1/auth/sessions'),
    }
    const [job] = await ctx.sql<{ id: string }[]>`
      select id from jobs where tenant_id = ${acme.id} limit 1`
    responses['GET /v1/jobs/{id}'] = await call(acme.agent, 'GET', `/v1/jobs/${job!.id}`)

    const fields = Object.entries(responses).flatMap(([route, body]) =>
      timeFields(body).map(([path, v]) => [`${route} ${path}`, v] as const),
    )
    // The walk found the fields it is about, on the routes rendering in SQL and from Dates.
    for (const name of ['createdAt', 'updatedAt', 'lastMessageAt', 'joinedAt', 'expiresAt']) {
      expect(
        fields.some(([path]) => path.endsWith(`.${name}`)),
        name,
      ).toBe(true)
    }
    expect(fields.filter(([, v]) => typeof v !== 'string' || !MILLISECONDS.test(v))).toEqual([])
  })

  it('cursors page through rows written within one millisecond', async () => {
    const ids: string[] = []
    for (const subject of ['Tick 1', 'Tick 2', 'Tick 3']) {
      ids.push((await call(acme.customer, 'POST', '/v1/tickets', { subject, body: 'x' })).id)
    }
    await ctx.sql`update tickets set
        updated_at = '2030-01-01T00:00:00.123000Z'::timestamptz + (number % 3) * interval '1 microsecond',
        created_at = '2030-01-01T00:00:00.123000Z'::timestamptz + (number % 3) * interval '1 microsecond'
      where id = any(${ids}::uuid[])`
    for (const sort of ['-updatedAt', 'createdAt']) {
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page: { data: { id: string; updatedAt: string }[]; nextCursor: string | null } =
          await call(
            acme.agent,
            'GET',
            `/v1/tickets?sort=${sort}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
          )
        seen.push(...page.data.map((t) => t.id))
        cursor = page.nextCursor
      } while (cursor)
      expect(seen.filter((id) => ids.includes(id)).sort(), sort).toEqual([...ids].sort())
      expect(new Set(seen).size).toBe(seen.length)
    }
    const shown = await call(acme.agent, 'GET', `/v1/tickets/${ids[0]}`)
    expect(shown.updatedAt).toBe('2030-01-01T00:00:00.123Z')
  })
})
