// A user's active memberships across tenants, with each tenant and role: what
// /v1/auth/me and GET /v1/tenants show. It crosses tenants, so it reads
// through the narrow own_memberships path (app.user_id), not a tenant scope.
import { and, asc, eq, isNull } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { memberships, roles } from '../db/schema/access.ts'
import { tenants } from '../db/schema/tenants.ts'
import { withScope } from '../db/tenant-transaction.ts'

export function listUserMemberships(db: Db, userId: string) {
  return withScope(db, { userId }, (tx) =>
    tx
      .select({
        tenantId: tenants.id,
        tenantName: tenants.name,
        slug: tenants.slug,
        roleId: roles.id,
        roleName: roles.name,
        permissions: roles.permissions,
      })
      .from(memberships)
      .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
      .innerJoin(
        roles,
        and(eq(roles.tenantId, memberships.tenantId), eq(roles.id, memberships.roleId)),
      )
      .where(
        and(
          eq(memberships.userId, userId),
          eq(memberships.active, true),
          isNull(tenants.deletedAt),
        ),
      )
      .orderBy(asc(tenants.name), asc(tenants.id)),
  )
}
