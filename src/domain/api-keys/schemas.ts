// The API key resource as answers show it (never its secret); the key
// functions return rows of it.
import { Type } from 'typebox'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { PermissionSchema } from '../../lib/permissions.ts'

export const ApiKey = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['Zapier integration'] }),
    prefix: Type.String({
      description: 'The public part of the key',
      examples: ['dp_k3j9x0a1b2c3'],
    }),
    permissions: Type.Array(PermissionSchema),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdBy: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'ApiKey', examples: [apiKeyExample()] },
)

export function apiKeyExample() {
  return {
    id: EXAMPLE_IDS.apiKey,
    name: 'Zapier integration',
    prefix: 'dp_k3j9x0a1b2c3',
    permissions: ['tickets:read_all', 'tickets:write'],
    expiresAt: null,
    lastUsedAt: null,
    createdBy: EXAMPLE_IDS.user,
    createdAt: EXAMPLE_TIMES.reply,
  }
}
