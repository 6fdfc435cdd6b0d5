// The webhook relay: when a tenant has new events (lib/event-signal.ts), push
// the first-attempt jobs of its new deliveries to the queue at once. The event's
// statement wrote those deliveries and jobs (domain/events/record.ts) without
// the writer knowing their ids, so they are found here, by event sequence:
// a tenant's sequences are handed out under a row lock held until commit, so
// they become visible in order and a watermark per tenant misses none. Pushing
// is idempotent (jobId = the row id), so several relays, or a relay and the
// outbox sweeper, never double an attempt; a signal lost only leaves the jobs
// to the sweeper.
import { sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { webhookDeliveries } from '../../db/schema/webhooks.ts'
import { readInScope } from '../../db/scoped.ts'
import type { QueuedJob } from '../outbox.ts'

const d = webhookDeliveries
const BATCH = 500

export type WebhookRelay = {
  /** a signal for the tenant: relay its new deliveries (coalesced, never two at once per tenant) */
  onSignal(tenantId: string): void
  /** waits for relays in progress */
  close(): Promise<void>
}

export function createWebhookRelay(opts: {
  database: DatabaseHandle
  push: (jobs: QueuedJob[]) => Promise<void>
  onError: (err: unknown, tenantId: string) => void
}): WebhookRelay {
  const watermarks = new Map<string, number>()
  /** tenants being relayed → whether another signal came meanwhile */
  const running = new Map<string, boolean>()
  const inProgress = new Set<Promise<void>>()

  async function relay(tenantId: string): Promise<void> {
    for (;;) {
      const after = watermarks.get(tenantId) ?? 0
      const rows = await readInScope<{ id: string; sequence: number }>(
        opts.database,
        { tenantId },
        sql`select ${d.id} as id, ${d.eventSequence}::float8 as sequence from ${d}
            where ${d.tenantId} = ${tenantId} and ${d.firstAttemptAt} is null
              and ${d.eventSequence} > ${after} and ${d.state} = 'pending'
            order by ${d.eventSequence} limit ${BATCH}`,
      )
      if (rows.length === 0) return
      await opts.push(rows.map((row) => ({ id: row.id, queue: 'webhook', tenantId })))
      watermarks.set(tenantId, Math.max(after, ...rows.map((row) => row.sequence)))
      if (rows.length < BATCH) return
    }
  }

  function start(tenantId: string) {
    running.set(tenantId, false)
    const run = relay(tenantId)
      .catch((err) => opts.onError(err, tenantId))
      .finally(() => {
        inProgress.delete(run)
        const again = running.get(tenantId)
        running.delete(tenantId)
        if (again) start(tenantId)
      })
    inProgress.add(run)
  }

  return {
    onSignal(tenantId) {
      if (running.has(tenantId)) running.set(tenantId, true)
      else start(tenantId)
    },
    async close() {
      while (inProgress.size > 0) await Promise.allSettled([...inProgress])
    },
  }
}
