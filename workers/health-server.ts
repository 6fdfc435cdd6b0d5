// The worker's tiny HTTP listener for orchestrators: GET /health (liveness),
// GET /ready (Redis and the database reachable) and GET /metrics (Prometheus).
// Plain node:http: the worker does not depend on Fastify.
import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'

type HealthChecks = { ready(): Promise<boolean> }

export function startHealthServer(opts: {
  host: string
  port: number
  registry: Registry
  checks: HealthChecks
}): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      if (req.method === 'GET' && req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      } else if (req.method === 'GET' && req.url === '/ready') {
        const ready = await opts.checks.ready()
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: ready ? 'ready' : 'not_ready' }))
      } else if (req.method === 'GET' && req.url === '/metrics') {
        const body = await opts.registry.metrics()
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body)
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not_found"}')
      }
    } catch {
      res.writeHead(500).end()
    }
  })
  return new Promise((resolve) => server.listen(opts.port, opts.host, () => resolve(server)))
}
