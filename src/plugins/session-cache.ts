// A revoked session's access tokens stop working at once: each request checks
// its session through a small per-process cache that a revocation clears on
// every api copy through Redis pub/sub (lib/invalidating-cache.ts); the TTL
// bounds staleness while Redis is unreachable.
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.ts'
import { type SessionState, sessionStateReader } from '../domain/sessions/session-state.ts'
import type { Clock } from '../lib/clock.ts'
import { createInvalidatingCache } from '../lib/invalidating-cache.ts'
import { Unauthorized } from '../lib/problems.ts'

/** How long a session's state is trusted from the cache: pub/sub clears it sooner. */
const SESSION_CACHE_TTL_MS = { redis: 30_000, local: 5_000 }

export type SessionCheck = {
  /** the live session `sid` of user `sub`; 401 invalid_token when it has ended */
  live(sub: string, sid: string): Promise<NonNullable<SessionState>>
  /** drops revoked sessions from every api copy's cache */
  forget(sessionIds: readonly string[]): Promise<void>
}

export async function createSessionCheck(
  app: FastifyInstance,
  config: Config,
  clock: Clock,
): Promise<SessionCheck> {
  const cache = await createInvalidatingCache<SessionState>({
    name: 'sessions',
    ttlMs: app.redis ? SESSION_CACHE_TTL_MS.redis : SESSION_CACHE_TTL_MS.local,
    maxEntries: 50_000,
    redis: app.redis,
    channelPrefix: config.REDIS_PREFIX,
  })
  app.addHook('onClose', () => cache.close())
  const sessionState = sessionStateReader(app.database)
  return {
    async live(sub, sid) {
      const session = await cache.get(sid, () => sessionState(sid))
      if (!session || session.userId !== sub || session.expiresAt <= clock.now()) {
        throw new Unauthorized('invalid_token', 'The session has ended.')
      }
      return session
    },
    async forget(sessionIds) {
      await Promise.all(sessionIds.map((id) => cache.invalidate(id)))
    },
  }
}
