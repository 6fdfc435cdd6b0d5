// Invitations: invite by email (queues the invitation email), list, revoke,
// and accept (by the signed-in user whose email the invitation was sent to).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { eq } from 'drizzle-orm'
import { Type } from 'typebox'
import { users } from '../../db/schema/users.ts'
import { withScope, withTenant } from '../../db/tenant-transaction.ts'
import { insertJob } from '../../jobs/outbox.ts'
import { recordAudit, requestActor } from '../../lib/audit.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { ProblemRef } from '../../lib/problem-schema.ts'
import { Conflict, Forbidden, NotFound } from '../../lib/problems.ts'
import { assertCanAssignRole } from './guards.ts'
import {
  acceptInvitation,
  createInvitation,
  findInvitationByToken,
  getInvitation,
  invitationStatus,
  isMember,
  listInvitations,
  presentInvitation,
  revokeInvitation,
} from './invitations.ts'
import { AcceptInvitationBody, CreateInvitationBody, Invitation } from './schemas.ts'
import { findRole } from './service.ts'

const errors = { 400: ProblemRef, 401: ProblemRef, 403: ProblemRef, 404: ProblemRef }

const invitationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Invitation)

  app.post(
    '/invitations',
    {
      config: { access: 'tenant', permission: 'members:manage' },
      schema: {
        operationId: 'createInvitation',
        tags: ['members'],
        summary: 'Invite someone by email',
        description:
          'Queues the invitation email. The role may only hold permissions the caller holds. ' +
          'A new invitation replaces a pending one for the same address.',
        body: CreateInvitationBody,
        response: { 201: Invitation, 409: ProblemRef, ...errors },
      },
    },
    async (request, reply) => {
      const caller = request.tenant!
      const email = request.body.email.trim().toLowerCase()
      const { invitation, job } = await withTenant(app.db, caller.id, async (tx) => {
        assertCanAssignRole(caller, await findRole(tx, caller.id, request.body.roleId))
        if (await isMember(tx, caller.id, email)) {
          throw new Conflict('That person is already a member.', 'already_member')
        }
        const id = await createInvitation(tx, caller.id, {
          email,
          roleId: request.body.roleId,
          invitedBy: request.auth?.userId ?? null,
        })
        const queued = await insertJob(tx, {
          tenantId: caller.id,
          queue: 'email',
          payload: { template: 'invitation', invitationId: id },
        })
        await recordAudit(tx, {
          tenantId: caller.id,
          action: 'invitation.created',
          targetType: 'invitation',
          targetId: id,
          data: { email, roleId: request.body.roleId },
          ...requestActor(request),
        })
        return { invitation: await getInvitation(tx, caller.id, id), job: queued }
      })
      await app.jobs.dispatch([job])
      return reply.code(201).send(presentInvitation(invitation!))
    },
  )

  app.get(
    '/invitations',
    {
      config: { access: 'tenant', permission: 'members:read' },
      schema: {
        operationId: 'listInvitations',
        tags: ['members'],
        summary: 'Invitations of the tenant, newest first',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({
            data: Type.Array(Invitation),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const tenantId = request.tenant!.id
      const page = await withTenant(app.db, tenantId, (tx) =>
        listInvitations(tx, tenantId, request.query),
      )
      return { data: page.data.map(presentInvitation), nextCursor: page.nextCursor }
    },
  )

  app.delete(
    '/invitations/:id',
    {
      config: { access: 'tenant', permission: 'members:manage' },
      schema: {
        operationId: 'revokeInvitation',
        tags: ['members'],
        summary: 'Revoke a pending invitation',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const tenantId = request.tenant!.id
      await withTenant(app.db, tenantId, async (tx) => {
        const revoked = await revokeInvitation(tx, tenantId, request.params.id)
        if (!revoked) throw new NotFound('invitation')
        await recordAudit(tx, {
          tenantId,
          action: 'invitation.revoked',
          targetType: 'invitation',
          targetId: request.params.id,
          ...requestActor(request),
        })
      })
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/invitations/accept',
    {
      config: { access: 'user' },
      schema: {
        operationId: 'acceptInvitation',
        tags: ['members'],
        summary: 'Accept an invitation as the signed-in user it was sent to',
        description:
          'Not tenant-scoped: the token names the tenant. The signed-in user must have the ' +
          'email address the invitation was sent to. An unknown, used, revoked or expired ' +
          'token answers the same 404.',
        body: AcceptInvitationBody,
        response: {
          200: Type.Object({
            tenant: Type.Object({ id: Type.String({ format: 'uuid' }) }),
            roleId: Type.String({ format: 'uuid' }),
          }),
          409: ProblemRef,
          ...errors,
        },
      },
    },
    async (request) => {
      const userId = request.auth!.userId!
      const invitation = await findInvitationByToken(app.db, request.body.token)
      if (!invitation || invitationStatus(invitation) !== 'pending') {
        throw new NotFound('invitation')
      }
      const [user] = await app.db
        .select({ email: users.email })
        .from(users)
        .where(eq(users.id, userId))
      if (!user || user.email.toLowerCase() !== invitation.email.toLowerCase()) {
        throw new Forbidden(
          'invitation_email_mismatch',
          'This invitation was sent to another email address.',
        )
      }
      await withScope(app.db, { tenantId: invitation.tenantId }, async (tx) => {
        const accepted = await acceptInvitation(tx, invitation, userId)
        if (!accepted) throw new NotFound('invitation')
        await recordAudit(tx, {
          tenantId: invitation.tenantId,
          action: 'invitation.accepted',
          targetType: 'invitation',
          targetId: invitation.id,
          ...requestActor(request),
        })
      })
      await app.tenantCaches.memberships.invalidate(`${invitation.tenantId}:${userId}`)
      return { tenant: { id: invitation.tenantId }, roleId: invitation.roleId }
    },
  )
}

export default invitationRoutes
