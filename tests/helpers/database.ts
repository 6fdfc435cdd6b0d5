// A database of its own for each test file, cloned from the migrated template,
// so files run in parallel and never see each other's rows.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { inject } from 'vitest'
import { databaseUrl, TEST_DATABASE_URL } from './services.ts'

export type TestDatabase = { name: string; url: string; drop(): Promise<void> }

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateDatabase')
  const name = `dp_test_${Math.floor(Date.now() / 1000)}_${randomBytes(5).toString('hex')}`
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
  try {
    // Two files cloning at the same instant can collide on the template's lock.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.unsafe(`create database "${name}" template "${template}"`)
        break
      } catch (err) {
        if (attempt >= 10) throw err
        await new Promise((r) => setTimeout(r, 100 * attempt))
      }
    }
  } finally {
    await admin.end({ timeout: 1 })
  }
  return {
    name,
    url: databaseUrl(name),
    async drop() {
      const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`)
      } finally {
        await sql.end({ timeout: 1 })
      }
    },
  }
}

/** A superuser connection to a test database, for arranging and checking rows directly. */
export function adminSql(db: TestDatabase) {
  return postgres(db.url, { max: 2, onnotice: () => {} })
}
