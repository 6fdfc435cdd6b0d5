// Runs a unit of work inside one tenant. Every tenant-scoped request's queries go
// through here: the transaction first sets app.tenant_id (transaction-local, so
// it can never leak to the next user of a pooled connection), and the tables'
// row-level-security policies then show that tenant's rows only.
//
// withScope() also sets the narrowly named settings that open the few
// cross-tenant read paths (drizzle/0003_rls_access_and_audit.sql): a user's own
// memberships, an API key by its prefix, an invitation by its token hash.
import { sql } from 'drizzle-orm'
import type { Db, Tx } from './client.ts'

export type Scope = {
  tenantId?: string | null
  userId?: string | null
  apiKeyPrefix?: string
  invitationToken?: string
}

export const SCOPE_SETTINGS = {
  tenantId: 'app.tenant_id',
  userId: 'app.user_id',
  apiKeyPrefix: 'app.api_key_prefix',
  invitationToken: 'app.invitation_token',
} as const

let active = 0

/** Transactions currently holding a pooled connection (for the pool-usage metric). */
export function activeTransactions(): number {
  return active
}

export function withTenant<T>(db: Db, tenantId: string, work: (tx: Tx) => Promise<T>) {
  return withScope(db, { tenantId }, work)
}

export async function withScope<T>(db: Db, scope: Scope, work: (tx: Tx) => Promise<T>): Promise<T> {
  const entries = Object.entries(scope).filter(([, v]) => v != null) as [keyof Scope, string][]
  active++
  try {
    return await db.transaction(async (tx) => {
      if (entries.length > 0) {
        const calls = entries.map(
          ([key, value]) => sql`set_config(${SCOPE_SETTINGS[key]}, ${value}, true)`,
        )
        await tx.execute(sql`select ${sql.join(calls, sql`, `)}`)
      }
      return work(tx)
    })
  } finally {
    active--
  }
}
