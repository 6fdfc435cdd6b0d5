// Where the tests find PostgreSQL and Redis, and a clear failure when either is
// not running (rather than a wall of connection errors from every test file).
import { Redis } from 'ioredis'
import postgres from 'postgres'

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** The same server as TEST_DATABASE_URL, another database on it. */
export function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

export async function assertServicesReachable(): Promise<void> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${(err as Error).message}). ` +
        'Start it (see README, "Running the tests") or set TEST_DATABASE_URL.',
    )
  } finally {
    await sql.end({ timeout: 1 })
  }
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
  })
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${TEST_REDIS_URL} (${(err as Error).message}). ` +
        'Start it (see README, "Running the tests") or set TEST_REDIS_URL.',
    )
  } finally {
    redis.disconnect()
  }
}
