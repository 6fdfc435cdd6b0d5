// HTTP hardening: security headers (helmet, with a CSP that Swagger UI can live
// with), CORS for the SPA origins (credentials allowed, exact origins only) and
// the general rate limit, kept in Redis so every api copy shares the count
// (in memory in local mode).
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { TooManyRequests } from '../lib/problems.ts'

async function securityPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts

  await app.register(helmet, {
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
