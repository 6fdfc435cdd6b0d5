// Rate limits of the auth routes, in Redis so every api copy shares the count
// (in memory in local mode): AUTH_RATE_LIMIT_MAX a minute per IP on each auth
// route (route config of @fastify/rate-limit), and as many per email on login
// and forgot-password, so spraying one account from many addresses is slowed too.
// The OAuth2 token endpoint's password grant counts in the login bucket (its
// email is the `username` field), so the two sign-in doors share one limit.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../../config.ts'
import { normaliseEmail } from '../../domain/accounts/passwords.ts'
import { TooManyRequests } from '../../lib/problems.ts'
import { hashToken } from '../../lib/tokens.ts'

const MINUTE = 60_000

/** For a route's `config.rateLimit`. */
export function ipRateLimit(config: Config) {
  return { max: config.AUTH_RATE_LIMIT_MAX, timeWindow: MINUTE }
}

/**
 * A per-email limiter (a preHandler: the body is parsed by then). It uses
 * createRateLimit, not rateLimit: the latter skips a request that the per-IP
 * route limit has already counted.
 */
export function emailRateLimit(
  app: FastifyInstance,
  config: Config,
  name: string,
  field: 'email' | 'username' = 'email',
) {
  const emailOf = (request: FastifyRequest) => {
    const value = (request.body as Record<string, unknown> | undefined)?.[field]
    return typeof value === 'string' ? value : undefined
  }
  const limiter = app.createRateLimit({
    max: config.AUTH_RATE_LIMIT_MAX,
    timeWindow: MINUTE,
    keyGenerator: (request: FastifyRequest) =>
      `auth-email:${name}:${hashToken(normaliseEmail(emailOf(request) ?? ''))}`,
  })
  return async function emailLimit(request: FastifyRequest) {
    // No address (a refresh grant): nothing to count per email.
    if (emailOf(request) === undefined) return
    const result = await limiter(request)
    if (!result.isAllowed && result.isExceeded) {
      throw new TooManyRequests(Math.max(1, result.ttlInSeconds))
    }
  }
}
