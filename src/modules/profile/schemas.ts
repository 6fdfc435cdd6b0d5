// TypeBox schemas of the profile routes (the user shape is the domain's:
// domain/accounts/schemas.ts).
import type { Readable } from 'node:stream'
import { Type } from 'typebox'
import { User, userExample } from '../../domain/accounts/schemas.ts'
import { EXAMPLE_USER } from '../../lib/examples.ts'

/** The user as GET /v1/auth/me shows it, after a change. */
export const ChangedUser = Type.Object(User.properties, {
  additionalProperties: false,
  description: 'You, as GET /v1/auth/me shows you now',
  examples: [userExample],
})

export const UpdateMeBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '\\S',
      description: 'Stored trimmed',
    }),
  },
  { additionalProperties: false, examples: [{ name: EXAMPLE_USER.name }] },
)

export const UserParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

export const AvatarQuery = Type.Object(
  {
    v: Type.Optional(
      Type.String({
        maxLength: 64,
        description: 'The version in avatarUrl; any value serves the current avatar',
      }),
    ),
  },
  { additionalProperties: false },
)

export const AvatarImage = {
  description:
    'The avatar: PNG, JPEG, GIF or WebP, as sniffed when it was uploaded, with ' +
    'X-Content-Type-Options: nosniff',
  content: {
    'image/*': {
      // A stream, sent as it is (never serialized).
      schema: Type.Unsafe<Readable>(Type.String({ format: 'binary' })),
    },
  },
}

export const NoContent = Type.Null({ description: 'No content' })
