// Contacts as requesters: the contact behind an email address (made when there
// is none), and the contact of a member, linked through contacts.user_id. A
// member is linked to an existing contact with its email only when the address
// is proven (verified, or the invitation it accepted was mailed there):
// otherwise anyone could sign up with a customer's address and read that
// customer's tickets.
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx } from '../../db/client.ts'
import { contacts } from '../../db/schema/contacts.ts'
import { users } from '../../db/schema/users.ts'
import { rowsOf } from '../../db/scoped.ts'
import { bare } from '../../db/sql-fragments.ts'
import { Forbidden } from '../../lib/problems.ts'
import { withContactEvent } from '../events/contact-events.ts'
import { contactEmailKey } from './contact-email.ts'
import { contactColumns } from './contacts.ts'

const c = contacts

/** How mail and AI replies address a contact: its name, else its address's local part. */
export const contactDisplayName = sql`coalesce(${c.name}, split_part(${c.email}, '@', 1), 'there')`

/** The id of a user's contact in a tenant, as a scalar subquery (null when it has none). */
export function contactOfUser(tenantId: string, userId: string | null): SQL {
  return sql`(select ${c.id} from ${c} where ${c.tenantId} = ${tenantId} and ${c.userId} = ${userId})`
}

/** The id of the contact with this (normalised) email, or null; makes none. */
export async function contactByEmail(
  tx: DbOrTx,
  tenantId: string,
  email: string,
): Promise<string | null> {
  const [found] = await rowsOf<{ id: string }>(
    tx,
    sql`select ${c.id} as id from ${c} where ${c.tenantId} = ${tenantId} and ${c.email} = ${email}`,
  )
  return found?.id ?? null
}

/**
 * The contact with this (normalised) email, made with `name` when there is
 * none. Concurrent calls for one address agree: the loser of the insert race
 * waits for the winner's commit and then reads its row.
 */
export async function contactForEmail(
  tx: DbOrTx,
  tenantId: string,
  email: string,
  name: string | null,
): Promise<{ id: string; created: boolean }> {
  const [made] = await rowsOf<{ id: string }>(
    tx,
    withContactEvent(
      tenantId,
      'contact.created',
      sql`insert into ${c} (${bare(c.id)}, ${bare(c.tenantId)}, ${bare(c.email)}, ${bare(c.name)})
          values (${uuidv7()}, ${tenantId}, ${email}, ${name})
          on conflict (${bare(c.tenantId)}, ${bare(c.email)}) do nothing
          returning ${contactColumns}`,
      sql`id`,
    ),
  )
  if (made) return { id: made.id, created: true }
  const [found] = await rowsOf<{ id: string }>(
    tx,
    sql`select ${c.id} as id from ${c} where ${c.tenantId} = ${tenantId} and ${c.email} = ${email}`,
  )
  if (!found) throw new Error('contact vanished between insert and read')
  return { id: found.id, created: false }
}

type Person = { id: string; email: string; name: string; emailVerified: boolean }

async function loadPerson(tx: DbOrTx, userId: string): Promise<Person> {
  const [person] = await rowsOf<Person>(
    tx,
    sql`select ${users.id} as id, ${users.email} as email, ${users.name} as name,
               ${users.emailVerifiedAt} is not null as "emailVerified"
        from ${users} where ${users.id} = ${userId}`,
  )
  if (!person) throw new Error(`user ${userId} not found`)
  return person
}

/**
 * A member's contact in the tenant: the one linked to it, else the contact
 * with its email (linked now when the address is proven: verified, or
 * `proven` because the member arrived through an invitation mailed there),
 * else a new one. 403 email_unverified when a contact with the address exists
 * and the address is not proven. Concurrent first calls (a customer opening
 * tickets in parallel) agree: a lost insert race reads the winner's row on the
 * next round (each statement sees what committed before it).
 */
export async function memberContact(
  tx: DbOrTx,
  tenantId: string,
  userId: string,
  options: { proven?: boolean } = {},
): Promise<string> {
  const person = await loadPerson(tx, userId)
  const email = contactEmailKey(person.email)
  for (let round = 0; round < 3; round++) {
    const [linked] = await rowsOf<{ id: string }>(
      tx,
      sql`select ${c.id} as id from ${c} where ${c.tenantId} = ${tenantId} and ${c.userId} = ${userId}`,
    )
    if (linked) return linked.id
    const [existing] = email
      ? await rowsOf<{ id: string; userId: string | null }>(
          tx,
          sql`select ${c.id} as id, ${c.userId} as "userId" from ${c}
              where ${c.tenantId} = ${tenantId} and ${c.email} = ${email}`,
        )
      : []
    if (existing && existing.userId === null) {
      if (!person.emailVerified && !options.proven) {
        throw new Forbidden(
          'email_unverified',
          'Verify your email address first: this helpdesk already has a contact with it.',
        )
      }
      const [claimed] = await rowsOf<{ id: string }>(
        tx,
        withContactEvent(
          tenantId,
          'contact.updated',
          sql`update ${c} set ${bare(c.userId)} = ${userId}, ${bare(c.updatedAt)} = now()
              where ${c.tenantId} = ${tenantId} and ${c.id} = ${existing.id} and ${c.userId} is null
              returning ${contactColumns}`,
          sql`id`,
        ),
      )
      if (claimed) return claimed.id
      continue
    }
    // With the address taken by a contact linked to someone else (an agent
    // changed an email), the member gets a contact of its own without it.
    const [made] = await rowsOf<{ id: string }>(
      tx,
      withContactEvent(
        tenantId,
        'contact.created',
        sql`insert into ${c} (${bare(c.id)}, ${bare(c.tenantId)}, ${bare(c.email)}, ${bare(c.name)}, ${bare(c.userId)})
          values (${uuidv7()}, ${tenantId}, ${existing ? null : email}, ${person.name}, ${userId})
          on conflict do nothing
          returning ${contactColumns}`,
        sql`id`,
      ),
    )
    if (made) return made.id
  }
  throw new Error(`no contact could be settled for user ${userId}`)
}
