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

/** A text[] value passed as one JSON parameter. */
export function textArray(values: readonly string[]): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`
}

/**
 * What a ticket's search vectors hold at most (drizzle/0011, which these
 * figures mirror): each message's first `messageChars` characters, appended
 * only while a vector has fewer than `ticketLexemes` lexemes. So a post never
 * rewrites more than ticketLexemes + messageChars / 2 lexemes, and a vector
 * stays far below PostgreSQL's 1 MB per tsvector.
 */
export const SEARCH_BOUNDS = { messageChars: 10_000, ticketLexemes: 5_000 } as const

/**
 * The SET item of a ticket UPDATE that appends a message's words to the
 * ticket's search vectors (drizzle/0009, bounded by 0011's
 * ticket_search_append): an internal note to the agents' vector only, a public
 * message to both.
 */
export function appendToSearch(message: { body: string; internal: boolean }): SQL {
  return message.internal
    ? sql`search_all = ticket_search_append(search_all, ${message.body})`
    : sql`(search_all, search_public) = (
        select ticket_search_append(search_all, b), ticket_search_append(search_public, b)
        from (select ${message.body}::text as b) m)`
}

/**
 * The SET list of the UPDATE that stamps a ticket for a new message, the one
 * rule the api's posts and the worker's AI replies share: any message bumps the
 * version and updatedAt and adds its words to the search vectors; a public one
 * also stamps lastMessageAt and the customer's version and updatedAt
 * (public_version, public_updated_at), and sets `status` when one is given (the
 * status the message leads to; an AI reply leaves it alone).
 */
export function messageStamp(message: { body: string; internal: boolean; status?: string }): SQL {
  // A public message is a change the customer sees: its version and time move too.
  const publicChange = message.internal
    ? sql``
    : sql`, last_message_at = now(), public_version = public_version + 1, public_updated_at = now()${
        message.status ? sql`, status = ${message.status}` : sql``
      }`
  return sql`version = version + 1, updated_at = now()${publicChange}, ${appendToSearch(message)}`
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

export function searchText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/-(?:[\s-]*-)+/g, '-')
}
