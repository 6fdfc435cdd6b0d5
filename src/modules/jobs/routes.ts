// A background job's status, within the job's tenant only. Anyone who can
// cause jobs in the tenant (AI replies, invitations, ticket work) may read them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { readJob } from '../../domain/jobs/job-status.ts'
import { Job } from '../../domain/jobs/schemas.ts'
import { ref } from '../../lib/page.ts'
import type { Permission } from '../../lib/permissions.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'

const READERS: Permission[] = ['ai:use', 'members:manage', 'tickets:read_all']

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
    async (request) => readJob(app.database, request.tenant!.id, request.params.id),
  )
}

export default jobRoutes
