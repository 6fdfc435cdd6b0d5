// What an access token's session says on each request: whose it is, whether it
// is revoked, when it ends. Read on every session-cache miss of every
// authenticated request, so the statement is prepared once.
import { eq, sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { sessions, users } from '../../db/schema/users.ts'

/** A live session's user and end (ms), or null when it is unknown or revoked. */
export type SessionState = { userId: string; isPlatformAdmin: boolean; expiresAt: number } | null

export function sessionStateReader(
  database: DatabaseHandle,
): (sessionId: string) => Promise<SessionState> {
  const statement = database.db
    .select({
      userId: sessions.userId,
      expiresAt: sessions.expiresAt,
      revokedAt: sessions.revokedAt,
      isPlatformAdmin: users.isPlatformAdmin,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare('auth_session_state')
  return async (sessionId) => {
    const [row] = await statement.execute({ id: sessionId })
    if (!row || row.revokedAt) return null
    return {
      userId: row.userId,
      isPlatformAdmin: row.isPlatformAdmin,
      expiresAt: row.expiresAt.getTime(),
    }
  }
}
