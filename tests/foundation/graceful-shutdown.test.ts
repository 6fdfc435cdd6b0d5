// SIGTERM during a slow request: the request finishes with 200, new
// connections are refused (or answered 503), pools close and the process
// exits 0. And a shutdown that overruns SHUTDOWN_TIMEOUT_MS exits 1 instead of
// hanging. The api runs as a real process (tests/fixtures/slow-server.ts).
import { request } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import { type Child, spawnNode } from '../fixtures/processes.ts'
import { testEnv } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/database.ts'

const database = await createTestDatabase()
const children: Child[] = []
afterAll(async () => {
  for (const child of children) child.kill()
  await database.drop()
})

async function startSlowServer(env: Record<string, string> = {}) {
  const child = spawnNode(
    'tests/fixtures/slow-server.ts',
    testEnv({ DATABASE_URL: database.url, LOG_LEVEL: 'info', ...env }),
  )
  children.push(child)
  const [, port] = await child.waitForLine(/^listening (\d+)$/)
  return { child, port: Number(port) }
}

type Answer = { status: number; body: string } | { error: string }

/** One request on a fresh connection (no keep-alive agent to hide a refusal). */
function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.on('data', (chunk) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }))
    req.end()
  })
}

describe('graceful shutdown of the api process', () => {
  it('SIGTERM lets an in-flight request finish, refuses new work, then exits 0', async () => {
    const { child, port } = await startSlowServer()
    expect(await get(port, '/health')).toMatchObject({ status: 200 })

    const slow = get(port, '/slow')
    await child.waitForLine(/^slow started$/)
    child.process.kill('SIGTERM')
    await child.waitForLine(/shutting down/)

    // Refused once the listening socket is closed; reset if the connection
    // slipped in just before (a closing server drops connections that carry no
    // request); 503 if a request was read while closing. Never served.
    const late = await get(port, '/health')
    if ('error' in late) expect(['ECONNREFUSED', 'ECONNRESET']).toContain(late.error)
    else expect(late.status).toBe(503)

    const answer = await slow
    expect(answer).toEqual({ status: 200, body: '{"finished":true}' })
    expect(await child.exited).toBe(0)
    expect(child.output()).toContain('shut down cleanly')
  })

  it('a shutdown that overruns SHUTDOWN_TIMEOUT_MS exits 1 rather than hanging', async () => {
    const { child, port } = await startSlowServer({ SHUTDOWN_TIMEOUT_MS: '300' })
    const slow = get(port, '/slow')
    await child.waitForLine(/^slow started$/)
    child.process.kill('SIGINT')
    expect(await child.exited).toBe(1)
    expect(child.output()).toContain('shutdown timed out')
    expect(await slow).toHaveProperty('error')
  })
})
