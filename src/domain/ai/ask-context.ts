// What the copilot grounds an answer in besides the knowledge base: a ticket
// the caller may see (tickets:read, and visibleTickets: another tenant's
// ticket, or a ticket a customer-side caller did not request, is the same 404) and its thread as the
// caller may read it: internal notes only for messages:internal, never system
// lines, newest messages kept within a size bound. The thread is customer
// text: the prompt fences it as untrusted data (jobs/ai/ask-prompt.ts).
import { sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { messages } from '../../db/schema/helpdesk.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import { isoTime } from '../../db/sql-fragments.ts'
import { NotFound } from '../../lib/problems.ts'
import type { Caller } from '../tickets/caller.ts'
import { findTicket } from '../tickets/messages.ts'

export type AskThreadMessage = {
  authorType: 'customer' | 'agent' | 'ai'
  internal: boolean
  body: string
  createdAt: string
}

export type AskTicket = {
  id: string
  number: number
  subject: string
  /** oldest first */
  thread: AskThreadMessage[]
}

const m = messages
const THREAD_MESSAGES = 30
const MESSAGE_CHARS = 2000
const THREAD_CHARS = 12_000

/** The ticket and its thread as this caller may see them; 404 when it may not. */
export async function readAskTicket(
  database: DatabaseHandle,
  caller: Caller,
  ticketId: string,
): Promise<AskTicket> {
  // The copilot reads no more of a ticket than GET /v1/tickets/{id} would show.
  if (!caller.can('tickets:read')) throw new NotFound('ticket')
  return withScope(database, { tenantId: caller.tenantId }, async (tx) => {
    const ticket = await findTicket(tx, caller, ticketId)
    if (!ticket) throw new NotFound('ticket')
    const newestFirst = await rowsOf<AskThreadMessage>(
      tx,
      sql`select ${m.authorType} as "authorType", ${m.internal} as internal,
            left(${m.body}, ${MESSAGE_CHARS}) as body, ${isoTime(m.createdAt)} as "createdAt"
          from ${m}
          where ${m.tenantId} = ${caller.tenantId} and ${m.ticketId} = ${ticketId}
            and ${m.authorType} <> 'system'
            ${caller.seesInternal ? sql`` : sql`and not ${m.internal}`}
          order by ${m.createdAt} desc, ${m.id} desc
          limit ${THREAD_MESSAGES}`,
    )
    const kept: AskThreadMessage[] = []
    let total = 0
    for (const message of newestFirst) {
      total += message.body.length
      if (kept.length > 0 && total > THREAD_CHARS) break
      kept.push(message)
    }
    return { id: ticket.id, number: ticket.number, subject: ticket.subject, thread: kept.reverse() }
  })
}

/**
 * What the knowledge base is searched with: the question, and with a ticket
 * its subject and latest public customer message (what the customer asks about).
 */
export function askSearchText(question: string, ticket: AskTicket | null): string {
  if (!ticket) return question
  const latest = ticket.thread.findLast((msg) => msg.authorType === 'customer' && !msg.internal)
  return [question, ticket.subject, latest?.body.slice(0, 1000) ?? ''].filter(Boolean).join('\n')
}
