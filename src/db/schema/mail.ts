// Every email Message-ID Deskpilot sent or received for a tenant, with the
// ticket and message it belongs to: inbound mail is deduplicated by it and
// threaded through it, so threading never guesses. An ignored inbound mail
// (auto-reply, bounce, loop) is recorded too, with why.
import { boolean, foreignKey, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'
import { createdAt, primaryId } from './columns.ts'
import { tickets } from './helpdesk.ts'
import { tenantRef } from './tenants.ts'

export const emailDirections = ['in', 'out'] as const
export const ignoredMail = ['auto_reply', 'bounce', 'loop'] as const
export type IgnoredMail = (typeof ignoredMail)[number]

export const emailMessages = pgTable(
  'email_messages',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    /** the Message-ID, without its angle brackets, as sent or received */
    emailId: text('email_id').notNull(),
    direction: text('direction').$type<(typeof emailDirections)[number]>().notNull(),
    ticketId: uuid('ticket_id'),
    /** the stored message (null for an ignored mail or a ticket's root id) */
    messageId: uuid('message_id'),
    /** inbound: did this mail open its ticket */
    created: boolean('created').notNull().default(false),
    ignored: text('ignored').$type<IgnoredMail>(),
    receivedAt: timestamp('received_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    unique('email_messages_tenant_email_id_key').on(t.tenantId, t.emailId),
    foreignKey({
      name: 'email_messages_ticket_fk',
      columns: [t.tenantId, t.ticketId],
      foreignColumns: [tickets.tenantId, tickets.id],
    }).onDelete('cascade'),
  ],
)
