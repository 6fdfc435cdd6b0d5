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
// last failure writes an `ai.reply_failed` audit event in the tenant.
import { UnrecoverableError } from 'bullmq'
import { sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx, Tx } from '../src/db/client.ts'
import { selectRows } from '../src/db/raw-query.ts'
import type { MessageSource } from '../src/db/schema/helpdesk.ts'
import { withTenant } from '../src/db/tenant-transaction.ts'
import { insertJob, type QueuedJob } from '../src/jobs/outbox.ts'
import type { Payload } from '../src/jobs/queues.ts'
import { recordAudit } from '../src/lib/audit.ts'
import { providerFor } from './ai/provider.ts'
import { loadReplyContext, type ReplyContext } from './ai/reply-context.ts'
import type { Processor } from './run-job.ts'

type StoredReply = { id: string; internal: boolean }

export const processAiReply: Processor = async ({ db, config, job, log, dispatch }) => {
  const tenantId = job.tenantId
  if (!tenantId) throw new UnrecoverableError('an ai-reply job needs its tenant')
  const payload = job.payload as Payload<'ai-reply'>
  const provider = providerFor(config)

  // Both at once (pipelined on the transaction's connection); the context is
  // wasted only on a retry whose reply was already stored.
  const loaded = await withTenant(db, tenantId, async (tx) => {
    const [existing, context] = await Promise.all([
      replyOfJob(tx, tenantId, job.id),
      loadReplyContext(tx, tenantId, payload.ticketId),
    ])
    return existing ? { existing } : { context }
  })
  if (loaded.existing) {
    log.info({ messageId: loaded.existing.id }, 'ai reply already stored by an earlier attempt')
    return { messageId: loaded.existing.id, internal: loaded.existing.internal, replayed: true }
  }
  const context = loaded.context
  if (!context) throw new UnrecoverableError('ticket not found')
  const skip = reasonToSkip(context, payload)
  if (skip) {
    log.info({ reason: skip }, 'ai reply skipped')
    return { skipped: skip }
  }
  const internal = !(context.ticket.mode === 'auto')

  const reply = await provider.generateReply({
    tenantName: context.ticket.tenantName,
    ticket: context.ticket,
    requesterName: context.ticket.requesterName,
    thread: context.thread,
    articles: context.articles,
  })

  const stored = await withTenant(db, tenantId, (tx) =>
    storeReply(tx, {
      tenantId,
      ticketId: payload.ticketId,
      jobId: job.id,
      body: reply.body,
      sources: reply.sources,
      internal,
    }),
  )
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
  return {
    messageId: stored.message.id,
    internal: stored.message.internal,
    provider: provider.name,
    sources: reply.sources.map((s) => s.id),
  }
}

processAiReply.onFinalFailure = async (tx, job, error) => {
  if (!job.tenantId) return
  const payload = job.payload as Payload<'ai-reply'>
  await recordAudit(tx, {
    tenantId: job.tenantId,
    action: 'ai.reply_failed',
    targetType: 'ticket',
    targetId: payload.ticketId,
    data: { jobId: job.id, attempts: job.attempts, error },
  })
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

async function replyOfJob(tx: DbOrTx, tenantId: string, jobId: string) {
  const [row] = await selectRows<StoredReply>(
    tx,
    sql`select id, internal from messages where tenant_id = ${tenantId} and job_id = ${jobId}`,
  )
  return row ?? null
}

/**
 * Inserts the reply under the ticket's row lock (so it cannot be closed or
 * deleted underneath), touches the ticket like any message, and for a public
 * reply queues the requester's email in the same transaction.
 */
async function storeReply(
  tx: Tx,
  r: {
    tenantId: string
    ticketId: string
    jobId: string
    body: string
    sources: MessageSource[]
    internal: boolean
  },
): Promise<{ skipped: string } | { message: StoredReply; jobs: QueuedJob[] }> {
  const [ticket] = await selectRows<{ status: string }>(
    tx,
    sql`select status from tickets
        where tenant_id = ${r.tenantId} and id = ${r.ticketId} and deleted_at is null
        for update`,
  )
  if (!ticket) return { skipped: 'the ticket was deleted' }
  if (ticket.status === 'closed') return { skipped: 'the ticket is closed' }
  const [inserted] = await selectRows<StoredReply>(
    tx,
    sql`insert into messages
          (id, tenant_id, ticket_id, author_id, author_type, body, internal, sources, job_id)
        values (${uuidv7()}, ${r.tenantId}, ${r.ticketId}, null, 'ai', ${r.body}, ${r.internal},
                ${JSON.stringify(r.sources)}::jsonb, ${r.jobId})
        on conflict (job_id) where job_id is not null do nothing
        returning id, internal`,
  )
  if (!inserted) {
    // Another run of this job got there first (its transaction held the key).
    const existing = await replyOfJob(tx, r.tenantId, r.jobId)
    if (!existing) throw new Error('the reply key is taken but no reply is stored')
    return { message: existing, jobs: [] }
  }
  const stamp = r.internal ? sql`` : sql`, last_message_at = now()`
  await tx.execute(
    sql`update tickets set version = version + 1, updated_at = now()${stamp}
        where tenant_id = ${r.tenantId} and id = ${r.ticketId}`,
  )
  const jobs = r.internal
    ? []
    : [
        await insertJob(tx, {
          tenantId: r.tenantId,
          queue: 'email',
          payload: { template: 'ticket-reply', messageId: inserted.id },
        }),
      ]
  return { message: inserted, jobs }
}
