// The tickets among `ticketIds` whose search vectors hold other words than a
// rebuild from their subject and messages would (internal notes in search_all
// only, system messages in neither): a message written without stamping its
// ticket through messageStamp() shows up here. Positions and weights are
// left out (strip()); the words are what search finds.
import type postgres from 'postgres'

export async function staleSearchVectors(sql: postgres.Sql, ticketIds: string[]) {
  const rows = await sql<{ id: string }[]>`
    select k.id from tickets k
    where k.id = any(${ticketIds}::uuid[]) and (
      strip(k.search_public) <> strip(to_tsvector('english', k.subject) || coalesce((
        select to_tsvector('english', string_agg(m.body, ' ')) from messages m
        where m.tenant_id = k.tenant_id and m.ticket_id = k.id
          and not m.internal and m.author_type <> 'system'), ''))
      or strip(k.search_all) <> strip(to_tsvector('english', k.subject) || coalesce((
        select to_tsvector('english', string_agg(m.body, ' ')) from messages m
        where m.tenant_id = k.tenant_id and m.ticket_id = k.id
          and m.author_type <> 'system'), '')))`
  return rows.map((r) => r.id)
}
