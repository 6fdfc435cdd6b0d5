// Statements inside one tenant (or another scope) in a single round trip: the
// hot read routes, the worker's reads and writes, and bookkeeping writes such
// as a job's state. withTenant() costs BEGIN, set_config, each query and COMMIT
// as sequential round trips through Drizzle; here they are all written on one
// reserved postgres.js connection without waiting in between (postgres.js
// pipelines them), and each query runs as a named prepared statement. The
// tenant setting stays transaction-local, exactly as in withTenant(). On PGlite
// (local mode, no raw client) it falls back to withTenant().
//
// The statements of one call cannot depend on each other's results in
// JavaScript; one that needs another's rows must say so in SQL (a subquery).
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { DatabaseHandle } from './client.ts'
import { selectRows } from './raw-query.ts'
import { holdingConnection, type Scope, scopeSettings, withScope } from './tenant-transaction.ts'

const dialect = new PgDialect()

export function readInTenant<T extends Record<string, unknown>>(
  database: DatabaseHandle,
  tenantId: string,
  query: SQL,
): Promise<T[]> {
  return readInScope<T>(database, { tenantId }, query)
}

/** The same for any scope (a tenant, or a user's own memberships, ...). */
export function readInScope<T extends Record<string, unknown>>(
  database: DatabaseHandle,
  scope: Scope,
  query: SQL,
): Promise<T[]> {
  return statementsInScope(database, scope, [query], 'begin read only').then(
    ([rows]) => rows as T[],
  )
}

/** Several reads, one snapshot each (READ COMMITTED), answered together: each query's rows in order. */
export function readAllInScope(
  database: DatabaseHandle,
  scope: Scope,
  queries: SQL[],
): Promise<Record<string, unknown>[][]> {
  return statementsInScope(database, scope, queries, 'begin read only')
}

/**
 * One writing statement (an UPDATE ... RETURNING, say) in its own transaction
 * with the scope set, sent the same pipelined way: for bookkeeping writes that
 * need no other statement beside them, such as a job row's state changes.
 */
export function writeInScope<T extends Record<string, unknown>>(
  database: DatabaseHandle,
  scope: Scope,
  statement: SQL,
): Promise<T[]> {
  return statementsInScope(database, scope, [statement], 'begin').then(([rows]) => rows as T[])
}

async function statementsInScope(
  database: DatabaseHandle,
  scope: Scope,
  queries: SQL[],
  begin: 'begin' | 'begin read only',
): Promise<Record<string, unknown>[][]> {
  const client = database.sql
  if (!client) {
    return withScope(database.db, scope, async (tx) => {
      const results: Record<string, unknown>[][] = []
      for (const query of queries) results.push(await selectRows(tx, query))
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
      return answered.map(
        (step) => (step as PromiseFulfilledResult<unknown>).value as Record<string, unknown>[],
      )
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
