// The permission catalogue (GET /v1/permissions) and the built-in roles. A role
// is a named set of these; a customer-facing role holds tickets:read (own
// tickets only) and never messages:internal.
import { Type } from 'typebox'

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
  'ai:use': 'Request AI replies',
  'webhooks:manage': 'Manage webhooks',
} as const

export type Permission = keyof typeof PERMISSIONS
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[]

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value)
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

export type BuiltinRoleName = keyof typeof BUILTIN_ROLES

/** A permission name, as a schema (an enum in the OpenAPI document). */
export const PermissionSchema = Type.Unsafe<Permission>(
  Type.String({ enum: ALL_PERMISSIONS, description: 'A permission from GET /v1/permissions' }),
)
