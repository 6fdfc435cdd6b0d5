// The tenant as the api shows it (TypeBox): what the tenant reads and changes
// return, and the routes' response schema; and the table's columns behind it.
import { type Static, Type } from 'typebox'
import { tenants } from '../../db/schema/tenants.ts'
import { isoTime } from '../../db/sql-fragments.ts'
import { EXAMPLE_IDS, EXAMPLE_TENANT_SLUG, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { TenantSettings } from './settings.ts'

export const Tenant = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['Acme Inc.'] }),
    slug: Type.String({ examples: ['acme'] }),
    settings: TenantSettings,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Tenant',
    examples: [
      {
        id: EXAMPLE_IDS.tenant,
        name: 'Acme Support',
        slug: EXAMPLE_TENANT_SLUG,
        settings: { aiReplyMode: 'off', aiTriage: 'off', customerPortal: 'invite' },
        createdAt: EXAMPLE_TIMES.signup,
        updatedAt: EXAMPLE_TIMES.signup,
      },
    ],
  },
)
export type Tenant = Static<typeof Tenant>

export const TenantMembership = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    slug: Type.String(),
    role: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }),
  },
  {
    examples: [
      {
        id: EXAMPLE_IDS.tenant,
        name: 'Acme Support',
        slug: EXAMPLE_TENANT_SLUG,
        role: { id: EXAMPLE_IDS.role, name: 'owner' },
      },
    ],
  },
)
export type TenantMembership = Static<typeof TenantMembership>

/** The Tenant's columns (settings as stored), its times as the responses show them. */
export const tenantColumns = {
  id: tenants.id,
  name: tenants.name,
  slug: tenants.slug,
  settings: tenants.settings,
  createdAt: isoTime(tenants.createdAt),
  updatedAt: isoTime(tenants.updatedAt),
}
