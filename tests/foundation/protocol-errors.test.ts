// Every error the server writes is problem+json with a code, even when no route
// runs: what Node's HTTP parser refuses (oversized URLs and headers, malformed
// request lines, sent over raw sockets since inject cannot), URLs the router
// cannot decode, and NUL characters and lone surrogates in paths, query strings
// and JSON bodies of real routes. None of it is a 5xx. Failed queries are logged
// by statement and code, without their parameter values.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { sql } from 'drizzle-orm'
import type { InjectOptions } from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { exchange } from '../helpers/raw-http.ts'
import { type Actor, signUpUser } from '../helpers/tenancy.ts'

const ctx = await useTestApp({
  extend(app) {
    // A query that fails in PostgreSQL with a 100 KB parameter, as a real
    // statement would (a message body), to read what the error log keeps.
    app.post('/probe/failing-query', { config: { access: 'public' } }, async () => {
      const big = `secret-value-${'x'.repeat(100_000)}`
      await app.db.execute(sql`insert into tickets (id) values (${big}::uuid)`)
      return { ok: true }
    })
  },
})
const { app } = ctx
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo
let owner: Actor

beforeAll(async () => {
  const slug = `p-${randomBytes(4).toString('hex')}`
  const signed = await signUpUser(ctx, 'protocol-owner', { name: 'Protocol', slug })
  owner = { ...signed, headers: { ...signed.headers, 'x-tenant-id': slug } }
})

type Answer = { status: number; headers: Record<string, unknown>; body: string }

function expectProblem(res: Answer, status: number, code?: string) {
  expect(res.status, res.body).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
  const body = JSON.parse(res.body) as Record<string, unknown>
  expect(body).toMatchObject({
    type: expect.stringMatching(/^urn:deskpilot:problem:/),
    status,
    code: code ?? expect.any(String),
    detail: expect.any(String),
  })
  return body
}

const postTicketJson = (payload: string) =>
  injected({
    method: 'POST',
    url: '/v1/tickets',
    headers: { ...owner.headers, 'content-type': 'application/json' },
    payload,
  })

const injected = async (options: InjectOptions): Promise<Answer> => {
  const res = await app.inject(options)
  return { status: res.statusCode, headers: res.headers, body: res.body }
}

describe('what Node refuses before Fastify sees a request (raw sockets)', () => {
  it('a 100 KB URL → 431 problem+json, socket closed', async () => {
    const res = await exchange(port, (socket) => {
      socket.write(`GET /v1/tickets?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
    })
    expectProblem(res, 431, 'headers_too_large')
  })

  it('a 20 KB header → 431 problem+json', async () => {
    const res = await exchange(port, (socket) => {
      socket.write(
        `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      )
    })
    expectProblem(res, 431, 'headers_too_large')
  })

  it.each([
    ['not HTTP at all', 'HELLO THERE\r\n\r\n'],
    ['a bad version', 'GET /health HTTP/9.9\r\nHost: localhost\r\n\r\n'],
    ['a space in the path', 'GET /he alth HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['a control character in a header', 'GET /health HTTP/1.1\r\nHost: local\u0001host\r\n\r\n'],
    ['a bad Content-Length', 'POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n'],
  ])('a malformed request (%s) → 400 problem+json', async (_, request) => {
    const res = await exchange(port, (socket) => {
      socket.write(request)
    })
    expectProblem(res, 400, 'malformed_request')
  })
})

describe('what the router refuses, on real routes', () => {
  it.each(['/v1/tickets/%ED%A0%80', '/v1/tickets/%E0%A4%A', '/v1/tickets/%FF'])(
    'GET %s (invalid percent-encoding) → 400 invalid_url',
    async (url) => {
      expectProblem(await injected({ url, headers: owner.headers }), 400, 'invalid_url')
    },
  )

  it('the same over a real socket (fetch) carries the request id', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/tickets/%ED%A0%80`, {
      headers: owner.headers,
    })
    const body = expectProblem(
      { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() },
      400,
      'invalid_url',
    )
    expect(body.requestId).toBe(res.headers.get('x-request-id'))
  })

  it('lone surrogates and NUL bytes in paths → a 4xx problem, never a 5xx', async () => {
    for (const url of [
      '/v1/tickets/%uD800',
      '/v1/tickets/%00',
      '/v1/tickets/abc%00def',
      '/v1/kb/articles/%C0%80',
    ]) {
      const res = await injected({ url, headers: owner.headers })
      expect(res.status, url).toBeGreaterThanOrEqual(400)
      expect(res.status, url).toBeLessThan(500)
      expectProblem(res, res.status)
    }
  })

  it('NUL bytes, lone surrogates and bad escapes in query strings → 200 or a 4xx problem', async () => {
    for (const query of [
      'q=%00',
      'q=abc%00',
      'tag=%00',
      'q=%ED%A0%80',
      'q=%uD800',
      'q=%',
      'status=%00',
      'cursor=%00',
      'assigneeId=%00',
    ]) {
      const res = await injected({ url: `/v1/tickets?${query}`, headers: owner.headers })
      expect(res.status, `${query}: ${res.body}`).toBeLessThan(500)
      if (res.status >= 400) expectProblem(res, res.status)
    }
  })
})

describe('NUL and lone surrogates in JSON bodies', () => {
  it('a subject holding \\u0000 → 400 invalid_text, and nothing written', async () => {
    const [before] = await ctx.sql<{ n: number }[]>`select count(*)::int as n from tickets`
    const res = await postTicketJson('{"subject":"nul \\u0000 here","body":"hello"}')
    expectProblem(res, 400, 'invalid_text')
    const [after] = await ctx.sql<{ n: number }[]>`select count(*)::int as n from tickets`
    expect(after!.n).toBe(before!.n)
    // A lone surrogate is stored (as U+FFFD) or refused, never a 5xx.
    const surrogate = await postTicketJson('{"subject":"half \\ud800 a pair","body":"hello"}')
    expect(surrogate.status, surrogate.body).toBeLessThan(500)
    // Bad JSON and a wrong content type on the same real route.
    expectProblem(await postTicketJson('{"subject": "unterminated'), 400, 'invalid_json')
    expectProblem(
      await injected({
        method: 'POST',
        url: '/v1/tickets',
        headers: { ...owner.headers, 'content-type': 'text/csv' },
        payload: 'subject,body\na,b',
      }),
      415,
      'unsupported_media_type',
    )
  })

  it('a message body holding \\u0000 → 400 invalid_text', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: owner.headers,
      payload: { subject: 'NUL in messages', body: 'first' },
    })
    expect(created.statusCode, created.body).toBe(201)
    const res = await injected({
      method: 'POST',
      url: `/v1/tickets/${created.json().id}/messages`,
      headers: { ...owner.headers, 'content-type': 'application/json' },
      payload: '{"body":"\\u0000"}',
    })
    expectProblem(res, 400, 'invalid_text')
  })
})

describe('the error log of a failed query', () => {
  it('names the statement and the SQLSTATE, and holds no parameter value', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/probe/failing-query',
      headers: { 'x-request-id': 'sql-log-check' },
    })
    expect(res.statusCode).toBe(500)
    const lines = ctx.logs.filter((l) => l.reqId === 'sql-log-check')
    const failed = lines.find((l) => l.level === 50)
    expect(failed?.err).toMatchObject({ statement: 'insert into tickets', code: '22P02' })
    const text = JSON.stringify(lines)
    expect(text).not.toContain('secret-value-')
    expect(text).not.toContain('x'.repeat(100))
    expect(text.length).toBeLessThan(10_000)
  })
})
