// Accounts: the user row as answers show it, finding an account, and the two
// rules every way to a new account or a new password shares (signup, the
// bootstrap admin, a password reset, an invitation accepted with a new
// account): checkNewPassword and insertAccount.
import { eq, type SQL, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { BadRequest } from '../../lib/problems.ts'
import type { AuditEvent } from '../audit/record.ts'
import type { Client, SessionLimits } from '../sessions/sessions.ts'
import { hashPassword, normaliseEmail, passwordProblem } from './passwords.ts'
import type { User } from './schemas.ts'

export type AccountPolicy = SessionLimits & {
  PASSWORD_MIN_LENGTH: number
  LOGIN_MAX_FAILURES: number
  LOGIN_LOCK_MINUTES: number
}

export type PublicUser = Static<typeof User>
type UserRow = typeof users.$inferSelect

export function publicUser(u: UserRow): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    emailVerified: u.emailVerifiedAt !== null,
    isPlatformAdmin: u.isPlatformAdmin,
    avatarUrl: avatarUrl(u.id, u.avatarKey),
    createdAt: u.createdAt.toISOString(),
  }
}

/**
 * Where the avatar is served (profile.ts stores it), versioned by its key so
 * that a new avatar is a new URL; null without one.
 */
export function avatarUrl(userId: string, avatarKey: string | null): string | null {
  if (!avatarKey) return null
  const version = avatarKey.slice(avatarKey.lastIndexOf('/') + 1, avatarKey.lastIndexOf('.'))
  return `/v1/users/${userId}/avatar?v=${version}`
}

/** Throws 400 weak_password (at body/password) when a new password is not acceptable. */
export function checkNewPassword(password: string, email: string, minLength: number): void {
  const problem = passwordProblem(password, email, minLength)
  if (problem) {
    throw new BadRequest('weak_password', problem, [{ path: 'body/password', message: problem }])
  }
}

export type NewAccount = {
  email: string
  name: string
  passwordHash: string
  /** the address is proven already (a mailed invitation, the operator's own) */
  emailVerified: boolean
  isPlatformAdmin?: boolean
}

/**
 * A new account's details from what a person sent: the address normalised,
 * the name trimmed, the password checked and hashed. Hashing is slow, so
 * callers run this before their transaction.
 */
export async function newAccountDetails(
  input: { email: string; name: string; password: string },
  policy: { PASSWORD_MIN_LENGTH: number },
  emailVerified: boolean,
): Promise<NewAccount> {
  const email = normaliseEmail(input.email)
  checkNewPassword(input.password, email, policy.PASSWORD_MIN_LENGTH)
  return {
    email,
    name: input.name.trim(),
    passwordHash: await hashPassword(input.password),
    emailVerified,
  }
}

/**
 * Creates the account; null when the address has one already (the caller
 * answers that in its own words). An existing account is never touched.
 */
export async function insertAccount(
  db: DbOrTx,
  account: NewAccount,
  at: Date,
): Promise<UserRow | null> {
  const [user] = await db
    .insert(users)
    .values({
      email: account.email,
      name: account.name,
      passwordHash: account.passwordHash,
      isPlatformAdmin: account.isPlatformAdmin ?? false,
      passwordChangedAt: at,
      emailVerifiedAt: account.emailVerified ? at : null,
    })
    .onConflictDoNothing()
    .returning()
  return user ?? null
}

export async function findUserByEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, normaliseEmail(email)))
  return user
}

export async function loadUser(
  database: DatabaseHandle,
  userId: string,
): Promise<PublicUser | null> {
  const [user] = await database.db.select().from(users).where(eq(users.id, userId))
  return user ? publicUser(user) : null
}

/** An event of the account's own trail (no tenant): the user acts on their own account. */
export function accountEvent(
  action: string,
  userId: string,
  client: Client,
  data?: Record<string, unknown>,
): AuditEvent {
  return {
    tenantId: null,
    action,
    actorUserId: userId,
    targetType: 'user',
    targetId: userId,
    ...client,
    ...(data ? { data } : {}),
  }
}

/** The SET value that marks the address verified at `now`, keeping an earlier proof. */
export function verifiedSince(now: Date): SQL {
  return sql`coalesce(${users.emailVerifiedAt}, ${now.toISOString()}::timestamptz)`
}
