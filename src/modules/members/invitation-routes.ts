// Invitations: invite by email (queues the invitation email), list, revoke,
// and accept (by the signed-in user whose email the invitation was sent to, or
// as a new account, which is then signed in as signup would be).
//
// An invitation acts with its inviter's current rights: it is accepted only
// while the inviter is an active member who could still hand out its role
// (guards.ts); otherwise it answers like a revoked one. It records the person
// behind the request, also when an API key sent it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { eq, sql } from 'drizzle-orm'
import { type Static, Type } from 'typebox'
import type { Config } from '../../config.ts'
import type { DbOrTx } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { publicUser } from '../../domain/accounts/accounts.ts'
import { recordAudit, requestActor } from '../../domain/audit/record.ts'
import { assertCanAssignRole } from '../../domain/members/guards.ts'
import { assertInvitationMailAllowed } from '../../domain/members/invitation-quotas.ts'
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
} from '../../domain/members/invitations.ts'
import {
  currentStanding,
  findRole,
  findRoleByName,
  roleNames,
} from '../../domain/members/members.ts'
import { startSession } from '../../domain/sessions/sessions.ts'
import { insertJob } from '../../jobs/outbox.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS } from '../../lib/examples.ts'
import { Page, ref } from '../../lib/page.ts'
import { hashPassword, normaliseEmail, passwordProblem } from '../../lib/passwords.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import { routeProblems, tenantRouteProblems } from '../../lib/problem-schema.ts'
import { BadRequest, Conflict, Forbidden, NotFound, Problem } from '../../lib/problems.ts'
import { personBehind } from '../../plugins/access.ts'
import { checkRequestSource, originPolicy } from '../../plugins/auth-csrf.ts'
import { SignedInResponse, signedInExample } from '../auth/schemas.ts'
import { tokenIssuer } from '../auth/token-issuer.ts'
import { AcceptInvitationBody, CreateInvitationBody, Invitation } from './schemas.ts'

/**
 * The role an invitation names: `role` (a name) or `roleId`, exactly one. An
 * unknown name is a 422 that lists the tenant's roles; an unknown id stays the
 * 404 of any id that is not the tenant's.
 */
async function invitedRole(
  tx: DbOrTx,
  tenantId: string,
  body: Static<typeof CreateInvitationBody>,
) {
  if ((body.role === undefined) === (body.roleId === undefined)) {
    const message =
      body.role === undefined
        ? 'name the role: role (its name, e.g. "customer") or roleId (its id)'
        : 'send role or roleId, not both'
    throw new BadRequest(
      'validation_failed',
      `The invitation needs exactly one role: ${message}.`,
      [{ path: body.role === undefined ? 'body/role' : 'body/roleId', message }],
    )
  }
  if (body.roleId !== undefined) return findRole(tx, tenantId, body.roleId)
  const role = await findRoleByName(tx, tenantId, body.role as string)
  if (role) return role
  const names = await roleNames(tx, tenantId)
  const message = `must be one of ${names.join(', ')}`
  throw new Problem(422, 'unknown_role', `There is no role named "${body.role}": ${message}.`, {
    errors: [{ path: 'body/role', message }],
  })
}

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
      const email = request.body.email.trim().toLowerCase()
      const { invitation, job } = await withScope(
        app.database,
        { tenantId: caller.id },
        async (tx) => {
          const role = await invitedRole(tx, caller.id, request.body)
          assertCanAssignRole(caller, role)
          const roleId = role!.id
          if (await isMember(tx, caller.id, email)) {
            throw new Conflict('That person is already a member.', 'already_member')
          }
          await assertInvitationMailAllowed(tx, opts.config, caller.id, email)
          const id = await createInvitation(tx, caller.id, {
            email,
            roleId,
            invitedBy: personBehind(request.auth),
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
            data: { email, roleId },
            ...requestActor(request),
          })
          return { invitation: await getInvitation(tx, caller.id, id), job: queued }
        },
      )
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
      const page = await withScope(app.database, { tenantId }, (tx) =>
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
      await withScope(app.database, { tenantId }, async (tx) => {
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
      const invitation = await findInvitationByToken(app.database, request.body.token)
      if (!invitation || invitationStatus(invitation) !== 'pending') {
        throw new NotFound('invitation')
      }
      const signedIn = request.auth?.userId ?? null
      let newAccount: NewAccount | null = null
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
      } else {
        // It signs the browser in, as signup does: the same login-CSRF checks.
        checkRequestSource(request, sourcePolicy, false)
        newAccount = await prepareInvitedAccount(opts.config, invitation.email, request.body)
      }
      const client = issuer.client(request)
      const result = await withScope(
        app.database,
        { tenantId: invitation.tenantId },
        async (tx) => {
          // The inviter's rights are read now, not when the invitation was sent.
          const inviter = invitation.invitedBy
            ? await currentStanding(tx, invitation.tenantId, invitation.invitedBy)
            : null
          const role = await findRole(tx, invitation.tenantId, invitation.roleId)
          if (!inviter || !mayStillGrant(inviter, role)) throw new NotFound('invitation')
          const account = newAccount ? await insertInvitedAccount(tx, newAccount) : null
          const userId = account?.id ?? (signedIn as string)
          const accepted = await acceptInvitation(tx, invitation, userId)
          if (!accepted) throw new NotFound('invitation')
          const session = account
            ? await startSession(tx, { userId, now: issuer.now(), ...client }, issuer.policy)
            : null
          await recordAudit(tx, {
            tenantId: invitation.tenantId,
            action: 'invitation.accepted',
            targetType: 'invitation',
            targetId: invitation.id,
            ...requestActor(request),
            actorUserId: userId,
          })
          return { userId, account, session }
        },
      )
      const { userId, account, session } = result
      await app.tenantCaches.memberships.invalidate(`${invitation.tenantId}:${userId}`)
      const accepted = { tenant: { id: invitation.tenantId }, roleId: invitation.roleId, userId }
      if (!account || !session) return reply.code(200).send(accepted)
      const tokens = issuer.issue(reply, { ...session, userId }, { body: true, cookies: true })
      return reply
        .code(201)
        .send({ ...accepted, user: publicUser(account), ...tokens } as Static<
          typeof AcceptedWithAccount
        >)
    },
  )
}

/** Could this standing hand out the role today? The same rule as inviting (guards.ts). */
function mayStillGrant(
  standing: NonNullable<Awaited<ReturnType<typeof currentStanding>>>,
  role: Awaited<ReturnType<typeof findRole>>,
) {
  try {
    assertCanAssignRole(standing, role)
    return true
  } catch (err) {
    if (err instanceof Problem) return false
    throw err
  }
}

const AcceptedInvitationFields = {
  tenant: Type.Object({ id: Type.String({ format: 'uuid' }) }),
  roleId: Type.String({ format: 'uuid' }),
  userId: Type.String({ format: 'uuid' }),
}
const acceptedExample = {
  tenant: { id: EXAMPLE_IDS.tenant },
  roleId: EXAMPLE_IDS.role,
  userId: EXAMPLE_IDS.agent,
}
const AcceptedInvitation = Type.Object(AcceptedInvitationFields, {
  description: 'Accepted by the signed-in user',
  examples: [acceptedExample],
})

/** A new account: signup's answer (tokens, cookies set) with what was accepted. */
const AcceptedWithAccount = Type.Object(
  { ...SignedInResponse.properties, ...AcceptedInvitationFields },
  {
    description: 'Accepted with a new account, signed in as signup does',
    examples: [{ ...signedInExample, ...acceptedExample }],
  },
)

function hasSessionCookie(cookie: string | undefined) {
  return cookie !== undefined && /(?:^|;\s*)(?:__Host-)?dp_access=/.test(cookie)
}

type NewAccount = { email: string; name: string; passwordHash: string }

/**
 * The details of a new account for the invited address, checked and hashed
 * before the acceptance's transaction (hashing is slow; nothing is written yet).
 */
async function prepareInvitedAccount(
  config: Config,
  email: string,
  body: { name?: string; password?: string },
): Promise<NewAccount> {
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
  return {
    email: normaliseEmail(email),
    name: body.name.trim(),
    passwordHash: await hashPassword(body.password),
  }
}

/**
 * Creates the account, in the acceptance's transaction. Receiving the token
 * proves the mailbox, so the email counts as verified. An existing account is
 * never touched here: its owner signs in and accepts.
 */
async function insertInvitedAccount(tx: DbOrTx, account: NewAccount) {
  const [user] = await tx
    .insert(users)
    .values({
      ...account,
      passwordChangedAt: sql`now()`,
      emailVerifiedAt: sql`now()`,
    })
    .onConflictDoNothing()
    .returning()
  if (!user) {
    throw new Conflict(
      'An account with this email exists: sign in, then accept the invitation.',
      'account_exists',
    )
  }
  return user
}

export default invitationRoutes
