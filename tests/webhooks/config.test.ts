// The webhook settings: off by default (https only, public addresses only),
// turned on by name, and a bad value stops the start naming the variable.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.ts'

describe('webhook settings', () => {
  it('default to https only, public addresses only, and 20 deliveries per worker', () => {
    const config = loadConfig({})
    expect(config.WEBHOOK_ALLOW_HTTP).toBe(false)
    expect(config.WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(false)
    expect(config.WORKER_CONCURRENCY_WEBHOOK).toBe(20)
  })

  it('are read from the environment', () => {
    const config = loadConfig({
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WORKER_CONCURRENCY_WEBHOOK: '50',
    })
    expect(config.WEBHOOK_ALLOW_HTTP).toBe(true)
    expect(config.WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(true)
    expect(config.WORKER_CONCURRENCY_WEBHOOK).toBe(50)
    expect(loadConfig({ WEBHOOK_ALLOW_HTTP: 'false' }).WEBHOOK_ALLOW_HTTP).toBe(false)
  })

  it('refuse values that are not theirs, naming the variable', () => {
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' })).toThrow(
      /WEBHOOK_ALLOW_PRIVATE_NETWORKS: must be one of: true, false/,
    )
    expect(() => loadConfig({ WORKER_CONCURRENCY_WEBHOOK: '0' })).toThrow(
      /WORKER_CONCURRENCY_WEBHOOK/,
    )
  })
})
