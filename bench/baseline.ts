// The bare baseline the api is measured against: a plain Fastify server with
// no plugins, no logging and no hooks, one route per benchmarked api route. A
// ratio of 1.00 means the api route costs no more than Fastify itself; routes
// that hit the database will get a baseline here running the same SQL directly
// with postgres.js, so the ratio shows our overhead, not PostgreSQL's.
// Started by bench/run.ts, which picks BASELINE_PORT.
import Fastify from 'fastify'

const app = Fastify({ logger: false })

app.get('/baseline/health', async () => ({ status: 'ok' }))

await app.listen({ host: '127.0.0.1', port: Number(process.env.BASELINE_PORT ?? 3100) })

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0))
  })
}
