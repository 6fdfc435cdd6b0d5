// What a merged ticket still answers to (merge.ts merges them). It stays
// readable, closed, with mergedIntoId; a write to it (a message, a PATCH, an
// AI reply) is refused with 409 ticket_merged naming where to write instead,
// and whoever finds a ticket by an old reference (an email's Message-ID or
// subject token, which may name a ticket merged since, even one merged into a
// ticket merged later in turn) follows merged_into_id to the live one.
import { sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.ts'
import { tickets } from '../../db/schema/helpdesk.ts'
import { rowsOf } from '../../db/scoped.ts'
import { Problem } from '../../lib/problems.ts'

/**
 * How many merges liveTicketOf follows. A merge never targets a merged
 * ticket, so chains cannot loop and stay short; the bound is a guard only.
 */
export const MERGE_HOPS = 10

/** Refuses a write to a merged ticket: 409 ticket_merged with the ticket it went into. */
export function assertNotMerged(ticket: { mergedIntoId: string | null }): void {
  if (ticket.mergedIntoId) {
    throw new Problem(
      'ticket_merged',
      'This ticket was merged into another (mergedIntoId); write there instead.',
      { extensions: { mergedIntoId: ticket.mergedIntoId } },
    )
  }
}

/**
 * The ticket a reference to `ticketId` means now: the ticket itself, or, when
 * it was merged, the end of its merged_into_id chain (at most MERGE_HOPS
 * merges away). Null when there is no such ticket in the tenant, when the
 * ticket at the end is deleted, or when the chain is longer than the bound.
 * For the inbound mail's threading: the ticket it finds may be closed (then
 * the mail opens a follow-up), never merged.
 */
export async function liveTicketOf(
  tx: DbOrTx,
  tenantId: string,
  ticketId: string,
): Promise<string | null> {
  const [row] = await rowsOf<{ id: string }>(
    tx,
    sql`with recursive chain (id, merged_into_id, deleted_at, hops) as (
          select ${tickets.id}, ${tickets.mergedIntoId}, ${tickets.deletedAt}, 0
          from ${tickets}
          where ${tickets.tenantId} = ${tenantId} and ${tickets.id} = ${ticketId}
          union all
          select ${tickets.id}, ${tickets.mergedIntoId}, ${tickets.deletedAt}, chain.hops + 1
          from chain join ${tickets}
            on ${tickets.tenantId} = ${tenantId} and ${tickets.id} = chain.merged_into_id
          where chain.hops < ${MERGE_HOPS}
        )
        select id from chain
        where merged_into_id is null and deleted_at is null`,
  )
  return row?.id ?? null
}
