// Where an AI reply is written: the message that carries the job's id (a
// unique key, so a retried or retaken job never posts twice), the ticket
// stamped like by any message, and for a public reply the requester's email
// in the outbox, all in one statement.
import { type SQL, sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { type MessageSource, messages, tickets } from '../../db/schema/helpdesk.ts'
import { readInScope, writeInScope } from '../../db/scoped.ts'
import { bare } from '../../db/sql-fragments.ts'
import { outboxInsert, type QueuedJob } from '../../jobs/outbox.ts'
import { messageStamp } from '../tickets/ticket-stamps.ts'

export type StoredReply = { id: string; internal: boolean }

/** The reply an earlier run of the job stored, if any (a read to pipeline with others). */
export function replyOfJob(tenantId: string, jobId: string): SQL {
  return sql`select ${messages.id} as id, ${messages.internal} as internal from ${messages}
    where ${messages.tenantId} = ${tenantId} and ${messages.jobId} = ${jobId}`
}

const m = messages
const messageColumns = sql.join(
  [
    m.id,
    m.tenantId,
    m.ticketId,
    m.authorId,
    m.authorType,
    m.body,
    m.internal,
    m.sources,
    m.jobId,
  ].map(bare),
  sql`, `,
)

/**
 * Stores the reply in one statement (one round trip): under the ticket's row
 * lock (so it cannot be closed or deleted underneath), the message unless this
 * job's reply exists, the ticket touched like by any message (its words added
 * to the search vectors), for a public reply the requester's email in the
 * outbox, and the job's row marked succeeded, all in one transaction.
 */
export async function storeReply(
  database: DatabaseHandle,
  r: {
    tenantId: string
    ticketId: string
    jobId: string
    messageId: string
    body: string
    sources: MessageSource[]
    internal: boolean
    /** the UPDATE marking the job's row succeeded where `stored` holds, run as a CTE beside the insert */
    markSucceeded: (stored: SQL) => SQL
  },
): Promise<{ skipped: string } | { message: StoredReply; jobs: QueuedJob[] }> {
  const email = r.internal
    ? null
    : outboxInsert(
        {
          tenantId: r.tenantId,
          queue: 'email',
          payload: { template: 'ticket-reply', messageId: r.messageId },
        },
        sql`inserted`,
      )
  const queueEmail = email ? sql`, emailed as (${email.statement})` : sql``
  const [row] = await writeInScope<{
    status: string | null
    id: string | null
    internal: boolean | null
  }>(
    database,
    { tenantId: r.tenantId },
    sql`with ticket as (
          select ${tickets.status} as status from ${tickets}
          where ${tickets.tenantId} = ${r.tenantId} and ${tickets.id} = ${r.ticketId}
            and ${tickets.deletedAt} is null
          for update
        ), inserted as (
          insert into ${m} (${messageColumns})
          select ${r.messageId}, ${r.tenantId}, ${r.ticketId}, null, 'ai', ${r.body}, ${r.internal},
                 ${JSON.stringify(r.sources)}::jsonb, ${r.jobId}
          from ticket where status <> 'closed'
          on conflict (${bare(m.jobId)}) where ${bare(m.jobId)} is not null do nothing
          returning ${bare(m.id)} as id, ${bare(m.internal)} as internal
        ), stamped as (
          update ${tickets} set ${messageStamp({ body: r.body, internal: r.internal })}
          where ${tickets.tenantId} = ${r.tenantId} and ${tickets.id} = ${r.ticketId}
            and exists (select from inserted)
        ), marked as (${r.markSucceeded(sql`exists (select from inserted)`)})${queueEmail}
        select (select status from ticket) as status, inserted.id, inserted.internal
        from (select) one left join inserted on true`,
  )
  if (!row?.status) return { skipped: 'the ticket was deleted' }
  if (row.status === 'closed') return { skipped: 'the ticket is closed' }
  if (row.id === null || row.internal === null) {
    // Another run of this job got there first (its transaction held the key).
    const [existing] = await readInScope<StoredReply>(
      database,
      { tenantId: r.tenantId },
      replyOfJob(r.tenantId, r.jobId),
    )
    if (!existing) throw new Error('the reply key is taken but no reply is stored')
    return { message: existing, jobs: [] }
  }
  return { message: { id: row.id, internal: row.internal }, jobs: email ? [email.queued] : [] }
}
