// The event retention sweep: events older than EVENT_RETENTION_DAYS are
// deleted, across tenants, through the narrow path drizzle/0016 gives it
// (app.event_sweeper = the days: DELETE of rows older than that, never younger
// than a day, and nothing else). In batches, so one sweep never holds a long
// transaction; several sweepers may run at once.
import { sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { events } from '../../db/schema/events.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'

export async function sweepOldEvents(
  database: DatabaseHandle,
  retentionDays: number,
  batchSize = 1000,
): Promise<number> {
  const days = Math.max(1, Math.floor(retentionDays))
  let deleted = 0
  for (;;) {
    const rows = await withScope(database, { eventSweeper: days }, (tx) =>
      rowsOf<{ n: number }>(
        tx,
        sql`with gone as (
              delete from ${events} where ${events.id} in (
                select ${events.id} from ${events}
                where ${events.occurredAt} < now() - make_interval(days => ${days}::int)
                order by ${events.occurredAt} limit ${batchSize})
              returning 1)
            select count(*)::int as n from gone`,
      ),
    )
    const n = rows[0]?.n ?? 0
    deleted += n
    if (n < batchSize) return deleted
  }
}
