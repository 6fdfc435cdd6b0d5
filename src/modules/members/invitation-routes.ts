// Invitations: invite by email (queues the invitation email), list, revoke,
// and accept (by the signed-in user whose email the invitation was sent to, or
// as a new account, which is then signed in as signup would be). The rules are
// domain/members/invitations.ts and invitation-acceptance.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../../config.ts'
import { requestActor } from '../../domain/audit/record.ts'
import {
  acceptInvitation,
  assertInvitedUser,
  invitedAccountDetails,
  pendingInvitation,
} from '../../domain/members/invitation-acceptance.ts'
import {
  inviteMember,
  listInvitations,
  revokeInvitation,
} from '../../domain/members/invitations.ts'
import { Invitation } from '../../domain/members/schemas.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { Page, ref } from '../../lib/page.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import { routeProblems, tenantRouteProblems } from '../../lib/problem-schema.ts'
import { personBehind } from '../../plugins/access.ts'
import { checkRequestSource, originPolicy } from '../../plugins/auth-csrf.ts'
import { membershipCacheKey } from '../../plugins/tenant.ts'
import { tokenIssuer } from '../../plugins/token-issuer.ts'
import {
  AcceptedInvitation,
  AcceptedWithAccount,
  AcceptInvitationBody,
  CreateInvitationBody,
} from './schemas.ts'

const invitationRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
  app.addSchema(Invitation)
  const issuer = tokenIssuer(app, opts.config)
  const sourcePolicy = originPolicy(opts.config)

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
            422: ['unknown_role'],
            429: ['mail_quota_exceeded', 'invitation_cooldown', 'rate_limited'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = request.tenant!
      const { invitation, job } = await inviteMember(
        app.database,
        opts.config,
        { ...caller, tenantId: caller.id, personBehind: personBehind(request.auth) },
        request.body,
        requestActor(request),
      )
      await app.jobs.dispatch([job])
      return reply.code(201).send(invitation)
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
      return listInvitations(app.database, request.tenant!.id, request.query)
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
      await revokeInvitation(
        app.database,
        request.tenant!.id,
        request.params.id,
        requestActor(request),
      )
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
          'sign in and accept), and the answer signs it in as signup does (tokens in the body, ' +
          'cookies set). An unknown, used, revoked or expired token answers the same 404, and ' +
          'so does an invitation whose inviter is no longer an active member able to grant its role.',
        security: [{}, { bearerAuth: [] }, { oauth2: [] }, { cookieAuth: [] }],
        body: AcceptInvitationBody,
        response: {
          200: AcceptedInvitation,
          201: AcceptedWithAccount,
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
      const invitation = await pendingInvitation(app.database, request.body.token)
      const signedIn = request.auth?.userId ?? null
      let by: Parameters<typeof acceptInvitation>[2]
      if (signedIn) {
        await assertInvitedUser(app.database, invitation, signedIn)
        by = { userId: signedIn }
      } else {
        // It signs the browser in, as signup does: the same login-CSRF checks.
        checkRequestSource(request, sourcePolicy, false)
        by = { account: await invitedAccountDetails(invitation, request.body, issuer.policy) }
      }
      const { userId, account } = await acceptInvitation(app.database, invitation, by, {
        now: issuer.now(),
        client: issuer.client(request),
        policy: issuer.policy,
        actor: requestActor(request),
      })
      await app.tenantCaches.memberships.invalidate(membershipCacheKey(invitation.tenantId, userId))
      // A customer's contact may have been made or linked (contact events), and
      // this public route has no request tenant for the onResponse rule to name.
      app.eventSignal.publish(invitation.tenantId)
      const accepted = { tenant: { id: invitation.tenantId }, roleId: invitation.roleId, userId }
      if (!account) return reply.code(200).send(accepted)
      return reply
        .code(201)
        .send({ ...accepted, ...issuer.signIn(reply, account.session, account.user) })
    },
  )
}

function hasSessionCookie(cookie: string | undefined) {
  return cookie !== undefined && /(?:^|;\s*)(?:__Host-)?dp_access=/.test(cookie)
}

export default invitationRoutes
