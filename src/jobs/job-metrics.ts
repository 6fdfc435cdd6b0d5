// The job metrics the api and the worker both expose on /metrics: queue depth
// (read from the queues when scraped) and job outcomes (counted where jobs run:
// the worker, or the api in local mode).
import { Counter, Gauge, type Registry } from 'prom-client'
import type { QueueName } from './queues.ts'

export type JobOutcome = 'succeeded' | 'failed' | 'retry' | 'skipped'
export type DepthRow = { queue: QueueName; state: string; count: number }

export function registerQueueDepthGauge(registry: Registry, read: () => Promise<DepthRow[]>) {
  return new Gauge({
    name: 'deskpilot_queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed, failed), read on scrape',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      // A scrape must not fail because Redis is down; the gauge is then empty.
      const rows = await read().catch(() => [])
      for (const row of rows) this.set({ queue: row.queue, state: row.state }, row.count)
    },
  })
}

export function registerJobOutcomeCounter(registry: Registry) {
  return new Counter({
    name: 'deskpilot_jobs_processed_total',
    help: 'Job runs by queue and outcome (succeeded, failed, retry, skipped)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  })
}
