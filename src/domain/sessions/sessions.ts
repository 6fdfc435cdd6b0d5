// Login sessions: one row per login, holding the refresh-token family. Creating
// one issues its first refresh token; revoking sets revoked_at (kept for the
// audit trail and so a replayed token still finds its family). Every time here
// comes from the caller's clock (app.authClock), so tests can move it.
import { and, desc, eq, gt, isNull, lt, ne } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.ts'
import { refreshTokens, sessions } from '../../db/schema/users.ts'
import { hashToken, randomToken } from '../../lib/tokens.ts'

export type SessionLimits = {
  SESSION_ABSOLUTE_TTL: number
  REFRESH_TOKEN_TTL: number
}

export type StartedSession = {
  sessionId: string
  refreshToken: string
  refreshExpiresAt: Date
}

export async function startSession(
  tx: DbOrTx,
  input: { userId: string; now: number; userAgent: string | null; ip: string | null },
  limits: SessionLimits,
): Promise<StartedSession> {
  const now = new Date(input.now)
  const expiresAt = new Date(input.now + limits.SESSION_ABSOLUTE_TTL * 1000)
  const [session] = await tx
    .insert(sessions)
    .values({
      userId: input.userId,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      ip: input.ip,
    })
    .returning({ id: sessions.id })
  if (!session) throw new Error('session insert returned no row')
  const refreshToken = randomToken()
  const refreshExpiresAt = new Date(
    Math.min(input.now + limits.REFRESH_TOKEN_TTL * 1000, expiresAt.getTime()),
  )
  await tx.insert(refreshTokens).values({
    sessionId: session.id,
    tokenHash: hashToken(refreshToken),
    createdAt: now,
    expiresAt: refreshExpiresAt,
  })
  return { sessionId: session.id, refreshToken, refreshExpiresAt }
}

/**
 * Revokes the user's sessions that match (one id, all but one, or all) and
 * returns their ids, so the caller can clear them from every api copy's cache.
 */
export async function revokeSessions(
  tx: DbOrTx,
  input: { userId: string; now: number; reason: string; only?: string; except?: string },
): Promise<string[]> {
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: new Date(input.now), revokedReason: input.reason })
    .where(
      and(
        eq(sessions.userId, input.userId),
        isNull(sessions.revokedAt),
        input.only ? eq(sessions.id, input.only) : undefined,
        input.except ? ne(sessions.id, input.except) : undefined,
      ),
    )
    .returning({ id: sessions.id })
  return rows.map((r) => r.id)
}

/** The user's live sessions, newest first (ids are UUIDv7, so time-ordered). */
export async function listSessions(
  db: DbOrTx,
  input: { userId: string; now: number; limit: number; before?: string },
) {
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      expiresAt: sessions.expiresAt,
      userAgent: sessions.userAgent,
      ip: sessions.ip,
    })
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, input.userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, new Date(input.now)),
        input.before ? lt(sessions.id, input.before) : undefined,
      ),
    )
    .orderBy(desc(sessions.id))
    .limit(input.limit)
}
