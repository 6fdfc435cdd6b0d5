// Opaque keyset-pagination cursors: the sort key of the last row of a page,
// base64url-encoded JSON. Clients must treat them as opaque strings; a cursor
// that does not decode answers 400 invalid_cursor.
import { type TInteger, Type } from 'typebox'
import { BadRequest } from './problems.ts'

export type CursorKey = (string | number | null)[]

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function decodeCursor(cursor: string | undefined, length: number): CursorKey | null {
  if (cursor === undefined) return null
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(key) && key.length === length) return key as CursorKey
  } catch {
    // fall through to the error below
  }
  throw new BadRequest('invalid_cursor', 'The cursor is not valid for this list.')
}

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
