// The optional bootstrap platform admin from ADMIN_EMAIL / ADMIN_PASSWORD,
// created on start. It only ever creates a new account: an existing account
// with that address is never promoted and its password never touched, since
// anyone can sign up (unverified) as any address before the operator first
// starts the api, and promoting that account would hand the platform to
// whoever chose its password. An existing platform admin is left as it is (so
// restarts are idempotent and a changed password sticks); an existing
// non-admin account refuses the start.
import type { DatabaseHandle } from '../../db/client.ts'
import { findUserByEmail, insertAccount } from './accounts.ts'
import { hashPassword, normaliseEmail } from './passwords.ts'

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

export async function ensureBootstrapAdmin(
  database: DatabaseHandle,
  admin: { email: string | undefined; password: string | undefined },
  log: { info(details: object, message: string): void },
): Promise<void> {
  if (!admin.email || !admin.password) return
  const email = normaliseEmail(admin.email)
  const existing = await findUserByEmail(database.db, email)
  if (existing) {
    if (!existing.isPlatformAdmin) throw new BootstrapAdminConflict(email)
    return
  }
  const inserted = await insertAccount(
    database.db,
    {
      email,
      name: 'Administrator',
      passwordHash: await hashPassword(admin.password),
      emailVerified: true,
      isPlatformAdmin: true,
    },
    new Date(),
  )
  if (inserted) {
    log.info({ userId: inserted.id }, 'bootstrap admin created')
    return
  }
  // Someone created the address between the read and the insert (a signup, or
  // another api copy starting): the same rule applies to whoever won.
  const winner = await findUserByEmail(database.db, email)
  if (!winner?.isPlatformAdmin) throw new BootstrapAdminConflict(email)
}
