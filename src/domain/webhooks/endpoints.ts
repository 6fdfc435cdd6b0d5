// A tenant's webhook endpoints: create, read, change, delete, rotate the
// signing secret. The URL is judged by lib/webhooks/url-rules.ts when saved
// (422 invalid_webhook_url) and again, after DNS, at every delivery. The
// secret is generated here, answered once, and kept sealed (lib/secret-box.ts,
// bound to the endpoint's id). Every change is audited as webhook.*.
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle, Tx } from '../../db/client.ts'
import { webhookDeliveries, webhookEndpoints } from '../../db/schema/webhooks.ts'
import { readInScope, rowsOf, withScope } from '../../db/scoped.ts'
import { bare, cursorTime, isoTime, selectList } from '../../db/sql-fragments.ts'
import { decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { NotFound, Problem } from '../../lib/problems.ts'
import type { SecretBox } from '../../lib/secret-box.ts'
import { createWebhookSecret } from '../../lib/webhooks/secrets.ts'
import { checkWebhookUrl, type WebhookUrlSettings } from '../../lib/webhooks/url-rules.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { CreateWebhookBody, UpdateWebhookBody, Webhook } from './schemas.ts'

const w = webhookEndpoints

/** After a rotation, deliveries carry the old secret's signature this long too. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000

export const webhookColumns = selectList({
  id: w.id,
  url: w.url,
  events: w.events,
  description: w.description,
  active: w.active,
  disabledReason: w.disabledReason,
  failingSince: isoTime(w.failingSince),
  previousSecretExpiresAt: sql<
    string | null
  >`case when ${w.previousSecretExpiresAt} > now() then ${isoTime(w.previousSecretExpiresAt)} end`,
  createdAt: isoTime(w.createdAt),
  updatedAt: isoTime(w.updatedAt),
})

const insertColumns = sql.join(
  [w.id, w.tenantId, w.url, w.events, w.description, w.active, w.secret].map(bare),
  sql`, `,
)

/** What the signing secret is sealed against: the endpoint it belongs to. */
export function secretContext(endpointId: string): string {
  return `webhook:${endpointId}`
}

export type WebhookDeps = {
  database: DatabaseHandle
  box: SecretBox
  urls: WebhookUrlSettings
}

/** The URL as it will be stored, or the 422 the rules answer. */
function judgeUrl(url: string, settings: WebhookUrlSettings): { href: string } | Problem {
  const checked = checkWebhookUrl(url, settings)
  if (checked.ok) return { href: checked.url.href }
  return new Problem('invalid_webhook_url', checked.message, {
    errors: [{ path: 'body/url', message: checked.message }],
  })
}

function notFound(): NotFound {
  return new NotFound('webhook')
}

const audited = (action: string, tenantId: string, id: string, actor: AuditActor, data = {}) => ({
  tenantId,
  action,
  targetType: 'webhook',
  targetId: id,
  ...actor,
  data,
})

export async function createWebhook(
  deps: WebhookDeps,
  tenantId: string,
  body: CreateWebhookBody,
  actor: AuditActor,
): Promise<Webhook & { secret: string }> {
  const judged = judgeUrl(body.url, deps.urls)
  if (judged instanceof Problem) throw judged
  const url = judged.href
  const id = uuidv7()
  const secret = createWebhookSecret()
  const webhook = await withScope(deps.database, { tenantId }, async (tx) => {
    const [row] = await rowsOf<Webhook>(
      tx,
      sql`insert into ${w} (${insertColumns})
          values (${id}, ${tenantId}, ${url}, ${JSON.stringify(body.events)}::jsonb,
                  ${body.description ?? null}, ${body.active ?? true},
                  ${deps.box.seal(secret, secretContext(id))})
          returning ${webhookColumns}`,
    )
    await recordAudit(tx, audited('webhook.created', tenantId, id, actor, { url }))
    return row as Webhook
  })
  return { ...webhook, secret }
}

export async function listWebhooks(
  database: DatabaseHandle,
  tenantId: string,
  query: { limit: number; cursor?: string },
) {
  const filters: SQL[] = [sql`${w.tenantId} = ${tenantId}`]
  const key = decodeCursor(query.cursor, TimeIdCursor)
  if (key) filters.push(sql`(${w.createdAt}, ${w.id}) < (${key[0]}::timestamptz, ${key[1]}::uuid)`)
  const rows = await readInScope<Webhook & { cursorAt: string }>(
    database,
    { tenantId },
    sql`select ${webhookColumns}, ${cursorTime(w.createdAt)} as "cursorAt" from ${w}
        where ${sql.join(filters, sql` and `)}
        order by ${w.createdAt} desc, ${w.id} desc limit ${query.limit + 1}`,
  )
  const page = toPage(rows, query.limit, (row) => [row.cursorAt, row.id])
  return { ...page, data: page.data.map(({ cursorAt: _, ...webhook }) => webhook) }
}

export async function getWebhook(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
): Promise<Webhook> {
  const [row] = await readInScope<Webhook>(
    database,
    { tenantId },
    sql`select ${webhookColumns} from ${w} where ${w.tenantId} = ${tenantId} and ${w.id} = ${id}`,
  )
  if (!row) throw notFound()
  return row
}

export async function updateWebhook(
  deps: WebhookDeps,
  tenantId: string,
  id: string,
  patch: UpdateWebhookBody,
  actor: AuditActor,
): Promise<Webhook> {
  const sets: SQL[] = [sql`updated_at = now()`]
  if (patch.url !== undefined) {
    const judged = judgeUrl(patch.url, deps.urls)
    if (judged instanceof Problem) {
      // Another tenant's endpoint (or none) answers 404 whatever the body says.
      await getWebhook(deps.database, tenantId, id)
      throw judged
    }
    sets.push(sql`url = ${judged.href}`)
  }
  if (patch.events !== undefined) sets.push(sql`events = ${JSON.stringify(patch.events)}::jsonb`)
  if (patch.description !== undefined) sets.push(sql`description = ${patch.description}`)
  if (patch.active !== undefined) {
    sets.push(sql`active = ${patch.active}`)
    // Turned on again: a fresh start, the 3 days of failures counted anew.
    if (patch.active) sets.push(sql`disabled_reason = null, failing_since = null`)
  }
  return withScope(deps.database, { tenantId }, async (tx) => {
    const [row] = await rowsOf<Webhook>(
      tx,
      sql`update ${w} set ${sql.join(sets, sql`, `)}
          where ${w.tenantId} = ${tenantId} and ${w.id} = ${id} returning ${webhookColumns}`,
    )
    if (!row) throw notFound()
    if (patch.active === false) await cancelPendingDeliveries(tx, tenantId, id)
    await recordAudit(
      tx,
      audited('webhook.updated', tenantId, id, actor, { fields: Object.keys(patch) }),
    )
    return row
  })
}

/**
 * Deliveries of a turned-off endpoint still waiting for an attempt are
 * cancelled (their jobs, when they run, find nothing to do); a test or a
 * redeliver can still send one by hand.
 */
export async function cancelPendingDeliveries(tx: Tx, tenantId: string, endpointId: string) {
  const d = webhookDeliveries
  await tx.execute(
    sql`update ${d} set state = 'cancelled', next_attempt_at = null
        where ${d.tenantId} = ${tenantId} and ${d.endpointId} = ${endpointId} and ${d.state} = 'pending'`,
  )
}

export async function deleteWebhook(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
  actor: AuditActor,
): Promise<void> {
  await withScope(database, { tenantId }, async (tx) => {
    const gone = await rowsOf(
      tx,
      sql`delete from ${w} where ${w.tenantId} = ${tenantId} and ${w.id} = ${id} returning 1`,
    )
    if (gone.length === 0) throw notFound()
    await recordAudit(tx, audited('webhook.deleted', tenantId, id, actor))
  })
}

/**
 * A new signing secret, answered once; the one it replaces keeps signing too
 * (a second signature) for 24 hours, so receivers can move over without a gap.
 */
export async function rotateWebhookSecret(
  deps: WebhookDeps,
  tenantId: string,
  id: string,
  actor: AuditActor,
): Promise<Webhook & { secret: string }> {
  const secret = createWebhookSecret()
  const webhook = await withScope(deps.database, { tenantId }, async (tx) => {
    const [row] = await rowsOf<Webhook>(
      tx,
      sql`update ${w} set previous_secret = ${w.secret},
            previous_secret_expires_at = now() + make_interval(secs => ${ROTATION_OVERLAP_MS / 1000}),
            secret = ${deps.box.seal(secret, secretContext(id))}, updated_at = now()
          where ${w.tenantId} = ${tenantId} and ${w.id} = ${id} returning ${webhookColumns}`,
    )
    if (!row) throw notFound()
    await recordAudit(tx, audited('webhook.secret_rotated', tenantId, id, actor))
    return row
  })
  return { ...webhook, secret }
}
