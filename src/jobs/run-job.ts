// Runs one outbox job through its processor: the worker (per BullMQ job) and the
// api in local mode (in-process) both call this, so a job behaves the same
// wherever it runs. The row is the truth: it is claimed as `running` (attempts
// + 1) in a transaction scoped to the job's tenant, then marked `succeeded`, or
// `failed` on the last attempt or an unrecoverable error, or back to `queued`
// to wait for its retry. A row that already finished is skipped, so a job
// pushed twice, swept twice or retaken after a crash completes once.
import { UnrecoverableError } from 'bullmq'
import { and, eq, getTableColumns, type SQL, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import { Value } from 'typebox/value'
import type { Config } from '../config.ts'
import type { DatabaseHandle, Tx } from '../db/client.ts'
import { jobs } from '../db/schema/jobs.ts'
import { isConnectionLost, withScope, writeInScope } from '../db/scoped.ts'
import { recordJobFailed } from '../domain/events/job-events.ts'
import { publicFailureOf, storedFailure } from '../domain/jobs/failures.ts'
import type { Storage } from '../lib/storage/storage.ts'
import type { JobOutcome } from './job-metrics.ts'
import type { QueuedJob } from './outbox.ts'
import { backoffDelayMs, queues } from './queues.ts'

export type JobRow = typeof jobs.$inferSelect
export type JobLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>

/** Pushes outbox rows a processor committed; never throws (the sweeper is the fallback). */
export type Dispatch = (jobs: readonly QueuedJob[]) => Promise<void>

export type ProcessorContext = {
  /** the database, run through src/db/scoped.ts (its query builder is `database.db`) */
  database: DatabaseHandle
  config: Config
  /** where files live (attachments of inbound mail, a GDPR erasure's files) */
  storage: Storage
  job: JobRow
  log: JobLogger
  dispatch: Dispatch
  /**
   * The UPDATE marking this job succeeded with `result` (only where `condition`
   * holds): a processor whose last write is one statement puts it there, as a
   * CTE, and returns markedSucceeded(result) when it ran, which saves runJob's
   * own mark (a round trip and a commit per job).
   */
  succeedStatement(result: Record<string, unknown>, condition?: SQL): SQL
}
/** Does the job's work; returns what goes into the row's `result`. Must be safe to run twice. */
export type Processor = {
  (ctx: ProcessorContext): Promise<Record<string, unknown> | undefined>
  /**
   * Runs once, in the transaction (scoped to the job's tenant) that marks the row failed for
   * good; `error` is what the row stores (the error's public form when it has one).
   */
  onFinalFailure?: (tx: Tx, job: JobRow, error: string) => Promise<void>
}
export type Processors = Partial<Record<QueuedJob['queue'], Processor>>

export type RunDeps = {
  /** the claim and the success mark go out as one pipelined round trip each */
  database: DatabaseHandle
  config: Config
  storage: Storage
  log: { child(bindings: Record<string, unknown>): JobLogger }
  processors: Processors
  /** where jobs written by a processor go after its commit; without it they wait for the sweeper */
  dispatch?: Dispatch
}
type RunResult = { outcome: JobOutcome; error?: Error; attempts?: number }

const MARKED = Symbol('marked succeeded by the processor')

/** What a processor returns when its own statement marked the row (succeedStatement()). */
export function markedSucceeded(result: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(result, { [MARKED]: true })
}

/**
 * `finalAttempt`: the queue will not retry after this run (BullMQ's own count),
 * on top of the row's attempts reaching max_attempts.
 */
export async function runJob(
  deps: RunDeps,
  ref: QueuedJob,
  opts: { finalAttempt?: boolean } = {},
): Promise<RunResult> {
  const log = deps.log.child({ jobId: ref.id, tenantId: ref.tenantId, queue: ref.queue })
  const processor = deps.processors[ref.queue]
  if (!processor) {
    log.warn('no processor for this queue in this process; the job stays queued')
    return { outcome: 'skipped' }
  }
  const scope = { tenantId: ref.tenantId }

  const row = await claimJob(deps, ref)
  if (!row) {
    log.info('job already finished or not found; skipped')
    return { outcome: 'skipped' }
  }
  const jobLog = deps.log.child({
    jobId: row.id,
    tenantId: row.tenantId,
    queue: row.type,
    attempt: row.attempts,
  })

  try {
    if (!Value.Check(queues[ref.queue].payload, row.payload)) {
      throw new UnrecoverableError(`invalid ${ref.queue} payload`)
    }
    const dispatch = deps.dispatch ?? (async () => {})
    const result = await processor({
      database: deps.database,
      config: deps.config,
      storage: deps.storage,
      job: row,
      log: jobLog,
      dispatch,
      succeedStatement: (result, condition) => succeededUpdate(row.id, result, condition),
    })
    if (!result || !(MARKED in result)) await markSucceeded(deps, row, result ?? {})
    jobLog.info('job succeeded')
    return { outcome: 'succeeded', attempts: row.attempts }
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught))
    const unrecoverable = error instanceof UnrecoverableError || error.name === 'UnrecoverableError'
    const final = unrecoverable || opts.finalAttempt === true || row.attempts >= row.maxAttempts
    // What the tenant reads (the row, audit events): an error's public form when it has
    // one (src/domain/jobs/failures.ts); its full message goes to the log below.
    const failure = publicFailureOf(error)
    const message = (failure ? storedFailure(failure) : error.message).slice(0, 2000)
    const logged = { err: error.message.slice(0, 2000), ...(failure ? { code: failure.code } : {}) }
    // The retry's earliest time goes in run_at, so the sweeper leaves the row to its backoff.
    const update = final
      ? { state: 'failed' as const, error: message, finishedAt: sql`now()` }
      : {
          state: 'queued' as const,
          error: message,
          runAt: new Date(Date.now() + backoffDelayMs(row.attempts)),
        }
    await withScope(deps.database, scope, async (tx) => {
      // Only a row still running: never undo a success the processor recorded.
      const ended = await tx
        .update(jobs)
        .set(update)
        .where(and(eq(jobs.id, row.id), eq(jobs.state, 'running')))
        .returning({ id: jobs.id })
      // job.failed, in the transaction that marks the row failed (a tenant's jobs only).
      if (final && ended.length > 0 && row.tenantId) await recordJobFailed(tx, row.tenantId, row.id)
      const onFinalFailure = processor.onFinalFailure
      if (!final || !onFinalFailure) return
      // A savepoint: the hook failing must not undo the row's failed state.
      await tx
        .transaction((savepoint) => onFinalFailure(savepoint, row, message))
        .catch((err: Error) => jobLog.error({ err: err.message }, 'final-failure hook failed'))
    })
    if (final) jobLog.error({ ...logged, unrecoverable }, 'job failed')
    else jobLog.warn(logged, 'job attempt failed; will retry')
    return { outcome: final ? 'failed' : 'retry', error, attempts: row.attempts }
  }
}

/** Every column of the job row, named by its property, as a RETURNING list. */
const jobColumns = Object.entries(getTableColumns(jobs))
const returningJobRow = sql.join(
  jobColumns.map(([key, column]) => sql`${column} as ${sql.identifier(key)}`),
  sql`, `,
)

/**
 * Claims the row (`running`, attempts + 1) unless it already finished. The
 * RETURNING list comes back as the driver sends it (timestamps as text), and
 * each column's own Drizzle mapping turns it into the JobRow the query builder
 * would have given. writeInScope falls back to an ordinary transaction on
 * PGlite (local mode).
 */
async function claimJob(deps: RunDeps, ref: QueuedJob): Promise<JobRow | undefined> {
  const [raw] = await writeInScope(
    deps.database,
    { tenantId: ref.tenantId },
    sql`update ${jobs} set state = 'running', attempts = ${jobs.attempts} + 1, started_at = now()
        where ${jobs.id} = ${ref.id} and ${jobs.state} in ('queued', 'running')
        returning ${returningJobRow}`,
  )
  if (!raw) return undefined
  const row: Record<string, unknown> = {}
  for (const [key, column] of jobColumns) {
    row[key] = raw[key] === null ? null : column.mapFromDriverValue(raw[key])
  }
  return row as JobRow
}

async function markSucceeded(deps: RunDeps, row: JobRow, result: Record<string, unknown>) {
  const mark = () =>
    writeInScope(deps.database, { tenantId: row.tenantId }, succeededUpdate(row.id, result))
  // The work is done (an email sent): a connection lost under the mark must not
  // make a retry do it again. The mark is idempotent, so it is sent once more,
  // on a fresh connection.
  await mark().catch((err: unknown) => {
    if (!isConnectionLost(err)) throw err
    return mark()
  })
}

function succeededUpdate(id: string, result: Record<string, unknown>, condition?: SQL): SQL {
  return sql`update ${jobs} set state = 'succeeded', result = ${JSON.stringify(result)}::jsonb,
      error = null, finished_at = now()
    where ${jobs.id} = ${id}${condition ? sql` and ${condition}` : sql``}`
}
