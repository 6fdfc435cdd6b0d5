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
 * helmet's headers, computed once at start: they are the same for every
 * response (no per-request nonces), and building them per request showed
 * in the bench (docs/performance.md, "Security headers").
 * helmet has no API that returns its headers, only its middleware, so the
 * middleware runs once against a response that records what it sets.
 * tests/foundation/security-headers.test.ts pins the exact set, so a helmet
 * that writes its headers another way fails there, and a start that would
 * send none fails here.
 */
export function securityHeaders(config: Pick<Config, 'COOKIE_SECURE'>): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(helmetOptions(config))(
    {} as IncomingMessage,
    response as unknown as ServerResponse,
    () => {},
  )
  if (!headers['content-security-policy']) {
    throw new Error('helmet set no Content-Security-Policy on the recording response')
  }
  return headers
}

function helmetOptions(config: Pick<Config, 'COOKIE_SECURE'>): HelmetOptions {
  return {
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
  }
}

async function securityPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts

  const headers = securityHeaders(config)
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers)
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
