// A job's row as its tenant reads it: only within the job's tenant (another
// tenant's job is a 404), its error in the public form it was stored in
// (failures.ts).
import { and, eq } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { jobs } from '../../db/schema/jobs.ts'
import { withScope } from '../../db/scoped.ts'
import { isoTime } from '../../db/sql-fragments.ts'
import { NotFound } from '../../lib/problems.ts'
import { readStoredError } from './failures.ts'
import type { Job } from './schemas.ts'

export async function readJob(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
): Promise<Job> {
  const job = await withScope(database, { tenantId }, (tx) => jobOf(tx, tenantId, id))
  if (!job) throw new NotFound('job')
  return job
}

/** The job as GET /v1/jobs/{id} shows it, or null; inside the caller's tenant transaction. */
export async function jobOf(tx: DbOrTx, tenantId: string, id: string): Promise<Job | null> {
  const [row] = await tx
    .select({
      id: jobs.id,
      type: jobs.type,
      state: jobs.state,
      attempts: jobs.attempts,
      maxAttempts: jobs.maxAttempts,
      result: jobs.result,
      error: jobs.error,
      createdAt: isoTime(jobs.createdAt),
      startedAt: isoTime(jobs.startedAt),
      finishedAt: isoTime(jobs.finishedAt),
    })
    .from(jobs)
    .where(and(eq(jobs.tenantId, tenantId), eq(jobs.id, id)))
  if (!row) return null
  const { result, error, ...shown } = row
  return {
    ...shown,
    ...(result ? { result } : {}),
    ...(error ? publicError(error) : {}),
  }
}

function publicError(stored: string) {
  const { code, message } = readStoredError(stored)
  return { error: message, ...(code ? { errorCode: code } : {}) }
}
