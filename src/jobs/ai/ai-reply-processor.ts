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
import { uuidv7 } from 'uuidv7'
import { readAllInScope } from '../../db/scoped.ts'
import { monthTokensQuery, recordGeneration } from '../../domain/ai/generations.ts'
import { withMeaning } from '../../domain/ai/kb-retrieval.ts'
import {
  type ReplyContext,
  replyContextFrom,
  replyContextQueries,
} from '../../domain/ai/reply-context.ts'
import { replyOfJob, type StoredReply, storeReply } from '../../domain/ai/reply-store.ts'
import { resolveFrom, type StoredSettings, storedSettingsQuery } from '../../domain/ai/settings.ts'
import { recordAudit } from '../../domain/audit/record.ts'
import { publicFailureOf, readStoredError, storedFailure } from '../../domain/jobs/failures.ts'
import { secretBoxOf } from '../../lib/secret-box.ts'
import type { Payload } from '../queues.ts'
import { markedSucceeded, type Processor } from '../run-job.ts'
import { embedderFor } from './openai-embeddings.ts'
import { providerFor } from './provider.ts'
import { AiBudgetExceeded, AiProviderError } from './provider-errors.ts'

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

  // One round trip: an earlier attempt's reply, the tenant's AI settings and
  // month's tokens, and the context together (the context is wasted only on a
  // retry whose reply was already stored).
  const [existingRows, settingsRows, usedRows, ...contextRows] = await readAllInScope(
    database,
    { tenantId },
    [
      replyOfJob(tenantId, job.id),
      storedSettingsQuery(tenantId),
      monthTokensQuery(tenantId),
      ...replyContextQueries(tenantId, payload.ticketId),
    ],
  )
  const existing = existingRows?.[0] as StoredReply | undefined
  if (existing) {
    log.info({ messageId: existing.id }, 'ai reply already stored by an earlier attempt')
    return { messageId: existing.id, internal: existing.internal, replayed: true }
  }
  const settings = resolveFrom(
    (settingsRows?.[0] as StoredSettings | undefined) ?? null,
    secretBoxOf(config),
    config,
    tenantId,
  )
  const provider = providerFor(config, settings)
  const context = replyContextFrom(contextRows, provider.articles)
  if (!context) throw new UnrecoverableError('ticket not found')
  // With the tenant's embedding model, the full-text candidates are fused with the
  // passages closest in meaning; a failing embedding call costs only that.
  const embedder = embedderFor(config, settings)
  if (embedder) {
    const retrieval = await withMeaning(
      database,
      tenantId,
      context.search.text,
      context.search.passages,
      {
        policy: provider.articles,
        embedder,
        onFallback: (err) =>
          log.warn({ err: (err as Error).message }, 'embeddings failed; full-text retrieval only'),
      },
    )
    context.articles = retrieval.articles
  }
  const skip = reasonToSkip(context, payload)
  if (skip) {
    log.info({ reason: skip }, 'ai reply skipped')
    return { skipped: skip }
  }
  const internal = !(context.ticket.mode === 'auto')
  const used = Number((usedRows?.[0] as { used?: number } | undefined)?.used ?? 0)
  if (settings.monthlyTokenBudget !== null && used >= settings.monthlyTokenBudget) {
    throw new AiBudgetExceeded(
      `monthly token budget ${settings.monthlyTokenBudget} reached (${used} used)`,
    )
  }

  const generation = {
    tenantId,
    kind: 'reply' as const,
    ticketId: payload.ticketId,
    provider: provider.name,
    model: provider.model,
  }
  const started = performance.now()
  const reply = await provider
    .generateReply({
      tenantName: context.ticket.tenantName,
      ticket: context.ticket,
      requesterName: context.ticket.requesterName,
      thread: context.thread,
      articles: context.articles,
    })
    .catch(async (err: Error) => {
      // Whatever a provider throws reaches the tenant only as a code and a safe message.
      const error = publicFailureOf(err)
        ? err
        : new AiProviderError('ai_provider_error', err.message)
      await recordGeneration(database, {
        ...generation,
        latencyMs: performance.now() - started,
        outcome: 'error',
        error: storedFailure(publicFailureOf(error)!),
      }).catch((e: Error) => log.warn({ err: e.message }, 'generation not recorded'))
      throw error
    })
  await recordGeneration(database, {
    ...generation,
    ...reply.usage,
    latencyMs: performance.now() - started,
    sources: reply.sources,
    outcome: reply.sources.length === 0 && provider.name === 'builtin' ? 'handoff' : 'ok',
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
    markSucceeded: (stored) => succeedStatement(result, stored),
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
