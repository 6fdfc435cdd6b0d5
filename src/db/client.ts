// Opens the database: postgres.js against DATABASE_URL, or embedded PGlite under
// DATA_DIR when no URL is configured (local mode). Either way queries run as the
// unprivileged role APP_ROLE, so row-level security binds them even when the
// URL's user is a superuser (RLS never binds superusers or BYPASSRLS roles).
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { isConnectionLost } from './scoped.ts'

/** The role every api and worker query runs as (created by the first migration). */
export const APP_ROLE = 'deskpilot_app'

export type Db = PgDatabase<PgQueryResultHKT>
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type DbOrTx = Db | Tx

export type DatabaseHandle = {
  kind: 'postgres' | 'pglite'
  db: Db
  /** postgres.js client for hand-tuned hot queries; undefined on PGlite */
  sql: postgres.Sql | undefined
  poolMax: number
  close(): Promise<void>
}

type DatabaseOptions = {
  url: string | undefined
  dataDir: string
  poolMax: number
  applicationName: string
}

export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.url) {
    const sql = postgres(opts.url, {
      max: opts.poolMax,
      idle_timeout: 30,
      connect_timeout: 10,
      onnotice: () => {},
      // Startup parameters are applied as if by SET: every pooled connection
      // starts as APP_ROLE with no extra round trip.
      connection: { role: APP_ROLE, application_name: opts.applicationName },
    })
    const db = drizzlePostgres(preparingEveryQuery(sql)) as unknown as Db
    return {
      kind: 'postgres',
      db,
      sql,
      poolMax: opts.poolMax,
      close: () => sql.end({ timeout: 5 }),
    }
  }
  const pg = await openPglite(opts.dataDir)
  await pg.exec(`set role ${APP_ROLE}`)
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite')
  const db = drizzlePglite(pg) as unknown as Db
  return { kind: 'pglite', db, sql: undefined, poolMax: 1, close: () => pg.close() }
}

/**
 * Drizzle sends a query as a named (cached, planned once) statement only when
 * it was `.prepare()`d: it passes `prepare: false` to postgres.js's `unsafe` for
 * every other query, and that per-query option overrides the client's
 * `prepare: true`, so no setting of either library does this. Under row-level
 * security planning costs more than running (docs/performance.md, "Prepared
 * statements"), so `unsafe` is wrapped, on the client and on each transaction,
 * to send every query prepared. postgres.js caches a statement per connection
 * by its text, and Drizzle's texts are parameterised (one per query shape).
 * tests/foundation/prepared-statements.test.ts fails the day an upgrade of
 * either library sends Drizzle's queries unnamed again.
 *
 * Each transaction is also guarded against losing its connection (see
 * abandoningLostConnections).
 */
function preparingEveryQuery(sql: postgres.Sql): postgres.Sql {
  const prepareAll = (client: postgres.Sql | postgres.TransactionSql) => {
    const unsafe = client.unsafe.bind(client)
    client.unsafe = ((query: string, params?: never[], options?: object) =>
      unsafe(query, params, { ...options, prepare: true })) as typeof client.unsafe
  }
  prepareAll(sql)
  const begin = sql.begin.bind(sql) as (...args: unknown[]) => Promise<unknown>
  sql.begin = ((...args: unknown[]) => {
    const work = args.pop() as (tx: postgres.TransactionSql) => unknown
    const lost: LostConnection = { error: undefined }
    const done = begin(...args, (tx: postgres.TransactionSql) => {
      prepareAll(tx)
      return abandoningLostConnections(tx, lost, work)
    })
    // The transaction ends with CONNECTION_CLOSED when its connection closes,
    // even while no statement of it is running.
    done.catch((err: unknown) => {
      if (isConnectionLost(err)) lost.error ??= err
    })
    return done
  }) as typeof sql.begin
  return sql
}

type LostConnection = { error: unknown }

/**
 * Runs a transaction's (or a savepoint's) work so that nothing more goes to its
 * connection once that connection is lost (the backend terminated, the server
 * restarted, the network cut). postgres.js 3.4.9 writes a statement sent on a
 * closed connection from a setImmediate callback to a socket it has already
 * set to null: a TypeError nobody can catch, which ends the process. Its own
 * ROLLBACK after a failed transaction, and Drizzle's next statement, would be
 * such statements. So the first connection-lost error (from a statement, or
 * the transaction ending with CONNECTION_CLOSED) marks the transaction lost;
 * later statements and savepoints fail with that error without reaching the
 * driver, and the work, once it ends, never settles, so postgres.js sends no
 * COMMIT, ROLLBACK or ROLLBACK TO SAVEPOINT after it. The caller has already
 * had the transaction's error; the server rolled the transaction back itself.
 */
function abandoningLostConnections(
  tx: postgres.TransactionSql,
  lost: LostConnection,
  work: (tx: postgres.TransactionSql) => unknown,
): Promise<unknown> {
  const unsafe = tx.unsafe.bind(tx)
  tx.unsafe = ((query: string, params?: never[], options?: object) => {
    if (lost.error !== undefined) return failedStatement(lost.error)
    const statement = unsafe(query, params, options)
    statement.catch((err: unknown) => {
      if (isConnectionLost(err)) lost.error ??= err
    })
    return statement
  }) as typeof tx.unsafe
  const savepoint = tx.savepoint.bind(tx) as (...args: unknown[]) => Promise<unknown>
  tx.savepoint = ((...args: unknown[]) => {
    if (lost.error !== undefined) return Promise.reject(lost.error)
    const inner = args.pop() as (sp: postgres.TransactionSql) => unknown
    return savepoint(...args, (sp: postgres.TransactionSql) =>
      abandoningLostConnections(sp, lost, inner),
    )
  }) as typeof tx.savepoint
  const never = new Promise<never>(() => {})
  return Promise.resolve()
    .then(() => work(tx))
    .then(
      (result) => (lost.error === undefined ? result : never),
      (err: unknown) => {
        if (lost.error !== undefined) return never
        throw err
      },
    )
}

/** A statement that fails without being sent; Drizzle may call .values() on it. */
function failedStatement(error: unknown) {
  const failed = Object.assign(Promise.reject(error), { values: () => failed })
  return failed as unknown as ReturnType<postgres.TransactionSql['unsafe']>
}

// One PGlite instance per data directory per process: the migrator and the app
// must share it, since PGlite holds an exclusive lock on its files.
const pglites = new Map<string, Promise<import('@electric-sql/pglite').PGlite>>()

export async function openPglite(dataDir: string) {
  const dir = join(dataDir, 'pglite')
  let pending = pglites.get(dir)
  if (!pending) {
    mkdirSync(dir, { recursive: true })
    pending = Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/contrib/btree_gin'),
    ]).then(([{ PGlite }, { btree_gin }]) => PGlite.create(dir, { extensions: { btree_gin } }))
    pglites.set(dir, pending)
    const pg = await pending
    const close = pg.close.bind(pg)
    pg.close = async () => {
      pglites.delete(dir)
      if (!pg.closed) await close()
    }
  }
  return pending
}
