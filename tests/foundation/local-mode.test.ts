// Local mode, the README's first command: no DATABASE_URL and no REDIS_URL
// means embedded PGlite under DATA_DIR, migrated on start, and no Redis. First
// the app in-process, then src/server.ts as a real process started the way
// `npm run dev` starts it, from a directory of its own.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { type Child, spawnNode } from '../fixtures/processes.ts'

const dirs: string[] = []
const children: Child[] = []
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'deskpilot-local-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const child of children) child.kill()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('local mode', () => {
  it('buildApp on PGlite with no Redis: /health, /ready (mode local) and /openapi.json', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir(), LOG_LEVEL: 'silent' })
    expect(config.localDatabase).toBe(true)
    expect(config.localRedis).toBe(true)
    const app = await buildApp(config)
    try {
      expect(app.database.kind).toBe('pglite')
      expect(app.redis).toBeNull()
      expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' })
      const ready = await app.inject({ url: '/ready' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', migrations: 'ok', redis: 'disabled' },
        mode: 'local',
      })
      const doc = await app.inject({ url: '/openapi.json' })
      expect(doc.statusCode).toBe(200)
      expect(doc.json().openapi).toBe('3.1.0')
    } finally {
      await app.close()
    }
  })

  it('src/server.ts with an empty environment serves /health and /docs, says LOCAL MODE, exits 0 on SIGTERM', async () => {
    const cwd = tempDir()
    // No NODE_ENV: development, exactly what `npm run dev` runs. PORT 0 so
    // parallel runs never collide; the port is read from Fastify's log line.
    const server = spawnNode('src/server.ts', { PORT: '0' }, cwd)
    children.push(server)
    const [, base] = await server.waitForLine(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)
    expect(server.output()).toContain('LOCAL MODE')

    const health = await fetch(`${base}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${base}/ready`)
    expect(await ready.json()).toMatchObject({ status: 'ready', mode: 'local' })
    const docs = await fetch(`${base}/docs`)
    expect(docs.status).toBe(200)
    expect(await docs.text()).toContain('swagger-ui')

    server.process.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
