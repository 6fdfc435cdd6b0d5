// TypeBox schemas of the tenant routes' inputs (the tenant itself and its
// settings are the domain's: domain/tenants/schemas.ts, settings.ts).
import { Type } from 'typebox'
import { SLUG_PATTERN } from '../../domain/tenants/provisioning.ts'
import { TenantSettings } from '../../domain/tenants/settings.ts'

const Slug = Type.String({
  pattern: SLUG_PATTERN,
  minLength: 3,
  maxLength: 40,
  examples: ['acme'],
})

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

export const SlugQuery = Type.Object(
  { slug: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)

export const SlugAvailability = Type.Object(
  {
    slug: Type.String(),
    available: Type.Boolean(),
    reason: Type.Optional(
      Type.Union([Type.Literal('taken'), Type.Literal('reserved'), Type.Literal('invalid')]),
    ),
  },
  {
    description: 'Whether the slug is free',
    examples: [{ slug: 'globex', available: true }],
  },
)
