// The optional bootstrap platform admin from ADMIN_EMAIL / ADMIN_PASSWORD,
// created on start. It only ever creates a new account: an existing account
// with that address is never promoted and its password never touched, since
// anyone can sign up (unverified) as any address before the operator first
// starts the api, and promoting that account would hand the platform to
// whoever chose its password. An existing platform admin is left as it is (so
// restarts are idempotent and a changed password sticks); an existing
// non-admin account refuses the start.
import { eq, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { hashPassword, normaliseEmail } from '../../lib/passwords.ts'

export class BootstrapAdminConflict extends Error {
  constructor(email: string) {
    super(
      `ADMIN_EMAIL=${email} belongs to an existing account that is not a platform admin; ` +
        'refusing to start rather than promote it (whoever signed up with that address chose ' +
        'its password). Choose another ADMIN_EMAIL, or delete or rename that account first.',
    )
    this.name = 'BootstrapAdminConflict'
  }
}

async function findByEmail(db: Db, email: string) {
  const [row] = await db
    .select({ id: users.id, isPlatformAdmin: users.isPlatformAdmin })
    .from(users)
    .where(eq(sql`lower(${users.email})`, email))
  return row
}

export async function ensureBootstrapAdmin(
  db: Db,
  admin: { email: string | undefined; password: string | undefined },
  log: FastifyBaseLogger,
): Promise<void> {
  if (!admin.email || !admin.password) return
  const email = normaliseEmail(admin.email)
  const existing = await findByEmail(db, email)
  if (existing) {
    if (!existing.isPlatformAdmin) throw new BootstrapAdminConflict(email)
    return
  }
  const now = new Date()
  const [inserted] = await db
    .insert(users)
    .values({
      email,
      name: 'Administrator',
      passwordHash: await hashPassword(admin.password),
      isPlatformAdmin: true,
      emailVerifiedAt: now,
      passwordChangedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: users.id })
  if (inserted) {
    log.info({ userId: inserted.id }, 'bootstrap admin created')
    return
  }
  // Someone created the address between the read and the insert (a signup, or
  // another api copy starting): the same rule applies to whoever won.
  const winner = await findByEmail(db, email)
  if (!winner?.isPlatformAdmin) throw new BootstrapAdminConflict(email)
}
