// Invitations: invite by email (queues the invitation email, within the mail
// quotas of invitation-quotas.ts), list, revoke. Acceptance is
// invitation-acceptance.ts. The raw token exists only in the invitation email
// (the email job mints it and stores its hash), so accepting looks the
// invitation up by that hash through the narrow invitation_by_token read path.
// An invitation records the person behind the request, also when an API key
// sent it.
import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle, DbOrTx, Tx } from '../../db/client.ts'
import { invitations, memberships, roles } from '../../db/schema/access.ts'
import { users } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { cursorTime } from '../../db/sql-fragments.ts'
import { insertJob, type QueuedJob } from '../../jobs/outbox.ts'
import { type CursorKey, decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { BadRequest, Conflict, NotFound, Problem } from '../../lib/problems.ts'
import { normaliseEmail } from '../accounts/passwords.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { findRoleByName, getRole, roleNames } from '../roles/roles.ts'
import { assertCanAssignRole, type Standing } from './guards.ts'
import { assertInvitationMailAllowed, type InvitationLimits } from './invitation-quotas.ts'
import type { Invitation } from './schemas.ts'

export const INVITATION_TTL_DAYS = 7

const columns = {
  id: invitations.id,
  email: invitations.email,
  roleId: roles.id,
  roleName: roles.name,
  invitedBy: invitations.invitedBy,
  expiresAt: invitations.expiresAt,
  acceptedAt: invitations.acceptedAt,
  revokedAt: invitations.revokedAt,
  createdAt: invitations.createdAt,
  cursorAt: cursorTime(invitations.createdAt),
}

type InvitationRow = NonNullable<Awaited<ReturnType<typeof getInvitation>>>

export function invitationStatus(
  row: Pick<InvitationRow, 'acceptedAt' | 'revokedAt' | 'expiresAt'>,
  now = Date.now(),
) {
  if (row.acceptedAt) return 'accepted' as const
  if (row.revokedAt) return 'revoked' as const
  if (row.expiresAt.getTime() <= now) return 'expired' as const
  return 'pending' as const
}

function presentInvitation(row: InvitationRow): Static<typeof Invitation> {
  return {
    id: row.id,
    email: row.email,
    role: { id: row.roleId, name: row.roleName },
    status: invitationStatus(row),
    invitedBy: row.invitedBy,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  }
}

function invitationsQuery(tx: DbOrTx) {
  return tx
    .select(columns)
    .from(invitations)
    .innerJoin(
      roles,
      and(eq(roles.tenantId, invitations.tenantId), eq(roles.id, invitations.roleId)),
    )
}

async function getInvitation(tx: DbOrTx, tenantId: string, id: string) {
  const [row] = await invitationsQuery(tx).where(
    and(eq(invitations.tenantId, tenantId), eq(invitations.id, id)),
  )
  return row ?? null
}

/** A page of the tenant's invitations, newest first, with their status. */
export async function listInvitations(
  database: DatabaseHandle,
  tenantId: string,
  query: { limit: number; cursor?: string },
) {
  const after = decodeCursor(query.cursor, TimeIdCursor)
  const rows = await withScope(database, { tenantId }, (tx) =>
    invitationsQuery(tx)
      .where(
        and(
          eq(invitations.tenantId, tenantId),
          after
            ? sql`(${invitations.createdAt}, ${invitations.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)`
            : undefined,
        ),
      )
      .orderBy(desc(invitations.createdAt), desc(invitations.id))
      .limit(query.limit + 1),
  )
  const page = toPage(rows, query.limit, (r): CursorKey => [r.cursorAt, r.id])
  return { data: page.data.map(presentInvitation), nextCursor: page.nextCursor }
}

async function isMember(tx: DbOrTx, tenantId: string, email: string) {
  const [row] = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.tenantId, tenantId), eq(sql`lower(${users.email})`, email)))
  return row !== undefined
}

/** A new invitation replaces any pending one for the same address. */
async function insertInvitation(
  tx: DbOrTx,
  tenantId: string,
  input: { email: string; roleId: string; invitedBy: string | null },
) {
  await tx
    .update(invitations)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        eq(invitations.tenantId, tenantId),
        eq(sql`lower(${invitations.email})`, input.email),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
      ),
    )
  const [row] = await tx
    .insert(invitations)
    .values({
      tenantId,
      email: input.email,
      roleId: input.roleId,
      invitedBy: input.invitedBy,
      expiresAt: sql`now() + make_interval(days => ${INVITATION_TTL_DAYS})`,
    })
    .returning({ id: invitations.id })
  return row!.id
}

/** Revokes a pending invitation: its link stops working at once. */
export async function revokeInvitation(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
  actor: AuditActor,
): Promise<void> {
  await withScope(database, { tenantId }, async (tx) => {
    const [row] = await tx
      .update(invitations)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(invitations.tenantId, tenantId),
          eq(invitations.id, id),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .returning({ id: invitations.id })
    if (!row) throw new NotFound('invitation')
    await recordAudit(tx, {
      tenantId,
      action: 'invitation.revoked',
      targetType: 'invitation',
      targetId: id,
      ...actor,
    })
  })
}

/**
 * The role an invitation names: `role` (a name) or `roleId`, exactly one. An
 * unknown name is a 422 that lists the tenant's roles; an unknown id stays the
 * 404 of any id that is not the tenant's.
 */
async function invitedRole(tx: DbOrTx, tenantId: string, body: { role?: string; roleId?: string }) {
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
  if (body.roleId !== undefined) return getRole(tx, tenantId, body.roleId)
  const role = await findRoleByName(tx, tenantId, body.role as string)
  if (role) return role
  const names = await roleNames(tx, tenantId)
  const message = `must be one of ${names.join(', ')}`
  throw new Problem('unknown_role', `There is no role named "${body.role}": ${message}.`, {
    errors: [{ path: 'body/role', message }],
  })
}

/**
 * Invites someone by email with a role the inviter may hand out (guards.ts):
 * the invitation, and its email's job for the caller to dispatch after commit.
 */
export async function inviteMember(
  database: DatabaseHandle,
  limits: InvitationLimits,
  inviter: Standing & { tenantId: string; personBehind: string | null },
  input: { email: string; role?: string; roleId?: string },
  actor: AuditActor,
): Promise<{ invitation: Static<typeof Invitation>; job: QueuedJob }> {
  const { tenantId } = inviter
  const email = normaliseEmail(input.email)
  return withScope(database, { tenantId }, async (tx: Tx) => {
    const role = await invitedRole(tx, tenantId, input)
    assertCanAssignRole(inviter, role)
    const roleId = role!.id
    if (await isMember(tx, tenantId, email)) {
      throw new Conflict('That person is already a member.', 'already_member')
    }
    await assertInvitationMailAllowed(tx, limits, tenantId, email)
    const id = await insertInvitation(tx, tenantId, {
      email,
      roleId,
      invitedBy: inviter.personBehind,
    })
    const job = await insertJob(tx, {
      tenantId,
      queue: 'email',
      payload: { template: 'invitation', invitationId: id },
    })
    await recordAudit(tx, {
      tenantId,
      action: 'invitation.created',
      targetType: 'invitation',
      targetId: id,
      data: { email, roleId },
      ...actor,
    })
    const invitation = await getInvitation(tx, tenantId, id)
    return { invitation: presentInvitation(invitation!), job }
  })
}
