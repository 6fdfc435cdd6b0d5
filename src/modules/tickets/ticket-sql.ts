// SQL pieces every ticket query shares: the select list (camelCase aliases
// and RFC 3339 times rendered by PostgreSQL, so rows go to the serializer as
// they are, with no mapping), who may see which ticket, and the ETag.
import { type SQL, sql } from 'drizzle-orm'
import { type TicketPriority, type TicketStatus, tickets } from '../../db/schema/helpdesk.ts'
import { isoTime } from '../../db/sql-fragments.ts'
import type { Caller } from './caller.ts'

export const ticketColumns = sql`${tickets.id} as "id", ${tickets.number} as "number",
  ${tickets.subject} as "subject", ${tickets.status} as "status",
  ${tickets.priority} as "priority", ${tickets.requesterId} as "requesterId",
  ${tickets.assigneeId} as "assigneeId", ${tickets.tags} as "tags",
  ${isoTime(tickets.createdAt)} as "createdAt", ${isoTime(tickets.updatedAt)} as "updatedAt",
  ${isoTime(tickets.lastMessageAt)} as "lastMessageAt", ${tickets.version} as "version"`

export type TicketRow = {
  id: string
  number: number
  subject: string
  status: TicketStatus
  priority: TicketPriority
  requesterId: string
  assigneeId: string | null
  tags: string[]
  createdAt: string
  updatedAt: string
  lastMessageAt: string
  version: number
}

/**
 * The tickets a caller may see: the tenant's live ones, and for a caller
 * without tickets:read_all only those it requested (an API key without it
 * has no user, and so sees none).
 */
export function visibleTickets(caller: Caller): SQL {
  const own = caller.seesAll ? sql`` : sql` and ${tickets.requesterId} = ${caller.userId}`
  return sql`${tickets.tenantId} = ${caller.tenantId} and ${tickets.deletedAt} is null${own}`
}

export function etagOf(version: number): string {
  return `W/"${version}"`
}

/** Does an If-Match header name this version? (`*` matches any; weak comparison) */
export function ifMatchAccepts(header: string, version: number): boolean {
  return header.split(',').some((tag) => {
    const t = tag.trim()
    return t === '*' || t.replace(/^W\//, '') === `"${version}"`
  })
}
