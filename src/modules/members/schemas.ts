// TypeBox schemas of the member and invitation routes.
import { Type } from 'typebox'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES, EXAMPLE_USER } from '../../lib/examples.ts'

const RoleRef = Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() })

export const Member = Type.Object(
  {
    userId: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email', examples: ['ada@example.com'] }),
    name: Type.String({ examples: ['Ada Lovelace'] }),
    role: RoleRef,
    active: Type.Boolean({ description: 'false: deactivated, cannot act in the tenant' }),
    joinedAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Member',
    examples: [
      {
        userId: EXAMPLE_IDS.user,
        email: EXAMPLE_USER.email,
        name: EXAMPLE_USER.name,
        role: { id: EXAMPLE_IDS.role, name: 'owner' },
        active: true,
        joinedAt: EXAMPLE_TIMES.signup,
      },
    ],
  },
)

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

export const Invitation = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    role: RoleRef,
    status: Type.Union([
      Type.Literal('pending'),
      Type.Literal('accepted'),
      Type.Literal('revoked'),
      Type.Literal('expired'),
    ]),
    invitedBy: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    expiresAt: Type.String({ format: 'date-time' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Invitation',
    examples: [
      {
        id: EXAMPLE_IDS.invitation,
        email: 'grace@example.com',
        role: { id: EXAMPLE_IDS.role, name: 'agent' },
        status: 'pending',
        invitedBy: EXAMPLE_IDS.user,
        expiresAt: EXAMPLE_TIMES.expiry,
        createdAt: EXAMPLE_TIMES.ticket,
      },
    ],
  },
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
