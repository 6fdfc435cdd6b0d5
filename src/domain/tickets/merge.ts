// Merging tickets: up to five sources join a target. Their messages move to
// the target's thread (keeping their times, so it reads in time order, and
// their `internal` flag, so notes stay notes), their attachments with them
// (attachments hang on messages), their email Message-IDs too (so a reply to
// a source's mail threads onto the target), and their tags join the target's.
// Each source is closed with merged_into_id set; both sides get a public
// history line; every ticket involved has its search vectors rebuilt from its
// thread as it now is. All of it in one tenant transaction, once per
// Idempotency-Key: a refusal (404, 412, 422) leaves everything as it was.
//
// Locks: the target and the sources are locked FOR UPDATE in one statement,
// in id order. Two merges that cross (A into B while B goes into A) thus lock
// in the same order: the second waits for the first instead of deadlocking,
// then finds its target or its source merged and is refused (422).
import { type SQL, sql } from 'drizzle-orm'
import type { DatabaseHandle, Tx } from '../../db/client.ts'
import { messages, tickets } from '../../db/schema/helpdesk.ts'
import { emailMessages } from '../../db/schema/mail.ts'
import { rowsOf } from '../../db/scoped.ts'
import { bare, textArray } from '../../db/sql-fragments.ts'
import { BadRequest, type FieldError, NotFound, Problem } from '../../lib/problems.ts'
import { normaliseTags } from '../../lib/tags.ts'
import { recordEvent } from '../events/record.ts'
import { ticketEvent } from '../events/ticket-events.ts'
import type { Caller } from './caller.ts'
import { createOnce, type IdempotentRequest } from './idempotency.ts'
import { insertSystemMessage } from './messages.ts'
import type { TicketRow } from './schemas.ts'
import { anyChange, publicChange } from './ticket-stamps.ts'
import { etagOf, ifMatchAccepts, ticketColumnsFor, visibleTickets } from './ticket-views.ts'

/** At most this many sources per merge (the route's schema says the same). */
export const MAX_MERGE_SOURCES = 5

/**
 * Merges `sourceIds` into the ticket `targetId`, once per Idempotency-Key;
 * answers the target as the caller sees it after the merge.
 */
export function mergeTickets(
  database: DatabaseHandle,
  caller: Caller,
  targetId: string,
  sourceIds: readonly string[],
  ifMatch: string | undefined,
  request: IdempotentRequest,
) {
  return createOnce(
    database,
    caller,
    request,
    async (tx) => ({ body: await merge(tx, caller, targetId, sourceIds, ifMatch), jobs: [] }),
    200,
  )
}

const idList = (ids: readonly string[]) =>
  sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )

/** Both search vectors rebuilt from the subject and the thread (drizzle/0012's rule). */
const rebuildSearch = sql`${bare(tickets.searchPublic)} = ticket_search_rebuild(${tickets.tenantId}, ${tickets.id}, ${tickets.subject}, false),
  ${bare(tickets.searchAll)} = ticket_search_rebuild(${tickets.tenantId}, ${tickets.id}, ${tickets.subject}, true)`

async function merge(
  tx: Tx,
  caller: Caller,
  targetId: string,
  sourceIds: readonly string[],
  ifMatch: string | undefined,
): Promise<TicketRow> {
  // UUIDs compare as values: an id sent in capitals is the same ticket.
  const target = targetId.toLowerCase()
  const sources = sourceIds.map((id) => id.toLowerCase())
  const repeated = sources.findIndex((id, i) => sources.indexOf(id) !== i)
  if (repeated !== -1) {
    throw new BadRequest('validation_failed', 'sourceIds names a ticket twice.', [
      { path: `body/sourceIds/${repeated}`, message: 'must not repeat an id' },
    ])
  }
  const locked = await rowsOf<TicketRow>(
    tx,
    sql`select ${ticketColumnsFor(caller)} from ${tickets}
        where ${visibleTickets(caller)} and ${tickets.id} in (${idList([target, ...sources])})
        order by ${tickets.id}
        for update of ${tickets}`,
  )
  const byId = new Map(locked.map((row) => [row.id, row]))
  const into = byId.get(target)
  // Another tenant's, deleted, unknown or not the caller's: all the same 404.
  if (!into || sources.some((id) => !byId.has(id))) throw new NotFound('ticket')
  if (ifMatch !== undefined && !ifMatchAccepts(ifMatch, etagOf(caller, into.version))) {
    throw new Problem('precondition_failed', 'The ticket changed since you read it (ETag).')
  }
  const merged = sources.map((id) => byId.get(id) as TicketRow)
  assertMergeable(into, merged)

  const tenantId = caller.tenantId
  const sourceList = idList(sources)
  // The threads and their email ids first: the vectors below are rebuilt from them.
  await tx.execute(
    sql`update ${messages} set ${bare(messages.ticketId)} = ${target}
        where ${messages.tenantId} = ${tenantId} and ${messages.ticketId} in (${sourceList})`,
  )
  await tx.execute(
    sql`update ${emailMessages} set ${bare(emailMessages.ticketId)} = ${target}
        where ${emailMessages.tenantId} = ${tenantId} and ${emailMessages.ticketId} in (${sourceList})`,
  )
  await tx.execute(
    sql`update ${tickets}
        set ${anyChange}, ${publicChange}, ${bare(tickets.status)} = 'closed',
            ${bare(tickets.mergedIntoId)} = ${target}, ${rebuildSearch}
        where ${tickets.tenantId} = ${tenantId} and ${tickets.id} in (${sourceList})`,
  )
  const tags = normaliseTags([into.tags, ...merged.map((s) => s.tags)].flat())
  const [updated] = await rowsOf<TicketRow>(
    tx,
    sql`update ${tickets}
        set ${anyChange}, ${publicChange}, ${bare(tickets.tags)} = ${textArray(tags)},
            ${bare(tickets.lastMessageAt)} = greatest(${tickets.lastMessageAt}, ${latestMessageOf(tenantId, sourceList)}),
            ${rebuildSearch}
        where ${tickets.tenantId} = ${tenantId} and ${tickets.id} = ${target}
        returning ${ticketColumnsFor(caller)}`,
  )
  if (!updated) throw new Error('the locked target ticket was not updated')
  // One event for the merge: the target as it is now, and the tickets merged into it.
  await recordEvent(tx, ticketEvent(tenantId, 'ticket.merged', target, { mergedIds: sources }))
  // Public on both sides: a source's requester (who is the target's, see
  // assertMergeable) learns where its conversation went and why it grew.
  for (const source of merged) {
    await insertSystemMessage(tx, caller, source.id, `Merged into #${into.number}`, false)
    await insertSystemMessage(
      tx,
      caller,
      target,
      `Merged #${source.number} into this ticket`,
      false,
    )
  }
  return updated
}

/** The latest lastMessageAt of the sources (a public message's time), as a subquery. */
function latestMessageOf(tenantId: string, sourceList: SQL): SQL {
  const column = (c: typeof tickets.lastMessageAt | typeof tickets.id | typeof tickets.tenantId) =>
    sql`s.${bare(c)}`
  return sql`(select max(${column(tickets.lastMessageAt)}) from ${tickets} s
              where ${column(tickets.tenantId)} = ${tenantId} and ${column(tickets.id)} in (${sourceList}))`
}

/**
 * 422 invalid_merge, naming every field at fault: the target may be neither
 * merged nor closed; a source may be neither the target, nor merged, nor
 * closed (closed is final: its history does not change), and must have the
 * target's requester. Public messages stay public when they move, so merging
 * another requester's ticket would show one customer's words to another, and
 * its customer could not follow "Merged into #N" to a ticket that is not its.
 */
function assertMergeable(target: TicketRow, sources: TicketRow[]): void {
  const errors: FieldError[] = []
  if (target.mergedIntoId) {
    errors.push({ path: 'params/id', message: 'was merged into another ticket' })
  } else if (target.status === 'closed') {
    errors.push({ path: 'params/id', message: 'is closed' })
  }
  sources.forEach((source, i) => {
    const path = `body/sourceIds/${i}`
    if (source.id === target.id) errors.push({ path, message: 'is the target itself' })
    else if (source.mergedIntoId) errors.push({ path, message: 'was merged already' })
    else if (source.status === 'closed') errors.push({ path, message: 'is closed' })
    else if (source.requesterId !== target.requesterId) {
      errors.push({ path, message: 'has another requester than the target' })
    }
  })
  if (errors.length > 0) {
    const [first] = errors
    throw new Problem('invalid_merge', `Cannot merge: ${first?.path} ${first?.message}.`, {
      errors,
    })
  }
}
