// /v1/events: the tenant's event feed, oldest first, for any member or key of
// the tenant, each seeing what its rights allow (domain/events/feed.ts);
// events:read is the permission for the whole feed (integrations). The same
// feed, live, is /v1/events/stream (stream-route.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config.ts'
import { listEvents } from '../../domain/events/feed.ts'
import { Event, EventPage, ListEventsQuery } from '../../domain/events/schemas.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import eventStreamRoute from './stream-route.ts'

const eventRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.addSchema(Event)
  await app.register(eventStreamRoute, { config })

  app.get(
    '/events',
    {
      config: { access: 'tenant' },
      schema: {
        operationId: 'listEvents',
        tags: ['events'],
        summary: "The tenant's events after a point, oldest first",
        description:
          'Any caller of the tenant, for what it may see: events:read (or tickets:read_all) ' +
          'shows every ticket and message event, tickets:read alone only the public events of ' +
          "the caller's own tickets, in the customer's view; an internal note's event needs " +
          'messages:internal; contact, article and job events need contacts:read, kb:read or ' +
          'a job reader permission (or events:read). `after` is a nextCursor or a sequence; ' +
          'nextCursor is never null: at the end it is where to poll from. Kept ' +
          'EVENT_RETENTION_DAYS (30) days.',
        querystring: ListEventsQuery,
        response: {
          200: EventPage,
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) =>
      listEvents(
        app.database,
        {
          tenantId: request.tenant!.id,
          userId: request.auth?.userId ?? null,
          permissions: request.tenant!.permissions,
        },
        { ...request.query, limit: request.query.limit ?? 20 },
      ),
  )
}

export default eventRoutes
