// Every error the server writes is problem+json with a code, even when no route
// runs: what Node's HTTP parser refuses (oversized URLs and headers, malformed
// request lines, sent over raw sockets since inject cannot), URLs the router
// cannot decode, and NUL characters and lone surrogates in the paths of real
// routes. None of it is a 5xx.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { InjectOptions } from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { exchange } from '../helpers/raw-http.ts'
import { type Actor, signUpUser } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
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
})
