// One's own sessions: list them, revoke one, revoke all but the current one.
// Another user's session id answers 404, the same as one that does not exist.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { recordAudit } from '../../domain/audit/record.ts'
import { listSessions, revokeSessions } from '../../domain/sessions/sessions.ts'
import { CursorId, decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import { NotFound } from '../../lib/problems.ts'
import { NoContent, RevokedCount, SessionList, SessionListQuery, SessionParams } from './schemas.ts'
import type { TokenIssuer } from './token-issuer.ts'

const TAGS = ['auth']
const errors = problemResponses({
  401: ['unauthorized', 'invalid_token'],
  403: ['user_required', 'csrf_failed'],
})
/** Sessions are paged by id (uuidv7, so newest first is id order). */
const SessionCursor = Type.Tuple([CursorId])

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
      const { limit, cursor } = request.query
      const rows = await listSessions(app.db, {
        userId: request.auth?.userId as string,
        now: issuer.now(),
        limit: limit + 1,
        before: decodeCursor(cursor, SessionCursor)?.[0],
      })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        data: page.map((s) => ({
          id: s.id,
          createdAt: s.createdAt.toISOString(),
          lastUsedAt: s.lastUsedAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
          userAgent: s.userAgent,
          ip: s.ip,
          current: s.id === request.auth?.sessionId,
        })),
        nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null,
      }
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
      const userId = request.auth?.userId as string
      const revoked = await app.db.transaction(async (tx) => {
        const ids = await revokeSessions(tx, {
          userId,
          now: issuer.now(),
          reason: 'revoked',
          only: request.params.id,
        })
        if (ids.length === 0) throw new NotFound('session')
        await recordAudit(tx, {
          tenantId: null,
          action: 'auth.session_revoked',
          actorUserId: userId,
          targetType: 'session',
          targetId: request.params.id,
          ...issuer.client(request),
        })
        return ids
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
      const userId = request.auth?.userId as string
      const revoked = await app.db.transaction(async (tx) => {
        const ids = await revokeSessions(tx, {
          userId,
          now: issuer.now(),
          reason: 'revoked',
          except: request.auth?.sessionId as string,
        })
        if (ids.length > 0) {
          await recordAudit(tx, {
            tenantId: null,
            action: 'auth.sessions_revoked',
            actorUserId: userId,
            targetType: 'user',
            targetId: userId,
            ...issuer.client(request),
            data: { sessionIds: ids },
          })
        }
        return ids
      })
      await app.forgetSessions(revoked)
      return { revoked: revoked.length }
    },
  )
}

export default sessionRoutes
