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

/**
 * The SET item of a ticket UPDATE that appends a message's words to the
 * ticket's search vectors (drizzle/0009): an internal note to the agents'
 * vector only, a public message to both, its words analysed once.
 */
export function appendToSearch(message: { body: string; internal: boolean }): SQL {
  return message.internal
    ? sql`search_all = search_all || message_search_vector(${message.body})`
    : sql`(search_all, search_public) = (
        select search_all || v, search_public || v from message_search_vector(${message.body}) v)`
}
