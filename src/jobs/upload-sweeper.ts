// Runs the sweep of uploads never attached (domain/files/sweep-uploads.ts)
// every UPLOAD_SWEEP_SECONDS: in the worker, and in the api itself in local
// mode, where there is no worker. Any number of processes may sweep at once.
import type { DatabaseHandle } from '../db/client.ts'
import { sweepUnattachedUploads } from '../domain/files/sweep-uploads.ts'
import type { Storage } from '../lib/storage/storage.ts'
import type { JobLogger } from './run-job.ts'
import { startSweeper } from './sweeper.ts'

/** Often enough that a day-old upload is gone within minutes of its day. */
export const UPLOAD_SWEEP_SECONDS = 600

/** Starts the periodic sweep; returns a stop function that waits for a sweep under way. */
export function startUploadSweeper(opts: {
  database: DatabaseHandle
  storage: Storage
  log: JobLogger
  everySeconds?: number
}): () => Promise<void> {
  const { database, storage, log } = opts
  return startSweeper({
    everySeconds: opts.everySeconds ?? UPLOAD_SWEEP_SECONDS,
    sweep: async () => {
      const { deleted, orphanedKeys } = await sweepUnattachedUploads(database, storage, new Date())
      if (deleted > 0 || orphanedKeys.length > 0) {
        log.info({ deleted, orphaned: orphanedKeys.length }, 'swept unattached uploads')
      }
      if (orphanedKeys.length > 0) {
        // Their rows are gone, so nothing serves them; storage keeps them until deleted by hand.
        log.warn({ keys: orphanedKeys.slice(0, 100) }, 'files of swept uploads were not deleted')
      }
    },
    onError: (err) => log.warn({ err: (err as Error).message }, 'upload sweep failed'),
  })
}
