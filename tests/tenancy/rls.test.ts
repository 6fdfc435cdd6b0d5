// Row-level security proven on its own, below the routes: with the tenant filter
// deliberately left out, with no tenant set, under the app role's own rights,
// and under concurrency on a small pool.
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP_ROLE, type DatabaseHandle, openDatabase } from '../../src/db/client.ts'
import { roles } from '../../src/db/schema/access.ts'
import { rowsOf, withScope } from '../../src/db/scoped.ts'
import { createTenantWithOwner } from '../../src/domain/tenants/provisioning.ts'
import { adminSql, createTestDatabase, type TestDatabase } from '../helpers/database.ts'

let database: TestDatabase
let handle: DatabaseHandle
let admin: ReturnType<typeof adminSql>
const tenantIds: string[] = []

beforeAll(async () => {
  database = await createTestDatabase()
  admin = adminSql(database)
  // A pool of two, so concurrent transactions keep reusing the same connections.
  handle = await openDatabase({
    url: database.url,
    dataDir: '.data',
    poolMax: 2,
    applicationName: 'rls-test',
  })
  for (const slug of ['alpha-co', 'beta-co']) {
    const [user] = await admin<{ id: string }[]>`
      insert into users (id, email, name, password_hash)
      values (gen_random_uuid(), ${`${slug}@example.com`}, ${slug}, 'x') returning id`
    const created = await withScope(handle, {}, (tx) =>
      createTenantWithOwner(tx, { name: slug, slug, ownerUserId: user!.id }),
    )
    tenantIds.push(created.tenant.id)
  }
})

/** The PostgreSQL message behind Drizzle's "Failed query" wrapper. */
async function pgFailure(work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (err) {
    const e = err as Error & { cause?: Error }
    return e.cause?.message ?? e.message
  }
  return 'no error'
}

afterAll(async () => {
  await handle.close()
  await admin.end({ timeout: 1 })
  await database.drop()
})

describe('row-level security', () => {
  it('queries run as the app role, which is neither superuser, BYPASSRLS nor owner', async () => {
    const [me] = await rowsOf<{ current_user: string }>(handle.db, sql`select current_user`)
    expect(me?.current_user).toBe(APP_ROLE)
    const [role] = await admin<{ rolsuper: boolean; rolbypassrls: boolean }[]>`
      select rolsuper, rolbypassrls from pg_roles where rolname = ${APP_ROLE}`
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false })
    const owned = await admin`
      select c.relname from pg_class c join pg_roles r on r.oid = c.relowner
      where r.rolname = ${APP_ROLE}`
    expect(owned).toHaveLength(0)
  })

  it('every table with a tenant_id has row security enabled and forced', async () => {
    const tables = await admin<{ relname: string; rls: boolean; forced: boolean }[]>`
      select c.relname, c.relrowsecurity as rls, c.relforcerowsecurity as forced
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r'
        and exists (select 1 from pg_attribute a
                    where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)`
    expect(tables.length).toBeGreaterThanOrEqual(6)
    const unprotected = tables.filter((t) => !t.rls || !t.forced).map((t) => t.relname)
    expect(unprotected).toEqual([])
  })

  it('a query with its tenant filter left out still sees one tenant only', async () => {
    const [alpha, beta] = tenantIds as [string, string]
    const seenByAlpha = await withScope(handle, { tenantId: alpha }, (tx) =>
      tx.select().from(roles),
    )
    expect(seenByAlpha).toHaveLength(4)
    expect(new Set(seenByAlpha.map((r) => r.tenantId))).toEqual(new Set([alpha]))
    const seenByBeta = await withScope(handle, { tenantId: beta }, (tx) => tx.select().from(roles))
    expect(new Set(seenByBeta.map((r) => r.tenantId))).toEqual(new Set([beta]))
    // The superuser sees both: the rows are really there.
    const [all] = await admin<{ n: number }[]>`select count(*)::int as n from roles`
    expect(all?.n).toBe(8)
  })

  it('a transaction with no tenant set sees no tenant rows', async () => {
    const rows = await handle.db.select().from(roles)
    expect(rows).toHaveLength(0)
    const memberships = await rowsOf(handle.db, sql`select * from memberships`)
    expect(memberships).toHaveLength(0)
  })

  it('cannot write a row into another tenant (WITH CHECK)', async () => {
    const [alpha, beta] = tenantIds as [string, string]
    const message = await pgFailure(
      withScope(handle, { tenantId: alpha }, (tx) =>
        tx.insert(roles).values({ tenantId: beta, name: 'sneaky', permissions: [] }),
      ),
    )
    expect(message).toMatch(/row-level security/)
  })

  it('the app role cannot switch row security off', async () => {
    expect(
      await pgFailure(handle.db.execute(sql`alter table roles disable row level security`)),
    ).toMatch(/must be owner/)
    expect(
      await pgFailure(handle.db.execute(sql`alter table roles no force row level security`)),
    ).toMatch(/must be owner/)
    expect(await pgFailure(handle.db.execute(sql`drop policy tenant_isolation on roles`))).toMatch(
      /must be owner/,
    )
    // row_security=off makes a query that RLS would filter fail, not bypass it.
    const off = await pgFailure(
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`set local row_security = off`)
        await tx.execute(sql`select * from roles`)
      }),
    )
    expect(off).toMatch(/row-level security/)
  })

  it('the tenant setting never leaks across pooled connections under concurrency', async () => {
    const [alpha, beta] = tenantIds as [string, string]
    const runs = Array.from({ length: 200 }, (_, i) => {
      const tenant = i % 2 === 0 ? alpha : beta
      return withScope(handle, { tenantId: tenant }, async (tx) => {
        const rows = await tx.select({ tenantId: roles.tenantId }).from(roles)
        return { tenant, seen: new Set(rows.map((r) => r.tenantId)), count: rows.length }
      })
    })
    const results = await Promise.all(runs)
    for (const r of results) {
      expect(r.count).toBe(4)
      expect([...r.seen]).toEqual([r.tenant])
    }
    // And after all of that, a connection with no tenant set still sees nothing.
    expect(await handle.db.select().from(roles)).toHaveLength(0)
  })

  it('composite foreign keys stop a membership pointing at another tenant’s role', async () => {
    const [alpha, beta] = tenantIds as [string, string]
    const [betaRole] = await admin<{ id: string }[]>`
      select id from roles where tenant_id = ${beta} and name = 'agent'`
    const [user] = await admin<
      { id: string }[]
    >`select id from users where email = 'beta-co@example.com'`
    await expect(
      admin`insert into memberships (tenant_id, user_id, role_id)
            values (${alpha}, ${user!.id}, ${betaRole!.id})`,
    ).rejects.toThrow(/foreign key/)
  })
})
