// The tenant's audit log, newest first: filtered by actor (a user or an API
// key), action and a time range, with keyset cursor pagination.
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle } from '../../db/client.ts'
import { auditEvents } from '../../db/schema/audit.ts'
import { withScope } from '../../db/scoped.ts'
import { cursorTime, isoTime } from '../../db/sql-fragments.ts'
import { type CursorKey, decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import type { AuditEvent } from './schemas.ts'

export type AuditFilter = {
  actorId?: string
  action?: string
  from?: string
  to?: string
  limit: number
  cursor?: string
}

export async function listAuditEvents(
  database: DatabaseHandle,
  tenantId: string,
  q: AuditFilter,
): Promise<{ data: Static<typeof AuditEvent>[]; nextCursor: string | null }> {
  const after = decodeCursor(q.cursor, TimeIdCursor)
  const rows = await withScope(database, { tenantId }, (tx) =>
    tx
      .select({
        id: auditEvents.id,
        action: auditEvents.action,
        actorUserId: auditEvents.actorUserId,
        actorApiKeyId: auditEvents.actorApiKeyId,
        targetType: auditEvents.targetType,
        targetId: auditEvents.targetId,
        ip: auditEvents.ip,
        userAgent: auditEvents.userAgent,
        data: auditEvents.data,
        createdAt: isoTime(auditEvents.createdAt),
        cursorAt: cursorTime(auditEvents.createdAt),
      })
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
  const page = toPage(rows, q.limit, (r): CursorKey => [r.cursorAt, r.id])
  return {
    data: page.data.map(({ cursorAt: _, ...event }) => event),
    nextCursor: page.nextCursor,
  }
}
