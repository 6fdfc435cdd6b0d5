// Who is an agent: a member (or an API key) holding tickets:read_all. Agents see
// every ticket of the tenant, write as `agent`, may be assigned tickets and are
// told about new ones. One permission decides it, read here by the callers'
// rule (caller.ts), the assignee check (ticket-members.ts) and the SQL that
// lists a tenant's agents (domain/email/ticket-emails.ts).
import { type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import type { Permission } from '../../lib/permissions.ts'

const AGENT_PERMISSION = 'tickets:read_all' satisfies Permission

/** Do these permissions (a role's, or a caller's) make their holder an agent? */
export function holdsAgentRights(permissions: { has(p: string): boolean } | readonly string[]) {
  return 'has' in permissions
    ? permissions.has(AGENT_PERMISSION)
    : permissions.includes(AGENT_PERMISSION)
}

/** The same rule in SQL, over a role's permissions column (text[]). */
export function agentRole(permissions: PgColumn | SQL): SQL {
  return sql`${AGENT_PERMISSION} = any(${permissions})`
}
