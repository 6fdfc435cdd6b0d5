// Who may hand out which role, and who may manage whom. Shared by member
// changes, invitations and their acceptance:
// - a role handed out may hold only permissions the giver holds (inclusions
//   counted: lib/permissions.ts holds the one rule);
// - a member may be changed, deactivated or removed only by someone holding
//   every permission of the member's current role, so a "team lead" with
//   members:manage cannot demote, deactivate or remove an admin or anyone else
//   who holds what the team lead lacks;
// - the owner role (whose holders can delete the tenant) is handed out or taken
//   away only by an owner, since admins hold every permission too;
// - nobody but an owner changes their own role; anyone may leave.
// Whether any owner is left afterwards is a query: members.ts assertOwnerRemains.

import { assertHoldsAll, GRANT_REFUSAL, type Permission } from '../../lib/permissions.ts'
import { Forbidden, NotFound } from '../../lib/problems.ts'

type RoleLike = { name: string; builtin: boolean; permissions: string[] }
/** Someone's standing in the tenant: a member's role, or an API key (no role). */
export type Standing = { roleName: string | null; permissions: ReadonlySet<Permission> }

export function isOwnerRole(role: { name: string; builtin: boolean }) {
  return role.builtin && role.name === 'owner'
}

export function assertCanAssignRole(giver: Standing, role: RoleLike | null) {
  if (!role) throw new NotFound('role')
  if (isOwnerRole(role) && giver.roleName !== 'owner') {
    throw new Forbidden('owner_required', 'Only an owner can make someone an owner.')
  }
  assertHoldsAll(giver.permissions, role.permissions, GRANT_REFUSAL)
}

export function assertCanManageMember(
  caller: Standing,
  target: { roleName: string; rolePermissions: string[] },
) {
  if (target.roleName === 'owner' && caller.roleName !== 'owner') {
    throw new Forbidden('owner_required', 'Only an owner can change or remove an owner.')
  }
  // Owners manage everyone (they hold every permission anyway).
  if (caller.roleName === 'owner') return
  assertHoldsAll(caller.permissions, target.rolePermissions, {
    code: 'member_outranks_you',
    detail: (missing) =>
      `You can only change, deactivate or remove members whose role holds no permission you lack; this member's role also holds: ${missing}.`,
  })
}

/** A role change: nobody but an owner changes their own role; the new role is one the caller may hand out. */
export function assertCanChangeRole(caller: Standing, ownRole: boolean, role: RoleLike | null) {
  if (ownRole && caller.roleName !== 'owner') {
    throw new Forbidden('cannot_change_own_role', 'You cannot change your own role.')
  }
  assertCanAssignRole(caller, role)
}

/** Removing a member: leaving needs no standing; removing another is managing them. */
export function assertCanRemoveMember(
  caller: Standing,
  target: { roleName: string; rolePermissions: string[] },
  leaving: boolean,
) {
  if (!leaving) assertCanManageMember(caller, target)
}

/** Whether a change or a removal leaves the target without the owner role it holds. */
export function takesOwnerAway(
  target: { roleName: string },
  change: { role?: RoleLike | null; active?: boolean; removed?: true },
) {
  if (target.roleName !== 'owner') return false
  return (
    change.removed === true ||
    change.active === false ||
    (change.role != null && !isOwnerRole(change.role))
  )
}
