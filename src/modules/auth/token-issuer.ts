// Turns a signed-in session into the answer a client gets: a fresh access JWT,
// the session's CSRF token, and the refresh token, in the body, in cookies, or
// both (signup and login do both; a refresh by cookie is answered by cookie
// only, a refresh by body token by body only).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.ts'
import type { AccountPolicy, Client } from '../../domain/accounts/accounts.ts'
import type { RotationPolicy } from '../../domain/sessions/refresh-tokens.ts'
import { deriveKey } from '../../plugins/auth.ts'
import { authCookies } from './cookies.ts'

type Session = { userId: string; sessionId: string; refreshToken: string; refreshExpiresAt: Date }

export function tokenIssuer(app: FastifyInstance, config: Config) {
  const now = () => app.authClock.now()
  const cookies = authCookies(config, now)
  const successorKeys = [config.JWT_SECRET, ...config.JWT_PREVIOUS_SECRETS].map((s) =>
    deriveKey(s, 'refresh-successor'),
  )
  const policy: AccountPolicy = {
    SESSION_ABSOLUTE_TTL: config.SESSION_ABSOLUTE_TTL,
    REFRESH_TOKEN_TTL: config.REFRESH_TOKEN_TTL,
    PASSWORD_MIN_LENGTH: config.PASSWORD_MIN_LENGTH,
    LOGIN_MAX_FAILURES: config.LOGIN_MAX_FAILURES,
    LOGIN_LOCK_MINUTES: config.LOGIN_LOCK_MINUTES,
  }

  return {
    now,
    cookies,
    policy,
    rotation(): RotationPolicy {
      return {
        now: now(),
        graceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
        idleSeconds: config.SESSION_IDLE_TTL,
        refreshTtlSeconds: config.REFRESH_TOKEN_TTL,
        keys: successorKeys,
      }
    },
    client(request: FastifyRequest): Client {
      const agent = request.headers['user-agent']
      return { ip: request.ip, userAgent: typeof agent === 'string' ? agent : null }
    },
    issue(reply: FastifyReply, session: Session, to: { body: boolean; cookies: boolean }) {
      const accessToken = app.accessTokens.sign(session.userId, session.sessionId)
      const csrfToken = app.csrfTokenFor(session.sessionId)
      if (to.cookies) {
        cookies.set(reply, {
          accessToken,
          refreshToken: session.refreshToken,
          refreshExpiresAt: session.refreshExpiresAt,
          csrfToken,
        })
      }
      return {
        ...(to.body ? { accessToken, refreshToken: session.refreshToken } : {}),
        expiresIn: config.ACCESS_TOKEN_TTL,
        tokenType: 'Bearer' as const,
        csrfToken,
      }
    },
  }
}

export type TokenIssuer = ReturnType<typeof tokenIssuer>
