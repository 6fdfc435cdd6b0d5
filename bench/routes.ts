// What `npm run bench` loads: each api route next to its baseline route in
// bench/baseline.ts. A later feature adds its hot routes here, with a
// `prepare` step that seeds the bench database and returns the headers
// (a token, X-Tenant-ID) its requests need.
import type postgres from 'postgres'

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
}

export const routes: BenchRoute[] = [
  { name: 'GET /health', path: '/health', baselinePath: '/baseline/health' },
]
