// Attachments: files in storage (lib/storage) with a row each. An upload
// belongs to its uploader (principal: `user:<id>` or `key:<id>`, as
// idempotency keys name callers) until it is attached to a message, in the
// message's own transaction; from then on whoever may see the message may
// download it, and nobody else. Uploads never attached are swept after a day
// (sweep-uploads.ts).
// Storage keys are `<tenantId>/<attachmentId>`: never derived from a file name.
import type { Readable } from 'node:stream'
import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle, DbOrTx, Tx } from '../../db/client.ts'
import { attachments } from '../../db/schema/files.ts'
import { messages, tickets } from '../../db/schema/helpdesk.ts'
import { readInScope, rowsOf, writeInScope } from '../../db/scoped.ts'
import { bare, isoTime } from '../../db/sql-fragments.ts'
import { Problem } from '../../lib/problems.ts'
import type { Storage } from '../../lib/storage/storage.ts'
import type { Caller } from '../tickets/caller.ts'
import { visibleTickets } from '../tickets/ticket-views.ts'
import { safeFilename } from './filenames.ts'
import type { AttachmentRow, MessageAttachmentRow } from './schemas.ts'
import { storeUpload } from './upload.ts'

/** Who owns an upload until it is attached: the tenant and the caller's principal. */
export type Uploader = { tenantId: string; principal: string }

export type IncomingFile = {
  stream: Readable
  /** as the client named it; cleaned before it is stored (filenames.ts) */
  filename: string | undefined
  /** the client's Content-Type, believed only for plain text (upload.ts) */
  declaredType: string | undefined
}

const a = attachments

const attachmentColumns = sql`${a.id} as "id", ${a.filename} as "filename",
  ${a.contentType} as "contentType", ${a.size}::float8 as "size", ${a.sha256} as "sha256",
  ${isoTime(a.createdAt)} as "createdAt"`

/** Where an attachment's bytes live. */
export function attachmentKey(tenantId: string, attachmentId: string): string {
  return `${tenantId}/${attachmentId}`
}

/**
 * Streams an upload to storage, then writes its row. The file goes first so
 * that a row never names bytes that are not there; if the row cannot be
 * written, the file is deleted again. A body over `maxBytes` (413) or a client
 * gone half way leaves neither.
 */
export async function uploadAttachment(
  database: DatabaseHandle,
  storage: Storage,
  uploader: Uploader,
  file: IncomingFile,
  maxBytes: number,
): Promise<AttachmentRow> {
  const id = uuidv7()
  const storageKey = attachmentKey(uploader.tenantId, id)
  const stored = await storeUpload(storage, storageKey, file.stream, {
    maxBytes,
    declaredType: file.declaredType,
  })
  try {
    const [row] = await writeInScope<AttachmentRow>(
      database,
      { tenantId: uploader.tenantId },
      insertStatement({
        id,
        tenantId: uploader.tenantId,
        principal: uploader.principal,
        messageId: null,
        filename: safeFilename(file.filename),
        ...stored,
        storageKey,
        inline: false,
      }),
    )
    if (!row) throw new Error('attachment insert returned no row')
    return row
  } catch (err) {
    // Best effort: should this fail too, the file is an orphan no row names,
    // which nothing can serve.
    await storage.delete(storageKey).catch(() => {})
    throw err
  }
}

export type NewAttachment = {
  id?: string
  tenantId: string
  /** null for a file that came by mail */
  principal: string | null
  messageId: string | null
  filename: string
  contentType: string
  size: number
  sha256: string
  storageKey: string
  /** an inline image of an email (Content-ID): shown in the body, listed last */
  inline: boolean
}

function insertStatement(row: NewAttachment & { id: string }) {
  return sql`insert into ${a} (${bare(a.id)}, ${bare(a.tenantId)}, ${bare(a.principal)},
      ${bare(a.messageId)}, ${bare(a.filename)}, ${bare(a.contentType)}, ${bare(a.size)},
      ${bare(a.sha256)}, ${bare(a.storageKey)}, ${bare(a.inline)}, ${bare(a.attachedAt)})
    values (${row.id}, ${row.tenantId}, ${row.principal}, ${row.messageId}, ${row.filename},
      ${row.contentType}, ${row.size}, ${row.sha256}, ${row.storageKey}, ${row.inline},
      ${row.messageId === null ? null : sql`now()`})
    returning ${attachmentColumns}`
}

/**
 * The row of a file that arrives with its message (inbound mail), in the
 * message's transaction; its bytes are stored first (storeUpload under
 * attachmentKey()).
 */
export async function insertAttachment(tx: DbOrTx, row: NewAttachment): Promise<AttachmentRow> {
  const [inserted] = await rowsOf<AttachmentRow>(
    tx,
    insertStatement({ ...row, id: row.id ?? uuidv7(), filename: safeFilename(row.filename) }),
  )
  if (!inserted) throw new Error('attachment insert returned no row')
  return inserted
}

/**
 * Claims the caller's own unattached uploads for a message, in the message's
 * transaction. Any id that is not one (another tenant's, another caller's,
 * attached already, unknown) fails the whole request with 422
 * invalid_attachment naming each such id's place in the body, and the throw
 * rolls the transaction, message and all, back. The UPDATE's own conditions
 * decide, so two messages racing for one upload cannot both get it. Answers
 * the message's attachments as it lists them, in upload order.
 */
export async function attachUploads(
  tx: Tx,
  caller: Uploader,
  messageId: string,
  ids: readonly string[],
): Promise<MessageAttachmentRow[]> {
  if (ids.length === 0) return []
  const wellFormed = ids.filter((id) => UUID.test(id))
  const claimed =
    wellFormed.length === 0
      ? []
      : await tx
          .update(a)
          .set({ messageId, attachedAt: sql`now()` })
          .where(
            and(
              eq(a.tenantId, caller.tenantId),
              eq(a.principal, caller.principal),
              isNull(a.messageId),
              inArray(a.id, [...new Set(wellFormed)]),
            ),
          )
          .returning({
            id: a.id,
            filename: a.filename,
            contentType: a.contentType,
            size: a.size,
            createdAt: isoTime(a.createdAt),
          })
  const mine = new Set(claimed.map((row) => row.id))
  const errors = ids.flatMap((id, i) =>
    mine.has(id)
      ? []
      : [
          {
            path: `body/attachmentIds/${i}`,
            message: 'is not an upload of yours that is still unattached',
          },
        ],
  )
  if (errors.length > 0) {
    throw new Problem(
      'invalid_attachment',
      'Every attachment must be an upload of yours that is not attached yet.',
      { errors },
    )
  }
  return claimed.sort((x, y) =>
    x.createdAt === y.createdAt ? x.id.localeCompare(y.id) : x.createdAt.localeCompare(y.createdAt),
  )
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The attachments of these messages, each message's listed files first (inline
 * images of an email last), then in upload order. Messages without any are
 * not in the map.
 */
export async function attachmentsOfMessages(
  tx: DbOrTx,
  tenantId: string,
  messageIds: readonly string[],
): Promise<Map<string, MessageAttachmentRow[]>> {
  const byMessage = new Map<string, MessageAttachmentRow[]>()
  if (messageIds.length === 0) return byMessage
  const rows = await tx
    .select({
      messageId: a.messageId,
      id: a.id,
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      createdAt: isoTime(a.createdAt),
    })
    .from(a)
    .where(and(eq(a.tenantId, tenantId), inArray(a.messageId, [...messageIds])))
    .orderBy(a.messageId, a.inline, a.createdAt, a.id)
  for (const { messageId, ...attachment } of rows) {
    const list = byMessage.get(messageId as string) ?? []
    list.push(attachment)
    byMessage.set(messageId as string, list)
  }
  return byMessage
}

export type Download = {
  filename: string
  contentType: string
  size: number
  storageKey: string
}

/**
 * An attachment the caller may download, or null (the route's 404, the same
 * whether it does not exist or is not the caller's to see): its uploader's
 * while unattached; once attached, whoever sees its message, which means the
 * ticket is visible to the caller (ticket-views.ts) and an internal note's
 * files only to callers who see internal notes.
 */
export async function findDownload(
  database: DatabaseHandle,
  caller: Caller,
  attachmentId: string,
): Promise<Download | null> {
  const notes = caller.seesInternal ? sql`` : sql` and not ${messages.internal}`
  const [row] = await readInScope<Download>(
    database,
    { tenantId: caller.tenantId },
    sql`select ${a.filename} as "filename", ${a.contentType} as "contentType",
          ${a.size}::float8 as "size", ${a.storageKey} as "storageKey"
        from ${a}
        where ${a.tenantId} = ${caller.tenantId} and ${a.id} = ${attachmentId}
          and ((${a.messageId} is null and ${a.principal} = ${caller.principal})
            or exists (
              select 1 from ${messages}
              join ${tickets} on ${tickets.tenantId} = ${messages.tenantId}
                and ${tickets.id} = ${messages.ticketId}
              where ${messages.tenantId} = ${a.tenantId} and ${messages.id} = ${a.messageId}
                and ${visibleTickets(caller)}${notes}))`,
  )
  return row ?? null
}

/**
 * Takes back an upload that was never attached (the request that stored it
 * failed after all): its row, then its file.
 */
export async function discardUpload(
  database: DatabaseHandle,
  storage: Storage,
  uploader: Uploader,
  attachmentId: string,
): Promise<void> {
  const [row] = await writeInScope<{ storageKey: string }>(
    database,
    { tenantId: uploader.tenantId },
    sql`delete from ${a}
        where ${a.tenantId} = ${uploader.tenantId} and ${a.id} = ${attachmentId}
          and ${a.principal} = ${uploader.principal} and ${a.messageId} is null
        returning ${a.storageKey} as "storageKey"`,
  )
  if (row) await storage.delete(row.storageKey)
}
