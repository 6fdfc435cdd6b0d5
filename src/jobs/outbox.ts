// Writes a job into the outbox (the jobs table) inside the caller's transaction,
// so a job exists exactly when the change that caused it was committed. After
// commit, app.jobs.dispatch() (or the worker's sweeper) pushes it to its queue.
import { Value } from 'typebox/value'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx } from '../db/client.ts'
import { jobs } from '../db/schema/jobs.ts'
import { type Payload, type QueueName, queues } from './queues.ts'

export type QueuedJob = { id: string; queue: QueueName; tenantId: string | null }

type NewJob<Q extends QueueName> = { tenantId: string | null; queue: Q; payload: Payload<Q> }

export async function insertJob<Q extends QueueName>(
  tx: DbOrTx,
  job: NewJob<Q>,
): Promise<QueuedJob> {
  const row = outboxRow(job)
  await tx.insert(jobs).values({
    id: row.id,
    tenantId: job.tenantId,
    type: job.queue,
    payload: job.payload as Record<string, unknown>,
    maxAttempts: row.maxAttempts,
  })
  return { id: row.id, queue: job.queue, tenantId: job.tenantId }
}

/**
 * A job's row values, its payload checked against its queue's schema: for a
 * statement that writes the row itself (in a CTE, beside the change that causes it).
 */
export function outboxRow<Q extends QueueName>(job: NewJob<Q>) {
  const { payload, maxAttempts } = queues[job.queue]
  if (!Value.Check(payload, job.payload)) {
    throw new TypeError(`invalid ${job.queue} job payload: ${JSON.stringify(job.payload)}`)
  }
  return { id: uuidv7(), queue: job.queue, payload: job.payload, maxAttempts }
}
