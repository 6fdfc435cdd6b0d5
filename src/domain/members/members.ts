// Members of a tenant and the rules around them (guards.ts): who may change or
// remove whom, only owners hand out or take away the owner role, and a tenant
// always keeps at least one active owner. Changes are audited in their
// transaction; the caller clears the membership cache after commit.
import { and, eq, type SQL, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { memberships, roles } from '../../db/schema/access.ts'
import { users } from '../../db/schema/users.ts'
import { readInScope, withScope } from '../../db/scoped.ts'
import { cursorTime, isoTime, type RowOf, selectList } from '../../db/sql-fragments.ts'
import { type CursorKey, decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { expandPermissions } from '../../lib/permissions.ts'
import { Conflict, NotFound } from '../../lib/problems.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { getRole } from '../roles/roles.ts'
import {
  assertCanChangeRole,
  assertCanManageMember,
  assertCanRemoveMember,
  type Standing,
  takesOwnerAway,
} from './guards.ts'
import { membershipRoleJoin } from './membership-role.ts'
import { selectActiveMembership } from './memberships.ts'
import type { Member } from './schemas.ts'

/** The columns of a member row, for the query builder and the raw list alike. */
const memberColumns = {
  userId: memberships.userId,
  email: users.email,
  name: users.name,
  roleId: roles.id,
  roleName: roles.name,
  /** what a caller must hold to manage this member (guards.ts) */
  rolePermissions: roles.permissions,
  active: memberships.active,
  joinedAt: isoTime(memberships.createdAt),
}

/** The member, with the role's permissions the guards read. */
type MemberRow = RowOf<typeof memberColumns>

/** The caller of a member change: their standing in the tenant and who they are. */
export type Caller = Standing & { tenantId: string; userId: string | null }

export function presentMember(row: MemberRow): Static<typeof Member> {
  return {
    userId: row.userId,
    email: row.email,
    name: row.name,
    role: { id: row.roleId, name: row.roleName },
    active: row.active,
    joinedAt: row.joinedAt,
  }
}

const membersFrom = sql`${memberships}
  join ${users} on ${users.id} = ${memberships.userId}
  join ${roles} on ${membershipRoleJoin}`

export async function getMember(
  tx: DbOrTx,
  tenantId: string,
  userId: string,
): Promise<MemberRow | null> {
  const [row] = await tx
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(roles, membershipRoleJoin)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
  return row ?? null
}

/**
 * One page of members, oldest first. A hot read: sent as one pipelined round
 * trip with its tenant setting, so it is plain SQL over the same columns.
 */
export async function listMembers(
  database: DatabaseHandle,
  tenantId: string,
  query: { q?: string; limit: number; cursor?: string },
) {
  const after = decodeCursor(query.cursor, TimeIdCursor)
  const search = query.q?.trim()
  const pattern = search ? `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null
  const filters: SQL[] = [sql`${memberships.tenantId} = ${tenantId}`]
  if (pattern)
    filters.push(sql`(${users.email} ilike ${pattern} or ${users.name} ilike ${pattern})`)
  if (after) {
    filters.push(
      sql`(${memberships.createdAt}, ${memberships.userId}) > (${after[0]}::timestamptz, ${after[1]}::uuid)`,
    )
  }
  const rows = await readInScope<MemberRow & { cursorAt: string }>(
    database,
    { tenantId },
    sql`select ${selectList(memberColumns)}, ${cursorTime(memberships.createdAt)} as "cursorAt"
        from ${membersFrom}
        where ${sql.join(filters, sql` and `)}
        order by ${memberships.createdAt}, ${memberships.userId}
        limit ${query.limit + 1}`,
  )
  const page = toPage(rows, query.limit, (r): CursorKey => [r.cursorAt, r.userId])
  return { data: page.data.map(presentMember), nextCursor: page.nextCursor }
}

/** One member of the tenant; 404 for a user who is not one. */
export async function readMember(database: DatabaseHandle, tenantId: string, userId: string) {
  const row = await withScope(database, { tenantId }, (tx) => getMember(tx, tenantId, userId))
  if (!row) throw new NotFound('member')
  return presentMember(row)
}

/**
 * Would this change leave the tenant with no active owner? Locks the owners'
 * membership rows, so two concurrent demotions cannot both pass the check.
 */
async function assertOwnerRemains(tx: DbOrTx, tenantId: string, leavingUserId: string) {
  const owners = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(roles, membershipRoleJoin)
    .where(
      and(
        eq(memberships.tenantId, tenantId),
        eq(roles.name, 'owner'),
        eq(roles.builtin, true),
        eq(memberships.active, true),
      ),
    )
    .for('update', { of: memberships })
  if (!owners.some((o) => o.userId !== leavingUserId)) {
    throw new Conflict('A tenant must keep at least one owner.', 'last_owner')
  }
}

/** Changes a member's role or deactivates them, as the guards allow the caller. */
export async function updateMember(
  database: DatabaseHandle,
  caller: Caller,
  userId: string,
  patch: { roleId?: string; active?: boolean },
  actor: AuditActor,
) {
  const { tenantId } = caller
  const after = await withScope(database, { tenantId }, async (tx) => {
    const target = await getMember(tx, tenantId, userId)
    if (!target) throw new NotFound('member')
    assertCanManageMember(caller, target)
    const { roleId, active } = patch
    const changingRole = roleId !== undefined && roleId !== target.roleId
    const role = changingRole ? await getRole(tx, tenantId, roleId) : undefined
    if (changingRole) assertCanChangeRole(caller, userId === caller.userId, role ?? null)
    if (takesOwnerAway(target, { role, active })) await assertOwnerRemains(tx, tenantId, userId)
    await tx
      .update(memberships)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
    const changed = await getMember(tx, tenantId, userId)
    await recordAudit(tx, {
      tenantId,
      action: roleId !== undefined ? 'member.role_changed' : 'member.updated',
      targetType: 'user',
      targetId: userId,
      data: {
        before: { roleId: target.roleId, active: target.active },
        after: { roleId: changed?.roleId, active: changed?.active },
      },
      ...actor,
    })
    return changed
  })
  if (!after) throw new NotFound('member')
  return presentMember(after)
}

/** Removes a member, or lets the caller leave (their own user id). */
export async function removeMember(
  database: DatabaseHandle,
  caller: Caller,
  userId: string,
  actor: AuditActor,
): Promise<void> {
  const { tenantId } = caller
  const leaving = userId === caller.userId
  await withScope(database, { tenantId }, async (tx) => {
    const target = await getMember(tx, tenantId, userId)
    if (!target) throw new NotFound('member')
    assertCanRemoveMember(caller, target, leaving)
    if (takesOwnerAway(target, { removed: true })) await assertOwnerRemains(tx, tenantId, userId)
    await tx
      .delete(memberships)
      .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
    await recordAudit(tx, {
      tenantId,
      action: leaving ? 'member.left' : 'member.removed',
      targetType: 'user',
      targetId: userId,
      data: { roleId: target.roleId },
      ...actor,
    })
  })
}

/**
 * Someone's current standing in the tenant, or null when they are not an
 * active member. Locks their membership row (shared), so a removal or demotion
 * racing with what this standing allows waits for it to commit.
 */
export async function currentStanding(tx: DbOrTx, tenantId: string, userId: string) {
  const [row] = await selectActiveMembership(tx, tenantId, userId).for('share', {
    of: memberships,
  })
  return row ? { roleName: row.roleName, permissions: expandPermissions(row.permissions) } : null
}
