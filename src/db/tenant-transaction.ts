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

const SCOPE_SETTINGS = {
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

/** Counts `work` in activeTransactions() while it holds a connection. */
export async function holdingConnection<T>(work: () => Promise<T>): Promise<T> {
  active++
  try {
    return await work()
  } finally {
    active--
  }
}

/** The settings a scope sets, as [setting name, value] pairs. */
export function scopeSettings(scope: Scope): [string, string][] {
  return (Object.keys(scope) as (keyof Scope)[])
    .filter((key) => scope[key] != null)
    .map((key) => [SCOPE_SETTINGS[key], String(scope[key])])
}

export function withTenant<T>(db: Db, tenantId: string, work: (tx: Tx) => Promise<T>) {
  return withScope(db, { tenantId }, work)
}

export function withScope<T>(db: Db, scope: Scope, work: (tx: Tx) => Promise<T>): Promise<T> {
  const settings = scopeSettings(scope)
  return holdingConnection(() =>
    db.transaction(async (tx) => {
      if (settings.length > 0) {
        const calls = settings.map(([name, value]) => sql`set_config(${name}, ${value}, true)`)
        await tx.execute(sql`select ${sql.join(calls, sql`, `)}`)
      }
      return work(tx)
    }),
  )
}
