// The optional bootstrap platform admin from ADMIN_EMAIL / ADMIN_PASSWORD,
// created on start. Idempotent: an existing account is only made a platform
// admin (its password is never overwritten, so changing it later sticks).
import { eq, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { hashPassword, normaliseEmail } from '../../lib/passwords.ts'

export async function ensureBootstrapAdmin(
  db: Db,
  admin: { email: string | undefined; password: string | undefined },
  log: FastifyBaseLogger,
): Promise<void> {
  if (!admin.email || !admin.password) return
  const email = normaliseEmail(admin.email)
  const [existing] = await db
    .select({ id: users.id, isPlatformAdmin: users.isPlatformAdmin })
    .from(users)
    .where(eq(sql`lower(${users.email})`, email))
  if (existing) {
    if (!existing.isPlatformAdmin) {
      await db.update(users).set({ isPlatformAdmin: true }).where(eq(users.id, existing.id))
      log.info({ userId: existing.id }, 'bootstrap admin: existing account made platform admin')
    }
    return
  }
  const now = new Date()
  const inserted = await db
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
  if (inserted[0]) log.info({ userId: inserted[0].id }, 'bootstrap admin created')
}
