// Erasing a contact (GDPR art. 17), in one tenant transaction that cannot be
// undone:
// - the contact's name, email and external id become null, its link to a
//   member (userId) is cut, and erasedAt is set; the row stays, so tickets
//   keep their requester and GET still answers (with the nulls);
// - every message the contact wrote (messages.contact_id) loses its body
//   (ERASED_BODY: empty, so no word of it is left to search or to show) and
//   its attachments' rows, whose storage keys are returned: the files are
//   deleted after commit by the caller, which holds the storage (a failed file
//   deletion leaves an orphan nothing names, never a row without its bytes);
// - the search vectors of the tickets those messages belong to are rebuilt
//   from what is left (ticket_search_rebuild, drizzle/0012), so an erased word
//   no longer finds the ticket, and the tickets are stamped as changed (their
//   ETags move); they keep their numbers, subjects and everyone else's
//   messages;
// - stored Idempotency-Key answers that show the contact (a ticket it
//   requested, a message it wrote: both carry its id) are dropped, so its
//   words do not outlive the erasure there either for up to a day;
// - the feed's events and the webhook deliveries that carry the contact (its
//   tickets' and messages' events, its own contact events: any whose stored
//   JSON names its id) are deleted: they are short-lived copies (kept
//   EVENT_RETENTION_DAYS), and must not be where erased words outlive the
//   erasure; what receivers or feed readers already took is beyond reach. A
//   delivery still waiting goes with them, so it is never sent;
// - an audit event `contact.erased` records who erased it and how much went
//   (counts only, nothing of what was erased).
//
// Erasing again answers the same erased contact. It also scrubs any message
// that was written for the contact while the first erasure ran (a member who
// posted at that moment), and records an event only when it found one.
//
// What stays: the tickets' subjects (the tenant's index of its work; an agent
// can edit one), agents' and AI replies (the tenant's own words, which may
// quote the customer), a user account of the same person (theirs to delete)
// and a membership (the tenant's to remove). A member who acts again after
// its contact was erased gets a new contact.
import { sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { contacts } from '../../db/schema/contacts.ts'
import { events } from '../../db/schema/events.ts'
import { attachments } from '../../db/schema/files.ts'
import { idempotencyKeys, messages, tickets } from '../../db/schema/helpdesk.ts'
import { webhookDeliveries } from '../../db/schema/webhooks.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import { bare, textArray } from '../../db/sql-fragments.ts'
import { NotFound } from '../../lib/problems.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { anyChange, publicChange } from '../tickets/ticket-stamps.ts'
import { contactColumns } from './contacts.ts'
import type { Contact } from './schemas.ts'

/** What an erased message's body becomes: nothing, so nothing of it can be searched or shown. */
export const ERASED_BODY = ''

export type Erasure = {
  contact: Contact
  /** the storage keys of the attachments whose rows went: delete these files after commit */
  storageKeys: string[]
}

export async function eraseContact(
  database: DatabaseHandle,
  tenantId: string,
  contactId: string,
  actor: AuditActor,
): Promise<Erasure> {
  const c = contacts
  const m = messages
  const a = attachments
  const k = tickets
  return withScope(database, { tenantId }, async (tx) => {
    // FOR UPDATE conflicts with the KEY SHARE lock that inserting a message or
    // a ticket for this contact takes through its foreign key: a write that
    // began first is waited for (and then scrubbed here), one that begins now
    // waits for this commit.
    const [locked] = await rowsOf<{ erased: boolean }>(
      tx,
      sql`select ${c.erasedAt} is not null as erased from ${c}
          where ${c.tenantId} = ${tenantId} and ${c.id} = ${contactId} for update`,
    )
    if (!locked) throw new NotFound('contact')

    const files = await rowsOf<{ storageKey: string; ticketId: string }>(
      tx,
      sql`delete from ${a} using ${m}
          where ${a.tenantId} = ${tenantId} and ${m.tenantId} = ${tenantId}
            and ${a.messageId} = ${m.id} and ${m.contactId} = ${contactId}
          returning ${a.storageKey} as "storageKey", ${m.ticketId} as "ticketId"`,
    )
    const bodies = await rowsOf<{ ticketId: string }>(
      tx,
      sql`update ${m} set ${bare(m.body)} = ${ERASED_BODY}
          where ${m.tenantId} = ${tenantId} and ${m.contactId} = ${contactId}
            and ${m.body} <> ${ERASED_BODY}
          returning ${m.ticketId} as "ticketId"`,
    )
    const ticketIds = [...new Set([...files, ...bodies].map((row) => row.ticketId))]
    if (ticketIds.length > 0) {
      await rowsOf(
        tx,
        sql`update ${k} set
              ${bare(k.searchPublic)} = ticket_search_rebuild(${k.tenantId}, ${k.id}, ${k.subject}, false),
              ${bare(k.searchAll)} = ticket_search_rebuild(${k.tenantId}, ${k.id}, ${k.subject}, true),
              ${anyChange}, ${publicChange}
            where ${k.tenantId} = ${tenantId}
              and ${k.id} = any(${textArray(ticketIds)}::uuid[])`,
      )
    }
    await rowsOf(
      tx,
      sql`delete from ${idempotencyKeys}
          where ${idempotencyKeys.tenantId} = ${tenantId}
            and strpos(${idempotencyKeys.response}::text, ${contactId}) > 0`,
    )

    const copies = await rowsOf<{ n: number }>(
      tx,
      sql`with gone_events as (
            delete from ${events}
            where ${events.tenantId} = ${tenantId}
              and (${events.contactId} = ${contactId}
                   or strpos(${events.data}::text, ${contactId}) > 0
                   or strpos(coalesce(${events.customerData}::text, ''), ${contactId}) > 0)
            returning 1),
          gone_deliveries as (
            delete from ${webhookDeliveries}
            where ${webhookDeliveries.tenantId} = ${tenantId}
              and strpos(${webhookDeliveries.data}::text, ${contactId}) > 0
            returning 1)
          select (select count(*) from gone_events)::int + (select count(*) from gone_deliveries)::int as n`,
    )

    const [contact] = await rowsOf<Contact>(
      tx,
      locked.erased
        ? sql`select ${contactColumns} from ${c}
              where ${c.tenantId} = ${tenantId} and ${c.id} = ${contactId}`
        : sql`update ${c} set ${bare(c.email)} = null, ${bare(c.name)} = null,
                ${bare(c.externalId)} = null, ${bare(c.userId)} = null,
                ${bare(c.erasedAt)} = now(), ${bare(c.updatedAt)} = now()
              where ${c.tenantId} = ${tenantId} and ${c.id} = ${contactId}
              returning ${contactColumns}`,
    )
    if (!contact) throw new Error(`contact ${contactId} vanished while locked`)

    const copiesGone = copies[0]?.n ?? 0
    if (!locked.erased || bodies.length > 0 || files.length > 0 || copiesGone > 0) {
      await recordAudit(tx, {
        tenantId,
        action: 'contact.erased',
        targetType: 'contact',
        targetId: contactId,
        data: {
          messages: bodies.length,
          attachments: files.length,
          tickets: ticketIds.length,
          eventCopies: copiesGone,
          ...(locked.erased ? { again: true } : {}),
        },
        ...actor,
      })
    }
    return { contact, storageKeys: files.map((f) => f.storageKey) }
  })
}
