// buildApp(config): the whole api as a Fastify instance, infrastructure plugins
// first, then the feature modules. It never listens: server.ts does, and tests
// call app.inject() on the very same app.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions, LogController } from 'fastify'
import type { Config } from './config.ts'
import { loggerOptions } from './lib/logger.ts'
import { requestIdFor } from './lib/request-id.ts'
import apiKeyRoutes from './modules/api-keys/routes.ts'
import auditRoutes from './modules/audit/routes.ts'
import authRoutes from './modules/auth/routes.ts'
import healthRoutes from './modules/health/routes.ts'
import jobRoutes from './modules/jobs/routes.ts'
import kbRoutes from './modules/kb/routes.ts'
import invitationRoutes from './modules/members/invitation-routes.ts'
import memberRoutes from './modules/members/routes.ts'
import roleRoutes from './modules/roles/routes.ts'
import tenantRoutes from './modules/tenants/routes.ts'
import ticketRoutes from './modules/tickets/routes.ts'
import accessPlugin from './plugins/access.ts'
import authPlugin from './plugins/auth.ts'
import dbPlugin from './plugins/db.ts'
import docsPlugin from './plugins/docs.ts'
import errorsPlugin from './plugins/errors.ts'
import jobsPlugin from './plugins/jobs.ts'
import metricsPlugin from './plugins/metrics.ts'
import redisPlugin from './plugins/redis.ts'
import securityPlugin from './plugins/security.ts'
import tenantPlugin from './plugins/tenant.ts'
import textInputPlugin from './plugins/text-input.ts'

export type BuildOptions = {
  /** a pino destination stream (tests capture log lines with it) */
  logStream?: NodeJS.WritableStream
}

export async function buildApp(config: Config, options: BuildOptions = {}) {
  const logger: FastifyServerOptions['logger'] = {
    ...loggerOptions(config.LOG_LEVEL, 'deskpilot-api'),
    ...(options.logStream ? { stream: options.logStream } : {}),
  }
  const app = Fastify({
    logger,
    genReqId: requestIdFor,
    // One line per request, written on response (below), instead of two.
    logController: new LogController({ requestIdLogLabel: 'reqId', disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A hop count is valid here although Fastify's types only name strings and booleans.
    trustProxy: config.TRUST_PROXY as FastifyServerOptions['trustProxy'],
    forceCloseConnections: 'idle',
    ajv: {
      customOptions: {
        // Reject unknown properties (no mass assignment) instead of dropping them.
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    )
  })

  await app.register(errorsPlugin)
  await app.register(textInputPlugin)
  await app.register(accessPlugin)
  await app.register(dbPlugin, { config })
  await app.register(redisPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(jobsPlugin, { config })
  await app.register(securityPlugin, { config })
  await app.register(authPlugin, { config })
  await app.register(tenantPlugin, { config })
  await app.register(docsPlugin, { config })

  await app.register(healthRoutes)
  await app.register(authRoutes, { config, prefix: '/v1/auth' })
  for (const routes of [
    tenantRoutes,
    roleRoutes,
    memberRoutes,
    invitationRoutes,
    apiKeyRoutes,
    auditRoutes,
    jobRoutes,
    ticketRoutes,
    kbRoutes,
  ]) {
    await app.register(routes, { config, prefix: '/v1' })
  }

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
