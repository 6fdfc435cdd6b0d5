// Tenants: create one (the caller becomes its owner), list the caller's,
// check a slug, and read, change or delete the current tenant.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requestActor } from '../../domain/audit/record.ts'
import { Tenant, TenantMembership } from '../../domain/tenants/schemas.ts'
import {
  changeTenant,
  createTenant,
  deleteTenant,
  listMyTenants,
  readTenant,
  slugAvailability,
} from '../../domain/tenants/tenants.ts'
import { Page, ref } from '../../lib/page.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems, userRouteProblems } from '../../lib/problem-schema.ts'
import { CreateTenantBody, SlugAvailability, SlugQuery, UpdateTenantBody } from './schemas.ts'

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
      const tenant = await createTenant(
        app.database,
        request.body,
        request.auth!.userId!,
        requestActor(request),
      )
      await app.tenantCaches.tenants.invalidate(tenant.slug)
      reply.code(201).header('location', '/v1/tenant')
      return tenant
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
    async (request) => listMyTenants(app.database, request.auth!.userId!),
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
        querystring: SlugQuery,
        response: {
          200: SlugAvailability,
          400: problemResponse(400, ['validation_failed']),
        },
      },
    },
    async (request) => slugAvailability(app.database, request.query.slug),
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
    async (request) => readTenant(app.database, request.tenant!.id),
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
      const tenant = await changeTenant(
        app.database,
        request.tenant!.id,
        request.body,
        requestActor(request),
      )
      await app.tenantCaches.tenants.invalidate(tenant.id)
      await app.tenantCaches.tenants.invalidate(tenant.slug)
      return tenant
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
      const deleted = await deleteTenant(app.database, request.tenant!.id, requestActor(request))
      await app.tenantCaches.tenants.invalidate(deleted.id)
      await app.tenantCaches.tenants.invalidate(deleted.slug)
      return reply.code(204).send(null)
    },
  )
}

export default tenantRoutes
