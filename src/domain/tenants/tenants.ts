// Tenant reads and changes: create one (its creator becomes the owner), list a
// user's, check a slug, and read, change or delete a tenant. Functions take the
// database and the tenant id explicitly; the audit event of a change is written
// in its transaction.
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { DatabaseHandle, DbOrTx } from '../../db/client.ts'
import { type TenantSettings as StoredSettings, tenants } from '../../db/schema/tenants.ts'
import { withScope } from '../../db/scoped.ts'
import { NotFound } from '../../lib/problems.ts'
import { assertTenantNameAllowed } from '../../lib/tenant-names.ts'
import { recordAudit, type requestActor } from '../audit/record.ts'
import { listUserMemberships } from '../members/memberships.ts'
import { createTenantWithOwner, RESERVED_SLUGS, slugProblem } from './provisioning.ts'
import { type Tenant, type TenantMembership, tenantColumns } from './schemas.ts'
import { settingsWithDefaults, type TenantSettings } from './settings.ts'

/** Who acts, for the audit event: the request's user or API key, address and agent. */
type Actor = ReturnType<typeof requestActor>

/** A tenant as stored, its settings at their defaults where not set. */
function present(row: Omit<Tenant, 'settings'> & { settings: StoredSettings }): Tenant {
  return { ...row, settings: settingsWithDefaults(row.settings) }
}

const live = (tenantId: string) => and(eq(tenants.id, tenantId), isNull(tenants.deletedAt))

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The live tenant a request names by id or slug (case-insensitive), or null.
 * Tenants are not row-secured (a request must find its tenant before it has
 * one), so this runs outside any scope.
 */
export async function findTenantByReference(
  db: DbOrTx,
  reference: string,
): Promise<{ id: string; slug: string; name: string } | null> {
  const match = UUID.test(reference)
    ? eq(tenants.id, reference)
    : eq(sql`lower(${tenants.slug})`, reference)
  const [row] = await db
    .select({ id: tenants.id, slug: tenants.slug, name: tenants.name })
    .from(tenants)
    .where(and(match, isNull(tenants.deletedAt)))
  return row ?? null
}

export async function createTenant(
  database: DatabaseHandle,
  input: { name: string; slug: string },
  ownerUserId: string,
  actor: Actor,
): Promise<Tenant> {
  return withScope(database, {}, async (tx) => {
    const { tenant } = await createTenantWithOwner(tx, { ...input, ownerUserId })
    await recordAudit(tx, {
      tenantId: tenant.id,
      action: 'tenant.created',
      targetType: 'tenant',
      targetId: tenant.id,
      ...actor,
    })
    return present(tenant)
  })
}

/** Every tenant the user is an active member of, with the user's role in each, in one page. */
export async function listMyTenants(
  database: DatabaseHandle,
  userId: string,
): Promise<{ data: TenantMembership[]; nextCursor: null }> {
  const rows = await listUserMemberships(database, userId)
  return {
    data: rows.map((r) => ({
      id: r.tenantId,
      name: r.tenantName,
      slug: r.slug,
      role: { id: r.roleId, name: r.roleName },
    })),
    nextCursor: null,
  }
}

export async function slugAvailability(
  database: DatabaseHandle,
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
  const [taken] = await database.db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(sql`lower(${tenants.slug})`, normalised))
  return taken
    ? { slug: normalised, available: false, reason: 'taken' }
    : { slug: normalised, available: true }
}

async function selectTenant(db: DbOrTx, tenantId: string) {
  const [row] = await db.select(tenantColumns).from(tenants).where(live(tenantId))
  return row ?? null
}

/** The tenant as any of its members sees it; 404 once deleted. */
export async function readTenant(database: DatabaseHandle, tenantId: string): Promise<Tenant> {
  const row = await withScope(database, { tenantId }, (tx) => selectTenant(tx, tenantId))
  if (!row) throw new NotFound('tenant')
  return present(row)
}

/** Changes the name, or the settings keys named (the others stay as they are). */
export async function changeTenant(
  database: DatabaseHandle,
  tenantId: string,
  patch: { name?: string; settings?: Partial<TenantSettings> },
  actor: Actor,
): Promise<Tenant> {
  if (patch.name !== undefined) assertTenantNameAllowed(patch.name, 'body/name')
  const row = await withScope(database, { tenantId }, async (tx) => {
    const current = await selectTenant(tx, tenantId)
    if (!current) return null
    const [updated] = await tx
      .update(tenants)
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.settings ? { settings: { ...current.settings, ...patch.settings } } : {}),
        updatedAt: sql`now()`,
      })
      .where(live(tenantId))
      .returning(tenantColumns)
    if (!updated) return null
    await recordAudit(tx, {
      tenantId,
      action: 'tenant.updated',
      targetType: 'tenant',
      targetId: tenantId,
      data: { changes: patch },
      ...actor,
    })
    return updated
  })
  if (!row) throw new NotFound('tenant')
  return present(row)
}

/**
 * Marks the tenant deleted: it disappears from resolution and lists at once,
 * its slug stays taken, and its rows are kept for a purge job to remove later.
 */
export async function deleteTenant(
  database: DatabaseHandle,
  tenantId: string,
  actor: Actor,
): Promise<{ id: string; slug: string }> {
  const deleted = await withScope(database, { tenantId }, async (tx) => {
    const [row] = await tx
      .update(tenants)
      .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
      .where(live(tenantId))
      .returning({ id: tenants.id, slug: tenants.slug })
    if (row) {
      await recordAudit(tx, {
        tenantId,
        action: 'tenant.deleted',
        targetType: 'tenant',
        targetId: tenantId,
        ...actor,
      })
    }
    return row
  })
  if (!deleted) throw new NotFound('tenant')
  return deleted
}
