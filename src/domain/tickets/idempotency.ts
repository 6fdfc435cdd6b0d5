// Idempotency-Key for the creating POSTs. The key's row is inserted first,
// inside the very transaction that makes the change, and its response is
// stored there too before commit. A concurrent retry's insert therefore waits
// on the primary key until the first transaction ends: it then finds the
// stored response (and creates nothing), or, if the first rolled back, goes
// ahead itself. So ten identical requests at once create one ticket, and all
// ten get the same answer.
//
// Keys belong to the caller (user or API key) within the tenant, live 24 h,
// and are bound to the request: the same key with another method, path or
// body answers 422 idempotency_key_reused.
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { DatabaseHandle, Tx } from '../../db/client.ts'
import { idempotencyKeys } from '../../db/schema/helpdesk.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import { bare } from '../../db/sql-fragments.ts'
import type { QueuedJob } from '../../jobs/outbox.ts'
import { Problem } from '../../lib/problems.ts'
import type { Caller } from './caller.ts'

const TTL = sql`interval '24 hours'`
/** A key's columns: the primary key, its caller and the key itself within the tenant. */
const key = sql.join(
  [idempotencyKeys.tenantId, idempotencyKeys.principal, idempotencyKeys.key].map(bare),
  sql`, `,
)

/** What a key is bound to: the request's method, path (from its url) and body. */
export type IdempotentRequest = {
  method: string
  url: string
  body: unknown
  headers: { 'idempotency-key'?: string }
}

type StoredResponse = { statusCode: number; body: unknown }
type IdempotencyClaim = { tenantId: string; principal: string; key: string; hash: string }

/** Stable JSON (sorted keys), so a retry with reordered fields is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** The path without the query string: part of what a key is bound to. */
function pathOf(url: string) {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonical(body)}`)
    .digest('hex')
}

/**
 * Claims the key in `tx`. Returns null when this request is the first (go
 * ahead, then storeResponse), or the stored response to replay. An expired row
 * is taken over as if it were not there.
 */
async function claimKey(tx: Tx, claim: IdempotencyClaim): Promise<StoredResponse | null> {
  const t = idempotencyKeys
  const inserted = await rowsOf<{ claimed: boolean }>(
    tx,
    sql`insert into ${t} (${key}, ${bare(t.requestHash)}, ${bare(t.expiresAt)})
        values (${claim.tenantId}, ${claim.principal}, ${claim.key}, ${claim.hash}, now() + ${TTL})
        on conflict (${key}) do update
          set ${bare(t.requestHash)} = excluded.${bare(t.requestHash)}, ${bare(t.statusCode)} = 0,
              ${bare(t.response)} = null, ${bare(t.createdAt)} = now(),
              ${bare(t.expiresAt)} = excluded.${bare(t.expiresAt)}
          where ${t.expiresAt} <= now()
        returning true as claimed`,
  )
  if (inserted.length > 0) return null
  const [row] = await rowsOf<{ hash: string; statusCode: number; response: unknown }>(
    tx,
    sql`select ${t.requestHash} as hash, ${t.statusCode} as "statusCode", ${t.response} as response
        from ${t}
        where ${t.tenantId} = ${claim.tenantId} and ${t.principal} = ${claim.principal}
          and ${t.key} = ${claim.key}`,
  )
  if (!row || row.hash !== claim.hash) {
    throw new Problem(
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request.',
    )
  }
  return { statusCode: row.statusCode, body: row.response }
}

async function storeResponse(tx: Tx, claim: IdempotencyClaim, response: StoredResponse) {
  const t = idempotencyKeys
  await tx.execute(
    sql`update ${t}
        set ${bare(t.statusCode)} = ${response.statusCode},
            ${bare(t.response)} = ${JSON.stringify(response.body)}::jsonb
        where ${t.tenantId} = ${claim.tenantId} and ${t.principal} = ${claim.principal}
          and ${t.key} = ${claim.key}`,
  )
}

/** Drops a few expired keys of the tenant now and then, so the table does not grow forever. */
async function pruneExpiredKeys(tx: Tx, tenantId: string) {
  if (Math.random() > 0.01) return
  const t = idempotencyKeys
  await tx.execute(
    sql`delete from ${t} where ctid in (select ctid from ${t}
        where ${t.tenantId} = ${tenantId} and ${t.expiresAt} < now() limit 100)`,
  )
}

/**
 * Runs a create in the caller's tenant transaction, under the request's
 * Idempotency-Key when it has one: a replay returns the stored body and runs
 * nothing; a first run stores its body (answered with `statusCode`: 201 for a
 * create, 200 for an action such as a merge) before commit.
 */
export async function createOnce<T>(
  database: DatabaseHandle,
  caller: Caller,
  request: IdempotentRequest,
  create: (tx: Tx) => Promise<{ body: T; jobs: QueuedJob[] }>,
  statusCode = 201,
): Promise<{ replayed: boolean; body: T; jobs: QueuedJob[] }> {
  const key = request.headers['idempotency-key']
  const claim = key
    ? {
        tenantId: caller.tenantId,
        principal: caller.principal,
        key,
        hash: requestHash(request.method, pathOf(request.url), request.body),
      }
    : null
  return withScope(database, { tenantId: caller.tenantId }, async (tx) => {
    if (claim) {
      const stored = await claimKey(tx, claim)
      if (stored) return { replayed: true, body: stored.body as T, jobs: [] }
      await pruneExpiredKeys(tx, caller.tenantId)
    }
    const { body, jobs } = await create(tx)
    if (claim) await storeResponse(tx, claim, { statusCode, body })
    return { replayed: false, body, jobs }
  })
}
