// Inputs an attacker edits by hand must answer 4xx, never reach PostgreSQL as
// a 500: every list's cursor, tampered field by field and in its shape (one
// decoder checks them all against each list's schema), and search text built
// to break websearch_to_tsquery() (33+ minus signs nest too many NOTs).
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, TEST_PASSWORD, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let ticketId: string

function call(actor: Actor, method: string, url: string, payload?: Record<string, unknown>) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    ...(payload ? { payload } : {}),
  })
}

async function ok(actor: Actor, method: string, url: string, payload?: Record<string, unknown>) {
  const res = await call(actor, method, url, payload)
  expect(res.statusCode, res.body).toBeLessThan(300)
  return res.body ? res.json() : null
}

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  const a = await ok(acme.customer, 'POST', '/v1/tickets', { subject: 'First', body: 'one' })
  await ok(acme.customer, 'POST', '/v1/tickets', {
    subject: 'Second',
    body: 'two',
    priority: 'high',
  })
  // An audit event or two (ticket.deleted), so the audit log has two pages.
  const gone = await ok(acme.customer, 'POST', '/v1/tickets', { subject: 'Gone', body: 'x' })
  await ok(acme.owner, 'DELETE', `/v1/tickets/${gone.id}`)
  ticketId = a.id
  await ok(acme.agent, 'POST', `/v1/tickets/${ticketId}/messages`, { body: 'a reply' })
  await ok(acme.agent, 'POST', `/v1/tickets/${ticketId}/messages`, { body: 'another reply' })
  for (const email of ['ada@example.com', 'grace@example.com']) {
    await ok(acme.owner, 'POST', '/v1/invitations', { email, roleId: acme.roles.agent })
  }
  for (const title of ['Router reset', 'Router lights']) {
    await ok(acme.agent, 'POST', '/v1/kb/articles', {
      title,
      body: 'router words',
      published: true,
    })
  }
  // A second session for the owner, so its session list has two pages.
  await ctx.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email: acme.owner.email, password: TEST_PASSWORD },
  })
  await ok(acme.owner, 'POST', '/v1/tickets', { subject: 'Third', body: 'three' })
})

// Every paged list, as a caller who may read it; each has at least two rows.
const lists: { name: string; url: () => string; actor: () => Actor }[] = [
  { name: 'tickets', url: () => '/v1/tickets?', actor: () => acme.agent },
  { name: 'tickets createdAt', url: () => '/v1/tickets?sort=createdAt&', actor: () => acme.agent },
  { name: 'tickets -priority', url: () => '/v1/tickets?sort=-priority&', actor: () => acme.agent },
  {
    name: 'tickets ranked',
    url: () => '/v1/tickets?q=second%20or%20third&',
    actor: () => acme.agent,
  },
  { name: 'messages', url: () => `/v1/tickets/${ticketId}/messages?`, actor: () => acme.agent },
  { name: 'members', url: () => '/v1/members?', actor: () => acme.owner },
  { name: 'invitations', url: () => '/v1/invitations?', actor: () => acme.owner },
  { name: 'audit events', url: () => '/v1/audit-events?', actor: () => acme.owner },
  { name: 'kb articles', url: () => '/v1/kb/articles?', actor: () => acme.agent },
  { name: 'kb articles ranked', url: () => '/v1/kb/articles?q=router&', actor: () => acme.agent },
  { name: 'sessions', url: () => '/v1/auth/sessions?', actor: () => acme.owner },
]

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Each field replaced by values of the wrong type or range, and the shape broken. */
function tamperedCursors(valid: unknown[]): [string, string][] {
  const bad: [string, unknown][] = [
    ['a non-date time', 'yesterday'],
    ['month 13', '2026-13-01T00:00:00.000000Z'],
    ['year 0', '0000-01-01T00:00:00Z'],
    ['a bad uuid', '01a2333d-aa92-7e36-bcf4-6215ecd4b11'],
    ['a huge number', 1e308],
    ['a negative number', -1],
    ['null', null],
    ['an object', {}],
  ]
  const cursors: [string, string][] = []
  valid.forEach((_, i) => {
    for (const [what, value] of bad) {
      cursors.push([`field ${i} as ${what}`, encode(valid.map((v, j) => (j === i ? value : v)))])
    }
  })
  cursors.push(
    ['one field too many', encode([...valid, 'x'])],
    ['one field too few', encode(valid.slice(1))],
    ['an object', encode({ at: valid[0] })],
    ['a string', encode('x')],
    ['not JSON', Buffer.from('{{').toString('base64url')],
    ['not base64url', '***'],
  )
  return cursors
}

describe('tampered cursors answer 400 invalid_cursor on every list', () => {
  for (const list of lists) {
    it(list.name, async () => {
      const first = await call(list.actor(), 'GET', `${list.url()}limit=1`)
      expect(first.statusCode, first.body).toBe(200)
      const { nextCursor } = first.json() as { nextCursor: string | null }
      expect(nextCursor).toEqual(expect.any(String))
      const valid = JSON.parse(Buffer.from(nextCursor!, 'base64url').toString())
      const next = await call(list.actor(), 'GET', `${list.url()}limit=1&cursor=${nextCursor}`)
      expect(next.statusCode, next.body).toBe(200)

      const failures: string[] = []
      for (const [what, cursor] of tamperedCursors(valid)) {
        const res = await call(list.actor(), 'GET', `${list.url()}limit=1&cursor=${cursor}`)
        const body = res.json() as { code?: string; detail?: string }
        if (
          res.statusCode !== 400 ||
          body.code !== 'invalid_cursor' ||
          body.detail !== 'The cursor is not valid for this list.'
        ) {
          failures.push(`${what}: ${res.statusCode} ${body.code}`)
        }
      }
      expect(failures).toEqual([])
    })
  }

  it('a cursor of one sort order is refused by another', async () => {
    const page = await ok(acme.agent, 'GET', '/v1/tickets?sort=createdAt&limit=1')
    const res = await call(acme.agent, 'GET', `/v1/tickets?limit=1&cursor=${page.nextCursor}`)
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('invalid_cursor')
  })
})

describe('a NUL character answers 400 invalid_text and writes nothing', () => {
  it('in a ticket, a message and a filter', async () => {
    const count = async (table: 'tickets' | 'messages') =>
      (
        await ctx.sql<{ n: number }[]>`
        select count(*)::int as n from ${ctx.sql(table)} where tenant_id = ${acme.id}`
      )[0]?.n
    const [tickets, messages] = [await count('tickets'), await count('messages')]
    const refused = [
      await call(acme.customer, 'POST', '/v1/tickets', { subject: 'Nul', body: 'a\u0000b' }),
      await call(acme.customer, 'POST', '/v1/tickets', { subject: 'N\u0000l', body: 'ab' }),
      await call(acme.customer, 'POST', `/v1/tickets/${ticketId}/messages`, { body: 'a\u0000b' }),
      await call(acme.owner, 'GET', '/v1/members?q=%00'),
      await call(acme.agent, 'GET', '/v1/tickets?tag=a%00b'),
    ]
    for (const res of refused) {
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().code).toBe('invalid_text')
    }
    expect([await count('tickets'), await count('messages')]).toEqual([tickets, messages])
  })
})

describe('hostile search text answers 200 or 400, never 500', () => {
  const hostile = [
    '-'.repeat(33),
    '-'.repeat(200),
    '- '.repeat(100),
    '-"'.repeat(60),
    '!&|():*',
    '!!!&&&|||((()))::**',
    `'"'"'"`,
    '"unterminated',
    '\\\\\\',
    'a\\:*',
    'or or or -or',
    'x\u0000y',
    'x'.repeat(10_240),
    '-x '.repeat(60),
  ]
  for (const [name, base] of [
    ['tickets', '/v1/tickets'],
    ['kb articles', '/v1/kb/articles'],
  ] as const) {
    it(name, async () => {
      const failures: string[] = []
      for (const q of hostile) {
        for (const actor of [acme.agent, acme.customer]) {
          const res = await call(actor, 'GET', `${base}?q=${encodeURIComponent(q)}`)
          if (res.statusCode !== 200 && res.statusCode !== 400) {
            failures.push(`${JSON.stringify(q.slice(0, 20))}: ${res.statusCode}`)
          }
        }
      }
      expect(failures).toEqual([])
      // The long one is refused by the schema, with the field named.
      const long = await call(acme.agent, 'GET', `${base}?q=${'x'.repeat(10_240)}`)
      expect(long.statusCode).toBe(400)
      expect(long.json().code).toBe('validation_failed')
      // A run of minus signs still parses as one NOT.
      const minus = await call(acme.agent, 'GET', `${base}?q=${encodeURIComponent('---- router')}`)
      expect(minus.statusCode).toBe(200)
    })
  }
})
