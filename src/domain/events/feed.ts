// The event feed (GET /v1/events): a tenant's events in sequence order after a
// point, each as its reader may see it. What a reader sees follows its rights,
// by category:
// - ticket.* and message.*: a reader with tickets:read_all or events:read sees
//   every ticket's; one with tickets:read only (a customer) the public events
//   of the tickets its contact requested, in the customer's view of a ticket
//   (customer_data: no tags, priority or assignee, only public changes); an
//   internal note's message.created needs messages:internal in any case;
// - contact.*: contacts:read or events:read;
// - kb_article.published: kb:read or events:read (the article is published);
// - job.failed: who may read jobs (ai:use, members:manage, tickets:read_all)
//   or events:read.
// Every filter is a column of the row (record.ts), so the feed never reads data
// to decide. The cursor is the last sequence returned; the feed never ends, so
// nextCursor is never null: past the last event it is where to poll from.
import { type SQL, sql } from 'drizzle-orm'
import { Type } from 'typebox'
import type { DatabaseHandle } from '../../db/client.ts'
import { type EventType, eventCounters, events } from '../../db/schema/events.ts'
import { readInScope } from '../../db/scoped.ts'
import { isoTime } from '../../db/sql-fragments.ts'
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import type { Permission } from '../../lib/permissions.ts'
import { contactOfUser } from '../contacts/requesters.ts'
import type { Event, ListEventsQuery } from './schemas.ts'

/** Who reads the feed: the tenant, the member (null for an API key) and its permissions. */
export type FeedReader = {
  tenantId: string
  userId: string | null
  permissions: ReadonlySet<Permission>
}

const SequenceCursor = Type.Tuple([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })])

/** `after` as a sequence: a plain number, or a cursor this feed wrote. */
export function afterSequence(after: string | undefined): number {
  if (after === undefined) return 0
  if (/^\d{1,15}$/.test(after)) return Number(after)
  const [sequence] = decodeCursor(after, SequenceCursor) as [number]
  return sequence
}

const e = events
const ticketTypes = sql`(${e.type} like 'ticket.%' or ${e.type} = 'message.created')`

/** Which events this reader sees, and whether it reads the customer's view. */
function visibility(reader: FeedReader): { where: SQL; customer: boolean } {
  const can = (p: Permission) => reader.permissions.has(p)
  const feed = can('events:read')
  const shown: SQL[] = []
  const noInternalNotes = can('messages:internal')
    ? sql``
    : sql` and not (${e.type} = 'message.created' and ${e.internal})`
  let customer = false
  if (feed || can('tickets:read_all')) {
    shown.push(sql`(${ticketTypes}${noInternalNotes})`)
  } else if (can('tickets:read') && reader.userId) {
    customer = true
    shown.push(
      sql`(${ticketTypes} and not ${e.internal} and ${e.contactId} = ${contactOfUser(reader.tenantId, reader.userId)})`,
    )
  }
  if (feed || can('contacts:read')) shown.push(sql`${e.type} like 'contact.%'`)
  if (feed || can('kb:read')) shown.push(sql`${e.type} = 'kb_article.published'`)
  if (feed || can('ai:use') || can('members:manage') || can('tickets:read_all')) {
    shown.push(sql`${e.type} = 'job.failed'`)
  }
  const where = shown.length > 0 ? sql`(${sql.join(shown, sql` or `)})` : sql`false`
  return { where, customer }
}

export async function listEvents(
  database: DatabaseHandle,
  reader: FeedReader,
  query: ListEventsQuery & { limit: number },
): Promise<{ data: Event[]; nextCursor: string }> {
  const after = afterSequence(query.after)
  const { where, customer } = visibility(reader)
  const filters: SQL[] = [
    sql`${e.tenantId} = ${reader.tenantId}`,
    sql`${e.sequence} > ${after}`,
    where,
  ]
  if (query.type) {
    const types = [...new Set(query.type.split(','))] as EventType[]
    filters.push(
      sql`${e.type} in (${sql.join(
        types.map((t) => sql`${t}`),
        sql`, `,
      )})`,
    )
  }
  const data = customer ? sql`coalesce(${e.customerData}, ${e.data})` : sql`${e.data}`
  const rows = await readInScope<Event>(
    database,
    { tenantId: reader.tenantId },
    sql`select ${e.id} as "id", ${e.type} as "type", ${e.sequence}::float8 as "sequence",
               ${isoTime(e.occurredAt)} as "occurredAt", ${data} as "data"
        from ${e} where ${sql.join(filters, sql` and `)}
        order by ${e.sequence} limit ${query.limit}`,
  )
  const last = rows[rows.length - 1]
  return { data: rows, nextCursor: encodeCursor([last ? last.sequence : after]) }
}

/**
 * The tenant's last committed sequence (0 before its first event): where a
 * reader that wants no past starts. A writer still in its transaction holds
 * the next number uncommitted, so reading after this misses nothing.
 */
export async function lastSequence(database: DatabaseHandle, tenantId: string): Promise<number> {
  const [row] = await readInScope<{ last: number }>(
    database,
    { tenantId },
    sql`select ${eventCounters.lastSequence}::float8 as "last" from ${eventCounters}
        where ${eventCounters.tenantId} = ${tenantId}`,
  )
  return row?.last ?? 0
}
