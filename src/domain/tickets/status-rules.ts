// The ticket status machine, one table for both ways a status changes: an
// agent setting it (PATCH) and a message arriving. The README's "Tickets"
// section documents the same table; change both together.
import type { TicketStatus } from '../../db/schema/helpdesk.ts'
import { Conflict } from '../../lib/problems.ts'

/**
 * Where an agent may move a ticket by hand. `new` is only ever the first
 * status; `closed` is reached from `solved` only and is final (a follow-up is
 * a new ticket), so the history of a closed ticket cannot change.
 */
const MANUAL: Record<TicketStatus, readonly TicketStatus[]> = {
  new: ['open', 'pending', 'on_hold', 'solved'],
  open: ['pending', 'on_hold', 'solved'],
  pending: ['open', 'on_hold', 'solved'],
  on_hold: ['open', 'pending', 'solved'],
  solved: ['open', 'pending', 'on_hold', 'closed'],
  closed: [],
}

export function assertManualTransition(from: TicketStatus, to: TicketStatus): void {
  if (from === to) return
  if (!MANUAL[from].includes(to)) {
    throw new Conflict(
      `A ticket cannot go from ${from} to ${to}.`,
      from === 'closed' ? 'ticket_closed' : 'invalid_status_transition',
    )
  }
}

/**
 * The status after a message: a customer's reply reopens a ticket that waited
 * on them (`pending`) or was `solved`; an agent's public reply to a `new` or
 * `open` ticket means it now waits on the customer. Internal notes, and
 * replies in any other status, leave it as it is.
 */
export function statusAfterMessage(
  current: TicketStatus,
  message: { authorType: 'customer' | 'agent' | 'ai'; internal: boolean },
): TicketStatus {
  if (message.internal) return current
  if (message.authorType === 'customer' && (current === 'pending' || current === 'solved')) {
    return 'open'
  }
  if (message.authorType === 'agent' && (current === 'new' || current === 'open')) {
    return 'pending'
  }
  return current
}

/** The thread's public history line for a status change, by hand or by a message. */
export function statusChangeNote(from: TicketStatus, to: TicketStatus): string {
  return `Status changed from ${from} to ${to}`
}

/** No message may be added to a closed ticket. */
export function assertAcceptsMessages(status: TicketStatus): void {
  if (status === 'closed') {
    throw new Conflict('This ticket is closed; open a new one instead.', 'ticket_closed')
  }
}
