// The deliveries log of an endpoint, and the two deliveries a member makes by
// hand: a test (a webhook.test event, now, whatever the endpoint's filter) and
// a redeliver (one more attempt of a delivery, with the same webhook-id). Both
// are one attempt each, never retried: whoever asked is watching the log.
// Their jobs are written with them and dispatched by the route after commit.
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle } from '../../db/client.ts'
import { webhookDeliveries, webhookEndpoints } from '../../db/schema/webhooks.ts'
import { readAllInScope, rowsOf, withScope } from '../../db/scoped.ts'
import { bare, cursorTime, isoTime, selectList } from '../../db/sql-fragments.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { NotFound } from '../../lib/problems.ts'
import type { ListDeliveriesQuery, WebhookDelivery } from './schemas.ts'

const d = webhookDeliveries
const w = webhookEndpoints

export const deliveryColumns = selectList({
  id: d.id,
  eventId: d.eventId,
  type: d.type,
  state: d.state,
  attempts: d.attempts,
  nextAttemptAt: isoTime(d.nextAttemptAt),
  createdAt: isoTime(d.createdAt),
})

const endpointMissing = () => new NotFound('webhook')

function endpointExists(tenantId: string, endpointId: string): SQL {
  return sql`select 1 as found from ${w} where ${w.tenantId} = ${tenantId} and ${w.id} = ${endpointId}`
}

/** An endpoint's deliveries, newest first; 404 when the endpoint is not the tenant's. */
export async function listDeliveries(
  database: DatabaseHandle,
  tenantId: string,
  endpointId: string,
  query: ListDeliveriesQuery,
) {
  const filters: SQL[] = [sql`${d.tenantId} = ${tenantId}`, sql`${d.endpointId} = ${endpointId}`]
  if (query.state) filters.push(sql`${d.state} = ${query.state}`)
  const key = decodeCursor(query.cursor, TimeIdCursor)
  if (key) filters.push(sql`(${d.createdAt}, ${d.id}) < (${key[0]}::timestamptz, ${key[1]}::uuid)`)
  const [found, rows] = await readAllInScope<
    [{ found: number }, WebhookDelivery & { cursorAt: string }]
  >(database, { tenantId }, [
    endpointExists(tenantId, endpointId),
    sql`select ${deliveryColumns}, ${cursorTime(d.createdAt)} as "cursorAt" from ${d}
        where ${sql.join(filters, sql` and `)}
        order by ${d.createdAt} desc, ${d.id} desc limit ${(query.limit ?? 20) + 1}`,
  ])
  if (found.length === 0) throw endpointMissing()
  const page = toPage(rows, query.limit ?? 20, (row) => [row.cursorAt, row.id])
  return { ...page, data: page.data.map(({ cursorAt: _, ...delivery }) => delivery) }
}

const testColumns = sql.join(
  [d.id, d.tenantId, d.endpointId, d.eventId, d.type, d.occurredAt, d.data].map(bare),
  sql`, `,
)

/** A webhook.test delivery to the endpoint, and the job of its one attempt. */
export async function createTestDelivery(
  database: DatabaseHandle,
  tenantId: string,
  endpointId: string,
): Promise<{ delivery: WebhookDelivery; job: QueuedJob }> {
  const id = uuidv7()
  return withScope(database, { tenantId }, async (tx) => {
    const [delivery] = await rowsOf<WebhookDelivery>(
      tx,
      sql`insert into ${d} (${testColumns})
          select ${id}, ${w.tenantId}, ${w.id}, ${uuidv7()}, 'webhook.test', now(),
                 jsonb_build_object('webhook', jsonb_build_object('id', ${w.id}, 'url', ${w.url}))
          from ${w} where ${w.tenantId} = ${tenantId} and ${w.id} = ${endpointId}
          returning ${deliveryColumns}`,
    )
    if (!delivery) throw endpointMissing()
    const job = await insertJob(tx, {
      tenantId,
      queue: 'webhook',
      payload: { deliveryId: id, manual: true },
    })
    return { delivery, job }
  })
}

/** One more attempt of a delivery, whatever its state; 404 unless it is the endpoint's. */
export async function redeliver(
  database: DatabaseHandle,
  tenantId: string,
  endpointId: string,
  deliveryId: string,
): Promise<{ delivery: WebhookDelivery; job: QueuedJob }> {
  return withScope(database, { tenantId }, async (tx) => {
    const [delivery] = await rowsOf<WebhookDelivery>(
      tx,
      sql`select ${deliveryColumns} from ${d}
          where ${d.tenantId} = ${tenantId} and ${d.endpointId} = ${endpointId} and ${d.id} = ${deliveryId}`,
    )
    if (!delivery) throw new NotFound('delivery')
    const job = await insertJob(tx, {
      tenantId,
      queue: 'webhook',
      payload: { deliveryId, manual: true },
    })
    return { delivery, job }
  })
}
