// A session as its owner's session list shows it; listOwnSessions returns rows of it.
import { Type } from 'typebox'

const Time = Type.String({ format: 'date-time', examples: ['2025-01-01T12:00:00.000Z'] })

export const SessionItem = Type.Object(
  {
    id: Type.String({ format: 'uuid', examples: ['0190c3c4-8f5a-7cc2-b3f4-5d1e2a3b4c5d'] }),
    createdAt: Time,
    lastUsedAt: Time,
    expiresAt: Time,
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean({ description: 'the session this request belongs to' }),
  },
  { additionalProperties: false },
)
