// The one join between a membership and the role it holds: a role is the
// tenant's own (roles are per tenant), so both the tenant and the role id
// match. A Drizzle condition, usable in the query builder
// (`.innerJoin(roles, membershipRoleJoin)`) and in raw SQL
// (sql`join ${roles} on ${membershipRoleJoin}`).
import { and, eq, type SQL } from 'drizzle-orm'
import { memberships, roles } from '../../db/schema/access.ts'

export const membershipRoleJoin = and(
  eq(roles.tenantId, memberships.tenantId),
  eq(roles.id, memberships.roleId),
) as SQL
