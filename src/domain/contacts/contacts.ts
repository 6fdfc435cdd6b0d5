// Contacts one at a time: create, read, change and delete (the list is
// contact-list.ts, erasure erasure.ts). A read and a create are one statement
// each, sent pipelined with the tenant scope; a change and a delete run in a
// transaction (a row lock, an audit event).
//
// Uniqueness is the database's: an email (stored normalised, so two spellings
// of one mailbox are one contact) and an external id are each unique in a
// tenant. A write that breaks either is caught by its unique index's name
// (23505), whether the other contact was there before or was written a moment
// ago by a concurrent request, and answers 409 contact_exists naming that
// contact (existingId), never a 500. Both fields answer with the same code:
// either way the person already has a contact, and existingId says which;
// `errors` names the field.
//
// An erased contact keeps answering reads, but cannot be changed again (409
// contact_erased): erasure cannot be undone by writing the data back.
import { type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle } from '../../db/client.ts'
import { contacts } from '../../db/schema/contacts.ts'
import { readInScope, rowsOf, withScope, writeInScope } from '../../db/scoped.ts'
import { bare, isoTime, selectList } from '../../db/sql-fragments.ts'
import { violatedConstraint } from '../../lib/database-errors.ts'
import { Conflict, NotFound, Problem } from '../../lib/problems.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { withContactEvent } from '../events/contact-events.ts'
import { normaliseContactEmail } from './contact-email.ts'
import type { Contact } from './schemas.ts'

const c = contacts

/** The Contact's columns, its times as every response shows them. */
export const contactColumns = selectList({
  id: c.id,
  email: c.email,
  name: c.name,
  externalId: c.externalId,
  userId: c.userId,
  erasedAt: isoTime(c.erasedAt),
  createdAt: isoTime(c.createdAt),
  updatedAt: isoTime(c.updatedAt),
})

export type NewContact = { email: string; name?: string; externalId?: string }
export type ContactPatch = { email?: string; name?: string | null; externalId?: string | null }

/** The unique indexes a contact write can break, and the field each guards. */
const UNIQUE_FIELDS: Record<string, { field: 'email' | 'externalId'; column: PgColumn }> = {
  contacts_tenant_email_key: { field: 'email', column: c.email },
  contacts_tenant_external_id_key: { field: 'externalId', column: c.externalId },
}

/**
 * The 409 a write that broke a contact's unique index answers, naming the
 * contact that holds the value; null when `error` is something else.
 */
async function duplicateOf(
  database: DatabaseHandle,
  tenantId: string,
  error: unknown,
  values: { email?: string | null; externalId?: string | null },
): Promise<Problem | null> {
  const constraint = violatedConstraint(error, '23505')
  const unique = constraint ? UNIQUE_FIELDS[constraint] : undefined
  if (!unique) return null
  const value = values[unique.field]
  const [holder] = value
    ? await readInScope<{ id: string }>(
        database,
        { tenantId },
        sql`select ${c.id} as id from ${c} where ${c.tenantId} = ${tenantId} and ${unique.column} = ${value}`,
      )
    : []
  const what = unique.field === 'email' ? 'this email' : 'this external id'
  return new Problem('contact_exists', `A contact with ${what} exists already.`, {
    errors: [{ path: `body/${unique.field}`, message: 'belongs to another contact' }],
    // Gone again by now (deleted meanwhile): the conflict stands, with no one to name.
    extensions: holder ? { existingId: holder.id } : {},
  })
}

export async function getContact(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
): Promise<Contact> {
  const [row] = await readInScope<Contact>(
    database,
    { tenantId },
    sql`select ${contactColumns} from ${c} where ${c.tenantId} = ${tenantId} and ${c.id} = ${id}`,
  )
  if (!row) throw new NotFound('contact')
  return row
}

export async function createContact(
  database: DatabaseHandle,
  tenantId: string,
  input: NewContact,
): Promise<Contact> {
  const email = normaliseContactEmail(input.email, 'body/email')
  const externalId = input.externalId ?? null
  const [row] = await writeInScope<Contact>(
    database,
    { tenantId },
    withContactEvent(
      tenantId,
      'contact.created',
      sql`insert into ${c} (${bare(c.id)}, ${bare(c.tenantId)}, ${bare(c.email)}, ${bare(c.name)},
                           ${bare(c.externalId)})
          values (${uuidv7()}, ${tenantId}, ${email}, ${input.name ?? null}, ${externalId})
          returning ${contactColumns}`,
    ),
  ).catch(async (err: unknown) => {
    throw (await duplicateOf(database, tenantId, err, { email, externalId })) ?? err
  })
  if (!row) throw new Error('contact insert returned no row')
  return row
}

/**
 * Changes the fields sent (null clears a name or an external id). The contact
 * is found first and locked (erasure takes the same lock, so a change never
 * lands on a contact erased meanwhile): another tenant's or an unknown id is
 * 404 and an erased contact 409 contact_erased, whatever the body holds; then
 * the email is checked. The link to a member (userId) is not the client's to
 * set: it follows a proven address (requesters.ts), and changing the email
 * leaves it as it is.
 */
export async function updateContact(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
  patch: ContactPatch,
): Promise<Contact> {
  let email: string | undefined
  try {
    return await withScope(database, { tenantId }, async (tx) => {
      const [current] = await rowsOf<{ erased: boolean }>(
        tx,
        sql`select ${c.erasedAt} is not null as erased from ${c}
            where ${c.tenantId} = ${tenantId} and ${c.id} = ${id} for update`,
      )
      if (!current) throw new NotFound('contact')
      if (current.erased) {
        throw new Conflict(
          'This contact was erased; it cannot be changed any more.',
          'contact_erased',
        )
      }
      if (patch.email !== undefined) email = normaliseContactEmail(patch.email, 'body/email')
      const set: SQL[] = [sql`${bare(c.updatedAt)} = now()`]
      if (email !== undefined) set.push(sql`${bare(c.email)} = ${email}`)
      if (patch.name !== undefined) set.push(sql`${bare(c.name)} = ${patch.name}`)
      if (patch.externalId !== undefined) {
        set.push(sql`${bare(c.externalId)} = ${patch.externalId}`)
      }
      const [row] = await rowsOf<Contact>(
        tx,
        withContactEvent(
          tenantId,
          'contact.updated',
          sql`update ${c} set ${sql.join(set, sql`, `)}
              where ${c.tenantId} = ${tenantId} and ${c.id} = ${id}
              returning ${contactColumns}`,
        ),
      )
      if (!row) throw new Error(`contact ${id} vanished while locked`)
      return row
    })
  } catch (err) {
    throw (
      (await duplicateOf(database, tenantId, err, { email, externalId: patch.externalId })) ?? err
    )
  }
}

/**
 * Deletes a contact that never requested a ticket nor wrote a message: the
 * foreign keys from tickets and messages (NO ACTION) refuse any other, in the
 * very statement, so a ticket opened for the contact meanwhile also answers
 * 409. A contact with history is erased instead (erasure.ts). Audited.
 */
export async function deleteContact(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
  actor: AuditActor,
): Promise<void> {
  let deleted: boolean
  try {
    deleted = await withScope(database, { tenantId }, async (tx) => {
      const [gone] = await rowsOf<{ id: string }>(
        tx,
        sql`delete from ${c} where ${c.tenantId} = ${tenantId} and ${c.id} = ${id}
            returning ${c.id} as id`,
      )
      if (!gone) return false
      await recordAudit(tx, {
        tenantId,
        action: 'contact.deleted',
        targetType: 'contact',
        targetId: id,
        ...actor,
      })
      return true
    })
  } catch (err) {
    if (violatedConstraint(err, '23503')) {
      throw new Conflict(
        'This contact requested tickets or wrote messages: erase it instead of deleting it.',
        'contact_has_tickets',
      )
    }
    throw err
  }
  if (!deleted) throw new NotFound('contact')
}
