// Accounts: signup, login with lockout (counted per address in lockout.ts), the user's memberships (/me), password
// reset and email verification. Queries take `db` first; times come from the
// caller's clock (app.authClock) so lockout and expiry are testable. Emails are
// outbox jobs inserted in the same transaction; the caller dispatches them
// after commit. Account events have no tenant, so their audit rows are written
// in a transaction with no tenant set (before signup creates a tenant).
import { eq, sql } from 'drizzle-orm'
import type { DatabaseHandle, Db } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import {
  hashPassword,
  needsRehash,
  normaliseEmail,
  passwordProblem,
  verifyDummyPassword,
  verifyPassword,
} from '../../lib/passwords.ts'
import { ALL_PERMISSIONS, expandPermissions } from '../../lib/permissions.ts'
import { BadRequest, Conflict, Problem, Unauthorized } from '../../lib/problems.ts'
import { createTenantWithOwner } from '../../lib/tenant-provisioning.ts'
import { recordAudit, recordInUserTenants } from '../audit/record.ts'
import { listUserMemberships } from '../members/memberships.ts'
import { type SessionLimits, type StartedSession, startSession } from '../sessions/sessions.ts'
import { clearLockout, lockedUntil, lockoutKey, recordLoginFailure } from './lockout.ts'

export type Client = { ip: string | null; userAgent: string | null }
export type AccountPolicy = SessionLimits & {
  PASSWORD_MIN_LENGTH: number
  LOGIN_MAX_FAILURES: number
  LOGIN_LOCK_MINUTES: number
}

export type PublicUser = {
  id: string
  email: string
  name: string
  emailVerified: boolean
  isPlatformAdmin: boolean
  createdAt: string
}

type UserRow = typeof users.$inferSelect

export function publicUser(u: UserRow): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    emailVerified: u.emailVerifiedAt !== null,
    isPlatformAdmin: u.isPlatformAdmin,
    createdAt: u.createdAt.toISOString(),
  }
}

export type SignedIn = StartedSession & { user: PublicUser; jobs: QueuedJob[] }

export function checkPassword(password: string, email: string, minLength: number) {
  const problem = passwordProblem(password, email, minLength)
  if (problem) {
    throw new BadRequest('weak_password', problem, [{ path: 'body/password', message: problem }])
  }
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, normaliseEmail(email)))
  return user
}

export async function signUp(
  db: Db,
  input: {
    email: string
    password: string
    name: string
    tenant?: { name: string; slug: string } | undefined
  },
  ctx: { now: number; client: Client; policy: AccountPolicy },
): Promise<SignedIn> {
  const email = normaliseEmail(input.email)
  checkPassword(input.password, email, ctx.policy.PASSWORD_MIN_LENGTH)
  const passwordHash = await hashPassword(input.password)
  const now = new Date(ctx.now)
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ email, name: input.name.trim(), passwordHash, passwordChangedAt: now })
      .onConflictDoNothing()
      .returning()
    if (!user) throw new Conflict('An account with this email already exists.', 'email_taken')
    await recordAudit(tx, {
      tenantId: null,
      action: 'auth.signup',
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
      ...ctx.client,
    })
    const job = await insertJob(tx, {
      tenantId: null,
      queue: 'email',
      payload: { template: 'verify-email', userId: user.id },
    })
    const session = await startSession(
      tx,
      { userId: user.id, now: ctx.now, ...ctx.client },
      ctx.policy,
    )
    // Last: it scopes the transaction to the new tenant.
    if (input.tenant) {
      const { tenant } = await createTenantWithOwner(tx, {
        ...input.tenant,
        ownerUserId: user.id,
        at: 'body/tenant',
      })
      await recordAudit(tx, {
        tenantId: tenant.id,
        action: 'tenant.created',
        actorUserId: user.id,
        targetType: 'tenant',
        targetId: tenant.id,
        ...ctx.client,
      })
    }
    return { ...session, user: publicUser(user), jobs: [job] }
  })
}

export function accountLocked(until: number, now: number): Problem {
  const seconds = Math.max(1, Math.ceil((until - now) / 1000))
  return new Problem(
    423,
    'account_locked',
    'Too many failed logins; the account is locked for now.',
    {
      headers: { 'retry-after': String(seconds) },
    },
  )
}

const invalidCredentials = () =>
  new Unauthorized('invalid_credentials', 'The email or password is not correct.')

/**
 * Unknown email and wrong password answer the same 401 after the same work
 * (a lock check, an argon2 verify and one failure transaction), so neither
 * status nor time tells them apart. Failures count per address, account or
 * not (lockout.ts): an unknown address locks with the same 423 as a real one.
 * The unlock email's job, when a real account locks, goes to `ctx.onJobs`,
 * which the caller should not await, so the locking answer takes no longer
 * for a real account than for an unknown address.
 */
export async function logIn(
  db: Db,
  input: { email: string; password: string },
  ctx: {
    now: number
    client: Client
    policy: AccountPolicy
    onJobs: (jobs: QueuedJob[]) => void
  },
): Promise<Omit<SignedIn, 'jobs'>> {
  const email = normaliseEmail(input.email)
  const key = lockoutKey(email)
  const [user, locked] = await Promise.all([
    findUserByEmail(db, email),
    lockedUntil(db, key, ctx.now),
  ])
  // Checked before the password, so a lock holds even against the right one.
  if (locked !== null) throw accountLocked(locked, ctx.now)
  let ok = false
  if (user) ok = await verifyPassword(user.passwordHash, input.password)
  else await verifyDummyPassword(input.password)
  if (!user || !ok) {
    const jobs = await recordLoginFailure(db, { key, userId: user?.id ?? null }, ctx)
    if (jobs.length > 0) ctx.onJobs(jobs)
    throw invalidCredentials()
  }
  const rehash = needsRehash(user.passwordHash) ? await hashPassword(input.password) : null
  return db.transaction(async (tx) => {
    // The user row is written only when the hash changes: a user's logins (a
    // script, an SPA in several tabs) must not queue on their own row lock.
    if (rehash) {
      await tx.update(users).set({ passwordHash: rehash }).where(eq(users.id, user.id))
    }
    await clearLockout(tx, key)
    await recordAudit(tx, {
      tenantId: null,
      action: 'auth.login',
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
      ...ctx.client,
    })
    await recordInUserTenants(tx, user.id, {
      action: 'auth.login',
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
      ...ctx.client,
    })
    const session = await startSession(
      tx,
      { userId: user.id, now: ctx.now, ...ctx.client },
      ctx.policy,
    )
    return { ...session, user: publicUser(user) }
  })
}

export async function loadUser(db: Db, userId: string): Promise<PublicUser | null> {
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  return user ? publicUser(user) : null
}

/**
 * The user's own memberships, through the own_memberships read path (no tenant
 * known). Permissions are what the role grants, inclusions counted, in
 * catalogue order: what the routes will allow.
 */
export async function userMemberships(database: DatabaseHandle, userId: string) {
  const rows = await listUserMemberships(database, userId)
  return rows.map((r) => {
    const granted = expandPermissions(r.permissions)
    return {
      tenant: { id: r.tenantId, name: r.tenantName, slug: r.slug },
      role: { id: r.roleId, name: r.roleName },
      permissions: ALL_PERMISSIONS.filter((p) => granted.has(p)),
    }
  })
}
