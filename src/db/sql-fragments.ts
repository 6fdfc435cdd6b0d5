// Small SQL pieces raw-SQL queries share, so rows come back in the shape the
// response schemas want and parameters pass the same way on postgres.js and
// PGlite.
import { type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import type { SelectResultFields } from 'drizzle-orm/query-builders/select.types'

type Columns = Record<string, PgColumn | SQL>

/**
 * The SELECT list of a raw statement, each column named `as "key"`, so its rows
 * have the shape RowOf<typeof columns>: what the query builder's select of the
 * same columns gives (a timestamp wanted as text goes through isoTime).
 */
export function selectList(columns: Columns): SQL {
  return sql.join(
    Object.entries(columns).map(([key, column]) => sql`${column} as ${sql.identifier(key)}`),
    sql`, `,
  )
}

/** The row a select of `columns` gives, in the query builder or through selectList. */
export type RowOf<C extends Columns> = SelectResultFields<C>

/**
 * A timestamp as every response shows it: RFC 3339 UTC with milliseconds,
 * what Date#toISOString() writes (the routes that read Dates answer the same).
 */
export function isoTime(column: PgColumn | SQL): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

/**
 * A timestamp with microseconds, for keyset cursors only (never a response
 * field): PostgreSQL keeps microseconds, and a cursor cut to milliseconds
 * would skip or repeat the rows written within one millisecond.
 */
export function cursorTime(column: PgColumn | SQL): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
}

/**
 * A column's bare name, for an INSERT's column list or an UPDATE's SET target,
 * where PostgreSQL refuses the table-qualified name `${column}` writes; taken
 * from the schema object, so a renamed column still fails tsc.
 */
export function bare(column: PgColumn): SQL {
  return sql`${sql.identifier(column.name)}`
}

/** A text[] value passed as one JSON parameter. */
export function textArray(values: readonly string[]): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`
}

/**
 * A user's search text as a tsquery, built so that no input makes PostgreSQL
 * fail. websearch_to_tsquery() takes quotes, `or` and `-word` and ignores other
 * punctuation, but a run of 33 or more `-` (even spaced out) nests that many
 * NOTs and overflows its stack ("tsquery stack too small"), and a NUL is not
 * valid text. So control characters become spaces and a run of minus signs
 * one minus; the routes' schemas bound the length (200 characters).
 */
export function searchQuery(text: string): SQL {
  return sql`websearch_to_tsquery('english', ${searchText(text)})`
}

function searchText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/-(?:[\s-]*-)+/g, '-')
}
