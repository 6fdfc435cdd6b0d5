// The tenant's audit log: security and admin events, newest first, filtered by
// actor, action and time, with cursor pagination.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm'
import { Type } from 'typebox'
import { auditEvents } from '../../db/schema/audit.ts'
import { withScope } from '../../db/scoped.ts'
import { cursorTime } from '../../db/sql-fragments.ts'
import { type CursorKey, decodeCursor, PageQuery, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { Page } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'

const AuditEvent = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    action: Type.String({ examples: ['member.role_changed'] }),
    actorUserId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    actorApiKeyId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    targetType: Type.Union([Type.String(), Type.Null()]),
    targetId: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'AuditEvent',
    examples: [
      {
        id: EXAMPLE_IDS.auditEvent,
        action: 'member.role_changed',
        actorUserId: EXAMPLE_IDS.user,
        actorApiKeyId: null,
        targetType: 'user',
        targetId: EXAMPLE_IDS.agent,
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
        data: { before: { roleId: EXAMPLE_IDS.role }, after: { roleId: EXAMPLE_IDS.role } },
        createdAt: EXAMPLE_TIMES.reply,
      },
    ],
  },
)

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
      const tenantId = request.tenant!.id
      const q = request.query
      const after = decodeCursor(q.cursor, TimeIdCursor)
      const rows = await withScope(app.database, { tenantId }, (tx) =>
        tx
          .select({ event: auditEvents, cursorAt: cursorTime(auditEvents.createdAt) })
          .from(auditEvents)
          .where(
            and(
              eq(auditEvents.tenantId, tenantId),
              q.actorId
                ? sql`(${auditEvents.actorUserId} = ${q.actorId} or ${auditEvents.actorApiKeyId} = ${q.actorId})`
                : undefined,
              q.action ? eq(auditEvents.action, q.action) : undefined,
              q.from ? gte(auditEvents.createdAt, new Date(q.from)) : undefined,
              q.to ? lt(auditEvents.createdAt, new Date(q.to)) : undefined,
              after
                ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)`
                : undefined,
            ),
          )
          .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
          .limit(q.limit + 1),
      )
      const page = toPage(rows, q.limit, (r): CursorKey => [r.cursorAt, r.event.id])
      return {
        data: page.data.map(({ event: r }) => ({
          id: r.id,
          action: r.action,
          actorUserId: r.actorUserId,
          actorApiKeyId: r.actorApiKeyId,
          targetType: r.targetType,
          targetId: r.targetId,
          ip: r.ip,
          userAgent: r.userAgent,
          data: r.data,
          createdAt: r.createdAt.toISOString(),
        })),
        nextCursor: page.nextCursor,
      }
    },
  )
}

export default auditRoutes
