// Accepting an invitation: by the signed-in user whose email it was sent to,
// or as a new account for the invited address (receiving the token proves the
// mailbox, so its email counts as verified), which is then signed in as signup
// would be.
//
// An invitation acts with its inviter's current rights: it is accepted only
// while the inviter is an active member who could still hand out its role
// (guards.ts); otherwise it answers like a revoked one.
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { invitations, memberships } from '../../db/schema/access.ts'
import { users } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { BadRequest, Conflict, Forbidden, NotFound, Problem } from '../../lib/problems.ts'
import { hashToken } from '../../lib/tokens.ts'
import {
  type AccountPolicy,
  insertAccount,
  type NewAccount,
  newAccountDetails,
  type PublicUser,
  publicUser,
} from '../accounts/accounts.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { memberContact } from '../contacts/requesters.ts'
import { getRole } from '../roles/roles.ts'
import { type Client, type StartedSession, startSession } from '../sessions/sessions.ts'
import { holdsAgentRights } from '../tickets/agents.ts'
import { assertCanAssignRole, type Standing } from './guards.ts'
import { invitationStatus } from './invitations.ts'
import { currentStanding } from './members.ts'

type PendingInvitation = NonNullable<Awaited<ReturnType<typeof findInvitationByToken>>>

/** The invitation a raw token belongs to, in whichever tenant it is. */
async function findInvitationByToken(database: DatabaseHandle, token: string) {
  const tokenHash = hashToken(token)
  const [row] = await withScope(database, { invitationToken: tokenHash }, (tx) =>
    tx
      .select({
        id: invitations.id,
        tenantId: invitations.tenantId,
        email: invitations.email,
        roleId: invitations.roleId,
        invitedBy: invitations.invitedBy,
        expiresAt: invitations.expiresAt,
        acceptedAt: invitations.acceptedAt,
        revokedAt: invitations.revokedAt,
      })
      .from(invitations)
      .where(eq(invitations.tokenHash, tokenHash)),
  )
  return row ?? null
}

/**
 * Marks the invitation accepted and adds the membership, in the invitation's
 * tenant (an existing membership, even a deactivated one, is left as it is: an
 * invitation never changes someone's role). Only one acceptance can win: the update is guarded
 * on accepted_at still being null.
 */
async function markAccepted(
  tx: DbOrTx,
  invitation: { id: string; tenantId: string; roleId: string },
  userId: string,
) {
  const [won] = await tx
    .update(invitations)
    .set({ acceptedAt: sql`now()`, acceptedBy: userId })
    .where(
      and(
        eq(invitations.tenantId, invitation.tenantId),
        eq(invitations.id, invitation.id),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        sql`${invitations.expiresAt} > now()`,
      ),
    )
    .returning({ id: invitations.id })
  if (!won) return false
  await tx
    .insert(memberships)
    .values({ tenantId: invitation.tenantId, userId, roleId: invitation.roleId })
    .onConflictDoNothing()
  return true
}

/** The pending invitation of a raw token; an unknown, used, revoked or expired one is 404. */
export async function pendingInvitation(database: DatabaseHandle, token: string) {
  const invitation = await findInvitationByToken(database, token)
  if (!invitation || invitationStatus(invitation) !== 'pending') {
    throw new NotFound('invitation')
  }
  return invitation
}

/** A signed-in user accepts only an invitation sent to their own address. */
export async function assertInvitedUser(
  database: DatabaseHandle,
  invitation: PendingInvitation,
  userId: string,
): Promise<void> {
  const [user] = await database.db
    .select({ email: users.email })
    .from(users)
    .where(eq(users.id, userId))
  if (!user || user.email.toLowerCase() !== invitation.email.toLowerCase()) {
    throw new Forbidden(
      'invitation_email_mismatch',
      'This invitation was sent to another email address.',
    )
  }
}

/**
 * The details of a new account for the invited address, checked and hashed
 * before the acceptance's transaction (hashing is slow; nothing is written yet).
 */
export async function invitedAccountDetails(
  invitation: PendingInvitation,
  body: { name?: string; password?: string },
  policy: { PASSWORD_MIN_LENGTH: number },
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
  return newAccountDetails(
    { email: invitation.email, name: body.name, password: body.password },
    policy,
    true,
  )
}

/** Could this standing hand out the role today? The same rule as inviting (guards.ts). */
function mayStillGrant(standing: Standing, role: Awaited<ReturnType<typeof getRole>>) {
  try {
    assertCanAssignRole(standing, role)
    return true
  } catch (err) {
    if (err instanceof Problem) return false
    throw err
  }
}

export type Accepted = {
  userId: string
  /** with a new account: the account and its first session */
  account: { user: PublicUser; session: StartedSession } | null
}

/**
 * Accepts the invitation for the signed-in user, or with the new account
 * (created here, in the acceptance's transaction; an existing account with the
 * address is 409 account_exists: its owner signs in and accepts).
 */
export async function acceptInvitation(
  database: DatabaseHandle,
  invitation: PendingInvitation,
  by: { userId: string } | { account: NewAccount },
  ctx: { now: number; client: Client; policy: AccountPolicy; actor: AuditActor },
): Promise<Accepted> {
  const { tenantId } = invitation
  return withScope(database, { tenantId }, async (tx) => {
    // The inviter's rights are read now, not when the invitation was sent.
    const inviter = invitation.invitedBy
      ? await currentStanding(tx, tenantId, invitation.invitedBy)
      : null
    const role = await getRole(tx, tenantId, invitation.roleId)
    if (!inviter || !mayStillGrant(inviter, role)) throw new NotFound('invitation')
    let account: Accepted['account'] = null
    let userId: string
    if ('account' in by) {
      const user = await insertAccount(tx, by.account, new Date(ctx.now))
      if (!user) {
        throw new Conflict(
          'An account with this email exists: sign in, then accept the invitation.',
          'account_exists',
        )
      }
      userId = user.id
      if (!(await markAccepted(tx, invitation, userId))) throw new NotFound('invitation')
      const session = await startSession(tx, { userId, now: ctx.now, ...ctx.client }, ctx.policy)
      account = { user: publicUser(user), session }
    } else {
      userId = by.userId
      if (!(await markAccepted(tx, invitation, userId))) throw new NotFound('invitation')
    }
    // A customer joining by invitation is linked to its contact now: the
    // invitation reached that address, which proves it (requesters.ts).
    if (role && !holdsAgentRights(role.permissions)) {
      await memberContact(tx, tenantId, userId, { proven: true })
    }
    await recordAudit(tx, {
      tenantId,
      action: 'invitation.accepted',
      targetType: 'invitation',
      targetId: invitation.id,
      ...ctx.actor,
      actorUserId: userId,
    })
    return { userId, account }
  })
}
