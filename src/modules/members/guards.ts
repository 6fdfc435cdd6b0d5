// Who may hand out which role. Shared by member changes and invitations: the
// role's permissions must all be held by the caller, and the owner role (whose
// holders can delete the tenant) is handed out or taken away only by an owner,
// since admins hold every permission too.

import type { Permission } from '../../lib/permissions.ts'
import { Forbidden, NotFound } from '../../lib/problems.ts'
import type { TenantContext } from '../../plugins/access.ts'

type RoleLike = { name: string; builtin: boolean; permissions: string[] }

export function isOwnerRole(role: { name: string; builtin: boolean }) {
  return role.builtin && role.name === 'owner'
}

export function assertCanAssignRole(caller: TenantContext, role: RoleLike | null) {
  if (!role) throw new NotFound('role')
  if (isOwnerRole(role) && caller.roleName !== 'owner') {
    throw new Forbidden('owner_required', 'Only an owner can make someone an owner.')
  }
  const missing = role.permissions.filter((p) => !caller.permissions.has(p as Permission))
  if (missing.length > 0) {
    throw new Forbidden(
      'permission_escalation',
      `You cannot grant permissions you do not hold: ${missing.join(', ')}.`,
    )
  }
}

export function assertCanManageMember(caller: TenantContext, target: { roleName: string }) {
  if (target.roleName === 'owner' && caller.roleName !== 'owner') {
    throw new Forbidden('owner_required', 'Only an owner can change or remove an owner.')
  }
}
