// Liveness and readiness for orchestrators and load balancers. /health says the
// process is up; /ready says it can serve: database reachable with every
// migration applied, and Redis reachable (when configured). Neither is logged
// at info. /ready costs a query and a Redis ping, so its answer is reused for a
// second, one probe runs at a time however many callers wait on it, and it
// counts against the general rate limit like any public route. /health does no
// I/O and stays unlimited: a throttled liveness probe would restart a healthy api.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Counter } from 'prom-client'
import { type Static, Type } from 'typebox'
import { databaseAnswers, migrationsApplied } from '../../db/migrate.ts'

const Check = Type.Union([Type.Literal('ok'), Type.Literal('down'), Type.Literal('disabled')])

const readyProperties = {
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({
    database: Check,
    migrations: Check,
    redis: Check,
  }),
  mode: Type.Union([Type.Literal('local'), Type.Literal('services')], {
    description: 'local: embedded PostgreSQL or no Redis; services: both configured',
  }),
}
const ReadySchema = Type.Object(readyProperties, {
  description: 'Ready: every check passed',
  examples: [
    {
      status: 'ready',
      checks: { database: 'ok', migrations: 'ok', redis: 'ok' },
      mode: 'services',
    },
  ],
})
const NotReadySchema = Type.Object(readyProperties, {
  description: 'Not ready: the failing checks say why; take this copy out of the pool',
  examples: [
    {
      status: 'not_ready',
      checks: { database: 'ok', migrations: 'ok', redis: 'down' },
      mode: 'services',
    },
  ],
})

const CHECK_TIMEOUT_MS = 2000
/** How long one probe's answer is served again. */
const READY_CACHE_MS = 1000

function withTimeout<T>(work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref(),
    ),
  ])
}

type Readiness = { statusCode: 200 | 503; body: Static<typeof ReadySchema> }

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { config: { access: 'public' as const }, logLevel: 'warn' as const }

  const probes = new Counter({
    name: 'readiness_probes_total',
    help: 'Readiness probes run against the database and Redis (each /ready answer is reused for 1 s)',
    registers: [app.metrics],
  })

  async function probe(): Promise<Readiness> {
    probes.inc()
    const [migrations, redis] = await Promise.all([
      withTimeout(migrationsApplied(app.db)).then(
        (applied) => (applied ? 'ok' : 'down') as 'ok' | 'down',
        () => 'failed' as const,
      ),
      app.redis
        ? withTimeout(app.redis.ping()).then(
            () => 'ok' as const,
            () => 'down' as const,
          )
        : Promise.resolve('disabled' as const),
    ])
    // The migrations query also fails on a reachable database that was never
    // migrated (no migrations table): only then ask whether it answers at all.
    const database =
      migrations === 'failed'
        ? await withTimeout(databaseAnswers(app.db)).then(
            () => 'ok' as const,
            () => 'down' as const,
          )
        : ('ok' as const)
    const checks = {
      database,
      migrations: migrations === 'failed' ? ('down' as const) : migrations,
      redis,
    }
    const ready = checks.database === 'ok' && checks.migrations === 'ok' && redis !== 'down'
    return {
      statusCode: ready ? 200 : 503,
      body: {
        status: ready ? ('ready' as const) : ('not_ready' as const),
        checks,
        mode:
          app.database.kind === 'pglite' || !app.redis ? ('local' as const) : ('services' as const),
      },
    }
  }

  let inFlight: Promise<Readiness> | undefined
  let last: { at: number; readiness: Readiness } | undefined
  function readiness(): Promise<Readiness> {
    if (last && Date.now() - last.at < READY_CACHE_MS) return Promise.resolve(last.readiness)
    inFlight ??= probe()
      .then((result) => {
        last = { at: Date.now(), readiness: result }
        return result
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }

  app.get(
    '/health',
    {
      config: { access: 'public', rateLimit: false },
      logLevel: 'warn',
      schema: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        description:
          'Answers 200 while the process runs, whatever the database and Redis do: restart ' +
          'the process when this fails; use /ready to decide whether to send it traffic.',
        security: [],
        response: {
          200: Type.Object(
            { status: Type.Literal('ok') },
            { description: 'The process is up', examples: [{ status: 'ok' }] },
          ),
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/ready',
    {
      ...common,
      schema: {
        operationId: 'getReady',
        tags: ['operations'],
        summary: 'Readiness: database, migrations and Redis',
        description: 'Answers 503 with the failing checks when the api cannot serve.',
        security: [],
        response: { 200: ReadySchema, 503: NotReadySchema },
      },
    },
    async (_request, reply) => {
      const { statusCode, body } = await readiness()
      reply.code(statusCode)
      return body
    },
  )
}

export default healthRoutes
