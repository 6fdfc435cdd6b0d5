// Writes a security or admin event to the audit log, in the caller's
// transaction (so an event exists exactly when its change was committed). The
// transaction's tenant scope must match event.tenantId: row-level security
// checks it (null tenant → a transaction with no tenant set).
import { and, eq, sql } from 'drizzle-orm'
import type { DbOrTx, Tx } from '../../db/client.ts'
import { memberships } from '../../db/schema/access.ts'
import { auditEvents } from '../../db/schema/audit.ts'

export type AuditEvent = {
  tenantId: string | null
  action: string
  actorUserId?: string | null
  actorApiKeyId?: string | null
  targetType?: string
  targetId?: string
  ip?: string | null
  userAgent?: string | null
  data?: Record<string, unknown>
}

export async function recordAudit(tx: DbOrTx, event: AuditEvent): Promise<void> {
  await tx.insert(auditEvents).values({
    tenantId: event.tenantId,
    action: event.action,
    actorUserId: event.actorUserId ?? null,
    actorApiKeyId: event.actorApiKeyId ?? null,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    ip: event.ip ?? null,
    userAgent: event.userAgent?.slice(0, 512) ?? null,
    data: event.data ?? {},
  })
}

/** Who did it and from where. */
export type AuditActor = Pick<AuditEvent, 'actorUserId' | 'actorApiKeyId' | 'ip' | 'userAgent'>

/** Who did it and from where, for an event caused by an api request. */
export function requestActor(request: {
  auth: { userId: string | null; apiKeyId: string | null } | null
  ip: string
  headers: Record<string, string | string[] | undefined>
}): AuditActor {
  const agent = request.headers['user-agent']
  return {
    actorUserId: request.auth?.userId ?? null,
    actorApiKeyId: request.auth?.apiKeyId ?? null,
    ip: request.ip,
    userAgent: typeof agent === 'string' ? agent : null,
  }
}

/**
 * Writes an event into every tenant the user is an active member of (a login
 * shows in each tenant's audit log). Uses the own_memberships read path, then
 * scopes the transaction to each tenant in turn for the insert.
 */
export async function recordInUserTenants(
  tx: Tx,
  userId: string,
  event: Omit<AuditEvent, 'tenantId'>,
): Promise<void> {
  await tx.execute(sql`select set_config('app.user_id', ${userId}, true)`)
  const rows = await tx
    .select({ tenantId: memberships.tenantId })
    .from(memberships)
    .where(and(eq(memberships.userId, userId), eq(memberships.active, true)))
  for (const { tenantId } of rows) {
    await tx.execute(sql`select set_config('app.tenant_id', ${tenantId}, true)`)
    await recordAudit(tx, { ...event, tenantId })
  }
  await tx.execute(
    sql`select set_config('app.tenant_id', '', true), set_config('app.user_id', '', true)`,
  )
}
