// Which ticket an inbound mail continues, in the contract's order: a
// Message-ID it answers (In-Reply-To, then References, newest first) that
// Deskpilot sent or received for the tenant (email_messages: threading never
// guesses); else the subject token `[<slug> #<number>]`, only when the sender
// is that ticket's requester (anyone can type a token). A merged ticket
// stands for the one it was merged into. Also where outgoing ticket mail
// records its ids, so replies to it find their ticket.
import { sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx } from '../../db/client.ts'
import { tickets } from '../../db/schema/helpdesk.ts'
import { emailMessages } from '../../db/schema/mail.ts'
import { rowsOf } from '../../db/scoped.ts'
import { bare, textArray } from '../../db/sql-fragments.ts'
import { type AiReplyMode, tenantSetting } from '../tenants/settings.ts'
import { liveTicketOf } from '../tickets/merged-tickets.ts'

const e = emailMessages
const t = tickets

export type ThreadTicket = {
  id: string
  status: (typeof tickets.$inferSelect)['status']
  aiReplyMode: AiReplyMode
}

export async function threadTicket(
  tx: DbOrTx,
  tenantId: string,
  mail: { threadIds: readonly string[]; subject: string },
  slug: string,
  contactId: string | null,
): Promise<ThreadTicket | null> {
  let ticketId: string | null = null
  if (mail.threadIds.length > 0) {
    const ids = textArray(mail.threadIds)
    const [known] = await rowsOf<{ ticketId: string }>(
      tx,
      sql`select ${e.ticketId} as "ticketId" from ${e}
          where ${e.tenantId} = ${tenantId} and ${e.emailId} = any(${ids}) and ${e.ticketId} is not null
          order by array_position(${ids}, ${e.emailId}) limit 1`,
    )
    ticketId = known?.ticketId ?? null
  }
  if (!ticketId) {
    const number = subjectTokenNumber(mail.subject, slug)
    if (number !== null) {
      const [owned] = await rowsOf<{ id: string }>(
        tx,
        sql`select ${t.id} as id from ${t}
            where ${t.tenantId} = ${tenantId} and ${t.number} = ${number}
              and ${t.requesterId} = ${contactId}`,
      )
      ticketId = owned?.id ?? null
    }
  }
  const live = ticketId ? await liveTicketOf(tx, tenantId, ticketId) : null
  if (!live) return null
  const [row] = await rowsOf<ThreadTicket>(
    tx,
    sql`select ${t.id} as id, ${t.status} as status,
               ${tenantSetting(tenantId, 'aiReplyMode')} as "aiReplyMode"
        from ${t} where ${t.tenantId} = ${tenantId} and ${t.id} = ${live}
        for update of ${t}`,
  )
  return row ?? null
}

/** The number in a subject's `[<slug> #<number>]` token, or null. */
export function subjectTokenNumber(subject: string, slug: string): number | null {
  const escaped = slug.replace(/[^a-z0-9-]/g, '')
  const match = new RegExp(`\\[${escaped} #(\\d{1,9})\\]`, 'i').exec(subject)
  return match ? Number(match[1]) : null
}

/** Records Message-IDs Deskpilot sent about a ticket (and its root id), so replies thread. */
export async function recordSentIds(
  tx: DbOrTx,
  tenantId: string,
  sent: { emailIds: readonly string[]; ticketId: string; messageId: string | null },
) {
  for (const emailId of new Set(sent.emailIds)) {
    await tx.execute(
      sql`insert into ${e} (${bare(e.id)}, ${bare(e.tenantId)}, ${bare(e.emailId)}, ${bare(e.direction)},
                            ${bare(e.ticketId)}, ${bare(e.messageId)})
          values (${uuidv7()}, ${tenantId}, ${emailId}, 'out', ${sent.ticketId}, ${sent.messageId})
          on conflict do nothing`,
    )
  }
}
