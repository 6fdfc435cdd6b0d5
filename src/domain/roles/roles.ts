// The tenant's roles and the rules that guard them: built-in roles are
// read-only, a role in use cannot be deleted, nobody grants a permission they
// lack, and editing a role needs every permission it holds now. Each change is
// audited in its transaction.
import { and, asc, count, eq, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { invitations, memberships, roles } from '../../db/schema/access.ts'
import { withScope } from '../../db/scoped.ts'
import {
  assertHoldsAll,
  BUILTIN_ROLES,
  GRANT_REFUSAL,
  type Permission,
} from '../../lib/permissions.ts'
import { Conflict, NotFound } from '../../lib/problems.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { Role } from './schemas.ts'

type RoleRow = typeof roles.$inferSelect
/** Who changes a role: their tenant and what they hold. */
type Editor = { tenantId: string; permissions: ReadonlySet<Permission> }

export function presentRole(row: RoleRow): Static<typeof Role> {
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
function assertCanEditRole(held: Iterable<string>, current: { permissions: string[] }) {
  assertHoldsAll(held, current.permissions, {
    code: 'role_outranks_you',
    detail: (missing) =>
      `You can only change roles that hold no permission you lack; this role also holds: ${missing}.`,
  })
}

/** A role of the tenant, or null. */
export async function getRole(tx: DbOrTx, tenantId: string, roleId: string) {
  const [row] = await tx
    .select()
    .from(roles)
    .where(and(eq(roles.tenantId, tenantId), eq(roles.id, roleId)))
  return row ?? null
}

/** A role of the tenant by its name, compared as the unique index does (case-insensitive). */
export async function findRoleByName(tx: DbOrTx, tenantId: string, name: string) {
  const [row] = await tx
    .select()
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

export async function listRoles(database: DatabaseHandle, tenantId: string) {
  const rows = await withScope(database, { tenantId }, (tx) =>
    tx
      .select()
      .from(roles)
      .where(eq(roles.tenantId, tenantId))
      .orderBy(sql`${roles.builtin} desc`, asc(roles.name)),
  )
  return rows.map(presentRole)
}

async function assertNameFree(tx: DbOrTx, tenantId: string, name: string, exceptId?: string) {
  const taken = await findRoleByName(tx, tenantId, name)
  if (taken && taken.id !== exceptId) {
    throw new Conflict('A role with that name exists.', 'role_name_taken')
  }
}

export async function createRole(
  database: DatabaseHandle,
  editor: Editor,
  input: { name: string; description?: string; permissions: Permission[] },
  actor: AuditActor,
) {
  assertHoldsAll(editor.permissions, input.permissions, GRANT_REFUSAL)
  const { tenantId } = editor
  const row = await withScope(database, { tenantId }, async (tx) => {
    await assertNameFree(tx, tenantId, input.name)
    const [created] = await tx
      .insert(roles)
      .values({
        tenantId,
        name: input.name,
        description: input.description ?? '',
        permissions: [...new Set(input.permissions)],
      })
      .returning()
    const role = created!
    await recordAudit(tx, {
      tenantId,
      action: 'role.created',
      targetType: 'role',
      targetId: role.id,
      data: { name: role.name, permissions: role.permissions },
      ...actor,
    })
    return role
  })
  return presentRole(row)
}

export async function updateRole(
  database: DatabaseHandle,
  editor: Editor,
  roleId: string,
  patch: { name?: string; description?: string; permissions?: Permission[] },
  actor: AuditActor,
) {
  if (patch.permissions) assertHoldsAll(editor.permissions, patch.permissions, GRANT_REFUSAL)
  const { tenantId } = editor
  const row = await withScope(database, { tenantId }, async (tx) => {
    const current = await getRole(tx, tenantId, roleId)
    if (!current) throw new NotFound('role')
    assertCanEditRole(editor.permissions, current)
    if (current.builtin) throw new Conflict('Built-in roles cannot be changed.', 'builtin_role')
    if (patch.name !== undefined) await assertNameFree(tx, tenantId, patch.name, current.id)
    const [updated] = await tx
      .update(roles)
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.permissions ? { permissions: [...new Set(patch.permissions)] } : {}),
        updatedAt: sql`now()`,
      })
      .where(and(eq(roles.tenantId, tenantId), eq(roles.id, current.id)))
      .returning()
    const role = updated!
    await recordAudit(tx, {
      tenantId,
      action: 'role.updated',
      targetType: 'role',
      targetId: role.id,
      data: { before: current.permissions, after: role.permissions, name: role.name },
      ...actor,
    })
    return role
  })
  return presentRole(row)
}

export async function deleteRole(
  database: DatabaseHandle,
  tenantId: string,
  roleId: string,
  actor: AuditActor,
): Promise<void> {
  await withScope(database, { tenantId }, async (tx) => {
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
    await recordAudit(tx, {
      tenantId,
      action: 'role.deleted',
      targetType: 'role',
      targetId: role.id,
      data: { name: role.name },
      ...actor,
    })
  })
}
