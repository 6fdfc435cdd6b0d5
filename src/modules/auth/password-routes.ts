// Forgotten passwords, email verification and account unlock. forgot always answers 202 after
// at least FORGOT_FLOOR_MS, whether or not the email exists, so neither the
// answer nor its time tells; the reset email is an outbox job. The tokens are
// minted by the email job and stored as hashes in user_tokens; here they are
// looked up by hash, used once, and refused after they expire. The unlock link
// is mailed when an account locks (domain/accounts/lockout.ts); a reset also
// unlocks.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config.ts'
import {
  requestPasswordReset,
  resetPassword,
  unlockAccount,
  verifyEmail,
} from '../../domain/accounts/mailed-tokens.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import type { TokenIssuer } from '../../plugins/token-issuer.ts'
import { emailRateLimit, ipRateLimit } from './rate-limits.ts'
import { Accepted, ForgotBody, NoContent, ResetBody, UnlockBody, VerifyBody } from './schemas.ts'

const TAGS = ['auth']
/** What spending a mailed single-use token answers (verify, unlock). */
const UsedToken = {
  204: NoContent,
  ...problemResponses({
    400: ['validation_failed', 'invalid_or_expired_token'],
    429: ['rate_limited'],
  }),
}
/** Longer than the work takes either way, so both answers leave at the same time. */
const FORGOT_FLOOR_MS = 150

const passwordRoutes: FastifyPluginAsyncTypebox<{ config: Config; issuer: TokenIssuer }> = async (
  app,
  opts,
) => {
  const { config, issuer } = opts
  const authLimit = ipRateLimit(config)

  app.post(
    '/password/forgot',
    {
      config: { access: 'public', rateLimit: authLimit },
      preHandler: emailRateLimit(app, config, 'forgot'),
      schema: {
        operationId: 'forgotPassword',
        tags: TAGS,
        summary: 'Email a password reset link (always 202)',
        description:
          'Answers 202 after the same time whether or not the address has an account, so ' +
          'neither the answer nor its timing tells. The link holds a single-use token.',
        body: ForgotBody,
        response: {
          202: Accepted,
          ...problemResponses({ 400: ['validation_failed'], 429: ['rate_limited'] }),
        },
      },
    },
    async (request, reply) => {
      const started = performance.now()
      const jobs = await requestPasswordReset(app.database, request.body.email)
      await app.jobs.dispatch(jobs)
      const wait = FORGOT_FLOOR_MS - (performance.now() - started)
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      reply.code(202)
      return { status: 'accepted' as const }
    },
  )

  app.post(
    '/password/reset',
    {
      config: { access: 'public', rateLimit: authLimit },
      schema: {
        operationId: 'resetPassword',
        tags: TAGS,
        summary: 'Set a new password with a reset token; revokes every session, lifts a lock',
        description:
          'The token comes from the reset email; it works once and expires. Every session ' +
          'of the user ends, so sign in again with the new password. A sign-in lock on the ' +
          'address is lifted.',
        body: ResetBody,
        response: {
          204: NoContent,
          ...problemResponses({
            400: ['validation_failed', 'invalid_or_expired_token', 'weak_password'],
            429: ['rate_limited'],
          }),
        },
      },
    },
    async (request, reply) => {
      const revoked = await resetPassword(app.database, request.body, {
        now: issuer.now(),
        client: issuer.client(request),
        policy: issuer.policy,
      })
      await app.forgetSessions(revoked)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/email/verify',
    {
      config: { access: 'public', rateLimit: authLimit },
      schema: {
        operationId: 'verifyEmail',
        tags: TAGS,
        summary: 'Confirm the email address with the mailed token',
        description: 'The token comes from the verification email sent at signup; it works once.',
        body: VerifyBody,
        response: UsedToken,
      },
    },
    async (request, reply) => {
      await verifyEmail(app.database, request.body.token, {
        now: issuer.now(),
        client: issuer.client(request),
      })
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/unlock',
    {
      config: { access: 'public', rateLimit: authLimit },
      schema: {
        operationId: 'unlockAccount',
        tags: TAGS,
        summary: 'Lift a sign-in lock with the token mailed when the account locked',
        description:
          'The token is single-use and lives as long as the lock (LOGIN_LOCK_MINUTES). ' +
          'It also forgets the failed attempts counted so far.',
        body: UnlockBody,
        response: UsedToken,
      },
    },
    async (request, reply) => {
      await unlockAccount(app.database, request.body.token, {
        now: issuer.now(),
        client: issuer.client(request),
      })
      return reply.code(204).send(null)
    },
  )
}

export default passwordRoutes
