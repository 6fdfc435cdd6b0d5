// The sign-in lockout, counted per email address whether or not an account has
// it: LOGIN_MAX_FAILURES consecutive failures lock the
// address for LOGIN_LOCK_MINUTES, so an unknown address locks exactly like a
// real one and 423 tells nobody who is registered. The count lives in
// PostgreSQL (login_lockouts), so every api copy shares it, keyed by the hash
// of the normalised address. When a real account locks, its owner gets an
// email with a single-use unlock link (an outbox job in the same transaction);
// an unknown address gets no email, as there is nobody to send it to.
import { eq } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { loginLockouts } from '../../db/schema/login-lockouts.ts'
import { withScope } from '../../db/scoped.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { hashToken } from '../../lib/tokens.ts'
import { recordAudit } from '../audit/record.ts'
import { normaliseEmail } from './passwords.ts'

export type LockoutPolicy = { LOGIN_MAX_FAILURES: number; LOGIN_LOCK_MINUTES: number }

/**
 * The key of an address. A plain SHA-256 is enough: it keeps attempted
 * addresses out of the table in clear, and the key is not a secret (the
 * rate-limit keys use the same).
 */
export function lockoutKey(email: string): string {
  return hashToken(normaliseEmail(email))
}

/** When the address is locked until (ms), or null when it is not locked at `now`. */
export async function lockedUntil(db: DbOrTx, key: string, now: number): Promise<number | null> {
  const [row] = await db
    .select({ lockedUntil: loginLockouts.lockedUntil })
    .from(loginLockouts)
    .where(eq(loginLockouts.emailHash, key))
  const until = row?.lockedUntil?.getTime() ?? null
  return until !== null && until > now ? until : null
}

/**
 * Counts one failed sign-in for the address and locks it at the
 * LOGIN_MAX_FAILURES-th. The account (when one has the address) is the audit
 * actor and the recipient of the unlock email; returns that email's job for
 * the caller to dispatch after commit. Unknown and real addresses run the same
 * statements here but for the one job row.
 */
export async function recordLoginFailure(
  database: DatabaseHandle,
  input: { key: string; userId: string | null },
  ctx: {
    now: number
    client: { ip: string | null; userAgent: string | null }
    policy: LockoutPolicy
  },
): Promise<QueuedJob[]> {
  const now = new Date(ctx.now)
  return withScope(database, {}, async (tx) => {
    await tx
      .insert(loginLockouts)
      .values({ emailHash: input.key, failures: 0, updatedAt: now })
      .onConflictDoNothing()
    // Row lock: parallel failures for one address must each count.
    const [row] = await tx
      .select()
      .from(loginLockouts)
      .where(eq(loginLockouts.emailHash, input.key))
      .for('update')
    if (!row) return []
    // A failure that passed the lock check just before a parallel one locked
    // the address neither counts nor lifts the lock.
    if (row.lockedUntil && row.lockedUntil.getTime() > ctx.now) return []
    const count = (row.lockedUntil ? 0 : row.failures) + 1
    const lock = count >= ctx.policy.LOGIN_MAX_FAILURES
    const until = lock ? new Date(ctx.now + ctx.policy.LOGIN_LOCK_MINUTES * 60_000) : null
    await tx
      .update(loginLockouts)
      .set({ failures: lock ? 0 : count, lockedUntil: until, updatedAt: now })
      .where(eq(loginLockouts.emailHash, input.key))
    const base = input.userId
      ? { tenantId: null, actorUserId: input.userId, targetType: 'user', targetId: input.userId }
      : { tenantId: null }
    const reason = input.userId ? 'wrong_password' : 'unknown_email'
    await recordAudit(tx, {
      ...base,
      action: 'auth.login_failed',
      ...ctx.client,
      data: { reason, failures: count },
    })
    if (!lock) return []
    await recordAudit(tx, {
      ...base,
      action: 'auth.account_locked',
      ...ctx.client,
      data: { reason, until: until?.toISOString() },
    })
    if (!input.userId) return []
    const job = await insertJob(tx, {
      tenantId: null,
      queue: 'email',
      payload: { template: 'account-locked', userId: input.userId },
    })
    return [job]
  })
}

/** Forgets the address's failures and lifts its lock (a success, an unlock, a reset). */
export async function clearLockout(db: DbOrTx, key: string): Promise<void> {
  await db.delete(loginLockouts).where(eq(loginLockouts.emailHash, key))
}
