// Messages of a ticket: reading them (internal notes only for
// messages:internal) and posting one, which in the same transaction moves the
// ticket's status (status-rules.ts), stamps lastMessageAt and queues what the
// message causes: an AI reply for a customer's message when the tenant wants
// one, an email to the requester for an agent's public reply.
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx, Tx } from '../../db/client.ts'
import { type AuthorType, messages, type TicketStatus, tickets } from '../../db/schema/helpdesk.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { rowsOf } from '../../db/scoped.ts'
import { cursorTime, isoTime, messageStamp } from '../../db/sql-fragments.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { Forbidden, NotFound } from '../../lib/problems.ts'
import type { Caller } from './caller.ts'
import type { MessageView } from './schemas.ts'
import { assertAcceptsMessages, statusAfterMessage } from './status-rules.ts'
import { type TicketRow, ticketColumnsFor, visibleTickets } from './ticket-sql.ts'

export const messageColumns = sql`${messages.id} as "id", ${messages.ticketId} as "ticketId",
  ${messages.authorId} as "authorId", ${messages.authorType} as "authorType",
  ${messages.body} as "body", ${messages.internal} as "internal",
  coalesce(${messages.sources}, '[]'::jsonb) as "sources", ${isoTime(messages.createdAt)} as "createdAt"`

type NewMessage = {
  /** chosen by the caller when it must be known before the insert returns */
  id?: string
  tenantId: string
  ticketId: string
  authorId: string | null
  authorType: AuthorType
  body: string
  internal: boolean
}

export async function insertMessage(tx: DbOrTx, m: NewMessage): Promise<MessageView> {
  const [row] = await rowsOf<MessageView>(
    tx,
    sql`insert into ${messages} (id, tenant_id, ticket_id, author_id, author_type, body, internal)
        values (${m.id ?? uuidv7()}, ${m.tenantId}, ${m.ticketId}, ${m.authorId}, ${m.authorType}, ${m.body}, ${m.internal})
        returning ${messageColumns}`,
  )
  if (!row) throw new Error('message insert returned no row')
  return row
}

/** History in the thread: a status change is public, other changes are internal notes. */
export function insertSystemMessage(
  tx: DbOrTx,
  caller: Caller,
  ticketId: string,
  body: string,
  internal: boolean,
) {
  return insertMessage(tx, {
    tenantId: caller.tenantId,
    ticketId,
    authorId: caller.userId,
    authorType: 'system',
    body,
    internal,
  })
}

/** The ticket as the caller may see it, locked for a change when `lock`. */
export async function findTicket(
  tx: DbOrTx,
  caller: Caller,
  ticketId: string,
  lock = false,
): Promise<(TicketRow & { aiReplyMode: string | null }) | null> {
  const aiMode = sql`(select ${tenants.settings} ->> 'aiReplyMode' from ${tenants} where ${tenants.id} = ${caller.tenantId})`
  const [row] = await rowsOf<TicketRow & { aiReplyMode: string | null }>(
    tx,
    sql`select ${ticketColumnsFor(caller)}, ${aiMode} as "aiReplyMode" from ${tickets}
        where ${visibleTickets(caller)} and ${tickets.id} = ${ticketId}
        ${lock ? sql`for update of ${tickets}` : sql``}`,
  )
  return row ?? null
}

export async function listMessages(
  tx: DbOrTx,
  caller: Caller,
  ticketId: string,
  page: { limit: number; cursor?: string },
) {
  if (!(await findTicket(tx, caller, ticketId))) throw new NotFound('ticket')
  const key = decodeCursor(page.cursor, TimeIdCursor)
  const filters: SQL[] = [
    sql`${messages.tenantId} = ${caller.tenantId}`,
    sql`${messages.ticketId} = ${ticketId}`,
  ]
  if (!caller.seesInternal) filters.push(sql`not ${messages.internal}`)
  if (key) {
    filters.push(
      sql`(${messages.createdAt}, ${messages.id}) > (${key[0]}::timestamptz, ${key[1]}::uuid)`,
    )
  }
  const rows = await rowsOf<MessageView & { cursorAt: string }>(
    tx,
    sql`select ${messageColumns}, ${cursorTime(messages.createdAt)} as "cursorAt" from ${messages}
        where ${sql.join(filters, sql` and `)}
        order by ${messages.createdAt}, ${messages.id} limit ${page.limit + 1}`,
  )
  return toPage(rows, page.limit, (r) => [r.cursorAt, r.id])
}

/** Jobs a new message causes; written in its transaction, dispatched after commit. */
export async function queueMessageJobs(
  tx: Tx,
  caller: Caller,
  ticket: { id: string; aiReplyMode: string | null },
  message: Pick<MessageView, 'id' | 'authorType' | 'internal'>,
): Promise<QueuedJob[]> {
  const jobs: QueuedJob[] = []
  const tenantId = caller.tenantId
  if (message.internal) return jobs
  if (message.authorType === 'customer' && ['draft', 'auto'].includes(ticket.aiReplyMode ?? '')) {
    jobs.push(
      await insertJob(tx, {
        tenantId,
        queue: 'ai-reply',
        payload: { ticketId: ticket.id, triggerMessageId: message.id },
      }),
    )
  }
  if (message.authorType === 'agent') {
    jobs.push(
      await insertJob(tx, {
        tenantId,
        queue: 'email',
        payload: { template: 'ticket-reply', messageId: message.id },
      }),
    )
  }
  return jobs
}

export async function postMessage(
  tx: Tx,
  caller: Caller,
  ticketId: string,
  input: { body: string; internal?: boolean },
) {
  const internal = input.internal ?? false
  if (internal && !caller.seesInternal) {
    throw new Forbidden('forbidden', 'Internal notes need the messages:internal permission.')
  }
  const ticket = await findTicket(tx, caller, ticketId, true)
  if (!ticket) throw new NotFound('ticket')
  assertAcceptsMessages(ticket.status)
  const next = statusAfterMessage(ticket.status, { authorType: caller.authorType, internal })
  // The message, the ticket's stamp and the jobs do not depend on each other's
  // results (the id is chosen here), so they go out together: postgres.js
  // pipelines them on the transaction's connection, one round trip for three.
  const id = uuidv7()
  const [message, , jobs] = await Promise.all([
    insertMessage(tx, {
      id,
      tenantId: caller.tenantId,
      ticketId,
      authorId: caller.userId,
      authorType: caller.authorType,
      body: input.body,
      internal,
    }),
    touchTicket(tx, caller.tenantId, ticketId, { body: input.body, internal, status: next }),
    queueMessageJobs(tx, caller, ticket, { id, authorType: caller.authorType, internal }),
  ])
  if (next !== ticket.status) {
    await insertSystemMessage(
      tx,
      caller,
      ticketId,
      `Status changed from ${ticket.status} to ${next}`,
      false,
    )
  }
  return { message, jobs }
}

/** One UPDATE, one new row version per message (messageStamp()). */
async function touchTicket(
  tx: DbOrTx,
  tenantId: string,
  ticketId: string,
  message: { body: string; internal: boolean; status: TicketStatus },
) {
  await tx.execute(
    sql`update ${tickets} set ${messageStamp(message)}
        where ${tickets.tenantId} = ${tenantId} and ${tickets.id} = ${ticketId}`,
  )
}
