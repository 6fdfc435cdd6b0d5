// Refresh-token rotation with reuse detection (API.md).
//
// Every refresh marks the presented token rotated and issues its successor in
// the same family (the session). Presenting a token that was already rotated is
// reuse: the whole session is revoked and the caller gets 401 token_reused.
// The one exception is the immediate predecessor of the newest token within
// REFRESH_REUSE_GRACE_SECONDS (a client whose response was lost, two tabs
// racing): it gets the very same successor again, byte for byte.
//
// Only hashes are stored, so the successor cannot be read back; it is derived
// instead: successor = base64url(HMAC-SHA256(K, predecessor)) with K derived
// from JWT_SECRET. Without K nobody can compute it, and a successor is as
// unpredictable as a random token. Earlier keys (JWT_PREVIOUS_SECRETS) are
// tried too, so a key rotation inside the grace window does not look like reuse.
//
// Refreshes of one session are serialised with SELECT ... FOR UPDATE on the
// session row, so 20 parallel refreshes with one token yield one successor (the
// first rotates, the other 19 find it rotated within the grace) and no false
// reuse alarm.
//
// A logout that presents an already-rotated refresh token is reuse too
// (refreshTokenAtLogout): the family is revoked and the caller gets 401
// token_reused, never a quiet logout. Logout has no grace: it hands out no
// successor, so a predecessor there is only ever an old copy of the token.
//
// Reuse is recorded with no tenant (the account's own trail) and in every
// tenant the user is a member of, so each tenant's audit log shows it.
import { createHmac } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { DatabaseHandle, Tx } from '../../db/client.ts'
import { refreshTokens, sessions } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { hashToken } from '../../lib/tokens.ts'
import { recordAudit, recordInUserTenants } from '../audit/record.ts'
import type { Client } from './sessions.ts'

export type RotationPolicy = {
  now: number
  graceSeconds: number
  idleSeconds: number
  refreshTtlSeconds: number
  /** successor keys, the current one first */
  keys: readonly Buffer[]
}

export type RotationResult =
  | {
      kind: 'rotated'
      userId: string
      sessionId: string
      refreshToken: string
      refreshExpiresAt: Date
    }
  | { kind: 'reused'; userId: string; sessionId: string }
  | { kind: 'invalid' }

export function successorOf(key: Buffer, predecessor: string): string {
  return createHmac('sha256', key).update(predecessor).digest('base64url')
}

/**
 * A refresh token's session, locked (FOR UPDATE), and the token read again
 * under that lock: a parallel refresh or logout of the family may have rotated
 * it meanwhile. Both are undefined for an unknown token.
 */
async function lockFamily(tx: Tx, tokenHash: string) {
  const [found] = await tx
    .select({ sessionId: refreshTokens.sessionId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, tokenHash))
  if (!found) return { session: undefined, token: undefined }
  const [session] = await tx
    .select()
    .from(sessions)
    .where(eq(sessions.id, found.sessionId))
    .for('update')
  const [token] = await tx
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, tokenHash))
  return { session, token }
}

export async function rotateRefreshToken(
  database: DatabaseHandle,
  raw: string,
  policy: RotationPolicy,
  client: Client,
): Promise<RotationResult> {
  const tokenHash = hashToken(raw)
  const now = new Date(policy.now)
  return withScope(database, {}, async (tx) => {
    const { session, token } = await lockFamily(tx, tokenHash)
    if (!session || !token || session.revokedAt) return { kind: 'invalid' }
    const ids = { userId: session.userId, sessionId: session.id }
    const idleUntil = session.lastUsedAt.getTime() + policy.idleSeconds * 1000
    if (session.expiresAt <= now || idleUntil <= policy.now) return { kind: 'invalid' }

    if (!token.rotatedAt) {
      if (token.expiresAt <= now) return { kind: 'invalid' }
      const successor = successorOf(policy.keys[0] as Buffer, raw)
      const refreshExpiresAt = new Date(
        Math.min(policy.now + policy.refreshTtlSeconds * 1000, session.expiresAt.getTime()),
      )
      await tx.update(refreshTokens).set({ rotatedAt: now }).where(eq(refreshTokens.id, token.id))
      await tx.insert(refreshTokens).values({
        sessionId: session.id,
        tokenHash: hashToken(successor),
        parentId: token.id,
        createdAt: now,
        expiresAt: refreshExpiresAt,
      })
      await tx.update(sessions).set({ lastUsedAt: now }).where(eq(sessions.id, session.id))
      return { kind: 'rotated', ...ids, refreshToken: successor, refreshExpiresAt }
    }

    const [child] = await tx
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.parentId, token.id))
    const withinGrace = policy.now - token.rotatedAt.getTime() <= policy.graceSeconds * 1000
    if (child && !child.rotatedAt && withinGrace) {
      const successor = policy.keys
        .map((key) => successorOf(key, raw))
        .find((candidate) => hashToken(candidate) === child.tokenHash)
      if (successor) {
        return {
          kind: 'rotated',
          ...ids,
          refreshToken: successor,
          refreshExpiresAt: child.expiresAt,
        }
      }
    }

    await revokeForReuse(
      tx,
      session,
      { id: token.id, rotatedAt: token.rotatedAt },
      { now, client, via: 'refresh' },
    )
    return { kind: 'reused', ...ids }
  })
}

/** Revokes the family of a rotated token that came back, and records the reuse. */
async function revokeForReuse(
  tx: Tx,
  session: { id: string; userId: string },
  token: { id: string; rotatedAt: Date },
  ctx: { now: Date; client: Client; via: 'refresh' | 'logout' },
): Promise<void> {
  await tx
    .update(sessions)
    .set({ revokedAt: ctx.now, revokedReason: 'token_reused' })
    .where(eq(sessions.id, session.id))
  const event = {
    action: 'auth.token_reused',
    actorUserId: session.userId,
    targetType: 'session',
    targetId: session.id,
    ip: ctx.client.ip,
    userAgent: ctx.client.userAgent,
    data: { tokenId: token.id, rotatedAt: token.rotatedAt.toISOString(), via: ctx.via },
  }
  await recordAudit(tx, { ...event, tenantId: null })
  await recordInUserTenants(tx, session.userId, event)
}

export type LogoutToken =
  | { kind: 'live'; userId: string; sessionId: string }
  | { kind: 'reused'; userId: string; sessionId: string }
  | { kind: 'invalid' }

/**
 * What a refresh token presented at logout says: the live session it belongs
 * to, or reuse (an already-rotated token of a live session: the family is
 * revoked here, in this transaction), or nothing usable.
 */
export async function refreshTokenAtLogout(
  database: DatabaseHandle,
  raw: string,
  ctx: { now: number; client: Client },
): Promise<LogoutToken> {
  const tokenHash = hashToken(raw)
  return withScope(database, {}, async (tx) => {
    // The same lock as a refresh, so a logout and a refresh of one family do not interleave.
    const { session, token } = await lockFamily(tx, tokenHash)
    if (!session || !token || session.revokedAt) return { kind: 'invalid' }
    const ids = { userId: session.userId, sessionId: session.id }
    if (!token.rotatedAt) return { kind: 'live', ...ids }
    await revokeForReuse(
      tx,
      session,
      { id: token.id, rotatedAt: token.rotatedAt },
      {
        now: new Date(ctx.now),
        client: ctx.client,
        via: 'logout',
      },
    )
    return { kind: 'reused', ...ids }
  })
}
