// The mailed one-time tokens: password reset, email verification and account
// unlock (lockout.ts mails it when an account locks). The
// email job mints each token and stores only its SHA-256 hash in user_tokens;
// here a token is found by that hash, used once (an atomic conditional update),
// and refused after it expires. A reset sets the password, lifts the sign-in
// lock and revokes every session of the user in the same transaction.
import { and, eq, gt, isNull } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { users, userTokens } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { BadRequest } from '../../lib/problems.ts'
import { hashToken } from '../../lib/tokens.ts'
import { recordAudit } from '../audit/record.ts'
import { type Client, revokeSessions } from '../sessions/sessions.ts'
import {
  type AccountPolicy,
  accountEvent,
  checkNewPassword,
  findUserByEmail,
  verifiedSince,
} from './accounts.ts'
import { clearLockout, lockoutKey } from './lockout.ts'
import { hashPassword } from './passwords.ts'

/** Queues a reset email when the account exists; the caller hides which it was. */
export async function requestPasswordReset(
  database: DatabaseHandle,
  email: string,
): Promise<QueuedJob[]> {
  const user = await findUserByEmail(database.db, email)
  if (!user) return []
  const job = await insertJob(database.db, {
    tenantId: null,
    queue: 'email',
    payload: { template: 'password-reset', userId: user.id },
  })
  return [job]
}

const invalidToken = () =>
  new BadRequest(
    'invalid_or_expired_token',
    'The token is not valid, was used already, or has expired.',
  )

/** Marks a one-time token used, atomically, and returns its user; null if not usable. */
async function consumeUserToken(
  db: DbOrTx,
  raw: string,
  purpose: 'verify_email' | 'password_reset' | 'unlock_account',
  now: number,
): Promise<string | null> {
  const [row] = await db
    .update(userTokens)
    .set({ usedAt: new Date(now) })
    .where(
      and(
        eq(userTokens.tokenHash, hashToken(raw)),
        eq(userTokens.purpose, purpose),
        isNull(userTokens.usedAt),
        gt(userTokens.expiresAt, new Date(now)),
      ),
    )
    .returning({ userId: userTokens.userId })
  return row?.userId ?? null
}

/** Sets the password and revokes every session of the user; returns the revoked ids. */
export async function resetPassword(
  database: DatabaseHandle,
  input: { token: string; password: string },
  ctx: { now: number; client: Client; policy: AccountPolicy },
): Promise<string[]> {
  const [pending] = await database.db
    .select({ email: users.email })
    .from(userTokens)
    .innerJoin(users, eq(users.id, userTokens.userId))
    .where(
      and(
        eq(userTokens.tokenHash, hashToken(input.token)),
        eq(userTokens.purpose, 'password_reset'),
      ),
    )
  if (!pending) throw invalidToken()
  checkNewPassword(input.password, pending.email, ctx.policy.PASSWORD_MIN_LENGTH)
  const passwordHash = await hashPassword(input.password)
  const now = new Date(ctx.now)
  return withScope(database, {}, async (tx) => {
    const userId = await consumeUserToken(tx, input.token, 'password_reset', ctx.now)
    if (!userId) throw invalidToken()
    await tx
      .update(users)
      .set({
        passwordHash,
        passwordChangedAt: now,
        // Following the mailed link proved the address.
        emailVerifiedAt: verifiedSince(now),
        updatedAt: now,
      })
      .where(eq(users.id, userId))
    // Whoever can read the mailbox can unlock it anyway: a reset lifts the lock.
    await clearLockout(tx, lockoutKey(pending.email))
    // Any other reset link still in a mailbox dies with this one.
    await tx
      .update(userTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(userTokens.userId, userId),
          eq(userTokens.purpose, 'password_reset'),
          isNull(userTokens.usedAt),
        ),
      )
    const revoked = await revokeSessions(tx, { userId, now: ctx.now, reason: 'password_reset' })
    await recordAudit(
      tx,
      accountEvent('auth.password_reset', userId, ctx.client, { revokedSessions: revoked.length }),
    )
    return revoked
  })
}

export async function verifyEmail(
  database: DatabaseHandle,
  token: string,
  ctx: { now: number; client: Client },
) {
  await withScope(database, {}, async (tx) => {
    const userId = await consumeUserToken(tx, token, 'verify_email', ctx.now)
    if (!userId) throw invalidToken()
    await tx
      .update(users)
      .set({ emailVerifiedAt: verifiedSince(new Date(ctx.now)) })
      .where(eq(users.id, userId))
    await recordAudit(tx, accountEvent('auth.email_verified', userId, ctx.client))
  })
}

/**
 * Lifts the sign-in lock of the token's account and forgets its failures. The
 * token is used even when the lock has already run out, so a link works once.
 */
export async function unlockAccount(
  database: DatabaseHandle,
  token: string,
  ctx: { now: number; client: Client },
) {
  await withScope(database, {}, async (tx) => {
    const userId = await consumeUserToken(tx, token, 'unlock_account', ctx.now)
    if (!userId) throw invalidToken()
    const [user] = await tx.select({ email: users.email }).from(users).where(eq(users.id, userId))
    if (!user) throw invalidToken()
    await clearLockout(tx, lockoutKey(user.email))
    await recordAudit(tx, accountEvent('auth.account_unlocked', userId, ctx.client))
  })
}
