// Signing in: signup (an account, optionally with a first tenant) and login
// with the lockout (counted per address in lockout.ts). Times come from the
// caller's clock so lockout and expiry are testable. Emails are outbox jobs
// inserted in the same transaction; the caller dispatches them after commit.
// Account events have no tenant, so their audit rows are written in a
// transaction with no tenant set (before signup creates a tenant).
import { eq } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { Conflict, Problem, Unauthorized } from '../../lib/problems.ts'
import { recordAudit, recordInUserTenants } from '../audit/record.ts'
import { type Client, type StartedSession, startSession } from '../sessions/sessions.ts'
import { createTenantWithOwner } from '../tenants/provisioning.ts'
import {
  type AccountPolicy,
  accountEvent,
  findUserByEmail,
  insertAccount,
  newAccountDetails,
  type PublicUser,
  publicUser,
} from './accounts.ts'
import { clearLockout, lockedUntil, lockoutKey, recordLoginFailure } from './lockout.ts'
import {
  hashPassword,
  needsRehash,
  normaliseEmail,
  verifyDummyPassword,
  verifyPassword,
} from './passwords.ts'

export type SignedIn = StartedSession & { user: PublicUser; jobs: QueuedJob[] }

export async function signUp(
  database: DatabaseHandle,
  input: {
    email: string
    password: string
    name: string
    tenant?: { name: string; slug: string } | undefined
  },
  ctx: { now: number; client: Client; policy: AccountPolicy },
): Promise<SignedIn> {
  const account = await newAccountDetails(input, ctx.policy, false)
  return withScope(database, {}, async (tx) => {
    const user = await insertAccount(tx, account, new Date(ctx.now))
    if (!user) throw new Conflict('An account with this email already exists.', 'email_taken')
    await recordAudit(tx, accountEvent('auth.signup', user.id, ctx.client))
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
  return new Problem('account_locked', 'Too many failed logins; the account is locked for now.', {
    headers: { 'retry-after': String(seconds) },
  })
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
  database: DatabaseHandle,
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
    findUserByEmail(database.db, email),
    lockedUntil(database.db, key, ctx.now),
  ])
  // Checked before the password, so a lock holds even against the right one.
  if (locked !== null) throw accountLocked(locked, ctx.now)
  let ok = false
  if (user) ok = await verifyPassword(user.passwordHash, input.password)
  else await verifyDummyPassword(input.password)
  if (!user || !ok) {
    const jobs = await recordLoginFailure(database, { key, userId: user?.id ?? null }, ctx)
    if (jobs.length > 0) ctx.onJobs(jobs)
    throw invalidCredentials()
  }
  const rehash = needsRehash(user.passwordHash) ? await hashPassword(input.password) : null
  return withScope(database, {}, async (tx) => {
    // The user row is written only when the hash changes: a user's logins (a
    // script, an SPA in several tabs) must not queue on their own row lock.
    if (rehash) {
      await tx.update(users).set({ passwordHash: rehash }).where(eq(users.id, user.id))
    }
    await clearLockout(tx, key)
    const event = accountEvent('auth.login', user.id, ctx.client)
    await recordAudit(tx, event)
    await recordInUserTenants(tx, user.id, event)
    const session = await startSession(
      tx,
      { userId: user.id, now: ctx.now, ...ctx.client },
      ctx.policy,
    )
    return { ...session, user: publicUser(user) }
  })
}
