// Webhooks: a tenant's endpoints and the log of deliveries to them. A delivery
// row (and the job that makes its first attempt, whose id is the delivery's)
// is written by the statement that writes the event (domain/events/record.ts),
// one per event and active endpoint whose filter takes it, so an event that was
// committed is delivered and one that was not never leaves. Every attempt is
// one job; the delivery keeps each attempt's outcome in `attempts`.
// Row-level security: drizzle/0017_webhooks.sql (tenant_isolation, and the
// event retention sweep's path, which deletes old deliveries with old events).
import { sql } from 'drizzle-orm'
import { bigint, boolean, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { createdAt, primaryId, updatedAt } from './columns.ts'
import { tenantRef } from './tenants.ts'

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    url: text('url').notNull(),
    description: text('description'),
    /** event types, or ["*"] for all */
    events: jsonb('events').$type<string[]>().notNull().default(['*']),
    active: boolean('active').notNull().default(true),
    /** the signing secret, sealed (lib/secret-box.ts) */
    secret: text('secret').notNull(),
    /** the secret before the last rotation, still signed with until previous_secret_expires_at */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    /** since when every attempt has failed (null after a success); 3 days of it disable the endpoint */
    failingSince: timestamp('failing_since', { withTimezone: true }),
    /** why the system turned it off (null when active, or turned off by a member) */
    disabledReason: text('disabled_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('webhook_endpoints_tenant_created_idx').on(t.tenantId, t.createdAt),
    // The fan-out in every event's statement: the tenant's active endpoints.
    index('webhook_endpoints_tenant_active_idx').on(t.tenantId).where(sql`${t.active}`),
  ],
)

export const deliveryStates = ['pending', 'succeeded', 'failed', 'cancelled'] as const
export type DeliveryState = (typeof deliveryStates)[number]

/** One attempt, as the deliveries log shows it. */
export type DeliveryAttempt = {
  at: string
  statusCode?: number
  error?: string
  latencyMs: number
  responseExcerpt: string
}

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** the event's id: the `webhook-id` of every attempt */
    eventId: uuid('event_id').notNull(),
    /** the event's sequence (null for webhook.test); the relay reads new deliveries by it */
    eventSequence: bigint('event_sequence', { mode: 'number' }),
    type: text('type').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    /** the body's `data`, as the event had it (deliveries outlive nothing they need) */
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    state: text('state').$type<DeliveryState>().notNull().default('pending'),
    attempts: jsonb('attempts').$type<DeliveryAttempt[]>().notNull().default([]),
    firstAttemptAt: timestamp('first_attempt_at', { withTimezone: true }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('webhook_deliveries_endpoint_created_idx').on(t.tenantId, t.endpointId, t.createdAt),
    // The relay: a tenant's deliveries not yet attempted, in event order.
    index('webhook_deliveries_unattempted_idx')
      .on(t.tenantId, t.eventSequence)
      .where(sql`${t.firstAttemptAt} is null`),
    // The retention sweep, across tenants, oldest first.
    index('webhook_deliveries_created_idx').on(t.createdAt),
  ],
)
