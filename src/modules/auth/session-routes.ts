// One's own sessions: list them, revoke one, revoke all but the current one.
// Another user's session id answers 404, the same as one that does not exist.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  listOwnSessions,
  revokeOtherSessions,
  revokeOwnSession,
} from '../../domain/sessions/sessions.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import type { TokenIssuer } from '../../plugins/token-issuer.ts'
import { NoContent, RevokedCount, SessionList, SessionListQuery, SessionParams } from './schemas.ts'

const TAGS = ['auth']
const errors = problemResponses({
  401: ['unauthorized', 'invalid_token'],
  403: ['user_required', 'csrf_failed'],
})

const sessionRoutes: FastifyPluginAsyncTypebox<{ issuer: TokenIssuer }> = async (app, opts) => {
  const { issuer } = opts

  app.get(
    '/sessions',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'listSessions',
        tags: TAGS,
        summary: "The caller's active sessions, newest first",
        description:
          'Every signed-in device or browser of the caller; `current` marks the one of this ' +
          'request. Revoke one you do not recognise.',
        querystring: SessionListQuery,
        response: {
          200: SessionList,
          400: problemResponse(400, ['validation_failed', 'invalid_cursor']),
          ...errors,
        },
      },
    },
    async (request) => {
      return listOwnSessions(
        app.database,
        {
          userId: request.auth?.userId as string,
          currentSessionId: request.auth?.sessionId ?? null,
          now: issuer.now(),
        },
        request.query,
      )
    },
  )

  app.delete(
    '/sessions/:id',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'revokeSession',
        tags: TAGS,
        summary: 'Revoke one of the caller’s sessions',
        description:
          'Its access and refresh tokens stop working at once, on every api copy. Another ' +
          "user's session answers 404, like one that does not exist.",
        params: SessionParams,
        response: {
          204: NoContent,
          404: problemResponse(404, ['not_found'], { not_found: 'The session was not found.' }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const revoked = await revokeOwnSession(app.database, {
        userId: request.auth?.userId as string,
        sessionId: request.params.id,
        now: issuer.now(),
        client: issuer.client(request),
      })
      await app.forgetSessions(revoked)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/sessions/revoke-others',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'revokeOtherSessions',
        tags: TAGS,
        summary: 'Revoke every session of the caller but the current one',
        description: 'Signs out every other device; this session stays signed in.',
        response: { 200: RevokedCount, ...errors },
      },
    },
    async (request) => {
      const revoked = await revokeOtherSessions(app.database, {
        userId: request.auth?.userId as string,
        currentSessionId: request.auth?.sessionId as string,
        now: issuer.now(),
        client: issuer.client(request),
      })
      await app.forgetSessions(revoked)
      return { revoked: revoked.length }
    },
  )
}

export default sessionRoutes
