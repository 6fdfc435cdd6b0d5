// What the email telling a tenant's admins that Deskpilot turned a webhook
// endpoint off is written from: the endpoint's URL, the tenant, and the active
// members who may manage webhooks (webhooks:manage).
import { sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { memberships, roles } from '../../db/schema/access.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { users } from '../../db/schema/users.ts'
import { webhookEndpoints } from '../../db/schema/webhooks.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import { membershipRoleJoin } from '../members/membership-role.ts'

const MAX_RECIPIENTS = 100
const w = webhookEndpoints

export type DisabledNotice = {
  url: string
  reason: string | null
  tenantName: string
  tenantSlug: string
  recipients: string[]
}

export async function readDisabledNotice(
  database: DatabaseHandle,
  tenantId: string,
  webhookId: string,
): Promise<DisabledNotice | null> {
  return withScope(database, { tenantId }, async (tx) => {
    const [endpoint] = await rowsOf<Omit<DisabledNotice, 'recipients'>>(
      tx,
      sql`select ${w.url} as url, ${w.disabledReason} as reason, ${tenants.name} as "tenantName",
                 ${tenants.slug} as "tenantSlug"
          from ${w} join ${tenants} on ${tenants.id} = ${w.tenantId}
          where ${w.tenantId} = ${tenantId} and ${w.id} = ${webhookId}`,
    )
    if (!endpoint) return null
    const admins = await rowsOf<{ email: string }>(
      tx,
      sql`select ${users.email} as email from ${memberships}
          join ${roles} on ${membershipRoleJoin}
          join ${users} on ${users.id} = ${memberships.userId}
          where ${memberships.tenantId} = ${tenantId} and ${memberships.active}
            and 'webhooks:manage' = any(${roles.permissions})
          order by ${users.email} limit ${MAX_RECIPIENTS}`,
    )
    return { ...endpoint, recipients: admins.map((a) => a.email) }
  })
}
