// The worker as a real child process for a test app's database and Redis,
// with the short sweep and stall intervals tests want; `env` adds or overrides
// settings. Resolves once the worker says it started. The caller kills it.
import { type Child, freePort, spawnNode } from '../fixtures/processes.ts'
import type { TestContext } from './app.ts'

export async function startWorkerFor(
  ctx: Pick<TestContext, 'database' | 'config'>,
  env: Record<string, string> = {},
): Promise<Child> {
  const worker = spawnNode('workers/main.ts', {
    NODE_ENV: 'test',
    DATABASE_URL: ctx.database.url,
    REDIS_URL: ctx.config.REDIS_URL ?? '',
    REDIS_PREFIX: ctx.config.REDIS_PREFIX,
    HOST: '127.0.0.1',
    WORKER_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    JOB_SWEEP_SECONDS: '1',
    JOB_SWEEP_AFTER_SECONDS: '1',
    WORKER_STALLED_INTERVAL_MS: '1000',
    ...env,
  })
  try {
    await worker.waitForLine(/"worker started"/)
  } catch (err) {
    worker.kill()
    throw err
  }
  return worker
}
