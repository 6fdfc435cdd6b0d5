// What `npm run bench` loads: each api route next to its baseline route in
// bench/baseline.ts. `prepare` runs once before a route's rounds and returns
// the headers (a token, X-Tenant-ID) its requests need; `paths` spreads the
// requests over many rows (both targets get the same list, rewritten to their
// own path prefix).
import type postgres from 'postgres'
import { BENCH_EMAIL, BENCH_PASSWORD, seedBench } from './seed.ts'

export type BenchContext = {
  /** the api's base URL, e.g. to sign up and log in through the real routes */
  apiUrl: string
  /** a superuser connection to the bench database, for seeding rows directly */
  sql: postgres.Sql
}

export type BenchRoute = {
  name: string
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** path on the api */
  path: string
  /** path on the baseline server doing the same work the bare way */
  baselinePath: string
  headers?: Record<string, string>
  body?: string
  /** runs once before the rounds; what it returns is merged into `headers` */
  prepare?: (ctx: BenchContext) => Promise<{ headers?: Record<string, string> }>
  /** per-request paths, given the target's path (api or baseline) */
  paths?: (path: string) => string[]
}

const seededHeaders = async ({ apiUrl, sql }: BenchContext) => ({
  headers: (await seedBench(apiUrl, sql)).headers,
})

/** The bench tenant's open tickets, for routes that take a ticket id. */
let ticketIds: string[] = []
const withTickets = async (ctx: BenchContext) => {
  const seeded = await seedBench(ctx.apiUrl, ctx.sql)
  const rows = await ctx.sql<{ id: string }[]>`
    select id from tickets where tenant_id = ${seeded.tenantId} and status not in ('closed')
    order by number limit 500`
  ticketIds = rows.map((r) => r.id)
  return { headers: seeded.headers }
}
const perTicket = (suffix: string) => (path: string) =>
  ticketIds.map((id) => path.replace(/tickets\/[^/]+.*$/, `tickets/${id}${suffix}`))

export const routes: BenchRoute[] = [
  { name: 'GET /health', path: '/health', baselinePath: '/baseline/health' },
  {
    // Bounded by argon2id by design (the baseline verifies the same hash).
    name: 'POST /v1/auth/login',
    method: 'POST',
    path: '/v1/auth/login',
    baselinePath: '/baseline/login',
    body: JSON.stringify({ email: BENCH_EMAIL, password: BENCH_PASSWORD }),
    prepare: async (ctx) => {
      await seedBench(ctx.apiUrl, ctx.sql)
      return {}
    },
  },
  {
    name: 'GET /v1/auth/me',
    path: '/v1/auth/me',
    baselinePath: '/baseline/me',
    prepare: seededHeaders,
  },
  {
    name: 'GET /v1/members',
    path: '/v1/members',
    baselinePath: '/baseline/members',
    prepare: seededHeaders,
  },
  {
    name: 'GET /v1/tickets',
    path: '/v1/tickets',
    baselinePath: '/baseline/tickets',
    prepare: seededHeaders,
  },
  {
    name: 'GET /v1/tickets/{id}',
    path: '/v1/tickets/x',
    baselinePath: '/baseline/tickets/x',
    prepare: withTickets,
    paths: perTicket(''),
  },
  {
    name: 'POST /v1/tickets/{id}/messages',
    method: 'POST',
    path: '/v1/tickets/x/messages',
    baselinePath: '/baseline/tickets/x/messages',
    body: JSON.stringify({ body: 'Thanks, we are looking into it and will update you shortly.' }),
    prepare: withTickets,
    paths: perTicket('/messages'),
  },
  {
    name: 'GET /v1/tickets?q=',
    path: '/v1/tickets?q=printer%20failing',
    baselinePath: '/baseline/tickets?q=printer%20failing',
    prepare: seededHeaders,
  },
]
