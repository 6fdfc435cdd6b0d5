// Opaque keyset-pagination cursors: the sort key of the last row of a page,
// base64url-encoded JSON. Clients must treat them as opaque strings, but they
// can be edited, so every list decodes its cursor against a TypeBox schema of
// its fields (decodeCursor) before any value reaches SQL: a time that is no
// time, an id that is no uuid or a number out of its column's range answers
// 400 invalid_cursor, with one wording, instead of failing in PostgreSQL.
import { type Static, type TInteger, type TSchema, Type } from 'typebox'
import { Value } from 'typebox/value'
import { BadRequest } from './problems.ts'

export type CursorKey = (string | number | null)[]

/**
 * A cursor's time: what cursorTime() (db/sql-fragments.ts) writes, UTC with up
 * to microseconds, between years 1 and 9999 (PostgreSQL's timestamptz takes
 * those), no leap second. The format checks the calendar, the pattern the rest.
 */
export const CursorTime = Type.String({
  format: 'date-time',
  pattern: '^(?!0000)\\d{4}-\\d{2}-\\d{2}T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?Z$',
})
export const CursorId = Type.String({ format: 'uuid' })
/** A ts_rank value, kept within PostgreSQL's real. */
export const CursorRank = Type.Number({ minimum: 0, maximum: 1e30 })

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

const INVALID = 'The cursor is not valid for this list.'

/** The cursor's fields, checked against `schema` (a tuple), or null without a cursor. */
export function decodeCursor<S extends TSchema>(
  cursor: string | undefined,
  schema: S,
): Static<S> | null {
  if (cursor === undefined) return null
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new BadRequest('invalid_cursor', INVALID)
  }
  if (!Value.Check(schema, key)) throw new BadRequest('invalid_cursor', INVALID)
  return key as Static<S>
}

/** The cursor of a list ordered by a time, then an id: the most common one. */
export const TimeIdCursor = Type.Tuple([CursorTime, CursorId])

/**
 * `limit` and `cursor`, the pagination every list accepts. `limit` is
 * optional for the client, and always there for the handler: validation fills
 * in its default (ajv's useDefaults) before the handler runs, hence its type.
 */
export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Rows per page' }),
  ) as unknown as TInteger,
  cursor: Type.Optional(
    Type.String({
      maxLength: 512,
      description: 'nextCursor of the previous page; omit for the first page',
    }),
  ),
}

/** Pages of `limit` rows: fetch limit + 1 to know whether another page exists. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => CursorKey) {
  const more = rows.length > limit
  const data = more ? rows.slice(0, limit) : rows
  const last = data[data.length - 1]
  return { data, nextCursor: more && last ? encodeCursor(keyOf(last)) : null }
}
