// Role queries and the rules that guard them: built-in roles are read-only, a
// role in use cannot be deleted, and nobody grants a permission they lack.
import { and, asc, count, eq, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.ts'
import { invitations, memberships, roles } from '../../db/schema/access.ts'
import { assertHoldsAll, type Permission } from '../../lib/permissions.ts'
import { Conflict, NotFound } from '../../lib/problems.ts'

type RoleRow = typeof roles.$inferSelect

export function presentRole(row: RoleRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    permissions: row.permissions as Permission[],
    builtin: row.builtin,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

/**
 * Editing a role changes what its members hold, so it needs what managing
 * those members needs: every permission the role has now.
 */
export function assertCanEditRole(held: Iterable<string>, current: { permissions: string[] }) {
  assertHoldsAll(held, current.permissions, {
    code: 'role_outranks_you',
    detail: (missing) =>
      `You can only change roles that hold no permission you lack; this role also holds: ${missing}.`,
  })
}

export async function listRoles(tx: DbOrTx, tenantId: string) {
  return tx
    .select()
    .from(roles)
    .where(eq(roles.tenantId, tenantId))
    .orderBy(sql`${roles.builtin} desc`, asc(roles.name))
}

export async function getRole(tx: DbOrTx, tenantId: string, roleId: string) {
  const [row] = await tx
    .select()
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, roleId)))
  return row ?? null
}

async function nameTaken(tx: DbOrTx, tenantId: string, name: string, exceptId?: string) {
  const [row] = await tx
    .select({ id: roles.id })
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(sql`lower(${roles.name})`, name.toLowerCase())))
  return row !== undefined && row.id !== exceptId
}

export async function createRole(
  tx: DbOrTx,
  tenantId: string,
  input: { name: string; description?: string; permissions: Permission[] },
) {
  if (await nameTaken(tx, tenantId, input.name)) {
    throw new Conflict('A role with that name exists.', 'role_name_taken')
  }
  const [row] = await tx
    .insert(roles)
    .values({
      tenantId,
      name: input.name,
      description: input.description ?? '',
      permissions: [...new Set(input.permissions)],
    })
    .returning()
  return row!
}

export async function updateRole(
  tx: DbOrTx,
  tenantId: string,
  role: RoleRow,
  patch: { name?: string; description?: string; permissions?: Permission[] },
) {
  if (role.builtin) throw new Conflict('Built-in roles cannot be changed.', 'builtin_role')
  if (patch.name !== undefined && (await nameTaken(tx, tenantId, patch.name, role.id))) {
    throw new Conflict('A role with that name exists.', 'role_name_taken')
  }
  const [row] = await tx
    .update(roles)
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.permissions ? { permissions: [...new Set(patch.permissions)] } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, role.id)))
    .returning()
  return row!
}

export async function deleteRole(tx: DbOrTx, tenantId: string, roleId: string) {
  const role = await getRole(tx, tenantId, roleId)
  if (!role) throw new NotFound('role')
  if (role.builtin) throw new Conflict('Built-in roles cannot be deleted.', 'builtin_role')
  const [members] = await tx
    .select({ n: count() })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.roleId, roleId)))
  const [invites] = await tx
    .select({ n: count() })
    .from(invitations)
    .where(and(eq(invitations.tenantId, tenantId), eq(invitations.roleId, roleId)))
  if ((members?.n ?? 0) > 0 || (invites?.n ?? 0) > 0) {
    throw new Conflict('The role is in use by members or invitations.', 'role_in_use')
  }
  await tx.delete(roles).where(and(eq(roles.tenantId, tenantId), eq(roles.id, roleId)))
  return role
}
