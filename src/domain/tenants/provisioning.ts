// Creating a tenant: the tenant row, its built-in roles (owner, admin, agent,
// customer; per tenant so memberships can reference them with a composite
// foreign key) and the creator's owner membership, all in one transaction.
// Used by POST /v1/tenants and by signup with a tenant.
import { sql } from 'drizzle-orm'
import type { Tx } from '../../db/client.ts'
import { memberships, roles } from '../../db/schema/access.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { BUILTIN_ROLES } from '../../lib/permissions.ts'
import { BadRequest, Conflict } from '../../lib/problems.ts'
import { assertTenantNameAllowed } from '../../lib/tenant-names.ts'
import { tenantColumns } from './schemas.ts'

/** Subdomains and names a tenant may not take (routing, mail, confusion with us). */
export const RESERVED_SLUGS = new Set([
  'www',
  'api',
  'app',
  'admin',
  'mail',
  'smtp',
  'imap',
  'pop',
  'ftp',
  'docs',
  'status',
  'help',
  'support',
  'blog',
  'static',
  'assets',
  'cdn',
  'auth',
  'login',
  'signup',
  'account',
  'billing',
  'dashboard',
  'root',
  'system',
  'deskpilot',
  'test',
  'dev',
  'staging',
  'internal',
])

export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$'

export function slugProblem(slug: string): string | null {
  if (!new RegExp(SLUG_PATTERN).test(slug)) {
    return 'A slug is 3 to 40 lowercase letters, digits or hyphens, not starting or ending with a hyphen.'
  }
  if (RESERVED_SLUGS.has(slug)) return 'That slug is reserved.'
  return null
}

type NewTenant = {
  name: string
  slug: string
  ownerUserId: string
  /** where the tenant's fields sit in the request, for errors (default `body`) */
  at?: string
}

/** `tx` must be a transaction with no tenant set yet; it is scoped to the new tenant. */
export async function createTenantWithOwner(tx: Tx, input: NewTenant) {
  const at = input.at ?? 'body'
  const problem = slugProblem(input.slug)
  if (problem) {
    throw new BadRequest('invalid_slug', problem, [{ path: `${at}/slug`, message: problem }])
  }
  assertTenantNameAllowed(input.name, `${at}/name`)
  const inserted = await tx
    .insert(tenants)
    .values({ name: input.name, slug: input.slug.toLowerCase() })
    .onConflictDoNothing()
    .returning(tenantColumns)
  const tenant = inserted[0]
  if (!tenant) throw new Conflict('That slug is taken.', 'slug_taken')
  await tx.execute(sql`select set_config('app.tenant_id', ${tenant.id}, true)`)
  const builtins = await tx
    .insert(roles)
    .values(
      Object.entries(BUILTIN_ROLES).map(([name, role]) => ({
        tenantId: tenant.id,
        name,
        description: role.description,
        permissions: [...role.permissions],
        builtin: true,
      })),
    )
    .returning({ id: roles.id, name: roles.name })
  const owner = builtins.find((r) => r.name === 'owner')
  if (!owner) throw new Error('owner role missing')
  await tx
    .insert(memberships)
    .values({ tenantId: tenant.id, userId: input.ownerUserId, roleId: owner.id })
  return { tenant, ownerRoleId: owner.id }
}
