// The member and invitation resources as answers show them; the members and
// invitation queries return rows of these.
import { Type } from 'typebox'
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

const Uuid = Type.String({ format: 'uuid', examples: ['0190c3c4-8f5a-7cc2-b3f4-5d1e2a3b4c5d'] })

/** One of the signed-in user's own memberships, as /v1/auth/me shows it. */
export const MyMembership = Type.Object(
  {
    tenant: Type.Object({
      id: Uuid,
      name: Type.String({ examples: ['Acme Support'] }),
      slug: Type.String({ examples: ['acme'] }),
    }),
    role: Type.Object({ id: Uuid, name: Type.String({ examples: ['owner'] }) }),
    permissions: Type.Array(Type.String({ examples: ['tickets:read'] })),
  },
  { additionalProperties: false },
)

/** A membership the caller just took through the customer portal, and the contact it acts as. */
export const JoinedMembership = Type.Object(
  {
    ...MyMembership.properties,
    contactId: Type.String({
      format: 'uuid',
      description:
        'The contact the new customer acts as: the one with its (verified) email, made if none',
    }),
  },
  {
    additionalProperties: false,
    description: 'The new membership, as GET /v1/auth/me shows memberships, with its contact',
    examples: [
      {
        tenant: { id: EXAMPLE_IDS.tenant, name: 'Acme Support', slug: 'acme' },
        role: { id: EXAMPLE_IDS.role, name: 'customer' },
        permissions: ['tickets:read', 'tickets:write', 'kb:read'],
        contactId: EXAMPLE_IDS.contact,
      },
    ],
  },
)
