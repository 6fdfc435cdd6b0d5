// The ticket list (GET /v1/tickets) as one SQL statement: filters, full-text
// search and a keyset over the chosen sort. Each sort and each filter has an
// index (see schema/helpdesk.ts); the ORDER BY spells out NULLS LAST to match
// them.
//
// Keysets stay correct while rows change: a cursor is the last row's sort key,
// so an inserted row lands in its place and never shifts the next page. With
// sort=createdAt every row is returned exactly once. With -updatedAt or
// -priority a row updated between pages moves before the cursor: it is never
// returned twice, and shows up again on a fresh first page.
import { type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import { Type } from 'typebox'
import type { DatabaseHandle } from '../../db/client.ts'
import { PRIORITY_RANK, tickets } from '../../db/schema/helpdesk.ts'
import { readInScope } from '../../db/scoped.ts'
import { cursorTime, searchQuery } from '../../db/sql-fragments.ts'
import {
  CursorId,
  type CursorKey,
  CursorRank,
  CursorTime,
  decodeCursor,
  toPage,
} from '../../lib/cursor.ts'
import { BadRequest } from '../../lib/problems.ts'
import { normaliseTags } from '../../lib/tags.ts'
import type { Caller } from './caller.ts'
import type { ListTicketsQuery, Sort, TicketRow } from './schemas.ts'
import {
  seesCustomerView,
  ticketColumnsFor,
  updatedAtColumnFor,
  visibleTickets,
} from './ticket-views.ts'

type Order = Sort | 'relevance'
type ListedRow = TicketRow & { rank?: number; cursorAt?: string }

/** `updated` is the caller's updatedAt column (a customer's is the public time). */
function orderBy(order: Order, updated: PgColumn): SQL {
  switch (order) {
    case '-updatedAt':
      return sql`${updated} desc nulls last, ${tickets.id} desc nulls last`
    case 'createdAt':
      return sql`${tickets.createdAt}, ${tickets.id}`
    case '-priority':
      return sql`${tickets.priorityRank} desc nulls last, ${tickets.id} desc nulls last`
    case 'relevance':
      return sql`"rank" desc, ${tickets.id} desc`
  }
}

/** The cursor's key for a row: the sort name, then the sort columns. */
function keyOf(order: Order, row: ListedRow): CursorKey {
  switch (order) {
    case '-updatedAt':
    case 'createdAt':
      return [order, row.cursorAt ?? '', row.id]
    case '-priority':
      return [order, PRIORITY_RANK[row.priority], row.id]
    case 'relevance':
      return [order, row.rank ?? 0, row.id]
  }
}

/** What a cursor of each order holds: its name, then its sort values, typed. */
const CURSOR: Record<Order, ReturnType<typeof Type.Tuple>> = {
  '-updatedAt': Type.Tuple([Type.Literal('-updatedAt'), CursorTime, CursorId]),
  createdAt: Type.Tuple([Type.Literal('createdAt'), CursorTime, CursorId]),
  '-priority': Type.Tuple([
    Type.Literal('-priority'),
    Type.Integer({
      minimum: Math.min(...Object.values(PRIORITY_RANK)),
      maximum: Math.max(...Object.values(PRIORITY_RANK)),
    }),
    CursorId,
  ]),
  relevance: Type.Tuple([Type.Literal('relevance'), CursorRank, CursorId]),
}

function after(order: Order, key: CursorKey, rank: SQL, updated: PgColumn): SQL {
  const [, value, id] = key
  switch (order) {
    case '-updatedAt':
      return sql`(${updated}, ${tickets.id}) < (${String(value)}::timestamptz, ${id}::uuid)`
    case 'createdAt':
      return sql`(${tickets.createdAt}, ${tickets.id}) > (${String(value)}::timestamptz, ${id}::uuid)`
    case '-priority':
      return sql`(${tickets.priorityRank}, ${tickets.id}) < (${Number(value)}::smallint, ${id}::uuid)`
    case 'relevance':
      return sql`(${rank}, ${tickets.id}) < (${Number(value)}::real, ${id}::uuid)`
  }
}

/**
 * A customer sees no tags, assignee or priority (ticket-views.ts), so it may not
 * filter or sort by them either: the answer would tell what it cannot see.
 */
function assertCustomerQuery(query: ListTicketsQuery) {
  const hidden: string[] = (['tag', 'assigneeId', 'priority'] as const).filter(
    (f) => query[f] !== undefined,
  )
  if (query.sort === '-priority') hidden.push('sort')
  if (hidden.length > 0) {
    throw new BadRequest(
      'filter_not_allowed',
      'Customers cannot filter or sort tickets by tag, assignee or priority.',
      hidden.map((f) => ({ path: `querystring/${f}`, message: 'is not available to customers' })),
    )
  }
}

/** One page of the tickets the caller may see: one statement, sent pipelined with its scope. */
export async function listTickets(
  database: DatabaseHandle,
  caller: Caller,
  query: ListTicketsQuery,
) {
  const { statement, keyOf } = buildListQuery(caller, query)
  const rows = await readInScope<ListedRow>(database, { tenantId: caller.tenantId }, statement)
  return toPage(rows, query.limit, keyOf)
}

/** The list's statement, and the cursor key of a row of its answer. */
export function buildListQuery(caller: Caller, query: ListTicketsQuery) {
  if (seesCustomerView(caller)) assertCustomerQuery(query)
  const order: Order = query.sort ?? (query.q ? 'relevance' : '-updatedAt')
  const updated = updatedAtColumnFor(caller)
  const filters: SQL[] = [visibleTickets(caller)]
  if (query.status?.length) {
    const statuses = [...new Set(query.status)]
    filters.push(
      sql`${tickets.status} in (${sql.join(
        statuses.map((s) => sql`${s}`),
        sql`, `,
      )})`,
    )
  }
  if (query.priority) filters.push(sql`${tickets.priority} = ${query.priority}`)
  if (query.assigneeId === 'none') filters.push(sql`${tickets.assigneeId} is null`)
  else if (query.assigneeId) filters.push(sql`${tickets.assigneeId} = ${query.assigneeId}`)
  if (query.requesterId) filters.push(sql`${tickets.requesterId} = ${query.requesterId}`)
  if (query.tag) {
    const [tag] = normaliseTags([query.tag])
    filters.push(sql`${tickets.tags} @> array[${tag}]::text[]`)
  }
  // Customers search the public vector only, so an internal note never matches.
  const vector = caller.seesInternal ? tickets.searchAll : tickets.searchPublic
  const tsquery = searchQuery(query.q ?? '')
  const rank = sql`ts_rank(${vector}, ${tsquery})`
  if (query.q) filters.push(sql`${vector} @@ ${tsquery}`)

  // A cursor of another sort order fails its order's schema: the same 400.
  const key = decodeCursor(query.cursor, CURSOR[order]) as CursorKey | null
  if (key) filters.push(after(order, key, rank, updated))
  const rankColumn = query.q ? sql`, ${rank} as "rank"` : sql``
  // The time sorts page by the microsecond time, not the millisecond one shown.
  const cursorColumn =
    order === '-updatedAt'
      ? sql`, ${cursorTime(updated)} as "cursorAt"`
      : order === 'createdAt'
        ? sql`, ${cursorTime(tickets.createdAt)} as "cursorAt"`
        : sql``
  const statement = sql`select ${ticketColumnsFor(caller)}${rankColumn}${cursorColumn} from ${tickets}
    where ${sql.join(filters, sql` and `)}
    order by ${orderBy(order, updated)} limit ${query.limit + 1}`
  return { statement, keyOf: (row: ListedRow) => keyOf(order, row) }
}
