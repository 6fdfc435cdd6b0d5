// /ready answers 503 and names what is down: Redis unreachable, the database
// unreachable, a database that was never migrated, and one that is behind the
// code's newest migration. Each case is a real app against a real failure.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { describe, expect, it, vi } from 'vitest'
import { freePort } from '../fixtures/processes.ts'
import { createTestApp, type TestContext } from '../helpers/app.ts'
import { databaseUrl, TEST_DATABASE_URL } from '../helpers/services.ts'

async function readiness(ctx: TestContext) {
  const res = await ctx.app.inject({ url: '/ready' })
  return { status: res.statusCode, body: res.json() }
}

async function withApp(env: Record<string, string>, check: (ctx: TestContext) => Promise<void>) {
  const ctx = await createTestApp({ env })
  try {
    await check(ctx)
  } finally {
    await ctx.close()
  }
}

describe('GET /ready when something is down', () => {
  it('Redis unreachable → 503 with redis: down', async () => {
    const port = await freePort()
    await withApp({ REDIS_URL: `redis://127.0.0.1:${port}` }, async (ctx) => {
      const { status, body } = await readiness(ctx)
      expect(status).toBe(503)
      expect(body).toEqual({
        status: 'not_ready',
        checks: { database: 'ok', migrations: 'ok', redis: 'down' },
        mode: 'services',
      })
      // Liveness is not readiness: the process itself is fine.
      expect((await ctx.app.inject({ url: '/health' })).statusCode).toBe(200)
    })
  })

  it('database unreachable → 503 with database and migrations down', async () => {
    const port = await freePort()
    await withApp(
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nothing` },
      async (ctx) => {
        const { status, body } = await readiness(ctx)
        expect(status).toBe(503)
        expect(body.checks).toEqual({ database: 'down', migrations: 'down', redis: 'ok' })
      },
    )
  })

  it('a reachable database that was never migrated → 503 with migrations down', async () => {
    const name = `dp_test_empty_${randomBytes(4).toString('hex')}`
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database "${name}"`)
    try {
      await withApp({ DATABASE_URL: databaseUrl(name) }, async (ctx) => {
        const { status, body } = await readiness(ctx)
        expect(status).toBe(503)
        expect(body.checks).toEqual({ database: 'ok', migrations: 'down', redis: 'ok' })
      })
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`)
      await admin.end({ timeout: 1 })
    }
  })

  it('a database behind the newest migration → 503 with migrations down', async () => {
    await withApp({}, async (ctx) => {
      expect((await readiness(ctx)).status).toBe(200)
      await ctx.sql`
        delete from drizzle.__drizzle_migrations
        where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`
      // /ready reuses an answer for a second: the next probe after that sees the change.
      const { status, body } = await vi.waitFor(
        async () => {
          const now = await readiness(ctx)
          if (now.status !== 503) throw new Error('still the cached answer')
          return now
        },
        { timeout: 5000, interval: 200 },
      )
      expect(status).toBe(503)
      expect(body.checks).toEqual({ database: 'ok', migrations: 'down', redis: 'ok' })
    })
  })
})
