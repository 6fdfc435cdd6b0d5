// Prometheus metrics at /metrics: request count and latency by route and
// status, Node's defaults (event-loop lag, heap, GC) and database pool usage.
// Each app gets its own registry, so several apps in one process (tests) never
// clash. The numbers tell an outsider the routes, the load and the pool size,
// so /metrics wants METRICS_TOKEN as a bearer token; without one it is open in
// development and test only, and in production not served at all.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Config } from '../config.ts'
import { activeTransactions } from '../db/scoped.ts'
import { Unauthorized } from '../lib/problems.ts'
import { hashToken, sameDigest } from '../lib/tokens.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry
  }
}

async function metricsPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { METRICS_TOKEN, NODE_ENV } = opts.config
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 })
  app.decorate('metrics', registry)

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status (count is the request count)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })

  new Gauge({
    name: 'db_pool_size',
    help: 'Size of the database connection pool of this process',
    registers: [registry],
    collect() {
      this.set(app.database.poolMax)
    },
  })
  new Gauge({
    name: 'db_transactions_active',
    help: 'Transactions holding a pooled connection right now (pool usage)',
    registers: [registry],
    collect() {
      this.set(activeTransactions())
    },
  })

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the raw URL: ids must not explode the label space.
    const route = request.routeOptions.url ?? 'unmatched'
    duration.observe(
      { method: request.method, route, status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    )
  })

  if (!METRICS_TOKEN && NODE_ENV === 'production') return
  // Digests of equal length, so the comparison takes the same time whatever was sent.
  const expected = METRICS_TOKEN ? hashToken(METRICS_TOKEN) : undefined

  app.get(
    '/metrics',
    {
      schema: { hide: true },
      config: { access: 'public', rateLimit: false },
      logLevel: 'warn',
    },
    async (request, reply) => {
      if (expected) {
        const header = request.headers.authorization ?? ''
        const sent = header.startsWith('Bearer ') ? header.slice(7) : ''
        if (!sameDigest(hashToken(sent), expected)) {
          throw new Unauthorized('metrics_token_required', 'Send METRICS_TOKEN as a bearer token.')
        }
      }
      reply.type(registry.contentType)
      return registry.metrics()
    },
  )
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['db'] })
