// Local mode (no REDIS_URL): the api runs jobs itself, through the same
// runJob and processors as the worker, one tick after the commit that created
// them, retrying with the same backoff. The outbox row stays the truth: a job
// interrupted by a restart is still `queued` and the api's sweeper runs it
// again. This is for a first run and demos, not for scale.
import type { JobOutcome } from './job-metrics.ts'
import type { QueuedJob } from './outbox.ts'
import { backoffDelayMs, type QueueName } from './queues.ts'
import { type RunDeps, runJob } from './run-job.ts'

type InProcessRunner = {
  dispatch(jobs: readonly QueuedJob[]): void
  depths(): { queue: QueueName; state: string; count: number }[]
  /** Stops scheduling and waits for running jobs to finish. */
  close(): Promise<void>
}

export function createInProcessRunner(
  deps: RunDeps & {
    onOutcome(queue: QueueName, outcome: JobOutcome, job: QueuedJob): void
    onError(err: unknown, job: QueuedJob): void
  },
): InProcessRunner {
  // Jobs scheduled or running here, so a job dispatched and swept at once runs once.
  const known = new Map<string, { job: QueuedJob; state: 'waiting' | 'active' | 'delayed' }>()
  const timers = new Set<NodeJS.Timeout>()
  const running = new Set<Promise<void>>()
  let closed = false

  function schedule(job: QueuedJob, delayMs: number) {
    if (closed) return
    known.set(job.id, { job, state: delayMs > 0 ? 'delayed' : 'waiting' })
    const timer = setTimeout(() => {
      timers.delete(timer)
      const run = attempt(job).finally(() => running.delete(run))
      running.add(run)
    }, delayMs)
    timers.add(timer)
  }

  function dispatch(jobs: readonly QueuedJob[]) {
    for (const job of jobs) {
      if (!known.has(job.id)) schedule(job, Math.max(0, (job.runAt?.getTime() ?? 0) - Date.now()))
    }
  }
  // Jobs a processor wrote run here too, one tick after its commit.
  const runDeps = { ...deps, dispatch: async (jobs: readonly QueuedJob[]) => dispatch(jobs) }

  async function attempt(job: QueuedJob) {
    known.set(job.id, { job, state: 'active' })
    try {
      const result = await runJob(runDeps, job)
      deps.onOutcome(job.queue, result.outcome, job)
      if (result.outcome === 'retry') return schedule(job, backoffDelayMs(result.attempts ?? 1))
    } catch (err) {
      // The row could not be updated (database trouble): it stays queued for the sweeper.
      deps.onError(err, job)
    }
    known.delete(job.id)
  }

  return {
    dispatch,
    depths() {
      const counts = new Map<string, number>()
      for (const { job, state } of known.values()) {
        const key = `${job.queue}\u0000${state}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      return [...counts].map(([key, count]) => {
        const [queue, state] = key.split('\u0000') as [QueueName, string]
        return { queue, state, count }
      })
    },
    async close() {
      closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await Promise.allSettled([...running])
    },
  }
}
