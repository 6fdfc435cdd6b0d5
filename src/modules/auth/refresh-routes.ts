// Refresh and logout: the refresh token's rotation with reuse detection
// (domain/sessions/refresh-tokens.ts) and ending a session. Both take the
// refresh token from its cookie or the body; by cookie they get the browser
// checks of login CSRF (auth-csrf.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.ts'
import { refreshTokenAtLogout, rotateRefreshToken } from '../../domain/sessions/refresh-tokens.ts'
import { endSession } from '../../domain/sessions/sessions.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { Forbidden, Problem, Unauthorized } from '../../lib/problems.ts'
import { checkRequestSource, originPolicy } from '../../plugins/auth-csrf.ts'
import type { TokenIssuer } from '../../plugins/token-issuer.ts'
import { NoContent, RefreshBody, RefreshResponse } from './schemas.ts'

const TAGS = ['auth']
const USER_SECURITY: Record<string, string[]>[] = [
  { bearerAuth: [] },
  { oauth2: [] },
  { cookieAuth: [] },
]

const tokenReused = () =>
  new Unauthorized(
    'token_reused',
    'This refresh token was already used; the session has been revoked.',
  )

const refreshRoutes: FastifyPluginAsyncTypebox<{ config: Config; issuer: TokenIssuer }> = async (
  app,
  opts,
) => {
  const { issuer } = opts
  const policy = originPolicy(opts.config)
  // refresh and logout take an optional body: a cookie client sends none.
  const emptyBody = async (request: FastifyRequest) => {
    request.body ??= {}
  }

  app.post(
    '/refresh',
    {
      config: { access: 'public' },
      preValidation: emptyBody,
      schema: {
        operationId: 'refreshTokens',
        tags: TAGS,
        summary: 'Rotate the refresh token and get a new access token',
        description:
          'The refresh token comes from the refresh cookie or the body. By cookie, the answer ' +
          'is by cookie only. A token that was already rotated revokes the session ' +
          '(401 token_reused), except the immediate predecessor within ' +
          'REFRESH_REUSE_GRACE_SECONDS, which gets the same successor again.',
        body: RefreshBody,
        response: {
          200: RefreshResponse,
          ...problemResponses({
            400: ['validation_failed'],
            401: ['invalid_token', 'token_reused'],
            403: ['csrf_failed'],
            415: ['unsupported_media_type'],
            429: ['rate_limited'],
          }),
        },
      },
    },
    async (request, reply) => {
      const fromBody = request.body?.refreshToken
      const fromCookie = request.cookies[issuer.cookies.names.refresh]
      const byCookie = fromBody === undefined && fromCookie !== undefined
      checkRequestSource(request, policy, byCookie)
      const raw = fromBody ?? fromCookie
      if (!raw) throw new Unauthorized('invalid_token', 'No refresh token was presented.')
      const result = await rotateRefreshToken(
        app.database,
        raw,
        issuer.rotation(),
        issuer.client(request),
      )
      if (result.kind !== 'rotated') {
        if (byCookie) issuer.cookies.clear(reply)
        if (result.kind === 'reused') {
          await app.forgetSessions([result.sessionId])
          throw tokenReused()
        }
        throw new Unauthorized('invalid_token', 'The refresh token is not valid or has expired.')
      }
      return issuer.issue(reply, result, { body: !byCookie, cookies: byCookie })
    },
  )

  app.post(
    '/logout',
    {
      config: { access: 'public' },
      preValidation: emptyBody,
      schema: {
        operationId: 'logOut',
        tags: TAGS,
        summary: 'Revoke the current session and clear the cookies',
        description:
          'The session is the one of the access token (Bearer or cookie, with CSRF checks), ' +
          'else of the refresh token (cookie or body). A refresh token that was already ' +
          'rotated is reuse: its session is revoked and the answer is 401 token_reused.',
        security: USER_SECURITY,
        body: RefreshBody,
        response: {
          204: NoContent,
          ...problemResponses({
            400: ['validation_failed'],
            401: ['invalid_token'],
            403: ['csrf_failed', 'user_required'],
            415: ['unsupported_media_type'],
          }),
        },
      },
    },
    async (request, reply) => {
      const { ended, reused } = await logoutSession(request, reply)
      if (ended) {
        const revoked = await endSession(
          app.database,
          { ...ended, now: issuer.now(), client: issuer.client(request), reason: 'logout' },
          { reason: 'logout' },
        )
        await app.forgetSessions(revoked)
      }
      issuer.cookies.clear(reply)
      if (reused) {
        await app.forgetSessions([reused])
        throw tokenReused()
      }
      return reply.code(204).send(null)
    },
  )

  type Ended = { sessionId: string; userId: string }

  /**
   * Which session a logout ends (the access credential's, else the refresh
   * token's), and whether the refresh token presented, if any, was an
   * already-rotated one: that is reuse whichever credential authenticated the
   * logout (refresh-tokens.ts has revoked its family by then), and the logout
   * answers 401 token_reused after ending the session it can.
   */
  async function logoutSession(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ ended: Ended | null; reused: string | null }> {
    const names = issuer.cookies.names
    const fromBody = (request.body as { refreshToken?: string } | undefined)?.refreshToken
    const raw = fromBody ?? request.cookies[names.refresh]
    let byAccess: Ended | null = null
    if (request.headers.authorization !== undefined || request.cookies[names.access]) {
      try {
        await app.authenticate(request, reply)
        const { sessionId, userId } = request.auth ?? {}
        if (!sessionId || !userId) {
          throw new Forbidden('user_required', 'An API key has no session to end.')
        }
        byAccess = { sessionId, userId }
      } catch (err) {
        // An expired access token does not stop a logout that also brings its refresh token.
        if (!(err instanceof Problem) || err.statusCode !== 401 || !raw) throw err
      }
    }
    if (!raw) return { ended: byAccess, reused: null }
    // A refresh cookie is a cookie credential: the browser checks apply.
    if (!byAccess && fromBody === undefined) checkRequestSource(request, policy, true)
    const token = await refreshTokenAtLogout(app.database, raw, {
      now: issuer.now(),
      client: issuer.client(request),
    })
    const ended = byAccess ?? (token.kind === 'live' ? token : null)
    return { ended, reused: token.kind === 'reused' ? token.sessionId : null }
  }
}

export default refreshRoutes
