// Who is acting on tickets, reduced to the few facts the rules need. One rule
// decides the author type: a caller with agent rights (agents.ts: agents,
// admins, owners, and API keys granted tickets:read_all) acts as an `agent`;
// anyone else acts as a `customer`. `ai` and `system` are never a caller's:
// only the worker and the system write them.
import type { AuthorType } from '../../db/schema/helpdesk.ts'
import type { Permission } from '../../lib/permissions.ts'
import { holdsAgentRights } from './agents.ts'

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

/** What a request knows of its caller: the tenant, its permissions there, and who it is. */
type CallerFacts = {
  tenantId: string
  permissions: ReadonlySet<Permission>
  userId: string | null
  apiKeyId: string | null
}

export function callerFrom(facts: CallerFacts): Caller {
  const { permissions } = facts
  const seesAll = holdsAgentRights(permissions)
  return {
    tenantId: facts.tenantId,
    userId: facts.userId,
    principal: facts.apiKeyId ? `key:${facts.apiKeyId}` : `user:${facts.userId}`,
    seesAll,
    seesInternal: permissions.has('messages:internal'),
    authorType: seesAll ? 'agent' : 'customer',
    can: (permission) => permissions.has(permission),
  }
}
