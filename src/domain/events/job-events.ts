// job.failed: written by the transaction that marks a tenant's job row failed
// for good (src/jobs/run-job.ts), with the job as GET /v1/jobs/{id} shows it.
// Not the hot path, so the row is read back and the event written after it.
import type { DbOrTx } from '../../db/client.ts'
import { jobOf } from '../jobs/job-status.ts'
import { recordEvent } from './record.ts'

export async function recordJobFailed(tx: DbOrTx, tenantId: string, jobId: string) {
  const job = await jobOf(tx, tenantId, jobId)
  if (!job) return
  await recordEvent(tx, { tenantId, type: 'job.failed', data: { job } })
}
