// The ai-reply processor: reads the ticket and its context in the job's tenant,
// asks the provider (AI_PROVIDER) for a reply, and stores it as a message with
// authorType `ai` and its sources.
//
// Where the reply goes: a job queued by a customer's message follows the
// tenant's aiReplyMode as it is when the job runs: `auto` posts it publicly,
// `draft` as an internal note for an agent to review, `off` (switched off since)
// skips it. A job requested on demand (POST /v1/tickets/{id}/ai-reply, no
// trigger message) is public in `auto` mode and an internal draft otherwise:
// an agent asked for it, so `off` still gets them a draft, never a public post.
// An AI reply stamps lastMessageAt when public but never moves the status: it
// may not have solved anything, so the ticket stays in the agents' queue.
//
// Idempotent: the message carries the job id under a unique index, so a retry
// (or a second worker retaking a stalled job) inserts nothing; a retry after a
// committed insert finds it first and does not even call the provider. The
// last failure writes an `ai.reply_failed` audit event in the tenant, which,
// like the job's error, holds a provider failure's code and safe message only.
import { UnrecoverableError } from 'bullmq'
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle } from '../../db/client.ts'
import type { MessageSource } from '../../db/schema/helpdesk.ts'
import { readAllInScope, readInScope, writeInScope } from '../../db/scoped.ts'
import { messageStamp } from '../../db/sql-fragments.ts'
import { recordAudit } from '../../domain/audit/record.ts'
import { publicFailureOf, readStoredError } from '../job-failure.ts'
import { outboxRow, type QueuedJob } from '../outbox.ts'
import type { Payload } from '../queues.ts'
import { markedSucceeded, type Processor } from '../run-job.ts'
import { providerFor } from './provider.ts'
import { AiProviderError } from './provider-errors.ts'
import { type ReplyContext, replyContextFrom, replyContextQueries } from './reply-context.ts'

type StoredReply = { id: string; internal: boolean }

export const processAiReply: Processor = async ({
  database,
  config,
  job,
  log,
  dispatch,
  succeedStatement,
}) => {
  const tenantId = job.tenantId
  if (!tenantId) throw new UnrecoverableError('an ai-reply job needs its tenant')
  const payload = job.payload as Payload<'ai-reply'>
  const provider = providerFor(config)

  // One round trip: an earlier attempt's reply and the context together (the
  // context is wasted only on a retry whose reply was already stored).
  const [existingRows, ...contextRows] = await readAllInScope(database, { tenantId }, [
    replyOfJob(tenantId, job.id),
    ...replyContextQueries(tenantId, payload.ticketId),
  ])
  const existing = existingRows?.[0] as StoredReply | undefined
  if (existing) {
    log.info({ messageId: existing.id }, 'ai reply already stored by an earlier attempt')
    return { messageId: existing.id, internal: existing.internal, replayed: true }
  }
  const context = replyContextFrom(contextRows, provider.articles)
  if (!context) throw new UnrecoverableError('ticket not found')
  const skip = reasonToSkip(context, payload)
  if (skip) {
    log.info({ reason: skip }, 'ai reply skipped')
    return { skipped: skip }
  }
  const internal = !(context.ticket.mode === 'auto')

  const reply = await provider
    .generateReply({
      tenantName: context.ticket.tenantName,
      ticket: context.ticket,
      requesterName: context.ticket.requesterName,
      thread: context.thread,
      articles: context.articles,
    })
    .catch((err: Error) => {
      // Whatever a provider throws reaches the tenant only as a code and a safe message.
      if (publicFailureOf(err)) throw err
      throw new AiProviderError('ai_provider_error', err.message)
    })

  const messageId = uuidv7()
  const result = {
    messageId,
    internal,
    provider: provider.name,
    sources: reply.sources.map((s) => s.id),
  }
  const stored = await storeReply(database, {
    tenantId,
    ticketId: payload.ticketId,
    jobId: job.id,
    messageId,
    body: reply.body,
    sources: reply.sources,
    internal,
    // The row is marked succeeded in the same statement when this run stored the reply.
    markSucceeded: succeedStatement(result, sql`exists (select from inserted)`),
  })
  if ('skipped' in stored) return { skipped: stored.skipped }
  await dispatch(stored.jobs)
  log.info(
    {
      messageId: stored.message.id,
      internal,
      provider: provider.name,
      sources: reply.sources.length,
    },
    'ai reply stored',
  )
  if (stored.message.id === messageId) return markedSucceeded(result)
  return { ...result, messageId: stored.message.id, internal: stored.message.internal }
}

processAiReply.onFinalFailure = async (tx, job, error) => {
  if (!job.tenantId) return
  const payload = job.payload as Payload<'ai-reply'>
  await recordAudit(tx, {
    tenantId: job.tenantId,
    action: 'ai.reply_failed',
    targetType: 'ticket',
    targetId: payload.ticketId,
    data: { jobId: job.id, attempts: job.attempts, error: auditedError(error) },
  })
}

/**
 * The failure as the audit log keeps it: the code and the safe message of a
 * provider failure; any other failure by a generic code (its text, our own,
 * stays on the job's row and in the log).
 */
function auditedError(stored: string): { code: string; message: string } {
  const { code, message } = readStoredError(stored)
  return code ? { code, message } : { code: 'ai_reply_error', message: 'The AI reply failed.' }
}

function reasonToSkip(context: ReplyContext, payload: Payload<'ai-reply'>): string | null {
  if (context.ticket.status === 'closed') return 'the ticket is closed'
  const trigger = payload.triggerMessageId
  if (!trigger) return null
  if (context.ticket.mode === 'off') return 'AI replies are off for this tenant'
  const latestCustomer = context.thread.findLast((m) => m.authorType === 'customer')
  // The newer message queued a job of its own, which answers the whole thread.
  if (latestCustomer && latestCustomer.id !== trigger) return 'a newer customer message'
  return null
}

function replyOfJob(tenantId: string, jobId: string): SQL {
  return sql`select id, internal from messages where tenant_id = ${tenantId} and job_id = ${jobId}`
}

/**
 * Stores the reply in one statement (one round trip): under the ticket's row
 * lock (so it cannot be closed or deleted underneath), the message unless this
 * job's reply exists, the ticket touched like by any message (its words added
 * to the search vectors), for a public reply the requester's email in the
 * outbox, and the job's row marked succeeded, all in one transaction.
 */
async function storeReply(
  database: DatabaseHandle,
  r: {
    tenantId: string
    ticketId: string
    jobId: string
    messageId: string
    body: string
    sources: MessageSource[]
    internal: boolean
    /** an UPDATE of the job's row, run as a CTE beside the insert */
    markSucceeded: SQL
  },
): Promise<{ skipped: string } | { message: StoredReply; jobs: QueuedJob[] }> {
  const email = r.internal
    ? null
    : outboxRow({
        tenantId: r.tenantId,
        queue: 'email',
        payload: { template: 'ticket-reply', messageId: r.messageId },
      })
  const queueEmail = email
    ? sql`, emailed as (
          insert into jobs (id, tenant_id, type, payload, max_attempts)
          select ${email.id}, ${r.tenantId}, ${email.queue}, ${JSON.stringify(email.payload)}::jsonb,
                 ${email.maxAttempts}
          from inserted)`
    : sql``
  const [row] = await writeInScope<{
    status: string | null
    id: string | null
    internal: boolean | null
  }>(
    database,
    { tenantId: r.tenantId },
    sql`with ticket as (
          select status from tickets
          where tenant_id = ${r.tenantId} and id = ${r.ticketId} and deleted_at is null
          for update
        ), inserted as (
          insert into messages
            (id, tenant_id, ticket_id, author_id, author_type, body, internal, sources, job_id)
          select ${r.messageId}, ${r.tenantId}, ${r.ticketId}, null, 'ai', ${r.body}, ${r.internal},
                 ${JSON.stringify(r.sources)}::jsonb, ${r.jobId}
          from ticket where status <> 'closed'
          on conflict (job_id) where job_id is not null do nothing
          returning id, internal
        ), stamped as (
          update tickets set ${messageStamp({ body: r.body, internal: r.internal })}
          where tenant_id = ${r.tenantId} and id = ${r.ticketId} and exists (select from inserted)
        ), marked as (${r.markSucceeded})${queueEmail}
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
  const jobs = email ? [{ id: email.id, queue: email.queue, tenantId: r.tenantId }] : []
  return { message: { id: row.id, internal: row.internal }, jobs }
}
