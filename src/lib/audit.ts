// Writes a security or admin event to the audit log, in the caller's
// transaction (so an event exists exactly when its change was committed). The
// transaction's tenant scope must match event.tenantId: row-level security
// checks it (null tenant → a transaction with no tenant set).
import type { DbOrTx } from '../db/client.ts'
import { auditEvents } from '../db/schema/audit.ts'

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

/** Who did it and from where, for an event caused by an api request. */
export function requestActor(request: {
  auth: { userId: string | null; apiKeyId: string | null } | null
  ip: string
  headers: Record<string, string | string[] | undefined>
}) {
  const agent = request.headers['user-agent']
  return {
    actorUserId: request.auth?.userId ?? null,
    actorApiKeyId: request.auth?.apiKeyId ?? null,
    ip: request.ip,
    userAgent: typeof agent === 'string' ? agent : null,
  }
}
