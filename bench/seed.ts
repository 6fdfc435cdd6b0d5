// The benchmark's data set, made once per bench database: 100 tenants × 1,000
// tickets × 5 messages (one internal), users and memberships, and a bench
// owner who signs up through the real API (so the password hash and the
// session are the api's own). Bulk rows go in by SQL, with the search vectors
// filled in one pass afterwards instead of by a trigger per message.
import type postgres from 'postgres'

export const BENCH_EMAIL = 'bench-owner@deskpilot.test'
export const BENCH_PASSWORD = 'bench passphrase not for production 1'
export const BENCH_SLUG = 'bench-001'
/**
 * The subject of every benchmarked mail, so bench/run.ts can delete what
 * earlier runs took in: thousands of such tickets would otherwise pile up in
 * the bench tenant and change what the other routes measure (its search, its
 * lists).
 */
export const INBOUND_SUBJECT = 'Bench mail: question about an invoice'

const TENANTS = 100
const TICKETS_PER_TENANT = 1000
const MESSAGES_PER_TICKET = 5

export type Seeded = {
  tenantId: string
  userId: string
  ticketId: string
  accessToken: string
  headers: Record<string, string>
}

async function signUpOrLogIn(apiUrl: string) {
  const post = (path: string, body: unknown) =>
    fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  let res = await post('/v1/auth/login', { email: BENCH_EMAIL, password: BENCH_PASSWORD })
  if (res.status === 401) {
    res = await post('/v1/auth/signup', {
      email: BENCH_EMAIL,
      password: BENCH_PASSWORD,
      name: 'Bench Owner',
      tenant: { name: 'Bench 001', slug: BENCH_SLUG },
    })
  }
  if (!res.ok) throw new Error(`bench sign-in failed: ${res.status} ${await res.text()}`)
  const body = (await res.json()) as { accessToken: string; user: { id: string } }
  return { accessToken: body.accessToken, userId: body.user.id }
}

async function seedBulk(sql: postgres.Sql, benchTenantId: string) {
  const [done] = await sql`select 1 from tickets where tenant_id = ${benchTenantId} limit 1`
  if (done) return
  console.error(
    `seeding ${TENANTS} tenants × ${TICKETS_PER_TENANT} tickets × ${MESSAGES_PER_TICKET} messages`,
  )
  await sql.begin(async (tx) => {
    await tx`insert into users (id, email, name, password_hash)
      select gen_random_uuid(), 'bench-user-' || g || '@deskpilot.test', 'Bench user ' || g, 'x'
      from generate_series(1, 2000) g`
    await tx`insert into tenants (id, name, slug)
      select gen_random_uuid(), 'Bench ' || lpad(g::text, 3, '0'), 'bench-' || lpad(g::text, 3, '0')
      from generate_series(2, ${TENANTS}) g`
    await tx`create temp table bench_users as
      select id, row_number() over (order by email) as n from users where email like 'bench-user-%'`
    await tx`create temp table bench_tenants as
      select id, row_number() over (order by slug) as n from tenants where slug like 'bench-%'`
    // The bench tenant's members: 20 agents and 180 customers besides the owner.
    await tx`insert into memberships (tenant_id, user_id, role_id)
      select ${benchTenantId}, u.id, r.id from bench_users u
      join roles r on r.tenant_id = ${benchTenantId} and r.builtin
        and r.name = case when u.n <= 20 then 'agent' else 'customer' end
      where u.n <= 200`
    // Each tenant's requesters: contacts of the 180 customer users.
    await tx`insert into contacts (id, tenant_id, email, name, user_id)
      select gen_random_uuid(), t.id, u.email, u.name, u.id
      from bench_tenants t, bench_users b join users u on u.id = b.id
      where b.n between 21 and 200`
    await tx`insert into tickets (id, tenant_id, number, subject, status, priority, requester_id,
        assignee_id, tags, created_at, updated_at, last_message_at)
      select gen_random_uuid(), t.id, g,
        (array['Printer','Invoice','Login','Router','Refund','Password','Shipping','Crash'])[1 + g % 8]
          || ' problem number ' || g,
        (array['new','open','pending','on_hold','solved','closed'])[1 + (g * 7) % 6],
        (array['low','normal','normal','high','urgent'])[1 + (g * 13) % 5],
        (select c.id from contacts c join bench_users u on u.id = c.user_id
         where c.tenant_id = t.id and u.n = 21 + (g * 31 + t.n) % 180),
        case when g % 3 = 0 then null else (select id from bench_users u where u.n = 1 + g % 20) end,
        case when g % 5 = 0 then array['billing'] when g % 7 = 0 then array['vip','network'] else '{}' end,
        now() - (g || ' minutes')::interval, now() - ((g * 37 % 1000) || ' minutes')::interval,
        now() - (g || ' minutes')::interval
      from bench_tenants t, generate_series(1, ${TICKETS_PER_TENANT}) g`
    await tx`insert into ticket_counters select id, ${TICKETS_PER_TENANT} from bench_tenants`
    await tx`insert into messages (id, tenant_id, ticket_id, author_id, author_type, body, internal, created_at)
      select gen_random_uuid(), k.tenant_id, k.id,
        (select c.user_id from contacts c where c.tenant_id = k.tenant_id and c.id = k.requester_id),
        case when m % 2 = 0 then 'customer' else 'agent' end,
        'Message ' || m || ' about the ' || lower(split_part(k.subject, ' ', 1)) || ' issue: ' ||
          (array['it keeps failing','please advise','tried restarting','the screen is blank',
                 'charged twice'])[1 + (m + k.number) % 5],
        m = 4, k.created_at + (m || ' seconds')::interval
      from tickets k, generate_series(1, ${MESSAGES_PER_TICKET}) m`
    await tx`update tickets k set
      search_public = setweight(to_tsvector('english', k.subject), 'A') || coalesce((
        select setweight(to_tsvector('english', string_agg(body, ' ')), 'B') from messages m
        where m.tenant_id = k.tenant_id and m.ticket_id = k.id and not internal), ''),
      search_all = setweight(to_tsvector('english', k.subject), 'A') || coalesce((
        select setweight(to_tsvector('english', string_agg(body, ' ')), 'B') from messages m
        where m.tenant_id = k.tenant_id and m.ticket_id = k.id), '')`
  })
  await sql`vacuum analyze`
}

let seeded: Promise<Seeded> | undefined

/** Seeds once per run (and once per database) and signs the bench owner in. */
export function seedBench(apiUrl: string, sql: postgres.Sql): Promise<Seeded> {
  seeded ??= (async () => {
    const { accessToken, userId } = await signUpOrLogIn(apiUrl)
    const [tenant] = await sql<{ id: string }[]>`select id from tenants where slug = ${BENCH_SLUG}`
    if (!tenant) throw new Error('bench tenant missing')
    await seedBulk(sql, tenant.id)
    const [ticket] = await sql<{ id: string }[]>`
      select id from tickets where tenant_id = ${tenant.id} and status <> 'closed'
      order by number limit 1`
    return {
      tenantId: tenant.id,
      userId,
      ticketId: ticket!.id,
      accessToken,
      headers: { authorization: `Bearer ${accessToken}`, 'x-tenant-id': BENCH_SLUG },
    }
  })()
  return seeded
}
