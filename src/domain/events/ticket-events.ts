// The events of a ticket (ticket.created, ticket.updated, ticket.merged,
// ticket.deleted): the ticket as an agent's GET shows it and, for its
// customer, as the customer's GET shows it (ticket-views.ts), both read by the
// event's INSERT from the row the change just wrote. A ticket.updated carries
// `changes: {field: [old, new]}`; its customer reads only the public fields'
// changes (subject, status), and none of it when only private fields changed
// (priority, assignee, tags: the event is then not for customers).
import { sql } from 'drizzle-orm'
import type { EventType } from '../../db/schema/events.ts'
import { tickets } from '../../db/schema/helpdesk.ts'
import { ticketJsonViews } from '../tickets/ticket-views.ts'
import type { NewEvent } from './record.ts'

/** The ticket fields a customer sees change (CustomerTicket). */
const PUBLIC_FIELDS = new Set(['subject', 'status'])

export type TicketChanges = Record<string, [unknown, unknown]>

export function ticketEvent(
  tenantId: string,
  type: Extract<EventType, `ticket.${string}`>,
  ticketId: string,
  extra: { changes?: TicketChanges; mergedIds?: string[] } = {},
): NewEvent {
  const views = ticketJsonViews(tenantId, ticketId)
  const publicChanges = extra.changes
    ? Object.fromEntries(
        Object.entries(extra.changes).filter(([field]) => PUBLIC_FIELDS.has(field)),
      )
    : undefined
  const more = (changes: TicketChanges | undefined) =>
    JSON.stringify({
      ...(changes ? { changes } : {}),
      ...(extra.mergedIds ? { mergedIds: extra.mergedIds } : {}),
    })
  return {
    tenantId,
    type,
    data: sql`jsonb_build_object('ticket', ${views.agent}) || ${more(extra.changes)}::jsonb`,
    customerData: sql`jsonb_build_object('ticket', ${views.customer}) || ${more(publicChanges)}::jsonb`,
    ticketId,
    contactId: sql`(select ${tickets.requesterId} from ${tickets}
      where ${tickets.tenantId} = ${tenantId} and ${tickets.id} = ${ticketId})`,
    internal: publicChanges !== undefined && Object.keys(publicChanges).length === 0,
  }
}
