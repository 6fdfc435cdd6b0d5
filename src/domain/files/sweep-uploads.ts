// The sweep of uploads never attached: after a day they are deleted, rows and
// files, across tenants (run periodically by the worker, and by the api itself
// in local mode: src/jobs/upload-sweeper.ts).
import { and, inArray, isNull, lt } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { attachments } from '../../db/schema/files.ts'
import { withScope } from '../../db/scoped.ts'
import type { Storage } from '../../lib/storage/storage.ts'

/** How long an upload may wait for its message (drizzle/0014's sweeper policies say the same). */
export const UNATTACHED_TTL_MS = 24 * 60 * 60 * 1000

const a = attachments

export type SweepResult = {
  /** rows and their files deleted */
  deleted: number
  /** files whose rows are gone but whose deletion failed: orphans nothing can serve */
  orphanedKeys: string[]
}

/**
 * Deletes uploads left unattached for a day, across tenants, through the one
 * narrow path drizzle/0014 opens for it (app.attachment_sweeper: read and
 * delete such rows, nothing else; the policies measure the day on the
 * database's clock, `now` on the caller's, and both must agree). The rows go
 * first, in their own committed transaction, and the files after: a file
 * whose deletion fails is then an orphan that no row names and so nothing can
 * serve (logged by the caller), whereas deleting files first would leave, on a
 * failed commit, a row that names missing bytes and could still be attached.
 * Several sweepers may run at once: a row goes to whichever deletes it first.
 */
export async function sweepUnattachedUploads(
  database: DatabaseHandle,
  storage: Storage,
  now: Date,
  batchSize = 500,
): Promise<SweepResult> {
  const cutoff = new Date(now.getTime() - UNATTACHED_TTL_MS)
  const expired = and(isNull(a.messageId), lt(a.createdAt, cutoff))
  const result: SweepResult = { deleted: 0, orphanedKeys: [] }
  for (;;) {
    const rows = await withScope(database, { attachmentSweeper: 'on' }, (tx) =>
      tx
        .delete(a)
        .where(
          and(
            // Checked again on the row being deleted: an upload attached meanwhile stays.
            expired,
            inArray(
              a.id,
              tx.select({ id: a.id }).from(a).where(expired).orderBy(a.createdAt).limit(batchSize),
            ),
          ),
        )
        .returning({ storageKey: a.storageKey }),
    )
    for (const { storageKey } of rows) {
      try {
        await storage.delete(storageKey)
        result.deleted++
      } catch {
        result.orphanedKeys.push(storageKey)
      }
    }
    if (rows.length < batchSize) return result
  }
}
