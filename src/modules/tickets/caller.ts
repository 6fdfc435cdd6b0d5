// The ticket routes' caller, read from the request (the rule is the domain's).
import type { FastifyRequest } from 'fastify'
import { type Caller, callerFrom } from '../../domain/tickets/caller.ts'

export function callerOf(request: FastifyRequest): Caller {
  const tenant = request.tenant!
  const auth = request.auth!
  return callerFrom({
    tenantId: tenant.id,
    permissions: tenant.permissions,
    userId: auth.userId,
    apiKeyId: auth.apiKeyId,
  })
}
