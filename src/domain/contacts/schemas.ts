// The contact as the api shows it, and the filters of the contact list
// (TypeBox): what the contact reads and writes return and take.
import { type Static, type TSchema, Type } from 'typebox'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'

const Nullable = <T extends TSchema>(schema: T, description: string) =>
  Type.Union([schema, Type.Null()], { description })

export const Contact = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Nullable(
      Type.String(),
      'Stored normalised (NFKC, lowercase, the domain in ASCII), unique in the tenant; null ' +
        'once erased, or for a member whose address another contact holds',
    ),
    name: Nullable(Type.String(), 'null when not known, and once erased'),
    externalId: Nullable(
      Type.String(),
      "The tenant's own id for this person, unique in the tenant; null once erased",
    ),
    userId: Nullable(
      Type.String({ format: 'uuid' }),
      'The customer member who is this person (linked by a proven address); null once erased',
    ),
    erasedAt: Nullable(
      Type.String({ format: 'date-time' }),
      'When POST /v1/contacts/{id}/erase erased it; an erased contact cannot change',
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Contact',
    examples: [
      {
        id: EXAMPLE_IDS.contact,
        email: 'grace@example.com',
        name: 'Grace Hopper',
        externalId: 'crm-4711',
        userId: null,
        erasedAt: null,
        createdAt: EXAMPLE_TIMES.ticket,
        updatedAt: EXAMPLE_TIMES.ticket,
      },
    ],
  },
)
export type Contact = Static<typeof Contact>

export const ListContactsQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Name or email: every word is a prefix of a word of the name or the address ' +
          '(`gra hop` finds Grace Hopper), or the whole of it is the start of the address ' +
          '(`grace.hopper@exa`)',
      }),
    ),
    email: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 254,
        description: 'Exactly this address, compared in its stored form (case and NFKC folded)',
      }),
    ),
    externalId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Exactly this external id' }),
    ),
    ...PageQuery,
  },
  { additionalProperties: false },
)
export type ListContactsQuery = Static<typeof ListContactsQuery>
