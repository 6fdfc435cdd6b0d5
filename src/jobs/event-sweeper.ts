// Runs the event retention sweep (domain/events/retention.ts) every
// EVENT_SWEEP_SECONDS: in the worker, and in the api itself in local mode,
// where there is no worker. Any number of processes may sweep at once.
import type { DatabaseHandle } from '../db/client.ts'
import { sweepOldEvents } from '../domain/events/retention.ts'
import type { JobLogger } from './run-job.ts'
import { startSweeper } from './sweeper.ts'

/** Hourly: retention is counted in days. */
export const EVENT_SWEEP_SECONDS = 3600

/** Starts the periodic sweep; returns a stop function that waits for a sweep under way. */
export function startEventSweeper(opts: {
  database: DatabaseHandle
  retentionDays: number
  log: JobLogger
  everySeconds?: number
}): () => Promise<void> {
  const { database, retentionDays, log } = opts
  return startSweeper({
    everySeconds: opts.everySeconds ?? EVENT_SWEEP_SECONDS,
    sweep: async () => {
      const deleted = await sweepOldEvents(database, retentionDays)
      if (deleted > 0) log.info({ deleted, retentionDays }, 'swept old events')
    },
    onError: (err) => log.warn({ err: (err as Error).message }, 'event sweep failed'),
  })
}
