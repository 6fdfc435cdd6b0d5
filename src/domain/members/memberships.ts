// A user's active memberships across tenants, with each tenant and role: what
// /v1/auth/me and GET /v1/tenants show. It crosses tenants, so it reads
// through the narrow own_memberships path (app.user_id), not a tenant scope,
// in one pipelined round trip (db/tenant-read.ts): /auth/me is a hot route.
import { and, eq, sql } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { membershipRole, memberships, roles } from '../../db/schema/access.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { readInScope } from '../../db/scoped.ts'

export type UserMembership = {
  tenantId: string
  tenantName: string
  slug: string
  roleId: string
  roleName: string
  permissions: string[]
}

export function listUserMemberships(database: DatabaseHandle, userId: string) {
  return readInScope<UserMembership>(
    database,
    { userId },
    sql`select ${tenants.id} as "tenantId", ${tenants.name} as "tenantName", ${tenants.slug} as "slug",
          ${roles.id} as "roleId", ${roles.name} as "roleName", ${roles.permissions} as "permissions"
        from ${memberships}
        join ${tenants} on ${tenants.id} = ${memberships.tenantId}
        join ${roles} on ${roles.tenantId} = ${memberships.tenantId} and ${roles.id} = ${memberships.roleId}
        where ${memberships.userId} = ${userId} and ${memberships.active}
          and ${tenants.deletedAt} is null
        order by ${tenants.name}, ${tenants.id}`,
  )
}

/**
 * A user's active membership of one tenant, with its role: the query behind the
 * membership cache (plugins/tenant.ts) and a member's current standing. Run it
 * in that tenant's scope; a caller may add a row lock.
 */
export function selectActiveMembership(tx: DbOrTx, tenantId: string, userId: string) {
  return tx
    .select({ roleId: roles.id, roleName: roles.name, permissions: roles.permissions })
    .from(memberships)
    .innerJoin(roles, membershipRole)
    .where(
      and(
        eq(memberships.tenantId, tenantId),
        eq(memberships.userId, userId),
        eq(memberships.active, true),
      ),
    )
}
