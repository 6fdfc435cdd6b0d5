// Runs a raw `sql` template and returns its rows. postgres.js answers with an
// array, PGlite with {rows}; callers should not have to care which.
import type { SQL } from 'drizzle-orm'
import type { DbOrTx } from './client.ts'

export async function selectRows<T extends Record<string, unknown>>(
  db: DbOrTx,
  query: SQL,
): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}
