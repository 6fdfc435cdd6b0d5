// Tickets: open one (numbered through the tenant's counter row, once per
// Idempotency-Key), read one, change one (guarded per field, with If-Match and
// history) and soft-delete one (audited).
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle, Tx } from '../../db/client.ts'
import { ticketCounters, tickets } from '../../db/schema/helpdesk.ts'
import { readInScope, rowsOf, withScope } from '../../db/scoped.ts'
import { bare, textArray } from '../../db/sql-fragments.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import type { Permission } from '../../lib/permissions.ts'
import { BadRequest, Conflict, Forbidden, NotFound, Problem } from '../../lib/problems.ts'
import { normaliseTags } from '../../lib/tags.ts'
import { recordAudit, type requestActor } from '../audit/record.ts'
import { normaliseContactEmail } from '../contacts/contact-email.ts'
import { contactForEmail, memberContact } from '../contacts/requesters.ts'
import { lockEventCounter, recordEvent } from '../events/record.ts'
import { type TicketChanges, ticketEvent } from '../events/ticket-events.ts'
import { attachUploads } from '../files/attachments.ts'
import {
  type AiReplyMode,
  type AiTriage,
  aiTriageOn,
  SETTING_DEFAULTS,
  tenantSetting,
} from '../tenants/settings.ts'
import type { Caller } from './caller.ts'
import { createOnce, type IdempotentRequest } from './idempotency.ts'
import { assertNotMerged } from './merged-tickets.ts'
import { findTicket, insertMessage, insertSystemMessage, queueMessageJobs } from './messages.ts'
import type { MessageRow, TicketRow } from './schemas.ts'
import { assertManualTransition, statusChangeNote } from './status-rules.ts'
import { assertAssignable, assertRequester } from './ticket-members.ts'
import { anyChange, publicChange } from './ticket-stamps.ts'
import { etagOf, ifMatchAccepts, ticketColumnsFor, visibleTickets } from './ticket-views.ts'

/** Who acts, for the audit event: the request's user or API key, address and agent. */
type Actor = ReturnType<typeof requestActor>

type NewTicket = {
  subject: string
  body: string
  priority?: TicketRow['priority']
  tags?: string[]
  requesterId?: string
  requester?: { email: string; name?: string }
  /** the caller's own uploads to attach to the first message */
  attachmentIds?: string[]
}

/**
 * The contact a new ticket is for. A customer is always its own requester
 * (its member contact); an agent names a contact (requesterId), or an address
 * (requester: the contact with that email, made when there is none), or
 * neither and is its own requester; an API key must name one.
 */
async function requesterFor(tx: Tx, caller: Caller, input: NewTicket): Promise<string> {
  const named = input.requesterId !== undefined || input.requester !== undefined
  if (!caller.seesAll) {
    if (!caller.userId) {
      throw new Forbidden('forbidden', 'An API key needs tickets:read_all to open tickets.')
    }
    const own = await memberContact(tx, caller.tenantId, caller.userId)
    if (named && input.requesterId !== own) {
      throw new Forbidden('forbidden', 'A customer is always the requester of its own tickets.')
    }
    return own
  }
  if (input.requesterId !== undefined && input.requester !== undefined) {
    throw new BadRequest(
      'validation_failed',
      'Name the requester once: requesterId or requester.',
      [{ path: 'body/requester', message: 'cannot be given with requesterId' }],
    )
  }
  if (input.requesterId !== undefined) {
    await assertRequester(tx, caller.tenantId, input.requesterId)
    return input.requesterId
  }
  if (input.requester !== undefined) {
    const email = normaliseContactEmail(input.requester.email, 'body/requester/email')
    const found = await contactForEmail(tx, caller.tenantId, email, input.requester.name ?? null)
    return found.id
  }
  if (!caller.userId) {
    throw new BadRequest(
      'requester_required',
      'Name the requester (requesterId or requester): an API key is no person.',
      [{ path: 'body/requesterId', message: 'is required for an API key' }],
    )
  }
  return memberContact(tx, caller.tenantId, caller.userId)
}

/**
 * Opens a ticket with its first message, once per Idempotency-Key
 * (idempotency.ts); a customer's ticket queues its notification and, when the
 * tenant wants one, an AI reply.
 */
export function openTicket(
  database: DatabaseHandle,
  caller: Caller,
  input: NewTicket,
  request: IdempotentRequest,
) {
  return createOnce(database, caller, request, async (tx) => {
    const created = await createTicket(tx, caller, input)
    const body: TicketRow & { firstMessage: MessageRow } = {
      ...created.ticket,
      firstMessage: created.message,
    }
    return { body, jobs: created.jobs }
  })
}

/** What a new ticket's INSERT writes; the other columns take their defaults. */
const insertedColumns = sql.join(
  [
    tickets.id,
    tickets.tenantId,
    tickets.number,
    tickets.subject,
    tickets.priority,
    tickets.requesterId,
    tickets.tags,
    tickets.searchPublic,
    tickets.searchAll,
    tickets.followUpOfId,
  ].map(bare),
  sql`, `,
)
const counterColumn = {
  tenantId: bare(ticketCounters.tenantId),
  lastNumber: bare(ticketCounters.lastNumber),
}

/** Who writes a new ticket's first message, and the view of the ticket it gets back. */
export type TicketAuthor = {
  tenantId: string
  /** the member, or null (an API key, or mail from a contact without an account) */
  userId: string | null
  authorType: Caller['authorType']
  /** the select list of the caller's view (ticketColumnsFor) */
  columns: SQL
}

type TicketFields = Omit<NewTicket, 'requesterId' | 'requester' | 'attachmentIds'> & {
  requesterId: string
  /** the closed ticket this one follows up (mail on a closed ticket's thread) */
  followUpOfId?: string | null
}

async function createTicket(tx: Tx, caller: Caller, input: NewTicket) {
  const requesterId = await requesterFor(tx, caller, input)
  const author = { ...caller, columns: ticketColumnsFor(caller) }
  const { attachmentIds = [], ...fields } = input
  const created = await insertTicket(tx, author, { ...fields, requesterId })
  const attachments = await attachUploads(tx, caller, created.message.id, attachmentIds)
  return { ...created, message: { ...created.message, attachments } }
}

/**
 * Writes a ticket with its first message and queues what a new ticket causes:
 * its AI triage when the tenant's aiTriage is on, and for a customer's ticket
 * the agents' notification and an AI reply when the tenant wants one. The number comes from the tenant's counter row, incremented in this
 * transaction: its row lock makes concurrent creates wait for each other, and
 * a rolled-back create gives its number back, so committed numbers have no gaps.
 */
export async function insertTicket(tx: Tx, author: TicketAuthor, fields: TicketFields) {
  const { tenantId } = author
  const tags = normaliseTags(fields.tags ?? [])
  // The event counter before the ticket counter (record.ts: the lock order), sent together.
  const [, [ticket]] = await Promise.all([
    lockEventCounter(tx, tenantId),
    rowsOf<TicketRow>(
      tx,
      sql`with counter as (
          insert into ${ticketCounters} (${counterColumn.tenantId}, ${counterColumn.lastNumber})
          values (${tenantId}, 1)
          on conflict (${counterColumn.tenantId})
          do update set ${counterColumn.lastNumber} = ${ticketCounters.lastNumber} + 1
          returning ${counterColumn.lastNumber} as last_number),
        words as (select message_search_vector(${fields.body}) as v)
        insert into ${tickets} (${insertedColumns})
        select ${uuidv7()}, ${tenantId}, counter.last_number, ${fields.subject},
               ${fields.priority ?? 'normal'}, ${fields.requesterId}, ${textArray(tags)}, words.v, words.v,
               ${fields.followUpOfId ?? null}::uuid
        from counter, words
        returning ${author.columns}`,
    ),
  ])
  if (!ticket) throw new Error('ticket insert returned no row')
  // Its words are in the vectors already (the insert's search_public and search_all).
  // ticket.created, then the first message (with its message.created) and the
  // setting: sent together, one round trip, in this order.
  const [, message, [context]] = await Promise.all([
    recordEvent(tx, ticketEvent(tenantId, 'ticket.created', ticket.id)),
    insertMessage(tx, {
      tenantId,
      ticketId: ticket.id,
      authorId: author.userId,
      authorType: author.authorType,
      contactId: author.authorType === 'customer' ? fields.requesterId : null,
      body: fields.body,
      internal: false,
    }),
    rowsOf<{ aiReplyMode: AiReplyMode; aiTriage: AiTriage }>(
      tx,
      sql`select ${tenantSetting(tenantId, 'aiReplyMode')} as "aiReplyMode",
                 ${tenantSetting(tenantId, 'aiTriage')} as "aiTriage"`,
    ),
  ])
  const jobs: QueuedJob[] = []
  // Any new ticket, whoever opened it (an agent, an API key, a customer, mail).
  if (aiTriageOn(context?.aiTriage ?? SETTING_DEFAULTS.aiTriage)) {
    jobs.push(
      await insertJob(tx, {
        tenantId,
        queue: 'ai-triage',
        payload: { ticketId: ticket.id, task: 'triage' },
      }),
    )
  }
  if (author.authorType === 'customer') {
    jobs.push(
      await insertJob(tx, {
        tenantId,
        queue: 'email',
        payload: { template: 'ticket-created', ticketId: ticket.id },
      }),
    )
    const mode = context?.aiReplyMode ?? SETTING_DEFAULTS.aiReplyMode
    jobs.push(
      ...(await queueMessageJobs(tx, tenantId, { id: ticket.id, aiReplyMode: mode }, message)),
    )
  }
  return { ticket, message, jobs }
}

type TicketPatch = {
  subject?: string
  status?: TicketRow['status']
  priority?: TicketRow['priority']
  assigneeId?: string | null
  tags?: string[]
}

/** Which permission each field needs, beyond tickets:write on the route. */
function assertMayChange(caller: Caller, patch: TicketPatch) {
  const need = (field: keyof TicketPatch, ok: boolean, permission: Permission) => {
    if (patch[field] !== undefined && !ok) {
      throw new Forbidden('forbidden', `Changing ${field} needs the ${permission} permission.`)
    }
  }
  need('assigneeId', caller.can('tickets:assign'), 'tickets:assign')
  need('status', caller.seesAll, 'tickets:read_all')
  need('priority', caller.seesAll, 'tickets:read_all')
  need('tags', caller.seesAll, 'tickets:read_all')
  // A customer may reword the subject of a ticket it requested (visibleTickets:
  // the only ones it sees).
  need('subject', true, 'tickets:read_all')
}

/** The ticket as the caller sees it; 404 for one it may not see. One pipelined read. */
export async function getTicket(database: DatabaseHandle, caller: Caller, id: string) {
  const [row] = await readInScope<TicketRow>(
    database,
    { tenantId: caller.tenantId },
    sql`select ${ticketColumnsFor(caller)} from ${tickets}
        where ${visibleTickets(caller)} and ${tickets.id} = ${id}`,
  )
  if (!row) throw new NotFound('ticket')
  return row
}

export function changeTicket(
  database: DatabaseHandle,
  caller: Caller,
  id: string,
  patch: TicketPatch,
  ifMatch: string | undefined,
): Promise<TicketRow> {
  return withScope(database, { tenantId: caller.tenantId }, (tx) =>
    updateTicket(tx, caller, id, patch, ifMatch),
  )
}

async function updateTicket(
  tx: Tx,
  caller: Caller,
  id: string,
  patch: TicketPatch,
  ifMatch: string | undefined,
) {
  const ticket = await findTicket(tx, caller, id, true)
  if (!ticket) throw new NotFound('ticket')
  assertNotMerged(ticket)
  if (ifMatch !== undefined && !ifMatchAccepts(ifMatch, etagOf(caller, ticket.version))) {
    throw new Problem('precondition_failed', 'The ticket changed since you read it (ETag).')
  }
  assertMayChange(caller, patch)
  if (ticket.status === 'closed') {
    throw new Conflict('A closed ticket cannot be changed.', 'ticket_closed')
  }
  const history: { body: string; internal: boolean }[] = []
  const changes: TicketChanges = {}
  const set = [anyChange]
  // The history follows what a customer sees of a ticket (ticket-views.ts): the
  // subject and the status are public, so are their entries; priority,
  // assignee and tags are not, so their entries are internal notes.
  let customerSees = false
  if (patch.subject !== undefined && patch.subject !== ticket.subject) {
    set.push(sql`${bare(tickets.subject)} = ${patch.subject}`)
    history.push({ body: `Subject changed to "${patch.subject}"`, internal: false })
    changes.subject = [ticket.subject, patch.subject]
    customerSees = true
  }
  if (patch.status !== undefined && patch.status !== ticket.status) {
    assertManualTransition(ticket.status, patch.status)
    set.push(sql`${bare(tickets.status)} = ${patch.status}`)
    history.push({ body: statusChangeNote(ticket.status, patch.status), internal: false })
    changes.status = [ticket.status, patch.status]
    customerSees = true
  }
  if (patch.priority !== undefined && patch.priority !== ticket.priority) {
    set.push(sql`${bare(tickets.priority)} = ${patch.priority}`)
    history.push({
      body: `Priority changed from ${ticket.priority} to ${patch.priority}`,
      internal: true,
    })
    changes.priority = [ticket.priority, patch.priority]
  }
  if (patch.assigneeId !== undefined && patch.assigneeId !== ticket.assigneeId) {
    const name = patch.assigneeId
      ? await assertAssignable(tx, caller.tenantId, patch.assigneeId)
      : null
    set.push(sql`${bare(tickets.assigneeId)} = ${patch.assigneeId}`)
    history.push({ body: name ? `Assigned to ${name}` : 'Unassigned', internal: true })
    changes.assigneeId = [ticket.assigneeId, patch.assigneeId]
  }
  if (patch.tags !== undefined) {
    const tags = normaliseTags(patch.tags)
    if (tags.join('\n') !== ticket.tags.join('\n')) {
      set.push(sql`${bare(tickets.tags)} = ${textArray(tags)}`)
      history.push({ body: `Tags set to ${tags.join(', ') || '(none)'}`, internal: true })
      changes.tags = [ticket.tags, tags]
    }
  }
  if (history.length === 0) return ticket
  if (customerSees) set.push(publicChange)
  const [updated] = await rowsOf<TicketRow>(
    tx,
    sql`update ${tickets} set ${sql.join(set, sql`, `)}
        where ${tickets.tenantId} = ${caller.tenantId} and ${tickets.id} = ${id}
        returning ${ticketColumnsFor(caller)}`,
  )
  await Promise.all([
    recordEvent(tx, ticketEvent(caller.tenantId, 'ticket.updated', id, { changes })),
    ...history.map((entry) => insertSystemMessage(tx, caller, id, entry.body, entry.internal)),
  ])
  return updated ?? ticket
}

/** Soft-deletes a ticket the caller may see (it answers 404 from then on), audited. */
export function deleteTicket(database: DatabaseHandle, caller: Caller, id: string, actor: Actor) {
  return withScope(database, { tenantId: caller.tenantId }, async (tx) => {
    const rows = await rowsOf<{ id: string }>(
      tx,
      sql`update ${tickets} set ${bare(tickets.deletedAt)} = now(), ${bare(tickets.version)} = ${tickets.version} + 1
          where ${visibleTickets(caller)} and ${tickets.id} = ${id}
          returning ${tickets.id} as id`,
    )
    if (rows.length === 0) throw new NotFound('ticket')
    await recordEvent(tx, ticketEvent(caller.tenantId, 'ticket.deleted', id))
    await recordAudit(tx, {
      tenantId: caller.tenantId,
      action: 'ticket.deleted',
      targetType: 'ticket',
      targetId: id,
      ...actor,
    })
  })
}
