// Login sessions: one row per login, holding the refresh-token family. Creating
// one issues its first refresh token; revoking sets revoked_at (kept for the
// audit trail and so a replayed token still finds its family). Every time here
// comes from the caller's clock, so tests can move it. Revoking returns the
// revoked ids: the caller clears them from every api copy's session cache
// after commit.
import { and, desc, eq, gt, isNull, lt, ne } from 'drizzle-orm'
import { type Static, Type } from 'typebox'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { refreshTokens, sessions } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { CursorId, decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { NotFound } from '../../lib/problems.ts'
import { hashToken, randomToken } from '../../lib/tokens.ts'
import { type AuditEvent, recordAudit } from '../audit/record.ts'
import type { SessionItem } from './schemas.ts'

/** Where a request came from, for the audit trail and the session row. */
export type Client = { ip: string | null; userAgent: string | null }

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

/** Sessions are paged by id (uuidv7, so newest first is id order). */
const SessionCursor = Type.Tuple([CursorId])

/** A page of the user's live sessions, newest first; `current` marks the caller's own. */
export async function listOwnSessions(
  database: DatabaseHandle,
  input: { userId: string; currentSessionId: string | null; now: number },
  page: { limit: number; cursor?: string },
): Promise<{ data: Static<typeof SessionItem>[]; nextCursor: string | null }> {
  const before = decodeCursor(page.cursor, SessionCursor)?.[0]
  const rows = await database.db
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
        before ? lt(sessions.id, before) : undefined,
      ),
    )
    .orderBy(desc(sessions.id))
    .limit(page.limit + 1)
  const data = rows.slice(0, page.limit)
  const last = data.at(-1)
  return {
    data: data.map((s) => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      lastUsedAt: s.lastUsedAt.toISOString(),
      expiresAt: s.expiresAt.toISOString(),
      userAgent: s.userAgent,
      ip: s.ip,
      current: s.id === input.currentSessionId,
    })),
    nextCursor: rows.length > page.limit && last ? encodeCursor([last.id]) : null,
  }
}

/**
 * Revokes the user's sessions that `which` picks and, when any were live,
 * records the event `eventOf` makes of their ids, in one transaction.
 */
function revokeRecorded(
  database: DatabaseHandle,
  input: { userId: string; now: number; reason: string },
  which: { only: string } | { except: string },
  eventOf: (ids: string[]) => AuditEvent,
): Promise<string[]> {
  return withScope(database, {}, async (tx) => {
    const ids = await revokeSessions(tx, { ...input, ...which })
    if (ids.length > 0) await recordAudit(tx, eventOf(ids))
    return ids
  })
}

/**
 * Ends one session of the user (a logout, or revoking one of one's own
 * sessions) and records it; the revoked ids, empty when it had ended already
 * or is not the user's.
 */
export function endSession(
  database: DatabaseHandle,
  input: { userId: string; sessionId: string; now: number; client: Client; reason: string },
  auditData?: Record<string, unknown>,
): Promise<string[]> {
  return revokeRecorded(database, input, { only: input.sessionId }, () => ({
    tenantId: null,
    action: 'auth.session_revoked',
    actorUserId: input.userId,
    targetType: 'session',
    targetId: input.sessionId,
    ...input.client,
    ...(auditData ? { data: auditData } : {}),
  }))
}

/** Revokes one of the caller's own sessions; 404 for one that is not theirs or not live. */
export async function revokeOwnSession(
  database: DatabaseHandle,
  input: { userId: string; sessionId: string; now: number; client: Client },
): Promise<string[]> {
  const ids = await endSession(database, { ...input, reason: 'revoked' })
  if (ids.length === 0) throw new NotFound('session')
  return ids
}

/** Revokes every session of the user but the current one, and records it. */
export function revokeOtherSessions(
  database: DatabaseHandle,
  input: { userId: string; currentSessionId: string; now: number; client: Client },
): Promise<string[]> {
  const { userId, now, client } = input
  return revokeRecorded(
    database,
    { userId, now, reason: 'revoked' },
    { except: input.currentSessionId },
    (ids) => ({
      tenantId: null,
      action: 'auth.sessions_revoked',
      actorUserId: userId,
      targetType: 'user',
      targetId: userId,
      ...client,
      data: { sessionIds: ids },
    }),
  )
}
