// The permission catalogue and the tenant's roles (built-in and custom).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requestActor } from '../../domain/audit/record.ts'
import { createRole, deleteRole, listRoles, updateRole } from '../../domain/roles/roles.ts'
import { Role } from '../../domain/roles/schemas.ts'
import { Page, ref } from '../../lib/page.ts'
import {
  ALL_PERMISSIONS,
  includedPermissions,
  PERMISSIONS,
  PermissionSchema,
} from '../../lib/permissions.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems, userRouteProblems } from '../../lib/problem-schema.ts'
import { membershipCacheKey } from '../../plugins/tenant.ts'

const PermissionName = PermissionSchema

const RoleRef = ref(Role)

const RoleName = Type.String({ minLength: 1, maxLength: 60, pattern: '\\S' })
const RoleParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

const roleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Role)

  app.get(
    '/permissions',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'listPermissions',
        tags: ['members'],
        summary: 'The permission catalogue',
        description:
          'Every permission a role or an API key can hold, with what it allows; a larger ' +
          'one (tickets:read_all) includes the smaller (tickets:read).',
        response: {
          200: Type.Object(
            {
              data: Type.Array(
                Type.Object({
                  name: PermissionName,
                  description: Type.String(),
                  includes: Type.Array(PermissionName, {
                    description:
                      'Permissions that holding this one grants too, on routes and when granting',
                  }),
                }),
              ),
            },
            {
              description: 'The whole catalogue, in one answer',
              examples: [
                {
                  data: [
                    {
                      name: 'tickets:read',
                      description: 'Read the tickets you requested',
                      includes: [],
                    },
                    {
                      name: 'tickets:read_all',
                      description: 'Read every ticket of the tenant',
                      includes: ['tickets:read'],
                    },
                  ],
                },
              ],
            },
          ),
          ...userRouteProblems,
        },
      },
    },
    async () => ({
      data: ALL_PERMISSIONS.map((name) => ({
        name,
        description: PERMISSIONS[name],
        includes: [...includedPermissions(name)],
      })),
    }),
  )

  app.get(
    '/roles',
    {
      config: { access: 'tenant', permission: 'members:read' },
      schema: {
        operationId: 'listRoles',
        tags: ['members'],
        summary: 'Built-in and custom roles of the tenant',
        description:
          'Needs members:read. owner, admin, agent and customer are built in and read-only; ' +
          'their ids are what invitations and member changes take as roleId.',
        response: {
          200: Page(RoleRef, { description: 'Every role of the tenant, in one page' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request) => {
      return { data: await listRoles(app.database, request.tenant!.id), nextCursor: null }
    },
  )

  app.post(
    '/roles',
    {
      config: { access: 'tenant', permission: 'roles:manage' },
      schema: {
        operationId: 'createRole',
        tags: ['members'],
        summary: 'Create a custom role',
        description: 'A role can only hold permissions that the caller holds.',
        body: Type.Object(
          {
            name: RoleName,
            description: Type.Optional(Type.String({ maxLength: 500 })),
            permissions: Type.Array(PermissionName, { maxItems: 64, uniqueItems: true }),
          },
          {
            additionalProperties: false,
            examples: [
              {
                name: 'Tier 2 agent',
                description: 'Agents who also assign tickets',
                permissions: ['tickets:read_all', 'tickets:write', 'tickets:assign'],
              },
            ],
          },
        ),
        response: {
          201: ref(Role, { description: 'The new role' }),
          ...tenantRouteProblems,
          ...problemResponses({
            403: ['forbidden', 'permission_escalation', 'csrf_failed'],
            409: ['role_name_taken'],
          }),
        },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant!
      const role = await createRole(
        app.database,
        { tenantId: tenant.id, permissions: tenant.permissions },
        request.body,
        requestActor(request),
      )
      return reply.code(201).send(role)
    },
  )

  app.patch(
    '/roles/:id',
    {
      config: { access: 'tenant', permission: 'roles:manage' },
      schema: {
        operationId: 'updateRole',
        tags: ['members'],
        summary: 'Change a custom role (built-in roles are read-only)',
        description:
          'Needs roles:manage, every permission the role holds now and every one it is ' +
          'given. Members holding the role get the new permissions on their next request.',
        params: RoleParams,
        body: Type.Object(
          {
            name: Type.Optional(RoleName),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            permissions: Type.Optional(
              Type.Array(PermissionName, { maxItems: 64, uniqueItems: true }),
            ),
          },
          {
            additionalProperties: false,
            minProperties: 1,
            examples: [{ permissions: ['tickets:read_all', 'tickets:write', 'kb:write'] }],
          },
        ),
        response: {
          200: ref(Role, { description: 'The changed role' }),
          ...tenantRouteProblems,
          ...problemResponses({
            403: ['forbidden', 'permission_escalation', 'role_outranks_you', 'csrf_failed'],
            409: ['builtin_role', 'role_name_taken'],
          }),
        },
      },
    },
    async (request) => {
      const tenant = request.tenant!
      const role = await updateRole(
        app.database,
        { tenantId: tenant.id, permissions: tenant.permissions },
        request.params.id,
        request.body,
        requestActor(request),
      )
      // Every member holding the role sees the change on their next request.
      await app.tenantCaches.memberships.invalidate(membershipCacheKey(tenant.id))
      return role
    },
  )

  app.delete(
    '/roles/:id',
    {
      config: { access: 'tenant', permission: 'roles:manage' },
      schema: {
        operationId: 'deleteRole',
        tags: ['members'],
        summary: 'Delete a custom role that nobody holds',
        description:
          'Needs roles:manage. A role still held by a member or named by a pending ' +
          'invitation answers 409 role_in_use; built-in roles answer 409 builtin_role.',
        params: RoleParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...tenantRouteProblems,
          ...problemResponses({ 409: ['role_in_use', 'builtin_role'] }),
        },
      },
    },
    async (request, reply) => {
      await deleteRole(app.database, request.tenant!.id, request.params.id, requestActor(request))
      return reply.code(204).send(null)
    },
  )
}

export default roleRoutes
