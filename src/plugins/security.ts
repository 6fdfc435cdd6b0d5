// HTTP hardening: security headers (helmet, with a CSP that Swagger UI can live
// with), CORS for the SPA origins (credentials allowed, exact origins only) and
// the general rate limit, kept in Redis so every api copy shares the count
// (in memory in local mode).
import type { IncomingMessage, ServerResponse } from 'node:http'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'
import type { Config } from '../config.ts'
import { TooManyRequests } from '../lib/problems.ts'

/**
 * helmet's headers, computed once. They are the same for every response (no
 * per-request nonces), and @fastify/helmet rebuilt helmet's middleware and
 * re-parsed the CSP on every request: about a tenth of a bare route's CPU.
 */
function staticHelmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {})
  return headers
}

async function securityPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts

  const securityHeaders = staticHelmetHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // Swagger UI injects inline styles; its scripts are files under /docs.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: config.COOKIE_SECURE ? [] : null,
      },
    },
    // Cross-origin SPAs read our JSON; resources are not embedded elsewhere.
    crossOriginResourcePolicy: { policy: 'same-site' },
    hsts: config.COOKIE_SECURE ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  })
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(securityHeaders)
  })

  await app.register(cors, {
    origin: [...config.CORS_ORIGINS],
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'idempotency-key',
      'if-match',
      'x-csrf-token',
      'x-request-id',
      'x-tenant-id',
    ],
    exposedHeaders: [
      'etag',
      'location',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'x-request-id',
    ],
    maxAge: 600,
  })

  await app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_MAX,
    timeWindow: 60_000,
    ...(app.redis ? { redis: app.redis } : {}),
    nameSpace: `${config.REDIS_PREFIX}:rl:`,
    // A Redis outage must not take the api down with it.
    skipOnError: true,
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) =>
      new TooManyRequests(Math.max(1, Math.ceil(context.ttl / 1000))),
  })
}

export default fp(securityPlugin, { name: 'security', dependencies: ['redis', 'errors'] })
