// The process entries load drizzle-orm's CommonJS build (src/lib/drizzle-commonjs.ts):
// every drizzle-orm specifier resolves to a .cjs file, and the build works as
// the ES module one does.
import { describe, expect, it } from 'vitest'
import { spawnNode } from '../fixtures/processes.ts'

describe('drizzle-orm in the api and worker processes', () => {
  it('resolves every drizzle-orm entry point to its CommonJS build, one copy', async () => {
    const child = spawnNode('tests/fixtures/drizzle-build.ts', {})
    expect(await child.exited).toBe(0)
    const report = JSON.parse(child.output().trim().split('\n').at(-1) ?? '{}')
    expect(report.root).toMatch(/\/node_modules\/drizzle-orm\/index\.cjs$/)
    expect(report.pgCore).toMatch(/\/node_modules\/drizzle-orm\/pg-core\/index\.cjs$/)
    expect(report.postgresJs).toMatch(/\/node_modules\/drizzle-orm\/postgres-js\/index\.cjs$/)
    expect(report.entityChecks).toBe(true)
  })
})
