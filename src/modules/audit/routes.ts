// The tenant's audit log: security and admin events, newest first, filtered by
// actor, action and time, with cursor pagination.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { listAuditEvents } from '../../domain/audit/audit-list.ts'
import { AuditEvent } from '../../domain/audit/schemas.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { Page } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(AuditEvent)

  app.get(
    '/audit-events',
    {
      config: { access: 'tenant', permission: 'audit:read' },
      schema: {
        operationId: 'listAuditEvents',
        tags: ['audit'],
        summary: 'Security and admin events of the tenant, newest first',
        description:
          'Needs audit:read. Logins, failed logins, token reuse, role, member, invitation and ' +
          'API key changes; filter by actor, action and a time range.',
        querystring: Type.Object(
          {
            actorId: Type.Optional(
              Type.String({ format: 'uuid', description: 'A user or API key id' }),
            ),
            action: Type.Optional(Type.String({ maxLength: 100, examples: ['auth.login'] })),
            from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Page(AuditEvent, { description: 'A page of audit events' }),
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) => {
      return listAuditEvents(app.database, request.tenant!.id, request.query)
    },
  )
}

export default auditRoutes
