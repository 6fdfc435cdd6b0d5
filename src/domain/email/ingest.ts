// The one way mail comes in (ARCHITECTURE.md, "One way in for mail"): both
// front doors, the HTTP hook and the SMTP receiver, hand the raw message and
// its tenant here. A mail is read once (inbound-message.ts); a Message-ID seen
// before answers with the first result and writes nothing; machine mail
// (auto-replies, bounces, loops) is recorded as ignored and never answered;
// anything else becomes a customer message of its sender's contact, on the
// ticket it threads to (mail-threads.ts), or on a new ticket (a follow-up
// when that ticket is closed). The files (each attachment, and the whole
// original as message/rfc822) are stored before the transaction and deleted
// again if it fails, so no row names missing bytes and no file outlives its
// failed mail. The message, its attachments, its email id and its jobs commit
// together; the jobs are dispatched by the caller after commit.
import { Readable } from 'node:stream'
import { sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle, Tx } from '../../db/client.ts'
import { emailMessages, type IgnoredMail } from '../../db/schema/mail.ts'
import { readInScope, rowsOf, withScope } from '../../db/scoped.ts'
import { bare } from '../../db/sql-fragments.ts'
import type { QueuedJob } from '../../jobs/outbox.ts'
import { BadRequest } from '../../lib/problems.ts'
import type { Storage } from '../../lib/storage/storage.ts'
import { contactEmailKey } from '../contacts/contact-email.ts'
import { contactByEmail, contactForEmail } from '../contacts/requesters.ts'
import { attachmentKey, insertAttachment } from '../files/attachments.ts'
import { storeUpload } from '../files/upload.ts'
import { appendMessage } from '../tickets/messages.ts'
import { ticketColumns } from '../tickets/ticket-views.ts'
import { insertTicket } from '../tickets/tickets.ts'
import { type InboundMessage, parseInboundMessage } from './inbound-message.ts'
import { threadTicket } from './mail-threads.ts'

export type IngestOutcome =
  | { ticketId: string; messageId: string; created: boolean }
  | { ignored: IgnoredMail }

export type Ingested = {
  outcome: IngestOutcome
  /** the same Message-ID came before: nothing was written now */
  duplicate: boolean
  jobs: QueuedJob[]
}

/** The longest subject and body a ticket takes through the API; mail is cut to fit (the original is kept). */
const SUBJECT_CHARS = 250
const BODY_CHARS = 100_000

const e = emailMessages

type StoredFile = {
  id: string
  storageKey: string
  filename: string
  inline: boolean
  size: number
  sha256: string
  contentType: string
}

/** Reads a raw message (400 invalid_message when it cannot be read): what a front door does first. */
export const readInboundMail = parseInboundMessage

export async function ingestEmail(
  deps: { database: DatabaseHandle; storage: Storage },
  tenant: { id: string; slug: string },
  { raw, mail }: { raw: Buffer; mail: InboundMessage },
  limits: { attachmentMaxBytes: number },
): Promise<Ingested> {
  const earlier = await recordedOutcome(deps.database, tenant.id, mail.messageId)
  if (earlier) return { outcome: earlier, duplicate: true, jobs: [] }
  if (mail.machine) return recordIgnored(deps.database, tenant.id, mail.messageId, mail.machine)
  const sender = contactEmailKey(mail.from.email)
  if (!sender) {
    throw new BadRequest('invalid_message', 'The sender address is not one Deskpilot accepts.')
  }
  const files = await storeFiles(deps.storage, tenant.id, mail, raw, limits.attachmentMaxBytes)
  try {
    const written = await withScope(deps.database, { tenantId: tenant.id }, (tx) =>
      writeMail(tx, tenant, mail, sender, files),
    )
    if (written) return { ...written, duplicate: false }
  } catch (err) {
    await deleteFiles(deps.storage, files)
    throw err
  }
  // A concurrent delivery of the same Message-ID committed first: its result stands.
  await deleteFiles(deps.storage, files)
  const winner = await recordedOutcome(deps.database, tenant.id, mail.messageId)
  if (!winner) throw new Error('a concurrent delivery of this mail left no record')
  return { outcome: winner, duplicate: true, jobs: [] }
}

async function writeMail(
  tx: Tx,
  tenant: { id: string; slug: string },
  mail: InboundMessage,
  sender: string,
  files: StoredFile[],
): Promise<{ outcome: IngestOutcome; jobs: QueuedJob[] } | null> {
  const tenantId = tenant.id
  // The email id first: a concurrent delivery of the same mail waits here on
  // the unique key, then finds it taken and writes nothing.
  const [claim] = await rowsOf<{ id: string }>(
    tx,
    sql`insert into ${e} (${bare(e.id)}, ${bare(e.tenantId)}, ${bare(e.emailId)}, ${bare(e.direction)}, ${bare(e.receivedAt)})
        values (${uuidv7()}, ${tenantId}, ${mail.messageId}, 'in', now())
        on conflict do nothing returning ${e.id} as id`,
  )
  if (!claim) return null
  // The thread (its ticket locked) before a new sender's contact is made: that
  // writes an event, and the event counter is locked after ticket rows
  // (events/record.ts). A sender with no contact yet requested no ticket.
  const known = await contactByEmail(tx, tenantId, sender)
  const thread = await threadTicket(tx, tenantId, mail, tenant.slug, known)
  const contact = await contactForEmail(tx, tenantId, sender, mail.from.name)
  const body = (mail.body || '(This email has no text; see its attachments.)').slice(0, BODY_CHARS)
  const author = { tenantId, userId: null, authorType: 'customer' as const, contactId: contact.id }
  const continues = thread !== null && thread.status !== 'closed'
  const written = continues
    ? await appendMessage(tx, author, thread, { body, internal: false })
    : await insertTicket(
        tx,
        { ...author, columns: ticketColumns },
        {
          subject: (mail.subject || '(no subject)').slice(0, SUBJECT_CHARS),
          body,
          requesterId: contact.id,
          followUpOfId: thread?.id ?? null,
        },
      )
  const ticketId = written.message.ticketId
  for (const file of files) {
    await insertAttachment(tx, {
      tenantId,
      principal: null,
      messageId: written.message.id,
      ...file,
    })
  }
  await tx.execute(
    sql`update ${e} set ${bare(e.ticketId)} = ${ticketId}, ${bare(e.messageId)} = ${written.message.id},
          ${bare(e.created)} = ${!continues}
        where ${e.tenantId} = ${tenantId} and ${e.id} = ${claim.id}`,
  )
  return {
    outcome: { ticketId, messageId: written.message.id, created: !continues },
    jobs: written.jobs,
  }
}

async function recordedOutcome(
  database: DatabaseHandle,
  tenantId: string,
  emailId: string,
): Promise<IngestOutcome | null> {
  const [row] = await readInScope<{
    ticketId: string | null
    messageId: string | null
    created: boolean
    ignored: IgnoredMail | null
  }>(
    database,
    { tenantId },
    sql`select ${e.ticketId} as "ticketId", ${e.messageId} as "messageId", ${e.created} as created,
               ${e.ignored} as ignored
        from ${e} where ${e.tenantId} = ${tenantId} and ${e.emailId} = ${emailId}`,
  )
  if (!row) return null
  if (row.ignored) return { ignored: row.ignored }
  if (!row.ticketId || !row.messageId) return null
  return { ticketId: row.ticketId, messageId: row.messageId, created: row.created }
}

async function recordIgnored(
  database: DatabaseHandle,
  tenantId: string,
  emailId: string,
  why: IgnoredMail,
): Promise<Ingested> {
  await withScope(database, { tenantId }, (tx) =>
    tx.execute(
      sql`insert into ${e} (${bare(e.id)}, ${bare(e.tenantId)}, ${bare(e.emailId)}, ${bare(e.direction)},
                            ${bare(e.ignored)}, ${bare(e.receivedAt)})
          values (${uuidv7()}, ${tenantId}, ${emailId}, 'in', ${why}, now())
          on conflict do nothing`,
    ),
  )
  return { outcome: { ignored: why }, duplicate: false, jobs: [] }
}

/** The original (message/rfc822) and every attachment, stored under keys of their own. */
async function storeFiles(
  storage: Storage,
  tenantId: string,
  mail: InboundMessage,
  raw: Buffer,
  maxBytes: number,
): Promise<StoredFile[]> {
  const parts = [
    { filename: 'original.eml', declaredType: 'message/rfc822', content: raw, inline: false },
    ...mail.attachments.map((a) => ({ ...a, inline: a.contentId !== null })),
  ]
  const stored: StoredFile[] = []
  try {
    for (const part of parts) {
      const id = uuidv7()
      const storageKey = attachmentKey(tenantId, id)
      const file = await storeUpload(storage, storageKey, Readable.from([part.content]), {
        maxBytes: Math.max(maxBytes, raw.length),
        declaredType: part.declaredType,
      })
      stored.push({ id, storageKey, filename: part.filename, inline: part.inline, ...file })
    }
  } catch (err) {
    await deleteFiles(storage, stored)
    throw err
  }
  return stored
}

async function deleteFiles(storage: Storage, files: readonly StoredFile[]) {
  await Promise.all(files.map((f) => storage.delete(f.storageKey).catch(() => {})))
}
