// Writes a job into the outbox (the jobs table) inside the caller's transaction,
// so a job exists exactly when the change that caused it was committed. After
// commit, app.jobs.dispatch() (or the worker's sweeper) pushes it to its queue.
import { Value } from 'typebox/value'
import type { DbOrTx } from '../db/client.ts'
import { jobs } from '../db/schema/jobs.ts'
import { type Payload, type QueueName, queues } from './queues.ts'

export type QueuedJob = { id: string; queue: QueueName; tenantId: string | null }

export async function insertJob<Q extends QueueName>(
  tx: DbOrTx,
  job: { tenantId: string | null; queue: Q; payload: Payload<Q> },
): Promise<QueuedJob> {
  const { payload, maxAttempts } = queues[job.queue]
  if (!Value.Check(payload, job.payload)) {
    throw new TypeError(`invalid ${job.queue} job payload: ${JSON.stringify(job.payload)}`)
  }
  const [row] = await tx
    .insert(jobs)
    .values({
      tenantId: job.tenantId,
      type: job.queue,
      payload: job.payload as Record<string, unknown>,
      maxAttempts,
    })
    .returning({ id: jobs.id })
  if (!row) throw new Error('job insert returned no row')
  return { id: row.id, queue: job.queue, tenantId: job.tenantId }
}
