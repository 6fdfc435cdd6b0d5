// Attachments: files in storage (lib/storage), uploaded by a caller and then
// attached to one message. Until attached, an upload belongs to its uploader
// (principal, as idempotency keys name callers) and is swept after 24 hours.
import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  foreignKey,
  index,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { createdAt, primaryId } from './columns.ts'
import { messages } from './helpdesk.ts'
import { tenantRef } from './tenants.ts'

export const attachments = pgTable(
  'attachments',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    /** who uploaded it: `user:<id>` or `key:<id>`; null when it came by mail */
    principal: text('principal'),
    messageId: uuid('message_id'),
    filename: text('filename').notNull(),
    /** sniffed from the bytes where the type can be told (domain/files/upload.ts) */
    contentType: text('content_type').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    /** an inline image of an email (Content-ID), shown in the body rather than listed */
    inline: boolean('inline').notNull().default(false),
    createdAt: createdAt(),
    attachedAt: timestamp('attached_at', { withTimezone: true }),
  },
  (t) => [
    unique('attachments_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'attachments_message_fk',
      columns: [t.tenantId, t.messageId],
      foreignColumns: [messages.tenantId, messages.id],
    }).onDelete('cascade'),
    index('attachments_message_idx').on(t.tenantId, t.messageId),
    index('attachments_unattached_idx').on(t.createdAt).where(sql`message_id IS NULL`),
  ],
)
