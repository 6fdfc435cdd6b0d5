// The one way the api and the worker run SQL inside a scope: a tenant, or one
// of the narrowly named cross-tenant read paths (a user's own memberships, an
// API key by its prefix, an invitation by its token hash; see
// drizzle/0003_rls_access_and_audit.sql; the sweep of unattached uploads,
// drizzle/0014_contacts_mail_files.sql; the event retention sweep, drizzle/0016_events.sql). Every form opens a transaction whose
// first statement sets the scope with set_config(..., true), transaction-local,
// so it can never leak to the next user of a pooled connection, and the
// tables' row-level-security policies then show that scope's rows only.
//
// Four forms, one mechanism:
// - withScope(database, scope, tx => ...): an interactive transaction, for work
//   that reads, decides in JavaScript and writes (the query builder, or rowsOf()).
// - readInScope / readAllInScope: reads sent pipelined in one round trip.
// - writeInScope: one writing statement (an UPDATE ... RETURNING) the same way.
// - rowsOf(tx, sql): a raw `sql` statement's rows, inside withScope.
//
// The pipelined forms write BEGIN, set_config, each statement and COMMIT on one
// reserved postgres.js connection without waiting in between, each statement a
// named prepared statement; withScope would pay a round trip for each. The
// statements of one call therefore cannot depend on each other's results in
// JavaScript; one that needs another's rows says so in SQL (a subquery). On
// PGlite (local mode, no raw client) they run through withScope.
//
// Row types: raw statements name their columns `as "camelCase"` so rows come in
// the shape of the response schema, and callers type them with that schema's
// Static<> (or the table's $inferSelect), never with a hand-written row type.
import { type SQL, sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { DatabaseHandle, DbOrTx, Tx } from './client.ts'

export type Scope = {
  tenantId?: string | null
  userId?: string | null
  apiKeyPrefix?: string
  invitationToken?: string
  /** the sweep of uploads never attached: reads and deletes those older than a day, nothing else */
  attachmentSweeper?: 'on'
  /** the event retention sweep: deletes events older than this many days (at least 1), nothing else */
  eventSweeper?: number
}

const SCOPE_SETTINGS = {
  tenantId: 'app.tenant_id',
  userId: 'app.user_id',
  apiKeyPrefix: 'app.api_key_prefix',
  invitationToken: 'app.invitation_token',
  attachmentSweeper: 'app.attachment_sweeper',
  eventSweeper: 'app.event_sweeper',
} as const

type Row = Record<string, unknown>

const dialect = new PgDialect()
let active = 0

/** Transactions currently holding a pooled connection (for the pool-usage metric). */
export function activeTransactions(): number {
  return active
}

async function holdingConnection<T>(work: () => Promise<T>): Promise<T> {
  active++
  try {
    return await work()
  } finally {
    active--
  }
}

/** The settings a scope sets, as [setting name, value] pairs. */
function scopeSettings(scope: Scope): [string, string][] {
  return (Object.keys(scope) as (keyof Scope)[])
    .filter((key) => scope[key] != null)
    .map((key) => [SCOPE_SETTINGS[key], String(scope[key])])
}

/** An interactive transaction with the scope set. */
export function withScope<T>(
  database: DatabaseHandle,
  scope: Scope,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  const settings = scopeSettings(scope)
  return holdingConnection(() =>
    database.db.transaction(async (tx) => {
      if (settings.length > 0) {
        const calls = settings.map(([name, value]) => sql`set_config(${name}, ${value}, true)`)
        await tx.execute(sql`select ${sql.join(calls, sql`, `)}`)
      }
      return work(tx)
    }),
  )
}

/**
 * A raw statement's rows. postgres.js answers with an array, PGlite with
 * {rows}; callers need not care which.
 */
export async function rowsOf<T extends Row>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}

/** One read, in one round trip. */
export function readInScope<T extends Row>(
  database: DatabaseHandle,
  scope: Scope,
  query: SQL,
): Promise<T[]> {
  return statementsInScope(database, scope, [query], 'begin read only').then(
    ([rows]) => rows as T[],
  )
}

/**
 * Several reads in one round trip (READ COMMITTED: one snapshot each), each
 * query's rows in order; the row types are given as a tuple.
 */
export function readAllInScope<T extends Row[]>(
  database: DatabaseHandle,
  scope: Scope,
  queries: { [K in keyof T]: SQL },
): Promise<{ [K in keyof T]: T[K][] }> {
  return statementsInScope(database, scope, queries, 'begin read only') as Promise<{
    [K in keyof T]: T[K][]
  }>
}

/**
 * One writing statement in its own transaction, in one round trip: for writes
 * that need no other statement beside them, such as a job row's state changes.
 */
export function writeInScope<T extends Row>(
  database: DatabaseHandle,
  scope: Scope,
  statement: SQL,
): Promise<T[]> {
  return statementsInScope(database, scope, [statement], 'begin').then(([rows]) => rows as T[])
}

async function statementsInScope(
  database: DatabaseHandle,
  scope: Scope,
  queries: readonly SQL[],
  begin: 'begin' | 'begin read only',
): Promise<Row[][]> {
  const client = database.sql
  if (!client) {
    return withScope(database, scope, async (tx) => {
      const results: Row[][] = []
      for (const query of queries) results.push(await rowsOf(tx, query))
      return results
    })
  }
  const statements = queries.map((query) => dialect.sqlToQuery(query))
  const settings = scopeSettings(scope)
  return holdingConnection(async () => {
    const connection = await client.reserve()
    let lost = false
    try {
      // allSettled: the connection goes back to the pool only after COMMIT (a
      // ROLLBACK when the query failed) has been answered.
      const steps = await Promise.allSettled([
        connection.unsafe(begin),
        ...settings.map(([name, value]) => connection`select set_config(${name}, ${value}, true)`),
        ...statements.map(({ sql: text, params }) =>
          connection.unsafe(text, params as never[], { prepare: true }),
        ),
        connection`commit`,
      ])
      for (const step of steps) {
        if (step.status !== 'rejected') continue
        lost = steps.some((s) => s.status === 'rejected' && isConnectionLost(s.reason))
        throw step.reason
      }
      const answered = steps.slice(1 + settings.length, -1)
      return answered.map((step) => (step as PromiseFulfilledResult<unknown>).value as Row[])
    } finally {
      // postgres.js puts a released connection back in its pool even when it
      // closed meanwhile, and the next query then waits on it forever; left
      // unreleased, a closed connection is reconnected by the pool itself.
      if (!lost) connection.release()
    }
  })
}

/**
 * Whether an error means the connection itself is gone (closed, or terminated
 * by the server, as by pg_terminate_backend), not that a statement failed.
 */
export function isConnectionLost(err: unknown): boolean {
  const code = String((err as { code?: unknown } | null)?.code ?? '')
  return /^(CONNECTION_|57P|08)/.test(code) || ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)
}
