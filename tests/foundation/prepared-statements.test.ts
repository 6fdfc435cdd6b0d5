// Every query Drizzle sends through the postgres.js handle goes out as a named
// prepared statement, in a transaction too: src/db/client.ts wraps postgres.js's
// `unsafe` for this, since neither library has a setting for it. The statements
// are read back from pg_prepared_statements on the same (only) connection, so
// an upgrade that routes Drizzle's queries around the wrapper fails here.
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts'
import { jobs } from '../../src/db/schema/jobs.ts'
import { rowsOf } from '../../src/db/scoped.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

let testDb: TestDatabase
let database: DatabaseHandle

beforeAll(async () => {
  testDb = await createTestDatabase()
  database = await openDatabase({
    url: testDb.url,
    dataDir: '.data',
    poolMax: 1,
    applicationName: 'deskpilot-prepared-statements-test',
  })
})

afterAll(async () => {
  await database?.close()
  await testDb?.drop()
})

/** The texts of the named statements prepared on the connection that runs this. */
const preparedTexts = sql`select statement from pg_prepared_statements`

describe('Drizzle queries on postgres.js', () => {
  it('go out as named prepared statements', async () => {
    const query = database.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.type, 'probe'))
    expect(await query).toEqual([])
    const prepared = await rowsOf<{ statement: string }>(database.db, preparedTexts)
    expect(prepared.map((r) => r.statement)).toContain(query.toSQL().sql)
  })

  it('go out as named prepared statements inside a transaction', async () => {
    const statements = await database.db.transaction(async (tx) => {
      const update = tx.update(jobs).set({ error: null }).where(eq(jobs.type, 'probe-in-tx'))
      await update
      const prepared = await rowsOf<{ statement: string }>(tx, preparedTexts)
      return { text: update.toSQL().sql, prepared: prepared.map((r) => r.statement) }
    })
    expect(statements.prepared).toContain(statements.text)
  })
})
