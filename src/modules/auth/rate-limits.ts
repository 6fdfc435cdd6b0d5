// Rate limits of the auth routes, in Redis so every api copy shares the count
// (in memory in local mode): AUTH_RATE_LIMIT_MAX a minute per IP on each auth
// route (route config of @fastify/rate-limit), and as many per email on login
// and forgot-password, so spraying one account from many addresses is slowed too.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../../config.ts'
import { normaliseEmail } from '../../lib/passwords.ts'
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
export function emailRateLimit(app: FastifyInstance, config: Config, name: string) {
  const limiter = app.createRateLimit({
    max: config.AUTH_RATE_LIMIT_MAX,
    timeWindow: MINUTE,
    keyGenerator: (request: FastifyRequest) => {
      const email = (request.body as { email?: unknown } | undefined)?.email
      return `auth-email:${name}:${hashToken(normaliseEmail(String(email ?? '')))}`
    },
  })
  return async function emailLimit(request: FastifyRequest) {
    const result = await limiter(request)
    if (!result.isAllowed && result.isExceeded) {
      throw new TooManyRequests(Math.max(1, result.ttlInSeconds))
    }
  }
}
