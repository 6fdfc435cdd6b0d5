// A single statement inside one tenant (or another scope) in a single round
// trip: the hot read routes, and bookkeeping writes such as a job's state. withTenant() costs BEGIN, set_config, the query and COMMIT as four
// sequential round trips through Drizzle; here the four are written on one
// reserved postgres.js connection without waiting in between (postgres.js
// pipelines them), and the query runs as a named prepared statement. The
// tenant setting stays transaction-local, exactly as in withTenant(). On PGlite
// (local mode, no raw client) it falls back to withTenant().
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
  return statementInScope<T>(database, scope, query, 'begin read only')
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
  return statementInScope<T>(database, scope, statement, 'begin')
}

async function statementInScope<T extends Record<string, unknown>>(
  database: DatabaseHandle,
  scope: Scope,
  query: SQL,
  begin: 'begin' | 'begin read only',
): Promise<T[]> {
  const client = database.sql
  if (!client) return withScope(database.db, scope, (tx) => selectRows<T>(tx, query))
  const { sql: text, params } = dialect.sqlToQuery(query)
  const settings = scopeSettings(scope)
  return holdingConnection(async () => {
    const connection = await client.reserve()
    try {
      // allSettled: the connection goes back to the pool only after COMMIT (a
      // ROLLBACK when the query failed) has been answered.
      const steps = await Promise.allSettled([
        connection.unsafe(begin),
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
  })
}
