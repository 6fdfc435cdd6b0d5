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
import { bare } from '../../db/sql-fragments.ts'

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
 * Two CTEs, `event_counter` and `event_row`, to put after WITH (or after the
 * cause's own CTEs): the tenant's next sequence and the event's INSERT. With
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
      returning 1)`
}

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
