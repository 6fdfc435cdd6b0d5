// TypeBox schemas of the auth routes: request bodies (closed: unknown fields
// are a 400) and responses (serialized from these, so nothing else can leak).
import { Type } from 'typebox'
import { PASSWORD_MAX_LENGTH } from '../../domain/accounts/passwords.ts'
import { User, userExample } from '../../domain/accounts/schemas.ts'
import { MyMembership } from '../../domain/members/schemas.ts'
import { SessionItem } from '../../domain/sessions/schemas.ts'
import { PageQuery } from '../../lib/cursor.ts'
import {
  EXAMPLE_IDS,
  EXAMPLE_TENANT_SLUG,
  EXAMPLE_TIMES,
  EXAMPLE_USER,
} from '../../lib/examples.ts'
import { Page } from '../../lib/page.ts'
import { tokensExample } from '../../plugins/token-issuer.ts'

const Email = Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] })
const Password = Type.String({
  minLength: 1,
  maxLength: PASSWORD_MAX_LENGTH,
  examples: ['correct horse battery staple'],
})
const OpaqueToken = Type.String({ minLength: 1, maxLength: 200, examples: ['Zm9v...'] })
const Uuid = Type.String({ format: 'uuid', examples: ['0190c3c4-8f5a-7cc2-b3f4-5d1e2a3b4c5d'] })

export const SignupBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.String({ minLength: 1, maxLength: 200, examples: ['Ada Lovelace'] }),
    tenant: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 200, examples: ['Acme Support'] }),
          slug: Type.String({ minLength: 3, maxLength: 40, examples: ['acme'] }),
        },
        { additionalProperties: false, description: 'Creates a tenant with you as its owner' },
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        ...EXAMPLE_USER,
        tenant: { name: 'Acme Support', slug: EXAMPLE_TENANT_SLUG },
      },
    ],
  },
)

export const LoginBody = Type.Object(
  { email: Email, password: Password },
  {
    additionalProperties: false,
    examples: [{ email: EXAMPLE_USER.email, password: EXAMPLE_USER.password }],
  },
)

export const RefreshBody = Type.Object(
  { refreshToken: Type.Optional(OpaqueToken) },
  {
    additionalProperties: false,
    description: 'Omit the body, or refreshToken, to use the refresh cookie',
    examples: [{ refreshToken: tokensExample.refreshToken }],
  },
)

/** a refresh by cookie is answered by cookie only: no tokens in the body then */
export const RefreshResponse = Type.Object(
  {
    accessToken: Type.Optional(Type.String()),
    refreshToken: Type.Optional(Type.String()),
    expiresIn: Type.Integer({ examples: [900] }),
    tokenType: Type.Literal('Bearer'),
    csrfToken: Type.String(),
  },
  {
    additionalProperties: false,
    description: 'The new tokens (by cookie only when the refresh token came by cookie)',
    examples: [tokensExample],
  },
)

export const CsrfResponse = Type.Object(
  { csrfToken: Type.String({ examples: ['mJ3d...'] }) },
  {
    additionalProperties: false,
    description: "The session's CSRF token",
    examples: [{ csrfToken: tokensExample.csrfToken }],
  },
)

export const MeResponse = Type.Object(
  {
    user: User,
    memberships: Type.Array(MyMembership),
  },
  {
    additionalProperties: false,
    description: 'The user and their memberships',
    examples: [
      {
        user: userExample,
        memberships: [
          {
            tenant: { id: EXAMPLE_IDS.tenant, name: 'Acme Support', slug: EXAMPLE_TENANT_SLUG },
            role: { id: EXAMPLE_IDS.role, name: 'owner' },
            permissions: ['tickets:read', 'tickets:read_all', 'tickets:write', 'members:manage'],
          },
        ],
      },
    ],
  },
)

export const SessionList = Page(
  Type.Object(SessionItem.properties, {
    additionalProperties: false,
    examples: [
      {
        id: EXAMPLE_IDS.session,
        createdAt: EXAMPLE_TIMES.signup,
        lastUsedAt: EXAMPLE_TIMES.reply,
        expiresAt: EXAMPLE_TIMES.expiry,
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
        ip: '203.0.113.7',
        current: true,
      },
    ],
  }),
  { description: "A page of the caller's sessions" },
)

export const SessionListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const SessionParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const RevokedCount = Type.Object(
  { revoked: Type.Integer({ examples: [2] }) },
  {
    additionalProperties: false,
    description: 'How many sessions were revoked',
    examples: [{ revoked: 2 }],
  },
)

export const ForgotBody = Type.Object(
  { email: Email },
  { additionalProperties: false, examples: [{ email: EXAMPLE_USER.email }] },
)

const MAILED_TOKEN_EXAMPLE = 'Yx3kQ0m8Vb2nR5tZ7wLc9pFh4jD6sGa1'

export const ResetBody = Type.Object(
  { token: OpaqueToken, password: Password },
  {
    additionalProperties: false,
    examples: [{ token: MAILED_TOKEN_EXAMPLE, password: 'a new and longer passphrase' }],
  },
)

export const VerifyBody = Type.Object(
  { token: OpaqueToken },
  { additionalProperties: false, examples: [{ token: MAILED_TOKEN_EXAMPLE }] },
)

export const UnlockBody = Type.Object(
  { token: OpaqueToken },
  { additionalProperties: false, examples: [{ token: 'Yk3vQ9mT2wLx8pR4sZ1nB6cH0dJ5fG7a' }] },
)

export const Accepted = Type.Object(
  { status: Type.Literal('accepted') },
  {
    additionalProperties: false,
    description: 'Accepted: an email is on its way if the address has an account',
    examples: [{ status: 'accepted' }],
  },
)

export const NoContent = Type.Null({ description: 'No content' })
