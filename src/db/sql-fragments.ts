// Small SQL pieces raw-SQL queries share, so rows come back in the shape the
// response schemas want and parameters pass the same way on postgres.js and
// PGlite.
import { type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'

/**
 * A timestamp as RFC 3339 UTC with microseconds. Keyset cursors carry it as
 * is: a JavaScript Date would cut it to milliseconds and make keysets skip rows.
 */
export function isoTime(column: PgColumn | SQL): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
}

/** A text[] value passed as one JSON parameter. */
export function textArray(values: readonly string[]): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`
}
