// TypeBox schemas of the auth routes: request bodies (closed: unknown fields
// are a 400) and responses (serialized from these, so nothing else can leak).
import { Type } from 'typebox'
import { PASSWORD_MAX_LENGTH } from '../../lib/passwords.ts'

const Email = Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] })
const Password = Type.String({
  minLength: 1,
  maxLength: PASSWORD_MAX_LENGTH,
  examples: ['correct horse battery staple'],
})
const OpaqueToken = Type.String({ minLength: 1, maxLength: 200, examples: ['Zm9v...'] })
const Uuid = Type.String({ format: 'uuid', examples: ['0190c3c4-8f5a-7cc2-b3f4-5d1e2a3b4c5d'] })
const Time = Type.String({ format: 'date-time', examples: ['2025-01-01T12:00:00.000Z'] })

export const User = Type.Object(
  {
    id: Uuid,
    email: Email,
    name: Type.String({ examples: ['Ada Lovelace'] }),
    emailVerified: Type.Boolean(),
    isPlatformAdmin: Type.Boolean(),
    createdAt: Time,
  },
  { additionalProperties: false },
)

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
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)

export const LoginBody = Type.Object(
  { email: Email, password: Password },
  { additionalProperties: false },
)

export const RefreshBody = Type.Object(
  { refreshToken: Type.Optional(OpaqueToken) },
  { additionalProperties: false },
)

/** signup and login answer tokens in the body and set cookies too */
export const SignedInResponse = Type.Object(
  {
    user: User,
    accessToken: Type.String({ examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9...'] }),
    refreshToken: Type.String({ examples: ['q8V0c4W6nH...'] }),
    expiresIn: Type.Integer({ description: 'access token lifetime in seconds', examples: [900] }),
    tokenType: Type.Literal('Bearer'),
    csrfToken: Type.String({ examples: ['mJ3d...'] }),
  },
  { additionalProperties: false },
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
  { additionalProperties: false },
)

export const CsrfResponse = Type.Object(
  { csrfToken: Type.String({ examples: ['mJ3d...'] }) },
  { additionalProperties: false },
)

export const MeResponse = Type.Object(
  {
    user: User,
    memberships: Type.Array(
      Type.Object(
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
      ),
    ),
  },
  { additionalProperties: false },
)

export const SessionItem = Type.Object(
  {
    id: Uuid,
    createdAt: Time,
    lastUsedAt: Time,
    expiresAt: Time,
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean({ description: 'the session this request belongs to' }),
  },
  { additionalProperties: false },
)

export const SessionList = Type.Object(
  { data: Type.Array(SessionItem), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
)

export const SessionListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
)

export const SessionParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const RevokedCount = Type.Object(
  { revoked: Type.Integer({ examples: [2] }) },
  { additionalProperties: false },
)

export const ForgotBody = Type.Object({ email: Email }, { additionalProperties: false })

export const ResetBody = Type.Object(
  { token: OpaqueToken, password: Password },
  { additionalProperties: false },
)

export const VerifyBody = Type.Object({ token: OpaqueToken }, { additionalProperties: false })

export const UnlockBody = Type.Object({ token: OpaqueToken }, { additionalProperties: false })

export const Accepted = Type.Object(
  { status: Type.Literal('accepted') },
  { additionalProperties: false },
)

export const NoContent = Type.Null({ description: 'No content' })
