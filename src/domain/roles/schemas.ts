// The role resource as answers show it; the role functions return rows of it.
import { Type } from 'typebox'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { PermissionSchema } from '../../lib/permissions.ts'

export const Role = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['Tier 2 agent'] }),
    description: Type.String(),
    permissions: Type.Array(PermissionSchema),
    builtin: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Role',
    examples: [
      {
        id: EXAMPLE_IDS.role,
        name: 'Tier 2 agent',
        description: 'Agents who also assign tickets and edit the knowledge base',
        permissions: ['tickets:read_all', 'tickets:write', 'tickets:assign', 'kb:write'],
        builtin: false,
        createdAt: EXAMPLE_TIMES.ticket,
        updatedAt: EXAMPLE_TIMES.ticket,
      },
    ],
  },
)
