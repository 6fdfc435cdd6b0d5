// The operational surface of the api on real PostgreSQL and Redis: liveness,
// readiness, Prometheus metrics, the OpenAPI document and Swagger UI (and the
// CSP that must let it run), CORS for the SPA origins and helmet's headers.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTestApp, type TestContext, useTestApp } from '../helpers/app.ts'

const ctx = await useTestApp({
  extend(app) {
    app.get('/probe/items/:id', { config: { access: 'public' } }, async () => ({ ok: true }))
  },
})
const { app } = ctx

describe('health and readiness', () => {
  it('GET /health → 200 {status: ok}', async () => {
    const res = await app.inject({ url: '/health' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it('GET /ready → 200 with every check ok in services mode', async () => {
    const res = await app.inject({ url: '/ready' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', migrations: 'ok', redis: 'ok' },
      mode: 'services',
    })
  })
})

describe('GET /metrics', () => {
  it('is Prometheus text with request latency by route pattern, event-loop lag and pool size', async () => {
    await app.inject({ url: '/health' })
    await app.inject({ url: '/probe/items/0193a0c4-7f6e-7a1b-9c2d-3e4f5a6b7c8d' })
    const res = await app.inject({ url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = res.body
    expect(text).toContain('# TYPE http_request_duration_seconds histogram')
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/health",status_code="200"\} [1-9]/,
    )
    // The pattern, never the raw URL: ids must not become label values.
    expect(text).toContain('route="/probe/items/:id"')
    expect(text).not.toContain('0193a0c4-7f6e')
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m)
    expect(text).toMatch(/^db_pool_size 10$/m)
    expect(text).toMatch(/^db_transactions_active 0$/m)
  })
})

describe('OpenAPI and Swagger UI', () => {
  it('GET /openapi.json is OpenAPI 3.1 with the five security schemes', async () => {
    const res = await app.inject({ url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    const doc = res.json()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.title).toBe('Deskpilot API')
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'apiKey',
      'bearerAuth',
      'cookieAuth',
      'inboundToken',
      'oauth2',
    ])
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    })
    expect(doc.components.securitySchemes.cookieAuth).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
    })
    expect(doc.paths['/health'].get.operationId).toBe('getHealth')
    expect(doc.paths['/ready'].get.responses).toHaveProperty('503')
    // Internal routes stay out of the document.
    expect(doc.paths).not.toHaveProperty('/metrics')
  })

  it('GET /docs serves Swagger UI with no inline script, and its scripts load under the CSP', async () => {
    let res = await app.inject({ url: '/docs' })
    if (res.statusCode === 302) {
      res = await app.inject({ url: new URL(res.headers.location!, 'http://x/docs').pathname })
    }
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.body).toContain('id="swagger-ui"')
    const scripts = [...res.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attributes, content] of scripts) {
      // script-src 'self' forbids inline code: every script must be a file.
      expect(attributes).toMatch(/\bsrc=/)
      expect(content?.trim()).toBe('')
    }

    const csp = String(res.headers['content-security-policy'])
    expect(csp).toMatch(/script-src 'self'(;|$)/)
    expect(csp).toContain("default-src 'self'")
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/)

    for (const file of ['swagger-ui-bundle.js', 'swagger-initializer.js']) {
      const js = await app.inject({ url: `/docs/static/${file}` })
      expect(js.statusCode, file).toBe(200)
      expect(js.headers['content-type'], file).toMatch(/javascript/)
    }
    // The initializer points Swagger UI at the served document.
    const init = await app.inject({ url: '/docs/static/swagger-initializer.js' })
    expect(init.body).toContain('json')
  })

  it('DOCS_ENABLED=false → /docs and /openapi.json answer 404', async () => {
    const off = await createTestApp({ env: { DOCS_ENABLED: 'false' } })
    try {
      for (const url of ['/docs', '/docs/static/swagger-ui-bundle.js', '/openapi.json']) {
        const res = await off.app.inject({ url })
        expect(res.statusCode, url).toBe(404)
        expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/)
      }
      expect((await off.app.inject({ url: '/health' })).statusCode).toBe(200)
    } finally {
      await off.close()
    }
  })
})

describe('CORS and security headers', () => {
  const preflight = (origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: '/v1/tickets',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-csrf-token,x-tenant-id',
      },
    })

  it('a preflight from an allowed origin is answered with that origin and credentials', async () => {
    const res = await preflight('http://localhost:5173')
    expect(res.statusCode).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173')
    expect(res.headers['access-control-allow-credentials']).toBe('true')
    expect(String(res.headers['access-control-allow-methods'])).toContain('POST')
    expect(String(res.headers['access-control-allow-headers'])).toContain('x-csrf-token')
    expect(res.headers.vary).toMatch(/origin/i)
  })

  it('a foreign origin gets no CORS grant', async () => {
    const res = await preflight('https://evil.example')
    // Without Access-Control-Allow-Origin the browser refuses the response
    // (@fastify/cors still sends allow-credentials, which alone grants nothing).
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    const get = await app.inject({ url: '/health', headers: { origin: 'https://evil.example' } })
    expect(get.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('an actual request from an allowed origin exposes the request id header', async () => {
    const res = await app.inject({ url: '/health', headers: { origin: 'http://localhost:5173' } })
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173')
    expect(String(res.headers['access-control-expose-headers'])).toContain('x-request-id')
  })

  it('helmet sets its headers on every response, errors included', async () => {
    for (const url of ['/health', '/no-such-route']) {
      const res = await app.inject({ url })
      expect(res.headers['x-content-type-options'], url).toBe('nosniff')
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN')
      expect(res.headers['referrer-policy'], url).toBe('no-referrer')
      expect(res.headers['cross-origin-resource-policy'], url).toBe('same-site')
      expect(String(res.headers['content-security-policy']), url).toContain(
        "frame-ancestors 'none'",
      )
      // No HSTS over plain HTTP in development and tests (COOKIE_SECURE=false).
      expect(res.headers['strict-transport-security'], url).toBeUndefined()
      expect(res.headers['x-powered-by'], url).toBeUndefined()
    }
  })
})

describe('operational routes under load and in production', () => {
  const METRICS_TOKEN = 'metrics-token-for-tests-0123456789'

  async function probesRun(target: TestContext): Promise<number> {
    const res = await target.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
    expect(res.statusCode).toBe(200)
    return Number(/^readiness_probes_total (\d+)$/m.exec(res.body)?.[1])
  }

  let limited: TestContext
  beforeAll(async () => {
    limited = await createTestApp({ env: { RATE_LIMIT_MAX: '5', METRICS_TOKEN } })
  })
  afterAll(() => limited.close())

  it('40 concurrent GET /ready run one database and Redis probe, and share its answer', async () => {
    expect(await probesRun(limited)).toBe(0)
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        limited.app.inject({ url: '/ready', remoteAddress: `198.51.100.${i + 1}` }),
      ),
    )
    expect(answers.map((a) => a.statusCode)).toEqual(Array(40).fill(200))
    expect(new Set(answers.map((a) => a.body)).size).toBe(1)
    expect(await probesRun(limited)).toBe(1)
    // A second later the answer is fresh again: one more probe.
    await vi.waitFor(
      async () => {
        await limited.app.inject({ url: '/ready', remoteAddress: '198.51.100.200' })
        expect(await probesRun(limited)).toBe(2)
      },
      { timeout: 5000, interval: 250 },
    )
  })

  it('GET /ready counts against the rate limit like any public route; /health does not', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) {
      const res = await limited.app.inject({ url: '/ready', remoteAddress: '203.0.113.50' })
      statuses.push(res.statusCode)
      if (res.statusCode === 429) {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(res.json().code).toBe('rate_limited')
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429])
    for (let i = 0; i < 7; i++) {
      const res = await limited.app.inject({ url: '/health', remoteAddress: '203.0.113.51' })
      expect(res.statusCode).toBe(200)
    }
  })

  it('with METRICS_TOKEN set, /metrics wants it as a bearer token', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: METRICS_TOKEN },
    ]) {
      const res = await limited.app.inject({ url: '/metrics', headers })
      expect(res.statusCode).toBe(401)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json().code).toBe('metrics_token_required')
      expect(res.body).not.toContain('http_request_duration_seconds')
    }
    const granted = await limited.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
    expect(granted.statusCode).toBe(200)
    expect(granted.body).toContain('http_request_duration_seconds')
  })

  it('in production, without METRICS_TOKEN and DOCS_ENABLED, /metrics and /docs answer 404', async () => {
    const production = await createTestApp({
      env: {
        NODE_ENV: 'production',
        SMTP_URL: 'smtp://127.0.0.1:2525',
        SECRET_ENCRYPTION_KEY: 'ab'.repeat(32),
      },
    })
    try {
      for (const url of ['/metrics', '/docs', '/openapi.json']) {
        const res = await production.app.inject({ url })
        expect(res.statusCode, url).toBe(404)
        expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/)
      }
      expect((await production.app.inject({ url: '/health' })).statusCode).toBe(200)
    } finally {
      await production.close()
    }
  })
})
