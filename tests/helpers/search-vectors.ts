// The tickets among `ticketIds` whose search vectors hold other words than a
// rebuild from their subject and messages would (internal notes in search_all
// only, system messages in neither): a message written without stamping its
// ticket through messageStamp() shows up here. Positions and weights are
// left out (strip()); the words are what search finds.
//
// The rebuild applies SEARCH_BOUNDS here, on its own (in this file, not
// through the database's ticket_search_rebuild()): each message's first
// messageChars characters, appended oldest first while the words so far are
// fewer than ticketLexemes. So a writer that skips the bounds, or bounds that
// drift between the migration and SEARCH_BOUNDS, show up as stale tickets.
import type postgres from 'postgres'
import { SEARCH_BOUNDS } from '../../src/domain/tickets/ticket-stamps.ts'

type Words = { id: string; subject: string[]; public: string[]; all: string[] }
type MessageWords = { ticketId: string; internal: boolean; words: string[] }

function rebuild(subject: string[], messages: MessageWords[]): string[] {
  const words = new Set(subject)
  for (const message of messages) {
    if (words.size >= SEARCH_BOUNDS.ticketLexemes) break
    for (const word of message.words) words.add(word)
  }
  return [...words].sort()
}

export async function staleSearchVectors(sql: postgres.Sql, ticketIds: string[]) {
  const tickets = await sql<Words[]>`
    select k.id, tsvector_to_array(to_tsvector('english', k.subject)) as subject,
           tsvector_to_array(k.search_public) as public, tsvector_to_array(k.search_all) as all
    from tickets k where k.id = any(${ticketIds}::uuid[])`
  const messages = await sql<MessageWords[]>`
    select m.ticket_id as "ticketId", m.internal,
           tsvector_to_array(to_tsvector('english', left(m.body, ${SEARCH_BOUNDS.messageChars}))) as words
    from messages m
    where m.ticket_id = any(${ticketIds}::uuid[]) and m.author_type <> 'system'
    order by m.created_at, m.id`
  const same = (a: string[], b: string[]) => a.join('\n') === [...b].sort().join('\n')
  return tickets
    .filter((k) => {
      const thread = messages.filter((m) => m.ticketId === k.id)
      const publicWords = rebuild(
        k.subject,
        thread.filter((m) => !m.internal),
      )
      return !same(publicWords, k.public) || !same(rebuild(k.subject, thread), k.all)
    })
    .map((k) => k.id)
}
