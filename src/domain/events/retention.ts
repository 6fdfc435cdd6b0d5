// The event retention sweep: events older than EVENT_RETENTION_DAYS, and
// webhook deliveries as old, are deleted, across tenants, through the narrow path drizzle/0016 gives it
// (app.event_sweeper = the days: DELETE of rows older than that, never younger
// than a day, and nothing else). In batches, so one sweep never holds a long
// transaction; several sweepers may run at once.
import { sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { DatabaseHandle } from '../../db/client.ts'
import { events } from '../../db/schema/events.ts'
import { webhookDeliveries } from '../../db/schema/webhooks.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'

export async function sweepOldEvents(
  database: DatabaseHandle,
  retentionDays: number,
  batchSize = 1000,
): Promise<number> {
  const days = Math.max(1, Math.floor(retentionDays))
  const deliveries = {
    table: webhookDeliveries,
    id: webhookDeliveries.id,
    at: webhookDeliveries.createdAt,
  }
  await sweepBatches(database, days, deliveries, batchSize)
  return sweepBatches(
    database,
    days,
    { table: events, id: events.id, at: events.occurredAt },
    batchSize,
  )
}

type Swept = { table: typeof events | typeof webhookDeliveries; id: AnyPgColumn; at: AnyPgColumn }

/** Deletes the table's rows older than `days`, a batch per transaction; returns how many. */
async function sweepBatches(
  database: DatabaseHandle,
  days: number,
  { table, id, at }: Swept,
  batchSize: number,
): Promise<number> {
  let deleted = 0
  for (;;) {
    const rows = await withScope(database, { eventSweeper: days }, (tx) =>
      rowsOf<{ n: number }>(
        tx,
        sql`with gone as (
              delete from ${table} where ${id} in (
                select ${id} from ${table}
                where ${at} < now() - make_interval(days => ${days}::int)
                order by ${at} limit ${batchSize})
              returning 1)
            select count(*)::int as n from gone`,
      ),
    )
    const n = rows[0]?.n ?? 0
    deleted += n
    if (n < batchSize) return deleted
  }
}
