// Tenants (organizations). Not tenant-scoped itself: resolution reads it by id or
// slug before any tenant is known, so it has no row-level security.
import { sql } from 'drizzle-orm'
import { jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, primaryId, updatedAt } from './columns.ts'

export const aiReplyModes = ['off', 'draft', 'auto'] as const
export const customerPortalModes = ['invite', 'open'] as const
export const aiTriageModes = ['off', 'suggest', 'apply'] as const

/** As stored: a key not set yet takes its default (domain/tenants/settings.ts). */
export type TenantSettings = {
  aiReplyMode?: (typeof aiReplyModes)[number]
  customerPortal?: (typeof customerPortalModes)[number]
  aiTriage?: (typeof aiTriageModes)[number]
}

export const tenants = pgTable(
  'tenants',
  {
    id: primaryId(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    settings: jsonb('settings').$type<TenantSettings>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('tenants_slug_key').on(sql`lower(${t.slug})`)],
)

/** The owning tenant of a row: deleting a tenant deletes its rows. */
export const tenantRef = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' })
