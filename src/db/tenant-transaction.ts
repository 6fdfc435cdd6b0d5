// Runs a unit of work inside one tenant. Every tenant-scoped request's queries go
// through here: the transaction first sets app.tenant_id (transaction-local, so
// it can never leak to the next user of a pooled connection), and the tables'
// row-level-security policies then show that tenant's rows only.
import { sql } from 'drizzle-orm'
import type { Db, Tx } from './client.ts'

let active = 0

/** Transactions currently holding a pooled connection (for the pool-usage metric). */
export function activeTransactions(): number {
  return active
}

export async function withTenant<T>(
  db: Db,
  tenantId: string,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  active++
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('app.tenant_id', ${tenantId}, true)`)
      return work(tx)
    })
  } finally {
    active--
  }
}
