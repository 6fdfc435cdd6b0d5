// The customer portal: a signed-in user joins a tenant on its own, as a
// customer, when the tenant's customerPortal setting is `open` (the default,
// `invite`, takes customers by invitation only). The address must be verified:
// joining links the user to the tenant's contact with that address
// (requesters.ts), and with it to the tickets written for that address, so an
// unproven address would hand anyone a customer's tickets.
//
// Only a stranger joins: an existing membership, active or deactivated, answers
// 409 already_member (the portal never changes a role, nor undoes an admin's
// deactivation). One transaction: the membership, the contact link and the
// audit event commit together; of two joins at once the membership's primary
// key lets one win.
import { and, eq, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle } from '../../db/client.ts'
import { memberships, roles } from '../../db/schema/access.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { users } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { ALL_PERMISSIONS, expandPermissions } from '../../lib/permissions.ts'
import { Conflict, Forbidden, NotFound } from '../../lib/problems.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { memberContact } from '../contacts/requesters.ts'
import { settingOf } from '../tenants/settings.ts'
import type { JoinedMembership } from './schemas.ts'

const ALREADY_MEMBER =
  'You are a member of this tenant already (a deactivated membership is restored by its admins).'

export async function joinPortal(
  database: DatabaseHandle,
  tenantId: string,
  userId: string,
  actor: AuditActor,
): Promise<Static<typeof JoinedMembership>> {
  return withScope(database, { tenantId }, async (tx) => {
    const [tenant] = await tx
      .select({
        id: tenants.id,
        name: tenants.name,
        slug: tenants.slug,
        portal: settingOf('customerPortal'),
      })
      .from(tenants)
      .where(and(eq(tenants.id, tenantId), sql`${tenants.deletedAt} is null`))
    if (!tenant) throw new NotFound('tenant')
    const [member] = await tx
      .select({ active: memberships.active })
      .from(memberships)
      .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
    if (member) throw new Conflict(ALREADY_MEMBER, 'already_member')
    if (tenant.portal !== 'open') {
      throw new Forbidden('portal_closed', 'This tenant takes new customers by invitation only.')
    }
    const [user] = await tx
      .select({ verified: sql<boolean>`${users.emailVerifiedAt} is not null` })
      .from(users)
      .where(eq(users.id, userId))
    if (!user?.verified) {
      throw new Forbidden(
        'email_unverified',
        'Verify your email address first: joining links you to the tickets written for it.',
      )
    }
    const [role] = await tx
      .select({ id: roles.id, name: roles.name, permissions: roles.permissions })
      .from(roles)
      .where(and(eq(roles.tenantId, tenantId), eq(roles.builtin, true), eq(roles.name, 'customer')))
    if (!role) throw new Error(`tenant ${tenantId} has no built-in customer role`)
    const [joined] = await tx
      .insert(memberships)
      .values({ tenantId, userId, roleId: role.id })
      .onConflictDoNothing()
      .returning({ userId: memberships.userId })
    if (!joined) throw new Conflict(ALREADY_MEMBER, 'already_member')
    // Verified above, so the address is proven: the contact with it is linked.
    const contactId = await memberContact(tx, tenantId, userId, { proven: true })
    await recordAudit(tx, {
      tenantId,
      action: 'member.joined',
      targetType: 'member',
      targetId: userId,
      data: { via: 'portal', roleId: role.id, contactId },
      ...actor,
    })
    const granted = expandPermissions(role.permissions)
    return {
      tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug },
      role: { id: role.id, name: role.name },
      permissions: ALL_PERMISSIONS.filter((p) => granted.has(p)),
      contactId,
    }
  })
}
