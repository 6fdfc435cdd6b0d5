// The outbox sweeper: finds rows still `queued` well after they were due (Redis
// was down at commit, or the api died between commit and push) and pushes them
// again. jobId = row id makes a second push of a job that is in fact waiting in
// Redis a no-op, and the row's own state makes a re-run of a finished job a
// skip, so sweeping is always safe. It reads across tenants through the
// narrowly named app.job_sweeper path (drizzle/0004_job_sweeper_read_path.sql),
// which shows queued rows only. Several workers may sweep at once: SKIP LOCKED
// gives each row to one of them, and bumping run_at spaces re-pushes out.
import { and, eq, inArray, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { jobs } from '../db/schema/jobs.ts'
import type { QueuedJob } from './outbox.ts'
import { type QueueName, queueNames } from './queues.ts'

type SweepOptions = { olderThanSeconds: number; limit?: number }

/** Claims up to `limit` overdue queued rows, hands them to `push`, and returns them. */
export async function sweepQueuedJobs(
  db: Db,
  opts: SweepOptions,
  push: (jobs: QueuedJob[]) => Promise<void>,
): Promise<QueuedJob[]> {
  const due = await db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.job_sweeper', 'on', true)`)
    const overdue = tx
      .select({ id: jobs.id })
      .from(jobs)
      .where(
        and(
          eq(jobs.state, 'queued'),
          lt(jobs.runAt, sql`now() - make_interval(secs => ${opts.olderThanSeconds})`),
        ),
      )
      .orderBy(jobs.runAt)
      .limit(opts.limit ?? 500)
      .for('update', { skipLocked: true })
    return tx
      .update(jobs)
      .set({ runAt: sql`now()` })
      .where(inArray(jobs.id, overdue))
      .returning({ id: jobs.id, tenantId: jobs.tenantId, type: jobs.type })
  })
  const found = due
    .filter((r) => (queueNames as string[]).includes(r.type))
    .map((r) => ({ id: r.id, tenantId: r.tenantId, queue: r.type as QueueName }))
  if (found.length > 0) await push(found)
  return found
}

/** Runs the sweep every `everySeconds`, never two at once; returns a stop function. */
export function startSweeper(opts: {
  everySeconds: number
  sweep: () => Promise<unknown>
  onError: (err: unknown) => void
}): () => Promise<void> {
  let running: Promise<unknown> | undefined
  const timer = setInterval(() => {
    if (running) return
    running = opts
      .sweep()
      .catch(opts.onError)
      .finally(() => {
        running = undefined
      })
  }, opts.everySeconds * 1000)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
