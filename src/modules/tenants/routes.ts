// Tenants: create one (the caller becomes its owner), list the caller's,
// check a slug, and read, change or delete the current tenant.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { withScope } from '../../db/scoped.ts'
import { recordAudit, requestActor } from '../../domain/audit/record.ts'
import { listUserMemberships } from '../../domain/members/memberships.ts'
import { Page, ref } from '../../lib/page.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems, userRouteProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'
import { assertTenantNameAllowed } from '../../lib/tenant-names.ts'
import { createTenantWithOwner } from '../../lib/tenant-provisioning.ts'
import { CreateTenantBody, Tenant, TenantMembership, UpdateTenantBody } from './schemas.ts'
import {
  getTenant,
  markTenantDeleted,
  presentTenant,
  slugAvailability,
  updateTenant,
} from './service.ts'

const tenantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Tenant)

  app.post(
    '/tenants',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'createTenant',
        tags: ['tenants'],
        summary: 'Create a tenant; the caller becomes its owner',
        description:
          'The slug is lowercase letters, digits and dashes, 3 to 40, unique and not reserved ' +
          '(check it with /v1/tenants/slug-availability). Name the new tenant in X-Tenant-ID ' +
          'by its id or slug from then on.',
        body: CreateTenantBody,
        response: {
          201: ref(Tenant, { description: 'The new tenant' }),
          ...userRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'invalid_slug'],
            409: ['slug_taken'],
            422: ['tenant_name_not_allowed'],
          }),
        },
      },
    },
    async (request, reply) => {
      const userId = request.auth!.userId!
      const tenant = await withScope(app.database, {}, async (tx) => {
        const created = await createTenantWithOwner(tx, { ...request.body, ownerUserId: userId })
        await recordAudit(tx, {
          tenantId: created.tenant.id,
          action: 'tenant.created',
          targetType: 'tenant',
          targetId: created.tenant.id,
          ...requestActor(request),
        })
        return created.tenant
      })
      await app.tenantCaches.tenants.invalidate(tenant.slug)
      reply.code(201).header('location', '/v1/tenant')
      return presentTenant(tenant)
    },
  )

  app.get(
    '/tenants',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'listMyTenants',
        tags: ['tenants'],
        summary: "The caller's tenants, with the caller's role in each",
        description: 'Every tenant the caller is an active member of, in one page.',
        response: {
          200: Page(TenantMembership, { description: "The caller's tenants" }),
          ...userRouteProblems,
        },
      },
    },
    async (request) => {
      const rows = await listUserMemberships(app.database, request.auth!.userId!)
      return {
        data: rows.map((r) => ({
          id: r.tenantId,
          name: r.tenantName,
          slug: r.slug,
          role: { id: r.roleId, name: r.roleName },
        })),
        nextCursor: null,
      }
    },
  )

  app.get(
    '/tenants/slug-availability',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'checkSlugAvailability',
        tags: ['tenants'],
        summary: 'Whether a slug can be taken by a new tenant',
        description:
          'Needs no sign-in. `reason` says why a slug is not available: taken, reserved ' +
          '(www, api, admin, ...) or invalid.',
        querystring: Type.Object(
          { slug: Type.String({ minLength: 1, maxLength: 64 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              slug: Type.String(),
              available: Type.Boolean(),
              reason: Type.Optional(
                Type.Union([
                  Type.Literal('taken'),
                  Type.Literal('reserved'),
                  Type.Literal('invalid'),
                ]),
              ),
            },
            {
              description: 'Whether the slug is free',
              examples: [{ slug: 'globex', available: true }],
            },
          ),
          400: problemResponse(400, ['validation_failed']),
        },
      },
    },
    async (request) => slugAvailability(app.db, request.query.slug),
  )

  app.get(
    '/tenant',
    {
      config: { access: 'tenant' },
      schema: {
        operationId: 'getCurrentTenant',
        tags: ['tenants'],
        summary: 'The current tenant and its settings',
        description: 'The tenant named by X-Tenant-ID (or the subdomain), as any member sees it.',
        response: { 200: ref(Tenant, { description: 'The tenant' }), ...tenantRouteProblems },
      },
    },
    async (request) => {
      const tenantId = request.tenant!.id
      const row = await withScope(app.database, { tenantId }, (tx) => getTenant(tx, tenantId))
      if (!row) throw new NotFound('tenant')
      return presentTenant(row)
    },
  )

  app.patch(
    '/tenant',
    {
      config: { access: 'tenant', permission: 'tenant:manage' },
      schema: {
        operationId: 'updateCurrentTenant',
        tags: ['tenants'],
        summary: 'Change the name or settings of the current tenant',
        description:
          'Needs tenant:manage. `settings` changes only the keys it names: ' +
          '`{"settings": {"aiReplyMode": "auto"}}` turns AI replies on and leaves the rest.',
        body: UpdateTenantBody,
        response: {
          200: ref(Tenant, { description: 'The changed tenant' }),
          ...tenantRouteProblems,
          ...problemResponses({ 422: ['tenant_name_not_allowed'] }),
        },
      },
    },
    async (request) => {
      const tenantId = request.tenant!.id
      if (request.body.name !== undefined) assertTenantNameAllowed(request.body.name, 'body/name')
      const result = await withScope(app.database, { tenantId }, async (tx) => {
        const updated = await updateTenant(tx, tenantId, request.body)
        if (!updated) return null
        await recordAudit(tx, {
          tenantId,
          action: 'tenant.updated',
          targetType: 'tenant',
          targetId: tenantId,
          data: { changes: request.body },
          ...requestActor(request),
        })
        return updated.after
      })
      if (!result) throw new NotFound('tenant')
      await app.tenantCaches.tenants.invalidate(result.id)
      await app.tenantCaches.tenants.invalidate(result.slug)
      return presentTenant(result)
    },
  )

  app.delete(
    '/tenant',
    {
      config: { access: 'tenant', permission: { anyOf: ['tenant:manage'], owner: true } },
      schema: {
        operationId: 'deleteCurrentTenant',
        tags: ['tenants'],
        summary: 'Delete the current tenant (owners only)',
        description:
          'Marks the tenant deleted: it is gone from every route at once, its slug stays taken, ' +
          'and its data is kept until purged.',
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...tenantRouteProblems,
          ...problemResponses({ 403: ['forbidden', 'owner_required', 'csrf_failed'] }),
        },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant!
      const deleted = await withScope(app.database, { tenantId: tenant.id }, async (tx) => {
        const row = await markTenantDeleted(tx, tenant.id)
        if (row) {
          await recordAudit(tx, {
            tenantId: tenant.id,
            action: 'tenant.deleted',
            targetType: 'tenant',
            targetId: tenant.id,
            ...requestActor(request),
          })
        }
        return row
      })
      if (!deleted) throw new NotFound('tenant')
      await app.tenantCaches.tenants.invalidate(deleted.id)
      await app.tenantCaches.tenants.invalidate(deleted.slug)
      return reply.code(204).send(null)
    },
  )
}

export default tenantRoutes
