// Pushes outbox rows to their BullMQ queues: the api right after commit, the
// worker's sweeper for rows left behind. jobId = the row id, so pushing a row
// twice is harmless. A push never waits on a Redis that is down: the connection
// has no offline queue, the push gives up after a short timeout, and the row
// stays queued for the sweeper.
import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { QueuedJob } from './outbox.ts'
import { bullPrefix, type JobData, jobOptions, type QueueName, queueNames } from './queues.ts'

export type Queues = Record<QueueName, Queue<JobData>>

export function createQueues(connection: Redis, redisPrefix: string): Queues {
  const prefix = bullPrefix(redisPrefix)
  return Object.fromEntries(
    queueNames.map((name) => [name, new Queue<JobData>(name, { connection, prefix })]),
  ) as Queues
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.allSettled(Object.values(queues).map((q) => q.close()))
}

/** Adds the jobs (one round trip per queue); throws when Redis is not there. */
export async function pushJobs(
  connection: Redis,
  queues: Queues,
  jobs: readonly QueuedJob[],
  timeoutMs = 2000,
): Promise<void> {
  if (jobs.length === 0) return
  if (connection.status !== 'ready') throw new Error(`redis is ${connection.status}`)
  const byQueue = new Map<QueueName, QueuedJob[]>()
  for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job])
  const adds = [...byQueue].map(([name, list]) =>
    queues[name].addBulk(
      list.map((job) => ({
        name,
        data: { tenantId: job.tenantId },
        opts: {
          ...jobOptions(name, job.id),
          ...(job.runAt ? { delay: Math.max(0, job.runAt.getTime() - Date.now()) } : {}),
        },
      })),
    ),
  )
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`redis push timed out after ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  try {
    await Promise.race([Promise.all(adds), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Jobs per queue and BullMQ state, for the queue-depth gauge. */
export async function queueDepths(
  connection: Redis,
  queues: Queues,
): Promise<{ queue: QueueName; state: string; count: number }[]> {
  if (connection.status !== 'ready') return []
  const rows: { queue: QueueName; state: string; count: number }[] = []
  for (const name of queueNames) {
    const counts = await queues[name].getJobCounts('waiting', 'active', 'delayed', 'failed')
    for (const [state, count] of Object.entries(counts)) rows.push({ queue: name, state, count })
  }
  return rows
}
