// Builds the real app for a test file: its own database, its own Redis key
// prefix, the real plugins. Close it in afterAll.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { afterAll } from 'vitest'
import { type App, buildApp } from '../../src/app.ts'
import { type Config, loadConfig } from '../../src/config.ts'
import { bullPrefix } from '../../src/jobs/queues.ts'
import { type TestClock, testClock } from './clock.ts'
import { adminSql, createTestDatabase, type TestDatabase } from './database.ts'
import { TEST_REDIS_URL } from './services.ts'

export type TestContext = {
  app: App
  config: Config
  database: TestDatabase
  sql: ReturnType<typeof adminSql>
  /** every log line the app wrote, parsed */
  logs: Record<string, unknown>[]
  /** the app's clock: advance() moves the time auth decisions use */
  clock: TestClock
  close(): Promise<void>
}

/** The test environment; `env` overrides any variable. */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `test:${randomBytes(5).toString('hex')}`,
    MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'info',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
    ...env,
  }
}

export type TestAppOptions = {
  env?: Record<string, string>
  /** registers extra routes (probes) before the app is made ready */
  extend?: (app: App) => void | Promise<void>
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestContext> {
  const env = options.env ?? {}
  const database = await createTestDatabase()
  // Files of local storage go to a folder of this app's own, never the checkout's .data.
  const storageDir = env.STORAGE_DIR ? undefined : mkdtempSync(join(tmpdir(), 'dp-storage-'))
  const config = loadConfig(
    testEnv({
      DATABASE_URL: database.url,
      ...(storageDir ? { STORAGE_DIR: storageDir } : {}),
      ...env,
    }),
  )
  const logs: Record<string, unknown>[] = []
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      done()
    },
  })
  const clock = testClock()
  const app = await buildApp(config, { logStream, clock })
  await options.extend?.(app)
  await app.ready()
  const sql = adminSql(database)
  return {
    app,
    config,
    database,
    sql,
    logs,
    clock,
    async close() {
      await app.close()
      await sql.end({ timeout: 1 })
      await deleteRedisKeys(config.REDIS_PREFIX)
      await database.drop()
      if (storageDir) rmSync(storageDir, { recursive: true, force: true })
    },
  }
}

/** createTestApp for the whole file, closed after its last test. */
export async function useTestApp(options: TestAppOptions = {}): Promise<TestContext> {
  const ctx = await createTestApp(options)
  afterAll(() => ctx.close())
  return ctx
}

/** Deletes a prefix's keys: those under the plain prefix and BullMQ's under its hash tag. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
  try {
    for (const pattern of [`${prefix}*`, `${bullPrefix(prefix)}*`]) {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
        cursor = next
        if (keys.length > 0) await redis.del(...keys)
      } while (cursor !== '0')
    }
  } finally {
    redis.disconnect()
  }
}
