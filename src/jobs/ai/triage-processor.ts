// The ai-triage processor: a ticket's triage (queued with a new ticket when the
// tenant's aiTriage is `suggest` or `apply`) or its summary (queued on demand by
// POST /v1/tickets/{id}/ai/summarize), stored on the ticket's `ai` column
// (domain/ai/ticket-ai.ts).
//
// One pipelined read gets the tenant's AI settings, the month's tokens, the
// ticket (with aiTriage as it is now: a triage switched off since is skipped),
// its thread and the tenant's tags. Past the monthly budget the job fails with
// ai_budget_exceeded and no call. The `openai` provider is asked for a JSON
// object (response_format json_object) that must pass the TypeBox schema: a
// reply that is not JSON or not valid is recorded as a failed generation (its
// tokens count) and thrown, so the job's own attempts retry it and the last one
// fails the job, audited; nothing of an invalid answer is ever stored. Suggested
// tags the tenant does not use are dropped.
//
// The builtin provider (no network) writes a plain triage from the text: the
// first sentence of the first message as the summary, sentiment from a short
// word list, the language `und` (undetermined), the ticket's own priority and
// no tags. So `apply` with it never changes a ticket: a priority from keywords
// would be one a customer could ask for by writing "urgent". The noop provider
// skips.
import { UnrecoverableError } from 'bullmq'
import type { TicketAi } from '../../db/schema/helpdesk.ts'
import { readAllInScope } from '../../db/scoped.ts'
import { monthTokensQuery, recordGeneration } from '../../domain/ai/generations.ts'
import { resolveFrom, type StoredSettings, storedSettingsQuery } from '../../domain/ai/settings.ts'
import {
  knownTags,
  parseAnswer,
  SummaryAnswer,
  storeTicketAi,
  TriageAnswer,
  type TriageMessage,
  type TriageTicket,
  ticketAiQueries,
} from '../../domain/ai/ticket-ai.ts'
import { recordAudit } from '../../domain/audit/record.ts'
import { publicFailureOf, readStoredError, storedFailure } from '../../domain/jobs/failures.ts'
import { aiTriageOn } from '../../domain/tenants/settings.ts'
import { secretBoxOf } from '../../lib/secret-box.ts'
import type { Payload } from '../queues.ts'
import { markedSucceeded, type Processor } from '../run-job.ts'
import { completeJson } from './openai-provider.ts'
import { providerFor } from './provider.ts'
import { AiBudgetExceeded, AiProviderError } from './provider-errors.ts'
import { buildTicketAiMessages } from './triage-prompt.ts'

export const processAiTriage: Processor = async ({
  database,
  config,
  job,
  log,
  succeedStatement,
}) => {
  const tenantId = job.tenantId
  if (!tenantId) throw new UnrecoverableError('an ai-triage job needs its tenant')
  const { ticketId, task } = job.payload as Payload<'ai-triage'>

  const [settingsRows, usedRows, ticketRows, thread, tagRows] = await readAllInScope(
    database,
    { tenantId },
    [
      storedSettingsQuery(tenantId),
      monthTokensQuery(tenantId),
      ...ticketAiQueries(tenantId, ticketId),
    ],
  )
  const ticket = ticketRows?.[0] as TriageTicket | undefined
  if (!ticket) throw new UnrecoverableError('ticket not found')
  if (task === 'triage' && !aiTriageOn(ticket.aiTriage)) {
    log.info('ai triage skipped: switched off for this tenant')
    return { skipped: 'AI triage is off for this tenant' }
  }
  const settings = resolveFrom(
    (settingsRows?.[0] as StoredSettings | undefined) ?? null,
    secretBoxOf(config),
    config,
    tenantId,
  )
  if (settings.provider === 'noop') return { skipped: 'the AI provider is noop' }
  const used = Number((usedRows?.[0] as { used?: number } | undefined)?.used ?? 0)
  if (settings.monthlyTokenBudget !== null && used >= settings.monthlyTokenBudget) {
    throw new AiBudgetExceeded(
      `monthly token budget ${settings.monthlyTokenBudget} reached (${used} used)`,
    )
  }
  const messages = thread as TriageMessage[]
  const vocabulary = (tagRows as { tag: string }[]).map((r) => r.tag)
  const provider = providerFor(config, settings)
  const generation = {
    tenantId,
    kind: task,
    ticketId,
    provider: provider.name,
    model: provider.model,
  }
  const started = performance.now()
  let answer: TriageAnswer | SummaryAnswer
  if (settings.provider === 'openai') {
    const prompt = buildTicketAiMessages({
      task,
      tenantName: ticket.tenantName,
      ticket,
      thread: messages,
      tags: vocabulary,
    })
    const failed = async (
      err: Error,
      usage?: { promptTokens: number; completionTokens: number },
    ) => {
      const error = publicFailureOf(err)
        ? err
        : new AiProviderError('ai_provider_error', err.message)
      await recordGeneration(database, {
        ...generation,
        ...usage,
        latencyMs: performance.now() - started,
        outcome: 'error',
        error: storedFailure(publicFailureOf(error)!),
      }).catch((e: Error) => log.warn({ err: e.message }, 'generation not recorded'))
      return error
    }
    const reply = await completeJson(config, settings, prompt).catch(async (err: Error) => {
      throw await failed(err)
    })
    const parsed =
      task === 'triage'
        ? parseAnswer(TriageAnswer, reply.content)
        : parseAnswer(SummaryAnswer, reply.content)
    if (!parsed) {
      // The job's attempts retry it; nothing of it is stored.
      throw await failed(
        new AiProviderError(
          'ai_provider_error',
          `malformed ${task} answer from the AI provider: not the JSON object asked for`,
        ),
        reply.usage,
      )
    }
    answer = parsed
    await recordGeneration(database, {
      ...generation,
      ...reply.usage,
      latencyMs: performance.now() - started,
      outcome: 'ok',
    })
  } else {
    answer = builtinTriage(ticket, messages)
    await recordGeneration(database, {
      ...generation,
      latencyMs: performance.now() - started,
      outcome: 'ok',
    })
  }

  const generatedAt = new Date().toISOString()
  const ai: TicketAi =
    task === 'triage' && 'sentiment' in answer
      ? {
          summary: answer.summary,
          language: answer.language,
          sentiment: answer.sentiment,
          suggestedPriority: answer.suggestedPriority,
          suggestedTags: knownTags(answer.suggestedTags, vocabulary),
          generatedAt,
        }
      : { summary: answer.summary, generatedAt }
  const stored = await storeTicketAi(database, {
    tenantId,
    ticketId,
    ai,
    kind: task,
    apply: task === 'triage' && ticket.aiTriage === 'apply',
    markSucceeded: (applied) => succeedStatement({ task, provider: provider.name, applied }),
  })
  if (!stored.stored) return { skipped: stored.reason }
  const applied = Object.keys(stored.applied)
  log.info({ task, applied }, `ai ${task} stored`)
  return markedSucceeded({ task, provider: provider.name, applied })
}

processAiTriage.onFinalFailure = async (tx, job, error) => {
  if (!job.tenantId) return
  const { ticketId, task } = job.payload as Payload<'ai-triage'>
  const { code, message } = readStoredError(error)
  await recordAudit(tx, {
    tenantId: job.tenantId,
    action: task === 'triage' ? 'ai.triage_failed' : 'ai.summary_failed',
    targetType: 'ticket',
    targetId: ticketId,
    data: {
      jobId: job.id,
      attempts: job.attempts,
      error: code
        ? { code, message }
        : { code: `ai_${task}_error`, message: `The AI ${task} failed.` },
    },
  })
}

const NEGATIVE = [
  'angry',
  'annoyed',
  'awful',
  'bad',
  'broken',
  'cancel',
  'disappointed',
  'error',
  'fail',
  'failed',
  'frustrated',
  'horrible',
  'refund',
  'terrible',
  'unacceptable',
  'unhappy',
  'worst',
  'wrong',
  'not working',
  "doesn't work",
  'does not work',
]
const POSITIVE = [
  'appreciate',
  'awesome',
  'excellent',
  'glad',
  'great',
  'happy',
  'love',
  'perfect',
  'thank',
  'thanks',
  'wonderful',
]

/** The builtin provider's triage: plain heuristics, no model, nothing it could be talked into. */
export function builtinTriage(
  ticket: Pick<TriageTicket, 'subject' | 'priority'>,
  thread: TriageMessage[],
): TriageAnswer {
  const first = thread.find((m) => m.authorType === 'customer') ?? thread[0]
  const text = (first?.body ?? '').replace(/\s+/g, ' ').trim()
  const sentence = text.match(/^.*?[.!?](?=\s|$)/)?.[0] ?? text
  const summary = (sentence || ticket.subject).slice(0, 300)
  const words = ` ${thread
    .filter((m) => m.authorType === 'customer')
    .map((m) => m.body)
    .join(' ')
    .toLowerCase()} `
  const count = (list: string[]) => list.filter((w) => new RegExp(`\\b${w}`).test(words)).length
  const negative = count(NEGATIVE)
  const positive = count(POSITIVE)
  return {
    summary,
    language: 'und',
    sentiment: negative > positive ? 'negative' : positive > negative ? 'positive' : 'neutral',
    suggestedPriority: ticket.priority,
    suggestedTags: [],
  }
}
