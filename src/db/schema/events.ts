// The event log, the second outbox (ARCHITECTURE.md): a change writes its
// event row in its own transaction, so an event exists exactly when its change
// was committed. The feed (GET /v1/events) reads it by (tenant_id, sequence).
// sequence comes from the tenant's counter row, incremented in the writing
// transaction like ticket numbers (helpdesk.ts): its row lock orders
// concurrent writers and a rolled-back change gives its number back, so a
// tenant's committed sequences have no gaps. ticket_id, contact_id (the
// ticket's requester for ticket and message events, the contact itself for
// contact events) and internal are copies of what the feed filters on, so a
// reader's visibility is a WHERE clause and never a look into data.
// Row-level security: drizzle/0016_events.sql (tenant_isolation, and the
// retention sweep's narrow path app.event_sweeper).
import {
  bigint,
  boolean,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core'
import { primaryId } from './columns.ts'
import { tenantRef, tenants } from './tenants.ts'

export const eventTypes = [
  'ticket.created',
  'ticket.updated',
  'ticket.merged',
  'ticket.deleted',
  'message.created',
  'contact.created',
  'contact.updated',
  'kb_article.published',
  'job.failed',
] as const
export type EventType = (typeof eventTypes)[number]

/** The last event sequence handed out per tenant; its row lock serialises event writers. */
export const eventCounters = pgTable('event_counters', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  lastSequence: bigint('last_sequence', { mode: 'number' }).notNull().default(0),
})

export const events = pgTable(
  'events',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    type: text('type').$type<EventType>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    /**
     * What a customer reads instead of data, where its view differs: a ticket
     * event's {ticket} in the customer's view (and only the public changes)
     */
    customerData: jsonb('customer_data').$type<Record<string, unknown>>(),
    /** the ticket a ticket.* or message.* event is about */
    ticketId: uuid('ticket_id'),
    /** the requester of that ticket, or the contact of a contact.* event */
    contactId: uuid('contact_id'),
    /**
     * Not for customers: an internal note's message.created (which needs
     * messages:internal too), a ticket.updated that changed nothing they see
     */
    internal: boolean('internal').notNull().default(false),
  },
  (t) => [
    // The feed: a tenant's events in sequence order (and the uniqueness of it).
    unique('events_tenant_sequence_key').on(t.tenantId, t.sequence),
    // A customer's feed: the events of the tickets its contact requested.
    index('events_tenant_contact_sequence_idx').on(t.tenantId, t.contactId, t.sequence),
    // The retention sweep, across tenants, oldest first.
    index('events_occurred_at_idx').on(t.occurredAt),
  ],
)
