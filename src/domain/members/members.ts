// Members of a tenant and the rules around them: only owners hand out or take
// away the owner role, and a tenant always keeps at least one active owner.
import { and, eq, sql } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { membershipRole, memberships, roles } from '../../db/schema/access.ts'
import { users } from '../../db/schema/users.ts'
import { readInScope } from '../../db/scoped.ts'
import { cursorTime, isoTime } from '../../db/sql-fragments.ts'
import { type CursorKey, decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { BUILTIN_ROLES, expandPermissions } from '../../lib/permissions.ts'
import { Conflict } from '../../lib/problems.ts'
import { selectActiveMembership } from './memberships.ts'

const memberColumns = {
  userId: memberships.userId,
  email: users.email,
  name: users.name,
  roleId: roles.id,
  roleName: roles.name,
  /** what a caller must hold to manage this member (guards.ts) */
  rolePermissions: roles.permissions,
  active: memberships.active,
  joinedAt: memberships.createdAt,
}

type MemberRow = {
  userId: string
  email: string
  name: string
  roleId: string
  roleName: string
  active: boolean
  /** a Date from the query builder, an RFC 3339 string from the raw list query */
  joinedAt: Date | string
}

export function presentMember(row: MemberRow) {
  return {
    userId: row.userId,
    email: row.email,
    name: row.name,
    role: { id: row.roleId, name: row.roleName },
    active: row.active,
    joinedAt: typeof row.joinedAt === 'string' ? row.joinedAt : row.joinedAt.toISOString(),
  }
}

function membersQuery(tx: DbOrTx) {
  return tx
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(roles, membershipRole)
}

/**
 * One page of members, oldest first. A hot read: sent as one pipelined round
 * trip with its tenant setting (db/tenant-read.ts), so it is plain SQL with the
 * row shape spelled out.
 */
export async function listMembers(
  database: DatabaseHandle,
  tenantId: string,
  query: { q?: string; limit: number; cursor?: string },
) {
  const after = decodeCursor(query.cursor, TimeIdCursor)
  const search = query.q?.trim()
  const pattern = search ? `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null
  const filters = [sql`${memberships.tenantId} = ${tenantId}`]
  if (pattern)
    filters.push(sql`(${users.email} ilike ${pattern} or ${users.name} ilike ${pattern})`)
  if (after) {
    filters.push(
      sql`(${memberships.createdAt}, ${memberships.userId}) > (${after[0]}::timestamptz, ${after[1]}::uuid)`,
    )
  }
  const rows = await readInScope<MemberRow & { joinedAt: string; cursorAt: string }>(
    database,
    { tenantId },
    sql`select ${memberships.userId} as "userId", ${users.email} as "email", ${users.name} as "name",
          ${roles.id} as "roleId", ${roles.name} as "roleName", ${memberships.active} as "active",
          ${isoTime(memberships.createdAt)} as "joinedAt",
          ${cursorTime(memberships.createdAt)} as "cursorAt"
        from ${memberships}
        join ${users} on ${users.id} = ${memberships.userId}
        join ${roles} on ${roles.tenantId} = ${memberships.tenantId} and ${roles.id} = ${memberships.roleId}
        where ${sql.join(filters, sql` and `)}
        order by ${memberships.createdAt}, ${memberships.userId}
        limit ${query.limit + 1}`,
  )
  return toPage(rows, query.limit, (r): CursorKey => [r.cursorAt, r.userId])
}

export async function getMember(tx: DbOrTx, tenantId: string, userId: string) {
  const [row] = await membersQuery(tx).where(
    and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)),
  )
  return row ?? null
}

/**
 * Would this change leave the tenant with no active owner? Locks the owners'
 * membership rows, so two concurrent demotions cannot both pass the check.
 */
export async function assertOwnerRemains(tx: DbOrTx, tenantId: string, leavingUserId: string) {
  const owners = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(roles, membershipRole)
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

export async function updateMembership(
  tx: DbOrTx,
  tenantId: string,
  userId: string,
  patch: { roleId?: string; active?: boolean },
) {
  await tx
    .update(memberships)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
  return getMember(tx, tenantId, userId)
}

export async function removeMembership(tx: DbOrTx, tenantId: string, userId: string) {
  await tx
    .delete(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
}

const roleColumns = {
  id: roles.id,
  name: roles.name,
  builtin: roles.builtin,
  permissions: roles.permissions,
}

/** A role of the tenant, for assigning it to a member or an invitation. */
export async function findRole(tx: DbOrTx, tenantId: string, roleId: string) {
  const [row] = await tx
    .select(roleColumns)
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, roleId)))
  return row ?? null
}

/** A role of the tenant by its name, compared as the unique index does (case-insensitive). */
export async function findRoleByName(tx: DbOrTx, tenantId: string, name: string) {
  const [row] = await tx
    .select(roleColumns)
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(sql`lower(${roles.name})`, name.toLowerCase())))
  return row ?? null
}

/** The tenant's role names: the built-in ones from most to least rights, then custom ones. */
export async function roleNames(tx: DbOrTx, tenantId: string) {
  const rows = await tx
    .select({ name: roles.name, builtin: roles.builtin })
    .from(roles)
    .where(eq(roles.tenantId, tenantId))
    .orderBy(roles.name)
  const builtin = Object.keys(BUILTIN_ROLES)
  const rank = (r: { name: string; builtin: boolean }) =>
    r.builtin ? builtin.indexOf(r.name) : builtin.length
  return rows.sort((a, b) => rank(a) - rank(b)).map((r) => r.name)
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
