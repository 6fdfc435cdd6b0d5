// Security and admin events. Tenant-scoped with row-level security; events that
// belong to no tenant (signup, a failed login) have tenant_id null and are seen
// only by a transaction with no tenant set.
import { index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, primaryId } from './columns.ts'
import { tenants } from './tenants.ts'

export const auditEvents = pgTable(
  'audit_events',
  {
    id: primaryId(),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    /** e.g. auth.login, auth.login_failed, auth.token_reused, member.role_changed */
    action: text('action').notNull(),
    actorUserId: uuid('actor_user_id'),
    actorApiKeyId: uuid('actor_api_key_id'),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_events_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('audit_events_tenant_action_idx').on(t.tenantId, t.action, t.createdAt),
    index('audit_events_tenant_actor_idx').on(t.tenantId, t.actorUserId, t.createdAt),
  ],
)
