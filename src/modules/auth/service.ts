// Accounts: signup, login with lockout, the user's memberships (/me), password
// reset and email verification. Queries take `db` first; times come from the
// caller's clock (app.authClock) so lockout and expiry are testable. Emails are
// outbox jobs inserted in the same transaction; the caller dispatches them
// after commit. Account events have no tenant, so their audit rows are written
// in a transaction with no tenant set (before signup creates a tenant).
import { eq, sql } from 'drizzle-orm'
import type { DatabaseHandle, Db } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { recordAudit, recordInUserTenants } from '../../lib/audit.ts'
import {
  hashPassword,
  needsRehash,
  normaliseEmail,
  passwordProblem,
  verifyDummyPassword,
  verifyPassword,
} from '../../lib/passwords.ts'
import { isPermission } from '../../lib/permissions.ts'
import { BadRequest, Conflict, Problem, Unauthorized } from '../../lib/problems.ts'
import { createTenantWithOwner } from '../../lib/tenant-provisioning.ts'
import { listUserMemberships } from '../../lib/user-memberships.ts'
import { type SessionLimits, type StartedSession, startSession } from './sessions.ts'

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
      const { tenant } = await createTenantWithOwner(
        tx,
        { ...input.tenant, ownerUserId: user.id },
        'body/tenant/slug',
      )
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
 * (an argon2 verify and one audit write), so neither status nor time tells
 * them apart. Failures count per account; the LOGIN_MAX_FAILURES-th locks it.
 */
export async function logIn(
  db: Db,
  input: { email: string; password: string },
  ctx: { now: number; client: Client; policy: AccountPolicy },
): Promise<Omit<SignedIn, 'jobs'>> {
  const email = normaliseEmail(input.email)
  const user = await findUserByEmail(db, email)
  if (!user) {
    await verifyDummyPassword(input.password)
    await recordAudit(db, {
      tenantId: null,
      action: 'auth.login_failed',
      ...ctx.client,
      data: { reason: 'unknown_email' },
    })
    throw invalidCredentials()
  }
  if (user.lockedUntil && user.lockedUntil.getTime() > ctx.now) {
    throw accountLocked(user.lockedUntil.getTime(), ctx.now)
  }
  const ok = await verifyPassword(user.passwordHash, input.password)
  if (!ok) {
    await recordFailure(db, user.id, ctx)
    throw invalidCredentials()
  }
  const rehash = needsRehash(user.passwordHash) ? await hashPassword(input.password) : null
  return db.transaction(async (tx) => {
    // Written only when something changes: a user's logins (a script, an SPA in
    // several tabs) must not queue on their own row lock.
    if (user.failedLoginCount > 0 || user.lockedUntil || rehash) {
      await tx
        .update(users)
        .set({
          failedLoginCount: 0,
          lockedUntil: null,
          ...(rehash ? { passwordHash: rehash } : {}),
        })
        .where(eq(users.id, user.id))
    }
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

async function recordFailure(
  db: Db,
  userId: string,
  ctx: { now: number; client: Client; policy: AccountPolicy },
) {
  await db.transaction(async (tx) => {
    // Row lock: parallel failures must each count.
    const [row] = await tx
      .select({ count: users.failedLoginCount, lockedUntil: users.lockedUntil })
      .from(users)
      .where(eq(users.id, userId))
      .for('update')
    if (!row) return
    const lockExpired = row.lockedUntil !== null && row.lockedUntil.getTime() <= ctx.now
    const count = (lockExpired ? 0 : row.count) + 1
    const lock = count >= ctx.policy.LOGIN_MAX_FAILURES
    const lockedUntil = lock ? new Date(ctx.now + ctx.policy.LOGIN_LOCK_MINUTES * 60_000) : null
    await tx
      .update(users)
      .set({ failedLoginCount: lock ? 0 : count, lockedUntil })
      .where(eq(users.id, userId))
    const base = { tenantId: null, actorUserId: userId, targetType: 'user', targetId: userId }
    await recordAudit(tx, {
      ...base,
      action: 'auth.login_failed',
      ...ctx.client,
      data: { reason: 'wrong_password', failures: count },
    })
    if (lock) {
      await recordAudit(tx, {
        ...base,
        action: 'auth.account_locked',
        ...ctx.client,
        data: { until: lockedUntil?.toISOString() },
      })
    }
  })
}

export async function loadUser(db: Db, userId: string): Promise<PublicUser | null> {
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  return user ? publicUser(user) : null
}

/** The user's own memberships, through the own_memberships read path (no tenant known). */
export async function userMemberships(database: DatabaseHandle, userId: string) {
  const rows = await listUserMemberships(database, userId)
  return rows.map((r) => ({
    tenant: { id: r.tenantId, name: r.tenantName, slug: r.slug },
    role: { id: r.roleId, name: r.roleName },
    permissions: r.permissions.filter(isPermission),
  }))
}
