// A read-only query inside one tenant in a single round trip, for the hot read
// routes. withTenant() costs BEGIN, set_config, the query and COMMIT as four
// sequential round trips through Drizzle; here the four are written on one
// reserved postgres.js connection without waiting in between (postgres.js
// pipelines them), and the query runs as a named prepared statement. The
// tenant setting stays transaction-local, exactly as in withTenant(). On PGlite
// (local mode, no raw client) it falls back to withTenant().
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { DatabaseHandle } from './client.ts'
import { selectRows } from './raw-query.ts'
import { SCOPE_SETTINGS, type Scope, withScope } from './tenant-transaction.ts'

const dialect = new PgDialect()

export function readInTenant<T extends Record<string, unknown>>(
  database: DatabaseHandle,
  tenantId: string,
  query: SQL,
): Promise<T[]> {
  return readInScope<T>(database, { tenantId }, query)
}

/** The same for any scope (a tenant, or a user's own memberships, ...). */
export async function readInScope<T extends Record<string, unknown>>(
  database: DatabaseHandle,
  scope: Scope,
  query: SQL,
): Promise<T[]> {
  const client = database.sql
  if (!client) return withScope(database.db, scope, (tx) => selectRows<T>(tx, query))
  const { sql: text, params } = dialect.sqlToQuery(query)
  const settings = (Object.keys(scope) as (keyof Scope)[])
    .filter((key) => scope[key] != null)
    .map((key) => [SCOPE_SETTINGS[key], String(scope[key])] as const)
  const connection = await client.reserve()
  try {
    // allSettled: the connection goes back to the pool only after COMMIT (a
    // ROLLBACK when the query failed) has been answered.
    const steps = await Promise.allSettled([
      connection`begin read only`,
      ...settings.map(([name, value]) => connection`select set_config(${name}, ${value}, true)`),
      connection.unsafe(text, params as never[], { prepare: true }),
      connection`commit`,
    ])
    for (const step of steps) {
      if (step.status === 'rejected') throw step.reason
    }
    return (steps[steps.length - 2] as PromiseFulfilledResult<unknown>).value as T[]
  } finally {
    connection.release()
  }
}
