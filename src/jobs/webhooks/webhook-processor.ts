// One attempt at a webhook delivery (API.md, "Events, webhooks and the live
// stream"). The attempt and what follows from it are written in one
// transaction: the outcome appended to the delivery's log, and either success,
// the next attempt as a new job at its backoff time (lib/webhooks/backoff.ts,
// honouring Retry-After), or the end of the retries. The webhook-id is the
// event's id, so every attempt of a delivery carries the same one.
//
// An attempt that never ends (a worker killed mid-request) leaves the job
// running: BullMQ retakes it and the attempt is made again, at least once
// being the promise. A delivery already succeeded, failed for good or
// cancelled is skipped, unless a member asked for the attempt (test,
// redeliver: `manual`, one attempt, never retried).
//
// One slow or dead endpoint must not hold the worker's slots: while an
// endpoint fails, this process makes one attempt at it at a time, and a
// healthy one gets at most three quarters of the slots (in-flight.ts); an
// attempt over that share is put off a little, without an attempt.
// An endpoint that has failed every delivery for 3 days is turned off, with an
// audit event and an email to the tenant's admins.
import { type SQL, sql } from 'drizzle-orm'
import type { Config } from '../../config.ts'
import type { DatabaseHandle, Tx } from '../../db/client.ts'
import {
  type DeliveryAttempt,
  webhookDeliveries,
  webhookEndpoints,
} from '../../db/schema/webhooks.ts'
import { readInScope, rowsOf, withScope, writeInScope } from '../../db/scoped.ts'
import { recordAudit } from '../../domain/audit/record.ts'
import { cancelPendingDeliveries, secretContext } from '../../domain/webhooks/endpoints.ts'
import { secretBoxOf } from '../../lib/secret-box.ts'
import { type BackoffPolicy, nextAttemptAt, WEBHOOK_BACKOFF } from '../../lib/webhooks/backoff.ts'
import { type DeliveryResult, deliverWebhook } from '../../lib/webhooks/deliver.ts'
import { insertJob, type QueuedJob } from '../outbox.ts'
import type { Payload } from '../queues.ts'
import { markedSucceeded, type Processor, type ProcessorContext } from '../run-job.ts'
import { endpointSlots } from './in-flight.ts'

const d = webhookDeliveries
const w = webhookEndpoints

type Target = {
  id: string
  eventId: string
  type: string
  occurredAt: string
  data: unknown
  state: string
  attemptCount: number
  firstAttemptAt: string | null
  nextAttemptAt: string | null
  endpointId: string
  url: string
  active: boolean
  failing: boolean
  secret: string
  previousSecret: string | null
}

/** The backoff of the settings: WEBHOOK_BACKOFF_SCALE shrinks every wait and the 3 days alike. */
export function backoffPolicy(config: Config): BackoffPolicy {
  const scale = config.WEBHOOK_BACKOFF_SCALE
  return {
    firstDelayMs: WEBHOOK_BACKOFF.firstDelayMs * scale,
    maxDelayMs: WEBHOOK_BACKOFF.maxDelayMs * scale,
    minDelayMs: WEBHOOK_BACKOFF.minDelayMs * scale,
    giveUpAfterMs: WEBHOOK_BACKOFF.giveUpAfterMs * scale,
  }
}

async function readTarget(database: DatabaseHandle, tenantId: string, deliveryId: string) {
  const [row] = await readInScope<Target>(
    database,
    { tenantId },
    sql`select ${d.id} as id, ${d.eventId} as "eventId", ${d.type} as type,
               ${d.occurredAt} as "occurredAt", ${d.data} as data, ${d.state} as state,
               jsonb_array_length(${d.attempts})::int as "attemptCount",
               ${d.firstAttemptAt} as "firstAttemptAt", ${d.nextAttemptAt} as "nextAttemptAt",
               ${w.id} as "endpointId", ${w.url} as url, ${w.active} as active,
               (${w.failingSince} is not null) as failing, ${w.secret} as secret,
               case when ${w.previousSecretExpiresAt} > now() then ${w.previousSecret} end
                 as "previousSecret"
        from ${d} join ${w} on ${w.tenantId} = ${d.tenantId} and ${w.id} = ${d.endpointId}
        where ${d.tenantId} = ${tenantId} and ${d.id} = ${deliveryId}`,
  )
  return row
}

/**
 * Signing secrets opened once per process and sealed value (a rotation seals a
 * new value, so a stale entry is never used), not at every attempt.
 */
const opened = new Map<string, string>()
function openedSecret(config: Config, endpointId: string, sealed: string): string {
  const key = `${endpointId}:${sealed}`
  let secret = opened.get(key)
  if (secret === undefined) {
    secret = secretBoxOf(config).open(sealed, secretContext(endpointId))
    if (opened.size >= 10_000) opened.clear()
    opened.set(key, secret)
  }
  return secret
}

export const processWebhook: Processor = async (ctx) => {
  const { job, database, config } = ctx
  const payload = job.payload as Payload<'webhook'>
  const tenantId = job.tenantId as string
  const manual = payload.manual === true
  const target = await readTarget(database, tenantId, payload.deliveryId)
  if (!target) return { skipped: 'delivery or endpoint gone' }
  if (!manual && target.state !== 'pending') return { skipped: `delivery ${target.state}` }
  if (!manual && !target.active) {
    // Turned off since this job was queued (turning it off cancels what waits, so this is a race).
    await withScope(database, { tenantId }, (tx) =>
      cancelPendingDeliveries(tx, tenantId, target.endpointId),
    )
    return { cancelled: 'endpoint inactive' }
  }

  const slot = endpointSlots.take(
    target.endpointId,
    target.failing,
    config.WORKER_CONCURRENCY_WEBHOOK,
  )
  if (!slot) return putOff(ctx, target, payload)
  let result: DeliveryResult
  const at = new Date()
  try {
    const secrets = [target.secret, target.previousSecret]
      .filter((s): s is string => s !== null)
      .map((sealed) => openedSecret(config, target.endpointId, sealed))
    result = await deliverWebhook(
      {
        url: target.url,
        secrets,
        id: target.eventId,
        type: target.type,
        timestamp: new Date(target.occurredAt),
        data: target.data,
      },
      {
        allowHttp: config.WEBHOOK_ALLOW_HTTP,
        allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      },
    )
  } finally {
    slot.release()
  }
  if (result.ok) {
    // The common case, in one statement and one commit: the attempt, the endpoint
    // healthy again, and this job marked succeeded.
    const done = { state: 'succeeded', statusCode: result.statusCode ?? null }
    await writeInScope(
      database,
      { tenantId },
      sql`with attempt as (${deliveryUpdate(tenantId, target.id, attemptOf(at, result), 'succeeded', null, at)}),
           endpoint as (${endpointHealthy(tenantId, target.endpointId)})
           ${ctx.succeedStatement(done)}`,
    )
    ctx.log.info({ deliveryId: target.id, status: result.statusCode }, 'webhook delivered')
    return markedSucceeded(done)
  }
  const next = await withScope(database, { tenantId }, (tx) =>
    recordFailure(tx, config, { tenantId, target, manual, at, result }),
  )
  if (next.jobs.length > 0) await ctx.dispatch(next.jobs)
  ctx.log.info(
    { deliveryId: target.id, status: result.statusCode, error: result.error, state: next.state },
    'webhook attempt failed',
  )
  return { state: next.state, statusCode: result.statusCode ?? null }
}

function attemptOf(at: Date, result: DeliveryResult): DeliveryAttempt {
  return {
    at: at.toISOString(),
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.error !== undefined ? { error: result.error.slice(0, 500) } : {}),
    latencyMs: result.latencyMs,
    responseExcerpt: result.responseExcerpt,
  }
}

/** The attempt appended to the delivery, and the delivery's new state. */
function deliveryUpdate(
  tenantId: string,
  deliveryId: string,
  attempt: DeliveryAttempt,
  state: string,
  nextAt: string | null,
  at: Date,
): SQL {
  return sql`update ${d} set attempts = ${d.attempts} || ${JSON.stringify([attempt])}::jsonb,
      state = ${state},
      first_attempt_at = coalesce(${d.firstAttemptAt}, ${at.toISOString()}::timestamptz),
      next_attempt_at = ${nextAt}::timestamptz
    where ${d.tenantId} = ${tenantId} and ${d.id} = ${deliveryId}`
}

/** Any success ends the endpoint's failing streak (a no-op on a healthy one). */
function endpointHealthy(tenantId: string, endpointId: string): SQL {
  return sql`update ${w} set failing_since = null
    where ${w.tenantId} = ${tenantId} and ${w.id} = ${endpointId} and ${w.failingSince} is not null`
}

/** Over the endpoint's share of slots: the same attempt, a moment later, as a new job. */
async function putOff(ctx: ProcessorContext, target: Target, payload: Payload<'webhook'>) {
  const tenantId = ctx.job.tenantId as string
  // A failing endpoint is tried once at a time, each try up to the timeout: wait about that.
  const base = target.failing ? ctx.config.WEBHOOK_TIMEOUT_MS : 250
  const runAt = new Date(Date.now() + Math.round(base * (0.5 + Math.random() / 2)))
  const job = await withScope(ctx.database, { tenantId }, (tx) =>
    insertJob(tx, { tenantId, queue: 'webhook', payload, runAt }),
  )
  await ctx.dispatch([job])
  return { putOff: runAt.toISOString() }
}

type AttemptInput = {
  tenantId: string
  target: Target
  manual: boolean
  at: Date
  result: DeliveryResult
}

async function recordFailure(
  tx: Tx,
  config: Config,
  { tenantId, target, manual, at, result }: AttemptInput,
): Promise<{ state: string; jobs: QueuedJob[] }> {
  const policy = backoffPolicy(config)
  const queued: QueuedJob[] = []
  // Only a scheduled attempt counts toward the endpoint's failing streak, never a member's.
  const disabled = manual ? null : await noteFailure(tx, tenantId, target.endpointId, policy)
  if (disabled) queued.push(disabled)

  const firstAttemptAt = target.firstAttemptAt ? new Date(target.firstAttemptAt) : at
  const retryAt =
    !result.final && !manual && !disabled
      ? nextAttemptAt(
          {
            attempts: target.attemptCount + 1,
            firstAttemptAt: firstAttemptAt.getTime(),
            now: Date.now(),
            ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}),
          },
          policy,
        )
      : null
  // A member's failed attempt leaves a retry that is still scheduled in place.
  const keepsRetry = manual && target.state === 'pending' && target.nextAttemptAt !== null
  const state = retryAt !== null || keepsRetry ? 'pending' : 'failed'
  const nextAt =
    retryAt !== null ? new Date(retryAt).toISOString() : keepsRetry ? target.nextAttemptAt : null
  await tx.execute(deliveryUpdate(tenantId, target.id, attemptOf(at, result), state, nextAt, at))
  if (retryAt !== null) {
    queued.push(
      await insertJob(tx, {
        tenantId,
        queue: 'webhook',
        payload: { deliveryId: target.id },
        runAt: new Date(retryAt),
      }),
    )
  }
  return { state, jobs: queued }
}

/**
 * Counts the endpoint as failing from now (if it was not already), and turns
 * it off once it has failed for the whole give-up horizon (3 days): audited,
 * and its admins emailed (the email's job is returned, to dispatch).
 */
async function noteFailure(
  tx: Tx,
  tenantId: string,
  endpointId: string,
  policy: BackoffPolicy,
): Promise<QueuedJob | null> {
  const [endpoint] = await rowsOf<{ url: string; due: boolean }>(
    tx,
    sql`update ${w} set failing_since = coalesce(${w.failingSince}, now())
        where ${w.tenantId} = ${tenantId} and ${w.id} = ${endpointId}
        returning ${w.url} as url, ${w.active}
          and ${w.failingSince} <= now() - make_interval(secs => ${policy.giveUpAfterMs / 1000}) as due`,
  )
  if (!endpoint?.due) return null
  await tx.execute(
    sql`update ${w} set active = false, updated_at = now(),
          disabled_reason = 'Every delivery failed for 3 days; turned off by Deskpilot.'
        where ${w.tenantId} = ${tenantId} and ${w.id} = ${endpointId}`,
  )
  await cancelPendingDeliveries(tx, tenantId, endpointId)
  await recordAudit(tx, {
    tenantId,
    action: 'webhook.disabled',
    targetType: 'webhook',
    targetId: endpointId,
    data: { url: endpoint.url, reason: 'every delivery failed for 3 days' },
  })
  return insertJob(tx, {
    tenantId,
    queue: 'email',
    payload: { template: 'webhook-disabled', webhookId: endpointId },
  })
}
