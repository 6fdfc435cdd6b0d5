// POST /v1/auth/token, the OAuth2 token endpoint (RFC 6749, API.md "OAuth2
// password grant"): the password grant (section 4.3) and the refresh grant
// (section 6), so an OAuth2 client or Swagger UI's Authorize button signs in.
// It is a second door to the same rooms: the password grant runs the JSON
// login's logIn (the same lockout, audit events and refusals), counted in the
// login's per-email bucket and under the per-IP limit every auth route has;
// the refresh grant runs the same rotation with reuse detection. Only the shapes differ, by contract: a form body in, RFC
// 6749 bodies out (`{error, error_description}`, never problem+json), and
// `Cache-Control: no-store` on every answer.
//
// The form parser is registered in this plugin only, so no other route accepts
// form bodies (a form is what a cross-site HTML page can send). The route
// authenticates by nothing and sets no cookies, so the cookie CSRF token does
// not apply; the Fetch Metadata and Origin checks still do, so a foreign page
// cannot make its visitors' browsers guess passwords or lock addresses here.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Config } from '../../config.ts'
import { PASSWORD_MAX_LENGTH } from '../../domain/accounts/passwords.ts'
import { logIn } from '../../domain/accounts/sign-in.ts'
import { rotateRefreshToken } from '../../domain/sessions/refresh-tokens.ts'
import { checkRequestOrigin, originPolicy } from '../../plugins/auth-csrf.ts'
import { toProblem } from '../../plugins/errors.ts'
import type { TokenIssuer } from '../../plugins/token-issuer.ts'
import { emailRateLimit, ipRateLimit } from './rate-limits.ts'

const FORM = 'application/x-www-form-urlencoded'
/** A token request is a few short fields; anything bigger is not one. */
const FORM_BODY_LIMIT = 8192

/**
 * The parameters RFC 6749 defines for these two grants, and no others.
 * Section 3.2 says unknown parameters MUST be ignored; we refuse them instead
 * (invalid_request), as every input here is closed: the stricter choice, and
 * Swagger UI and OAuth2 clients send none. client_id and client_secret are
 * accepted and ignored: Deskpilot's clients are public (section 2.1), so there
 * is no client to authenticate; an HTTP Basic header is ignored likewise.
 */
const TokenBody = Type.Object(
  {
    grant_type: Type.String({ maxLength: 64, examples: ['password'] }),
    username: Type.Optional(
      Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] }),
    ),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH })),
    refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    scope: Type.Optional(
      Type.String({ maxLength: 1000, description: 'no scopes are defined: empty or absent' }),
    ),
    client_id: Type.Optional(Type.String({ maxLength: 200 })),
    client_secret: Type.Optional(Type.String({ maxLength: 200 })),
  },
  {
    additionalProperties: false,
    examples: [
      { grant_type: 'password', username: 'ada@example.com', password: 'correct horse battery' },
    ],
  },
)

const TokenResponse = Type.Object(
  {
    access_token: Type.String({ examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9...'] }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'access token lifetime in seconds', examples: [900] }),
    refresh_token: Type.String({ examples: ['q8V0c4W6nH...'] }),
  },
  {
    additionalProperties: false,
    description: 'Signed in: the Bearer access token and the refresh token',
    examples: [
      {
        access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9...',
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: 'q8V0c4W6nH...',
      },
    ],
  },
)

const OAuthErrorCode = Type.Union(
  [
    Type.Literal('invalid_request'),
    Type.Literal('invalid_grant'),
    Type.Literal('invalid_scope'),
    Type.Literal('unsupported_grant_type'),
    Type.Literal('temporarily_unavailable'),
    Type.Literal('server_error'),
  ],
  { description: 'RFC 6749 section 5.2' },
)

const OAuthErrorBody = Type.Object(
  { error: OAuthErrorCode, error_description: Type.String() },
  {
    additionalProperties: false,
    description: 'An RFC 6749 error response (not problem+json)',
    examples: [
      { error: 'invalid_grant', error_description: 'The email or password is not correct.' },
    ],
  },
)

type ErrorCode = (typeof OAuthErrorCode)['anyOf'][number]['const']

class OAuthError extends Error {
  readonly status: 400 | 429 | 500
  readonly error: ErrorCode
  readonly headers: Record<string, string>
  constructor(status: 400 | 429 | 500, error: ErrorCode, description: string, headers = {}) {
    super(description)
    this.status = status
    this.error = error
    this.headers = headers
  }
}

const invalidRequest = (description: string) => new OAuthError(400, 'invalid_request', description)

/**
 * Every error of this route as an RFC 6749 body. The login's refusals keep
 * their meaning: a wrong password and an unknown user are one invalid_grant;
 * a lock is invalid_grant too (RFC 6749 has no "locked", and since unknown
 * addresses lock the same way, saying so tells nothing), with Retry-After; a
 * rate limit keeps its 429 and Retry-After as temporarily_unavailable.
 */
function asOAuthError(error: FastifyError | OAuthError): OAuthError {
  if (error instanceof OAuthError) return error
  const problem = toProblem(error as FastifyError)
  const headers = problem.headers?.['retry-after']
    ? { 'retry-after': problem.headers['retry-after'] }
    : {}
  switch (problem.code) {
    case 'invalid_credentials':
      return new OAuthError(400, 'invalid_grant', 'The username or password is not correct.')
    case 'account_locked':
      return new OAuthError(
        400,
        'invalid_grant',
        'Too many failed sign-ins for this address; try again later.',
        headers,
      )
    case 'rate_limited':
      return new OAuthError(429, 'temporarily_unavailable', problem.message, headers)
  }
  if (problem.statusCode >= 500) {
    return new OAuthError(500, 'server_error', 'An unexpected error occurred.')
  }
  return new OAuthError(400, 'invalid_request', problem.message)
}

const oauth2TokenRoutes: FastifyPluginAsyncTypebox<{
  config: Config
  issuer: TokenIssuer
}> = async (app, opts) => {
  const { config, issuer } = opts
  const policy = originPolicy(config)

  app.addContentTypeParser(
    FORM,
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      const fields: Record<string, string> = {}
      for (const [name, value] of new URLSearchParams(body as string)) {
        // RFC 6749 section 3.2: parameters MUST NOT be included more than once.
        if (Object.hasOwn(fields, name)) {
          done(invalidRequest(`The parameter ${name} is repeated.`), undefined)
          return
        }
        fields[name] = value
      }
      done(null, fields)
    },
  )

  async function formOnly(request: FastifyRequest, reply: FastifyReply) {
    // RFC 6749 section 5.1: token answers, errors included, are never cached.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    checkRequestOrigin(request, policy, false)
    const media = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (media !== FORM) {
      throw invalidRequest(`The request body must be ${FORM}.`)
    }
  }

  app.post(
    '/token',
    {
      config: { access: 'public', rateLimit: ipRateLimit(config) },
      onRequest: formOnly,
      preHandler: emailRateLimit(app, config, 'login', 'username'),
      errorHandler(error, request, reply) {
        const oauth = asOAuthError(error as FastifyError | OAuthError)
        if (oauth.status >= 500) request.log.error({ err: error }, 'token request failed')
        else request.log.info({ code: oauth.error, status: oauth.status }, oauth.message)
        return reply
          .code(oauth.status)
          .headers({ ...oauth.headers, 'cache-control': 'no-store', pragma: 'no-cache' })
          .type('application/json; charset=utf-8')
          .send({ error: oauth.error, error_description: oauth.message })
      },
      schema: {
        operationId: 'issueOAuth2Token',
        tags: ['auth'],
        summary: 'OAuth2 token endpoint: password and refresh_token grants (RFC 6749)',
        description:
          'A form body (`application/x-www-form-urlencoded`): ' +
          '`grant_type=password&username=<email>&password=...` or ' +
          '`grant_type=refresh_token&refresh_token=...`. The same lockout, rate limits and ' +
          'audit events as /v1/auth/login; errors are RFC 6749 bodies, a wrong password ' +
          '400 invalid_grant. A refresh token that was already rotated revokes its session.',
        security: [],
        consumes: [FORM],
        body: TokenBody,
        response: {
          200: TokenResponse,
          400: OAuthErrorBody,
          429: OAuthErrorBody,
          500: OAuthErrorBody,
        },
      },
    },
    async (request) => {
      const body = request.body
      if (body.scope !== undefined && body.scope.trim() !== '') {
        throw new OAuthError(400, 'invalid_scope', 'Deskpilot defines no scopes.')
      }
      if (body.grant_type === 'password') {
        if (body.username === undefined || body.password === undefined) {
          throw invalidRequest('The password grant needs username and password.')
        }
        if (body.refresh_token !== undefined) {
          throw invalidRequest('refresh_token is not a parameter of the password grant.')
        }
        const signedIn = await logIn(
          app.database,
          { email: body.username, password: body.password },
          {
            now: issuer.now(),
            client: issuer.client(request),
            policy: issuer.policy,
            onJobs: (jobs) => void app.jobs.dispatch(jobs),
          },
        )
        return tokenAnswer({ ...signedIn, userId: signedIn.user.id })
      }
      if (body.grant_type === 'refresh_token') {
        if (body.refresh_token === undefined) {
          throw invalidRequest('The refresh_token grant needs refresh_token.')
        }
        if (body.username !== undefined || body.password !== undefined) {
          throw invalidRequest('username and password are not parameters of this grant.')
        }
        const result = await rotateRefreshToken(
          app.database,
          body.refresh_token,
          issuer.rotation(),
          issuer.client(request),
        )
        if (result.kind === 'reused') {
          await app.forgetSessions([result.sessionId])
          throw new OAuthError(
            400,
            'invalid_grant',
            'This refresh token was already used; the session has been revoked.',
          )
        }
        if (result.kind === 'invalid') {
          throw new OAuthError(
            400,
            'invalid_grant',
            'The refresh token is not valid or has expired.',
          )
        }
        return tokenAnswer(result)
      }
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        'Only the password and refresh_token grants are supported.',
      )
    },
  )

  function tokenAnswer(session: Parameters<TokenIssuer['tokensFor']>[0]) {
    const tokens = issuer.tokensFor(session)
    return {
      access_token: tokens.accessToken,
      token_type: 'Bearer' as const,
      expires_in: tokens.expiresIn,
      refresh_token: tokens.refreshToken,
    }
  }
}

export default oauth2TokenRoutes
