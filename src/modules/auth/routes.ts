// The auth module (API.md, Authentication): signup, login, csrf and me here;
// refresh and logout, sessions, password/email routes and the OAuth2 token
// endpoint in their own files.
// Login, signup and refresh get the Fetch Metadata, Origin and content-type
// checks too (login CSRF); the auth routes have their own per-IP rate limit
// (AUTH_RATE_LIMIT_MAX a minute), and login and forgot-password one per email.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../../config.ts'
import { loadUser } from '../../domain/accounts/accounts.ts'
import { ensureBootstrapAdmin } from '../../domain/accounts/bootstrap-admin.ts'
import { logIn, signUp } from '../../domain/accounts/sign-in.ts'
import { myMemberships } from '../../domain/members/memberships.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { Unauthorized } from '../../lib/problems.ts'
import { checkRequestSource, originPolicy } from '../../plugins/auth-csrf.ts'
import { SignedInResponse, tokenIssuer } from '../../plugins/token-issuer.ts'
import oauth2TokenRoutes from './oauth2-token-routes.ts'
import passwordRoutes from './password-routes.ts'
import { emailRateLimit, ipRateLimit } from './rate-limits.ts'
import refreshRoutes from './refresh-routes.ts'
import { CsrfResponse, LoginBody, MeResponse, SignupBody } from './schemas.ts'
import sessionRoutes from './session-routes.ts'

const TAGS = ['auth']

const authRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
  const { config } = opts
  const issuer = tokenIssuer(app, config)
  const policy = originPolicy(config)
  const authLimit = ipRateLimit(config)
  const loginCsrf = async (request: FastifyRequest) => checkRequestSource(request, policy, false)

  await ensureBootstrapAdmin(
    app.database,
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
      const signedIn = await signUp(app.database, request.body, {
        now: issuer.now(),
        client: issuer.client(request),
        policy: issuer.policy,
      })
      await app.jobs.dispatch(signedIn.jobs)
      if (request.body.tenant) {
        await app.tenantCaches.tenants.invalidate(request.body.tenant.slug.toLowerCase())
      }
      reply.code(201)
      return issuer.signIn(reply, signedIn, signedIn.user)
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
      const signedIn = await logIn(app.database, request.body, {
        now: issuer.now(),
        client: issuer.client(request),
        policy: issuer.policy,
        // Not awaited (dispatch never throws): see logIn.
        onJobs: (jobs) => void app.jobs.dispatch(jobs),
      })
      return issuer.signIn(reply, signedIn, signedIn.user)
    },
  )

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
        loadUser(app.database, userId),
        myMemberships(app.database, userId),
      ])
      if (!user) throw new Unauthorized('invalid_token', 'The account no longer exists.')
      return { user, memberships }
    },
  )

  await app.register(refreshRoutes, { config, issuer })
  await app.register(sessionRoutes, { issuer })
  await app.register(passwordRoutes, { config, issuer })
  await app.register(oauth2TokenRoutes, { config, issuer })
}

export default authRoutes
