// The contact list (GET /v1/contacts) as one statement: newest first, keyset
// pages over (created_at, id), the order contacts_created_idx holds (NULLS LAST
// spelled out to match it), filtered by an exact email (the unique email
// index), an exact external id (its unique index), or q.
//
// q finds a contact by name or address in two ways, ORed, each served by an
// index leading with tenant_id (a BitmapOr):
// - every word of q is a prefix of a word of the contact's search vector
//   (contacts.search: 'simple' words of the name, the address, and the address
//   with its @ as a space), `to_tsquery('simple', 'gra:* & hop:*')` over the
//   GIN index: "gra hop" finds Grace Hopper, "hopper" finds
//   grace.hopper@example.com;
// - q as a whole is the start of the stored address, starts_with(email, q),
//   over contacts_email_prefix_idx (text_pattern_ops): "grace.hopper@exa",
//   which the text-search parser splits into words that are not the address's.
// Both operators are LEAKPROOF (drizzle/0008 marks @@), so row-level security
// does not keep them from being index conditions.
import { type SQL, sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { contacts } from '../../db/schema/contacts.ts'
import { readInScope } from '../../db/scoped.ts'
import { cursorTime } from '../../db/sql-fragments.ts'
import { decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { normaliseContactEmail } from './contact-email.ts'
import { contactColumns } from './contacts.ts'
import type { Contact, ListContactsQuery } from './schemas.ts'

const c = contacts

/**
 * The characters to_tsquery reads as its syntax (operators, grouping, weights,
 * prefixes, quotes and escapes) and control characters: a word is cut at them,
 * as the text-search parser cuts the stored text at punctuation anyway.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it cuts at
const TSQUERY_SYNTAX = /[&|!():*<>'"\\\u0000-\u001f\u007f]+/g

/** A letter or a digit: a term without one would be no word, only punctuation. */
const WORDLIKE = /[\p{L}\p{N}]/u

/**
 * q as a to_tsquery text of prefix terms, `gra:* & hop:*`, or null when q has
 * no word in it. Built so that no input makes to_tsquery fail: only words of
 * letters, digits and the punctuation inside addresses (. - _ @ +) reach it.
 */
export function prefixTerms(q: string): string | null {
  const terms = q
    .normalize('NFKC')
    .toLowerCase()
    .replace(TSQUERY_SYNTAX, ' ')
    .split(/\s+/)
    .filter((term) => WORDLIKE.test(term))
  return terms.length > 0 ? terms.map((term) => `${term}:*`).join(' & ') : null
}

/**
 * q as the start of a stored address, or null when it cannot be one: stored
 * addresses are printable ASCII without spaces (contact-email.ts), folded the
 * same way.
 */
export function addressPrefix(q: string): string | null {
  const prefix = q.normalize('NFKC').trim().toLowerCase()
  return /^[\x21-\x7e]+$/.test(prefix) ? prefix : null
}

function nameOrAddress(q: string): SQL {
  const terms = prefixTerms(q)
  const prefix = addressPrefix(q)
  const matches: SQL[] = []
  if (terms) matches.push(sql`${c.search} @@ to_tsquery('simple', ${terms})`)
  if (prefix) matches.push(sql`starts_with(${c.email}, ${prefix})`)
  if (matches.length === 0) return sql`false`
  return sql`(${sql.join(matches, sql` or `)})`
}

export async function listContacts(
  database: DatabaseHandle,
  tenantId: string,
  query: ListContactsQuery,
) {
  const rows = await readInScope<Contact & { cursorAt: string }>(
    database,
    { tenantId },
    contactListStatement(tenantId, query),
  )
  return toPage(rows, query.limit, (row) => [row.cursorAt, row.id])
}

/** The list's statement: one page and one row more, with each row's cursor time. */
export function contactListStatement(tenantId: string, query: ListContactsQuery): SQL {
  const filters: SQL[] = [sql`${c.tenantId} = ${tenantId}`]
  if (query.email !== undefined) {
    filters.push(sql`${c.email} = ${normaliseContactEmail(query.email, 'querystring/email')}`)
  }
  if (query.externalId !== undefined) filters.push(sql`${c.externalId} = ${query.externalId}`)
  if (query.q !== undefined) filters.push(nameOrAddress(query.q))
  const key = decodeCursor(query.cursor, TimeIdCursor)
  if (key) {
    const [time, id] = key
    filters.push(sql`(${c.createdAt}, ${c.id}) < (${time}::timestamptz, ${id}::uuid)`)
  }
  return sql`select ${contactColumns}, ${cursorTime(c.createdAt)} as "cursorAt"
    from ${c} where ${sql.join(filters, sql` and `)}
    order by ${c.createdAt} desc nulls last, ${c.id} desc nulls last
    limit ${query.limit + 1}`
}
