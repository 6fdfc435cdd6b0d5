// TypeBox schemas of the tenant routes: the contract for validation,
// serialization and the OpenAPI document.
import { Type } from 'typebox'
import { EXAMPLE_IDS, EXAMPLE_TENANT_SLUG, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { SLUG_PATTERN } from '../../lib/tenant-provisioning.ts'

export const AiReplyMode = Type.Union(
  [Type.Literal('off'), Type.Literal('draft'), Type.Literal('auto')],
  { description: 'off: no AI replies; draft: internal AI drafts; auto: AI answers customers' },
)

export const TenantSettings = Type.Object(
  { aiReplyMode: AiReplyMode },
  { additionalProperties: false },
)

export const Slug = Type.String({
  pattern: SLUG_PATTERN,
  minLength: 3,
  maxLength: 40,
  examples: ['acme'],
})

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
        settings: { aiReplyMode: 'off' },
        createdAt: EXAMPLE_TIMES.signup,
        updatedAt: EXAMPLE_TIMES.signup,
      },
    ],
  },
)

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

export const CreateTenantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, examples: ['Acme Inc.'] }),
    slug: Slug,
  },
  { additionalProperties: false, examples: [{ name: 'Globex Helpdesk', slug: 'globex' }] },
)

export const UpdateTenantBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    settings: Type.Optional(Type.Partial(TenantSettings, { additionalProperties: false })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ settings: { aiReplyMode: 'draft' } }],
  },
)
