// Invitations: invite by email (queues the invitation email), list, revoke,
// and accept (by the signed-in user whose email the invitation was sent to).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { eq, sql } from 'drizzle-orm'
import { Type } from 'typebox'
import type { Config } from '../../config.ts'
import type { Db } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { withScope, withTenant } from '../../db/tenant-transaction.ts'
import { insertJob } from '../../jobs/outbox.ts'
import { recordAudit, requestActor } from '../../lib/audit.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS } from '../../lib/examples.ts'
import { Page, ref } from '../../lib/page.ts'
import { hashPassword, normaliseEmail, passwordProblem } from '../../lib/passwords.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import { routeProblems, tenantRouteProblems } from '../../lib/problem-schema.ts'
import { BadRequest, Conflict, Forbidden, NotFound } from '../../lib/problems.ts'
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

const invitationRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
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
        response: {
          201: ref(Invitation, { description: 'The invitation; its email is queued' }),
          ...tenantRouteProblems,
          ...problemResponses({
            403: ['forbidden', 'permission_escalation', 'owner_required', 'csrf_failed'],
            409: ['already_member'],
          }),
        },
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
        description:
          'Needs members:read. Pending, accepted, revoked and expired ones, with their status.',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Page(Invitation, { description: 'A page of invitations' }),
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
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
        description: 'Needs members:manage. Its link stops working at once.',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null({ description: 'Revoked' }), ...tenantRouteProblems },
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
      config: { access: 'public' },
      schema: {
        operationId: 'acceptInvitation',
        tags: ['members'],
        summary: 'Accept an invitation, as the signed-in user it was sent to or as a new account',
        description:
          'Not tenant-scoped: the token names the tenant. Signed in (Bearer or cookie), the ' +
          "user's email must be the invited address. Not signed in, `name` and `password` " +
          'create the account for the invited address (409 `account_exists` when it has one: ' +
          'sign in and accept). An unknown, used, revoked or expired token answers the same 404.',
        security: [{}, { bearerAuth: [] }, { cookieAuth: [] }],
        body: AcceptInvitationBody,
        response: {
          200: acceptedInvitation('Accepted by the signed-in user'),
          201: acceptedInvitation('Accepted, with a new account'),
          ...routeProblems,
          ...problemResponses({
            400: ['validation_failed', 'account_details_required', 'weak_password'],
            403: ['invitation_email_mismatch', 'csrf_failed'],
            409: ['account_exists'],
          }),
          404: problemResponse(404, ['not_found'], {
            not_found: 'The invitation was not found.',
          }),
        },
      },
    },
    async (request, reply) => {
      // Optional authentication: a credential, when sent, must be valid (and a
      // cookie-authenticated call passes the CSRF checks inside authenticate).
      if (request.headers.authorization || hasSessionCookie(request.headers.cookie)) {
        await app.authenticate(request, reply)
      }
      const invitation = await findInvitationByToken(app.db, request.body.token)
      if (!invitation || invitationStatus(invitation) !== 'pending') {
        throw new NotFound('invitation')
      }
      const signedIn = request.auth?.userId ?? null
      let userId: string
      if (signedIn) {
        const [user] = await app.db
          .select({ email: users.email })
          .from(users)
          .where(eq(users.id, signedIn))
        if (!user || user.email.toLowerCase() !== invitation.email.toLowerCase()) {
          throw new Forbidden(
            'invitation_email_mismatch',
            'This invitation was sent to another email address.',
          )
        }
        userId = signedIn
      } else {
        userId = await createInvitedAccount(app.db, opts.config, invitation.email, request.body)
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
          actorUserId: userId,
        })
      })
      await app.tenantCaches.memberships.invalidate(`${invitation.tenantId}:${userId}`)
      reply.code(signedIn ? 200 : 201)
      return { tenant: { id: invitation.tenantId }, roleId: invitation.roleId, userId }
    },
  )
}

const acceptedInvitation = (description: string) =>
  Type.Object(
    {
      tenant: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      roleId: Type.String({ format: 'uuid' }),
      userId: Type.String({ format: 'uuid' }),
    },
    {
      description,
      examples: [
        {
          tenant: { id: EXAMPLE_IDS.tenant },
          roleId: EXAMPLE_IDS.role,
          userId: EXAMPLE_IDS.agent,
        },
      ],
    },
  )

function hasSessionCookie(cookie: string | undefined) {
  return cookie !== undefined && /(?:^|;\s*)(?:__Host-)?dp_access=/.test(cookie)
}

/**
 * A new account for the invited address. Receiving the token proves the
 * mailbox, so the email counts as verified. An existing account is never
 * touched here: its owner signs in and accepts.
 */
async function createInvitedAccount(
  db: Db,
  config: Config,
  email: string,
  body: { name?: string; password?: string },
) {
  if (!body.name || !body.password) {
    throw new BadRequest(
      'account_details_required',
      'Sign in first, or send name and password to create your account.',
      [
        ...(body.name ? [] : [{ path: 'body/name', message: 'is required to create an account' }]),
        ...(body.password
          ? []
          : [{ path: 'body/password', message: 'is required to create an account' }]),
      ],
    )
  }
  const problem = passwordProblem(body.password, email, config.PASSWORD_MIN_LENGTH)
  if (problem) {
    throw new BadRequest('weak_password', problem, [{ path: 'body/password', message: problem }])
  }
  const passwordHash = await hashPassword(body.password)
  const [user] = await db
    .insert(users)
    .values({
      email: normaliseEmail(email),
      name: body.name.trim(),
      passwordHash,
      passwordChangedAt: sql`now()`,
      emailVerifiedAt: sql`now()`,
    })
    .onConflictDoNothing()
    .returning({ id: users.id })
  if (!user) {
    throw new Conflict(
      'An account with this email exists: sign in, then accept the invitation.',
      'account_exists',
    )
  }
  return user.id
}

export default invitationRoutes
