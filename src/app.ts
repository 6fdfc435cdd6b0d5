// buildApp(config): the whole api as a Fastify instance, infrastructure plugins
// first, then the feature modules. It never listens: server.ts does, and tests
// call app.inject() on the very same app.
import { AjvCompiler } from '@fastify/ajv-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions, LogController } from 'fastify'
import type { Config } from './config.ts'
import { type Clock, systemClock } from './lib/clock.ts'
import { loggerOptions } from './lib/logger.ts'
import { requestIdFor } from './lib/request-id.ts'
import askRoutes from './modules/ai/ask-routes.ts'
import aiRoutes from './modules/ai/routes.ts'
import apiKeyRoutes from './modules/api-keys/routes.ts'
import attachmentRoutes from './modules/attachments/routes.ts'
import auditRoutes from './modules/audit/routes.ts'
import authRoutes from './modules/auth/routes.ts'
import contactRoutes from './modules/contacts/routes.ts'
import eventRoutes from './modules/events/routes.ts'
import healthRoutes from './modules/health/routes.ts'
import inboundRoutes from './modules/inbound/routes.ts'
import jobRoutes from './modules/jobs/routes.ts'
import kbRoutes from './modules/kb/routes.ts'
import invitationRoutes from './modules/members/invitation-routes.ts'
import memberRoutes from './modules/members/routes.ts'
import portalRoutes from './modules/portal/routes.ts'
import profileRoutes from './modules/profile/routes.ts'
import roleRoutes from './modules/roles/routes.ts'
import tenantRoutes from './modules/tenants/routes.ts'
import ticketRoutes from './modules/tickets/routes.ts'
import webhookRoutes from './modules/webhooks/routes.ts'
import accessPlugin from './plugins/access.ts'
import authPlugin from './plugins/auth.ts'
import dbPlugin from './plugins/db.ts'
import docsPlugin from './plugins/docs.ts'
import errorsPlugin, { clientErrorHandler, frameworkErrors } from './plugins/errors.ts'
import eventSignalPlugin from './plugins/event-signal.ts'
import jobsPlugin from './plugins/jobs.ts'
import metricsPlugin from './plugins/metrics.ts'
import redisPlugin from './plugins/redis.ts'
import securityPlugin from './plugins/security.ts'
import storagePlugin from './plugins/storage.ts'
import tenantPlugin from './plugins/tenant.ts'
import textInputPlugin from './plugins/text-input.ts'

export type BuildOptions = {
  /** a pino destination stream (tests capture log lines with it) */
  logStream?: NodeJS.WritableStream
  /** the time auth decisions use; the system clock unless a test passes one it can move */
  clock?: Clock
}

/**
 * Query strings, params and headers arrive as text, so their validator coerces
 * (`limit=5` is the number 5). JSON bodies carry their own types: coercing them
 * turned `subject: 123` into "123" and `internal: null` into false, so a body
 * is validated as sent. One Ajv instance per side, built by Fastify's compiler.
 * Multipart bodies are not validated here at all (see below).
 */
function validatorPerHttpPart(): NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>['buildValidator'] {
  const coercing = AjvCompiler()
  const exact = AjvCompiler()
  return (externalSchemas, ajvOptions) => {
    const options = ajvOptions as { customOptions: Record<string, unknown> }
    const forText = coercing(externalSchemas, options)
    const forBodies = exact(externalSchemas, {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: false },
    })
    return (route) => {
      // An upload's body streams to its handler (plugins/uploads.ts), which reads
      // and checks it; its schema is there for the document.
      const { contentType } = route as { contentType?: string }
      if (route.httpPart === 'body' && contentType === 'multipart/form-data') {
        return forBodies({ ...route, schema: {} })
      }
      return route.httpPart === 'body' ? forBodies(route) : forText(route)
    }
  }
}

export async function buildApp(config: Config, options: BuildOptions = {}) {
  const logger: FastifyServerOptions['logger'] = options.logStream
    ? { ...loggerOptions(config.LOG_LEVEL, 'deskpilot-api'), stream: options.logStream }
    : loggerOptions(config.LOG_LEVEL, 'deskpilot-api', {
        nodeEnv: config.NODE_ENV,
        terminal: process.stdout.isTTY === true,
      })
  const app = Fastify({
    logger,
    genReqId: requestIdFor,
    // One line per request, written on response (below), instead of two.
    logController: new LogController({ requestIdLogLabel: 'reqId', disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A hop count is valid here although Fastify's types only name strings and booleans.
    trustProxy: config.TRUST_PROXY as FastifyServerOptions['trustProxy'],
    forceCloseConnections: 'idle',
    // Local mode opens PGlite and migrates it inside the db plugin: WebAssembly on
    // one thread, which takes longer than Fastify's 10 s plugin limit on a slow or
    // busy machine. A real database connects (or fails) within its own timeouts.
    pluginTimeout: config.localDatabase ? 120_000 : 10_000,
    // Slow clients must not hold sockets: the whole request, its headers, any
    // silence and an idle keep-alive each have a deadline, or a trickle of bytes holds a socket for ever.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: config.MAX_REQUESTS_PER_SOCKET,
    http: {
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      // Node checks both deadlines on this interval (30 s by default), so a
      // deadline is overrun by at most one interval.
      connectionsCheckingInterval: Math.min(1000, config.HEADERS_TIMEOUT_MS),
    },
    // What Node's parser and the router refuse answers problem+json too.
    clientErrorHandler,
    frameworkErrors,
    schemaController: { compilersFactory: { buildValidator: validatorPerHttpPart() } },
    ajv: {
      customOptions: {
        // Reject unknown properties (no mass assignment) instead of dropping them.
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: true,
        // Errors carry their schema, so a message can list the allowed values
        // or say where an unknown property belongs. Costs nothing on valid input.
        verbose: true,
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
  await app.register(eventSignalPlugin, { config })
  await app.register(metricsPlugin, { config })
  await app.register(storagePlugin, { config })
  await app.register(jobsPlugin, { config })
  await app.register(securityPlugin, { config })
  await app.register(authPlugin, { config, clock: options.clock ?? systemClock })
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
    attachmentRoutes,
    kbRoutes,
    profileRoutes,
    inboundRoutes,
    contactRoutes,
    portalRoutes,
    eventRoutes,
    webhookRoutes,
    aiRoutes,
    askRoutes,
  ]) {
    await app.register(routes, { config, prefix: '/v1' })
  }

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
