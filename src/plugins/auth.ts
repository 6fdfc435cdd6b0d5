// Who is calling: app.authenticate sets request.auth from, in this order,
//   1. Authorization: Bearer <access JWT>
//   2. Authorization: Bearer dp_... (an API key)
//   3. the access-token cookie (and then, for POST/PUT/PATCH/DELETE, the CSRF
//      checks of auth-csrf.ts)
// A Bearer header wins over a cookie, so a Bearer request never needs CSRF.
//
// Access tokens: HS256 only (pinned: the library accepts any algorithm unless
// told), header typ "at+jwt" and a kid derived from the key, iss "deskpilot",
// aud "deskpilot-api", required sub, sid, jti, iat, exp. Keys in
// JWT_PREVIOUS_SECRETS verify by their kid, so JWT_SECRET can rotate.
// Opaque tokens (refresh, reset, verification, invitation) are not JWTs and so
// can never pass here.
//
// A revoked session's access tokens stop working at once: each request checks
// its session through a small per-process cache that a revocation clears on
// every api copy through Redis pub/sub (lib/invalidating-cache.ts); the TTL
// bounds staleness while Redis is unreachable.
import { createHmac, randomUUID } from 'node:crypto'
import cookie from '@fastify/cookie'
import jwt from '@fastify/jwt'
import { eq, sql } from 'drizzle-orm'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { sessions, users } from '../db/schema/users.ts'
import { verifyApiKey } from '../domain/api-keys/credentials.ts'
import { createInvalidatingCache } from '../lib/invalidating-cache.ts'
import { Unauthorized } from '../lib/problems.ts'
import type { AuthContext } from './access.ts'
import { checkCsrf, csrfTokenFor, originPolicy } from './auth-csrf.ts'

export const JWT_ISSUER = 'deskpilot'
export const JWT_AUDIENCE = 'deskpilot-api'
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** How long a session's state is trusted from the cache: pub/sub clears it sooner. */
const SESSION_CACHE_TTL_MS = { redis: 30_000, local: 5_000 }
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Cookie names. With COOKIE_SECURE the `__Host-` prefix makes the browser
 * refuse any such cookie that has a Domain, is not Secure or has a Path other
 * than /, so a sibling tenant subdomain cannot plant or shadow ours. That
 * forces the refresh cookie to Path=/ (it cannot be narrowed to /v1/auth):
 * the prefix's integrity is worth more than the path, which is no security
 * boundary anyway; the server reads the refresh cookie only in refresh and
 * logout, and SameSite=Strict keeps it off cross-site requests. Without
 * COOKIE_SECURE (development over http) the prefix is impossible, and the
 * refresh cookie is narrowed to REFRESH_COOKIE_PATH instead.
 */
export function cookieNames(secure: boolean) {
  const p = secure ? '__Host-' : ''
  return { access: `${p}dp_access`, refresh: `${p}dp_refresh`, csrf: `${p}dp_csrf` }
}
export const REFRESH_COOKIE_PATH = '/v1/auth'

/** A key for one purpose, derived from a secret, so no two uses share a key. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`deskpilot:${purpose}`).digest()
}

function keyId(secret: string): string {
  return deriveKey(secret, 'jwt-kid').toString('base64url').slice(0, 16)
}

export type SessionState = { userId: string; isPlatformAdmin: boolean; expiresAt: number } | null

/** The time auth decisions use; the offset is honoured only when NODE_ENV=test. */
export type AuthClock = { now(): number; advance(ms: number): void; reset(): void }

declare module 'fastify' {
  interface FastifyInstance {
    accessTokens: { sign(userId: string, sessionId: string): string }
    /** the session-bound CSRF token (API.md, Cookies) */
    csrfTokenFor(sessionId: string): string
    /** drops revoked sessions from every api copy's cache; call after commit */
    forgetSessions(sessionIds: readonly string[]): Promise<void>
    authClock: AuthClock
  }
}

function createClock(testing: boolean): AuthClock {
  let offset = 0
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      if (testing) offset += ms
    },
    reset() {
      offset = 0
    },
  }
}

function bearerToken(value: string): string {
  const match = /^Bearer +(\S+) *$/i.exec(value)
  if (!match?.[1]) throw new Unauthorized('invalid_token', 'The Authorization header is malformed.')
  return match[1]
}

/** The kid of a JWT's header, read without trusting it (the signature check follows). */
function headerKid(token: string): string | undefined {
  const dot = token.indexOf('.')
  if (dot <= 0) return undefined
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString())
    return typeof header?.kid === 'string' ? header.kid : undefined
  } catch {
    return undefined
  }
}

async function authPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts
  const clock = createClock(config.NODE_ENV === 'test')
  const names = cookieNames(config.COOKIE_SECURE)
  const policy = originPolicy(config)
  const csrfKey = deriveKey(config.JWT_SECRET, 'csrf')
  const currentKid = keyId(config.JWT_SECRET)
  const previousKeys = new Map(config.JWT_PREVIOUS_SECRETS.map((s) => [keyId(s), s]))
  previousKeys.delete(currentKid)

  await app.register(cookie)
  await app.register(jwt, {
    secret: config.JWT_SECRET,
    sign: {
      algorithm: 'HS256',
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      kid: currentKid,
      header: { alg: 'HS256', typ: ACCESS_TOKEN_TYPE },
      // @fastify/jwt reads a number as seconds.
      expiresIn: config.ACCESS_TOKEN_TTL,
    },
    verify: {
      algorithms: ['HS256'],
      allowedIss: JWT_ISSUER,
      allowedAud: JWT_AUDIENCE,
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
      checkTyp: ACCESS_TOKEN_TYPE,
    },
  })

  const sessionCache = await createInvalidatingCache<SessionState>({
    name: 'sessions',
    ttlMs: app.redis ? SESSION_CACHE_TTL_MS.redis : SESSION_CACHE_TTL_MS.local,
    maxEntries: 50_000,
    redis: app.redis,
    channelPrefix: config.REDIS_PREFIX,
  })
  app.addHook('onClose', () => sessionCache.close())

  // Prepared once: this runs on every cache miss of every authenticated request.
  const loadSession = app.db
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

  async function sessionState(sessionId: string): Promise<SessionState> {
    const [row] = await loadSession.execute({ id: sessionId })
    if (!row || row.revokedAt) return null
    return {
      userId: row.userId,
      isPlatformAdmin: row.isPlatformAdmin,
      expiresAt: row.expiresAt.getTime(),
    }
  }

  function verifyAccessToken(token: string): { sub: string; sid: string } {
    const kid = headerKid(token)
    const previous = kid === undefined ? undefined : previousKeys.get(kid)
    if (kid !== currentKid && previous === undefined) {
      throw new Unauthorized('invalid_token', 'The access token is not valid.')
    }
    let claims: Record<string, unknown>
    try {
      // The current key uses the plugin's cached verifier; older keys are rare.
      claims =
        previous === undefined ? app.jwt.verify(token) : app.jwt.verify(token, { key: previous })
    } catch {
      throw new Unauthorized('invalid_token', 'The access token is not valid or has expired.')
    }
    const { sub, sid } = claims
    if (typeof sub !== 'string' || typeof sid !== 'string' || !UUID.test(sid) || !UUID.test(sub)) {
      throw new Unauthorized('invalid_token', 'The access token is not valid.')
    }
    return { sub, sid }
  }

  async function fromAccessToken(token: string, via: 'bearer' | 'cookie'): Promise<AuthContext> {
    const { sub, sid } = verifyAccessToken(token)
    const session = await sessionCache.get(sid, () => sessionState(sid))
    if (!session || session.userId !== sub || session.expiresAt <= clock.now()) {
      throw new Unauthorized('invalid_token', 'The session has ended.')
    }
    return {
      via,
      userId: sub,
      sessionId: sid,
      apiKeyId: null,
      apiKeyTenantId: null,
      apiKeyPermissions: null,
      apiKeyCreatedBy: null,
      isPlatformAdmin: session.isPlatformAdmin,
    }
  }

  async function authenticate(request: FastifyRequest): Promise<void> {
    const authorization = request.headers.authorization
    if (authorization !== undefined) {
      const token = bearerToken(authorization)
      if (token.startsWith('dp_')) {
        const key = await verifyApiKey(app.database, token)
        if (!key) throw new Unauthorized('invalid_token', 'The API key is not valid.')
        request.auth = {
          via: 'api_key',
          userId: null,
          sessionId: null,
          apiKeyId: key.apiKeyId,
          apiKeyTenantId: key.tenantId,
          apiKeyPermissions: key.permissions,
          apiKeyCreatedBy: key.createdBy,
          isPlatformAdmin: false,
        }
        return
      }
      request.auth = await fromAccessToken(token, 'bearer')
      return
    }
    const cookieToken = request.cookies[names.access]
    if (cookieToken) {
      const auth = await fromAccessToken(cookieToken, 'cookie')
      if (STATE_CHANGING.has(request.method)) {
        checkCsrf(request, policy, csrfKey, auth.sessionId as string)
      }
      request.auth = auth
      return
    }
    throw new Unauthorized('unauthorized', 'Authentication is required.')
  }

  app.decorate('authenticate', authenticate)
  app.decorate('authClock', clock)
  app.decorate('csrfTokenFor', (sessionId: string) => csrfTokenFor(csrfKey, sessionId))
  app.decorate('accessTokens', {
    sign: (userId: string, sessionId: string) =>
      app.jwt.sign({ sub: userId, sid: sessionId, jti: randomUUID() }),
  })
  app.decorate('forgetSessions', async (sessionIds: readonly string[]) => {
    await Promise.all(sessionIds.map((id) => sessionCache.invalidate(id)))
  })
}

export default fp(authPlugin, { name: 'auth', dependencies: ['access', 'db', 'redis'] })
