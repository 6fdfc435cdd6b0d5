// A job's row as its tenant reads it: only within the job's tenant (another
// tenant's job is a 404), its error in the public form it was stored in
// (failures.ts).
import { and, eq } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
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
  const [row] = await withScope(database, { tenantId }, (tx) =>
    tx
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
      .where(and(eq(jobs.tenantId, tenantId), eq(jobs.id, id))),
  )
  if (!row) throw new NotFound('job')
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
