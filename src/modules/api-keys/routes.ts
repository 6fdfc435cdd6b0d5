// API keys for machine clients: create (the secret is shown once), list, revoke.
// A key holds a subset of its creator's permissions and acts in this tenant
// only; it records the person behind the request that made it (a key made by
// a key records that key's creator), and acts with no more than that person
// holds at each request (plugins/tenant.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { createApiKey, listApiKeys, revokeApiKey } from '../../domain/api-keys/api-keys.ts'
import { ApiKey, apiKeyExample } from '../../domain/api-keys/schemas.ts'
import { requestActor } from '../../domain/audit/record.ts'
import { Page } from '../../lib/page.ts'
import { PermissionSchema } from '../../lib/permissions.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { personBehind } from '../../plugins/access.ts'

const CreatedApiKey = Type.Intersect(
  [
    Type.Ref('ApiKey'),
    Type.Object({
      key: Type.String({
        description: 'The full key. Shown only in this response: store it now.',
        examples: ['dp_k3j9x0a1b2c3_Qm9vdHN0cmFwIHRva2VuIGV4YW1wbGUgZm9yIGRvY3M'],
      }),
    }),
  ],
  {
    description: 'The key, with its secret (shown this once)',
    examples: [
      { ...apiKeyExample(), key: 'dp_k3j9x0a1b2c3_Qm9vdHN0cmFwIHRva2VuIGV4YW1wbGUgZm9yIGRvY3M' },
    ],
  },
)

const apiKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(ApiKey)

  app.post(
    '/api-keys',
    {
      config: { access: 'tenant', permission: 'api_keys:manage' },
      schema: {
        operationId: 'createApiKey',
        tags: ['api-keys'],
        summary: 'Create an API key (the secret is returned once)',
        description:
          'Needs api_keys:manage. The key may hold only permissions the caller holds and acts in ' +
          'this tenant only; send it as `Authorization: Bearer dp_...`. It acts for the person behind ' +
          "the request (a key's creator when a key makes it): at each request with no more " +
          'than that person holds then, and not at all once they are no longer an active member.',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            permissions: Type.Array(PermissionSchema, {
              minItems: 1,
              maxItems: 64,
              uniqueItems: true,
            }),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          {
            additionalProperties: false,
            examples: [
              { name: 'Zapier integration', permissions: ['tickets:read_all', 'tickets:write'] },
            ],
          },
        ),
        response: {
          201: CreatedApiKey,
          ...tenantRouteProblems,
          ...problemResponses({ 403: ['forbidden', 'permission_escalation', 'csrf_failed'] }),
        },
      },
    },
    async (request, reply) => {
      const caller = request.tenant!
      const created = await createApiKey(
        app.database,
        { tenantId: caller.id, permissions: caller.permissions },
        { ...request.body, createdBy: personBehind(request.auth) },
        requestActor(request),
      )
      return reply.code(201).send(created)
    },
  )

  app.get(
    '/api-keys',
    {
      config: { access: 'tenant', permission: 'api_keys:manage' },
      schema: {
        operationId: 'listApiKeys',
        tags: ['api-keys'],
        summary: 'Active API keys of the tenant (never their secrets)',
        description: 'Needs api_keys:manage. Revoked and expired keys are not listed.',
        response: {
          200: Page(ApiKey, { description: 'Every active key, in one page' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request) => {
      return { data: await listApiKeys(app.database, request.tenant!.id), nextCursor: null }
    },
  )

  app.delete(
    '/api-keys/:id',
    {
      config: { access: 'tenant', permission: 'api_keys:manage' },
      schema: {
        operationId: 'revokeApiKey',
        tags: ['api-keys'],
        summary: 'Revoke an API key; it stops working at once',
        description: 'Needs api_keys:manage. The revocation is audited.',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null({ description: 'Revoked' }), ...tenantRouteProblems },
      },
    },
    async (request, reply) => {
      await revokeApiKey(app.database, request.tenant!.id, request.params.id, requestActor(request))
      return reply.code(204).send(null)
    },
  )
}

export default apiKeyRoutes
