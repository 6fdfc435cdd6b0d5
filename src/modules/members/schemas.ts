// TypeBox schemas of the member and invitation routes: params, queries and
// bodies (the Member and Invitation resources are domain/members/schemas.ts).
import { Type } from 'typebox'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS } from '../../lib/examples.ts'
import { SignedInResponse, signedInExample } from '../../plugins/token-issuer.ts'

export const MemberParams = Type.Object({ userId: Type.String({ format: 'uuid' }) })

export const ListMembersQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 100, description: 'Search in name and email' })),
    ...PageQuery,
  },
  { additionalProperties: false },
)

export const UpdateMemberBody = Type.Object(
  {
    roleId: Type.Optional(Type.String({ format: 'uuid' })),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ active: false }] },
)

export const CreateInvitationBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254, examples: ['grace@example.com'] }),
    role: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 60,
        description:
          'The role by name, case-insensitive (owner, admin, agent, customer or a custom role); ' +
          'send this or roleId',
        examples: ['customer'],
      }),
    ),
    roleId: Type.Optional(
      Type.String({ format: 'uuid', description: 'The role by id; send this or role' }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ email: 'grace@example.com', role: 'customer' }],
  },
)

export const AcceptInvitationBody = Type.Object(
  {
    token: Type.String({ minLength: 20, maxLength: 128 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        token: 'inv_Qm9vdHN0cmFwIGludml0YXRpb24gdG9rZW4',
        name: 'Grace Hopper',
        password: 'a long and unusual passphrase',
      },
    ],
  },
)

const AcceptedInvitationFields = {
  tenant: Type.Object({ id: Type.String({ format: 'uuid' }) }),
  roleId: Type.String({ format: 'uuid' }),
  userId: Type.String({ format: 'uuid' }),
}
const acceptedExample = {
  tenant: { id: EXAMPLE_IDS.tenant },
  roleId: EXAMPLE_IDS.role,
  userId: EXAMPLE_IDS.agent,
}
export const AcceptedInvitation = Type.Object(AcceptedInvitationFields, {
  description: 'Accepted by the signed-in user',
  examples: [acceptedExample],
})

/** A new account: signup's answer (tokens, cookies set) with what was accepted. */
export const AcceptedWithAccount = Type.Object(
  { ...SignedInResponse.properties, ...AcceptedInvitationFields },
  {
    description: 'Accepted with a new account, signed in as signup does',
    examples: [{ ...signedInExample, ...acceptedExample }],
  },
)
