// GET /v1/events/stream: the feed, live, as Server-Sent Events. Whoever may
// read the feed may open it and sees exactly what the feed shows them: every
// read goes through listEvents (domain/events/feed.ts), with the caller's
// rights as they are at that read.
//
// How it keeps up: it starts after Last-Event-ID (or `after`), replaying from
// the table, or at the tenant's current end; then each signal for its tenant
// (lib/event-signal.ts, from whichever api copy the change was made on) and
// each heartbeat wake its feed pump, which reads after the last sequence sent.
// A lost signal delays an event by one heartbeat at most; the table is the
// truth, so nothing is skipped or sent twice.
//
// Each read and each heartbeat first checks the caller again (the session or
// API key still live, still a member): a logout, a revoked session or key, or
// a removed member ends the stream within one heartbeat.
//
// The wire format is @fastify/sse's (the Fastify team's plugin): it writes the
// headers, formats messages, waits for 'drain' when the socket is full and
// notices a closed socket. Two things it does not do are done here: a write
// waiting for 'drain' on a socket that then closes would wait for ever, so
// sends race the socket's close; and it has no way to write a comment, so the
// heartbeat (which also re-checks and reads, on one timer) writes its comment
// on the raw response, skipping it while the socket is full. A reader that
// leaves the socket full for STALLED_HEARTBEATS heartbeats is cut off, so a
// client that stopped reading does not hold one of the process's places.
// (fastify-sse-v2, the other candidate, buffers pushed events without bound
// and pipes with no clean-up on close.)
import sseModule, { type SSEPluginOptions } from '@fastify/sse'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../../config.ts'
import { afterSequence, lastSequence, listEvents } from '../../domain/events/feed.ts'
import type { Event } from '../../domain/events/schemas.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { Problem, ServiceUnavailable } from '../../lib/problems.ts'
import { createFeedPump, type FeedPump } from './feed-pump.ts'
import { createOpenStreams, type OpenStream } from './open-streams.ts'
import { EventStream, StreamEventsHeaders, StreamEventsQuery } from './stream-schemas.ts'

/**
 * The plugin as Node loads it: module.exports, wrapped in fastify-plugin so
 * that it decorates this context's routes. Its types describe the module as
 * ESM, where the default would be the unwrapped function.
 */
const fastifySse = sseModule as unknown as FastifyPluginAsync<SSEPluginOptions>

/** Events read per query; a replay of more takes several. */
const PAGE_SIZE = 100
/** What a 503 stream_limit asks the client to wait. */
const RETRY_AFTER_SECONDS = 5
/** Heartbeats a reader may leave the socket full before it is cut off. */
const STALLED_HEARTBEATS = 3
/** The reconnect delay sent at shutdown: spread, so the clients do not all come back at once. */
const shutdownRetryMs = () => 1000 + Math.floor(Math.random() * 4000)

const eventStreamRoute: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Its own heartbeat is off: ours re-checks the caller and reads on the same tick.
  await app.register(fastifySse, { heartbeatInterval: 0 })
  const heartbeatMs = config.EVENT_STREAM_HEARTBEAT_SECONDS * 1000
  const streams = createOpenStreams({
    max: config.EVENT_STREAM_MAX_PER_PROCESS,
    signal: app.eventSignal,
  })
  // Before the server stops accepting and waits for its connections: the
  // streams' would never end by themselves.
  app.addHook('preClose', async () => streams.closeAll())

  app.get(
    '/events/stream',
    {
      sse: 'manual',
      config: { access: 'tenant' },
      schema: {
        operationId: 'streamEvents',
        tags: ['events'],
        summary: "The tenant's events as they happen (Server-Sent Events)",
        description:
          'The feed, live: each event the caller may see (the same rights as GET /v1/events) ' +
          'as an SSE message `id: <sequence>`, `event: <type>`, `data: <the event as JSON>`. ' +
          'With Last-Event-ID (or `after`) it first replays what came after it from the feed, ' +
          'then goes on live, skipping and repeating nothing; without either it starts at ' +
          'the current end. A comment heartbeat every EVENT_STREAM_HEARTBEAT_SECONDS (15). ' +
          'Ends when the session or API key is revoked or the caller leaves the tenant; ' +
          'at most EVENT_STREAM_MAX_PER_PROCESS (1000) streams per api process, past which ' +
          'it answers 503 stream_limit with Retry-After.',
        querystring: StreamEventsQuery,
        headers: StreamEventsHeaders,
        response: {
          200: EventStream,
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required', 'invalid_cursor'],
            503: ['stream_limit'],
          }),
        },
      },
    },
    async (request, reply) => {
      const tenantId = request.tenant!.id
      const { type } = request.query
      let pump: FeedPump | null = null
      let heartbeat: NodeJS.Timeout | undefined
      let open = true
      const stream: OpenStream = {
        tenantId,
        wake: () => pump?.wake(),
        end: () => finish('server closing'),
      }
      function finish(reason: string) {
        if (!open) return
        open = false
        clearInterval(heartbeat)
        streams.remove(stream)
        if (!reply.raw.headersSent) return // not started: the handler answers (below)
        request.log.info({ reason, lastSequence: pump?.last }, 'event stream ended')
        if (reason === 'server closing' && reply.sse.isConnected) {
          // Written at once (the plugin writes before its promise settles), then ended.
          reply.sse.send({ data: undefined, retry: shutdownRetryMs() }).catch(() => {})
        }
        reply.sse.close()
      }
      const unavailable = (detail: string) =>
        new ServiceUnavailable('stream_limit', RETRY_AFTER_SECONDS, detail)

      // The place is taken before anything is awaited, so a crowd arriving at
      // once cannot all pass the check.
      if (!streams.add(stream)) {
        throw unavailable(
          `This server holds as many live streams as it may; retry in ${RETRY_AFTER_SECONDS} seconds.`,
        )
      }
      let after: number
      try {
        const asked = request.headers['last-event-id'] ?? request.query.after
        const end = await lastSequence(app.database, tenantId)
        // A point past the end (a stale or foreign id) waits for nothing that exists.
        after = asked === undefined ? end : Math.min(afterSequence(asked), end)
      } catch (err) {
        streams.remove(stream)
        throw err
      }
      if (!open) throw unavailable('This server is shutting down; connect again.')
      // Gone while we looked (its close came before anyone listened for it).
      if (!reply.sse.isConnected) return finish('client gone')

      const closed = new Promise<void>((resolve) => reply.raw.once('close', resolve))
      let stalled = 0
      heartbeat = setInterval(() => {
        if (reply.raw.writableNeedDrain) {
          if (++stalled >= STALLED_HEARTBEATS) {
            request.log.info('event stream reader stalled; cutting it off')
            reply.raw.destroy()
          }
          return
        }
        stalled = 0
        reply.raw.write(': heartbeat\n\n')
        pump?.wake()
      }, heartbeatMs)
      heartbeat.unref()
      reply.sse.onClose(() => finish('client gone'))

      /** The caller may still read: its credential and its membership hold (401/403/404 end it). */
      async function callerStillAllowed(): Promise<boolean> {
        try {
          await app.reauthenticate(request)
          await app.resolveTenant(request, reply)
          return true
        } catch (err) {
          if (err instanceof Problem && err.statusCode < 500) return false
          throw err
        }
      }

      pump = createFeedPump({
        after,
        pageSize: PAGE_SIZE,
        async readPage(from) {
          if (!open) return null
          if (!(await callerStillAllowed())) {
            finish('credential ended')
            return null
          }
          const page = await listEvents(
            app.database,
            {
              tenantId,
              userId: request.auth?.userId ?? null,
              permissions: request.tenant!.permissions,
            },
            { after: String(from), limit: PAGE_SIZE, ...(type ? { type } : {}) },
          )
          return open ? page.data : null
        },
        async send(event: Event) {
          if (!open) return false
          try {
            await Promise.race([
              reply.sse.send({ id: String(event.sequence), event: event.type, data: event }),
              closed,
            ])
          } catch {
            return false
          }
          return open
        },
        onError(err) {
          request.log.warn({ err }, 'event stream read failed; retrying at the next wake')
        },
      })

      reply.sse.keepAlive()
      // The head goes out now (writeHead alone waits for the first body bytes),
      // so the client knows the stream is open before any event or heartbeat.
      reply.sse.sendHeaders()
      reply.raw.flushHeaders()
      pump.wake()
    },
  )
}

export default eventStreamRoute
