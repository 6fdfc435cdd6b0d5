// A digest of every row a tenant owns, read as the superuser (so row-level
// security hides nothing): each tenant-scoped table's rows, the tenant row and
// its members' user rows. Equal digests before and after a refused request
// prove the request wrote nothing.
import type postgres from 'postgres'

const queries = new WeakMap<object, Promise<string>>()

async function digestQuery(sql: postgres.Sql): Promise<string> {
  const tables = await sql<{ relname: string }[]>`
    select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r' and exists (
      select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id')
    order by 1`
  if (tables.length < 10) throw new Error(`only ${tables.length} tenant-scoped tables found`)
  const parts = tables.map(
    ({ relname }) =>
      `select '${relname}' as t, count(*)::text || ':' ||
         coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as d
       from "${relname}" x where tenant_id = $1`,
  )
  parts.push(`select 'tenants', coalesce(md5(x::text), '') from tenants x where id = $1`)
  parts.push(
    `select 'users', coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from users x
     where id in (select user_id from memberships where tenant_id = $1)`,
  )
  return `select string_agg(t || '=' || d, ';' order by t) as d from (${parts.join(' union all ')}) s`
}

export async function tenantDigest(sql: postgres.Sql, tenantId: string): Promise<string> {
  let query = queries.get(sql)
  if (!query) {
    query = digestQuery(sql)
    queries.set(sql, query)
  }
  const [row] = await sql.unsafe(await query, [tenantId])
  return row!.d as string
}
