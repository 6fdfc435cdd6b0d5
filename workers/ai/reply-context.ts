// What an AI reply is written from, read in the job's tenant: the ticket (with
// the tenant's name and current aiReplyMode), its public thread (customer,
// agent and AI messages, no internal notes or status lines, newest last,
// bounded in count and size so a prompt stays small), and the published
// knowledge-base articles that match the customer's latest words. The worker
// keeps its own queries here rather than import the api's modules.
import { sql } from 'drizzle-orm'
import type { DbOrTx } from '../../src/db/client.ts'
import { selectRows } from '../../src/db/raw-query.ts'
import type { TicketStatus } from '../../src/db/schema/helpdesk.ts'
import { isoTime } from '../../src/db/sql-fragments.ts'
import { retrieveArticles } from './kb-retrieval.ts'
import type { RetrievedArticle, ThreadMessage } from './provider.ts'

const THREAD_MESSAGES = 20
const MESSAGE_CHARS = 2000
const THREAD_CHARS = 12_000
/** How many of the latest customer messages the knowledge-base search reads. */
const QUERY_MESSAGES = 3

export type ReplyTicket = {
  id: string
  number: number
  subject: string
  status: TicketStatus
  requesterId: string
  requesterName: string
  tenantName: string
  mode: 'off' | 'draft' | 'auto'
}

export type ReplyContext = {
  ticket: ReplyTicket
  thread: (ThreadMessage & { id: string })[]
  articles: RetrievedArticle[]
}

export async function loadReplyContext(
  tx: DbOrTx,
  tenantId: string,
  ticketId: string,
): Promise<ReplyContext | null> {
  // Sent together: the ticket and its thread are independent, and on one
  // connection in a transaction postgres.js pipelines them (one round trip).
  const [[ticket], newestFirst] = await Promise.all([
    selectRows<ReplyTicket>(
      tx,
      sql`select t.id, t.number, t.subject, t.status, t.requester_id as "requesterId",
               u.name as "requesterName", ten.name as "tenantName",
               coalesce(ten.settings ->> 'aiReplyMode', 'off') as mode
        from tickets t
        join tenants ten on ten.id = t.tenant_id
        join users u on u.id = t.requester_id
        where t.tenant_id = ${tenantId} and t.id = ${ticketId} and t.deleted_at is null`,
    ),
    selectRows<ThreadMessage & { id: string }>(
      tx,
      sql`select id, author_type as "authorType", left(body, ${MESSAGE_CHARS}) as body,
               ${isoTime(sql`created_at`)} as "createdAt"
        from messages
        where tenant_id = ${tenantId} and ticket_id = ${ticketId}
          and not internal and author_type <> 'system'
        order by created_at desc, id desc
        limit ${THREAD_MESSAGES}`,
    ),
  ])
  if (!ticket) return null
  const thread = boundThread(newestFirst).reverse()
  const articles = await retrieveArticles(tx, tenantId, searchText(ticket, thread))
  return { ticket, thread, articles }
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

/** The subject and the latest customer messages: what the customer is asking about now. */
function searchText(ticket: ReplyTicket, thread: ThreadMessage[]): string {
  const latest = thread
    .filter((m) => m.authorType === 'customer')
    .slice(-QUERY_MESSAGES)
    .map((m) => m.body)
  return [ticket.subject, ...latest].join('\n')
}
