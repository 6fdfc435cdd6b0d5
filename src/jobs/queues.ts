// The queues the api and the worker share: names, payload schemas and retry
// options, one definition each. Payloads carry ids only, never secrets or
// message text: the processor loads what it needs (and mints any one-time token
// itself, so a raw token never sits in Redis or the job table).
import { type Static, type TLiteral, Type } from 'typebox'

const Id = Type.String({ format: 'uuid' })

/** One email template's payload: its name and the id of the row it is about. */
function emailFor<T extends string, K extends string>(template: T, idField: K) {
  const properties = { template: Type.Literal(template), [idField]: Id } as {
    template: TLiteral<T>
  } & Record<K, typeof Id>
  return Type.Object(properties, { additionalProperties: false })
}

const EmailPayload = Type.Union([
  emailFor('verify-email', 'userId'),
  emailFor('password-reset', 'userId'),
  emailFor('account-locked', 'userId'),
  emailFor('invitation', 'invitationId'),
  emailFor('ticket-reply', 'messageId'),
  emailFor('ticket-created', 'ticketId'),
  emailFor('webhook-disabled', 'webhookId'),
])

const AiReplyPayload = Type.Object(
  { ticketId: Id, triggerMessageId: Type.Optional(Id) },
  { additionalProperties: false },
)

// The AI's look at a ticket: `triage` (queued with a new ticket when the
// tenant's aiTriage is on) or `summary` (POST /v1/tickets/{id}/ai/summarize).
// A malformed answer is retried by the job's attempts, then the job fails.
const AiTriagePayload = Type.Object(
  { ticketId: Id, task: Type.Union([Type.Literal('triage'), Type.Literal('summary')]) },
  { additionalProperties: false },
)

// One attempt at a webhook delivery. Its retries over 3 days are new jobs the
// processor schedules (jobs/webhooks/); maxAttempts covers only a run that
// crashed or lost its database. `manual`: a test or a redeliver, one attempt
// whatever the delivery's state, never retried.
const WebhookPayload = Type.Object(
  { deliveryId: Id, manual: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
)

export const queues = {
  email: { payload: EmailPayload, maxAttempts: 8 },
  'ai-reply': { payload: AiReplyPayload, maxAttempts: 4 },
  'ai-triage': { payload: AiTriagePayload, maxAttempts: 3 },
  webhook: { payload: WebhookPayload, maxAttempts: 3 },
} as const

export type QueueName = keyof typeof queues
export type Payload<Q extends QueueName> = Static<(typeof queues)[Q]['payload']>
export const queueNames = Object.keys(queues) as QueueName[]

/** What a BullMQ job carries besides its id (= the outbox row id): the row's tenant, to scope its reads. */
export type JobData = { tenantId: string | null }

/**
 * BullMQ's key prefix: the deployment's Redis prefix as a hash tag, `{dp}`, so
 * that every key of every queue (`{dp}:email:wait`, `{dp}:ai-reply:<id>`, ...)
 * lands in one Redis Cluster slot, as BullMQ's multi-key scripts need there.
 * Rate limits (`dp:rl:...`) and the caches' pub/sub channels stay under the
 * plain prefix: single-key operations, free to spread over the cluster.
 */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}}`
}

const BACKOFF_MS = 2000

/** BullMQ options every job gets: exponential backoff, bounded history in Redis. */
export function jobOptions(queue: QueueName, jobId: string) {
  return {
    jobId,
    attempts: queues[queue].maxAttempts,
    backoff: { type: 'exponential', delay: BACKOFF_MS, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 86_400 },
  }
}

/** The longest wait before attempt `attempt + 1` (the exponential backoff above, before jitter). */
export function backoffDelayMs(attempt: number): number {
  return BACKOFF_MS * 2 ** Math.max(0, attempt - 1)
}
