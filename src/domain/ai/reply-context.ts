// What an AI reply is written from, read in the job's tenant: the ticket (with
// the tenant's name and current aiReplyMode), its public thread (customer,
// agent and AI messages, no internal notes or status lines, newest last,
// bounded in count and size so a prompt stays small), and the published
// knowledge-base passages that match the customer's words (kb-retrieval.ts),
// with those words themselves for a caller that also ranks by meaning.
import { type SQL, sql } from 'drizzle-orm'
import { contacts } from '../../db/schema/contacts.ts'
import { messages, tickets } from '../../db/schema/helpdesk.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { isoTime } from '../../db/sql-fragments.ts'
import { contactDisplayName } from '../contacts/requesters.ts'
import { type AiReplyMode, settingOf } from '../tenants/settings.ts'
import {
  type ArticlePolicy,
  type PassageCandidate,
  passagesQuery,
  pickArticles,
  type RetrievedArticle,
} from './kb-retrieval.ts'

export type ThreadMessage = {
  authorType: 'customer' | 'agent' | 'ai'
  body: string
  createdAt: string
}

const t = tickets
const m = messages

const THREAD_MESSAGES = 20
const MESSAGE_CHARS = 2000
const THREAD_CHARS = 12_000
/** How many of the latest customer messages the knowledge-base search reads (with the first one). */
const QUERY_MESSAGES = 3

type ReplyTicket = Pick<
  typeof tickets.$inferSelect,
  'id' | 'number' | 'subject' | 'status' | 'requesterId'
> & { requesterName: string; tenantName: string; mode: AiReplyMode }

export type ReplyContext = {
  ticket: ReplyTicket
  thread: (ThreadMessage & { id: string })[]
  articles: RetrievedArticle[]
  /** what the knowledge base was searched with, and the full-text candidates (for hybrid retrieval) */
  search: { text: string; passages: PassageCandidate[] }
}

/**
 * The four reads an AI reply is written from, in the order replyContextFrom()
 * takes their rows: the ticket, its newest public messages, the knowledge
 * base's full-text candidates and the words they were searched with. They do
 * not wait for each other (the retrieval reads the ticket's words in SQL), so
 * they are sent together, in one round trip.
 */
export function replyContextQueries(tenantId: string, ticketId: string): [SQL, SQL, SQL, SQL] {
  return [
    sql`select ${t.id} as id, ${t.number} as number, ${t.subject} as subject, ${t.status} as status,
             ${t.requesterId} as "requesterId", ${contactDisplayName} as "requesterName",
             ${tenants.name} as "tenantName", ${settingOf('aiReplyMode')} as mode
        from ${t}
        join ${tenants} on ${tenants.id} = ${t.tenantId}
        join ${contacts} on ${contacts.tenantId} = ${t.tenantId} and ${contacts.id} = ${t.requesterId}
        where ${t.tenantId} = ${tenantId} and ${t.id} = ${ticketId} and ${t.deletedAt} is null`,
    sql`select ${m.id} as id, ${m.authorType} as "authorType", left(${m.body}, ${MESSAGE_CHARS}) as body,
             ${isoTime(m.createdAt)} as "createdAt"
        from ${m}
        where ${m.tenantId} = ${tenantId} and ${m.ticketId} = ${ticketId}
          and not ${m.internal} and ${m.authorType} <> 'system'
        order by ${m.createdAt} desc, ${m.id} desc
        limit ${THREAD_MESSAGES}`,
    passagesQuery(tenantId, searchText(tenantId, ticketId)),
    sql`select coalesce(${searchText(tenantId, ticketId)}, '') as text`,
  ]
}

/**
 * The context from replyContextQueries()'s rows, with the articles the
 * provider's policy picks from the candidates; null when the ticket is gone.
 */
export function replyContextFrom(
  [ticketRows, newestFirst, candidates, searched]: Record<string, unknown>[][],
  policy: ArticlePolicy,
): ReplyContext | null {
  const ticket = ticketRows?.[0] as ReplyTicket | undefined
  if (!ticket) return null
  const thread = boundThread(newestFirst as ReplyContext['thread']).reverse()
  const passages = (candidates ?? []) as PassageCandidate[]
  const text = String(searched?.[0]?.text ?? '')
  return { ticket, thread, articles: pickArticles(passages, policy), search: { text, passages } }
}

/** Keeps the newest messages that fit in THREAD_CHARS (always at least the newest one). */
function boundThread<T extends { body: string }>(newestFirst: T[]): T[] {
  const kept: T[] = []
  let total = 0
  for (const message of newestFirst) {
    total += message.body.length
    if (kept.length > 0 && total > THREAD_CHARS) break
    kept.push(message)
  }
  return kept
}

/**
 * What the knowledge base is searched with: the subject, the message that
 * opened the ticket (whoever wrote it: an agent may open one for a customer on
 * the phone) and the latest public customer messages, what the customer is
 * asking about now.
 */
function searchText(tenantId: string, ticketId: string): SQL {
  const thread = sql`from ${m}
    where ${m.tenantId} = ${tenantId} and ${m.ticketId} = ${ticketId} and not ${m.internal}`
  return sql`(select ${t.subject} || coalesce(E'\n' || (
      select string_agg(c.body, E'\n') from (
        (select left(${m.body}, ${MESSAGE_CHARS}) as body ${thread} and ${m.authorType} <> 'system'
         order by ${m.createdAt}, ${m.id} limit 1)
        union
        (select left(${m.body}, ${MESSAGE_CHARS}) ${thread} and ${m.authorType} = 'customer'
         order by ${m.createdAt} desc, ${m.id} desc limit ${QUERY_MESSAGES})) c), '')
    from ${t}
    where ${t.tenantId} = ${tenantId} and ${t.id} = ${ticketId} and ${t.deletedAt} is null)`
}
