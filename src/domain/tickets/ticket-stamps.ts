// The SET lists of the UPDATEs that stamp a ticket for a change: one for what a
// customer sees change (the subject, the status, a public message), one for a
// new message, which also adds its words to the ticket's search vectors. The
// api's posts and PATCHes and the worker's AI replies all stamp through here.
import { type SQL, sql } from 'drizzle-orm'
import { tickets } from '../../db/schema/helpdesk.ts'
import { bare } from '../../db/sql-fragments.ts'

const t = {
  version: bare(tickets.version),
  updatedAt: bare(tickets.updatedAt),
  publicVersion: bare(tickets.publicVersion),
  publicUpdatedAt: bare(tickets.publicUpdatedAt),
  lastMessageAt: bare(tickets.lastMessageAt),
  status: bare(tickets.status),
  searchAll: bare(tickets.searchAll),
  searchPublic: bare(tickets.searchPublic),
}

/**
 * What a ticket's search vectors hold at most (drizzle/0011, which these
 * figures mirror): each message's first `messageChars` characters, appended
 * only while a vector has fewer than `ticketLexemes` lexemes. So a post never
 * rewrites more than ticketLexemes + messageChars / 2 lexemes, and a vector
 * stays far below PostgreSQL's 1 MB per tsvector.
 */
export const SEARCH_BOUNDS = { messageChars: 10_000, ticketLexemes: 5_000 } as const

/** Any change: the agents' version and time move. */
export const anyChange = sql`${t.version} = ${t.version} + 1, ${t.updatedAt} = now()`

/** A change the customer sees: its version and time (public_version, public_updated_at) move too. */
export const publicChange = sql`${t.publicVersion} = ${t.publicVersion} + 1, ${t.publicUpdatedAt} = now()`

/**
 * The SET item of a ticket UPDATE that appends a message's words to the
 * ticket's search vectors (drizzle/0009, bounded by 0011's
 * ticket_search_append): an internal note to the agents' vector only, a public
 * message to both.
 */
function appendToSearch(message: { body: string; internal: boolean }): SQL {
  return message.internal
    ? sql`${t.searchAll} = ticket_search_append(${t.searchAll}, ${message.body})`
    : sql`(${t.searchAll}, ${t.searchPublic}) = (
        select ticket_search_append(${t.searchAll}, b), ticket_search_append(${t.searchPublic}, b)
        from (select ${message.body}::text as b) m)`
}

/**
 * The SET list of the UPDATE that stamps a ticket for a new message: any
 * message bumps the version and updatedAt and adds its words to the search
 * vectors; a public one also stamps lastMessageAt and the customer's version
 * and time, and sets `status` when one is given (the status the message leads
 * to; an AI reply leaves it alone).
 */
export function messageStamp(message: { body: string; internal: boolean; status?: string }): SQL {
  const publicStamp = message.internal
    ? sql``
    : sql`, ${t.lastMessageAt} = now(), ${publicChange}${
        message.status ? sql`, ${t.status} = ${message.status}` : sql``
      }`
  return sql`${anyChange}${publicStamp}, ${appendToSearch(message)}`
}
