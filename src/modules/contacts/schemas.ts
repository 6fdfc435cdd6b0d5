// TypeBox schemas of the contact routes' inputs and pages (the contact and the
// list's filters are the domain's: domain/contacts/schemas.ts).
import { Type } from 'typebox'
import { Contact } from '../../domain/contacts/schemas.ts'
import { Page } from '../../lib/page.ts'

const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  description:
    'Stored lowercased, NFKC-folded, domain in ASCII; a non-ASCII local part is refused ' +
    '(400 invalid_email); unique in the tenant (409 contact_exists)',
})
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })
const ExternalId = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '\\S',
  description: "The tenant's own id for this person (a CRM id); unique in the tenant",
})

export const ContactParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

export const CreateContactBody = Type.Object(
  { email: Email, name: Type.Optional(Name), externalId: Type.Optional(ExternalId) },
  {
    additionalProperties: false,
    examples: [{ email: 'grace@example.com', name: 'Grace Hopper', externalId: 'crm-4711' }],
  },
)

export const UpdateContactBody = Type.Object(
  {
    email: Type.Optional(Email),
    name: Type.Optional(Type.Union([Name, Type.Null()], { description: 'null forgets the name' })),
    externalId: Type.Optional(
      Type.Union([ExternalId, Type.Null()], { description: 'null removes the external id' }),
    ),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ name: 'Grace B. Hopper' }] },
)

export const ContactPage = Page(Contact, { description: 'A page of contacts, newest first' })
