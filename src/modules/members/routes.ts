// Members of the current tenant: list and search, read one, change role or
// deactivate, remove (or leave). Invitations live in invitation-routes.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { requestActor } from '../../domain/audit/record.ts'
import {
  type Caller,
  listMembers,
  readMember,
  removeMember,
  updateMember,
} from '../../domain/members/members.ts'
import { Member } from '../../domain/members/schemas.ts'
import { Page, ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { membershipCacheKey } from '../../plugins/tenant.ts'
import { ListMembersQuery, MemberParams, UpdateMemberBody } from './schemas.ts'

/** The caller of a member route: their standing in the request's tenant. */
function callerOf(request: FastifyRequest): Caller {
  const tenant = request.tenant!
  return {
    tenantId: tenant.id,
    roleName: tenant.roleName,
    permissions: tenant.permissions,
    userId: request.auth?.userId ?? null,
  }
}

const memberRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Member)

  app.get(
    '/members',
    {
      config: { access: 'tenant', permission: 'members:read' },
      schema: {
        operationId: 'listMembers',
        tags: ['members'],
        summary: 'Members of the tenant, oldest first',
        description:
          'Needs members:read. `q` searches names and emails; deactivated members are listed too.',
        querystring: ListMembersQuery,
        response: {
          200: Page(Member, { description: 'A page of members' }),
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) => {
      return listMembers(app.database, request.tenant!.id, request.query)
    },
  )

  app.get(
    '/members/:userId',
    {
      config: { access: 'tenant', permission: 'members:read' },
      schema: {
        operationId: 'getMember',
        tags: ['members'],
        summary: 'One member',
        description: 'Needs members:read. A user who is not a member of this tenant answers 404.',
        params: MemberParams,
        response: { 200: ref(Member, { description: 'The member' }), ...tenantRouteProblems },
      },
    },
    async (request) => {
      return readMember(app.database, request.tenant!.id, request.params.userId)
    },
  )

  app.patch(
    '/members/:userId',
    {
      config: { access: 'tenant', permission: 'members:manage' },
      schema: {
        operationId: 'updateMember',
        tags: ['members'],
        summary: "Change a member's role or deactivate them",
        description:
          "The member's current role and the new role may only hold permissions the caller " +
          'holds (403 `member_outranks_you`, `permission_escalation`); only owners make or ' +
          'unmake owners; the last active owner cannot be demoted or deactivated (409).',
        params: MemberParams,
        body: UpdateMemberBody,
        response: {
          200: ref(Member, { description: 'The changed member' }),
          ...tenantRouteProblems,
          ...problemResponses({
            403: [
              'forbidden',
              'member_outranks_you',
              'permission_escalation',
              'owner_required',
              'cannot_change_own_role',
              'csrf_failed',
            ],
            409: ['last_owner'],
          }),
        },
      },
    },
    async (request) => {
      const caller = callerOf(request)
      const { userId } = request.params
      const member = await updateMember(
        app.database,
        caller,
        userId,
        request.body,
        requestActor(request),
      )
      await app.tenantCaches.memberships.invalidate(membershipCacheKey(caller.tenantId, userId))
      return member
    },
  )

  app.delete(
    '/members/:userId',
    {
      // Anyone may leave: members:manage is for removing others.
      config: {
        access: 'tenant',
        permission: { anyOf: ['members:manage'], unlessSelf: 'userId' },
      },
      schema: {
        operationId: 'removeMember',
        tags: ['members'],
        summary: 'Remove a member, or leave the tenant (your own user id)',
        description:
          'Removing others needs members:manage and every permission of their role (owners ' +
          'only for an owner); anyone may leave, except the last owner (409).',
        params: MemberParams,
        response: {
          204: Type.Null({ description: 'Removed' }),
          ...tenantRouteProblems,
          ...problemResponses({
            403: ['forbidden', 'member_outranks_you', 'owner_required', 'csrf_failed'],
            409: ['last_owner'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { userId } = request.params
      await removeMember(app.database, caller, userId, requestActor(request))
      await app.tenantCaches.memberships.invalidate(membershipCacheKey(caller.tenantId, userId))
      return reply.code(204).send(null)
    },
  )
}

export default memberRoutes
