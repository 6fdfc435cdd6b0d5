// A background job's status, within the job's tenant only. Anyone who can
// cause jobs in the tenant (AI replies, invitations, ticket work) may read them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { and, eq } from 'drizzle-orm'
import { Type } from 'typebox'
import { jobs } from '../../db/schema/jobs.ts'
import { withScope } from '../../db/scoped.ts'
import { readStoredError } from '../../jobs/job-failure.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { ref } from '../../lib/page.ts'
import type { Permission } from '../../lib/permissions.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'

const READERS: Permission[] = ['ai:use', 'members:manage', 'tickets:read_all']

const Job = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.String({ examples: ['ai-reply'] }),
    state: Type.Union([
      Type.Literal('queued'),
      Type.Literal('running'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
    ]),
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: Type.Optional(
      Type.String({
        description: 'Why the last attempt failed, written for the tenant',
        examples: ['The AI provider could not be reached.'],
      }),
    ),
    errorCode: Type.Optional(
      Type.String({
        description:
          'A stable code for the failure when it has one: ai_provider_unreachable, ' +
          'ai_provider_rejected, ai_provider_error, ai_timeout',
        examples: ['ai_provider_unreachable'],
      }),
    ),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  {
    $id: 'Job',
    examples: [
      {
        id: EXAMPLE_IDS.job,
        type: 'ai-reply',
        state: 'succeeded',
        attempts: 1,
        maxAttempts: 5,
        result: { messageId: EXAMPLE_IDS.reply },
        createdAt: EXAMPLE_TIMES.ticket,
        startedAt: EXAMPLE_TIMES.ticket,
        finishedAt: EXAMPLE_TIMES.reply,
      },
    ],
  },
)

const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Job)

  app.get(
    '/jobs/:id',
    {
      // Not a 403: a caller who may not read jobs learns nothing about which exist.
      config: { access: 'tenant', permission: { anyOf: READERS, hideAs: 'job' } },
      schema: {
        operationId: 'getJob',
        tags: ['jobs'],
        summary: 'The state of a background job',
        description: `Needs one of: ${READERS.join(', ')}. Another tenant's job answers 404.`,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: {
          200: ref(Job, { description: 'The job' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request) => {
      const tenant = request.tenant!
      const [row] = await withScope(app.database, { tenantId: tenant.id }, (tx) =>
        tx
          .select()
          .from(jobs)
          .where(and(eq(jobs.tenantId, tenant.id), eq(jobs.id, request.params.id))),
      )
      if (!row) throw new NotFound('job')
      return {
        id: row.id,
        type: row.type,
        state: row.state,
        attempts: row.attempts,
        maxAttempts: row.maxAttempts,
        ...(row.result ? { result: row.result } : {}),
        ...(row.error ? presentError(row.error) : {}),
        createdAt: row.createdAt.toISOString(),
        startedAt: row.startedAt?.toISOString() ?? null,
        finishedAt: row.finishedAt?.toISOString() ?? null,
      }
    },
  )
}

function presentError(stored: string) {
  const { code, message } = readStoredError(stored)
  return { error: message, ...(code ? { errorCode: code } : {}) }
}

export default jobRoutes
