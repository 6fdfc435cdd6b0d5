// The worker as a process, from the outside: it starts against the real
// PostgreSQL and Redis, answers /health on WORKER_PORT, and exits 0 on SIGTERM.
// Only observable behaviour is checked, so the job machinery can grow freely.
import { afterAll, describe, expect, it } from 'vitest'
import { type Child, freePort, spawnNode, waitForHttp } from '../fixtures/processes.ts'
import { deleteRedisKeys, testEnv } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/database.ts'

const database = await createTestDatabase()
const env = testEnv({ DATABASE_URL: database.url, LOG_LEVEL: 'info' })
const children: Child[] = []
afterAll(async () => {
  for (const child of children) child.kill()
  await deleteRedisKeys(env.REDIS_PREFIX!)
  await database.drop()
})

describe('worker process', () => {
  it('serves /health on WORKER_PORT and stops with exit 0 on SIGTERM', async () => {
    const port = await freePort()
    const worker = spawnNode('workers/main.ts', {
      ...env,
      HOST: '127.0.0.1',
      WORKER_PORT: String(port),
    })
    children.push(worker)

    const outcome = await Promise.race([
      waitForHttp(`http://127.0.0.1:${port}/health`),
      worker.exited.then((code) => new Error(`exited with ${code}:\n${worker.output()}`)),
    ])
    if (outcome instanceof Error) throw outcome
    expect(await outcome.json()).toEqual({ status: 'ok' })

    worker.process.kill('SIGTERM')
    expect(await worker.exited).toBe(0)
  })

  it('refuses to start without REDIS_URL, naming it (exit 78)', async () => {
    const { REDIS_URL: _, ...withoutRedis } = env
    const worker = spawnNode('workers/main.ts', { ...withoutRedis, WORKER_PORT: '0' })
    children.push(worker)
    expect(await worker.exited).toBe(78)
    expect(worker.output()).toContain('REDIS_URL')
  })
})
