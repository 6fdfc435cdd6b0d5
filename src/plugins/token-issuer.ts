// Turns a signed-in session into the answer a client gets: a fresh access JWT,
// the session's CSRF token, and the refresh token, in the body, in cookies, or
// both (signup, login and an invitation accepted with a new account do both; a
// refresh by cookie is answered by cookie only, a refresh by body token by body
// only). SignedInResponse is the schema of the signing-in answers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type Static, Type } from 'typebox'
import type { Config } from '../config.ts'
import type { AccountPolicy, PublicUser } from '../domain/accounts/accounts.ts'
import { User, userExample } from '../domain/accounts/schemas.ts'
import type { RotationPolicy } from '../domain/sessions/refresh-tokens.ts'
import type { Client } from '../domain/sessions/sessions.ts'
import { deriveKey } from './access-tokens.ts'
import { authCookies } from './auth-cookies.ts'

export const tokensExample = {
  accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIwMTkzYTBjNCJ9.c2lnbmF0dXJl',
  refreshToken: 'q8V0c4W6nHk2b1ZxR7tLmP3sYwE9aUfJ',
  expiresIn: 900,
  tokenType: 'Bearer',
  csrfToken: 'mJ3dQ1x9ZkTq7PzVh2LwYc',
}

/** What a sign-in answers, as the document's example. */
export const signedInExample = { user: userExample, ...tokensExample }

/** signup and login answer tokens in the body and set cookies too */
export const SignedInResponse = Type.Object(
  {
    user: User,
    accessToken: Type.String({ examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9...'] }),
    refreshToken: Type.String({ examples: ['q8V0c4W6nH...'] }),
    expiresIn: Type.Integer({ description: 'access token lifetime in seconds', examples: [900] }),
    tokenType: Type.Literal('Bearer'),
    csrfToken: Type.String({ examples: ['mJ3d...'] }),
  },
  {
    additionalProperties: false,
    description: 'Signed in: the tokens, and the same as cookies',
    examples: [signedInExample],
  },
)

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

  /** A fresh access token and CSRF token for the session, with its refresh token; as cookies too when given the reply. */
  function mint(session: Session, cookiesOn?: FastifyReply) {
    const accessToken = app.accessTokens.sign(session.userId, session.sessionId)
    const csrfToken = app.csrfTokenFor(session.sessionId)
    if (cookiesOn) {
      cookies.set(cookiesOn, {
        accessToken,
        refreshToken: session.refreshToken,
        refreshExpiresAt: session.refreshExpiresAt,
        csrfToken,
      })
    }
    return {
      accessToken,
      refreshToken: session.refreshToken,
      expiresIn: config.ACCESS_TOKEN_TTL,
      tokenType: 'Bearer' as const,
      csrfToken,
    }
  }

  return {
    now,
    cookies,
    policy,
    /** A rotated session's answer: the tokens in the body, in cookies, or both. */
    issue(reply: FastifyReply, session: Session, to: { body: boolean; cookies: boolean }) {
      const { accessToken, refreshToken, ...rest } = mint(session, to.cookies ? reply : undefined)
      return to.body ? { accessToken, refreshToken, ...rest } : rest
    },
    /** A new session's answer: the user and its tokens in the body, and the cookies set. */
    signIn(
      reply: FastifyReply,
      session: Omit<Session, 'userId'>,
      user: PublicUser,
    ): Static<typeof SignedInResponse> {
      return { user, ...mint({ ...session, userId: user.id }, reply) }
    },
    /** The tokens for the body only, no cookies (the OAuth2 token endpoint). */
    tokensFor: (session: Session) => mint(session),
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
  }
}

export type TokenIssuer = ReturnType<typeof tokenIssuer>
