// The permission catalogue and the tenant's roles (built-in and custom).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { withTenant } from '../../db/tenant-transaction.ts'
import { recordAudit, requestActor } from '../../lib/audit.ts'
import {
  ALL_PERMISSIONS,
  assertHoldsAll,
  GRANT_REFUSAL,
  includedPermissions,
  PERMISSIONS,
  type Permission,
  PermissionSchema,
} from '../../lib/permissions.ts'
import { ProblemRef, routeProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'
import { createRole, deleteRole, getRole, listRoles, presentRole, updateRole } from './service.ts'

const PermissionName = PermissionSchema

const Role = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['Tier 2 agent'] }),
    description: Type.String(),
    permissions: Type.Array(PermissionName),
    builtin: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Role' },
)

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
        response: {
          200: Type.Object({
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
          }),
          401: ProblemRef,
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
        response: {
          200: Type.Object({ data: Type.Array(Role), nextCursor: Type.Null() }),
          ...routeProblems,
        },
      },
    },
    async (request) => {
      const tenantId = request.tenant!.id
      const rows = await withTenant(app.db, tenantId, (tx) => listRoles(tx, tenantId))
      return { data: rows.map(presentRole), nextCursor: null }
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
          { additionalProperties: false },
        ),
        response: { 201: Role, 409: ProblemRef, ...routeProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant!
      assertHoldsAll(tenant.permissions, request.body.permissions, GRANT_REFUSAL)
      const role = await withTenant(app.db, tenant.id, async (tx) => {
        const row = await createRole(tx, tenant.id, request.body)
        await recordAudit(tx, {
          tenantId: tenant.id,
          action: 'role.created',
          targetType: 'role',
          targetId: row.id,
          data: { name: row.name, permissions: row.permissions },
          ...requestActor(request),
        })
        return row
      })
      return reply.code(201).send(presentRole(role))
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
          'The caller must hold every permission the role holds now and every one it is given.',
        params: RoleParams,
        body: Type.Object(
          {
            name: Type.Optional(RoleName),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            permissions: Type.Optional(
              Type.Array(PermissionName, { maxItems: 64, uniqueItems: true }),
            ),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Role, 409: ProblemRef, ...routeProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant!
      if (request.body.permissions)
        assertHoldsAll(tenant.permissions, request.body.permissions, GRANT_REFUSAL)
      const role = await withTenant(app.db, tenant.id, async (tx) => {
        const current = await getRole(tx, tenant.id, request.params.id)
        if (!current) throw new NotFound('role')
        // Editing a role changes what its members hold, so it needs what
        // managing those members needs: every permission the role has now.
        assertHoldsAll(tenant.permissions, current.permissions, {
          code: 'role_outranks_you',
          detail: (missing) =>
            `You can only change roles that hold no permission you lack; this role also holds: ${missing}.`,
        })
        const row = await updateRole(tx, tenant.id, current, request.body)
        await recordAudit(tx, {
          tenantId: tenant.id,
          action: 'role.updated',
          targetType: 'role',
          targetId: row.id,
          data: { before: current.permissions, after: row.permissions, name: row.name },
          ...requestActor(request),
        })
        return row
      })
      // Every member holding the role sees the change on their next request.
      await app.tenantCaches.memberships.invalidate(`${tenant.id}:`)
      return presentRole(role)
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
        params: RoleParams,
        response: { 204: Type.Null(), 409: ProblemRef, ...routeProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant!
      await withTenant(app.db, tenant.id, async (tx) => {
        const role = await deleteRole(tx, tenant.id, request.params.id)
        await recordAudit(tx, {
          tenantId: tenant.id,
          action: 'role.deleted',
          targetType: 'role',
          targetId: role.id,
          data: { name: role.name },
          ...requestActor(request),
        })
      })
      return reply.code(204).send(null)
    },
  )
}

export type { Permission }
export default roleRoutes
