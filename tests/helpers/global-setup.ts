// Runs once per `vitest run`: checks the services, and builds (once per set of
// migrations) a template database that every test file clones in milliseconds.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { migrationsFolder, runMigrations } from '../../src/db/migrate.ts'
import { assertServicesReachable, databaseUrl, TEST_DATABASE_URL } from './services.ts'

function migrationsHash(): string {
  const hash = createHash('sha256')
  for (const dir of [migrationsFolder, join(migrationsFolder, 'meta')]) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.sql') || name.endsWith('.json')) {
        hash.update(name).update(readFileSync(join(dir, name)))
      }
    }
  }
  return hash.digest('hex').slice(0, 12)
}

export default async function setup(project: TestProject) {
  await assertServicesReachable()
  const template = `dp_tpl_${migrationsHash()}`
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
  try {
    // Databases left behind by interrupted runs: test databases carry their
    // creation time in their name, and only those over a few hours old and
    // unused are dropped, so a concurrent run (another checkout) is never hit.
    // Templates of other migration sets are kept for the same reason.
    const stale = await admin<{ datname: string }[]>`
      select datname from pg_database
      where datname ~ '^dp_test_[0-9]+_'
        and split_part(datname, '_', 3)::bigint < extract(epoch from now()) - 3 * 3600
        and not exists (select 1 from pg_stat_activity a where a.datname = pg_database.datname)`
    for (const { datname } of stale) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`).catch(() => {})
    }
    // Two runs starting at once must not both build the same template.
    await admin`select pg_advisory_lock(hashtext('deskpilot-test-template'))`
    const [exists] = await admin`select 1 from pg_database where datname = ${template}`
    if (!exists) {
      const building = `${template}_build`
      await admin.unsafe(`drop database if exists "${building}" with (force)`)
      await admin.unsafe(`create database "${building}"`)
      await runMigrations({ url: databaseUrl(building), dataDir: '.data' })
      await admin.unsafe(`alter database "${building}" rename to "${template}"`)
    }
  } finally {
    await admin.end({ timeout: 1 })
  }
  project.provide('templateDatabase', template)
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string
  }
}
