// Tenant queries and rules. Functions take the database (or a transaction) and
// the tenant id explicitly, so a missing tenant filter stands out.
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db, DbOrTx } from '../../db/client.ts'
import { type TenantSettings, tenants } from '../../db/schema/tenants.ts'
import { RESERVED_SLUGS, slugProblem } from '../../lib/tenant-provisioning.ts'

type TenantRow = typeof tenants.$inferSelect

export function presentTenant(row: TenantRow) {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    settings: { aiReplyMode: row.settings.aiReplyMode ?? 'off' },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

export async function getTenant(db: DbOrTx, tenantId: string) {
  const [row] = await db
    .select()
    .from(tenants)
    .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt)))
  return row ?? null
}

export async function slugAvailability(
  db: Db,
  slug: string,
): Promise<{ slug: string; available: boolean; reason?: 'taken' | 'reserved' | 'invalid' }> {
  const normalised = slug.trim().toLowerCase()
  const problem = slugProblem(normalised)
  if (problem) {
    return {
      slug: normalised,
      available: false,
      reason: RESERVED_SLUGS.has(normalised) ? 'reserved' : 'invalid',
    }
  }
  const [taken] = await db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(sql`lower(${tenants.slug})`, normalised))
  return taken
    ? { slug: normalised, available: false, reason: 'taken' }
    : { slug: normalised, available: true }
}

export async function updateTenant(
  tx: DbOrTx,
  tenantId: string,
  patch: { name?: string; settings?: Partial<TenantSettings> },
) {
  const current = await getTenant(tx, tenantId)
  if (!current) return null
  const [row] = await tx
    .update(tenants)
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.settings ? { settings: { ...current.settings, ...patch.settings } } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt)))
    .returning()
  return row ? { before: current, after: row } : null
}

/**
 * Marks the tenant deleted: it disappears from resolution and lists at once,
 * its slug stays taken, and its rows are kept for a purge job to remove later.
 */
export async function markTenantDeleted(tx: DbOrTx, tenantId: string) {
  const [row] = await tx
    .update(tenants)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt)))
    .returning({ id: tenants.id, slug: tenants.slug })
  return row ?? null
}
