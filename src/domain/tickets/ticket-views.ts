// SQL pieces every ticket query shares: the select list (camelCase aliases
// and RFC 3339 times rendered by PostgreSQL, so rows go to the serializer as
// they are, with no mapping), who may see which ticket, and the ETag.
//
// Two views of a ticket: agents (tickets:read_all) see all of it; a customer
// sees what schemas.ts's CustomerTicket holds, and its version and updatedAt
// are the public ones (public_version, public_updated_at: drizzle/0012), which
// only a public message, the subject or the status moves. So neither a
// customer's ETag nor its updatedAt nor its list's order gives away an
// internal note, a tag, a priority or an assignment.
import { type SQL, sql } from 'drizzle-orm'
import { contacts } from '../../db/schema/contacts.ts'
import { tickets } from '../../db/schema/helpdesk.ts'
import { isoTime } from '../../db/sql-fragments.ts'
import { contactOfUser } from '../contacts/requesters.ts'
import type { Caller } from './caller.ts'

/** The requester as tickets show it: {id, email, name} of its contact. */
const requester = sql`(select json_build_object('id', ${contacts.id}, 'email', ${contacts.email}, 'name', ${contacts.name})
  from ${contacts} where ${contacts.tenantId} = ${tickets.tenantId} and ${contacts.id} = ${tickets.requesterId})`

const commonColumns = sql`${tickets.id} as "id", ${tickets.number} as "number",
  ${tickets.subject} as "subject", ${tickets.status} as "status",
  ${tickets.priority} as "priority", ${tickets.requesterId} as "requesterId", ${requester} as "requester",
  ${tickets.assigneeId} as "assigneeId", ${tickets.tags} as "tags",
  ${tickets.mergedIntoId} as "mergedIntoId", ${tickets.followUpOfId} as "followUpOfId",
  ${isoTime(tickets.createdAt)} as "createdAt", ${isoTime(tickets.lastMessageAt)} as "lastMessageAt"`

/** The agents' view: every change moves version and updatedAt; the AI's findings are theirs only. */
export const ticketColumns = sql`${commonColumns}, ${tickets.ai} as "ai",
  ${isoTime(tickets.updatedAt)} as "updatedAt", ${tickets.version} as "version"`

const customerColumns = sql`${commonColumns},
  ${isoTime(tickets.publicUpdatedAt)} as "updatedAt", ${tickets.publicVersion} as "version"`

/**
 * A ticket as JSON in both views, for its events (domain/events/record.ts):
 * `agent` as GET shows it to an agent, `customer` as it shows it to its
 * customer (no tags, priority or assignee; the public updatedAt), neither with
 * the version (the ETag's, not a field).
 */
export function ticketJsonViews(tenantId: string, ticketId: string): { agent: SQL; customer: SQL } {
  const of = (columns: SQL, hidden: string) =>
    sql`(select to_jsonb(t) - 'version'${sql.raw(hidden)} from (select ${columns} from ${tickets}
        where ${tickets.tenantId} = ${tenantId} and ${tickets.id} = ${ticketId}) t)`
  return {
    agent: of(ticketColumns, ''),
    customer: of(customerColumns, ` - 'priority' - 'assigneeId' - 'tags'`),
  }
}

/** Does this caller get the customer's view of a ticket? */
export function seesCustomerView(caller: Caller): boolean {
  return !caller.seesAll
}

/** The select list for this caller's view (the row keeps every field; the schema drops them). */
export function ticketColumnsFor(caller: Caller): SQL {
  return seesCustomerView(caller) ? customerColumns : ticketColumns
}

/** The column behind this caller's updatedAt, for its -updatedAt sort. */
export function updatedAtColumnFor(caller: Caller) {
  return seesCustomerView(caller) ? tickets.publicUpdatedAt : tickets.updatedAt
}

/**
 * The tickets a caller may see: the tenant's live ones, and for a caller
 * without tickets:read_all only those its contact requested (an API key
 * without it has no user, a member without a contact has requested nothing:
 * both see none).
 */
export function visibleTickets(caller: Caller): SQL {
  const own = caller.seesAll
    ? sql``
    : sql` and ${tickets.requesterId} = ${contactOfUser(caller.tenantId, caller.userId)}`
  return sql`${tickets.tenantId} = ${caller.tenantId} and ${tickets.deletedAt} is null${own}`
}

/**
 * The ETag of the caller's view: W/"<version>" for agents, W/"c<version>" (the
 * public version) for a customer, so the two representations never share a tag.
 */
export function etagOf(caller: Caller, version: number): string {
  return seesCustomerView(caller) ? `W/"c${version}"` : `W/"${version}"`
}

/** Does an If-Match header name this ETag? (`*` matches any; weak comparison) */
export function ifMatchAccepts(header: string, etag: string): boolean {
  const opaque = etag.replace(/^W\//, '')
  return header.split(',').some((tag) => {
    const t = tag.trim()
    return t === '*' || t.replace(/^W\//, '') === opaque
  })
}
