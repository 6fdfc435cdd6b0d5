// API keys for machine clients: create (the secret is shown once), list, revoke.
// A key holds a subset of its creator's permissions and acts in this tenant
// only; it records the person behind the request that made it (a key made by
// a key records that key's creator), and acts with no more than that person
// holds at each request (plugins/tenant.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { withScope } from '../../db/scoped.ts'
import {
  assertKeyWithinCaller,
  createApiKey,
  listApiKeys,
  presentApiKey,
  revokeApiKey,
} from '../../domain/api-keys/api-keys.ts'
import { recordAudit, requestActor } from '../../domain/audit/record.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { Page } from '../../lib/page.ts'
import { PermissionSchema } from '../../lib/permissions.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { BadRequest, NotFound } from '../../lib/problems.ts'
import { personBehind } from '../../plugins/access.ts'

const ApiKey = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['Zapier integration'] }),
    prefix: Type.String({
      description: 'The public part of the key',
      examples: ['dp_k3j9x0a1b2c3'],
    }),
    permissions: Type.Array(PermissionSchema),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdBy: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'ApiKey', examples: [apiKeyExample()] },
)

function apiKeyExample() {
  return {
    id: EXAMPLE_IDS.apiKey,
    name: 'Zapier integration',
    prefix: 'dp_k3j9x0a1b2c3',
    permissions: ['tickets:read_all', 'tickets:write'],
    expiresAt: null,
    lastUsedAt: null,
    createdBy: EXAMPLE_IDS.user,
    createdAt: EXAMPLE_TIMES.reply,
  }
}

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
      assertKeyWithinCaller(caller.permissions, request.body.permissions)
      if (request.body.expiresAt && Date.parse(request.body.expiresAt) <= Date.now()) {
        throw new BadRequest('validation_failed', 'expiresAt must be in the future.', [
          { path: 'body/expiresAt', message: 'must be in the future' },
        ])
      }
      const created = await withScope(app.database, { tenantId: caller.id }, async (tx) => {
        const result = await createApiKey(tx, caller.id, {
          ...request.body,
          createdBy: personBehind(request.auth),
        })
        await recordAudit(tx, {
          tenantId: caller.id,
          action: 'api_key.created',
          targetType: 'api_key',
          targetId: result.row.id,
          data: { name: result.row.name, permissions: result.row.permissions },
          ...requestActor(request),
        })
        return result
      })
      return reply.code(201).send({ ...presentApiKey(created.row), key: created.key })
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
      const tenantId = request.tenant!.id
      const rows = await withScope(app.database, { tenantId }, (tx) => listApiKeys(tx, tenantId))
      return { data: rows.map(presentApiKey), nextCursor: null }
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
      const tenantId = request.tenant!.id
      await withScope(app.database, { tenantId }, async (tx) => {
        const row = await revokeApiKey(tx, tenantId, request.params.id)
        if (!row) throw new NotFound('API key')
        await recordAudit(tx, {
          tenantId,
          action: 'api_key.revoked',
          targetType: 'api_key',
          targetId: row.id,
          data: { name: row.name },
          ...requestActor(request),
        })
      })
      return reply.code(204).send(null)
    },
  )
}

export default apiKeyRoutes
