// Messages of a ticket: reading them (internal notes only for
// messages:internal) and posting one, which in the same transaction moves the
// ticket's status (status-rules.ts), stamps the ticket (ticket-stamps.ts) and
// queues what the message causes: an AI reply for a customer's message when
// the tenant wants one, an email to the requester for an agent's public reply.
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle, DbOrTx, Tx } from '../../db/client.ts'
import { type AuthorType, messages, type TicketStatus, tickets } from '../../db/schema/helpdesk.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import { bare, cursorTime, isoTime } from '../../db/sql-fragments.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { Forbidden, NotFound } from '../../lib/problems.ts'
import { eventCtes, recordEvent } from '../events/record.ts'
import { ticketEvent } from '../events/ticket-events.ts'
import { attachmentsOfMessages, attachUploads } from '../files/attachments.ts'
import { type AiReplyMode, aiRepliesOn, tenantSetting } from '../tenants/settings.ts'
import type { Caller } from './caller.ts'
import { createOnce, type IdempotentRequest } from './idempotency.ts'
import { assertNotMerged } from './merged-tickets.ts'
import type { MessageRow, TicketRow } from './schemas.ts'
import { assertAcceptsMessages, statusAfterMessage, statusChangeNote } from './status-rules.ts'
import { messageStamp } from './ticket-stamps.ts'
import { ticketColumnsFor, visibleTickets } from './ticket-views.ts'

const m = messages
const messageColumns = sql`${m.id} as "id", ${m.ticketId} as "ticketId",
  ${m.authorId} as "authorId", ${m.authorType} as "authorType", ${m.contactId} as "contactId",
  ${m.body} as "body", ${m.internal} as "internal",
  coalesce(${m.sources}, '[]'::jsonb) as "sources", ${isoTime(m.createdAt)} as "createdAt"`

type NewMessage = {
  /** chosen by the caller when it must be known before the insert returns */
  id?: string
  tenantId: string
  ticketId: string
  authorId: string | null
  authorType: AuthorType
  /** the contact who wrote it, for a customer's message */
  contactId?: string | null
  body: string
  internal: boolean
}

/**
 * Writes a message and, in the same statement, its message.created event (the
 * message as an agent reads it, without attachments: they are attached after
 * it). System messages are the thread's history of a change that has its own
 * event (ticket.updated, ticket.merged), so they write none.
 */
export async function insertMessage(tx: DbOrTx, message: NewMessage): Promise<MessageRow> {
  const insert = sql`insert into ${m} (${bare(m.id)}, ${bare(m.tenantId)}, ${bare(m.ticketId)}, ${bare(m.authorId)},
                          ${bare(m.authorType)}, ${bare(m.contactId)}, ${bare(m.body)}, ${bare(m.internal)})
        values (${message.id ?? uuidv7()}, ${message.tenantId}, ${message.ticketId}, ${message.authorId},
                ${message.authorType}, ${message.contactId ?? null}, ${message.body}, ${message.internal})
        returning ${messageColumns}`
  const event =
    message.authorType === 'system'
      ? null
      : eventCtes(
          {
            tenantId: message.tenantId,
            type: 'message.created',
            data: sql`jsonb_build_object('message', to_jsonb(written))`,
            ticketId: message.ticketId,
            contactId: sql`(select ${tickets.requesterId} from ${tickets}
              where ${tickets.tenantId} = ${message.tenantId} and ${tickets.id} = ${message.ticketId})`,
            internal: message.internal,
          },
          sql`written`,
        )
  const [row] = await rowsOf<MessageRow>(
    tx,
    event ? sql`with written as (${insert}), ${event} select * from written` : insert,
  )
  if (!row) throw new Error('message insert returned no row')
  return row
}

/** History in the thread: a status change is public, other changes are internal notes. */
export function insertSystemMessage(
  tx: DbOrTx,
  caller: Pick<Caller, 'tenantId' | 'userId'>,
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

type FoundTicket = TicketRow & { aiReplyMode: AiReplyMode }

/** The ticket as the caller may see it, with the tenant's aiReplyMode; locked for a change when `lock`. */
export async function findTicket(
  tx: DbOrTx,
  caller: Caller,
  ticketId: string,
  lock = false,
): Promise<FoundTicket | null> {
  const [row] = await rowsOf<FoundTicket>(
    tx,
    sql`select ${ticketColumnsFor(caller)}, ${tenantSetting(caller.tenantId, 'aiReplyMode')} as "aiReplyMode"
        from ${tickets}
        where ${visibleTickets(caller)} and ${tickets.id} = ${ticketId}
        ${lock ? sql`for update of ${tickets}` : sql``}`,
  )
  return row ?? null
}

/** A page of the thread, oldest first; internal notes only for callers who see them. */
export function listMessages(
  database: DatabaseHandle,
  caller: Caller,
  ticketId: string,
  page: { limit: number; cursor?: string },
) {
  return withScope(database, { tenantId: caller.tenantId }, async (tx) => {
    if (!(await findTicket(tx, caller, ticketId))) throw new NotFound('ticket')
    const key = decodeCursor(page.cursor, TimeIdCursor)
    const filters: SQL[] = [
      sql`${m.tenantId} = ${caller.tenantId}`,
      sql`${m.ticketId} = ${ticketId}`,
    ]
    if (!caller.seesInternal) filters.push(sql`not ${m.internal}`)
    if (key) {
      filters.push(sql`(${m.createdAt}, ${m.id}) > (${key[0]}::timestamptz, ${key[1]}::uuid)`)
    }
    const rows = await rowsOf<MessageRow & { cursorAt: string }>(
      tx,
      sql`select ${messageColumns}, ${cursorTime(m.createdAt)} as "cursorAt" from ${m}
          where ${sql.join(filters, sql` and `)}
          order by ${m.createdAt}, ${m.id} limit ${page.limit + 1}`,
    )
    const found = toPage(rows, page.limit, (r) => [r.cursorAt, r.id])
    const files = await attachmentsOfMessages(
      tx,
      caller.tenantId,
      found.data.map((r) => r.id),
    )
    return { ...found, data: found.data.map((r) => ({ ...r, attachments: files.get(r.id) ?? [] })) }
  })
}

/** Jobs a new message causes; written in its transaction, dispatched after commit. */
export async function queueMessageJobs(
  tx: Tx,
  tenantId: string,
  ticket: { id: string; aiReplyMode: AiReplyMode },
  message: Pick<MessageRow, 'id' | 'authorType' | 'internal'>,
): Promise<QueuedJob[]> {
  const jobs: QueuedJob[] = []
  if (message.internal) return jobs
  if (message.authorType === 'customer' && aiRepliesOn(ticket.aiReplyMode)) {
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

/**
 * Posts a message, once per Idempotency-Key (idempotency.ts): the message, the
 * ticket's new status and stamp, the caller's uploads it names
 * (attachmentIds) and the jobs it causes, in one transaction.
 */
export function postMessage(
  database: DatabaseHandle,
  caller: Caller,
  ticketId: string,
  input: { body: string; internal?: boolean; attachmentIds?: string[] },
  request: IdempotentRequest,
) {
  return createOnce(database, caller, request, async (tx) => {
    const { message, jobs } = await writeMessage(tx, caller, ticketId, input)
    return { body: message, jobs }
  })
}

async function writeMessage(
  tx: Tx,
  caller: Caller,
  ticketId: string,
  input: { body: string; internal?: boolean; attachmentIds?: string[] },
) {
  const internal = input.internal ?? false
  if (internal && !caller.seesInternal) {
    throw new Forbidden('forbidden', 'Internal notes need the messages:internal permission.')
  }
  const ticket = await findTicket(tx, caller, ticketId, true)
  if (!ticket) throw new NotFound('ticket')
  // A merged ticket is closed too: naming where it went is the more useful answer.
  assertNotMerged(ticket)
  // A customer sees only the tickets it requested: it writes as that contact.
  const contactId = caller.authorType === 'customer' ? ticket.requesterId : null
  const written = await appendMessage(tx, { ...caller, contactId }, ticket, {
    body: input.body,
    internal,
  })
  const attachments = await attachUploads(tx, caller, written.message.id, input.attachmentIds ?? [])
  return { ...written, message: { ...written.message, attachments } }
}

/** Who writes a message: a member, an API key, or (by mail) a contact. */
export type MessageAuthor = {
  tenantId: string
  userId: string | null
  authorType: Caller['authorType']
  contactId: string | null
}

/**
 * Adds a message to a ticket the caller found and locked: the ticket's new
 * status and stamp, the history note and the jobs the message causes, in the
 * caller's transaction. A closed ticket takes none (409 ticket_closed).
 */
export async function appendMessage(
  tx: Tx,
  author: MessageAuthor,
  ticket: Pick<FoundTicket, 'id' | 'status' | 'aiReplyMode'>,
  input: { body: string; internal: boolean },
) {
  const { internal } = input
  const ticketId = ticket.id
  assertAcceptsMessages(ticket.status)
  const next = statusAfterMessage(ticket.status, { authorType: author.authorType, internal })
  // The message, the ticket's stamp and the jobs do not depend on each other's
  // results (the id is chosen here), so they go out together: postgres.js
  // pipelines them on the transaction's connection, one round trip for three.
  const id = uuidv7()
  const [message, , jobs] = await Promise.all([
    insertMessage(tx, {
      id,
      tenantId: author.tenantId,
      ticketId,
      authorId: author.userId,
      authorType: author.authorType,
      contactId: author.contactId,
      body: input.body,
      internal,
    }),
    touchTicket(tx, author.tenantId, ticketId, { body: input.body, internal, status: next }),
    queueMessageJobs(tx, author.tenantId, ticket, { id, authorType: author.authorType, internal }),
  ])
  if (next !== ticket.status) {
    // The message moved the status: a change of the ticket like a PATCH's.
    const changes = { status: [ticket.status, next] as [unknown, unknown] }
    await Promise.all([
      insertSystemMessage(tx, author, ticketId, statusChangeNote(ticket.status, next), false),
      recordEvent(tx, ticketEvent(author.tenantId, 'ticket.updated', ticketId, { changes })),
    ])
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

/**
 * Queues an AI reply on demand (an agent asked for it; the job decides where it
 * goes: ai-reply-processor.ts); a closed ticket takes none.
 */
export function requestAiReply(
  database: DatabaseHandle,
  caller: Caller,
  ticketId: string,
): Promise<QueuedJob> {
  return withScope(database, { tenantId: caller.tenantId }, async (tx) => {
    const ticket = await findTicket(tx, caller, ticketId)
    if (!ticket) throw new NotFound('ticket')
    assertNotMerged(ticket)
    assertAcceptsMessages(ticket.status)
    return insertJob(tx, {
      tenantId: caller.tenantId,
      queue: 'ai-reply',
      payload: { ticketId: ticket.id },
    })
  })
}
