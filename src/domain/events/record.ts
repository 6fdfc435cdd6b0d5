// Writes an event row inside the caller's transaction, the second outbox
// (ARCHITECTURE.md): an event exists exactly when the change that caused it was
// committed. Its sequence comes from the tenant's counter row, incremented by
// the same statement: the row lock orders the tenant's concurrent event writers
// until they commit, and a rolled-back change gives its number back, so the
// committed sequences of a tenant have no gaps (the pattern of ticket numbers).
// One INSERT does it, on its own (recordEvent) or as CTEs of a statement that
// writes the event beside its cause (eventCtes), so the hot path pays no extra
// round trip where the cause is one statement.
//
// Lock order, so writers never deadlock: the rows a change locks (tickets,
// contacts, jobs) first, then the tenant's event counter, then its ticket
// counter (insertTicket takes the event counter ahead of its number with
// lockEventCounter). Mail in looks its thread up before it makes a contact.
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx } from '../../db/client.ts'
import { type EventType, eventCounters, events } from '../../db/schema/events.ts'
import { jobs } from '../../db/schema/jobs.ts'
import { webhookDeliveries, webhookEndpoints } from '../../db/schema/webhooks.ts'
import { bare } from '../../db/sql-fragments.ts'
import { queues } from '../../jobs/queues.ts'

const WEBHOOK_QUEUE = 'webhook'

/** A jsonb value: a JavaScript object (sent as JSON) or a SQL expression. */
export type JsonValue = Record<string, unknown> | SQL

export type NewEvent = {
  tenantId: string
  type: EventType
  /** the resource as GET shows it to an agent, under its name ({ticket}, {message}, ...) */
  data: JsonValue
  /** what a customer reads instead, where its view differs (ticket events) */
  customerData?: JsonValue | null
  /** the ticket of a ticket.* or message.* event */
  ticketId?: string | SQL | null
  /** the ticket's requester, or the contact of a contact.* event */
  contactId?: string | SQL | null
  /** not for customers (and, for message.created, only for messages:internal) */
  internal?: boolean | SQL
}

const columns = sql.join(
  [
    events.id,
    events.tenantId,
    events.sequence,
    events.type,
    events.data,
    events.customerData,
    events.ticketId,
    events.contactId,
    events.internal,
  ].map(bare),
  sql`, `,
)

function jsonb(value: JsonValue | null | undefined): SQL {
  if (value == null) return sql`null::jsonb`
  if (isSql(value)) return sql`(${value})::jsonb`
  return sql`${JSON.stringify(value)}::jsonb`
}

function isSql(value: unknown): value is SQL {
  return typeof value === 'object' && value !== null && 'queryChunks' in value
}

function uuidOrNull(value: string | SQL | null | undefined): SQL {
  if (value == null) return sql`null::uuid`
  return isSql(value) ? sql`(${value})::uuid` : sql`${value}::uuid`
}

/**
 * The CTEs `event_counter`, `event_row`, `event_deliveries` and `event_jobs`,
 * to put after WITH (or after the cause's own CTEs): the tenant's next
 * sequence, the event's INSERT, and its webhook deliveries with their jobs. With
 * `from` (a CTE's name, of at most one row) the event is written only when that
 * CTE wrote its row, the counter moving only then, and data's SQL may name
 * that CTE's columns.
 */
export function eventCtes(event: NewEvent, from?: SQL): SQL {
  const counterTenant = bare(eventCounters.tenantId)
  const last = bare(eventCounters.lastSequence)
  return sql`event_counter as (
      insert into ${eventCounters} (${counterTenant}, ${last})
      select ${event.tenantId}::uuid, 1${from ? sql` from ${from} limit 1` : sql``}
      on conflict (${counterTenant}) do update set ${last} = ${eventCounters.lastSequence} + 1
      returning ${last} as last_sequence),
    event_row as (
      insert into ${events} (${columns})
      select ${uuidv7()}::uuid, ${event.tenantId}::uuid, event_counter.last_sequence, ${event.type}::text,
             ${jsonb(event.data)}, ${jsonb(event.customerData)}, ${uuidOrNull(event.ticketId)},
             ${uuidOrNull(event.contactId)}, (${event.internal ?? false})::boolean
      from event_counter${from ? sql`, ${from}` : sql``}
      returning ${returningEvent}),
    ${webhookFanOut}`
}

const returningEvent = sql.join(
  [events.id, events.tenantId, events.sequence, events.type, events.data, events.occurredAt].map(
    bare,
  ),
  sql`, `,
)

// Two more CTEs: a delivery, and the job of its first attempt (the same id),
// for each of the tenant's active webhook endpoints whose filter takes the
// event; none, at the cost of one index probe, when the tenant has none.
const w = webhookEndpoints
const d = webhookDeliveries
const deliveryColumns = sql.join(
  [d.id, d.tenantId, d.endpointId, d.eventId, d.eventSequence, d.type, d.occurredAt, d.data].map(
    bare,
  ),
  sql`, `,
)
const jobColumns = sql.join(
  [jobs.id, jobs.tenantId, jobs.type, jobs.payload, jobs.maxAttempts].map(bare),
  sql`, `,
)
const webhookFanOut = sql`event_deliveries as (
      insert into ${d} (${deliveryColumns})
      select gen_random_uuid(), ${w.tenantId}, ${w.id}, event_row.id, event_row.sequence,
             event_row.type, event_row.occurred_at, event_row.data
      from event_row join ${w} on ${w.tenantId} = event_row.tenant_id
      where ${w.active} and (${w.events} @> '["*"]'::jsonb or ${w.events} @> jsonb_build_array(event_row.type))
      returning ${bare(d.id)} as id, ${bare(d.tenantId)} as tenant_id),
    event_jobs as (
      insert into ${jobs} (${jobColumns})
      select id, tenant_id, ${WEBHOOK_QUEUE}::text, jsonb_build_object('deliveryId', id),
             ${queues[WEBHOOK_QUEUE].maxAttempts}::int
      from event_deliveries
      returning 1)`

/** Writes one event in the caller's transaction. */
export async function recordEvent(tx: DbOrTx, event: NewEvent): Promise<void> {
  await tx.execute(sql`with ${eventCtes(event)} select 1`)
}

/**
 * Takes the tenant's event counter row lock now, without taking a number, for
 * a transaction that must hold it before another lock (insertTicket: before the
 * ticket counter, which a transaction holding the event counter may wait for).
 */
export async function lockEventCounter(tx: DbOrTx, tenantId: string): Promise<void> {
  const counterTenant = bare(eventCounters.tenantId)
  const last = bare(eventCounters.lastSequence)
  await tx.execute(
    sql`insert into ${eventCounters} (${counterTenant}, ${last}) values (${tenantId}, 0)
        on conflict (${counterTenant}) do update set ${last} = ${eventCounters.lastSequence}`,
  )
}
