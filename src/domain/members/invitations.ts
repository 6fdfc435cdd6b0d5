// Invitation queries. The raw token exists only in the invitation email (the
// email job mints it and stores its hash), so accepting looks the invitation up
// by that hash through the narrow invitation_by_token read path.
import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { invitations, memberships, roles } from '../../db/schema/access.ts'
import { users } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { cursorTime } from '../../db/sql-fragments.ts'
import { type CursorKey, decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { hashToken } from '../../lib/tokens.ts'

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

type InvitationRow = {
  id: string
  email: string
  roleId: string
  roleName: string
  invitedBy: string | null
  expiresAt: Date
  acceptedAt: Date | null
  revokedAt: Date | null
  createdAt: Date
}

export function invitationStatus(
  row: Pick<InvitationRow, 'acceptedAt' | 'revokedAt' | 'expiresAt'>,
  now = Date.now(),
) {
  if (row.acceptedAt) return 'accepted' as const
  if (row.revokedAt) return 'revoked' as const
  if (row.expiresAt.getTime() <= now) return 'expired' as const
  return 'pending' as const
}

export function presentInvitation(row: InvitationRow) {
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

export async function getInvitation(tx: DbOrTx, tenantId: string, id: string) {
  const [row] = await invitationsQuery(tx).where(
    and(eq(invitations.tenantId, tenantId), eq(invitations.id, id)),
  )
  return row ?? null
}

export async function listInvitations(
  tx: DbOrTx,
  tenantId: string,
  query: { limit: number; cursor?: string },
) {
  const after = decodeCursor(query.cursor, TimeIdCursor)
  const rows = await invitationsQuery(tx)
    .where(
      and(
        eq(invitations.tenantId, tenantId),
        after
          ? sql`(${invitations.createdAt}, ${invitations.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(invitations.createdAt), desc(invitations.id))
    .limit(query.limit + 1)
  return toPage(rows, query.limit, (r): CursorKey => [r.cursorAt, r.id])
}

export async function isMember(tx: DbOrTx, tenantId: string, email: string) {
  const [row] = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.tenantId, tenantId), eq(sql`lower(${users.email})`, email)))
  return row !== undefined
}

/** A new invitation replaces any pending one for the same address. */
export async function createInvitation(
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

export async function revokeInvitation(tx: DbOrTx, tenantId: string, id: string) {
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
  return row ?? null
}

/** The invitation a raw token belongs to, in whichever tenant it is. */
export async function findInvitationByToken(database: DatabaseHandle, token: string) {
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
export async function acceptInvitation(
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
