// A user's memberships: across tenants (what /v1/auth/me and GET /v1/tenants
// show), and one tenant's, with its role (what the membership cache of
// plugins/tenant.ts holds and what a member's current standing is read from).
// Across tenants it reads through the narrow own_memberships path
// (app.user_id), not a tenant scope, in one pipelined round trip: /auth/me is a
// hot route.
import { and, eq, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { memberships, roles } from '../../db/schema/access.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { readInScope, withScope } from '../../db/scoped.ts'
import { type RowOf, selectList } from '../../db/sql-fragments.ts'
import { ALL_PERMISSIONS, expandPermissions, type Permission } from '../../lib/permissions.ts'
import { membershipRoleJoin } from './membership-role.ts'
import type { MyMembership } from './schemas.ts'

const userMembershipColumns = {
  tenantId: tenants.id,
  tenantName: tenants.name,
  slug: tenants.slug,
  roleId: roles.id,
  roleName: roles.name,
  permissions: roles.permissions,
}

export function listUserMemberships(database: DatabaseHandle, userId: string) {
  return readInScope<RowOf<typeof userMembershipColumns>>(
    database,
    { userId },
    sql`select ${selectList(userMembershipColumns)}
        from ${memberships}
        join ${tenants} on ${tenants.id} = ${memberships.tenantId}
        join ${roles} on ${membershipRoleJoin}
        where ${memberships.userId} = ${userId} and ${memberships.active}
          and ${tenants.deletedAt} is null
        order by ${tenants.name}, ${tenants.id}`,
  )
}

/**
 * The user's own memberships as /v1/auth/me shows them. Permissions are what
 * the role grants, inclusions counted, in catalogue order: what the routes
 * will allow.
 */
export async function myMemberships(
  database: DatabaseHandle,
  userId: string,
): Promise<Static<typeof MyMembership>[]> {
  const rows = await listUserMemberships(database, userId)
  return rows.map((r) => {
    const granted = expandPermissions(r.permissions)
    return {
      tenant: { id: r.tenantId, name: r.tenantName, slug: r.slug },
      role: { id: r.roleId, name: r.roleName },
      permissions: ALL_PERMISSIONS.filter((p) => granted.has(p)),
    }
  })
}

/**
 * A user's active membership of one tenant, with its role. Run it in that
 * tenant's scope; a caller may add a row lock.
 */
export function selectActiveMembership(tx: DbOrTx, tenantId: string, userId: string) {
  return tx
    .select({ roleId: roles.id, roleName: roles.name, permissions: roles.permissions })
    .from(memberships)
    .innerJoin(roles, membershipRoleJoin)
    .where(
      and(
        eq(memberships.tenantId, tenantId),
        eq(memberships.userId, userId),
        eq(memberships.active, true),
      ),
    )
}

/** A member's standing in a tenant: the role and what it grants, inclusions expanded. */
export type MemberStanding = {
  roleId: string
  roleName: string
  permissions: ReadonlySet<Permission>
}

/** The user's active membership of the tenant with its permissions expanded, or null. */
export async function loadMembership(
  database: DatabaseHandle,
  tenantId: string,
  userId: string,
): Promise<MemberStanding | null> {
  const [row] = await withScope(database, { tenantId }, (tx) =>
    selectActiveMembership(tx, tenantId, userId),
  )
  if (!row) return null
  return {
    roleId: row.roleId,
    roleName: row.roleName,
    permissions: expandPermissions(row.permissions),
  }
}
