// Every failure answers problem+json with a stable code and nothing internal.
import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'

const ctx = await useTestApp({
  env: { RATE_LIMIT_MAX: '5', BODY_LIMIT_BYTES: '2048' },
  extend(app) {
    app.post(
      '/probe/echo',
      {
        config: { access: 'public', rateLimit: false },
        schema: {
          body: Type.Object(
            { name: Type.String({ minLength: 2 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => request.body,
    )
    app.get('/probe/boom', { config: { access: 'public' } }, async () => {
      throw new Error('secret internal detail: password=hunter2 at db.ts:42')
    })
    app.get('/probe/limited', { config: { access: 'public' } }, async () => ({ ok: true }))
  },
})
const { app } = ctx

function expectProblem(res: { headers: Record<string, unknown>; json(): unknown }) {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  const body = res.json() as Record<string, unknown>
  expect(body).toMatchObject({
    type: expect.stringMatching(/^urn:deskpilot:problem:/),
    title: expect.any(String),
    status: expect.any(Number),
    detail: expect.any(String),
    code: expect.any(String),
  })
  return body
}

describe('problem+json errors', () => {
  it('unknown route → 404 not_found', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing-here' })
    expect(res.statusCode).toBe(404)
    expect(expectProblem(res).code).toBe('not_found')
  })

  it('known path with the wrong method → 405 with Allow', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/health' })
    expect(res.statusCode).toBe(405)
    expect(res.headers.allow).toContain('GET')
    expect(expectProblem(res).code).toBe('method_not_allowed')
  })

  it('malformed JSON → 400 invalid_json', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "ab"',
    })
    expect(res.statusCode).toBe(400)
    expect(expectProblem(res).code).toBe('invalid_json')
  })

  it('schema violations and unknown fields → 400 validation_failed with paths', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/probe/echo',
      payload: { name: 'x', role: 'owner' },
    })
    expect(res.statusCode).toBe(400)
    const body = expectProblem(res)
    expect(body.code).toBe('validation_failed')
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: 'body/name', message: expect.stringContaining('2') },
        { path: 'body/role', message: 'is not an allowed property' },
      ]),
    )
    const ok = await app.inject({ method: 'POST', url: '/probe/echo', payload: { name: 'ada' } })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toEqual({ name: 'ada' })
  })

  it('a body over BODY_LIMIT_BYTES → 413 payload_too_large', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/probe/echo',
      payload: { name: 'x'.repeat(4096) },
    })
    expect(res.statusCode).toBe(413)
    expect(expectProblem(res).code).toBe('payload_too_large')
  })

  it('an unsupported content type → 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/probe/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<name>ada</name>',
    })
    expect(res.statusCode).toBe(415)
    expect(expectProblem(res).code).toBe('unsupported_media_type')
  })

  it('a thrown error → 500 with nothing internal, and a log line with the request id', async () => {
    const res = await app.inject({
      url: '/probe/boom',
      headers: { 'x-request-id': 'trace-500-check' },
    })
    expect(res.statusCode).toBe(500)
    const body = expectProblem(res)
    expect(body.code).toBe('internal_error')
    expect(res.body).not.toContain('hunter2')
    expect(res.body).not.toContain('db.ts')
    expect(body.requestId).toBe('trace-500-check')
    const line = ctx.logs.find((l) => l.reqId === 'trace-500-check' && l.level === 50)
    expect(line).toBeDefined()
    expect(JSON.stringify(line)).toContain('secret internal detail')
  })

  it('a burst over the rate limit → 429 with Retry-After and RateLimit headers', async () => {
    const statuses: number[] = []
    let last: Awaited<ReturnType<typeof app.inject>> | undefined
    for (let i = 0; i < 7; i++) {
      last = await app.inject({ url: '/probe/limited', remoteAddress: '203.0.113.9' })
      statuses.push(last.statusCode)
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200])
    expect(statuses.slice(5)).toEqual([429, 429])
    expect(last?.headers['retry-after']).toMatch(/^\d+$/)
    expect(last?.headers['ratelimit-limit']).toBe('5')
    expect(last?.headers['ratelimit-remaining']).toBe('0')
    expect(expectProblem(last!).code).toBe('rate_limited')
    // Another client is not affected: the count is per client, kept in Redis.
    const other = await app.inject({ url: '/probe/limited', remoteAddress: '203.0.113.10' })
    expect(other.statusCode).toBe(200)
    const keys = await ctx.app.redis!.keys(`${ctx.config.REDIS_PREFIX}:rl:*`)
    expect(keys.length).toBeGreaterThan(0)
  })

  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const ok = await app.inject({ url: '/health', headers: { 'x-request-id': 'lb-1234.abc' } })
    expect(ok.headers['x-request-id']).toBe('lb-1234.abc')
    const bad = await app.inject({ url: '/health', headers: { 'x-request-id': 'a b\tc' } })
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('redacts secrets in log lines', async () => {
    app.log.info({ password: 'p4ss', refreshToken: 'rt' }, 'redaction probe')
    const line = ctx.logs.find((l) => l.msg === 'redaction probe')
    expect(line).toMatchObject({ password: '[redacted]', refreshToken: '[redacted]' })
  })
})
