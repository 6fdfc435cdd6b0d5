// The auth module (API.md, Authentication): signup, login, refresh, logout,
// csrf and me here; sessions, password/email routes and the OAuth2 token
// endpoint in their own files.
// Login, signup and refresh get the Fetch Metadata, Origin and content-type
// checks too (login CSRF); the auth routes have their own per-IP rate limit
// (AUTH_RATE_LIMIT_MAX a minute), and login and forgot-password one per email.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Static } from 'typebox'
import type { Config } from '../../config.ts'
import { loadUser, logIn, signUp, userMemberships } from '../../domain/accounts/accounts.ts'
import { ensureBootstrapAdmin } from '../../domain/accounts/bootstrap-admin.ts'
import { recordAudit } from '../../domain/audit/record.ts'
import { refreshTokenAtLogout, rotateRefreshToken } from '../../domain/sessions/refresh-tokens.ts'
import { revokeSessions } from '../../domain/sessions/sessions.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { Forbidden, Problem, Unauthorized } from '../../lib/problems.ts'
import { checkRequestSource, originPolicy } from '../../plugins/auth-csrf.ts'
import oauth2TokenRoutes from './oauth2-token-routes.ts'
import passwordRoutes from './password-routes.ts'
import { emailRateLimit, ipRateLimit } from './rate-limits.ts'
import {
  CsrfResponse,
  LoginBody,
  MeResponse,
  NoContent,
  RefreshBody,
  RefreshResponse,
  SignedInResponse,
  SignupBody,
} from './schemas.ts'
import sessionRoutes from './session-routes.ts'
import { tokenIssuer } from './token-issuer.ts'

const TAGS = ['auth']
const USER_SECURITY: Record<string, string[]>[] = [
  { bearerAuth: [] },
  { oauth2: [] },
  { cookieAuth: [] },
]

const authRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
  const { config } = opts
  const issuer = tokenIssuer(app, config)
  const policy = originPolicy(config)
  const authLimit = ipRateLimit(config)
  const loginCsrf = async (request: FastifyRequest) => checkRequestSource(request, policy, false)
  // refresh and logout take an optional body: a cookie client sends none.
  const emptyBody = async (request: FastifyRequest) => {
    request.body ??= {}
  }

  await ensureBootstrapAdmin(
    app.db,
    { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD },
    app.log,
  )

  app.post(
    '/signup',
    {
      config: { access: 'public', rateLimit: authLimit },
      onRequest: loginCsrf,
      schema: {
        operationId: 'signUp',
        tags: TAGS,
        summary: 'Create an account (optionally with a first tenant) and sign in',
        description:
          'Answers the tokens and sets the session cookies, as login does, and queues the ' +
          'verification email. With `tenant`, the tenant is created with you as its owner. ' +
          'The password needs PASSWORD_MIN_LENGTH characters and must not be a common one.',
        body: SignupBody,
        response: {
          201: SignedInResponse,
          ...problemResponses({
            400: ['validation_failed', 'weak_password', 'invalid_slug'],
            403: ['csrf_failed'],
            409: ['email_taken', 'slug_taken'],
            415: ['unsupported_media_type'],
            429: ['rate_limited'],
          }),
        },
      },
    },
    async (request, reply) => {
      const signedIn = await signUp(app.db, request.body, {
        now: issuer.now(),
        client: issuer.client(request),
        policy: issuer.policy,
      })
      await app.jobs.dispatch(signedIn.jobs)
      if (request.body.tenant && app.hasDecorator('tenantCaches')) {
        await app.tenantCaches.tenants.invalidate(request.body.tenant.slug.toLowerCase())
      }
      const tokens = issuer.issue(
        reply,
        { ...signedIn, userId: signedIn.user.id },
        { body: true, cookies: true },
      )
      reply.code(201)
      return { user: signedIn.user, ...tokens } as Static<typeof SignedInResponse>
    },
  )

  app.post(
    '/login',
    {
      config: { access: 'public', rateLimit: authLimit },
      onRequest: loginCsrf,
      preHandler: emailRateLimit(app, config, 'login'),
      schema: {
        operationId: 'logIn',
        tags: TAGS,
        summary: 'Sign in with email and password',
        description:
          'Unknown email and wrong password answer the same 401 in about the same time. ' +
          'After LOGIN_MAX_FAILURES failures the address is locked (423, Retry-After), whether ' +
          'or not an account has it; an account that locks is mailed an unlock link.',
        body: LoginBody,
        response: {
          200: SignedInResponse,
          ...problemResponses({
            400: ['validation_failed'],
            401: ['invalid_credentials'],
            403: ['csrf_failed'],
            415: ['unsupported_media_type'],
            423: ['account_locked'],
            429: ['rate_limited'],
          }),
        },
      },
    },
    async (request, reply) => {
      const signedIn = await logIn(app.db, request.body, {
        now: issuer.now(),
        client: issuer.client(request),
        policy: issuer.policy,
        // Not awaited (dispatch never throws): see logIn.
        onJobs: (jobs) => void app.jobs.dispatch(jobs),
      })
      const tokens = issuer.issue(
        reply,
        { ...signedIn, userId: signedIn.user.id },
        { body: true, cookies: true },
      )
      return { user: signedIn.user, ...tokens } as Static<typeof SignedInResponse>
    },
  )

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
        app.db,
        raw,
        issuer.rotation(),
        issuer.client(request),
      )
      if (result.kind !== 'rotated') {
        if (byCookie) issuer.cookies.clear(reply)
        if (result.kind === 'reused') {
          await app.forgetSessions([result.sessionId])
          throw new Unauthorized(
            'token_reused',
            'This refresh token was already used; the session has been revoked.',
          )
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
        const revoked = await app.db.transaction(async (tx) => {
          const ids = await revokeSessions(tx, {
            userId: ended.userId,
            now: issuer.now(),
            reason: 'logout',
            only: ended.sessionId,
          })
          if (ids.length > 0) {
            await recordAudit(tx, {
              tenantId: null,
              action: 'auth.session_revoked',
              actorUserId: ended.userId,
              targetType: 'session',
              targetId: ended.sessionId,
              ...issuer.client(request),
              data: { reason: 'logout' },
            })
          }
          return ids
        })
        await app.forgetSessions(revoked)
      }
      issuer.cookies.clear(reply)
      if (reused) {
        await app.forgetSessions([reused])
        throw new Unauthorized(
          'token_reused',
          'This refresh token was already used; the session has been revoked.',
        )
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
    const token = await refreshTokenAtLogout(app.db, raw, {
      now: issuer.now(),
      client: issuer.client(request),
    })
    const ended = byAccess ?? (token.kind === 'live' ? token : null)
    return { ended, reused: token.kind === 'reused' ? token.sessionId : null }
  }

  app.get(
    '/csrf',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'getCsrfToken',
        tags: TAGS,
        summary: "The current session's CSRF token (also set as a script-readable cookie)",
        description:
          'A cookie-authenticated POST, PUT, PATCH or DELETE sends this token as X-CSRF-Token. ' +
          'An SPA on another origin cannot read the cookie, so it takes the token from here ' +
          '(or from the signup, login and refresh answers).',
        response: {
          200: CsrfResponse,
          ...problemResponses({
            401: ['unauthorized', 'invalid_token'],
            403: ['user_required'],
          }),
        },
      },
    },
    async (request, reply) => {
      const csrfToken = app.csrfTokenFor(request.auth?.sessionId as string)
      issuer.cookies.setCsrf(reply, csrfToken)
      return { csrfToken }
    },
  )

  app.get(
    '/me',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'getMe',
        tags: TAGS,
        summary: 'The signed-in user and their memberships',
        description:
          'Each membership names the tenant (its id or slug is the X-Tenant-ID of tenant ' +
          'routes), the role and the permissions it grants.',
        response: {
          200: MeResponse,
          ...problemResponses({
            401: ['unauthorized', 'invalid_token'],
            403: ['user_required'],
          }),
        },
      },
    },
    async (request) => {
      const userId = request.auth?.userId as string
      const [user, memberships] = await Promise.all([
        loadUser(app.db, userId),
        userMemberships(app.database, userId),
      ])
      if (!user) throw new Unauthorized('invalid_token', 'The account no longer exists.')
      return { user, memberships }
    },
  )

  await app.register(sessionRoutes, { issuer })
  await app.register(passwordRoutes, { config, issuer })
  await app.register(oauth2TokenRoutes, { config, issuer })
}

export default authRoutes
