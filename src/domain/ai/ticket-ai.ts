// The AI's look at a ticket (jobs/ai/triage-processor.ts): what a triage or a
// summary is written from, the JSON a model must answer with (TypeBox, checked
// before anything is stored), and how the result is stored on the ticket's
// `ai` column. With the tenant's aiTriage at `apply`, the suggested priority and
// tags are set as well, as a change by the system: one ticket.updated event
// with its changes and internal history lines, as a PATCH writes them, in the
// same transaction as the `ai` column, so a triage is stored whole or not at all.
import { type SQL, sql } from 'drizzle-orm'
import { type Static, Type } from 'typebox'
import { Value } from 'typebox/value'
import type { DatabaseHandle } from '../../db/client.ts'
import {
  messages,
  type TicketAi,
  type TicketPriority,
  ticketPriorities,
  tickets,
} from '../../db/schema/helpdesk.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import { bare, isoTime, textArray } from '../../db/sql-fragments.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { NotFound, Problem } from '../../lib/problems.ts'
import { normaliseTags } from '../../lib/tags.ts'
import { recordEvent } from '../events/record.ts'
import { type TicketChanges, ticketEvent } from '../events/ticket-events.ts'
import { type AiTriage, tenantSetting } from '../tenants/settings.ts'
import type { Caller } from '../tickets/caller.ts'
import { findTicket, insertSystemMessage } from '../tickets/messages.ts'
import { anyChange } from '../tickets/ticket-stamps.ts'
import { budgetSpentQuery } from './generations.ts'

const t = tickets
const m = messages

const THREAD_MESSAGES = 20
const MESSAGE_CHARS = 2000
/** How many of the tenant's tags a triage prompt lists (the most used first). */
const TAG_VOCABULARY = 200

/** A triage's answer, as the model must write it. Extra keys are ignored, never stored. */
export const TriageAnswer = Type.Object({
  summary: Type.String({ minLength: 1, maxLength: 2000 }),
  language: Type.String({ minLength: 2, maxLength: 35 }),
  sentiment: Type.Union([
    Type.Literal('negative'),
    Type.Literal('neutral'),
    Type.Literal('positive'),
  ]),
  suggestedPriority: Type.Enum(ticketPriorities),
  suggestedTags: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 }),
})
export type TriageAnswer = Static<typeof TriageAnswer>

/** A summary's answer. */
export const SummaryAnswer = Type.Object({
  summary: Type.String({ minLength: 1, maxLength: 2000 }),
})
export type SummaryAnswer = Static<typeof SummaryAnswer>

/** The model's text as an answer of this schema, or null when it is not JSON or not valid. */
export function parseAnswer<S extends typeof TriageAnswer | typeof SummaryAnswer>(
  schema: S,
  text: string,
): Static<S> | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  return Value.Check(schema, value) ? (value as Static<S>) : null
}

export type TriageTicket = {
  id: string
  number: number
  subject: string
  status: string
  priority: TicketPriority
  tags: string[]
  mergedIntoId: string | null
  aiTriage: AiTriage
  tenantName: string
}

export type TriageMessage = {
  authorType: 'customer' | 'agent' | 'ai'
  internal: boolean
  body: string
  createdAt: string
}

/**
 * The three reads a triage or summary is written from, sent together: the
 * ticket (with the tenant's aiTriage as it is now), its first public messages
 * (no internal notes: `ai` is shown to every agent, and one whose role lacks
 * messages:internal must not read a note in a summary; no history lines), and
 * the tags the tenant's other tickets use.
 */
export function ticketAiQueries(tenantId: string, ticketId: string): [SQL, SQL, SQL] {
  return [
    sql`select ${t.id} as id, ${t.number} as number, ${t.subject} as subject,
          ${t.status} as status, ${t.priority} as priority, ${t.tags} as tags,
          ${t.mergedIntoId} as "mergedIntoId", ${tenantSetting(tenantId, 'aiTriage')} as "aiTriage",
          (select ${tenants.name} from ${tenants} where ${tenants.id} = ${tenantId}) as "tenantName"
        from ${t} where ${t.tenantId} = ${tenantId} and ${t.id} = ${ticketId} and ${t.deletedAt} is null`,
    sql`select ${m.authorType} as "authorType", ${m.internal} as internal,
          left(${m.body}, ${MESSAGE_CHARS}) as body, ${isoTime(m.createdAt)} as "createdAt"
        from ${m} where ${m.tenantId} = ${tenantId} and ${m.ticketId} = ${ticketId}
          and ${m.authorType} <> 'system' and not ${m.internal}
        order by ${m.createdAt}, ${m.id} limit ${THREAD_MESSAGES}`,
    sql`select tag from (select unnest(${t.tags}) as tag from ${t}
          where ${t.tenantId} = ${tenantId} and ${t.id} <> ${ticketId} and ${t.deletedAt} is null) used
        group by tag order by count(*) desc, tag limit ${TAG_VOCABULARY}`,
  ]
}

/** The suggested tags the tenant already uses, normalised; any other is dropped. */
export function knownTags(suggested: readonly string[], vocabulary: readonly string[]): string[] {
  const known = new Set(vocabulary)
  return normaliseTags(suggested).filter((tag) => known.has(tag))
}

type Stored = { stored: true; applied: TicketChanges } | { stored: false; reason: string }

/**
 * Stores a triage (`ai` whole) or a summary (`ai.summary` and generatedAt, the
 * rest kept) on the ticket; with `apply`, also sets the suggested priority and
 * adds the suggested tags, as the system. The ticket is locked and read again
 * first: deleted since, nothing is stored; closed or merged since, nothing is
 * applied to it. The job is marked succeeded in the same transaction, so a
 * rerun (a retry after a lost acknowledgement, a retaken job) stores nothing twice.
 */
export function storeTicketAi(
  database: DatabaseHandle,
  input: {
    tenantId: string
    ticketId: string
    ai: TicketAi
    kind: 'triage' | 'summary'
    apply: boolean
    /** the job's success mark, run in this transaction: a rerun after the commit finds it done */
    markSucceeded: (applied: string[]) => SQL
  },
): Promise<Stored> {
  const { tenantId, ticketId } = input
  return withScope(database, { tenantId }, async (tx) => {
    const [ticket] = await rowsOf<{
      status: string
      priority: TicketPriority
      tags: string[]
      mergedIntoId: string | null
    }>(
      tx,
      sql`select ${t.status} as status, ${t.priority} as priority, ${t.tags} as tags,
            ${t.mergedIntoId} as "mergedIntoId"
          from ${t} where ${t.tenantId} = ${tenantId} and ${t.id} = ${ticketId}
            and ${t.deletedAt} is null
          for update`,
    )
    if (!ticket) return { stored: false, reason: 'the ticket is gone' }
    const value =
      input.kind === 'triage'
        ? sql`${JSON.stringify(input.ai)}::jsonb`
        : sql`coalesce(${t.ai}, '{}'::jsonb) || ${JSON.stringify(input.ai)}::jsonb`
    const set = [anyChange, sql`${bare(t.ai)} = ${value}`]
    const changes: TicketChanges = {}
    const history: string[] = []
    const open = ticket.status !== 'closed' && ticket.mergedIntoId === null
    if (input.apply && open) {
      const priority = input.ai.suggestedPriority
      if (priority && priority !== ticket.priority) {
        set.push(sql`${bare(t.priority)} = ${priority}`)
        changes.priority = [ticket.priority, priority]
        history.push(`Priority changed from ${ticket.priority} to ${priority} by AI triage`)
      }
      const tags = normaliseTags([...ticket.tags, ...(input.ai.suggestedTags ?? [])])
      if (tags.join('\n') !== ticket.tags.join('\n')) {
        set.push(sql`${bare(t.tags)} = ${textArray(tags)}`)
        changes.tags = [ticket.tags, tags]
        history.push(`Tags set to ${tags.join(', ')} by AI triage`)
      }
    }
    await rowsOf(
      tx,
      sql`update ${t} set ${sql.join(set, sql`, `)}
          where ${t.tenantId} = ${tenantId} and ${t.id} = ${ticketId}`,
    )
    const system = { tenantId, userId: null }
    await Promise.all([
      ...(history.length > 0
        ? [recordEvent(tx, ticketEvent(tenantId, 'ticket.updated', ticketId, { changes }))]
        : []),
      ...history.map((body) => insertSystemMessage(tx, system, ticketId, body, true)),
      rowsOf(tx, input.markSucceeded(Object.keys(changes))),
    ])
    return { stored: true, applied: changes }
  })
}

/**
 * Queues a summary of a ticket the caller may read (POST
 * /v1/tickets/{id}/ai/summarize); 429 ai_budget_exceeded when the tenant's
 * monthly token budget is already spent.
 */
export function requestSummary(
  database: DatabaseHandle,
  caller: Caller,
  ticketId: string,
): Promise<QueuedJob> {
  return withScope(database, { tenantId: caller.tenantId }, async (tx) => {
    const [ticket, [budget]] = await Promise.all([
      findTicket(tx, caller, ticketId),
      rowsOf<{ spent: boolean }>(tx, budgetSpentQuery(caller.tenantId)),
    ])
    if (!ticket) throw new NotFound('ticket')
    if (budget?.spent) throw new Problem('ai_budget_exceeded')
    return insertJob(tx, {
      tenantId: caller.tenantId,
      queue: 'ai-triage',
      payload: { ticketId: ticket.id, task: 'summary' },
    })
  })
}
