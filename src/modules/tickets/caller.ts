// Who is acting on tickets, reduced to the few facts the rules need. One rule
// decides the author type: a caller holding tickets:read_all (agent rights:
// agents, admins, owners, and API keys granted it) acts as an `agent`; anyone
// else acts as a `customer`. `ai` and `system` are never a caller's: only the
// worker and the system write them.
import type { FastifyRequest } from 'fastify'
import type { AuthorType } from '../../db/schema/helpdesk.ts'
import type { Permission } from '../../lib/permissions.ts'

export type Caller = {
  tenantId: string
  /** null for an API key */
  userId: string | null
  /** whose Idempotency-Keys these are: the user, or the API key */
  principal: string
  /** sees every ticket of the tenant; otherwise only the ones it requested */
  seesAll: boolean
  /** reads and writes internal notes, and searches them */
  seesInternal: boolean
  authorType: Extract<AuthorType, 'customer' | 'agent'>
  can(permission: Permission): boolean
}

export function callerOf(request: FastifyRequest): Caller {
  const tenant = request.tenant!
  const auth = request.auth!
  const seesAll = tenant.permissions.has('tickets:read_all')
  return {
    tenantId: tenant.id,
    userId: auth.userId,
    principal: auth.apiKeyId ? `key:${auth.apiKeyId}` : `user:${auth.userId}`,
    seesAll,
    seesInternal: tenant.permissions.has('messages:internal'),
    authorType: seesAll ? 'agent' : 'customer',
    can: (permission) => tenant.permissions.has(permission),
  }
}
