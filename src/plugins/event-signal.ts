// Decorates app.eventSignal ("tenant T has new events", lib/event-signal.ts)
// and says it after every request that may have written events: a successful
// POST, PUT, PATCH or DELETE of a tenant-scoped request. onResponse runs after
// the answer was sent, so the handler's transaction has committed and a reader
// woken by the signal finds the rows. One rule for every route, instead of a
// publish in each handler that writes events (and one forgotten); a write that
// wrote no event costs each listening stream of the tenant one read that finds
// nothing. Routes that write events without request.tenant (inbound mail with
// the platform token, accepting an invitation) and processes without this app
// (mail-in) publish for their tenant themselves.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { createEventSignal, type EventSignal } from '../lib/event-signal.ts'

declare module 'fastify' {
  interface FastifyInstance {
    eventSignal: EventSignal
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

async function eventSignalPlugin(app: FastifyInstance, opts: { config: Config }) {
  const signal = createEventSignal({ redis: app.redis, channelPrefix: opts.config.REDIS_PREFIX })
  app.decorate('eventSignal', signal)
  app.addHook('onResponse', async (request, reply) => {
    if (request.tenant && reply.statusCode < 400 && WRITES.has(request.method)) {
      signal.publish(request.tenant.id)
    }
  })
  app.addHook('onClose', () => signal.close())
}

export default fp(eventSignalPlugin, { name: 'event-signal', dependencies: ['redis'] })
