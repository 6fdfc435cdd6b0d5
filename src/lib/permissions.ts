// The permission catalogue (GET /v1/permissions), which permissions include
// others, the built-in roles, and the one rule about handing permissions out.
// A role is a named set of these; a customer-facing role holds tickets:read
// (own tickets only) and never messages:internal.
import { Type } from 'typebox'
import type { CodeWithStatus } from './problem-catalogue.ts'
import { Forbidden } from './problems.ts'

export const PERMISSIONS = {
  'tickets:read': 'Read the tickets one requested',
  'tickets:read_all': 'Read every ticket of the tenant',
  'tickets:write': 'Create tickets and post messages',
  'tickets:assign': 'Assign tickets to agents',
  'tickets:delete': 'Delete tickets',
  'messages:internal': 'Read and write internal notes',
  'kb:read': 'Read knowledge-base articles (unpublished ones too with kb:write)',
  'kb:write': 'Create, edit and delete knowledge-base articles',
  'members:read': 'List members and invitations',
  'members:manage': 'Invite, change and remove members',
  'roles:manage': 'Create, edit and delete custom roles',
  'tenant:manage': 'Change the tenant settings',
  'api_keys:manage': 'Create and revoke API keys',
  'audit:read': 'Read the audit log',
  'ai:use': 'Request AI replies and ask the copilot',
  'ai:manage':
    "Choose the tenant's AI provider, key and budget; read every generation and the usage",
  'webhooks:manage': 'Manage webhooks',
  'contacts:read': 'Read contacts, the people the tenant supports',
  'contacts:write': 'Create, edit, delete and erase contacts',
  'tickets:merge': 'Merge tickets into another',
  'email:ingest': 'Hand inbound email to the tenant (mail gateways)',
  'events:read': 'Read the event feed (what else one may see of it needs no permission)',
} as const

export type Permission = keyof typeof PERMISSIONS
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[]

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value)
}

/**
 * Holding a permission named here grants each one listed with it, everywhere:
 * on routes, when handing permissions out, and in what /v1/auth/me reports.
 * Direct inclusions only; expandPermissions follows chains. A new permission
 * that includes another (contacts:write → contacts:read) is one line here.
 */
const PERMISSION_INCLUDES: Partial<Record<Permission, readonly Permission[]>> = {
  'tickets:read_all': ['tickets:read'],
  'kb:write': ['kb:read'],
  'members:manage': ['members:read'],
  'contacts:write': ['contacts:read'],
}

export function includedPermissions(permission: Permission): readonly Permission[] {
  return PERMISSION_INCLUDES[permission] ?? []
}

/** The permissions a holder of `held` has: those and everything they include. */
export function expandPermissions(held: Iterable<string>): Set<Permission> {
  const out = new Set<Permission>()
  const queue = [...held].filter(isPermission)
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (out.has(next)) continue
    out.add(next)
    queue.push(...includedPermissions(next))
  }
  return out
}

/** What both sets grant: a credential acting for someone never exceeds them. */
export function intersectPermissions(a: Iterable<string>, b: Iterable<string>): Set<Permission> {
  const other = expandPermissions(b)
  return new Set([...expandPermissions(a)].filter((p) => other.has(p)))
}

/** The permissions of `wanted` that `held` does not grant (inclusions counted). */
function missingPermissions(held: Iterable<string>, wanted: Iterable<string>): string[] {
  const grants = expandPermissions(held)
  return [...new Set(wanted)].filter((p) => !(isPermission(p) && grants.has(p)))
}

/**
 * The one rule for handing out and for outranking: nobody grants a permission
 * they lack (a role, an API key, an invitation's role), and nobody manages a
 * member whose role holds a permission they lack. `refusal` words the 403.
 */
export function assertHoldsAll(
  held: Iterable<string>,
  wanted: Iterable<string>,
  refusal: { code: CodeWithStatus<403>; detail: (missing: string) => string },
): void {
  const missing = missingPermissions(held, wanted)
  if (missing.length > 0) throw new Forbidden(refusal.code, refusal.detail(missing.join(', ')))
}

export const GRANT_REFUSAL = {
  code: 'permission_escalation' as const,
  detail: (missing: string) => `You cannot grant permissions you do not hold: ${missing}.`,
}

const AGENT: Permission[] = [
  'tickets:read',
  'tickets:read_all',
  'tickets:write',
  'tickets:assign',
  'messages:internal',
  'kb:read',
  'kb:write',
  'members:read',
  'ai:use',
  'contacts:read',
  'contacts:write',
  'tickets:merge',
  'events:read',
]

export const BUILTIN_ROLES = {
  owner: {
    description: 'Full control, including deleting the tenant',
    permissions: ALL_PERMISSIONS,
  },
  admin: {
    description: 'Manages the tenant, its members and settings',
    permissions: ALL_PERMISSIONS,
  },
  agent: { description: 'Works tickets and the knowledge base', permissions: AGENT },
  customer: {
    description: 'Opens tickets and reads published articles',
    permissions: ['tickets:read', 'tickets:write', 'kb:read'] as Permission[],
  },
} as const satisfies Record<string, { description: string; permissions: readonly Permission[] }>

/** A permission name, as a schema (an enum in the OpenAPI document). */
export const PermissionSchema = Type.Unsafe<Permission>(
  Type.String({ enum: ALL_PERMISSIONS, description: 'A permission from GET /v1/permissions' }),
)
