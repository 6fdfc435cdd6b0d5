// Who is calling: app.authenticate sets request.auth from, in this order,
//   1. Authorization: Bearer <access JWT>           (access-tokens.ts)
//   2. Authorization: Bearer dp_... (an API key)    (domain/api-keys/credentials.ts)
//   3. the access-token cookie (and then, for POST/PUT/PATCH/DELETE, the CSRF
//      checks of auth-csrf.ts)
// A Bearer header wins over a cookie, so a Bearer request never needs CSRF. An
// access token counts only while its session is live (session-cache.ts).
//
// The plugin decorates the app with authenticate, reauthenticate (for requests
// that outlive their first check: the live event stream), the access-token
// signer, the session-bound CSRF token, forgetSessions and the clock auth
// decisions use (buildApp's `clock` option).
import cookie from '@fastify/cookie'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { type VerifiedApiKey, verifyApiKey } from '../domain/api-keys/credentials.ts'
import type { Clock } from '../lib/clock.ts'
import { Unauthorized } from '../lib/problems.ts'
import type { AuthContext } from './access.ts'
import { type AccessTokens, deriveKey, registerAccessTokens } from './access-tokens.ts'
import { checkCsrf, csrfTokenFor, originPolicy } from './auth-csrf.ts'
import { createSessionCheck, type SessionCheck } from './session-cache.ts'

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

declare module 'fastify' {
  interface FastifyInstance {
    accessTokens: Pick<AccessTokens, 'sign'>
    /** the session-bound CSRF token (API.md, Cookies) */
    csrfTokenFor(sessionId: string): string
    /** drops revoked sessions from every api copy's cache; call after commit */
    forgetSessions(sessionIds: readonly string[]): Promise<void>
    /** the time auth decisions use */
    authClock: Clock
    /**
     * Checks again that the credential request.auth came from still holds (the
     * session is live, the API key neither revoked nor expired); 401 as
     * authenticate answers when it does not.
     */
    reauthenticate(request: FastifyRequest): Promise<void>
  }
}

function bearerToken(value: string): string {
  const match = /^Bearer +(\S+) *$/i.exec(value)
  if (!match?.[1]) throw new Unauthorized('invalid_token', 'The Authorization header is malformed.')
  return match[1]
}

function apiKeyAuth(key: VerifiedApiKey): AuthContext {
  return {
    via: 'api_key',
    userId: null,
    sessionId: null,
    apiKeyId: key.apiKeyId,
    apiKeyTenantId: key.tenantId,
    apiKeyPermissions: key.permissions,
    apiKeyCreatedBy: key.createdBy,
    isPlatformAdmin: false,
  }
}

async function sessionAuth(
  tokens: AccessTokens,
  sessions: SessionCheck,
  token: string,
  via: 'bearer' | 'cookie',
): Promise<AuthContext> {
  const { sub, sid } = tokens.verify(token)
  const session = await sessions.live(sub, sid)
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

async function authPlugin(app: FastifyInstance, opts: { config: Config; clock: Clock }) {
  const { config, clock } = opts
  const accessCookie = cookieNames(config.COOKIE_SECURE).access
  const policy = originPolicy(config)
  const csrfKey = deriveKey(config.JWT_SECRET, 'csrf')

  await app.register(cookie)
  const tokens = await registerAccessTokens(app, config)
  const sessions = await createSessionCheck(app, config, clock)

  async function authenticate(request: FastifyRequest): Promise<void> {
    const authorization = request.headers.authorization
    if (authorization !== undefined) {
      const token = bearerToken(authorization)
      if (token.startsWith('dp_')) {
        const key = await verifyApiKey(app.database, token)
        if (!key) throw new Unauthorized('invalid_token', 'The API key is not valid.')
        request.auth = apiKeyAuth(key)
        return
      }
      request.auth = await sessionAuth(tokens, sessions, token, 'bearer')
      return
    }
    const cookieToken = request.cookies[accessCookie]
    if (cookieToken) {
      const auth = await sessionAuth(tokens, sessions, cookieToken, 'cookie')
      if (STATE_CHANGING.has(request.method)) {
        checkCsrf(request, policy, csrfKey, auth.sessionId as string)
      }
      request.auth = auth
      return
    }
    throw new Unauthorized('unauthorized', 'Authentication is required.')
  }

  // For a request that stays open (the event stream): what revocation ends is
  // the session or the key, so that is what is checked again, through the same
  // cache as every request (a logout reaches every api copy at once). The
  // access token's own expiry is not: it was checked when the request came in,
  // and a live session is what it stood for.
  async function reauthenticate(request: FastifyRequest): Promise<void> {
    const auth = request.auth
    if (!auth) throw new Unauthorized()
    if (auth.via === 'api_key') {
      const key = await verifyApiKey(app.database, bearerToken(request.headers.authorization ?? ''))
      if (!key || key.apiKeyId !== auth.apiKeyId) {
        throw new Unauthorized('invalid_token', 'The API key is not valid.')
      }
      return
    }
    if (!auth.userId || !auth.sessionId) throw new Unauthorized()
    await sessions.live(auth.userId, auth.sessionId)
  }

  app.decorate('authenticate', authenticate)
  app.decorate('reauthenticate', reauthenticate)
  app.decorate('authClock', clock)
  app.decorate('csrfTokenFor', (sessionId: string) => csrfTokenFor(csrfKey, sessionId))
  app.decorate('accessTokens', { sign: tokens.sign })
  app.decorate('forgetSessions', sessions.forget)
}

export default fp(authPlugin, { name: 'auth', dependencies: ['access', 'db', 'redis'] })
