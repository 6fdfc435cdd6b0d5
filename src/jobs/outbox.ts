// Writes a job into the outbox (the jobs table) inside the caller's transaction,
// so a job exists exactly when the change that caused it was committed. After
// commit, app.jobs.dispatch() (or the worker's sweeper) pushes it to its queue.
// One INSERT does it, whether run on its own (insertJob) or as a CTE of a
// statement that writes the job beside its cause (outboxInsert).
import { type SQL, sql } from 'drizzle-orm'
import { Value } from 'typebox/value'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx } from '../db/client.ts'
import { jobs } from '../db/schema/jobs.ts'
import { bare } from '../db/sql-fragments.ts'
import { type Payload, type QueueName, queues } from './queues.ts'

export type QueuedJob = {
  id: string
  queue: QueueName
  tenantId: string | null
  /** not before this time (a webhook delivery's retry); unset → now */
  runAt?: Date
}

type NewJob<Q extends QueueName> = {
  tenantId: string | null
  queue: Q
  payload: Payload<Q>
  runAt?: Date
}

export async function insertJob<Q extends QueueName>(
  tx: DbOrTx,
  job: NewJob<Q>,
): Promise<QueuedJob> {
  const { queued, statement } = outboxInsert(job)
  await tx.execute(statement)
  return queued
}

const columns = sql.join(
  [jobs.id, jobs.tenantId, jobs.type, jobs.payload, jobs.maxAttempts, jobs.runAt].map(bare),
  sql`, `,
)

/**
 * The job's INSERT, its payload checked against its queue's schema, and the
 * job to dispatch once it is committed. With `from` (a CTE's name) the row is
 * written once per row of it: none when that CTE wrote nothing.
 */
export function outboxInsert<Q extends QueueName>(
  job: NewJob<Q>,
  from?: SQL,
): { queued: QueuedJob; statement: SQL } {
  const { payload, maxAttempts } = queues[job.queue]
  if (!Value.Check(payload, job.payload)) {
    throw new TypeError(`invalid ${job.queue} job payload: ${JSON.stringify(job.payload)}`)
  }
  const id = uuidv7()
  return {
    queued: {
      id,
      queue: job.queue,
      tenantId: job.tenantId,
      ...(job.runAt ? { runAt: job.runAt } : {}),
    },
    statement: sql`insert into ${jobs} (${columns})
      select ${id}, ${job.tenantId}, ${job.queue}, ${JSON.stringify(job.payload)}::jsonb, ${maxAttempts},
        ${job.runAt ? sql`${job.runAt.toISOString()}::timestamptz` : sql`now()`}${
          from ? sql` from ${from}` : sql``
        }`,
  }
}
