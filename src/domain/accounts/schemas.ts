// The account as every answer shows it (signup, login, /me, an invitation
// accepted with a new account); the account functions return rows of it.
import { Type } from 'typebox'
import { EXAMPLE_IDS, EXAMPLE_TIMES, EXAMPLE_USER } from '../../lib/examples.ts'

export const userExample = {
  id: EXAMPLE_IDS.user,
  email: EXAMPLE_USER.email,
  name: EXAMPLE_USER.name,
  emailVerified: false,
  isPlatformAdmin: false,
  avatarUrl: null,
  createdAt: EXAMPLE_TIMES.signup,
}

export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid', examples: ['0190c3c4-8f5a-7cc2-b3f4-5d1e2a3b4c5d'] }),
    email: Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] }),
    name: Type.String({ examples: ['Ada Lovelace'] }),
    emailVerified: Type.Boolean(),
    isPlatformAdmin: Type.Boolean(),
    avatarUrl: Type.Union([Type.String(), Type.Null()], {
      description:
        'Where the avatar image is served (any signed-in caller may fetch it); a new avatar ' +
        'is a new URL. null without one',
      examples: [
        '/v1/users/0190c3c4-8f5a-7cc2-b3f4-5d1e2a3b4c5d/avatar?v=0193a0c4-9a1b-7c2d-8e3f-4a5b6c7d8e9f',
      ],
    }),
    createdAt: Type.String({ format: 'date-time', examples: ['2025-01-01T12:00:00.000Z'] }),
  },
  { additionalProperties: false, examples: [userExample] },
)
