// Members of the current tenant: list and search, read one, change role or
// deactivate, remove (or leave). Invitations live in invitation-routes.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { withScope } from '../../db/scoped.ts'
import { recordAudit, requestActor } from '../../domain/audit/record.ts'
import {
  assertCanChangeRole,
  assertCanManageMember,
  assertCanRemoveMember,
  takesOwnerAway,
} from '../../domain/members/guards.ts'
import {
  assertOwnerRemains,
  findRole,
  getMember,
  listMembers,
  presentMember,
  removeMembership,
  updateMembership,
} from '../../domain/members/members.ts'
import { Page, ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'
import { ListMembersQuery, Member, MemberParams, UpdateMemberBody } from './schemas.ts'

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
      const tenantId = request.tenant!.id
      const page = await listMembers(app.database, tenantId, request.query)
      return { data: page.data.map(presentMember), nextCursor: page.nextCursor }
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
      const tenantId = request.tenant!.id
      const row = await withScope(app.database, { tenantId }, (tx) =>
        getMember(tx, tenantId, request.params.userId),
      )
      if (!row) throw new NotFound('member')
      return presentMember(row)
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
      const caller = request.tenant!
      const { userId } = request.params
      const updated = await withScope(app.database, { tenantId: caller.id }, async (tx) => {
        const target = await getMember(tx, caller.id, userId)
        if (!target) throw new NotFound('member')
        assertCanManageMember(caller, target)
        const { roleId, active } = request.body
        const changingRole = roleId !== undefined && roleId !== target.roleId
        const role = changingRole ? await findRole(tx, caller.id, roleId) : undefined
        if (changingRole) assertCanChangeRole(caller, userId === request.auth?.userId, role ?? null)
        if (takesOwnerAway(target, { role, active }))
          await assertOwnerRemains(tx, caller.id, userId)
        const after = await updateMembership(tx, caller.id, userId, request.body)
        await recordAudit(tx, {
          tenantId: caller.id,
          action: roleId !== undefined ? 'member.role_changed' : 'member.updated',
          targetType: 'user',
          targetId: userId,
          data: {
            before: { roleId: target.roleId, active: target.active },
            after: { roleId: after?.roleId, active: after?.active },
          },
          ...requestActor(request),
        })
        return after
      })
      if (!updated) throw new NotFound('member')
      await app.tenantCaches.memberships.invalidate(`${caller.id}:${userId}`)
      return presentMember(updated)
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
      const caller = request.tenant!
      const { userId } = request.params
      const leaving = userId === request.auth?.userId
      await withScope(app.database, { tenantId: caller.id }, async (tx) => {
        const target = await getMember(tx, caller.id, userId)
        if (!target) throw new NotFound('member')
        assertCanRemoveMember(caller, target, leaving)
        if (takesOwnerAway(target, { removed: true })) {
          await assertOwnerRemains(tx, caller.id, userId)
        }
        await removeMembership(tx, caller.id, userId)
        await recordAudit(tx, {
          tenantId: caller.id,
          action: leaving ? 'member.left' : 'member.removed',
          targetType: 'user',
          targetId: userId,
          data: { roleId: target.roleId },
          ...requestActor(request),
        })
      })
      await app.tenantCaches.memberships.invalidate(`${caller.id}:${userId}`)
      return reply.code(204).send(null)
    },
  )
}

export default memberRoutes
