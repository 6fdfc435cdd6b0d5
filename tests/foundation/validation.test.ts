// Input validation on real routes: JSON bodies are taken as sent (no type
// coercion), query strings still are, and every validation error says how to
// fix the request: the allowed values, where an unknown property belongs, the
// field's real path, and that a JSON body is empty.
import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, signUpUser, uniqueEmail } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
const { app } = ctx
let owner: Actor

beforeAll(async () => {
  const slug = `v-${randomBytes(4).toString('hex')}`
  const signed = await signUpUser(ctx, 'validation-owner', { name: 'Validation', slug })
  owner = { ...signed, headers: { ...signed.headers, 'x-tenant-id': slug } }
})

type Problem = { code: string; detail: string; errors?: { path: string; message: string }[] }

async function ticketCount() {
  const [row] = await ctx.sql<{ n: number }[]>`select count(*)::int as n from tickets`
  return row!.n
}

describe('JSON bodies are validated as sent', () => {
  it.each([
    ['a number', 123],
    ['an array of one string', ['arr']],
    ['a boolean', true],
  ])(
    'POST /v1/tickets with subject as %s → 400 validation_failed, nothing written',
    async (_, subject) => {
      const before = await ticketCount()
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tickets',
        headers: owner.headers,
        payload: { subject, body: 'The printer is on fire.' },
      })
      expect(res.statusCode, res.body).toBe(400)
      const problem = res.json() as Problem
      expect(problem.code).toBe('validation_failed')
      expect(problem.errors).toContainEqual({ path: 'body/subject', message: 'must be string' })
      expect(await ticketCount()).toBe(before)
    },
  )

  it('POST /v1/tickets/{id}/messages with internal: null → 400, not a public reply', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: owner.headers,
      payload: { subject: 'Coercion check', body: 'First message.' },
    })
    expect(created.statusCode, created.body).toBe(201)
    const ticketId = created.json().id as string
    const res = await app.inject({
      method: 'POST',
      url: `/v1/tickets/${ticketId}/messages`,
      headers: owner.headers,
      payload: { body: 'Meant as a note', internal: null },
    })
    expect(res.statusCode, res.body).toBe(400)
    expect((res.json() as Problem).errors).toContainEqual({
      path: 'body/internal',
      message: 'must be boolean',
    })
    const [row] = await ctx.sql<{ n: number }[]>`
      select count(*)::int as n from messages where ticket_id = ${ticketId}`
    expect(row!.n).toBe(1)
  })

  it('query strings are still coerced: limit=5 is a number, limit=five is refused', async () => {
    const ok = await app.inject({ url: '/v1/tickets?limit=5', headers: owner.headers })
    expect(ok.statusCode, ok.body).toBe(200)
    const bad = await app.inject({ url: '/v1/tickets?limit=five', headers: owner.headers })
    expect(bad.statusCode).toBe(400)
    expect((bad.json() as Problem).errors?.[0]?.path).toBe('querystring/limit')
  })
})

describe('validation errors say how to fix the request', () => {
  it('a bad enum value lists the allowed values, once', async () => {
    const res = await app.inject({ url: '/v1/tickets?sort=updatedAt', headers: owner.headers })
    expect(res.statusCode).toBe(400)
    const problem = res.json() as Problem
    expect(problem.errors).toEqual([
      { path: 'querystring/sort', message: 'must be one of -updatedAt, createdAt, -priority' },
    ])
    expect(problem.detail).toContain('querystring/sort must be one of -updatedAt, createdAt')
  })

  it('an unknown property that belongs one level down says where', async () => {
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: owner.headers,
      payload: { aiReplyMode: 'auto' },
    })
    expect(res.statusCode).toBe(400)
    expect((res.json() as Problem).errors).toContainEqual({
      path: 'body/aiReplyMode',
      message: 'is not an allowed property; did you mean settings.aiReplyMode?',
    })
    // A property that belongs nowhere gets no guess.
    const other = await app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: owner.headers,
      payload: { colour: 'blue' },
    })
    expect((other.json() as Problem).errors).toContainEqual({
      path: 'body/colour',
      message: 'is not an allowed property',
    })
  })

  it('a nested field is reported at its real path (body/tenant/slug)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: {
        email: uniqueEmail('nested'),
        password: 'a long enough test passphrase 42',
        name: 'Nested',
        tenant: { name: 'Reserved', slug: 'www' },
      },
    })
    expect(res.statusCode, res.body).toBe(400)
    const problem = res.json() as Problem
    expect(problem.code).toBe('invalid_slug')
    expect(problem.errors?.map((e) => e.path)).toEqual(['body/tenant/slug'])
  })

  it('an empty body sent as application/json says the body is empty', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: { ...owner.headers, 'content-type': 'application/json' },
      payload: '',
    })
    expect(res.statusCode).toBe(400)
    const problem = res.json() as Problem
    expect(problem.code).toBe('invalid_json')
    expect(problem.detail).toMatch(/body is empty/)
  })
})
