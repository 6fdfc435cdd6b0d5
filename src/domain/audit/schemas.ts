// The audit event as the tenant's audit log shows it; the list query returns
// rows of it.
import { Type } from 'typebox'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'

export const AuditEvent = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    action: Type.String({ examples: ['member.role_changed'] }),
    actorUserId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    actorApiKeyId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    targetType: Type.Union([Type.String(), Type.Null()]),
    targetId: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'AuditEvent',
    examples: [
      {
        id: EXAMPLE_IDS.auditEvent,
        action: 'member.role_changed',
        actorUserId: EXAMPLE_IDS.user,
        actorApiKeyId: null,
        targetType: 'user',
        targetId: EXAMPLE_IDS.agent,
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
        data: { before: { roleId: EXAMPLE_IDS.role }, after: { roleId: EXAMPLE_IDS.role } },
        createdAt: EXAMPLE_TIMES.reply,
      },
    ],
  },
)
